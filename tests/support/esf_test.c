#include "esf_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/io.h"

const char *esf_test_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", ESF_TEST_DATA, rel);
    return buf;
}

uint8_t *esf_test_read(const char *rel, size_t *len)
{
    uint8_t *data = NULL;
    esf_error err;
    esf_error_clear(&err);
    if (esf_file_read(esf_test_path(rel), &data, len, &err) < 0)
        fail_msg("cannot read test data %s: %s", rel, err.msg);
    return data;
}

char *esf_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = malloc(4096);
    assert_non_null(tmpl);
    snprintf(tmpl, 4096, "%s/esf-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(tmpl));
    return tmpl;
}

void esf_test_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (remove(path) != 0)
            esf_test_rmdir(path);
    }
    closedir(d);
    remove(dir);
}

int esf_test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

size_t esf_test_base64_decode(const char *in, size_t n, uint8_t *out)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    uint32_t acc = 0;
    int bits = 0;
    size_t o = 0;
    for (size_t i = 0; i < n && in[i] != '='; i++) {
        const char *p = in[i] ? strchr(al, in[i]) : NULL;
        if (!p)
            continue;
        acc = (acc << 6) | (uint32_t)(p - al);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

const char *const esf_test_nvs_vectors[21] = {
    "n01_primitives_v2", "n02_primitives_v1", "n03_strings_v2", "n04_string_max_v1",
    "n05_string_max_v2", "n06_blobs_inline_v2", "n07_multipage_blob_v2", "n08_blobs_v1",
    "n09_file_types_v2", "n10_idf_sample_multipage_v2", "n11_idf_sample_singlepage_v1",
    "n12_namespaces", "n13_page_boundaries_v2", "n14_readonly_0x1000", "n15_readonly_0x2000",
    "n16_blob_fill_v2", "n17_wifi_keys_v2", "n18_quirks_v2", "n19_random_large_v2",
    "n20_random_v1", "n21_encrypted_v2",
};
