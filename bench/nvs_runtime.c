/* NVS runtime speed and wear on a RAM flash.
 *
 *   nvs_runtime [--sets N] [--gets N] [--seed N] [--image-out FILE] [--dump-ops FILE]
 *
 * Workload (seeded, the same for every size): 200 keys in 3 namespaces, key i of type
 * i mod 6 = u8, i16, u32, i64, string (4..24 characters), blob (4..32 bytes); every key is set once,
 * then N random sets (random key, fresh random value; a value equal to the stored one is a set
 * like any other) and M random gets of existing keys. Runs on RAM flashes of 0x6000 and 1 MiB and
 * prints a table: sets/s, gets/s (CPU time of the process, so that a busy machine does not skew
 * them), bytes programmed per set, write amplification (bytes programmed / value bytes of the sets;
 * and with the key bytes counted as payload too), erases per 1,000 sets, and wear spread (min/max
 * erases of a sector).
 * Reference: ESP-IDF's own NVS built for host on a 0x6000 RAM flash, 200 keys of mixed types in 3
 * namespaces, 100,000 random sets: about 0.95 M sets/s, 1.86 M gets/s, write amplification 4.16
 * (figures given with the task; the exact value mix of that run is not known).
 * --image-out FILE saves the final 0x6000 image (for `espforge nvs check`).
 * --dump-ops FILE writes the exact operation sequence (text, one operation a line) so that another
 * NVS implementation can replay the same workload:
 *   N <namespace 0> <namespace 1> <namespace 2>
 *   I|S <ns index> <key> <kind> <value>   initial set (untimed) | timed set
 *   G <ns index> <key> <kind>             timed get
 * kind is u8, i16, u32, i64, str or blob; the value of u8..i64 is the raw unsigned integer in decimal
 * (i16/i64 two's complement), of str the characters (a..z), of blob lowercase hex. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "espforge/io.h"
#include "espforge/nvs.h"

#define NKEYS 200
#define NNS 3

static const char *const ns_names[NNS] = {"net", "app", "stats"};

typedef struct op {
    uint16_t key;
    uint8_t len;     /* string (with NUL) / blob bytes */
    uint64_t raw;    /* primitives */
    uint8_t data[32];
} op;

static uint64_t rng(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static int key_kind(int k) { return k % 6; }
static const uint8_t kind_type[6] = {ESF_NVS_TYPE_U8, ESF_NVS_TYPE_I16, ESF_NVS_TYPE_U32,
                                     ESF_NVS_TYPE_I64, ESF_NVS_TYPE_STR, ESF_NVS_TYPE_BLOB_DATA};

static void make_op(op *o, int key, uint64_t *r)
{
    o->key = (uint16_t)key;
    int kind = key_kind(key);
    if (kind < 4) {
        unsigned w = esf_nvs_type_size(kind_type[kind]);
        o->raw = rng(r) & (~UINT64_C(0) >> (64 - 8 * w));
        o->len = (uint8_t)w;
    } else if (kind == 4) {
        o->len = (uint8_t)(5 + rng(r) % 21);
        for (int i = 0; i < o->len - 1; i++)
            o->data[i] = (uint8_t)('a' + rng(r) % 26);
        o->data[o->len - 1] = 0;
    } else {
        o->len = (uint8_t)(4 + rng(r) % 29);
        for (int i = 0; i < o->len; i++)
            o->data[i] = (uint8_t)rng(r);
    }
}

static int do_set(esf_nvs_handle **h, const char (*keys)[16], const op *o)
{
    int kind = key_kind(o->key);
    esf_nvs_handle *hh = h[o->key % NNS];
    if (kind < 4)
        return esf_nvs_set_prim(hh, keys[o->key], kind_type[kind], o->raw);
    if (kind == 4)
        return esf_nvs_set_str(hh, keys[o->key], (const char *)o->data);
    return esf_nvs_set_blob(hh, keys[o->key], o->data, o->len);
}

static const char *const kind_name[6] = {"u8", "i16", "u32", "i64", "str", "blob"};

static void dump_op(FILE *d, char tag, const char (*keys)[16], const op *o)
{
    int kind = key_kind(o->key);
    fprintf(d, "%c %d %s %s ", tag, o->key % NNS, keys[o->key], kind_name[kind]);
    if (kind < 4)
        fprintf(d, "%" PRIu64, o->raw);
    else if (kind == 4)
        fputs((const char *)o->data, d);
    else
        for (int i = 0; i < o->len; i++)
            fprintf(d, "%02x", o->data[i]);
    fputc('\n', d);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* CPU time: steady on a shared machine */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct result {
    double sets_per_s, gets_per_s, bytes_per_set, wa, wa_kv, erases_per_k;
    uint32_t wear_min, wear_max;
    uint64_t bytes, programs, erases; /* totals over the timed sets */
} result;

static int run(uint32_t size, int nsets, int ngets, uint64_t seed, result *res, const char *out,
               FILE *dump)
{
    esf_flash f;
    esf_part part;
    esf_nvs *s = NULL;
    esf_error err;
    char keys[NKEYS][16];
    esf_nvs_handle *h[NNS];
    if (esf_flash_ram_init(&f, size, &err) != ESF_OK || esf_part_init_whole(&part, &f, "nvs", &err) ||
        esf_nvs_init(&s, &part, NULL, &err) != ESF_OK) {
        fprintf(stderr, "nvs_runtime: %s\n", err.msg);
        return 1;
    }
    for (int n = 0; n < NNS; n++)
        if (esf_nvs_open(s, ns_names[n], ESF_NVS_READWRITE, &h[n], &err) != ESF_OK) {
            fprintf(stderr, "nvs_runtime: %s\n", err.msg);
            return 1;
        }
    uint64_t r = seed;
    op o;
    if (dump)
        fprintf(dump, "N %s %s %s\n", ns_names[0], ns_names[1], ns_names[2]);
    for (int k = 0; k < NKEYS; k++) {
        snprintf(keys[k], sizeof keys[k], "key%03d_%s", k, ns_names[k % NNS]);
        make_op(&o, k, &r);
        if (dump)
            dump_op(dump, 'I', keys, &o);
        if (do_set(h, keys, &o) != ESF_OK) {
            fprintf(stderr, "nvs_runtime: initial set of %s failed\n", keys[k]);
            return 1;
        }
    }
    op *ops = malloc(sizeof *ops * (size_t)nsets);
    uint64_t payload = 0, payload_kv = 0;
    for (int i = 0; i < nsets; i++) {
        make_op(&ops[i], (int)(rng(&r) % NKEYS), &r);
        payload += ops[i].len;
        payload_kv += ops[i].len + strlen(keys[ops[i].key]);
        if (dump)
            dump_op(dump, 'S', keys, &ops[i]);
    }
    esf_flash_stats_reset(&f);
    double t0 = now();
    for (int i = 0; i < nsets; i++)
        if (do_set(h, keys, &ops[i]) != ESF_OK) {
            fprintf(stderr, "nvs_runtime: set %d failed\n", i);
            return 1;
        }
    double t1 = now();
    res->sets_per_s = nsets / (t1 - t0);
    res->bytes = f.stats.bytes_programmed;
    res->programs = f.stats.programs;
    res->erases = f.stats.erases;
    res->bytes_per_set = (double)f.stats.bytes_programmed / nsets;
    res->wa = (double)f.stats.bytes_programmed / (double)payload;
    res->wa_kv = (double)f.stats.bytes_programmed / (double)payload_kv;
    res->erases_per_k = (double)f.stats.erases * 1000.0 / nsets;
    res->wear_min = UINT32_MAX;
    res->wear_max = 0;
    for (uint32_t sct = 0; sct < size / 4096; sct++) {
        uint32_t e = f.stats.sector_erases[sct];
        res->wear_min = e < res->wear_min ? e : res->wear_min;
        res->wear_max = e > res->wear_max ? e : res->wear_max;
    }
    /* gets of existing keys with their own type */
    uint16_t *gk = malloc(sizeof *gk * (size_t)ngets);
    for (int i = 0; i < ngets; i++) {
        gk[i] = (uint16_t)(rng(&r) % NKEYS);
        if (dump)
            fprintf(dump, "G %d %s %s\n", gk[i] % NNS, keys[gk[i]], kind_name[key_kind(gk[i])]);
    }
    uint8_t buf[64];
    uint64_t sink = 0;
    t0 = now();
    for (int i = 0; i < ngets; i++) {
        int k = gk[i], kind = key_kind(k);
        esf_nvs_handle *hh = h[k % NNS];
        size_t len = sizeof buf;
        uint64_t raw = 0;
        int rc = kind < 4 ? esf_nvs_get_prim(hh, keys[k], kind_type[kind], &raw)
                 : kind == 4 ? esf_nvs_get_str(hh, keys[k], (char *)buf, &len)
                             : esf_nvs_get_blob(hh, keys[k], buf, &len);
        if (rc != ESF_OK) {
            fprintf(stderr, "nvs_runtime: get of %s failed\n", keys[k]);
            return 1;
        }
        sink += raw + buf[0];
    }
    t1 = now();
    res->gets_per_s = ngets / (t1 - t0);
    if (sink == 42)
        fprintf(stderr, " ");
    free(gk);
    free(ops);
    for (int n = 0; n < NNS; n++)
        esf_nvs_close(h[n]);
    esf_nvs_deinit(s);
    if (out && esf_file_write_atomic(out, esf_flash_ram_data(&f), size, &err) != ESF_OK) {
        fprintf(stderr, "nvs_runtime: %s\n", err.msg);
        return 1;
    }
    esf_flash_close(&f);
    return 0;
}

int main(int argc, char **argv)
{
    int nsets = 100000, ngets = 1000000;
    uint64_t seed = 1;
    const char *image_out = NULL, *dump_out = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--sets"))
            nsets = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--gets"))
            ngets = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--image-out"))
            image_out = argv[i + 1];
        else if (!strcmp(argv[i], "--dump-ops"))
            dump_out = argv[i + 1];
        else {
            fprintf(stderr, "usage: nvs_runtime [--sets N] [--gets N] [--seed N] "
                            "[--image-out FILE] [--dump-ops FILE]\n");
            return 2;
        }
    }
    if (nsets <= 0 || ngets <= 0)
        return 2;
    const uint32_t sizes[] = {0x6000, 0x100000};
    result res[2];
    FILE *dump = NULL;
    if (dump_out && !(dump = fopen(dump_out, "w"))) {
        perror(dump_out);
        return 1;
    }
    for (int i = 0; i < 2; i++)
        if (run(sizes[i], nsets, ngets, seed, &res[i], i == 0 ? image_out : NULL,
                i == 0 ? dump : NULL) != 0)
            return 1;
    if (dump && fclose(dump) != 0) {
        perror(dump_out);
        return 1;
    }
    printf("NVS runtime, %d keys (u8 i16 u32 i64 str blob) in %d namespaces, %d random sets, "
           "%d random gets, seed %" PRIu64 "\n", NKEYS, NNS, nsets, ngets, seed);
    printf("%-24s %10s %10s %8s %8s %8s %10s %12s\n", "", "sets/s", "gets/s", "B/set", "WA",
           "WA(k+v)", "erases/1k", "wear min/max");
    printf("%-24s %10s %10s %8s %8s %8s %10s %12s\n", "issue's figures 0x6000", "0.95 M", "1.86 M",
           "-", "4.16?", "4.16?", "-", "-");
    /* ESP-IDF v6.0.2's NVS replaying this exact sequence (--dump-ops) on the same RAM flash model;
     * measured 2026-11-21, see docs/nvs-runtime.md. Only valid for the default sets/gets/seed. */
    const bool dflt = nsets == 100000 && ngets == 1000000 && seed == 1;
    static const struct { const char *label, *sets, *gets; double bps, wa, wakv, epk; const char *wear;
                          uint64_t bytes, erases; } idf[2] = {
        {"ESP-IDF replay 0x6000", "1.02 M", "1.52 M", 74.8, 9.42, 4.02, 15.31, "253/258", 7477904, 1531},
        {"ESP-IDF replay 0x100000", "0.10 M", "0.095 M", 59.0, 7.44, 3.18, 9.37, "0/4", 5904140, 937},
    };
    for (int i = 0; i < 2; i++) {
        char label[32], wear[32];
        if (dflt)
            printf("%-24s %10s %10s %8.1f %8.2f %8.2f %10.2f %12s\n", idf[i].label, idf[i].sets,
                   idf[i].gets, idf[i].bps, idf[i].wa, idf[i].wakv, idf[i].epk, idf[i].wear);
        snprintf(label, sizeof label, "espforge 0x%x", sizes[i]);
        snprintf(wear, sizeof wear, "%u/%u", res[i].wear_min, res[i].wear_max);
        printf("%-24s %8.2f M %8.2f M %8.1f %8.2f %8.2f %10.2f %12s\n", label,
               res[i].sets_per_s / 1e6, res[i].gets_per_s / 1e6, res[i].bytes_per_set, res[i].wa,
               res[i].wa_kv, res[i].erases_per_k, wear);
    }
    for (int i = 0; i < 2; i++) {
        printf("totals 0x%x: %" PRIu64 " bytes programmed in %" PRIu64 " program operations, %" PRIu64
               " erases", sizes[i], res[i].bytes, res[i].programs, res[i].erases);
        if (dflt)
            printf(" (ESP-IDF replay: %" PRIu64 " bytes, %" PRIu64 " erases; ratio %.3f, %.3f)",
                   idf[i].bytes, idf[i].erases, (double)res[i].bytes / (double)idf[i].bytes,
                   (double)res[i].erases / (double)idf[i].erases);
        printf("\n");
    }
    printf("ratio vs reference figures (0x6000): sets %.2fx, gets %.2fx of the issue's 0.95 M / 1.86 M "
           "(CPU time of this process)\n", res[0].sets_per_s / 0.95e6, res[0].gets_per_s / 1.86e6);
    if (dflt)
        printf("ratio vs ESP-IDF replay: sets %.2fx / %.2fx, gets %.2fx / %.2fx (0x6000 / 1 MiB)\n",
               res[0].sets_per_s / 1.02e6, res[1].sets_per_s / 0.10e6, res[0].gets_per_s / 1.52e6,
               res[1].gets_per_s / 0.095e6);
    printf("WA = bytes programmed / value bytes set; WA(k+v) counts key bytes as payload too (the "
           "issue's definition is not stated: '?'; its 4.16 matches WA(k+v) best)\n");
    return 0;
}
