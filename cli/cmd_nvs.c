/* espforge CLI: the `nvs` command group. A verb table; each verb lives in its own file
 * (cli/cmd_nvs_gen.c: gen, keygen, encrypt, decrypt; cli/cmd_nvs_read.c: dump, check, get;
 * cli/cmd_nvs_edit.c: set, erase, apply) and is declared in cli/cli.h. To add a verb, add a row
 * here and its entry point there. */
#include "cli.h"

static const cli_verb verbs[] = {
    { "gen", cmd_nvs_gen, "CSV -> NVS image (IN.csv... OUT.bin --size N [--version 1|2] [--key K|--keygen K])" },
    { "keygen", cmd_nvs_keygen, "write a new NVS keys file (OUT [--hmac-key F | --hmac-keygen F])" },
    { "encrypt", cmd_nvs_encrypt, "encrypt an NVS image or a partition in a flash image (IN OUT --key K)" },
    { "decrypt", cmd_nvs_decrypt, "decrypt an NVS image or a partition in a flash image (IN OUT --key K)" },
    { "dump", cmd_nvs_dump, "print an NVS image's entries (text, CSV, --json)" },
    { "check", cmd_nvs_check, "check an NVS image's integrity" },
    { "get", cmd_nvs_get, "print one key's value" },
    { "set", cmd_nvs_set, "set a key in an NVS image (through the runtime)" },
    { "erase", cmd_nvs_erase, "erase a key or namespace in an NVS image" },
    { "apply", cmd_nvs_apply, "apply an edit script (set/erase/erase_all/commit lines) to an NVS image" },
    { "diff", cmd_nvs_diff, "compare two NVS images key by key" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: espforge nvs <verb> [args...]\n\nverbs:\n");
    cli_print_verbs(out, verbs, sizeof verbs / sizeof verbs[0], 9);
    fprintf(out, "\nRun 'espforge nvs <verb> --help' for a verb's options.\n");
}

int cmd_nvs(int argc, char **argv)
{
    return cli_run_verb("nvs", verbs, sizeof verbs / sizeof verbs[0], usage, argc, argv);
}
