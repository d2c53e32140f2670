/* espforge CLI: mass manufacturing. `espforge mfg gen` (native) and the drop-in twin of
 * ESP-IDF's tools/mass_mfg/mfg_gen.py (`espforge mfg_gen ...` or a symlink named mfg_gen).
 * Both run esf_mfg_run(); this file parses arguments and prints. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "espforge/io.h"
#include "espforge/mfg.h"
#include "espforge/number.h"
#include "espforge/nvs_crypt.h"

/* ------------------------------------------------------------------ a small argparse
 * Long options match exactly or by unique prefix (argparse's allow_abbrev), `--opt=value` and
 * `--opt value` both work, `--` ends options, a lone `-` or a negative number is positional. */

enum { OPT_FLAG, OPT_VALUE, OPT_TWO };

typedef struct opt_spec {
    const char *name;   /* "--outdir" or "-j" */
    int kind;
    const char *metavar;
} opt_spec;

typedef struct opt_val {
    bool set;
    const char *v[2];
} opt_val;

typedef struct parsed {
    opt_val *vals;           /* one per spec */
    const char *pos[16];
    int npos;
} parsed;

static bool looks_negative_number(const char *s)
{
    if (s[0] != '-' || !s[1])
        return false;
    char *end;
    strtod(s, &end);
    return *end == '\0';
}

/* Returns 0, or prints "<prog>: error: ..." and returns 2; -1 for --help. */
static int parse_args(const char *prog, const opt_spec *specs, size_t nspecs, int argc, char **argv,
                      parsed *p, void (*usage)(FILE *))
{
    bool opts_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!opts_done && !strcmp(a, "--")) {
            opts_done = true;
            continue;
        }
        if (opts_done || a[0] != '-' || !a[1] || looks_negative_number(a)) {
            if (p->npos >= (int)(sizeof p->pos / sizeof *p->pos)) {
                usage(stderr);
                fprintf(stderr, "%s: error: unrecognized arguments: %s\n", prog, a);
                return 2;
            }
            p->pos[p->npos++] = a;
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return -1;
        const char *eq = strchr(a, '=');
        size_t alen = eq && a[1] == '-' ? (size_t)(eq - a) : strlen(a);
        int found = -1, nmatch = 0;
        char amb[512] = "";
        for (size_t k = 0; k < nspecs; k++) {
            if (strlen(specs[k].name) == alen && !strncmp(specs[k].name, a, alen)) {
                found = (int)k;
                nmatch = 1;
                break;
            }
        }
        const char *attached = NULL;  /* "-j4": a short option with its value attached */
        if (found < 0 && a[1] != '-' && strlen(a) > 2)
            for (size_t k = 0; k < nspecs; k++)
                if (strlen(specs[k].name) == 2 && !strncmp(specs[k].name, a, 2) && specs[k].kind == OPT_VALUE) {
                    found = (int)k;
                    nmatch = 1;
                    attached = a + 2;
                }
        if (found < 0 && a[1] == '-')
            for (size_t k = 0; k < nspecs; k++)
                if (!strncmp(specs[k].name, a, alen)) {
                    found = (int)k;
                    nmatch++;
                    size_t l = strlen(amb);
                    snprintf(amb + l, sizeof amb - l, "%s%s", l ? ", " : "", specs[k].name);
                }
        if (nmatch > 1) {
            usage(stderr);
            fprintf(stderr, "%s: error: ambiguous option: %.*s could match %s\n", prog, (int)alen, a, amb);
            return 2;
        }
        if (found < 0) {
            usage(stderr);
            fprintf(stderr, "%s: error: unrecognized arguments: %s\n", prog, a);
            return 2;
        }
        const opt_spec *s = &specs[found];
        opt_val *v = &p->vals[found];
        v->set = true;
        if (s->kind == OPT_FLAG) {
            if (eq && a[1] == '-') {
                usage(stderr);
                fprintf(stderr, "%s: error: argument %s: ignored explicit argument '%s'\n", prog, s->name, eq + 1);
                return 2;
            }
            continue;
        }
        int need = s->kind == OPT_TWO ? 2 : 1;
        int got = 0;
        if (eq && a[1] == '-')
            v->v[got++] = eq + 1;
        else if (attached)
            v->v[got++] = attached;
        while (got < need && i + 1 < argc && (argv[i + 1][0] != '-' || !argv[i + 1][1] ||
                                              looks_negative_number(argv[i + 1])))
            v->v[got++] = argv[++i];
        if (got < need) {
            usage(stderr);
            fprintf(stderr, "%s: error: argument %s: expected %s\n", prog, s->name,
                    need == 2 ? "2 arguments" : "one argument");
            return 2;
        }
    }
    return 0;
}

/* Python int(x) (base 10) as argparse's type=int: surrounding whitespace, sign, '_' separators. */
static int parse_int10(const char *s, long long *out)
{
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    if (!(*s >= '0' && *s <= '9'))
        return -1;
    long long v = 0;
    bool prev_digit = false;
    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return -1;
            v = v * 10 + (*s - '0');
            prev_digit = true;
        } else if (*s == '_' && prev_digit && s[1] >= '0' && s[1] <= '9') {
            prev_digit = false;
        } else {
            break;
        }
    }
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    if (*s)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

/* ------------------------------------------------------------------ shared */

static int read_key_file(const char *path, bool twin, uint8_t key[64])
{
    uint8_t *b = NULL;
    size_t n = 0;
    esf_error err = { 0 };
    int rc = esf_file_read(path, &b, &n, &err);
    if (rc < 0) {
        if (twin)
            printf("[Errno %d] %s: '%s'\n", ENOENT, "No such file or directory", path);
        else
            cli_print_error("error", &err);
        return -1;
    }
    if (!twin && n >= 68) {
        rc = esf_nvs_keys_parse(b, n, key, path, &err);
        free(b);
        if (rc < 0) {
            cli_print_error("error", &err);
            return -1;
        }
        return 0;
    }
    if (n < 64) {
        fprintf(stderr, "%s: %zu bytes: an NVS key file holds at least the 64 key bytes\n", path, n);
        free(b);
        return -1;
    }
    memcpy(key, b, 64);  /* the reference reads the first 64 bytes, CRC unchecked */
    free(b);
    return 0;
}

/* ------------------------------------------------------------------ the twin: mfg_gen.py */

static const opt_spec twin_gen_specs[] = {
    { "--prefix_num", OPT_TWO, "start length" },
    { "--fileid", OPT_VALUE, "FILEID" },
    { "--version", OPT_VALUE, "{1,2}" },
    { "--keygen", OPT_FLAG, NULL },
    { "--keyfile", OPT_VALUE, "KEYFILE" },
    { "--inputkey", OPT_VALUE, "INPUTKEY" },
    { "--outdir", OPT_VALUE, "OUTDIR" },
    { "--key_protect_hmac", OPT_FLAG, NULL },
    { "--kp_hmac_keygen", OPT_FLAG, NULL },
    { "--kp_hmac_keyfile", OPT_VALUE, "KP_HMAC_KEYFILE" },
    { "--kp_hmac_inputkey", OPT_VALUE, "KP_HMAC_INPUTKEY" },
    { "--input", OPT_VALUE, "INPUT" },
    { "--output", OPT_VALUE, "OUTPUT" },
};
enum { TG_PREFIX_NUM, TG_FILEID, TG_VERSION, TG_KEYGEN, TG_KEYFILE, TG_INPUTKEY, TG_OUTDIR, TG_KP_HMAC,
       TG_KP_KEYGEN, TG_KP_KEYFILE, TG_KP_INPUTKEY, TG_INPUT, TG_OUTPUT, TG__N };

static const opt_spec twin_key_specs[] = {
    { "--keyfile", OPT_VALUE, "KEYFILE" },
    { "--outdir", OPT_VALUE, "OUTDIR" },
    { "--key_protect_hmac", OPT_FLAG, NULL },
    { "--kp_hmac_keygen", OPT_FLAG, NULL },
    { "--kp_hmac_keyfile", OPT_VALUE, "KP_HMAC_KEYFILE" },
    { "--kp_hmac_inputkey", OPT_VALUE, "KP_HMAC_INPUTKEY" },
};
enum { TK_KEYFILE, TK_OUTDIR, TK_KP_HMAC, TK_KP_KEYGEN, TK_KP_KEYFILE, TK_KP_INPUTKEY, TK__N };

static void twin_usage_top(FILE *out)
{
    fprintf(out, "usage: mfg_gen.py [-h] {generate,generate-key} ...\n");
}

static void twin_usage_gen(FILE *out)
{
    fprintf(out,
            "usage: mfg_gen.py generate [-h] [--prefix_num start length] [--fileid FILEID]\n"
            "                           [--version {1,2}] [--keygen] [--inputkey INPUTKEY]\n"
            "                           [--outdir OUTDIR] [--key_protect_hmac]\n"
            "                           [--kp_hmac_keygen]\n"
            "                           [--kp_hmac_keyfile KP_HMAC_KEYFILE]\n"
            "                           [--kp_hmac_inputkey KP_HMAC_INPUTKEY]\n"
            "                           conf values prefix size\n");
}

static void twin_help_gen(FILE *out)
{
    twin_usage_gen(out);
    fprintf(out,
            "\nGenerate one NVS partition image per device (espforge drop-in twin of mfg_gen.py).\n\n"
            "positional arguments:\n"
            "  conf                  configuration CSV: namespace rows and key,type,encoding rows\n"
            "  values                values CSV: a header of keys, then one row per device\n"
            "  prefix                output file name prefix\n"
            "  size                  partition size in bytes (a multiple of 4096)\n\n"
            "options:\n"
            "  -h, --help            show this help and exit\n"
            "  --prefix_num start length\n"
            "                        insert a counter (start, digits) into each file name\n"
            "  --fileid FILEID       values column naming each file (default: 1, 2, 3 ...)\n"
            "  --version {1,2}       NVS blob format: 1 single-page blobs, 2 multi-page (default)\n"
            "  --keygen              generate an encryption key per device (keys/)\n"
            "  --inputkey INPUTKEY   encrypt every image with this key file\n"
            "  --outdir OUTDIR       output directory (default: current directory)\n"
            "  --key_protect_hmac    derive the keys from an HMAC key (HMAC scheme)\n"
            "  --kp_hmac_keygen      generate the HMAC key(s)\n"
            "  --kp_hmac_keyfile KP_HMAC_KEYFILE\n"
            "                        name of the generated HMAC key file\n"
            "  --kp_hmac_inputkey KP_HMAC_INPUTKEY\n"
            "                        HMAC key file to derive the keys from\n");
}

static void twin_usage_key(FILE *out)
{
    fprintf(out, "usage: mfg_gen.py generate-key [-h] [--keyfile KEYFILE] [--outdir OUTDIR]\n"
                 "                               [--key_protect_hmac] [--kp_hmac_keygen]\n"
                 "                               [--kp_hmac_keyfile KP_HMAC_KEYFILE]\n"
                 "                               [--kp_hmac_inputkey KP_HMAC_INPUTKEY]\n");
}

typedef struct twin_ctx {
    uint32_t size;
    int version;
    bool encrypt;
    bool keyfile_warning;
    bool announced;  /* "Generating encrypted ..." printed (after validation, like the reference) */
} twin_ctx;

static int twin_device(void *ctx, const esf_mfg_device *d)
{
    twin_ctx *t = ctx;
    if (d->rc < 0)
        return 0;
    if (t->encrypt && !t->announced)
        printf("\nGenerating encrypted NVS binary images...\n");
    t->announced = true;
    printf("\nCreated CSV file: ===> %s\n", d->csv_path ? d->csv_path : "");
    int ro_msgs = t->size < 3 * 4096 ? (t->encrypt ? 2 : 1) : 0;
    for (int i = 0; i < ro_msgs; i++)
        printf("\nMinimum partition size for read/write NVS is 0x3000 bytes. Partitions smaller than "
               "this must be flagged as \"readonly\" in the partition table CSV.\n");
    if (t->keyfile_warning)
        printf("\nWarning: --inputkey argument is given. --keyfile argument will be ignored...\n");
    if (d->key_path)
        printf("\nCreated encryption keys: ===>  %s\n", d->key_path);
    printf("\nCreating NVS binary with version: %s\n",
           t->version == 1 ? "V1 - Multipage Blob Support Disabled" : "V2 - Multipage Blob Support Enabled");
    printf("\nCreated NVS binary: ===> %s\n", d->bin_path);
    return 0;
}

/* Python os.path.expanduser for "~" and "~/...". Returns malloc'd. */
static char *expand_user(const char *p)
{
    const char *home = getenv("HOME");
    if (p[0] == '~' && (p[1] == '\0' || p[1] == '/') && home && *home) {
        size_t n = strlen(home) + strlen(p);
        char *o = malloc(n + 1);
        if (o)
            snprintf(o, n + 1, "%s%s", home, p + 1);
        return o;
    }
    return strdup(p);
}

static bool has_bin_ext(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    while (*b == '.')
        b++;
    const char *dot = strrchr(b, '.');
    return dot && strstr(dot, ".bin");
}

static void twin_warn(void *ctx, const esf_error *w)
{
    (void)ctx;
    cli_print_error("warning", w);
}

/* Write one keys file under <outdir>/keys/ as the generator's generate-key does. */
static int twin_generate_key(int argc, char **argv)
{
    opt_val vals[TK__N] = { 0 };
    parsed p = { .vals = vals };
    int rc = parse_args("mfg_gen.py generate-key", twin_key_specs, TK__N, argc, argv, &p, twin_usage_key);
    if (rc < 0) {
        twin_usage_key(stdout);
        printf("\nWrite an NVS encryption keys file (4096 bytes: key, CRC, 0xFF) under <outdir>/keys/.\n");
        return 0;
    }
    if (rc)
        return rc;
    if (p.npos) {
        twin_usage_top(stderr);
        fprintf(stderr, "mfg_gen.py: error: unrecognized arguments: %s\n", p.pos[0]);
        return 2;
    }
    char cwd[4096];
    const char *outdir_arg = vals[TK_OUTDIR].set ? vals[TK_OUTDIR].v[0] : getcwd(cwd, sizeof cwd);
    if (!outdir_arg)
        outdir_arg = ".";
    char *outdir = expand_user(outdir_arg);
    char name[64];
    const char *keyfile = vals[TK_KEYFILE].set ? vals[TK_KEYFILE].v[0] : NULL;
    if (!keyfile) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(name, sizeof name, "keys-%m-%d_%H-%M.bin", &tm);
        keyfile = name;
    }
    char *kname = NULL, *hname = NULL, *kdir = NULL, *kpath = NULL;
    int exit_code = 1;
    esf_error err = { 0 };
    uint8_t key[64], hkey[32], *hk = NULL, kf[ESF_NVS_KEYS_PART_SIZE];
    size_t hk_len = 0;
    {
        const char *slash = strrchr(keyfile, '/');
        const char *b = slash ? slash + 1 : keyfile;
        while (*b == '.')
            b++;
        const char *dot = strrchr(b, '.');
        if (!dot) {
            size_t n = strlen(keyfile) + 5;
            kname = malloc(n);
            if (kname)
                snprintf(kname, n, "%s.bin", keyfile);
        } else if (!strstr(dot, ".bin")) {
            fprintf(stderr, "Error: `%s`. Only `.bin` extension allowed.\n", keyfile);
            goto done;
        } else {
            kname = strdup(keyfile);
        }
    }
    size_t n = strlen(outdir) + 8;
    kdir = malloc(n);
    if (!kname || !kdir)
        goto done;
    snprintf(kdir, n, "%s%skeys/", outdir, outdir[0] && outdir[strlen(outdir) - 1] != '/' ? "/" : "");
    if (esf_mkdir_p(kdir, &err) < 0) {
        cli_print_error("error", &err);
        goto done;
    }
    n = strlen(kdir) + strlen(kname) + 1;
    if (!(kpath = malloc(n)))
        goto done;
    if (kname[0] == '/')
        snprintf(kpath, n, "%s", kname);
    else
        snprintf(kpath, n, "%s%s", kdir, kname);
    if (vals[TK_KP_HMAC].set) {
        if (vals[TK_KP_KEYGEN].set) {
            if (esf_nvs_keys_generate(key, &err) < 0) {  /* 32 random bytes for the HMAC key */
                cli_print_error("error", &err);
                goto done;
            }
            memcpy(hkey, key, sizeof hkey);
            hk = hkey;
            hk_len = sizeof hkey;
            const char *hf = vals[TK_KP_KEYFILE].set ? vals[TK_KP_KEYFILE].v[0] : NULL;
            size_t hn = strlen(kdir) + strlen(hf ? hf : keyfile) + 16;
            if (!(hname = malloc(hn)))
                goto done;
            if (hf)
                snprintf(hname, hn, "%s%s%s", hf[0] == '/' ? "" : kdir, hf, has_bin_ext(hf) ? "" : ".bin");
            else
                snprintf(hname, hn, "%shmac-%s", kdir, kname);
            if (esf_file_write_atomic(hname, hkey, sizeof hkey, &err) < 0) {
                cli_print_error("error", &err);
                goto done;
            }
        } else {
            if (!vals[TK_KP_INPUTKEY].set) {
                printf("HMAC Key input file (HMAC-based encryption scheme) missing!\n");
                exit_code = 0;
                goto done;
            }
            if (esf_file_read(vals[TK_KP_INPUTKEY].v[0], &hk, &hk_len, &err) < 0) {
                cli_print_error("error", &err);
                goto done;
            }
        }
        if (esf_nvs_keys_from_hmac(hk, hk_len, key, &err) < 0) {
            cli_print_error("error", &err);
            goto done;
        }
    } else if (esf_nvs_keys_generate(key, &err) < 0) {
        cli_print_error("error", &err);
        goto done;
    }
    esf_nvs_keys_build(kf, key);
    if (esf_file_write_atomic(kpath, kf, sizeof kf, &err) < 0) {
        cli_print_error("error", &err);
        goto done;
    }
    printf("\nCreated encryption keys: ===>  %s\n", kpath);
    exit_code = 0;
done:
    if (hk != hkey)
        free(hk);
    free(kname);
    free(hname);
    free(kdir);
    free(kpath);
    free(outdir);
    return exit_code;
}

static int twin_generate(int argc, char **argv)
{
    opt_val vals[TG__N] = { 0 };
    parsed p = { .vals = vals };
    int rc = parse_args("mfg_gen.py generate", twin_gen_specs, TG__N, argc, argv, &p, twin_usage_gen);
    if (rc < 0) {
        twin_help_gen(stdout);
        return 0;
    }
    if (rc)
        return rc;
    if (p.npos < 4) {
        static const char *const names[] = { "conf", "values", "prefix", "size" };
        char miss[64] = "";
        for (int i = p.npos; i < 4; i++) {
            size_t l = strlen(miss);
            snprintf(miss + l, sizeof miss - l, "%s%s", l ? ", " : "", names[i]);
        }
        twin_usage_gen(stderr);
        fprintf(stderr, "mfg_gen.py generate: error: the following arguments are required: %s\n", miss);
        return 2;
    }
    if (p.npos > 4) {
        twin_usage_top(stderr);
        fprintf(stderr, "mfg_gen.py: error: unrecognized arguments:");
        for (int i = 4; i < p.npos; i++)
            fprintf(stderr, " %s", p.pos[i]);
        fprintf(stderr, "\n");
        return 2;
    }
    long long prefix_start = 0, prefix_len = 0;
    if (vals[TG_PREFIX_NUM].set) {
        for (int i = 0; i < 2; i++) {
            long long v;
            if (parse_int10(vals[TG_PREFIX_NUM].v[i], &v)) {
                twin_usage_gen(stderr);
                fprintf(stderr, "mfg_gen.py generate: error: argument --prefix_num: invalid int value: '%s'\n",
                        vals[TG_PREFIX_NUM].v[i]);
                return 2;
            }
            *(i ? &prefix_len : &prefix_start) = v;
        }
    }
    int version = 2;
    if (vals[TG_VERSION].set) {
        long long v;
        if (parse_int10(vals[TG_VERSION].v[0], &v)) {
            twin_usage_gen(stderr);
            fprintf(stderr, "mfg_gen.py generate: error: argument --version: invalid int value: '%s'\n",
                    vals[TG_VERSION].v[0]);
            return 2;
        }
        if (v != 1 && v != 2) {
            twin_usage_gen(stderr);
            fprintf(stderr, "mfg_gen.py generate: error: argument --version: invalid choice: %lld (choose from 1, 2)\n", v);
            return 2;
        }
        version = (int)v;
    }
    esf_mfg_opts o = { 0 };
    o.conf_path = p.pos[0];
    o.values_path = p.pos[1];
    o.prefix = p.pos[2];
    o.version = version;
    o.fileid = vals[TG_FILEID].set ? vals[TG_FILEID].v[0] : NULL;
    o.prefix_num = vals[TG_PREFIX_NUM].set;
    o.prefix_num_start = prefix_start;
    if (o.prefix_num && prefix_len < 0) {
        printf("Invalid format specifier\n");
        return 1;
    }
    o.prefix_num_len = (int)(prefix_len > 4096 ? 4096 : prefix_len);
    o.refuse_existing = true;
    o.ref_messages = true;
    o.warn = (esf_warn_sink){ twin_warn, NULL };
    char cwd[4096];
    const char *outdir_arg = vals[TG_OUTDIR].set ? vals[TG_OUTDIR].v[0] : getcwd(cwd, sizeof cwd);
    char *outdir = expand_user(outdir_arg ? outdir_arg : ".");
    uint8_t *hmac = NULL;
    int exit_code = 1;
    if (!outdir)
        return 1;
    o.outdir = outdir;
    /* size: int(size, 0), then the generator's check_size (done per device by the reference) */
    int64_t size;
    esf_error err = { 0 };
    if (esf_parse_int(p.pos[3], &size, NULL) < 0) {
        printf("invalid literal for int() with base 0: '%s'\n", p.pos[3]);
        exit_code = 0;
        goto done;
    }
    if (size % 4096) {
        fprintf(stderr, "Size of partition must be multiple of 4096\n");
        goto done;
    }
    if (size < 4096) {
        fprintf(stderr, "Minimum partition size for read/write NVS is 0x3000 bytes and for read-only NVS is 0x1000 bytes.\n");
        goto done;
    }
    if (size > UINT32_MAX - 4095) {
        fprintf(stderr, "Size of partition 0x%llx is too large\n", (long long)size);
        goto done;
    }
    o.size = (uint32_t)size;
    bool keygen = vals[TG_KEYGEN].set, inputkey = vals[TG_INPUTKEY].set;
    twin_ctx tc = { .size = o.size, .version = version, .encrypt = keygen || inputkey };
    if (keygen && inputkey) {
        fprintf(stderr, "Error. --keygen and --inputkey both are not allowed.\n");
        goto done;
    }
    if (inputkey) {
        tc.keyfile_warning = vals[TG_KEYFILE].set;
        if (!has_bin_ext(vals[TG_INPUTKEY].v[0])) {
            fprintf(stderr, "Error: `%s`. Only `.bin` extension allowed.\n", vals[TG_INPUTKEY].v[0]);
            goto done;
        }
        if (read_key_file(vals[TG_INPUTKEY].v[0], true, o.key) < 0)
            goto done;
        o.key_mode = ESF_MFG_KEY_INPUT;
    } else if (keygen) {
        o.key_mode = ESF_MFG_KEY_GEN;
        if (vals[TG_KP_HMAC].set) {
            if (vals[TG_KP_KEYGEN].set) {
                o.key_mode = ESF_MFG_KEY_HMAC_GEN;
                o.hmac_keyfile = vals[TG_KP_KEYFILE].set ? vals[TG_KP_KEYFILE].v[0] : NULL;
            } else if (vals[TG_KP_INPUTKEY].set) {
                size_t n = 0;
                if (esf_file_read(vals[TG_KP_INPUTKEY].v[0], &hmac, &n, &err) < 0) {
                    printf("[Errno 2] No such file or directory: '%s'\n", vals[TG_KP_INPUTKEY].v[0]);
                    goto done;
                }
                o.key_mode = ESF_MFG_KEY_HMAC_INPUT;
                o.hmac_key = hmac;
                o.hmac_key_len = n;
            } else {
                printf("HMAC Key input file (HMAC-based encryption scheme) missing!\n");
                goto done;
            }
        }
    }
    o.cb = (esf_mfg_callbacks){ .device = twin_device, .ctx = &tc };
    esf_mfg_stats st;
    rc = esf_mfg_run(&o, &st, &err);
    if (rc < 0) {
        if (rc == ESF_ERR_INVALID) {
            /* a generator input error (the reference's InputError): stdout, exit 254 */
            printf("\nError:\n%s\n\nWarning: NVS binary not created...\n", err.msg);
            exit_code = 254;
        } else if (rc == ESF_ERR_NOT_FOUND && strstr(err.msg, "in config file is not found")) {
            printf("%s\n", err.msg);
        } else {
            fprintf(stderr, "%s\n", err.msg);
        }
        goto done;
    }
    if (tc.encrypt && !tc.announced)
        printf("\nGenerating encrypted NVS binary images...\n");
    printf("\nFiles generated in %s ...\n", outdir);
    exit_code = 0;
done:
    free(hmac);
    free(outdir);
    return exit_code;
}

int cmd_mfg_gen(int argc, char **argv)
{
    /* argv[0] is "mfg_gen" (symlink or `espforge mfg_gen`) */
    if (argc < 2) {
        /* the reference prints an AttributeError text and exits 0 */
        twin_usage_top(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        twin_usage_top(stdout);
        printf("\nESP manufacturing utility (espforge drop-in twin of mfg_gen.py)\n\n"
               "commands:\n  generate       one NVS partition image per device\n"
               "  generate-key   write an encryption keys file\n");
        return 0;
    }
    if (!strcmp(argv[1], "generate"))
        return twin_generate(argc - 2, argv + 2);
    if (!strcmp(argv[1], "generate-key"))
        return twin_generate_key(argc - 2, argv + 2);
    twin_usage_top(stderr);
    fprintf(stderr, "mfg_gen.py: error: argument command: invalid choice: '%s' (choose from 'generate', "
                    "'generate-key')\n", argv[1]);
    return 2;
}

/* ------------------------------------------------------------------ native: espforge mfg gen */

static const opt_spec gen_specs[] = {
    { "--outdir", OPT_VALUE, "DIR" },
    { "--inputkey", OPT_VALUE, "KEYS.bin" },
    { "--keygen", OPT_FLAG, NULL },
    { "--hmac-key", OPT_VALUE, "HMAC.bin" },
    { "--hmac-keygen", OPT_FLAG, NULL },
    { "-j", OPT_VALUE, "N" },
    { "--jobs", OPT_VALUE, "N" },
    { "--no-csv", OPT_FLAG, NULL },
    { "--keep-going", OPT_FLAG, NULL },
    { "--json", OPT_FLAG, NULL },
    { "--version", OPT_VALUE, "1|2" },
    { "--fileid", OPT_VALUE, "COLUMN" },
    { "--prefix-num", OPT_TWO, "START DIGITS" },
    { "--no-resume", OPT_FLAG, NULL },
    { "--progress", OPT_FLAG, NULL },
    { "--quiet", OPT_FLAG, NULL },
};
enum { G_OUTDIR, G_INPUTKEY, G_KEYGEN, G_HMAC_KEY, G_HMAC_KEYGEN, G_J, G_JOBS, G_NO_CSV, G_KEEP_GOING,
       G_JSON, G_VERSION, G_FILEID, G_PREFIX_NUM, G_NO_RESUME, G_PROGRESS, G_QUIET, G__N };

static void gen_usage(FILE *out)
{
    fprintf(out,
            "usage: espforge mfg gen CONF.csv VALUES.csv PREFIX SIZE [--outdir DIR]\n"
            "                        [--inputkey KEYS.bin | --keygen | --hmac-key HMAC.bin | --hmac-keygen]\n"
            "                        [-j N] [--no-csv] [--keep-going] [--json] [--version 1|2]\n"
            "                        [--fileid COLUMN] [--prefix-num START DIGITS] [--no-resume]\n");
}

static void gen_help(FILE *out)
{
    gen_usage(out);
    fprintf(out,
            "\nOne factory NVS image per device row of VALUES.csv, laid out by CONF.csv (mfg_gen.py's\n"
            "inputs). Writes DIR/bin/<PREFIX>-<id>.bin (byte-identical to mfg_gen.py), DIR/csv/<name>.csv,\n"
            "DIR/keys/keys-<name>.bin with fresh keys, and DIR/manifest.csv (id, image, SHA-256, key).\n"
            "Every row is validated before anything is written. A rerun keeps the images that the\n"
            "manifest lists with a matching hash and regenerates the rest.\n\n"
            "  --outdir DIR        output directory (default: .)\n"
            "  --inputkey KEYS.bin encrypt all images with this keys file (4096-byte keys partition\n"
            "                      image with CRC, or the 64 raw key bytes)\n"
            "  --keygen            encrypt each image with a fresh key (DIR/keys/keys-<name>.bin)\n"
            "  --hmac-key FILE     encrypt with keys derived from this HMAC key (HMAC scheme)\n"
            "  --hmac-keygen       a fresh HMAC key per device (DIR/keys/hmac-keys-<name>.bin)\n"
            "  -j, --jobs N        worker threads (default: all cores)\n"
            "  --no-csv            do not write the per-device CSVs\n"
            "  --keep-going        skip bad devices (listed at the end, exit 3) instead of stopping\n"
            "  --json              also write DIR/manifest.json; print the summary as JSON on stdout\n"
            "  --version 1|2       NVS blob format (default 2)\n"
            "  --fileid COLUMN     name files by this values column (default: 1, 2, 3 ...)\n"
            "  --prefix-num START DIGITS  insert a zero-padded counter into the names\n"
            "  --no-resume         regenerate every device even when the manifest matches\n"
            "  --progress          show the progress bar even when stderr is not a terminal\n"
            "  --quiet             no progress and no summary\n");
}

typedef struct gen_ctx {
    bool bar;
    bool json;
    struct timespec t0, last;
    uint64_t devices;
    cJSON *failed;
    uint64_t nfailed;
} gen_ctx;

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static int gen_progress(void *ctx, int pass, uint64_t done, uint64_t total)
{
    gen_ctx *g = ctx;
    if (!g->bar)
        return 0;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (since(&g->last, &now) < 0.1 && done != total)
        return 0;
    g->last = now;
    if (pass == 1) {
        fprintf(stderr, "\rvalidating: %llu devices\033[K", (unsigned long long)done);
        return 0;
    }
    double el = since(&g->t0, &now);
    double rate = el > 0 ? (double)done / el : 0;
    double eta = rate > 0 ? (double)(total - done) / rate : 0;
    int width = 30, fill = total ? (int)((double)width * (double)done / (double)total) : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %llu/%llu devices  %.0f devices/s  ETA %.0fs\033[K", bar,
            (unsigned long long)done, (unsigned long long)total, rate, eta);
    return 0;
}

static int gen_device(void *ctx, const esf_mfg_device *d)
{
    gen_ctx *g = ctx;
    if (d->rc < 0) {
        g->nfailed++;
        char buf[1024];
        esf_error_format(d->err, buf, sizeof buf);
        if (g->json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddNumberToObject(o, "line", d->line);
            cJSON_AddStringToObject(o, "id", d->name ? d->name : "");
            cJSON_AddStringToObject(o, "error", buf);
            cJSON_AddItemToArray(g->failed, o);
        } else {
            if (g->bar)
                fprintf(stderr, "\r\033[K");
            fprintf(stderr, "skipped: %s\n", buf);
        }
    }
    return 0;
}

static int native_gen(int argc, char **argv)
{
    opt_val vals[G__N] = { 0 };
    parsed p = { .vals = vals };
    int rc = parse_args("espforge mfg gen", gen_specs, G__N, argc, argv, &p, gen_usage);
    if (rc < 0) {
        gen_help(stdout);
        return CLI_EXIT_OK;
    }
    if (rc)
        return CLI_EXIT_USAGE;
    if (p.npos != 4) {
        gen_usage(stderr);
        fprintf(stderr, "espforge mfg gen: error: want CONF.csv VALUES.csv PREFIX SIZE\n");
        return CLI_EXIT_USAGE;
    }
    esf_error err = { 0 };
    esf_mfg_opts o = { 0 };
    o.conf_path = p.pos[0];
    o.values_path = p.pos[1];
    o.prefix = p.pos[2];
    uint64_t size;
    if (esf_parse_size(p.pos[3], &size, &err) < 0 || size > UINT32_MAX - 4095) {
        fprintf(stderr, "espforge mfg gen: error: SIZE '%s': want a byte count such as 0x6000 or 24K\n", p.pos[3]);
        return CLI_EXIT_USAGE;
    }
    o.size = (uint32_t)size;
    o.version = 2;
    if (vals[G_VERSION].set) {
        if (strcmp(vals[G_VERSION].v[0], "1") && strcmp(vals[G_VERSION].v[0], "2")) {
            fprintf(stderr, "espforge mfg gen: error: --version: want 1 or 2\n");
            return CLI_EXIT_USAGE;
        }
        o.version = vals[G_VERSION].v[0][0] - '0';
    }
    o.outdir = vals[G_OUTDIR].set ? vals[G_OUTDIR].v[0] : ".";
    o.fileid = vals[G_FILEID].set ? vals[G_FILEID].v[0] : NULL;
    if (vals[G_PREFIX_NUM].set) {
        long long a, b;
        if (parse_int10(vals[G_PREFIX_NUM].v[0], &a) || parse_int10(vals[G_PREFIX_NUM].v[1], &b) || b < 0 ||
            b > 64) {
            fprintf(stderr, "espforge mfg gen: error: --prefix-num: want START DIGITS (integers, 0..64 digits)\n");
            return CLI_EXIT_USAGE;
        }
        o.prefix_num = true;
        o.prefix_num_start = a;
        o.prefix_num_len = (int)b;
    }
    const char *jobs = vals[G_J].set ? vals[G_J].v[0] : vals[G_JOBS].set ? vals[G_JOBS].v[0] : NULL;
    if (jobs) {
        long long j;
        if (parse_int10(jobs, &j) || j < 1 || j > 256) {
            fprintf(stderr, "espforge mfg gen: error: -j: want 1..256\n");
            return CLI_EXIT_USAGE;
        }
        o.jobs = (unsigned)j;
    }
    int nkey = vals[G_INPUTKEY].set + vals[G_KEYGEN].set + vals[G_HMAC_KEY].set + vals[G_HMAC_KEYGEN].set;
    if (nkey > 1) {
        fprintf(stderr, "espforge mfg gen: error: --inputkey, --keygen, --hmac-key and --hmac-keygen exclude each other\n");
        return CLI_EXIT_USAGE;
    }
    uint8_t *hmac = NULL;
    if (vals[G_INPUTKEY].set) {
        if (read_key_file(vals[G_INPUTKEY].v[0], false, o.key) < 0)
            return CLI_EXIT_FAIL;
        o.key_mode = ESF_MFG_KEY_INPUT;
    } else if (vals[G_KEYGEN].set) {
        o.key_mode = ESF_MFG_KEY_GEN;
    } else if (vals[G_HMAC_KEYGEN].set) {
        o.key_mode = ESF_MFG_KEY_HMAC_GEN;
    } else if (vals[G_HMAC_KEY].set) {
        size_t n = 0;
        if (esf_file_read(vals[G_HMAC_KEY].v[0], &hmac, &n, &err) < 0) {
            cli_print_error("error", &err);
            return CLI_EXIT_FAIL;
        }
        o.key_mode = ESF_MFG_KEY_HMAC_INPUT;
        o.hmac_key = hmac;
        o.hmac_key_len = n;
    }
    o.no_csv = vals[G_NO_CSV].set;
    o.keep_going = vals[G_KEEP_GOING].set;
    o.resume = !vals[G_NO_RESUME].set;
    o.manifest = true;
    o.manifest_json = vals[G_JSON].set;
    o.warn = cli_warn_stderr;
    gen_ctx g = { .json = vals[G_JSON].set };
    bool quiet = vals[G_QUIET].set;
    g.bar = !quiet && (vals[G_PROGRESS].set || isatty(2));
    if (g.json)
        g.failed = cJSON_CreateArray();
    clock_gettime(CLOCK_MONOTONIC, &g.t0);
    o.cb = (esf_mfg_callbacks){ .device = gen_device, .progress = gen_progress, .ctx = &g };
    esf_mfg_stats st;
    rc = esf_mfg_run(&o, &st, &err);
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double el = since(&g.t0, &t1);
    if (g.bar)
        fprintf(stderr, "\r\033[K");
    free(hmac);
    if (rc < 0) {
        cli_print_error("error", &err);
        if (rc == ESF_ERR_NOT_FOUND || rc == ESF_ERR_PARSE || rc == ESF_ERR_INVALID || rc == ESF_ERR_EXISTS ||
            rc == ESF_ERR_RANGE || rc == ESF_ERR_NO_SPACE || rc == ESF_ERR_IO)
            fprintf(stderr, "espforge mfg gen: nothing written\n");
        cJSON_Delete(g.failed);
        return CLI_EXIT_FAIL;
    }
    double rate = el > 0 ? (double)(st.written + st.skipped) / el : 0;
    if (g.json) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddNumberToObject(s, "devices", (double)st.devices);
        cJSON_AddNumberToObject(s, "written", (double)st.written);
        cJSON_AddNumberToObject(s, "skipped", (double)st.skipped);
        cJSON_AddNumberToObject(s, "failed_count", (double)st.failed);
        cJSON_AddItemToObject(s, "failed", g.failed);
        cJSON_AddNumberToObject(s, "seconds", el);
        cJSON_AddNumberToObject(s, "devices_per_second", rate);
        char *dir = malloc(strlen(o.outdir) + 32);
        if (dir) {
            sprintf(dir, "%s/manifest.json", o.outdir);
            cJSON_AddStringToObject(s, "manifest", dir);
        }
        free(dir);
        char *txt = cJSON_Print(s);
        if (txt)
            printf("%s\n", txt);
        free(txt);
        cJSON_Delete(s);
    } else if (!quiet) {
        fprintf(stderr, "espforge mfg gen: %llu devices: %llu written, %llu unchanged, %llu failed in %.2f s "
                        "(%.0f devices/s); manifest: %s/manifest.csv\n",
                (unsigned long long)st.devices, (unsigned long long)st.written, (unsigned long long)st.skipped,
                (unsigned long long)st.failed, el, rate, o.outdir);
    }
    return st.failed ? 3 : CLI_EXIT_OK;
}

int cmd_mfg(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        FILE *out = argc < 2 ? stderr : stdout;
        fprintf(out, "usage: espforge mfg gen CONF.csv VALUES.csv PREFIX SIZE [options]\n"
                     "       (espforge mfg gen --help for the options; the mfg_gen twin: espforge mfg_gen)\n");
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "gen"))
        return native_gen(argc - 2, argv + 2);
    fprintf(stderr, "espforge mfg: unknown verb '%s' (want gen)\n", argv[1]);
    return CLI_EXIT_USAGE;
}
