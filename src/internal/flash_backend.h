/* espforge internal: shared pieces of the flash backends (flash.c, flash_file.c). */
#ifndef ESPFORGE_INTERNAL_FLASH_BACKEND_H
#define ESPFORGE_INTERNAL_FLASH_BACKEND_H

#include "espforge/flash.h"

/** RAM backend state; the file backend is a RAM flash with a path to commit to. */
typedef struct esf_flash_ram {
    uint8_t *data;  /* size bytes (owned) */
    char *path;     /* file backend: the image path (owned); NULL for plain RAM */
} esf_flash_ram;

/** Zero `f`, set geometry (4096-byte sectors, `size` bytes) and `ctx`, allocate the per-sector
 *  counters. @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_flash_setup(esf_flash *f, uint32_t size, void *ctx, esf_error *err);

/** Make `f` a RAM flash over `data` (`size` bytes, malloc'd) and optional `path` (malloc'd); both
 *  are owned from the call on, also on failure. @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_flash_ram_adopt(esf_flash *f, uint32_t size, uint8_t *data, char *path, esf_error *err);

/** The RAM state of a RAM or file flash; NULL for other backends. */
esf_flash_ram *esf_flash_ram_ctx(esf_flash *f);

#endif
