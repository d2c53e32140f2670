/* espforge layer 4: editing an NVS image file in place through the NVS runtime.
 *
 * The target is a stand-alone NVS image, or the NVS partition inside a whole flash image (found
 * by label in the partition table, or given by offset and size), plain or encrypted. The file is
 * read into a RAM flash; the runtime works there; esf_nvs_edit_commit writes the whole file back
 * atomically (temporary file + rename), so the file on disk always holds either its old content
 * or a complete new NVS state. Bytes outside the NVS partition are never changed.
 *
 * Before the runtime is let loose on the partition (its load erases what it cannot read), the
 * open checks that the partition looks like NVS and that the key fits:
 *  - every page is blank (state word 0xFFFFFFFF) or has a known state word (ACTIVE, FULL,
 *    FREEING), a valid header CRC and a known format version (v1 0xFF, v2 0xFE);
 *  - the first written entry of the first used page passes its CRC, decrypted with the key when
 *    one is given (nvs-runtime.md §7 "verify keys"; a wrong key or a missing --key fails here).
 * Mirrors nothing in ESP-IDF directly: it is nvs_flash_init_partition + nvs_set_* + nvs_commit
 * on a file, as parttool/nvs tools would do on a device.
 */
#ifndef ESPFORGE_NVS_EDIT_H
#define ESPFORGE_NVS_EDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"
#include "espforge/nvs.h"
#include "espforge/partition.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Where the NVS partition is and how to read it. Zero-initialise. */
typedef struct esf_nvs_edit_opts {
    const char *partition;   /* label in the partition table at table_offset, or NULL */
    uint32_t table_offset;   /* bytes; 0 = 0x8000 */
    uint32_t offset;         /* explicit window (no `partition`): bytes, multiple of 4096 */
    uint32_t size;           /* bytes, multiple of 4096; 0 = to the end of the file */
    uint64_t new_size;       /* > 0: start from a blank (0xFF) image of this many bytes instead of
                                reading the file (a multiple of 4096, >= 3 pages recommended);
                                excludes partition/offset/size */
    const uint8_t *xts_key;  /* 64 bytes (eky ‖ tky) for an encrypted NVS, or NULL */
    const char *key_source;  /* name of the keys file, for messages (may be NULL) */
} esf_nvs_edit_opts;

typedef struct esf_nvs_edit esf_nvs_edit;

/** Open `path` for editing (see the file comment for the checks).
 *  @return ESF_OK; ESF_ERR_IO (unreadable file); ESF_ERR_INVALID (file size not a multiple of
 *          4096; not an NVS partition: err->offset = the bad page's file offset; wrong key or
 *          encrypted image without key: err->offset = the entry's file offset; partition flagged
 *          encrypted); ESF_ERR_NOT_FOUND (no partition with that label); ESF_ERR_CORRUPT (bad
 *          partition table); ESF_ERR_RANGE (window outside the file); ESF_ERR_INVALID_ARG
 *          (unaligned window, option conflict); as esf_nvs_init. */
int esf_nvs_edit_open(esf_nvs_edit **out, const char *path, const esf_nvs_edit_opts *opt,
                      esf_error *err);

/** The runtime store (writable). */
esf_nvs *esf_nvs_edit_store(const esf_nvs_edit *e);

/** The NVS partition view (offset/size in the file). */
const esf_part *esf_nvs_edit_part(const esf_nvs_edit *e);

/** Write the image file atomically (always writes, also when nothing changed).
 *  @return ESF_OK; ESF_ERR_IO (the file is untouched). */
int esf_nvs_edit_commit(esf_nvs_edit *e, esf_error *err);

/** Release everything; uncommitted changes are dropped. NULL-safe. */
void esf_nvs_edit_close(esf_nvs_edit *e);

/** Flash work done since the open (including any recovery writes of the load), from the flash
 *  layer's counters, over the NVS partition's sectors. */
typedef struct esf_nvs_wear {
    uint64_t programs;          /* program calls */
    uint64_t bytes_programmed;  /* bytes */
    uint64_t erases;            /* sector erases */
    uint32_t sectors;           /* sectors in the partition */
    uint32_t min_erases, max_erases;  /* per sector */
    double mean_erases;         /* per sector */
} esf_nvs_wear;

/** Fill `out` from the counters. */
void esf_nvs_edit_wear(const esf_nvs_edit *e, esf_nvs_wear *out);

#ifdef __cplusplus
}
#endif
#endif
