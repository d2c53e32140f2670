/* esf_file_update_atomic: writes like esf_file_write_atomic, but leaves a file that already holds
 * the same bytes in place and only refreshes its modification time. */
#include "esf_test.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "espforge/io.h"

static void test_update(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/out.bin", dir);
    esf_error err;
    struct stat a, b;
    /* absent: written */
    assert_int_equal(esf_file_update_atomic(path, "hello", 5, &err), ESF_OK);
    uint8_t *buf;
    size_t len;
    assert_int_equal(esf_file_read(path, &buf, &len, &err), ESF_OK);
    assert_int_equal(len, 5);
    assert_memory_equal(buf, "hello", 5);
    free(buf);
    /* same bytes: same inode, newer modification time */
    struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    assert_int_equal(utimensat(AT_FDCWD, path, old, 0), 0);
    assert_int_equal(stat(path, &a), 0);
    assert_int_equal(esf_file_update_atomic(path, "hello", 5, &err), ESF_OK);
    assert_int_equal(stat(path, &b), 0);
    assert_int_equal(a.st_ino, b.st_ino);
    assert_true(b.st_mtime > a.st_mtime);
    /* same size, other bytes; then another size: rewritten */
    assert_int_equal(esf_file_update_atomic(path, "HELLO", 5, &err), ESF_OK);
    assert_int_equal(esf_file_read(path, &buf, &len, &err), ESF_OK);
    assert_memory_equal(buf, "HELLO", 5);
    free(buf);
    assert_int_equal(esf_file_update_atomic(path, "hi", 2, &err), ESF_OK);
    assert_int_equal(esf_file_read(path, &buf, &len, &err), ESF_OK);
    assert_int_equal(len, 2);
    free(buf);
    /* nothing but the output in the directory (no temporaries left) */
    assert_int_equal(esf_test_count_entries(dir), 1);
    /* a directory in the way: an I/O error, as esf_file_write_atomic reports */
    assert_int_equal(esf_file_update_atomic(dir, "x", 1, &err), ESF_ERR_IO);
    esf_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(test_update) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
