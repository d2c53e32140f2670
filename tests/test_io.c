/* Atomic output and whole-file reads; the error type's formatting. */
#include "esf_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "espforge/io.h"

static void test_write_atomic_roundtrip(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    const uint8_t data[] = { 0xaa, 0x50, 0x00, 0xff };
    assert_int_equal(esf_file_write_atomic(path, data, sizeof data, NULL), ESF_OK);
    uint8_t *back = NULL;
    size_t len = 0;
    assert_int_equal(esf_file_read(path, &back, &len, NULL), ESF_OK);
    assert_int_equal(len, sizeof data);
    assert_memory_equal(back, data, len);
    assert_int_equal(back[len], 0);
    free(back);
    assert_int_equal(esf_test_count_entries(dir), 1); /* no temporary left */
    esf_test_rmdir(dir);
    free(dir);
}

/* A reservation larger than what is written must not show: no tail of zeros (the blocks are
 * reserved with the size kept), and replacing an existing larger file leaves exactly the data. */
static void test_reserve_keeps_size(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/img.bin", dir);
    uint8_t big[3 * 4096];
    memset(big, 0x5a, sizeof big);
    assert_int_equal(esf_file_write_atomic(path, big, sizeof big, NULL), ESF_OK);
    esf_atomic_file f;
    assert_int_equal(esf_atomic_open(&f, path, NULL), ESF_OK);
    esf_atomic_reserve(&f, 1 << 20);
    assert_int_equal(fwrite("abc", 1, 3, f.fp), 3);
    assert_int_equal(esf_atomic_commit(&f, NULL), ESF_OK);
    uint8_t *back = NULL;
    size_t len = 0;
    assert_int_equal(esf_file_read(path, &back, &len, NULL), ESF_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(back, "abc", 3);
    free(back);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 3);
    esf_atomic_reserve(NULL, 4096); /* NULL-safe */
    assert_int_equal(esf_test_count_entries(dir), 1);
    esf_test_rmdir(dir);
    free(dir);
}

static void test_abort_leaves_nothing(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/partial.bin", dir);
    esf_atomic_file f;
    assert_int_equal(esf_atomic_open(&f, path, NULL), ESF_OK);
    fputs("half", f.fp);
    assert_int_equal(esf_test_count_entries(dir), 1);
    esf_atomic_abort(&f);
    esf_atomic_abort(&f); /* twice is safe */
    assert_int_equal(esf_test_count_entries(dir), 0);
    /* an existing file survives an aborted rewrite untouched */
    assert_int_equal(esf_file_write_atomic(path, "old", 3, NULL), ESF_OK);
    assert_int_equal(esf_atomic_open(&f, path, NULL), ESF_OK);
    fputs("new!", f.fp);
    esf_atomic_abort(&f);
    uint8_t *back;
    size_t len;
    assert_int_equal(esf_file_read(path, &back, &len, NULL), ESF_OK);
    assert_int_equal(len, 3);
    assert_memory_equal(back, "old", 3);
    free(back);
    esf_test_rmdir(dir);
    free(dir);
}

static void test_errors_name_the_path(void **state)
{
    (void)state;
    esf_error err;
    uint8_t *data = (uint8_t *)"x";
    size_t len = 9;
    assert_int_equal(esf_file_read("/nonexistent/espforge/x.csv", &data, &len, &err), ESF_ERR_IO);
    assert_null(data);
    assert_int_equal(len, 0);
    char buf[600];
    esf_error_format(&err, buf, sizeof buf);
    assert_non_null(strstr(buf, "/nonexistent/espforge/x.csv: cannot open"));
    assert_int_equal(esf_file_write_atomic("/nonexistent/espforge/o.bin", "x", 1, &err), ESF_ERR_IO);
    assert_string_equal(err.source, "/nonexistent/espforge/o.bin");
}

static void test_mkdir_p(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir(), path[4200];
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    assert_int_equal(esf_mkdir_p(path, NULL), ESF_OK);
    assert_int_equal(esf_mkdir_p(path, NULL), ESF_OK);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    snprintf(path, sizeof path, "%s/a/b/c", dir);
    esf_test_rmdir(dir);
    free(dir);
}

static void test_error_format_and_names(void **state)
{
    (void)state;
    esf_error e;
    char buf[600];
    esf_error_loc(&e, ESF_ERR_PARSE, "p.csv", 7, 14, "bad %s", "size");
    assert_string_equal(esf_error_format(&e, buf, sizeof buf), "p.csv:7:14: bad size");
    esf_error_loc(&e, ESF_ERR_PARSE, "p.csv", 7, 0, "bad");
    assert_string_equal(esf_error_format(&e, buf, sizeof buf), "p.csv:7: bad");
    assert_int_equal(esf_error_at(&e, ESF_ERR_CORRUPT, "nvs.bin", 0x1f20, "CRC"), ESF_ERR_CORRUPT);
    assert_string_equal(esf_error_format(&e, buf, sizeof buf), "nvs.bin: offset 0x1f20: CRC");
    esf_error_wrap(&e, "page %d", 1);
    assert_string_equal(e.msg, "page 1: CRC");
    assert_int_equal(esf_error_set(NULL, ESF_ERR_IO, "x"), ESF_ERR_IO);
    /* every code has a distinct name (curl's lib1538 idea) */
    for (int c = 0; c > ESF_ERR__LAST; c--) {
        assert_non_null(esf_strerror(c));
        assert_string_not_equal(esf_strerror(c), "ESF_ERR_UNKNOWN");
        for (int d = c - 1; d > ESF_ERR__LAST; d--)
            assert_string_not_equal(esf_strerror(c), esf_strerror(d));
    }
    assert_string_equal(esf_strerror(5), "ESF_ERR_UNKNOWN");
    assert_string_equal(esf_strerror(ESF_ERR__LAST), "ESF_ERR_UNKNOWN");
}

static int warnings;
static void count_warning(void *ctx, const esf_error *w)
{
    (void)ctx;
    warnings++;
    assert_string_equal(w->msg, "name 'x' truncated");
    assert_int_equal(w->line, 3);
}

/* esf_file_write_atomic_at: a new name, then the same name replaced; nothing else left behind */
static void test_write_atomic_at(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir();
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(dfd >= 0);
    esf_error err = { 0 };
    assert_int_equal(esf_file_write_atomic_at(dfd, "a.bin", "first", 5, "a.bin", &err), ESF_OK);
    assert_int_equal(esf_file_write_atomic_at(dfd, "a.bin", "second!", 7, "a.bin", &err), ESF_OK);
    assert_int_equal(esf_test_count_entries(dir), 1);
    char path[4096];
    snprintf(path, sizeof path, "%s/a.bin", dir);
    uint8_t *b = NULL;
    size_t n = 0;
    assert_int_equal(esf_file_read(path, &b, &n, &err), ESF_OK);
    assert_int_equal(n, 7);
    assert_memory_equal(b, "second!", 7);
    free(b);
    /* a name in a missing sub-directory fails with the label in the message */
    assert_int_equal(esf_file_write_atomic_at(dfd, "no/such", "x", 1, "lbl/no/such", &err), ESF_ERR_IO);
    assert_non_null(strstr(err.source, "lbl/no/such"));
    assert_int_equal(esf_test_count_entries(dir), 1);
    close(dfd);
    esf_test_rmdir(dir);
    free(dir);
}

static void test_warn_sink(void **state)
{
    (void)state;
    esf_warn_sink s = { count_warning, NULL };
    esf_warn_loc(&s, "p.csv", 3, 0, "name '%s' truncated", "x");
    esf_warn_loc(NULL, "p.csv", 3, 0, "dropped");
    assert_int_equal(warnings, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_atomic_roundtrip),
        cmocka_unit_test(test_abort_leaves_nothing),
        cmocka_unit_test(test_reserve_keeps_size),
        cmocka_unit_test(test_errors_name_the_path),
        cmocka_unit_test(test_mkdir_p),
        cmocka_unit_test(test_error_format_and_names),
        cmocka_unit_test(test_warn_sink),
        cmocka_unit_test(test_write_atomic_at),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
