/* The NVS partition generator (nvs-generator.md §3–§6), byte-identical to
 * esp-idf-nvs-partition-gen 0.2.0. See include/espforge/nvs_gen.h.
 *
 * The code follows the reference's structure so that its page filling, error order and quirks
 * fall out the same way: a row goes through write_row (module-level write_entry: Wi-Fi extras,
 * file loading, namespaces), then write_value (NVS.write_entry: encodings), then write_prim /
 * write_var (Page.write_*: page-full retry on a new page). Python values are modelled by
 * `pyval`: None, str (UTF-8 text, lengths in characters) or bytes. */
#include "espforge/nvs_gen.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/csv.h"
#include "espforge/io.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_page.h"
#include "internal/crypto.h"
#include "internal/le.h"

#if defined(__SSE2__) && !defined(ESF_NVS_GEN_NO_SIMD)  /* every x86-64; -D... for the table only */
#include <emmintrin.h>
#define NVS_GEN_SSE2 1
#endif

#define PY_FIELD_LIMIT 131072u  /* Python csv.field_size_limit() default, characters */

typedef enum { PV_NONE, PV_STR, PV_BYTES } pv_kind;
typedef struct pyval {
    pv_kind kind;
    const uint8_t *p;
    size_t len;  /* bytes */
} pyval;

typedef struct ns_entry {
    char name[64];  /* up to 15 characters = 60 bytes of UTF-8 */
    uint8_t len;
    uint16_t idx;
} ns_entry;

/* Duplicate detection: a slot per item written. The item's first entry in the image holds its
 * namespace (byte 0) and the first 16 bytes of its key (bytes 8..23), so the slot keeps only
 * where that entry is and a tag: the key's hash with its low 6 bits replaced by the key's length
 * in bytes (at most 60). */
typedef struct key_slot {
    uint32_t tag;
    uint32_t ent;  /* 1 + index of the item's first 32-byte entry in buf; 0 = free slot */
} key_slot;

struct esf_nvs_gen {
    esf_nvs_gen_opts opts;
    uint8_t key[ESF_NVS_XTS_KEY_LEN];
    bool encrypt;
    uint8_t version;        /* header byte: 0xFF v1, 0xFE v2 */
    bool read_only;
    uint64_t usable;        /* bytes of data pages allowed */
    uint32_t max_pages;     /* opts.size / 4096 */
    uint8_t *buf;           /* max_pages pages */
    uint32_t npages;        /* data pages created */
    uint64_t remaining;     /* the reference's NVS.size */
    uint8_t *cur;           /* current page */
    unsigned entry_num;     /* next free entry of the current page */
    bool failed;

    ns_entry *ns; size_t ns_n, ns_cap;
    unsigned ns_count;      /* namespaces created (= index of the latest) */
    unsigned ns_sel;        /* namespace selected by the last namespace row */

    /* open addressing, at most 3/4 full, grown by doubling: sized by the keys added, so small
     * inputs touch few pages whatever the partition size */
    key_slot *key_tab; size_t keys_n, keys_cap;

    bool wifi_done;
    char *ap_ssid, *ap_passwd, *ap_authmode;  /* NULL = None */

    uint8_t *scratch; size_t scratch_cap;     /* decoded values */
    uint8_t *file; size_t file_len;           /* type=file content */
    const esf_nvs_row *row;                   /* row being written (places) */
    char *errtext;                            /* full text of the last error */
    size_t hi;          /* bytes of buf ever used by data pages (may hold an earlier image) */
    bool tail_ff;       /* buf[hi, size) has been filled with 0xFF */
};

/* ---- errors and warnings ---- */

static const char *row_src(const esf_nvs_gen *g) { return g->row && g->row->source ? g->row->source : ""; }

enum col { C_KEY, C_TYPE, C_ENC, C_VALUE };

static uint32_t row_col(const esf_nvs_gen *g, enum col c)
{
    if (!g->row)
        return 0;
    switch (c) {
    case C_KEY: return g->row->col_key;
    case C_TYPE: return g->row->col_type;
    case C_ENC: return g->row->col_encoding;
    default: return g->row->col_value;
    }
}

__attribute__((format(printf, 5, 6)))
static int fail(esf_nvs_gen *g, esf_error *err, int code, enum col c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    free(g->errtext);
    g->errtext = malloc(n > 0 ? (size_t)n + 1 : 1);
    if (g->errtext) {
        va_start(ap, fmt);
        vsnprintf(g->errtext, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    g->failed = true;
    return esf_error_loc(err, code, row_src(g), g->row ? g->row->line : 0, row_col(g, c), "%s",
                         g->errtext ? g->errtext : "out of memory");
}

const char *esf_nvs_gen_error_text(const esf_nvs_gen *g)
{
    return g && g->failed && g->errtext ? g->errtext : "";
}

__attribute__((format(printf, 3, 4)))
static void warn(esf_nvs_gen *g, enum col c, const char *fmt, ...)
{
    if (!g->opts.warn.fn)
        return;
    esf_error w;
    esf_error_clear(&w);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w.msg, sizeof w.msg, fmt, ap);
    va_end(ap);
    snprintf(w.source, sizeof w.source, "%s", row_src(g));
    w.line = g->row ? g->row->line : 0;
    w.column = row_col(g, c);
    g->opts.warn.fn(g->opts.warn.ctx, &w);
}

/* ---- Python text helpers ---- */

/* Decode one code point of valid UTF-8 at p; returns its byte length. */
static size_t utf8_cp(const uint8_t *p, const uint8_t *end, uint32_t *cp)
{
    uint8_t c = p[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if ((size_t)(end - p) < n)
        n = (size_t)(end - p);
    uint32_t v = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (size_t i = 1; i < n; i++)
        v = (v << 6) | (p[i] & 0x3F);
    *cp = v;
    return n ? n : 1;
}

/* Strict UTF-8 check (Python's utf-8 codec): returns the offset of the first bad byte or len. */
static size_t utf8_check(const uint8_t *p, size_t len) { return esf_utf8_check(p, len); }

static size_t nchars(const uint8_t *p, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += (p[i] & 0xC0) != 0x80;
    return n;
}

/* Byte offset of character `ch` (valid UTF-8). */
static size_t char_off(const uint8_t *p, size_t len, size_t ch)
{
    size_t i = 0;
    while (i < len && ch) {
        i++;
        while (i < len && (p[i] & 0xC0) == 0x80)
            i++;
        ch--;
    }
    return i;
}

static bool py_isspace_cp(uint32_t c)
{
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 ||
           c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

static bool py_isspace_byte(uint8_t c) { return c == ' ' || (c >= 0x09 && c <= 0x0D); }

/* str.strip() / bytes.strip() */
__attribute__((noinline)) static pyval py_strip_any(pyval v)
{
    const uint8_t *s = v.p, *e = v.p + v.len;
    if (v.kind == PV_BYTES) {
        while (s < e && py_isspace_byte(*s)) s++;
        while (e > s && py_isspace_byte(e[-1])) e--;
    } else {
        while (s < e) {
            uint32_t cp = *s;
            size_t n = cp < 0x80 ? 1 : utf8_cp(s, e, &cp);
            if (!py_isspace_cp(cp)) break;
            s += n;
        }
        while (e > s) {
            const uint8_t *q = e - 1;
            uint32_t cp = *q;
            if (cp >= 0x80) {
                while (q > s && (*q & 0xC0) == 0x80) q--;
                utf8_cp(q, e, &cp);
            }
            if (!py_isspace_cp(cp)) break;
            e = q;
        }
    }
    return (pyval){ v.kind, s, (size_t)(e - s) };
}

static inline pyval py_strip(pyval v)
{
    const uint8_t *s = v.p, *e = v.p + v.len;
    if (s < e && s[0] > ' ' && s[0] < 0x80 && e[-1] > ' ' && e[-1] < 0x80)
        return v;  /* printable ASCII ends: nothing to strip (the usual case) */
    return py_strip_any(v);
}

/* ---- words ---- */

#define ONES 0x0101010101010101ull
#define HIGH_BITS (0x80 * ONES)

/* The n (<= 8) bytes at p as a little-endian word, zero above them; reads only those bytes (two
 * overlapping loads, or the first, middle and last byte). */
static inline uint64_t load_le(const uint8_t *p, size_t n)
{
    if (n >= 8)
        return esf_le64(p);
    if (n >= 4)
        return esf_le32(p) | (uint64_t)esf_le32(p + n - 4) << (8 * (n - 4));
    if (n == 0)
        return 0;
    return p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) | (uint64_t)p[n - 1] << (8 * (n - 1));
}

static inline bool is_ascii(const uint8_t *p, size_t n)
{
    uint64_t any = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        any |= esf_le64(p + i);
    return !((any | load_le(p + i, n - i)) & HIGH_BITS);
}

/* "len" of a value as the reference sees it */
static size_t py_len(const esf_nvs_gen *g, pyval v)
{
    return v.kind == PV_STR && g->opts.compat ? nchars(v.p, v.len) : v.len;
}

static int scratch_reserve(esf_nvs_gen *g, size_t n, esf_error *err)
{
    if (n <= g->scratch_cap)
        return ESF_OK;
    size_t cap = g->scratch_cap ? g->scratch_cap : 4096;
    while (cap < n)
        cap *= 2;
    uint8_t *b = realloc(g->scratch, cap);
    if (!b)
        return fail(g, err, ESF_ERR_NO_MEM, C_VALUE, "out of memory (%zu bytes)", n);
    g->scratch = b;
    g->scratch_cap = cap;
    return ESF_OK;
}

/* ---- decoders (binascii.a2b_hex, a2b_base64 non-strict, int(x)) ---- */

/* a hex digit -> 0x10 | its value; anything else -> 0 */
static const uint8_t hex_digit[256] = {
    ['0'] = 0x10, ['1'] = 0x11, ['2'] = 0x12, ['3'] = 0x13, ['4'] = 0x14,
    ['5'] = 0x15, ['6'] = 0x16, ['7'] = 0x17, ['8'] = 0x18, ['9'] = 0x19,
    ['a'] = 0x1A, ['b'] = 0x1B, ['c'] = 0x1C, ['d'] = 0x1D, ['e'] = 0x1E, ['f'] = 0x1F,
    ['A'] = 0x1A, ['B'] = 0x1B, ['C'] = 0x1C, ['D'] = 0x1D, ['E'] = 0x1E, ['F'] = 0x1F,
};

#ifdef NVS_GEN_SSE2
/* Sixteen hex digits -> eight bytes at `out`; false if any is not a hex digit. A byte is a digit
 * when b - '0' <= 9, a letter when (b | 0x20) - 'a' <= 5 (unsigned: min(x, k) == x). */
static bool hex16(const uint8_t *in, uint8_t *out)
{
    __m128i w = _mm_loadu_si128((const __m128i *)(const void *)in);
    __m128i d = _mm_sub_epi8(w, _mm_set1_epi8('0'));
    __m128i l = _mm_sub_epi8(_mm_or_si128(w, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    __m128i is_d = _mm_cmpeq_epi8(_mm_min_epu8(d, _mm_set1_epi8(9)), d);
    __m128i is_l = _mm_cmpeq_epi8(_mm_min_epu8(l, _mm_set1_epi8(5)), l);
    if (_mm_movemask_epi8(_mm_or_si128(is_d, is_l)) != 0xFFFF)
        return false;
    __m128i v = _mm_or_si128(_mm_and_si128(is_d, d),
                             _mm_and_si128(is_l, _mm_add_epi8(l, _mm_set1_epi8(10))));  /* nibbles */
    __m128i hi = _mm_and_si128(v, _mm_set1_epi16(0x00FF)), lo = _mm_srli_epi16(v, 8);
    __m128i bytes = _mm_or_si128(_mm_slli_epi16(hi, 4), lo);  /* one byte a 16-bit lane */
    _mm_storel_epi64((__m128i *)(void *)out, _mm_packus_epi16(bytes, bytes));
    return true;
}
#endif

/* binascii.a2b_hex of `n` (even) characters into `out` (n / 2 bytes); false at a non-hex digit */
static bool hex_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t i = 0;
#ifdef NVS_GEN_SSE2
    for (; i + 16 <= n; i += 16)
        if (!hex16(in + i, out + i / 2))
            return false;
#endif
    for (; i < n; i += 2) {
        unsigned hi = hex_digit[in[i]], lo = hex_digit[in[i + 1]];
        if (!(hi & lo & 0x10))
            return false;
        out[i / 2] = (uint8_t)(hi << 4 | (lo & 0x0F));
    }
    return true;
}

static int b64val(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* CPython 3.11 binascii.a2b_base64(strict_mode=False) into g->scratch. */
static int a2b_base64(esf_nvs_gen *g, const uint8_t *in, size_t len, size_t *out_len, esf_error *err)
{
    int rc = scratch_reserve(g, len / 4 * 3 + 3, err);
    if (rc)
        return rc;
    uint8_t *o = g->scratch;
    unsigned quad = 0, pads = 0, left = 0;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = in[i];
        if (c == '=') {
            if (quad >= 2 && quad + ++pads >= 4)
                goto done;
            continue;
        }
        int v = b64val(c);
        if (v < 0)
            continue;
        pads = 0;
        switch (quad) {
        case 0: quad = 1; left = (unsigned)v; break;
        case 1: quad = 2; *o++ = (uint8_t)((left << 2) | ((unsigned)v >> 4)); left = (unsigned)v & 0x0F; break;
        case 2: quad = 3; *o++ = (uint8_t)((left << 4) | ((unsigned)v >> 2)); left = (unsigned)v & 0x03; break;
        default: quad = 0; *o++ = (uint8_t)((left << 6) | (unsigned)v); left = 0; break;
        }
    }
    if (quad == 1)
        return fail(g, err, ESF_ERR_PARSE, C_VALUE,
                    "invalid base64 value: number of data characters (%zu) cannot be 1 more than a "
                    "multiple of 4 (binascii.Error in the reference)",
                    (size_t)(o - g->scratch) / 3 * 4 + 1);
    if (quad != 0)
        return fail(g, err, ESF_ERR_PARSE, C_VALUE,
                    "invalid base64 value: Incorrect padding (binascii.Error in the reference)");
done:
    *out_len = (size_t)(o - g->scratch);
    return ESF_OK;
}

/* Python int(value) in base 10: whitespace, sign, digits with single '_' separators, leading
 * zeros allowed. Gives sign and magnitude (saturating; `big` when > UINT64_MAX); the literal's
 * digits stay in the value for messages (pyint_text). */
typedef struct pyint {
    bool neg, big;
    uint64_t mag;
    const uint8_t *digits, *end;  /* the digits and '_' of the literal; NULL: `mag` is exact */
} pyint;

#define PYINT_TEXT 96

/* The value of n (1..8) decimal digits at p, eight at once (the first is the lowest byte of the
 * word: left-padded with '0' bytes, each byte's digit is weighted 10, 100, 10^4 by three
 * multiply-and-shift steps); false if one is not '0'..'9'. */
static bool digits8(const uint8_t *p, size_t n, uint32_t *out)
{
    uint64_t w = load_le(p, n) << (8 * (8 - n)) | (n < 8 ? '0' * ONES >> (8 * n) : 0);
    /* a byte is a digit when it is 0x30..0x3F and stays so with 6 added */
    if (((w & 0xF0 * ONES) | ((w + 6 * ONES) & 0xF0 * ONES) >> 4) != 0x33 * ONES)
        return false;
    w -= '0' * ONES;
    w = w * 10 + (w >> 8);  /* pairs of digits */
    w = ((w & 0x000000FF000000FFull) * (100 + (1000000ull << 32)) +
         ((w >> 16) & 0x000000FF000000FFull) * (1 + (10000ull << 32))) >> 32;
    *out = (uint32_t)w;
    return true;
}

/* The value of n (1..19) decimal digits at p, which cannot overflow; false at a non-digit. */
static bool dec_digits(const uint8_t *p, size_t n, uint64_t *out)
{
    uint64_t m = 0;
    for (size_t i = 0, k = n % 8 ? n % 8 : 8; i < n; i += k, k = 8) {
        uint32_t d;
        if (!digits8(p + i, k, &d))
            return false;
        m = m * 100000000u + d;
    }
    *out = m;
    return true;
}

static bool py_int10(pyval v, pyint *out)
{
    pyval s = py_strip(v);
    const uint8_t *p = s.p, *e = s.p + s.len;
    *out = (pyint){ .neg = false };
    if (p < e && (*p == '+' || *p == '-'))
        out->neg = *p++ == '-';
    if (p >= e)
        return false;
    out->digits = p;
    out->end = e;
    uint64_t m;
    if (e - p <= 19 && dec_digits(p, (size_t)(e - p), &m)) {  /* the usual literal */
        out->mag = m;
        out->neg = out->neg && m;
        return true;
    }
    bool prev_digit = false;
    for (; p < e; p++) {
        if (*p == '_') {
            if (!prev_digit || p + 1 >= e)
                return false;
            prev_digit = false;
            continue;
        }
        if (*p < '0' || *p > '9')
            return false;
        prev_digit = true;
        unsigned d = (unsigned)(*p - '0');
        if (out->mag > UINT64_MAX / 10 || (out->mag == UINT64_MAX / 10 && d > UINT64_MAX % 10))
            out->big = true;
        else
            out->mag = out->mag * 10 + d;
    }
    if (out->mag == 0 && !out->big)
        out->neg = false;
    return true;
}

/* str(int) of a parsed value for messages: sign and at most 63 significant digits */
static void pyint_text(const pyint *v, char out[PYINT_TEXT])
{
    size_t t = 0, nd = 0;
    if (v->neg)
        out[t++] = '-';
    if (!v->digits) {
        snprintf(out + t, PYINT_TEXT - t, "%llu", (unsigned long long)v->mag);
        return;
    }
    for (const uint8_t *p = v->digits; p < v->end && nd < 63; p++)
        if (*p != '_' && (nd || *p != '0'))
            out[t + nd++] = (char)*p;
    if (!nd)
        out[t + nd++] = '0';
    out[t + nd] = '\0';
}

/* struct.pack_into range rules for the 8 integer formats (see nvs-generator.md §3.2). */
static const char *pack_range_error(uint8_t type, const pyint *v)
{
    bool in_i64 = !v->big && (v->neg ? v->mag <= (uint64_t)INT64_MAX + 1 : v->mag <= (uint64_t)INT64_MAX);
    bool in_u64 = !v->big && !v->neg;
    int64_t s = in_i64 ? (v->neg ? (int64_t)(0 - v->mag) : (int64_t)v->mag) : 0;
    switch (type) {
    case ESF_NVS_TYPE_U8:
        return !in_i64 ? "argument out of range" : (s < 0 || s > 255) ? "ubyte format requires 0 <= number <= 255" : NULL;
    case ESF_NVS_TYPE_I8:
        return !in_i64 ? "argument out of range" : (s < -128 || s > 127) ? "byte format requires -128 <= number <= 127" : NULL;
    case ESF_NVS_TYPE_U16:
        return !in_i64 ? "argument out of range" : (s < 0 || s > 65535) ? "ushort format requires 0 <= number <= 65535" : NULL;
    case ESF_NVS_TYPE_I16:
        return !in_i64 ? "argument out of range" : (s < -32768 || s > 32767) ? "short format requires -32768 <= number <= 32767" : NULL;
    case ESF_NVS_TYPE_U32:
        return !in_u64 ? "argument out of range" : v->mag > UINT32_MAX ? "'I' format requires 0 <= number <= 4294967295" : NULL;
    case ESF_NVS_TYPE_I32:
        return !in_i64 ? "argument out of range" : (s < INT32_MIN || s > INT32_MAX) ? "'i' format requires -2147483648 <= number <= 2147483647" : NULL;
    case ESF_NVS_TYPE_U64:
        return !in_u64 ? "argument out of range" : NULL;
    default: /* I64 */
        return !in_i64 ? "argument out of range" : NULL;
    }
}

/* ---- pages (the reference's NVS.create_new_page and Page.write_entry_to_buf) ---- */

/* Mark the current page's first entry_num entries WRITTEN (10, four to a byte: 0xAA) and the
 * rest EMPTY (11). Entries are written in order, so the bitmap is filled when the page is left or
 * the image finished, not entry by entry. */
static void page_seal_bitmap(esf_nvs_gen *g)
{
    uint8_t *bitmap = g->cur + ESF_NVS_BITMAP_OFFSET;
    unsigned n = g->entry_num;
    memset(bitmap, 0xAA, n / 4);
    if (n % 4)
        bitmap[n / 4] = (uint8_t)(0xFF ^ (0x55 & ((1u << 2 * (n % 4)) - 1)));
}

static int page_new(esf_nvs_gen *g, esf_error *err)
{
    if (g->npages)
        page_seal_bitmap(g);
    if (g->npages && esf_le32(g->cur) == ESF_NVS_PAGE_ACTIVE)
        esf_nvs_page_set_state(g->cur, ESF_NVS_PAGE_FULL);
    if (g->remaining == 0 || g->npages >= g->max_pages)
        return fail(g, err, ESF_ERR_NO_SPACE, C_VALUE,
                    "Error: Size parameter is less than the size of data in csv. Please increase "
                    "the size.");
    g->remaining -= ESF_NVS_PAGE_SIZE;
    g->cur = g->buf + (size_t)g->npages * ESF_NVS_PAGE_SIZE;
    memset(g->cur, 0xFF, ESF_NVS_PAGE_SIZE);  /* pages are initialised when first used */
    esf_nvs_page_header_init(g->cur, ESF_NVS_PAGE_ACTIVE, g->npages, g->version);
    g->npages++;
    if ((size_t)g->npages * ESF_NVS_PAGE_SIZE > g->hi)
        g->hi = (size_t)g->npages * ESF_NVS_PAGE_SIZE;
    g->entry_num = 0;
    return ESF_OK;
}

/* the next free entry of the current page */
static uint8_t *next_entry(const esf_nvs_gen *g)
{
    return g->cur + ESF_NVS_FIRST_ENTRY_OFFSET + (size_t)g->entry_num * ESF_NVS_ENTRY_SIZE;
}

__attribute__((cold, noinline)) static int page_overrun(esf_nvs_gen *g, size_t over, esf_error *err)
{
    return fail(g, err, ESF_ERR_UNSUPPORTED, C_VALUE,
                "the reference would write %zu bytes past the end of page %u (a corrupt, oversized "
                "image: its character-counted key or text is longer in bytes); use ASCII keys and "
                "hex2bin/base64 for binary data", over, g->npages - 1);
}

/* Write `len` bytes at the next free entry, `count` entries used (page_seal_bitmap marks them
 * WRITTEN). Plain images get
 * exactly the bytes given (the reference writes a too-long key or character-counted text past
 * the entry); encrypted ones get `count` whole entries, 0xFF-padded (what encrypt_data does). */
static int page_put(esf_nvs_gen *g, const uint8_t *data, size_t len, unsigned count, esf_error *err)
{
    uint8_t *dst = next_entry(g);
    size_t room = (size_t)(g->cur + ESF_NVS_PAGE_SIZE - dst);
    if (g->encrypt) {
        size_t n = (size_t)count * ESF_NVS_ENTRY_SIZE, c = len < n ? len : n;
        if (c)
            memcpy(dst, data, c);
        memset(dst + c, 0xFF, n - c);
    } else {
        if (len > room)
            return page_overrun(g, len - room, err);
        if (len)
            memcpy(dst, data, len);
    }
    g->entry_num += count;
    return ESF_OK;
}

/* An item header as the reference builds it: 0xFF * 32, ns, key placed by CHARACTER count in
 * compat mode (a multi-byte key makes the entry longer than 32 bytes and shifts the data field). */
typedef struct ent {
    uint8_t b[32 + 48];
    size_t len;
} ent;

static int ent_init(esf_nvs_gen *g, ent *e, unsigned ns, const char *key, size_t klen, esf_error *err)
{
    if (ns > 255)
        return fail(g, err, ESF_ERR_RANGE, C_KEY,
                    "namespace index %u does not fit a byte (more than 255 namespaces; ValueError "
                    "in the reference)", ns);
    memset(e->b, 0xFF, 32);
    e->b[0] = (uint8_t)ns;
    const uint8_t *k = (const uint8_t *)key;
    uint64_t k0, k1;  /* the key field: the key zero-padded, or its first 16 bytes */
    if (klen <= 8) {
        k0 = load_le(k, klen);
        k1 = 0;
    } else {
        k0 = esf_le64(k);
        k1 = load_le(k + 8, klen - 8);
    }
    esf_put_le64(e->b + 8, k0);
    esf_put_le64(e->b + 16, k1);
    if (klen > 16)
        memcpy(e->b + 24, key + 16, klen - 16);
    size_t kc = klen;  /* characters: ASCII keys (nearly all) show in the zero-padded key field */
    if (g->opts.compat && (klen > 16 || ((k0 | k1) & HIGH_BITS)))
        kc = nchars((const uint8_t *)key, klen);
    e->len = 32 + klen - kc;
    if (klen != kc) {  /* the zeros and the 0xFF data field follow the longer key */
        memset(e->b + 8 + klen, 0, 16 - kc);
        memset(e->b + 8 + klen + 16 - kc, 0xFF, 8);
    }
    return ESF_OK;
}

/* Seal the header (its CRC) and write it at the next free entry. */
static inline __attribute__((always_inline)) int ent_put(esf_nvs_gen *g, ent *e,
                                                          esf_error *err)
{
    esf_put_le32(e->b + 4, esf_nvs_item_crc(e->b));
    if (e->len != ESF_NVS_ENTRY_SIZE)  /* a compat-mode key longer in bytes than characters */
        return page_put(g, e->b, e->len, 1, err);
    memcpy(next_entry(g), e->b, ESF_NVS_ENTRY_SIZE);  /* the usual header: one entry */
    g->entry_num++;
    return ESF_OK;
}

/* ---- duplicate keys ---- */

/* Hash of (namespace, key) from an item header: its key field (the key zero-padded, or its first
 * 16 bytes), namespace byte and key length, and the key's bytes past the field; multiplications
 * carry every input bit into the high half, whose 32 bits are returned. */
static uint32_t key_hash(const uint8_t *hdr, const char *k, size_t n)
{
    uint64_t h = esf_le64(hdr + 8) * 0x9E3779B97F4A7C15ull ^
                 esf_le64(hdr + 16) * 0xC2B2AE3D27D4EB4Full ^ ((uint64_t)hdr[0] << 8 | n);
    for (size_t i = ESF_NVS_KEY_SIZE; i < n; i++)
        h = (h ^ (uint8_t)k[i]) * 0x100000001B3ull;
    return (uint32_t)((h * 0x94D049BB133111EBull) >> 32);
}

/* Grow the table (64 slots at first, then doubling) until `keys` fit it at most 3/4 full, and
 * re-place its slots; kept out of key_seen's path. */
__attribute__((cold, noinline)) static int key_tab_grow(esf_nvs_gen *g, size_t keys)
{
    size_t cap = g->keys_cap ? g->keys_cap * 2 : 64;
    while (keys * 4 > cap * 3)
        cap *= 2;
    size_t mask = cap - 1;
    key_slot *t = calloc(cap, sizeof *t);
    if (!t)
        return ESF_ERR_NO_MEM;
    for (size_t i = 0; i < g->keys_cap; i++) {
        const key_slot *s = &g->key_tab[i];
        if (!s->ent)
            continue;
        size_t j = (s->tag >> 6) & mask;
        while (t[j].ent)
            j = (j + 1) & mask;
        t[j] = *s;
    }
    free(g->key_tab);
    g->key_tab = t;
    g->keys_cap = cap;
    return ESF_OK;
}

/* Make room for `keys` at once (a hint: on failure the table grows as keys come). */
__attribute__((noinline)) static void key_tab_reserve(esf_nvs_gen *g, size_t keys)
{
    if (keys * 4 > g->keys_cap * 3)
        key_tab_grow(g, keys);
}

/* Record the item whose header `hdr` (ent_init) goes to the next free entry; returns true if its
 * namespace had its key already. Keys compare by length, namespace and key field: exactly, but
 * for the compat mode's keys of more than 16 bytes (non-ASCII), whose further bytes compare by
 * hash only (they decide a warning, not the output). */
static inline __attribute__((always_inline)) bool key_seen(esf_nvs_gen *g, const uint8_t *hdr,
                                                            const char *k, size_t n)
{
    if ((g->keys_n + 1) * 4 > g->keys_cap * 3 && key_tab_grow(g, g->keys_n + 1))
        return false;  /* no detection under memory pressure */
    uint32_t tag = (key_hash(hdr, k, n) & ~0x3Fu) | (uint32_t)n;
    size_t mask = g->keys_cap - 1, j = (tag >> 6) & mask;
    for (; g->key_tab[j].ent; j = (j + 1) & mask) {
        const key_slot *s = &g->key_tab[j];
        const uint8_t *e = g->buf + (size_t)(s->ent - 1) * ESF_NVS_ENTRY_SIZE;
        if (s->tag == tag && e[0] == hdr[0] && !memcmp(e + 8, hdr + 8, ESF_NVS_KEY_SIZE))
            return true;
    }
    size_t ent = (size_t)(next_entry(g) - g->buf) / ESF_NVS_ENTRY_SIZE;  /* < 2^27: buf < 4 GiB */
    g->key_tab[j] = (key_slot){ tag, (uint32_t)ent + 1 };
    g->keys_n++;
    return false;
}

__attribute__((cold, noinline)) static int dup_found(esf_nvs_gen *g, const ent *e, const char *key,
                                                    size_t klen, esf_error *err)
{
    if (!g->opts.compat)
        return fail(g, err, ESF_ERR_EXISTS, C_KEY,
                    "duplicate key `%.*s` in namespace index %u (the reference writes both items; "
                    "the device keeps only one)", (int)klen, key, e->b[0]);
    warn(g, C_KEY, "duplicate key `%.*s` in namespace index %u: written twice like the reference "
         "(the device keeps only one of them)", (int)klen, key, e->b[0]);
    return ESF_OK;
}

static inline __attribute__((always_inline)) int check_dup(esf_nvs_gen *g, const ent *e,
                                                            const char *key, size_t klen,
                                                            esf_error *err)
{
    return key_seen(g, e->b, key, klen) ? dup_found(g, e, key, klen, err) : ESF_OK;
}

/* ---- encodings ---- */

/* What an encoding cell selects. The reference decodes the value only for the exact lower-case
 * spelling (write_entry compares case-sensitively) but picks the item kind from the lower-cased
 * spelling (Page.write_* dispatch), so e.g. `HEX2BIN` stores the raw text as a blob. */
typedef enum { DEC_NONE, DEC_FILL, DEC_HEX, DEC_BASE64, DEC_STRING } enc_decode;
typedef enum { ENC_UNSUPPORTED, ENC_INT, ENC_STRING, ENC_BINARY, ENC_HEX2BIN, ENC_BASE64 } enc_kind;

typedef struct enc_class {
    uint8_t kind;    /* enc_kind of the lower-cased spelling */
    uint8_t decode;  /* enc_decode of the exact spelling */
    uint8_t type;    /* ENC_INT: ESF_NVS_TYPE_U8 .. ESF_NVS_TYPE_I64 */
} enc_class;

/* The names sit at the slot of their hash (enc_hash): a lookup compares one candidate. */
static const struct enc_name {
    char name[8];
    uint8_t len;
    enc_class cls;  /* when spelled exactly so */
} enc_names[16] = {
    [6] = { "u8", 2, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_U8 } },
    [8] = { "i8", 2, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_I8 } },
    [10] = { "u16", 3, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_U16 } },
    [12] = { "i16", 3, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_I16 } },
    [3] = { "u32", 3, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_U32 } },
    [4] = { "i32", 3, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_I32 } },
    [7] = { "u64", 3, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_U64 } },
    [9] = { "i64", 3, { ENC_INT, DEC_NONE, ESF_NVS_TYPE_I64 } },
    [14] = { "string", 6, { ENC_STRING, DEC_STRING, 0 } },
    [2] = { "binary", 6, { ENC_BINARY, DEC_NONE, 0 } },
    [1] = { "base64", 6, { ENC_BASE64, DEC_BASE64, 0 } },
    [11] = { "hex2bin", 7, { ENC_HEX2BIN, DEC_HEX, 0 } },
};

/* A name (as a zero-padded little-endian word) -> its slot: the top 4 bits of a product whose
 * odd factor was searched for to give the 12 names distinct slots. */
static unsigned enc_hash(uint64_t word) { return (unsigned)((word * 0x13825DE4BA9ABBF1ull) >> 60); }

static bool starts(const char *s, size_t n, const char *pre)
{
    size_t m = strlen(pre);
    return n >= m && !memcmp(s, pre, m);
}

static enc_class enc_classify(const char *enc, size_t len)
{
    if (len < 2 || len > 7) {  /* the names have 2..7 characters */
        if (starts(enc, len, "blob_fill") || starts(enc, len, "blob_sz_fill"))
            return (enc_class){ ENC_HEX2BIN, DEC_FILL, 0 };  /* decoded to bytes, then hex2bin */
        return (enc_class){ ENC_UNSUPPORTED, DEC_NONE, 0 };
    }
    uint64_t raw = load_le((const uint8_t *)enc, len);  /* the spelling as a word */
    const struct enc_name *e = &enc_names[enc_hash(raw)];
    if (e->len == len && raw == esf_le64((const uint8_t *)e->name))
        return e->cls;  /* a name spelled exactly (the usual case) */
    if (raw & HIGH_BITS)  /* non-ASCII: no name */
        return (enc_class){ ENC_UNSUPPORTED, DEC_NONE, 0 };
    /* encoding.lower(): 0x20 added to each 'A'..'Z' byte; adding 0x80 - 'A' to a byte below 0x80
     * sets its high bit exactly when it is >= 'A' (no carry into the next byte) */
    uint64_t upper = (raw + (0x80 - 'A') * ONES) & ~(raw + (0x80 - 'Z' - 1) * ONES) & HIGH_BITS;
    uint64_t low = raw | upper >> 2;
    e = &enc_names[enc_hash(low)];
    if (e->len != len || low != esf_le64((const uint8_t *)e->name))
        return (enc_class){ ENC_UNSUPPORTED, DEC_NONE, 0 };
    enc_class c = e->cls;
    c.decode = DEC_NONE;  /* not the exact spelling (that returned above) */
    return c;
}

static bool enc_is_var(enc_kind k) { return k != ENC_UNSUPPORTED && k != ENC_INT; }

/* the encoding name of an integer type ("u8" .. "i64") */
static const char *int_enc_name(uint8_t type)
{
    for (size_t i = 0; i < sizeof enc_names / sizeof enc_names[0]; i++)
        if (enc_names[i].cls.kind == ENC_INT && enc_names[i].cls.type == type)
            return enc_names[i].name;
    return "?";
}

/* ---- items (Page.write_primitive_data, write_varlen_data, write_varlen_binary_data) ---- */

static int page_full_retry(esf_nvs_gen *g, int attempt, const char *what, esf_error *err)
{
    if (attempt)
        return fail(g, err, ESF_ERR_NO_SPACE, C_VALUE,
                    "%s does not fit in an empty page (PageFullError in the reference)", what);
    return page_new(g, err);
}

static int write_prim(esf_nvs_gen *g, const char *key, size_t klen, const pyint *v,
                      uint8_t type, unsigned ns, esf_error *err)
{
    int rc;
    if (g->entry_num >= ESF_NVS_ENTRIES_PER_PAGE && (rc = page_new(g, err)))
        return rc;
    const char *range = pack_range_error(type, v);
    if (range) {
        char text[PYINT_TEXT];
        pyint_text(v, text);
        return fail(g, err, ESF_ERR_RANGE, C_VALUE, "Packing error for '%s' key '%.*s' = '%s': %s",
                    int_enc_name(type), (int)klen, key, text, range);
    }
    ent e;
    if ((rc = ent_init(g, &e, ns, key, klen, err)))
        return rc;
    e.b[2] = 1;
    e.b[3] = ESF_NVS_CHUNK_ANY;
    e.b[1] = type;
    /* the value's bytes only: a long compat-mode key runs on past byte 24 */
    unsigned size = esf_nvs_type_size(type);
    uint64_t mask = size < 8 ? (1ull << (8 * size)) - 1 : ~0ull;
    uint64_t val = v->neg ? 0 - v->mag : v->mag;
    esf_put_le64(e.b + 24, (esf_le64(e.b + 24) & ~mask) | (val & mask));
    if ((rc = check_dup(g, &e, key, klen, err)))
        return rc;
    return ent_put(g, &e, err);
}

/* The bytes of characters [c0, c0 + n) of `v` (characters only in compat mode for str values). */
static void slice(pyval v, bool chars, size_t c0, size_t n, const uint8_t **p, size_t *len)
{
    if (!chars) {
        *p = v.p + c0;
        *len = n;
        return;
    }
    size_t b0 = char_off(v.p, v.len, c0);
    size_t b1 = b0 + char_off(v.p + b0, v.len - b0, n);
    *p = v.p + b0;
    *len = b1 - b0;
}

static int write_blob_v2(esf_nvs_gen *g, ent *e, const char *key, size_t klen, pyval v, bool chars,
                         size_t datalen, esf_error *err)
{
    unsigned chunk_count = 0;
    size_t offset = 0, remaining = datalen;
    int rc;
    if (!g->opts.compat && datalen > ESF_NVS_BLOB_MAX)
        return fail(g, err, ESF_ERR_TOO_LONG, C_VALUE,
                    "blob `%.*s` of %zu bytes: the device accepts at most %u bytes", (int)klen, key,
                    datalen, ESF_NVS_BLOB_MAX);
    for (;;) {
        size_t tailroom = (ESF_NVS_ENTRIES_PER_PAGE - g->entry_num - 1) * ESF_NVS_ENTRY_SIZE;
        size_t chunk = tailroom < remaining ? tailroom : remaining;
        remaining -= chunk;
        unsigned count = (unsigned)((chunk + 31) / 32);
        if (chunk_count > 255)
            return fail(g, err, ESF_ERR_TOO_LONG, C_VALUE,
                        "blob `%.*s` needs more than 256 chunks (ValueError in the reference)",
                        (int)klen, key);
        e->b[1] = ESF_NVS_TYPE_BLOB_DATA;
        e->b[2] = (uint8_t)(count + 1);
        e->b[3] = (uint8_t)chunk_count;
        const uint8_t *cp;
        size_t clen;
        slice(v, chars, offset, chunk, &cp, &clen);
        esf_put_le16(e->b + 24, (uint16_t)chunk);
        esf_put_le32(e->b + 28, esf_nvs_crc(cp, clen));
        if ((rc = ent_put(g, e, err)) || (rc = page_put(g, cp, clen, count, err)))
            return rc;
        chunk_count++;
        if ((remaining || tailroom - chunk < ESF_NVS_ENTRY_SIZE) && (rc = page_new(g, err)))
            return rc;
        offset += chunk;
        if (!remaining)
            break;
    }
    if (chunk_count > 255)
        return fail(g, err, ESF_ERR_TOO_LONG, C_VALUE,
                    "blob `%.*s` needs %u chunks; the index holds at most 255 (ValueError in the "
                    "reference)", (int)klen, key, chunk_count);
    if (chunk_count > 127) {
        if (!g->opts.compat)
            return fail(g, err, ESF_ERR_TOO_LONG, C_VALUE,
                        "blob `%.*s` needs %u chunks; the device accepts at most 127", (int)klen,
                        key, chunk_count);
        warn(g, C_VALUE, "blob `%.*s` needs %u chunks; the device accepts at most 127 and will "
             "drop it", (int)klen, key, chunk_count);
    } else if (datalen > ESF_NVS_BLOB_MAX) {
        warn(g, C_VALUE, "blob `%.*s` of %zu bytes: the device accepts at most %u bytes and will "
             "drop it", (int)klen, key, datalen, ESF_NVS_BLOB_MAX);
    }
    memset(e->b + 24, 0xFF, 8);
    e->b[1] = ESF_NVS_TYPE_BLOB_IDX;
    e->b[2] = 1;
    e->b[3] = ESF_NVS_CHUNK_ANY;
    esf_put_le32(e->b + 24, (uint32_t)datalen);
    e->b[28] = (uint8_t)chunk_count;
    e->b[29] = 0;
    return ent_put(g, e, err);
}

static int write_var(esf_nvs_gen *g, const char *key, size_t klen, pyval v, bool is_str,
                     unsigned ns, esf_error *err)
{
    bool v2 = g->version == ESF_NVS_VERSION_2;
    if (v.kind == PV_NONE)
        return fail(g, err, ESF_ERR_PARSE, C_VALUE, "missing value cell (TypeError in the reference)");
    if (is_str && v.kind == PV_BYTES)
        return fail(g, err, ESF_ERR_UNSUPPORTED, C_ENC,
                    "a file value with upper-case `%.*s` encoding cannot be stored (AttributeError "
                    "in the reference); use `string`",
                    g->row && g->row->encoding ? (int)g->row->encoding_len : 6,
                    g->row && g->row->encoding ? g->row->encoding : "string");
    size_t datalen = is_str ? v.len : py_len(g, v);
    bool chars = !is_str && v.kind == PV_STR && datalen != v.len;
    if (chars)
        warn(g, C_VALUE, "non-ASCII text stored as binary: the reference counts %zu characters "
             "but writes %zu bytes (size and CRC fields are wrong); written the same way",
             datalen, v.len);
    size_t max = v2 ? 4000 : 1984;
    if ((!v2 || is_str) && datalen > max)
        return fail(g, err, ESF_ERR_INVALID, C_VALUE,
                    " Input File: Size (%zu) exceeds max allowed length `%zu` bytes for key `%.*s`.",
                    datalen, max, (int)klen, key);
    unsigned count = (unsigned)((datalen + 31) / 32), total = count + 1;
    bool blob_v2 = v2 && !is_str;
    int rc;
    for (int attempt = 0;; attempt++) {
        bool full = g->entry_num >= ESF_NVS_ENTRIES_PER_PAGE ||
                    (g->entry_num + total >= ESF_NVS_ENTRIES_PER_PAGE && !blob_v2);
        if (!full)
            break;
        if (attempt && is_str)
            return fail(g, err, ESF_ERR_NO_SPACE, C_VALUE,
                        "string `%.*s` of %zu bytes (with its NUL) never fits a page: at most %u "
                        "bytes fit (PageFullError in the reference)", (int)klen, key, datalen,
                        (ESF_NVS_ENTRIES_PER_PAGE - 2) * ESF_NVS_ENTRY_SIZE);
        if ((rc = page_full_retry(g, attempt, "item", err)))
            return rc;
    }
    ent e;
    if ((rc = ent_init(g, &e, ns, key, klen, err)))
        return rc;
    if (!v2 || is_str)
        e.b[2] = (uint8_t)total;
    e.b[1] = is_str ? ESF_NVS_TYPE_STR : ESF_NVS_TYPE_BLOB;
    if ((rc = check_dup(g, &e, key, klen, err)))
        return rc;
    if (blob_v2)
        return write_blob_v2(g, &e, key, klen, v, chars, datalen, err);
    esf_put_le16(e.b + 24, (uint16_t)datalen);
    esf_put_le32(e.b + 28, esf_nvs_crc(v.p, v.len));
    if ((rc = ent_put(g, &e, err)))
        return rc;
    return page_put(g, v.p, v.len, count, err);
}

/* ---- NVS.write_entry: encodings ---- */

/* blob_fill(N;0xPP) / blob_sz_fill(N;0xPP) into g->scratch. */
static int blob_fill(esf_nvs_gen *g, const char *key, size_t klen, pyval v, const char *enc,
                     size_t enclen, pyval *out, esf_error *err)
{
    *out = v;
    bool sz = starts(enc, enclen, "blob_sz_fill");
    size_t i = sz ? 12 : 9;
    uint64_t n = 0;
    size_t nd = 0;
    bool big = false;
    if (i < enclen && enc[i] == '(') {
        for (i++; i < enclen && enc[i] >= '0' && enc[i] <= '9'; i++, nd++) {
            if (n > (UINT64_MAX - 9) / 10) big = true;
            else n = n * 10 + (uint64_t)(enc[i] - '0');
        }
    }
    uint8_t pad;
    if (!nd || i + 6 > enclen || enc[i] != ';' || enc[i + 1] != '0' || enc[i + 2] != 'x' ||
        !hex_decode((const uint8_t *)enc + i + 3, 2, &pad) || enc[i + 5] != ')')
        return fail(g, err, ESF_ERR_INVALID, C_ENC, "%.*s: Invalid encoding format.", (int)enclen, enc);
    if (v.kind == PV_BYTES && v.len)
        return fail(g, err, ESF_ERR_UNSUPPORTED, C_TYPE,
                    "fill encodings take text, not a file (AttributeError in the reference)");
    size_t vl = v.kind == PV_STR ? v.len : 0;
    if (vl && !big && vl > n)
        return fail(g, err, ESF_ERR_INVALID, C_VALUE, "%.*s: Value length exceeds specified length.",
                    (int)klen, key);
    size_t hdr = sz ? 4 : 0;
    /* a fill longer than the partition can never be written: report what the reference ends with
     * without allocating it */
    if (big || n > g->opts.size + 8) {
        if (g->version == ESF_NVS_VERSION_1)
            return fail(g, err, ESF_ERR_INVALID, C_VALUE,
                        " Input File: Size (%s%llu) exceeds max allowed length `1984` bytes for key "
                        "`%.*s`.", big ? ">" : "", (unsigned long long)(n + hdr), (int)klen, key);
        return fail(g, err, ESF_ERR_NO_SPACE, C_VALUE,
                    "Error: Size parameter is less than the size of data in csv. Please increase "
                    "the size.");
    }
    int rc = scratch_reserve(g, (size_t)n + hdr, err);
    if (rc)
        return rc;
    if (sz)
        esf_put_le32(g->scratch, (uint32_t)vl);
    if (vl)
        memcpy(g->scratch + hdr, v.p, vl);
    memset(g->scratch + hdr + vl, pad, (size_t)n - vl);
    *out = (pyval){ PV_BYTES, g->scratch, (size_t)n + hdr };
    return ESF_OK;
}

/* hex2bin: binascii.a2b_hex(value.strip()) into g->scratch. Errors in the reference's order:
 * odd length (in characters), non-ASCII text, non-hex digit. */
static int hex2bin(esf_nvs_gen *g, const char *key, size_t klen, pyval *v, esf_error *err)
{
    if (v->kind == PV_NONE)
        return fail(g, err, ESF_ERR_PARSE, C_VALUE, "missing value cell (AttributeError in the reference)");
    pyval s = py_strip(*v);
    int rc;
    if (s.len % 2 == 0) {  /* the usual case: one pass over valid hex (so ASCII, even length) */
        if ((rc = scratch_reserve(g, s.len / 2 + 1, err)))
            return rc;
        if (hex_decode(s.p, s.len, g->scratch)) {
            *v = (pyval){ PV_BYTES, g->scratch, s.len / 2 };
            return ESF_OK;
        }
    }
    if (py_len(g, s) % 2)
        return fail(g, err, ESF_ERR_INVALID, C_VALUE,
                    "%.*s: Invalid data length. Should be multiple of 2.", (int)klen, key);
    if (!is_ascii(s.p, s.len))
        return fail(g, err, ESF_ERR_PARSE, C_VALUE,
                    "hex2bin value: string argument should contain only ASCII characters "
                    "(ValueError in the reference)");
    return fail(g, err, ESF_ERR_PARSE, C_VALUE,
                "hex2bin value: Non-hexadecimal digit found (binascii.Error in the reference)");
}

/* base64: binascii.a2b_base64(value) into g->scratch */
static int base64(esf_nvs_gen *g, pyval *v, esf_error *err)
{
    if (v->kind == PV_NONE)
        return fail(g, err, ESF_ERR_PARSE, C_VALUE, "missing value cell (TypeError in the reference)");
    if (v->kind == PV_STR && !is_ascii(v->p, v->len))
        return fail(g, err, ESF_ERR_PARSE, C_VALUE,
                    "base64 value: string argument should contain only ASCII characters "
                    "(ValueError in the reference)");
    size_t n = 0;
    int rc = a2b_base64(g, v->p, v->len, &n, err);
    if (rc)
        return rc;
    *v = (pyval){ PV_BYTES, g->scratch, n };
    return ESF_OK;
}

/* string: the text (a file's bytes must be UTF-8) and its NUL, in g->scratch */
static int string_z(esf_nvs_gen *g, pyval *v, esf_error *err)
{
    if (v->kind == PV_NONE)
        return fail(g, err, ESF_ERR_PARSE, C_VALUE, "missing value cell (TypeError in the reference)");
    if (v->kind == PV_BYTES) {
        size_t bad = utf8_check(v->p, v->len);
        if (bad != v->len)
            return fail(g, err, ESF_ERR_PARSE, C_VALUE,
                        "file is not valid UTF-8 at byte %zu (UnicodeDecodeError in the "
                        "reference); use `binary` for binary files", bad);
    }
    int rc = scratch_reserve(g, v->len + 1, err);
    if (rc)
        return rc;
    if (v->len)
        memmove(g->scratch, v->p, v->len);
    g->scratch[v->len] = 0;
    *v = (pyval){ PV_STR, g->scratch, v->len + 1 };
    return ESF_OK;
}

/* NVS.write_entry(key, value, encoding) into the latest (compat) or selected namespace. */
static int write_value(esf_nvs_gen *g, const char *key, size_t klen, pyval v, const char *enc,
                       size_t enclen, esf_error *err)
{
    int rc = ESF_OK;
    if (!enc)
        return fail(g, err, ESF_ERR_PARSE, C_ENC, "missing encoding cell (AttributeError in the reference)");
    enc_class c = enc_classify(enc, enclen);
    switch (c.decode) {
    case DEC_FILL: rc = blob_fill(g, key, klen, v, enc, enclen, &v, err); break;
    case DEC_HEX: rc = hex2bin(g, key, klen, &v, err); break;
    case DEC_BASE64: rc = base64(g, &v, err); break;
    case DEC_STRING: rc = string_z(g, &v, err); break;
    case DEC_NONE: break;
    }
    if (rc)
        return rc;
    bool var = enc_is_var(c.kind);
    if (var && c.decode == DEC_NONE && c.kind != ENC_BINARY) {
        bool str = c.kind == ENC_STRING;
        if (!g->opts.compat)
            return fail(g, err, ESF_ERR_UNSUPPORTED, C_ENC,
                        "encoding `%.*s` must be lower case: the reference then skips decoding and "
                        "stores the raw text%s", (int)enclen, enc, str ? " without its NUL" : " as a blob");
        warn(g, C_ENC, "encoding `%.*s` is not lower case: like the reference, the text is stored "
             "raw%s", (int)enclen, enc, str ? " without a NUL" : " as a blob (no decoding)");
    }
    unsigned ns = g->opts.compat ? g->ns_count : g->ns_sel;
    if (var)
        return write_var(g, key, klen, v, c.kind == ENC_STRING, ns, err);
    if (c.kind == ENC_INT) {
        if (v.kind == PV_NONE)
            return fail(g, err, ESF_ERR_PARSE, C_VALUE, "missing value cell (TypeError in the reference)");
        pyint n;
        if (!py_int10(v, &n))
            return fail(g, err, ESF_ERR_PARSE, C_VALUE,
                        "invalid literal for int() with base 10: '%.*s'", (int)(v.len > 200 ? 200 : v.len),
                        (const char *)v.p);
        return write_prim(g, key, klen, &n, c.type, ns, err);
    }
    /* message shows the lower-cased encoding like the reference */
    char *m = malloc(enclen + 1);
    if (!m)
        return fail(g, err, ESF_ERR_NO_MEM, C_ENC, "out of memory");
    for (size_t i = 0; i < enclen; i++)
        m[i] = (char)(enc[i] >= 'A' && enc[i] <= 'Z' ? enc[i] + 32 : enc[i]);
    m[enclen] = 0;
    rc = fail(g, err, ESF_ERR_INVALID, C_ENC, "%s: Unsupported encoding", m);
    free(m);
    return rc;
}

/* ---- namespaces ---- */

static int write_namespace(esf_nvs_gen *g, const char *key, size_t klen, esf_error *err)
{
    for (size_t i = 0; i < g->ns_n; i++)
        if (g->ns[i].len == klen && !memcmp(g->ns[i].name, key, klen)) {
            g->ns_sel = g->ns[i].idx;
            return ESF_OK;
        }
    if (g->ns_n == g->ns_cap) {
        size_t cap = g->ns_cap ? g->ns_cap * 2 : 16;
        ns_entry *n = realloc(g->ns, cap * sizeof *n);
        if (!n)
            return fail(g, err, ESF_ERR_NO_MEM, C_KEY, "out of memory");
        g->ns = n;
        g->ns_cap = cap;
    }
    g->ns_count++;
    g->ns_sel = g->ns_count;
    if (g->ns_count > ESF_NVS_NS_MAX) {  /* 256 fails the u8 range check below, like the reference */
        if (!g->opts.compat)
            return fail(g, err, ESF_ERR_TOO_LONG, C_KEY,
                        "namespace `%.*s` would be the %uth: a partition holds at most 254",
                        (int)klen, key, g->ns_count);
        if (g->ns_count == 255)
            warn(g, C_KEY, "namespace index 255 is reserved on the device (at most 254 namespaces)");
    }
    pyint v = { .mag = g->ns_count };
    int rc = write_prim(g, key, klen, &v, ESF_NVS_TYPE_U8, 0, err);
    if (rc)
        return rc;
    ns_entry *n = &g->ns[g->ns_n++];
    memcpy(n->name, key, klen);
    n->len = (uint8_t)klen;
    n->idx = (uint16_t)g->ns_count;
    return ESF_OK;
}

/* ---- rows (module-level write_entry) ---- */

static pyval cell(const char *p, size_t n)
{
    return p ? (pyval){ PV_STR, (const uint8_t *)p, n } : (pyval){ PV_NONE, NULL, 0 };
}

static bool eq(const char *p, size_t n, const char *lit)
{
    return p && n == strlen(lit) && !memcmp(p, lit, n);
}

/* the reference's Wi-Fi keys (nvs-generator.md §5.8): sta.* add hidden rows, ap.* ap.pmk_info */
typedef enum { WIFI_NONE, WIFI_STA, WIFI_AP } wifi_role;

static inline wifi_role wifi_key(const char *k, size_t n)
{
    if (n < 7 || (k[2] != '.' && k[3] != '.'))  /* none is "ap.*" or "sta.*" of 7+ bytes */
        return WIFI_NONE;
    if (eq(k, n, "sta.ssid") || eq(k, n, "sta.pswd"))
        return WIFI_STA;
    if (eq(k, n, "ap.ssid") || eq(k, n, "ap.passwd") || eq(k, n, "ap.authmode"))
        return WIFI_AP;
    return WIFI_NONE;
}

static int set_str(char **dst, const char *p, size_t n)
{
    free(*dst);
    *dst = NULL;
    if (!p)
        return ESF_OK;
    if (!(*dst = malloc(n + 1)))
        return ESF_ERR_NO_MEM;
    memcpy(*dst, p, n);
    (*dst)[n] = 0;
    return ESF_OK;
}

static int wifi_ap(esf_nvs_gen *g, const esf_nvs_row *r, esf_error *err)
{
    const char *k = r->key;
    size_t kl = r->key_len;
    int rc = ESF_OK;
    if (eq(k, kl, "ap.ssid"))
        rc = set_str(&g->ap_ssid, r->value, r->value_len);
    if (eq(k, kl, "ap.passwd"))
        rc = set_str(&g->ap_passwd, r->value, r->value_len);
    if (eq(k, kl, "ap.authmode") && !eq(r->value, r->value_len, "0"))
        rc = set_str(&g->ap_authmode, r->value, r->value_len);
    if (rc)
        return fail(g, err, rc, C_VALUE, "out of memory");
    if (g->ap_ssid && *g->ap_ssid && g->ap_passwd && *g->ap_passwd && g->ap_authmode && *g->ap_authmode) {
        uint8_t pmk[32];
        char hex[265];
        if (esf_pbkdf2_sha1(g->ap_passwd, strlen(g->ap_passwd), g->ap_ssid, strlen(g->ap_ssid), 4096,
                            pmk, sizeof pmk) < 0)
            return fail(g, err, ESF_ERR_CRYPTO, C_VALUE, "PBKDF2 failed");
        memset(hex, '0', 200);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 200 + 2 * i, 3, "%02x", pmk[i]);
        rc = write_value(g, "ap.pmk_info", 11, (pyval){ PV_STR, (const uint8_t *)hex, 264 },
                         "hex2bin", 7, err);
    }
    return rc;
}

static int read_file_value(esf_nvs_gen *g, const esf_nvs_row *r, esf_error *err)
{
    if (!r->value)
        return fail(g, err, ESF_ERR_PARSE, C_VALUE, "missing file path (TypeError in the reference)");
    if (g->opts.no_files)
        return fail(g, err, ESF_ERR_UNSUPPORTED, C_TYPE, "type=file rows are disabled here");
    char *path = NULL;
    const char *base = g->opts.base_dir;
    size_t bl = base && r->value[0] != '/' ? strlen(base) : 0;
    if (memchr(r->value, 0, r->value_len))
        return fail(g, err, ESF_ERR_IO, C_VALUE, "file path contains a NUL byte");
    if (!(path = malloc(bl + 1 + r->value_len + 1)))
        return fail(g, err, ESF_ERR_NO_MEM, C_VALUE, "out of memory");
    if (bl)
        snprintf(path, bl + 2 + r->value_len, "%s/%.*s", base, (int)r->value_len, r->value);
    else
        snprintf(path, r->value_len + 1, "%.*s", (int)r->value_len, r->value);
    free(g->file);
    g->file = NULL;
    esf_error ferr;
    int rc = esf_file_read(path, &g->file, &g->file_len, &ferr);
    if (rc)
        rc = fail(g, err, rc, C_VALUE, "%s: %s (FileNotFoundError in the reference)", path, ferr.msg);
    free(path);
    if (rc)
        return rc;
    return ESF_OK;
}

/* Any row: namespaces, files, Wi-Fi keys, rows before or after a namespace change. */
__attribute__((noinline)) static int write_row_any(esf_nvs_gen *g, const esf_nvs_row *r,
                                                   esf_error *err)
{
    int rc;
    const char *k = r->key;
    size_t kl = r->key_len;
    bool is_ns = eq(r->type, r->type_len, "namespace");
    bool is_file = eq(r->type, r->type_len, "file");
    wifi_role wifi = wifi_key(k, kl);
    bool sta = wifi == WIFI_STA;
    if (!g->opts.no_wifi_extras && wifi == WIFI_AP && (rc = wifi_ap(g, r, err)))
        return rc;
    if (!is_ns && !g->ns_count) {
        if (!g->opts.compat)
            return fail(g, err, ESF_ERR_UNSUPPORTED, C_KEY,
                        "row before any namespace row: the reference writes `%.*s` into the "
                        "namespace table (index 0)", (int)kl, k);
        warn(g, C_KEY, "row before any namespace row: written into the namespace table (index 0) "
             "like the reference");
    } else if (!is_ns && g->ns_sel != g->ns_count) {
        if (g->opts.compat)
            warn(g, C_KEY, "`%.*s` goes to the most recently created namespace (index %u), not the "
                 "re-selected one (index %u), like the reference", (int)kl, k, g->ns_count, g->ns_sel);
    }
    if (sta && !g->opts.no_wifi_extras) {
        if (is_file && g->opts.compat)
            warn(g, C_TYPE, "`%.*s` is written as the text of its path, like the reference", (int)kl, k);
        if ((rc = write_value(g, k, kl, cell(r->value, r->value_len), r->encoding, r->encoding_len, err)))
            return rc;
        if (g->wifi_done)
            return ESF_OK;
        static const char *const hk[3] = { "sta.apinfo", "sta.pmk", "sta.apsw" };
        char ff[281], zz[65];
        memset(ff, 'f', 280);
        memset(zz, '0', 64);
        const pyval hv[3] = { { PV_STR, (const uint8_t *)ff, 280 }, { PV_STR, (const uint8_t *)zz, 64 },
                              { PV_STR, (const uint8_t *)zz, 4 } };
        for (int i = 0; i < 3; i++)
            if ((rc = write_value(g, hk[i], strlen(hk[i]), hv[i], "hex2bin", 7, err)))
                return rc;
        g->wifi_done = true;
        return ESF_OK;
    }
    pyval v = cell(r->value, r->value_len);
    if (is_file) {
        if (r->value_is_content) {
            v = (pyval){ PV_BYTES, (const uint8_t *)r->value, r->value_len };
        } else {
            if ((rc = read_file_value(g, r, err)))
                return rc;
            v = (pyval){ PV_BYTES, g->file, g->file_len };
        }
    }
    if (is_ns)
        return write_namespace(g, k, kl, err);
    return write_value(g, k, kl, v, r->encoding, r->encoding_len, err);
}

/* A data row of a key outside the Wi-Fi ones, into the namespace created last and selected. */
static bool row_is_plain(const esf_nvs_gen *g, const esf_nvs_row *r)
{
    return g->ns_count && g->ns_sel == g->ns_count && !eq(r->type, r->type_len, "namespace") &&
           !eq(r->type, r->type_len, "file") && wifi_key(r->key, r->key_len) == WIFI_NONE;
}

static int write_row(esf_nvs_gen *g, const esf_nvs_row *r, esf_error *err)
{
    if (!row_is_plain(g, r))
        return write_row_any(g, r, err);
    return write_value(g, r->key, r->key_len, cell(r->value, r->value_len), r->encoding,
                       r->encoding_len, err);
}

/* key checks of generate(): present, valid UTF-8, at most 15 characters (bytes natively) */
__attribute__((noinline)) static int check_key_any(esf_nvs_gen *g, const esf_nvs_row *r,
                                                   esf_error *err)
{
    if (!r->key)
        return fail(g, err, ESF_ERR_PARSE, C_KEY, "missing key cell (TypeError in the reference)");
    size_t n = r->key_len;  /* characters */
    if (!is_ascii((const uint8_t *)r->key, r->key_len)) {
        if (utf8_check((const uint8_t *)r->key, r->key_len) != r->key_len)
            return fail(g, err, ESF_ERR_PARSE, C_KEY, "key is not valid UTF-8");
        n = nchars((const uint8_t *)r->key, r->key_len);
    }
    if (n > ESF_NVS_KEY_MAX)
        return fail(g, err, ESF_ERR_INVALID, C_KEY, "Length of key `%.*s` should be <= 15 characters.",
                    (int)r->key_len, r->key);
    if (n != r->key_len) {
        if (!g->opts.compat) {
            if (r->key_len > ESF_NVS_KEY_MAX)
                return fail(g, err, ESF_ERR_TOO_LONG, C_KEY,
                            "key `%.*s` is %zu bytes in UTF-8; a key holds at most 15 bytes",
                            (int)r->key_len, r->key, r->key_len);
        } else {
            warn(g, C_KEY, "non-ASCII key `%.*s`: the reference places it by character count, "
                 "which shifts the entry's data field; written the same way", (int)r->key_len, r->key);
        }
    }
    return ESF_OK;
}

static int check_key(esf_nvs_gen *g, const esf_nvs_row *r, esf_error *err)
{
    if (r->key && r->key_len <= ESF_NVS_KEY_MAX && is_ascii((const uint8_t *)r->key, r->key_len))
        return ESF_OK;  /* the usual key: at most 15 ASCII characters */
    return check_key_any(g, r, err);
}

int esf_nvs_gen_add_row(esf_nvs_gen *g, const esf_nvs_row *row, esf_error *err)
{
    if (!g || !row)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_gen_add_row: NULL");
    if (g->failed)
        return esf_error_set(err, ESF_ERR_STATE, "generator failed earlier; reset it first");
    g->row = row;
    int rc = check_key(g, row, err);
    if (!rc)
        rc = write_row(g, row, err);
    g->row = NULL;
    return rc;
}

/* ---- CSV ---- */

typedef struct colmap {
    int idx[4];  /* last header position of key, type, encoding, value; -1 absent */
    int missing; /* first column the header lacks; -1 none */
} colmap;

static const char *const col_names[4] = { "key", "type", "encoding", "value" };

static void colmap_init(colmap *cm, const esf_csv_row *header)
{
    cm->missing = -1;
    for (int c = 0; c < 4; c++) {
        cm->idx[c] = -1;
        for (size_t i = 0; i < header->nfields; i++)
            if (header->fields[i].len == strlen(col_names[c]) &&
                !memcmp(header->fields[i].text, col_names[c], header->fields[i].len))
                cm->idx[c] = (int)i;
        if (cm->idx[c] < 0 && cm->missing < 0)
            cm->missing = c;
    }
}

/* DictReader: dict(zip(header, row)), then names past the row's end -> None; so a column reads
 * the cell at its LAST header position, or None (text NULL) if that is past the row's end. */
static const esf_csv_field *row_cell(const esf_csv_row *row, const colmap *cm, enum col c)
{
    static const esf_csv_field none = { NULL, 0, 0, 0, false };
    int i = cm->idx[c];
    return i >= 0 && (size_t)i < row->nfields ? &row->fields[i] : &none;
}

/* the cells of `row` into `r`, whose other fields (source, value_is_content) are set already */
static void row_from_csv(esf_nvs_row *r, const esf_csv_row *row, const colmap *cm)
{
    const esf_csv_field *k = row_cell(row, cm, C_KEY), *t = row_cell(row, cm, C_TYPE),
                        *e = row_cell(row, cm, C_ENC), *v = row_cell(row, cm, C_VALUE);
    r->key = k->text, r->key_len = k->len, r->col_key = k->column;
    r->type = t->text, r->type_len = t->len, r->col_type = t->column;
    r->encoding = e->text, r->encoding_len = e->len, r->col_encoding = e->column;
    r->value = v->text, r->value_len = v->len, r->col_value = v->column;
    r->line = k->text ? k->line : row->line;
}

int esf_nvs_gen_add_csv(esf_nvs_gen *g, const char *data, size_t len, const char *source,
                        esf_error *err)
{
    if (!g || (!data && len))
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_gen_add_csv: NULL");
    if (g->failed)
        return esf_error_set(err, ESF_ERR_STATE, "generator failed earlier; reset it first");
    size_t bad = utf8_check((const uint8_t *)data, len);
    if (bad != len) {
        uint32_t line = 1, col = 1;
        for (size_t i = 0; i < bad; i++) {
            if (data[i] == '\n' || (data[i] == '\r' && !(i + 1 < bad && data[i + 1] == '\n'))) {
                line++;
                col = 1;
            } else if (data[i] != '\r') {
                col++;
            }
        }
        g->failed = true;
        return esf_error_loc(err, ESF_ERR_PARSE, source, line, col,
                             "invalid UTF-8 byte 0x%02x (UnicodeDecodeError in the reference)",
                             (uint8_t)data[bad]);
    }
    /* NVS CSV rows run to a few dozen bytes: the duplicate table is made at once for a key per 64
     * bytes of text (at most a third of the text's size) rather than grown and re-placed as the
     * keys come; it still grows past that if need be (and on its own if this allocation fails) */
    key_tab_reserve(g, g->keys_n + len / 64);
    esf_csv *csv = NULL;
    esf_csv_opts o = { .skip_hash_lines = true };
    int rc = esf_csv_open_mem(&csv, data, len, source, &o, err);
    if (rc)
        return rc;
    esf_csv_row row;
    bool have_header = false;
    colmap cm = { .missing = -1 };
    size_t row_start = 0;
    esf_nvs_row r = { .source = source };
    while ((rc = esf_csv_next(csv, &row, err)) == 1) {
        /* no field is longer in bytes than the input lines its row was read from */
        size_t row_end = esf_csv_offset(csv), span = row_end - row_start;
        row_start = row_end;
        for (size_t i = 0; span > PY_FIELD_LIMIT && i < row.nfields; i++)
            if (row.fields[i].len > PY_FIELD_LIMIT &&
                nchars((const uint8_t *)row.fields[i].text, row.fields[i].len) > PY_FIELD_LIMIT) {
                if (g->opts.compat) {
                    rc = esf_error_loc(err, ESF_ERR_TOO_LONG, source, row.fields[i].line,
                                       row.fields[i].column,
                                       "field larger than field limit (%u) (_csv.Error in the "
                                       "reference)", PY_FIELD_LIMIT);
                    g->failed = true;
                    goto done;
                }
            }
        if (!have_header) {
            have_header = true;
            colmap_init(&cm, &row);
            continue;
        }
        if (row.nfields == 0)
            continue;
        row_from_csv(&r, &row, &cm);
        if (cm.missing == 0) {
            rc = esf_error_loc(err, ESF_ERR_PARSE, source, row.line, 0,
                               "the header row has no `key` column (KeyError in the reference)");
            g->failed = true;
            goto done;
        }
        g->row = &r;
        rc = check_key(g, &r, err);
        if (!rc && cm.missing > 0) {
            rc = esf_error_loc(err, ESF_ERR_PARSE, source, row.line, 0,
                               "the header row has no `%s` column (KeyError in the reference)",
                               col_names[cm.missing]);
            g->failed = true;
        }
        if (!rc)
            rc = write_row(g, &r, err);
        g->row = NULL;
        if (rc)
            goto done;
    }
done:
    esf_csv_free(csv);
    return rc < 0 ? rc : ESF_OK;
}

/* ---- object ---- */

int esf_nvs_gen_set_key(esf_nvs_gen *g, const uint8_t *key, esf_error *err)
{
    if (!g)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_gen_set_key: NULL");
    if (!key) {
        g->encrypt = false;
        return ESF_OK;
    }
    if (esf_nvs_key_halves_equal(key))
        return esf_error_set(err, ESF_ERR_CRYPTO,
                             "In XTS mode duplicated keys are not allowed (the two 32-byte key "
                             "halves are equal)");
    memcpy(g->key, key, sizeof g->key);
    g->encrypt = true;
    return ESF_OK;
}

int esf_nvs_gen_new(esf_nvs_gen **out, const esf_nvs_gen_opts *opts, esf_error *err)
{
    if (!out || !opts)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_gen_new: NULL");
    *out = NULL;
    if (opts->size % ESF_NVS_PAGE_SIZE)
        return esf_error_set(err, ESF_ERR_RANGE, "Size of partition must be multiple of 4096");
    if (opts->size < ESF_NVS_PAGE_SIZE)
        return esf_error_set(err, ESF_ERR_RANGE,
                             "Minimum partition size for read/write NVS is 0x3000 bytes and for "
                             "read-only NVS is 0x1000 bytes.");
    if (opts->size > UINT32_MAX)
        return esf_error_set(err, ESF_ERR_RANGE, "partition size 0x%llx is larger than 4 GiB",
                             (unsigned long long)opts->size);
    if (opts->version != 0 && opts->version != 1 && opts->version != 2)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS format version %d: want 1 or 2",
                             opts->version);
    esf_nvs_gen *g = calloc(1, sizeof *g);
    if (!g)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    g->opts = *opts;
    g->opts.key = NULL;
    g->version = opts->version == 1 ? ESF_NVS_VERSION_1 : ESF_NVS_VERSION_2;
    g->max_pages = (uint32_t)(opts->size / ESF_NVS_PAGE_SIZE);
    g->read_only = opts->size < 3 * ESF_NVS_PAGE_SIZE;
    g->usable = g->read_only ? opts->size : opts->size - ESF_NVS_PAGE_SIZE;
    int rc = esf_nvs_gen_set_key(g, opts->key, err);
    if (rc) {
        free(g);
        return rc;
    }
    if (!(g->buf = malloc((size_t)opts->size))) {
        free(g);
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory (%llu bytes)",
                             (unsigned long long)opts->size);
    }
    esf_nvs_gen_reset(g);
    *out = g;
    return ESF_OK;
}

void esf_nvs_gen_reset(esf_nvs_gen *g)
{
    if (!g)
        return;
    g->npages = 0;
    g->remaining = g->usable;
    g->failed = false;
    g->ns_n = 0;
    g->ns_count = g->ns_sel = 0;
    if (g->key_tab)
        memset(g->key_tab, 0, g->keys_cap * sizeof *g->key_tab);
    g->keys_n = 0;
    g->wifi_done = false;
    set_str(&g->ap_ssid, NULL, 0);
    set_str(&g->ap_passwd, NULL, 0);
    set_str(&g->ap_authmode, NULL, 0);
    g->row = NULL;
    page_new(g, NULL);  /* page 0 always exists */
}

bool esf_nvs_gen_read_only(const esf_nvs_gen *g)
{
    return g && g->read_only;
}

int esf_nvs_gen_finish_pages(esf_nvs_gen *g, const uint8_t **pages, size_t *data_len, size_t *len,
                             esf_error *err)
{
    if (!g || !pages || !data_len || !len)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_gen_finish_pages: NULL");
    if (g->failed)
        return esf_error_set(err, ESF_ERR_STATE, "generator failed earlier; reset it first");
    size_t data = (size_t)g->npages * ESF_NVS_PAGE_SIZE;
    page_seal_bitmap(g);
    if (g->encrypt) {
        int rc = esf_nvs_encrypt_image(g->buf, data, g->key, err);
        if (rc)
            return rc;
    }
    g->failed = true;  /* handed out (maybe encrypted in place): only reset may follow */
    *pages = g->buf;
    *data_len = data;
    *len = g->read_only && g->opts.compat ? data : (size_t)g->opts.size;
    return ESF_OK;
}

int esf_nvs_gen_finish_buf(esf_nvs_gen *g, const uint8_t **image, size_t *len, esf_error *err)
{
    size_t data;
    int rc = esf_nvs_gen_finish_pages(g, image, &data, len, err);
    if (rc)
        return rc;
    memset(g->buf + data, 0xFF, g->hi - data);  /* pages of an earlier, larger image */
    if (!g->tail_ff) {
        memset(g->buf + g->hi, 0xFF, (size_t)g->opts.size - g->hi);
        g->tail_ff = true;
    }
    return ESF_OK;
}

int esf_nvs_gen_finish(esf_nvs_gen *g, uint8_t *image, size_t *len, esf_error *err)
{
    const uint8_t *pages;
    size_t data;
    if (!image)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_gen_finish: NULL");
    int rc = esf_nvs_gen_finish_pages(g, &pages, &data, len, err);
    if (rc)
        return rc;
    memcpy(image, pages, data);
    memset(image + data, 0xFF, *len - data);
    return ESF_OK;
}

void esf_nvs_gen_free(esf_nvs_gen *g)
{
    if (!g)
        return;
    free(g->buf);
    free(g->ns);
    free(g->key_tab);
    free(g->ap_ssid);
    free(g->ap_passwd);
    free(g->ap_authmode);
    free(g->scratch);
    free(g->file);
    free(g->errtext);
    free(g);
}
