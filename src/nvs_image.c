/* Reading an NVS partition image: raw (nvs_tool) view and logical (runtime) view.
 * See include/espforge/nvs_image.h; spec nvs-format.md §3-§12, nvs-generator.md §9. */
#include "espforge/nvs_image.h"

#include <stdlib.h>
#include <string.h>

#include "espforge/nvs_crypt.h"
#include "internal/le.h"

#define PAGE ESF_NVS_PAGE_SIZE
#define NENT ESF_NVS_ENTRIES_PER_PAGE

static bool all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != v)
            return false;
    return true;
}

const char *esf_nvs_pstatus_name(esf_nvs_pstatus s)
{
    static const char *const names[] = { "Empty", "Active", "Full", "Erasing", "Corrupted",
                                         "Invalid" };
    return (unsigned)s < 6 ? names[s] : "Invalid";
}

const char *esf_nvs_state_name(uint8_t state)
{
    static const char *const names[] = { "Erased", "Invalid", "Written", "Empty" };
    return names[state & 3];
}

const char *esf_nvs_tool_type_name(uint8_t type)
{
    if (type == ESF_NVS_TYPE_FLOAT || type == ESF_NVS_TYPE_DOUBLE || type == ESF_NVS_TYPE_ANY)
        return NULL;
    return esf_nvs_type_name(type);
}

const char *esf_nvs_item_fault_name(esf_nvs_item_fault f)
{
    switch (f) {
    case ESF_NVS_ITEM_OK: return "consistent";
    case ESF_NVS_ITEM_BAD_CRC: return "item CRC mismatch";
    case ESF_NVS_ITEM_BAD_HEADER: return "inconsistent item header";
    case ESF_NVS_ITEM_BAD_CHUNK: return "chunk index other than 0xFF on a non-chunk item";
    case ESF_NVS_ITEM_INCOMPLETE: return "payload entries not all written";
    case ESF_NVS_ITEM_BAD_DATA_CRC: return "payload CRC mismatch";
    }
    return "unknown fault";
}

static bool is_float(uint8_t t)
{
    return t == ESF_NVS_TYPE_FLOAT || t == ESF_NVS_TYPE_DOUBLE;
}

esf_nvs_item_fault esf_nvs_entry_fault(const esf_nvs_page *pg, unsigned i, esf_error *why)
{
    esf_nvs_item it;
    esf_error tmp;
    if (i >= NENT)
        return ESF_NVS_ITEM_BAD_HEADER;
    const uint8_t *e = esf_nvs_page_entry(pg, i);
    esf_nvs_item_decode(e, &it);
    int rc = esf_nvs_item_check(&it, i, why ? why : &tmp);
    if (rc == ESF_ERR_CORRUPT)
        return ESF_NVS_ITEM_BAD_CRC;
    if (rc < 0)
        return ESF_NVS_ITEM_BAD_HEADER;
    if (it.type != ESF_NVS_TYPE_BLOB_DATA && it.chunk_index != ESF_NVS_CHUNK_ANY)
        return ESF_NVS_ITEM_BAD_CHUNK;
    if (!esf_nvs_type_is_var(it.type))
        return ESF_NVS_ITEM_OK;
    for (unsigned k = 1; k < it.span; k++)
        if (pg->states[i + k] != ESF_NVS_ENTRY_WRITTEN)
            return ESF_NVS_ITEM_INCOMPLETE;
    if (esf_nvs_crc(e + 32, esf_nvs_item_var_size(&it)) != esf_nvs_item_var_crc(&it))
        return ESF_NVS_ITEM_BAD_DATA_CRC;
    return ESF_NVS_ITEM_OK;
}

static esf_nvs_pstatus status_of(uint32_t w)
{
    switch (w) {
    case ESF_NVS_PAGE_EMPTY: return ESF_NVS_PS_EMPTY;
    case ESF_NVS_PAGE_ACTIVE: return ESF_NVS_PS_ACTIVE;
    case ESF_NVS_PAGE_FULL: return ESF_NVS_PS_FULL;
    case ESF_NVS_PAGE_FREEING: return ESF_NVS_PS_FREEING;
    case 0x00000000u: return ESF_NVS_PS_CORRUPTED;
    default: return ESF_NVS_PS_INVALID;
    }
}

/* nvs_tool's walk: every entry starts a slot; span 0/0xFF counts as 1; payload clipped at the end */
static void page_slots(esf_nvs_page *pg)
{
    unsigned i = 0;
    pg->nslots = 0;
    while (i < NENT) {
        const uint8_t *e = esf_nvs_page_entry(pg, i);
        unsigned span = e[2];
        if (span == 0 || span == 0xFF)
            span = 1;
        esf_nvs_slot *s = &pg->slots[pg->nslots++];
        s->index = (uint8_t)i;
        s->state = pg->states[i];
        s->nchild = (uint8_t)(span - 1 < NENT - 1 - i ? span - 1 : NENT - 1 - i);
        s->blank = all_bytes(e, 32, 0xFF);
        s->crc = esf_le32(e + 4);
        s->crc_calc = esf_nvs_item_crc(e);
        s->data_crc = esf_le32(e + 28);
        s->data_crc_calc = 0;
        if (span != 1) {
            size_t n = 32u * s->nchild;
            uint8_t t = e[1];
            if (esf_nvs_type_is_var(t) && esf_le16(e + 24) != 0 && esf_le16(e + 24) < n)
                n = esf_le16(e + 24);
            else if (t == ESF_NVS_TYPE_BLOB_IDX && esf_le32(e + 24) != 0 && esf_le32(e + 24) < n)
                n = esf_le32(e + 24);
            s->data_crc_calc = esf_nvs_crc(e + 32, n);
        }
        i += span;
    }
}

static void page_parse(esf_nvs_page *pg, const uint8_t *raw, uint32_t number)
{
    memset(pg, 0, sizeof *pg);
    pg->number = number;
    pg->offset = number * PAGE;
    pg->raw = raw;
    pg->blank_header = all_bytes(raw, 32, 0xFF);
    pg->blank = all_bytes(raw, PAGE, 0xFF);
    pg->state_word = esf_le32(raw);
    pg->status = status_of(pg->state_word);
    pg->seq = esf_le32(raw + 4);
    pg->version_byte = raw[8];
    pg->crc = esf_le32(raw + 28);
    pg->crc_calc = esf_nvs_page_header_crc(raw);
    for (unsigned i = 0; i < NENT; i++)
        pg->states[i] = (uint8_t)esf_nvs_bitmap_get(raw + ESF_NVS_BITMAP_OFFSET, i);
    pg->loaded = (pg->status == ESF_NVS_PS_ACTIVE || pg->status == ESF_NVS_PS_FULL ||
                  pg->status == ESF_NVS_PS_FREEING) &&
                 pg->crc == pg->crc_calc && pg->version_byte >= 0xFE;
    page_slots(pg);
}

static int decrypt_entries(uint8_t *bytes, uint32_t npages, const uint8_t *key, esf_error *err)
{
    for (uint32_t p = 0; p < npages; p++)
        for (unsigned i = 0; i < NENT; i++) {
            uint32_t off = esf_nvs_entry_offset(p, i);
            uint8_t *e = bytes + off;
            /* never-written (0xFF) and purged (0x00) entries are stored in the clear */
            if (all_bytes(e, 32, 0xFF) || all_bytes(e, 32, 0x00))
                continue;
            int rc = esf_nvs_crypt_entries(0, key, off, e, e, 1, err);
            if (rc < 0)
                return rc;
        }
    return ESF_OK;
}

/* ---- logical view */

static int cmp_order(const void *a, const void *b, const esf_nvs_page *pages)
{
    const esf_nvs_page *pa = &pages[*(const uint32_t *)a], *pb = &pages[*(const uint32_t *)b];
    if (pa->seq != pb->seq)
        return pa->seq < pb->seq ? -1 : 1;
    return pa->number < pb->number ? -1 : pa->number > pb->number;
}

/* insertion sort (few pages, stable, no global context needed) */
static void sort_order(uint32_t *ord, uint32_t n, const esf_nvs_page *pages)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t v = ord[i], j = i;
        while (j > 0 && cmp_order(&ord[j - 1], &v, pages) > 0) {
            ord[j] = ord[j - 1];
            j--;
        }
        ord[j] = v;
    }
}

static void fill_item(esf_nvs_rec *it, const esf_nvs_page *pg, unsigned i)
{
    const uint8_t *e = esf_nvs_page_entry(pg, i);
    esf_nvs_item dec;
    esf_nvs_item_decode(e, &dec);
    memset(it, 0, sizeof *it);
    it->page = pg->number;
    it->seq = pg->seq;
    it->entry = (uint8_t)i;
    it->ns = e[0];
    it->type = e[1];
    it->span = e[2];
    it->chunk = e[3];
    memcpy(it->key, e + 8, 16);
    it->key[16] = '\0';
    it->keylen = (uint8_t)strlen(it->key);
    if (esf_nvs_type_is_prim(it->type)) { /* FLOAT/DOUBLE: the IEEE-754 bits, zero-extended */
        it->num = (uint64_t)esf_nvs_item_prim_i(&dec);
    } else if (it->type == ESF_NVS_TYPE_BLOB_IDX) {
        it->num = esf_le32(e + 24);
        it->chunk_count = e[28];
        it->chunk_start = e[29];
    } else {
        it->size = esf_le16(e + 24);
        it->data = e + 32;
    }
}

static int collect_items(esf_nvs_image *img, esf_error *err)
{
    size_t cap = 0;
    for (uint32_t k = 0; k < img->norder; k++)
        for (unsigned i = 0; i < NENT; i++)
            cap += img->pages[img->order[k]].states[i] == ESF_NVS_ENTRY_WRITTEN;
    img->items = calloc(cap ? cap : 1, sizeof *img->items);
    if (!img->items)
        return esf_error_set(err, ESF_ERR_NO_MEM, "NVS image: no memory for %zu items", cap);
    for (uint32_t k = 0; k < img->norder; k++) {
        const esf_nvs_page *pg = &img->pages[img->order[k]];
        unsigned i = 0;
        while (i < NENT) {
            if (pg->states[i] != ESF_NVS_ENTRY_WRITTEN) {
                i++;
                continue;
            }
            esf_nvs_item_fault f = esf_nvs_entry_fault(pg, i, NULL);
            unsigned span = esf_nvs_page_entry(pg, i)[2];
            if (f == ESF_NVS_ITEM_OK)
                fill_item(&img->items[img->nitems++], pg, i);
            /* a structurally sound item is skipped whole; a bad header only by itself */
            i += (f == ESF_NVS_ITEM_OK || f == ESF_NVS_ITEM_INCOMPLETE ||
                  f == ESF_NVS_ITEM_BAD_DATA_CRC) ? span : 1;
        }
    }
    return ESF_OK;
}

static bool same_key(const esf_nvs_rec *a, const esf_nvs_rec *b)
{
    return a->ns == b->ns && !strcmp(a->key, b->key);
}

static void collect_namespaces(esf_nvs_image *img)
{
    bool used[256] = { false };
    for (size_t k = 0; k < img->nitems; k++) {
        const esf_nvs_rec *it = &img->items[k];
        if (it->ns != 0 || it->type != ESF_NVS_TYPE_U8)
            continue;
        uint8_t idx = (uint8_t)it->num;
        if (idx == 0 || idx == 255 || used[idx])
            continue;
        bool dup_name = false;
        for (size_t n = 0; n < img->nns; n++)
            dup_name |= !strcmp(img->ns[n].name, it->key);
        if (dup_name)
            continue;
        used[idx] = true;
        esf_nvs_ns *ns = &img->ns[img->nns++];
        ns->index = idx;
        memcpy(ns->name, it->key, sizeof ns->name);
        ns->item = (uint32_t)k;
        img->items[k].live = true;
    }
    /* by index ascending */
    for (size_t i = 1; i < img->nns; i++) {
        esf_nvs_ns v = img->ns[i];
        size_t j = i;
        while (j > 0 && img->ns[j - 1].index > v.index) {
            img->ns[j] = img->ns[j - 1];
            j--;
        }
        img->ns[j] = v;
    }
}

const char *esf_nvs_image_ns_name(const esf_nvs_image *img, uint8_t index)
{
    for (size_t n = 0; img && n < img->nns; n++)
        if (img->ns[n].index == index)
            return img->ns[n].name;
    return NULL;
}

/* chunk family of a blob index: runtime rule J (nvs-format.md §12): every BLOB_DATA of the key
 * whose chunkIndex is in the index's family counts; sizes must sum to the total, the count must
 * equal chunkCount, and each of start..start+count-1 must be present. */
static bool blob_complete(const esf_nvs_image *img, size_t ix)
{
    const esf_nvs_rec *idx = &img->items[ix];
    unsigned lo = idx->chunk_start & 0x80, hi = lo ? 0xFE : 0x7F;
    uint64_t sum = 0;
    unsigned count = 0;
    bool seen[256] = { false };
    for (size_t k = 0; k < img->nitems; k++) {
        const esf_nvs_rec *c = &img->items[k];
        if (c->type != ESF_NVS_TYPE_BLOB_DATA || !same_key(c, idx) || c->chunk < lo || c->chunk > hi)
            continue;
        sum += c->size;
        count++;
        seen[c->chunk] = true;
    }
    if (sum != idx->num || count != idx->chunk_count)
        return false;
    for (unsigned c = idx->chunk_start; c < (unsigned)idx->chunk_start + idx->chunk_count; c++)
        if (c > 0xFF || !seen[c])
            return false;
    return true;
}

static bool is_value_item(const esf_nvs_image *img, size_t k)
{
    const esf_nvs_rec *it = &img->items[k];
    if (it->ns == 0 || it->ns == 255)
        return false;
    if (esf_nvs_type_is_prim(it->type) || it->type == ESF_NVS_TYPE_STR || it->type == ESF_NVS_TYPE_BLOB)
        return true;
    return it->type == ESF_NVS_TYPE_BLOB_IDX && blob_complete(img, k);
}

static int build_values(esf_nvs_image *img, esf_error *err)
{
    size_t *best = NULL; /* per value: chosen item */
    size_t nbest = 0;
    int rc = ESF_OK;
    if (!(best = malloc((img->nitems ? img->nitems : 1) * sizeof *best)))
        return esf_error_set(err, ESF_ERR_NO_MEM, "NVS image: no memory");
    for (size_t k = 0; k < img->nitems; k++) {
        if (!is_value_item(img, k))
            continue;
        const esf_nvs_rec *it = &img->items[k];
        size_t b = 0;
        while (b < nbest && !same_key(&img->items[best[b]], it))
            b++;
        if (b == nbest) {
            best[nbest++] = k;
            continue;
        }
        /* newest wins, except that a v2 blob is preferred over a v1 blob (runtime lookup order) */
        const esf_nvs_rec *old = &img->items[best[b]];
        if (!(old->type == ESF_NVS_TYPE_BLOB_IDX && it->type == ESF_NVS_TYPE_BLOB))
            best[b] = k;
    }
    size_t blob_bytes = 0;
    for (size_t b = 0; b < nbest; b++)
        if (img->items[best[b]].type == ESF_NVS_TYPE_BLOB_IDX)
            blob_bytes += img->items[best[b]].num;
    img->values = calloc(nbest ? nbest : 1, sizeof *img->values);
    img->blob_store = malloc(blob_bytes ? blob_bytes : 1);
    if (!img->values || !img->blob_store) {
        rc = esf_error_set(err, ESF_ERR_NO_MEM, "NVS image: no memory for values");
        goto done;
    }
    size_t at = 0;
    for (size_t b = 0; b < nbest; b++) {
        esf_nvs_rec *it = &img->items[best[b]];
        esf_nvs_value *v = &img->values[img->nvalues++];
        it->live = true;
        v->ns = it->ns;
        v->ns_name = esf_nvs_image_ns_name(img, it->ns);
        memcpy(v->key, it->key, sizeof v->key);
        v->type = it->type;
        v->item = (uint32_t)best[b];
        if (esf_nvs_type_is_prim(it->type)) {
            v->kind = is_float(it->type) ? ESF_NVS_KIND_FLOAT : ESF_NVS_KIND_INT;
            v->num = it->num;
        } else if (it->type != ESF_NVS_TYPE_BLOB_IDX) {
            v->kind = it->type == ESF_NVS_TYPE_STR ? ESF_NVS_KIND_STR : ESF_NVS_KIND_BLOB_V1;
            v->data = it->data;
            v->len = it->size;
        } else {
            v->kind = ESF_NVS_KIND_BLOB;
            v->data = img->blob_store + at;
            v->len = (size_t)it->num;
            for (unsigned c = it->chunk_start; c < (unsigned)it->chunk_start + it->chunk_count;
                 c++)
                for (size_t k = 0; k < img->nitems; k++) {
                    esf_nvs_rec *ch = &img->items[k];
                    if (ch->type == ESF_NVS_TYPE_BLOB_DATA && ch->chunk == c && same_key(ch, it)) {
                        memcpy(img->blob_store + at, ch->data, ch->size);
                        at += ch->size;
                        ch->live = true;
                        break;
                    }
                }
        }
    }
    /* by namespace index, then item order (stable insertion sort) */
    for (size_t i = 1; i < img->nvalues; i++) {
        esf_nvs_value v = img->values[i];
        size_t j = i;
        while (j > 0 && (img->values[j - 1].ns > v.ns ||
                         (img->values[j - 1].ns == v.ns && img->values[j - 1].item > v.item))) {
            img->values[j] = img->values[j - 1];
            j--;
        }
        img->values[j] = v;
    }
done:
    free(best);
    return rc;
}

int esf_nvs_image_parse(esf_nvs_image **out, const uint8_t *buf, size_t len, const uint8_t *key,
                        esf_error *err)
{
    esf_nvs_image *img = NULL;
    int rc;
    if (!out || (!buf && len))
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_image_parse: NULL argument");
    *out = NULL;
    if (len % PAGE)
        return esf_error_at(err, ESF_ERR_INVALID, NULL, (int64_t)(len - len % PAGE),
                            "NVS data is not aligned to the page size (%zu %% 4096 = %zu)", len,
                            len % PAGE);
    if (len / PAGE > UINT32_MAX / PAGE)
        return esf_error_set(err, ESF_ERR_RANGE, "NVS data too large (%zu bytes)", len);
    if (!(img = calloc(1, sizeof *img)) || !(img->bytes = malloc(len ? len : 1))) {
        rc = esf_error_set(err, ESF_ERR_NO_MEM, "NVS image: no memory for %zu bytes", len);
        goto done;
    }
    if (len)
        memcpy(img->bytes, buf, len);
    img->size = len;
    img->npages = (uint32_t)(len / PAGE);
    img->encrypted = key != NULL;
    if (key && (rc = decrypt_entries(img->bytes, img->npages, key, err)) < 0)
        goto done;
    img->pages = calloc(img->npages ? img->npages : 1, sizeof *img->pages);
    img->order = calloc(img->npages ? img->npages : 1, sizeof *img->order);
    img->ns = calloc(254, sizeof *img->ns);
    if (!img->pages || !img->order || !img->ns) {
        rc = esf_error_set(err, ESF_ERR_NO_MEM, "NVS image: no memory for %u pages", img->npages);
        goto done;
    }
    for (uint32_t p = 0; p < img->npages; p++) {
        page_parse(&img->pages[p], img->bytes + (size_t)p * PAGE, p);
        if (img->pages[p].loaded)
            img->order[img->norder++] = p;
    }
    sort_order(img->order, img->norder, img->pages);
    if ((rc = collect_items(img, err)) < 0)
        goto done;
    collect_namespaces(img);
    if ((rc = build_values(img, err)) < 0)
        goto done;
    *out = img;
    img = NULL;
    rc = ESF_OK;
done:
    esf_nvs_image_free(img);
    return rc;
}

int esf_nvs_image_load(esf_nvs_image **out, const esf_part *p, const uint8_t *key, esf_error *err)
{
    uint8_t *buf = NULL;
    int rc;
    if (!out || !p)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_image_load: NULL argument");
    *out = NULL;
    if (!(buf = malloc(p->size ? p->size : 1)))
        return esf_error_set(err, ESF_ERR_NO_MEM, "NVS '%s': no memory for %u bytes", p->label,
                             p->size);
    if ((rc = esf_part_read(p, 0, buf, p->size)) < 0)
        esf_error_at(err, rc, p->label, p->offset, "reading NVS partition '%s' (%u bytes)",
                     p->label, p->size);
    else
        rc = esf_nvs_image_parse(out, buf, p->size, key, err);
    free(buf);
    return rc;
}

void esf_nvs_image_free(esf_nvs_image *img)
{
    if (!img)
        return;
    free(img->bytes);
    free(img->pages);
    free(img->order);
    free(img->items);
    free(img->ns);
    free(img->values);
    free(img->blob_store);
    free(img);
}

const esf_nvs_value *esf_nvs_image_find(const esf_nvs_image *img, const char *ns,
                                        const char *key)
{
    if (!img || !ns || !key)
        return NULL;
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        if (v->ns_name && !strncmp(v->ns_name, ns, 15) && strlen(ns) <= 16 &&
            !strncmp(v->key, key, 15))
            return v;
    }
    return NULL;
}
