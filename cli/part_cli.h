/* espforge CLI: helpers shared by the partition-table commands (cmd_part.c, cmd_part_twin.c). */
#ifndef ESPFORGE_CLI_PART_CLI_H
#define ESPFORGE_CLI_PART_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "espforge/part_table.h"

/* The env callback for CSV $VAR expansion: getenv(), refusing names with '='. */
const char *part_cli_getenv(void *ctx, const char *name);

/* Read a file, or standard input for "-". Returns ESF_OK or an error code (err filled). */
int part_cli_read(const char *path, uint8_t **buf, size_t *len, esf_error *err);

/* Write `len` bytes to `path` atomically (after creating its directory), or to stdout for "-". */
int part_cli_write(const char *path, const void *data, size_t len, esf_error *err);

#endif
