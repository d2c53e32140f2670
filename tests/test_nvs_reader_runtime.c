/* The reader on images the NVS runtime wrote: a deterministic workload of sets (every integer
 * width, strings, blobs up to several pages), overwrites with other types, erases and purges over
 * three namespaces, with garbage collection. After every 40 operations the flash bytes are read
 * with esf_nvs_image_parse: the values are exactly the workload's model, and the checker finds
 * neither errors nor warnings. Plain and encrypted (same keys for runtime and reader). At the end
 * the image's generator CSV, generated again, holds the same values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esf_test.h"
#include "espforge/flash.h"
#include "espforge/nvs.h"
#include "espforge/nvs_check.h"
#include "espforge/nvs_dump.h"
#include "espforge/nvs_gen.h"
#include "espforge/nvs_image.h"
#include "espforge/partition.h"

#define NKEYS 12
#define SIZE 0x8000u

typedef struct mval {
    bool set;
    esf_nvs_kind kind;
    uint8_t type;
    uint64_t num;
    uint8_t *data;
    size_t len;
} mval;

static const char *const nss[3] = { "alpha", "beta", "gamma" };
static const uint8_t int_types[] = { ESF_NVS_TYPE_U8, ESF_NVS_TYPE_I8, ESF_NVS_TYPE_U16,
                                     ESF_NVS_TYPE_I16, ESF_NVS_TYPE_U32, ESF_NVS_TYPE_I32,
                                     ESF_NVS_TYPE_U64, ESF_NVS_TYPE_I64 };

static uint32_t rnd(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* the value bits as the reader reports them: sign-extended for signed types */
static uint64_t norm(uint8_t type, uint64_t raw)
{
    unsigned w = esf_nvs_type_size(type);
    if (w < 8)
        raw &= (1ull << (8 * w)) - 1;
    if (esf_nvs_type_is_signed(type) && w < 8 && (raw >> (8 * w - 1)) & 1)
        raw |= ~0ull << (8 * w);
    return raw;
}

static void compare(const esf_nvs_image *img, mval model[3][NKEYS], const char *when)
{
    size_t n = 0;
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < NKEYS; k++) {
            char key[8];
            snprintf(key, sizeof key, "k%02d", k);
            const esf_nvs_value *v = esf_nvs_image_find(img, nss[s], key);
            const mval *m = &model[s][k];
            if (!m->set) {
                if (v)
                    fail_msg("%s: %s:%s read but erased", when, nss[s], key);
                continue;
            }
            n++;
            if (!v)
                fail_msg("%s: %s:%s missing", when, nss[s], key);
            if (v->kind != m->kind || (m->kind == ESF_NVS_KIND_INT && (v->type != m->type ||
                                                                       v->num != m->num)))
                fail_msg("%s: %s:%s differs (kind %d type %02x)", when, nss[s], key, v->kind,
                         v->type);
            if (m->kind != ESF_NVS_KIND_INT &&
                (v->len != m->len || (m->len && memcmp(v->data, m->data, m->len))))
                fail_msg("%s: %s:%s bytes differ (%zu, want %zu)", when, nss[s], key, v->len,
                         m->len);
        }
    if (n != img->nvalues)
        fail_msg("%s: %zu values read, model has %zu", when, img->nvalues, n);
}

static void run_workload(const uint8_t *key, unsigned *snapshots)
{
    esf_flash f;
    esf_part p;
    esf_nvs *nvs = NULL;
    esf_nvs_handle *h[3];
    esf_error err;
    mval model[3][NKEYS];
    uint64_t seed = key ? 99 : 7;
    uint8_t *buf = malloc(9000);
    memset(&f, 0, sizeof f);
    memset(model, 0, sizeof model);
    assert_int_equal(esf_flash_ram_init(&f, SIZE, &err), ESF_OK);
    assert_int_equal(esf_part_init(&p, &f, 0, SIZE, "nvs", &err), ESF_OK);
    esf_nvs_options o = { .xts_key = key };
    assert_int_equal(esf_nvs_init(&nvs, &p, &o, &err), ESF_OK);
    for (int s = 0; s < 3; s++)
        assert_int_equal(esf_nvs_open(nvs, nss[s], s == 2 ? ESF_NVS_READWRITE_PURGE
                                                           : ESF_NVS_READWRITE, &h[s], &err),
                         ESF_OK);
    for (unsigned op = 1; op <= 600; op++) {
        int s = (int)(rnd(&seed) % 3), k = (int)(rnd(&seed) % NKEYS);
        char kname[8];
        snprintf(kname, sizeof kname, "k%02d", k);
        mval *m = &model[s][k];
        unsigned what = rnd(&seed) % 10;
        int rc;
        if (what < 2) {
            rc = esf_nvs_erase_key(h[s], kname);
            if (rc == ESF_OK || rc == ESF_ERR_NOT_FOUND) {
                assert_int_equal(rc == ESF_OK, m->set);
                m->set = false;
            } else {
                fail_msg("erase: %d", rc);
            }
        } else if (what < 6) {
            uint8_t t = int_types[rnd(&seed) % 8];
            uint64_t hi = rnd(&seed), lo = rnd(&seed); /* two statements: a fixed order */
            uint64_t raw = (hi << 32) | lo;
            rc = esf_nvs_set_prim(h[s], kname, t, raw);
            if (rc == ESF_OK) {
                m->set = true;
                m->kind = ESF_NVS_KIND_INT;
                m->type = t;
                m->num = norm(t, raw);
            }
        } else {
            bool str = what < 8;
            size_t cap = str ? 200 : 300;
            if (!str && rnd(&seed) % 4 == 0)
                cap = 9000;
            size_t len = rnd(&seed) % cap;
            for (size_t i = 0; i < len; i++)
                buf[i] = str ? (uint8_t)('a' + rnd(&seed) % 26) : (uint8_t)rnd(&seed);
            if (str) {
                buf[len] = 0;
                rc = esf_nvs_set_str(h[s], kname, (const char *)buf);
                len++;
            } else {
                rc = esf_nvs_set_blob(h[s], kname, buf, len);
            }
            if (rc == ESF_OK) {
                m->set = true;
                m->kind = str ? ESF_NVS_KIND_STR : ESF_NVS_KIND_BLOB;
                free(m->data);
                m->data = malloc(len ? len : 1);
                memcpy(m->data, buf, len);
                m->len = len;
            }
        }
        if (rc != ESF_OK && rc != ESF_ERR_NO_SPACE && rc != ESF_ERR_NOT_FOUND)
            fail_msg("op %u: rc %d %s", op, rc, err.msg);
        if (op % 40)
            continue;
        /* read the flash bytes as they are now */
        esf_nvs_image *img = NULL;
        char when[32];
        snprintf(when, sizeof when, "after op %u", op);
        assert_int_equal(esf_nvs_image_parse(&img, esf_flash_ram_data(&f), SIZE, key, &err),
                         ESF_OK);
        compare(img, model, when);
        esf_nvs_report rep = { 0 };
        assert_int_equal(esf_nvs_check(img, &rep, &err), ESF_OK);
        for (size_t i = 0; i < rep.count; i++)
            if (rep.items[i].severity != ESF_NVS_SEV_INFO)
                fail_msg("%s: page %d entry %d: %s", when, rep.items[i].page, rep.items[i].entry,
                         rep.items[i].msg);
        esf_nvs_report_free(&rep);
        (*snapshots)++;
        if (op == 600 && !key) {
            /* generator CSV of the runtime image -> generator -> the same values */
            char *csv = NULL;
            size_t csv_len = 0;
            FILE *mf = open_memstream(&csv, &csv_len);
            esf_nvs_dump_opts dopts = { ESF_NVS_DUMP_CSV, false };
            if (esf_nvs_dump(mf, img, &dopts, &err) != ESF_OK)
                fail_msg("CSV dump of the runtime image: %s", err.msg);
            fclose(mf);
            esf_nvs_gen_opts go = { .size = SIZE };
            esf_nvs_gen *g = NULL;
            uint8_t *out = malloc(SIZE);
            size_t olen;
            assert_int_equal(esf_nvs_gen_new(&g, &go, &err), ESF_OK);
            if (esf_nvs_gen_add_csv(g, csv, csv_len, "dump.csv", &err) != ESF_OK ||
                esf_nvs_gen_finish(g, out, &olen, &err) != ESF_OK)
                fail_msg("regenerating the dump: %s", err.msg);
            esf_nvs_gen_free(g);
            esf_nvs_image *again = NULL;
            assert_int_equal(esf_nvs_image_parse(&again, out, olen, NULL, &err), ESF_OK);
            compare(again, model, "regenerated from the dump");
            esf_nvs_image_free(again);
            free(out);
            free(csv);
        }
        esf_nvs_image_free(img);
    }
    for (int s = 0; s < 3; s++)
        esf_nvs_close(h[s]);
    esf_nvs_deinit(nvs);
    esf_flash_close(&f);
    for (int s = 0; s < 3; s++)
        for (int k = 0; k < NKEYS; k++)
            free(model[s][k].data);
    free(buf);
}

static void runtime_images_read_back(void **state)
{
    (void)state;
    uint8_t key[64];
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)(i * 37 + 11);
    unsigned snaps = 0;
    run_workload(NULL, &snaps);
    run_workload(key, &snaps);
    print_message("runtime images read back: %u snapshots\n", snaps);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(runtime_images_read_back) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
