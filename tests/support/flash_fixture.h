/* Test helpers: flash devices from fixture files under tests/data. */
#ifndef ESF_TEST_FLASH_FIXTURE_H
#define ESF_TEST_FLASH_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "espforge/flash.h"

/** Read tests/data/`rel` into a malloc'd buffer (*len bytes). NULL if unreadable. */
uint8_t *fixture_read(const char *rel, size_t *len);

/** A RAM flash holding tests/data/`rel`, `size` bytes (0 = the file's size rounded up to 4096).
 *  @return ESF_OK or the error of the load / esf_flash_ram_init_from. */
int fixture_ram(esf_flash *f, const char *rel, uint32_t size);

#endif
