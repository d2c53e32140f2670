/* espforge internal: a growable text buffer for renderers, and the text encodings they share.
 *
 * Appends never fail: on an allocation failure the buffer sets `oom`, ignores further appends,
 * and esf_sb_flush() reports ESF_ERR_NO_MEM. A zeroed esf_sb is an empty buffer; release it with
 * esf_sb_free(). `p` is NUL-terminated once anything was appended.
 */
#ifndef ESPFORGE_INTERNAL_STRBUF_H
#define ESPFORGE_INTERNAL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "espforge/error.h"

typedef struct esf_sb {
    char *p;       /* text, NUL-terminated (NULL while empty) */
    size_t len;    /* bytes, without the NUL */
    size_t cap;    /* bytes allocated */
    bool oom;      /* an allocation failed: the text is incomplete */
} esf_sb;

/** Make room for `more` bytes (and the NUL). */
void esf_sb_grow(esf_sb *b, size_t more);
/** Append `n` bytes (may contain NUL). */
void esf_sb_addn(esf_sb *b, const char *s, size_t n);
/** Append a NUL-terminated string. */
void esf_sb_add(esf_sb *b, const char *s);
/** Append printf-style text (any length). */
void esf_sb_addf(esf_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/** Append bytes as the Unicode code points of the same value, UTF-8 encoded (what Python prints
 *  for chr(byte)). */
void esf_sb_latin1(esf_sb *b, const uint8_t *s, size_t n);
/** Append an integer in decimal: signed, or unsigned when `u64` (the bits of a u64 value). */
void esf_sb_int(esf_sb *b, int64_t v, bool u64);
/** Append standard base64 (with '=' padding, no newlines). */
void esf_sb_base64(esf_sb *b, const uint8_t *d, size_t n);

/** Write the text to `out` and empty the buffer (keeps the allocation).
 *  @return ESF_OK; ESF_ERR_NO_MEM (an append failed); ESF_ERR_IO (short write). */
int esf_sb_flush(esf_sb *b, FILE *out, esf_error *err);
/** Empty the buffer for reuse: length 0, `oom` cleared, the allocation kept (a buffer reused per
 *  item, e.g. per device, so one failed item does not poison the next). */
void esf_sb_reset(esf_sb *b);
/** Release the text; leaves an empty buffer. NULL-safe. */
void esf_sb_free(esf_sb *b);

/* ---- JSON, in the layout of Python's json.dumps(indent=N) with ensure_ascii */

/** A newline and `ind * depth` spaces (depth * ind <= 50). */
void esf_sb_json_indent(esf_sb *b, int ind, int depth);
/** One code point escaped as json.dumps does: \" \\ \n \r \t \b \f, other controls and anything
 *  outside 0x20..0x7E as \uXXXX (surrogate pairs above U+FFFF). */
void esf_sb_json_cp(esf_sb *b, uint32_t cp);
/** A JSON string of bytes taken as code points 0..255 (nvs_tool's keys). */
void esf_sb_json_latin1(esf_sb *b, const uint8_t *s, size_t n);
/** A JSON string of UTF-8 text; invalid bytes become U+FFFD. */
void esf_sb_json_utf8(esf_sb *b, const uint8_t *s, size_t n);
/** A JSON string holding the base64 of `n` bytes. */
void esf_sb_json_base64(esf_sb *b, const uint8_t *d, size_t n);

/** Decode one UTF-8 sequence at s[*i] (strict: no overlongs, surrogates or values above
 *  U+10FFFF); an invalid byte gives U+FFFD and advances by one. `*i` < n required. */
uint32_t esf_utf8_next(const uint8_t *s, size_t n, size_t *i);

#endif
