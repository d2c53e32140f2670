/* bench/mfg_floor: the I/O floor of a mass-production run — only create and write files with the
 * same names' count and the same sizes as an existing output tree, nothing else.
 *
 *   mfg_floor SRC_DIR DST_DIR [THREADS]
 *
 * Lists every regular file under SRC_DIR/{bin,csv,keys} (not timed), then, timed, creates the
 * same sub-directories under DST_DIR and writes each file (open, write, close; same size, a
 * constant buffer) from THREADS threads (default 1). Prints files, bytes, seconds. */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct item {
    char *path;
    size_t size;
} item;

static item *items;
static size_t nitems, cap;
static unsigned nthreads = 1;
static const char *dst;
static char *zero;

static void add_dir(const char *src, const char *sub)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", src, sub);
    DIR *d = opendir(p);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char f[4096];
        struct stat st;
        snprintf(f, sizeof f, "%s/%s", p, e->d_name);
        if (stat(f, &st) || !S_ISREG(st.st_mode))
            continue;
        if (nitems == cap) {
            cap = cap ? cap * 2 : 4096;
            items = realloc(items, cap * sizeof *items);
        }
        size_t n = strlen(sub) + strlen(e->d_name) + 2;
        items[nitems].path = malloc(n);
        snprintf(items[nitems].path, n, "%s/%s", sub, e->d_name);
        items[nitems++].size = (size_t)st.st_size;
    }
    closedir(d);
}

static void *writer(void *arg)
{
    size_t t = (size_t)arg;
    char p[4096];
    for (size_t i = t; i < nitems; i += nthreads) {
        snprintf(p, sizeof p, "%s/%s", dst, items[i].path);
        int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (fd < 0 || write(fd, zero, items[i].size) != (ssize_t)items[i].size || close(fd)) {
            perror(p);
            exit(1);
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: mfg_floor SRC_DIR DST_DIR [THREADS]\n");
        return 2;
    }
    dst = argv[2];
    if (argc > 3)
        nthreads = (unsigned)atoi(argv[3]);
    if (nthreads < 1)
        nthreads = 1;
    const char *subs[] = { "bin", "csv", "keys" };
    size_t maxsz = 0, total = 0;
    for (int i = 0; i < 3; i++)
        add_dir(argv[1], subs[i]);
    for (size_t i = 0; i < nitems; i++) {
        if (items[i].size > maxsz)
            maxsz = items[i].size;
        total += items[i].size;
    }
    zero = calloc(1, maxsz + 1);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    mkdir(dst, 0777);
    for (int i = 0; i < 3; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dst, subs[i]);
        mkdir(p, 0777);
    }
    pthread_t th[256];
    for (size_t t = 0; t < nthreads && t < 256; t++)
        pthread_create(&th[t], NULL, writer, (void *)t);
    for (size_t t = 0; t < nthreads && t < 256; t++)
        pthread_join(th[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    printf("files %zu bytes %zu seconds %.4f threads %u\n", nitems, total, s, nthreads);
    return 0;
}
