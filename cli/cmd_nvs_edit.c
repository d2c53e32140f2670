/* espforge CLI: `espforge nvs set|erase|apply` — edit an NVS image (stand-alone or a partition of
 * a flash image, plain or encrypted) in place through the NVS runtime. Thin over nvs_script.h
 * (operations with places) and nvs_edit.h (the image file). Semantics: docs/nvs.md, "Editing
 * images". */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espforge/io.h"
#include "espforge/number.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_edit.h"
#include "espforge/nvs_script.h"

typedef struct edit_args {
    const char *verb;
    const char *pos[8];
    int npos;
    const char *key_path, *partition, *new_size;
    uint64_t offset, size, table_offset;
    bool stats, purge, help;
} edit_args;

static void usage(FILE *out, const char *verb)
{
    if (!strcmp(verb, "set"))
        fprintf(out, "usage: espforge nvs set IMAGE NS KEY TYPE VALUE [options]\n"
                     "  TYPE: u8 i8 u16 i16 u32 i32 u64 i64 float double str blob (VALUE in hex)\n");
    else if (!strcmp(verb, "erase"))
        fprintf(out, "usage: espforge nvs erase IMAGE NS [KEY] [options]\n"
                     "  without KEY every key of the namespace NS is erased\n");
    else
        fprintf(out, "usage: espforge nvs apply IMAGE SCRIPT [--new SIZE] [options]\n"
                     "  SCRIPT lines: set NS KEY TYPE VALUE | erase NS KEY | erase_all NS | commit\n"
                     "  --new SIZE          start from a blank NVS image of SIZE bytes (K/M accepted)\n");
    fprintf(out,
            "options:\n"
            "  --key KEYS.bin      the NVS keys file (nvs_keys partition format, or a bare 64-byte\n"
            "                      key): the NVS partition is encrypted\n"
            "  --partition LABEL   edit that partition of a flash image (table at 0x8000)\n"
            "  --table-offset N    where the partition table is (default 0x8000)\n"
            "  --offset N --size N edit the NVS partition at this place of a flash image\n"
            "  --purge             zero-fill erased entries (NVS_READWRITE_PURGE)\n"
            "  --stats             print bytes programmed, erases and their spread over sectors\n"
            "Values are strict (range-checked); use -- before a value starting with '--'.\n"
            "The image file is replaced atomically, only when the edit succeeds.\n");
}

static int size_opt(const char *name, const char *v, uint64_t *out)
{
    esf_error err = { 0 };
    if (!v || esf_parse_size(v, out, &err) < 0 || *out > 0xFFFFFFFFu) {
        fprintf(stderr, "espforge nvs: %s: '%s' is not a size (bytes, 0x.., K/M)\n", name,
                v ? v : "");
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, edit_args *a)
{
    memset(a, 0, sizeof *a);
    a->verb = argv[0];
    bool opts = true;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        char name[32];
        const char *eq = opts && s[0] == '-' && s[1] == '-' ? strchr(s, '=') : NULL;
        bool inline_value = eq && (size_t)(eq - s) < sizeof name;
        if (inline_value) {  /* --name=value */
            memcpy(name, s, (size_t)(eq - s));
            name[eq - s] = '\0';
            s = name;
            v = eq + 1;
        }
        if (opts && !strcmp(s, "--")) {
            opts = false;
        } else if (opts && (!strcmp(s, "-h") || !strcmp(s, "--help"))) {
            a->help = true;
        } else if (opts && !inline_value && !strcmp(s, "--stats")) {
            a->stats = true;
        } else if (opts && !inline_value && !strcmp(s, "--purge")) {
            a->purge = true;
        } else if (opts && (!strcmp(s, "--key") || !strcmp(s, "--partition") ||
                            !strcmp(s, "--new") || !strcmp(s, "--offset") ||
                            !strcmp(s, "--size") || !strcmp(s, "--table-offset"))) {
            if (!v) {
                fprintf(stderr, "espforge nvs %s: %s needs a value\n", a->verb, s);
                return -1;
            }
            if (!inline_value)
                i++;
            if (!strcmp(s, "--key"))
                a->key_path = v;
            else if (!strcmp(s, "--partition"))
                a->partition = v;
            else if (!strcmp(s, "--new") && strcmp(a->verb, "apply")) {
                fprintf(stderr, "espforge nvs %s: --new is an option of apply\n", a->verb);
                return -1;
            } else if (!strcmp(s, "--new"))
                a->new_size = v;
            else if (size_opt(s, v, !strcmp(s, "--offset") ? &a->offset
                                    : !strcmp(s, "--size") ? &a->size : &a->table_offset) < 0)
                return -1;
        } else if (opts && s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "espforge nvs %s: unknown option '%s'\n", a->verb, s);
            return -1;
        } else {
            if (a->npos == 8) {
                fprintf(stderr, "espforge nvs %s: too many arguments\n", a->verb);
                return -1;
            }
            a->pos[a->npos++] = s;
        }
    }
    return 0;
}

static int load_key(const char *path, uint8_t key[ESF_NVS_XTS_KEY_LEN], esf_error *err)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = esf_file_read(path, &buf, &len, err);
    if (rc == ESF_OK && len == ESF_NVS_XTS_KEY_LEN)
        memcpy(key, buf, ESF_NVS_XTS_KEY_LEN);  /* a bare 64-byte key, as `nvs dump` accepts */
    else if (rc == ESF_OK)
        rc = esf_nvs_keys_parse(buf, len, key, path, err);
    free(buf);
    return rc;
}

static int commit_cb(void *ctx, esf_error *err)
{
    return esf_nvs_edit_commit(ctx, err);
}

static void print_stats(const esf_nvs_edit *e)
{
    esf_nvs_wear w;
    esf_nvs_edit_wear(e, &w);
    esf_nvs_stats st;
    esf_nvs_get_stats(esf_nvs_edit_store(e), &st);
    printf("programmed: %llu bytes in %llu writes\n", (unsigned long long)w.bytes_programmed,
           (unsigned long long)w.programs);
    printf("erased: %llu sectors\n", (unsigned long long)w.erases);
    printf("erases per sector (%u sectors): min %u, max %u, mean %.2f\n", w.sectors,
           w.min_erases, w.max_erases, w.mean_erases);
    printf("entries: %zu used, %zu free, %zu available, %zu total, %zu namespaces\n",
           st.used_entries, st.free_entries, st.available_entries, st.total_entries,
           st.namespace_count);
}

static int run(int argc, char **argv)
{
    edit_args a;
    if (parse_args(argc, argv, &a) < 0) {
        usage(stderr, argv[0]);
        return CLI_EXIT_USAGE;
    }
    if (a.help) {
        usage(stdout, a.verb);
        return CLI_EXIT_OK;
    }
    bool is_set = !strcmp(a.verb, "set"), is_erase = !strcmp(a.verb, "erase");
    if ((is_set && a.npos != 5) || (is_erase && (a.npos < 2 || a.npos > 3)) ||
        (!is_set && !is_erase && a.npos != 2)) {
        fprintf(stderr, "espforge nvs %s: wrong number of arguments\n", a.verb);
        usage(stderr, a.verb);
        return CLI_EXIT_USAGE;
    }
    if (a.partition && (a.offset || a.size)) {
        fprintf(stderr, "espforge nvs %s: --partition and --offset/--size exclude each other\n",
                a.verb);
        return CLI_EXIT_USAGE;
    }
    const char *image = a.pos[0];
    esf_error err = { 0 };
    esf_nvs_script *script = NULL;
    esf_nvs_edit *ed = NULL;
    uint8_t *text = NULL;
    size_t text_len = 0, done = 0, commits = 0;
    uint8_t key[ESF_NVS_XTS_KEY_LEN];
    esf_nvs_edit_opts eo = { .partition = a.partition, .table_offset = (uint32_t)a.table_offset,
                             .offset = (uint32_t)a.offset, .size = (uint32_t)a.size };
    int rc;
    /* 1. every operation parsed and checked before the image is opened */
    if (is_set || is_erase) {
        const char *words[5] = { a.verb, a.pos[1], a.pos[2], a.pos[3], a.pos[4] };
        if ((rc = esf_nvs_script_new(&script, "command line", &err)) == ESF_OK)
            rc = esf_nvs_script_add_words(script, words, (size_t)a.npos, &err);
    } else {
        if ((rc = esf_nvs_script_new(&script, a.pos[1], &err)) == ESF_OK &&
            (rc = esf_file_read(a.pos[1], &text, &text_len, &err)) == ESF_OK)
            rc = esf_nvs_script_parse(script, (const char *)text, text_len, &err);
        if (rc == ESF_OK && a.new_size) {
            if (esf_parse_size(a.new_size, &eo.new_size, &err) < 0 || eo.new_size == 0) {
                fprintf(stderr, "espforge nvs apply: --new: '%s' is not a size\n", a.new_size);
                rc = ESF_ERR_INVALID_ARG;
                esf_error_clear(&err);
                goto done;
            }
        }
    }
    if (rc < 0)
        goto done;
    /* 2. the image */
    if (a.key_path) {
        if ((rc = load_key(a.key_path, key, &err)) < 0)
            goto done;
        eo.xts_key = key;
        eo.key_source = a.key_path;
    }
    if ((rc = esf_nvs_edit_open(&ed, image, &eo, &err)) < 0)
        goto done;
    /* 3. apply; `commit` lines write the file; success writes it at the end */
    for (size_t i = 0; i < script->count; i++)
        commits += script->ops[i].kind == ESF_NVS_OP_COMMIT;
    esf_nvs_apply_opts ao = { .commit = commit_cb, .ctx = ed, .purge = a.purge };
    rc = esf_nvs_script_apply(script, esf_nvs_edit_store(ed), &ao, &done, &err);
    if (rc == ESF_OK)
        rc = esf_nvs_edit_commit(ed, &err);
    if (a.stats)
        print_stats(ed);
done:
    if (rc < 0) {
        if (err.msg[0])
            cli_print_error("error", &err);
        if (ed && commits) {
            size_t last = 0;  /* line of the last commit that ran */
            for (size_t i = 0; i < done; i++)
                if (script->ops[i].kind == ESF_NVS_OP_COMMIT)
                    last = script->ops[i].line;
            if (last)
                fprintf(stderr, "%s: kept as committed at %s:%zu\n", image, script->source, last);
            else
                fprintf(stderr, "%s: unchanged\n", image);
        } else if (err.msg[0]) {
            fprintf(stderr, "%s: unchanged\n", image);
        }
    }
    esf_nvs_edit_close(ed);
    esf_nvs_script_free(script);
    free(text);
    memset(key, 0, sizeof key);
    if (rc == ESF_ERR_INVALID_ARG && !err.msg[0])
        return CLI_EXIT_USAGE;
    return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cmd_nvs_set(int argc, char **argv) { return run(argc, argv); }
int cmd_nvs_erase(int argc, char **argv) { return run(argc, argv); }
int cmd_nvs_apply(int argc, char **argv) { return run(argc, argv); }
