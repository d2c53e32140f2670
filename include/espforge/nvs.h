/* espforge layer 4: the NVS runtime — ESP-IDF's NVS API (nvs.h / nvs_flash.h) on a partition view,
 * power-loss safe. Spec: nvs-runtime.md (API, algorithms, power-loss model), nvs-format.md (format,
 * load and recovery, quirks Q1-Q10), nvs-encryption.md §1-3 (XTS entries, keys partition).
 *
 * Objects: an esf_nvs is one initialised NVS partition (ESP-IDF's Storage + PageManager); an
 * esf_nvs_handle is an open namespace (nvs_handle_t); an esf_nvs_iter walks entries.
 * Functions mirroring ESP-IDF keep its argument order and return ESF codes; the ESP-IDF-compatible
 * layer (include/espforge/idf/nvs.h) maps them onto esp_err_t:
 *   ESF_ERR_NOT_FOUND -> ESP_ERR_NVS_NOT_FOUND (also type mismatch, Q7)
 *   ESF_ERR_READ_ONLY -> ESP_ERR_NVS_READ_ONLY       ESF_ERR_NO_SPACE  -> ..._NOT_ENOUGH_SPACE
 *   ESF_ERR_TOO_LONG  -> ..._VALUE_TOO_LONG (keys are checked first: ..._KEY_TOO_LONG)
 *   ESF_ERR_RANGE     -> ..._INVALID_LENGTH (buffer too small)
 *   ESF_ERR_STATE     -> ..._INVALID_STATE (a flash write failed earlier; re-init)
 *   at init: ESF_ERR_UNSUPPORTED -> ..._NEW_VERSION_FOUND, ESF_ERR_NO_SPACE -> ..._NO_FREE_PAGES,
 *            ESF_ERR_INVALID -> ..._WRONG_ENCRYPTION
 *   flash failures (ESF_ERR_FLASH, ESF_ERR_POWER_CUT, ESF_ERR_IO) -> ESP_ERR_FLASH_OP_FAIL.
 *
 * Durability: every set/erase is on the flash device when it returns (ESP-IDF semantics). For a
 * file-backed store (esf_nvs_open_file) the device is the file's image in memory: esf_nvs_commit /
 * esf_nvs_commit_file write the whole file atomically (temporary file + rename).
 *
 * Deliberate differences from ESP-IDF (docs/nvs-runtime.md, "Deviations from the reference"):
 * Q1 fixed (load compares namespace, key and chunk index exactly, never the 24-bit hash alone);
 * Q2 fixed (a committed blob chunk is never taken for a duplicate of a newer chunk); Q3 fixed (the
 * cross-page duplicate check ignores the type); Q6 not reproduced (every U8 item of namespace 0
 * defines a namespace); keys are validated up front (NULL -> INVALID_ARG, > 15 bytes ->
 * TOO_LONG); blob read errors give NOT_FOUND; a read-only partition is never written, not even by
 * recovery (clean-up then happens in RAM only); blob chunk counts above 127 are refused. */
#ifndef ESPFORGE_NVS_H
#define ESPFORGE_NVS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_page.h" /* type codes: enum esf_nvs_type */
#include "espforge/partition.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esf_nvs esf_nvs;
typedef struct esf_nvs_handle esf_nvs_handle;
typedef struct esf_nvs_iter esf_nvs_iter;

/** Open modes (nvs_open_mode_t values). */
typedef enum esf_nvs_open_mode {
    ESF_NVS_READONLY = 0,
    ESF_NVS_READWRITE = 1,
    ESF_NVS_READWRITE_PURGE = 2  /* every erase also overwrites the erased entries with 0x00 */
} esf_nvs_open_mode;

/** Options of esf_nvs_init / esf_nvs_open_file. Zero-initialise; NULL = all defaults. */
typedef struct esf_nvs_options {
    bool read_only;          /* never write (also set by ESF_PART_FLAG_READONLY on the view) */
    const uint8_t *xts_key;  /* 64 bytes eky ‖ tky: encrypted NVS (copied); NULL = plain */
} esf_nvs_options;

/** nvs_stats_t. Entries are 32-byte slots; available = free minus one reserved page (126). */
typedef struct esf_nvs_stats {
    size_t used_entries, free_entries, available_entries, total_entries, namespace_count;
} esf_nvs_stats;

/** nvs_entry_info_t: `type` is the stored type code (enum esf_nvs_type; v2 blobs 0x42). */
typedef struct esf_nvs_info {
    char namespace_name[16];
    char key[16];
    uint8_t type;
} esf_nvs_info;

/* ---- partitions (nvs_flash.h) */

/** Load the NVS partition `part` (the view is copied; its flash must outlive the store) and
 *  recover from any interrupted operation (nvs-format.md §12 with Q1/Q2/Q3 fixed). Succeeds on any
 *  flash contents except the two ESP-IDF refusals below. Mirrors nvs_flash_init_partition() /
 *  nvs_flash_secure_init_partition().
 *  @param opt  NULL = writable (unless the view is flagged read-only), plain
 *  @return ESF_OK; ESF_ERR_UNSUPPORTED (page of a newer format version: NEW_VERSION_FOUND);
 *          ESF_ERR_NO_SPACE (writable partition without a free page: NO_FREE_PAGES);
 *          ESF_ERR_INVALID (view flagged encrypted: WRONG_ENCRYPTION); ESF_ERR_CRYPTO (key halves
 *          equal); ESF_ERR_INVALID_ARG; ESF_ERR_NO_MEM; flash errors of recovery writes. */
int esf_nvs_init(esf_nvs **out, const esf_part *part, const esf_nvs_options *opt, esf_error *err);

/** Open an NVS image file: the whole file (offset 0, size 0) or the `size` bytes at `offset` of a
 *  flash image (both multiples of 4096; size 0 = to the end of the file). The file must exist
 *  (create a blank image with esf_flash_file_open's create_size, or write one first); it is read
 *  once, changes stay in memory until esf_nvs_commit_file (or esf_nvs_commit on a handle), which
 *  replaces the whole file atomically. `opt->xts_key` opens an encrypted NVS.
 *  @return as esf_nvs_init; ESF_ERR_IO (unreadable); ESF_ERR_INVALID (file size not a multiple of
 *          4096); ESF_ERR_RANGE (window past the end); ESF_ERR_INVALID_ARG (unaligned window). */
int esf_nvs_open_file(esf_nvs **out, const char *path, uint32_t offset, uint32_t size,
                      const esf_nvs_options *opt, esf_error *err);

/** Write a file-backed store's image back atomically (nothing to do when unchanged).
 *  @return ESF_OK; ESF_ERR_IO; ESF_ERR_INVALID_ARG (not file-backed). */
int esf_nvs_commit_file(esf_nvs *nvs, esf_error *err);

/** Drop the RAM state (nvs_flash_deinit_partition). Uncommitted changes of a file-backed store
 *  are discarded. Close the store's handles and iterators first. NULL-safe. */
void esf_nvs_deinit(esf_nvs *nvs);

/** Erase every sector of `part` (nvs_flash_erase_partition on a view that is not initialised).
 *  @return ESF_OK; ESF_ERR_READ_ONLY; flash errors. */
int esf_nvs_erase_partition(const esf_part *part, esf_error *err);

/** True when the store never writes (read-only option or view). */
bool esf_nvs_is_read_only(const esf_nvs *nvs);

/** Statistics (nvs_get_stats, nvs-runtime.md §6.9). @return ESF_OK; ESF_ERR_INVALID_ARG. */
int esf_nvs_get_stats(esf_nvs *nvs, esf_nvs_stats *st);

/* ---- handles (nvs.h) */

/** Open namespace `ns` (1..15 bytes). Mirrors nvs_open_from_partition().
 *  @return ESF_OK (*out set); ESF_ERR_NOT_FOUND (absent, READONLY mode); ESF_ERR_READ_ONLY (write
 *          mode on a read-only store: ESP_ERR_NOT_ALLOWED); ESF_ERR_TOO_LONG (name > 15);
 *          ESF_ERR_NO_SPACE (254 namespaces, or no room for the entry); ESF_ERR_INVALID_ARG;
 *          ESF_ERR_NO_MEM; ESF_ERR_STATE; flash errors. */
int esf_nvs_open(esf_nvs *nvs, const char *ns, esf_nvs_open_mode mode, esf_nvs_handle **out,
                 esf_error *err);

/** Close a handle (nvs_close). NULL-safe. */
void esf_nvs_close(esf_nvs_handle *h);

/** The store of a handle. */
esf_nvs *esf_nvs_handle_store(const esf_nvs_handle *h);

/** Set a primitive of type `type` (U8..I64, FLOAT, DOUBLE) from its raw little-endian bits
 *  (`raw`, zero-extended). Writes nothing when the key already holds this type and value.
 *  An item of another type under the key is replaced (IDF >= v5.5). Spec nvs-runtime.md §6.2.
 *  @return ESF_OK; ESF_ERR_INVALID_ARG (NULL, not a primitive type); ESF_ERR_TOO_LONG (key);
 *          ESF_ERR_READ_ONLY (read-only handle); ESF_ERR_NO_SPACE; ESF_ERR_STATE; flash errors. */
int esf_nvs_set_prim(esf_nvs_handle *h, const char *key, uint8_t type, uint64_t raw);

/** Read a primitive of exactly type `type`; `*raw` gets its bits zero-extended (untouched on
 *  error). @return ESF_OK; ESF_ERR_NOT_FOUND (absent or another type); ESF_ERR_INVALID_ARG;
 *  ESF_ERR_TOO_LONG (key). */
int esf_nvs_get_prim(esf_nvs_handle *h, const char *key, uint8_t type, uint64_t *raw);

/* Typed wrappers (nvs_set_* / nvs_get_*): errors as esf_nvs_set_prim / esf_nvs_get_prim;
 * set_float/set_double refuse NaN with ESF_ERR_INVALID_ARG (IDF >= v6.1). */
int esf_nvs_set_i8(esf_nvs_handle *h, const char *key, int8_t v);
int esf_nvs_set_u8(esf_nvs_handle *h, const char *key, uint8_t v);
int esf_nvs_set_i16(esf_nvs_handle *h, const char *key, int16_t v);
int esf_nvs_set_u16(esf_nvs_handle *h, const char *key, uint16_t v);
int esf_nvs_set_i32(esf_nvs_handle *h, const char *key, int32_t v);
int esf_nvs_set_u32(esf_nvs_handle *h, const char *key, uint32_t v);
int esf_nvs_set_i64(esf_nvs_handle *h, const char *key, int64_t v);
int esf_nvs_set_u64(esf_nvs_handle *h, const char *key, uint64_t v);
int esf_nvs_set_float(esf_nvs_handle *h, const char *key, float v);
int esf_nvs_set_double(esf_nvs_handle *h, const char *key, double v);
int esf_nvs_get_i8(esf_nvs_handle *h, const char *key, int8_t *v);
int esf_nvs_get_u8(esf_nvs_handle *h, const char *key, uint8_t *v);
int esf_nvs_get_i16(esf_nvs_handle *h, const char *key, int16_t *v);
int esf_nvs_get_u16(esf_nvs_handle *h, const char *key, uint16_t *v);
int esf_nvs_get_i32(esf_nvs_handle *h, const char *key, int32_t *v);
int esf_nvs_get_u32(esf_nvs_handle *h, const char *key, uint32_t *v);
int esf_nvs_get_i64(esf_nvs_handle *h, const char *key, int64_t *v);
int esf_nvs_get_u64(esf_nvs_handle *h, const char *key, uint64_t *v);
int esf_nvs_get_float(esf_nvs_handle *h, const char *key, float *v);
int esf_nvs_get_double(esf_nvs_handle *h, const char *key, double *v);

/** Set a NUL-terminated string (stored size = strlen + 1, at most 4000 bytes, one page).
 *  @return as esf_nvs_set_prim; ESF_ERR_TOO_LONG (value > 4000 bytes). */
int esf_nvs_set_str(esf_nvs_handle *h, const char *key, const char *value);

/** Set a blob of `len` bytes (0 allowed) as a v2 blob (chunks + index, nvs-runtime.md §6.4);
 *  replaces a v1 blob or another type under the key.
 *  @return as esf_nvs_set_prim; ESF_ERR_TOO_LONG (len > min(508000, (pages-1)*4000), or more than
 *          127 chunks needed). */
int esf_nvs_set_blob(esf_nvs_handle *h, const char *key, const void *value, size_t len);

/** Read a string (with its NUL) or a blob (v2, else v1). `len` in: capacity of `buf` in bytes;
 *  out: the stored size. `buf` NULL: only the size is returned.
 *  @return ESF_OK; ESF_ERR_NOT_FOUND (absent, other type, damaged blob); ESF_ERR_RANGE (capacity
 *          too small: *len = needed size; ESP_ERR_NVS_INVALID_LENGTH); ESF_ERR_INVALID_ARG (len
 *          NULL); ESF_ERR_TOO_LONG (key). */
int esf_nvs_get_str(esf_nvs_handle *h, const char *key, char *buf, size_t *len);
int esf_nvs_get_blob(esf_nvs_handle *h, const char *key, void *buf, size_t *len);

/** Type of the key's item (`type` may be NULL); v1 and v2 blobs report ESF_NVS_TYPE_BLOB_DATA
 *  (NVS_TYPE_BLOB). @return ESF_OK; ESF_ERR_NOT_FOUND; ESF_ERR_INVALID_ARG; ESF_ERR_TOO_LONG. */
int esf_nvs_find_key(esf_nvs_handle *h, const char *key, uint8_t *type);

/** Erase a key (a v2 blob: index, then its chunks). @return ESF_OK; ESF_ERR_NOT_FOUND;
 *  ESF_ERR_READ_ONLY; ESF_ERR_INVALID_ARG; ESF_ERR_TOO_LONG; ESF_ERR_STATE; flash errors. */
int esf_nvs_erase_key(esf_nvs_handle *h, const char *key);

/** Erase every item of the handle's namespace (the namespace itself stays). ESF_OK when empty.
 *  @return ESF_OK; ESF_ERR_READ_ONLY; ESF_ERR_STATE; flash errors. */
int esf_nvs_erase_all(esf_nvs_handle *h);

/** Overwrite with 0x00 every erased entry that still holds an item of this namespace
 *  (nvs_purge_all, IDF >= v6.1). @return as esf_nvs_erase_all. */
int esf_nvs_purge_all(esf_nvs_handle *h);

/** nvs_commit: every write is already durable on the device; for a file-backed store the file
 *  is written atomically (when changed). @return ESF_OK; ESF_ERR_INVALID_ARG; ESF_ERR_IO. */
int esf_nvs_commit(esf_nvs_handle *h);

/** Entries used by the handle's namespace (items incl. payload entries, chunks and indexes).
 *  @return ESF_OK; ESF_ERR_INVALID_ARG. */
int esf_nvs_get_used_entry_count(esf_nvs_handle *h, size_t *count);

/* ---- iterators (nvs_entry_find ...; nvs-runtime.md §6.8) */

/** First entry of namespace `ns` (NULL = all namespaces) with type `type` (ESF_NVS_TYPE_ANY =
 *  all; ESF_NVS_TYPE_BLOB_DATA = v2 blobs, each reported once). Order: pages by sequence number,
 *  entries in page order. *it = NULL when nothing matches.
 *  @return ESF_OK; ESF_ERR_NOT_FOUND (nothing matches, unknown namespace); ESF_ERR_INVALID_ARG;
 *          ESF_ERR_NO_MEM. */
int esf_nvs_entry_find(esf_nvs *nvs, const char *ns, uint8_t type, esf_nvs_iter **it);

/** As esf_nvs_entry_find for the handle's namespace. */
int esf_nvs_entry_find_in_handle(esf_nvs_handle *h, uint8_t type, esf_nvs_iter **it);

/** Advance; at the end the iterator is released and *it = NULL.
 *  @return ESF_OK; ESF_ERR_NOT_FOUND (end); ESF_ERR_INVALID_ARG. */
int esf_nvs_entry_next(esf_nvs_iter **it);

/** Copy the current entry's info. @return ESF_OK; ESF_ERR_INVALID_ARG. */
int esf_nvs_entry_info(const esf_nvs_iter *it, esf_nvs_info *info);

/** NULL-safe. */
void esf_nvs_release_iterator(esf_nvs_iter *it);

#ifdef __cplusplus
}
#endif
#endif
