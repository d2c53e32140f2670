/* espforge layer 2: a partition view, a bounds-checked window of a flash device.
 * NVS, otadata and app slots all work on a view, so the same code edits a stand-alone image or a
 * partition inside a whole flash image. Addresses are partition-relative bytes. */
#ifndef ESPFORGE_PARTITION_H
#define ESPFORGE_PARTITION_H

#include <stdint.h>

#include "espforge/error.h"
#include "espforge/flash.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESF_PART_FLAG_ENCRYPTED 0x1u  /* partition-table flag bit 0 */
#define ESF_PART_FLAG_READONLY 0x2u   /* partition-table flag bit 1: writes and erases refused */

typedef struct esf_part {
    esf_flash *flash;  /* not owned */
    uint32_t offset;   /* bytes from the start of the flash, sector-aligned */
    uint32_t size;     /* bytes, a multiple of 4096 */
    char label[17];    /* up to 16 bytes + NUL */
    uint8_t type;      /* partition-table type (0 app, 1 data, ...) */
    uint8_t subtype;
    uint32_t flags;    /* ESF_PART_FLAG_* */
} esf_part;

/** Make a view of `size` bytes at `offset` of `flash`. `label` may be NULL (""), is cut at 16 bytes.
 *  type/subtype/flags start at 0 (set the fields directly).
 *  @return ESF_OK; ESF_ERR_INVALID_ARG (unaligned offset/size, size 0); ESF_ERR_RANGE (past end). */
int esf_part_init(esf_part *p, esf_flash *flash, uint32_t offset, uint32_t size, const char *label,
                  esf_error *err);

/** A view of the whole device. */
int esf_part_init_whole(esf_part *p, esf_flash *flash, const char *label, esf_error *err);

/** Read `len` bytes at partition-relative `addr`. @return ESF_OK; ESF_ERR_RANGE; flash errors. */
int esf_part_read(const esf_part *p, uint32_t addr, void *buf, size_t len);

/** Program (NOR) at partition-relative `addr`. @return ESF_OK; ESF_ERR_RANGE; ESF_ERR_READ_ONLY;
 *  flash errors (ESF_ERR_FLASH, ESF_ERR_POWER_CUT). */
int esf_part_program(const esf_part *p, uint32_t addr, const void *buf, size_t len);

/** Erase partition-relative sector `sector` (0 .. size/4096-1). @return ESF_OK; ESF_ERR_RANGE;
 *  ESF_ERR_READ_ONLY; flash errors. */
int esf_part_erase_sector(const esf_part *p, uint32_t sector);

/** Erase [addr, addr+len), both sector-aligned. @return as esf_part_erase_sector;
 *  ESF_ERR_INVALID_ARG (unaligned). */
int esf_part_erase_range(const esf_part *p, uint32_t addr, uint32_t len);

/** Number of 4096-byte sectors in the view. */
static inline uint32_t esf_part_sectors(const esf_part *p) { return p->size / ESF_SECTOR_SIZE; }

#ifdef __cplusplus
}
#endif
#endif
