/* espforge layer 4: NVS edit scripts — a list of set / erase / erase_all / commit operations,
 * parsed with places (file:line:column, or the command-line word) and applied through the NVS
 * runtime (nvs.h). Used by `espforge nvs set|erase|apply` (docs/nvs.md, "Editing images").
 *
 * Script text: one operation per line; words separated by spaces or tabs; a word starting with
 * '#' (outside quotes) starts a comment running to the end of the line; blank lines are ignored.
 *   set NS KEY TYPE VALUE     TYPE: u8 i8 u16 i16 u32 i32 u64 i64 float double str blob
 *   erase NS KEY              the key must exist
 *   erase_all NS              every key of the namespace (the namespace must exist)
 *   commit                    a checkpoint: the caller's commit callback runs here
 * Any word may be quoted with "...": inside, \" \\ \n \t \r and \xHH are escapes (a NUL is
 * refused). Values: integers with Python int(x, 0) rules (number.h: 42, -7, 0x2A, 1_000), range
 * checked per type; float/double in C strtod syntax (NaN refused, a float must fit a float);
 * str: the word's bytes (1..3999 bytes + NUL); blob: hex digit pairs (whitespace between pairs
 * allowed in a quoted word; "" = empty blob). Namespace and key names are 1..15 bytes.
 *
 * The whole script is parsed before anything is applied: a syntax or value error applies nothing.
 */
#ifndef ESPFORGE_NVS_SCRIPT_H
#define ESPFORGE_NVS_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"
#include "espforge/nvs.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esf_nvs_op_kind {
    ESF_NVS_OP_SET = 1,
    ESF_NVS_OP_ERASE = 2,      /* one key */
    ESF_NVS_OP_ERASE_ALL = 3,  /* a whole namespace */
    ESF_NVS_OP_COMMIT = 4
} esf_nvs_op_kind;

/** One operation with its place. Places are 1-based byte columns on `line`; for operations built
 *  from separate words (esf_nvs_script_add_words) `line` is 0 and the columns are word numbers. */
typedef struct esf_nvs_op {
    esf_nvs_op_kind kind;
    char ns[16];        /* namespace, 1..15 bytes + NUL (not for COMMIT) */
    char key[16];       /* key, 1..15 bytes + NUL (SET, ERASE) */
    uint8_t type;       /* SET: enum esf_nvs_type: U8..I64, FLOAT, DOUBLE, STR, BLOB_DATA (blob) */
    uint64_t raw;       /* SET primitive: the value's bits, zero-extended */
    uint8_t *data;      /* SET str (NUL-terminated) / blob: owned bytes; NULL for primitives */
    size_t len;         /* bytes of data (str: without the NUL) */
    uint32_t line;      /* 0 = from words */
    uint32_t col_verb, col_ns, col_key, col_value;
} esf_nvs_op;

/** A parsed script. */
typedef struct esf_nvs_script {
    esf_nvs_op *ops;
    size_t count, cap;
    char source[256];  /* file name (or "command line") for messages */
} esf_nvs_script;

/** An empty script; `source` (may be NULL) names it in messages. @return ESF_OK; ESF_ERR_NO_MEM. */
int esf_nvs_script_new(esf_nvs_script **out, const char *source, esf_error *err);

/** NULL-safe. */
void esf_nvs_script_free(esf_nvs_script *s);

/** Parse `len` bytes of script text (lines end in \n or \r\n) and append its operations.
 *  On error nothing of this text is appended.
 *  @return ESF_OK; ESF_ERR_PARSE (unknown verb or type, wrong word count, bad quoting, malformed
 *          number or hex); ESF_ERR_RANGE (integer outside its type, float overflow);
 *          ESF_ERR_TOO_LONG (name > 15 bytes, string > 3999 bytes, blob > 508000 bytes);
 *          ESF_ERR_INVALID (empty name, NaN, NUL in a string); ESF_ERR_NO_MEM.
 *          err has source:line:column of the offending word or character. */
int esf_nvs_script_parse(esf_nvs_script *s, const char *text, size_t len, esf_error *err);

/** Append one operation given as separate words, e.g. {"set","cfg","port","u16","8080"} or
 *  {"erase","cfg"} (= erase_all): the command-line form, where each word is taken whole (no
 *  quoting or comments). Messages name the offending word ("KEY 'x': ...").
 *  @return as esf_nvs_script_parse. */
int esf_nvs_script_add_words(esf_nvs_script *s, const char *const *words, size_t n,
                             esf_error *err);

/** Options of esf_nvs_script_apply. Zero-initialise; NULL = defaults. */
typedef struct esf_nvs_apply_opts {
    /* Called at each `commit` operation (e.g. to write the image file); an error stops the
     * script there. NULL: commit operations do nothing. */
    int (*commit)(void *ctx, esf_error *err);
    void *ctx;
    bool purge;  /* open namespaces in ESF_NVS_READWRITE_PURGE mode (erased entries zero-filled) */
} esf_nvs_apply_opts;

/** Apply the operations in order to `nvs` (writable). Stops at the first failing operation:
 *  operations before it stay applied in `nvs` (the store is consistent after every operation,
 *  ESP-IDF semantics); the caller decides what reaches a file (see the commit callback).
 *  @param[out] done  operations applied successfully (may be NULL)
 *  @return ESF_OK; ESF_ERR_NOT_FOUND (erase: namespace or key absent); ESF_ERR_NO_SPACE;
 *          ESF_ERR_TOO_LONG (value too long for this partition); ESF_ERR_READ_ONLY;
 *          ESF_ERR_STATE; flash errors; the commit callback's error. err has the operation's place
 *          and names the operation ("set cfg port: ..."). */
int esf_nvs_script_apply(const esf_nvs_script *s, esf_nvs *nvs, const esf_nvs_apply_opts *opt,
                         size_t *done, esf_error *err);

/** Name of a SET type code as written in scripts ("u8", "str", "blob"...), NULL if none. */
const char *esf_nvs_script_type_name(uint8_t type);

#ifdef __cplusplus
}
#endif
#endif
