/* espforge CLI: placeholder until this command group lands. */
#include "cli.h"

int cmd_part(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "espforge: %s: not available in this build yet\n", argv[0]);
    return CLI_EXIT_FAIL;
}

int cmd_gen_esp32part(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "espforge: %s: not available in this build yet\n", argv[0]);
    return CLI_EXIT_FAIL;
}

