/* Partition-table validation: PartitionTable.verify and verify_size_fits of gen_esp32part.py
 * (partition-table.md §7), in the reference's order and with its messages. */
#include "espforge/part_table.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/part_internal.h"

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
    part_entry_warn(o, t, e, "%s", row);
    free(row);
}

static int verify_entry(const esf_part_table *t, const esf_part_entry *e, const esf_part_opts *o,
                        esf_error *err)
{
    const esf_part_keywords *kw = o->keywords;
    char a[32], b[32];
    int64_t al = align_offset(e->type);
    if (e->offset % al)
        return part_entry_err(err, ESF_ERR_INVALID, t, e, "Partition %s invalid: Offset %s is not aligned to %s",
                         e->name, part_hex(a, sizeof a, e->offset), part_hex(b, sizeof b, al));
    if (e->type == ESF_PART_TYPE_APP) {
        int64_t sa = o->secure == 1 ? 0x10000 : 0x1000;
        if (e->size % sa)
            return part_entry_err(err, ESF_ERR_INVALID, t, e, "Partition %s invalid: Size %s is not aligned to %s",
                             e->name, part_hex(a, sizeof a, e->size), part_hex(b, sizeof b, sa));
    }
    int64_t tv;
    if (part_kw_find(part_types(), e->name, &tv) && tv != e->type)
        part_entry_warn(o, t, e,
                   "WARNING: Partition has name '%s' which is a partition type, but does not match "
                   "this partition's type (%s). Mistake in partition table?",
                   e->name, part_hex(a, sizeof a, e->type));
    bool is_sub = false;
    for (int ty = 0; ty < 4 && !is_sub; ty++)
        is_sub = part_kw_find(part_subtypes(kw, ty), e->name, NULL);
    int64_t own;
    if (is_sub && !(part_kw_find(part_subtypes(kw, e->type), e->name, &own) && own == e->subtype))
        part_entry_warn(o, t, e,
                   "WARNING: Partition has name '%s' which is a partition subtype, but this partition "
                   "has non-matching type %s and subtype %s. Mistake in partition table?",
                   e->name, part_hex(a, sizeof a, e->type), part_hex(b, sizeof b, e->subtype));
    bool ro = (e->flags & ESF_PART_TABLE_FLAG_READONLY) != 0;
    if (e->type == ESF_PART_TYPE_DATA && ro &&
        (e->subtype == part_subtype_value(kw, 1, "ota") ||
         e->subtype == part_subtype_value(kw, 1, "coredump")))
        return part_entry_err(err, ESF_ERR_INVALID, t, e,
                         "Partition %s invalid: '%s' partition of type %" PRId64 " and subtype %" PRId64
                         " is always read-write and cannot be read-only",
                         e->name, e->name, e->type, e->subtype);
    if (e->type == ESF_PART_TYPE_DATA && e->subtype == part_subtype_value(kw, 1, "nvs") &&
        e->size < 0x3000 && !ro)
        return part_entry_err(err, ESF_ERR_INVALID, t, e,
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
        return part_entry_err(err, ESF_ERR_INVALID, t, second, "%s", multi_msg);
    }
    if (n == 1 && first->size != 0x2000) {
        note_row(o, t, first);
        return part_entry_err(err, ESF_ERR_INVALID, t, first, "%s", size_msg);
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
        part_entry_warn(opts, t, NULL, "A list of partitions that have the same name:");
        for (size_t i = 0; i < t->count; i++) {
            bool d = (i > 0 && !strcmp(v[i]->name, v[i - 1]->name)) ||
                     (i + 1 < t->count && !strcmp(v[i]->name, v[i + 1]->name));
            if (d)
                note_row(opts, t, v[i]);
        }
        rc = part_entry_err(err, ESF_ERR_EXISTS, t, dup_at, "Partition names must be unique");
        goto done;
    }
    /* placement, by offset */
    qsort(v, t->count, sizeof *v, cmp_offset);
    int64_t low = opts->table_offset + ESF_PART_TABLE_SECTOR;
    char a[32], b[32], c[32];
    for (size_t i = 0; i < t->count; i++) {
        const esf_part_entry *p = v[i];
        if (p->offset < low && !part_is_primary(kw, p->type, p->subtype)) {
            rc = part_entry_err(err, ESF_ERR_INVALID, t, p, "Partition offset %s is below %s",
                           part_hex(a, sizeof a, p->offset), part_hex(b, sizeof b, low));
            goto done;
        }
        if (i > 0 && p->offset < v[i - 1]->offset + v[i - 1]->size) {
            rc = part_entry_err(err, ESF_ERR_INVALID, t, p, "Partition at %s overlaps %s-%s",
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
        return part_entry_err(err, ESF_ERR_NO_SPACE, t, last,
                         "Partitions tables occupies %.1fMB of flash (%" PRId64 " bytes) which does "
                         "not fit in configured flash size %" PRIu64 "MB. Change the flash size in "
                         "menuconfig under the 'Serial Flasher Config' menu.",
                         (double)end / 1048576.0, end, flash_bytes / 1048576u);
    return ESF_OK;
}
