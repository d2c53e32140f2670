/* espforge CLI: `espforge nvs gen | keygen | encrypt | decrypt` (native commands).
 *
 *   espforge nvs gen IN.csv... OUT.bin --size N [--version 1|2] [--key KEYS.bin | --keygen KEYS.bin]
 *                    [--base-dir DIR] [--no-wifi-extras]
 *   espforge nvs keygen OUT.bin [--hmac-key HMAC.bin | --hmac-keygen HMAC_OUT.bin]
 *   espforge nvs encrypt|decrypt IN OUT --key KEYS.bin [--offset N --size N | --partition LABEL
 *                    [--table-offset N]]
 *
 * Native rules: inputs the reference gets wrong are refused with file:line:column (see
 * include/espforge/nvs_gen.h and docs/nvs.md), outputs are written atomically. Exit 0 on success,
 * 1 on bad input or failure, 2 on a bad command line. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espforge/io.h"
#include "espforge/number.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_gen.h"
#include "espforge/nvs_page.h"
#include "espforge/part_table.h"

typedef struct nopt {
    const char *name;  /* "--size" */
    bool flag;         /* takes no value */
    const char *value; /* result (flag: "1") */
} nopt;

/* Parse argv[1..] into options (`--name V`, `--name=V`) and positionals. Returns 0 or prints a
 * usage error and returns CLI_EXIT_USAGE; -1 after --help (the caller prints its usage). */
static int parse(int argc, char **argv, nopt *opts, size_t nopts, char **pos, int *npos, int max_pos)
{
    *npos = 0;
    bool only_pos = false;
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!only_pos && !strcmp(a, "--")) {
            only_pos = true;
            continue;
        }
        if (!only_pos && (!strcmp(a, "-h") || !strcmp(a, "--help")))
            return -1;
        if (!only_pos && a[0] == '-' && a[1] == '-') {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a) : strlen(a);
            nopt *o = NULL;
            for (size_t k = 0; k < nopts; k++)
                if (strlen(opts[k].name) == n && !strncmp(opts[k].name, a, n))
                    o = &opts[k];
            if (!o) {
                fprintf(stderr, "espforge nvs %s: unknown option '%.*s'\n", argv[0], (int)n, a);
                return CLI_EXIT_USAGE;
            }
            if (o->flag) {
                if (eq) {
                    fprintf(stderr, "espforge nvs %s: %s takes no value\n", argv[0], o->name);
                    return CLI_EXIT_USAGE;
                }
                o->value = "1";
            } else if (eq) {
                o->value = eq + 1;
            } else if (i + 1 < argc) {
                o->value = argv[++i];
            } else {
                fprintf(stderr, "espforge nvs %s: %s needs a value\n", argv[0], o->name);
                return CLI_EXIT_USAGE;
            }
            continue;
        }
        if (*npos >= max_pos) {
            fprintf(stderr, "espforge nvs %s: too many arguments ('%s')\n", argv[0], a);
            return CLI_EXIT_USAGE;
        }
        pos[(*npos)++] = a;
    }
    return 0;
}

static const char *optv(const nopt *opts, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(opts[i].name, name))
            return opts[i].value;
    return NULL;
}

static int fail_err(const esf_error *err)
{
    cli_print_error("error", err);
    return CLI_EXIT_FAIL;
}

/* Read a keys file (4096 bytes as written by keygen / generate-key; CRC checked), or a bare
 * 64-byte key (eky ‖ tky) like the reader commands accept. */
static int load_key(const char *path, uint8_t key[64])
{
    uint8_t *buf = NULL;
    size_t len;
    esf_error err;
    int rc = esf_file_read(path, &buf, &len, &err);
    if (!rc && len == ESF_NVS_XTS_KEY_LEN)
        memcpy(key, buf, ESF_NVS_XTS_KEY_LEN);
    else if (!rc)
        rc = esf_nvs_keys_parse(buf, len, key, path, &err);
    free(buf);
    return rc ? fail_err(&err) : 0;
}

static int write_keys(const char *path, const uint8_t key[64])
{
    uint8_t buf[ESF_NVS_KEYS_PART_SIZE];
    esf_error err;
    esf_nvs_keys_build(buf, key);
    if (esf_file_write_atomic(path, buf, sizeof buf, &err))
        return fail_err(&err);
    return 0;
}

/* ---- gen ---- */

static void gen_usage(FILE *f)
{
    fprintf(f, "usage: espforge nvs gen IN.csv... OUT.bin --size N [--version 1|2]\n"
               "                        [--key KEYS.bin | --keygen KEYS.bin] [--base-dir DIR]\n"
               "                        [--no-wifi-extras]\n"
               "  --size N          partition size: bytes, 0x..., K/M suffixes (24K, 0x6000, 1M)\n"
               "  --version 1|2     NVS format (default 2: multi-page blobs)\n"
               "  --key KEYS.bin    encrypt with this keys file (made by 'espforge nvs keygen')\n"
               "  --keygen KEYS.bin make a new keys file and encrypt with it\n"
               "  --base-dir DIR    directory for relative type=file paths (default: current)\n"
               "  --no-wifi-extras  don't add the reference's hidden sta.*/ap.pmk_info entries\n");
}

int cmd_nvs_gen(int argc, char **argv)
{
    nopt o[] = { { "--size", false, NULL }, { "--version", false, NULL }, { "--key", false, NULL },
                 { "--keygen", false, NULL }, { "--base-dir", false, NULL },
                 { "--no-wifi-extras", true, NULL } };
    size_t no = sizeof o / sizeof o[0];
    char **pos = calloc((size_t)argc + 1, sizeof *pos);
    int npos, rc = CLI_EXIT_FAIL;
    uint8_t *csv = NULL;
    const uint8_t *image = NULL;
    esf_nvs_gen *g = NULL;
    esf_error err;
    esf_error_clear(&err);
    if (!pos)
        return CLI_EXIT_FAIL;
    int p = parse(argc, argv, o, no, pos, &npos, argc);
    if (p) {
        free(pos);
        if (p < 0) {
            gen_usage(stdout);
            return CLI_EXIT_OK;
        }
        gen_usage(stderr);
        return p;
    }
    const char *size_s = optv(o, no, "--size"), *ver = optv(o, no, "--version");
    const char *key_path = optv(o, no, "--key"), *keygen = optv(o, no, "--keygen");
    if (npos < 2 || !size_s || (key_path && keygen) ||
        (ver && strcmp(ver, "1") && strcmp(ver, "2"))) {
        fprintf(stderr, "espforge nvs gen: %s\n",
                npos < 2 ? "need at least one CSV and the output file"
                : !size_s ? "--size is required"
                : key_path && keygen ? "--key and --keygen exclude each other"
                : "--version must be 1 or 2");
        gen_usage(stderr);
        free(pos);
        return CLI_EXIT_USAGE;
    }
    uint64_t size;
    if (esf_parse_size(size_s, &size, &err)) {
        fprintf(stderr, "error: --size %s: %s\n", size_s, err.msg);
        free(pos);
        return CLI_EXIT_USAGE;
    }
    uint8_t key[64];
    if (key_path && load_key(key_path, key))
        goto done;
    esf_nvs_gen_opts go = { .size = size, .version = ver ? atoi(ver) : 2,
                            .base_dir = optv(o, no, "--base-dir"),
                            .no_wifi_extras = optv(o, no, "--no-wifi-extras") != NULL,
                            .key = NULL, .warn = cli_warn_stderr };
    if (keygen) {
        if (esf_nvs_keys_generate(key, &err)) {
            fail_err(&err);
            goto done;
        }
    }
    if (key_path || keygen)
        go.key = key;
    if (esf_nvs_gen_new(&g, &go, &err)) {
        fail_err(&err);
        goto done;
    }
    for (int i = 0; i < npos - 1; i++) {
        size_t len;
        free(csv);
        csv = NULL;
        if (esf_file_read(pos[i], &csv, &len, &err) ||
            esf_nvs_gen_add_csv(g, (const char *)csv, len, pos[i], &err)) {
            fail_err(&err);
            goto done;
        }
    }
    size_t n, data_len;
    if (esf_nvs_gen_finish_pages(g, &image, &data_len, &n, &err)) {
        fail_err(&err);
        goto done;
    }
    if (keygen && write_keys(keygen, key))
        goto done;
    if (cli_write_ff_image(pos[npos - 1], image, data_len, n, &err)) {
        fail_err(&err);
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    esf_nvs_gen_free(g);
    free(csv);
    free(pos);
    return rc;
}

/* ---- keygen ---- */

int cmd_nvs_keygen(int argc, char **argv)
{
    nopt o[] = { { "--hmac-key", false, NULL }, { "--hmac-keygen", false, NULL } };
    char *pos[2];
    int npos;
    int p = parse(argc, argv, o, 2, pos, &npos, 2);
    const char *usage = "usage: espforge nvs keygen OUT.bin [--hmac-key HMAC.bin | --hmac-keygen HMAC_OUT.bin]\n"
                        "  writes a 4096-byte NVS keys file: XTS key (64 bytes, random or derived from\n"
                        "  an eFuse HMAC key), its CRC, 0xFF fill\n";
    if (p) {
        fputs(usage, p < 0 ? stdout : stderr);
        return p < 0 ? CLI_EXIT_OK : p;
    }
    const char *hk = o[0].value, *hkg = o[1].value;
    if (npos != 1 || (hk && hkg)) {
        fputs(usage, stderr);
        return CLI_EXIT_USAGE;
    }
    uint8_t key[64];
    esf_error err;
    if (hk || hkg) {
        uint8_t *k = NULL, k32[32];
        size_t kl = sizeof k32;
        if (hkg) {
            if (esf_nvs_hmac_key_generate(k32, &err) ||
                esf_file_write_atomic(hkg, k32, sizeof k32, &err))
                return fail_err(&err);
        } else if (esf_file_read(hk, &k, &kl, &err)) {
            return fail_err(&err);
        } else if (kl != ESF_NVS_HMAC_KEY_LEN) {
            fprintf(stderr, "error: %s: %zu bytes; an HMAC key is %u bytes\n", hk, kl,
                    ESF_NVS_HMAC_KEY_LEN);
            free(k);
            return CLI_EXIT_FAIL;
        }
        int rc = esf_nvs_keys_from_hmac(k ? k : k32, kl, key, &err);
        free(k);
        if (rc)
            return fail_err(&err);
    } else if (esf_nvs_keys_generate(key, &err)) {
        return fail_err(&err);
    }
    return write_keys(pos[0], key) ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

/* ---- encrypt / decrypt ---- */

static int crypt_cmd(int encrypt, int argc, char **argv)
{
    nopt o[] = { { "--key", false, NULL }, { "--offset", false, NULL }, { "--size", false, NULL },
                 { "--partition", false, NULL }, { "--table-offset", false, NULL } };
    size_t no = sizeof o / sizeof o[0];
    char *pos[2];
    int npos;
    const char *usage_fmt =
        "usage: espforge nvs %s IN.bin OUT.bin --key KEYS.bin\n"
        "                       [--offset N --size N | --partition LABEL [--table-offset N]]\n"
        "  IN is an NVS image, or a whole flash image with --offset/--size or --partition (the\n"
        "  partition table is read at --table-offset, default 0x8000); the rest is copied as is\n";
    int p = parse(argc, argv, o, no, pos, &npos, 2);
    if (p) {
        fprintf(p < 0 ? stdout : stderr, usage_fmt, argv[0]);
        return p < 0 ? CLI_EXIT_OK : p;
    }
    const char *key_path = optv(o, no, "--key"), *off_s = optv(o, no, "--offset"),
               *size_s = optv(o, no, "--size"), *label = optv(o, no, "--partition"),
               *toff_s = optv(o, no, "--table-offset");
    if (npos != 2 || !key_path || (label && (off_s || size_s)) || (!off_s != !size_s) ||
        (toff_s && !label)) {
        fprintf(stderr, usage_fmt, argv[0]);
        return CLI_EXIT_USAGE;
    }
    esf_error err;
    esf_error_clear(&err);
    uint64_t off = 0, size = 0, toff = 0x8000;
    if ((off_s && esf_parse_size(off_s, &off, &err)) || (size_s && esf_parse_size(size_s, &size, &err)) ||
        (toff_s && esf_parse_size(toff_s, &toff, &err))) {
        fprintf(stderr, "error: %s\n", err.msg);
        return CLI_EXIT_USAGE;
    }
    uint8_t key[64];
    if (load_key(key_path, key))
        return CLI_EXIT_FAIL;
    uint8_t *img = NULL;
    size_t len;
    int rc = CLI_EXIT_FAIL;
    esf_part_table *t = NULL;
    if (esf_file_read(pos[0], &img, &len, &err)) {
        fail_err(&err);
        goto done;
    }
    if (label) {
        if (esf_part_table_decode_image(&t, img, len, (uint32_t)toff, pos[0], NULL, &err)) {
            fail_err(&err);
            goto done;
        }
        const esf_part_entry *e = esf_part_table_find(t, label);
        if (!e) {
            fprintf(stderr, "error: %s: no partition '%s' in the table at 0x%llx\n", pos[0], label,
                    (unsigned long long)toff);
            goto done;
        }
        if (e->type != ESF_PART_TYPE_DATA || e->subtype != ESF_PART_SUBTYPE_DATA_NVS) {
            fprintf(stderr, "error: %s: partition '%s' is not an NVS partition (type %lld, subtype "
                    "%lld)\n", pos[0], label, (long long)e->type, (long long)e->subtype);
            goto done;
        }
        off = (uint64_t)e->offset;
        size = (uint64_t)e->size;
    } else if (!off_s) {
        size = len;
    }
    if (off > len || size > len - off) {
        fprintf(stderr, "error: %s: region 0x%llx+0x%llx is past the end of the %zu-byte image\n",
                pos[0], (unsigned long long)off, (unsigned long long)size, len);
        goto done;
    }
    if (size % ESF_NVS_PAGE_SIZE || off % ESF_NVS_PAGE_SIZE) {
        fprintf(stderr, "error: %s: NVS region 0x%llx+0x%llx is not 4096-byte aligned\n", pos[0],
                (unsigned long long)off, (unsigned long long)size);
        goto done;
    }
    int e = encrypt ? esf_nvs_encrypt_image(img + off, (size_t)size, key, &err)
                    : esf_nvs_decrypt_image(img + off, (size_t)size, key, &err);
    if (e) {
        if (err.offset >= 0)
            err.offset += (int64_t)off;
        snprintf(err.source, sizeof err.source, "%s", pos[0]);
        fail_err(&err);
        goto done;
    }
    if (esf_file_write_atomic(pos[1], img, len, &err)) {
        fail_err(&err);
        goto done;
    }
    rc = CLI_EXIT_OK;
done:
    esf_part_table_free(t);
    free(img);
    return rc;
}

int cmd_nvs_encrypt(int argc, char **argv) { return crypt_cmd(1, argc, argv); }
int cmd_nvs_decrypt(int argc, char **argv) { return crypt_cmd(0, argc, argv); }
