/* The NVS generator API: rows without CSV text (mass production), reuse through reset, compat
 * warnings vs native refusals with places, encryption, size rules — checked against the
 * reference's vectors in tests/data/nvs. */
#include "esf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/nvs_crypt.h"
#include "espforge/nvs_gen.h"
#include "espforge/nvs_page.h"

typedef struct warns {
    int n;
    char last[512];
    uint32_t line, column;
} warns;

static void count_warn(void *ctx, const esf_error *w)
{
    warns *ws = ctx;
    ws->n++;
    snprintf(ws->last, sizeof ws->last, "%s", w->msg);
    ws->line = w->line;
    ws->column = w->column;
}

/* Generate a vector's input.csv with `opts` and compare with its expected.bin. */
static void check_vector(const char *dir, esf_nvs_gen_opts *o)
{
    char rel[256];
    size_t clen, elen, n;
    snprintf(rel, sizeof rel, "%s/input.csv", dir);
    uint8_t *csv = esf_test_read(rel, &clen);
    snprintf(rel, sizeof rel, "%s/expected.bin", dir);
    uint8_t *exp = esf_test_read(rel, &elen);
    esf_nvs_gen *g = NULL;
    esf_error err;
    assert_int_equal(esf_nvs_gen_new(&g, o, &err), ESF_OK);
    uint8_t *img = malloc(o->size);
    for (int round = 0; round < 3; round++) {  /* reset reuses the generator */
        if (esf_nvs_gen_add_csv(g, (const char *)csv, clen, "input.csv", &err) != ESF_OK)
            fail_msg("%s: %s:%u:%u: %s", dir, err.source, err.line, err.column, err.msg);
        assert_int_equal(esf_nvs_gen_finish(g, img, &n, &err), ESF_OK);
        assert_int_equal(n, elen);
        assert_memory_equal(img, exp, elen);
        esf_nvs_gen_reset(g);
    }
    esf_nvs_gen_free(g);
    free(img);
    free(csv);
    free(exp);
}

static void test_vectors_compat_and_native(void **state)
{
    (void)state;
    static const struct { const char *dir; uint64_t size; int version; bool native_ok; } v[] = {
        { "nvs/n01_primitives_v2", 0x3000, 2, true },
        { "nvs/n02_primitives_v1", 0x3000, 1, true },
        { "nvs/n03_strings_v2", 0x3000, 2, true },
        { "nvs/n05_string_max_v2", 0x4000, 2, true },
        { "nvs/n06_blobs_inline_v2", 0x3000, 2, true },
        { "nvs/n12_namespaces", 0x3000, 2, false },  /* re-selected namespaces: native differs */
        { "nvs/n13_page_boundaries_v2", 0x6000, 2, true },
        { "nvs/n16_blob_fill_v2", 0x3000, 2, true },
        { "nvs/n17_wifi_keys_v2", 0x3000, 2, true },
        { "nvs/n14_readonly_0x1000", 0x1000, 2, true },
        { "nvs/n18_quirks_v2", 0x3000, 2, false },
    };
    for (size_t i = 0; i < ARRAY_LEN(v); i++) {
        esf_nvs_gen_opts o = { .size = v[i].size, .version = v[i].version, .compat = true };
        check_vector(v[i].dir, &o);
        if (v[i].native_ok) {
            o.compat = false;
            check_vector(v[i].dir, &o);
        }
    }
}

/* The §14 example of nvs-format.md built row by row, as mass production does. */
static void test_rows_without_csv(void **state)
{
    (void)state;
    esf_nvs_gen_opts o = { .size = 0x3000 };
    esf_nvs_gen *g;
    assert_int_equal(esf_nvs_gen_new(&g, &o, NULL), ESF_OK);
    static const uint8_t mac[6] = { 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5 };
    const esf_nvs_row rows[] = {
        { .key = "wifi", .key_len = 4, .type = "namespace", .type_len = 9 },
        { .key = "chan", .key_len = 4, .type = "data", .type_len = 4, .encoding = "u8", .encoding_len = 2,
          .value = "6", .value_len = 1 },
        { .key = "name", .key_len = 4, .type = "data", .type_len = 4, .encoding = "string",
          .encoding_len = 6, .value = "esp", .value_len = 3 },
        { .key = "long", .key_len = 4, .type = "data", .type_len = 4, .encoding = "string",
          .encoding_len = 6, .value = "The quick brown fox jumps over the lazy dog", .value_len = 43 },
        { .key = "mac", .key_len = 3, .type = "file", .type_len = 4, .encoding = "binary",
          .encoding_len = 6, .value = (const char *)mac, .value_len = 6, .value_is_content = true },
    };
    for (size_t i = 0; i < ARRAY_LEN(rows); i++)
        assert_int_equal(esf_nvs_gen_add_row(g, &rows[i], NULL), ESF_OK);
    uint8_t img[0x3000];
    size_t n;
    assert_int_equal(esf_nvs_gen_finish(g, img, &n, NULL), ESF_OK);
    assert_int_equal(n, sizeof img);
    static const uint8_t head[16] = { 0xfe, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff,
                                      0xff, 0xff, 0xff, 0xff };
    assert_memory_equal(img, head, 16);
    static const uint8_t bm[4] = { 0xaa, 0xaa, 0xfa, 0xff };
    assert_memory_equal(img + 32, bm, 4);
    esf_nvs_item it;
    esf_nvs_item_decode(img + 0x120, &it);
    assert_int_equal(it.type, ESF_NVS_TYPE_BLOB_DATA);
    assert_int_equal(it.crc, 0xfef0b02bu);
    esf_nvs_item_decode(img + 0x160, &it);
    assert_int_equal(it.type, ESF_NVS_TYPE_BLOB_IDX);
    assert_int_equal(it.crc, 0xa0372921u);
    esf_nvs_item_decode(img + 0x0c0, &it);
    assert_int_equal(it.crc, 0x58bde27au);
    for (size_t i = 0x180; i < sizeof img; i++)
        if (img[i] != 0xFF)
            fail_msg("byte 0x%zx not 0xFF", i);
    esf_nvs_gen_free(g);
}

static int gen_csv(const char *text, esf_nvs_gen_opts *o, esf_error *err, uint8_t *img, size_t *n)
{
    esf_nvs_gen *g;
    int rc = esf_nvs_gen_new(&g, o, err);
    if (rc)
        return rc;
    rc = esf_nvs_gen_add_csv(g, text, strlen(text), "t.csv", err);
    if (!rc && img)
        rc = esf_nvs_gen_finish(g, img, n, err);
    esf_nvs_gen_free(g);
    return rc;
}

/* Each quirk: compat writes (and warns once), native refuses with the place. */
static void test_quirks_warn_or_refuse(void **state)
{
    (void)state;
    static const struct { const char *csv; int native_rc; uint32_t line, col; const char *word; } q[] = {
        { "key,type,encoding,value\nk,data,u8,1\n", ESF_ERR_UNSUPPORTED, 2, 1, "before any namespace" },
        { "key,type,encoding,value\nn,namespace,,\nk,data,u8,1\nk,data,u8,2\n", ESF_ERR_EXISTS, 4, 1,
          "duplicate key" },
        { "key,type,encoding,value\nn,namespace,,\nk,data,HEX2BIN,00\n", ESF_ERR_UNSUPPORTED, 3, 8,
          "lower case" },
        { "key,type,encoding,value\nn,namespace,,\nk,data,String,ab\n", ESF_ERR_UNSUPPORTED, 3, 8,
          "lower case" },
    };
    for (size_t i = 0; i < ARRAY_LEN(q); i++) {
        warns ws = { 0 };
        esf_nvs_gen_opts o = { .size = 0x3000, .compat = true, .warn = { count_warn, &ws } };
        esf_error err;
        uint8_t img[0x3000];
        size_t n;
        assert_int_equal(gen_csv(q[i].csv, &o, &err, img, &n), ESF_OK);
        if (ws.n != 1 || ws.line != q[i].line || !strstr(ws.last, q[i].word))
            fail_msg("case %zu: %d warnings, last %u: %s", i, ws.n, ws.line, ws.last);
        o.compat = false;
        int rc = gen_csv(q[i].csv, &o, &err, img, &n);
        if (rc != q[i].native_rc || err.line != q[i].line || err.column != q[i].col ||
            strcmp(err.source, "t.csv") || !strstr(err.msg, q[i].word))
            fail_msg("case %zu: rc %d at %u:%u: %s", i, rc, err.line, err.column, err.msg);
    }
}

/* The reference's InputErrors (the twin exits 254) and crash-class errors, with their text. */
static void test_errors(void **state)
{
    (void)state;
    static const struct { const char *csv; int version; int rc; const char *msg; uint32_t col; } e[] = {
        { "key,type,encoding,value\nabcdefghijklmnop,namespace,,\n", 2, ESF_ERR_INVALID,
          "Length of key `abcdefghijklmnop` should be <= 15 characters.", 1 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,Float,1\n", 2, ESF_ERR_INVALID,
          "float: Unsupported encoding", 8 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,hex2bin,abc\n", 2, ESF_ERR_INVALID,
          "k: Invalid data length. Should be multiple of 2.", 16 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,blob_fill(2;0x00,abc\n", 2, ESF_ERR_INVALID,
          "blob_fill(2;0x00: Invalid encoding format.", 8 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,blob_fill(2;0x00),abc\n", 2, ESF_ERR_INVALID,
          "k: Value length exceeds specified length.", 26 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,u8,256\n", 2, ESF_ERR_RANGE,
          "Packing error for 'u8' key 'k' = '256': ubyte format requires 0 <= number <= 255", 11 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,u32,-1\n", 2, ESF_ERR_RANGE,
          "Packing error for 'u32' key 'k' = '-1': argument out of range", 12 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,i32,0x10\n", 2, ESF_ERR_PARSE,
          "invalid literal for int() with base 10: '0x10'", 12 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,hex2bin,zz\n", 2, ESF_ERR_PARSE,
          "Non-hexadecimal digit found", 16 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,base64,QUJDR\n", 2, ESF_ERR_PARSE,
          "cannot be 1 more than a multiple of 4", 15 },
        { "key,type,encoding,value\nn,namespace,,\nk,data,base64,QUJDRA\n", 2, ESF_ERR_PARSE,
          "Incorrect padding", 15 },
        { "key,type,encoding,value\nn,namespace,,\nk,file,binary,/nonexistent/x\n", 2, ESF_ERR_IO,
          "/nonexistent/x", 15 },
        { "type,encoding,value\nn,namespace,,\n", 2, ESF_ERR_PARSE, "no `key` column", 0 },
    };
    for (size_t i = 0; i < ARRAY_LEN(e); i++) {
        esf_nvs_gen_opts o = { .size = 0x3000, .version = e[i].version, .compat = true };
        esf_error err;
        int rc = gen_csv(e[i].csv, &o, &err, NULL, NULL);
        if (rc != e[i].rc || !strstr(err.msg, e[i].msg) || err.column != e[i].col)
            fail_msg("case %zu: rc %d col %u: %s", i, rc, err.column, err.msg);
    }
    /* size rules (check_size) */
    esf_nvs_gen *g = NULL;
    esf_error err;
    esf_nvs_gen_opts o = { .size = 0x3800 };
    assert_int_equal(esf_nvs_gen_new(&g, &o, &err), ESF_ERR_RANGE);
    assert_string_equal(err.msg, "Size of partition must be multiple of 4096");
    o.size = 0;
    assert_int_equal(esf_nvs_gen_new(&g, &o, &err), ESF_ERR_RANGE);
    assert_non_null(strstr(err.msg, "Minimum partition size"));
    o.size = 0x2000;
    assert_int_equal(esf_nvs_gen_new(&g, &o, &err), ESF_OK);
    assert_true(esf_nvs_gen_read_only(g));
    /* after a failure the generator refuses until reset */
    esf_nvs_row bad = { .key = "k", .key_len = 1, .type = "data", .type_len = 4, .encoding = "u8",
                        .encoding_len = 2, .value = "x", .value_len = 1 };
    assert_int_equal(esf_nvs_gen_add_row(g, &bad, &err), ESF_ERR_UNSUPPORTED);  /* no namespace */
    uint8_t img[0x2000];
    size_t n;
    assert_int_equal(esf_nvs_gen_finish(g, img, &n, &err), ESF_ERR_STATE);
    esf_nvs_gen_reset(g);
    assert_int_equal(esf_nvs_gen_finish(g, img, &n, &err), ESF_OK);
    assert_int_equal(n, 0x2000);  /* native: padded to the partition */
    esf_nvs_gen_free(g);
    esf_nvs_gen_free(NULL);
}

/* Data that outgrows the partition fails like the reference's InsufficientSizeError. */
static void test_no_space(void **state)
{
    (void)state;
    size_t len;
    uint8_t *csv = esf_test_read("nvs-invalid/ni06_partition_too_small/input.csv", &len);
    esf_nvs_gen_opts o = { .size = 0x3000, .compat = true };
    esf_nvs_gen *g;
    esf_error err;
    assert_int_equal(esf_nvs_gen_new(&g, &o, &err), ESF_OK);
    assert_int_equal(esf_nvs_gen_add_csv(g, (const char *)csv, len, "in.csv", &err), ESF_ERR_NO_SPACE);
    assert_non_null(strstr(err.msg, "Size parameter is less than the size of data in csv"));
    assert_true(err.line > 1);
    esf_nvs_gen_free(g);
    free(csv);
}

/* Add namespaces ns0..ns{nns-1}, each with keys k0..k{nkeys-1} (u8); returns the first error. */
static int add_keys(esf_nvs_gen *g, int nns, int nkeys)
{
    char key[16];
    esf_nvs_row ns = { .key = key, .type = "namespace", .type_len = 9 };
    esf_nvs_row d = { .key = key, .type = "data", .type_len = 4, .encoding = "u8", .encoding_len = 2,
                      .value = "1", .value_len = 1 };
    int rc = ESF_OK;
    for (int n = 0; n < nns && !rc; n++) {
        ns.key_len = (size_t)snprintf(key, sizeof key, "ns%d", n);
        rc = esf_nvs_gen_add_row(g, &ns, NULL);
        for (int i = 0; i < nkeys && !rc; i++) {
            d.key_len = (size_t)snprintf(key, sizeof key, "k%d", i);
            rc = esf_nvs_gen_add_row(g, &d, NULL);
        }
    }
    return rc;
}

static void count_dup_warn(void *ctx, const esf_error *w)
{
    if (strstr(w->msg, "duplicate key"))
        ++*(int *)ctx;
}

/* Duplicate keys are found per namespace whatever the table's growth (thousands of keys), by exact
 * length (a key with a NUL is not its prefix), and forgotten by reset. */
static void test_duplicates(void **state)
{
    (void)state;
    esf_nvs_gen_opts o = { .size = 0x100000 };
    esf_nvs_gen *g;
    assert_int_equal(esf_nvs_gen_new(&g, &o, NULL), ESF_OK);
    esf_nvs_row d = { .type = "data", .type_len = 4, .encoding = "u8", .encoding_len = 2,
                      .value = "1", .value_len = 1 };
    static const struct { const char *key; size_t len; int rc; } again[] = {
        { "k0", 2, ESF_ERR_EXISTS }, { "k1234", 5, ESF_ERR_EXISTS }, { "k2999", 5, ESF_ERR_EXISTS },
        { "k3000", 5, ESF_OK }, { "k0\0", 3, ESF_OK }, { "ns0", 3, ESF_OK },
    };
    for (size_t i = 0; i < ARRAY_LEN(again); i++) {
        esf_nvs_gen_reset(g);  /* also shows reset forgets the keys of the previous round */
        assert_int_equal(add_keys(g, 3, 3000), ESF_OK);
        d.key = again[i].key;
        d.key_len = again[i].len;
        int rc = esf_nvs_gen_add_row(g, &d, NULL);
        if (rc != again[i].rc)
            fail_msg("case %zu (%s): rc %d, want %d", i, again[i].key, rc, again[i].rc);
    }
    esf_nvs_gen_free(g);

    /* compat: 9-character keys of 18 bytes that differ only past their 16th byte are distinct */
    int dups = 0;
    esf_nvs_gen_opts c = { .size = 0x3000, .compat = true, .warn = { count_dup_warn, &dups } };
    assert_int_equal(esf_nvs_gen_new(&g, &c, NULL), ESF_OK);
    assert_int_equal(add_keys(g, 1, 0), ESF_OK);
    static const char *const tail[] = { "\xc3\xa9", "\xc3\xbc", "\xc3\xa9" };  /* é ü é */
    for (size_t i = 0; i < ARRAY_LEN(tail); i++) {
        char key[32];
        d.key = key;
        d.key_len = (size_t)snprintf(key, sizeof key, "%s%s",
                                     "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", tail[i]);
        assert_int_equal(esf_nvs_gen_add_row(g, &d, NULL), ESF_OK);
    }
    assert_int_equal(dups, 1);
    esf_nvs_gen_free(g);
}

/* opts.key encrypts like the reference's encrypt (n21), and equals encrypting afterwards. */
static void test_encrypted(void **state)
{
    (void)state;
    size_t kl, el;
    uint8_t *kf = esf_test_read("nvs/n21_encrypted_v2/keys.bin", &kl);
    uint8_t *exp = esf_test_read("nvs/n21_encrypted_v2/expected.bin", &el);
    uint8_t key[64];
    assert_int_equal(esf_nvs_keys_parse(kf, kl, key, NULL, NULL), ESF_OK);
    char dir[512];
    snprintf(dir, sizeof dir, "%s", esf_test_path("nvs/n21_encrypted_v2"));
    esf_nvs_gen_opts o = { .size = 0x4000, .compat = true, .key = key, .base_dir = dir };
    check_vector("nvs/n21_encrypted_v2", &o);
    uint8_t dup[64] = { 0 };
    o.key = dup;
    esf_nvs_gen *g;
    esf_error err;
    assert_int_equal(esf_nvs_gen_new(&g, &o, &err), ESF_ERR_CRYPTO);
    free(kf);
    free(exp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors_compat_and_native),
        cmocka_unit_test(test_rows_without_csv),
        cmocka_unit_test(test_quirks_warn_or_refuse),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_no_space),
        cmocka_unit_test(test_duplicates),
        cmocka_unit_test(test_encrypted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
