/* espforge internal: what the partition-table modules (part_table.c, part_csv.c, part_layout.c)
 * share: keyword tables and Python-style number formatting. Not a public header. */
#ifndef ESPFORGE_INTERNAL_PART_INTERNAL_H
#define ESPFORGE_INTERNAL_PART_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "espforge/part_table.h"

/** One keyword: a type or subtype name and its value. */
typedef struct part_kw {
    const char *name;
    int64_t value;
} part_kw;

/** A keyword list in the reference's dict order. */
typedef struct part_kwlist {
    const part_kw *items;
    size_t n;
} part_kwlist;

/** The type keywords: bootloader, partition_table, app, data. */
part_kwlist part_types(void);

/** Subtype keywords of `type` (empty list for custom types). kw NULL = built-in. */
part_kwlist part_subtypes(const esf_part_keywords *kw, int64_t type);

/** Value of subtype keyword `name` of `type`; -1 when there is none. */
int64_t part_subtype_value(const esf_part_keywords *kw, int64_t type, const char *name);

/** Find `name` (exact) in a list. @return 1 and *value, or 0. */
int part_kw_find(part_kwlist l, const char *name, int64_t *value);

/** Python "0x%x" % v for a possibly negative v ("0x-10", as Python prints it). Returns buf. */
const char *part_hex(char *buf, size_t len, int64_t v);

/** True for (bootloader, primary) and (partition_table, primary) entries. */
int part_is_primary(const esf_part_keywords *kw, int64_t type, int64_t subtype);

/** Strict UTF-8 as Python decodes it (no overlongs, surrogates or > U+10FFFF): length of the
 *  valid prefix of s[0..n). */
size_t part_utf8_valid_prefix(const uint8_t *s, size_t n);

/** Emit one of espforge's own warnings (code ESF_ERR_INVALID, so front ends can tell it from
 *  the reference's verbatim lines, which have code ESF_OK). */
void part_warn_own(const esf_warn_sink *sink, const char *source, uint32_t line, uint32_t column,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/** Set `err` (code, message) placed at entry `e` of `t`: its CSV line/column or binary offset. */
int part_entry_err(esf_error *err, int code, const esf_part_table *t, const esf_part_entry *e,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/** A reference "critical"/WARNING line (code ESF_OK) placed at entry `e` (may be NULL). */
void part_entry_warn(const esf_part_opts *o, const esf_part_table *t, const esf_part_entry *e,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/** Appended to every message about input on which gen_esp32part.py crashes (traceback) rather
 *  than printing an error; the drop-in twin uses it to tell its own messages from the
 *  reference's texts. */
#define PART_CRASH_NOTE " (gen_esp32part.py crashes on this input)"

/** Bytes above which a number is refused (the reference would crash packing it). */
#define PART_BIG ((int64_t)1 << 48)

#endif
