/* espforge CLI: shared declarations. The CLI parses arguments, calls the library, prints. */
#ifndef ESPFORGE_CLI_H
#define ESPFORGE_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "espforge/error.h"

/* Exit codes of the native commands. Drop-in twins use their reference tool's codes. */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1   /* the input is bad or the operation failed */
#define CLI_EXIT_USAGE 2  /* bad command line */

/* Command-group entry points: argv[0] is the group or twin name. Each returns the exit code. */
int cmd_part(int argc, char **argv);               /* cli/cmd_part.c */
int cmd_gen_esp32part(int argc, char **argv);      /* cli/cmd_part.c (drop-in twin) */
int cmd_nvs(int argc, char **argv);                /* cli/cmd_nvs.c */
int cmd_nvs_partition_gen(int argc, char **argv);  /* cli/cmd_nvs_partition_gen.c (twin) */
int cmd_nvs_tool(int argc, char **argv);           /* cli/cmd_nvs_tool.c (twin) */
/* `espforge nvs` verbs (argv[0] is the verb), dispatched by cli/cmd_nvs.c's verb table. */
int cmd_nvs_gen(int argc, char **argv);      /* cli/cmd_nvs_gen.c */
int cmd_nvs_keygen(int argc, char **argv);   /* cli/cmd_nvs_gen.c */
int cmd_nvs_encrypt(int argc, char **argv);  /* cli/cmd_nvs_gen.c */
int cmd_nvs_decrypt(int argc, char **argv);  /* cli/cmd_nvs_gen.c */
/* Verbs of other files; weak in cmd_nvs.c, so the table works before their file lands. */
int cmd_nvs_dump(int argc, char **argv);     /* cli/cmd_nvs_read.c */
int cmd_nvs_check(int argc, char **argv);    /* cli/cmd_nvs_read.c */
int cmd_nvs_get(int argc, char **argv);      /* cli/cmd_nvs_read.c */
int cmd_nvs_set(int argc, char **argv);      /* cli/cmd_nvs_edit.c */
int cmd_nvs_erase(int argc, char **argv);    /* cli/cmd_nvs_edit.c */
int cmd_nvs_apply(int argc, char **argv);    /* cli/cmd_nvs_edit.c */
int cmd_nvs_diff(int argc, char **argv);     /* cli/cmd_nvs_read.c */
int cmd_mfg(int argc, char **argv);                /* cli/cmd_mfg.c */
int cmd_mfg_gen(int argc, char **argv);            /* cli/cmd_mfg.c (twin) */

/* Write `data_len` bytes then 0xFF up to `len` bytes to `path` atomically (cli/cli_image.c).
 * Returns ESF_OK or ESF_ERR_IO with err set. */
int cli_write_ff_image(const char *path, const uint8_t *data, size_t data_len, size_t len,
                       esf_error *err);

/* A command group's verb: argv[0] of `run` is the verb. */
typedef struct cli_verb {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} cli_verb;

/* List verbs as "  NAME SUMMARY" lines, names padded to `width`. */
void cli_print_verbs(FILE *out, const cli_verb *verbs, size_t n, int width);

/* Run the verb named by argv[1] of group `group` (argv[0]): no verb prints usage to stderr (exit 2),
 * -h/--help to stdout (exit 0), an unknown verb says so and prints usage (exit 2). */
int cli_run_verb(const char *group, const cli_verb *verbs, size_t n, void (*usage)(FILE *out),
                 int argc, char **argv);

/* Print "espforge: <located message>" to stderr; returns `exit_code` if rc < 0, else 0. */
int cli_report(int rc, const esf_error *err, int exit_code);

/* Print a located error with a prefix word ("error", "warning") to stderr. */
void cli_print_error(const char *prefix, const esf_error *err);

/* A warning sink printing "warning: <located message>" to stderr. */
extern const esf_warn_sink cli_warn_stderr;

#endif
