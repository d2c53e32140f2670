/* Partition-table keywords: type and subtype names of gen_esp32part.py v6.0.2 (partition-table.md
 * §3), --extra-partition-subtypes, and the small helpers the part_* modules share. */
#include "espforge/part_table.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/number.h"
#include "internal/part_internal.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

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
