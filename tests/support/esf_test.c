#include "esf_test.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/io.h"

const char *esf_test_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", ESF_TEST_DATA, rel);
    return buf;
}

uint8_t *esf_test_read(const char *rel, size_t *len)
{
    uint8_t *data = NULL;
    esf_error err;
    esf_error_clear(&err);
    if (esf_file_read(esf_test_path(rel), &data, len, &err) < 0)
        fail_msg("cannot read test data %s: %s", rel, err.msg);
    return data;
}

char *esf_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl = malloc(4096);
    assert_non_null(tmpl);
    snprintf(tmpl, 4096, "%s/esf-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(tmpl));
    return tmpl;
}

void esf_test_rmdir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (remove(path) != 0)
            esf_test_rmdir(path);
    }
    closedir(d);
    remove(dir);
}

int esf_test_count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}
