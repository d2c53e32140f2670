/* nvs_tool.py-compatible renderers: the text dump modes, the two JSON formats and the -i
 * integrity-check messages, byte for byte (spec nvs-generator.md §9-§10). The data model is the
 * raw page view of nvs_image.h; the findings come from nvs_check.c. */
#include "espforge/nvs_dump.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/le.h"
#include "internal/strbuf.h"

enum style { BOLD, RED, GREEN, YELLOW, CYAN };
static const char *const ansi[] = { "\033[1m", "\033[31m", "\033[32m", "\033[33m", "\033[36m" };
#define ANSI_CLEAR "\033[0m"

/* append `text` wrapped in a style when colour is on */
static void sb_style(esf_sb *b, bool color, enum style st, const char *text)
{
    if (color)
        esf_sb_add(b, ansi[st]);
    esf_sb_add(b, text);
    if (color)
        esf_sb_add(b, ANSI_CLEAR);
}

/* sb_style() and a newline */
static void sb_style_line(esf_sb *b, bool color, enum style st, const char *text)
{
    sb_style(b, color, st, text);
    esf_sb_add(b, "\n");
}

/* sb_style() of the text built in `inner`, then release `inner` (its oom carries over) */
static void sb_style_take(esf_sb *b, bool color, enum style st, esf_sb *inner)
{
    sb_style(b, color, st, inner->p ? inner->p : "");
    b->oom |= inner->oom;
    esf_sb_free(inner);
}

/* close the buffer as one output chunk */
/* ---- nvs_tool's entry model helpers */

static uint8_t tool_key_len(const uint8_t *e)
{
    uint8_t n = 16;
    while (n > 0 && e[8 + n - 1] == 0)
        n--;
    return n;
}

static void tool_key(esf_sb *b, const uint8_t *e) { esf_sb_latin1(b, e + 8, tool_key_len(e)); }

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

static void tool_value(esf_sb *b, const uint8_t *e, const char *none)
{
    int64_t v;
    bool u;
    if (tool_int(e, &v, &u))
        esf_sb_int(b, v, u);
    else
        esf_sb_add(b, none);
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

static void type_field(esf_sb *b, uint8_t t)
{
    char hex[8];
    esf_sb_addf(b, "%-10s", tool_type_text(t, hex));
}

static bool printable(uint8_t c)
{
    return (c >= 0x20 && c < 0x7F) || (c > 0xA0 && c != 0xAD);
}

/* Python's NVS_Entry.dump_raw() */
static void dump_raw(esf_sb *b, const uint8_t *e)
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
    esf_sb_addn(b, line, k);
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
    esf_sb_addn(b, text, k);
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

static void flush_empties(esf_sb *b, bool color, int first, int last, int n)
{
    char t[16];
    if (n >= 3) {
        snprintf(t, sizeof t, " %03d.", first);
        sb_style(b, color, BOLD, t);
        esf_sb_add(b, " Empty\n");
        sb_style_line(b, color, BOLD, " ...");
        snprintf(t, sizeof t, " %03d.", last);
        sb_style(b, color, BOLD, t);
        esf_sb_add(b, " Empty\n");
    } else {
        for (int i = first; n > 0 && i <= last; i++) {
            snprintf(t, sizeof t, " %03d.", i);
            sb_style(b, color, BOLD, t);
            esf_sb_add(b, " Empty\n");
        }
    }
}

static void crc_field(esf_sb *b, bool color, uint32_t v, bool ok, const char *fmt)
{
    char t[16];
    snprintf(t, sizeof t, fmt, v);
    sb_style(b, color, ok ? GREEN : RED, t);
}

static void dump_everything(esf_sb *b, const esf_nvs_image *img, bool written_only, bool color)
{
    char t[160];
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        if (pg->blank_header) {
            snprintf(t, sizeof t, "Page Empty, Page address: 0x%x", pg->offset);
            sb_style(b, color, BOLD, t);
        } else {
            esf_sb inner = { 0 };
            esf_sb_addf(&inner, "Page no. %u, Status: %s, Version: %u, CRC32: ", pg->seq,
                    esf_nvs_pstatus_name(pg->status), 256u - pg->version_byte);
            crc_field(&inner, color, pg->crc, pg->crc == pg->crc_calc, "%8x");
            sb_style_take(b, color, BOLD, &inner);
            snprintf(t, sizeof t, ", Page address: 0x%x", pg->offset);
            sb_style(b, color, BOLD, t);
        }
        esf_sb_add(b, "\n");
        sb_style(b, color, BOLD, " Entry state bitmap: ");
        for (unsigned i = 0; i < 32; i++)
            esf_sb_addf(b, "%02x ", pg->raw[32 + i]);
        esf_sb_add(b, "\n");
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
            esf_sb_add(b, " ");
            const char *st = esf_nvs_state_name(s->state);
            if (s->state == ESF_NVS_ENTRY_WRITTEN || s->state == ESF_NVS_ENTRY_ERASED) {
                snprintf(t, sizeof t, "%-7s", st);
                sb_style(b, color, s->state == ESF_NVS_ENTRY_WRITTEN ? GREEN : RED, t);
            } else {
                esf_sb_add(b, st);
            }
            esf_sb_addf(b, ", Namespace Index: %03u, Type: ", e[0]);
            type_field(b, e[1]);
            esf_sb_addf(b, ", Span: %03u, Chunk Index: %03u, CRC32: ", e[2], e[3]);
            crc_field(b, color, s->crc, s->crc == s->crc_calc, "%8x");
            esf_sb_add(b, " | ");
            tool_key(b, e);
            esf_sb_add(b, ": ");
            if (!tool_is_var(e[1])) {
                tool_value(b, e, "None");
            } else if (e[1] == ESF_NVS_TYPE_BLOB_IDX) {
                esf_sb_addf(b, "Size=%u, ChunkCount=%u, ChunkStart=%u", esf_le32(e + 24), e[28],
                        e[29]);
            } else {
                esf_sb_addf(b, "Size=%u, CRC32=", esf_le16(e + 24));
                crc_field(b, color, s->data_crc, s->data_crc == s->data_crc_calc, "%x");
            }
            esf_sb_add(b, "\n");
            if (e[2] != 1)
                for (unsigned ch = 0; ch < s->nchild; ch++) {
                    esf_sb_addf(b, "      0x%03x  ", ch * 32);
                    dump_raw(b, e + 32 * (ch + 1));
                    esf_sb_add(b, "\n");
                }
        }
        flush_empties(b, color, efirst, elast, en);
        esf_sb_add(b, "\n");
    }
}

/* payload of a top-level slot: its children cut to the size field */
static size_t slot_payload(const esf_nvs_slot *s, const uint8_t *e)
{
    size_t n = 32u * s->nchild, size = esf_le16(e + 24);
    return size < n ? size : n;
}

/* Python repr() of bytes */
static void py_bytes_repr(esf_sb *b, const uint8_t *d, size_t n)
{
    bool sq = memchr(d, '\'', n) != NULL, dq = memchr(d, '"', n) != NULL;
    char quote = sq && !dq ? '"' : '\'';
    esf_sb_addf(b, "b%c", quote);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (c == (uint8_t)quote || c == '\\')
            esf_sb_addf(b, "\\%c", c);
        else if (c == '\t')
            esf_sb_add(b, "\\t");
        else if (c == '\n')
            esf_sb_add(b, "\\n");
        else if (c == '\r')
            esf_sb_add(b, "\\r");
        else if (c < 0x20 || c >= 0x7F)
            esf_sb_addf(b, "\\x%02x", c);
        else
            esf_sb_addn(b, (const char *)&c, 1);
    }
    esf_sb_addf(b, "%c", quote);
}

static void ns_label(esf_sb *b, const tool_ns *ns, uint8_t idx, bool color)
{
    esf_sb nm = { 0 };
    if (ns->has[idx])
        tool_key(&nm, ns->entry[idx]);
    else
        esf_sb_addf(&nm, "%u", idx);
    sb_style_take(b, color, CYAN, &nm);
}

static void key_label(esf_sb *b, const uint8_t *e, bool color)
{
    esf_sb k = { 0 };
    tool_key(&k, e);
    sb_style_take(b, color, YELLOW, &k);
}

static void dump_minimal(esf_sb *b, const esf_nvs_image *img, bool color)
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
        esf_sb_add(b, "\n");
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            if (s->state != ESF_NVS_ENTRY_WRITTEN || e[0] == 0 || e[1] == ESF_NVS_TYPE_BLOB_IDX ||
                !ns.has[e[0]])
                continue;
            esf_sb_add(b, " ");
            ns_label(b, &ns, e[0], color);
            esf_sb_add(b, ":");
            key_label(b, e, color);
            if (!tool_is_var(e[1])) {
                esf_sb_add(b, " = ");
                tool_value(b, e, "None");
            } else if (e[1] == ESF_NVS_TYPE_BLOB_DATA) {
                esf_sb_addf(b, "[%u] = ", e[3] >= 128 ? e[3] - 128u : e[3]);
            } else if (e[1] == ESF_NVS_TYPE_STR) {
                esf_sb_add(b, " = ");
                esf_sb_addn(b, (const char *)e + 32, slot_payload(s, e));
            } else {
                esf_sb_add(b, " = ");
                py_bytes_repr(b, e + 32, slot_payload(s, e));
            }
            esf_sb_add(b, "\n");
        }
        esf_sb_add(b, "\n");
    }
}

static void list_namespaces(esf_sb *b, const esf_nvs_image *img, bool color)
{
    tool_ns ns;
    tool_ns_collect(img, &ns, false);
    sb_style_line(b, color, BOLD, "Index: Namespace");
    for (unsigned i = 0; i < 256; i++)
        if (ns.has[i]) {
            esf_sb_addf(b, " %03u: ", i);
            ns_label(b, &ns, (uint8_t)i, color);
            esf_sb_add(b, "\n");
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

static void blob_header(esf_sb *b, const tool_ns *ns, const uint8_t *e, bool color, const char *what,
                        uint32_t size)
{
    ns_label(b, ns, e[0], color);
    esf_sb_add(b, ":");
    key_label(b, e, color);
    esf_sb_addf(b, " - Type: %s, Size: %u\n", what, size);
}

/* the raw child entries of `r`, numbered on from line `line` (32 bytes a line); returns the next
 * line */
static unsigned dump_children(esf_sb *b, const tref *r, unsigned line)
{
    for (unsigned ch = 0; ch < r->s->nchild; ch++, line++) {
        esf_sb_addf(b, "  0x%05x  ", line * 32);
        dump_raw(b, r->e + 32 * (ch + 1));
        esf_sb_add(b, "\n");
    }
    return line;
}

static int dump_blobs(esf_sb *b, const esf_nvs_image *img, bool color)
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
                sb_style_line(b, color, YELLOW, "  ---------------------------------------------------"
                                                "------------ Missing data ------------------------"
                                                "----------------------------------------");
                line++;
                continue;
            }
            line = dump_children(b, &chunk[c], line);
        }
        esf_sb_add(b, "\n");
    }
    for (size_t j = 0; j < nstr; j++) {
        blob_header(b, &ns, str[j].e, color, "String", esf_le16(str[j].e + 24));
        dump_children(b, &str[j], 0);
        esf_sb_add(b, "\n");
    }
    for (size_t j = 0; j < nleg; j++) {
        blob_header(b, &ns, leg[j].e, color, "Blob (Version 1)", esf_le16(leg[j].e + 24));
        dump_children(b, &leg[j], 0);
        esf_sb_add(b, "\n");
    }
out:
    free(idx);
    free(str);
    free(leg);
    return rc;
}

static void storage_stats(esf_sb *b, const esf_nvs_image *img, bool color)
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
        esf_sb_addf(b, "\n  Found entries:\n    Written: % 5d\n    Erased:  % 5d\n"
                   "    Empty:   % 5d\n    Invalid: % 5d\n    Total:   % 5d\n\n",
                (int)c[0], (int)c[1], (int)c[2], (int)c[3], (int)(c[0] + c[1] + c[2] + c[3]));
        for (int i = 0; i < 4; i++)
            g[i] += c[i];
    }
    sb_style(b, color, BOLD, "Global");
    esf_sb_addf(b, "\n  Config:\n    Page size:   % 5d\n    Entry size:  % 5d\n"
               "    Total pages: % 5d\n  Entries:\n    Written: % 5d\n    Erased:  % 5d\n"
               "    Empty:   % 5d\n    Invalid: % 5d\n    Total:   % 5d\n\n",
            (int)ESF_NVS_PAGE_SIZE, (int)ESF_NVS_ENTRY_SIZE, (int)img->npages, (int)g[0],
            (int)g[1], (int)g[2], (int)g[3], (int)(g[0] + g[1] + g[2] + g[3]));
}

int esf_nvs_tool_text(FILE *out, const esf_nvs_image *img, esf_nvs_tool_mode mode, bool color,
                      esf_error *err)
{
    esf_sb b = { 0 };
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
        rc = esf_sb_flush(&b, out, err);
    esf_sb_free(&b);
    return rc;
}

/* a new line of JSON at `depth` levels of `ind` spaces (as json.dumps(indent=ind)) with
 * printf-style text (at most 255 bytes) */
static void json_line(esf_sb *b, int ind, int depth, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void json_line(esf_sb *b, int ind, int depth, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    esf_sb_json_indent(b, ind, depth);
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        esf_sb_addn(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* the full dump's lines: json.dumps(indent=2) */
#define jl(b, depth, ...) json_line(b, 2, depth, __VA_ARGS__)

/* a line `"name": "<base64 of the 32 bytes at d>",` at `depth` */
static void jl_raw32(esf_sb *b, int depth, const char *name, const uint8_t *d)
{
    jl(b, depth, "\"%s\": ", name);
    esf_sb_json_base64(b, d, 32);
    esf_sb_add(b, ",");
}

/* a line `"name": "<key of entry e>",` at `depth` levels of `ind` spaces */
static void json_key_line(esf_sb *b, int ind, int depth, const char *name, const uint8_t *e)
{
    json_line(b, ind, depth, "\"%s\": ", name);
    esf_sb_json_latin1(b, e + 8, tool_key_len(e));
    esf_sb_add(b, ",");
}

/* the "]" closing a list of `n` items whose own line is at `depth` (json.dumps(indent=2)) */
static void json_list_end(esf_sb *b, size_t n, int depth)
{
    if (n)
        esf_sb_json_indent(b, 2, depth);
    esf_sb_add(b, "]");
}

/* one NVS_Entry.toJSON() at `depth` (the object's own indentation level) */
static void json_entry(esf_sb *b, const esf_nvs_page *pg, unsigned index, const esf_nvs_slot *s,
                       int depth)
{
    const uint8_t *e = esf_nvs_page_entry(pg, index);
    int d = depth + 1;
    uint32_t crc_calc = esf_nvs_item_crc(e);
    esf_sb_add(b, "{");
    jl_raw32(b, d, "raw", e);
    jl(b, d, "\"state\": \"%s\",", esf_nvs_state_name(pg->states[index]));
    bool blank = true;
    for (int i = 0; i < 32; i++)
        blank &= e[i] == 0xFF;
    jl(b, d, "\"is_empty\": %s,", blank ? "true" : "false");
    jl(b, d, "\"index\": %u,", index);
    jl(b, d, "\"metadata\": {");
    jl(b, d + 1, "\"namespace\": %u,", e[0]);
    jl(b, d + 1, "\"type\": ");
    char hex[8];
    esf_sb_addf(b, "\"%s\",", tool_type_text(e[1], hex));
    jl(b, d + 1, "\"span\": %u,", e[2]);
    jl(b, d + 1, "\"chunk_index\": %u,", e[3]);
    jl(b, d + 1, "\"crc\": {");
    jl(b, d + 2, "\"original\": %u,", esf_le32(e + 4));
    jl(b, d + 2, "\"computed\": %u,", crc_calc);
    jl(b, d + 2, "\"data_original\": %u,", esf_le32(e + 28));
    jl(b, d + 2, "\"data_computed\": %u", s ? s->data_crc_calc : 0);
    jl(b, d + 1, "}");
    jl(b, d, "},");
    json_key_line(b, 2, d, "key", e);
    jl(b, d, "\"data\": {");
    esf_sb_json_indent(b, 2, d + 1);
    int64_t v;
    bool u;
    if (tool_int(e, &v, &u)) {
        esf_sb_add(b, "\"value\": ");
        esf_sb_int(b, v, u);
    } else if (esf_nvs_tool_type_name(e[1]) && tool_is_var(e[1])) {
        bool idx = e[1] == ESF_NVS_TYPE_BLOB_IDX;
        uint32_t size = idx ? esf_le32(e + 24) : esf_le16(e + 24);
        esf_sb_add(b, "\"value\": [");
        jl(b, d + 2, "%u,", size);
        if (idx) {
            jl(b, d + 2, "%u,", e[28]);
            jl(b, d + 2, "%u", e[29]);
        } else {
            jl(b, d + 2, "%u", esf_le32(e + 28));
        }
        jl(b, d + 1, "],");
        jl(b, d + 1, "\"size\": %u,", size);
        if (idx) {
            jl(b, d + 1, "\"chunk_count\": %u,", e[28]);
            jl(b, d + 1, "\"chunk_start\": %u", e[29]);
        } else {
            jl(b, d + 1, "\"crc\": %u", esf_le32(e + 28));
        }
    } else {
        esf_sb_add(b, "\"value\": null");
    }
    jl(b, d, "},");
    jl(b, d, "\"children\": [");
    unsigned nchild = s ? s->nchild : 0;
    for (unsigned ch = 0; ch < nchild; ch++) {
        esf_sb_json_indent(b, 2, d + 1);
        json_entry(b, pg, index + 1 + ch, NULL, d + 1);
        if (ch + 1 < nchild)
            esf_sb_add(b, ",");
    }
    json_list_end(b, nchild, d);
    jl(b, depth, "}");
}

static void json_all(esf_sb *b, const esf_nvs_image *img, const char *name)
{
    esf_sb_add(b, "{");
    jl(b, 1, "\"name\": ");
    esf_sb_json_utf8(b, (const uint8_t *)name, strlen(name));
    esf_sb_add(b, ",");
    jl(b, 1, "\"pages\": [");
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        jl(b, 2, "{");
        jl(b, 3, "\"is_empty\": %s,", pg->blank_header ? "true" : "false");
        jl(b, 3, "\"start_address\": %u,", pg->offset);
        jl_raw32(b, 3, "raw_header", pg->raw);
        jl_raw32(b, 3, "raw_entry_state_bitmap", pg->raw + 32);
        jl(b, 3, "\"header\": {");
        jl(b, 4, "\"status\": \"%s\",", esf_nvs_pstatus_name(pg->status));
        jl(b, 4, "\"page_index\": %u,", pg->seq);
        jl(b, 4, "\"version\": %u,", 256u - pg->version_byte);
        jl(b, 4, "\"crc\": {");
        jl(b, 5, "\"original\": %u,", pg->crc);
        jl(b, 5, "\"computed\": %u", pg->crc_calc);
        jl(b, 4, "}");
        jl(b, 3, "},");
        jl(b, 3, "\"entries\": [");
        for (unsigned k = 0; k < pg->nslots; k++) {
            esf_sb_json_indent(b, 2, 4);
            json_entry(b, pg, pg->slots[k].index, &pg->slots[k], 4);
            if (k + 1 < pg->nslots)
                esf_sb_add(b, ",");
        }
        json_list_end(b, pg->nslots, 3);
        jl(b, 2, "}");
        if (p + 1 < img->npages)
            esf_sb_add(b, ",");
    }
    json_list_end(b, img->npages, 1);
    jl(b, 0, "}\n");
}

static void json_minimal(esf_sb *b, const esf_nvs_image *img)
{
    tool_ns ns;
    size_t n = 0;
    tool_ns_collect(img, &ns, false);
    esf_sb_add(b, "[");
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            if (s->state != ESF_NVS_ENTRY_WRITTEN || e[0] == 0 || e[1] == ESF_NVS_TYPE_BLOB_IDX ||
                !ns.has[e[0]])
                continue;
            esf_sb_add(b, n++ ? ",\n    {" : "\n    {");
            json_key_line(b, 4, 2, "namespace", ns.entry[e[0]]);
            json_key_line(b, 4, 2, "key", e);
            char hex[8];
            json_line(b, 4, 2, "\"encoding\": \"%s\",", tool_type_text(e[1], hex));
            json_line(b, 4, 2, "\"data\": ");
            if (!tool_is_var(e[1])) {
                tool_value(b, e, "null");
            } else {
                size_t len = slot_payload(s, e);
                if (e[1] == ESF_NVS_TYPE_STR) {
                    while (len > 0 && e[32 + len - 1] == 0)
                        len--;
                    esf_sb_json_utf8(b, e + 32, len);
                } else {
                    esf_sb_json_base64(b, e + 32, len);
                }
            }
            esf_sb_add(b, ",");
            json_line(b, 4, 2, "\"state\": \"Written\",");
            json_line(b, 4, 2, "\"is_empty\": %s", s->blank ? "true" : "false");
            json_line(b, 4, 1, "}");
        }
    }
    esf_sb_add(b, n ? "\n]\n" : "]\n");
}

int esf_nvs_tool_json(FILE *out, const esf_nvs_image *img, const char *name, bool minimal,
                      esf_error *err)
{
    esf_sb b = { 0 };
    if (!out || !img)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_tool_json: NULL argument");
    if (minimal)
        json_minimal(&b, img);
    else
        json_all(&b, img, name ? name : "");
    int rc = esf_sb_flush(&b, out, err);
    esf_sb_free(&b);
    return rc;
}

/* ---- nvs_tool -i */

static void tool_dup_line(esf_sb *b, const esf_nvs_image *img, const esf_nvs_finding *f, bool color)
{
    const esf_nvs_page *pg = &img->pages[f->page];
    const uint8_t *e = esf_nvs_page_entry(pg, (unsigned)f->entry);
    esf_sb line = { 0 }, type = { 0 };
    if (e[0] == 0) {
        esf_sb_add(&type, "namespace (");
        tool_value(&type, e, "None");
        esf_sb_add(&type, ")");
    } else {
        esf_sb_add(&type, esf_nvs_tool_type_name(e[1]));
    }
    size_t klen = tool_key_len(e);
    esf_sb_addf(&line, "#%03d\t", f->entry);
    tool_key(&line, e);
    for (size_t t = klen / 8; t < 3; t++)
        esf_sb_add(&line, "\t");
    esf_sb_add(&line, type.p ? type.p : "");
    for (size_t t = type.len / 8; t < 2; t++)
        esf_sb_add(&line, "\t");
    esf_sb_addf(&line, "%u\t\t%u\t%s", e[0], pg->seq, esf_nvs_pstatus_name(pg->status));
    b->oom |= type.oom;
    esf_sb_free(&type);
    sb_style_take(b, color, RED, &line);
    esf_sb_add(b, "\n");
}

/* " Namespace index: NNN [key]" of namespace `ns` defined by entry `def` (NULL: undefined) */
static void tool_ns_ref(esf_sb *b, uint8_t ns, const uint8_t *def)
{
    esf_sb_addf(b, " Namespace index: %03u [", ns);
    if (def) {
        tool_key(b, def);
    } else {
        esf_sb_add(b, "undefined");
    }
    esf_sb_add(b, "]");
}

/* the last Written namespace-0 definition of index `idx` (NULL if none), as nvs_tool's
 * found_namespaces */
static const uint8_t *ns_definition(const esf_nvs_image *img, uint8_t idx)
{
    tool_ns ns;
    tool_ns_collect(img, &ns, false);
    return ns.has[idx] ? ns.entry[idx] : NULL;
}

int esf_nvs_tool_check(FILE *out, const esf_nvs_image *img, const esf_nvs_report *rep,
                       bool color, esf_error *err)
{
    esf_sb b = { 0 };
    bool dup_header = false, blank_done = false;
    if (!out || !img || !rep)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_tool_check: NULL argument");
    for (size_t i = 0; i <= rep->count; i++) {
        const esf_nvs_finding *f = i < rep->count ? &rep->items[i] : NULL;
        if (f && !f->reference)
            continue;
        if (!blank_done && (!f || f->rule >= ESF_NVS_R_BLOB_ORPHAN)) {
            esf_sb_add(&b, "\n");
            blank_done = true;
        }
        if (!f)
            break;
        const esf_nvs_page *pg = f->page >= 0 ? &img->pages[f->page] : NULL;
        const uint8_t *e = pg && f->entry >= 0 ? esf_nvs_page_entry(pg, (unsigned)f->entry)
                                              : NULL;
        char t[192];
        switch (f->rule) {
        case ESF_NVS_R_SIZE:
            sb_style_line(&b, color, YELLOW,
                          "NVS Partition size must be at least 0x3000 (4kiB * 3 pages == 12kiB)!");
            break;
        case ESF_NVS_R_NO_FREE_PAGE:
            sb_style_line(&b, color, RED, "No free (empty) page found in the NVS partition,\nat "
                                          "least one free page is required for proper function!");
            sb_style_line(&b, color, RED, "NVS partition possibly truncated?\n");
            break;
        case ESF_NVS_R_PAGE_EMPTY:
            sb_style_line(&b, color, CYAN, "Page Empty");
            break;
        case ESF_NVS_R_EMPTY_BITMAP:
            sb_style_line(&b, color, RED,
                          "The page is reported as Empty but its entry state bitmap is not empty!");
            break;
        case ESF_NVS_R_EMPTY_DATA:
            sb_style_line(&b, color, RED,
                          "The page is reported as Empty but there are data written!");
            break;
        case ESF_NVS_R_PAGE_CRC_OK:
            snprintf(t, sizeof t, "Page no. %u", pg->seq);
            sb_style(&b, color, CYAN, t);
            esf_sb_add(&b, " \tCRC32: OK\n");
            break;
        case ESF_NVS_R_PAGE_CRC:
            snprintf(t, sizeof t, "Page no. %u", pg->seq);
            sb_style(&b, color, CYAN, t);
            esf_sb_add(&b, " Original CRC32: ");
            crc_field(&b, color, f->a, false, "%x");
            esf_sb_add(&b, " Generated CRC32: ");
            crc_field(&b, color, f->b, true, "%x");
            esf_sb_add(&b, "\n");
            break;
        case ESF_NVS_R_WRITTEN_EMPTY:
            snprintf(t, sizeof t, " Entry #%03d is reported as Written but it is empty!",
                     f->entry);
            sb_style_line(&b, color, RED, t);
            break;
        case ESF_NVS_R_ERASED_EMPTY:
            snprintf(t, sizeof t, " Entry #%03d is reported as Erased but it is empty! (Only "
                                  "entries reported as Empty should be empty)", f->entry);
            sb_style_line(&b, color, YELLOW, t);
            break;
        case ESF_NVS_R_ENTRY_CRC:
        case ESF_NVS_R_DATA_CRC:
        case ESF_NVS_R_TYPE_UNKNOWN:
        case ESF_NVS_R_SPAN_OOB: {
            esf_sb m = { 0 };
            if (f->rule == ESF_NVS_R_TYPE_UNKNOWN)
                esf_sb_addf(&m, " Type of entry #%03d ", f->entry);
            else if (f->rule == ESF_NVS_R_SPAN_OOB)
                esf_sb_addf(&m, " Variable length entry #%03d ", f->entry);
            else
                esf_sb_addf(&m, " Entry #%03d ", f->entry);
            tool_key(&m, e);
            esf_sb_add(&m, f->rule == ESF_NVS_R_ENTRY_CRC ? " has wrong CRC32!     "
                       : f->rule == ESF_NVS_R_DATA_CRC ? " data (string, blob) has wrong CRC32!"
                       : f->rule == ESF_NVS_R_TYPE_UNKNOWN ? " is unrecognized!"
                                                           : " is out of bounds!");
            sb_style_take(&b, color, f->rule == ESF_NVS_R_TYPE_UNKNOWN ? YELLOW : RED, &m);
            if (f->rule == ESF_NVS_R_TYPE_UNKNOWN) {
                esf_sb_addf(&b, " Type: 0x%02x", f->a);
            } else if (f->rule != ESF_NVS_R_SPAN_OOB) {
                esf_sb_add(&b, " Written: ");
                crc_field(&b, color, f->a, false, "%x");
                esf_sb_add(&b, " Generated: ");
                crc_field(&b, color, f->b, true, "%x");
            }
            esf_sb_add(&b, "\n");
            break;
        }
        case ESF_NVS_R_CHILD_STATE:
            sb_style(&b, color, YELLOW, " Inconsistent data state!");
            esf_sb_addf(&b, " Entry #%03d ", f->entry);
            tool_key(&b, e);
            esf_sb_addf(&b, " state: %s, Data entry #%03u ", esf_nvs_state_name(pg->states[f->entry]),
                    f->a);
            tool_key(&b, e);
            esf_sb_addf(&b, " state: %s\n", esf_nvs_state_name((uint8_t)f->b));
            break;
        case ESF_NVS_R_DUPLICATE:
            if (!dup_header) {
                sb_style_line(&b, color, RED, "Found duplicate entries:");
                sb_style_line(&b, color, RED,
                              "Entry\tKey\t\t\tType\t\tNamespace idx\tPage\tPage status");
                dup_header = true;
            }
            tool_dup_line(&b, img, f, color);
            break;
        case ESF_NVS_R_BLOB_ORPHAN:
        case ESF_NVS_R_BLOB_MISSING_CHUNK:
        case ESF_NVS_R_BLOB_MISSING_DATA: {
            esf_sb m = { 0 };
            esf_sb_add(&m, "Blob ");
            tool_key(&m, e);
            if (f->rule == ESF_NVS_R_BLOB_ORPHAN)
                esf_sb_add(&m, " chunk has no blob index!");
            else if (f->rule == ESF_NVS_R_BLOB_MISSING_CHUNK)
                esf_sb_add(&m, " is missing a chunk!");
            else
                esf_sb_addf(&m, " is missing %u B of data!", f->a);
            sb_style_take(&b, color, RED, &m);
            if (f->rule == ESF_NVS_R_BLOB_MISSING_DATA) {
                esf_sb_addf(&b, " Namespace index: %03u\n", e[0]);
                break;
            }
            tool_ns_ref(&b, e[0], ns_definition(img, e[0]));
            esf_sb_addf(&b, ", Chunk Index: %03u\n", f->a);
            break;
        }
        case ESF_NVS_R_NS_UNDEFINED:
            sb_style(&b, color, RED, "Undefined namespace index!");
            tool_ns_ref(&b, f->ns, NULL);
            esf_sb_add(&b, "\n");
            break;
        case ESF_NVS_R_NS_UNUSED:
            sb_style(&b, color, YELLOW, "Found unused namespace.");
            tool_ns_ref(&b, f->ns, ns_definition(img, f->ns));
            esf_sb_add(&b, "\n");
            break;
        default:
            break;
        }
    }
    int rc = esf_sb_flush(&b, out, err);
    esf_sb_free(&b);
    return rc;
}
