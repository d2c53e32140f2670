/* The CSV reader: Python csv "excel" dialect (non-strict), universal newlines, places. */
#include "esf_test.h"

#include <stdio.h>
#include <string.h>

#include "espforge/csv.h"

/* Render rows as "a|b;c|d;" (fields '|'-joined, rows ';'-ended) for compact expectations. */
static void render(const char *in, bool skip_hash, char *out, size_t cap)
{
    esf_csv *r = NULL;
    esf_csv_opts o = { .skip_hash_lines = skip_hash };
    assert_int_equal(esf_csv_open_mem(&r, in, strlen(in), "t.csv", &o, NULL), ESF_OK);
    esf_csv_row row;
    size_t n = 0;
    out[0] = '\0';
    int rc;
    while ((rc = esf_csv_next(r, &row, NULL)) == 1) {
        for (size_t i = 0; i < row.nfields; i++)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "", row.fields[i].text);
        n += (size_t)snprintf(out + n, cap - n, ";");
    }
    assert_int_equal(rc, 0);
    esf_csv_free(r);
}

static void test_dialect(void **state)
{
    (void)state;
    /* expectations are what Python's csv.reader yields for the same text (universal newlines) */
    static const struct { const char *in; bool skip; const char *want; } cases[] = {
        { "a,b,c\n", false, "a|b|c;" },
        { "a,b,c", false, "a|b|c;" },
        { "a,,\n", false, "a||;" },
        { "\n\na\n", false, ";;a;" },
        { " a , b \n", false, " a | b ;" },
        { "\"x,y\",z\n", false, "x,y|z;" },
        { "\"he said \"\"hi\"\"\"\n", false, "he said \"hi\";" },
        { "\"multi\nline\",2\n", false, "multi\nline|2;" },
        { "\"multi\r\nline\"\r\n", false, "multi\nline;" },
        { "a\rb\r", false, "a;b;" },
        { "ab\"c\"d,e\n", false, "ab\"c\"d|e;" },
        { "\"ab\"cd,e\n", false, "abcd|e;" },
        { "\"open\nto the end", false, "open\nto the end;" },
        { "\"open\n", false, "open\n;" },
        { "#c,1\nk,2\n", true, "k|2;" },
        { "#c,1\nk,2\n", false, "#c|1;k|2;" },
        { "\"a\n#gone\nb\"\n", true, "a\nb;" },
        { "k,\"\"\n", false, "k|;" },
    };
    char out[512];
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        render(cases[i].in, cases[i].skip, out, sizeof out);
        if (strcmp(out, cases[i].want))
            fail_msg("case %zu: got \"%s\" want \"%s\"", i, out, cases[i].want);
    }
}

static void test_places(void **state)
{
    (void)state;
    const char *in = "key,type\n#comment\nns,\"quoted\nvalue\",z\n";
    esf_csv *r = NULL;
    esf_csv_opts o = { .skip_hash_lines = true };
    assert_int_equal(esf_csv_open_mem(&r, in, strlen(in), "nvs.csv", &o, NULL), ESF_OK);
    assert_string_equal(esf_csv_source(r), "nvs.csv");
    esf_csv_row row;
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.line, 1);
    assert_int_equal(row.fields[1].column, 5);
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.line, 3);
    assert_int_equal(row.nfields, 3);
    assert_int_equal(row.fields[1].line, 3);
    assert_int_equal(row.fields[1].column, 4);
    assert_true(row.fields[1].quoted);
    assert_int_equal(row.fields[1].len, 12);
    assert_int_equal(row.fields[2].line, 4);
    assert_int_equal(row.fields[2].column, 8);
    assert_int_equal(esf_csv_next(r, &row, NULL), 0);
    esf_csv_free(r);
}

static void test_embedded_nul_and_long_fields(void **state)
{
    (void)state;
    static char big[100000];
    memset(big, 'x', sizeof big - 3);
    big[sizeof big - 3] = ',';
    big[sizeof big - 2] = 'y';
    esf_csv *r = NULL;
    assert_int_equal(esf_csv_open_mem(&r, big, sizeof big - 1, "big", NULL, NULL), ESF_OK);
    esf_csv_row row;
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.nfields, 2);
    assert_int_equal(row.fields[0].len, sizeof big - 3);
    assert_string_equal(row.fields[1].text, "y");
    esf_csv_free(r);

    const char nul[] = { 'a', '\0', 'b', ',', 'c' };
    assert_int_equal(esf_csv_open_mem(&r, nul, sizeof nul, "nul", NULL, NULL), ESF_OK);
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.fields[0].len, 3);
    assert_memory_equal(row.fields[0].text, "a\0b", 3);
    esf_csv_free(r);
    esf_csv_free(NULL);
}

/* esf_utf8_check: the first bad byte is found at every offset, inside or after ASCII runs
 * (which it skips eight bytes at a time), and valid multi-byte text passes. */
static void test_utf8_check_offsets(void **state)
{
    (void)state;
    static const struct { const char *seq; size_t n; bool ok; } cases[] = {
        { "\xc3\xa9", 2, true },          /* U+00E9 */
        { "\xe2\x82\xac", 3, true },      /* U+20AC */
        { "\xf0\x9f\x98\x80", 4, true },  /* U+1F600 */
        { "\x80", 1, false },              /* lone continuation */
        { "\xc0\xaf", 2, false },          /* overlong */
        { "\xed\xa0\x80", 3, false },      /* surrogate */
        { "\xf4\x90\x80\x80", 4, false },  /* above U+10FFFF */
        { "\xff", 1, false },
        { "\xe2\x82", 2, false },          /* truncated at the end */
    };
    uint8_t buf[48];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t at = 0; at + cases[c].n <= 40; at++)
            for (size_t tail = 0; tail < 8 && at + cases[c].n + tail <= sizeof buf; tail++) {
                if (!cases[c].ok && cases[c].n == 2 && cases[c].seq[0] == '\xe2' && tail)
                    continue;  /* the truncated case only stands at the very end */
                memset(buf, 'a', sizeof buf);
                memcpy(buf + at, cases[c].seq, cases[c].n);
                size_t len = at + cases[c].n + tail;
                assert_int_equal(esf_utf8_check(buf, len), cases[c].ok ? len : at);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect),
        cmocka_unit_test(test_utf8_check_offsets),
        cmocka_unit_test(test_places),
        cmocka_unit_test(test_embedded_nul_and_long_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
