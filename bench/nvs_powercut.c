/* Power-loss sweep of the NVS runtime (nvs-runtime.md §9.3).
 *
 *   nvs_powercut --size N --ops N --seed N [--torn] [--encrypted] [--purge] [--no-double]
 *                [--image-out FILE]
 *
 * Replays a fixed seeded workload (integers of every width, strings, single- and multi-chunk
 * blobs, erases, namespace erase-all, commits, over 3 namespaces) on a RAM flash, recording every
 * flash operation. Then, for EVERY flash operation k, it builds the image as it was when op k was
 * issued, cuts power at k (with --torn the cut operation is torn: a program lands a random prefix,
 * an erase leaves random bits), re-initialises from that image and checks:
 *   - init succeeds (else init_failures);
 *   - every value committed before the interrupted call reads back exactly, type included (else
 *     lost);
 *   - the key(s) of the interrupted call read as their old or their new value, never anything
 *     else, never absent when a set was interrupted on a key that had a value (else torn);
 *   - a key whose erase completed (or that never existed) is absent (else resurrected);
 *   - a write succeeds afterwards (else init_failures);
 *   - a second cut at every operation of the recovery itself (torn too with --torn), followed by
 *     one more init, keeps all of the above.
 * --encrypted runs everything on an XTS-encrypted NVS (fixed test key); --purge opens the handles
 * in NVS_READWRITE_PURGE mode (erased entries are zero-filled).
 * Images are rebuilt from the operation log, so nothing is replayed from scratch per cut.
 * Prints `cuts=N lost=N torn=N resurrected=N init_failures=N` (cuts = cut points of the workload;
 * recovery cut points go to stderr) and exits 1 if any count but cuts is non-zero.
 * --image-out FILE saves the image after the whole workload (for `espforge nvs check`). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "espforge/flash.h"
#include "espforge/io.h"
#include "espforge/nvs.h"
#include "espforge/partition.h"

#define NS_COUNT 3
#define KEYS_PER_NS 8
#define SLOTS (NS_COUNT * KEYS_PER_NS)

static const char *const ns_names[NS_COUNT] = {"alpha", "beta", "gamma"};
static const uint8_t int_types[] = {0x01, 0x11, 0x02, 0x12, 0x04, 0x14, 0x08, 0x18};

/* ---- seeded generator (splitmix64) */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static uint32_t rng_below(uint64_t *s, uint32_t n) { return (uint32_t)(rng_next(s) % n); }

/* ---- workload */
enum op_kind { OP_SET, OP_ERASE, OP_ERASE_ALL, OP_COMMIT };

typedef struct value {
    uint8_t type;   /* 0 = absent; prim code; 0x21 string; 0x42 blob */
    size_t len;     /* bytes (prim: 8, raw LE; string: with NUL) */
    uint8_t *data;
} value;

typedef struct op {
    enum op_kind kind;
    int slot;       /* OP_SET / OP_ERASE */
    int ns;         /* OP_ERASE_ALL / OP_COMMIT */
    value v;        /* OP_SET */
    int rc;         /* result in the reference run */
} op;

static void make_workload(op *ops, int n, uint64_t seed, uint32_t size)
{
    uint64_t r = seed;
    size_t big_max = (size_t)(size / 4096 - 3) * 2000;  /* multi-chunk blobs, 2+ chunks */
    if (big_max < 4200)
        big_max = 4200;
    for (int i = 0; i < n; i++) {
        op *o = &ops[i];
        memset(o, 0, sizeof *o);
        uint32_t x = rng_below(&r, 100);
        o->slot = (int)rng_below(&r, SLOTS);
        o->ns = o->slot / KEYS_PER_NS;
        if (x < 60) {
            o->kind = OP_SET;
            uint32_t y = rng_below(&r, 100);
            int key = o->slot % KEYS_PER_NS;
            if (key == 7 && y < 50) {  /* the "big" keys: multi-chunk blobs */
                o->v.type = 0x42;
                o->v.len = 4001 + rng_below(&r, (uint32_t)(big_max - 4000));
            } else if (y < 50) {
                o->v.type = int_types[rng_below(&r, sizeof int_types)];
                o->v.len = 8;
            } else if (y < 75) {
                o->v.type = 0x21;
                o->v.len = 1 + rng_below(&r, y < 70 ? 60 : 700);
            } else {
                o->v.type = 0x42;
                o->v.len = rng_below(&r, y < 95 ? 100 : 1500);
            }
            o->v.data = malloc(o->v.len ? o->v.len : 1);
            for (size_t b = 0; b < o->v.len; b++)
                o->v.data[b] = (uint8_t)rng_next(&r);
            if (o->v.type == 0x21) {
                for (size_t b = 0; b + 1 < o->v.len; b++)
                    o->v.data[b] = (uint8_t)(' ' + o->v.data[b] % 94);
                o->v.data[o->v.len - 1] = 0;
            } else if (o->v.type != 0x42) {
                unsigned w = o->v.type & 0x0F;
                memset(o->v.data + w, 0, 8 - w);  /* raw value: type width, zero-extended */
            }
        } else if (x < 85) {
            o->kind = OP_ERASE;
        } else if (x < 88) {
            o->kind = OP_ERASE_ALL;
        } else {
            o->kind = OP_COMMIT;
        }
    }
}

static void slot_key(int slot, char key[16])
{
    snprintf(key, 16, "key_%d_%d", slot / KEYS_PER_NS, slot % KEYS_PER_NS);
}

static uint64_t raw_of(const value *v)
{
    uint64_t x = 0;
    for (int b = 7; b >= 0; b--)
        x = x << 8 | v->data[b];
    return x;
}

/* Run op `o` against the open handles. */
static int run_op(esf_nvs_handle **h, const op *o)
{
    char key[16];
    slot_key(o->slot, key);
    esf_nvs_handle *hh = h[o->ns];
    switch (o->kind) {
    case OP_SET:
        if (o->v.type == 0x21)
            return esf_nvs_set_str(hh, key, (const char *)o->v.data);
        if (o->v.type == 0x42)
            return esf_nvs_set_blob(hh, key, o->v.data, o->v.len);
        return esf_nvs_set_prim(hh, key, o->v.type, raw_of(&o->v));
    case OP_ERASE:
        return esf_nvs_erase_key(hh, key);
    case OP_ERASE_ALL:
        return esf_nvs_erase_all(hh);
    case OP_COMMIT:
        return esf_nvs_commit(hh);
    }
    return ESF_ERR_INTERNAL;
}

/* ---- recording flash: logs every program/erase issued to the device */
typedef struct rec_op {
    uint8_t erase;
    uint32_t addr;   /* byte address (erase: sector index) */
    uint32_t len;
    size_t data;     /* offset into the data log */
} rec_op;

typedef struct recorder {
    esf_flash *inner;
    rec_op *ops;
    size_t nops, cap;
    uint8_t *bytes;
    size_t nbytes, bcap;
} recorder;

static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 1024;
    while (c < need)
        c *= 2;
    void *np = realloc(p, c * elem);
    if (!np) {
        fprintf(stderr, "nvs_powercut: out of memory\n");
        exit(2);
    }
    *cap = c;
    return np;
}

static int rec_read(esf_flash *f, uint32_t addr, void *buf, size_t len)
{
    recorder *r = f->ctx;
    return esf_flash_read(r->inner, addr, buf, len);
}

static int rec_program(esf_flash *f, uint32_t addr, const void *buf, size_t len)
{
    recorder *r = f->ctx;
    r->ops = grow(r->ops, &r->cap, r->nops + 1, sizeof *r->ops);
    r->bytes = grow(r->bytes, &r->bcap, r->nbytes + len, 1);
    memcpy(r->bytes + r->nbytes, buf, len);
    r->ops[r->nops++] = (rec_op){0, addr, (uint32_t)len, r->nbytes};
    r->nbytes += len;
    return esf_flash_program(r->inner, addr, buf, len);
}

static int rec_erase(esf_flash *f, uint32_t sector)
{
    recorder *r = f->ctx;
    r->ops = grow(r->ops, &r->cap, r->nops + 1, sizeof *r->ops);
    r->ops[r->nops++] = (rec_op){1, sector, 0, 0};
    return esf_flash_erase(r->inner, sector);
}

static void apply_op(uint8_t *img, const recorder *r, size_t k)
{
    const rec_op *o = &r->ops[k];
    if (o->erase) {
        memset(img + (size_t)o->addr * ESF_SECTOR_SIZE, 0xFF, ESF_SECTOR_SIZE);
        return;
    }
    for (uint32_t i = 0; i < o->len; i++)
        img[o->addr + i] &= r->bytes[o->data + i];
}

/* Issue op k through `f` (a fault wrapper that cuts it). */
static void issue_op(esf_flash *f, const recorder *r, size_t k)
{
    const rec_op *o = &r->ops[k];
    if (o->erase)
        (void)esf_flash_erase(f, o->addr);
    else
        (void)esf_flash_program(f, o->addr, r->bytes + o->data, o->len);
}

/* ---- checking */
typedef struct counts {
    uint64_t cuts, recovery_cuts, lost, torn, resurrected, init_failures;
} counts;

typedef struct sweep {
    uint32_t size;
    bool torn;
    bool double_cut;
    value model[SLOTS];
    const op *inflight;  /* the interrupted API call, or NULL */
    counts c;
    bool verbose;
    size_t where;        /* cut point being checked (for messages) */
    int nested;          /* recovery cut point being checked, -1 = none */
    esf_nvs_options opt; /* --encrypted: the XTS key */
    uint8_t *dump;       /* image before the checking init (NVS_POWERCUT_DUMP=file saves it) */
} sweep;

static bool same_value(const value *a, const value *b)
{
    if (a->type != b->type)
        return false;
    if (a->type == 0)
        return true;
    return a->len == b->len && memcmp(a->data, b->data, a->len) == 0;
}

/* Read slot `slot` through handle h (NULL = namespace absent) into `out` (data malloc'd). */
static void read_slot(esf_nvs_handle *h, int slot, value *out)
{
    char key[16];
    slot_key(slot, key);
    memset(out, 0, sizeof *out);
    uint8_t t;
    if (!h || esf_nvs_find_key(h, key, &t) != ESF_OK)
        return;
    out->type = 0xEE;  /* found but unreadable unless overwritten below */
    if (t == 0x21 || t == 0x42) {
        size_t len = 0;
        int rc = t == 0x21 ? esf_nvs_get_str(h, key, NULL, &len) : esf_nvs_get_blob(h, key, NULL, &len);
        if (rc != ESF_OK)
            return;
        out->data = malloc(len ? len : 1);
        rc = t == 0x21 ? esf_nvs_get_str(h, key, (char *)out->data, &len)
                       : esf_nvs_get_blob(h, key, out->data, &len);
        if (rc == ESF_OK) {
            out->type = t;
            out->len = len;
        }
        return;
    }
    uint64_t raw;
    if (esf_nvs_get_prim(h, key, t, &raw) != ESF_OK)
        return;
    out->type = t;
    out->len = 8;
    out->data = malloc(8);
    for (int b = 0; b < 8; b++)
        out->data[b] = (uint8_t)(raw >> (8 * b));
}

static bool affected(const op *o, int slot)
{
    if (!o)
        return false;
    if (o->kind == OP_SET || o->kind == OP_ERASE)
        return o->slot == slot;
    return o->kind == OP_ERASE_ALL && o->ns == slot / KEYS_PER_NS;
}

static void report(sweep *sw, const char *what, int slot)
{
    if (sw->verbose)
        fprintf(stderr, "cut %zu: %s slot %d (op kind %d)\n", sw->where, what, slot,
                sw->inflight ? (int)sw->inflight->kind : -1);
}

/* Init on `ram`, check every slot, then one write. */
static void verify(sweep *sw, esf_flash *ram)
{
    esf_part part;
    esf_nvs *s = NULL;
    esf_error err;
    esf_part_init_whole(&part, ram, "nvs", NULL);
    if (getenv("NVS_POWERCUT_DUMP"))
        memcpy(sw->dump, esf_flash_ram_data(ram), sw->size);
    if (esf_nvs_init(&s, &part, &sw->opt, &err) != ESF_OK) {
        sw->c.init_failures++;
        if (sw->verbose)
            fprintf(stderr, "cut %zu: init: %s\n", sw->where, err.msg);
        return;
    }
    esf_nvs_handle *h[NS_COUNT] = {0};
    for (int n = 0; n < NS_COUNT; n++)
        esf_nvs_open(s, ns_names[n], ESF_NVS_READONLY, &h[n], NULL);
    for (int slot = 0; slot < SLOTS; slot++) {
        value got;
        read_slot(h[slot / KEYS_PER_NS], slot, &got);
        const value *old = &sw->model[slot];
        if (!affected(sw->inflight, slot)) {
            if (!same_value(&got, old)) {
                if (old->type == 0) {
                    sw->c.resurrected++;
                    report(sw, "resurrected", slot);
                } else {
                    sw->c.lost++;
                    report(sw, "lost", slot);
                }
            }
        } else {
            const op *o = sw->inflight;
            value absent = {0};
            const value *nv = o->kind == OP_SET ? &o->v : &absent;
            if (!same_value(&got, old) && !same_value(&got, nv)) {
                sw->c.torn++;
                report(sw, "torn", slot);
                if (sw->verbose)
                    fprintf(stderr, "  recovery cut %d: got type 0x%02x len %zu, old 0x%02x/%zu, "
                            "new 0x%02x/%zu\n", sw->nested, got.type, got.len, old->type,
                            old->len, nv->type, nv->len);
            }
        }
        free(got.data);
    }
    /* every key at most once (no duplicate live items), and no stray key */
    esf_nvs_iter *it = NULL;
    int seen[SLOTS] = {0};
    for (int rc = esf_nvs_entry_find(s, NULL, ESF_NVS_TYPE_ANY, &it); rc == ESF_OK;
         rc = esf_nvs_entry_next(&it)) {
        esf_nvs_info info;
        esf_nvs_entry_info(it, &info);
        int n = -1, k = -1;
        if (strcmp(info.namespace_name, "probe") == 0)
            continue;
        if (sscanf(info.key, "key_%d_%d", &n, &k) != 2 || n < 0 || n >= NS_COUNT || k < 0 ||
            k >= KEYS_PER_NS || seen[n * KEYS_PER_NS + k]++) {
            sw->c.resurrected++;
            report(sw, "duplicate or stray item", n * KEYS_PER_NS + k);
        }
    }
    esf_nvs_release_iterator(it);
    for (int n = 0; n < NS_COUNT; n++)
        esf_nvs_close(h[n]);
    /* a write must succeed after recovery */
    esf_nvs_handle *ph = NULL;
    int wrc = esf_nvs_open(s, "probe", ESF_NVS_READWRITE, &ph, &err);
    if (wrc == ESF_OK)
        wrc = esf_nvs_set_u8(ph, "p", 1);
    if (wrc != ESF_OK) {
        sw->c.init_failures++;
        if (sw->verbose)
            fprintf(stderr, "cut %zu (recovery cut %d): write after recovery failed: %s\n",
                    sw->where, sw->nested, esf_strerror(wrc));
        if (getenv("NVS_POWERCUT_DUMP")) {
            FILE *fo = fopen(getenv("NVS_POWERCUT_DUMP"), "wb");
            fwrite(sw->dump, 1, sw->size, fo);
            fclose(fo);
        }
    }
    esf_nvs_close(ph);
    esf_nvs_deinit(s);
}

/* Check the image `img` (power was just cut): plain recovery, then a cut at every recovery op. */
static void check_image(sweep *sw, const uint8_t *img, uint64_t seed)
{
    esf_flash ram, f;
    if (esf_flash_ram_init_from(&ram, sw->size, img, sw->size, NULL) != ESF_OK) {
        fprintf(stderr, "nvs_powercut: out of memory\n");
        exit(2);
    }
    esf_fault_plan never = {.cut_after_ops = UINT64_MAX};
    esf_flash_fault_wrap(&f, &ram, &never, NULL);
    esf_part part;
    esf_part_init_whole(&part, &f, "nvs", NULL);
    esf_nvs *s = NULL;
    uint64_t recovery_ops = 0;
    if (esf_nvs_init(&s, &part, &sw->opt, NULL) == ESF_OK)
        recovery_ops = esf_flash_fault_ops(&f);
    esf_nvs_deinit(s);
    esf_flash_close(&f);
    if (sw->verbose && recovery_ops > 8)
        fprintf(stderr, "cut %zu: %" PRIu64 " recovery ops\n", sw->where, recovery_ops);
    sw->nested = -1;
    verify(sw, &ram);
    esf_flash_close(&ram);
    if (!sw->double_cut)
        return;
    for (uint64_t r = 0; r < recovery_ops; r++) {
        sw->c.recovery_cuts++;
        esf_flash_ram_init_from(&ram, sw->size, img, sw->size, NULL);
        esf_fault_plan plan = {.cut_after_ops = r,
                               .tear = sw->torn ? ESF_TEAR_RANDOM : ESF_TEAR_NONE,
                               .seed = seed * 1000003u + r};
        esf_flash_fault_wrap(&f, &ram, &plan, NULL);
        esf_part_init_whole(&part, &f, "nvs", NULL);
        s = NULL;
        (void)esf_nvs_init(&s, &part, &sw->opt, NULL);  /* cut: fails */
        esf_nvs_deinit(s);
        esf_flash_close(&f);
        sw->nested = (int)r;
        verify(sw, &ram);
        esf_flash_close(&ram);
    }
}

static void model_apply(value *model, const op *o)
{
    if (o->rc != ESF_OK)
        return;
    if (o->kind == OP_SET) {
        free(model[o->slot].data);
        model[o->slot] = o->v;
        model[o->slot].data = malloc(o->v.len ? o->v.len : 1);
        memcpy(model[o->slot].data, o->v.data, o->v.len);
    } else if (o->kind == OP_ERASE) {
        free(model[o->slot].data);
        memset(&model[o->slot], 0, sizeof model[o->slot]);
    } else if (o->kind == OP_ERASE_ALL) {
        for (int k = 0; k < KEYS_PER_NS; k++) {
            value *v = &model[o->ns * KEYS_PER_NS + k];
            free(v->data);
            memset(v, 0, sizeof *v);
        }
    }
}

static void usage(void)
{
    fprintf(stderr, "usage: nvs_powercut --size N --ops N --seed N [--torn] [--encrypted] [--purge] "
                    "[--no-double] [--verbose] [--image-out FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint32_t size = 0x6000;
    int nops = 2000;
    uint64_t seed = 1;
    const char *image_out = NULL;
    bool encrypted = false, purge = false;
    uint8_t key[ESF_NVS_XTS_KEY_LEN];
    sweep sw = {.double_cut = true};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--size") && i + 1 < argc)
            size = (uint32_t)strtoul(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--ops") && i + 1 < argc)
            nops = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 0);
        else if (!strcmp(argv[i], "--torn"))
            sw.torn = true;
        else if (!strcmp(argv[i], "--encrypted"))
            encrypted = true;
        else if (!strcmp(argv[i], "--purge"))
            purge = true;
        else if (!strcmp(argv[i], "--no-double"))
            sw.double_cut = false;
        else if (!strcmp(argv[i], "--verbose"))
            sw.verbose = true;
        else if (!strcmp(argv[i], "--image-out") && i + 1 < argc)
            image_out = argv[++i];
        else
            usage();
    }
    if (size < 3 * 4096 || size % 4096 || nops <= 0)
        usage();
    sw.size = size;
    for (int i = 0; i < (int)sizeof key; i++)
        key[i] = (uint8_t)(i < 32 ? 0x11 * i : 0xA5 ^ i);
    if (encrypted)
        sw.opt.xts_key = key;
    sw.dump = malloc(size);
    clock_t t0 = clock();

    /* reference run, recording every flash operation and where each API call starts */
    op *ops = calloc((size_t)nops, sizeof *ops);
    size_t *op_start = calloc((size_t)nops + 1, sizeof *op_start);
    make_workload(ops, nops, seed, size);
    esf_flash ram, recf;
    recorder rec = {0};
    esf_flash_ram_init(&ram, size, NULL);
    rec.inner = &ram;
    recf = (esf_flash){.ctx = &rec, .read = rec_read, .program = rec_program, .erase = rec_erase,
                       .sector_size = ESF_SECTOR_SIZE, .size = size};
    esf_part part;
    esf_part_init_whole(&part, &recf, "nvs", NULL);
    esf_nvs *s = NULL;
    esf_error err;
    if (esf_nvs_init(&s, &part, &sw.opt, &err) != ESF_OK) {
        fprintf(stderr, "nvs_powercut: init: %s\n", err.msg);
        return 2;
    }
    esf_nvs_handle *h[NS_COUNT];
    for (int n = 0; n < NS_COUNT; n++)
        if (esf_nvs_open(s, ns_names[n], purge ? ESF_NVS_READWRITE_PURGE : ESF_NVS_READWRITE,
                         &h[n], &err) != ESF_OK) {
            fprintf(stderr, "nvs_powercut: open: %s\n", err.msg);
            return 2;
        }
    int failed_ops = 0;
    for (int i = 0; i < nops; i++) {
        op_start[i] = rec.nops;
        ops[i].rc = run_op(h, &ops[i]);
        if (ops[i].rc != ESF_OK && !(ops[i].kind == OP_ERASE && ops[i].rc == ESF_ERR_NOT_FOUND)) {
            failed_ops++;
            if (ops[i].rc != ESF_ERR_NO_SPACE) {
                fprintf(stderr, "nvs_powercut: op %d failed in the reference run: %s\n", i,
                        esf_strerror(ops[i].rc));
                return 2;
            }
        }
    }
    op_start[nops] = rec.nops;
    for (int n = 0; n < NS_COUNT; n++)
        esf_nvs_close(h[n]);
    esf_nvs_deinit(s);
    esf_flash_close(&ram);

    /* the sweep */
    uint8_t *img = malloc(size), *cut = malloc(size);
    memset(img, 0xFF, size);
    int cur_op = -1;  /* API call containing the flash op being cut (-1: setup) */
    for (size_t k = 0; k < rec.nops; k++) {
        while (cur_op + 1 < nops && op_start[cur_op + 1] <= k) {
            if (cur_op >= 0)
                model_apply(sw.model, &ops[cur_op]);
            cur_op++;
        }
        sw.inflight = cur_op >= 0 ? &ops[cur_op] : NULL;
        sw.where = k;
        memcpy(cut, img, size);
        if (sw.torn) {
            esf_flash cr, cf;
            esf_flash_ram_init_from(&cr, size, img, size, NULL);
            esf_fault_plan plan = {.cut_after_ops = 0, .tear = ESF_TEAR_RANDOM, .seed = seed ^ k};
            esf_flash_fault_wrap(&cf, &cr, &plan, NULL);
            issue_op(&cf, &rec, k);
            memcpy(cut, esf_flash_ram_data(&cr), size);
            esf_flash_close(&cf);
            esf_flash_close(&cr);
        }
        sw.c.cuts++;
        check_image(&sw, cut, seed ^ (k << 20));
        apply_op(img, &rec, k);
    }
    /* after the last operation: nothing in flight */
    if (cur_op >= 0)
        model_apply(sw.model, &ops[cur_op]);
    sw.inflight = NULL;
    sw.where = rec.nops;
    check_image(&sw, img, seed);
    if (image_out && esf_file_write_atomic(image_out, img, size, NULL) != ESF_OK) {
        fprintf(stderr, "nvs_powercut: cannot write %s\n", image_out);
        return 2;
    }

    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    fprintf(stderr,
            "nvs_powercut: size 0x%x, %d ops (%d refused for space), %zu flash ops, %" PRIu64
            " recovery cut points, %s%s%s, %.2f s\n",
            size, nops, failed_ops, rec.nops, sw.c.recovery_cuts, sw.torn ? "torn" : "clean",
            encrypted ? ", encrypted" : "", purge ? ", purge" : "", secs);
    printf("cuts=%" PRIu64 " lost=%" PRIu64 " torn=%" PRIu64 " resurrected=%" PRIu64
           " init_failures=%" PRIu64 "\n",
           sw.c.cuts, sw.c.lost, sw.c.torn, sw.c.resurrected, sw.c.init_failures);
    for (int i = 0; i < nops; i++)
        free(ops[i].v.data);
    for (int i = 0; i < SLOTS; i++)
        free(sw.model[i].data);
    free(ops);
    free(op_start);
    free(img);
    free(cut);
    free(sw.dump);
    free(rec.ops);
    free(rec.bytes);
    return sw.c.lost || sw.c.torn || sw.c.resurrected || sw.c.init_failures ? 1 : 0;
}
