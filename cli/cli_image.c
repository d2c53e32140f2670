/* espforge CLI: write an image given as its data part plus a 0xFF tail (NVS images are mostly
 * erased flash), atomically, without building the tail in memory. */
#include <errno.h>
#include <string.h>
#include <sys/uio.h>

#include "cli.h"
#include "espforge/io.h"

/* Write `left` 0xFF bytes to `fd`: one writev of up to 256 iovecs over a single 4 KiB page of
 * 0xFF (one page touched, one system call a MiB). The bytes are all alike, so a short write
 * needs no offset bookkeeping: the loop just writes what is left. */
static bool write_ff(int fd, size_t left)
{
    static uint8_t ff[4096];
    if (ff[0] != 0xFF)
        memset(ff, 0xFF, sizeof ff);
    struct iovec iov[256];
    while (left) {
        int k = 0;
        for (size_t n = 0; k < 256 && n < left; k++) {
            size_t c = left - n < sizeof ff ? left - n : sizeof ff;
            iov[k].iov_base = ff;
            iov[k].iov_len = c;
            n += c;
        }
        ssize_t w = writev(fd, iov, k);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        left -= (size_t)w;
    }
    return true;
}

int cli_write_ff_image(const char *path, const uint8_t *data, size_t data_len, size_t len,
                       esf_error *err)
{
    esf_atomic_file f;
    int rc = esf_atomic_open(&f, path, err);
    if (rc)
        return rc;
    esf_atomic_reserve(&f, len);
    bool ok = fwrite(data, 1, data_len, f.fp) == data_len;
    if (ok && len > data_len)
        ok = fflush(f.fp) == 0 && write_ff(fileno(f.fp), len - data_len);
    if (!ok) {
        esf_atomic_abort(&f);
        return esf_error_at(err, ESF_ERR_IO, path, -1, "write failed");
    }
    return esf_atomic_commit(&f, err);
}
