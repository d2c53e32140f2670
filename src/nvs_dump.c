/* Rendering of NVS images and check reports: nvs_tool-compatible text/JSON, native dumps.
 * See include/espforge/nvs_dump.h; output formats: nvs-generator.md §10. */
#include "espforge/nvs_dump.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "internal/le.h"

#define NENT ESF_NVS_ENTRIES_PER_PAGE

/* ---- a growable line buffer */

typedef struct sb {
    char *p;
    size_t len, cap;
    bool oom;
} sb;

static void sb_grow(sb *b, size_t more)
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

static void sb_addn(sb *b, const char *s, size_t n)
{
    sb_grow(b, n);
    if (b->oom)
        return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_add(sb *b, const char *s) { sb_addn(b, s, strlen(s)); }

static void sb_addf(sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_addf(sb *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sb_addn(b, tmp, (size_t)n);
        return;
    }
    sb_grow(b, (size_t)n);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

/* one byte as the Unicode code point of the same value, UTF-8 encoded (Python chr(b) printed) */
static void sb_latin1(sb *b, const uint8_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 0x80) {
            size_t run = 1;
            while (i + run < n && s[i + run] < 0x80)
                run++;
            sb_addn(b, (const char *)s + i, run);
            i += run - 1;
        } else {
            char u[2] = { (char)(0xC0 | (s[i] >> 6)), (char)(0x80 | (s[i] & 0x3F)) };
            sb_addn(b, u, 2);
        }
    }
}

static void sb_free(sb *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ANSI styles of nvs_tool's logger */
enum style { BOLD, RED, GREEN, YELLOW, CYAN };
static const char *const ansi[] = { "\033[1m", "\033[31m", "\033[32m", "\033[33m", "\033[36m" };
#define ANSI_CLEAR "\033[0m"

/* append `text` wrapped in a style when colour is on */
static void sb_style(sb *b, bool color, enum style st, const char *text)
{
    if (color)
        sb_add(b, ansi[st]);
    sb_add(b, text);
    if (color)
        sb_add(b, ANSI_CLEAR);
}

/* close the buffer as one output chunk */
static int sb_flush(sb *b, FILE *out, esf_error *err)
{
    if (b->oom)
        return esf_error_set(err, ESF_ERR_NO_MEM, "NVS dump: no memory");
    if (b->len && fwrite(b->p, 1, b->len, out) != b->len)
        return esf_error_set(err, ESF_ERR_IO, "NVS dump: write error");
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
    return ESF_OK;
}

static void b64(sb *b, const uint8_t *d, size_t n)
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
        sb_addn(b, q, 4);
    }
}

/* ---- nvs_tool's entry model helpers */

static uint8_t tool_key_len(const uint8_t *e)
{
    uint8_t n = 16;
    while (n > 0 && e[8 + n - 1] == 0)
        n--;
    return n;
}

static void tool_key(sb *b, const uint8_t *e) { sb_latin1(b, e + 8, tool_key_len(e)); }

static bool tool_is_var(uint8_t t)
{
    return t == ESF_NVS_TYPE_STR || t == ESF_NVS_TYPE_BLOB || t == ESF_NVS_TYPE_BLOB_DATA ||
           t == ESF_NVS_TYPE_BLOB_IDX;
}

/* nvs_tool's integer value of a known fixed-size type (type < 0x20) */
static bool tool_int(const uint8_t *e, int64_t *v, bool *is_unsigned64)
{
    uint8_t t = e[1];
    *is_unsigned64 = false;
    if (!esf_nvs_tool_type_name(t) || t >= 0x20)
        return false;
    esf_nvs_item it;
    esf_nvs_item_decode(e, &it);
    *v = esf_nvs_item_prim_i(&it);
    *is_unsigned64 = t == ESF_NVS_TYPE_U64;
    return true;
}

static void add_int(sb *b, int64_t v, bool u64)
{
    if (u64)
        sb_addf(b, "%" PRIu64, (uint64_t)v);
    else
        sb_addf(b, "%" PRId64, v);
}

/* a fixed-size item's value as nvs_tool prints it: the integer, or `none` for unknown types */
static void tool_value(sb *b, const uint8_t *e, const char *none)
{
    int64_t v;
    bool u;
    if (tool_int(e, &v, &u))
        add_int(b, v, u);
    else
        sb_add(b, none);
}

/* nvs_tool's type text: the name, or 0xNN for codes it does not know */
static const char *tool_type_text(uint8_t t, char hex[8])
{
    const char *n = esf_nvs_tool_type_name(t);
    if (n)
        return n;
    snprintf(hex, 8, "0x%02x", t);
    return hex;
}

static void type_field(sb *b, uint8_t t)
{
    char hex[8];
    sb_addf(b, "%-10s", tool_type_text(t, hex));
}

static bool printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7F) || (c > 0xA0 && c != 0xAD);
}

/* Python's NVS_Entry.dump_raw() */
static void dump_raw(sb *b, const uint8_t *e)
{
    static const char hx[] = "0123456789abcdef";
    char line[3 * 32 + 1];  /* "xx " per byte and the middle space */
    size_t k = 0;
    for (int i = 0; i < 32; i++) {
        if (i == 16)
            line[k++] = ' ';
        line[k++] = hx[e[i] >> 4];
        line[k++] = hx[e[i] & 15];
        line[k++] = ' ';
    }
    sb_addn(b, line, k);
    char text[2 + 2 * 32];
    k = 0;
    text[k++] = ' ';
    for (int i = 0; i < 32; i++) {
        if (i == 16)
            text[k++] = ' ';
        if (!printable(e[i])) {
            text[k++] = '.';
        } else if (e[i] < 0x80) {
            text[k++] = (char)e[i];
        } else { /* the code point of the byte, UTF-8 encoded */
            text[k++] = (char)(0xC0 | (e[i] >> 6));
            text[k++] = (char)(0x80 | (e[i] & 0x3F));
        }
    }
    sb_addn(b, text, k);
}

/* namespace table of the dumps: index -> key of Written namespace-0 integer entries (last wins) */
typedef struct tool_ns {
    bool has[256];
    const uint8_t *entry[256];
} tool_ns;

static void tool_ns_collect(const esf_nvs_image *img, tool_ns *ns, bool skip_var)
{
    memset(ns, 0, sizeof *ns);
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            int64_t v;
            bool u;
            if (s->state != ESF_NVS_ENTRY_WRITTEN || e[0] != 0)
                continue;
            if (skip_var && (e[1] == ESF_NVS_TYPE_BLOB_IDX || e[1] == ESF_NVS_TYPE_BLOB ||
                             e[1] == ESF_NVS_TYPE_STR))
                continue;
            if (!tool_int(e, &v, &u) || v < 0 || v > 255)
                continue; /* the reference crashes or keys by a non-index value */
            ns->has[v] = true;
            ns->entry[v] = e;
        }
    }
}

static void flush_empties(sb *b, bool color, int first, int last, int n)
{
    char t[16];
    if (n >= 3) {
        snprintf(t, sizeof t, " %03d.", first);
        sb_style(b, color, BOLD, t);
        sb_add(b, " Empty\n");
        sb_style(b, color, BOLD, " ...");
        sb_add(b, "\n");
        snprintf(t, sizeof t, " %03d.", last);
        sb_style(b, color, BOLD, t);
        sb_add(b, " Empty\n");
    } else {
        for (int i = first; n > 0 && i <= last; i++) {
            snprintf(t, sizeof t, " %03d.", i);
            sb_style(b, color, BOLD, t);
            sb_add(b, " Empty\n");
        }
    }
}

static void crc_field(sb *b, bool color, uint32_t v, bool ok, const char *fmt)
{
    char t[16];
    snprintf(t, sizeof t, fmt, v);
    sb_style(b, color, ok ? GREEN : RED, t);
}

static void dump_everything(sb *b, const esf_nvs_image *img, bool written_only, bool color)
{
    char t[160];
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        if (pg->blank_header) {
            snprintf(t, sizeof t, "Page Empty, Page address: 0x%x", pg->offset);
            sb_style(b, color, BOLD, t);
        } else {
            sb inner = { 0 };
            sb_addf(&inner, "Page no. %u, Status: %s, Version: %u, CRC32: ", pg->seq,
                    esf_nvs_pstatus_name(pg->status), 256u - pg->version_byte);
            crc_field(&inner, color, pg->crc, pg->crc == pg->crc_calc, "%8x");
            sb_style(b, color, BOLD, inner.p ? inner.p : "");
            b->oom |= inner.oom;
            sb_free(&inner);
            snprintf(t, sizeof t, ", Page address: 0x%x", pg->offset);
            sb_style(b, color, BOLD, t);
        }
        sb_add(b, "\n");
        sb_style(b, color, BOLD, " Entry state bitmap: ");
        for (unsigned i = 0; i < 32; i++)
            sb_addf(b, "%02x ", pg->raw[32 + i]);
        sb_add(b, "\n");
        int efirst = -1, elast = -1, en = 0;
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            if (written_only && s->state != ESF_NVS_ENTRY_WRITTEN)
                continue;
            if (s->state == ESF_NVS_ENTRY_EMPTY && s->blank) {
                if (!en++)
                    efirst = s->index;
                elast = s->index;
                continue;
            }
            flush_empties(b, color, efirst, elast, en);
            en = 0;
            snprintf(t, sizeof t, " %03u.", s->index);
            sb_style(b, color, BOLD, t);
            sb_add(b, " ");
            const char *st = esf_nvs_state_name(s->state);
            if (s->state == ESF_NVS_ENTRY_WRITTEN || s->state == ESF_NVS_ENTRY_ERASED) {
                snprintf(t, sizeof t, "%-7s", st);
                sb_style(b, color, s->state == ESF_NVS_ENTRY_WRITTEN ? GREEN : RED, t);
            } else {
                sb_add(b, st);
            }
            sb_addf(b, ", Namespace Index: %03u, Type: ", e[0]);
            type_field(b, e[1]);
            sb_addf(b, ", Span: %03u, Chunk Index: %03u, CRC32: ", e[2], e[3]);
            crc_field(b, color, s->crc, s->crc == s->crc_calc, "%8x");
            sb_add(b, " | ");
            tool_key(b, e);
            sb_add(b, ": ");
            if (!tool_is_var(e[1])) {
                tool_value(b, e, "None");
            } else if (e[1] == ESF_NVS_TYPE_BLOB_IDX) {
                sb_addf(b, "Size=%u, ChunkCount=%u, ChunkStart=%u", esf_le32(e + 24), e[28],
                        e[29]);
            } else {
                sb_addf(b, "Size=%u, CRC32=", esf_le16(e + 24));
                crc_field(b, color, s->data_crc, s->data_crc == s->data_crc_calc, "%x");
            }
            sb_add(b, "\n");
            if (e[2] != 1)
                for (unsigned ch = 0; ch < s->nchild; ch++) {
                    sb_addf(b, "      0x%03x  ", ch * 32);
                    dump_raw(b, e + 32 * (ch + 1));
                    sb_add(b, "\n");
                }
        }
        flush_empties(b, color, efirst, elast, en);
        sb_add(b, "\n");
    }
}

/* payload of a top-level slot: its children cut to the size field */
static size_t slot_payload(const esf_nvs_slot *s, const uint8_t *e)
{
    size_t n = 32u * s->nchild, size = esf_le16(e + 24);
    return size < n ? size : n;
}

/* Python repr() of bytes */
static void py_bytes_repr(sb *b, const uint8_t *d, size_t n)
{
    bool sq = memchr(d, '\'', n) != NULL, dq = memchr(d, '"', n) != NULL;
    char quote = sq && !dq ? '"' : '\'';
    sb_addf(b, "b%c", quote);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (c == (uint8_t)quote || c == '\\')
            sb_addf(b, "\\%c", c);
        else if (c == '\t')
            sb_add(b, "\\t");
        else if (c == '\n')
            sb_add(b, "\\n");
        else if (c == '\r')
            sb_add(b, "\\r");
        else if (c < 0x20 || c >= 0x7F)
            sb_addf(b, "\\x%02x", c);
        else
            sb_addn(b, (const char *)&c, 1);
    }
    sb_addf(b, "%c", quote);
}

static void ns_label(sb *b, const tool_ns *ns, uint8_t idx, bool color)
{
    sb nm = { 0 };
    if (ns->has[idx])
        tool_key(&nm, ns->entry[idx]);
    else
        sb_addf(&nm, "%u", idx);
    sb_style(b, color, CYAN, nm.p ? nm.p : "");
    b->oom |= nm.oom;
    sb_free(&nm);
}

static void key_label(sb *b, const uint8_t *e, bool color)
{
    sb k = { 0 };
    tool_key(&k, e);
    sb_style(b, color, YELLOW, k.p ? k.p : "");
    b->oom |= k.oom;
    sb_free(&k);
}

static void dump_minimal(sb *b, const esf_nvs_image *img, bool color)
{
    tool_ns ns;
    char t[64];
    tool_ns_collect(img, &ns, false);
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        if (pg->blank_header) {
            sb_style(b, color, BOLD, "Page Empty");
        } else {
            snprintf(t, sizeof t, "Page no. %u, Status: %s", pg->seq,
                     esf_nvs_pstatus_name(pg->status));
            sb_style(b, color, BOLD, t);
        }
        sb_add(b, "\n");
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            if (s->state != ESF_NVS_ENTRY_WRITTEN || e[0] == 0 || e[1] == ESF_NVS_TYPE_BLOB_IDX ||
                !ns.has[e[0]])
                continue;
            sb_add(b, " ");
            ns_label(b, &ns, e[0], color);
            sb_add(b, ":");
            key_label(b, e, color);
            if (!tool_is_var(e[1])) {
                sb_add(b, " = ");
                tool_value(b, e, "None");
            } else if (e[1] == ESF_NVS_TYPE_BLOB_DATA) {
                sb_addf(b, "[%u] = ", e[3] >= 128 ? e[3] - 128u : e[3]);
            } else if (e[1] == ESF_NVS_TYPE_STR) {
                sb_add(b, " = ");
                sb_addn(b, (const char *)e + 32, slot_payload(s, e));
            } else {
                sb_add(b, " = ");
                py_bytes_repr(b, e + 32, slot_payload(s, e));
            }
            sb_add(b, "\n");
        }
        sb_add(b, "\n");
    }
}

static void list_namespaces(sb *b, const esf_nvs_image *img, bool color)
{
    tool_ns ns;
    tool_ns_collect(img, &ns, false);
    sb_style(b, color, BOLD, "Index: Namespace");
    sb_add(b, "\n");
    for (unsigned i = 0; i < 256; i++)
        if (ns.has[i]) {
            sb_addf(b, " %03u: ", i);
            ns_label(b, &ns, (uint8_t)i, color);
            sb_add(b, "\n");
        }
}

typedef struct tref {
    const esf_nvs_page *pg;
    const esf_nvs_slot *s;
    const uint8_t *e;
} tref;

static bool tref_same(const uint8_t *a, const uint8_t *b)
{
    uint8_t la = tool_key_len(a);
    return a[0] == b[0] && la == tool_key_len(b) && !memcmp(a + 8, b + 8, la);
}

static void blob_header(sb *b, const tool_ns *ns, const uint8_t *e, bool color, const char *what,
                        uint32_t size)
{
    ns_label(b, ns, e[0], color);
    sb_add(b, ":");
    key_label(b, e, color);
    sb_addf(b, " - Type: %s, Size: %u\n", what, size);
}

static void dump_children(sb *b, const tref *r)
{
    for (unsigned ch = 0; ch < r->s->nchild; ch++) {
        sb_addf(b, "  0x%05x  ", ch * 32);
        dump_raw(b, r->e + 32 * (ch + 1));
        sb_add(b, "\n");
    }
}

static int dump_blobs(sb *b, const esf_nvs_image *img, bool color)
{
    size_t cap = 0, nidx = 0, nstr = 0, nleg = 0;
    for (uint32_t p = 0; p < img->npages; p++)
        cap += img->pages[p].nslots;
    tref *idx = calloc(cap ? cap : 1, sizeof *idx), *str = calloc(cap ? cap : 1, sizeof *str),
         *leg = calloc(cap ? cap : 1, sizeof *leg);
    tool_ns ns;
    int rc = ESF_OK;
    if (!idx || !str || !leg) {
        rc = ESF_ERR_NO_MEM;
        goto out;
    }
    tool_ns_collect(img, &ns, true);
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            tref r = { pg, s, e };
            if (s->state != ESF_NVS_ENTRY_WRITTEN)
                continue;
            if (e[1] == ESF_NVS_TYPE_BLOB_IDX) {
                size_t j = 0;
                while (j < nidx && !tref_same(idx[j].e, e))
                    j++;
                idx[j] = r;
                nidx += j == nidx;
            } else if (e[1] == ESF_NVS_TYPE_BLOB) {
                leg[nleg++] = r;
            } else if (e[1] == ESF_NVS_TYPE_STR) {
                str[nstr++] = r;
            }
        }
    }
    for (size_t j = 0; j < nidx; j++) {
        const uint8_t *ie = idx[j].e;
        unsigned count = ie[28], start = ie[29];
        tref chunk[256];
        memset(chunk, 0, sizeof chunk);
        for (uint32_t p = 0; p < img->npages; p++) {
            const esf_nvs_page *pg = &img->pages[p];
            for (unsigned k = 0; k < pg->nslots; k++) {
                const esf_nvs_slot *s = &pg->slots[k];
                const uint8_t *e = esf_nvs_page_entry(pg, s->index);
                if (s->state != ESF_NVS_ENTRY_WRITTEN || e[1] == ESF_NVS_TYPE_BLOB_IDX ||
                    !tref_same(e, ie))
                    continue;
                int rel = (int)e[3] - (int)start;
                if (rel >= 0 && rel < (int)count) /* reference: IndexError otherwise */
                    chunk[rel] = (tref){ pg, s, e };
            }
        }
        blob_header(b, &ns, ie, color, "Blob (Version 2)", esf_le32(ie + 24));
        unsigned line = 0;
        for (unsigned c = 0; c < count; c++) {
            if (!chunk[c].e) {
                sb_style(b, color, YELLOW, "  ---------------------------------------------------"
                                           "------------ Missing data ------------------------"
                                           "----------------------------------------");
                sb_add(b, "\n");
                line++;
                continue;
            }
            for (unsigned ch = 0; ch < chunk[c].s->nchild; ch++, line++) {
                sb_addf(b, "  0x%05x  ", line * 32);
                dump_raw(b, chunk[c].e + 32 * (ch + 1));
                sb_add(b, "\n");
            }
        }
        sb_add(b, "\n");
    }
    for (size_t j = 0; j < nstr; j++) {
        blob_header(b, &ns, str[j].e, color, "String", esf_le16(str[j].e + 24));
        dump_children(b, &str[j]);
        sb_add(b, "\n");
    }
    for (size_t j = 0; j < nleg; j++) {
        blob_header(b, &ns, leg[j].e, color, "Blob (Version 1)", esf_le16(leg[j].e + 24));
        dump_children(b, &leg[j]);
        sb_add(b, "\n");
    }
out:
    free(idx);
    free(str);
    free(leg);
    return rc;
}

static void storage_stats(sb *b, const esf_nvs_image *img, bool color)
{
    unsigned g[4] = { 0 }; /* written, erased, empty, invalid */
    char t[64];
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        unsigned c[4] = { 0 };
        for (unsigned k = 0; k < pg->nslots; k++) {
            uint8_t st = pg->slots[k].state;
            c[st == ESF_NVS_ENTRY_WRITTEN ? 0 : st == ESF_NVS_ENTRY_ERASED ? 1
                  : st == ESF_NVS_ENTRY_EMPTY ? 2 : 3]++;
        }
        snprintf(t, sizeof t, "Page %s", esf_nvs_pstatus_name(pg->status));
        sb_style(b, color, BOLD, t);
        sb_addf(b, "\n  Found entries:\n    Written: % 5d\n    Erased:  % 5d\n"
                   "    Empty:   % 5d\n    Invalid: % 5d\n    Total:   % 5d\n\n",
                (int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)(c[0] + c[1] + c[2] + c[3]));
        for (int i = 0; i < 4; i++)
            g[i] += c[i];
    }
    sb_style(b, color, BOLD, "Global");
    sb_addf(b, "\n  Config:\n    Page size:   % 5d\n    Entry size:  % 5d\n"
               "    Total pages: % 5d\n  Entries:\n    Written: % 5d\n    Erased:  % 5d\n"
               "    Empty:   % 5d\n    Invalid: % 5d\n    Total:   % 5d\n\n",
            (int)ESF_NVS_PAGE_SIZE, (int)ESF_NVS_ENTRY_SIZE, (int)img->npages, (int)g[0],
            (int)g[1], (int)g[2], (int)g[3], (int)(g[0] + g[1] + g[2] + g[3]));
}

int esf_nvs_tool_text(FILE *out, const esf_nvs_image *img, esf_nvs_tool_mode mode, bool color,
                      esf_error *err)
{
    sb b = { 0 };
    int rc = ESF_OK;
    if (!out || !img)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_tool_text: NULL argument");
    switch (mode) {
    case ESF_NVS_TOOL_ALL: dump_everything(&b, img, false, color); break;
    case ESF_NVS_TOOL_WRITTEN: dump_everything(&b, img, true, color); break;
    case ESF_NVS_TOOL_MINIMAL: dump_minimal(&b, img, color); break;
    case ESF_NVS_TOOL_NAMESPACES: list_namespaces(&b, img, color); break;
    case ESF_NVS_TOOL_BLOBS: rc = dump_blobs(&b, img, color); break;
    case ESF_NVS_TOOL_STORAGE_INFO: storage_stats(&b, img, color); break;
    default: rc = esf_error_set(err, ESF_ERR_INVALID_ARG, "unknown nvs_tool dump mode %d", mode);
    }
    if (rc == ESF_ERR_NO_MEM)
        esf_error_set(err, rc, "NVS dump: no memory");
    if (rc == ESF_OK)
        rc = sb_flush(&b, out, err);
    sb_free(&b);
    return rc;
}

/* ---- JSON in Python's json.dumps(indent=N) layout, ensure_ascii */

static void json_indent(sb *b, int ind, int depth)
{
    static const char nl_spaces[] = "\n                                                  ";
    size_t n = (size_t)(ind * depth);
    sb_addn(b, nl_spaces, n + 1 < sizeof nl_spaces ? n + 1 : sizeof nl_spaces - 1);
}

static void json_cp(sb *b, uint32_t cp)
{
    if (cp == '"')
        sb_add(b, "\\\"");
    else if (cp == '\\')
        sb_add(b, "\\\\");
    else if (cp == '\n')
        sb_add(b, "\\n");
    else if (cp == '\r')
        sb_add(b, "\\r");
    else if (cp == '\t')
        sb_add(b, "\\t");
    else if (cp == '\b')
        sb_add(b, "\\b");
    else if (cp == '\f')
        sb_add(b, "\\f");
    else if (cp < 0x20 || cp > 0x7E) {
        if (cp >= 0x10000) {
            cp -= 0x10000;
            sb_addf(b, "\\u%04x\\u%04x", 0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF));
        } else {
            sb_addf(b, "\\u%04x", cp);
        }
    } else {
        char c = (char)cp;
        sb_addn(b, &c, 1);
    }
}

/* a JSON string of bytes taken as code points 0..255 (nvs_tool keys) */
static void json_latin1(sb *b, const uint8_t *s, size_t n)
{
    sb_add(b, "\"");
    for (size_t i = 0; i < n; i++)
        json_cp(b, s[i]);
    sb_add(b, "\"");
}

/* decode one UTF-8 sequence; invalid bytes give U+FFFD and advance by one */
static uint32_t utf8_next(const uint8_t *s, size_t n, size_t *i)
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

static void json_utf8(sb *b, const uint8_t *s, size_t n)
{
    sb_add(b, "\"");
    for (size_t i = 0; i < n;)
        json_cp(b, utf8_next(s, n, &i));
    sb_add(b, "\"");
}

static void json_b64(sb *b, const uint8_t *d, size_t n)
{
    sb_add(b, "\"");
    b64(b, d, n);
    sb_add(b, "\"");
}

/* one NVS_Entry.toJSON() at `depth` (the object's own indentation level) */
static void json_entry(sb *b, const esf_nvs_page *pg, unsigned index, const esf_nvs_slot *s,
                       int depth)
{
    const uint8_t *e = esf_nvs_page_entry(pg, index);
    int d = depth + 1;
    uint32_t crc_calc = esf_nvs_item_crc(e);
    sb_add(b, "{");
    json_indent(b, 2, d);
    sb_add(b, "\"raw\": ");
    json_b64(b, e, 32);
    sb_add(b, ",");
    json_indent(b, 2, d);
    sb_addf(b, "\"state\": \"%s\",", esf_nvs_state_name(pg->states[index]));
    json_indent(b, 2, d);
    bool blank = true;
    for (int i = 0; i < 32; i++)
        blank &= e[i] == 0xFF;
    sb_addf(b, "\"is_empty\": %s,", blank ? "true" : "false");
    json_indent(b, 2, d);
    sb_addf(b, "\"index\": %u,", index);
    json_indent(b, 2, d);
    sb_add(b, "\"metadata\": {");
    json_indent(b, 2, d + 1);
    sb_addf(b, "\"namespace\": %u,", e[0]);
    json_indent(b, 2, d + 1);
    sb_add(b, "\"type\": ");
    char hex[8];
    sb_addf(b, "\"%s\",", tool_type_text(e[1], hex));
    json_indent(b, 2, d + 1);
    sb_addf(b, "\"span\": %u,", e[2]);
    json_indent(b, 2, d + 1);
    sb_addf(b, "\"chunk_index\": %u,", e[3]);
    json_indent(b, 2, d + 1);
    sb_add(b, "\"crc\": {");
    json_indent(b, 2, d + 2);
    sb_addf(b, "\"original\": %u,", esf_le32(e + 4));
    json_indent(b, 2, d + 2);
    sb_addf(b, "\"computed\": %u,", crc_calc);
    json_indent(b, 2, d + 2);
    sb_addf(b, "\"data_original\": %u,", esf_le32(e + 28));
    json_indent(b, 2, d + 2);
    sb_addf(b, "\"data_computed\": %u", s ? s->data_crc_calc : 0);
    json_indent(b, 2, d + 1);
    sb_add(b, "}");
    json_indent(b, 2, d);
    sb_add(b, "},");
    json_indent(b, 2, d);
    sb_add(b, "\"key\": ");
    json_latin1(b, e + 8, tool_key_len(e));
    sb_add(b, ",");
    json_indent(b, 2, d);
    sb_add(b, "\"data\": {");
    json_indent(b, 2, d + 1);
    int64_t v;
    bool u;
    if (tool_int(e, &v, &u)) {
        sb_add(b, "\"value\": ");
        add_int(b, v, u);
    } else if (esf_nvs_tool_type_name(e[1]) && tool_is_var(e[1])) {
        bool idx = e[1] == ESF_NVS_TYPE_BLOB_IDX;
        uint32_t size = idx ? esf_le32(e + 24) : esf_le16(e + 24);
        sb_add(b, "\"value\": [");
        json_indent(b, 2, d + 2);
        if (idx) {
            sb_addf(b, "%u,", size);
            json_indent(b, 2, d + 2);
            sb_addf(b, "%u,", e[28]);
            json_indent(b, 2, d + 2);
            sb_addf(b, "%u", e[29]);
        } else {
            sb_addf(b, "%u,", size);
            json_indent(b, 2, d + 2);
            sb_addf(b, "%u", esf_le32(e + 28));
        }
        json_indent(b, 2, d + 1);
        sb_add(b, "],");
        json_indent(b, 2, d + 1);
        sb_addf(b, "\"size\": %u,", size);
        json_indent(b, 2, d + 1);
        if (idx) {
            sb_addf(b, "\"chunk_count\": %u,", e[28]);
            json_indent(b, 2, d + 1);
            sb_addf(b, "\"chunk_start\": %u", e[29]);
        } else {
            sb_addf(b, "\"crc\": %u", esf_le32(e + 28));
        }
    } else {
        sb_add(b, "\"value\": null");
    }
    json_indent(b, 2, d);
    sb_add(b, "},");
    json_indent(b, 2, d);
    sb_add(b, "\"children\": [");
    if (s && s->nchild) {
        for (unsigned ch = 0; ch < s->nchild; ch++) {
            json_indent(b, 2, d + 1);
            json_entry(b, pg, index + 1 + ch, NULL, d + 1);
            if (ch + 1 < s->nchild)
                sb_add(b, ",");
        }
        json_indent(b, 2, d);
    }
    sb_add(b, "]");
    json_indent(b, 2, depth);
    sb_add(b, "}");
}

static void json_all(sb *b, const esf_nvs_image *img, const char *name)
{
    sb_add(b, "{");
    json_indent(b, 2, 1);
    sb_add(b, "\"name\": ");
    json_utf8(b, (const uint8_t *)name, strlen(name));
    sb_add(b, ",");
    json_indent(b, 2, 1);
    sb_add(b, "\"pages\": [");
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        json_indent(b, 2, 2);
        sb_add(b, "{");
        json_indent(b, 2, 3);
        sb_addf(b, "\"is_empty\": %s,", pg->blank_header ? "true" : "false");
        json_indent(b, 2, 3);
        sb_addf(b, "\"start_address\": %u,", pg->offset);
        json_indent(b, 2, 3);
        sb_add(b, "\"raw_header\": ");
        json_b64(b, pg->raw, 32);
        sb_add(b, ",");
        json_indent(b, 2, 3);
        sb_add(b, "\"raw_entry_state_bitmap\": ");
        json_b64(b, pg->raw + 32, 32);
        sb_add(b, ",");
        json_indent(b, 2, 3);
        sb_add(b, "\"header\": {");
        json_indent(b, 2, 4);
        sb_addf(b, "\"status\": \"%s\",", esf_nvs_pstatus_name(pg->status));
        json_indent(b, 2, 4);
        sb_addf(b, "\"page_index\": %u,", pg->seq);
        json_indent(b, 2, 4);
        sb_addf(b, "\"version\": %u,", 256u - pg->version_byte);
        json_indent(b, 2, 4);
        sb_add(b, "\"crc\": {");
        json_indent(b, 2, 5);
        sb_addf(b, "\"original\": %u,", pg->crc);
        json_indent(b, 2, 5);
        sb_addf(b, "\"computed\": %u", pg->crc_calc);
        json_indent(b, 2, 4);
        sb_add(b, "}");
        json_indent(b, 2, 3);
        sb_add(b, "},");
        json_indent(b, 2, 3);
        sb_add(b, "\"entries\": [");
        for (unsigned k = 0; k < pg->nslots; k++) {
            json_indent(b, 2, 4);
            json_entry(b, pg, pg->slots[k].index, &pg->slots[k], 4);
            if (k + 1 < pg->nslots)
                sb_add(b, ",");
        }
        if (pg->nslots)
            json_indent(b, 2, 3);
        sb_add(b, "]");
        json_indent(b, 2, 2);
        sb_add(b, "}");
        if (p + 1 < img->npages)
            sb_add(b, ",");
    }
    if (img->npages)
        json_indent(b, 2, 1);
    sb_add(b, "]");
    json_indent(b, 2, 0);
    sb_add(b, "}\n");
}

static void json_minimal(sb *b, const esf_nvs_image *img)
{
    tool_ns ns;
    size_t n = 0;
    tool_ns_collect(img, &ns, false);
    sb_add(b, "[");
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            if (s->state != ESF_NVS_ENTRY_WRITTEN || e[0] == 0 || e[1] == ESF_NVS_TYPE_BLOB_IDX ||
                !ns.has[e[0]])
                continue;
            sb_add(b, n++ ? ",\n    {" : "\n    {");
            json_indent(b, 4, 2);
            sb_add(b, "\"namespace\": ");
            json_latin1(b, ns.entry[e[0]] + 8, tool_key_len(ns.entry[e[0]]));
            sb_add(b, ",");
            json_indent(b, 4, 2);
            sb_add(b, "\"key\": ");
            json_latin1(b, e + 8, tool_key_len(e));
            sb_add(b, ",");
            json_indent(b, 4, 2);
            char hex[8];
            sb_addf(b, "\"encoding\": \"%s\",", tool_type_text(e[1], hex));
            json_indent(b, 4, 2);
            sb_add(b, "\"data\": ");
            if (!tool_is_var(e[1])) {
                tool_value(b, e, "null");
            } else {
                size_t len = slot_payload(s, e);
                if (e[1] == ESF_NVS_TYPE_STR) {
                    while (len > 0 && e[32 + len - 1] == 0)
                        len--;
                    json_utf8(b, e + 32, len);
                } else {
                    json_b64(b, e + 32, len);
                }
            }
            sb_add(b, ",");
            json_indent(b, 4, 2);
            sb_add(b, "\"state\": \"Written\",");
            json_indent(b, 4, 2);
            sb_addf(b, "\"is_empty\": %s", s->blank ? "true" : "false");
            json_indent(b, 4, 1);
            sb_add(b, "}");
        }
    }
    sb_add(b, n ? "\n]\n" : "]\n");
}

int esf_nvs_tool_json(FILE *out, const esf_nvs_image *img, const char *name, bool minimal,
                      esf_error *err)
{
    sb b = { 0 };
    if (!out || !img)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_tool_json: NULL argument");
    if (minimal)
        json_minimal(&b, img);
    else
        json_all(&b, img, name ? name : "");
    int rc = sb_flush(&b, out, err);
    sb_free(&b);
    return rc;
}

/* ---- nvs_tool -i */

static void tool_dup_line(sb *b, const esf_nvs_image *img, const esf_nvs_finding *f, bool color)
{
    const esf_nvs_page *pg = &img->pages[f->page];
    const uint8_t *e = esf_nvs_page_entry(pg, (unsigned)f->entry);
    sb line = { 0 }, type = { 0 };
    if (e[0] == 0) {
        sb_add(&type, "namespace (");
        tool_value(&type, e, "None");
        sb_add(&type, ")");
    } else {
        sb_add(&type, esf_nvs_tool_type_name(e[1]));
    }
    size_t klen = tool_key_len(e);
    sb_addf(&line, "#%03d\t", f->entry);
    tool_key(&line, e);
    for (size_t t = klen / 8; t < 3; t++)
        sb_add(&line, "\t");
    sb_add(&line, type.p ? type.p : "");
    for (size_t t = type.len / 8; t < 2; t++)
        sb_add(&line, "\t");
    sb_addf(&line, "%u\t\t%u\t%s", e[0], pg->seq, esf_nvs_pstatus_name(pg->status));
    sb_style(b, color, RED, line.p ? line.p : "");
    sb_add(b, "\n");
    b->oom |= line.oom || type.oom;
    sb_free(&line);
    sb_free(&type);
}

static void tool_ns_ref(sb *b, const esf_nvs_image *img, uint8_t ns, bool color, int defined_page,
                        int defined_entry)
{
    (void)color;
    sb_addf(b, " Namespace index: %03u [", ns);
    if (defined_page >= 0) {
        tool_key(b, esf_nvs_page_entry(&img->pages[defined_page], (unsigned)defined_entry));
    } else {
        sb_add(b, "undefined");
    }
    sb_add(b, "]");
}

/* where the last Written namespace-0 definition of `ns` is, as nvs_tool's found_namespaces */
static void ns_definition(const esf_nvs_image *img, uint8_t ns, int *page, int *entry)
{
    *page = *entry = -1;
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            int64_t v;
            bool u;
            if (s->state == ESF_NVS_ENTRY_WRITTEN && !s->blank && e[0] == 0 &&
                tool_int(e, &v, &u) && v == ns) {
                *page = (int)p;
                *entry = s->index;
            }
        }
    }
}

int esf_nvs_tool_check(FILE *out, const esf_nvs_image *img, const esf_nvs_report *rep,
                       bool color, esf_error *err)
{
    sb b = { 0 };
    bool dup_header = false, blank_done = false;
    if (!out || !img || !rep)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_tool_check: NULL argument");
    for (size_t i = 0; i <= rep->count; i++) {
        const esf_nvs_finding *f = i < rep->count ? &rep->items[i] : NULL;
        if (f && !f->reference)
            continue;
        if (!blank_done && (!f || f->rule >= ESF_NVS_R_BLOB_ORPHAN)) {
            sb_add(&b, "\n");
            blank_done = true;
        }
        if (!f)
            break;
        const esf_nvs_page *pg = f->page >= 0 ? &img->pages[f->page] : NULL;
        const uint8_t *e = pg && f->entry >= 0 ? esf_nvs_page_entry(pg, (unsigned)f->entry)
                                              : NULL;
        char t[192];
        int dp, de;
        switch (f->rule) {
        case ESF_NVS_R_SIZE:
            sb_style(&b, color, YELLOW,
                     "NVS Partition size must be at least 0x3000 (4kiB * 3 pages == 12kiB)!");
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_NO_FREE_PAGE:
            sb_style(&b, color, RED, "No free (empty) page found in the NVS partition,\nat least "
                                     "one free page is required for proper function!");
            sb_add(&b, "\n");
            sb_style(&b, color, RED, "NVS partition possibly truncated?\n");
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_PAGE_EMPTY:
            sb_style(&b, color, CYAN, "Page Empty");
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_EMPTY_BITMAP:
            sb_style(&b, color, RED,
                     "The page is reported as Empty but its entry state bitmap is not empty!");
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_EMPTY_DATA:
            sb_style(&b, color, RED, "The page is reported as Empty but there are data written!");
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_PAGE_CRC_OK:
            snprintf(t, sizeof t, "Page no. %u", pg->seq);
            sb_style(&b, color, CYAN, t);
            sb_add(&b, " \tCRC32: OK\n");
            break;
        case ESF_NVS_R_PAGE_CRC:
            snprintf(t, sizeof t, "Page no. %u", pg->seq);
            sb_style(&b, color, CYAN, t);
            sb_add(&b, " Original CRC32: ");
            crc_field(&b, color, f->a, false, "%x");
            sb_add(&b, " Generated CRC32: ");
            crc_field(&b, color, f->b, true, "%x");
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_WRITTEN_EMPTY:
            snprintf(t, sizeof t, " Entry #%03d is reported as Written but it is empty!",
                     f->entry);
            sb_style(&b, color, RED, t);
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_ERASED_EMPTY:
            snprintf(t, sizeof t, " Entry #%03d is reported as Erased but it is empty! (Only "
                                  "entries reported as Empty should be empty)", f->entry);
            sb_style(&b, color, YELLOW, t);
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_ENTRY_CRC:
        case ESF_NVS_R_DATA_CRC:
        case ESF_NVS_R_TYPE_UNKNOWN:
        case ESF_NVS_R_SPAN_OOB: {
            sb m = { 0 };
            if (f->rule == ESF_NVS_R_TYPE_UNKNOWN)
                sb_addf(&m, " Type of entry #%03d ", f->entry);
            else if (f->rule == ESF_NVS_R_SPAN_OOB)
                sb_addf(&m, " Variable length entry #%03d ", f->entry);
            else
                sb_addf(&m, " Entry #%03d ", f->entry);
            tool_key(&m, e);
            sb_add(&m, f->rule == ESF_NVS_R_ENTRY_CRC ? " has wrong CRC32!     "
                       : f->rule == ESF_NVS_R_DATA_CRC ? " data (string, blob) has wrong CRC32!"
                       : f->rule == ESF_NVS_R_TYPE_UNKNOWN ? " is unrecognized!"
                                                           : " is out of bounds!");
            sb_style(&b, color, f->rule == ESF_NVS_R_TYPE_UNKNOWN ? YELLOW : RED,
                     m.p ? m.p : "");
            b.oom |= m.oom;
            sb_free(&m);
            if (f->rule == ESF_NVS_R_TYPE_UNKNOWN) {
                sb_addf(&b, " Type: 0x%02x", f->a);
            } else if (f->rule != ESF_NVS_R_SPAN_OOB) {
                sb_add(&b, " Written: ");
                crc_field(&b, color, f->a, false, "%x");
                sb_add(&b, " Generated: ");
                crc_field(&b, color, f->b, true, "%x");
            }
            sb_add(&b, "\n");
            break;
        }
        case ESF_NVS_R_CHILD_STATE:
            sb_style(&b, color, YELLOW, " Inconsistent data state!");
            sb_addf(&b, " Entry #%03d ", f->entry);
            tool_key(&b, e);
            sb_addf(&b, " state: %s, Data entry #%03u ", esf_nvs_state_name(pg->states[f->entry]),
                    f->a);
            tool_key(&b, e);
            sb_addf(&b, " state: %s\n", esf_nvs_state_name((uint8_t)f->b));
            break;
        case ESF_NVS_R_DUPLICATE:
            if (!dup_header) {
                sb_style(&b, color, RED, "Found duplicate entries:");
                sb_add(&b, "\n");
                sb_style(&b, color, RED, "Entry\tKey\t\t\tType\t\tNamespace idx\tPage\tPage status");
                sb_add(&b, "\n");
                dup_header = true;
            }
            tool_dup_line(&b, img, f, color);
            break;
        case ESF_NVS_R_BLOB_ORPHAN:
        case ESF_NVS_R_BLOB_MISSING_CHUNK:
        case ESF_NVS_R_BLOB_MISSING_DATA: {
            sb m = { 0 };
            sb_add(&m, "Blob ");
            tool_key(&m, e);
            if (f->rule == ESF_NVS_R_BLOB_ORPHAN)
                sb_add(&m, " chunk has no blob index!");
            else if (f->rule == ESF_NVS_R_BLOB_MISSING_CHUNK)
                sb_add(&m, " is missing a chunk!");
            else
                sb_addf(&m, " is missing %u B of data!", f->a);
            sb_style(&b, color, RED, m.p ? m.p : "");
            b.oom |= m.oom;
            sb_free(&m);
            if (f->rule == ESF_NVS_R_BLOB_MISSING_DATA) {
                sb_addf(&b, " Namespace index: %03u\n", e[0]);
                break;
            }
            ns_definition(img, e[0], &dp, &de);
            tool_ns_ref(&b, img, e[0], color, dp, de);
            sb_addf(&b, ", Chunk Index: %03u\n", f->a);
            break;
        }
        case ESF_NVS_R_NS_UNDEFINED:
            sb_style(&b, color, RED, "Undefined namespace index!");
            tool_ns_ref(&b, img, f->ns, color, -1, -1);
            sb_add(&b, "\n");
            break;
        case ESF_NVS_R_NS_UNUSED:
            sb_style(&b, color, YELLOW, "Found unused namespace.");
            ns_definition(img, f->ns, &dp, &de);
            tool_ns_ref(&b, img, f->ns, color, dp, de);
            sb_add(&b, "\n");
            break;
        default:
            break;
        }
    }
    int rc = sb_flush(&b, out, err);
    sb_free(&b);
    return rc;
}

/* ---- native outputs */

static const char *native_type(const esf_nvs_value *v)
{
    switch (v->kind) {
    case ESF_NVS_KIND_STR: return "string";
    case ESF_NVS_KIND_BLOB: return "blob";
    case ESF_NVS_KIND_BLOB_V1: return "blob_v1";
    default: break;
    }
    switch (v->type) {
    case ESF_NVS_TYPE_U8: return "u8";
    case ESF_NVS_TYPE_I8: return "i8";
    case ESF_NVS_TYPE_U16: return "u16";
    case ESF_NVS_TYPE_I16: return "i16";
    case ESF_NVS_TYPE_U32: return "u32";
    case ESF_NVS_TYPE_I32: return "i32";
    case ESF_NVS_TYPE_U64: return "u64";
    default: return "i64";
    }
}

static void add_value_int(sb *b, const esf_nvs_value *v)
{
    add_int(b, (int64_t)v->num, !esf_nvs_type_is_signed(v->type));
}

static size_t str_len(const esf_nvs_value *v)
{
    return v->len > 0 && v->data[v->len - 1] == 0 ? v->len - 1 : v->len;
}

static void add_hex(sb *b, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sb_addf(b, "%02x", d[i]);
}

/* C-style quoted text for the readable dump */
static void add_quoted(sb *b, const uint8_t *d, size_t n)
{
    sb_add(b, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (c == '"' || c == '\\')
            sb_addf(b, "\\%c", c);
        else if (c == '\n')
            sb_add(b, "\\n");
        else if (c == '\r')
            sb_add(b, "\\r");
        else if (c == '\t')
            sb_add(b, "\\t");
        else if (c < 0x20 || c == 0x7F)
            sb_addf(b, "\\x%02x", c);
        else
            sb_addn(b, (const char *)&c, 1);
    }
    sb_add(b, "\"");
}

int esf_nvs_value_print(FILE *out, const esf_nvs_value *v, bool raw, esf_error *err)
{
    sb b = { 0 };
    if (!out || !v)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_value_print: NULL argument");
    if (v->kind == ESF_NVS_KIND_INT)
        add_value_int(&b, v);
    else if (v->kind == ESF_NVS_KIND_STR || raw)
        sb_addn(&b, (const char *)v->data, v->kind == ESF_NVS_KIND_STR ? str_len(v) : v->len);
    else
        add_hex(&b, v->data, v->len);
    int rc = sb_flush(&b, out, err);
    sb_free(&b);
    return rc;
}

static unsigned image_version(const esf_nvs_image *img)
{
    bool v1 = false, v2 = false;
    for (uint32_t k = 0; k < img->norder; k++) {
        v1 |= img->pages[img->order[k]].version_byte == ESF_NVS_VERSION_1;
        v2 |= img->pages[img->order[k]].version_byte == ESF_NVS_VERSION_2;
    }
    return v1 && !v2 ? 1 : 2;
}

static void dump_text(sb *b, const esf_nvs_image *img)
{
    sb_addf(b, "# %u pages (%zu bytes), format version %u%s, %zu namespaces, %zu values\n",
            img->npages, img->size, image_version(img), img->encrypted ? ", decrypted" : "",
            img->nns, img->nvalues);
    int cur = -1;
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        if (v->ns != cur) {
            cur = v->ns;
            if (v->ns_name)
                sb_addf(b, "%s (namespace %u)\n", v->ns_name, v->ns);
            else
                sb_addf(b, "? (undefined namespace %u)\n", v->ns);
        }
        sb_addf(b, "  %-15s %-7s ", v->key, native_type(v));
        if (v->kind == ESF_NVS_KIND_INT) {
            add_value_int(b, v);
        } else if (v->kind == ESF_NVS_KIND_STR) {
            add_quoted(b, v->data, str_len(v));
        } else {
            sb_addf(b, "%zu bytes ", v->len);
            add_hex(b, v->data, v->len);
        }
        sb_add(b, "\n");
    }
}

static void dump_json(sb *b, const esf_nvs_image *img)
{
    sb_addf(b, "{\n  \"pages\": %u,\n  \"size\": %zu,\n  \"version\": %u,\n  \"encrypted\": %s,\n"
               "  \"namespaces\": [",
            img->npages, img->size, image_version(img), img->encrypted ? "true" : "false");
    for (size_t i = 0; i < img->nns; i++) {
        sb_addf(b, "%s\n    {\"index\": %u, \"name\": ", i ? "," : "", img->ns[i].index);
        json_utf8(b, (const uint8_t *)img->ns[i].name, strlen(img->ns[i].name));
        sb_add(b, "}");
    }
    sb_add(b, img->nns ? "\n  ],\n  \"values\": [" : "],\n  \"values\": [");
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        const esf_nvs_rec *it = &img->items[v->item];
        sb_addf(b, "%s\n    {\"namespace\": ", i ? "," : "");
        if (v->ns_name)
            json_utf8(b, (const uint8_t *)v->ns_name, strlen(v->ns_name));
        else
            sb_add(b, "null");
        sb_addf(b, ", \"namespace_index\": %u, \"key\": ", v->ns);
        json_utf8(b, (const uint8_t *)v->key, strlen(v->key));
        sb_addf(b, ", \"type\": \"%s\", \"value\": ", native_type(v));
        if (v->kind == ESF_NVS_KIND_INT) {
            add_value_int(b, v);
        } else if (v->kind == ESF_NVS_KIND_STR) {
            json_utf8(b, v->data, str_len(v));
        } else {
            json_b64(b, v->data, v->len);
            sb_addf(b, ", \"encoding\": \"base64\", \"size\": %zu", v->len);
        }
        sb_addf(b, ", \"page\": %u, \"entry\": %u}", it->page, it->entry);
    }
    sb_add(b, img->nvalues ? "\n  ]\n}\n" : "]\n}\n");
}

/* ---- generator CSV */

static bool csv_needs_quotes(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] == ',' || d[i] == '"' || d[i] == '\n' || d[i] == '\r')
            return true;
    return n > 0 && (d[0] == ' ' || d[n - 1] == ' ');
}

static void csv_field(sb *b, const uint8_t *d, size_t n)
{
    if (!csv_needs_quotes(d, n)) {
        sb_addn(b, (const char *)d, n);
        return;
    }
    sb_add(b, "\"");
    for (size_t i = 0; i < n; i++) {
        if (d[i] == '"')
            sb_add(b, "\"");
        sb_addn(b, (const char *)&d[i], 1);
    }
    sb_add(b, "\"");
}

/* text a CSV cell can carry unchanged through the generator: valid UTF-8, no NUL, no CR, no
 * physical line starting with '#' (the generator drops those before parsing) */
static bool csv_text_ok(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (d[i] == 0 || d[i] == '\r' || (d[i] == '#' && (i == 0 || d[i - 1] == '\n')))
            return false;
        if (utf8_next(d, n, &i) == 0xFFFD && !(i >= 3 && !memcmp(d + i - 3, "\xEF\xBF\xBD", 3)))
            return false;
    }
    return true;
}

static const esf_nvs_value *value_of_item(const esf_nvs_image *img, size_t item)
{
    for (size_t i = 0; i < img->nvalues; i++)
        if (img->values[i].item == item)
            return &img->values[i];
    return NULL;
}

/* the v2 blob value whose first chunk is the record `k` */
static const esf_nvs_value *blob_of_first_chunk(const esf_nvs_image *img, size_t k)
{
    const esf_nvs_rec *ch = &img->items[k];
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        const esf_nvs_rec *ix = &img->items[v->item];
        if (v->kind == ESF_NVS_KIND_BLOB && v->ns == ch->ns && !strcmp(v->key, ch->key) &&
            ix->chunk_start == ch->chunk && ch->live)
            return v;
    }
    return NULL;
}

static bool all_eq(const uint8_t *d, size_t n, uint8_t c)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] != c)
            return false;
    return true;
}

/* blob_fill / blob_sz_fill forms, so that the generator sees the literal text again (it derives
 * ap.pmk_info from the ap.ssid / ap.passwd text) */
static bool fill_form(sb *b, const uint8_t *d, size_t n)
{
    if (n >= 4) {
        uint32_t l = esf_le32(d);
        if (l <= n - 4 && csv_text_ok(d + 4, l) && (l == n - 4 || all_eq(d + 4 + l, n - 4 - l,
                                                                        d[n - 1]))) {
            sb_addf(b, "blob_sz_fill(%zu;0x%02x),", n - 4, l == n - 4 ? 0 : d[n - 1]);
            csv_field(b, d + 4, l);
            return true;
        }
    }
    if (n > 0) {
        size_t l = n;
        while (l > 0 && d[l - 1] == d[n - 1])
            l--;
        if (csv_text_ok(d, l)) {
            sb_addf(b, "blob_fill(%zu;0x%02x),", n, d[n - 1]);
            csv_field(b, d, l);
            return true;
        }
    }
    return false;
}

static bool is_key(const esf_nvs_rec *it, const char *k) { return !strcmp(it->key, k); }

static bool wifi_injected(const esf_nvs_rec *it, const uint8_t *d, size_t n)
{
    if (is_key(it, "sta.apinfo"))
        return n == 140 && all_eq(d, n, 0xFF);
    if (is_key(it, "sta.pmk"))
        return n == 32 && all_eq(d, n, 0);
    if (is_key(it, "sta.apsw"))
        return n == 2 && all_eq(d, n, 0);
    return false;
}

static bool has_key(const esf_nvs_image *img, uint8_t ns, const char *key)
{
    for (size_t i = 0; i < img->nitems; i++)
        if (img->items[i].ns == ns && is_key(&img->items[i], key))
            return true;
    return false;
}

static int unsupported(esf_error *err, const esf_nvs_rec *it, const char *why)
{
    return esf_error_at(err, ESF_ERR_UNSUPPORTED, NULL,
                        (int64_t)esf_nvs_entry_offset(it->page, it->entry),
                        "page %u entry %u, key '%s': %s; a generator CSV cannot reproduce it",
                        it->page, it->entry, it->key, why);
}

static int dump_csv(sb *b, const esf_nvs_image *img, bool base64, esf_error *err)
{
    unsigned ns_count = 0, cur = 0;
    bool sta_seen = false, sta_skipped[3] = { false };
    /* rows the reference generator's quirks are needed for (row in namespace 0, STRING, a key
     * twice), and rows only the intended semantics place right (back to an earlier namespace) */
    bool quirks = false, switch_back = false;
    sb_add(b, "key,type,encoding,value\n");
    for (size_t k = 0; k < img->nitems; k++) {
        const esf_nvs_rec *it = &img->items[k];
        const uint8_t *d = it->data;
        size_t n = it->size;
        if (it->ns == 0 && it->type == ESF_NVS_TYPE_U8) {
            bool later = false;
            for (size_t j = k + 1; j < img->nitems; j++)
                later |= img->items[j].ns == 0 && img->items[j].type == ESF_NVS_TYPE_U8 &&
                         img->items[j].num == it->num;
            if (it->num == ns_count + 1 && !later) {
                if (!csv_text_ok((const uint8_t *)it->key, it->keylen) || it->key[0] == '#')
                    return unsupported(err, it, "namespace name not representable");
                csv_field(b, (const uint8_t *)it->key, it->keylen);
                sb_add(b, ",namespace,,\n");
                cur = (unsigned)it->num;
                ns_count++;
                continue;
            }
        }
        if (it->ns != cur) {
            const char *name = esf_nvs_image_ns_name(img, it->ns);
            if (it->ns == 0 || !name || it->ns > ns_count)
                return unsupported(err, it, "item in a namespace the CSV cannot select");
            /* back to an earlier namespace: fine for espforge's generator; the reference
             * (0.1.4 ... 0.2.0) writes such rows to the newest namespace instead */
            csv_field(b, (const uint8_t *)name, strlen(name));
            sb_add(b, ",namespace,,\n");
            cur = it->ns;
            switch_back = true;
        }
        if (it->type == ESF_NVS_TYPE_BLOB_IDX ||
            (it->type == ESF_NVS_TYPE_BLOB_DATA && !blob_of_first_chunk(img, k)))
            continue; /* written with its blob's first chunk; stale chunks are not data */
        if (it->type == ESF_NVS_TYPE_BLOB_DATA) {
            const esf_nvs_value *v = blob_of_first_chunk(img, k);
            d = v->data;
            n = v->len;
        }
        if (it->type == ESF_NVS_TYPE_BLOB_DATA || it->type == ESF_NVS_TYPE_BLOB) {
            static const char *const sta[3] = { "sta.apinfo", "sta.pmk", "sta.apsw" };
            bool skip = false;
            for (int s = 0; s < 3; s++)
                if (sta_seen && !sta_skipped[s] && is_key(it, sta[s]) && wifi_injected(it, d, n))
                    skip = sta_skipped[s] = true;
            if (is_key(it, "ap.pmk_info") && n == 132 && all_eq(d, 100, 0) &&
                has_key(img, it->ns, "ap.ssid") && has_key(img, it->ns, "ap.passwd") &&
                has_key(img, it->ns, "ap.authmode"))
                skip = true;
            if (skip)
                continue;
        }
        if (!csv_text_ok((const uint8_t *)it->key, it->keylen) || it->key[0] == '#' ||
            !it->keylen)
            return unsupported(err, it, "key not representable");
        csv_field(b, (const uint8_t *)it->key, it->keylen);
        quirks |= it->ns == 0 || (it->type == ESF_NVS_TYPE_STR && (n == 0 || d[n - 1] != 0));
        for (size_t j = 0; j < k && !quirks; j++)
            quirks = img->items[j].ns == it->ns && is_key(&img->items[j], it->key) &&
                     img->items[j].type != ESF_NVS_TYPE_BLOB_DATA &&
                     img->items[j].type != ESF_NVS_TYPE_BLOB_IDX;
        if (esf_nvs_type_is_prim(it->type)) {
            const esf_nvs_value *v = value_of_item(img, k);
            esf_nvs_value tmp = { .type = it->type, .num = it->num };
            if (it->type == ESF_NVS_TYPE_FLOAT || it->type == ESF_NVS_TYPE_DOUBLE)
                return unsupported(err, it, "float types have no generator encoding");
            sb_addf(b, ",data,%s,", native_type(v ? v : &tmp));
            add_value_int(b, v ? v : &tmp);
        } else if (it->type == ESF_NVS_TYPE_STR) {
            bool nul = n > 0 && d[n - 1] == 0;
            if (!csv_text_ok(d, nul ? n - 1 : n))
                return unsupported(err, it, "string holds bytes a CSV cell cannot carry");
            sb_add(b, nul ? ",data,string," : ",data,STRING,");
            csv_field(b, d, nul ? n - 1 : n);
        } else {
            sb_add(b, ",data,");
            if (!((is_key(it, "ap.ssid") || is_key(it, "ap.passwd")) && fill_form(b, d, n))) {
                if (base64) {
                    sb_add(b, "base64,");
                    b64(b, d, n);
                } else {
                    sb_add(b, "hex2bin,");
                    add_hex(b, d, n);
                }
            }
        }
        sb_add(b, "\n");
        if (is_key(it, "sta.ssid") || is_key(it, "sta.pswd"))
            sta_seen = true;
    }
    /* the header comment names the generator that rebuilds the image */
    sb head = { 0 };
    unsigned version = image_version(img);
    if (switch_back && !quirks)
        sb_addf(&head, "# espforge nvs dump: %u pages; regenerate with: espforge nvs gen THIS.csv "
                       "OUT.bin --size 0x%zx --version %u\n", img->npages, img->size, version);
    else
        sb_addf(&head, "# espforge nvs dump: %u pages; regenerate with: espforge nvs_partition_gen "
                       "generate THIS.csv OUT.bin 0x%zx --version %u\n", img->npages, img->size,
                version);
    sb_addn(&head, b->p ? b->p : "", b->len);
    head.oom |= b->oom;
    sb_free(b);
    *b = head;
    return ESF_OK;
}

int esf_nvs_dump(FILE *out, const esf_nvs_image *img, const esf_nvs_dump_opts *opts,
                 esf_error *err)
{
    sb b = { 0 };
    int rc = ESF_OK;
    if (!out || !img || !opts)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_dump: NULL argument");
    switch (opts->format) {
    case ESF_NVS_DUMP_TEXT: dump_text(&b, img); break;
    case ESF_NVS_DUMP_JSON: dump_json(&b, img); break;
    case ESF_NVS_DUMP_CSV: rc = dump_csv(&b, img, opts->blob_base64, err); break;
    default: rc = esf_error_set(err, ESF_ERR_INVALID_ARG, "unknown dump format %d", opts->format);
    }
    if (rc == ESF_OK)
        rc = sb_flush(&b, out, err);
    sb_free(&b);
    return rc;
}

/* ---- diff */

static void value_text(sb *b, const esf_nvs_value *v)
{
    sb_addf(b, "%s ", native_type(v));
    if (v->kind == ESF_NVS_KIND_INT)
        add_value_int(b, v);
    else if (v->kind == ESF_NVS_KIND_STR)
        add_quoted(b, v->data, str_len(v));
    else
        add_hex(b, v->data, v->len);
}

static bool value_equal(const esf_nvs_value *x, const esf_nvs_value *y)
{
    if (x->kind != y->kind || x->type != y->type)
        return false;
    if (x->kind == ESF_NVS_KIND_INT)
        return x->num == y->num;
    return x->len == y->len && (!x->len || !memcmp(x->data, y->data, x->len));
}

static const esf_nvs_value *value_by_name(const esf_nvs_image *img, const esf_nvs_value *v)
{
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *w = &img->values[i];
        if (w->ns_name && v->ns_name && !strcmp(w->ns_name, v->ns_name) && !strcmp(w->key, v->key))
            return w;
    }
    return NULL;
}

int esf_nvs_diff(FILE *out, const esf_nvs_image *a, const esf_nvs_image *b, size_t *ndiff,
                 esf_error *err)
{
    sb s = { 0 };
    size_t n = 0;
    if (!out || !a || !b)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_diff: NULL argument");
    for (size_t i = 0; i < a->nvalues; i++) {
        const esf_nvs_value *v = &a->values[i], *w = value_by_name(b, v);
        if (w && value_equal(v, w))
            continue;
        sb_addf(&s, "%c %s:%s ", w ? '~' : '-', v->ns_name ? v->ns_name : "?", v->key);
        value_text(&s, v);
        if (w) {
            sb_add(&s, " -> ");
            value_text(&s, w);
        }
        sb_add(&s, "\n");
        n++;
    }
    for (size_t i = 0; i < b->nvalues; i++) {
        const esf_nvs_value *w = &b->values[i];
        if (value_by_name(a, w))
            continue;
        sb_addf(&s, "+ %s:%s ", w->ns_name ? w->ns_name : "?", w->key);
        value_text(&s, w);
        sb_add(&s, "\n");
        n++;
    }
    if (ndiff)
        *ndiff = n;
    int rc = sb_flush(&s, out, err);
    sb_free(&s);
    return rc;
}

/* ---- native check report */

static const char *sev_name(esf_nvs_severity s)
{
    return s == ESF_NVS_SEV_ERROR ? "error" : s == ESF_NVS_SEV_WARN ? "warning" : "info";
}

int esf_nvs_report_print(FILE *out, const esf_nvs_report *rep, uint64_t base, bool json,
                         esf_error *err)
{
    sb b = { 0 };
    if (!out || !rep)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_report_print: NULL argument");
    if (json)
        sb_addf(&b, "{\n  \"errors\": %u,\n  \"warnings\": %u,\n  \"findings\": [", rep->errors,
                rep->warnings);
    size_t shown = 0;
    for (size_t i = 0; i < rep->count; i++) {
        const esf_nvs_finding *f = &rep->items[i];
        /* info lines (page CRC OK ...) only in JSON */
        if (!json && f->severity == ESF_NVS_SEV_INFO)
            continue;
        if (json) {
            sb_addf(&b, "%s\n    {\"rule\": \"%s\", \"severity\": \"%s\", \"reference\": %s, "
                        "\"page\": %d, \"entry\": %d, \"offset\": ", shown++ ? "," : "",
                    esf_nvs_rule_id(f->rule), sev_name(f->severity),
                    f->reference ? "true" : "false", f->page, f->entry);
            if (f->offset < 0)
                sb_add(&b, "null");
            else
                sb_addf(&b, "%" PRIu64, base + (uint64_t)f->offset);
            sb_addf(&b, ", \"namespace\": %u, \"key\": ", f->ns);
            json_utf8(&b, (const uint8_t *)f->key, strlen(f->key));
            sb_add(&b, ", \"message\": ");
            json_utf8(&b, (const uint8_t *)f->msg, strlen(f->msg));
            sb_add(&b, "}");
            continue;
        }
        shown++;
        if (f->page < 0)
            sb_add(&b, "partition: ");
        else if (f->entry < 0)
            sb_addf(&b, "page %d (offset 0x%" PRIx64 "): ", f->page, base + (uint64_t)f->offset);
        else
            sb_addf(&b, "page %d entry %d (offset 0x%" PRIx64 "): ", f->page, f->entry,
                    base + (uint64_t)f->offset);
        sb_addf(&b, "%s: %s [%s]\n", sev_name(f->severity), f->msg, esf_nvs_rule_id(f->rule));
    }
    if (json)
        sb_add(&b, shown ? "\n  ]\n}\n" : "]\n}\n");
    else
        sb_addf(&b, "%u error(s), %u warning(s)\n", rep->errors, rep->warnings);
    int rc = sb_flush(&b, out, err);
    sb_free(&b);
    return rc;
}
