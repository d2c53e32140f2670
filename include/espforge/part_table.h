/* espforge layer 3: ESP-IDF partition tables (spec: partition-table.md).
 *
 * A table is a list of entries in file order. Numbers are kept as int64 exactly as parsed, the way
 * gen_esp32part.py keeps Python ints: placement and validation run on them, and only encoding to
 * the 32-byte binary form range-checks type/subtype (0..255) and offset/size (0..0xFFFFFFFF). A
 * table decoded from binary, or one that esf_part_table_encode() accepted, always holds in-range
 * values.
 *
 * Two modes (esf_part_opts.strict):
 *  - compatible (strict = false): accepts exactly what gen_esp32part.py v6.0.2 accepts and
 *    produces the same bytes; where the reference is silently wrong (a name over 16 bytes is
 *    truncated) a warning goes to the warn sink; where the reference crashes (out-of-range
 *    numbers, undecodable text) a clean error is returned.
 *  - strict (the native `espforge part` commands): additionally refuses input the reference
 *    silently mangles (see docs/part.md "Deviations from the reference").
 *
 * Messages are the reference's texts; the place (file:line:column, or byte offset for binary)
 * is in the esf_error's fields. With opts.ref_messages the per-line CSV errors are also wrapped
 * like the reference prints them ("Error at line N: ...\nPlease check ...").
 *
 * Warnings go to opts->warn. A warning with code ESF_OK is a line the reference itself prints to
 * stderr (its "WARNING: ..." texts, and the rows it lists before some errors), verbatim; a
 * warning with a negative code is espforge's own (e.g. a name truncated to 16 bytes).
 */
#ifndef ESPFORGE_PART_TABLE_H
#define ESPFORGE_PART_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESF_PART_ENTRY_SIZE 32u         /* bytes per binary row */
#define ESF_PART_TABLE_MAX_LEN 0xC00u   /* bytes of a generated table (entries + MD5 + 0xFF pad) */
#define ESF_PART_TABLE_SECTOR 0x1000u   /* flash reserved for the table */
#define ESF_PART_DEFAULT_OFFSET 0x8000u /* CONFIG_PARTITION_TABLE_OFFSET default */
#define ESF_PART_NAME_LEN 16u           /* bytes of the binary name field (no NUL when full) */
#define ESF_PART_MAGIC 0x50AAu          /* bytes AA 50 */
#define ESF_PART_MD5_MAGIC 0xEBEBu      /* bytes EB EB */

/* Entry flags (bits of the binary flags word). Same values as partition.h's ESF_PART_FLAG_*. */
#define ESF_PART_TABLE_FLAG_ENCRYPTED 0x1u
#define ESF_PART_TABLE_FLAG_READONLY 0x2u

enum esf_part_type {
    ESF_PART_TYPE_APP = 0x00,
    ESF_PART_TYPE_DATA = 0x01,
    ESF_PART_TYPE_BOOTLOADER = 0x02,
    ESF_PART_TYPE_PARTITION_TABLE = 0x03,
    ESF_PART_TYPE_ANY = 0xFF, /* search wildcard only */
};

enum esf_part_subtype {
    ESF_PART_SUBTYPE_APP_FACTORY = 0x00,
    ESF_PART_SUBTYPE_APP_OTA_0 = 0x10, /* ota_N = 0x10 + N, N < 16 */
    ESF_PART_SUBTYPE_APP_TEST = 0x20,
    ESF_PART_SUBTYPE_DATA_OTA = 0x00,
    ESF_PART_SUBTYPE_DATA_PHY = 0x01,
    ESF_PART_SUBTYPE_DATA_NVS = 0x02,
    ESF_PART_SUBTYPE_DATA_COREDUMP = 0x03,
    ESF_PART_SUBTYPE_DATA_NVS_KEYS = 0x04,
    ESF_PART_SUBTYPE_DATA_EFUSE = 0x05,
    ESF_PART_SUBTYPE_DATA_UNDEFINED = 0x06,
    ESF_PART_SUBTYPE_DATA_FAT = 0x81,
    ESF_PART_SUBTYPE_DATA_SPIFFS = 0x82,
    ESF_PART_SUBTYPE_DATA_LITTLEFS = 0x83,
    ESF_PART_SUBTYPE_DATA_TEE_OTA = 0x90,
    ESF_PART_SUBTYPE_ANY = 0xFF, /* search wildcard only */
};

/** One partition. Numbers are int64 as parsed (see the file comment). */
typedef struct esf_part_entry {
    char *name;       /* NUL-terminated UTF-8 as given (CSV: any length; binary: <= 16 bytes) */
    int64_t type;     /* 0..255 once encodable */
    int64_t subtype;  /* 0..255 once encodable */
    int64_t offset;   /* absolute flash address, bytes */
    int64_t size;     /* bytes */
    uint32_t flags;   /* ESF_PART_TABLE_FLAG_* */
    uint32_t line;    /* CSV: 1-based line; 0 = not from CSV */
    uint32_t column;  /* CSV: 1-based column of the name field; 0 = n/a */
    int64_t bin_offset; /* binary: byte offset of the row; -1 = not from binary */
} esf_part_entry;

/** A table: entries in file (binary: row) order. */
typedef struct esf_part_table {
    esf_part_entry *entries;
    size_t count;
    size_t cap;
    char source[256];  /* input name for messages ("" if none) */
    bool has_md5;      /* decoded: an MD5 row was present and matched */
} esf_part_table;

/** Subtype keyword tables (built-in plus --extra-partition-subtypes). Opaque. */
typedef struct esf_part_keywords esf_part_keywords;

/** Look up an environment variable for CSV `$NAME` expansion: return the value or NULL when the
 *  variable is not set. The library never calls getenv() itself. */
typedef const char *(*esf_part_env_fn)(void *ctx, const char *name);

/** Options shared by the parser, validator and codec. Initialise with esf_part_opts_init(). */
typedef struct esf_part_opts {
    int64_t table_offset;               /* --offset; default 0x8000 */
    bool has_primary_bootloader_offset; /* --primary-bootloader-offset given */
    int64_t primary_bootloader_offset;
    bool has_recovery_bootloader_offset;/* --recovery-bootloader-offset given */
    int64_t recovery_bootloader_offset;
    int secure;                         /* --secure: 0 none, 1 = v1, 2 = v2 */
    bool disable_md5;                   /* --disable-md5sum: no MD5 row written or checked */
    bool strict;                        /* native mode: refuse silently-broken input */
    bool ref_messages;                  /* wrap per-line CSV errors like gen_esp32part */
    const esf_part_keywords *keywords;  /* NULL: built-in keywords only */
    esf_part_env_fn env;                /* NULL: no variable is set */
    void *env_ctx;
    const esf_warn_sink *warn;          /* warnings and the reference's "critical" lines */
} esf_part_opts;

/** Defaults: table offset 0x8000, MD5 on, no bootloader offsets, no secure, compatible mode. */
void esf_part_opts_init(esf_part_opts *o);

/** Check option combinations like gen_esp32part's main(): the primary bootloader must lie below
 *  the table. @return ESF_OK; ESF_ERR_INVALID_ARG with the reference's message. */
int esf_part_opts_check(const esf_part_opts *o, esf_error *err);

/** Build keyword tables from --extra-partition-subtypes arguments, each "TYPE,NAME,VALUE"
 *  (fields stripped, VALUE parsed as hex like Python int(v, 16)), applied in order.
 *  Mirrors add_extra_subtypes(): unknown TYPE -> "Error parsing custom subtypes: Invalid
 *  partition type" (when the value collides) ; a VALUE already used by that type's subtypes ->
 *  "Found duplicate value in partition subtype" (the reference crashes there). In strict mode a
 *  NAME the CSV parser could never match (upper case, or ending in k/m) is an error, otherwise a
 *  warning. @return ESF_OK; ESF_ERR_PARSE; ESF_ERR_EXISTS; ESF_ERR_INVALID; ESF_ERR_NO_MEM. */
int esf_part_keywords_new(esf_part_keywords **out, const char *const *extras, size_t n,
                          bool strict, const esf_warn_sink *warn, esf_error *err);
void esf_part_keywords_free(esf_part_keywords *kw); /* NULL-safe */

/** Name of a type (first keyword with that value) or NULL (custom type). */
const char *esf_part_type_name(int64_t type);
/** Name of a subtype of `type` (first keyword in keyword order), or NULL. kw may be NULL. */
const char *esf_part_subtype_name(const esf_part_keywords *kw, int64_t type, int64_t subtype);

/* ---- tables */

/** An empty table; `source` (may be NULL) names the input in messages.
 *  @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_part_table_new(esf_part_table **out, const char *source, esf_error *err);
void esf_part_table_free(esf_part_table *t); /* NULL-safe */

/** Append an entry (name copied). @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_part_table_add(esf_part_table *t, const char *name, int64_t type, int64_t subtype,
                       int64_t offset, int64_t size, uint32_t flags, esf_error *err);

/** Parse CSV text (partition-table.md §5, §6): BOM-detected encoding, Python splitlines(),
 *  `$VAR` expansion through opts->env, comments, fields, keywords, K/M sizes, blank offsets
 *  auto-placed, negative sizes as end addresses. Does not validate (esf_part_table_verify).
 *  Text starting with bytes AA 50 is not CSV (use esf_part_table_decode).
 *  @param source  file name for messages (may be NULL)
 *  @return ESF_OK; ESF_ERR_PARSE (malformed line, text not decodable); ESF_ERR_INVALID
 *          (overlap, missing bootloader offset option); ESF_ERR_RANGE; ESF_ERR_TOO_LONG (strict:
 *          name over 16 bytes); ESF_ERR_NO_MEM. err has file, line and column. */
int esf_part_csv_parse(esf_part_table **out, const char *text, size_t len, const char *source,
                       const esf_part_opts *opts, esf_error *err);

/** Decode a binary table (§2.3): 32-byte rows up to the all-0xFF end marker, the MD5 row
 *  verified (unless opts->disable_md5), unknown flag bits warned about and dropped.
 *  @param len  any length; rows past the end marker are not examined
 *  @return ESF_OK; ESF_ERR_CORRUPT (bad magic, MD5 mismatch, no end marker, length not a
 *          multiple of 32, name not UTF-8); ESF_ERR_NO_MEM. err->offset = the row's offset. */
int esf_part_table_decode(esf_part_table **out, const uint8_t *buf, size_t len, const char *source,
                          const esf_part_opts *opts, esf_error *err);

/** Check a table sector the way the second-stage bootloader does (esp_partition_table_verify,
 *  partition-table.md §2.4): up to 96 rows; each entry within `chip_size` (0 = unknown, not
 *  checked); at most one MD5 row, matching the rows before it; ended by a row starting
 *  FF FF FF FF (not row 0). Messages are the bootloader's log texts.
 *  @param len  bytes at buf (the bootloader reads 0xC00; shorter input is an error if the rows
 *              run out before the end row)
 *  @param[out] count  partitions found (may be NULL); @param[out] md5_found (may be NULL)
 *  @return ESF_OK; ESF_ERR_CORRUPT (magic, MD5, no end row); ESF_ERR_RANGE (past chip_size). */
int esf_part_table_verify_device(const uint8_t *buf, size_t len, uint64_t chip_size, size_t *count,
                                 bool *md5_found, esf_error *err);

/** Decode the table of a whole flash image at `table_offset` (bytes). Offsets in errors are
 *  image offsets. @return as esf_part_table_decode; ESF_ERR_RANGE (image too short). */
int esf_part_table_decode_image(esf_part_table **out, const uint8_t *img, size_t len,
                                uint32_t table_offset, const char *source,
                                const esf_part_opts *opts, esf_error *err);

/** Validate (§7, PartitionTable.verify) in the reference's order: per-entry alignment and rules
 *  (with its name warnings), unique names, placement, otadata and TEE otadata. The reference's
 *  notes printed before an error (duplicate rows, otadata rows) go to opts->warn first.
 *  @return ESF_OK; ESF_ERR_INVALID / ESF_ERR_EXISTS with the reference's message. */
int esf_part_table_verify(const esf_part_table *t, const esf_part_opts *opts, esf_error *err);

/** Check the table fits `flash_bytes` (§7.1: end of the entry with the highest offset).
 *  @return ESF_OK; ESF_ERR_NO_SPACE with the reference's message. */
int esf_part_table_check_flash_size(const esf_part_table *t, uint64_t flash_bytes, esf_error *err);

/** Encode to exactly ESF_PART_TABLE_MAX_LEN bytes (§2.2): entries in table order, MD5 row unless
 *  opts->disable_md5, 0xFF padding. Names longer than 16 bytes are cut (warned about by the
 *  parser). @return ESF_OK; ESF_ERR_RANGE (type/subtype/offset/size out of range: the reference
 *  crashes); ESF_ERR_NO_SPACE ("Binary partition table length (%d) longer than max"). */
int esf_part_table_encode(const esf_part_table *t, const esf_part_opts *opts,
                          uint8_t out[ESF_PART_TABLE_MAX_LEN], esf_error *err);

/** One entry as a CSV row exactly as the reference prints it (§9), no newline:
 *  "name,type,subtype,0xOFFSET,SIZE,flags". kw may be NULL.
 *  @return the length it needs (snprintf-like; buf may be NULL when len is 0). */
size_t esf_part_entry_csv(const esf_part_entry *e, const esf_part_keywords *kw, char *buf,
                          size_t len);

/** The whole table as CSV (§9): two header comment lines, one row per entry, final newline.
 *  @param[out] out  malloc'd, NUL-terminated; caller frees. @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_part_table_to_csv(const esf_part_table *t, const esf_part_keywords *kw, char **out,
                          esf_error *err);

/** A human summary of the table like the bootloader's log (§11.2): header
 *  "## Label            Usage          Type ST Offset   Length", one row per entry, sizes also in
 *  K/M, flags, then "End of partition table". @param[out] out malloc'd; caller frees. */
int esf_part_table_summary(const esf_part_table *t, const esf_part_keywords *kw, char **out,
                           esf_error *err);

/** The table as JSON text (cJSON): {"partitions":[{"name","type","type_name","subtype",
 *  "subtype_name","offset","size","flags","encrypted","readonly"}...],"md5":bool}.
 *  @param[out] out malloc'd; caller frees. @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_part_table_to_json(const esf_part_table *t, const esf_part_keywords *kw, char **out,
                           esf_error *err);

/* ---- lookup (used by other modules to locate a partition in a flash image) */

/** First entry whose name equals `label` exactly, or NULL. */
const esf_part_entry *esf_part_table_find(const esf_part_table *t, const char *label);

/** Next entry after `after` (NULL: from the start) with this type and subtype;
 *  ESF_PART_TYPE_ANY / ESF_PART_SUBTYPE_ANY match anything. NULL when none. */
const esf_part_entry *esf_part_table_find_type(const esf_part_table *t, int type, int subtype,
                                               const esf_part_entry *after);

/* ---- ESP-IDF's predefined tables (components/partition_table/partitions_*.csv) */

/** CSV text of a predefined table by short name ("singleapp", "two_ota_large", ...; the
 *  "partitions_" prefix and ".csv" suffix are also accepted), or NULL. */
const char *esf_part_builtin_csv(const char *name);
/** i-th short name (0-based), NULL past the end. */
const char *esf_part_builtin_name(size_t i);

/* ---- computed layouts (MicroPython-style) */

typedef struct esf_part_layout_opts {
    uint64_t flash_size;  /* bytes; required */
    unsigned ota_slots;   /* 0 (factory app), 2 or 3 (ota_0..ota_N-1 + otadata) */
    uint64_t app_size;    /* bytes; 0 = 1 MiB minimum only */
    int fs;               /* file system subtype: ESF_PART_SUBTYPE_DATA_FAT (default if 0), SPIFFS,
                             LITTLEFS; -1 = no file system partition */
    uint64_t nvs_size;    /* bytes; 0 = default (0x6000 factory layout, 0x4000 with OTA) */
} esf_part_layout_opts;

/** Compute a table the way MicroPython's ESP32 builds lay out flash (docs/part.md, "layout").
 *  @return ESF_OK; ESF_ERR_NO_SPACE (does not fit: message says by how much);
 *          ESF_ERR_INVALID_ARG (bad slot count or sizes); ESF_ERR_NO_MEM. */
int esf_part_layout(esf_part_table **out, const esf_part_layout_opts *lo, esf_error *err);

#ifdef __cplusplus
}
#endif
#endif
