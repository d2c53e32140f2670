/* espforge: the program. Dispatches on the command group, or on the name it was called by
 * (a symlink named gen_esp32part, nvs_partition_gen, nvs_tool or mfg_gen runs that drop-in twin). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "espforge/global.h"

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "part", cmd_part, "partition tables: gen, show, check, builtin, layout" },
    { "nvs", cmd_nvs, "NVS images: gen, keygen, encrypt, decrypt, dump, check, get, set, erase, apply" },
    { "mfg", cmd_mfg, "mass production: gen (one factory NVS image per device)" },
    { "gen_esp32part", cmd_gen_esp32part, "drop-in twin of ESP-IDF gen_esp32part.py" },
    { "nvs_partition_gen", cmd_nvs_partition_gen, "drop-in twin of nvs_partition_gen.py" },
    { "nvs_tool", cmd_nvs_tool, "drop-in twin of nvs_tool.py" },
    { "mfg_gen", cmd_mfg_gen, "drop-in twin of mfg_gen.py" },
};

static void usage(FILE *out)
{
    fprintf(out, "usage: espforge <command> [args...]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-18s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nRun 'espforge <command> --help' for a command's options.\n");
}

static const command *find(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    esf_global_init(ESF_GLOBAL_STANDALONE);  /* failure shows later, in the command that needs it */
    const char *self = strrchr(argv[0], '/');
    self = self ? self + 1 : argv[0];
    /* called as a twin through a symlink (also "gen_esp32part.py") */
    char base[64];
    snprintf(base, sizeof base, "%s", self);
    char *dot = strstr(base, ".py");
    if (dot && dot[3] == '\0')
        *dot = '\0';
    const command *c = find(base);
    if (c && strcmp(base, "part") && strcmp(base, "nvs") && strcmp(base, "mfg"))
        return c->run(argc, argv);

    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("espforge 0.1.0\n");
        return CLI_EXIT_OK;
    }
    c = find(argv[1]);
    if (!c) {
        fprintf(stderr, "espforge: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    return c->run(argc - 1, argv + 1);
}
