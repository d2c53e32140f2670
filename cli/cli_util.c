/* espforge CLI: printing of library errors and warnings. */
#include <string.h>

#include "cli.h"

static void warn_to_stderr(void *ctx, const esf_error *w)
{
    (void)ctx;
    cli_print_error("warning", w);
}

const esf_warn_sink cli_warn_stderr = { warn_to_stderr, NULL };

void cli_print_error(const char *prefix, const esf_error *err)
{
    char buf[1024];
    esf_error_format(err, buf, sizeof buf);
    fprintf(stderr, "%s: %s\n", prefix, buf);
}

int cli_report(int rc, const esf_error *err, int exit_code)
{
    if (rc >= 0)
        return CLI_EXIT_OK;
    if (err && err->msg[0])
        cli_print_error("error", err);
    else
        fprintf(stderr, "error: %s\n", esf_strerror(rc));
    return exit_code;
}

void cli_print_verbs(FILE *out, const cli_verb *verbs, size_t n, int width)
{
    for (size_t i = 0; i < n; i++)
        fprintf(out, "  %-*s %s\n", width, verbs[i].name, verbs[i].summary);
}

int cli_run_verb(const char *group, const cli_verb *verbs, size_t n, void (*usage)(FILE *out),
                 int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < n; i++)
        if (!strcmp(verbs[i].name, argv[1]))
            return verbs[i].run(argc - 1, argv + 1);
    fprintf(stderr, "espforge %s: unknown verb '%s'\n", group, argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
