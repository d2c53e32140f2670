/* NVS edit scripts (nvs_script.h): parsing with places, strict values, application through the
 * runtime, stop-at-failure semantics, commit checkpoints; and the image-file editor (nvs_edit.h):
 * safety probe, partition lookup, atomic commit, wear counters. */
#include "esf_test.h"

#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/flash.h"
#include "espforge/io.h"
#include "espforge/nvs.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_edit.h"
#include "espforge/nvs_page.h"
#include "espforge/nvs_script.h"
#include "espforge/part_table.h"

static esf_nvs_script *parse_ok(const char *text)
{
    esf_nvs_script *s = NULL;
    esf_error err = { 0 };
    assert_int_equal(esf_nvs_script_new(&s, "t.nvs", &err), ESF_OK);
    int rc = esf_nvs_script_parse(s, text, strlen(text), &err);
    if (rc != ESF_OK)
        fail_msg("parse \"%s\": %d %s (%u:%u)", text, rc, err.msg, err.line, err.column);
    return s;
}

static void test_parse_values(void **state)
{
    (void)state;
    static const struct { const char *line; uint8_t type; uint64_t raw; } cases[] = {
        { "set ns k u8 0", ESF_NVS_TYPE_U8, 0 },
        { "set ns k u8 255", ESF_NVS_TYPE_U8, 255 },
        { "set ns k u8 0xff", ESF_NVS_TYPE_U8, 255 },
        { "set ns k i8 -128", ESF_NVS_TYPE_I8, 0x80 },
        { "set ns k i8 -1", ESF_NVS_TYPE_I8, 0xFF },
        { "set ns k u16 65535", ESF_NVS_TYPE_U16, 65535 },
        { "set ns k i16 -32768", ESF_NVS_TYPE_I16, 0x8000 },
        { "set ns k u32 4294967295", ESF_NVS_TYPE_U32, 0xFFFFFFFFu },
        { "set ns k i32 -2147483648", ESF_NVS_TYPE_I32, 0x80000000u },
        { "set ns k i32 1_000_000", ESF_NVS_TYPE_I32, 1000000 },
        { "set ns k u64 18446744073709551615", ESF_NVS_TYPE_U64, UINT64_MAX },
        { "set ns k u64 0xFFFFFFFFFFFFFFFF", ESF_NVS_TYPE_U64, UINT64_MAX },
        { "set ns k u64 9223372036854775808", ESF_NVS_TYPE_U64, 0x8000000000000000ull },
        { "set ns k i64 -9223372036854775808", ESF_NVS_TYPE_I64, 0x8000000000000000ull },
        { "set ns k double 1.5", ESF_NVS_TYPE_DOUBLE, 0x3FF8000000000000ull },
        { "set ns k float -2", ESF_NVS_TYPE_FLOAT, 0xC0000000u },
        { "  set\tns   k u8 7   # trailing comment", ESF_NVS_TYPE_U8, 7 },
        { "set \"ns\" \"k\" \"u8\" \"9\"", ESF_NVS_TYPE_U8, 9 },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        esf_nvs_script *s = parse_ok(cases[i].line);
        if (s->count != 1 || s->ops[0].kind != ESF_NVS_OP_SET || s->ops[0].type != cases[i].type ||
            s->ops[0].raw != cases[i].raw || strcmp(s->ops[0].ns, "ns") || strcmp(s->ops[0].key, "k"))
            fail_msg("case %zu \"%s\": type %02x raw %llx", i, cases[i].line, s->ops[0].type,
                     (unsigned long long)s->ops[0].raw);
        esf_nvs_script_free(s);
    }
    /* strings and blobs, quoting and escapes */
    esf_nvs_script *s = parse_ok("# header comment\n\n"
                                 "set cfg name str \"hello world\"\r\n"
                                 "set cfg q str \"a \\\"b\\\" \\\\ \\x41\\n\"\n"
                                 "set cfg plain str word\n"
                                 "set cfg b blob 00fF10\n"
                                 "set cfg b2 blob \"de ad  be ef\"\n"
                                 "set cfg e blob \"\"\n"
                                 "erase cfg old\n"
                                 "erase_all junk\n"
                                 "commit\n");
    assert_int_equal(s->count, 9);
    assert_string_equal((char *)s->ops[0].data, "hello world");
    assert_int_equal(s->ops[0].line, 3);
    assert_int_equal(s->ops[0].col_value, 18);
    assert_string_equal((char *)s->ops[1].data, "a \"b\" \\ A\n");
    assert_string_equal((char *)s->ops[2].data, "word");
    assert_int_equal(s->ops[3].type, ESF_NVS_TYPE_BLOB_DATA);
    assert_int_equal(s->ops[3].len, 3);
    assert_memory_equal(s->ops[3].data, "\x00\xff\x10", 3);
    assert_int_equal(s->ops[4].len, 4);
    assert_memory_equal(s->ops[4].data, "\xde\xad\xbe\xef", 4);
    assert_int_equal(s->ops[5].len, 0);
    assert_int_equal(s->ops[6].kind, ESF_NVS_OP_ERASE);
    assert_string_equal(s->ops[6].key, "old");
    assert_int_equal(s->ops[7].kind, ESF_NVS_OP_ERASE_ALL);
    assert_string_equal(s->ops[7].ns, "junk");
    assert_int_equal(s->ops[8].kind, ESF_NVS_OP_COMMIT);
    assert_int_equal(s->ops[8].line, 11);
    esf_nvs_script_free(s);
}

static void test_parse_errors(void **state)
{
    (void)state;
    static const struct { const char *text; int rc; uint32_t line, col; const char *msg; } cases[] = {
        { "set ns k u8 256", ESF_ERR_RANGE, 1, 13, "out of range for u8 (0..255)" },
        { "set ns k i8 -129", ESF_ERR_RANGE, 1, 13, "out of range for i8" },
        { "set ns k u16 65536", ESF_ERR_RANGE, 1, 14, "u16" },
        { "set ns k i16 32768", ESF_ERR_RANGE, 1, 14, "i16" },
        { "set ns k u32 -1", ESF_ERR_RANGE, 1, 14, "u32" },
        { "set ns k i32 2147483648", ESF_ERR_RANGE, 1, 14, "i32" },
        { "set ns k u64 18446744073709551616", ESF_ERR_RANGE, 1, 14, "u64" },
        { "set ns k u64 -1", ESF_ERR_RANGE, 1, 14, "u64" },
        { "set ns k i64 9223372036854775808", ESF_ERR_RANGE, 1, 14, "i64" },
        { "set ns k u8 12x", ESF_ERR_PARSE, 1, 13, "not an integer" },
        { "set ns k u8 010", ESF_ERR_PARSE, 1, 13, "not an integer" },
        { "set ns k u8 1.5", ESF_ERR_PARSE, 1, 13, "not an integer" },
        { "set ns k float 1e39", ESF_ERR_RANGE, 1, 16, "float" },
        { "set ns k double 1e400", ESF_ERR_RANGE, 1, 17, "double" },
        { "set ns k double nan", ESF_ERR_INVALID, 1, 17, "NaN" },
        { "set ns k float 1.5x", ESF_ERR_PARSE, 1, 19, "not a number" },
        { "set ns k int 5", ESF_ERR_PARSE, 1, 10, "unknown type" },
        { "set ns k U8 5", ESF_ERR_PARSE, 1, 10, "unknown type" },
        { "put ns k u8 5", ESF_ERR_PARSE, 1, 1, "unknown operation" },
        { "\n\nset ns k123456789abcdef u8 1", ESF_ERR_TOO_LONG, 3, 23, "16 bytes" },
        { "set namespace_16_chars k u8 1", ESF_ERR_TOO_LONG, 1, 20, "namespace name" },
        { "set \"\" k u8 1", ESF_ERR_INVALID, 1, 5, "empty namespace" },
        { "set ns k u8", ESF_ERR_PARSE, 1, 12, "missing VALUE" },
        { "erase ns", ESF_ERR_PARSE, 1, 9, "missing KEY" },
        { "erase_all", ESF_ERR_PARSE, 1, 10, "missing NS" },
        { "set ns k str hello world", ESF_ERR_PARSE, 1, 20, "unexpected word" },
        { "commit now", ESF_ERR_PARSE, 1, 8, "unexpected word" },
        { "set ns k str \"open", ESF_ERR_PARSE, 1, 14, "unterminated" },
        { "set ns k str \"a\"b", ESF_ERR_PARSE, 1, 17, "after a closing quote" },
        { "set ns k str a\"b", ESF_ERR_PARSE, 1, 15, "quote inside a word" },
        { "set ns k str \"\\q\"", ESF_ERR_PARSE, 1, 15, "unknown escape" },
        { "set ns k str \"\\x4\"", ESF_ERR_PARSE, 1, 15, "two hex digits" },
        { "set ns k str \"a\\x00b\"", ESF_ERR_INVALID, 1, 14, "NUL" },
        { "set ns k blob 0a0", ESF_ERR_PARSE, 1, 17, "odd number" },
        { "set ns k blob 0g", ESF_ERR_PARSE, 1, 16, "not a hex digit" },
        { "set ok k u8 1\nset ns k u8 1\nset ns k u8 -1\n", ESF_ERR_RANGE, 3, 13, "u8" },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        esf_nvs_script *s = NULL;
        esf_error err = { 0 };
        assert_int_equal(esf_nvs_script_new(&s, "t.nvs", &err), ESF_OK);
        int rc = esf_nvs_script_parse(s, cases[i].text, strlen(cases[i].text), &err);
        if (rc != cases[i].rc || err.line != cases[i].line || err.column != cases[i].col ||
            !strstr(err.msg, cases[i].msg) || strcmp(err.source, "t.nvs") || s->count != 0)
            fail_msg("case %zu \"%s\": rc %d at %u:%u \"%s\" (%zu ops kept)", i, cases[i].text, rc,
                     err.line, err.column, err.msg, s->count);
        esf_nvs_script_free(s);
    }
    /* a 4000-byte string (3999 + NUL) fits, 4000 + NUL does not */
    char *big = malloc(4100);
    assert_non_null(big);
    for (int n = 3999; n <= 4000; n++) {
        int len = snprintf(big, 4100, "set ns k str ");
        memset(big + len, 'x', (size_t)n);
        big[len + n] = '\0';
        esf_nvs_script *s = NULL;
        esf_error err = { 0 };
        esf_nvs_script_new(&s, "t.nvs", &err);
        int rc = esf_nvs_script_parse(s, big, strlen(big), &err);
        assert_int_equal(rc, n == 3999 ? ESF_OK : ESF_ERR_TOO_LONG);
        esf_nvs_script_free(s);
    }
    free(big);
}

static void test_words(void **state)
{
    (void)state;
    esf_nvs_script *s = NULL;
    esf_error err = { 0 };
    assert_int_equal(esf_nvs_script_new(&s, "command line", &err), ESF_OK);
    const char *w1[] = { "set", "cfg", "greeting", "str", "hi there \"you\"" };
    assert_int_equal(esf_nvs_script_add_words(s, w1, 5, &err), ESF_OK);
    assert_string_equal((char *)s->ops[0].data, "hi there \"you\"");
    const char *w2[] = { "erase", "cfg" };
    assert_int_equal(esf_nvs_script_add_words(s, w2, 2, &err), ESF_OK);
    assert_int_equal(s->ops[1].kind, ESF_NVS_OP_ERASE_ALL);
    const char *w3[] = { "erase", "cfg", "greeting" };
    assert_int_equal(esf_nvs_script_add_words(s, w3, 3, &err), ESF_OK);
    assert_int_equal(s->ops[2].kind, ESF_NVS_OP_ERASE);
    const char *w4[] = { "set", "cfg", "k", "u8", "-1" };
    assert_int_equal(esf_nvs_script_add_words(s, w4, 5, &err), ESF_ERR_RANGE);
    assert_non_null(strstr(err.msg, "VALUE '-1'"));
    const char *w5[] = { "set", "cfg", "k", "bool", "1" };
    assert_int_equal(esf_nvs_script_add_words(s, w5, 5, &err), ESF_ERR_PARSE);
    assert_non_null(strstr(err.msg, "TYPE 'bool'"));
    assert_int_equal(s->count, 3);
    esf_nvs_script_free(s);
}

/* ---- application on a RAM flash */

typedef struct fixture {
    esf_flash flash;
    esf_part part;
    esf_nvs *nvs;
} fixture;

static void fx_open(fixture *fx, uint32_t pages)
{
    esf_error err = { 0 };
    assert_int_equal(esf_flash_ram_init(&fx->flash, pages * 4096u, &err), ESF_OK);
    assert_int_equal(esf_part_init_whole(&fx->part, &fx->flash, "nvs", &err), ESF_OK);
    assert_int_equal(esf_nvs_init(&fx->nvs, &fx->part, NULL, &err), ESF_OK);
}

static void fx_reload(fixture *fx)
{
    esf_error err = { 0 };
    esf_nvs_deinit(fx->nvs);
    assert_int_equal(esf_nvs_init(&fx->nvs, &fx->part, NULL, &err), ESF_OK);
}

static void fx_close(fixture *fx)
{
    esf_nvs_deinit(fx->nvs);
    esf_flash_close(&fx->flash);
}

static int commits_seen;
static uint8_t snapshot[4 * 4096];

static int count_commit(void *ctx, esf_error *err)
{
    (void)err;
    fixture *fx = ctx;
    commits_seen++;
    memcpy(snapshot, esf_flash_ram_data(&fx->flash), sizeof snapshot);
    return ESF_OK;
}

static void test_apply(void **state)
{
    (void)state;
    fixture fx;
    fx_open(&fx, 4);
    esf_nvs_script *s = parse_ok("set cfg port u16 8080\n"
                                 "set cfg name str \"smart plug\"\n"
                                 "set cfg cert blob 0102030405\n"
                                 "set cfg t double -0.25\n"
                                 "set other x i8 -5\n"
                                 "set other y u8 1\n"
                                 "commit\n"
                                 "erase other y\n"
                                 "set cfg port u16 9090\n");
    esf_error err = { 0 };
    size_t done = 99;
    commits_seen = 0;
    esf_nvs_apply_opts ao = { .commit = count_commit, .ctx = &fx };
    assert_int_equal(esf_nvs_script_apply(s, fx.nvs, &ao, &done, &err), ESF_OK);
    assert_int_equal(done, 9);
    assert_int_equal(commits_seen, 1);
    esf_nvs_script_free(s);
    fx_reload(&fx);
    esf_nvs_handle *h = NULL;
    assert_int_equal(esf_nvs_open(fx.nvs, "cfg", ESF_NVS_READONLY, &h, &err), ESF_OK);
    uint16_t port = 0;
    assert_int_equal(esf_nvs_get_u16(h, "port", &port), ESF_OK);
    assert_int_equal(port, 9090);
    char name[32];
    size_t len = sizeof name;
    assert_int_equal(esf_nvs_get_str(h, "name", name, &len), ESF_OK);
    assert_string_equal(name, "smart plug");
    uint8_t cert[8];
    len = sizeof cert;
    assert_int_equal(esf_nvs_get_blob(h, "cert", cert, &len), ESF_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(cert, "\1\2\3\4\5", 5);
    double t = 0;
    assert_int_equal(esf_nvs_get_double(h, "t", &t), ESF_OK);
    assert_true(t == -0.25);
    esf_nvs_close(h);
    assert_int_equal(esf_nvs_open(fx.nvs, "other", ESF_NVS_READONLY, &h, &err), ESF_OK);
    int8_t x = 0;
    uint8_t y = 0;
    assert_int_equal(esf_nvs_get_i8(h, "x", &x), ESF_OK);
    assert_int_equal(x, -5);
    assert_int_equal(esf_nvs_get_u8(h, "y", &y), ESF_ERR_NOT_FOUND);
    esf_nvs_close(h);

    /* the snapshot taken at `commit` holds y = 1 and port 8080: a consistent NVS state */
    esf_flash snap;
    esf_part sp;
    esf_nvs *sn = NULL;
    assert_int_equal(esf_flash_ram_init_from(&snap, sizeof snapshot, snapshot, sizeof snapshot, &err),
                     ESF_OK);
    assert_int_equal(esf_part_init_whole(&sp, &snap, "nvs", &err), ESF_OK);
    assert_int_equal(esf_nvs_init(&sn, &sp, NULL, &err), ESF_OK);
    assert_int_equal(esf_nvs_open(sn, "other", ESF_NVS_READONLY, &h, &err), ESF_OK);
    assert_int_equal(esf_nvs_get_u8(h, "y", &y), ESF_OK);
    assert_int_equal(y, 1);
    esf_nvs_close(h);
    assert_int_equal(esf_nvs_open(sn, "cfg", ESF_NVS_READONLY, &h, &err), ESF_OK);
    assert_int_equal(esf_nvs_get_u16(h, "port", &port), ESF_OK);
    assert_int_equal(port, 8080);
    esf_nvs_close(h);
    esf_nvs_deinit(sn);
    esf_flash_close(&snap);

    /* failures stop at the operation, with its place; earlier ones stay applied */
    static const struct { const char *text; size_t done; int rc; uint32_t line, col; const char *msg; }
    fails[] = {
        { "set cfg a u8 1\nerase cfg nokey\nset cfg b u8 2\n", 1, ESF_ERR_NOT_FOUND, 2, 11,
          "erase cfg nokey: key 'nokey' not found in namespace 'cfg'" },
        { "erase nons k\n", 0, ESF_ERR_NOT_FOUND, 1, 7, "namespace 'nons' not found" },
        { "set cfg c u8 3\nerase_all nons\n", 1, ESF_ERR_NOT_FOUND, 2, 11,
          "erase_all nons: namespace 'nons' not found" },
    };
    for (size_t i = 0; i < ARRAY_LEN(fails); i++) {
        s = parse_ok(fails[i].text);
        esf_error_clear(&err);
        int rc = esf_nvs_script_apply(s, fx.nvs, NULL, &done, &err);
        if (rc != fails[i].rc || done != fails[i].done || err.line != fails[i].line ||
            err.column != fails[i].col || !strstr(err.msg, fails[i].msg))
            fail_msg("fail case %zu: rc %d done %zu at %u:%u \"%s\"", i, rc, done, err.line,
                     err.column, err.msg);
        esf_nvs_script_free(s);
    }
    /* the namespace of a failed erase was not created */
    assert_int_equal(esf_nvs_open(fx.nvs, "nons", ESF_NVS_READONLY, &h, &err), ESF_ERR_NOT_FOUND);
    fx_close(&fx);
}

static void test_apply_no_space(void **state)
{
    (void)state;
    fixture fx;
    fx_open(&fx, 3);  /* 2 usable pages: 8000 bytes of data at most */
    esf_nvs_script *s = NULL;
    esf_error err = { 0 };
    esf_nvs_script_new(&s, "big.nvs", &err);
    char *text = malloc(3 * 3020), *p = text;
    for (int i = 0; i < 3; i++) {
        /* three 3000-byte strings: the third does not fit */
        p += sprintf(p, "set ns s%d str ", i);
        memset(p, 'a' + i, 3000);
        p += 3000;
        *p++ = '\n';
    }
    assert_int_equal(esf_nvs_script_parse(s, text, (size_t)(p - text), &err), ESF_OK);
    free(text);
    size_t done = 0;
    int rc = esf_nvs_script_apply(s, fx.nvs, NULL, &done, &err);
    assert_int_equal(rc, ESF_ERR_NO_SPACE);
    assert_int_equal(done, 2);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "set ns s2: not enough space"));
    esf_nvs_script_free(s);
    fx_reload(&fx);  /* still a loadable store with both earlier strings */
    esf_nvs_handle *h = NULL;
    assert_int_equal(esf_nvs_open(fx.nvs, "ns", ESF_NVS_READONLY, &h, &err), ESF_OK);
    size_t len = 0;
    assert_int_equal(esf_nvs_get_str(h, "s1", NULL, &len), ESF_OK);
    assert_int_equal(len, 3001);
    assert_int_equal(esf_nvs_get_str(h, "s2", NULL, &len), ESF_ERR_NOT_FOUND);
    esf_nvs_close(h);
    fx_close(&fx);
}

/* ---- the image-file editor */

static char *write_tmp(const char *dir, const char *name, const void *data, size_t len)
{
    char *p = malloc(4096);
    snprintf(p, 4096, "%s/%s", dir, name);
    esf_error err = { 0 };
    assert_int_equal(esf_file_write_atomic(p, data, len, &err), ESF_OK);
    return p;
}

static void test_edit_file(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir();
    size_t len = 0;
    uint8_t *img = esf_test_read("nvs/n01_primitives_v2/expected.bin", &len);
    char *path = write_tmp(dir, "a.bin", img, len);
    esf_error err = { 0 };
    esf_nvs_edit *e = NULL;
    assert_int_equal(esf_nvs_edit_open(&e, path, NULL, &err), ESF_OK);
    esf_nvs_handle *h = NULL;
    assert_int_equal(esf_nvs_open(esf_nvs_edit_store(e), "prims", ESF_NVS_READWRITE, &h, &err),
                     ESF_OK);
    assert_int_equal(esf_nvs_set_u32(h, "added", 77), ESF_OK);
    esf_nvs_close(h);
    esf_nvs_wear w;
    esf_nvs_edit_wear(e, &w);
    assert_int_equal(w.sectors, 3);
    assert_int_equal(w.bytes_programmed, 32 + 4);  /* one entry and its bitmap word */
    assert_int_equal(w.erases, 0);
    /* nothing reaches the file before the commit */
    uint8_t *now = NULL;
    size_t nlen = 0;
    assert_int_equal(esf_file_read(path, &now, &nlen, &err), ESF_OK);
    assert_memory_equal(now, img, len);
    free(now);
    assert_int_equal(esf_nvs_edit_commit(e, &err), ESF_OK);
    esf_nvs_edit_close(e);
    assert_int_equal(esf_nvs_edit_open(&e, path, NULL, &err), ESF_OK);
    assert_int_equal(esf_nvs_open(esf_nvs_edit_store(e), "prims", ESF_NVS_READONLY, &h, &err),
                     ESF_OK);
    uint32_t v = 0;
    assert_int_equal(esf_nvs_get_u32(h, "added", &v), ESF_OK);
    assert_int_equal(v, 77);
    esf_nvs_close(h);
    esf_nvs_edit_close(e);

    /* not NVS: random bytes, a bad header CRC */
    uint8_t *junk = malloc(3 * 4096);
    for (size_t i = 0; i < 3 * 4096; i++)
        junk[i] = (uint8_t)(i * 7 + 3);
    char *jp = write_tmp(dir, "junk.bin", junk, 3 * 4096);
    assert_int_equal(esf_nvs_edit_open(&e, jp, NULL, &err), ESF_ERR_INVALID);
    assert_int_equal(err.offset, 0);
    assert_non_null(strstr(err.msg, "not an NVS partition"));
    memcpy(junk, img, 3 * 4096);
    junk[4096 + 12] ^= 1;  /* page 1 is blank in n01: make page 0's CRC wrong instead */
    junk[12] ^= 1;
    free(jp);
    jp = write_tmp(dir, "crc.bin", junk, 3 * 4096);
    assert_int_equal(esf_nvs_edit_open(&e, jp, NULL, &err), ESF_ERR_INVALID);
    assert_non_null(strstr(err.msg, "header CRC"));
    /* a size that is not whole pages */
    free(jp);
    jp = write_tmp(dir, "odd.bin", img, 5000);
    assert_int_equal(esf_nvs_edit_open(&e, jp, NULL, &err), ESF_ERR_INVALID);
    free(jp);
    free(junk);

    /* a blank new image */
    esf_nvs_edit_opts o = { .new_size = 0x6000 };
    char np[4096];
    snprintf(np, sizeof np, "%s/new.bin", dir);
    assert_int_equal(esf_nvs_edit_open(&e, np, &o, &err), ESF_OK);
    assert_int_equal(esf_nvs_edit_commit(e, &err), ESF_OK);
    esf_nvs_edit_close(e);
    assert_int_equal(esf_file_read(np, &now, &nlen, &err), ESF_OK);
    assert_int_equal(nlen, 0x6000);
    free(now);
    o.new_size = 5000;
    assert_int_equal(esf_nvs_edit_open(&e, np, &o, &err), ESF_ERR_INVALID_ARG);

    free(path);
    free(img);
    esf_test_rmdir(dir);
    free(dir);
}

static bool contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(hay + i, needle, k))
            return true;
    return false;
}

static void test_edit_encrypted(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir();
    size_t len = 0, klen = 0, k2len = 0;
    uint8_t *img = esf_test_read("nvs/n21_encrypted_v2/expected.bin", &len);
    uint8_t *keys = esf_test_read("nvs/n21_encrypted_v2/keys.bin", &klen);
    uint8_t *other = esf_test_read("nvs/n23_generate_key_format_example/example_keys.bin", &k2len);
    uint8_t key[64], wrong[64];
    esf_error err = { 0 };
    assert_int_equal(esf_nvs_keys_parse(keys, klen, key, "keys.bin", &err), ESF_OK);
    assert_int_equal(esf_nvs_keys_parse(other, k2len, wrong, "example_keys.bin", &err), ESF_OK);
    char *path = write_tmp(dir, "enc.bin", img, len);
    esf_nvs_edit *e = NULL;
    /* no key, wrong key: refused before anything is loaded */
    assert_int_equal(esf_nvs_edit_open(&e, path, NULL, &err), ESF_ERR_INVALID);
    assert_non_null(strstr(err.msg, "encrypted"));
    assert_int_equal(err.offset, 64);
    esf_nvs_edit_opts o = { .xts_key = wrong, .key_source = "example_keys.bin" };
    assert_int_equal(esf_nvs_edit_open(&e, path, &o, &err), ESF_ERR_INVALID);
    assert_non_null(strstr(err.msg, "example_keys.bin does not decrypt"));
    /* the right key: edit, commit, the plain view decrypts */
    o.xts_key = key;
    assert_int_equal(esf_nvs_edit_open(&e, path, &o, &err), ESF_OK);
    esf_nvs_handle *h = NULL;
    assert_int_equal(esf_nvs_open(esf_nvs_edit_store(e), "files", ESF_NVS_READWRITE, &h, &err),
                     ESF_OK);
    assert_int_equal(esf_nvs_set_str(h, "added", "secret"), ESF_OK);
    esf_nvs_close(h);
    assert_int_equal(esf_nvs_edit_commit(e, &err), ESF_OK);
    esf_nvs_edit_close(e);
    uint8_t *now = NULL;
    size_t nlen = 0;
    assert_int_equal(esf_file_read(path, &now, &nlen, &err), ESF_OK);
    assert_false(contains(now, nlen, "secret"));  /* ciphertext on disk */
    assert_int_equal(esf_nvs_decrypt_image(now, nlen, key, &err), ESF_OK);
    assert_true(contains(now, nlen, "secret"));
    free(now);
    free(path);
    free(img);
    free(keys);
    free(other);
    esf_test_rmdir(dir);
    free(dir);
}

static void test_edit_partition(void **state)
{
    (void)state;
    /* a 64 KiB flash image: table at 0x8000, nvs at 0x9000 (0x6000), filler elsewhere */
    esf_part_table *t = NULL;
    esf_error err = { 0 };
    assert_int_equal(esf_part_table_new(&t, "test", &err), ESF_OK);
    assert_int_equal(esf_part_table_add(t, "nvs", 1, 2, 0x9000, 0x6000, 0, &err), ESF_OK);
    assert_int_equal(esf_part_table_add(t, "phy_init", 1, 1, 0xF000, 0x1000, 0, &err), ESF_OK);
    assert_int_equal(esf_part_table_add(t, "ro", 1, 2, 0x10000, 0x1000,
                                        ESF_PART_TABLE_FLAG_READONLY, &err), ESF_OK);
    assert_int_equal(esf_part_table_add(t, "enc", 1, 2, 0x11000, 0x3000,
                                        ESF_PART_TABLE_FLAG_ENCRYPTED, &err), ESF_OK);
    size_t len = 0x14000;
    uint8_t *img = malloc(len);
    for (size_t i = 0; i < len; i++)
        img[i] = (uint8_t)(i ^ (i >> 8));
    assert_int_equal(esf_part_table_encode(t, NULL, img + 0x8000, &err), ESF_OK);
    esf_part_table_free(t);
    size_t nlen = 0;
    uint8_t *nvs = esf_test_read("nvs/n12_namespaces/expected.bin", &nlen);
    memcpy(img + 0x9000, nvs, 0x3000);
    memset(img + 0xC000, 0xFF, 0x3000);
    size_t rlen = 0;
    uint8_t *ro = esf_test_read("nvs/n14_readonly_0x1000/expected.bin", &rlen);
    memcpy(img + 0x10000, ro, 0x1000);
    free(ro);
    memset(img + 0x11000, 0xFF, 0x3000);
    char *dir = esf_test_tmpdir();
    char *path = write_tmp(dir, "flash.bin", img, len);
    esf_nvs_edit_opts o = { .partition = "nvs" };
    esf_nvs_edit *e = NULL;
    assert_int_equal(esf_nvs_edit_open(&e, path, &o, &err), ESF_OK);
    assert_int_equal(esf_nvs_edit_part(e)->offset, 0x9000);
    assert_int_equal(esf_nvs_edit_part(e)->size, 0x6000);
    esf_nvs_handle *h = NULL;
    assert_int_equal(esf_nvs_open(esf_nvs_edit_store(e), "beta", ESF_NVS_READWRITE, &h, &err),
                     ESF_OK);
    assert_int_equal(esf_nvs_set_u8(h, "b1", 42), ESF_OK);
    esf_nvs_close(h);
    assert_int_equal(esf_nvs_edit_commit(e, &err), ESF_OK);
    esf_nvs_edit_close(e);
    uint8_t *now = NULL;
    size_t got = 0;
    assert_int_equal(esf_file_read(path, &now, &got, &err), ESF_OK);
    assert_int_equal(got, len);
    assert_memory_equal(now, img, 0x9000);                       /* before the partition */
    assert_memory_equal(now + 0xF000, img + 0xF000, len - 0xF000); /* after it */
    /* a read-only NVS partition loads (one page, no free page needed) but refuses writes */
    esf_nvs_edit_opts r = { .partition = "ro" };
    assert_int_equal(esf_nvs_edit_open(&e, path, &r, &err), ESF_OK);
    assert_true(esf_nvs_is_read_only(esf_nvs_edit_store(e)));
    esf_nvs_script *s = NULL;
    const char *words[] = { "set", "ro", "rev", "u8", "4" };
    assert_int_equal(esf_nvs_script_new(&s, "command line", &err), ESF_OK);
    assert_int_equal(esf_nvs_script_add_words(s, words, 5, &err), ESF_OK);
    assert_int_equal(esf_nvs_script_apply(s, esf_nvs_edit_store(e), NULL, NULL, &err),
                     ESF_ERR_READ_ONLY);
    assert_non_null(strstr(err.msg, "set ro rev"));
    esf_nvs_script_free(s);
    esf_nvs_edit_close(e);
    /* a partition flagged encrypted is not NVS storage (ESP_ERR_NVS_WRONG_ENCRYPTION) */
    r.partition = "enc";
    assert_int_equal(esf_nvs_edit_open(&e, path, &r, &err), ESF_ERR_INVALID);
    assert_non_null(strstr(err.msg, "flagged encrypted"));
    assert_memory_not_equal(now + 0x9000, img + 0x9000, 0x6000);
    free(now);
    /* the same by offset/size; a label that is not there; a partition that is not NVS */
    esf_nvs_edit_opts w = { .offset = 0x9000, .size = 0x6000 };
    assert_int_equal(esf_nvs_edit_open(&e, path, &w, &err), ESF_OK);
    esf_nvs_edit_close(e);
    o.partition = "nope";
    assert_int_equal(esf_nvs_edit_open(&e, path, &o, &err), ESF_ERR_NOT_FOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    o.partition = "phy_init";
    assert_int_equal(esf_nvs_edit_open(&e, path, &o, &err), ESF_ERR_INVALID);
    assert_non_null(strstr(err.msg, "not an NVS partition"));
    w.offset = 0x10000;
    w.size = 0x8000;
    assert_int_equal(esf_nvs_edit_open(&e, path, &w, &err), ESF_ERR_RANGE);
    free(path);
    free(img);
    free(nvs);
    esf_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_values),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_words),
        cmocka_unit_test(test_apply),
        cmocka_unit_test(test_apply_no_space),
        cmocka_unit_test(test_edit_file),
        cmocka_unit_test(test_edit_encrypted),
        cmocka_unit_test(test_edit_partition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
