/* espforge CLI: printing of library errors and warnings. */
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
