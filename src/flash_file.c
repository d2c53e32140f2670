/* espforge layer 1: the file backend — an image on disk loaded into memory (a RAM flash that
 * remembers its path); esf_flash_file_commit writes it back atomically. See flash.h. */
#include "espforge/flash.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "espforge/io.h"
#include "internal/flash_backend.h"

int esf_flash_file_open(esf_flash *f, const char *path, uint32_t create_size, esf_error *err)
{
    if (!f || !path)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "flash file: NULL argument");
    memset(f, 0, sizeof *f);
    char *p = strdup(path);
    if (!p)
        return esf_error_set(err, ESF_ERR_NO_MEM, "flash file: no memory");
    struct stat st;
    if (create_size > 0 && stat(path, &st) != 0 && errno == ENOENT) {
        if (create_size % ESF_SECTOR_SIZE) {
            free(p);
            return esf_error_at(err, ESF_ERR_INVALID_ARG, path, -1,
                                "size %u is not a multiple of %u", create_size, ESF_SECTOR_SIZE);
        }
        uint8_t *mem = malloc(create_size);
        if (!mem) {
            free(p);
            return esf_error_set(err, ESF_ERR_NO_MEM, "%s: no memory for %u bytes", path,
                                 create_size);
        }
        memset(mem, 0xFF, create_size);
        return esf_flash_ram_adopt(f, create_size, mem, p, err);
    }
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = esf_file_read(path, &data, &len, err);
    if (rc != ESF_OK) {
        free(p);
        return rc;
    }
    if (len == 0 || len % ESF_SECTOR_SIZE || len > UINT32_MAX) {
        free(p);
        free(data);
        return esf_error_at(err, ESF_ERR_INVALID, path, -1,
                            "image size %zu is not a positive multiple of %u bytes", len,
                            ESF_SECTOR_SIZE);
    }
    return esf_flash_ram_adopt(f, (uint32_t)len, data, p, err);
}

int esf_flash_file_commit(esf_flash *f, esf_error *err)
{
    esf_flash_ram *r = esf_flash_ram_ctx(f);
    if (!r || !r->path)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "flash: not a file-backed device");
    return esf_file_write_atomic(r->path, r->data, f->size, err);
}

const char *esf_flash_file_path(esf_flash *f)
{
    esf_flash_ram *r = esf_flash_ram_ctx(f);
    return r ? r->path : NULL;
}
