/* libFuzzer target: mass production (esf_mfg_run) on a config and a values CSV.
 * Input: config text, a 0x00 byte, values text (no 0x00 byte: both sides taken as the config).
 * The first byte also picks the thread count, NVS version and partition size. Invariants: a
 * failed run wrote no image and no CSV (validation comes first); a successful run wrote one image
 * per device it reports, each of the partition size (or whole pages when read-only), and a
 * manifest. Inputs naming type=file values are skipped (they would read arbitrary paths). */
#define _GNU_SOURCE  /* memmem */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espforge/io.h"
#include "espforge/mfg.h"

static char root[256];

static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return 0;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

static void rm_tree(const char *dir)
{
    static const char *const subs[] = { "bin", "csv", "keys" };
    char p[600];
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, subs[i]);
        DIR *d = opendir(p);
        if (!d)
            continue;
        for (struct dirent *e; (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char f[900];
            snprintf(f, sizeof f, "%s/%s", p, e->d_name);
            unlink(f);
        }
        closedir(d);
        rmdir(p);
    }
    snprintf(p, sizeof p, "%s/manifest.csv", dir);
    unlink(p);
    rmdir(dir);
}

static void check_images(const char *dir, uint32_t size, uint64_t want)
{
    char p[600];
    snprintf(p, sizeof p, "%s/bin", dir);
    if ((uint64_t)count_files(p) != want)
        abort();
    DIR *d = opendir(p);
    for (struct dirent *e; d && (e = readdir(d));) {
        if (e->d_name[0] == '.')
            continue;
        char f[900];
        struct stat st;
        snprintf(f, sizeof f, "%s/%s", p, e->d_name);
        if (stat(f, &st) || st.st_size == 0 || st.st_size % 4096 || (uint64_t)st.st_size > size)
            abort();
    }
    if (d)
        closedir(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    if (len < 2 || len > 65536)
        return 0;
    if (!root[0]) {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(root, sizeof root, "%s/esf-fuzz-mfg-XXXXXX", base);
        if (!mkdtemp(root))
            abort();
    }
    uint8_t mode = data[0];
    data++, len--;
    const uint8_t *nul = memchr(data, 0, len);
    size_t clen = nul ? (size_t)(nul - data) : len;
    const uint8_t *v = nul ? nul + 1 : data;
    size_t vlen = nul ? len - clen - 1 : len;
    if (memmem(data, clen, "file", 4))
        return 0;  /* a type=file row would read whatever path the values name */
    char conf[300], values[300], out[300];
    snprintf(conf, sizeof conf, "%s/c.csv", root);
    snprintf(values, sizeof values, "%s/v.csv", root);
    snprintf(out, sizeof out, "%s/out", root);
    if (esf_file_write_atomic(conf, data, clen, NULL) || esf_file_write_atomic(values, v, vlen, NULL))
        abort();
    static const uint32_t sizes[4] = { 0x1000, 0x3000, 0x4000, 0x6000 };
    esf_mfg_opts o = {
        .conf_path = conf, .values_path = values, .prefix = "f", .size = sizes[mode & 3],
        .version = mode & 4 ? 1 : 2, .outdir = out, .jobs = mode & 8 ? 2 : 1, .manifest = true,
        .ref_messages = (mode & 16) != 0, .fileid = mode & 32 ? "id" : NULL,
    };
    esf_mfg_stats st;
    esf_error err = { 0 };
    int rc = esf_mfg_run(&o, &st, &err);
    char bin[400], csv[400];
    snprintf(bin, sizeof bin, "%s/bin", out);
    snprintf(csv, sizeof csv, "%s/csv", out);
    if (rc < 0) {
        if (!err.msg[0] || count_files(bin) || count_files(csv))
            abort();  /* a failed run explains itself and wrote nothing */
    } else {
        check_images(out, o.size, st.written);
        if ((uint64_t)count_files(csv) != st.written)
            abort();
    }
    rm_tree(out);
    return 0;
}
