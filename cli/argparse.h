/* espforge CLI: a small emulation of Python argparse's command-line rules, for the drop-in twins
 * (their scripts call them with argparse syntax): long options with unambiguous prefixes and
 * `--opt=value`, store / store_true / int-with-choices options, positionals with nargs 1 or '+'
 * consumed in argparse's chunked way around options, `--`, negative numbers as positionals,
 * single-dash options with the value attached (`-j4`), options taking two ints, hidden options,
 * argparse's error texts ("the following arguments are required: ...", "ambiguous option: ...",
 * "unrecognized arguments: ...") and exit status 2. */
#ifndef ESPFORGE_CLI_ARGPARSE_H
#define ESPFORGE_CLI_ARGPARSE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    AP_STORE, AP_STORE_TRUE, AP_STORE_INT,
    AP_STORE_INT2  /* nargs=2, type=int (mfg_gen's --prefix_num start length): the first in
                      `ivalue`, the second's text in `value` (checked; read it with ap_int) */
} ap_kind;

/* `help` value of an option accepted but not shown in usage or help (argparse.SUPPRESS) */
#define AP_SUPPRESS "==SUPPRESS=="

typedef struct ap_opt {
    const char *name;        /* "--outdir" */
    ap_kind kind;
    const char *metavar;     /* usage text: "OUTDIR" or "{1,2}" */
    const int *choices;      /* AP_STORE_INT: allowed values, `nchoices` of them (NULL = any) */
    size_t nchoices;
    const char *help;        /* one line (may contain '\n' for more) */
    /* results */
    const char *value;       /* AP_STORE: last value given, else NULL */
    long ivalue;             /* AP_STORE_INT: value (set `ivalue` to the default before parsing) */
    bool set;                /* given at least once */
} ap_opt;

enum { AP_ONE = 1, AP_ONE_OR_MORE = -1 };

typedef struct ap_pos {
    const char *name;
    int nargs;               /* AP_ONE or AP_ONE_OR_MORE */
    const char *help;
    /* results */
    char **values;           /* points into argv */
    int count;
} ap_pos;

typedef struct ap_parser {
    const char *prog;        /* "nvs_partition_gen generate" */
    const char *description; /* for --help, may be NULL */
    ap_opt *opts; size_t nopts;
    ap_pos *pos; size_t npos;
} ap_parser;

#define AP_HELP_SHOWN 0x100  /* ap_parse printed --help: exit 0 */

/** Parse argv[0..argc) (pass the arguments after the command word).
 *  @return 0 when parsed; AP_HELP_SHOWN after --help (printed on stdout; exit 0); 2 after a usage
 *          error (usage + "prog: error: ..." printed on stderr; exit 2). The positionals' `values`
 *          arrays are malloc'd: release with ap_free (also after an error). */
int ap_parse(ap_parser *p, int argc, char **argv);

/** Print the usage line(s) to `out`. */
void ap_usage(const ap_parser *p, void *out);

/** Print "usage..." and "prog: error: msg" to stderr; returns 2. */
int ap_error(const ap_parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ap_free(ap_parser *p);

/** Python int() of `s` as argparse's type=int reads it (whitespace, sign, '_' between digits).
 *  @return 0 and *out; -1 if not an integer. */
int ap_int(const char *s, long *out);

#endif
