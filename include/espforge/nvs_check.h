/* espforge layer 4: integrity check of an NVS image.
 *
 * esf_nvs_check() returns findings as data, in two groups:
 *  1. every rule of ESP-IDF's nvs_tool.py -i, in its execution order and with its inputs (the raw
 *     page model of nvs_image.h), `reference` = true. The nvs_tool twin renders exactly these.
 *     Two defects of the reference are not copied (nvs-generator.md §10.7): a chunk outside its
 *     index's range is reported as an orphan instead of crashing, and namespace-0 entries that
 *     are not integers are ignored for the namespace table instead of crashing.
 *  2. espforge's additional rules over the runtime view (`reference` = false): page version and
 *     state, item header consistency as the runtime checks it (nvs-format.md §5.3), interrupted
 *     writes and garbage collection, blob chunk families (§12 J), exact duplicate live keys,
 *     namespace table problems.
 * Each finding names its place: physical page, entry index and partition-relative byte offset.
 */
#ifndef ESPFORGE_NVS_CHECK_H
#define ESPFORGE_NVS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"
#include "espforge/nvs_image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esf_nvs_severity {
    ESF_NVS_SEV_INFO = 0,  /* progress lines of the reference ("Page no. 0  CRC32: OK") */
    ESF_NVS_SEV_WARN = 1,  /* suspicious or recoverable by the runtime; data still readable */
    ESF_NVS_SEV_ERROR = 2  /* damaged: data lost or unreadable, or the runtime refuses the image */
} esf_nvs_severity;

typedef enum esf_nvs_rule {
    /* nvs_tool rules (nvs-generator.md §10.7), numbers a/b as noted */
    ESF_NVS_R_SIZE = 0,          /* fewer than 3 pages */
    ESF_NVS_R_NO_FREE_PAGE,      /* no page with state Empty */
    ESF_NVS_R_PAGE_EMPTY,        /* info: page state Empty */
    ESF_NVS_R_EMPTY_BITMAP,      /* Empty page, bitmap not all 0xFF */
    ESF_NVS_R_EMPTY_DATA,        /* Empty page, entries not all 0xFF */
    ESF_NVS_R_PAGE_CRC_OK,       /* info: header CRC fine */
    ESF_NVS_R_PAGE_CRC,          /* a = stored, b = computed header CRC */
    ESF_NVS_R_WRITTEN_EMPTY,     /* entry marked Written but all 0xFF */
    ESF_NVS_R_ERASED_EMPTY,      /* entry marked Erased but all 0xFF */
    ESF_NVS_R_ENTRY_CRC,         /* a = stored, b = computed item CRC */
    ESF_NVS_R_DATA_CRC,          /* a = stored, b = computed payload CRC */
    ESF_NVS_R_TYPE_UNKNOWN,      /* a = type code */
    ESF_NVS_R_SPAN_OOB,          /* span runs past the page end */
    ESF_NVS_R_CHILD_STATE,       /* a = payload entry index, b = its state */
    ESF_NVS_R_DUPLICATE,         /* one finding per entry of a duplicate group */
    ESF_NVS_R_BLOB_ORPHAN,       /* chunk without (matching) blob index; a = chunk index */
    ESF_NVS_R_BLOB_MISSING_CHUNK,/* at the index; a = chunk slot */
    ESF_NVS_R_BLOB_MISSING_DATA, /* at the index; a = bytes missing */
    ESF_NVS_R_NS_UNDEFINED,      /* ns = the undefined index (place: first entry using it) */
    ESF_NVS_R_NS_UNUSED,         /* ns = the unused index (place: its definition) */
    /* espforge rules */
    ESF_NVS_R_PAGE_VERSION,      /* a = version byte; runtime refuses the partition */
    ESF_NVS_R_PAGE_STATE,        /* a = state word not a page state; page treated as free */
    ESF_NVS_R_EMPTY_HEADER,      /* state Empty but other header bytes written */
    ESF_NVS_R_SEQ_DUP,           /* a = sequence number shared with another page */
    ESF_NVS_R_FREEING,           /* page left FREEING: interrupted garbage collection */
    ESF_NVS_R_MULTI_ACTIVE,      /* more than one ACTIVE page */
    ESF_NVS_R_ITEM_INCONSISTENT, /* a = esf_nvs_item_fault; runtime erases the entry */
    ESF_NVS_R_TORN_ENTRY,        /* ACTIVE page: data after the last marked entry */
    ESF_NVS_R_DUP_KEY,           /* an older copy of a live key; a = entry of the newer copy,
                                    b = its physical page */
    ESF_NVS_R_BLOB_INCOMPLETE,   /* a = bytes found, b = chunks found; runtime erases the index */
    ESF_NVS_R_BLOB_STALE,        /* chunk of a superseded or unfinished version; a = chunk */
    ESF_NVS_R_NS_DUP,            /* namespace name or index defined twice; a = other entry */
    ESF_NVS_R_NS_RESERVED,       /* namespace index 0 or 255; a = index */
    ESF_NVS_R_NS_NOT_U8,         /* non-U8 item in namespace 0 (runtime stops its scan there) */
    ESF_NVS_R_STR_NO_NUL,        /* string without terminating NUL */
    ESF_NVS_R_ENTRY_ILLEGAL,     /* bitmap state 01 (only after corruption): runtime erases it */
    ESF_NVS_R__COUNT
} esf_nvs_rule;

typedef struct esf_nvs_finding {
    esf_nvs_rule rule;
    esf_nvs_severity severity;
    bool reference;   /* an nvs_tool rule */
    int32_t page;     /* physical page, -1 = whole partition */
    int32_t entry;    /* entry index, -1 = page level */
    int64_t offset;   /* partition-relative byte offset of the entry or page, -1 = n/a */
    uint8_t ns;       /* namespace index concerned (0 when n/a) */
    char key[17];     /* key up to its first NUL ("" when n/a) */
    uint32_t a, b;    /* rule-specific numbers, see esf_nvs_rule */
    char msg[256];    /* one-line human message (no place prefix) */
} esf_nvs_finding;

typedef struct esf_nvs_report {
    esf_nvs_finding *items;
    size_t count, cap;
    unsigned errors, warnings;  /* counts by severity, over all findings */
} esf_nvs_report;

/** Run every rule over `img`. `rep` must be zeroed (or freed) before; it is filled in order.
 *  @return ESF_OK (findings are data, not an error); ESF_ERR_NO_MEM; ESF_ERR_INVALID_ARG. */
int esf_nvs_check(const esf_nvs_image *img, esf_nvs_report *rep, esf_error *err);

/** Release the findings; leaves a zeroed report. NULL-safe. */
void esf_nvs_report_free(esf_nvs_report *rep);

/** Stable identifier of a rule ("entry-crc", "duplicate", …) for JSON and tests; never NULL. */
const char *esf_nvs_rule_id(esf_nvs_rule r);

#ifdef __cplusplus
}
#endif
#endif
