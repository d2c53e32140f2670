/* espforge NVS edit scripts: parsing with places, and application through the NVS runtime.
 * Format and semantics: include/espforge/nvs_script.h, docs/nvs.md "Editing images". */
#include "espforge/nvs_script.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/number.h"
#include "espforge/nvs_page.h"

/* ---- words and places */

typedef struct word {
    char *text;     /* decoded, NUL-terminated (owned by the line's word list) */
    size_t len;
    uint32_t col;   /* line mode: 1-based byte column; word mode: word number */
    bool quoted;
} word;

typedef struct ctx {
    const char *source;
    uint32_t line;  /* 0 = word mode (command line) */
    uint32_t eol;   /* line mode: column just past the last character */
    esf_error *err;
} ctx;

static const char *const role_names[] = { "verb", "NS", "KEY", "TYPE", "VALUE" };

/* An error about word `w` (role index `role`), `off` bytes into it (line mode only). */
static int __attribute__((format(printf, 6, 7)))
word_err(const ctx *c, const word *w, unsigned role, size_t off, int code, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->line)
        return esf_error_loc(c->err, code, c->source, c->line,
                             w ? w->col + (w->quoted ? 0 : (uint32_t)off) : c->eol, "%s", msg);
    if (w)
        return esf_error_set(c->err, code, "%s '%.60s'%s: %s", role < 5 ? role_names[role] : "word",
                             w->text, w->len > 60 ? "..." : "", msg);
    return esf_error_set(c->err, code, "%s", msg);
}

static bool is_blank(char ch) { return ch == ' ' || ch == '\t'; }

static int hexval(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static void words_free(word *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(w[i].text);
}

/* Split one line (without its end) into at most `max` words; returns the word count or a code.
 * More than `max` words: the extra one is reported by the caller (count max + 1, text kept). */
static int split_line(const ctx *c, const char *p, size_t len, word *out, size_t max)
{
    size_t n = 0, i = 0;
    int rc = 0;
    while (i < len) {
        if (is_blank(p[i])) {
            i++;
            continue;
        }
        if (p[i] == '#')
            break;
        if (n == max + 1)
            break;
        word *w = &out[n];
        w->col = (uint32_t)i + 1;
        w->quoted = p[i] == '"';
        if (!(w->text = malloc(len - i + 1))) {
            rc = esf_error_set(c->err, ESF_ERR_NO_MEM, "no memory");
            goto fail;
        }
        n++;
        size_t k = 0;
        if (!w->quoted) {
            while (i < len && !is_blank(p[i])) {
                if (p[i] == '"') {
                    rc = esf_error_loc(c->err, ESF_ERR_PARSE, c->source, c->line, (uint32_t)i + 1,
                                       "quote inside a word: quote the whole word");
                    goto fail;
                }
                w->text[k++] = p[i++];
            }
        } else {
            size_t open = i++;
            for (;;) {
                if (i >= len) {
                    rc = esf_error_loc(c->err, ESF_ERR_PARSE, c->source, c->line,
                                       (uint32_t)open + 1, "unterminated quoted word");
                    goto fail;
                }
                char ch = p[i];
                if (ch == '"') {
                    i++;
                    break;
                }
                if (ch != '\\') {
                    w->text[k++] = ch;
                    i++;
                    continue;
                }
                char e = i + 1 < len ? p[i + 1] : '\0';
                int h1, h2;
                switch (e) {
                case '\\': case '"': w->text[k++] = e; i += 2; break;
                case 'n': w->text[k++] = '\n'; i += 2; break;
                case 't': w->text[k++] = '\t'; i += 2; break;
                case 'r': w->text[k++] = '\r'; i += 2; break;
                case 'x':
                    h1 = i + 2 < len ? hexval((unsigned char)p[i + 2]) : -1;
                    h2 = i + 3 < len ? hexval((unsigned char)p[i + 3]) : -1;
                    if (h1 < 0 || h2 < 0) {
                        rc = esf_error_loc(c->err, ESF_ERR_PARSE, c->source, c->line,
                                           (uint32_t)i + 1, "\\x needs two hex digits");
                        goto fail;
                    }
                    w->text[k++] = (char)(h1 * 16 + h2);
                    i += 4;
                    break;
                default:
                    rc = esf_error_loc(c->err, ESF_ERR_PARSE, c->source, c->line, (uint32_t)i + 1,
                                       "unknown escape '\\%c' (use \\\\ \\\" \\n \\t \\r \\xHH)",
                                       e ? e : ' ');
                    goto fail;
                }
            }
            if (i < len && !is_blank(p[i])) {
                rc = esf_error_loc(c->err, ESF_ERR_PARSE, c->source, c->line, (uint32_t)i + 1,
                                   "unexpected '%c' after a closing quote", p[i]);
                goto fail;
            }
        }
        w->text[k] = '\0';
        w->len = k;
    }
    return (int)n;
fail:
    words_free(out, n);
    return rc;
}

/* ---- operation building */

static const struct { const char *name; uint8_t type; int64_t lo; int64_t hi; } types[] = {
    { "u8", ESF_NVS_TYPE_U8, 0, UINT8_MAX },
    { "i8", ESF_NVS_TYPE_I8, INT8_MIN, INT8_MAX },
    { "u16", ESF_NVS_TYPE_U16, 0, UINT16_MAX },
    { "i16", ESF_NVS_TYPE_I16, INT16_MIN, INT16_MAX },
    { "u32", ESF_NVS_TYPE_U32, 0, UINT32_MAX },
    { "i32", ESF_NVS_TYPE_I32, INT32_MIN, INT32_MAX },
    { "u64", ESF_NVS_TYPE_U64, 0, INT64_MAX },  /* above INT64_MAX: parse_u64_big */
    { "i64", ESF_NVS_TYPE_I64, INT64_MIN, INT64_MAX },
    { "float", ESF_NVS_TYPE_FLOAT, 0, 0 },
    { "double", ESF_NVS_TYPE_DOUBLE, 0, 0 },
    { "str", ESF_NVS_TYPE_STR, 0, 0 },
    { "blob", ESF_NVS_TYPE_BLOB_DATA, 0, 0 },
};
#define NTYPES (sizeof types / sizeof types[0])

const char *esf_nvs_script_type_name(uint8_t type)
{
    for (size_t i = 0; i < NTYPES; i++)
        if (types[i].type == type)
            return types[i].name;
    return NULL;
}

static int set_name(const ctx *c, const word *w, unsigned role, char dst[16])
{
    const char *what = role == 1 ? "namespace" : "key";
    if (w->len == 0)
        return word_err(c, w, role, 0, ESF_ERR_INVALID, "empty %s name (NVS names are 1..15 bytes)",
                        what);
    if (memchr(w->text, '\0', w->len))
        return word_err(c, w, role, 0, ESF_ERR_INVALID, "NUL byte in a %s name", what);
    if (w->len > ESF_NVS_KEY_MAX)
        return word_err(c, w, role, ESF_NVS_KEY_MAX, ESF_ERR_TOO_LONG,
                        "%s name '%.40s' is %zu bytes; NVS names are 1..15 bytes", what, w->text,
                        w->len);
    memcpy(dst, w->text, w->len + 1);
    return ESF_OK;
}

/* A u64 above INT64_MAX: Python int(x, 0) syntax was already accepted by esf_parse_int_n (it
 * reported ESF_ERR_RANGE); convert the digits without underscores. */
static int parse_u64_big(const char *t, uint64_t *out)
{
    while (is_blank(*t))
        t++;
    if (*t == '+')
        t++;
    int base = 10;
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        base = 16, t += 2;
    else if (t[0] == '0' && (t[1] == 'o' || t[1] == 'O'))
        base = 8, t += 2;
    else if (t[0] == '0' && (t[1] == 'b' || t[1] == 'B'))
        base = 2, t += 2;
    uint64_t v = 0;
    for (; *t && !is_blank(*t); t++) {
        if (*t == '_')
            continue;
        int d = hexval((unsigned char)*t);
        if (d < 0 || d >= base)
            return ESF_ERR_PARSE;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return ESF_ERR_RANGE;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    *out = v;
    return ESF_OK;
}

static int parse_int_value(const ctx *c, const word *w, size_t ti, esf_nvs_op *op)
{
    int64_t v;
    esf_error perr = { 0 };
    int rc = esf_parse_int_n(w->text, w->len, &v, &perr);
    if (rc == ESF_ERR_RANGE && types[ti].type == ESF_NVS_TYPE_U64 && !memchr(w->text, '-', w->len)) {
        uint64_t u;
        if ((rc = parse_u64_big(w->text, &u)) == ESF_OK) {
            op->raw = u;
            return ESF_OK;
        }
    }
    if (rc == ESF_ERR_RANGE || (rc == ESF_OK && (v < types[ti].lo || v > types[ti].hi))) {
        if (types[ti].type == ESF_NVS_TYPE_U64)
            return word_err(c, w, 4, 0, ESF_ERR_RANGE, "out of range for u64 (0..%llu)",
                            (unsigned long long)UINT64_MAX);
        return word_err(c, w, 4, 0, ESF_ERR_RANGE, "out of range for %s (%lld..%lld)",
                        types[ti].name, (long long)types[ti].lo, (long long)types[ti].hi);
    }
    if (rc != ESF_OK)
        return word_err(c, w, 4, 0, ESF_ERR_PARSE,
                        "not an integer for %s (decimal, 0x hex, 0o octal or 0b binary)",
                        types[ti].name);
    op->raw = (uint64_t)v;
    if (types[ti].lo < 0 && types[ti].hi < INT64_MAX)  /* keep only the type's width */
        op->raw &= ((uint64_t)types[ti].hi << 1) | 1u;
    return ESF_OK;
}

static int parse_float_value(const ctx *c, const word *w, uint8_t type, esf_nvs_op *op)
{
    char *end = NULL;
    errno = 0;
    double d = w->len ? strtod(w->text, &end) : 0.0;
    if (!w->len || end != w->text + w->len || is_blank(w->text[0]))
        return word_err(c, w, 4, end && w->len ? (size_t)(end - w->text) : 0, ESF_ERR_PARSE,
                        "not a number for %s", type == ESF_NVS_TYPE_FLOAT ? "float" : "double");
    if (isnan(d))
        return word_err(c, w, 4, 0, ESF_ERR_INVALID, "NaN cannot be stored (nvs_set_%s refuses it)",
                        type == ESF_NVS_TYPE_FLOAT ? "float" : "double");
    if (errno == ERANGE && isinf(d))
        return word_err(c, w, 4, 0, ESF_ERR_RANGE, "out of range for double");
    if (type == ESF_NVS_TYPE_FLOAT) {
        if (isfinite(d) && fabs(d) > FLT_MAX)
            return word_err(c, w, 4, 0, ESF_ERR_RANGE, "out of range for float (|v| <= %g)",
                            (double)FLT_MAX);
        float f = (float)d;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        op->raw = bits;
    } else {
        memcpy(&op->raw, &d, 8);
    }
    return ESF_OK;
}

static int parse_blob_value(const ctx *c, const word *w, esf_nvs_op *op)
{
    uint8_t *buf = malloc(w->len / 2 + 1);
    if (!buf)
        return esf_error_set(c->err, ESF_ERR_NO_MEM, "no memory");
    size_t n = 0, i = 0;
    while (i < w->len) {
        if (w->quoted && (is_blank(w->text[i]) || w->text[i] == '\n')) {
            i++;
            continue;
        }
        int h1 = hexval((unsigned char)w->text[i]);
        int h2 = i + 1 < w->len ? hexval((unsigned char)w->text[i + 1]) : -2;
        if (h1 < 0 || h2 < 0) {
            size_t at = h1 < 0 || h2 == -2 ? i : i + 1;
            free(buf);
            if (h2 == -2)
                return word_err(c, w, 4, at, ESF_ERR_PARSE,
                                "odd number of hex digits (a blob is hex digit pairs)");
            return word_err(c, w, 4, at, ESF_ERR_PARSE, "'%c' is not a hex digit (at byte %zu)",
                            w->text[at], at + 1);
        }
        buf[n++] = (uint8_t)(h1 * 16 + h2);
        i += 2;
    }
    if (n > ESF_NVS_BLOB_MAX) {
        free(buf);
        return word_err(c, w, 4, 0, ESF_ERR_TOO_LONG, "blob of %zu bytes; NVS blobs hold at most %u",
                        n, ESF_NVS_BLOB_MAX);
    }
    op->data = buf;
    op->len = n;
    return ESF_OK;
}

static int parse_str_value(const ctx *c, const word *w, esf_nvs_op *op)
{
    if (memchr(w->text, '\0', w->len))
        return word_err(c, w, 4, 0, ESF_ERR_INVALID, "a str value cannot hold a NUL byte (use blob)");
    if (w->len + 1 > ESF_NVS_STR_MAX)
        return word_err(c, w, 4, 0, ESF_ERR_TOO_LONG,
                        "string of %zu bytes; NVS strings hold at most %u bytes plus the NUL",
                        w->len, ESF_NVS_STR_MAX - 1);
    if (!(op->data = malloc(w->len + 1)))
        return esf_error_set(c->err, ESF_ERR_NO_MEM, "no memory");
    memcpy(op->data, w->text, w->len + 1);
    op->len = w->len;
    return ESF_OK;
}

static const struct { const char *verb; esf_nvs_op_kind kind; size_t nwords; const char *usage; }
verbs[] = {
    { "set", ESF_NVS_OP_SET, 5, "set NS KEY TYPE VALUE" },
    { "erase", ESF_NVS_OP_ERASE, 3, "erase NS KEY" },
    { "erase_all", ESF_NVS_OP_ERASE_ALL, 2, "erase_all NS" },
    { "commit", ESF_NVS_OP_COMMIT, 1, "commit" },
};

/* Build one operation from `n` words (n <= 6; a 6th word is an extra one). */
static int build_op(const ctx *c, const word *w, size_t n, esf_nvs_op *op)
{
    memset(op, 0, sizeof *op);
    op->line = c->line;
    size_t vi = 0;
    while (vi < sizeof verbs / sizeof verbs[0] && strcmp(verbs[vi].verb, w[0].text))
        vi++;
    if (vi == sizeof verbs / sizeof verbs[0])
        return word_err(c, &w[0], 0, 0, ESF_ERR_PARSE,
                        "unknown operation (expected set, erase, erase_all or commit)");
    op->kind = verbs[vi].kind;
    if (n > verbs[vi].nwords)
        return word_err(c, &w[verbs[vi].nwords], 5, 0, ESF_ERR_PARSE,
                        "unexpected word after '%s' (quote values holding spaces)",
                        verbs[vi].usage);
    if (n < verbs[vi].nwords)
        return word_err(c, NULL, 0, 0, ESF_ERR_PARSE, "missing %s: the form is '%s'",
                        role_names[n], verbs[vi].usage);
    op->col_verb = w[0].col;
    int rc;
    if (n >= 2) {
        op->col_ns = w[1].col;
        if ((rc = set_name(c, &w[1], 1, op->ns)) < 0)
            return rc;
    }
    if (n >= 3) {
        op->col_key = w[2].col;
        if ((rc = set_name(c, &w[2], 2, op->key)) < 0)
            return rc;
    }
    if (op->kind != ESF_NVS_OP_SET)
        return ESF_OK;
    size_t ti = 0;
    while (ti < NTYPES && strcmp(types[ti].name, w[3].text))
        ti++;
    if (ti == NTYPES)
        return word_err(c, &w[3], 3, 0, ESF_ERR_PARSE,
                        "unknown type (u8 i8 u16 i16 u32 i32 u64 i64 float double str blob)");
    op->type = types[ti].type;
    op->col_value = w[4].col;
    switch (op->type) {
    case ESF_NVS_TYPE_STR: return parse_str_value(c, &w[4], op);
    case ESF_NVS_TYPE_BLOB_DATA: return parse_blob_value(c, &w[4], op);
    case ESF_NVS_TYPE_FLOAT:
    case ESF_NVS_TYPE_DOUBLE: return parse_float_value(c, &w[4], op->type, op);
    default: return parse_int_value(c, &w[4], ti, op);
    }
}

/* ---- scripts */

int esf_nvs_script_new(esf_nvs_script **out, const char *source, esf_error *err)
{
    if (!out)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS script: NULL argument");
    if (!(*out = calloc(1, sizeof **out)))
        return esf_error_set(err, ESF_ERR_NO_MEM, "no memory for an NVS script");
    snprintf((*out)->source, sizeof (*out)->source, "%s", source ? source : "");
    return ESF_OK;
}

static void op_release(esf_nvs_op *op)
{
    free(op->data);
    op->data = NULL;
}

void esf_nvs_script_free(esf_nvs_script *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->count; i++)
        op_release(&s->ops[i]);
    free(s->ops);
    free(s);
}

static int push_op(esf_nvs_script *s, esf_nvs_op *op, esf_error *err)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        esf_nvs_op *o = realloc(s->ops, cap * sizeof *o);
        if (!o) {
            op_release(op);
            return esf_error_set(err, ESF_ERR_NO_MEM, "no memory for an NVS script");
        }
        s->ops = o;
        s->cap = cap;
    }
    s->ops[s->count++] = *op;
    return ESF_OK;
}

int esf_nvs_script_parse(esf_nvs_script *s, const char *text, size_t len, esf_error *err)
{
    if (!s || (!text && len))
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS script: NULL argument");
    size_t first = s->count, pos = 0;
    uint32_t line = 0;
    int rc = ESF_OK;
    while (pos < len && rc == ESF_OK) {
        const char *p = text + pos;
        const char *nl = memchr(p, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - p) : len - pos;
        pos += n + (nl != NULL);
        line++;
        if (n && p[n - 1] == '\r')
            n--;
        ctx c = { s->source, line, (uint32_t)n + 1, err };
        word w[6];
        int nw = split_line(&c, p, n, w, 5);
        if (nw < 0) {
            rc = nw;
            break;
        }
        if (nw > 0) {
            esf_nvs_op op;
            rc = build_op(&c, w, (size_t)nw, &op);
            if (rc == ESF_OK)
                rc = push_op(s, &op, err);
            else
                op_release(&op);
        }
        words_free(w, (size_t)nw);
    }
    if (rc != ESF_OK) {
        while (s->count > first)
            op_release(&s->ops[--s->count]);
    }
    return rc;
}

int esf_nvs_script_add_words(esf_nvs_script *s, const char *const *words, size_t n,
                             esf_error *err)
{
    if (!s || !words || n == 0)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS operation: no words");
    word w[6];
    size_t nw = n < 6 ? n : 6;
    for (size_t i = 0; i < nw; i++) {
        w[i].text = (char *)words[i];
        w[i].len = strlen(words[i]);
        w[i].col = (uint32_t)i + 1;
        w[i].quoted = false;
    }
    ctx c = { s->source, 0, 0, err };
    if (nw == 2 && !strcmp(words[0], "erase")) {  /* "erase NS": the whole namespace */
        w[0].text = (char *)"erase_all";
        w[0].len = strlen(w[0].text);
    }
    esf_nvs_op op;
    int rc = build_op(&c, w, nw, &op);
    if (rc != ESF_OK) {
        op_release(&op);
        return rc;
    }
    return push_op(s, &op, err);
}

/* ---- application */

#define MAX_OPEN 16

typedef struct handles {
    esf_nvs *nvs;
    esf_nvs_open_mode mode;
    esf_nvs_handle *h[MAX_OPEN];
    char ns[MAX_OPEN][16];
    size_t n;
} handles;

static void handles_close(handles *hs)
{
    for (size_t i = 0; i < hs->n; i++)
        esf_nvs_close(hs->h[i]);
    hs->n = 0;
}

/* A write handle on `ns`; with `must_exist`, a missing namespace is ESF_ERR_NOT_FOUND (and is
 * not created). */
static int handle_for(handles *hs, const char *ns, bool must_exist, esf_nvs_handle **out,
                      esf_error *err)
{
    for (size_t i = 0; i < hs->n; i++)
        if (!strcmp(hs->ns[i], ns)) {
            *out = hs->h[i];
            return ESF_OK;
        }
    int rc;
    if (must_exist) {
        esf_nvs_handle *ro = NULL;
        if ((rc = esf_nvs_open(hs->nvs, ns, ESF_NVS_READONLY, &ro, err)) != ESF_OK)
            return rc;
        esf_nvs_close(ro);
    }
    if (hs->n == MAX_OPEN)
        handles_close(hs);
    if ((rc = esf_nvs_open(hs->nvs, ns, hs->mode, &hs->h[hs->n], err)) != ESF_OK)
        return rc;
    memcpy(hs->ns[hs->n], ns, 16);
    *out = hs->h[hs->n++];
    return ESF_OK;
}

static const char *rc_text(int rc)
{
    switch (rc) {
    case ESF_ERR_NOT_FOUND: return "not found";
    case ESF_ERR_NO_SPACE: return "not enough space in the NVS partition";
    case ESF_ERR_TOO_LONG: return "value too long for this partition";
    case ESF_ERR_READ_ONLY: return "the partition is read-only";
    case ESF_ERR_STATE: return "the NVS store is in a failed state after a flash error";
    default: return esf_strerror(rc);
    }
}

static int apply_op(const esf_nvs_script *s, const esf_nvs_op *op, handles *hs,
                    const esf_nvs_apply_opts *opt, esf_error *err)
{
    esf_nvs_handle *h = NULL;
    esf_error oerr = { 0 };
    int rc;
    const char *what = op->kind == ESF_NVS_OP_SET ? "set" : op->kind == ESF_NVS_OP_ERASE ? "erase"
                       : op->kind == ESF_NVS_OP_ERASE_ALL ? "erase_all" : "commit";
    uint32_t col = op->col_verb;
    if (op->kind == ESF_NVS_OP_COMMIT) {
        rc = opt && opt->commit ? opt->commit(opt->ctx, &oerr) : ESF_OK;
        if (rc == ESF_OK)
            return ESF_OK;
        goto fail_msg;
    }
    rc = handle_for(hs, op->ns, op->kind != ESF_NVS_OP_SET, &h, &oerr);
    if (rc != ESF_OK) {
        col = op->col_ns;
        if (rc == ESF_ERR_NOT_FOUND)
            snprintf(oerr.msg, sizeof oerr.msg, "namespace '%s' not found", op->ns);
        goto fail_msg;
    }
    switch (op->kind) {
    case ESF_NVS_OP_SET:
        if (op->type == ESF_NVS_TYPE_STR)
            rc = esf_nvs_set_str(h, op->key, (const char *)op->data);
        else if (op->type == ESF_NVS_TYPE_BLOB_DATA)
            rc = esf_nvs_set_blob(h, op->key, op->data, op->len);
        else
            rc = esf_nvs_set_prim(h, op->key, op->type, op->raw);
        if (rc != ESF_OK)
            col = op->col_value;
        break;
    case ESF_NVS_OP_ERASE:
        rc = esf_nvs_erase_key(h, op->key);
        if (rc != ESF_OK)
            col = op->col_key;
        break;
    default:
        rc = esf_nvs_erase_all(h);
        break;
    }
    if (rc == ESF_OK)
        return ESF_OK;
    if (op->kind == ESF_NVS_OP_ERASE && rc == ESF_ERR_NOT_FOUND)
        snprintf(oerr.msg, sizeof oerr.msg, "key '%s' not found in namespace '%s'", op->key, op->ns);
    else
        snprintf(oerr.msg, sizeof oerr.msg, "%s", rc_text(rc));
fail_msg:;
    char head[64];
    if (op->kind == ESF_NVS_OP_SET || op->kind == ESF_NVS_OP_ERASE)
        snprintf(head, sizeof head, "%s %s %s", what, op->ns, op->key);
    else if (op->kind == ESF_NVS_OP_ERASE_ALL)
        snprintf(head, sizeof head, "%s %s", what, op->ns);
    else
        snprintf(head, sizeof head, "%s", what);
    if (op->line)
        return esf_error_loc(err, rc, s->source, op->line, col, "%s: %s", head, oerr.msg);
    return esf_error_set(err, rc, "%s: %s", head, oerr.msg);
}

int esf_nvs_script_apply(const esf_nvs_script *s, esf_nvs *nvs, const esf_nvs_apply_opts *opt,
                         size_t *done, esf_error *err)
{
    if (done)
        *done = 0;
    if (!s || !nvs)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS script apply: NULL argument");
    handles hs = { .nvs = nvs,
                   .mode = opt && opt->purge ? ESF_NVS_READWRITE_PURGE : ESF_NVS_READWRITE };
    int rc = ESF_OK;
    for (size_t i = 0; i < s->count && rc == ESF_OK; i++) {
        rc = apply_op(s, &s->ops[i], &hs, opt, err);
        if (rc == ESF_OK && done)
            *done = i + 1;
    }
    handles_close(&hs);
    return rc;
}
