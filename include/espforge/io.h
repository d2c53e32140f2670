/* espforge util: whole-file reads and atomic file output (temporary file, then rename). */
#ifndef ESPFORGE_IO_H
#define ESPFORGE_IO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Read a whole file into a malloc'd buffer (NUL-terminated one byte past `*len`; caller frees).
 *  @return ESF_OK; ESF_ERR_IO (message names the path and errno text); ESF_ERR_NO_MEM. */
int esf_file_read(const char *path, uint8_t **out, size_t *len, esf_error *err);

/** Write `len` bytes to `path` atomically: a temporary file in the same directory, flushed, then
 *  renamed over `path`. On any failure the temporary file is removed and `path` is untouched.
 *  The temporary file's blocks are reserved before writing (see esf_atomic_reserve).
 *  @return ESF_OK; ESF_ERR_IO. */
int esf_file_write_atomic(const char *path, const void *data, size_t len, esf_error *err);

/** Write `len` bytes to `name` (no '/') in the directory open as `dirfd`, atomically like
 *  esf_file_write_atomic but cheaper when many files go to a few directories (mass production):
 *  the data goes to an anonymous file (Linux O_TMPFILE) that is linked in under `name` once
 *  complete; where `name` exists already, or anonymous files are not available, a temporary file
 *  beside it is renamed over it. `label` names the file in errors (e.g. its path).
 *  @return ESF_OK; ESF_ERR_IO. */
int esf_file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len,
                             const char *label, esf_error *err);

/** A file being written atomically: write through `fp`, then commit (rename) or abort (unlink). */
typedef struct esf_atomic_file {
    FILE *fp;             /* write here */
    char *path;           /* final name */
    char *tmp_path;       /* temporary name in the same directory */
} esf_atomic_file;

/** Create the temporary file for `path`. @return ESF_OK; ESF_ERR_IO; ESF_ERR_NO_MEM. */
int esf_atomic_open(esf_atomic_file *f, const char *path, esf_error *err);
/** Announce that `len` bytes (the final size) will be written: the file system allocates them
 *  now (Linux fallocate, size unchanged), which makes the commit cheaper on ext4. Optional and
 *  best effort: never fails, does nothing where unsupported or for small files (< 4 KiB). */
void esf_atomic_reserve(esf_atomic_file *f, size_t len);
/** Flush, close and rename into place. Always releases `f`. @return ESF_OK; ESF_ERR_IO. */
int esf_atomic_commit(esf_atomic_file *f, esf_error *err);
/** Close and remove the temporary file. Always releases `f`; safe on a zeroed or released `f`. */
void esf_atomic_abort(esf_atomic_file *f);

/** Create a directory and its parents (mkdir -p), mode 0777 & ~umask. @return ESF_OK; ESF_ERR_IO. */
int esf_mkdir_p(const char *path, esf_error *err);

/** Like esf_file_write_atomic, but when `path` is a regular file already holding exactly these
 *  `len` bytes nothing is rewritten: only its modification time is set to now (what a build
 *  system needs to see). Much cheaper on ext4, where renaming over an existing file forces
 *  its data out; the file is never partial either way.
 *  @return ESF_OK; ESF_ERR_IO; ESF_ERR_NO_MEM. */
int esf_file_update_atomic(const char *path, const void *data, size_t len, esf_error *err);

#ifdef __cplusplus
}
#endif
#endif
