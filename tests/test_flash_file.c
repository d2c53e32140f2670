/* Flash file backend: load, blank creation, changes reach the file only on commit, atomic commit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espforge/flash.h"
#include "espforge/io.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "%s/esf_flash_file_XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static int count_entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while (d && (e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    if (d)
        closedir(d);
    return n;
}

static void open_rules(void **state)
{
    (void)state;
    char path[512];
    esf_flash f;
    esf_error err;
    snprintf(path, sizeof path, "%s/missing.bin", dir);
    assert_int_equal(esf_flash_file_open(&f, path, 0, &err), ESF_ERR_IO);
    assert_int_equal(esf_flash_file_open(&f, path, 5000, &err), ESF_ERR_INVALID_ARG);
    snprintf(path, sizeof path, "%s/odd.bin", dir);
    uint8_t junk[5000];
    memset(junk, 0, sizeof junk);
    assert_int_equal(esf_file_write_atomic(path, junk, sizeof junk, &err), ESF_OK);
    assert_int_equal(esf_flash_file_open(&f, path, 0, &err), ESF_ERR_INVALID);
    /* an existing file wins over create_size */
    assert_int_equal(esf_file_write_atomic(path, junk, 4096, &err), ESF_OK);
    assert_int_equal(esf_flash_file_open(&f, path, 8192, &err), ESF_OK);
    assert_int_equal(f.size, 4096);
    assert_int_equal(esf_flash_ram_data(&f)[0], 0);
    assert_string_equal(esf_flash_file_path(&f), path);
    esf_flash_close(&f);
    esf_flash ram;
    assert_int_equal(esf_flash_ram_init(&ram, 4096, NULL), ESF_OK);
    assert_int_equal(esf_flash_file_commit(&ram, &err), ESF_ERR_INVALID_ARG);
    assert_null(esf_flash_file_path(&ram));
    esf_flash_close(&ram);
}

static void commit_only(void **state)
{
    (void)state;
    char path[512];
    esf_flash f;
    esf_error err;
    snprintf(path, sizeof path, "%s/img.bin", dir);
    assert_int_equal(esf_flash_file_open(&f, path, 3 * 4096, &err), ESF_OK);
    struct stat st;
    assert_int_not_equal(stat(path, &st), 0);  /* nothing on disk before the commit */
    uint8_t v[16];
    memset(v, 0x12, sizeof v);
    assert_int_equal(esf_flash_program(&f, 4096 + 7, v, sizeof v), ESF_OK);
    /* NOR still enforced */
    uint8_t ff = 0xFF;
    assert_int_equal(esf_flash_program(&f, 4096 + 7, &ff, 1), ESF_ERR_FLASH);
    assert_int_equal(esf_flash_file_commit(&f, &err), ESF_OK);
    assert_int_equal(count_entries(), 1);  /* no temporary file left */
    /* a later change does not reach the file until the next commit */
    assert_int_equal(esf_flash_erase(&f, 1), ESF_OK);
    uint8_t *disk = NULL;
    size_t len = 0;
    assert_int_equal(esf_file_read(path, &disk, &len, &err), ESF_OK);
    assert_int_equal(len, 3 * 4096);
    assert_memory_equal(disk + 4096 + 7, v, sizeof v);
    assert_int_equal(disk[0], 0xFF);
    free(disk);
    esf_flash_close(&f);  /* close without commit: the erase is dropped */
    assert_int_equal(esf_flash_file_open(&f, path, 0, &err), ESF_OK);
    assert_memory_equal(esf_flash_ram_data(&f) + 4096 + 7, v, sizeof v);
    esf_flash_close(&f);
}

static void commit_failure_leaves_file(void **state)
{
    (void)state;
    char path[512];
    esf_flash f;
    esf_error err;
    snprintf(path, sizeof path, "%s/keep.bin", dir);
    uint8_t orig[4096];
    memset(orig, 0x77, sizeof orig);
    assert_int_equal(esf_file_write_atomic(path, orig, sizeof orig, &err), ESF_OK);
    assert_int_equal(esf_flash_file_open(&f, path, 0, &err), ESF_OK);
    assert_int_equal(esf_flash_erase(&f, 0), ESF_OK);
    /* replace the file by a non-empty directory: rename over it must fail, leaving it alone */
    assert_int_equal(unlink(path), 0);
    assert_int_equal(mkdir(path, 0700), 0);
    char inner[600];
    snprintf(inner, sizeof inner, "%s/x", path);
    FILE *fp = fopen(inner, "w");
    assert_non_null(fp);
    fclose(fp);
    assert_int_equal(esf_flash_file_commit(&f, &err), ESF_ERR_IO);
    assert_int_equal(count_entries(), 1);  /* no temporary file left behind */
    struct stat st;
    assert_int_equal(stat(inner, &st), 0);
    unlink(inner);
    rmdir(path);
    esf_flash_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(open_rules, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_only, setup, teardown),
        cmocka_unit_test_setup_teardown(commit_failure_leaves_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
