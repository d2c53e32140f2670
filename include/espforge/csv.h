/* espforge util: a CSV reader that knows where each field came from.
 *
 * Dialect: Python's csv module, "excel" dialect, non-strict (nvs-generator.md §3): comma, `"`
 * quoting with `""` escape, quoted fields may hold commas and newlines, no whitespace stripping,
 * a quote inside an unquoted field is a literal character, text after a closing quote is appended.
 * Input lines end in `\n`, `\r\n` or `\r` (Python universal newlines: all become `\n` inside
 * quoted values). Optionally, every physical line whose first byte is `#` is dropped before CSV
 * parsing, even inside a quoted value (what nvs_partition_gen and mfg_gen do).
 */
#ifndef ESPFORGE_CSV_H
#define ESPFORGE_CSV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One field of a row: bytes (NUL-terminated copy, may contain NUL if the input did) and place. */
typedef struct esf_csv_field {
    const char *text;  /* NUL-terminated; valid until the next esf_csv_next() */
    size_t len;        /* bytes, without the NUL */
    uint32_t line;     /* 1-based physical line where the field starts */
    uint32_t column;   /* 1-based byte column where the field starts */
    bool quoted;       /* the field began with a quote */
} esf_csv_field;

/** One row. `nfields` == 0 for a blank line (Python yields []). */
typedef struct esf_csv_row {
    const esf_csv_field *fields;
    size_t nfields;
    uint32_t line;     /* 1-based physical line where the row starts */
} esf_csv_row;

typedef struct esf_csv_opts {
    bool skip_hash_lines;  /* drop physical lines starting with '#', before parsing */
} esf_csv_opts;

typedef struct esf_csv esf_csv;

/** Start reading `len` bytes at `data` (not copied: must outlive the reader). `source` names the
 *  input in errors (copied). @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_csv_open_mem(esf_csv **out, const char *data, size_t len, const char *source,
                     const esf_csv_opts *opts, esf_error *err);

/** Read the next row into `row` (valid until the next call or esf_csv_free).
 *  @return 1 if a row was read; 0 at end of input; ESF_ERR_NO_MEM. A quoted field still open at
 *  end of input ends there (Python non-strict behaviour). */
int esf_csv_next(esf_csv *r, esf_csv_row *row, esf_error *err);

/** Bytes of the input consumed so far (the start of the next physical line to read). Everything
 *  before it is no longer looked at: a caller streaming a mapped file may release those pages. */
size_t esf_csv_offset(const esf_csv *r);

/** The source name given to esf_csv_open_mem. */
const char *esf_csv_source(const esf_csv *r);

void esf_csv_free(esf_csv *r);  /* NULL-safe */

/** Strict UTF-8 validation as Python's utf-8 codec decodes (no overlongs, no surrogates, nothing
 *  above U+10FFFF; inputs the reference tools open as UTF-8 text).
 *  @return the offset of the first byte that is not valid UTF-8, or `len` when all is valid. */
size_t esf_utf8_check(const uint8_t *p, size_t len);

#ifdef __cplusplus
}
#endif
#endif
