/* espforge layer 3: the NVS page and entry codec (spec nvs-format.md §1–§9).
 *
 * Pure codec: bytes <-> structs, CRCs, bitmap bits. No I/O, no allocation. Shared by the
 * generator (nvs_gen), the reader/checker and the NVS runtime.
 *
 * A page is 4096 bytes: a 32-byte header (§3.1), a 32-byte entry-state bitmap (§4), then 126
 * entries of 32 bytes. An item is 1 entry (primitives, BLOB_IDX) or `span` entries (strings,
 * v1 blobs, BLOB_DATA chunks: the first entry is the item header, the rest raw payload).
 * All integers are little-endian; every CRC is esf_nvs_crc() (zlib crc32 seeded 0xFFFFFFFF).
 */
#ifndef ESPFORGE_NVS_PAGE_H
#define ESPFORGE_NVS_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESF_NVS_PAGE_SIZE 4096u
#define ESF_NVS_ENTRY_SIZE 32u
#define ESF_NVS_ENTRIES_PER_PAGE 126u
#define ESF_NVS_HEADER_SIZE 32u
#define ESF_NVS_BITMAP_OFFSET 32u
#define ESF_NVS_BITMAP_SIZE 32u
#define ESF_NVS_FIRST_ENTRY_OFFSET 64u
#define ESF_NVS_KEY_SIZE 16u        /* key field bytes, NUL-terminated */
#define ESF_NVS_KEY_MAX 15u         /* longest key, bytes */
#define ESF_NVS_NS_MAX 254u         /* namespace indices 1..254 */
#define ESF_NVS_CHUNK_ANY 0xFFu     /* chunkIndex of every item except BLOB_DATA */
#define ESF_NVS_BLOB_VER0 0x00u     /* BLOB_IDX chunkStart families (§9) */
#define ESF_NVS_BLOB_VER1 0x80u
#define ESF_NVS_STR_MAX 4000u       /* longest string/chunk payload: 125 entries */
#define ESF_NVS_BLOB_MAX 508000u    /* longest v2 blob the runtime accepts */

/** Page header format versions (byte 8). Counts down: 0xFF = v1, 0xFE = v2. */
enum esf_nvs_version { ESF_NVS_VERSION_1 = 0xFF, ESF_NVS_VERSION_2 = 0xFE };

/** Page state words (§3.2): successive clearing of low bits. */
enum esf_nvs_page_state {
    ESF_NVS_PAGE_EMPTY = 0xFFFFFFFFu,    /* erased, no header */
    ESF_NVS_PAGE_ACTIVE = 0xFFFFFFFEu,
    ESF_NVS_PAGE_FULL = 0xFFFFFFFCu,
    ESF_NVS_PAGE_FREEING = 0xFFFFFFF8u,  /* "Erasing" in nvs_tool */
    ESF_NVS_PAGE_CORRUPT = 0xFFFFFFF0u,  /* in-RAM classification only */
    ESF_NVS_PAGE_INVALID = 0x00000000u   /* in-RAM marker; nvs_tool calls it "Corrupted" */
};

/** Entry states in the bitmap (§4): 2 bits per entry. */
enum esf_nvs_entry_state {
    ESF_NVS_ENTRY_ERASED = 0,   /* 00 */
    ESF_NVS_ENTRY_ILLEGAL = 1,  /* 01: only after corruption */
    ESF_NVS_ENTRY_WRITTEN = 2,  /* 10 */
    ESF_NVS_ENTRY_EMPTY = 3     /* 11: never written */
};

/** Item type codes (§5.1). */
enum esf_nvs_type {
    ESF_NVS_TYPE_U8 = 0x01, ESF_NVS_TYPE_I8 = 0x11,
    ESF_NVS_TYPE_U16 = 0x02, ESF_NVS_TYPE_I16 = 0x12,
    ESF_NVS_TYPE_U32 = 0x04, ESF_NVS_TYPE_I32 = 0x14,
    ESF_NVS_TYPE_U64 = 0x08, ESF_NVS_TYPE_I64 = 0x18,
    ESF_NVS_TYPE_FLOAT = 0x24, ESF_NVS_TYPE_DOUBLE = 0x28,  /* IDF >= v6.1 only */
    ESF_NVS_TYPE_STR = 0x21,        /* SZ: NUL-terminated string, one page */
    ESF_NVS_TYPE_BLOB = 0x41,       /* format v1 blob, one page */
    ESF_NVS_TYPE_BLOB_DATA = 0x42,  /* v2 blob chunk */
    ESF_NVS_TYPE_BLOB_IDX = 0x48,   /* v2 blob index */
    ESF_NVS_TYPE_ANY = 0xFF         /* search wildcard, never stored */
};

/** A decoded page header (§3.1). */
typedef struct esf_nvs_page_header {
    uint32_t state;  /* enum esf_nvs_page_state (any value as stored) */
    uint32_t seq;    /* sequence number */
    uint8_t version; /* enum esf_nvs_version (any value as stored) */
    uint32_t crc;    /* stored CRC (bytes 28..31) */
} esf_nvs_page_header;

/** A decoded entry used as an item header (§5). `data` is the raw 8-byte data field; read it
 *  with the esf_nvs_item_* accessors below. */
typedef struct esf_nvs_item {
    uint8_t ns;          /* namespace index, 0 = namespace table */
    uint8_t type;        /* enum esf_nvs_type (any value as stored) */
    uint8_t span;        /* entries including this one */
    uint8_t chunk_index; /* ESF_NVS_CHUNK_ANY except BLOB_DATA */
    uint32_t crc;        /* stored header CRC */
    uint8_t key[ESF_NVS_KEY_SIZE];  /* raw key field as stored */
    uint8_t data[8];     /* raw data field */
} esf_nvs_item;

/* ---- CRC (§1) ---- */

/** The NVS CRC: zlib crc32 seeded 0xFFFFFFFF (register 0, final xor). "123456789" -> 0xD202D277,
 *  empty -> 0xFFFFFFFF. Mirrors esp_rom_crc32_le(0xFFFFFFFF, ...). */
uint32_t esf_nvs_crc(const void *data, size_t len);

/* ---- page header (§3) ---- */

/** Decode the 32-byte header at `hdr` (page offset 0). */
void esf_nvs_page_header_decode(const uint8_t hdr[32], esf_nvs_page_header *out);

/** CRC the header should carry: esf_nvs_crc over header bytes 4..27. */
uint32_t esf_nvs_page_header_crc(const uint8_t hdr[32]);

/** Write a fresh header into `hdr` (32 bytes): state, seq, version, 19 reserved 0xFF bytes and
 *  the computed CRC. E.g. (ACTIVE, 0, 0xFE) -> CRC 0xB9BA2D84. */
void esf_nvs_page_header_init(uint8_t hdr[32], uint32_t state, uint32_t seq, uint8_t version);

/** Change only the state word (bytes 0..3); the CRC does not cover it. */
void esf_nvs_page_set_state(uint8_t hdr[32], uint32_t state);

/** True when the stored CRC matches. */
bool esf_nvs_page_header_crc_ok(const uint8_t hdr[32]);

/** "Empty", "Active", "Full", "Freeing", "Corrupt", "Invalid" for the exact state words, else
 *  "Unknown". Never NULL. */
const char *esf_nvs_page_state_name(uint32_t state);

/** Format version number of a version byte: 0xFF -> 1, 0xFE -> 2, 0xFD -> 3 (256 - byte). */
static inline unsigned esf_nvs_version_number(uint8_t version_byte) { return 256u - version_byte; }

/* ---- entry-state bitmap (§4): `bitmap` is the 32 bytes at page offset 32 ---- */

/** State (enum esf_nvs_entry_state) of entry `index` (0..125). */
static inline unsigned esf_nvs_bitmap_get(const uint8_t bitmap[32], unsigned index)
{
    return (bitmap[index / 4] >> (2 * (index % 4))) & 3u;
}

/** Set entry `index` to `state` (may set bits; on flash only 1->0 transitions are legal). */
static inline void esf_nvs_bitmap_set(uint8_t bitmap[32], unsigned index, unsigned state)
{
    unsigned sh = 2 * (index % 4);
    bitmap[index / 4] = (uint8_t)((bitmap[index / 4] & ~(3u << sh)) | ((state & 3u) << sh));
}

/* ---- entries / items (§5) ---- */

/** Partition-relative byte offset of entry `index` of page `page`: page*4096 + 64 + 32*index. */
static inline uint32_t esf_nvs_entry_offset(uint32_t page, unsigned index)
{
    return page * ESF_NVS_PAGE_SIZE + ESF_NVS_FIRST_ENTRY_OFFSET + index * ESF_NVS_ENTRY_SIZE;
}

/** Decode the 32 bytes at `e` as an item header (no validation). */
void esf_nvs_item_decode(const uint8_t e[32], esf_nvs_item *out);

/** Encode `it` into 32 bytes at `e`, storing it->crc as given (see esf_nvs_item_seal). */
void esf_nvs_item_encode(const esf_nvs_item *it, uint8_t e[32]);

/** The header CRC of the raw entry `e`: esf_nvs_crc over bytes 0..3 then 8..31 (28 bytes). */
uint32_t esf_nvs_item_crc(const uint8_t e[32]);

/** Compute the header CRC of `it` into it->crc. */
void esf_nvs_item_seal(esf_nvs_item *it);

/** Set the key field: `len` bytes of `key`, then 0x00 up to 16 bytes (what runtime and generator
 *  store). @return ESF_OK; ESF_ERR_TOO_LONG when len > 15 (field untouched). */
int esf_nvs_item_set_key(esf_nvs_item *it, const char *key, size_t len);

/** Length of the stored key (bytes before the first NUL, at most 16 if none). */
size_t esf_nvs_item_key_len(const esf_nvs_item *it);

/** True when the stored key equals `key` compared on at most 15 bytes (runtime rule, Q8). */
bool esf_nvs_item_key_eq(const esf_nvs_item *it, const char *key);

/** Fill `it` as a primitive item: span 1, chunk 0xFF, value little-endian in the first
 *  esf_nvs_type_size(type) data bytes, rest 0xFF, CRC computed. `type` must be a primitive.
 *  @return ESF_OK; ESF_ERR_INVALID_ARG (not a primitive); ESF_ERR_TOO_LONG (key). */
int esf_nvs_item_init_prim(esf_nvs_item *it, uint8_t ns, uint8_t type, const char *key,
                           size_t key_len, uint64_t value);

/** Fill `it` as a variable-length item header (STR, BLOB, BLOB_DATA): span 1 + ceil(size/32),
 *  data = {size u16, 0xFFFF, esf_nvs_crc(payload, size)}, CRC computed. Payload entries are the
 *  caller's (esf_nvs_payload_write).
 *  @return ESF_OK; ESF_ERR_TOO_LONG (key, or size > 4000); ESF_ERR_INVALID_ARG (type). */
int esf_nvs_item_init_var(esf_nvs_item *it, uint8_t ns, uint8_t type, const char *key,
                          size_t key_len, uint8_t chunk_index, const void *payload, size_t size);

/** Fill `it` as a BLOB_IDX item: span 1, chunk 0xFF, data = {size u32, chunk_count,
 *  chunk_start, 0xFFFF}, CRC computed. @return ESF_OK; ESF_ERR_TOO_LONG (key). */
int esf_nvs_item_init_blob_idx(esf_nvs_item *it, uint8_t ns, const char *key, size_t key_len,
                               uint32_t size, uint8_t chunk_count, uint8_t chunk_start);

/* data-field accessors */
/** Primitive value, zero-extended from esf_nvs_type_size(type) bytes (U8..U64, FLOAT, DOUBLE). */
uint64_t esf_nvs_item_prim_u(const esf_nvs_item *it);
/** Primitive value, sign-extended for the signed types (I8..I64), else as esf_nvs_item_prim_u. */
int64_t esf_nvs_item_prim_i(const esf_nvs_item *it);
/** varLength: payload size (u16, bytes 24..25). */
static inline uint16_t esf_nvs_item_var_size(const esf_nvs_item *it)
{
    return (uint16_t)(it->data[0] | (it->data[1] << 8));
}
/** varLength: payload CRC (bytes 28..31). */
uint32_t esf_nvs_item_var_crc(const esf_nvs_item *it);
/** blobIndex: total size (u32, bytes 24..27). */
uint32_t esf_nvs_item_idx_size(const esf_nvs_item *it);
static inline uint8_t esf_nvs_item_idx_chunk_count(const esf_nvs_item *it) { return it->data[4]; }
static inline uint8_t esf_nvs_item_idx_chunk_start(const esf_nvs_item *it) { return it->data[5]; }

/** Span a payload of `size` bytes needs: 1 + ceil(size / 32). */
static inline unsigned esf_nvs_span_for_size(size_t size) { return 1u + (unsigned)((size + 31) / 32); }

/** Copy `size` payload bytes into the `span - 1` entries starting at `dst` (32 bytes each), the
 *  unused tail of the last entry filled with 0xFF. Writes ceil(size/32)*32 bytes. */
void esf_nvs_payload_write(uint8_t *dst, const void *payload, size_t size);

/* ---- type codes ---- */

/** True for U8..I64, FLOAT, DOUBLE. */
bool esf_nvs_type_is_prim(uint8_t type);
/** True for I8, I16, I32, I64. */
bool esf_nvs_type_is_signed(uint8_t type);
/** True for STR, BLOB, BLOB_DATA (varLength items with payload entries). */
bool esf_nvs_type_is_var(uint8_t type);
/** True for every code a runtime may store (§5.3 rule 2). */
bool esf_nvs_type_is_known(uint8_t type);
/** Value bytes of a primitive (1, 2, 4, 8; FLOAT 4, DOUBLE 8); 0 otherwise. */
unsigned esf_nvs_type_size(uint8_t type);
/** nvs_tool's type name ("uint8_t", "int8_t", ..., "string", "blob", "blob_data", "blob_index",
 *  "float", "double", "any"); NULL for an unknown code. */
const char *esf_nvs_type_name(uint8_t type);

/* ---- validation and lookup helpers ---- */

/** Header-consistency rules of the runtime (IDF >= v5.4, §5.3) for the item header `it` at entry
 *  index `index` (0..125) of its page: CRC, known type, span rules, BLOB_IDX and varLength limits.
 *  @return ESF_OK; ESF_ERR_CORRUPT (CRC); ESF_ERR_INVALID (any other rule), message says which. */
int esf_nvs_item_check(const esf_nvs_item *it, unsigned index, esf_error *err);

/** The runtime's 24-bit item hash (§10): esf_nvs_crc(ns ‖ key[16] ‖ chunk_index) & 0xFFFFFF. */
uint32_t esf_nvs_item_hash(uint8_t ns, const uint8_t key[ESF_NVS_KEY_SIZE], uint8_t chunk_index);

#ifdef __cplusplus
}
#endif
#endif
