/* espforge util: number parsing with the reference tools' rules. */
#ifndef ESPFORGE_NUMBER_H
#define ESPFORGE_NUMBER_H

#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Parse an integer with Python `int(text, 0)` rules (partition-table.md §5.3, nvs-generator.md
 *  §2.1): optional surrounding ASCII whitespace; optional sign; `0x`/`0o`/`0b` prefixes (any case)
 *  or decimal without leading zeros (`0`, `00` fine, `010` not); single `_` between digits and
 *  after a prefix. The value must fit int64.
 *  @param text  NUL-terminated
 *  @param[out] out  written only on ESF_OK
 *  @return ESF_OK; ESF_ERR_PARSE (not an integer); ESF_ERR_RANGE (outside int64);
 *          ESF_ERR_INVALID_ARG (NULL). */
int esf_parse_int(const char *text, int64_t *out, esf_error *err);

/** Same as esf_parse_int over `len` bytes of `text` (need not be NUL-terminated). */
int esf_parse_int_n(const char *text, size_t len, int64_t *out, esf_error *err);

/** Parse a size with the partition table's suffix rules (partition-table.md §5.3): a trailing
 *  `k`/`K` multiplies by 1024, `m`/`M` by 1048576, applied recursively ("1kk" = 1 MiB, "0x10K"),
 *  the rest by esf_parse_int. The result must fit int64.
 *  @return ESF_OK; ESF_ERR_PARSE; ESF_ERR_RANGE. On ESF_ERR_PARSE err->msg is
 *          "Invalid field value %s" with the text minus its stripped suffixes, like the reference. */
int esf_parse_int_km(const char *text, int64_t *out, esf_error *err);

/** Parse a size for native commands: esf_parse_int_km plus the unit words "KB"/"MB"/"KiB"/"MiB"
 *  (any case). Must be >= 0.
 *  @return ESF_OK; ESF_ERR_PARSE; ESF_ERR_RANGE (negative or too large). */
int esf_parse_size(const char *text, uint64_t *out, esf_error *err);

#ifdef __cplusplus
}
#endif
#endif
