/* Partition tables as text: the reference's CSV rendering (partition-table.md §9), a summary like
 * the bootloader's log (§11.2) and JSON (cJSON). */
#include "espforge/part_table.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/part_internal.h"
#include "internal/strbuf.h"

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

/* Append one entry's CSV row, formatted in place. */
static void sb_entry(esf_sb *s, const esf_part_entry *e, const esf_part_keywords *kw)
{
    size_t need = esf_part_entry_csv(e, kw, NULL, 0);
    esf_sb_grow(s, need);
    if (s->oom)
        return;
    esf_part_entry_csv(e, kw, s->p + s->len, need + 1);
    s->len += need;
}

static int sb_finish(esf_sb *s, char **out, esf_error *err)
{
    if (s->oom || !s->p) {
        esf_sb_free(s);
        *out = NULL;
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory");
    }
    *out = s->p;
    return ESF_OK;
}

int esf_part_table_to_csv(const esf_part_table *t, const esf_part_keywords *kw, char **out,
                          esf_error *err)
{
    esf_sb s = { 0 };
    esf_sb_add(&s, "# ESP-IDF Partition Table\n# Name, Type, SubType, Offset, Size, Flags\n");
    for (size_t i = 0; i < t->count; i++) {
        sb_entry(&s, &t->entries[i], kw);
        esf_sb_addn(&s, "\n", 1);
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
    esf_sb s = { 0 };
    esf_sb_addf(&s, "## %-16s %-16s %-2s %-2s %-8s %-8s %-6s %s\n", "Label", "Usage", "Ty", "ST", "Offset",
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
        esf_sb_addf(&s, "%2zu %-16s %-16s %02" PRIx64 " %02" PRIx64 " %08" PRIx64 " %08" PRIx64 " %s\n",
                  i, e->name, usage_text(e), e->type & 0xff, e->subtype & 0xff,
                  (uint64_t)e->offset & 0xffffffffu, (uint64_t)e->size & 0xffffffffu, tail);
    }
    esf_sb_add(&s, "End of partition table\n");
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
