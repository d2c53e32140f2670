/* espforge CLI: `espforge nvs gen|keygen|encrypt|decrypt` (placeholder until the generator lands). */
#include "cli.h"

static int not_yet(char **argv)
{
    fprintf(stderr, "espforge nvs: %s: not available in this build yet\n", argv[0]);
    return CLI_EXIT_FAIL;
}

int cmd_nvs_gen(int argc, char **argv) { (void)argc; return not_yet(argv); }
int cmd_nvs_keygen(int argc, char **argv) { (void)argc; return not_yet(argv); }
int cmd_nvs_encrypt(int argc, char **argv) { (void)argc; return not_yet(argv); }
int cmd_nvs_decrypt(int argc, char **argv) { (void)argc; return not_yet(argv); }
