/* espforge NVS runtime: the API of include/espforge/nvs.h over the storage core (nvs_store.c,
 * nvs_load.c). Spec nvs-runtime.md §2, §6. */
#include "espforge/nvs.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/le.h"
#include "internal/nvs_store.h"

struct esf_nvs_handle {
    esf_nvs *s;
    uint8_t ns;
    bool ro;
    bool purge;
};

struct esf_nvs_iter {
    esf_nvs *s;
    int ns;          /* namespace index, -1 = any */
    uint8_t type;    /* filter */
    uint32_t k;      /* position in the used list */
    unsigned i;      /* entry of the current item */
    esf_nvs_info info;
};

/* ---- partitions */

int esf_nvs_init(esf_nvs **out, const esf_part *part, const esf_nvs_options *opt, esf_error *err)
{
    if (!out || !part || !part->flash)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS init: NULL argument");
    *out = NULL;
    if (part->flags & ESF_PART_FLAG_ENCRYPTED)
        return esf_error_set(err, ESF_ERR_INVALID,
                             "NVS '%s': the partition is flagged encrypted; NVS data partitions "
                             "must not be (ESP_ERR_NVS_WRONG_ENCRYPTION)", part->label);
    uint32_t npages = part->size / 4096u;
    if (npages == 0 || npages > 0xFFFF)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS '%s': size 0x%x is not 1..65535 pages",
                             part->label, part->size);
    bool ro = (opt && opt->read_only) || (part->flags & ESF_PART_FLAG_READONLY);
    if (opt && opt->xts_key && !ro && esf_nvs_key_halves_equal(opt->xts_key))
        return esf_error_set(err, ESF_ERR_CRYPTO,
                             "NVS '%s': XTS key halves are equal (ESP_ERR_NVS_XTS_CFG_FAILED)",
                             part->label);
    esf_nvs *s = calloc(1, sizeof *s);
    uint32_t slots = 64;
    while (slots < 2u * npages * NVS_EPP)
        slots <<= 1;
    if (s) {
        s->mem = malloc((size_t)npages * 4096u);
        s->pg = calloc(npages, sizeof *s->pg);
        s->used = calloc(npages, sizeof *s->used);
        s->freel = calloc(npages, sizeof *s->freel);
        s->tab = calloc(slots, sizeof *s->tab);
        s->buf = malloc(4096);
    }
    if (!s || !s->mem || !s->pg || !s->used || !s->freel || !s->tab || !s->buf) {
        esf_nvs_deinit(s);
        return esf_error_set(err, ESF_ERR_NO_MEM, "NVS '%s': no memory for %u pages", part->label,
                             npages);
    }
    s->part = *part;
    s->ro = ro;
    s->npages = npages;
    s->tab_mask = slots - 1;
    s->cur = -1;
    int rc = ESF_OK;
    if (opt && opt->xts_key) {
        s->enc = true;
        rc = esf_nvs_cipher_new(&s->dec_c, 0, opt->xts_key, err);
        if (rc == ESF_OK && !ro)
            rc = esf_nvs_cipher_new(&s->enc_c, 1, opt->xts_key, err);
    }
    if (rc == ESF_OK)
        rc = nvs_load(s, err);
    if (rc != ESF_OK) {
        esf_nvs_deinit(s);
        return rc;
    }
    s->dirty = false;
    *out = s;
    return ESF_OK;
}

int esf_nvs_open_file(esf_nvs **out, const char *path, uint32_t offset, uint32_t size,
                      const esf_nvs_options *opt, esf_error *err)
{
    if (!out || !path)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS open file: NULL argument");
    *out = NULL;
    esf_flash *f = calloc(1, sizeof *f);
    if (!f)
        return esf_error_set(err, ESF_ERR_NO_MEM, "%s: no memory", path);
    int rc = esf_flash_file_open(f, path, 0, err);
    if (rc != ESF_OK) {
        free(f);
        return rc;
    }
    if (size == 0 && offset < f->size)
        size = f->size - offset;
    esf_part part;
    if ((rc = esf_part_init(&part, f, offset, size, "nvs", err)) != ESF_OK) {
        esf_error_wrap(err, "%s", path);
    } else if ((rc = esf_nvs_init(out, &part, opt, err)) != ESF_OK) {
        esf_error_wrap(err, "%s", path);
    } else {
        (*out)->own_flash = f;
        return ESF_OK;
    }
    esf_flash_close(f);
    free(f);
    return rc;
}

int esf_nvs_commit_file(esf_nvs *s, esf_error *err)
{
    if (!s || !s->own_flash)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS commit: not a file-backed store");
    if (!s->dirty)
        return ESF_OK;
    int rc = esf_flash_file_commit(s->own_flash, err);
    if (rc == ESF_OK)
        s->dirty = false;
    return rc;
}

void esf_nvs_deinit(esf_nvs *s)
{
    if (!s)
        return;
    free(s->mem);
    free(s->pg);
    free(s->used);
    free(s->freel);
    free(s->tab);
    free(s->buf);
    if (s->own_flash) {
        esf_flash_close(s->own_flash);
        free(s->own_flash);
    }
    esf_nvs_cipher_free(s->enc_c);
    esf_nvs_cipher_free(s->dec_c);
    free(s);
}

int esf_nvs_erase_partition(const esf_part *part, esf_error *err)
{
    if (!part || !part->flash)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS erase: NULL partition");
    int rc = esf_part_erase_range(part, 0, part->size / 4096u * 4096u);
    if (rc != ESF_OK)
        return esf_error_set(err, rc, "NVS '%s': erasing the partition: %s", part->label,
                             esf_strerror(rc));
    return ESF_OK;
}

bool esf_nvs_is_read_only(const esf_nvs *s)
{
    return !s || s->ro;
}

int esf_nvs_get_stats(esf_nvs *s, esf_nvs_stats *st)
{
    if (!st)
        return ESF_ERR_INVALID_ARG;
    memset(st, 0, sizeof *st);
    if (!s)
        return ESF_ERR_INVALID_ARG;
    for (uint32_t k = 0; k < s->nused; k++) {
        st->used_entries += s->pg[s->used[k]].written;
        st->free_entries += NVS_EPP - s->pg[s->used[k]].written;
    }
    st->free_entries += (size_t)NVS_EPP * s->nfree;
    st->total_entries = (size_t)NVS_EPP * (s->nused + s->nfree);
    st->available_entries = st->free_entries >= NVS_EPP ? st->free_entries - NVS_EPP : 0;
    st->namespace_count = s->ns_count;
    return ESF_OK;
}

/* ---- writes (storage level: explicit namespace index) */

static int check_key(const char *key)
{
    if (!key)
        return ESF_ERR_INVALID_ARG;
    return strnlen(key, ESF_NVS_KEY_MAX + 1) > ESF_NVS_KEY_MAX ? ESF_ERR_TOO_LONG : ESF_OK;
}

/* After a new item for (ns, key) is in place at `keep`: erase every other item of the key (the old
 * value, whatever its type; a v2 blob with its chunks). */
static int erase_others(esf_nvs *s, uint8_t ns, const char *key, uint32_t keep, bool purge)
{
    for (;;) {
        uint32_t old = nvs_find(s, ns, key, ESF_NVS_CHUNK_ANY, ESF_NVS_TYPE_ANY, keep);
        if (old == NVS_NO_LOC)
            return ESF_OK;
        int rc = nvs_erase_item_family(s, old, purge);
        if (rc != ESF_OK)
            return rc;
    }
}

static int put_prim(esf_nvs *s, uint8_t ns, const char *key, uint8_t type, uint64_t raw, bool purge)
{
    if (s->broken)
        return ESF_ERR_STATE;
    esf_nvs_item it;
    uint8_t hdr[32];
    int rc = esf_nvs_item_init_prim(&it, ns, type, key, strlen(key), raw);
    if (rc != ESF_OK)
        return rc;
    esf_nvs_item_encode(&it, hdr);
    uint32_t old = nvs_find(s, ns, key, ESF_NVS_CHUNK_ANY, type, NVS_NO_LOC);
    if (old != NVS_NO_LOC && memcmp(nvs_loc_ent(s, old) + 24, hdr + 24, esf_nvs_type_size(type)) == 0)
        return ESF_OK;  /* same value: no flash write at all */
    uint32_t loc;
    if ((rc = nvs_append_or_new_page(s, hdr, NULL, 0, &loc)) != ESF_OK)
        return rc;
    return erase_others(s, ns, key, loc, purge);
}

static const uint8_t *payload_of(esf_nvs *s, uint32_t loc)
{
    return nvs_loc_ent(s, loc) + 32;  /* payload entries follow the header on the same page */
}

static int put_str(esf_nvs *s, uint8_t ns, const char *key, const void *data, size_t size,
                   bool purge)
{
    if (s->broken)
        return ESF_ERR_STATE;
    if (size > ESF_NVS_STR_MAX)
        return ESF_ERR_TOO_LONG;
    esf_nvs_item it;
    uint8_t hdr[32];
    int rc = esf_nvs_item_init_var(&it, ns, ESF_NVS_TYPE_STR, key, strlen(key), ESF_NVS_CHUNK_ANY,
                                   data, size);
    if (rc != ESF_OK)
        return rc;
    esf_nvs_item_encode(&it, hdr);
    uint32_t old = nvs_find(s, ns, key, ESF_NVS_CHUNK_ANY, ESF_NVS_TYPE_STR, NVS_NO_LOC);
    if (old != NVS_NO_LOC && memcmp(nvs_loc_ent(s, old) + 24, hdr + 24, 8) == 0 &&
        memcmp(payload_of(s, old), data, size) == 0)
        return ESF_OK;
    uint32_t loc;
    if ((rc = nvs_append_or_new_page(s, hdr, data, size, &loc)) != ESF_OK)
        return rc;
    return erase_others(s, ns, key, loc, purge);
}

/* True when the v2 blob indexed at `idx` holds exactly `len` bytes `data`. */
static bool blob_equals(esf_nvs *s, uint32_t idx, const uint8_t *data, size_t len)
{
    const uint8_t *e = nvs_loc_ent(s, idx);
    if (esf_le32(e + 24) != len)
        return false;
    char key[16];
    nvs_entry_key(e, key);
    size_t off = 0;
    for (unsigned c = e[29]; c < (unsigned)e[29] + e[28]; c++) {
        uint32_t cl = nvs_find(s, e[0], key, (uint8_t)c, ESF_NVS_TYPE_BLOB_DATA, NVS_NO_LOC);
        if (cl == NVS_NO_LOC)
            return false;
        size_t n = esf_le16(nvs_loc_ent(s, cl) + 24);
        if (n > len - off || memcmp(payload_of(s, cl), data + off, n) != 0)
            return false;
        off += n;
    }
    return off == len;
}

static int put_blob(esf_nvs *s, uint8_t ns, const char *key, const uint8_t *data, size_t len,
                    bool purge)
{
    if (s->broken)
        return ESF_ERR_STATE;
    size_t max = (size_t)(s->npages - 1) * ESF_NVS_STR_MAX;
    if (len > max || len > ESF_NVS_BLOB_MAX)
        return ESF_ERR_TOO_LONG;
    uint32_t old = nvs_find(s, ns, key, ESF_NVS_CHUNK_ANY, ESF_NVS_TYPE_BLOB_IDX, NVS_NO_LOC);
    if (old != NVS_NO_LOC && blob_equals(s, old, data, len))
        return ESF_OK;
    uint8_t start = old != NVS_NO_LOC ? (uint8_t)(nvs_loc_ent(s, old)[29] ^ 0x80u) : 0;
    size_t klen = strlen(key), remaining = len, off = 0;
    unsigned j = 0;
    int rc = ESF_OK;
    uint8_t hdr[32];
    esf_nvs_item it;
    uint32_t loc;
    for (;;) {
        size_t tail = nvs_tailroom(s);
        if (j == 0 && (tail < remaining || (tail == 0 && remaining == 0)) && tail < 400) {
            /* not worth starting here: close the page (nvs-runtime.md §6.4) */
            if ((rc = nvs_new_page(s)) != ESF_OK)
                break;
            if (nvs_tailroom(s) == tail) {
                rc = ESF_ERR_NO_SPACE;
                break;
            }
            continue;
        }
        if (tail == 0) {
            rc = ESF_ERR_NO_SPACE;
            break;
        }
        if (j >= 127) {  /* the reference has no guard; more would overflow into the other family */
            rc = ESF_ERR_TOO_LONG;
            break;
        }
        size_t c = remaining < tail ? remaining : tail;
        esf_nvs_item_init_var(&it, ns, ESF_NVS_TYPE_BLOB_DATA, key, klen, (uint8_t)(start + j),
                              data + off, c);
        esf_nvs_item_encode(&it, hdr);
        if ((rc = nvs_append(s, hdr, data + off, c, &loc)) != ESF_OK) {
            if (rc == NVS_PAGE_FULL)
                rc = ESF_ERR_NO_SPACE;
            break;
        }
        j++;
        remaining -= c;
        off += c;
        if ((remaining > 0 || tail - c < 32) && (rc = nvs_new_page(s)) != ESF_OK)
            break;
        if (remaining == 0) {
            esf_nvs_item_init_blob_idx(&it, ns, key, klen, (uint32_t)len, (uint8_t)j, start);
            esf_nvs_item_encode(&it, hdr);
            rc = nvs_append_or_new_page(s, hdr, NULL, 0, &loc);
            break;
        }
    }
    if (rc != ESF_OK) {
        /* A logical failure (no space) removes the chunks written so far. After a flash failure
         * nothing more is written: the next load drops the orphan chunks (nvs-runtime.md §9.4). */
        for (unsigned c = 0; !s->broken && c < j; c++) {
            uint32_t cl = nvs_find(s, ns, key, (uint8_t)(start + c), ESF_NVS_TYPE_BLOB_DATA,
                                   NVS_NO_LOC);
            if (cl != NVS_NO_LOC)
                nvs_erase_at(s, cl, purge);
        }
        return rc;
    }
    return erase_others(s, ns, key, loc, purge);
}

/* ---- handles */

static int find_namespace(esf_nvs *s, const char *name)
{
    int best = -1;
    for (int i = 1; i < 255; i++)
        if (s->ns_taken[i] && strncmp(s->ns_name[i], name, 15) == 0 &&
            (best < 0 || s->ns_rank[i] < s->ns_rank[best]))
            best = i;
    return best;
}

int esf_nvs_open(esf_nvs *s, const char *ns, esf_nvs_open_mode mode, esf_nvs_handle **out,
                 esf_error *err)
{
    if (!s || !ns || !out || (unsigned)mode > ESF_NVS_READWRITE_PURGE)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS open: bad argument");
    *out = NULL;
    if (strnlen(ns, 16) > 15)
        return esf_error_set(err, ESF_ERR_TOO_LONG, "NVS open: namespace '%.16s...' longer than 15",
                             ns);
    if (mode != ESF_NVS_READONLY && s->ro)
        return esf_error_set(err, ESF_ERR_READ_ONLY, "NVS '%s' is read-only (ESP_ERR_NOT_ALLOWED)",
                             s->part.label);
    int idx = find_namespace(s, ns);
    if (idx < 0) {
        if (mode == ESF_NVS_READONLY)
            return esf_error_set(err, ESF_ERR_NOT_FOUND, "NVS '%s': no namespace '%s'",
                                 s->part.label, ns);
        for (idx = 1; idx < 255 && s->ns_taken[idx]; idx++)
            ;
        if (idx == 255)
            return esf_error_set(err, ESF_ERR_NO_SPACE, "NVS '%s': all 254 namespaces used",
                                 s->part.label);
        int rc = put_prim(s, 0, ns, ESF_NVS_TYPE_U8, (uint64_t)idx, false);
        if (rc != ESF_OK)
            return esf_error_set(err, rc, "NVS '%s': creating namespace '%s': %s", s->part.label,
                                 ns, esf_strerror(rc));
        s->ns_taken[idx] = 1;
        snprintf(s->ns_name[idx], sizeof s->ns_name[idx], "%s", ns);
        s->ns_rank[idx] = ++s->ns_count;
    }
    esf_nvs_handle *h = calloc(1, sizeof *h);
    if (!h)
        return esf_error_set(err, ESF_ERR_NO_MEM, "NVS open: no memory");
    h->s = s;
    h->ns = (uint8_t)idx;
    h->ro = mode == ESF_NVS_READONLY;
    h->purge = mode == ESF_NVS_READWRITE_PURGE;
    *out = h;
    return ESF_OK;
}

void esf_nvs_close(esf_nvs_handle *h)
{
    free(h);
}

esf_nvs *esf_nvs_handle_store(const esf_nvs_handle *h)
{
    return h ? h->s : NULL;
}

/* Common checks of a write through a handle. */
static int writable(esf_nvs_handle *h, const char *key)
{
    if (!h)
        return ESF_ERR_INVALID_ARG;
    int rc = check_key(key);
    if (rc != ESF_OK)
        return rc;
    return h->ro || h->s->ro ? ESF_ERR_READ_ONLY : ESF_OK;
}

int esf_nvs_set_prim(esf_nvs_handle *h, const char *key, uint8_t type, uint64_t raw)
{
    int rc = writable(h, key);
    if (rc != ESF_OK)
        return rc;
    if (!esf_nvs_type_is_prim(type))
        return ESF_ERR_INVALID_ARG;
    return put_prim(h->s, h->ns, key, type, raw, h->purge);
}

int esf_nvs_get_prim(esf_nvs_handle *h, const char *key, uint8_t type, uint64_t *raw)
{
    if (!h || !raw || !esf_nvs_type_is_prim(type))
        return ESF_ERR_INVALID_ARG;
    int rc = check_key(key);
    if (rc != ESF_OK)
        return rc;
    uint32_t loc = nvs_find(h->s, h->ns, key, ESF_NVS_CHUNK_ANY, type, NVS_NO_LOC);
    if (loc == NVS_NO_LOC)
        return ESF_ERR_NOT_FOUND;
    const uint8_t *d = nvs_loc_ent(h->s, loc) + 24;
    uint64_t v = 0;
    for (unsigned i = esf_nvs_type_size(type); i-- > 0;)
        v = v << 8 | d[i];
    *raw = v;
    return ESF_OK;
}

#define ESF_NVS_INT_ACCESSORS(name, ctype, code)                                                  \
    int esf_nvs_set_##name(esf_nvs_handle *h, const char *key, ctype v)                          \
    {                                                                                             \
        return esf_nvs_set_prim(h, key, code, (uint64_t)v & (~UINT64_C(0) >> (64 - 8 * sizeof v))); \
    }                                                                                             \
    int esf_nvs_get_##name(esf_nvs_handle *h, const char *key, ctype *v)                         \
    {                                                                                             \
        uint64_t raw;                                                                             \
        int rc = v ? esf_nvs_get_prim(h, key, code, &raw) : ESF_ERR_INVALID_ARG;                  \
        if (rc == ESF_OK)                                                                         \
            *v = (ctype)raw;                                                                      \
        return rc;                                                                                \
    }
ESF_NVS_INT_ACCESSORS(u8, uint8_t, ESF_NVS_TYPE_U8)
ESF_NVS_INT_ACCESSORS(i8, int8_t, ESF_NVS_TYPE_I8)
ESF_NVS_INT_ACCESSORS(u16, uint16_t, ESF_NVS_TYPE_U16)
ESF_NVS_INT_ACCESSORS(i16, int16_t, ESF_NVS_TYPE_I16)
ESF_NVS_INT_ACCESSORS(u32, uint32_t, ESF_NVS_TYPE_U32)
ESF_NVS_INT_ACCESSORS(i32, int32_t, ESF_NVS_TYPE_I32)
ESF_NVS_INT_ACCESSORS(u64, uint64_t, ESF_NVS_TYPE_U64)
ESF_NVS_INT_ACCESSORS(i64, int64_t, ESF_NVS_TYPE_I64)

int esf_nvs_set_float(esf_nvs_handle *h, const char *key, float v)
{
    if (isnan(v))
        return ESF_ERR_INVALID_ARG;
    uint32_t raw;
    memcpy(&raw, &v, sizeof raw);
    return esf_nvs_set_prim(h, key, ESF_NVS_TYPE_FLOAT, raw);
}

int esf_nvs_set_double(esf_nvs_handle *h, const char *key, double v)
{
    if (isnan(v))
        return ESF_ERR_INVALID_ARG;
    uint64_t raw;
    memcpy(&raw, &v, sizeof raw);
    return esf_nvs_set_prim(h, key, ESF_NVS_TYPE_DOUBLE, raw);
}

int esf_nvs_get_float(esf_nvs_handle *h, const char *key, float *v)
{
    uint64_t raw;
    int rc = v ? esf_nvs_get_prim(h, key, ESF_NVS_TYPE_FLOAT, &raw) : ESF_ERR_INVALID_ARG;
    if (rc == ESF_OK) {
        uint32_t r32 = (uint32_t)raw;
        memcpy(v, &r32, sizeof *v);
    }
    return rc;
}

int esf_nvs_get_double(esf_nvs_handle *h, const char *key, double *v)
{
    uint64_t raw;
    int rc = v ? esf_nvs_get_prim(h, key, ESF_NVS_TYPE_DOUBLE, &raw) : ESF_ERR_INVALID_ARG;
    if (rc == ESF_OK)
        memcpy(v, &raw, sizeof *v);
    return rc;
}

int esf_nvs_set_str(esf_nvs_handle *h, const char *key, const char *value)
{
    int rc = writable(h, key);
    if (rc != ESF_OK)
        return rc;
    if (!value)
        return ESF_ERR_INVALID_ARG;
    return put_str(h->s, h->ns, key, value, strlen(value) + 1, h->purge);
}

int esf_nvs_set_blob(esf_nvs_handle *h, const char *key, const void *value, size_t len)
{
    int rc = writable(h, key);
    if (rc != ESF_OK)
        return rc;
    if (!value && len)
        return ESF_ERR_INVALID_ARG;
    return put_blob(h->s, h->ns, key, value, len, h->purge);
}

/* A var-length item (string, v1 blob, chunk) whose data CRC fails is erased (ESP-IDF does so even
 * through a read-only handle; never on a read-only store) and reported NOT_FOUND. */
static bool payload_ok(esf_nvs *s, uint32_t loc)
{
    const uint8_t *e = nvs_loc_ent(s, loc);
    if (esf_nvs_crc(e + 32, esf_le16(e + 24)) == esf_le32(e + 28))
        return true;
    if (!s->broken)
        nvs_erase_at(s, loc, false);
    return false;
}

/* Size check shared by get_str/get_blob: ESF_OK to copy `size` bytes, else the return code. */
static int size_check(void *buf, size_t *len, size_t size)
{
    if (!len)
        return ESF_ERR_RANGE;
    if (!buf) {
        *len = size;
        return 1;
    }
    if (*len < size) {
        *len = size;
        return ESF_ERR_RANGE;
    }
    return ESF_OK;
}

static int get_var(esf_nvs_handle *h, const char *key, uint8_t type, void *buf, size_t *len)
{
    uint32_t loc = nvs_find(h->s, h->ns, key, ESF_NVS_CHUNK_ANY, type, NVS_NO_LOC);
    if (loc == NVS_NO_LOC || !payload_ok(h->s, loc))
        return ESF_ERR_NOT_FOUND;
    size_t size = esf_le16(nvs_loc_ent(h->s, loc) + 24);
    int rc = size_check(buf, len, size);
    if (rc != ESF_OK)
        return rc > 0 ? ESF_OK : rc;
    memcpy(buf, payload_of(h->s, loc), size);
    *len = size;
    return ESF_OK;
}

int esf_nvs_get_str(esf_nvs_handle *h, const char *key, char *buf, size_t *len)
{
    if (!h)
        return ESF_ERR_INVALID_ARG;
    int rc = check_key(key);
    return rc != ESF_OK ? rc : get_var(h, key, ESF_NVS_TYPE_STR, buf, len);
}

int esf_nvs_get_blob(esf_nvs_handle *h, const char *key, void *buf, size_t *len)
{
    if (!h)
        return ESF_ERR_INVALID_ARG;
    int rc = check_key(key);
    if (rc != ESF_OK)
        return rc;
    esf_nvs *s = h->s;
    uint32_t idx = nvs_find(s, h->ns, key, ESF_NVS_CHUNK_ANY, ESF_NVS_TYPE_BLOB_IDX, NVS_NO_LOC);
    if (idx == NVS_NO_LOC)
        return get_var(h, key, ESF_NVS_TYPE_BLOB, buf, len);  /* format v1 blob */
    const uint8_t *e = nvs_loc_ent(s, idx);
    size_t size = esf_le32(e + 24);
    uint8_t start = e[29], count = e[28];
    if ((rc = size_check(buf, len, size)) != ESF_OK)
        return rc > 0 ? ESF_OK : rc;
    size_t off = 0;
    for (unsigned c = start; c < (unsigned)start + count; c++) {
        uint32_t cl = nvs_find(s, h->ns, key, (uint8_t)c, ESF_NVS_TYPE_BLOB_DATA, NVS_NO_LOC);
        if (cl == NVS_NO_LOC || !payload_ok(s, cl)) {
            /* the blob is lost: drop its index and remaining chunks too (ESP-IDF erases only the
             * bad chunk; the next load would then drop the index) */
            if (!s->broken)
                nvs_erase_item_family(s, idx, false);
            return ESF_ERR_NOT_FOUND;
        }
        size_t n = esf_le16(nvs_loc_ent(s, cl) + 24);
        if (n > size - off)
            return ESF_ERR_NOT_FOUND;
        memcpy((uint8_t *)buf + off, payload_of(s, cl), n);
        off += n;
    }
    if (off != size)
        return ESF_ERR_NOT_FOUND;
    *len = size;
    return ESF_OK;
}

int esf_nvs_find_key(esf_nvs_handle *h, const char *key, uint8_t *type)
{
    if (!h)
        return ESF_ERR_INVALID_ARG;
    int rc = check_key(key);
    if (rc != ESF_OK)
        return rc;
    uint32_t loc = nvs_find(h->s, h->ns, key, ESF_NVS_CHUNK_ANY, ESF_NVS_TYPE_ANY, NVS_NO_LOC);
    if (loc == NVS_NO_LOC)
        return ESF_ERR_NOT_FOUND;
    uint8_t t = nvs_loc_ent(h->s, loc)[1];
    if (type)
        *type = (t == ESF_NVS_TYPE_BLOB || t == ESF_NVS_TYPE_BLOB_IDX) ? ESF_NVS_TYPE_BLOB_DATA : t;
    return ESF_OK;
}

int esf_nvs_erase_key(esf_nvs_handle *h, const char *key)
{
    int rc = writable(h, key);
    if (rc != ESF_OK)
        return rc;
    if (h->s->broken)
        return ESF_ERR_STATE;
    uint32_t loc = nvs_find(h->s, h->ns, key, ESF_NVS_CHUNK_ANY, ESF_NVS_TYPE_ANY, NVS_NO_LOC);
    if (loc == NVS_NO_LOC)
        return ESF_ERR_NOT_FOUND;
    if ((rc = nvs_erase_item_family(h->s, loc, h->purge)) != ESF_OK)
        return rc;
    return erase_others(h->s, h->ns, key, NVS_NO_LOC, h->purge);
}

static int namespace_op(esf_nvs_handle *h, bool purge_only)
{
    if (!h)
        return ESF_ERR_INVALID_ARG;
    esf_nvs *s = h->s;
    if (h->ro || s->ro)
        return ESF_ERR_READ_ONLY;
    if (s->broken)
        return ESF_ERR_STATE;
    for (uint32_t k = 0; k < s->nused; k++) {
        uint32_t p = s->used[k];
        for (unsigned i = 0; i < NVS_EPP;) {
            uint8_t *e = nvs_ent(s, p, i);
            unsigned st = nvs_estate(s, p, i), span = 1;
            int rc = ESF_OK;
            if (!purge_only && st == ESF_NVS_ENTRY_WRITTEN) {
                span = nvs_item_span(e);
                if (e[0] == h->ns)
                    rc = nvs_erase_at(s, nvs_loc(p, i), h->purge);
            } else if (purge_only && st == ESF_NVS_ENTRY_ERASED && e[0] == h->ns) {
                esf_nvs_item it;
                esf_nvs_item_decode(e, &it);
                if (esf_nvs_item_check(&it, i, NULL) == ESF_OK) {
                    span = nvs_item_span(e);
                    memset(e, 0, 32u * span);
                    rc = esf_part_program(&s->part, esf_nvs_entry_offset(p, i), e, 32u * span);
                    if (rc != ESF_OK)
                        s->broken = true;
                    s->dirty = true;
                }
            }
            if (rc != ESF_OK)
                return rc;
            i += span;
        }
    }
    return ESF_OK;
}

int esf_nvs_erase_all(esf_nvs_handle *h)
{
    return namespace_op(h, false);
}

int esf_nvs_purge_all(esf_nvs_handle *h)
{
    return namespace_op(h, true);
}

int esf_nvs_commit(esf_nvs_handle *h)
{
    if (!h)
        return ESF_ERR_INVALID_ARG;
    return h->s->own_flash ? esf_nvs_commit_file(h->s, NULL) : ESF_OK;
}

int esf_nvs_get_used_entry_count(esf_nvs_handle *h, size_t *count)
{
    if (!count)
        return ESF_ERR_INVALID_ARG;
    *count = 0;
    if (!h)
        return ESF_ERR_INVALID_ARG;
    esf_nvs *s = h->s;
    for (uint32_t k = 0; k < s->nused; k++) {
        uint32_t p = s->used[k];
        for (unsigned i = nvs_next_item(s, p, 0); i < NVS_EPP;) {
            unsigned span = nvs_item_span(nvs_ent(s, p, i));
            if (nvs_ent(s, p, i)[0] == h->ns)
                *count += span;
            i = nvs_next_item(s, p, i + span);
        }
    }
    return ESF_OK;
}

/* ---- iterators */

static bool iter_match(const esf_nvs_iter *it, const uint8_t *e)
{
    uint8_t t = e[1];
    if (e[0] == 0 || (it->ns >= 0 && e[0] != it->ns))
        return false;
    if (t == ESF_NVS_TYPE_BLOB || t == ESF_NVS_TYPE_BLOB_IDX)
        return false;
    if (t == ESF_NVS_TYPE_BLOB_DATA && e[3] != 0x00 && e[3] != 0x80)
        return false;
    return it->type == ESF_NVS_TYPE_ANY || it->type == t;
}

/* Move to the first matching item at or after (k, i). */
static bool iter_seek(esf_nvs_iter *it)
{
    esf_nvs *s = it->s;
    for (; it->k < s->nused; it->k++, it->i = 0) {
        uint32_t p = s->used[it->k];
        for (unsigned i = nvs_next_item(s, p, it->i); i < NVS_EPP;) {
            const uint8_t *e = nvs_ent(s, p, i);
            if (iter_match(it, e)) {
                it->i = i;
                nvs_entry_key(e, it->info.key);
                snprintf(it->info.namespace_name, sizeof it->info.namespace_name, "%s",
                         s->ns_name[e[0]]);
                it->info.type = e[1];
                return true;
            }
            i = nvs_next_item(s, p, i + nvs_item_span(e));
        }
    }
    return false;
}

static int iter_start(esf_nvs *s, int ns, uint8_t type, esf_nvs_iter **out)
{
    esf_nvs_iter *it = calloc(1, sizeof *it);
    if (!it)
        return ESF_ERR_NO_MEM;
    it->s = s;
    it->ns = ns;
    it->type = type;
    if (!iter_seek(it)) {
        free(it);
        return ESF_ERR_NOT_FOUND;
    }
    *out = it;
    return ESF_OK;
}

int esf_nvs_entry_find(esf_nvs *s, const char *ns, uint8_t type, esf_nvs_iter **it)
{
    if (!s || !it)
        return ESF_ERR_INVALID_ARG;
    *it = NULL;
    int idx = -1;
    if (ns && (idx = find_namespace(s, ns)) < 0)
        return ESF_ERR_NOT_FOUND;
    return iter_start(s, idx, type, it);
}

int esf_nvs_entry_find_in_handle(esf_nvs_handle *h, uint8_t type, esf_nvs_iter **it)
{
    if (!it)
        return ESF_ERR_INVALID_ARG;
    *it = NULL;
    if (!h)
        return ESF_ERR_INVALID_ARG;
    return iter_start(h->s, h->ns, type, it);
}

int esf_nvs_entry_next(esf_nvs_iter **itp)
{
    if (!itp || !*itp)
        return ESF_ERR_INVALID_ARG;
    esf_nvs_iter *it = *itp;
    it->i += nvs_item_span(nvs_ent(it->s, it->s->used[it->k], it->i));
    if (iter_seek(it))
        return ESF_OK;
    free(it);
    *itp = NULL;
    return ESF_ERR_NOT_FOUND;
}

int esf_nvs_entry_info(const esf_nvs_iter *it, esf_nvs_info *info)
{
    if (!it || !info)
        return ESF_ERR_INVALID_ARG;
    *info = it->info;
    return ESF_OK;
}

void esf_nvs_release_iterator(esf_nvs_iter *it)
{
    free(it);
}
