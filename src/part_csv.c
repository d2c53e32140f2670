/* Partition-table CSV parsing: PartitionTable.from_csv and PartitionDefinition.from_csv of
 * gen_esp32part.py (partition-table.md §5, §6). Text handling follows Python: BOM-selected
 * decoding, str.splitlines(), str.strip() over Unicode whitespace, os.path.expandvars(). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/number.h"
#include "espforge/part_table.h"
#include "internal/part_internal.h"

/* ---- text: decoding to UTF-8 (§5.1) */

static int put_utf8(uint8_t *o, uint32_t cp)
{
    if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
    if (cp < 0x800) { o[0] = (uint8_t)(0xC0 | (cp >> 6)); o[1] = (uint8_t)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xE0 | (cp >> 12)); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (uint8_t)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (uint8_t)(0xF0 | (cp >> 18)); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (uint8_t)(0x80 | (cp & 0x3F));
    return 4;
}

/* UTF-16/32 (after the BOM) to UTF-8. unit = 2 or 4. */
static int decode_wide(const uint8_t *s, size_t n, int unit, bool be, char **out, size_t *olen,
                       const char *source, esf_error *err)
{
    if (n % (size_t)unit)
        return esf_error_at(err, ESF_ERR_PARSE, source, (int64_t)n,
                            "CSV text is not valid UTF-%d: truncated data" PART_CRASH_NOTE, unit * 8);
    uint8_t *o = malloc(n / (size_t)unit * 4 + 1);
    if (!o)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i += (size_t)unit) {
        uint32_t cp;
        if (unit == 2) {
            cp = be ? (uint32_t)(s[i] << 8 | s[i + 1]) : (uint32_t)(s[i + 1] << 8 | s[i]);
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 3 < n) {
                uint32_t lo = be ? (uint32_t)(s[i + 2] << 8 | s[i + 3]) : (uint32_t)(s[i + 3] << 8 | s[i + 2]);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    i += 2;
                }
            }
        } else {
            cp = be ? ((uint32_t)s[i] << 24 | (uint32_t)s[i + 1] << 16 | (uint32_t)s[i + 2] << 8 | s[i + 3])
                    : ((uint32_t)s[i + 3] << 24 | (uint32_t)s[i + 2] << 16 | (uint32_t)s[i + 1] << 8 | s[i]);
        }
        if ((cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
            free(o);
            return esf_error_at(err, ESF_ERR_PARSE, source, (int64_t)i,
                                "CSV text is not valid UTF-%d at byte %zu" PART_CRASH_NOTE, unit * 8, i);
        }
        k += (size_t)put_utf8(o + k, cp);
    }
    o[k] = 0;
    *out = (char *)o;
    *olen = k;
    return ESF_OK;
}

/* get_encoding(): BOMs in the reference's dict order (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE; so
 * FF FE 00 00 is read as UTF-16). */
static int decode_text(const uint8_t *s, size_t n, char **out, size_t *olen, const char *source,
                       esf_error *err)
{
    *out = NULL;
    if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
        s += 3, n -= 3;
    else if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return decode_wide(s + 2, n - 2, 2, s[0] == 0xFE, out, olen, source, err);
    else if (n >= 4 && s[0] == 0 && s[1] == 0 && s[2] == 0xFE && s[3] == 0xFF)
        return decode_wide(s + 4, n - 4, 4, true, out, olen, source, err);
    size_t ok = part_utf8_valid_prefix(s, n);
    if (ok != n) {
        uint32_t line = 1, col = 1;
        for (size_t i = 0; i < ok; i++) {
            if (s[i] == '\n') line++, col = 1;
            else if ((s[i] & 0xC0) != 0x80) col++;
        }
        return esf_error_loc(err, ESF_ERR_PARSE, source, line, col,
                             "CSV text is not valid UTF-8 (byte 0x%02x at offset %zu)" PART_CRASH_NOTE, s[ok], ok);
    }
    char *o = malloc(n + 1);
    if (!o)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    memcpy(o, s, n);
    o[n] = '\0';
    *out = o;
    *olen = n;
    return ESF_OK;
}

/* ---- Python character classes on UTF-8 */

/* Length of the line break at p (0 if none): str.splitlines() boundaries. */
static size_t line_break(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    if (c == '\r')
        return (p + 1 < end && p[1] == '\n') ? 2 : 1;
    if (c == '\n' || c == 0x0B || c == 0x0C || (c >= 0x1C && c <= 0x1E))
        return 1;
    if (c == 0xC2 && p + 1 < end && (unsigned char)p[1] == 0x85)
        return 2;
    if (c == 0xE2 && p + 2 < end && (unsigned char)p[1] == 0x80 &&
        ((unsigned char)p[2] == 0xA8 || (unsigned char)p[2] == 0xA9))
        return 3;
    return 0;
}

/* Length of a str.isspace() character starting at p, else 0. */
static size_t space_at(const char *p, const char *end)
{
    unsigned char c = (unsigned char)*p;
    if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F))
        return 1;
    if (c == 0xC2 && p + 1 < end && ((unsigned char)p[1] == 0x85 || (unsigned char)p[1] == 0xA0))
        return 2;
    if (p + 2 < end) {
        unsigned c1 = (unsigned char)p[1], c2 = (unsigned char)p[2];
        if (c == 0xE1 && c1 == 0x9A && c2 == 0x80) return 3;                 /* U+1680 */
        if (c == 0xE2 && c1 == 0x80 && (c2 <= 0x8A || c2 == 0xA8 || c2 == 0xA9 || c2 == 0xAF))
            return c2 >= 0x80 ? 3 : 0;                                        /* U+2000-200A, 2028/9, 202F */
        if (c == 0xE2 && c1 == 0x81 && c2 == 0x9F) return 3;                 /* U+205F */
        if (c == 0xE3 && c1 == 0x80 && c2 == 0x80) return 3;                 /* U+3000 */
    }
    return 0;
}

/* Length of the whitespace character ending just before e (>= s), else 0. */
static size_t space_before(const char *s, const char *e)
{
    for (size_t k = 1; k <= 3 && (size_t)(e - s) >= k; k++) {
        const char *p = e - k;
        if (((unsigned char)*p & 0xC0) == 0x80)
            continue;
        return space_at(p, e) == k ? k : 0;
    }
    return 0;
}

/* str.strip() in place over [*b, *e). */
static void py_strip(const char **b, const char **e)
{
    size_t k;
    while (*b < *e && (k = space_at(*b, *e)) > 0)
        *b += k;
    while (*e > *b && (k = space_before(*b, *e)) > 0)
        *e -= k;
}

/* ---- os.path.expandvars (POSIX) */

typedef struct str {
    char *p;
    size_t len, cap;
} str;

static int str_add(str *s, const char *p, size_t n)
{
    if (s->len + n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 128;
        while (s->len + n + 1 > cap)
            cap *= 2;
        char *q = realloc(s->p, cap);
        if (!q)
            return ESF_ERR_NO_MEM;
        s->p = q;
        s->cap = cap;
    }
    memcpy(s->p + s->len, p, n);
    s->len += n;
    s->p[s->len] = '\0';
    return ESF_OK;
}

static bool is_word(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Match `\$(\w+|\{[^}]*\})` at p: returns the match length and the name span, else 0. */
static size_t var_at(const char *p, const char *end, const char **name, size_t *nlen)
{
    if (*p != '$' || p + 1 >= end)
        return 0;
    if (is_word(p[1])) {
        const char *q = p + 1;
        while (q < end && is_word(*q))
            q++;
        *name = p + 1;
        *nlen = (size_t)(q - p - 1);
        return (size_t)(q - p);
    }
    if (p[1] == '{') {
        const char *q = memchr(p + 2, '}', (size_t)(end - p - 2));
        if (!q)
            return 0;
        *name = p + 2;
        *nlen = (size_t)(q - p - 2);
        return (size_t)(q - p + 1);
    }
    return 0;
}

static const char *env_lookup(const esf_part_opts *o, const char *name, size_t nlen)
{
    if (!o->env || memchr(name, '\0', nlen))
        return NULL;
    char buf[256];
    char *key = nlen < sizeof buf ? buf : malloc(nlen + 1);
    if (!key)
        return NULL;
    memcpy(key, name, nlen);
    key[nlen] = '\0';
    const char *v = o->env(o->env_ctx, key);
    if (key != buf)
        free(key);
    return v;
}

static int expand_vars(str *out, const char *p, const char *end, const esf_part_opts *o)
{
    out->len = 0;
    if (str_add(out, "", 0) < 0)
        return ESF_ERR_NO_MEM;
    while (p < end) {
        const char *name;
        size_t nlen, m = var_at(p, end, &name, &nlen);
        const char *v = m ? env_lookup(o, name, nlen) : NULL;
        if (v) {
            if (str_add(out, v, strlen(v)) < 0)
                return ESF_ERR_NO_MEM;
            p += m;
        } else {
            size_t k = m ? m : 1;
            if (str_add(out, p, k) < 0)
                return ESF_ERR_NO_MEM;
            p += k;
        }
    }
    return ESF_OK;
}

/* ---- fields and numbers (§5.2, §5.3) */

typedef struct field {
    const char *p;  /* stripped text (not NUL-terminated) */
    size_t len;
    uint32_t col;   /* 1-based column in the expanded line */
} field;

typedef struct row_ctx {
    const esf_part_opts *o;
    const char *source;
    uint32_t line;
    esf_error *err;
    bool per_line;  /* the error is one of from_csv's (wrapped "Error at line") */
} row_ctx;

static int row_err(row_ctx *c, int code, const field *f, bool per_line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int row_err(row_ctx *c, int code, const field *f, bool per_line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    esf_error_vset(c->err, code, fmt, ap);
    va_end(ap);
    if (c->err) {
        snprintf(c->err->source, sizeof c->err->source, "%s", c->source ? c->source : "");
        c->err->line = c->line;
        c->err->column = f ? f->col : 1;
    }
    c->per_line = per_line;
    return code;
}

/* Python v.lower() == keyword, for ASCII keywords (also K = U+212A KELVIN SIGN lowers to 'k'). */
static bool lower_eq(const char *v, size_t n, const char *kw)
{
    size_t i = 0, j = 0;
    while (i < n) {
        if (!kw[j])
            return false;
        char c = v[i];
        if (n - i >= 3 && (unsigned char)v[i] == 0xE2 && (unsigned char)v[i + 1] == 0x84 &&
            (unsigned char)v[i + 2] == 0xAA) {
            c = 'k';
            i += 3;
        } else {
            if (c >= 'A' && c <= 'Z')
                c = (char)(c - 'A' + 'a');
            i++;
        }
        if (c != kw[j++])
            return false;
    }
    return kw[j] == '\0';
}

/* Python's recursion limit lets the reference strip at most this many k/m suffixes. */
#define PART_MAX_KM_SUFFIXES 992

/* Size of a trailing k/K/KELVIN or m/M character: sets *mult. */
static size_t km_suffix(const char *v, size_t n, int64_t *mult)
{
    if (n >= 1 && (v[n - 1] == 'k' || v[n - 1] == 'K')) { *mult = 1024; return 1; }
    if (n >= 3 && (unsigned char)v[n - 3] == 0xE2 && (unsigned char)v[n - 2] == 0x84 &&
        (unsigned char)v[n - 1] == 0xAA) { *mult = 1024; return 3; }
    if (n >= 1 && (v[n - 1] == 'm' || v[n - 1] == 'M')) { *mult = 1048576; return 1; }
    return 0;
}

/* First code points of the 65 blocks of ten non-ASCII decimal digits (Unicode category Nd, as of
 * Unicode 14.0, the Python 3.11 the reference runs on): Python's int() accepts them. */
static const uint32_t nd_blocks[] = {
    0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6, 0xd66, 0xde6,
    0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0, 0x1a80, 0x1a90, 0x1b50,
    0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0, 0xa9f0, 0xaa50, 0xabf0, 0xff10,
    0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136, 0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650,
    0x116c0, 0x11730, 0x118e0, 0x11950, 0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50,
    0x1d7ce, 0x1d7d8, 0x1d7e2, 0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
};

/* Decode one UTF-8 character of valid text at p; *cp gets it. Returns its length. */
static size_t utf8_next(const char *p, const char *end, uint32_t *cp)
{
    unsigned char c = (unsigned char)*p;
    size_t k = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    uint32_t v = k == 0 ? c : k == 1 ? (c & 0x1Fu) : k == 2 ? (c & 0x0Fu) : (c & 0x07u);
    for (size_t i = 1; i <= k && p + i < end; i++)
        v = (v << 6) | ((unsigned char)p[i] & 0x3Fu);
    *cp = v;
    return k + 1;
}

/* What Python's int() does before parsing: non-ASCII decimal digits become ASCII digits and
 * Unicode spaces become ' '; any other non-ASCII character makes the text invalid (-1). */
static int int_text_to_ascii(const char *b, const char *e, char *out, size_t cap, size_t *olen)
{
    size_t o = 0;
    while (b < e) {
        if (o + 1 >= cap)
            return -1;
        size_t sp = space_at(b, e);
        if ((unsigned char)*b < 0x80 || sp) {
            out[o++] = sp && (unsigned char)*b >= 0x80 ? ' ' : *b;
            b += sp ? sp : 1;
            continue;
        }
        uint32_t cp;
        b += utf8_next(b, e, &cp);
        size_t i = 0;
        while (i < sizeof nd_blocks / sizeof nd_blocks[0] && !(cp >= nd_blocks[i] && cp < nd_blocks[i] + 10))
            i++;
        if (i == sizeof nd_blocks / sizeof nd_blocks[0])
            return -1;
        out[o++] = (char)('0' + (cp - nd_blocks[i]));
    }
    *olen = o;
    return 0;
}

/* parse_int(v, keywords) of the reference. */
static int parse_int_kw(row_ctx *c, const field *f, const char *v, size_t n, part_kwlist kws,
                        int64_t *out)
{
    /* The reference strips one k/m suffix per recursive call; strip them all here without
     * recursion (a field of thousands of 'k's overflowed our stack, found by fuzz_part_csv) and
     * apply the multipliers after parsing the rest. Python's recursion limit stops the reference
     * after 992 suffixes (RecursionError, checked on every field); so does this. */
    int64_t mult, mults[PART_MAX_KM_SUFFIXES];
    size_t nmult = 0, k;
    while ((k = km_suffix(v, n, &mult)) != 0) {
        if (nmult == PART_MAX_KM_SUFFIXES)
            return row_err(c, ESF_ERR_RANGE, f, false, "value %.*s has more than %d K/M suffixes" PART_CRASH_NOTE,
                           (int)(f->len > 40 ? 40 : f->len), f->p, PART_MAX_KM_SUFFIXES);
        mults[nmult++] = mult;
        n -= k;
    }
    if (nmult) {
        int64_t x;
        int rc = parse_int_kw(c, f, v, n, kws, &x);
        if (rc < 0)
            return rc;
        for (size_t i = 0; i < nmult; i++) {
            if (x > PART_BIG / mults[i] || x < -PART_BIG / mults[i])
                return row_err(c, ESF_ERR_RANGE, f, false, "value %.*s is out of range" PART_CRASH_NOTE, (int)f->len, f->p);
            x *= mults[i];
        }
        *out = x;
        return ESF_OK;
    }
    /* int(v, 0): Python strips Unicode whitespace around the digits */
    const char *b = v, *e = v + n;
    py_strip(&b, &e);
    int64_t x;
    char small[128];
    size_t alen = 0, cap = (size_t)(e - b) + 1;
    char *ascii = cap <= sizeof small ? small : malloc(cap);
    int rc = ascii ? ESF_ERR_PARSE : ESF_ERR_NO_MEM;
    if (ascii && b < e && !memchr(b, '\0', (size_t)(e - b)) &&
        int_text_to_ascii(b, e, ascii, cap, &alen) == 0)
        rc = esf_parse_int_n(ascii, alen, &x, NULL);
    if (ascii != small)
        free(ascii);
    if (rc == ESF_ERR_NO_MEM)
        return row_err(c, rc, f, false, "out of memory");
    if (rc == ESF_OK) {
        if (x > PART_BIG || x < -PART_BIG)
            return row_err(c, ESF_ERR_RANGE, f, false, "value %.*s is out of range" PART_CRASH_NOTE, (int)f->len, f->p);
        *out = x;
        return ESF_OK;
    }
    if (rc == ESF_ERR_RANGE)
        return row_err(c, ESF_ERR_RANGE, f, false, "value %.*s is out of range" PART_CRASH_NOTE, (int)f->len, f->p);
    if (kws.n == 0)
        return row_err(c, ESF_ERR_PARSE, f, true, "Invalid field value %.*s", (int)n, v);
    for (size_t i = 0; i < kws.n; i++)
        if (lower_eq(v, n, kws.items[i].name)) {
            *out = kws.items[i].value;
            return ESF_OK;
        }
    char list[1024];
    size_t o = 0;
    list[0] = '\0';
    for (size_t i = 0; i < kws.n && o < sizeof list; i++)
        o += (size_t)snprintf(list + o, sizeof list - o, "%s%s", i ? ", " : "", kws.items[i].name);
    return row_err(c, ESF_ERR_PARSE, f, true, "Value '%.*s' is not valid. Known keywords: %s", (int)n, v,
                   list);
}

/* One row: PartitionDefinition.from_csv. */
typedef struct row {
    char *name;
    int64_t type, subtype, offset, size;
    bool has_offset;
    uint32_t flags;
    uint32_t line, column;
} row;

static bool field_is(const field *f, const char *s)
{
    return f->len == strlen(s) && !memcmp(f->p, s, f->len);
}

static int parse_row(row_ctx *c, const field *fs, size_t nf, row *r)
{
    const esf_part_opts *o = c->o;
    const esf_part_keywords *kw = o->keywords;
    int rc;
    memset(r, 0, sizeof *r);
    r->line = c->line;
    r->column = fs[0].col;
    /* type */
    if (fs[1].len == 0)
        return row_err(c, ESF_ERR_PARSE, &fs[1], true, "Field 'type' can't be left empty.");
    if ((rc = parse_int_kw(c, &fs[1], fs[1].p, fs[1].len, part_types(), &r->type)) < 0)
        return rc;
    /* subtype */
    if (fs[2].len == 0) {
        if (r->type == ESF_PART_TYPE_APP)
            return row_err(c, ESF_ERR_PARSE, &fs[2], true, "App partition cannot have an empty subtype");
        r->subtype = part_subtype_value(kw, ESF_PART_TYPE_DATA, "undefined");
    } else if ((rc = parse_int_kw(c, &fs[2], fs[2].p, fs[2].len, part_subtypes(kw, r->type), &r->subtype)) < 0) {
        return rc;
    }
    /* offset: parse_address */
    bool fixed = false;
    if (r->type == ESF_PART_TYPE_BOOTLOADER) {
        if (r->subtype == part_subtype_value(kw, 2, "primary")) {
            if (!o->has_primary_bootloader_offset)
                return row_err(c, ESF_ERR_INVALID, &fs[3], true,
                               "Primary bootloader offset is not defined. Please use --primary-bootloader-offset");
            r->offset = o->primary_bootloader_offset;
            fixed = true;
        } else if (r->subtype == part_subtype_value(kw, 2, "recovery")) {
            if (!o->has_recovery_bootloader_offset)
                return row_err(c, ESF_ERR_INVALID, &fs[3], true,
                               "Recovery bootloader offset is not defined. Please use --recovery-bootloader-offset");
            r->offset = o->recovery_bootloader_offset;
            fixed = true;
        }
    }
    if (!fixed && r->type == ESF_PART_TYPE_PARTITION_TABLE &&
        r->subtype == part_subtype_value(kw, 3, "primary")) {
        r->offset = o->table_offset;
        fixed = true;
    }
    if (fixed) {
        r->has_offset = true;
    } else if (fs[3].len) {
        if ((rc = parse_int_kw(c, &fs[3], fs[3].p, fs[3].len, (part_kwlist){ NULL, 0 }, &r->offset)) < 0)
            return rc;
        r->has_offset = true;
    }
    /* size: parse_size */
    if (r->type == ESF_PART_TYPE_BOOTLOADER) {
        if (!o->has_primary_bootloader_offset)
            return row_err(c, ESF_ERR_INVALID, &fs[4], true,
                           "Primary bootloader offset is not defined. Please use --primary-bootloader-offset");
        r->size = o->table_offset - o->primary_bootloader_offset;
    } else if (r->type == ESF_PART_TYPE_PARTITION_TABLE) {
        r->size = ESF_PART_TABLE_SECTOR;
    } else if (fs[4].len == 0) {
        return row_err(c, ESF_ERR_PARSE, &fs[4], true, "Size field can't be empty");
    } else if ((rc = parse_int_kw(c, &fs[4], fs[4].p, fs[4].len, (part_kwlist){ NULL, 0 }, &r->size)) < 0) {
        return rc;
    }
    /* flags: ':'-separated, items not stripped, empty items ignored */
    const char *p = fs[5].p, *end = fs[5].p + fs[5].len;
    while (p <= end) {
        const char *q = memchr(p, ':', (size_t)(end - p));
        if (!q)
            q = end;
        field item = { p, (size_t)(q - p), fs[5].col + (uint32_t)(p - fs[5].p) };
        if (field_is(&item, "encrypted"))
            r->flags |= ESF_PART_TABLE_FLAG_ENCRYPTED;
        else if (field_is(&item, "readonly"))
            r->flags |= ESF_PART_TABLE_FLAG_READONLY;
        else if (item.len)
            return row_err(c, ESF_ERR_PARSE, &item, true, "CSV flag column contains unknown flag '%.*s'",
                           (int)item.len, item.p);
        p = q + 1;
    }
    /* what the reference silently gets wrong */
    size_t nlen = fs[0].len;
    if (memchr(fs[0].p, '\0', nlen))
        return row_err(c, ESF_ERR_PARSE, &fs[0], false, "partition name contains a NUL character" PART_CRASH_NOTE);
    if (o->strict) {
        if (memchr(fs[0].p, '"', nlen) || memchr(fs[0].p, '\'', nlen))
            return row_err(c, ESF_ERR_PARSE, &fs[0], false,
                           "partition name %.*s has quotes: this CSV has no quoting, they would be part "
                           "of the name", (int)nlen, fs[0].p);
        for (size_t i = 6; i < nf; i++)
            if (fs[i].len)
                return row_err(c, ESF_ERR_PARSE, &fs[i], false,
                               "unexpected field %zu '%.*s' (a partition row has 6 fields: name, type, "
                               "subtype, offset, size, flags)", i + 1, (int)fs[i].len, fs[i].p);
    }
    if (nlen > ESF_PART_NAME_LEN) {
        if (o->strict)
            return row_err(c, ESF_ERR_TOO_LONG, &fs[0], false,
                           "partition name '%.*s' is %zu bytes; the binary table holds at most 16",
                           (int)nlen, fs[0].p, nlen);
        part_warn_own(o->warn, c->source, c->line, fs[0].col,
                     "partition name '%.*s' is %zu bytes; the binary table keeps only the first 16 "
                     "bytes ('%.16s'), as gen_esp32part.py does without a word",
                     (int)nlen, fs[0].p, nlen, fs[0].p);
    }
    r->name = malloc(nlen + 1);
    if (!r->name)
        return row_err(c, ESF_ERR_NO_MEM, NULL, false, "out of memory");
    memcpy(r->name, fs[0].p, nlen);
    r->name[nlen] = '\0';
    return ESF_OK;
}

/* ---- the table: from_csv (§5.1, §6) */

static bool row_eq(const row *a, const row *b)
{
    return !strcmp(a->name, b->name) && a->type == b->type && a->subtype == b->subtype &&
           a->has_offset == b->has_offset && a->offset == b->offset && a->size == b->size;
}

#define MAX_FIELDS 7 /* name..flags and the first extra one */

int esf_part_csv_parse(esf_part_table **out, const char *text, size_t len, const char *source,
                       const esf_part_opts *opts, esf_error *err)
{
    *out = NULL;
    esf_part_opts defaults;
    if (!opts) {
        esf_part_opts_init(&defaults);
        opts = &defaults;
    }
    char *buf = NULL;
    size_t blen = 0;
    str line = { 0 };
    row *rows = NULL;
    size_t nrows = 0, cap = 0;
    field *fs = NULL;
    esf_part_table *t = NULL;
    int rc = esf_part_opts_check(opts, err);
    if (rc < 0)
        return rc;
    if ((rc = decode_text((const uint8_t *)text, len, &buf, &blen, source, err)) < 0)
        return rc;
    fs = malloc(MAX_FIELDS * sizeof *fs);
    if (!fs) {
        rc = esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
        goto done;
    }
    row_ctx c = { .o = opts, .source = source, .err = err };
    const char *p = buf, *end = buf + blen;
    uint32_t line_no = 0;
    while (p < end) {
        const char *q = p;
        size_t br = 0;
        while (q < end && (br = line_break(q, end)) == 0)
            q++;
        line_no++;
        c.line = line_no;
        if ((rc = expand_vars(&line, p, q, opts)) < 0) {
            rc = esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
            goto done;
        }
        p = q + br;
        /* a line starting with an unset $NAME is an error */
        const char *ls = line.p, *le = line.p + line.len;
        if (line.len >= 2 && ls[0] == '$' && ((ls[1] >= 'A' && ls[1] <= 'Z') ||
                                               (ls[1] >= 'a' && ls[1] <= 'z') || ls[1] == '_')) {
            size_t k = 1;
            while (k < line.len && is_word(ls[k]))
                k++;
            field f = { ls, k, 1 };
            rc = row_err(&c, ESF_ERR_PARSE, &f, false, "unknown variable '%.*s'", (int)(k - 1), ls + 1);
            goto done;
        }
        py_strip(&ls, &le);
        if (ls == le || *ls == '#')
            continue;
        if (opts->strict) {
            for (const char *v = ls; v < le; v++) {
                const char *name;
                size_t nlen;
                if (var_at(v, le, &name, &nlen)) {
                    field f = { v, nlen, (uint32_t)(v - line.p) + 1 };
                    rc = row_err(&c, ESF_ERR_PARSE, &f, false,
                                 "unknown variable '%.*s' (not set in the environment)", (int)nlen, name);
                    goto done;
                }
            }
        }
        /* line + ",,,," split on ',' and stripped */
        size_t nf = 0;
        field extra = { NULL, 0, 0 };
        const char *f0 = ls;
        for (const char *v = ls;; v++) {
            if (v == le || *v == ',') {
                const char *b = f0, *e = v;
                py_strip(&b, &e);
                field f = { b, (size_t)(e - b), (uint32_t)(b - line.p) + 1 };
                if (nf < MAX_FIELDS)
                    fs[nf++] = f;
                else if (f.len && !extra.len)
                    extra = f;  /* fields past the 7th: only whether one is non-empty matters */
                if (v == le)
                    break;
                f0 = v + 1;
            }
        }
        if (extra.len && fs[MAX_FIELDS - 1].len == 0)
            fs[MAX_FIELDS - 1] = extra;
        while (nf < 6) {
            fs[nf] = (field){ le, 0, (uint32_t)(le - line.p) + 1 };
            nf++;
        }
        if (nrows == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            row *nr = realloc(rows, ncap * sizeof *nr);
            if (!nr) {
                rc = esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
                goto done;
            }
            rows = nr;
            cap = ncap;
        }
        c.per_line = false;
        if ((rc = parse_row(&c, fs, nf, &rows[nrows])) < 0) {
            if (c.per_line && opts->ref_messages && err) {
                char inner[sizeof err->msg];
                memcpy(inner, err->msg, sizeof inner);
                snprintf(err->msg, sizeof err->msg,
                         "Error at line %u: %.400s\nPlease check extra_partition_subtypes.inc file in "
                         "build/config directory", line_no, inner);
            }
            goto done;
        }
        nrows++;
    }
    /* fix up missing offsets and negative sizes */
    const esf_part_keywords *kw = opts->keywords;
    int64_t last_end = opts->table_offset + ESF_PART_TABLE_SECTOR;
    char a[32], b[32], d[32];
    for (size_t i = 0; i < nrows; i++) {
        row *e = &rows[i];
        if (part_is_primary(kw, e->type, e->subtype))
            continue;
        c.line = e->line;
        field at = { NULL, 0, e->column };
        if (e->has_offset && e->offset < last_end) {
            if (row_eq(e, &rows[0]))
                rc = row_err(&c, ESF_ERR_INVALID, &at, false,
                             "CSV Error at line %u: Partitions overlap. Partition sets offset %s. But "
                             "partition table occupies the whole sector %s. Use a free offset %s or higher.",
                             e->line, part_hex(a, sizeof a, e->offset),
                             part_hex(b, sizeof b, opts->table_offset), part_hex(d, sizeof d, last_end));
            else
                rc = row_err(&c, ESF_ERR_INVALID, &at, false,
                             "CSV Error at line %u: Partitions overlap. Partition sets offset %s. "
                             "Previous partition ends %s",
                             e->line, part_hex(a, sizeof a, e->offset), part_hex(b, sizeof b, last_end));
            goto done;
        }
        if (!e->has_offset) {
            int64_t pad = e->type == ESF_PART_TYPE_APP ? 0x10000 : 0x1000;
            int64_t m = last_end % pad;
            if (m < 0)
                m += pad;  /* Python's modulo */
            if (m)
                last_end += pad - m;
            e->offset = last_end;
            e->has_offset = true;
        }
        if (e->size < 0)
            e->size = -e->size - e->offset;
        last_end = e->offset + e->size;
    }
    if ((rc = esf_part_table_new(&t, source, err)) < 0)
        goto done;
    for (size_t i = 0; i < nrows; i++) {
        row *e = &rows[i];
        if ((rc = esf_part_table_add(t, e->name, e->type, e->subtype, e->offset, e->size, e->flags, err)) < 0)
            goto done;
        t->entries[t->count - 1].line = e->line;
        t->entries[t->count - 1].column = e->column;
    }
    *out = t;
    t = NULL;
    rc = ESF_OK;
done:
    for (size_t i = 0; i < nrows; i++)
        free(rows[i].name);
    free(rows);
    free(fs);
    free(line.p);
    free(buf);
    esf_part_table_free(t);
    return rc;
}
