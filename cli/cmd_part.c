/* espforge CLI: the `part` command group (partition tables): gen, show, check, builtin, layout.
 * The native commands are strict: input gen_esp32part.py silently mangles is refused with a
 * located message (docs/part.md). The drop-in twin is in cmd_part_twin.c. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espforge/io.h"
#include "espforge/number.h"
#include "espforge/part_table.h"
#include "part_cli.h"

/* ---- helpers shared with the twin */

const char *part_cli_getenv(void *ctx, const char *name)
{
    (void)ctx;
    if (!name[0] || strchr(name, '='))
        return NULL;
    return getenv(name);
}

int part_cli_read(const char *path, uint8_t **buf, size_t *len, esf_error *err)
{
    return esf_file_read(strcmp(path, "-") ? path : "/dev/stdin", buf, len, err);
}

int part_cli_write(const char *path, const void *data, size_t len, esf_error *err)
{
    if (!strcmp(path, "-")) {
        if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
            return esf_error_set(err, ESF_ERR_IO, "cannot write to standard output: %s", strerror(errno));
        return ESF_OK;
    }
    char *dir = strdup(path);
    if (!dir)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    char *slash = strrchr(dir, '/');
    int rc = ESF_OK;
    if (slash && slash != dir) {
        *slash = '\0';
        rc = esf_mkdir_p(dir, err);
    }
    free(dir);
    if (rc < 0)
        return rc;
    return esf_file_update_atomic(path, data, len, err);
}

/* ---- options of the native commands */

typedef struct part_args {
    const char *pos[3];
    int npos;
    esf_part_opts o;
    bool verify;
    bool quiet;
    bool csv, json;
    bool offset_given;
    uint64_t flash_size;  /* 0 = not given */
    const char *out;      /* -o / --output */
    const char **extra;
    size_t nextra;
    /* layout */
    unsigned ota;
    uint64_t app_size, nvs_size;
    int fs;
} part_args;

static int usage_fail(const char *verb, const char *fmt, const char *arg)
{
    fprintf(stderr, "espforge part %s: ", verb);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nRun 'espforge part --help' for usage.\n");
    return CLI_EXIT_USAGE;
}

static int num_arg(const char *verb, const char *opt, const char *v, int64_t *out)
{
    esf_error err;
    if (esf_parse_int_km(v, out, &err) < 0 || *out < -((int64_t)1 << 48) || *out > ((int64_t)1 << 48)) {
        fprintf(stderr, "espforge part %s: %s: invalid number '%s'\n", verb, opt, v);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int size_arg(const char *verb, const char *opt, const char *v, uint64_t *out)
{
    esf_error err;
    if (esf_parse_size(v, out, &err) < 0) {
        fprintf(stderr, "espforge part %s: %s: %s\n", verb, opt, err.msg);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

static int parse_args(const char *verb, int argc, char **argv, part_args *a, int max_pos)
{
    memset(a, 0, sizeof *a);
    esf_part_opts_init(&a->o);
    a->o.strict = true;
    a->o.env = part_cli_getenv;
    a->o.warn = &cli_warn_stderr;
    a->verify = true;
    a->ota = 0;
    a->extra = calloc((size_t)argc + 1, sizeof *a->extra);
    if (!a->extra)
        return usage_fail(verb, "%s", "out of memory");
    bool dashdash = false;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (dashdash || s[0] != '-' || !s[1]) {
            if (a->npos >= max_pos)
                return usage_fail(verb, "unexpected argument '%s'", s);
            a->pos[a->npos++] = s;
            continue;
        }
        if (!strcmp(s, "--")) {
            dashdash = true;
            continue;
        }
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(s, '=');
        snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - s) : (int)strlen(s), s);
        if (eq)
            val = eq + 1;
#define FLAG(n) (!strcmp(name, n))
#define VALUE()                                                                 \
    (val ? val : (i + 1 < argc ? argv[++i] : (usage_fail(verb, "option %s needs a value", name), NULL)))
        if (FLAG("-q") || FLAG("--quiet")) a->quiet = true;
        else if (FLAG("--verify") || FLAG("-v")) a->verify = true;
        else if (FLAG("--no-verify")) a->verify = false;
        else if (FLAG("--disable-md5sum")) a->o.disable_md5 = true;
        else if (FLAG("--csv")) a->csv = true;
        else if (FLAG("--json")) a->json = true;
        else if (FLAG("--offset")) {
            const char *v = VALUE();
            if (!v || num_arg(verb, name, v, &a->o.table_offset)) return CLI_EXIT_USAGE;
            a->offset_given = true;
        } else if (FLAG("--primary-bootloader-offset")) {
            const char *v = VALUE();
            if (!v || num_arg(verb, name, v, &a->o.primary_bootloader_offset)) return CLI_EXIT_USAGE;
            a->o.has_primary_bootloader_offset = true;
        } else if (FLAG("--recovery-bootloader-offset")) {
            const char *v = VALUE();
            if (!v || num_arg(verb, name, v, &a->o.recovery_bootloader_offset)) return CLI_EXIT_USAGE;
            a->o.has_recovery_bootloader_offset = true;
        } else if (FLAG("--secure")) {
            const char *v = VALUE();
            if (!v) return CLI_EXIT_USAGE;
            if (!strcmp(v, "v1")) a->o.secure = 1;
            else if (!strcmp(v, "v2")) a->o.secure = 2;
            else return usage_fail(verb, "--secure: want v1 or v2, not '%s'", v);
        } else if (FLAG("--flash-size")) {
            const char *v = VALUE();
            if (!v || size_arg(verb, name, v, &a->flash_size)) return CLI_EXIT_USAGE;
        } else if (FLAG("-o") || FLAG("--output")) {
            if (!(a->out = VALUE())) return CLI_EXIT_USAGE;
        } else if (FLAG("--extra-partition-subtypes")) {
            if (val)
                a->extra[a->nextra++] = val;
            while (i + 1 < argc && argv[i + 1][0] != '-')
                a->extra[a->nextra++] = argv[++i];
        } else if (FLAG("--ota")) {
            const char *v = VALUE();
            if (!v) return CLI_EXIT_USAGE;
            if (strcmp(v, "0") && strcmp(v, "2") && strcmp(v, "3"))
                return usage_fail(verb, "--ota: want 0, 2 or 3 slots, not '%s'", v);
            a->ota = (unsigned)(v[0] - '0');
        } else if (FLAG("--app-size")) {
            const char *v = VALUE();
            if (!v || size_arg(verb, name, v, &a->app_size)) return CLI_EXIT_USAGE;
        } else if (FLAG("--nvs-size")) {
            const char *v = VALUE();
            if (!v || size_arg(verb, name, v, &a->nvs_size)) return CLI_EXIT_USAGE;
        } else if (FLAG("--fs")) {
            const char *v = VALUE();
            if (!v) return CLI_EXIT_USAGE;
            if (!strcmp(v, "fat")) a->fs = ESF_PART_SUBTYPE_DATA_FAT;
            else if (!strcmp(v, "spiffs")) a->fs = ESF_PART_SUBTYPE_DATA_SPIFFS;
            else if (!strcmp(v, "littlefs")) a->fs = ESF_PART_SUBTYPE_DATA_LITTLEFS;
            else if (!strcmp(v, "none")) a->fs = -1;
            else return usage_fail(verb, "--fs: want fat, spiffs, littlefs or none, not '%s'", v);
        } else {
            return usage_fail(verb, "unknown option '%s'", s);
        }
#undef FLAG
#undef VALUE
    }
    return 0;
}

/* parse_args + the positional count; on failure frees what it took and returns the exit code */
static int verb_args(const char *verb, int argc, char **argv, part_args *a, int min_pos, int max_pos,
                     const char *want)
{
    int rc = parse_args(verb, argc, argv, a, max_pos);
    if (!rc && a->npos < min_pos)
        rc = usage_fail(verb, "%s", want);
    if (rc)
        free(a->extra);
    return rc;
}

static int report(int rc, const esf_error *err)
{
    return cli_report(rc, err, CLI_EXIT_FAIL);
}

/* A verb's teardown: free what it loaded (NULL-safe) and its arguments; report rc. */
static int verb_end(part_args *a, esf_part_table *t, esf_part_keywords *kw, int rc,
                    const esf_error *err)
{
    esf_part_table_free(t);
    esf_part_keywords_free(kw);
    free(a->extra);
    return report(rc, err);
}

/* CSV text has no NUL and no 0xFF byte (not UTF-8); a flash image has plenty of both. */
static bool looks_like_text(const uint8_t *buf, size_t len)
{
    size_t n = len < 0x10000 ? len : 0x10000;
    return !memchr(buf, 0x00, n) && !memchr(buf, 0xFF, n);
}

static int load_any_raw(part_args *a, const char *path, esf_part_table **t, esf_part_keywords **kw,
                        bool *is_csv, uint8_t raw[ESF_PART_TABLE_MAX_LEN], int64_t *raw_at, esf_error *err);

/* Load a table from a CSV, a table binary or a whole flash image (table at --offset, default
 * 0x8000). *kw receives the extra-subtype keywords (caller frees). */
static int load_any(part_args *a, const char *path, esf_part_table **t, esf_part_keywords **kw,
                    bool *is_csv, esf_error *err)
{
    return load_any_raw(a, path, t, kw, is_csv, NULL, NULL, err);
}

/* load_any, also copying a binary table's sector (0xFF past the file's end) to raw; *raw_at is
 * its offset in the file (-1 for CSV input). */
static int load_any_raw(part_args *a, const char *path, esf_part_table **t, esf_part_keywords **kw,
                        bool *is_csv, uint8_t raw[ESF_PART_TABLE_MAX_LEN], int64_t *raw_at, esf_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    *t = NULL;
    *kw = NULL;
    if (a->nextra) {
        if ((rc = esf_part_keywords_new(kw, a->extra, a->nextra, true, a->o.warn, err)) < 0)
            return rc;
        a->o.keywords = *kw;
    }
    if ((rc = esf_part_opts_check(&a->o, err)) < 0)
        return rc;
    if ((rc = part_cli_read(path, &buf, &len, err)) < 0)
        return rc;
    static const uint8_t ff[32] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    bool table_bin = len >= 2 && ((buf[0] == 0xAA && buf[1] == 0x50) ||
                                  (len <= ESF_PART_TABLE_SECTOR &&
                                   ((buf[0] == 0xEB && buf[1] == 0xEB) || (len >= 32 && !memcmp(buf, ff, 32)))));
    *is_csv = false;
    int64_t at = -1;
    if (table_bin) {
        at = 0;
        rc = esf_part_table_decode(t, buf, len, path, &a->o, err);
    } else if (len > ESF_PART_TABLE_SECTOR && !looks_like_text(buf, len)) {
        at = a->offset_given ? a->o.table_offset : ESF_PART_DEFAULT_OFFSET;
        a->o.table_offset = at;
        if (at < 0 || (uint64_t)at >= len)
            rc = esf_error_loc(err, ESF_ERR_RANGE, path, 0, 0,
                               "image is %zu bytes: no partition table at 0x%llx", len, (unsigned long long)at);
        else
            rc = esf_part_table_decode_image(t, buf, len, (uint32_t)at, path, &a->o, err);
    } else {
        *is_csv = true;
        rc = esf_part_csv_parse(t, (const char *)buf, len, path, &a->o, err);
    }
    if (raw_at)
        *raw_at = at >= 0 && (uint64_t)at < len ? at : -1;
    if (raw && at >= 0 && (uint64_t)at < len) {
        size_t n = len - (size_t)at < ESF_PART_TABLE_MAX_LEN ? len - (size_t)at : ESF_PART_TABLE_MAX_LEN;
        memset(raw, 0xFF, ESF_PART_TABLE_MAX_LEN);
        memcpy(raw, buf + at, n);
    }
    free(buf);
    return rc;
}

/* verify (unless --no-verify), flash size, and encode: what gen and check share */
static int check_table(part_args *a, const esf_part_table *t, uint8_t bin[ESF_PART_TABLE_MAX_LEN],
                       esf_error *err)
{
    int rc;
    if (a->verify && (rc = esf_part_table_verify(t, &a->o, err)) < 0)
        return rc;
    if (a->flash_size && (rc = esf_part_table_check_flash_size(t, a->flash_size, err)) < 0)
        return rc;
    return esf_part_table_encode(t, &a->o, bin, err);
}

static int part_gen(int argc, char **argv)
{
    part_args a;
    int rc = verb_args("gen", argc, argv, &a, 1, 2, "want IN.csv OUT.bin");
    if (rc)
        return rc;
    if (a.npos != 2 && !a.out) {
        free(a.extra);
        return usage_fail("gen", "%s", "want IN.csv OUT.bin");
    }
    const char *out = a.npos == 2 ? a.pos[1] : a.out;
    esf_error err;
    esf_error_clear(&err);
    esf_part_table *t = NULL;
    esf_part_keywords *kw = NULL;
    bool is_csv;
    uint8_t bin[ESF_PART_TABLE_MAX_LEN];
    if ((rc = load_any(&a, a.pos[0], &t, &kw, &is_csv, &err)) == ESF_OK &&
        (rc = check_table(&a, t, bin, &err)) == ESF_OK)
        rc = part_cli_write(out, bin, sizeof bin, &err);
    if (rc == ESF_OK && !a.quiet && strcmp(out, "-"))
        fprintf(stderr, "%s: %zu partitions, table for offset 0x%llx\n", out, t->count,
                (unsigned long long)a.o.table_offset);
    return verb_end(&a, t, kw, rc, &err);
}

static int part_show(int argc, char **argv)
{
    part_args a;
    int rc = verb_args("show", argc, argv, &a, 1, 1, "want FILE (a CSV, a table binary or a flash image)");
    if (rc)
        return rc;
    esf_error err;
    esf_error_clear(&err);
    esf_part_table *t = NULL;
    esf_part_keywords *kw = NULL;
    char *text = NULL;
    bool is_csv;
    if ((rc = load_any(&a, a.pos[0], &t, &kw, &is_csv, &err)) == ESF_OK) {
        if (a.json)
            rc = esf_part_table_to_json(t, kw, &text, &err);
        else if (a.csv)
            rc = esf_part_table_to_csv(t, kw, &text, &err);
        else
            rc = esf_part_table_summary(t, kw, &text, &err);
    }
    if (rc == ESF_OK)
        rc = part_cli_write(a.out ? a.out : "-", text, strlen(text), &err);
    free(text);
    return verb_end(&a, t, kw, rc, &err);
}

static int part_check(int argc, char **argv)
{
    part_args a;
    int rc = verb_args("check", argc, argv, &a, 1, 1, "want FILE");
    if (rc)
        return rc;
    a.verify = true;
    esf_error err;
    esf_error_clear(&err);
    esf_part_table *t = NULL;
    esf_part_keywords *kw = NULL;
    bool is_csv;
    uint8_t bin[ESF_PART_TABLE_MAX_LEN];
    uint8_t raw[ESF_PART_TABLE_MAX_LEN];
    int64_t raw_at = -1;
    if ((rc = load_any_raw(&a, a.pos[0], &t, &kw, &is_csv, raw, &raw_at, &err)) == ESF_OK && raw_at >= 0) {
        /* what the bootloader would say about these bytes (partition-table.md §2.4) */
        rc = esf_part_table_verify_device(raw, sizeof raw, a.flash_size, NULL, NULL, &err);
        if (rc < 0) {
            snprintf(err.source, sizeof err.source, "%s", a.pos[0]);
            err.offset += raw_at;
            esf_error_wrap(&err, "the bootloader would refuse this table");
        }
    }
    if (rc == ESF_OK && !is_csv && !t->has_md5 && !a.o.disable_md5)
        /* partition-table.md §2.4: the bootloader accepts it, the application-side loader not */
        esf_warn_loc(a.o.warn, a.pos[0], 0, 0,
                     "no MD5 row: apps built with CONFIG_PARTITION_TABLE_MD5=y (the default) refuse this table");
    if (rc == ESF_OK && (rc = check_table(&a, t, bin, &err)) == ESF_OK && !a.quiet) {
        int64_t end = 0;
        for (size_t i = 0; i < t->count; i++)
            if (t->entries[i].offset + t->entries[i].size > end)
                end = t->entries[i].offset + t->entries[i].size;
        printf("%s: OK: %zu partitions%s, table at 0x%llx, partitions end at 0x%llx\n", a.pos[0],
               t->count, is_csv ? "" : t->has_md5 ? ", MD5 matches" : ", no MD5 row",
               (unsigned long long)a.o.table_offset, (unsigned long long)end);
    }
    return verb_end(&a, t, kw, rc, &err);
}

static int part_builtin(int argc, char **argv)
{
    part_args a;
    int rc = verb_args("builtin", argc, argv, &a, 0, 1, "");
    if (rc)
        return rc;
    if (a.npos == 0) {
        for (size_t i = 0; esf_part_builtin_name(i); i++)
            printf("%s\n", esf_part_builtin_name(i));
        free(a.extra);
        return CLI_EXIT_OK;
    }
    const char *csv = esf_part_builtin_csv(a.pos[0]);
    if (!csv) {
        fprintf(stderr, "espforge part builtin: no predefined table '%s'; these exist:\n", a.pos[0]);
        for (size_t i = 0; esf_part_builtin_name(i); i++)
            fprintf(stderr, "  %s\n", esf_part_builtin_name(i));
        free(a.extra);
        return CLI_EXIT_USAGE;
    }
    esf_error err;
    esf_error_clear(&err);
    if (!a.out) {
        fputs(csv, stdout);
        free(a.extra);
        return CLI_EXIT_OK;
    }
    esf_part_table *t = NULL;
    uint8_t bin[ESF_PART_TABLE_MAX_LEN];
    char src[96];
    snprintf(src, sizeof src, "builtin:%s", a.pos[0]);
    if ((rc = esf_part_opts_check(&a.o, &err)) == ESF_OK &&
        (rc = esf_part_csv_parse(&t, csv, strlen(csv), src, &a.o, &err)) == ESF_OK &&
        (rc = check_table(&a, t, bin, &err)) == ESF_OK)
        rc = part_cli_write(a.out, bin, sizeof bin, &err);
    return verb_end(&a, t, NULL, rc, &err);
}

static int part_layout(int argc, char **argv)
{
    part_args a;
    int rc = verb_args("layout", argc, argv, &a, 0, 0, "");
    if (rc)
        return rc;
    free(a.extra);
    if (!a.flash_size)
        return usage_fail("layout", "%s", "--flash-size is required (e.g. --flash-size 4MB)");
    esf_part_layout_opts lo = { .flash_size = a.flash_size, .ota_slots = a.ota, .app_size = a.app_size,
                                .fs = a.fs, .nvs_size = a.nvs_size };
    esf_error err;
    esf_error_clear(&err);
    esf_part_table *t = NULL;
    char *text = NULL;
    uint8_t bin[ESF_PART_TABLE_MAX_LEN];
    if ((rc = esf_part_layout(&t, &lo, &err)) == ESF_OK && (rc = check_table(&a, t, bin, &err)) == ESF_OK) {
        if (a.out)
            rc = part_cli_write(a.out, bin, sizeof bin, &err);
        else if ((rc = esf_part_table_to_csv(t, NULL, &text, &err)) == ESF_OK)
            rc = part_cli_write("-", text, strlen(text), &err);
    }
    free(text);
    esf_part_table_free(t);
    return report(rc, &err);
}

static const cli_verb verbs[] = {
    { "gen", part_gen, "IN.csv OUT.bin [opts]   CSV (or table binary) -> 3072-byte table binary" },
    { "show", part_show, "FILE [--csv|--json]     print a CSV, a table binary or a flash image's table" },
    { "check", part_check, "FILE [opts]             validate like gen_esp32part (and stricter)" },
    { "builtin", part_builtin, "[NAME] [-o OUT.bin]     ESP-IDF's predefined tables (no NAME: list)" },
    { "layout", part_layout, "--flash-size S [--ota 0|2|3] [--app-size N] [--fs fat|spiffs|littlefs|none]\n"
                             "                          [--nvs-size N] [-o OUT.bin]   compute a MicroPython-style table" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: espforge part <verb> [args...]\n\nverbs:\n");
    cli_print_verbs(out, verbs, sizeof verbs / sizeof verbs[0], 8);
    fprintf(out,
            "\noptions (gen, show, check, builtin): --offset N (table offset, default 0x8000; for a\n"
            "  flash image: where the table is), --flash-size S, --disable-md5sum, --secure v1|v2,\n"
            "  --primary-bootloader-offset N, --recovery-bootloader-offset N,\n"
            "  --extra-partition-subtypes TYPE,NAME,HEX..., --no-verify, -q, -o OUT\n"
            "The drop-in twin of gen_esp32part.py is 'espforge gen_esp32part' (see docs/part.md).\n");
}

int cmd_part(int argc, char **argv)
{
    return cli_run_verb("part", verbs, sizeof verbs / sizeof verbs[0], usage, argc, argv);
}
