/* Shared helpers for the cmocka suites. */
#ifndef ESF_TEST_H
#define ESF_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "espforge/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Read tests/data/<rel> into a malloc'd buffer (NUL-terminated past *len); fails the test if absent. */
uint8_t *esf_test_read(const char *rel, size_t *len);

/* Absolute path of tests/data/<rel> in a static buffer (overwritten by the next call). */
const char *esf_test_path(const char *rel);

/* A fresh empty temporary directory (caller frees the string; remove with esf_test_rmdir). */
char *esf_test_tmpdir(void);
void esf_test_rmdir(const char *dir);

/* Number of entries in a directory (excluding . and ..), -1 if it cannot be read. */
int esf_test_count_entries(const char *dir);

/* Names of the generator vectors under tests/data/nvs that have an expected.bin (n01..n21;
 * n21 is encrypted with its keys.bin). */
extern const char *const esf_test_nvs_vectors[21];
#define esf_test_nvs_vector_count ARRAY_LEN(esf_test_nvs_vectors)

/* Decode base64 like Python's base64.b64decode (lenient: characters outside the alphabet are
 * skipped; decoding stops at the first '='). `out` needs n * 3 / 4 bytes. Returns bytes written. */
size_t esf_test_base64_decode(const char *in, size_t n, uint8_t *out);

#endif
