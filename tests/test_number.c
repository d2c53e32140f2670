/* Number parsing: Python int(x, 0) grammar and the partition table's K/M suffixes. */
#include "esf_test.h"

#include <stdlib.h>
#include <string.h>

#include "espforge/number.h"

static void test_parse_int_python_rules(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t want; int rc; } cases[] = {
        { "0", 0, ESF_OK }, { "00", 0, ESF_OK }, { "0_0", 0, ESF_OK }, { "12288", 12288, ESF_OK },
        { "0x3000", 0x3000, ESF_OK }, { "0X3000", 0x3000, ESF_OK }, { "0o17", 15, ESF_OK },
        { "0O17", 15, ESF_OK }, { "0b101", 5, ESF_OK }, { "0B1", 1, ESF_OK },
        { "24_576", 24576, ESF_OK }, { "0x_6000", 0x6000, ESF_OK }, { "0x60_00", 0x6000, ESF_OK },
        { " 42 ", 42, ESF_OK }, { "\t-7\n", -7, ESF_OK }, { "+5", 5, ESF_OK }, { "-0x10", -16, ESF_OK },
        { "9223372036854775807", INT64_MAX, ESF_OK },
        { "-9223372036854775808", INT64_MIN, ESF_OK },
        { "9223372036854775808", 0, ESF_ERR_RANGE }, { "0x1ffffffffffffffff", 0, ESF_ERR_RANGE },
        { "010", 0, ESF_ERR_PARSE }, { "0_1", 0, ESF_ERR_PARSE }, { "0x", 0, ESF_ERR_PARSE },
        { "", 0, ESF_ERR_PARSE }, { "  ", 0, ESF_ERR_PARSE }, { "1__0", 0, ESF_ERR_PARSE },
        { "_1", 0, ESF_ERR_PARSE }, { "1_", 0, ESF_ERR_PARSE }, { "0x__1", 0, ESF_ERR_PARSE },
        { "1.5", 0, ESF_ERR_PARSE }, { "0x1g", 0, ESF_ERR_PARSE }, { "0b2", 0, ESF_ERR_PARSE },
        { "--1", 0, ESF_ERR_PARSE }, { "- 1", 0, ESF_ERR_PARSE }, { "abc", 0, ESF_ERR_PARSE },
        { "1K", 0, ESF_ERR_PARSE },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t v = -7;
        esf_error err;
        esf_error_clear(&err);
        int rc = esf_parse_int(cases[i].in, &v, &err);
        if (rc != cases[i].rc || v != (rc ? -7 : cases[i].want))
            fail_msg("case %zu \"%s\": rc %d v %lld", i, cases[i].in, rc, (long long)v);
        if (rc == ESF_ERR_PARSE)
            assert_non_null(strstr(err.msg, "invalid literal for int() with base 0"));
    }
}

static void test_parse_int_km(void **state)
{
    (void)state;
    static const struct { const char *in; int64_t want; int rc; const char *msg; } cases[] = {
        { "64k", 65536, ESF_OK, NULL }, { "64K", 65536, ESF_OK, NULL }, { "1M", 1048576, ESF_OK, NULL },
        { "1m", 1048576, ESF_OK, NULL }, { "0x10K", 16384, ESF_OK, NULL }, { "1kk", 1048576, ESF_OK, NULL },
        { "-2M", -2097152, ESF_OK, NULL }, { "0x6000", 0x6000, ESF_OK, NULL },
        { "1.5M", 0, ESF_ERR_PARSE, "Invalid field value 1.5" },
        { "010", 0, ESF_ERR_PARSE, "Invalid field value 010" },
        { "K", 0, ESF_ERR_PARSE, "Invalid field value " },
        { "9999999999999999999", 0, ESF_ERR_RANGE, NULL },
        { "8796093022208M", 0, ESF_ERR_RANGE, NULL },
        { "1kkkkkkk", 0, ESF_ERR_RANGE, NULL }, { "0kkkkkkkkkkkkkkkk", 0, ESF_OK, NULL },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t v = -7;
        esf_error err;
        esf_error_clear(&err);
        int rc = esf_parse_int_km(cases[i].in, &v, &err);
        if (rc != cases[i].rc || v != (rc ? -7 : cases[i].want))
            fail_msg("case %zu \"%s\": rc %d v %lld", i, cases[i].in, rc, (long long)v);
        if (cases[i].msg && strcmp(err.msg, cases[i].msg))
            fail_msg("case %zu: message \"%s\", want \"%s\"", i, err.msg, cases[i].msg);
    }
}

/* A long run of suffixes must not recurse (a stack overflow found by fuzzing the partition CSV). */
static void test_parse_int_km_many_suffixes(void **state)
{
    (void)state;
    size_t n = 200000;
    char *s = malloc(n + 2);
    assert_non_null(s);
    s[0] = '0';
    memset(s + 1, 'k', n);
    s[n + 1] = '\0';
    int64_t v = -1;
    assert_int_equal(esf_parse_int_km(s, &v, NULL), ESF_OK);
    assert_int_equal(v, 0);
    s[0] = '3';
    assert_int_equal(esf_parse_int_km(s, &v, NULL), ESF_ERR_RANGE);
    s[0] = 'x';
    esf_error err;
    assert_int_equal(esf_parse_int_km(s, &v, &err), ESF_ERR_PARSE);
    assert_string_equal(err.msg, "Invalid field value x");
    free(s);
}

static void test_parse_size(void **state)
{
    (void)state;
    static const struct { const char *in; uint64_t want; int rc; } cases[] = {
        { "0x6000", 0x6000, ESF_OK }, { "24K", 24576, ESF_OK }, { "24KB", 24576, ESF_OK },
        { "24kib", 24576, ESF_OK }, { "4MB", 4194304, ESF_OK }, { "1MiB", 1048576, ESF_OK },
        { "-4K", 0, ESF_ERR_RANGE }, { "lots", 0, ESF_ERR_PARSE }, { "", 0, ESF_ERR_PARSE },
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint64_t v = 7;
        int rc = esf_parse_size(cases[i].in, &v, NULL);
        if (rc != cases[i].rc || v != (rc ? 7 : cases[i].want))
            fail_msg("case %zu \"%s\": rc %d v %llu", i, cases[i].in, rc, (unsigned long long)v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_int_python_rules),
        cmocka_unit_test(test_parse_int_km),
        cmocka_unit_test(test_parse_int_km_many_suffixes),
        cmocka_unit_test(test_parse_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
