/* espforge: the library's error type.
 *
 * Every fallible function returns an int: ESF_OK (0) or a negative ESF_ERR_* code, and fills an
 * optional esf_error with a message and the place it is about: a text source (file, 1-based line
 * and column) or a binary one (byte offset). `err` may be NULL everywhere. The library never
 * prints, exits or aborts; warnings (input the reference tools accept silently broken) go to an
 * optional esf_warn_sink supplied by the caller.
 */
#ifndef ESPFORGE_ERROR_H
#define ESPFORGE_ERROR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Library error codes. Negative; positive returns stay free for counts. Append only. */
enum esf_error_code {
    ESF_OK = 0,
    ESF_ERR_NO_MEM = -1,        /* allocation failed */
    ESF_ERR_INVALID_ARG = -2,   /* API misuse: NULL, bad sizes, bad option */
    ESF_ERR_IO = -3,            /* file system error (open, read, write, rename) */
    ESF_ERR_PARSE = -4,         /* malformed text input (CSV, number, script) */
    ESF_ERR_RANGE = -5,         /* a number or size out of its allowed range */
    ESF_ERR_CORRUPT = -6,       /* malformed binary input (bad magic, CRC, MD5) */
    ESF_ERR_NOT_FOUND = -7,     /* key, label, namespace, partition absent */
    ESF_ERR_EXISTS = -8,        /* duplicate name or key */
    ESF_ERR_NO_SPACE = -9,      /* does not fit (partition, page, flash) */
    ESF_ERR_FLASH = -10,        /* NOR rule violated (programming a 0 bit to 1, unaligned) */
    ESF_ERR_POWER_CUT = -11,    /* fault injection: power was cut, nothing more reaches flash */
    ESF_ERR_UNSUPPORTED = -12,  /* valid input we do not handle */
    ESF_ERR_INVALID = -13,      /* input breaks a validation rule of the format */
    ESF_ERR_TOO_LONG = -14,     /* a name, key or value too long */
    ESF_ERR_READ_ONLY = -15,    /* write to a read-only partition or handle */
    ESF_ERR_CRYPTO = -16,       /* crypto backend failure, bad key material */
    ESF_ERR_TYPE_MISMATCH = -17,/* entry of another type */
    ESF_ERR_STATE = -18,        /* object in the wrong state for the call */
    ESF_ERR_INTERNAL = -19,     /* an invariant of ours broke: a bug */
    ESF_ERR_CANCELLED = -20,    /* stopped by the caller (callback asked to stop) */
    ESF_ERR__LAST = -21
};

/** An error report. `source` is a file name or a label ("" if none). */
typedef struct esf_error {
    int code;            /* ESF_OK or an ESF_ERR_* value */
    char msg[512];       /* human text, no trailing newline */
    char source[256];    /* file or label; "" if none */
    uint32_t line;       /* text input: 1-based line, 0 = n/a */
    uint32_t column;     /* text input: 1-based column, 0 = n/a */
    int64_t offset;      /* binary input: byte offset, -1 = n/a */
} esf_error;

/** Name of a code ("ESF_ERR_PARSE") for any int; never NULL. */
const char *esf_strerror(int code);

/** Reset to "no error" (code 0, empty message, no place). NULL-safe. */
void esf_error_clear(esf_error *err);

/** Set code and printf-style message; keeps no place. Returns `code` (so `return esf_error_set(..)`).
 *  NULL-safe. */
int esf_error_set(esf_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int esf_error_vset(esf_error *err, int code, const char *fmt, va_list ap);

/** Set code, message and a binary place: byte `offset` in `source` (may be NULL). Returns code. */
int esf_error_at(esf_error *err, int code, const char *source, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/** Set code, message and a text place: `source`:`line`:`column` (1-based, 0 = n/a). Returns code. */
int esf_error_loc(esf_error *err, int code, const char *source, uint32_t line, uint32_t column,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/** Prefix the existing message with "what: " (context while unwinding). Returns err->code. */
int esf_error_wrap(esf_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/** Render "source:line:col: msg", "source: offset 0x1f20: msg" or "msg" into buf (always
 *  NUL-terminated). Returns buf. */
const char *esf_error_format(const esf_error *err, char *buf, size_t len);

/** Where warnings go. The callee fills a stack esf_error (code ESF_OK, message, place) and calls
 *  fn; a NULL sink or NULL fn drops warnings. */
typedef struct esf_warn_sink {
    void (*fn)(void *ctx, const esf_error *warning);
    void *ctx;
} esf_warn_sink;

/** Emit a warning with a text place (line/column 0 = n/a). NULL-safe. */
void esf_warn_loc(const esf_warn_sink *sink, const char *source, uint32_t line, uint32_t column,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#ifdef __cplusplus
}
#endif
#endif
