/* espforge: edit an NVS image file (or the NVS partition of a flash image) through the runtime.
 * See include/espforge/nvs_edit.h. */
#include "espforge/nvs_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/io.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_page.h"
#include "espforge/part_table.h"
#include "internal/le.h"

struct esf_nvs_edit {
    char *path;
    size_t file_len;  /* bytes written back (the RAM flash may be longer: rounded up to 4096) */
    esf_flash flash;
    esf_part part;
    esf_nvs *nvs;
};

/* Find the partition labelled `label` in the image's table. */
static int locate(const char *path, const uint8_t *buf, size_t len, const esf_nvs_edit_opts *o,
                  esf_part *view, esf_error *err)
{
    uint32_t at = o->table_offset ? o->table_offset : ESF_PART_DEFAULT_OFFSET;
    esf_part_table *t = NULL;
    int rc = esf_part_table_decode_image(&t, buf, len, at, path, NULL, err);
    if (rc < 0) {
        esf_error_wrap(err, "reading the partition table at 0x%x", at);
        return rc;
    }
    const esf_part_entry *e = esf_part_table_find(t, o->partition);
    if (!e) {
        rc = esf_error_at(err, ESF_ERR_NOT_FOUND, path, at,
                          "no partition labelled '%s' in the partition table", o->partition);
    } else if (e->type != ESF_PART_TYPE_DATA || e->subtype != ESF_PART_SUBTYPE_DATA_NVS) {
        rc = esf_error_at(err, ESF_ERR_INVALID, path, e->bin_offset,
                          "partition '%s' is type 0x%02llx subtype 0x%02llx, not an NVS partition "
                          "(data, nvs)", o->partition, (unsigned long long)e->type,
                          (unsigned long long)e->subtype);
    } else {
        view->offset = (uint32_t)e->offset;
        view->size = (uint32_t)e->size;
        view->flags = e->flags;
        snprintf(view->label, sizeof view->label, "%s", e->name);
        if ((uint64_t)e->offset + (uint64_t)e->size > len)
            rc = esf_error_at(err, ESF_ERR_RANGE, path, e->bin_offset,
                              "partition '%s' (0x%llx + 0x%llx) lies outside the %zu-byte image",
                              o->partition, (unsigned long long)e->offset,
                              (unsigned long long)e->size, len);
    }
    esf_part_table_free(t);
    return rc;
}

/* The safety checks of the file comment, before the runtime's load may erase anything. */
static int probe(const esf_nvs_edit *e, const esf_nvs_edit_opts *o, esf_error *err)
{
    const esf_part *p = &e->part;
    const uint8_t *base = esf_flash_ram_data((esf_flash *)&e->flash) + p->offset;
    int64_t bad_off = -1;
    unsigned checked = 0, good = 0;
    for (uint32_t pg = 0; pg < esf_part_sectors(p); pg++) {
        const uint8_t *page = base + (size_t)pg * ESF_NVS_PAGE_SIZE;
        uint32_t state = esf_le32(page);
        int64_t at = (int64_t)p->offset + (int64_t)pg * ESF_NVS_PAGE_SIZE;
        if (state == ESF_NVS_PAGE_EMPTY)
            continue;
        if (state != ESF_NVS_PAGE_ACTIVE && state != ESF_NVS_PAGE_FULL &&
            state != ESF_NVS_PAGE_FREEING)
            return esf_error_at(err, ESF_ERR_INVALID, e->path, at,
                                "not an NVS partition: page %u has state word 0x%08x (NVS pages "
                                "are blank, ACTIVE, FULL or FREEING)", pg, state);
        if (!esf_nvs_page_header_crc_ok(page))
            return esf_error_at(err, ESF_ERR_INVALID, e->path, at,
                                "not an NVS partition: page %u header CRC 0x%08x, want 0x%08x "
                                "(check it with 'espforge nvs check')", pg, esf_le32(page + 28),
                                esf_nvs_page_header_crc(page));
        if (checked >= 8)
            continue;
        const uint8_t *bitmap = page + ESF_NVS_BITMAP_OFFSET;
        for (unsigned i = 0; i < ESF_NVS_ENTRIES_PER_PAGE; i++) {
            if (esf_nvs_bitmap_get(bitmap, i) != ESF_NVS_ENTRY_WRITTEN)
                continue;
            uint32_t rel = esf_nvs_entry_offset(pg, i);
            uint8_t ent[ESF_NVS_ENTRY_SIZE];
            memcpy(ent, base + rel, sizeof ent);
            if (o->xts_key) {
                int rc = esf_nvs_crypt_entries(0, o->xts_key, rel, ent, ent, 1, err);
                if (rc < 0)
                    return rc;
            }
            checked++;
            if (esf_nvs_item_crc(ent) == esf_le32(ent + 4))
                good++;
            else if (bad_off < 0)
                bad_off = (int64_t)p->offset + rel;
            break;
        }
    }
    if (checked && !good) {
        if (o->xts_key)
            return esf_error_at(err, ESF_ERR_INVALID, e->path, bad_off,
                                "the key%s%s does not decrypt this NVS partition (the entry here "
                                "fails its CRC): wrong keys file, or the image is not encrypted",
                                o->key_source ? " from " : "", o->key_source ? o->key_source : "");
        return esf_error_at(err, ESF_ERR_INVALID, e->path, bad_off,
                            "the entry here fails its CRC: the NVS partition is encrypted (give "
                            "--key KEYS.bin) or damaged (check it with 'espforge nvs check')");
    }
    return ESF_OK;
}

int esf_nvs_edit_open(esf_nvs_edit **out, const char *path, const esf_nvs_edit_opts *opt,
                      esf_error *err)
{
    if (!out || !path)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS edit: NULL argument");
    *out = NULL;
    esf_nvs_edit_opts none = { 0 };
    const esf_nvs_edit_opts *o = opt ? opt : &none;
    if (o->new_size && (o->partition || o->offset || o->size))
        return esf_error_set(err, ESF_ERR_INVALID_ARG,
                             "a new image cannot be combined with a partition or window");
    if (o->partition && (o->offset || o->size))
        return esf_error_set(err, ESF_ERR_INVALID_ARG,
                             "give either a partition label or an offset/size, not both");
    esf_nvs_edit *e = calloc(1, sizeof *e);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc;
    if (!e || !(e->path = strdup(path))) {
        rc = esf_error_set(err, ESF_ERR_NO_MEM, "%s: no memory", path);
        goto done;
    }
    if (o->new_size) {
        if (o->new_size % ESF_SECTOR_SIZE || o->new_size > 0xFFFF000u) {
            rc = esf_error_set(err, ESF_ERR_INVALID_ARG,
                               "new image size %llu is not a multiple of 4096 up to 0xFFFF000",
                               (unsigned long long)o->new_size);
            goto done;
        }
        len = (size_t)o->new_size;
    } else {
        if ((rc = esf_file_read(path, &buf, &len, err)) < 0)
            goto done;
        if (len == 0 || len > 0xFFFFF000u) {
            rc = esf_error_set(err, ESF_ERR_INVALID, "%s: %zu bytes is not an NVS image size",
                               path, len);
            goto done;
        }
    }
    e->file_len = len;
    size_t flash_len = (len + ESF_SECTOR_SIZE - 1) / ESF_SECTOR_SIZE * ESF_SECTOR_SIZE;
    if ((rc = esf_flash_ram_init_from(&e->flash, (uint32_t)flash_len, buf, buf ? len : 0, err)) < 0)
        goto done;
    esf_part view = { 0 };
    if (o->partition) {
        if ((rc = locate(path, buf, len, o, &view, err)) < 0)
            goto done;
    } else {
        view.offset = o->offset;
        view.size = o->size ? o->size : (o->offset < len ? (uint32_t)(len - o->offset) : 0);
        snprintf(view.label, sizeof view.label, "nvs");
        if (!o->offset && !o->size && len % ESF_SECTOR_SIZE) {
            rc = esf_error_set(err, ESF_ERR_INVALID,
                               "%s: %zu bytes is not a multiple of the 4096-byte NVS page", path,
                               len);
            goto done;
        }
        if ((uint64_t)view.offset + view.size > len || view.size == 0) {
            rc = esf_error_set(err, ESF_ERR_RANGE,
                               "%s: NVS window 0x%x + 0x%x lies outside the %zu-byte file", path,
                               view.offset, view.size, len);
            goto done;
        }
    }
    char label[17];
    memcpy(label, view.label, sizeof label);
    uint32_t flags = view.flags;
    if ((rc = esf_part_init(&e->part, &e->flash, view.offset, view.size, label, err)) < 0) {
        esf_error_wrap(err, "%s", path);
        goto done;
    }
    e->part.flags = flags;
    if (!o->new_size && (rc = probe(e, o, err)) < 0)
        goto done;
    esf_nvs_options nopt = { .xts_key = o->xts_key };
    if ((rc = esf_nvs_init(&e->nvs, &e->part, &nopt, err)) < 0) {
        esf_error_wrap(err, "%s", path);
        goto done;
    }
    *out = e;
    e = NULL;
    rc = ESF_OK;
done:
    free(buf);
    esf_nvs_edit_close(e);
    return rc;
}

esf_nvs *esf_nvs_edit_store(const esf_nvs_edit *e)
{
    return e ? e->nvs : NULL;
}

const esf_part *esf_nvs_edit_part(const esf_nvs_edit *e)
{
    return e ? &e->part : NULL;
}

int esf_nvs_edit_commit(esf_nvs_edit *e, esf_error *err)
{
    if (!e)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS edit commit: NULL");
    return esf_file_write_atomic(e->path, esf_flash_ram_data(&e->flash), e->file_len, err);
}

void esf_nvs_edit_close(esf_nvs_edit *e)
{
    if (!e)
        return;
    esf_nvs_deinit(e->nvs);
    esf_flash_close(&e->flash);
    free(e->path);
    free(e);
}

void esf_nvs_edit_wear(const esf_nvs_edit *e, esf_nvs_wear *out)
{
    memset(out, 0, sizeof *out);
    if (!e)
        return;
    const esf_flash_stats *st = &e->flash.stats;
    out->programs = st->programs;
    out->bytes_programmed = st->bytes_programmed;
    out->erases = st->erases;
    out->sectors = esf_part_sectors(&e->part);
    uint32_t first = e->part.offset / ESF_SECTOR_SIZE;
    uint64_t sum = 0;
    for (uint32_t i = 0; i < out->sectors; i++) {
        uint32_t n = st->sector_erases ? st->sector_erases[first + i] : 0;
        if (i == 0 || n < out->min_erases)
            out->min_erases = n;
        if (n > out->max_erases)
            out->max_erases = n;
        sum += n;
    }
    out->mean_erases = out->sectors ? (double)sum / out->sectors : 0.0;
}
