/* espforge internal: the NVS runtime's storage core, shared by nvs_store.c (pages, index, append,
 * erase, garbage collection), nvs_load.c (init and power-loss recovery) and nvs.c (the API).
 *
 * In RAM we keep a mirror of the whole partition (`mem`): page headers and bitmaps as on flash,
 * entries in PLAINTEXT (decrypted once at load when the partition is encrypted). The mirror's
 * bitmap is the LOGICAL entry state: on a read-only partition, load-time clean-up changes only the
 * mirror. Every read is served from the mirror; flash only sees writes. An open-addressing hash
 * table maps (namespace, key, chunk index) to the location of each live item's first entry.
 * Spec: nvs-format.md, nvs-runtime.md. */
#ifndef ESPFORGE_INTERNAL_NVS_STORE_H
#define ESPFORGE_INTERNAL_NVS_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "espforge/nvs.h"
#include "espforge/nvs_page.h"
#include "espforge/partition.h"

#define NVS_EPP ESF_NVS_ENTRIES_PER_PAGE /* 126 entries per page */
#define NVS_PAGE_FULL 1                  /* internal status: the item does not fit this page */
#define NVS_NO_LOC UINT32_MAX

/** Per-page bookkeeping. */
typedef struct nvs_pg {
    uint32_t state;     /* ESF_NVS_PAGE_*: EMPTY/CORRUPT (free list) or ACTIVE/FULL/FREEING */
    uint32_t seq;       /* valid for used pages */
    bool fresh;         /* taken from the free list, header not written yet (reads all 0xFF) */
    uint8_t next_free;  /* append point, 0..126 (126 on FULL/FREEING pages) */
    uint8_t written;    /* entries WRITTEN in the logical bitmap */
} nvs_pg;

typedef struct nvs_slot {
    uint32_t h;    /* 0 = empty slot */
    uint32_t loc;  /* page << 8 | entry */
} nvs_slot;

struct esf_nvs {
    esf_part part;         /* the partition view (copy) */
    esf_flash *own_flash;  /* file-backed store: owned flash (closed and freed by deinit) */
    bool ro;               /* read-only: never write */
    bool enc;              /* XTS-encrypted entries */
    bool broken;           /* a flash write failed: writes refused until re-init */
    bool dirty;            /* file-backed: changes not yet committed to the file */
    bool dups;             /* load found a key with two live items: lookups compare all */
    bool loading;          /* inside nvs_load (duplicate detection in nvs_index_add) */
    uint64_t erasures;     /* items erased (nvs_erase_at calls), to see when recovery settles */
    esf_nvs_cipher *enc_c, *dec_c; /* XTS entry ciphers (encrypted stores) */
    uint32_t npages;
    uint8_t *mem;          /* npages * 4096 bytes (see above) */
    nvs_pg *pg;
    uint16_t *used;        /* used pages, ascending (seq, physical index) */
    uint32_t nused;
    uint16_t *freel;       /* free pages, FIFO: take from the front, push at the back */
    uint32_t nfree;
    int32_t cur;           /* current (newest) page or -1 */
    uint32_t next_seq;
    nvs_slot *tab;         /* hash index, power-of-two size */
    uint32_t tab_mask;
    char ns_name[256][16]; /* namespace names by index ("" = none); first definition wins */
    uint16_t ns_rank[256]; /* load order of that first definition (open picks the earliest) */
    uint8_t ns_taken[256]; /* index used by some namespace entry (1..254) */
    uint16_t ns_count;     /* namespace entries loaded/created (nvs_get_stats) */
    uint8_t *buf;          /* 4096-byte scratch (encryption, page copies) */
};

/* ---- mirror access */
static inline uint8_t *nvs_page_mem(esf_nvs *s, uint32_t p) { return s->mem + (size_t)p * 4096u; }
static inline uint8_t *nvs_bitmap(esf_nvs *s, uint32_t p) { return nvs_page_mem(s, p) + 32; }
static inline uint8_t *nvs_ent(esf_nvs *s, uint32_t p, unsigned i)
{
    return nvs_page_mem(s, p) + 64 + 32u * i;
}
static inline unsigned nvs_estate(esf_nvs *s, uint32_t p, unsigned i)
{
    return esf_nvs_bitmap_get(nvs_bitmap(s, p), i);
}
static inline uint32_t nvs_loc(uint32_t p, unsigned i) { return p << 8 | i; }
static inline uint32_t nvs_loc_page(uint32_t loc) { return loc >> 8; }
static inline unsigned nvs_loc_entry(uint32_t loc) { return loc & 0xFF; }
static inline uint8_t *nvs_loc_ent(esf_nvs *s, uint32_t loc)
{
    return nvs_ent(s, nvs_loc_page(loc), nvs_loc_entry(loc));
}

/* ---- index (nvs_store.c) */
/** Hash of (ns, key up to its NUL or 15 bytes, chunk). Never 0. */
uint32_t nvs_hash(uint8_t ns, const char *key, size_t klen, uint8_t chunk);
/** Add the item whose first entry is at `loc` (its header must be in the mirror). */
void nvs_index_add(esf_nvs *s, uint32_t loc);
/** Remove the item at `loc` from the index (no-op if absent). */
void nvs_index_del(esf_nvs *s, uint32_t loc);
/** Oldest live item (page seq order, then entry order) with this ns, key and chunk index and type
 *  `type` (ESF_NVS_TYPE_ANY: any type), skipping location `except`.
 *  @return its location or NVS_NO_LOC. */
uint32_t nvs_find(esf_nvs *s, uint8_t ns, const char *key, uint8_t chunk, uint8_t type,
                  uint32_t except);
/** Call `fn` for every live item with this ns, key and chunk (any type, index order) until it
 *  returns true. @return the location `fn` accepted, or NVS_NO_LOC. */
uint32_t nvs_find_if(esf_nvs *s, uint8_t ns, const char *key, uint8_t chunk,
                     bool (*fn)(esf_nvs *s, uint32_t loc, void *ctx), void *ctx);
/** Span of the item whose header is `e` (1 for fixed-size items). */
static inline unsigned nvs_item_span(const uint8_t *e)
{
    return (e[1] == ESF_NVS_TYPE_STR || e[1] == ESF_NVS_TYPE_BLOB ||
            e[1] == ESF_NVS_TYPE_BLOB_DATA) ? e[2] : 1u;
}
/** Next item start (WRITTEN first entry) of page p at or after entry `i` when walking from a
 *  previous item start or 0; 126 at the end. Usage: for (i = nvs_next_item(s,p,0); i < 126;
 *  i = nvs_next_item(s, p, i + span)). */
static inline unsigned nvs_next_item(esf_nvs *s, uint32_t p, unsigned i)
{
    while (i < ESF_NVS_ENTRIES_PER_PAGE && esf_nvs_bitmap_get(s->mem + (size_t)p * 4096u + 32, i) !=
                                               ESF_NVS_ENTRY_WRITTEN)
        i++;
    return i;
}
/** The stored key of an entry as a C string (at most 15 bytes) into out[16]. */
void nvs_entry_key(const uint8_t *e, char out[16]);

/* ---- flash-level operations (nvs_store.c); all return ESF_OK or a negative code, and mark the
 *      store broken on a flash failure */
/** Mark `n` entries from `i` of page `p` `state` in the logical bitmap and, when `persist`,
 *  on flash (bitmap words highest first). Updates counts. */
int nvs_set_states(esf_nvs *s, uint32_t p, unsigned i, unsigned n, unsigned state, bool persist);
/** Erase the item at `loc` (span from its header): bitmap ERASED, index entry dropped; `purge`
 *  then overwrites the entries with 0x00 (raw). On a read-only store only the mirror changes. */
int nvs_erase_at(esf_nvs *s, uint32_t loc, bool purge);
/** Erase an item and, for a BLOB_IDX, the chunks of its family that exist. */
int nvs_erase_item_family(esf_nvs *s, uint32_t loc, bool purge);
/** Write the state word of page `p`. */
int nvs_write_page_state(esf_nvs *s, uint32_t p, uint32_t state);
/** Erase the sector of page `p`, mirror to 0xFF, page becomes EMPTY (caller moves it to a list). */
int nvs_erase_page(esf_nvs *s, uint32_t p);
/** Take the front free page as the new current page (erased first if CORRUPT), seq next_seq++. */
int nvs_activate_page(esf_nvs *s);
/** Copy every WRITTEN entry of `from` into the current page `to` (fresh), then index them there. */
int nvs_copy_items(esf_nvs *s, uint32_t from, uint32_t to);
/** Current page full: mark it FULL (if ACTIVE and written), then take a new page, with garbage
 *  collection when only one free page is left. @return ESF_OK; ESF_ERR_NO_SPACE; flash errors. */
int nvs_new_page(esf_nvs *s);
/** Append an item to the current page: `hdr` = its 32-byte first entry (sealed), `payload` =
 *  `size` bytes for var-length items (NULL otherwise). @return ESF_OK (*loc set);
 *  NVS_PAGE_FULL; flash errors. */
int nvs_append(esf_nvs *s, const uint8_t hdr[32], const void *payload, size_t size, uint32_t *loc);
/** Append with one page change on PAGE_FULL (ESP-IDF's writeItem). @return ESF_OK;
 *  ESF_ERR_NO_SPACE; flash errors. */
int nvs_append_or_new_page(esf_nvs *s, const uint8_t hdr[32], const void *payload, size_t size,
                           uint32_t *loc);
/** Bytes a var-length chunk may take on the current page (ESP-IDF getVarDataTailroom). */
size_t nvs_tailroom(esf_nvs *s);
/** Remove `p` from the used list. */
void nvs_used_remove(esf_nvs *s, uint32_t p);
/** True when page a is older than page b (seq, then physical index). */
static inline bool nvs_older(const esf_nvs *s, uint32_t a, uint32_t b)
{
    return s->pg[a].seq < s->pg[b].seq || (s->pg[a].seq == s->pg[b].seq && a < b);
}

/* ---- load (nvs_load.c) */
int nvs_load(esf_nvs *s, esf_error *err);

#endif
