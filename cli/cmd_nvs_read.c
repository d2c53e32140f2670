/* espforge CLI: `espforge nvs dump | check | get` — reading NVS images (plain or encrypted), alone
 * or as a partition inside a whole flash image (--offset/--size, or --partition LABEL found in the
 * partition table at 0x8000), and `nvs diff A B`. Thin over nvs_image.h, nvs_check.h and
 * nvs_dump.h. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espforge/io.h"
#include "espforge/number.h"
#include "espforge/nvs_check.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_dump.h"
#include "espforge/nvs_image.h"
#include "espforge/part_table.h"

#define TABLE_OFFSET 0x8000u

/* options shared by the three verbs */
typedef struct read_opts {
    const char *image, *key_path, *partition, *offset, *size, *out_path, *format;
    const char *pos[3];
    int npos;
    bool json, base64, strict;
} read_opts;

static int usage(const char *verb)
{
    if (!strcmp(verb, "dump"))
        fprintf(stderr, "usage: espforge nvs dump IMAGE [--format text|csv|json] [--json] "
                        "[--base64] [-o OUT]\n");
    else if (!strcmp(verb, "check"))
        fprintf(stderr, "usage: espforge nvs check IMAGE [--json] [--strict]\n");
    else if (!strcmp(verb, "diff"))
        fprintf(stderr, "usage: espforge nvs diff IMAGE_A IMAGE_B (exit 0: same values, 1: "
                        "different)\n");
    else
        fprintf(stderr, "usage: espforge nvs get IMAGE NAMESPACE KEY [-o OUT]\n");
    fprintf(stderr, "       common: [--key KEYS.bin] [--offset N [--size N] | --partition LABEL]\n"
                    "  --key KEYS.bin     NVS keys file (64 key bytes + CRC) of an encrypted "
                    "image\n"
                    "  --offset/--size    the NVS partition's place in a whole flash image\n"
                    "  --partition LABEL  find it in the flash image's partition table (0x8000)\n");
    return CLI_EXIT_USAGE;
}

/* --name VALUE or --name=VALUE; returns the value or NULL (and *i advanced) */
static const char *opt_value(int argc, char **argv, int *i, const char *name, bool *bad)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n))
        return NULL;
    if (argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (argv[*i][n])
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "espforge nvs %s: option %s needs a value\n", argv[0], name);
        *bad = true;
        return NULL;
    }
    return argv[++*i];
}

static int parse_opts(int argc, char **argv, read_opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        bool bad = false;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(argv[0]);
            return 1;
        }
        if ((v = opt_value(argc, argv, &i, "--key", &bad)))
            o->key_path = v;
        else if ((v = opt_value(argc, argv, &i, "--partition", &bad)))
            o->partition = v;
        else if ((v = opt_value(argc, argv, &i, "--offset", &bad)))
            o->offset = v;
        else if ((v = opt_value(argc, argv, &i, "--size", &bad)))
            o->size = v;
        else if ((v = opt_value(argc, argv, &i, "--format", &bad)))
            o->format = v;
        else if ((v = opt_value(argc, argv, &i, "-o", &bad)) ||
                 (v = opt_value(argc, argv, &i, "--output", &bad)))
            o->out_path = v;
        else if (bad)
            return usage(argv[0]);
        else if (!strcmp(a, "--json"))
            o->json = true;
        else if (!strcmp(a, "--base64"))
            o->base64 = true;
        else if (!strcmp(a, "--strict"))
            o->strict = true;
        else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "espforge nvs %s: unknown option '%s'\n", argv[0], a);
            return usage(argv[0]);
        } else if (o->npos < 3)
            o->pos[o->npos++] = a;
        else {
            fprintf(stderr, "espforge nvs %s: unexpected argument '%s'\n", argv[0], a);
            return usage(argv[0]);
        }
    }
    if (o->npos < 1)
        return usage(argv[0]);
    o->image = o->pos[0];
    if (o->partition && (o->offset || o->size)) {
        fprintf(stderr, "espforge nvs %s: --partition and --offset/--size exclude each other\n",
                argv[0]);
        return CLI_EXIT_USAGE;
    }
    return 0;
}

enum { VERB_RUN = -1 };

/* Parse the options of `verb` and check it has exactly `npos` positional arguments and, unless
 * `out_ok`, no -o. Returns VERB_RUN to go on, else the exit code (0 after --help). */
static int verb_opts(const char *verb, int argc, char **argv, read_opts *o, int npos, bool out_ok)
{
    int rc = parse_opts(argc, argv, o);
    if (rc)
        return rc == 1 ? CLI_EXIT_OK : rc;
    if (o->npos != npos || (o->out_path && !out_ok))
        return usage(verb);
    return VERB_RUN;
}

/* Load the image (or the partition inside it) and decrypt with the keys file. `*base` = the
 * partition's offset in the file, for messages. */
static int load(const read_opts *o, esf_nvs_image **img, uint64_t *base, esf_error *err)
{
    uint8_t *buf = NULL, *keybuf = NULL, key[ESF_NVS_XTS_KEY_LEN];
    size_t len = 0, klen = 0;
    esf_part_table *t = NULL;
    uint64_t off = 0, size = 0;
    int rc;
    *base = 0;
    if ((rc = esf_file_read(o->image, &buf, &len, err)) < 0)
        goto done;
    if (o->partition) {
        if ((rc = esf_part_table_decode_image(&t, buf, len, TABLE_OFFSET, o->image, NULL, err)) < 0) {
            esf_error_wrap(err, "reading the partition table at 0x%x", TABLE_OFFSET);
            goto done;
        }
        const esf_part_entry *e = esf_part_table_find(t, o->partition);
        if (!e) {
            rc = esf_error_set(err, ESF_ERR_NOT_FOUND, "%s: no partition labelled '%s' in the "
                               "table at 0x%x", o->image, o->partition, TABLE_OFFSET);
            goto done;
        }
        if (e->type != ESF_PART_TYPE_DATA || e->subtype != ESF_PART_SUBTYPE_DATA_NVS) {
            rc = esf_error_set(err, ESF_ERR_INVALID, "%s: partition '%s' has type 0x%02llx "
                               "subtype 0x%02llx, not an NVS partition (data, nvs); use "
                               "--offset/--size to read it anyway", o->image, o->partition,
                               (unsigned long long)e->type, (unsigned long long)e->subtype);
            goto done;
        }
        off = (uint64_t)e->offset;
        size = (uint64_t)e->size;
    } else if (o->offset || o->size) {
        if (o->offset && (rc = esf_parse_size(o->offset, &off, err)) < 0) {
            esf_error_wrap(err, "--offset");
            goto done;
        }
        if (o->size && (rc = esf_parse_size(o->size, &size, err)) < 0) {
            esf_error_wrap(err, "--size");
            goto done;
        }
        if (!o->size)
            size = off <= len ? len - off : 0;
    } else {
        size = len;
    }
    if (off > len || size > len - off) {
        rc = esf_error_at(err, ESF_ERR_RANGE, o->image, (int64_t)len,
                          "NVS partition 0x%llx..0x%llx lies outside the %zu-byte file",
                          (unsigned long long)off, (unsigned long long)(off + size), len);
        goto done;
    }
    if (o->key_path) {
        if ((rc = esf_file_read(o->key_path, &keybuf, &klen, err)) < 0)
            goto done;
        if (klen >= ESF_NVS_XTS_KEY_LEN && klen < ESF_NVS_KEYS_CRC_OFFSET + 4)
            memcpy(key, keybuf, ESF_NVS_XTS_KEY_LEN); /* bare 64-byte key */
        else if ((rc = esf_nvs_keys_parse(keybuf, klen, key, o->key_path, err)) < 0)
            goto done;
    }
    rc = esf_nvs_image_parse(img, buf + off, (size_t)size, o->key_path ? key : NULL, err);
    if (rc < 0) {
        if (err->offset >= 0)
            err->offset += (int64_t)off;
        snprintf(err->source, sizeof err->source, "%s", o->image);
    }
    *base = off;
done:
    memset(key, 0, sizeof key);
    esf_part_table_free(t);
    free(buf);
    free(keybuf);
    return rc;
}

/* write through an atomic file (-o) or to stdout */
typedef int (*emit_fn)(FILE *out, void *ctx, esf_error *err);

static int emit(const char *path, emit_fn fn, void *ctx, esf_error *err)
{
    if (!path || !strcmp(path, "-")) {
        int rc = fn(stdout, ctx, err);
        if (rc >= 0 && fflush(stdout) != 0)
            rc = esf_error_set(err, ESF_ERR_IO, "writing to standard output failed");
        return rc;
    }
    esf_atomic_file f = { 0 };
    int rc = esf_atomic_open(&f, path, err);
    if (rc < 0)
        return rc;
    if ((rc = fn(f.fp, ctx, err)) < 0) {
        esf_atomic_abort(&f);
        return rc;
    }
    return esf_atomic_commit(&f, err);
}

typedef struct dump_ctx {
    const esf_nvs_image *img;
    esf_nvs_dump_opts opts;
} dump_ctx;

static int emit_dump(FILE *out, void *ctx, esf_error *err)
{
    dump_ctx *d = ctx;
    return esf_nvs_dump(out, d->img, &d->opts, err);
}

int cmd_nvs_dump(int argc, char **argv)
{
    read_opts o;
    esf_error err;
    esf_nvs_image *img = NULL;
    uint64_t base;
    int rc = verb_opts("dump", argc, argv, &o, 1, true);
    if (rc != VERB_RUN)
        return rc;
    dump_ctx d = { NULL, { ESF_NVS_DUMP_TEXT, o.base64 } };
    if (o.json || (o.format && !strcmp(o.format, "json")))
        d.opts.format = ESF_NVS_DUMP_JSON;
    else if (o.format && !strcmp(o.format, "csv"))
        d.opts.format = ESF_NVS_DUMP_CSV;
    else if (o.format && strcmp(o.format, "text")) {
        fprintf(stderr, "espforge nvs dump: --format must be text, csv or json\n");
        return CLI_EXIT_USAGE;
    }
    esf_error_clear(&err);
    if ((rc = load(&o, &img, &base, &err)) >= 0) {
        d.img = img;
        rc = emit(o.out_path, emit_dump, &d, &err);
    }
    esf_nvs_image_free(img);
    return cli_report(rc, &err, CLI_EXIT_FAIL);
}

typedef struct report_ctx {
    const esf_nvs_report *rep;
    uint64_t base;
    bool json;
} report_ctx;

int cmd_nvs_check(int argc, char **argv)
{
    read_opts o;
    esf_error err;
    esf_nvs_image *img = NULL;
    esf_nvs_report rep = { 0 };
    uint64_t base;
    int rc = verb_opts("check", argc, argv, &o, 1, false);
    if (rc != VERB_RUN)
        return rc;
    esf_error_clear(&err);
    if ((rc = load(&o, &img, &base, &err)) >= 0 && (rc = esf_nvs_check(img, &rep, &err)) >= 0) {
        rc = esf_nvs_report_print(stdout, &rep, base, o.json, &err);
        if (rc >= 0 && fflush(stdout) != 0)
            rc = esf_error_set(&err, ESF_ERR_IO, "writing to standard output failed");
    }
    int code = cli_report(rc, &err, CLI_EXIT_FAIL);
    if (rc >= 0 && (rep.errors || (o.strict && rep.warnings)))
        code = CLI_EXIT_FAIL;
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    return code;
}

typedef struct value_ctx {
    const esf_nvs_value *v;
    bool raw;
} value_ctx;

static int emit_value(FILE *out, void *ctx, esf_error *err)
{
    value_ctx *c = ctx;
    int rc = esf_nvs_value_print(out, c->v, c->raw, err);
    if (rc >= 0 && !c->raw && fputc('\n', out) == EOF)
        rc = esf_error_set(err, ESF_ERR_IO, "write error");
    return rc;
}

int cmd_nvs_get(int argc, char **argv)
{
    read_opts o;
    esf_error err;
    esf_nvs_image *img = NULL;
    uint64_t base;
    int rc = verb_opts("get", argc, argv, &o, 3, true);
    if (rc != VERB_RUN)
        return rc;
    esf_error_clear(&err);
    if ((rc = load(&o, &img, &base, &err)) >= 0) {
        const esf_nvs_value *v = esf_nvs_image_find(img, o.pos[1], o.pos[2]);
        if (!v) {
            rc = esf_error_set(&err, ESF_ERR_NOT_FOUND, "%s: key '%s' not found in namespace "
                               "'%s'", o.image, o.pos[2], o.pos[1]);
        } else {
            /* with -o the bytes go to the file as stored (strings without their NUL) */
            value_ctx c = { v, o.out_path != NULL };
            rc = emit(o.out_path, emit_value, &c, &err);
        }
    }
    esf_nvs_image_free(img);
    return cli_report(rc, &err, CLI_EXIT_FAIL);
}

int cmd_nvs_diff(int argc, char **argv)
{
    read_opts o;
    esf_error err;
    esf_nvs_image *a = NULL, *b = NULL;
    uint64_t base;
    size_t n = 0;
    int rc = verb_opts("diff", argc, argv, &o, 2, false);
    if (rc != VERB_RUN)
        return rc;
    esf_error_clear(&err);
    if ((rc = load(&o, &a, &base, &err)) >= 0) {
        o.image = o.pos[1];
        if ((rc = load(&o, &b, &base, &err)) >= 0)
            rc = esf_nvs_diff(stdout, a, b, &n, &err);
    }
    esf_nvs_image_free(a);
    esf_nvs_image_free(b);
    int code = cli_report(rc, &err, CLI_EXIT_USAGE);
    return rc < 0 ? code : n ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
