/* espforge CLI: write an image given as its data part plus a 0xFF tail (NVS images are mostly
 * erased flash), atomically, without building the tail in memory. */
#include <string.h>

#include "cli.h"
#include "espforge/io.h"

int cli_write_ff_image(const char *path, const uint8_t *data, size_t data_len, size_t len,
                       esf_error *err)
{
    static uint8_t ff[65536];
    esf_atomic_file f;
    int rc = esf_atomic_open(&f, path, err);
    if (rc)
        return rc;
    if (ff[0] != 0xFF)
        memset(ff, 0xFF, sizeof ff);
    bool ok = fwrite(data, 1, data_len, f.fp) == data_len;
    for (size_t left = len - data_len; ok && left;) {
        size_t n = left < sizeof ff ? left : sizeof ff;
        ok = fwrite(ff, 1, n, f.fp) == n;
        left -= n;
    }
    if (!ok) {
        esf_atomic_abort(&f);
        return esf_error_at(err, ESF_ERR_IO, path, -1, "write failed");
    }
    return esf_atomic_commit(&f, err);
}
