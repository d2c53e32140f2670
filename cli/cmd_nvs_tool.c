/* espforge CLI: `espforge nvs_tool ...` (and the symlink `nvs_tool`), a drop-in twin of ESP-IDF's
 * nvs_tool.py (v6.0): same arguments, output text and exit codes (nvs-generator.md §8-§10).
 * Deviations (no Python tracebacks: only their last line is printed; no crash on images where the
 * reference crashes) are listed in docs/nvs.md. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "espforge/io.h"
#include "espforge/nvs_check.h"
#include "espforge/nvs_dump.h"
#include "espforge/nvs_image.h"

#define PROG "nvs_tool.py"

static const char usage_text[] =
    "usage: " PROG " [-h] [-i] [-d type] [--color {never,auto,always}]\n"
    "                   [-f {text,json}]\n"
    "                   file\n";

static const char *const dump_choices[] = { "all", "written", "minimal", "blobs", "namespaces",
                                            "storage_info", "none", NULL };
static const char *const color_choices[] = { "never", "auto", "always", NULL };
static const char *const format_choices[] = { "text", "json", NULL };

static int usage_error(const char *fmt, const char *a, const char *b)
{
    fputs(usage_text, stderr);
    fprintf(stderr, PROG ": error: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return 2;
}

static void help(void)
{
    fputs(usage_text, stdout);
    fputs("\nRead an NVS partition image (espforge twin of ESP-IDF nvs_tool.py).\n\n"
          "positional arguments:\n"
          "  file                  NVS partition image (a multiple of 4096 bytes)\n\n"
          "options:\n"
          "  -h, --help            show this help and exit\n"
          "  -i, --integrity-check\n"
          "                        after the dump, check the partition and list problems\n"
          "  -d type, --dump type  what to print: all (default), written, minimal, blobs,\n"
          "                        namespaces, storage_info, none; json knows all, minimal,\n"
          "                        none\n"
          "  --color {never,auto,always}\n"
          "                        ANSI colours (auto: only on a terminal)\n"
          "  -f {text,json}, --format {text,json}\n"
          "                        output format (default text)\n",
          stdout);
}

/* "invalid choice" text of argparse: 'a', 'b', ... */
static int check_choice(const char *opt, const char *val, const char *const *choices)
{
    for (size_t i = 0; choices[i]; i++)
        if (!strcmp(val, choices[i]))
            return 0;
    char list[256] = "";
    for (size_t i = 0; choices[i]; i++) {
        size_t n = strlen(list);
        snprintf(list + n, sizeof list - n, "%s'%s'", i ? ", " : "", choices[i]);
    }
    char what[300];
    snprintf(what, sizeof what, "invalid choice: '%s' (choose from %s)", val, list);
    return usage_error("argument %s: %s", opt, what);
}

typedef struct tool_args {
    const char *file, *dump, *color, *format;
    int check;
} tool_args;

/* long options accept unambiguous prefixes and "--opt=value" (argparse) */
static const char *long_name(const char *arg, size_t n)
{
    static const char *const names[] = { "--help", "--integrity-check", "--dump", "--color",
                                         "--format" };
    const char *hit = NULL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strncmp(arg, names[i], n) && n <= strlen(names[i])) {
            if (strlen(names[i]) == n)
                return names[i];
            if (hit)
                return "";
            hit = names[i];
        }
    return hit;
}

static int parse(int argc, char **argv, tool_args *a)
{
    char *unknown[64];
    int nunknown = 0;
    bool only_pos = false;
    memset(a, 0, sizeof *a);
    a->dump = "all";
    a->color = "auto";
    a->format = "text";
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        const char *opt = NULL, *val = NULL;
        if (only_pos || arg[0] != '-' || !arg[1]) {
            if (!a->file)
                a->file = arg;
            else if (nunknown < 64)
                unknown[nunknown++] = arg;
            continue;
        }
        if (!strcmp(arg, "--")) {
            only_pos = true;
            continue;
        }
        if (arg[1] == '-') {
            const char *eq = strchr(arg, '=');
            size_t n = eq ? (size_t)(eq - arg) : strlen(arg);
            const char *name = long_name(arg, n);
            if (!name || !*name) {
                if (nunknown < 64)
                    unknown[nunknown++] = arg;
                continue;
            }
            if (!strcmp(name, "--help")) {
                help();
                return 1;
            }
            if (!strcmp(name, "--integrity-check")) {
                if (eq)
                    return usage_error("argument %s: ignored explicit argument '%s'",
                                       "-i/--integrity-check", eq + 1);
                a->check = 1;
                continue;
            }
            opt = name;
            val = eq ? eq + 1 : NULL;
        } else {
            /* short options, possibly combined: -i, -h, -dVALUE, -fVALUE, -id all */
            const char *p = arg + 1;
            while (*p == 'i' || *p == 'h') {
                if (*p == 'h') {
                    help();
                    return 1;
                }
                a->check = 1;
                p++;
            }
            if (!*p)
                continue;
            if (*p != 'd' && *p != 'f') {
                if (nunknown < 64)
                    unknown[nunknown++] = arg;
                continue;
            }
            opt = *p == 'd' ? "--dump" : "--format";
            val = p[1] ? p + 1 + (p[1] == '=') : NULL;
        }
        const char *label = !strcmp(opt, "--dump")     ? "-d/--dump"
                            : !strcmp(opt, "--format") ? "-f/--format"
                                                       : "--color";
        if (!val) {
            if (i + 1 >= argc || (argv[i + 1][0] == '-' && argv[i + 1][1]))
                return usage_error("argument %s: %s", label, "expected one argument");
            val = argv[++i];
        }
        const char *const *choices = !strcmp(opt, "--dump")     ? dump_choices
                                     : !strcmp(opt, "--format") ? format_choices
                                                                : color_choices;
        int rc = check_choice(label, val, choices);
        if (rc)
            return rc;
        if (!strcmp(opt, "--dump"))
            a->dump = val;
        else if (!strcmp(opt, "--format"))
            a->format = val;
        else
            a->color = val;
    }
    if (!a->file)
        return usage_error("the following arguments are required: %s%s", "file", "");
    if (nunknown) {
        char list[512] = "";
        for (int i = 0; i < nunknown; i++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", i ? " " : "", unknown[i]);
        }
        return usage_error("unrecognized arguments: %s%s", list, "");
    }
    return 0;
}

int cmd_nvs_tool(int argc, char **argv)
{
    tool_args a;
    esf_error err;
    uint8_t *data = NULL;
    size_t len = 0;
    esf_nvs_image *img = NULL;
    esf_nvs_report rep = { 0 };
    int rc, exit_code = 0;
    esf_error_clear(&err);

    if ((rc = parse(argc, argv, &a)) != 0)
        return rc == 1 ? 0 : rc;
    bool color = !strcmp(a.color, "always") || (!strcmp(a.color, "auto") && isatty(1));
    bool json = !strcmp(a.format, "json");
    if (esf_file_read(a.file, &data, &len, &err) < 0) {
        fprintf(stderr, "Bad filename\n");
        fprintf(stderr, "%s: [Errno %d] %s: '%s'\n",
                errno == ENOENT ? "FileNotFoundError" : errno == EISDIR ? "IsADirectoryError"
                                                                        : "OSError",
                errno, strerror(errno), a.file);
        return 1;
    }
    if ((rc = esf_nvs_image_parse(&img, data, len, NULL, &err)) < 0) {
        if (rc == ESF_ERR_INVALID)
            fprintf(stderr, "nvs_parser.NotAlignedError: Given partition data is not aligned to "
                            "page size (%zu %% 4096 = %zu)\n", len, len % 4096);
        else
            cli_print_error("error", &err);
        exit_code = 1;
        goto done;
    }
    const char *name = strrchr(a.file, '/');
    name = name ? name + 1 : a.file;
    if (json) {
        if (!strcmp(a.dump, "all") || !strcmp(a.dump, "minimal"))
            rc = esf_nvs_tool_json(stdout, img, name, !strcmp(a.dump, "minimal"), &err);
        else if (strcmp(a.dump, "none")) {
            fprintf(stderr, "RuntimeError: %s is not implemented\n", a.dump);
            exit_code = 1;
            goto done;
        }
    } else if (strcmp(a.dump, "none")) {
        static const struct { const char *name; esf_nvs_tool_mode mode; } modes[] = {
            { "all", ESF_NVS_TOOL_ALL }, { "written", ESF_NVS_TOOL_WRITTEN },
            { "minimal", ESF_NVS_TOOL_MINIMAL }, { "namespaces", ESF_NVS_TOOL_NAMESPACES },
            { "blobs", ESF_NVS_TOOL_BLOBS }, { "storage_info", ESF_NVS_TOOL_STORAGE_INFO },
        };
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            if (!strcmp(a.dump, modes[i].name))
                rc = esf_nvs_tool_text(stdout, img, modes[i].mode, color, &err);
    }
    if (rc >= 0 && a.check) {
        putchar('\n');
        rc = esf_nvs_check(img, &rep, &err);
        if (rc >= 0)
            rc = esf_nvs_tool_check(stdout, img, &rep, color, &err);
    }
    if (rc < 0) {
        cli_print_error("error", &err);
        exit_code = 1;
    }
done:
    if (fflush(stdout) != 0 && !exit_code)
        exit_code = 1;
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    free(data);
    return exit_code;
}
