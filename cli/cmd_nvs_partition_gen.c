/* espforge CLI: drop-in twin of esp-idf-nvs-partition-gen 0.2.0
 * (`python -m esp_idf_nvs_partition_gen` / nvs_partition_gen.py): generate, generate-key,
 * encrypt, decrypt with the reference's arguments, files, messages and exit codes
 * (nvs-generator.md §2, §6; nvs-encryption.md §5). Where the reference crashes with a traceback
 * this exits 1 with a clear message and leaves no output file. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "argparse.h"
#include "cli.h"
#include "espforge/io.h"
#include "espforge/number.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_gen.h"
#include "espforge/nvs_page.h"

#define EXIT_INPUT_ERROR 254  /* sys.exit(-2) */

typedef struct twin_args {
    char **inputs; int ninputs;
    const char *output, *size, *outdir;
    int version;
    bool keygen, key_protect_hmac, kp_hmac_keygen;
    const char *keyfile, *inputkey, *kp_hmac_keyfile, *kp_hmac_inputkey;
    /* decrypt */
    const char *input, *key;
} twin_args;

/* ---- Python os.path helpers ---- */

static bool given(const char *s) { return s && *s; }

/* os.path.splitext(p)[1] */
static const char *py_ext(const char *p)
{
    const char *slash = strrchr(p, '/');
    const char *base = slash ? slash + 1 : p;
    const char *dot = strrchr(base, '.');
    if (!dot)
        return "";
    for (const char *q = base; q < dot; q++)
        if (*q != '.')
            return dot;
    return "";
}

/* os.path.join(a, b) into a malloc'd string */
static char *py_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *r = malloc(la + lb + 2);
    if (!r)
        return NULL;
    if (b[0] == '/' || !la)
        memcpy(r, b, lb + 1);
    else
        sprintf(r, "%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
    return r;
}

static bool is_dir(const char *p)
{
    struct stat st;
    return *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static char *cwd(void)
{
    char *b = getcwd(NULL, 0);
    return b ? b : strdup(".");
}

/* os.path.expanduser for "~" and "~/..." */
static char *expanduser(const char *p)
{
    const char *home = getenv("HOME");
    if (p[0] == '~' && (p[1] == '/' || !p[1]) && home) {
        char *r = malloc(strlen(home) + strlen(p) + 1);
        if (r)
            sprintf(r, "%s%s", home, p + 1);
        return r;
    }
    return strdup(p);
}

/* Path(p).mkdir(parents=True, exist_ok=True): 0; 1 = exists as a non-directory; -1 other error */
static int mkdir_py(const char *p)
{
    struct stat st;
    if (!*p || is_dir(p))
        return 0;
    if (stat(p, &st) == 0)
        return 1;
    esf_error err;
    if (esf_mkdir_p(p, &err) != ESF_OK) {
        fprintf(stderr, "error: %s\n", err.msg);
        return -1;
    }
    return 0;
}

/* set_target_filepath(outdir, filepath): returns 0 and malloc'd (*out_dir, *out_path), or an
 * exit status after printing the reference's message. */
static int set_target_filepath(const char *outdir_in, const char *filepath_in, char **out_dir,
                               char **out_path)
{
    int rc = 1;
    char *outdir = expanduser(outdir_in), *filepath = NULL, *filedir = NULL, *tmp = NULL, *here = NULL;
    *out_dir = *out_path = NULL;
    if (!outdir)
        goto done;
    const char *ext = py_ext(filepath_in);
    if (!*ext) {
        if (!(filepath = malloc(strlen(filepath_in) + 5)))
            goto done;
        sprintf(filepath, "%s.bin", filepath_in);
    } else if (!strstr(ext, ".bin")) {
        fprintf(stderr, "Error: `%s`. Only `.bin` extension allowed.\n", filepath_in);
        goto done;
    } else if (!(filepath = strdup(filepath_in))) {
        goto done;
    }
    int m = mkdir_py(outdir);
    if (m) {
        if (m > 0)
            fprintf(stderr, "Error: outdir `%s` path already exists and it's not a directory.\n", outdir);
        goto done;
    }
    /* filedir = os.path.join(outdir, os.path.split(filepath)[0], '') */
    const char *slash = strrchr(filepath, '/');
    char *head = strndup(filepath, slash ? (size_t)(slash - filepath + (slash == filepath)) : 0);
    if (!head)
        goto done;
    tmp = py_join(outdir, head);
    free(head);
    if (!tmp || !(filedir = py_join(tmp, "")))
        goto done;
    if (*filedir && !is_dir(filedir)) {
        m = mkdir_py(filedir);
        if (m) {
            if (m > 0)
                fprintf(stderr, "Error: filedir `%s` path already exists and it's not a directory.\n",
                        filedir);
            goto done;
        }
    }
    if (filepath[0] == '/') {
        here = cwd();
        if (strcmp(outdir, here))
            printf("\nWarning: `%s` \n\t==> absolute path given so outdir is ignored for this file.\n",
                   filepath);
        outdir[0] = '\0';
    }
    free(tmp);
    tmp = py_join(outdir, "");
    if (!tmp || !(*out_path = malloc(strlen(tmp) + strlen(filepath) + 1)))
        goto done;
    sprintf(*out_path, "%s%s", tmp, filepath);
    *out_dir = outdir;
    outdir = NULL;
    rc = 0;
done:
    free(outdir);
    free(filepath);
    free(filedir);
    free(tmp);
    free(here);
    return rc;
}

/* Python repr() of a str, for the ValueError text */
static void py_repr(const char *s, char *out, size_t cap)
{
    char q = strchr(s, '\'') && !strchr(s, '"') ? '"' : '\'';
    size_t n = 0;
    out[n++] = q;
    for (; *s && n + 6 < cap; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == (unsigned char)q)
            n += (size_t)snprintf(out + n, cap - n, "\\%c", c);
        else if (c == '\n')
            n += (size_t)snprintf(out + n, cap - n, "\\n");
        else if (c == '\t')
            n += (size_t)snprintf(out + n, cap - n, "\\t");
        else if (c == '\r')
            n += (size_t)snprintf(out + n, cap - n, "\\r");
        else if (c < 0x20 || c == 0x7f)
            n += (size_t)snprintf(out + n, cap - n, "\\x%02x", c);
        else
            out[n++] = (char)c;
    }
    out[n++] = q;
    out[n] = 0;
}

/* check_size(): -1 when fine (size in *size_out), else the exit status after printing. */
static int check_size(const char *text, uint64_t *size_out)
{
    int64_t v;
    esf_error err;
    int rc = esf_parse_int(text, &v, &err);
    if (rc == ESF_ERR_PARSE) {
        char r[600];
        py_repr(text, r, sizeof r);
        printf("invalid literal for int() with base 0: %s\n", r);
        return 0;  /* the reference's quirk: status 0, nothing written */
    }
    if (rc) {
        fprintf(stderr, "error: size %s: %s\n", text, err.msg);
        return 1;
    }
    if (((v % 4096) + 4096) % 4096) {
        fprintf(stderr, "Size of partition must be multiple of 4096\n");
        return 1;
    }
    if (v < 4096) {
        fprintf(stderr, "Minimum partition size for read/write NVS is 0x3000 bytes and for read-only "
                "NVS is 0x1000 bytes.\n");
        return 1;
    }
    if (v > UINT32_MAX) {
        fprintf(stderr, "error: size %s: larger than 4 GiB\n", text);
        return 1;
    }
    if (v - 4096 < 2 * 4096)
        printf("\nMinimum partition size for read/write NVS is 0x3000 bytes. Partitions smaller "
               "than this must be flagged as \"readonly\" in the partition table CSV.\n");
    *size_out = (uint64_t)v;
    return -1;
}

static int read_prefix(const char *path, uint8_t *buf, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "error: %s: %s (FileNotFoundError in the reference)\n", path, strerror(errno));
        return 1;
    }
    *len = fread(buf, 1, cap, f);
    fclose(f);
    return 0;
}

static int write_file(const char *path, const void *data, size_t len)
{
    esf_error err;
    if (esf_file_write_atomic(path, data, len, &err) != ESF_OK) {
        cli_print_error("error", &err);
        return 1;
    }
    return 0;
}

/* ---- generate-key ---- */

static int generate_key(twin_args *a, const char *outdir, uint8_t key[64])
{
    int rc = 1;
    char *keys_dir = NULL, *keys_outdir = NULL, *kod = NULL, *keyfile_path = NULL, *hdir = NULL,
         *hpath = NULL, *hname = NULL;
    uint8_t *hk = NULL;
    char name[64];
    const char *keyfile = a->keyfile;
    if (!given(keyfile)) {
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        strftime(name, sizeof name, "keys-%m-%d_%H-%M.bin", &tm);
        keyfile = name;
    }
    char *k1 = py_join(outdir, "keys");
    keys_dir = k1 ? py_join(k1, "") : NULL;
    free(k1);
    if (!keys_dir)
        goto done;
    int m = mkdir_py(keys_dir);
    if (m) {
        if (m > 0)
            fprintf(stderr, "Error: keys_outdir `%s` path already exists and it's not a directory.\n",
                    keys_dir);
        goto done;
    }
    if ((rc = set_target_filepath(keys_dir, keyfile, &kod, &keyfile_path)))
        goto done;
    rc = 1;
    esf_error err;
    if (a->key_protect_hmac) {
        size_t hl = 0;
        if (a->kp_hmac_keygen) {
            uint8_t k32[32];
            if (esf_nvs_hmac_key_generate(k32, &err)) {
                cli_print_error("error", &err);
                goto done;
            }
            const char *hk_name = a->kp_hmac_keyfile;
            if (!given(hk_name)) {
                if (!(hname = malloc(strlen(keyfile) + 6)))
                    goto done;
                sprintf(hname, "hmac-%s", keyfile);
                hk_name = hname;
            }
            if ((rc = set_target_filepath(kod, hk_name, &hdir, &hpath)))
                goto done;
            rc = 1;
            if (write_file(hpath, k32, sizeof k32))
                goto done;
            if (esf_nvs_keys_from_hmac(k32, sizeof k32, key, &err)) {
                cli_print_error("error", &err);
                goto done;
            }
        } else {
            if (!given(a->kp_hmac_inputkey)) {
                fprintf(stderr, "error: HMAC Key input file (HMAC-based encryption scheme) missing! "
                        "(RuntimeError in the reference)\n");
                goto done;
            }
            if (esf_file_read(a->kp_hmac_inputkey, &hk, &hl, &err)) {
                cli_print_error("error", &err);
                goto done;
            }
            if (esf_nvs_keys_from_hmac(hk, hl, key, &err)) {
                cli_print_error("error", &err);
                goto done;
            }
        }
    } else if (esf_nvs_keys_generate(key, &err)) {
        cli_print_error("error", &err);
        goto done;
    }
    uint8_t buf[ESF_NVS_KEYS_PART_SIZE];
    esf_nvs_keys_build(buf, key);
    if (write_file(keyfile_path, buf, sizeof buf))
        goto done;
    printf("\nCreated encryption keys: ===>  %s\n", keyfile_path);
    rc = 0;
done:
    free(keys_dir);
    free(keys_outdir);
    free(kod);
    free(keyfile_path);
    free(hdir);
    free(hpath);
    free(hname);
    free(hk);
    return rc;
}

/* ---- generate / encrypt ---- */

static void report_gen_error(const esf_nvs_gen *g, int rc, const esf_error *err)
{
    const char *full = esf_nvs_gen_error_text(g);
    if (rc == ESF_ERR_INVALID) {  /* InputError */
        printf("\nError:\n%s\n\nWarning: NVS binary not created...\n", *full ? full : err->msg);
        cli_print_error("error", err);
        return;
    }
    if (rc == ESF_ERR_RANGE && !strncmp(err->msg, "Packing error", 13))
        printf("%s\n", *full ? full : err->msg);
    cli_print_error("error", err);
}

static int generate(twin_args *a, bool encr, const uint8_t *key_in)
{
    uint64_t size;
    int rc = check_size(a->size, &size);
    if (rc >= 0)
        return rc;
    if (!strstr(py_ext(a->output), ".bin")) {
        fprintf(stderr, "Error: `%s`. Only `.bin` extension allowed.\n", a->output);
        return 1;
    }
    char *outdir = NULL, *path = NULL;
    const uint8_t *image = NULL;
    uint8_t *csv = NULL;
    esf_nvs_gen *g = NULL;
    if ((rc = set_target_filepath(a->outdir, a->output, &outdir, &path)))
        return rc;
    rc = 1;
    uint8_t key[64];
    if (encr && !key_in) {
        if ((rc = generate_key(a, outdir, key)))
            goto done;
        rc = 1;
        key_in = key;
    }
    printf("\nCreating NVS binary with version: %s\n",
           a->version == 1 ? "V1 - Multipage Blob Support Disabled" : "V2 - Multipage Blob Support Enabled");
    esf_nvs_gen_opts o = { .size = size, .version = a->version, .compat = true,
                           .key = encr ? key_in : NULL, .warn = cli_warn_stderr };
    esf_error err;
    esf_error_clear(&err);
    int e = esf_nvs_gen_new(&g, &o, &err);
    if (e) {
        cli_print_error("error", &err);
        goto done;
    }
    for (int i = 0; i < a->ninputs; i++) {
        size_t len;
        free(csv);
        csv = NULL;
        if ((e = esf_file_read(a->inputs[i], &csv, &len, &err))) {
            cli_print_error("error", &err);
            goto done;
        }
        if ((e = esf_nvs_gen_add_csv(g, (const char *)csv, len, a->inputs[i], &err))) {
            report_gen_error(g, e, &err);
            if (e == ESF_ERR_INVALID)
                rc = EXIT_INPUT_ERROR;
            goto done;
        }
    }
    size_t n, data_len;
    if ((e = esf_nvs_gen_finish_pages(g, &image, &data_len, &n, &err))) {
        cli_print_error("error", &err);
        goto done;
    }
    if (cli_write_ff_image(path, image, data_len, n, &err)) {
        cli_print_error("error", &err);
        goto done;
    }
    printf("\nCreated NVS binary: ===> %s\n", path);
    rc = 0;
done:
    esf_nvs_gen_free(g);
    free(csv);
    free(outdir);
    free(path);
    return rc;
}

static int encrypt(twin_args *a)
{
    uint64_t size;
    int rc = check_size(a->size, &size);
    if (rc >= 0)
        return rc;
    if (!a->keygen && !given(a->inputkey)) {
        fprintf(stderr, "Error. --keygen or --inputkey argument needed.\n");
        return 1;
    }
    if (a->keygen && given(a->inputkey)) {
        fprintf(stderr, "Error. --keygen and --inputkey both are not allowed.\n");
        return 1;
    }
    if (!a->keygen && given(a->keyfile))
        printf("\nWarning: --inputkey argument is given. --keyfile argument will be ignored...\n");
    uint8_t key[64];
    size_t kl = 0;
    if (given(a->inputkey)) {
        if (!strstr(py_ext(a->inputkey), ".bin")) {
            fprintf(stderr, "Error: `%s`. Only `.bin` extension allowed.\n", a->inputkey);
            return 1;
        }
        if (read_prefix(a->inputkey, key, sizeof key, &kl))
            return 1;
        if (kl && kl < 64) {
            fprintf(stderr, "error: %s: %zu bytes; the XTS key needs 64 (the reference fails with "
                    "an invalid key size)\n", a->inputkey, kl);
            return 1;
        }
    }
    return generate(a, true, kl ? key : NULL);
}

/* ---- decrypt ---- */

static int decrypt(twin_args *a)
{
    const char *files[3] = { a->input, a->key, a->output };
    for (int i = 0; i < 3; i++)
        if (!strstr(py_ext(files[i]), ".bin")) {
            fprintf(stderr, "Error: `%s`. Only `.bin` extension allowed.\n", files[i]);
            return 1;
        }
    uint8_t key[64];
    size_t kl = 0;
    if (read_prefix(a->key, key, sizeof key, &kl))
        return 1;
    char *outdir = NULL, *path = NULL;
    int rc = set_target_filepath(a->outdir, a->output, &outdir, &path);
    if (rc)
        return rc;
    rc = 1;
    uint8_t *img = NULL;
    size_t len;
    esf_error err;
    if (esf_file_read(a->input, &img, &len, &err)) {
        cli_print_error("error", &err);
        goto done;
    }
    if (len % 32) {
        fprintf(stderr, "error: %s: %zu bytes is not a multiple of 32 (one NVS entry)\n", a->input, len);
        goto done;
    }
    /* the reference's walk: units 0 and 1 of each page kept, all-0xFF units kept, the others
     * decrypted with tweak page*4096 + 64 + 32*n, n counting decrypted units of the page */
    unsigned n = 0;
    for (size_t off = 0; off < len; off += 32) {
        size_t unit = (off % 4096) / 32;
        if (unit == 0)
            n = 0;
        bool ff = true;
        for (int i = 0; i < 32; i++)
            ff &= img[off + (size_t)i] == 0xFF;
        if (ff || unit < 2)
            continue;
        if (kl < 64) {
            fprintf(stderr, "error: %s: %zu bytes; the XTS key needs 64 (the reference fails with an "
                    "invalid key size)\n", a->key, kl);
            goto done;
        }
        uint32_t tweak_off = (uint32_t)(off - off % 4096) + 64 + 32 * n;
        if (esf_nvs_crypt_entries(0, key, tweak_off, img + off, img + off, 1, &err)) {
            cli_print_error("error", &err);
            goto done;
        }
        n++;
    }
    static const uint8_t one_ff = 0xFF;  /* the reference writes one 0xFF byte for an empty input */
    if (write_file(path, len ? img : &one_ff, len ? len : 1))
        goto done;
    printf("\nCreated NVS decrypted binary: ===> %s\n", path);
    rc = 0;
done:
    free(img);
    free(outdir);
    free(path);
    return rc;
}

/* ---- argument parsing ---- */

static const int version_choices[2] = { 1, 2 };

enum { O_VERSION, O_OUTDIR, O_KEYGEN, O_KEYFILE, O_INPUTKEY, O_KPH, O_KPH_KEYGEN, O_KPH_KEYFILE,
       O_KPH_INPUTKEY, O__N };

static void opt_defs(ap_opt *o)
{
    o[O_VERSION] = (ap_opt){ "--version", AP_STORE_INT, "{1,2}", version_choices, 2,
                             "NVS format: 1 (blobs in one page) or 2 (multi-page blobs, default)", NULL, 2, false };
    o[O_OUTDIR] = (ap_opt){ "--outdir", AP_STORE, "OUTDIR", NULL, 0,
                            "directory for the files written (default: current directory)", NULL, 0, false };
    o[O_KEYGEN] = (ap_opt){ "--keygen", AP_STORE_TRUE, NULL, NULL, 0,
                            "generate a keys file and encrypt with it", NULL, 0, false };
    o[O_KEYFILE] = (ap_opt){ "--keyfile", AP_STORE, "KEYFILE", NULL, 0,
                             "name of the keys file to write (in OUTDIR/keys/)", NULL, 0, false };
    o[O_INPUTKEY] = (ap_opt){ "--inputkey", AP_STORE, "INPUTKEY", NULL, 0,
                              "keys file to encrypt with", NULL, 0, false };
    o[O_KPH] = (ap_opt){ "--key_protect_hmac", AP_STORE_TRUE, NULL, NULL, 0,
                         "derive the keys from an HMAC key (eFuse HMAC scheme)", NULL, 0, false };
    o[O_KPH_KEYGEN] = (ap_opt){ "--kp_hmac_keygen", AP_STORE_TRUE, NULL, NULL, 0,
                                "generate the HMAC key too", NULL, 0, false };
    o[O_KPH_KEYFILE] = (ap_opt){ "--kp_hmac_keyfile", AP_STORE, "KP_HMAC_KEYFILE", NULL, 0,
                                 "name of the HMAC key file to write", NULL, 0, false };
    o[O_KPH_INPUTKEY] = (ap_opt){ "--kp_hmac_inputkey", AP_STORE, "KP_HMAC_INPUTKEY", NULL, 0,
                                  "file holding the HMAC key", NULL, 0, false };
}

static void top_usage(FILE *f, const char *prog)
{
    fprintf(f, "usage: %s [-h] {generate,generate-key,encrypt,decrypt} ...\n", prog);
}

static void top_help(const char *prog)
{
    top_usage(stdout, prog);
    printf("\nNVS partition images: generate, encrypt, decrypt, make keys (drop-in twin of "
           "esp-idf-nvs-partition-gen)\n\noptions:\n  -h, --help            show this help message "
           "and exit\n\nCommands:\n  {generate,generate-key,encrypt,decrypt}\n"
           "    generate            CSV -> NVS image\n"
           "    generate-key        write an encryption keys file\n"
           "    encrypt             CSV -> encrypted NVS image\n"
           "    decrypt             encrypted NVS image -> plain image\n");
}

int cmd_nvs_partition_gen(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    char prog[64];
    snprintf(prog, sizeof prog, "%s", base);
    if (argc <= 1) {
        top_help(prog);
        return 1;
    }
    int ci = 1;
    /* top-level options before the command: only -h/--help exist */
    while (ci < argc && argv[ci][0] == '-' && argv[ci][1]) {
        if (!strcmp(argv[ci], "-h") || !strncmp("--help", argv[ci], strlen(argv[ci])) ||
            !strncmp(argv[ci], "-h", 2)) {
            top_help(prog);
            return 0;
        }
        top_usage(stderr, prog);
        fprintf(stderr, "%s: error: unrecognized arguments: %s\n", prog, argv[ci]);
        return 2;
    }
    if (ci >= argc) {
        top_help(prog);
        return 1;
    }
    const char *cmd = argv[ci];
    static const char *const cmds[4] = { "generate", "generate-key", "encrypt", "decrypt" };
    int which = -1;
    for (int i = 0; i < 4; i++)
        if (!strcmp(cmd, cmds[i]))
            which = i;
    if (which < 0) {
        top_usage(stderr, prog);
        fprintf(stderr, "%s: error: argument command: invalid choice: '%s' (choose from 'generate', "
                "'generate-key', 'encrypt', 'decrypt')\n", prog, cmd);
        return 2;
    }
    char sprog[96];
    snprintf(sprog, sizeof sprog, "%s %s", prog, cmd);
    ap_opt all[O__N];
    opt_defs(all);
    ap_opt opts[O__N];
    int map[O__N];
    size_t no = 0;
    for (int i = 0; i < O__N; i++)
        map[i] = -1;
    static const int gen_o[] = { O_VERSION, O_OUTDIR };
    static const int key_o[] = { O_KPH, O_KPH_KEYGEN, O_KPH_KEYFILE, O_KPH_INPUTKEY, O_KEYFILE, O_OUTDIR };
    static const int enc_o[] = { O_VERSION, O_KEYGEN, O_KEYFILE, O_INPUTKEY, O_OUTDIR, O_KPH,
                                 O_KPH_KEYGEN, O_KPH_KEYFILE, O_KPH_INPUTKEY };
    static const int dec_o[] = { O_OUTDIR };
    const int *sel = which == 0 ? gen_o : which == 1 ? key_o : which == 2 ? enc_o : dec_o;
    size_t nsel = which == 0 ? 2 : which == 1 ? 6 : which == 2 ? 9 : 1;
    for (size_t i = 0; i < nsel; i++) {
        map[sel[i]] = (int)no;
        opts[no++] = all[sel[i]];
    }
    ap_pos gen_pos[3] = { { "input", AP_ONE_OR_MORE, "CSV file(s) to read", NULL, 0 },
                          { "output", AP_ONE, "NVS image to write (.bin)", NULL, 0 },
                          { "size", AP_ONE, "partition size in bytes (a multiple of 4096)", NULL, 0 } };
    ap_pos dec_pos[3] = { { "input", AP_ONE, "encrypted NVS image", NULL, 0 },
                          { "key", AP_ONE, "keys file", NULL, 0 },
                          { "output", AP_ONE, "decrypted image to write", NULL, 0 } };
    ap_parser p = { sprog, NULL, opts, no, which == 1 ? NULL : which == 3 ? dec_pos : gen_pos,
                    which == 1 ? 0 : 3 };
    int rc = ap_parse(&p, argc - ci - 1, argv + ci + 1);
    if (rc) {
        ap_free(&p);
        return rc == AP_HELP_SHOWN ? 0 : rc;
    }
    char *here = cwd();
    twin_args a = { 0 };
    a.outdir = here;
    const ap_opt *o;
#define GOT(id) (map[id] >= 0 ? &opts[map[id]] : NULL)
    if ((o = GOT(O_OUTDIR)) && o->set)
        a.outdir = o->value;
    a.version = (o = GOT(O_VERSION)) ? (int)o->ivalue : 2;
    if ((o = GOT(O_KEYFILE)))
        a.keyfile = o->value;
    if ((o = GOT(O_KPH)))
        a.key_protect_hmac = o->set;
    if ((o = GOT(O_KPH_KEYGEN)))
        a.kp_hmac_keygen = o->set;
    if ((o = GOT(O_KPH_KEYFILE)))
        a.kp_hmac_keyfile = o->value;
    if ((o = GOT(O_KPH_INPUTKEY)))
        a.kp_hmac_inputkey = o->value;
    if ((o = GOT(O_KEYGEN)))
        a.keygen = o->set;
    if ((o = GOT(O_INPUTKEY)))
        a.inputkey = o->value;
#undef GOT
    if (which == 0 || which == 2) {
        a.inputs = gen_pos[0].values;
        a.ninputs = gen_pos[0].count;
        a.output = gen_pos[1].values[0];
        a.size = gen_pos[2].values[0];
    } else if (which == 3) {
        a.input = dec_pos[0].values[0];
        a.key = dec_pos[1].values[0];
        a.output = dec_pos[2].values[0];
    }
    fflush(stdout);
    switch (which) {
    case 0: rc = generate(&a, false, NULL); break;
    case 1: {
        uint8_t key[64];
        rc = generate_key(&a, a.outdir, key);
        break;
    }
    case 2: rc = encrypt(&a); break;
    default: rc = decrypt(&a); break;
    }
    fflush(stdout);
    ap_free(&p);
    free(here);
    return rc;
}
