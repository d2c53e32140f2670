/* Interop between the reference generator's images (tests/data/nvs, esp-idf-nvs-partition-gen
 * 0.2.0) and the NVS runtime:
 *  1. every generator image loads in the runtime (read-only, and writable when it has a free
 *     page), and every value reads back equal to the generator's INPUT, derived here from the
 *     case's input.csv with the generator's documented rules (nvs-generator.md §3.2, §5.6, §5.8);
 *     the runtime lists exactly these keys (v1 blobs excepted: nvs_entry_find never lists them);
 *  2. runtime writes on top of each generator image (set a new key, replace a value of another
 *     type, erase a key) reload with every other value intact;
 *  3. the encrypted vector (n21) does the same with its keys file. */
#include "esf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/csv.h"
#include "espforge/io.h"
#include "espforge/nvs.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_page.h"

enum { K_PRIM, K_STR, K_BLOB };

typedef struct expv {
    char ns[16], key[16];
    int kind;
    uint8_t type;       /* K_PRIM: type code */
    uint64_t raw;       /* K_PRIM: zero-extended bits */
    uint8_t *data;      /* K_STR (as stored, NUL included unless the STRING quirk) / K_BLOB */
    size_t len;
    size_t check_len;   /* bytes of data compared (ap.pmk_info: the 100-byte zero prefix only) */
} expv;

typedef struct model {
    expv *v;
    size_t n;
    char ns[256][16];
    size_t nns;
    bool sta_extras_done;
    char ap_ssid[64], ap_pass[128];
    bool have_ssid, have_pass, have_auth;
} model;

static void model_put(model *m, const char *ns, const char *key, int kind, uint8_t type,
                      uint64_t raw, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < m->n; i++)  /* a later row of the same key wins (it is erased at load
                                          on the same page; the vectors keep duplicates there) */
        if (!strcmp(m->v[i].ns, ns) && !strcmp(m->v[i].key, key)) {
            free(m->v[i].data);
            m->v[i] = m->v[--m->n];
            break;
        }
    m->v = realloc(m->v, (m->n + 1) * sizeof *m->v);
    expv *e = &m->v[m->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->ns, sizeof e->ns, "%s", ns);
    snprintf(e->key, sizeof e->key, "%s", key);
    e->kind = kind;
    e->type = type;
    e->raw = raw;
    if (kind != K_PRIM) {
        e->data = malloc(len + 1);
        memcpy(e->data, data, len);
        e->len = e->check_len = len;
    }
}

static void model_free(model *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].data);
    free(m->v);
}

static int hexv(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Python binascii.unhexlify of the stripped text. */
static size_t unhex(const char *t, size_t n, uint8_t *out)
{
    while (n && (t[0] == ' ' || t[0] == '\n' || t[0] == '\r' || t[0] == '\t'))
        t++, n--;
    while (n && (t[n - 1] == ' ' || t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == '\t'))
        n--;
    assert_int_equal(n % 2, 0);
    for (size_t i = 0; i < n / 2; i++) {
        int a = hexv((unsigned char)t[2 * i]), b = hexv((unsigned char)t[2 * i + 1]);
        assert_true(a >= 0 && b >= 0);
        out[i] = (uint8_t)(a * 16 + b);
    }
    return n / 2;
}

/* Python int(text) (base 10, surrounding whitespace, sign, underscores). */
static bool py_int10(const char *t, size_t n, bool *neg, uint64_t *mag)
{
    char buf[64];
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof buf; i++)
        if (t[i] != '_' && t[i] != ' ')
            buf[k++] = t[i];
    buf[k] = '\0';
    const char *p = buf;
    *neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    char *end;
    *mag = strtoull(p, &end, 10);
    return *p && !*end;
}

static const struct { const char *enc; uint8_t type; } prims[] = {
    { "u8", ESF_NVS_TYPE_U8 }, { "i8", ESF_NVS_TYPE_I8 }, { "u16", ESF_NVS_TYPE_U16 },
    { "i16", ESF_NVS_TYPE_I16 }, { "u32", ESF_NVS_TYPE_U32 }, { "i32", ESF_NVS_TYPE_I32 },
    { "u64", ESF_NVS_TYPE_U64 }, { "i64", ESF_NVS_TYPE_I64 },
};

static void model_row(model *m, const char *dir, const char *key, const char *type,
                      const char *enc, const char *val, size_t vlen)
{
    if (!strcmp(type, "namespace")) {
        for (size_t i = 0; i < m->nns; i++)
            if (!strcmp(m->ns[i], key))
                return;  /* seen before: nothing written, rows keep the newest namespace */
        snprintf(m->ns[m->nns++], 16, "%s", key);
        return;
    }
    if (m->nns == 0)
        return;  /* namespace index 0: lands in the namespace table (n18 "orphan") */
    const char *ns = m->ns[m->nns - 1];  /* 0.2.0: the most recently CREATED namespace (§5.6) */
    uint8_t *file = NULL;
    size_t flen = 0;
    bool is_sta = !strncmp(key, "sta.ssid", 9) || !strcmp(key, "sta.pswd");
    if (!strcmp(type, "file") && !is_sta) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, val);
        esf_error err = { 0 };
        if (esf_file_read(path, &file, &flen, &err) < 0)
            fail_msg("%s", err.msg);
        val = (const char *)file;
        vlen = flen;
    }
    /* ap.pmk_info (§5.8): once ssid, passwd and a non-zero authmode are known, before each ap.*
     * row; 100 zero bytes + PBKDF2 (only the zero prefix and the size are checked here) */
    if (!strcmp(key, "ap.ssid"))
        snprintf(m->ap_ssid, sizeof m->ap_ssid, "%s", val), m->have_ssid = true;
    if (!strcmp(key, "ap.passwd"))
        snprintf(m->ap_pass, sizeof m->ap_pass, "%s", val), m->have_pass = true;
    if (!strcmp(key, "ap.authmode") && strcmp(val, "0"))
        m->have_auth = true;
    if (m->have_ssid && m->have_pass && m->have_auth && !strncmp(key, "ap.", 3)) {
        uint8_t z[132] = { 0 };
        model_put(m, ns, "ap.pmk_info", K_BLOB, 0, 0, z, sizeof z);
        m->v[m->n - 1].check_len = 100;
    }
    uint8_t *buf = malloc(vlen + 8 + 600);
    size_t n = 0;
    unsigned fill = 0, pad = 0;
    char fname[16];
    if (sscanf(enc, "%15[a-z_](%u;0x%x)", fname, &fill, &pad) == 3 &&
        (!strcmp(fname, "blob_fill") || !strcmp(fname, "blob_sz_fill"))) {
        if (!strcmp(fname, "blob_sz_fill")) {
            buf[0] = (uint8_t)vlen, buf[1] = (uint8_t)(vlen >> 8), buf[2] = buf[3] = 0;
            n = 4;
        }
        memcpy(buf + n, val, vlen);
        memset(buf + n + vlen, (int)pad, fill - vlen);
        model_put(m, ns, key, K_BLOB, 0, 0, buf, n + fill);
    } else if (!strcmp(enc, "hex2bin")) {
        model_put(m, ns, key, K_BLOB, 0, 0, buf, unhex(val, vlen, buf));
    } else if (!strcmp(enc, "base64")) {
        model_put(m, ns, key, K_BLOB, 0, 0, buf, esf_test_base64_decode(val, vlen, buf));
    } else if (!strcmp(enc, "string")) {
        memcpy(buf, val, vlen);
        buf[vlen] = 0;
        model_put(m, ns, key, K_STR, 0, 0, buf, vlen + 1);
    } else {
        char low[32];
        size_t i = 0;
        for (; enc[i] && i < sizeof low - 1; i++)
            low[i] = (char)(enc[i] >= 'A' && enc[i] <= 'Z' ? enc[i] + 32 : enc[i]);
        low[i] = '\0';
        if (!strcmp(low, "string")) {  /* STRING: stored without its NUL (quirk) */
            model_put(m, ns, key, K_STR, 0, 0, (const uint8_t *)val, vlen);
        } else if (!strcmp(low, "binary") || !strcmp(low, "hex2bin") || !strcmp(low, "base64")) {
            model_put(m, ns, key, K_BLOB, 0, 0, (const uint8_t *)val, vlen);  /* raw text */
        } else {
            size_t p = 0;
            while (p < ARRAY_LEN(prims) && strcmp(prims[p].enc, low))
                p++;
            if (p == ARRAY_LEN(prims))
                fail_msg("encoding %s not modelled", enc);
            bool neg;
            uint64_t mag;
            assert_true(py_int10(val, vlen, &neg, &mag));
            uint64_t raw = neg ? (uint64_t)0 - mag : mag;
            unsigned width = esf_nvs_type_size(prims[p].type);
            if (width < 8)
                raw &= (1ull << (8 * width)) - 1;
            model_put(m, ns, key, K_PRIM, prims[p].type, raw, NULL, 0);
        }
    }
    if (is_sta && !m->sta_extras_done) {  /* §5.8: three extra blobs after the first sta.* row */
        uint8_t ff[140], zero[32] = { 0 };
        memset(ff, 0xFF, sizeof ff);
        model_put(m, ns, "sta.apinfo", K_BLOB, 0, 0, ff, 140);
        model_put(m, ns, "sta.pmk", K_BLOB, 0, 0, zero, 32);
        model_put(m, ns, "sta.apsw", K_BLOB, 0, 0, zero, 2);
        m->sta_extras_done = true;
    }
    free(buf);
    free(file);
}

static void model_load(model *m, const char *name)
{
    memset(m, 0, sizeof *m);
    char rel[256], dir[4096];
    snprintf(rel, sizeof rel, "nvs/%s/input.csv", name);
    size_t len = 0;
    char *text = (char *)esf_test_read(rel, &len);
    snprintf(dir, sizeof dir, "%s", esf_test_path(rel));
    *strrchr(dir, '/') = '\0';
    esf_csv *r = NULL;
    esf_csv_opts co = { .skip_hash_lines = true };
    esf_error err = { 0 };
    assert_int_equal(esf_csv_open_mem(&r, text, len, rel, &co, &err), ESF_OK);
    esf_csv_row row;
    int col[4] = { -1, -1, -1, -1 };
    static const char *const names[4] = { "key", "type", "encoding", "value" };
    bool header = true;
    while (esf_csv_next(r, &row, &err) == 1) {
        if (row.nfields == 0)
            continue;
        if (header) {
            for (size_t i = 0; i < row.nfields; i++)
                for (int c = 0; c < 4; c++)
                    if (!strcmp(row.fields[i].text, names[c]))
                        col[c] = (int)i;
            header = false;
            continue;
        }
        const char *f[4];
        size_t fl[4];
        for (int c = 0; c < 4; c++) {
            bool have = col[c] >= 0 && (size_t)col[c] < row.nfields;
            f[c] = have ? row.fields[col[c]].text : "";
            fl[c] = have ? row.fields[col[c]].len : 0;
        }
        model_row(m, dir, f[0], f[1], f[2], f[3], fl[3]);
    }
    esf_csv_free(r);
    free(text);
}

/* Check every modelled value through the runtime, and that it lists exactly these keys. */
static void check_model(esf_nvs *nvs, const model *m, bool v1, const char *name)
{
    esf_error err = { 0 };
    size_t listable = 0;
    for (size_t i = 0; i < m->n; i++) {
        const expv *e = &m->v[i];
        esf_nvs_handle *h = NULL;
        if (esf_nvs_open(nvs, e->ns, ESF_NVS_READONLY, &h, &err) != ESF_OK)
            fail_msg("%s: namespace %s: %s", name, e->ns, err.msg);
        int rc;
        if (e->kind == K_PRIM) {
            uint64_t raw = ~e->raw;
            rc = esf_nvs_get_prim(h, e->key, e->type, &raw);
            if (rc != ESF_OK || raw != e->raw)
                fail_msg("%s: %s/%s: rc %d, 0x%llx want 0x%llx", name, e->ns, e->key, rc,
                         (unsigned long long)raw, (unsigned long long)e->raw);
        } else {
            size_t len = 0;
            rc = e->kind == K_STR ? esf_nvs_get_str(h, e->key, NULL, &len)
                                  : esf_nvs_get_blob(h, e->key, NULL, &len);
            if (rc != ESF_OK || len != e->len)
                fail_msg("%s: %s/%s: rc %d, size %zu want %zu", name, e->ns, e->key, rc, len,
                         e->len);
            uint8_t *buf = malloc(len + 1);
            rc = e->kind == K_STR ? esf_nvs_get_str(h, e->key, (char *)buf, &len)
                                  : esf_nvs_get_blob(h, e->key, buf, &len);
            if (rc != ESF_OK || memcmp(buf, e->data, e->check_len))
                fail_msg("%s: %s/%s: value differs from the generator's input", name, e->ns,
                         e->key);
            free(buf);
        }
        esf_nvs_close(h);
        listable += !(v1 && e->kind == K_BLOB);
    }
    size_t listed = 0;
    esf_nvs_iter *it = NULL;
    for (int rc = esf_nvs_entry_find(nvs, NULL, ESF_NVS_TYPE_ANY, &it); rc == ESF_OK;
         rc = esf_nvs_entry_next(&it)) {
        esf_nvs_info info;
        assert_int_equal(esf_nvs_entry_info(it, &info), ESF_OK);
        bool known = false;
        for (size_t i = 0; i < m->n && !known; i++)
            known = !strcmp(m->v[i].ns, info.namespace_name) && !strcmp(m->v[i].key, info.key);
        if (!known)
            fail_msg("%s: runtime lists %s/%s (type 0x%02x), not in the input", name,
                     info.namespace_name, info.key, info.type);
        listed++;
    }
    esf_nvs_release_iterator(it);
    if (listed != listable)
        fail_msg("%s: runtime lists %zu entries, the input has %zu", name, listed, listable);
}

static uint8_t *case_key(const char *name, uint8_t key[64])
{
    if (strcmp(name, "n21_encrypted_v2"))
        return NULL;
    size_t len = 0;
    uint8_t *k = esf_test_read("nvs/n21_encrypted_v2/keys.bin", &len);
    esf_error err = { 0 };
    assert_int_equal(esf_nvs_keys_parse(k, len, key, "keys.bin", &err), ESF_OK);
    free(k);
    return key;
}

/* A RAM flash and whole-device view holding the case's expected.bin; returns the image bytes. */
static uint8_t *case_flash(const char *name, esf_flash *f, esf_part *p, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "nvs/%s/expected.bin", name);
    uint8_t *img = esf_test_read(rel, len);
    esf_error err = { 0 };
    assert_int_equal(esf_flash_ram_init_from(f, (uint32_t)*len, img, *len, &err), ESF_OK);
    assert_int_equal(esf_part_init_whole(p, f, "nvs", &err), ESF_OK);
    return img;
}

static void test_generator_images_read(void **state)
{
    (void)state;
    size_t values = 0;
    for (size_t c = 0; c < esf_test_nvs_vector_count; c++) {
        model m;
        model_load(&m, esf_test_nvs_vectors[c]);
        size_t len = 0;
        uint8_t kb[64];
        esf_nvs_options o = { .read_only = true, .xts_key = case_key(esf_test_nvs_vectors[c], kb) };
        esf_flash f;
        esf_part p;
        esf_nvs *nvs = NULL;
        esf_error err = { 0 };
        uint8_t *img = case_flash(esf_test_nvs_vectors[c], &f, &p, &len);
        if (esf_nvs_init(&nvs, &p, &o, &err) != ESF_OK)
            fail_msg("%s: %s", esf_test_nvs_vectors[c], err.msg);
        check_model(nvs, &m, img[8] == ESF_NVS_VERSION_1, esf_test_nvs_vectors[c]);
        esf_nvs_deinit(nvs);
        /* read-only load wrote nothing */
        assert_memory_equal(esf_flash_ram_data(&f), img, len);
        values += m.n;
        esf_flash_close(&f);
        free(img);
        model_free(&m);
    }
    print_message("%zu images, %zu values read back equal to the generator's input\n",
                  esf_test_nvs_vector_count, values);
    assert_true(values > 400);
}

static void test_generator_images_write(void **state)
{
    (void)state;
    size_t edited = 0;
    for (size_t c = 0; c < esf_test_nvs_vector_count; c++) {
        model m;
        model_load(&m, esf_test_nvs_vectors[c]);
        size_t len = 0;
        uint8_t kb[64];
        esf_nvs_options o = { .xts_key = case_key(esf_test_nvs_vectors[c], kb) };
        esf_flash f;
        esf_part p;
        esf_nvs *nvs = NULL;
        esf_error err = { 0 };
        uint8_t *img = case_flash(esf_test_nvs_vectors[c], &f, &p, &len);
        int rc = esf_nvs_init(&nvs, &p, &o, &err);
        if (len < 3 * 4096) {  /* one-page read-only images: no free page to write with */
            assert_int_equal(rc, ESF_ERR_NO_SPACE);
            goto next;
        }
        if (rc != ESF_OK)
            fail_msg("%s: writable load: %s", esf_test_nvs_vectors[c], err.msg);
        char ns[16];
        memcpy(ns, m.v[0].ns, sizeof ns);
        esf_nvs_handle *h = NULL;
        assert_int_equal(esf_nvs_open(nvs, ns, ESF_NVS_READWRITE, &h, &err), ESF_OK);
        /* a new key, a value replaced by another type, an erased key */
        assert_int_equal(esf_nvs_set_str(h, "espforge_new", "written by the runtime"), ESF_OK);
        expv first = m.v[0];
        first.data = NULL;
        assert_int_equal(esf_nvs_set_u32(h, first.key, 0xC0FFEE), ESF_OK);
        size_t j = 1;  /* another key of the same namespace */
        while (j < m.n && strcmp(m.v[j].ns, ns))
            j++;
        if (j < m.n && esf_nvs_erase_key(h, m.v[j].key) != ESF_OK)
            fail_msg("%s: erase %s/%s", esf_test_nvs_vectors[c], ns, m.v[j].key);
        esf_nvs_close(h);
        esf_nvs_deinit(nvs);
        nvs = NULL;
        bool erased = j < m.n;
        char erased_key[16] = "";
        if (erased)
            memcpy(erased_key, m.v[j].key, sizeof erased_key);
        model_put(&m, ns, first.key, K_PRIM, ESF_NVS_TYPE_U32, 0xC0FFEE, NULL, 0);
        model_put(&m, ns, "espforge_new", K_STR, 0, 0, (const uint8_t *)"written by the runtime",
                  23);
        for (size_t i = 0; erased && i < m.n; i++)
            if (!strcmp(m.v[i].ns, ns) && !strcmp(m.v[i].key, erased_key)) {
                free(m.v[i].data);
                m.v[i] = m.v[--m.n];
                break;
            }
        /* reload from the flash bytes: a fresh load sees exactly the model */
        if (esf_nvs_init(&nvs, &p, &o, &err) != ESF_OK)
            fail_msg("%s: reload: %s", esf_test_nvs_vectors[c], err.msg);
        check_model(nvs, &m, img[8] == ESF_NVS_VERSION_1, esf_test_nvs_vectors[c]);
        edited++;
    next:
        esf_nvs_deinit(nvs);
        esf_flash_close(&f);
        free(img);
        model_free(&m);
    }
    print_message("%zu generator images edited by the runtime and re-read\n", edited);
    assert_int_equal(edited, esf_test_nvs_vector_count - 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generator_images_read),
        cmocka_unit_test(test_generator_images_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
