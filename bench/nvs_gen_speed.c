/* In-process speed of the NVS generator, the part of a whole `nvs_partition_gen generate` run
 * that is ours (bench/nvs_gen_bench.sh times whole processes against the reference). Builds the
 * same CSVs as that script (N keys: u32, i16, string and 32-byte hex2bin rows in namespaces of
 * 100 keys), then times CSV -> image, plain and encrypted, first run (cold: fresh pages) and the
 * mean of the following runs (warm), in microseconds.
 * usage: nvs_gen_speed [RUNS]   (default 200) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "espforge/nvs_gen.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

/* The CSV of bench/nvs_gen_bench.sh's make_csv, `n` keys; malloc'd, length in *len. */
static char *make_csv(int n, size_t *len)
{
    size_t cap = 64 + (size_t)n * 96, k = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    k += (size_t)snprintf(s + k, cap - k, "key,type,encoding,value\n");
    for (int i = 0; i < n; i++) {
        if (i % 100 == 0)
            k += (size_t)snprintf(s + k, cap - k, "ns%d,namespace,,\n", i / 100);
        switch (i % 4) {
        case 0: k += (size_t)snprintf(s + k, cap - k, "u%d,data,u32,%d\n", i, i * 7919); break;
        case 1: k += (size_t)snprintf(s + k, cap - k, "i%d,data,i16,%d\n", i, (i % 60000) - 30000); break;
        case 2:
            k += (size_t)snprintf(s + k, cap - k, "s%d,data,string,device-%d-serial-%08d-some-text\n",
                                  i, i, i * 31);
            break;
        default:
            k += (size_t)snprintf(s + k, cap - k, "b%d,data,hex2bin,", i);
            for (int j = 0; j < 32; j++)
                k += (size_t)snprintf(s + k, cap - k, "%02x", (i + j * 13) % 256);
            k += (size_t)snprintf(s + k, cap - k, "\n");
        }
    }
    *len = k;
    return s;
}

/* One CSV -> image run with a fresh generator; returns microseconds, or -1 on error. */
static double run_once(const char *csv, size_t len, uint64_t size, const uint8_t *key)
{
    double t0 = now_us();
    esf_nvs_gen_opts o = { .size = size, .version = 2, .compat = true, .key = key };
    esf_nvs_gen *g = NULL;
    esf_error err = { 0 };
    const uint8_t *pages;
    size_t data_len, img_len;
    int rc = esf_nvs_gen_new(&g, &o, &err);
    if (!rc)
        rc = esf_nvs_gen_add_csv(g, csv, len, "bench.csv", &err);
    if (!rc)
        rc = esf_nvs_gen_finish_pages(g, &pages, &data_len, &img_len, &err);
    esf_nvs_gen_free(g);
    if (rc) {
        fprintf(stderr, "nvs_gen_speed: %s\n", err.msg);
        return -1;
    }
    return now_us() - t0;
}

int main(int argc, char **argv)
{
    int runs = argc > 1 ? atoi(argv[1]) : 200;
    if (runs < 2)
        runs = 2;
    uint8_t key[64];
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    static const struct { int keys; uint64_t size; } cases[] = { { 40, 0x6000 }, { 5000, 0x100000 } };
    printf("%-28s %10s %10s\n", "case", "cold (us)", "warm (us)");
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t len;
        char *csv = make_csv(cases[c].keys, &len);
        if (!csv)
            return 1;
        for (int enc = 0; enc < 2; enc++) {
            double cold = run_once(csv, len, cases[c].size, enc ? key : NULL), warm = 0;
            if (cold < 0)
                return 1;
            for (int r = 1; r < runs; r++) {
                double t = run_once(csv, len, cases[c].size, enc ? key : NULL);
                if (t < 0)
                    return 1;
                warm += t;
            }
            char name[64];
            snprintf(name, sizeof name, "%s %d keys (%lluK)", enc ? "encrypt" : "generate",
                     cases[c].keys, (unsigned long long)(cases[c].size / 1024));
            printf("%-28s %10.1f %10.1f\n", name, cold, warm / (runs - 1));
        }
        free(csv);
    }
    return 0;
}
