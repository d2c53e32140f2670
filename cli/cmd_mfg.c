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

#include "argparse.h"
#include "cli.h"
#include "espforge/io.h"
#include "espforge/mfg.h"
#include "espforge/number.h"
#include "espforge/nvs_crypt.h"

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

static void twin_usage_top(FILE *out)
{
    fprintf(out, "usage: mfg_gen.py [-h] {generate,generate-key} ...\n");
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
    /* the reference checks the size once in encrypt() (before its key warnings) and once more in
     * generate(): a read-only size is announced twice for encrypted images */
    static const char ro[] = "\nMinimum partition size for read/write NVS is 0x3000 bytes. Partitions "
                             "smaller than this must be flagged as \"readonly\" in the partition table CSV.\n";
    bool small = t->size < 3 * 4096;
    if (small)
        fputs(ro, stdout);
    if (t->keyfile_warning)
        printf("\nWarning: --inputkey argument is given. --keyfile argument will be ignored...\n");
    if (small && t->encrypt)
        fputs(ro, stdout);
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

static int twin_generate(int argc, char **argv)
{
    static const int versions[] = { 1, 2 };
    ap_opt opts[] = {
        { .name = "--prefix_num", .kind = AP_STORE_INT2, .metavar = "start length",
          .help = "Prefix number (counter) start and length (digits) added to each file name" },
        { .name = "--fileid", .kind = AP_STORE, .metavar = "FILEID",
          .help = "values column naming each file (default: 1, 2, 3 ...)" },
        { .name = "--version", .kind = AP_STORE_INT, .metavar = "{1,2}", .choices = versions, .nchoices = 2,
          .ivalue = 2, .help = "NVS blob format: 1 single-page blobs, 2 multi-page (default)" },
        { .name = "--keygen", .kind = AP_STORE_TRUE, .help = "generate an encryption key per device" },
        { .name = "--keyfile", .kind = AP_STORE, .metavar = "KEYFILE", .help = AP_SUPPRESS },
        { .name = "--inputkey", .kind = AP_STORE, .metavar = "INPUTKEY", .help = "encrypt with this key file" },
        { .name = "--outdir", .kind = AP_STORE, .metavar = "OUTDIR",
          .help = "output directory (default: current directory)" },
        { .name = "--key_protect_hmac", .kind = AP_STORE_TRUE, .help = "HMAC-based key protection scheme" },
        { .name = "--kp_hmac_keygen", .kind = AP_STORE_TRUE, .help = "generate the HMAC key" },
        { .name = "--kp_hmac_keyfile", .kind = AP_STORE, .metavar = "KP_HMAC_KEYFILE",
          .help = "name of the generated HMAC key file" },
        { .name = "--kp_hmac_inputkey", .kind = AP_STORE, .metavar = "KP_HMAC_INPUTKEY",
          .help = "HMAC key file to derive the encryption keys from" },
        { .name = "--input", .kind = AP_STORE, .metavar = "INPUT", .help = AP_SUPPRESS },
        { .name = "--output", .kind = AP_STORE, .metavar = "OUTPUT", .help = AP_SUPPRESS },
    };
    enum { TG_PREFIX_NUM, TG_FILEID, TG_VERSION, TG_KEYGEN, TG_KEYFILE, TG_INPUTKEY, TG_OUTDIR, TG_KP_HMAC,
           TG_KP_KEYGEN, TG_KP_KEYFILE, TG_KP_INPUTKEY };
    ap_pos pos[] = {
        { .name = "conf", .nargs = AP_ONE, .help = "configuration CSV (namespace and key,type,encoding rows)" },
        { .name = "values", .nargs = AP_ONE, .help = "values CSV (a header of keys, one row per device)" },
        { .name = "prefix", .nargs = AP_ONE, .help = "output file name prefix" },
        { .name = "size", .nargs = AP_ONE, .help = "partition size in bytes (a multiple of 4096)" },
    };
    ap_parser ap = { .prog = "mfg_gen.py generate",
                     .description = "One NVS partition image per device (espforge drop-in twin of mfg_gen.py).",
                     .opts = opts, .nopts = sizeof opts / sizeof *opts, .pos = pos, .npos = 4 };
    int rc = ap_parse(&ap, argc, argv);
    if (rc) {
        ap_free(&ap);
        return rc == AP_HELP_SHOWN ? 0 : rc;
    }
    const char *conf = pos[0].values[0], *values = pos[1].values[0], *prefix = pos[2].values[0],
               *size_arg = pos[3].values[0];
    ap_free(&ap);
    struct { bool set; const char *v[1]; } vals[TG_KP_INPUTKEY + 1];
    for (size_t i = 0; i <= TG_KP_INPUTKEY; i++) {
        vals[i].set = opts[i].set;
        vals[i].v[0] = opts[i].value;
    }
    int version = (int)opts[TG_VERSION].ivalue;
    long prefix_start = opts[TG_PREFIX_NUM].ivalue, prefix_len = 0;
    if (opts[TG_PREFIX_NUM].set)
        ap_int(opts[TG_PREFIX_NUM].value, &prefix_len);
    esf_mfg_opts o = { 0 };
    o.conf_path = conf;
    o.values_path = values;
    o.prefix = prefix;
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
    if (esf_parse_int(size_arg, &size, NULL) < 0) {
        printf("invalid literal for int() with base 0: '%s'\n", size_arg);
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
        } else if (rc == ESF_ERR_IO) {  /* not a reference message: say which file */
            cli_print_error("error", &err);
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
    if (!strcmp(argv[1], "generate-key")) {
        /* mfg_gen's generate-key is the generator's: run the nvs_partition_gen twin's */
        char **av = calloc((size_t)argc + 1, sizeof *av);
        if (!av)
            return 1;
        av[0] = "mfg_gen.py";
        for (int i = 1; i < argc; i++)
            av[i] = argv[i];
        int rc = cmd_nvs_partition_gen(argc, av);
        free(av);
        return rc;
    }
    twin_usage_top(stderr);
    fprintf(stderr, "mfg_gen.py: error: argument command: invalid choice: '%s' (choose from 'generate', "
                    "'generate-key')\n", argv[1]);
    return 2;
}

/* ------------------------------------------------------------------ native: espforge mfg gen */

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
    static const int versions[] = { 1, 2 };
    ap_opt opts[] = {
        { .name = "--outdir", .kind = AP_STORE, .metavar = "DIR", .help = "output directory (default: .)" },
        { .name = "--inputkey", .kind = AP_STORE, .metavar = "KEYS.bin",
          .help = "encrypt every image with this keys file (4096 bytes with CRC, or 64 raw bytes)" },
        { .name = "--keygen", .kind = AP_STORE_TRUE, .help = "a fresh key per device: DIR/keys/keys-<name>.bin" },
        { .name = "--hmac-key", .kind = AP_STORE, .metavar = "HMAC.bin",
          .help = "encrypt with keys derived from this HMAC key (HMAC scheme)" },
        { .name = "--hmac-keygen", .kind = AP_STORE_TRUE,
          .help = "a fresh HMAC key per device: DIR/keys/hmac-keys-<name>.bin" },
        { .name = "-j", .kind = AP_STORE_INT, .metavar = "N", .help = "worker threads (default: all cores)" },
        { .name = "--jobs", .kind = AP_STORE_INT, .metavar = "N", .help = "same as -j" },
        { .name = "--no-csv", .kind = AP_STORE_TRUE, .help = "do not write the per-device CSVs" },
        { .name = "--keep-going", .kind = AP_STORE_TRUE,
          .help = "skip bad devices (listed; exit 3) instead of writing nothing" },
        { .name = "--json", .kind = AP_STORE_TRUE,
          .help = "also write DIR/manifest.json; print the summary as JSON on stdout" },
        { .name = "--version", .kind = AP_STORE_INT, .metavar = "{1,2}", .choices = versions, .nchoices = 2,
          .ivalue = 2, .help = "NVS blob format (default 2)" },
        { .name = "--fileid", .kind = AP_STORE, .metavar = "COLUMN",
          .help = "name the files by this values column (default: 1, 2, 3 ...)" },
        { .name = "--prefix-num", .kind = AP_STORE_INT2, .metavar = "START DIGITS",
          .help = "insert a zero-padded counter: PREFIX-<counter>-<id>" },
        { .name = "--no-resume", .kind = AP_STORE_TRUE,
          .help = "regenerate every image, even those the manifest shows as current" },
        { .name = "--progress", .kind = AP_STORE_TRUE, .help = "progress bar even when stderr is no terminal" },
        { .name = "--quiet", .kind = AP_STORE_TRUE, .help = "no progress bar and no summary" },
    };
    enum { G_OUTDIR, G_INPUTKEY, G_KEYGEN, G_HMAC_KEY, G_HMAC_KEYGEN, G_J, G_JOBS, G_NO_CSV, G_KEEP_GOING,
           G_JSON, G_VERSION, G_FILEID, G_PREFIX_NUM, G_NO_RESUME, G_PROGRESS, G_QUIET, G__N };
    ap_pos pos[] = {
        { .name = "CONF.csv", .nargs = AP_ONE, .help = "mfg_gen config CSV" },
        { .name = "VALUES.csv", .nargs = AP_ONE, .help = "mfg_gen values CSV (one row per device)" },
        { .name = "PREFIX", .nargs = AP_ONE, .help = "file name prefix" },
        { .name = "SIZE", .nargs = AP_ONE, .help = "partition size (0x6000, 24K, ...)" },
    };
    ap_parser ap = {
        .prog = "espforge mfg gen",
        .description = "One factory NVS image per device row of VALUES.csv, laid out by CONF.csv (mfg_gen.py's\n"
                       "inputs): DIR/bin/<name>.bin (byte-identical to mfg_gen.py), DIR/csv/<name>.csv, keys\n"
                       "under DIR/keys/, and DIR/manifest.csv (id, image, SHA-256, key). Every row is validated\n"
                       "before anything is written; a rerun keeps the images the manifest lists with a matching\n"
                       "hash and regenerates the rest.",
        .opts = opts, .nopts = G__N, .pos = pos, .npos = 4 };
    int rc = ap_parse(&ap, argc, argv);
    if (rc) {
        ap_free(&ap);
        return rc == AP_HELP_SHOWN ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    esf_error err = { 0 };
    esf_mfg_opts o = { 0 };
    o.conf_path = pos[0].values[0];
    o.values_path = pos[1].values[0];
    o.prefix = pos[2].values[0];
    const char *size_arg = pos[3].values[0];
    ap_free(&ap);
    struct { bool set; const char *v[1]; } vals[G__N];
    for (size_t i = 0; i < G__N; i++) {
        vals[i].set = opts[i].set;
        vals[i].v[0] = opts[i].value;
    }
    uint64_t size;
    if (esf_parse_size(size_arg, &size, &err) < 0 || size > UINT32_MAX - 4095) {
        fprintf(stderr, "espforge mfg gen: error: SIZE '%s': want a byte count such as 0x6000 or 24K\n", size_arg);
        return CLI_EXIT_USAGE;
    }
    o.size = (uint32_t)size;
    o.version = (int)opts[G_VERSION].ivalue;
    o.outdir = vals[G_OUTDIR].set ? vals[G_OUTDIR].v[0] : ".";
    o.fileid = vals[G_FILEID].set ? vals[G_FILEID].v[0] : NULL;
    if (vals[G_PREFIX_NUM].set) {
        long digits = -1;
        ap_int(opts[G_PREFIX_NUM].value, &digits);
        if (digits < 0 || digits > 64) {
            fprintf(stderr, "espforge mfg gen: error: --prefix-num: DIGITS must be 0..64\n");
            return CLI_EXIT_USAGE;
        }
        o.prefix_num = true;
        o.prefix_num_start = opts[G_PREFIX_NUM].ivalue;
        o.prefix_num_len = (int)digits;
    }
    if (vals[G_J].set || vals[G_JOBS].set) {
        long j = vals[G_J].set ? opts[G_J].ivalue : opts[G_JOBS].ivalue;
        if (j < 1 || j > 256) {
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
