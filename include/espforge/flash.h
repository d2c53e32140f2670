/* espforge layer 1: the flash device.
 *
 * A struct of callbacks plus geometry, after littlefs's lfs_config. NOR semantics are enforced by
 * every backend: erase sets a whole sector to 0xFF; program may only clear bits (a request that
 * would turn a 0 bit into 1 fails with ESF_ERR_FLASH and changes nothing). Every device counts
 * reads, programmed bytes and erases per sector. Upper layers call esf_flash_read/program/erase
 * (range-checked), never the callbacks.
 */
#ifndef ESPFORGE_FLASH_H
#define ESPFORGE_FLASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESF_SECTOR_SIZE 4096u  /* bytes: ESP32 SPI NOR erase unit */

typedef struct esf_flash esf_flash;

/** Operation counters, kept by the range-checked entry points; an operation counts only when it
 *  succeeds (a refused or cut operation does not). A wrapper and the device it wraps each count. */
typedef struct esf_flash_stats {
    uint64_t reads;             /* read calls */
    uint64_t bytes_read;        /* bytes */
    uint64_t programs;          /* program calls */
    uint64_t bytes_programmed;  /* bytes */
    uint64_t erases;            /* sector erases */
    uint32_t *sector_erases;    /* erases per sector, `size / sector_size` counters (owned) */
} esf_flash_stats;

struct esf_flash {
    void *ctx;  /* backend state */
    /* Callbacks: addr/len already range-checked. Return ESF_OK or a negative code. */
    int (*read)(esf_flash *f, uint32_t addr, void *buf, size_t len);
    int (*program)(esf_flash *f, uint32_t addr, const void *buf, size_t len); /* 1->0 only */
    int (*erase)(esf_flash *f, uint32_t sector);  /* sector index -> all 0xFF */
    void (*close)(esf_flash *f);                  /* release ctx; may be NULL */
    uint32_t sector_size;  /* bytes, 4096 */
    uint32_t size;         /* bytes, a multiple of sector_size */
    esf_flash_stats stats;
};

/** Read `len` bytes at byte address `addr`.
 *  @return ESF_OK; ESF_ERR_RANGE (outside the device); ESF_ERR_POWER_CUT; backend errors. */
int esf_flash_read(esf_flash *f, uint32_t addr, void *buf, size_t len);

/** Program `len` bytes at `addr` with NOR semantics (bits may only go 1 -> 0).
 *  @return ESF_OK; ESF_ERR_RANGE; ESF_ERR_FLASH (would set a 0 bit to 1; nothing written);
 *          ESF_ERR_POWER_CUT (fault wrapper: maybe partly written when torn). */
int esf_flash_program(esf_flash *f, uint32_t addr, const void *buf, size_t len);

/** Erase sector number `sector` (byte address sector * sector_size) to 0xFF.
 *  @return ESF_OK; ESF_ERR_RANGE; ESF_ERR_POWER_CUT. */
int esf_flash_erase(esf_flash *f, uint32_t sector);

/** Erase every sector overlapping [addr, addr + len); addr and len must be sector-aligned.
 *  @return ESF_OK; ESF_ERR_RANGE; ESF_ERR_INVALID_ARG (unaligned); as esf_flash_erase. */
int esf_flash_erase_range(esf_flash *f, uint32_t addr, uint32_t len);

/** Zero all counters (keeps the per-sector array). */
void esf_flash_stats_reset(esf_flash *f);

/** Release the backend and the counters. NULL-safe; safe on a zeroed struct. */
void esf_flash_close(esf_flash *f);

/* ---- RAM backend */

/** A RAM flash of `size` bytes (a multiple of 4096), all 0xFF.
 *  @return ESF_OK; ESF_ERR_INVALID_ARG (size 0 or unaligned); ESF_ERR_NO_MEM. */
int esf_flash_ram_init(esf_flash *f, uint32_t size, esf_error *err);

/** A RAM flash holding a copy of `data` (`len` bytes); `size` >= len, the rest 0xFF.
 *  @return as esf_flash_ram_init. */
int esf_flash_ram_init_from(esf_flash *f, uint32_t size, const void *data, size_t len,
                            esf_error *err);

/** The bytes of a RAM or file flash (size bytes), for snapshots and comparisons: writing them
 *  directly bypasses NOR checks and counters (restore a snapshot that way). NULL for other
 *  backends (the fault wrapper: ask its inner device). */
uint8_t *esf_flash_ram_data(esf_flash *f);

/* ---- File backend: an image on disk, loaded into memory; changes reach the file only on commit */

/** Open the image at `path`. With `create_size` > 0 a missing file becomes a blank (0xFF) image of
 *  that many bytes; otherwise the file must exist and its size must be a multiple of 4096.
 *  @return ESF_OK; ESF_ERR_IO; ESF_ERR_INVALID (size not a multiple of 4096); ESF_ERR_NO_MEM. */
int esf_flash_file_open(esf_flash *f, const char *path, uint32_t create_size, esf_error *err);

/** Write the image back atomically (esf_file_write_atomic: temporary file, rename); on failure the
 *  file on disk is untouched. Changes made before the commit never reach the file otherwise.
 *  @return ESF_OK; ESF_ERR_IO; ESF_ERR_INVALID_ARG (not a file flash). */
int esf_flash_file_commit(esf_flash *f, esf_error *err);

/** The path a file flash was opened from; NULL for other backends. */
const char *esf_flash_file_path(esf_flash *f);

/* ---- Fault injection: cut power after N operations */

typedef enum esf_tear_mode {
    ESF_TEAR_NONE = 0,   /* the cut operation does nothing */
    ESF_TEAR_RANDOM = 1  /* the cut program writes a random prefix (last byte partly); the cut
                            erase leaves a random prefix 0xFF and random bits set in the rest */
} esf_tear_mode;

typedef struct esf_fault_plan {
    uint64_t cut_after_ops;  /* operations (program or erase calls) that succeed; the next one is
                                cut. UINT64_MAX = never */
    esf_tear_mode tear;
    uint64_t seed;           /* for the torn bytes */
    bool fail_reads_after_cut; /* after the cut, reads fail too (default: they still work) */
} esf_fault_plan;

/** Wrap `inner` (not owned: close it yourself after `f`). Programs and erases count as
 *  operations; operation number cut_after_ops + 1 is cut: it returns ESF_ERR_POWER_CUT and, with
 *  ESF_TEAR_RANDOM, is torn (a program lands a random prefix, its last byte partly, only clearing
 *  bits; an erase leaves a random-length 0xFF prefix and random bits set in the rest). The torn
 *  bytes are a function of (seed, operation number) only: same plan, same workload, same image.
 *  After the cut every program/erase returns ESF_ERR_POWER_CUT and changes nothing.
 *  @return ESF_OK; ESF_ERR_INVALID_ARG; ESF_ERR_NO_MEM. */
int esf_flash_fault_wrap(esf_flash *f, esf_flash *inner, const esf_fault_plan *plan,
                         esf_error *err);

/** True once the wrapper has cut power. */
bool esf_flash_fault_tripped(const esf_flash *f);

/** Operations (program + erase calls) the wrapper has seen, up to and including the cut one
 *  (calls after the cut are not counted). 0 for other backends. */
uint64_t esf_flash_fault_ops(const esf_flash *f);

/** Start over with a new plan (power back on): operation count 0, not tripped. Used to cut a
 *  second time during recovery. @return ESF_OK; ESF_ERR_INVALID_ARG (not a fault wrapper). */
int esf_flash_fault_rearm(esf_flash *f, const esf_fault_plan *plan);

#ifdef __cplusplus
}
#endif
#endif
