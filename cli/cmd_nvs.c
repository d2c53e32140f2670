/* espforge CLI: the `nvs` command group. A verb table; each verb lives in its own file
 * (cli/cmd_nvs_gen.c: gen, keygen, encrypt, decrypt; cli/cmd_nvs_read.c: dump, check, get;
 * cli/cmd_nvs_edit.c: set, erase, apply) and is declared in cli/cli.h. To add a verb, add a row
 * here and its entry point there. */
#include <string.h>

#include "cli.h"

/* Verbs implemented in files that may not have landed yet: an absent one links as NULL. */
#pragma weak cmd_nvs_dump
#pragma weak cmd_nvs_check
#pragma weak cmd_nvs_get
#pragma weak cmd_nvs_set
#pragma weak cmd_nvs_erase
#pragma weak cmd_nvs_apply
#pragma weak cmd_nvs_diff

typedef struct nvs_verb {
    const char *name;
    int (*run)(int argc, char **argv);  /* argv[0] is the verb */
    const char *summary;
} nvs_verb;

static const nvs_verb verbs[] = {
    { "gen", cmd_nvs_gen, "CSV -> NVS image (IN.csv... OUT.bin --size N [--version 1|2] [--key K|--keygen K])" },
    { "keygen", cmd_nvs_keygen, "write a new NVS keys file (OUT [--hmac-key F | --hmac-keygen F])" },
    { "encrypt", cmd_nvs_encrypt, "encrypt an NVS image or a partition in a flash image (IN OUT --key K)" },
    { "decrypt", cmd_nvs_decrypt, "decrypt an NVS image or a partition in a flash image (IN OUT --key K)" },
    { "dump", cmd_nvs_dump, "print an NVS image's entries (text, CSV, --json)" },
    { "check", cmd_nvs_check, "check an NVS image's integrity" },
    { "get", cmd_nvs_get, "print one key's value" },
    { "set", cmd_nvs_set, "set a key in an NVS image (through the runtime)" },
    { "erase", cmd_nvs_erase, "erase a key or namespace in an NVS image" },
    { "apply", cmd_nvs_apply, "apply a CSV of changes to an NVS image" },
    { "diff", cmd_nvs_diff, "compare two NVS images key by key" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: espforge nvs <verb> [args...]\n\nverbs:\n");
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (verbs[i].run)
            fprintf(out, "  %-9s %s\n", verbs[i].name, verbs[i].summary);
    fprintf(out, "\nRun 'espforge nvs <verb> --help' for a verb's options.\n");
}

int cmd_nvs(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof verbs[0]; i++)
        if (!strcmp(verbs[i].name, argv[1])) {
            if (!verbs[i].run) {
                fprintf(stderr, "espforge nvs: %s: not available in this build yet\n", argv[1]);
                return CLI_EXIT_FAIL;
            }
            return verbs[i].run(argc - 1, argv + 1);
        }
    fprintf(stderr, "espforge nvs: unknown verb '%s'\n", argv[1]);
    usage(stderr);
    return CLI_EXIT_USAGE;
}
