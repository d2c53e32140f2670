/* Test helpers: flash devices from fixture files under tests/data. */
#include "flash_fixture.h"

#include <stdio.h>
#include <stdlib.h>

uint8_t *fixture_read(const char *rel, size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", ESF_TEST_DATA, rel);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(fp);
                return NULL;
            }
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (got == 0)
            break;
    }
    fclose(fp);
    *len = n;
    return buf;
}

int fixture_ram(esf_flash *f, const char *rel, uint32_t size)
{
    size_t len = 0;
    uint8_t *buf = fixture_read(rel, &len);
    if (!buf)
        return ESF_ERR_IO;
    if (size == 0)
        size = (uint32_t)((len + ESF_SECTOR_SIZE - 1) / ESF_SECTOR_SIZE * ESF_SECTOR_SIZE);
    int rc = esf_flash_ram_init_from(f, size, buf, len, NULL);
    free(buf);
    return rc;
}
