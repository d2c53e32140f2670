/* espforge layer 4: rendering NVS images and check reports as text, JSON and generator CSV.
 *
 * Two families:
 *  - esf_nvs_tool_*: byte-for-byte the output of ESP-IDF v6.0 nvs_tool.py (nvs-generator.md
 *    §10) for its dump modes, JSON formats and integrity check, so the `nvs_tool` twin can be a
 *    drop-in. `color` gives its ANSI colours (--color always), false gives --color never.
 *  - esf_nvs_dump_* / esf_nvs_report_*: espforge's own readable outputs of the logical view
 *    (values by namespace) and the check findings, plus a generator CSV that regenerates the image.
 * All write to a caller's FILE* and never print elsewhere; they return ESF_ERR_IO on a write
 * error.
 */
#ifndef ESPFORGE_NVS_DUMP_H
#define ESPFORGE_NVS_DUMP_H

#include <stdbool.h>
#include <stdio.h>

#include "espforge/error.h"
#include "espforge/nvs_check.h"
#include "espforge/nvs_image.h"

#ifdef __cplusplus
extern "C" {
#endif

/** nvs_tool text dump modes (`-d`). */
typedef enum esf_nvs_tool_mode {
    ESF_NVS_TOOL_ALL = 0,
    ESF_NVS_TOOL_WRITTEN,
    ESF_NVS_TOOL_MINIMAL,
    ESF_NVS_TOOL_NAMESPACES,
    ESF_NVS_TOOL_BLOBS,
    ESF_NVS_TOOL_STORAGE_INFO
} esf_nvs_tool_mode;

/** nvs_tool `-f text -d MODE`. Deviations (reference crashes) documented in docs/nvs.md.
 *  @return ESF_OK; ESF_ERR_IO; ESF_ERR_NO_MEM; ESF_ERR_INVALID_ARG. */
int esf_nvs_tool_text(FILE *out, const esf_nvs_image *img, esf_nvs_tool_mode mode, bool color,
                      esf_error *err);

/** nvs_tool `-f json -d all` (`minimal` = false; `name` is the file's base name) or
 *  `-f json -d minimal` (`minimal` = true). */
int esf_nvs_tool_json(FILE *out, const esf_nvs_image *img, const char *name, bool minimal,
                      esf_error *err);

/** nvs_tool `-i` output (what follows the dump): the reference findings of `rep` (from
 *  esf_nvs_check on `img`) rendered as its messages, in its order. */
int esf_nvs_tool_check(FILE *out, const esf_nvs_image *img, const esf_nvs_report *rep,
                       bool color, esf_error *err);

/** Native dump formats. */
typedef enum esf_nvs_dump_format {
    ESF_NVS_DUMP_TEXT = 0,  /* namespace:key  type  value, one line per value */
    ESF_NVS_DUMP_JSON,      /* {"namespaces": [...], "values": [...]} */
    ESF_NVS_DUMP_CSV        /* generator CSV (see esf_nvs_dump_csv) */
} esf_nvs_dump_format;

/** Options of the native dump. */
typedef struct esf_nvs_dump_opts {
    esf_nvs_dump_format format;
    bool blob_base64;  /* CSV: blobs as base64 instead of hex2bin */
} esf_nvs_dump_opts;

/** Dump the logical view (values) as text or JSON, or the physical items as a generator CSV.
 *  CSV: written items in page-sequence and entry order, so that generating the CSV (with the
 *  `# version` given in its header comment) reproduces a generator-made image byte for byte:
 *  namespace rows where the generator wrote namespace entries, integers in decimal, strings with
 *  `string` (or `STRING` when stored without NUL), v1 and v2 blobs as hex2bin/base64, the entries
 *  the generator adds on its own for Wi-Fi keys left out.
 *  @return ESF_OK; ESF_ERR_IO; ESF_ERR_NO_MEM; ESF_ERR_UNSUPPORTED (CSV: a value a generator CSV
 *          cannot carry, e.g. a string with a NUL or CR inside, a line starting with '#', or a
 *          FLOAT/DOUBLE item (the generator has no encoding for them);
 *          err names page, entry and key). */
int esf_nvs_dump(FILE *out, const esf_nvs_image *img, const esf_nvs_dump_opts *opts,
                 esf_error *err);

/** Print one value: integers in decimal, FLOAT/DOUBLE as the shortest decimal text that reads
 *  back to the same bits (strtof/strtod; "-0", "inf", "-inf", "nan"), strings without their terminating NUL, blobs as
 *  lowercase hex (`raw` = false) or as their bytes (`raw` = true; strings then without the NUL). */
int esf_nvs_value_print(FILE *out, const esf_nvs_value *v, bool raw, esf_error *err);

/** Compare the values of two images key by key: one line per difference,
 *  "- ns:key type value" (only in `a`), "+ ns:key type value" (only in `b`), or
 *  "~ ns:key type old -> type new" (changed), in namespace-name then key order of each side.
 *  Namespaces are matched by name, not index. `*ndiff` = number of lines.
 *  @return ESF_OK; ESF_ERR_IO; ESF_ERR_NO_MEM. */
int esf_nvs_diff(FILE *out, const esf_nvs_image *a, const esf_nvs_image *b, size_t *ndiff,
                 esf_error *err);

/** Native check report: one line per finding of severity >= WARN,
 *  "page P entry E (offset 0x...): error|warning: message [rule-id]", offsets shifted by
 *  `base` (the partition's offset in a flash image), then a summary line. With `json`, one
 *  object {"errors": n, "warnings": n, "findings": [...]} including the reference info lines. */
int esf_nvs_report_print(FILE *out, const esf_nvs_report *rep, uint64_t base, bool json,
                         esf_error *err);

#ifdef __cplusplus
}
#endif
#endif
