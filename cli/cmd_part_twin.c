/* espforge CLI: `gen_esp32part`, the drop-in twin of ESP-IDF's gen_esp32part.py (v6.0.2).
 *
 * Same arguments (argparse rules: long-option prefixes, --opt=value, optional values that
 * swallow the next word, positionals taken in one run), same output bytes, same stderr texts,
 * same exit codes (2 for input errors). Where the reference crashes with a traceback (exit 1)
 * the twin exits 2 with a message and writes nothing. See docs/part.md. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "espforge/io.h"
#include "espforge/number.h"
#include "espforge/part_table.h"
#include "part_cli.h"

#define PROG "gen_esp32part.py"

typedef enum { A_FLAG, A_ONE, A_OPT, A_MANY } arg_kind;

typedef struct twin_opt {
    const char *lng;
    char shrt;
    arg_kind kind;
    const char *const *choices; /* NULL: any */
    const char *konst;          /* A_OPT without a value */
} twin_opt;

static const char *const flash_sizes[] = { "1MB", "2MB", "4MB", "8MB", "16MB", "32MB", "64MB", "128MB", NULL };
static const char *const secure_modes[] = { "v1", "v2", NULL };

enum { O_HELP, O_FLASH, O_NOMD5, O_NOVERIFY, O_VERIFY, O_QUIET, O_OFFSET, O_PRIMARY, O_RECOVERY,
       O_SECURE, O_EXTRA, O__N };

static const twin_opt opts_tab[O__N] = {
    [O_HELP] = { "--help", 'h', A_FLAG, NULL, NULL },
    [O_FLASH] = { "--flash-size", 0, A_OPT, flash_sizes, NULL },
    [O_NOMD5] = { "--disable-md5sum", 0, A_FLAG, NULL, NULL },
    [O_NOVERIFY] = { "--no-verify", 0, A_FLAG, NULL, NULL },
    [O_VERIFY] = { "--verify", 'v', A_FLAG, NULL, NULL },
    [O_QUIET] = { "--quiet", 'q', A_FLAG, NULL, NULL },
    [O_OFFSET] = { "--offset", 'o', A_ONE, NULL, NULL },
    [O_PRIMARY] = { "--primary-bootloader-offset", 0, A_ONE, NULL, NULL },
    [O_RECOVERY] = { "--recovery-bootloader-offset", 0, A_ONE, NULL, NULL },
    [O_SECURE] = { "--secure", 0, A_OPT, secure_modes, "v1" },
    [O_EXTRA] = { "--extra-partition-subtypes", 0, A_MANY, NULL, NULL },
};

static const char usage_text[] =
    "usage: " PROG " [-h]\n"
    "                        [--flash-size [{1MB,2MB,4MB,8MB,16MB,32MB,64MB,128MB}]]\n"
    "                        [--disable-md5sum] [--no-verify] [--verify] [--quiet]\n"
    "                        [--offset OFFSET]\n"
    "                        [--primary-bootloader-offset PRIMARY_BOOTLOADER_OFFSET]\n"
    "                        [--recovery-bootloader-offset RECOVERY_BOOTLOADER_OFFSET]\n"
    "                        [--secure [{v1,v2}]]\n"
    "                        [--extra-partition-subtypes [EXTRA_PARTITION_SUBTYPES ...]]\n"
    "                        input [output]\n";

static const char help_text[] =
    "\nESP32 partition table utility (espforge drop-in twin)\n\n"
    "positional arguments:\n"
    "  input                 Path to CSV or binary file to parse.\n"
    "  output                Path to output converted binary or CSV file. Will use\n"
    "                        stdout if omitted.\n\n"
    "options:\n"
    "  -h, --help            show this help message and exit\n"
    "  --flash-size [{1MB,2MB,4MB,8MB,16MB,32MB,64MB,128MB}]\n"
    "                        Optional flash size limit, checks partition table fits\n"
    "                        in flash\n"
    "  --disable-md5sum      Disable md5 checksum for the partition table\n"
    "  --no-verify           Don't verify partition table fields\n"
    "  --verify, -v          Verify partition table fields (deprecated, this\n"
    "                        behaviour is enabled by default and this flag does\n"
    "                        nothing.\n"
    "  --quiet, -q           Don't print non-critical status messages to stderr\n"
    "  --offset OFFSET, -o OFFSET\n"
    "                        Set offset partition table\n"
    "  --primary-bootloader-offset PRIMARY_BOOTLOADER_OFFSET\n"
    "                        Set primary bootloader offset\n"
    "  --recovery-bootloader-offset RECOVERY_BOOTLOADER_OFFSET\n"
    "                        Set recovery bootloader offset\n"
    "  --secure [{v1,v2}]    Require app partitions to be suitable for secure boot\n"
    "  --extra-partition-subtypes [EXTRA_PARTITION_SUBTYPES ...]\n"
    "                        Extra partition subtype entries\n";

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fputs(usage_text, stderr);
    fprintf(stderr, "%s: error: ", PROG);
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

/* argparse: is this word an option (not a value)? Negative numbers and "-" are values. */
static bool is_optionlike(const char *s)
{
    if (s[0] != '-' || s[1] == '\0')
        return false;
    if (!strcmp(s, "--"))
        return true;
    /* ^-\d+$|^-\d*\.\d+$ */
    const char *p = s + 1;
    bool digits = false, dot = false, after = false;
    for (; *p; p++) {
        if (*p >= '0' && *p <= '9') {
            if (dot) after = true; else digits = true;
        } else if (*p == '.' && !dot) {
            dot = true;
        } else {
            break;
        }
    }
    if (!*p && ((!dot && digits) || (dot && after)))
        return false;
    if (s[1] != '-' && strchr(s, ' '))
        return false;
    return true;
}

typedef struct twin_args {
    bool set[O__N];
    const char *val[O__N];
    const char **extra;
    size_t nextra;
    const char *input, *output;
} twin_args;

/* Resolve "--name" (exact or unique prefix). Returns the option index, -1 unknown, -2 ambiguous. */
static int find_long(const char *name, size_t len, char *amb, size_t amblen)
{
    int found = -1, n = 0;
    for (int i = 0; i < O__N; i++)
        if (strlen(opts_tab[i].lng) == len && !strncmp(opts_tab[i].lng, name, len))
            return i;
    amb[0] = '\0';
    for (int i = 0; i < O__N; i++)
        if (!strncmp(opts_tab[i].lng, name, len)) {
            size_t o = strlen(amb);
            snprintf(amb + o, amblen - o, "%s%s", n ? ", " : "", opts_tab[i].lng);
            found = i;
            n++;
        }
    return n == 1 ? found : n > 1 ? -2 : -1;
}

static int check_choice(int o, const char *v)
{
    if (!opts_tab[o].choices)
        return 0;
    for (const char *const *c = opts_tab[o].choices; *c; c++)
        if (!strcmp(*c, v))
            return 0;
    char list[256] = "";
    for (const char *const *c = opts_tab[o].choices; *c; c++) {
        size_t l = strlen(list);
        snprintf(list + l, sizeof list - l, "%s'%s'", c == opts_tab[o].choices ? "" : ", ", *c);
    }
    char head[128];
    snprintf(head, sizeof head, "argument %s: invalid choice: '%s'", opts_tab[o].lng, v);
    return usage_error("%s (choose from %s)", head, list);
}

static int parse_twin_args(int argc, char **argv, twin_args *a)
{
    memset(a, 0, sizeof *a);
    a->extra = calloc((size_t)argc + 1, sizeof *a->extra);
    const char **unrec = calloc((size_t)argc + 1, sizeof *unrec);
    size_t nunrec = 0;
    bool positionals_done = false, dashdash = false;
    int rc = 0;
    if (!a->extra || !unrec) {
        fprintf(stderr, "%s: out of memory\n", PROG);
        rc = 2;
        goto done;
    }
    for (int i = 1; i < argc;) {
        const char *s = argv[i];
        if (dashdash || !is_optionlike(s)) {
            /* a run of positionals: argparse matches input and output against it at once */
            int j = i;
            while (j < argc && (dashdash || !is_optionlike(argv[j])))
                j++;
            int run = j - i;
            int k = 0;
            if (!positionals_done) {
                a->input = argv[i];
                k = 1;
                if (run >= 2) {
                    a->output = argv[i + 1];
                    k = 2;
                }
                positionals_done = true;
            }
            for (; k < run; k++)
                unrec[nunrec++] = argv[i + k];
            i = j;
            if (i < argc && !strcmp(argv[i], "--") && !dashdash) {
                dashdash = true;
                i++;
            }
            continue;
        }
        if (!strcmp(s, "--")) {
            dashdash = true;
            i++;
            continue;
        }
        int o;
        const char *inl = NULL;  /* value given as --opt=value or -oVALUE */
        if (s[1] == '-') {
            const char *eq = strchr(s, '=');
            size_t len = eq ? (size_t)(eq - s) : strlen(s);
            char amb[512];
            o = find_long(s, len, amb, sizeof amb);
            if (o == -2) {
                char nm[256];
                snprintf(nm, sizeof nm, "%.*s", (int)len, s);
                rc = usage_error("ambiguous option: %s could match %s", nm, amb);
                goto done;
            }
            if (o < 0) {
                unrec[nunrec++] = s;
                i++;
                continue;
            }
            if (eq)
                inl = eq + 1;
        } else {
            /* short options, possibly combined: -qv, -o0x9000, -qo 0x9000 */
            const char *p = s + 1;
            o = -1;
            while (*p) {
                int f = -1;
                for (int k = 0; k < O__N; k++)
                    if (opts_tab[k].shrt == *p)
                        f = k;
                if (f < 0) {
                    if (p == s + 1) {
                        unrec[nunrec++] = s;
                    } else {
                        char bad[3] = { '-', *p, 0 };
                        rc = usage_error("argument %s: ignored explicit argument '%s'", bad, p);
                        goto done;
                    }
                    o = -1;
                    break;
                }
                if (opts_tab[f].kind == A_FLAG) {
                    a->set[f] = true;
                    if (f == O_HELP) {
                        o = f;
                        break;
                    }
                    p++;
                    o = -3;  /* flags consumed */
                    continue;
                }
                o = f;
                if (p[1])
                    inl = p[1] == '=' ? p + 2 : p + 1;
                break;
            }
            if (o == -1 || o == -3) {
                i++;
                continue;
            }
        }
        i++;
        a->set[o] = true;
        switch (opts_tab[o].kind) {
        case A_FLAG:
            if (inl) {
                rc = usage_error("argument %s: ignored explicit argument '%s'", opts_tab[o].lng, inl);
                goto done;
            }
            if (o == O_HELP) {
                fputs(usage_text, stdout);
                fputs(help_text, stdout);
                rc = -1;
                goto done;
            }
            break;
        case A_ONE:
            if (inl) {
                a->val[o] = inl;
            } else if (i < argc && (dashdash || !is_optionlike(argv[i]))) {
                a->val[o] = argv[i++];
            } else {
                rc = usage_error("argument %s: expected one argument%s", opts_tab[o].lng, "");
                goto done;
            }
            break;
        case A_OPT:
            if (inl)
                a->val[o] = inl;
            else if (i < argc && !is_optionlike(argv[i]))
                a->val[o] = argv[i++];
            else
                a->val[o] = opts_tab[o].konst;
            if (a->val[o] && (rc = check_choice(o, a->val[o])) != 0)
                goto done;
            break;
        case A_MANY:
            a->nextra = 0;  /* a repeated option replaces the list */
            if (inl)
                a->extra[a->nextra++] = inl;
            else
                while (i < argc && !is_optionlike(argv[i]))
                    a->extra[a->nextra++] = argv[i++];
            break;
        }
    }
    if (!a->input) {
        rc = usage_error("the following arguments are required: %s%s", "input", "");
        goto done;
    }
    if (nunrec) {
        char list[1024] = "";
        for (size_t k = 0; k < nunrec; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", k ? " " : "", unrec[k]);
        }
        rc = usage_error("unrecognized arguments: %s%s", list, "");
        goto done;
    }
    if (!a->output)
        a->output = "-";
done:
    free(unrec);
    return rc;
}

/* stderr like the reference: its own lines verbatim, ours marked as warnings */
static void twin_warn(void *ctx, const esf_error *w)
{
    (void)ctx;
    if (w->code == ESF_OK) {
        fprintf(stderr, "%s\n", w->msg);
    } else {
        char buf[1024];
        fprintf(stderr, "%s: warning: %s\n", PROG, esf_error_format(w, buf, sizeof buf));
    }
}

static const esf_warn_sink twin_sink = { twin_warn, NULL };

static void status(bool quiet, const char *msg)
{
    if (!quiet)
        fprintf(stderr, "%s\n", msg);
}

/* Print an error the way the reference does: the message alone; for our own (crash-case)
 * errors add the place. */
static int fail(const esf_error *err, bool reference_text)
{
    if (reference_text) {
        fprintf(stderr, "%s\n", err->msg);
    } else {
        char buf[1024];
        fprintf(stderr, "%s: error: %s\n", PROG, esf_error_format(err, buf, sizeof buf));
    }
    return 2;
}

/* The library's messages are the reference's InputError texts, except those about input the
 * reference crashes on, which say so. */
static bool is_reference_error(const esf_error *err)
{
    return err->code != ESF_ERR_NO_MEM && err->code != ESF_ERR_IO &&
           strstr(err->msg, "gen_esp32part.py crashes on this input") == NULL;
}

static int parse_int_arg(const char *name, const char *v, int64_t *out)
{
    if (esf_parse_int(v, out, NULL) < 0 || *out < -((int64_t)1 << 48) || *out > ((int64_t)1 << 48)) {
        fprintf(stderr, "%s: error: %s: invalid number '%s' (gen_esp32part.py crashes on this input)\n", PROG,
                name, v);
        return 2;
    }
    return 0;
}

int cmd_gen_esp32part(int argc, char **argv)
{
    twin_args a;
    int rc = parse_twin_args(argc, argv, &a);
    if (rc) {
        free(a.extra);
        return rc < 0 ? 0 : rc;
    }
    esf_error err;
    esf_error_clear(&err);
    esf_part_opts o;
    esf_part_opts_init(&o);
    esf_part_keywords *kw = NULL;
    esf_part_table *t = NULL;
    uint8_t *in = NULL;
    char *text = NULL;
    size_t inlen = 0;
    int exit_code = 2;
    bool quiet = a.set[O_QUIET];

    /* argparse opens the input while parsing the arguments */
    if (part_cli_read(a.input, &in, &inlen, &err) < 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "argument input: can't open '%s': %s", a.input, err.msg);
        fputs(usage_text, stderr);
        fprintf(stderr, "%s: error: %s\n", PROG, msg);
        goto done;
    }
    o.disable_md5 = a.set[O_NOMD5];
    o.secure = a.val[O_SECURE] ? (strcmp(a.val[O_SECURE], "v2") ? 1 : 2) : 0;
    o.ref_messages = true;
    o.env = part_cli_getenv;
    o.warn = &twin_sink;
    if (parse_int_arg("--offset", a.val[O_OFFSET] ? a.val[O_OFFSET] : "0x8000", &o.table_offset))
        goto done;
    if (a.val[O_PRIMARY]) {
        if (parse_int_arg("--primary-bootloader-offset", a.val[O_PRIMARY], &o.primary_bootloader_offset))
            goto done;
        o.has_primary_bootloader_offset = true;
    }
    if (a.val[O_RECOVERY]) {
        if (parse_int_arg("--recovery-bootloader-offset", a.val[O_RECOVERY], &o.recovery_bootloader_offset))
            goto done;
        o.has_recovery_bootloader_offset = true;
    }
    if ((rc = esf_part_opts_check(&o, &err)) < 0) {
        fail(&err, is_reference_error(&err));
        goto done;
    }
    if (a.nextra) {
        if ((rc = esf_part_keywords_new(&kw, a.extra, a.nextra, false, &twin_sink, &err)) < 0) {
            fail(&err, is_reference_error(&err));
            goto done;
        }
        o.keywords = kw;
    }
    bool binary = inlen >= 2 && in[0] == 0xAA && in[1] == 0x50;
    const char *src = strcmp(a.input, "-") ? a.input : "<stdin>";
    if (binary) {
        status(quiet, "Parsing binary partition input...");
        rc = esf_part_table_decode(&t, in, inlen, src, &o, &err);
    } else {
        status(quiet, "Parsing CSV input...");
        rc = esf_part_csv_parse(&t, (const char *)in, inlen, src, &o, &err);
    }
    if (rc < 0) {
        fail(&err, is_reference_error(&err));
        goto done;
    }
    if (!a.set[O_NOVERIFY]) {
        status(quiet, "Verifying table...");
        if ((rc = esf_part_table_verify(t, &o, &err)) < 0) {
            fail(&err, true);
            goto done;
        }
    }
    if (a.val[O_FLASH]) {
        uint64_t mb = strtoull(a.val[O_FLASH], NULL, 10);
        if ((rc = esf_part_table_check_flash_size(t, mb * 1048576u, &err)) < 0) {
            fail(&err, true);
            goto done;
        }
    }
    if (binary) {
        if ((rc = esf_part_table_to_csv(t, kw, &text, &err)) < 0 ||
            (rc = part_cli_write(a.output, text, strlen(text), &err)) < 0) {
            fail(&err, false);
            goto done;
        }
    } else {
        uint8_t bin[ESF_PART_TABLE_MAX_LEN];
        if ((rc = esf_part_table_encode(t, &o, bin, &err)) < 0) {
            fail(&err, is_reference_error(&err));
            goto done;
        }
        if ((rc = part_cli_write(a.output, bin, sizeof bin, &err)) < 0) {
            fail(&err, false);
            goto done;
        }
    }
    exit_code = 0;
done:
    free(text);
    free(in);
    free(a.extra);
    esf_part_table_free(t);
    esf_part_keywords_free(kw);
    return exit_code;
}
