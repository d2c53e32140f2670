/* Partition tables: the table object, the 32-byte binary codec (partition-table.md §2), lookup,
 * and the error helpers of the part_* modules. CSV parsing: part_csv.c; validation:
 * part_verify.c; rendering: part_render.c; keywords: part_keywords.c. */
#include "espforge/part_table.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/crypto.h"
#include "internal/le.h"
#include "internal/part_internal.h"

/* ---- tables */

int esf_part_table_new(esf_part_table **out, const char *source, esf_error *err)
{
    *out = calloc(1, sizeof **out);
    if (!*out)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    if (source)
        snprintf((*out)->source, sizeof (*out)->source, "%s", source);
    return ESF_OK;
}

void esf_part_table_free(esf_part_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->count; i++)
        free(t->entries[i].name);
    free(t->entries);
    free(t);
}

int esf_part_table_add(esf_part_table *t, const char *name, int64_t type, int64_t subtype,
                       int64_t offset, int64_t size, uint32_t flags, esf_error *err)
{
    if (t->count == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        esf_part_entry *e = realloc(t->entries, cap * sizeof *e);
        if (!e)
            return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
        t->entries = e;
        t->cap = cap;
    }
    char *copy = strdup(name ? name : "");
    if (!copy)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    t->entries[t->count++] = (esf_part_entry){
        .name = copy, .type = type, .subtype = subtype, .offset = offset, .size = size,
        .flags = flags, .line = 0, .column = 0, .bin_offset = -1,
    };
    return ESF_OK;
}

/* ---- error helpers: place an error or warning at an entry */

/* Send a warning with `code` and a place (text: line/column; binary: offset) to the sink. */
static void warn_v(const esf_warn_sink *sink, int code, const char *source, uint32_t line,
                   uint32_t column, int64_t offset, const char *fmt, va_list ap)
{
    if (!sink || !sink->fn)
        return;
    esf_error w;
    esf_error_vset(&w, code, fmt, ap);
    snprintf(w.source, sizeof w.source, "%s", source ? source : "");
    w.line = line;
    w.column = column;
    w.offset = line ? -1 : offset;
    sink->fn(sink->ctx, &w);
}

void part_warn_own(const esf_warn_sink *sink, const char *source, uint32_t line, uint32_t column,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    warn_v(sink, ESF_ERR_INVALID, source, line, column, -1, fmt, ap);
    va_end(ap);
}


int part_entry_err(esf_error *err, int code, const esf_part_table *t, const esf_part_entry *e,
                     const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    esf_error_vset(err, code, fmt, ap);
    va_end(ap);
    if (err && t) {
        snprintf(err->source, sizeof err->source, "%s", t->source);
        if (e && e->line) {
            err->line = e->line;
            err->column = e->column;
        } else if (e) {
            err->offset = e->bin_offset;
        }
    }
    return code;
}

void part_entry_warn(const esf_part_opts *o, const esf_part_table *t, const esf_part_entry *e,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    warn_v(o ? o->warn : NULL, ESF_OK, t->source, e ? e->line : 0, e ? e->column : 0,
           e ? e->bin_offset : -1, fmt, ap);
    va_end(ap);
}

/* ---- binary codec (§2) */

int esf_part_table_encode(const esf_part_table *t, const esf_part_opts *opts,
                          uint8_t out[ESF_PART_TABLE_MAX_LEN], esf_error *err)
{
    bool md5 = !(opts && opts->disable_md5);
    size_t n = t->count;
    for (size_t i = 0; i < n; i++) {
        const esf_part_entry *e = &t->entries[i];
        const char *what = NULL;
        int64_t v = 0, max = 0;
        if (e->type < 0 || e->type > 255) what = "type", v = e->type, max = 255;
        else if (e->subtype < 0 || e->subtype > 255) what = "subtype", v = e->subtype, max = 255;
        else if (e->offset < 0 || e->offset > 0xFFFFFFFFll) what = "offset", v = e->offset, max = 0xFFFFFFFFll;
        else if (e->size < 0 || e->size > 0xFFFFFFFFll) what = "size", v = e->size, max = 0xFFFFFFFFll;
        if (what) {
            char a[32], b[32];
            return part_entry_err(err, ESF_ERR_RANGE, t, e,
                             "partition '%s': %s %s does not fit the binary format (0..%s)" PART_CRASH_NOTE,
                             e->name, what, part_hex(a, sizeof a, v), part_hex(b, sizeof b, max));
        }
    }
    size_t len = n * ESF_PART_ENTRY_SIZE + (md5 ? ESF_PART_ENTRY_SIZE : 0);
    if (len >= ESF_PART_TABLE_MAX_LEN) {
        /* located at the first entry that does not fit (with its MD5 row) */
        size_t first = ESF_PART_TABLE_MAX_LEN / ESF_PART_ENTRY_SIZE - 1 - (md5 ? 1 : 0);
        return part_entry_err(err, ESF_ERR_NO_SPACE, t, &t->entries[first < n ? first : n - 1],
                         "Binary partition table length (%zu) longer than max", len);
    }
    memset(out, 0xFF, ESF_PART_TABLE_MAX_LEN);
    for (size_t i = 0; i < n; i++) {
        const esf_part_entry *e = &t->entries[i];
        uint8_t *r = out + i * ESF_PART_ENTRY_SIZE;
        esf_put_le16(r, ESF_PART_MAGIC);
        r[2] = (uint8_t)e->type;
        r[3] = (uint8_t)e->subtype;
        esf_put_le32(r + 4, (uint32_t)e->offset);
        esf_put_le32(r + 8, (uint32_t)e->size);
        memset(r + 12, 0, ESF_PART_NAME_LEN);
        size_t nl = strlen(e->name);
        memcpy(r + 12, e->name, nl < ESF_PART_NAME_LEN ? nl : ESF_PART_NAME_LEN);
        esf_put_le32(r + 28, e->flags & (ESF_PART_TABLE_FLAG_ENCRYPTED | ESF_PART_TABLE_FLAG_READONLY));
    }
    if (md5) {
        uint8_t *r = out + n * ESF_PART_ENTRY_SIZE;
        r[0] = r[1] = 0xEB;
        memset(r + 2, 0xFF, 14);
        if (esf_md5(out, n * ESF_PART_ENTRY_SIZE, r + 16) < 0)
            return esf_error_set(err, ESF_ERR_CRYPTO, "MD5 failed");
    }
    return ESF_OK;
}

/* Python's bytes repr of a short byte string. */
static void py_bytes_repr(char *buf, size_t len, const uint8_t *b, size_t n)
{
    bool sq = memchr(b, '\'', n) != NULL, dq = memchr(b, '"', n) != NULL;
    char q = sq && !dq ? '"' : '\'';
    size_t o = 0;
    o += (size_t)snprintf(buf + o, len - o, "b%c", q);
    for (size_t i = 0; i < n && o < len; i++) {
        uint8_t c = b[i];
        if (c == (uint8_t)q || c == '\\')
            o += (size_t)snprintf(buf + o, len - o, "\\%c", c);
        else if (c == '\t') o += (size_t)snprintf(buf + o, len - o, "\\t");
        else if (c == '\n') o += (size_t)snprintf(buf + o, len - o, "\\n");
        else if (c == '\r') o += (size_t)snprintf(buf + o, len - o, "\\r");
        else if (c < 0x20 || c >= 0x7f) o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        else o += (size_t)snprintf(buf + o, len - o, "%c", c);
    }
    if (o < len)
        snprintf(buf + o, len - o, "%c", q);
}

/* Strict UTF-8 (Python's decoder): no overlongs, no surrogates, <= U+10FFFF. Returns the length
 * of the valid prefix. */
size_t part_utf8_valid_prefix(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t k;
        uint32_t min, cp;
        if (c < 0x80) { i++; continue; }
        else if (c >= 0xC2 && c <= 0xDF) k = 1, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) k = 2, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) k = 3, min = 0x10000, cp = c & 0x07;
        else return i;
        for (size_t j = 1; j <= k; j++) {
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return i;
            cp = (cp << 6) | (s[i + j] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return i;
        i += k + 1;
    }
    return n;
}

int esf_part_table_decode(esf_part_table **out, const uint8_t *buf, size_t len, const char *source,
                          const esf_part_opts *opts, esf_error *err)
{
    return esf_part_table_decode_image(out, buf, len, 0, source, opts, err);
}

int esf_part_table_decode_image(esf_part_table **out, const uint8_t *img, size_t len,
                                uint32_t table_offset, const char *source,
                                const esf_part_opts *opts, esf_error *err)
{
    *out = NULL;
    if (table_offset > len)
        return esf_error_at(err, ESF_ERR_RANGE, source, (int64_t)len,
                            "image is %zu bytes: no partition table at 0x%x", len, table_offset);
    const uint8_t *b = img + table_offset;
    size_t blen = len - table_offset;
    bool md5 = !(opts && opts->disable_md5);
    esf_part_table *t = NULL;
    int rc = esf_part_table_new(&t, source, err);
    if (rc < 0)
        return rc;
    static const uint8_t ff[32] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    /* MD5 of the rows so far: rows hashed are entries only, in order; they are contiguous in b
     * up to the first MD5 row, after which we keep a copy. */
    uint8_t *hashed = NULL;
    size_t nh = 0;
    for (size_t o = 0; o < blen; o += 32) {
        int64_t at = (int64_t)(table_offset + o);
        if (blen - o < 32) {
            rc = esf_error_at(err, ESF_ERR_CORRUPT, source, at,
                              "Partition table length must be a multiple of 32 bytes");
            goto done;
        }
        const uint8_t *r = b + o;
        if (!memcmp(r, ff, 32)) {
            *out = t;
            t = NULL;
            rc = ESF_OK;
            goto done;
        }
        if (md5 && r[0] == 0xEB && r[1] == 0xEB) {
            uint8_t d[16];
            if (esf_md5(hashed ? hashed : (const uint8_t *)"", nh, d) < 0) {
                rc = esf_error_set(err, ESF_ERR_CRYPTO, "MD5 failed");
                goto done;
            }
            if (memcmp(d, r + 16, 16)) {
                char hc[33], hp[33];
                for (int i = 0; i < 16; i++) {
                    snprintf(hc + 2 * i, 3, "%02x", d[i]);
                    snprintf(hp + 2 * i, 3, "%02x", r[16 + i]);
                }
                rc = esf_error_at(err, ESF_ERR_CORRUPT, source, at,
                                  "MD5 checksums don't match! (computed: 0x%s, parsed: 0xb'%s')", hc, hp);
                goto done;
            }
            t->has_md5 = true;
            continue;
        }
        uint8_t *nhashed = realloc(hashed, nh + 32);
        if (!nhashed) {
            rc = esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
            goto done;
        }
        hashed = nhashed;
        memcpy(hashed + nh, r, 32);
        nh += 32;
        /* PartitionDefinition.from_binary: name first (cut at NUL, must be UTF-8), then magic */
        size_t nl = 0;
        while (nl < ESF_PART_NAME_LEN && r[12 + nl]) nl++;
        if (part_utf8_valid_prefix(r + 12, nl) != nl) {
            rc = esf_error_at(err, ESF_ERR_CORRUPT, source, at + 12,
                              "partition name is not valid UTF-8" PART_CRASH_NOTE);
            goto done;
        }
        if (esf_le16(r) != ESF_PART_MAGIC) {
            char rep[32];
            py_bytes_repr(rep, sizeof rep, r, 2);
            rc = esf_error_at(err, ESF_ERR_CORRUPT, source, at,
                              "Invalid magic bytes (%s) for partition definition", rep);
            goto done;
        }
        char name[ESF_PART_NAME_LEN + 1];
        memcpy(name, r + 12, nl);
        name[nl] = '\0';
        uint32_t flags = esf_le32(r + 28);
        uint32_t unknown = flags & ~(ESF_PART_TABLE_FLAG_ENCRYPTED | ESF_PART_TABLE_FLAG_READONLY);
        if ((rc = esf_part_table_add(t, name, r[2], r[3], esf_le32(r + 4), esf_le32(r + 8),
                                     flags & 3u, err)) < 0)
            goto done;
        esf_part_entry *e = &t->entries[t->count - 1];
        e->bin_offset = at;
        if (unknown)
            part_entry_warn(opts, t, e,
                       "WARNING: Partition definition had unknown flag(s) 0x%08x. Newer binary format?",
                       unknown);
    }
    rc = esf_error_at(err, ESF_ERR_CORRUPT, source, (int64_t)len,
                      "Partition table is missing an end-of-table marker");
done:
    free(hashed);
    esf_part_table_free(t);
    return rc;
}

/* ---- the bootloader's own check (§2.4) */

int esf_part_table_verify_device(const uint8_t *buf, size_t len, uint64_t chip_size, size_t *count,
                                 bool *md5_found, esf_error *err)
{
    bool md5 = false;
    for (size_t n = 0; n < ESF_PART_TABLE_MAX_LEN / ESF_PART_ENTRY_SIZE; n++) {
        const uint8_t *r = buf + n * ESF_PART_ENTRY_SIZE;
        int64_t at = (int64_t)(n * ESF_PART_ENTRY_SIZE);
        if ((n + 1) * ESF_PART_ENTRY_SIZE > len)
            break;
        uint16_t magic = esf_le16(r);
        if (magic == ESF_PART_MAGIC) {
            uint32_t off = esf_le32(r + 4), size = esf_le32(r + 8);
            if (chip_size && (off > chip_size || size > chip_size - off))
                return esf_error_at(err, ESF_ERR_RANGE, NULL, at,
                                    "partition %zu invalid - offset 0x%x size 0x%x exceeds flash chip size 0x%llx",
                                    n, off, size, (unsigned long long)chip_size);
        } else if (magic == ESF_PART_MD5_MAGIC) {
            uint8_t d[ESF_MD5_LEN];
            if (md5)
                return esf_error_at(err, ESF_ERR_CORRUPT, NULL, at, "Only one MD5 checksum is allowed");
            if (esf_md5(buf, n * ESF_PART_ENTRY_SIZE, d) < 0)
                return esf_error_set(err, ESF_ERR_CRYPTO, "MD5 failed");
            if (memcmp(d, r + 16, ESF_MD5_LEN))
                return esf_error_at(err, ESF_ERR_CORRUPT, NULL, at, "Incorrect MD5 checksum");
            md5 = true;
        } else if (n != 0 && magic == 0xFFFF && r[2] == 0xFF && r[3] == 0xFF) {
            if (count)
                *count = n - (md5 ? 1 : 0);
            if (md5_found)
                *md5_found = md5;
            return ESF_OK;
        } else {
            return esf_error_at(err, ESF_ERR_CORRUPT, NULL, at, "partition %zu invalid magic number 0x%x", n, magic);
        }
    }
    return esf_error_at(err, ESF_ERR_CORRUPT, NULL, (int64_t)len,
                        "partition table has no terminating entry, not valid");
}

/* ---- lookup */

const esf_part_entry *esf_part_table_find(const esf_part_table *t, const char *label)
{
    if (!t || !label)
        return NULL;
    for (size_t i = 0; i < t->count; i++)
        if (!strcmp(t->entries[i].name, label))
            return &t->entries[i];
    return NULL;
}

const esf_part_entry *esf_part_table_find_type(const esf_part_table *t, int type, int subtype,
                                               const esf_part_entry *after)
{
    if (!t || !t->count)
        return NULL;
    size_t i = after ? (size_t)(after - t->entries) + 1 : 0;
    for (; i < t->count; i++) {
        const esf_part_entry *e = &t->entries[i];
        if ((type == ESF_PART_TYPE_ANY || e->type == type) &&
            (subtype == ESF_PART_SUBTYPE_ANY || e->subtype == subtype))
            return e;
    }
    return NULL;
}
