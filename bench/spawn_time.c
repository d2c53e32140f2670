/* Benchmark helper: run a command N times (posix_spawn + wait, output to /dev/null) and print the
 * mean wall time and mean CPU time (user + system, from getrusage) per run in microseconds. Used by the bench scripts to compare whole-process times
 * without a shell's fork overhead in the figure.
 * usage: spawn_time RUNS COMMAND [ARGS...] */
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: spawn_time RUNS COMMAND [ARGS...]\n");
        return 2;
    }
    long runs = strtol(argv[1], NULL, 10);
    if (runs < 1)
        runs = 1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (long i = 0; i < runs; i++) {
        pid_t pid;
        int st;
        if (posix_spawnp(&pid, argv[2], &fa, NULL, argv + 2, environ) != 0) {
            perror(argv[2]);
            return 1;
        }
        if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
            fprintf(stderr, "spawn_time: %s failed\n", argv[2]);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / 1e3 / (double)runs;
    struct rusage ru;
    getrusage(RUSAGE_CHILDREN, &ru);
    double cpu = ((double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                  (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec)) / (double)runs;
    printf("%.1f %.1f\n", us, cpu);
    posix_spawn_file_actions_destroy(&fa);
    return 0;
}
