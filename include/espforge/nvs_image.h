/* espforge layer 4: reading an NVS partition image.
 *
 * esf_nvs_image_parse() turns the bytes of an NVS partition (plain, or encrypted per entry with
 * XTS keys) into two views, both read-only data owned by the image:
 *
 *  - the raw view, page by page, exactly as ESP-IDF's nvs_tool.py models it (nvs-generator.md §9):
 *    header fields, the 126 entry states, and the "top-level" slots found by walking spans
 *    (a slot's span-1 following entries are its payload). Nothing is judged here; every byte
 *    pattern a device can leave behind is representable (blank pages, erased or illegal states,
 *    torn entries, garbage pages, FREEING pages).
 *  - the logical view, as the ESP-IDF runtime would see it after init (nvs-format.md §12):
 *    pages with a valid header in sequence order, consistent WRITTEN items only, namespaces from
 *    namespace 0, and values: integers, FLOAT/DOUBLE (IDF >= v6.1), strings, v1 blobs and v2
 *    blobs assembled from their chunk family. When a key is present more than once (a power
 *    cut between writing the new item and erasing the old one) the newest copy is the value.
 *
 * The integrity checker (nvs_check.h) and the dump renderers (nvs_dump.h) work on this structure.
 * Spec: nvs-format.md, nvs-encryption.md §2, nvs-generator.md §9.
 */
#ifndef ESPFORGE_NVS_IMAGE_H
#define ESPFORGE_NVS_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"
#include "espforge/nvs_page.h"
#include "espforge/partition.h"

#ifdef __cplusplus
extern "C" {
#endif


/** Page status by the exact header state word, as nvs_tool names it (nvs-generator.md §9). */
typedef enum esf_nvs_pstatus {
    ESF_NVS_PS_EMPTY = 0,     /* 0xFFFFFFFF */
    ESF_NVS_PS_ACTIVE = 1,    /* 0xFFFFFFFE */
    ESF_NVS_PS_FULL = 2,      /* 0xFFFFFFFC */
    ESF_NVS_PS_FREEING = 3,   /* 0xFFFFFFF8 ("Erasing" in nvs_tool) */
    ESF_NVS_PS_CORRUPTED = 4, /* 0x00000000 */
    ESF_NVS_PS_INVALID = 5    /* any other value */
} esf_nvs_pstatus;

/** A top-level slot of a page in nvs_tool's model: the entry at `index` plus `nchild` payload
 *  entries (span - 1, clipped at the page end; a span byte of 0 or 0xFF counts as 1). */
typedef struct esf_nvs_slot {
    uint8_t index;          /* entry index 0..125 */
    uint8_t state;          /* enum esf_nvs_entry_state of this entry */
    uint8_t nchild;         /* payload entries following */
    bool blank;             /* the 32 bytes are all 0xFF */
    uint32_t crc;           /* stored item CRC (bytes 4..7) */
    uint32_t crc_calc;      /* NVS CRC over bytes 0..3 and 8..31 */
    uint32_t data_crc;      /* bytes 28..31 */
    uint32_t data_crc_calc; /* nvs_tool's data CRC: over the payload entries cut to the size field
                               (string/blob types, when the size is not 0); 0 when span <= 1 */
} esf_nvs_slot;

typedef struct esf_nvs_page {
    uint32_t number;          /* physical page number */
    uint32_t offset;          /* bytes from the partition start */
    const uint8_t *raw;       /* the page's 4096 bytes (entries decrypted when a key was given) */
    bool blank_header;        /* the 32 header bytes are all 0xFF (nvs_tool "Page Empty") */
    bool blank;               /* the whole page is 0xFF */
    uint32_t state_word;
    esf_nvs_pstatus status;
    uint32_t seq;             /* header bytes 4..7 */
    uint8_t version_byte;     /* 0xFE = v2, 0xFF = v1 */
    uint32_t crc, crc_calc;   /* stored / computed header CRC */
    bool loaded;              /* the runtime would use this page: ACTIVE/FULL/FREEING, CRC ok,
                                 version byte 0xFE or 0xFF */
    uint8_t states[ESF_NVS_ENTRIES_PER_PAGE];     /* enum esf_nvs_entry_state per entry */
    esf_nvs_slot slots[ESF_NVS_ENTRIES_PER_PAGE]; /* top-level slots, `nslots` used */
    uint8_t nslots;
} esf_nvs_page;

/** Why a WRITTEN slot of a loaded page is not an item (nvs-format.md §5.3, §12). */
typedef enum esf_nvs_item_fault {
    ESF_NVS_ITEM_OK = 0,
    ESF_NVS_ITEM_BAD_CRC,       /* item CRC mismatch */
    ESF_NVS_ITEM_BAD_HEADER,    /* breaks a header-consistency rule (type, span, size, chunk) */
    ESF_NVS_ITEM_BAD_CHUNK,     /* chunkIndex not 0xFF on an item other than BLOB_DATA (the
                                   runtime's hashed lookup never finds it) */
    ESF_NVS_ITEM_INCOMPLETE,    /* a payload entry of the span is not WRITTEN */
    ESF_NVS_ITEM_BAD_DATA_CRC,  /* payload CRC mismatch (the runtime's read fails) */
} esf_nvs_item_fault;

/** One WRITTEN, consistent item of a loaded page (physical record). */
typedef struct esf_nvs_rec {
    uint32_t page;        /* physical page number */
    uint32_t seq;         /* that page's sequence number */
    uint8_t entry;        /* first entry index */
    uint8_t ns;           /* namespace index */
    uint8_t type;         /* enum esf_nvs_type */
    uint8_t span;
    uint8_t chunk;        /* chunkIndex (0xFF except BLOB_DATA) */
    uint8_t keylen;       /* bytes of key before the first NUL (0..16) */
    char key[17];         /* NUL-terminated */
    uint64_t num;         /* primitives: the value's bits, sign-extended for signed types
                             (FLOAT/DOUBLE: IEEE-754 bits, zero-extended);
                             BLOB_IDX: total size */
    uint8_t chunk_count;  /* BLOB_IDX */
    uint8_t chunk_start;  /* BLOB_IDX: 0x00 or 0x80 */
    const uint8_t *data;  /* STR / BLOB / BLOB_DATA payload (size bytes, in the image) */
    uint32_t size;        /* payload size (strings include the NUL) */
    bool live;            /* this record is (part of) a value of the logical view */
} esf_nvs_rec;

/** A namespace defined by a U8 item of namespace 0. */
typedef struct esf_nvs_ns {
    uint8_t index;   /* 1..254 */
    char name[17];
    uint32_t item;   /* index into items[] of its definition */
} esf_nvs_ns;

/** Value kinds of the logical view. */
typedef enum esf_nvs_kind {
    ESF_NVS_KIND_INT = 0,   /* U8..I64: see type */
    ESF_NVS_KIND_STR = 1,   /* data/len include the terminating NUL as stored */
    ESF_NVS_KIND_BLOB = 2,  /* v2 blob (BLOB_IDX + chunks), assembled */
    ESF_NVS_KIND_BLOB_V1 = 3,/* v1 blob (type 0x41) */
    ESF_NVS_KIND_FLOAT = 4  /* FLOAT (0x24) or DOUBLE (0x28), IDF >= v6.1: see type */
} esf_nvs_kind;

/** A value: the newest live item for (namespace, key). */
typedef struct esf_nvs_value {
    uint8_t ns;
    const char *ns_name;   /* NULL if the namespace index is not defined */
    char key[17];
    esf_nvs_kind kind;
    uint8_t type;          /* item type code (BLOB_IDX for v2 blobs) */
    uint64_t num;          /* INT: bits, sign-extended for signed types; FLOAT: the IEEE-754
                              binary32 bits (FLOAT, low 32 bits) or binary64 bits (DOUBLE) */
    const uint8_t *data;   /* STR/BLOB/BLOB_V1: `len` bytes owned by the image */
    size_t len;
    uint32_t item;         /* index into items[]: the defining record (BLOB: the index item) */
} esf_nvs_value;

/** A parsed image. All fields read-only; freed by esf_nvs_image_free(). */
typedef struct esf_nvs_image {
    uint8_t *bytes;        /* copy of the partition, entries decrypted */
    size_t size;           /* bytes given (pages = size / 4096; a trailing partial page is kept
                              in `size` but not parsed) */
    bool encrypted;        /* a key was applied */
    esf_nvs_page *pages;   /* physical order */
    uint32_t npages;
    uint32_t *order;       /* loaded pages by (seq, physical number): indices into pages[] */
    uint32_t norder;
    esf_nvs_rec *items;   /* consistent WRITTEN items of loaded pages, in `order` then entry */
    size_t nitems;
    esf_nvs_ns *ns;        /* namespaces by index ascending (first definition of a name wins) */
    size_t nns;
    esf_nvs_value *values; /* sorted by namespace index, then item order */
    size_t nvalues;
    uint8_t *blob_store;   /* assembled v2 blob bytes (values point here) */
} esf_nvs_image;

/** Parse `len` bytes of an NVS partition.
 *  @param key  NULL for a plain image, else the 64-byte XTS key (eky || tky): every entry that is
 *              not all 0xFF and not all 0x00 is decrypted with tweak = its partition offset
 *  @param[out] out  the image on ESF_OK, else NULL
 *  @return ESF_OK; ESF_ERR_INVALID (len is 0 or not a multiple of 4096: the reference refuses
 *          unaligned data, message gives the remainder); ESF_ERR_NO_MEM; ESF_ERR_CRYPTO.
 *          Damaged content is never an error: it shows in the views and in esf_nvs_check(). */
int esf_nvs_image_parse(esf_nvs_image **out, const uint8_t *buf, size_t len, const uint8_t *key,
                        esf_error *err);

/** Parse the NVS partition seen through a partition view (reads p->size bytes).
 *  @return as esf_nvs_image_parse; ESF_ERR_IO/ESF_ERR_RANGE from the flash. */
int esf_nvs_image_load(esf_nvs_image **out, const esf_part *p, const uint8_t *key, esf_error *err);

/** Release an image. NULL-safe. */
void esf_nvs_image_free(esf_nvs_image *img);

/** Name of a defined namespace index, or NULL. */
const char *esf_nvs_image_ns_name(const esf_nvs_image *img, uint8_t index);

/** The value of `key` in namespace `ns` (name), or NULL. Key compared on at most 15 bytes after
 *  the reference runtime (nvs-format.md Q8 applies to longer searched keys). */
const esf_nvs_value *esf_nvs_image_find(const esf_nvs_image *img, const char *ns, const char *key);

/** Check the item starting at entry `index` (0..125) of a page against the runtime's item rules
 *  (nvs-format.md §5.3, then every entry of the span WRITTEN, then the payload CRC). The entry's
 *  own state is not looked at. `why` (may be NULL) gets the codec's message for header faults.
 *  @return ESF_NVS_ITEM_OK or the first fault found. */
esf_nvs_item_fault esf_nvs_entry_fault(const esf_nvs_page *pg, unsigned index, esf_error *why);

/** nvs_tool's name of a page status ("Empty", "Active", "Full", "Erasing", "Corrupted",
 *  "Invalid") and of an entry state ("Empty", "Written", "Erased", "Invalid"). Never NULL. */
const char *esf_nvs_pstatus_name(esf_nvs_pstatus s);
const char *esf_nvs_state_name(uint8_t state);

/** nvs_tool's type name: "uint8_t" … "blob_index" for the 12 codes it knows, NULL otherwise
 *  (FLOAT/DOUBLE included: the reference does not know them). */
const char *esf_nvs_tool_type_name(uint8_t type);

/** Human description of an item fault ("item CRC mismatch" …). Never NULL. */
const char *esf_nvs_item_fault_name(esf_nvs_item_fault f);

/** Pointer to entry `i` (0..125) of a page: raw + 64 + 32 i. */
static inline const uint8_t *esf_nvs_page_entry(const esf_nvs_page *pg, unsigned i)
{
    return pg->raw + ESF_NVS_FIRST_ENTRY_OFFSET + ESF_NVS_ENTRY_SIZE * i;
}

#ifdef __cplusplus
}
#endif
#endif
