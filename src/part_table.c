/* Partition tables: keywords, the 32-byte binary codec, validation (PartitionTable.verify),
 * rendering (CSV, summary, JSON) and lookup. Spec: partition-table.md. CSV parsing is in
 * part_csv.c. */
#include "espforge/part_table.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/number.h"
#include "internal/crypto.h"
#include "internal/le.h"
#include "internal/part_internal.h"

/* ---- keywords (§3) */

static const part_kw kw_types[] = {
    { "bootloader", 2 }, { "partition_table", 3 }, { "app", 0 }, { "data", 1 },
};
static const part_kw kw_boot[] = { { "primary", 0 }, { "ota", 1 }, { "recovery", 2 } };
static const part_kw kw_ptab[] = { { "primary", 0 }, { "ota", 1 } };
static const part_kw kw_app[] = {
    { "factory", 0x00 }, { "test", 0x20 },
    { "ota_0", 0x10 }, { "ota_1", 0x11 }, { "ota_2", 0x12 }, { "ota_3", 0x13 },
    { "ota_4", 0x14 }, { "ota_5", 0x15 }, { "ota_6", 0x16 }, { "ota_7", 0x17 },
    { "ota_8", 0x18 }, { "ota_9", 0x19 }, { "ota_10", 0x1a }, { "ota_11", 0x1b },
    { "ota_12", 0x1c }, { "ota_13", 0x1d }, { "ota_14", 0x1e }, { "ota_15", 0x1f },
    { "tee_0", 0x30 }, { "tee_1", 0x31 },
};
static const part_kw kw_data[] = {
    { "ota", 0x00 }, { "phy", 0x01 }, { "nvs", 0x02 }, { "coredump", 0x03 },
    { "nvs_keys", 0x04 }, { "efuse", 0x05 }, { "undefined", 0x06 }, { "esphttpd", 0x80 },
    { "fat", 0x81 }, { "spiffs", 0x82 }, { "littlefs", 0x83 }, { "tee_ota", 0x90 },
};

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

struct esf_part_keywords {
    part_kw *list[4];  /* by type value 0..3 */
    size_t n[4];
};

static part_kwlist builtin_subtypes(int64_t type)
{
    switch (type) {
    case 0: return (part_kwlist){ kw_app, LEN(kw_app) };
    case 1: return (part_kwlist){ kw_data, LEN(kw_data) };
    case 2: return (part_kwlist){ kw_boot, LEN(kw_boot) };
    case 3: return (part_kwlist){ kw_ptab, LEN(kw_ptab) };
    default: return (part_kwlist){ NULL, 0 };
    }
}

part_kwlist part_types(void) { return (part_kwlist){ kw_types, LEN(kw_types) }; }

part_kwlist part_subtypes(const esf_part_keywords *kw, int64_t type)
{
    if (!kw || type < 0 || type > 3)
        return builtin_subtypes(type);
    return (part_kwlist){ kw->list[type], kw->n[type] };
}

int part_kw_find(part_kwlist l, const char *name, int64_t *value)
{
    for (size_t i = 0; i < l.n; i++)
        if (!strcmp(l.items[i].name, name)) {
            if (value)
                *value = l.items[i].value;
            return 1;
        }
    return 0;
}

int64_t part_subtype_value(const esf_part_keywords *kw, int64_t type, const char *name)
{
    int64_t v;
    return part_kw_find(part_subtypes(kw, type), name, &v) ? v : -1;
}

int part_is_primary(const esf_part_keywords *kw, int64_t type, int64_t subtype)
{
    return (type == ESF_PART_TYPE_BOOTLOADER || type == ESF_PART_TYPE_PARTITION_TABLE) &&
           subtype == part_subtype_value(kw, type, "primary");
}

const char *part_hex(char *buf, size_t len, int64_t v)
{
    if (v < 0)
        snprintf(buf, len, "0x-%" PRIx64, (uint64_t)0 - (uint64_t)v);  /* Python "0x%x" % -1 */
    else
        snprintf(buf, len, "0x%" PRIx64, (uint64_t)v);
    return buf;
}

const char *esf_part_type_name(int64_t type)
{
    for (size_t i = 0; i < LEN(kw_types); i++)
        if (kw_types[i].value == type)
            return kw_types[i].name;
    return NULL;
}

const char *esf_part_subtype_name(const esf_part_keywords *kw, int64_t type, int64_t subtype)
{
    part_kwlist l = part_subtypes(kw, type);
    for (size_t i = 0; i < l.n; i++)
        if (l.items[i].value == subtype)
            return l.items[i].name;
    return NULL;
}

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

void esf_part_keywords_free(esf_part_keywords *kw)
{
    if (!kw)
        return;
    for (int t = 0; t < 4; t++) {
        for (size_t i = 0; i < kw->n[t]; i++)
            free((char *)kw->list[t][i].name);
        free(kw->list[t]);
    }
    free(kw);
}

/* Python str.strip() for the ASCII whitespace an argument can hold. */
static void strip_span(const char **s, size_t *n)
{
    const char *p = *s;
    size_t len = *n;
    while (len && (*p == ' ' || (*p >= '\t' && *p <= '\r') || (*p >= 0x1c && *p <= 0x1f)))
        p++, len--;
    while (len && (p[len - 1] == ' ' || (p[len - 1] >= '\t' && p[len - 1] <= '\r') ||
                   (p[len - 1] >= 0x1c && p[len - 1] <= 0x1f)))
        len--;
    *s = p;
    *n = len;
}

/* Python int(v, 16): optional whitespace and sign, optional 0x, hex digits with single '_'. */
static int parse_hex16(const char *s, size_t n, int64_t *out)
{
    char buf[96];
    strip_span(&s, &n);
    if (n == 0 || n > 64)
        return -1;
    size_t i = 0, o = 0;
    bool neg = false;
    if (s[i] == '+' || s[i] == '-')
        neg = s[i++] == '-';
    if (n - i >= 2 && s[i] == '0' && (s[i + 1] == 'x' || s[i + 1] == 'X'))
        i += 2;
    buf[o++] = '0';
    buf[o++] = 'x';
    for (; i < n; i++)
        buf[o++] = s[i];
    buf[o] = '\0';
    if (o == 2)
        return -1;
    int64_t v;
    if (esf_parse_int(buf, &v, NULL) < 0)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

static int kw_append(esf_part_keywords *kw, int t, const char *name, size_t nlen, int64_t value)
{
    for (size_t i = 0; i < kw->n[t]; i++)
        if (strlen(kw->list[t][i].name) == nlen && !memcmp(kw->list[t][i].name, name, nlen)) {
            kw->list[t][i].value = value; /* Python dict: same key keeps its place */
            return ESF_OK;
        }
    part_kw *l = realloc(kw->list[t], (kw->n[t] + 1) * sizeof *l);
    if (!l)
        return ESF_ERR_NO_MEM;
    kw->list[t] = l;
    char *copy = malloc(nlen + 1);
    if (!copy)
        return ESF_ERR_NO_MEM;
    memcpy(copy, name, nlen);
    copy[nlen] = '\0';
    l[kw->n[t]].name = copy;
    l[kw->n[t]].value = value;
    kw->n[t]++;
    return ESF_OK;
}

int esf_part_keywords_new(esf_part_keywords **out, const char *const *extras, size_t n,
                          bool strict, const esf_warn_sink *warn, esf_error *err)
{
    *out = NULL;
    esf_part_keywords *kw = calloc(1, sizeof *kw);
    int rc = ESF_OK;
    if (!kw)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    for (int t = 0; t < 4; t++) {
        part_kwlist b = builtin_subtypes(t);
        for (size_t i = 0; i < b.n; i++)
            if ((rc = kw_append(kw, t, b.items[i].name, strlen(b.items[i].name), b.items[i].value)) < 0)
                goto nomem;
    }
    for (size_t a = 0; a < n; a++) {
        const char *arg = extras[a];
        /* fields = [f.strip() for f in arg.split(',')] */
        const char *f[3];
        size_t fl[3], nf = 0;
        const char *p = arg;
        for (;;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (nf < 3) {
                f[nf] = p;
                fl[nf] = len;
                strip_span(&f[nf], &fl[nf]);
            }
            nf++;
            if (!c)
                break;
            p = c + 1;
        }
        if (nf < 3) {
            rc = esf_error_set(err, ESF_ERR_PARSE,
                               "Error parsing custom subtypes: '%s' is not TYPE,NAME,VALUE" PART_CRASH_NOTE, arg);
            goto done;
        }
        int64_t value;
        if (parse_hex16(f[2], fl[2], &value) < 0) {
            rc = esf_error_set(err, ESF_ERR_PARSE,
                               "Error parsing custom subtypes: invalid hex value '%.*s' in '%s'" PART_CRASH_NOTE,
                               (int)fl[2], f[2], arg);
            goto done;
        }
        int type = -1;
        for (size_t i = 0; i < LEN(kw_types); i++)
            if (strlen(kw_types[i].name) == fl[0] && !memcmp(kw_types[i].name, f[0], fl[0]))
                type = (int)kw_types[i].value;
        /* the reference checks every type's values in dict order (bootloader, partition_table,
         * app, data), resolving the argument's type only when a value collides */
        static const int order[] = { 2, 3, 0, 1 };
        for (size_t k = 0; k < 4; k++) {
            int t = order[k];
            bool used = false;
            for (size_t i = 0; i < kw->n[t]; i++)
                used |= kw->list[t][i].value == value;
            if (!used)
                continue;
            if (type < 0) {
                rc = esf_error_set(err, ESF_ERR_PARSE,
                                   "Error parsing custom subtypes: Invalid partition type");
                goto done;
            }
            if (type == t) {
                rc = esf_error_set(err, ESF_ERR_EXISTS,
                                   "Found duplicate value in partition subtype ('%s')" PART_CRASH_NOTE, arg);
                goto done;
            }
        }
        if (type < 0) {
            rc = esf_error_set(err, ESF_ERR_PARSE,
                               "Error parsing custom subtypes: Invalid partition type '%.*s' in '%s'" PART_CRASH_NOTE,
                               (int)fl[0], f[0], arg);
            goto done;
        }
        /* names are matched lower-cased and after k/m suffix stripping: some can never match */
        bool upper = false;
        for (size_t i = 0; i < fl[1]; i++)
            upper |= f[1][i] >= 'A' && f[1][i] <= 'Z';
        char last = fl[1] ? f[1][fl[1] - 1] : 0;
        bool km = last == 'k' || last == 'K' || last == 'm' || last == 'M';
        if (upper || km || fl[1] == 0) {
            const char *why = fl[1] == 0 ? "is empty" : upper ? "has upper-case letters"
                                                               : "ends in k or m (read as a size suffix)";
            if (strict) {
                rc = esf_error_set(err, ESF_ERR_INVALID,
                                   "extra subtype name '%.*s' %s: a CSV can never use it",
                                   (int)fl[1], f[1], why);
                goto done;
            }
            part_warn_own(warn, NULL, 0, 0, "extra subtype name '%.*s' %s: a CSV can never use it",
                         (int)fl[1], f[1], why);
        }
        if ((rc = kw_append(kw, type, f[1], fl[1], value)) < 0)
            goto nomem;
    }
    *out = kw;
    kw = NULL;
    goto done;
nomem:
    rc = esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
done:
    esf_part_keywords_free(kw);
    return rc;
}

/* ---- options */

void esf_part_opts_init(esf_part_opts *o)
{
    memset(o, 0, sizeof *o);
    o->table_offset = ESF_PART_DEFAULT_OFFSET;
}


int esf_part_opts_check(const esf_part_opts *o, esf_error *err)
{
    if (o->table_offset < -PART_BIG || o->table_offset > PART_BIG)
        return esf_error_set(err, ESF_ERR_RANGE, "table offset 0x%" PRIx64 " is out of range" PART_CRASH_NOTE,
                             (uint64_t)o->table_offset);
    if (o->has_primary_bootloader_offset) {
        if (o->primary_bootloader_offset < -PART_BIG || o->primary_bootloader_offset > PART_BIG)
            return esf_error_set(err, ESF_ERR_RANGE, "primary bootloader offset is out of range" PART_CRASH_NOTE);
        if (o->primary_bootloader_offset >= o->table_offset) {
            /* f"{v:#x}": the sign goes before the prefix */
            int64_t p = o->primary_bootloader_offset, t = o->table_offset;
            return esf_error_set(err, ESF_ERR_INVALID_ARG,
                                 "Unsupported configuration. Primary bootloader must be below "
                                 "partition table. Check --primary-bootloader-offset=%s0x%" PRIx64
                                 " and --offset=%s0x%" PRIx64,
                                 p < 0 ? "-" : "", p < 0 ? (uint64_t)0 - (uint64_t)p : (uint64_t)p,
                                 t < 0 ? "-" : "", t < 0 ? (uint64_t)0 - (uint64_t)t : (uint64_t)t);
        }
    }
    if (o->has_recovery_bootloader_offset &&
        (o->recovery_bootloader_offset < -PART_BIG || o->recovery_bootloader_offset > PART_BIG))
        return esf_error_set(err, ESF_ERR_RANGE, "recovery bootloader offset is out of range" PART_CRASH_NOTE);
    if (o->secure < 0 || o->secure > 2)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "secure must be none, v1 or v2");
    return ESF_OK;
}

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

static int entry_err(esf_error *err, int code, const esf_part_table *t, const esf_part_entry *e,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int entry_err(esf_error *err, int code, const esf_part_table *t, const esf_part_entry *e,
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

static void entry_warn(const esf_part_opts *o, const esf_part_table *t, const esf_part_entry *e,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void entry_warn(const esf_part_opts *o, const esf_part_table *t, const esf_part_entry *e,
                       const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    warn_v(o ? o->warn : NULL, ESF_OK, t->source, e ? e->line : 0, e ? e->column : 0,
           e ? e->bin_offset : -1, fmt, ap);
    va_end(ap);
}

/* ---- rendering (§9) */

static const char *size_text(char *buf, size_t len, int64_t a)
{
    if (a % 0x100000 == 0)
        snprintf(buf, len, "%" PRId64 "M", a / 0x100000);
    else if (a % 0x400 == 0)
        snprintf(buf, len, "%" PRId64 "K", a / 0x400);
    else
        part_hex(buf, len, a);
    return buf;
}

size_t esf_part_entry_csv(const esf_part_entry *e, const esf_part_keywords *kw, char *buf,
                          size_t len)
{
    char tb[32], sb[32], ob[32], zb[32];
    const char *tn = esf_part_type_name(e->type);
    const char *sn = esf_part_subtype_name(kw, e->type, e->subtype);
    if (!tn) {
        snprintf(tb, sizeof tb, "%" PRId64, e->type);
        tn = tb;
    }
    if (!sn) {
        snprintf(sb, sizeof sb, "%" PRId64, e->subtype);
        sn = sb;
    }
    const char *flags = (e->flags & 3) == 3 ? "encrypted:readonly"
                      : (e->flags & 1)      ? "encrypted"
                      : (e->flags & 2)      ? "readonly" : "";
    int n = snprintf(buf, len, "%s,%s,%s,%s,%s,%s", e->name, tn, sn, part_hex(ob, sizeof ob, e->offset),
                     size_text(zb, sizeof zb, e->size), flags);
    return n < 0 ? 0 : (size_t)n;
}

/* A growing string. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool fail;
} sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...)
{
    if (s->fail)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || s->len + (size_t)n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (n >= 0 && s->len + (size_t)n + 1 > cap)
            cap *= 2;
        char *p = n < 0 ? NULL : realloc(s->p, cap);
        if (!p) {
            s->fail = true;
            return;
        }
        s->p = p;
        s->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(s->p + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

static void sb_entry(sbuf *s, const esf_part_entry *e, const esf_part_keywords *kw)
{
    size_t need = esf_part_entry_csv(e, kw, NULL, 0);
    char small[256];
    char *row = need < sizeof small ? small : malloc(need + 1);
    if (!row) {
        s->fail = true;
        return;
    }
    esf_part_entry_csv(e, kw, row, need + 1);
    sb_printf(s, "%s", row);
    if (row != small)
        free(row);
}

static int sb_finish(sbuf *s, char **out, esf_error *err)
{
    if (s->fail || !s->p) {
        free(s->p);
        *out = NULL;
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    }
    *out = s->p;
    return ESF_OK;
}

int esf_part_table_to_csv(const esf_part_table *t, const esf_part_keywords *kw, char **out,
                          esf_error *err)
{
    sbuf s = { 0 };
    sb_printf(&s, "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n");
    for (size_t i = 0; i < t->count; i++) {
        sb_entry(&s, &t->entries[i], kw);
        sb_printf(&s, "\n");
    }
    return sb_finish(&s, out, err);
}

static const char *usage_text(const esf_part_entry *e)
{
    switch (e->type) {
    case 0:
        if (e->subtype == 0x00) return "factory app";
        if (e->subtype == 0x20) return "test app";
        if (e->subtype >= 0x10 && e->subtype <= 0x1f) return "OTA app";
        if (e->subtype == 0x30 || e->subtype == 0x31) return "TEE app";
        return "Unknown app";
    case 1:
        switch (e->subtype) {
        case 0x00: return "OTA data";
        case 0x01: return "RF data";
        case 0x02: return "WiFi data";
        case 0x03: return "coredump";
        case 0x04: return "NVS keys";
        case 0x05: return "efuse";
        case 0x81: return "FAT";
        case 0x82: return "SPIFFS";
        case 0x83: return "LittleFS";
        case 0x90: return "TEE OTA data";
        default: return "Unknown data";
        }
    case 2:
        return e->subtype == 0 ? "primary bootloader" : e->subtype == 1 ? "ota bootloader"
             : e->subtype == 2 ? "recovery bootloader" : "unknown";
    case 3:
        return e->subtype == 0 ? "primary partition_table" : e->subtype == 1 ? "ota partition_table"
                                                                               : "unknown";
    default:
        return "unknown";
    }
}

int esf_part_table_summary(const esf_part_table *t, const esf_part_keywords *kw, char **out,
                           esf_error *err)
{
    (void)kw;
    sbuf s = { 0 };
    sb_printf(&s, "## %-16s %-16s %-2s %-2s %-8s %-8s %-6s %s\n", "Label", "Usage", "Ty", "ST", "Offset",
              "Length", "Size", "Flags");
    for (size_t i = 0; i < t->count; i++) {
        const esf_part_entry *e = &t->entries[i];
        char zb[32];
        const char *flags = (e->flags & 3) == 3 ? "encrypted:readonly"
                          : (e->flags & 1)      ? "encrypted"
                          : (e->flags & 2)      ? "readonly" : "";
        char tail[64];
        size_text(zb, sizeof zb, e->size);
        if (*flags)
            snprintf(tail, sizeof tail, "%-6s %s", zb, flags);
        else
            snprintf(tail, sizeof tail, "%s", zb);
        sb_printf(&s, "%2zu %-16s %-16s %02" PRIx64 " %02" PRIx64 " %08" PRIx64 " %08" PRIx64 " %s\n",
                  i, e->name, usage_text(e), e->type & 0xff, e->subtype & 0xff,
                  (uint64_t)e->offset & 0xffffffffu, (uint64_t)e->size & 0xffffffffu, tail);
    }
    sb_printf(&s, "End of partition table\n");
    return sb_finish(&s, out, err);
}

int esf_part_table_to_json(const esf_part_table *t, const esf_part_keywords *kw, char **out,
                           esf_error *err)
{
    *out = NULL;
    cJSON *root = cJSON_CreateObject();
    cJSON *arr = root ? cJSON_AddArrayToObject(root, "partitions") : NULL;
    bool ok = arr != NULL;
    for (size_t i = 0; ok && i < t->count; i++) {
        const esf_part_entry *e = &t->entries[i];
        cJSON *o = cJSON_CreateObject();
        if (!o || !cJSON_AddItemToArray(arr, o)) {
            cJSON_Delete(o);
            ok = false;
            break;
        }
        const char *tn = esf_part_type_name(e->type);
        const char *sn = esf_part_subtype_name(kw, e->type, e->subtype);
        ok = cJSON_AddStringToObject(o, "name", e->name) &&
             cJSON_AddNumberToObject(o, "type", (double)e->type) &&
             (tn ? cJSON_AddStringToObject(o, "type_name", tn) : cJSON_AddNullToObject(o, "type_name")) &&
             cJSON_AddNumberToObject(o, "subtype", (double)e->subtype) &&
             (sn ? cJSON_AddStringToObject(o, "subtype_name", sn) : cJSON_AddNullToObject(o, "subtype_name")) &&
             cJSON_AddNumberToObject(o, "offset", (double)e->offset) &&
             cJSON_AddNumberToObject(o, "size", (double)e->size) &&
             cJSON_AddNumberToObject(o, "flags", (double)e->flags) &&
             cJSON_AddBoolToObject(o, "encrypted", (e->flags & 1) != 0) &&
             cJSON_AddBoolToObject(o, "readonly", (e->flags & 2) != 0);
    }
    if (ok)
        ok = cJSON_AddBoolToObject(root, "md5", t->has_md5) != NULL;
    char *text = ok ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    /* hand out a malloc'd copy with a final newline (cJSON may use its own allocator) */
    size_t n = strlen(text);
    *out = malloc(n + 2);
    if (*out) {
        memcpy(*out, text, n);
        (*out)[n] = '\n';
        (*out)[n + 1] = '\0';
    }
    cJSON_free(text);
    return *out ? ESF_OK : esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
}

/* ---- validation (§7) */

static int64_t align_offset(int64_t type) { return type == ESF_PART_TYPE_APP ? 0x10000 : 0x1000; }

static void note_row(const esf_part_opts *o, const esf_part_table *t, const esf_part_entry *e)
{
    const esf_part_keywords *kw = o ? o->keywords : NULL;
    size_t need = esf_part_entry_csv(e, kw, NULL, 0);
    char *row = malloc(need + 1);
    if (!row)
        return;
    esf_part_entry_csv(e, kw, row, need + 1);
    entry_warn(o, t, e, "%s", row);
    free(row);
}

static int verify_entry(const esf_part_table *t, const esf_part_entry *e, const esf_part_opts *o,
                        esf_error *err)
{
    const esf_part_keywords *kw = o->keywords;
    char a[32], b[32];
    int64_t al = align_offset(e->type);
    if (e->offset % al)
        return entry_err(err, ESF_ERR_INVALID, t, e, "Partition %s invalid: Offset %s is not aligned to %s",
                         e->name, part_hex(a, sizeof a, e->offset), part_hex(b, sizeof b, al));
    if (e->type == ESF_PART_TYPE_APP) {
        int64_t sa = o->secure == 1 ? 0x10000 : 0x1000;
        if (e->size % sa)
            return entry_err(err, ESF_ERR_INVALID, t, e, "Partition %s invalid: Size %s is not aligned to %s",
                             e->name, part_hex(a, sizeof a, e->size), part_hex(b, sizeof b, sa));
    }
    int64_t tv;
    if (part_kw_find(part_types(), e->name, &tv) && tv != e->type)
        entry_warn(o, t, e,
                   "WARNING: Partition has name '%s' which is a partition type, but does not match "
                   "this partition's type (%s). Mistake in partition table?",
                   e->name, part_hex(a, sizeof a, e->type));
    bool is_sub = false;
    for (int ty = 0; ty < 4 && !is_sub; ty++)
        is_sub = part_kw_find(part_subtypes(kw, ty), e->name, NULL);
    int64_t own;
    if (is_sub && !(part_kw_find(part_subtypes(kw, e->type), e->name, &own) && own == e->subtype))
        entry_warn(o, t, e,
                   "WARNING: Partition has name '%s' which is a partition subtype, but this partition "
                   "has non-matching type %s and subtype %s. Mistake in partition table?",
                   e->name, part_hex(a, sizeof a, e->type), part_hex(b, sizeof b, e->subtype));
    bool ro = (e->flags & ESF_PART_TABLE_FLAG_READONLY) != 0;
    if (e->type == ESF_PART_TYPE_DATA && ro &&
        (e->subtype == part_subtype_value(kw, 1, "ota") ||
         e->subtype == part_subtype_value(kw, 1, "coredump")))
        return entry_err(err, ESF_ERR_INVALID, t, e,
                         "Partition %s invalid: '%s' partition of type %" PRId64 " and subtype %" PRId64
                         " is always read-write and cannot be read-only",
                         e->name, e->name, e->type, e->subtype);
    if (e->type == ESF_PART_TYPE_DATA && e->subtype == part_subtype_value(kw, 1, "nvs") &&
        e->size < 0x3000 && !ro)
        return entry_err(err, ESF_ERR_INVALID, t, e,
                         "Partition %s invalid: '%s' partition of type %" PRId64 " and subtype %" PRId64
                         " of this size (%s) must be flagged as 'readonly' (the size of read/write NVS "
                         "has to be at least 0x3000)",
                         e->name, e->name, e->type, e->subtype, part_hex(a, sizeof a, e->size));
    return ESF_OK;
}

static int cmp_name(const void *a, const void *b)
{
    const esf_part_entry *x = *(const esf_part_entry *const *)a, *y = *(const esf_part_entry *const *)b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x < y ? -1 : x > y);  /* stable */
}

static int cmp_offset(const void *a, const void *b)
{
    const esf_part_entry *x = *(const esf_part_entry *const *)a, *y = *(const esf_part_entry *const *)b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return x < y ? -1 : x > y;  /* stable */
}

static int check_unique_otadata(const esf_part_table *t, const esf_part_opts *o, int64_t subtype,
                                const char *multi_msg, const char *size_msg, esf_error *err)
{
    size_t n = 0;
    const esf_part_entry *first = NULL, *second = NULL;
    for (size_t i = 0; i < t->count; i++) {
        const esf_part_entry *e = &t->entries[i];
        if (e->type == ESF_PART_TYPE_DATA && e->subtype == subtype) {
            if (!first) first = e;
            else if (!second) second = e;
            n++;
        }
    }
    if (n > 1) {
        for (size_t i = 0; i < t->count; i++)
            if (t->entries[i].type == ESF_PART_TYPE_DATA && t->entries[i].subtype == subtype)
                note_row(o, t, &t->entries[i]);
        return entry_err(err, ESF_ERR_INVALID, t, second, "%s", multi_msg);
    }
    if (n == 1 && first->size != 0x2000) {
        note_row(o, t, first);
        return entry_err(err, ESF_ERR_INVALID, t, first, "%s", size_msg);
    }
    return ESF_OK;
}

int esf_part_table_verify(const esf_part_table *t, const esf_part_opts *opts, esf_error *err)
{
    esf_part_opts defaults;
    if (!opts) {
        esf_part_opts_init(&defaults);
        opts = &defaults;
    }
    const esf_part_keywords *kw = opts->keywords;
    int rc;
    for (size_t i = 0; i < t->count; i++)
        if ((rc = verify_entry(t, &t->entries[i], opts, err)) < 0)
            return rc;
    if (t->count == 0)
        return ESF_OK;
    const esf_part_entry **v = malloc(t->count * sizeof *v);
    if (!v)
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    for (size_t i = 0; i < t->count; i++)
        v[i] = &t->entries[i];
    /* duplicate names: print the rows sorted by name, then fail */
    qsort(v, t->count, sizeof *v, cmp_name);
    bool dup = false;
    const esf_part_entry *dup_at = NULL;
    for (size_t i = 1; i < t->count; i++)
        if (!strcmp(v[i]->name, v[i - 1]->name)) {
            dup = true;
            if (!dup_at || v[i] > dup_at)
                dup_at = v[i];  /* the later one in file order */
        }
    if (dup) {
        entry_warn(opts, t, NULL, "A list of partitions that have the same name:");
        for (size_t i = 0; i < t->count; i++) {
            bool d = (i > 0 && !strcmp(v[i]->name, v[i - 1]->name)) ||
                     (i + 1 < t->count && !strcmp(v[i]->name, v[i + 1]->name));
            if (d)
                note_row(opts, t, v[i]);
        }
        rc = entry_err(err, ESF_ERR_EXISTS, t, dup_at, "Partition names must be unique");
        goto done;
    }
    /* placement, by offset */
    qsort(v, t->count, sizeof *v, cmp_offset);
    int64_t low = opts->table_offset + ESF_PART_TABLE_SECTOR;
    char a[32], b[32], c[32];
    for (size_t i = 0; i < t->count; i++) {
        const esf_part_entry *p = v[i];
        if (p->offset < low && !part_is_primary(kw, p->type, p->subtype)) {
            rc = entry_err(err, ESF_ERR_INVALID, t, p, "Partition offset %s is below %s",
                           part_hex(a, sizeof a, p->offset), part_hex(b, sizeof b, low));
            goto done;
        }
        if (i > 0 && p->offset < v[i - 1]->offset + v[i - 1]->size) {
            rc = entry_err(err, ESF_ERR_INVALID, t, p, "Partition at %s overlaps %s-%s",
                           part_hex(a, sizeof a, p->offset), part_hex(b, sizeof b, v[i - 1]->offset),
                           part_hex(c, sizeof c, v[i - 1]->offset + v[i - 1]->size - 1));
            goto done;
        }
    }
    rc = check_unique_otadata(t, opts, part_subtype_value(kw, 1, "ota"),
                              "Found multiple otadata partitions. Only one partition can be defined "
                              "with type=\"data\"(1) and subtype=\"ota\"(0).",
                              "otadata partition must have size = 0x2000", err);
    if (rc < 0)
        goto done;
    rc = check_unique_otadata(t, opts, part_subtype_value(kw, 1, "tee_ota"),
                              "Found multiple TEE otadata partitions. Only one partition can be "
                              "defined with type=\"data\"(1) and subtype=\"tee_ota\"(0x90).",
                              "TEE otadata partition must have size = 0x2000", err);
done:
    free(v);
    return rc;
}

int esf_part_table_check_flash_size(const esf_part_table *t, uint64_t flash_bytes, esf_error *err)
{
    const esf_part_entry *last = NULL;
    for (size_t i = 0; i < t->count; i++)
        if (!last || t->entries[i].offset > last->offset)
            last = &t->entries[i];
    int64_t end = last ? last->offset + last->size : 0;
    if (end > 0 && (uint64_t)end > flash_bytes)
        return entry_err(err, ESF_ERR_NO_SPACE, t, last,
                         "Partitions tables occupies %.1fMB of flash (%" PRId64 " bytes) which does "
                         "not fit in configured flash size %" PRIu64 "MB. Change the flash size in "
                         "menuconfig under the 'Serial Flasher Config' menu.",
                         (double)end / 1048576.0, end, flash_bytes / 1048576u);
    return ESF_OK;
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
            return entry_err(err, ESF_ERR_RANGE, t, e,
                             "partition '%s': %s %s does not fit the binary format (0..%s)" PART_CRASH_NOTE,
                             e->name, what, part_hex(a, sizeof a, v), part_hex(b, sizeof b, max));
        }
    }
    size_t len = n * ESF_PART_ENTRY_SIZE + (md5 ? ESF_PART_ENTRY_SIZE : 0);
    if (len >= ESF_PART_TABLE_MAX_LEN) {
        /* located at the first entry that does not fit (with its MD5 row) */
        size_t first = ESF_PART_TABLE_MAX_LEN / ESF_PART_ENTRY_SIZE - 1 - (md5 ? 1 : 0);
        return entry_err(err, ESF_ERR_NO_SPACE, t, &t->entries[first < n ? first : n - 1],
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
            entry_warn(opts, t, e,
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
