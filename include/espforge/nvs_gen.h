/* espforge layer 4: the NVS partition generator (spec nvs-generator.md §3–§6).
 *
 * CSV rows (or rows handed over directly, e.g. by mass production) -> an NVS image byte-identical
 * to esp-idf-nvs-partition-gen 0.2.0. One generator object per image; esf_nvs_gen_reset() reuses
 * its buffers for the next device.
 *
 * Two modes:
 *  - native (compat = false): inputs the reference gets wrong are refused with a located error:
 *    rows before any namespace, duplicate keys in a namespace, upper-case encodings (which skip
 *    decoding in the reference), strings of 3969..4000 bytes (never fit a page), keys longer than
 *    15 bytes, non-ASCII `binary` text (the reference counts characters, writes bytes). Data rows
 *    go to the namespace selected by the last namespace row. Read-only images (0x1000, 0x2000) are
 *    padded with 0xFF to the partition size.
 *  - compat (the drop-in twin): accepts what the reference accepts and writes the same bytes, with
 *    a warning through `warn` for each input it gets wrong; where the reference crashes (uncaught
 *    exception) the call fails with ESF_ERR_* and a clear message.
 *
 * Usage:
 *   esf_nvs_gen *g; esf_nvs_gen_new(&g, &opts, &err);
 *   esf_nvs_gen_add_csv(g, text, len, "in.csv", &err);   // or esf_nvs_gen_add_row() per row
 *   esf_nvs_gen_finish(g, image, &len, &err);             // image: opts.size bytes
 *   esf_nvs_gen_free(g);
 */
#ifndef ESPFORGE_NVS_GEN_H
#define ESPFORGE_NVS_GEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Options of a generator. Zero-initialise, then set `size`. */
typedef struct esf_nvs_gen_opts {
    uint64_t size;          /* partition size, bytes: a multiple of 4096, >= 4096 (4096 and 8192 =
                               read-only partitions without reserved page) */
    int version;            /* 1 (v1 blobs, header byte 0xFF) or 2 (default when 0) */
    bool compat;            /* drop-in twin mode (see above) */
    bool no_wifi_extras;    /* don't add the reference's hidden sta.* / ap.pmk_info rows (§5.8) */
    const char *base_dir;   /* directory for relative type=file paths; NULL = current directory
                               (what the reference does) */
    bool no_files;          /* refuse type=file rows that name a path (ESF_ERR_UNSUPPORTED): for
                               untrusted input (fuzzing, services) */
    const uint8_t *key;     /* 64-byte XTS key (eky ‖ tky): encrypt every written entry; NULL =
                               plain image. Copied by esf_nvs_gen_new. */
    esf_warn_sink warn;     /* warnings (compat mode); fn NULL drops them */
} esf_nvs_gen_opts;

/** One CSV row: the four columns of the reference (key, type, encoding, value). A NULL field is
 *  a missing cell (Python None). `value` is text for data rows and a path for type=file rows;
 *  callers that already hold a file's bytes use `value_is_content`. Places are for messages. */
typedef struct esf_nvs_row {
    const char *key; size_t key_len;
    const char *type; size_t type_len;          /* "namespace", "file", anything else = data */
    const char *encoding; size_t encoding_len;  /* u8 i8 u16 i16 u32 i32 u64 i64 string binary
                                                   hex2bin base64 blob_fill(N;0xPP)
                                                   blob_sz_fill(N;0xPP) */
    const char *value; size_t value_len;
    bool value_is_content;  /* type=file: `value` already holds the file's bytes */
    const char *source;     /* file name for messages; NULL = "" */
    uint32_t line;          /* 1-based line of the row, 0 = n/a */
    uint32_t col_key, col_type, col_encoding, col_value;  /* 1-based columns, 0 = n/a */
} esf_nvs_row;

typedef struct esf_nvs_gen esf_nvs_gen;

/** Create a generator. Checks `opts->size` like the reference's check_size (multiple of 4096,
 *  at least 4096).
 *  @return ESF_OK; ESF_ERR_RANGE ("Size of partition must be multiple of 4096", "Minimum
 *          partition size ..."); ESF_ERR_INVALID_ARG (version, NULL); ESF_ERR_CRYPTO (key halves
 *          equal: XTS refuses); ESF_ERR_NO_MEM. */
int esf_nvs_gen_new(esf_nvs_gen **out, const esf_nvs_gen_opts *opts, esf_error *err);

/** Start a new image with the same options, keeping allocations (per-device generation). */
void esf_nvs_gen_reset(esf_nvs_gen *g);

/** Replace the XTS key (64 bytes) or switch encryption off (NULL) before the next image.
 *  @return ESF_OK; ESF_ERR_CRYPTO (key halves equal). */
int esf_nvs_gen_set_key(esf_nvs_gen *g, const uint8_t *key, esf_error *err);

/** True when the partition size makes a read-only image (4096 or 8192 bytes). */
bool esf_nvs_gen_read_only(const esf_nvs_gen *g);

/** Add one row. Errors carry the row's place (source:line:column of the offending cell).
 *  @return ESF_OK;
 *   ESF_ERR_INVALID — the reference's InputErrors (the twin exits 254); err->msg is the
 *     reference's text: "Length of key `K` should be <= 15 characters.", "E: Unsupported
 *     encoding", "K: Invalid data length. Should be multiple of 2.", "E: Invalid encoding
 *     format.", "K: Value length exceeds specified length.", " Input File: Size (N) exceeds max
 *     allowed length `M` bytes for key `K`.";
 *   ESF_ERR_PARSE — bad integer / hex digit / base64 padding / UTF-8 (reference: traceback);
 *   ESF_ERR_RANGE — integer out of range for its type (reference: "Packing error ...");
 *   ESF_ERR_NO_SPACE — the data does not fit the partition ("Size parameter is less than the
 *     size of data in csv. Please increase the size.") or a string never fits a page;
 *   ESF_ERR_IO — type=file path unreadable; ESF_ERR_EXISTS / ESF_ERR_UNSUPPORTED — native-mode
 *     refusals (duplicate key, row before a namespace, upper-case encoding, ...).
 *  After an error the generator is unusable until esf_nvs_gen_reset(). */
int esf_nvs_gen_add_row(esf_nvs_gen *g, const esf_nvs_row *row, esf_error *err);

/** Add every row of a CSV text (`len` bytes, UTF-8): lines starting with '#' are dropped, the
 *  first remaining row is the header naming the columns key, type, encoding, value (any order,
 *  extra columns ignored), empty rows are skipped. Several calls continue one image (the
 *  reference's several input files). `source` names the text in messages.
 *  @return as esf_nvs_gen_add_row; ESF_ERR_PARSE (missing column, invalid UTF-8). */
int esf_nvs_gen_add_csv(esf_nvs_gen *g, const char *data, size_t len, const char *source,
                        esf_error *err);

/** Finish the image into `image` (capacity opts->size bytes): remaining pages and the reserved
 *  page stay 0xFF, the last data page stays ACTIVE, entries are encrypted when a key was given.
 *  `*len` = bytes produced: opts->size, except compat-mode read-only images, which (like the
 *  reference) hold only the data pages. Afterwards the generator only accepts reset or free.
 *  @return ESF_OK; ESF_ERR_STATE (after a failed add); ESF_ERR_CRYPTO. */
int esf_nvs_gen_finish(esf_nvs_gen *g, uint8_t *image, size_t *len, esf_error *err);

/** The whole text of the error that made the last add fail ("" if none). err->msg holds at most
 *  511 bytes; the reference prints InputError messages whole (e.g. a long key), so the twin
 *  prints this. Valid until the next call on `g`. */
const char *esf_nvs_gen_error_text(const esf_nvs_gen *g);

/** The cheapest finish for writing large images: `*pages` (the generator's buffer) holds the
 *  `*data_len` bytes of data pages (encrypted when a key was given); the image is `*len` bytes,
 *  the bytes past `*data_len` all 0xFF. Valid until esf_nvs_gen_reset()/free(); only those may
 *  follow. @return as esf_nvs_gen_finish. */
int esf_nvs_gen_finish_pages(esf_nvs_gen *g, const uint8_t **pages, size_t *data_len, size_t *len,
                             esf_error *err);

/** Like esf_nvs_gen_finish, but hands out the generator's own buffer instead of copying:
 *  `*image` stays valid until esf_nvs_gen_reset() or esf_nvs_gen_free(); after this call only
 *  those two may follow (an encrypted image is encrypted in place). For per-device loops.
 *  @return as esf_nvs_gen_finish. */
int esf_nvs_gen_finish_buf(esf_nvs_gen *g, const uint8_t **image, size_t *len, esf_error *err);

/** NULL-safe. */
void esf_nvs_gen_free(esf_nvs_gen *g);

#ifdef __cplusplus
}
#endif
#endif
