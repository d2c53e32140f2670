/* A growable text buffer and the text encodings the renderers share (base64, JSON strings in
 * Python's json.dumps style, UTF-8 decoding). See src/internal/strbuf.h. */
#include "internal/strbuf.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void esf_sb_grow(esf_sb *b, size_t more)
{
    if (b->oom || b->len + more + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + more + 1)
        cap *= 2;
    char *n = realloc(b->p, cap);
    if (!n) {
        b->oom = true;
        return;
    }
    b->p = n;
    b->cap = cap;
}

void esf_sb_addn(esf_sb *b, const char *s, size_t n)
{
    esf_sb_grow(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void esf_sb_add(esf_sb *b, const char *s) { esf_sb_addn(b, s, strlen(s)); }

void esf_sb_addf(esf_sb *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        esf_sb_addn(b, tmp, (size_t)n);
        return;
    }
    esf_sb_grow(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* one byte as the Unicode code point of the same value, UTF-8 encoded (Python chr(b) printed) */
void esf_sb_latin1(esf_sb *b, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            size_t run = 1;
            while (i + run < n && s[i + run] < 0x80)
                run++;
            esf_sb_addn(b, (const char *)s + i, run);
            i += run - 1;
        } else {
            char u[2] = { (char)(0xC0 | (s[i] >> 6)), (char)(0x80 | (s[i] & 0x3F)) };
            esf_sb_addn(b, u, 2);
        }
    }
}

void esf_sb_free(esf_sb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void esf_sb_reset(esf_sb *b)
{
    b->len = 0;
    b->oom = false;
    if (b->p)
        b->p[0] = '\0';
}

/* ANSI styles of nvs_tool's logger */
int esf_sb_flush(esf_sb *b, FILE *out, esf_error *err)
{
    if (b->oom)
        return esf_error_set(err, ESF_ERR_NO_MEM, "NVS dump: no memory");
    if (b->len && fwrite(b->p, 1, b->len, out) != b->len)
        return esf_error_set(err, ESF_ERR_IO, "NVS dump: write error");
    esf_sb_reset(b);
    return ESF_OK;
}

void esf_sb_base64(esf_sb *b, const uint8_t *d, size_t n)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)d[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)d[i + 1] << 8;
        if (i + 2 < n)
            v |= d[i + 2];
        char q[4] = { al[(v >> 18) & 63], al[(v >> 12) & 63],
                      i + 1 < n ? al[(v >> 6) & 63] : '=', i + 2 < n ? al[v & 63] : '=' };
        esf_sb_addn(b, q, 4);
    }
}

void esf_sb_int(esf_sb *b, int64_t v, bool u64)
{
    if (u64)
        esf_sb_addf(b, "%" PRIu64, (uint64_t)v);
    else
        esf_sb_addf(b, "%" PRId64, v);
}

/* a fixed-size item's value as nvs_tool prints it: the integer, or `none` for unknown types */

void esf_sb_json_indent(esf_sb *b, int ind, int depth)
{
    static const char nl_spaces[] = "\n                                                  ";
    size_t n = (size_t)(ind * depth);
    esf_sb_addn(b, nl_spaces, n + 1 < sizeof nl_spaces ? n + 1 : sizeof nl_spaces - 1);
}

void esf_sb_json_cp(esf_sb *b, uint32_t cp)
{
    if (cp == '"')
        esf_sb_add(b, "\\\"");
    else if (cp == '\\')
        esf_sb_add(b, "\\\\");
    else if (cp == '\n')
        esf_sb_add(b, "\\n");
    else if (cp == '\r')
        esf_sb_add(b, "\\r");
    else if (cp == '\t')
        esf_sb_add(b, "\\t");
    else if (cp == '\b')
        esf_sb_add(b, "\\b");
    else if (cp == '\f')
        esf_sb_add(b, "\\f");
    else if (cp < 0x20 || cp > 0x7E) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            esf_sb_addf(b, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
        } else {
            esf_sb_addf(b, "\\u%04x", cp);
        }
    } else {
        char c = (char)cp;
        esf_sb_addn(b, &c, 1);
    }
}

/* a JSON string of bytes taken as code points 0..255 (nvs_tool keys) */
void esf_sb_json_latin1(esf_sb *b, const uint8_t *s, size_t n)
{
    esf_sb_add(b, "\"");
    for (size_t i = 0; i < n; i++)
        esf_sb_json_cp(b, s[i]);
    esf_sb_add(b, "\"");
}

/* decode one UTF-8 sequence; invalid bytes give U+FFFD and advance by one */
uint32_t esf_utf8_next(const uint8_t *s, size_t n, size_t *i)
{
    uint8_t c = s[*i];
    unsigned len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3
                 : (c & 0xF8) == 0xF0 ? 4 : 0;
    uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1Fu : len == 3 ? c & 0x0Fu : c & 0x07u;
    if (len == 0 || *i + len > n) {
        (*i)++;
        return 0xFFFD;
    }
    for (unsigned k = 1; k < len; k++) {
        if ((s[*i + k] & 0xC0) != 0x80) {
            (*i)++;
            return 0xFFFD;
        }
        cp = (cp << 6) | (s[*i + k] & 0x3Fu);
    }
    static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    if (cp < min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        (*i)++;
        return 0xFFFD;
    }
    *i += len;
    return cp;
}

void esf_sb_json_utf8(esf_sb *b, const uint8_t *s, size_t n)
{
    esf_sb_add(b, "\"");
    for (size_t i = 0; i < n;)
        esf_sb_json_cp(b, esf_utf8_next(s, n, &i));
    esf_sb_add(b, "\"");
}

void esf_sb_json_base64(esf_sb *b, const uint8_t *d, size_t n)
{
    esf_sb_add(b, "\"");
    esf_sb_base64(b, d, n);
    esf_sb_add(b, "\"");
}

/* one NVS_Entry.toJSON() at `depth` (the object's own indentation level) */
