/* NVS page/entry codec (nvs-format.md §1–§9). See include/espforge/nvs_page.h. */
#include "espforge/nvs_page.h"

#include <string.h>

#include "internal/crypto.h"
#include "internal/le.h"

uint32_t esf_nvs_crc(const void *data, size_t len)
{
    return esf_crc32(0xFFFFFFFFu, data, len);
}

/* ---- page header ---- */

void esf_nvs_page_header_decode(const uint8_t hdr[32], esf_nvs_page_header *out)
{
    out->state = esf_le32(hdr);
    out->seq = esf_le32(hdr + 4);
    out->version = hdr[8];
    out->crc = esf_le32(hdr + 28);
}

uint32_t esf_nvs_page_header_crc(const uint8_t hdr[32])
{
    return esf_nvs_crc(hdr + 4, 24);
}

void esf_nvs_page_header_init(uint8_t hdr[32], uint32_t state, uint32_t seq, uint8_t version)
{
    memset(hdr, 0xFF, 32);
    esf_put_le32(hdr, state);
    esf_put_le32(hdr + 4, seq);
    hdr[8] = version;
    esf_put_le32(hdr + 28, esf_nvs_page_header_crc(hdr));
}

void esf_nvs_page_set_state(uint8_t hdr[32], uint32_t state)
{
    esf_put_le32(hdr, state);
}

bool esf_nvs_page_header_crc_ok(const uint8_t hdr[32])
{
    return esf_le32(hdr + 28) == esf_nvs_page_header_crc(hdr);
}

const char *esf_nvs_page_state_name(uint32_t state)
{
    switch (state) {
    case ESF_NVS_PAGE_EMPTY: return "Empty";
    case ESF_NVS_PAGE_ACTIVE: return "Active";
    case ESF_NVS_PAGE_FULL: return "Full";
    case ESF_NVS_PAGE_FREEING: return "Freeing";
    case ESF_NVS_PAGE_CORRUPT: return "Corrupt";
    case ESF_NVS_PAGE_INVALID: return "Invalid";
    default: return "Unknown";
    }
}

/* ---- items ---- */

void esf_nvs_item_decode(const uint8_t e[32], esf_nvs_item *out)
{
    out->ns = e[0];
    out->type = e[1];
    out->span = e[2];
    out->chunk_index = e[3];
    out->crc = esf_le32(e + 4);
    memcpy(out->key, e + 8, ESF_NVS_KEY_SIZE);
    memcpy(out->data, e + 24, 8);
}

void esf_nvs_item_encode(const esf_nvs_item *it, uint8_t e[32])
{
    e[0] = it->ns;
    e[1] = it->type;
    e[2] = it->span;
    e[3] = it->chunk_index;
    esf_put_le32(e + 4, it->crc);
    memcpy(e + 8, it->key, ESF_NVS_KEY_SIZE);
    memcpy(e + 24, it->data, 8);
}

uint32_t esf_nvs_item_crc(const uint8_t e[32])
{
    uint8_t b[28];  /* one CRC call over the 28 covered bytes is cheaper than two */
    memcpy(b, e, 4);
    memcpy(b + 4, e + 8, 24);
    return esf_crc32(0xFFFFFFFFu, b, sizeof b);
}

void esf_nvs_item_seal(esf_nvs_item *it)
{
    uint8_t e[32];
    esf_nvs_item_encode(it, e);
    it->crc = esf_nvs_item_crc(e);
}

int esf_nvs_item_set_key(esf_nvs_item *it, const char *key, size_t len)
{
    if (len > ESF_NVS_KEY_MAX)
        return ESF_ERR_TOO_LONG;
    memset(it->key, 0, sizeof it->key);
    if (len)
        memcpy(it->key, key, len);
    return ESF_OK;
}

size_t esf_nvs_item_key_len(const esf_nvs_item *it)
{
    const void *z = memchr(it->key, 0, ESF_NVS_KEY_SIZE);
    return z ? (size_t)((const uint8_t *)z - it->key) : ESF_NVS_KEY_SIZE;
}

bool esf_nvs_item_key_eq(const esf_nvs_item *it, const char *key)
{
    return strncmp((const char *)it->key, key, ESF_NVS_KEY_MAX) == 0;
}

static int item_head(esf_nvs_item *it, uint8_t ns, uint8_t type, const char *key, size_t key_len,
                     uint8_t span, uint8_t chunk)
{
    it->ns = ns;
    it->type = type;
    it->span = span;
    it->chunk_index = chunk;
    it->crc = 0;
    memset(it->data, 0xFF, sizeof it->data);
    return esf_nvs_item_set_key(it, key, key_len);
}

int esf_nvs_item_init_prim(esf_nvs_item *it, uint8_t ns, uint8_t type, const char *key,
                           size_t key_len, uint64_t value)
{
    if (!esf_nvs_type_is_prim(type))
        return ESF_ERR_INVALID_ARG;
    int rc = item_head(it, ns, type, key, key_len, 1, ESF_NVS_CHUNK_ANY);
    if (rc)
        return rc;
    unsigned n = esf_nvs_type_size(type);
    for (unsigned i = 0; i < n && i < sizeof it->data; i++)  /* n <= 8; the bound tells GCC -O3 */
        it->data[i] = (uint8_t)(value >> (8 * i));
    esf_nvs_item_seal(it);
    return ESF_OK;
}

int esf_nvs_item_init_var(esf_nvs_item *it, uint8_t ns, uint8_t type, const char *key,
                          size_t key_len, uint8_t chunk_index, const void *payload, size_t size)
{
    if (!esf_nvs_type_is_var(type))
        return ESF_ERR_INVALID_ARG;
    if (size > ESF_NVS_STR_MAX)
        return ESF_ERR_TOO_LONG;
    int rc = item_head(it, ns, type, key, key_len, (uint8_t)esf_nvs_span_for_size(size), chunk_index);
    if (rc)
        return rc;
    esf_put_le16(it->data, (uint16_t)size);
    esf_put_le32(it->data + 4, esf_nvs_crc(payload, size));
    esf_nvs_item_seal(it);
    return ESF_OK;
}

int esf_nvs_item_init_blob_idx(esf_nvs_item *it, uint8_t ns, const char *key, size_t key_len,
                               uint32_t size, uint8_t chunk_count, uint8_t chunk_start)
{
    int rc = item_head(it, ns, ESF_NVS_TYPE_BLOB_IDX, key, key_len, 1, ESF_NVS_CHUNK_ANY);
    if (rc)
        return rc;
    esf_put_le32(it->data, size);
    it->data[4] = chunk_count;
    it->data[5] = chunk_start;
    esf_nvs_item_seal(it);
    return ESF_OK;
}

uint64_t esf_nvs_item_prim_u(const esf_nvs_item *it)
{
    unsigned n = esf_nvs_type_size(it->type);
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)it->data[i] << (8 * i);
    return v;
}

int64_t esf_nvs_item_prim_i(const esf_nvs_item *it)
{
    uint64_t v = esf_nvs_item_prim_u(it);
    unsigned n = esf_nvs_type_size(it->type);
    if (esf_nvs_type_is_signed(it->type) && n < 8 && (v >> (8 * n - 1)) & 1)
        v |= ~UINT64_C(0) << (8 * n);
    return (int64_t)v;
}

uint32_t esf_nvs_item_var_crc(const esf_nvs_item *it)
{
    return esf_le32(it->data + 4);
}

uint32_t esf_nvs_item_idx_size(const esf_nvs_item *it)
{
    return esf_le32(it->data);
}

void esf_nvs_payload_write(uint8_t *dst, const void *payload, size_t size)
{
    size_t rounded = (size + 31) & ~(size_t)31;
    if (size)
        memcpy(dst, payload, size);
    memset(dst + size, 0xFF, rounded - size);
}

/* ---- type codes ---- */

bool esf_nvs_type_is_prim(uint8_t type)
{
    switch (type) {
    case ESF_NVS_TYPE_U8: case ESF_NVS_TYPE_I8: case ESF_NVS_TYPE_U16: case ESF_NVS_TYPE_I16:
    case ESF_NVS_TYPE_U32: case ESF_NVS_TYPE_I32: case ESF_NVS_TYPE_U64: case ESF_NVS_TYPE_I64:
    case ESF_NVS_TYPE_FLOAT: case ESF_NVS_TYPE_DOUBLE:
        return true;
    default:
        return false;
    }
}

bool esf_nvs_type_is_signed(uint8_t type)
{
    return type == ESF_NVS_TYPE_I8 || type == ESF_NVS_TYPE_I16 || type == ESF_NVS_TYPE_I32 ||
           type == ESF_NVS_TYPE_I64;
}

bool esf_nvs_type_is_var(uint8_t type)
{
    return type == ESF_NVS_TYPE_STR || type == ESF_NVS_TYPE_BLOB || type == ESF_NVS_TYPE_BLOB_DATA;
}

bool esf_nvs_type_is_known(uint8_t type)
{
    return esf_nvs_type_is_prim(type) || esf_nvs_type_is_var(type) || type == ESF_NVS_TYPE_BLOB_IDX;
}

unsigned esf_nvs_type_size(uint8_t type)
{
    if (!esf_nvs_type_is_prim(type))
        return 0;
    return type & 0x0Fu;
}

const char *esf_nvs_type_name(uint8_t type)
{
    switch (type) {
    case ESF_NVS_TYPE_U8: return "uint8_t";
    case ESF_NVS_TYPE_I8: return "int8_t";
    case ESF_NVS_TYPE_U16: return "uint16_t";
    case ESF_NVS_TYPE_I16: return "int16_t";
    case ESF_NVS_TYPE_U32: return "uint32_t";
    case ESF_NVS_TYPE_I32: return "int32_t";
    case ESF_NVS_TYPE_U64: return "uint64_t";
    case ESF_NVS_TYPE_I64: return "int64_t";
    case ESF_NVS_TYPE_FLOAT: return "float";
    case ESF_NVS_TYPE_DOUBLE: return "double";
    case ESF_NVS_TYPE_STR: return "string";
    case ESF_NVS_TYPE_BLOB: return "blob";
    case ESF_NVS_TYPE_BLOB_DATA: return "blob_data";
    case ESF_NVS_TYPE_BLOB_IDX: return "blob_index";
    case ESF_NVS_TYPE_ANY: return "any";
    default: return NULL;
    }
}

/* ---- validation ---- */

int esf_nvs_item_check(const esf_nvs_item *it, unsigned index, esf_error *err)
{
    uint8_t e[32];
    esf_nvs_item_encode(it, e);
    uint32_t want = esf_nvs_item_crc(e);
    if (it->crc != want)
        return esf_error_set(err, ESF_ERR_CORRUPT, "entry %u: header CRC %08x, want %08x", index,
                             it->crc, want);
    if (!esf_nvs_type_is_known(it->type))
        return esf_error_set(err, ESF_ERR_INVALID, "entry %u: unknown type 0x%02x", index, it->type);
    if (esf_nvs_type_is_prim(it->type) || it->type == ESF_NVS_TYPE_BLOB_IDX) {
        if (it->span != 1)
            return esf_error_set(err, ESF_ERR_INVALID, "entry %u: span %u, want 1", index, it->span);
        if (it->type == ESF_NVS_TYPE_BLOB_IDX) {
            if (it->chunk_index != ESF_NVS_CHUNK_ANY)
                return esf_error_set(err, ESF_ERR_INVALID, "entry %u: blob index with chunk %u",
                                     index, it->chunk_index);
            if (esf_nvs_item_idx_size(it) > ESF_NVS_BLOB_MAX)
                return esf_error_set(err, ESF_ERR_INVALID, "entry %u: blob size %u > %u", index,
                                     esf_nvs_item_idx_size(it), ESF_NVS_BLOB_MAX);
        }
        return ESF_OK;
    }
    /* varLength */
    unsigned size = esf_nvs_item_var_size(it);
    if (index >= ESF_NVS_ENTRIES_PER_PAGE)
        return esf_error_set(err, ESF_ERR_INVALID, "entry %u: index out of page", index);
    if (size > (ESF_NVS_ENTRIES_PER_PAGE - 1 - index) * ESF_NVS_ENTRY_SIZE)
        return esf_error_set(err, ESF_ERR_INVALID, "entry %u: data size %u past the page end", index,
                             size);
    if (it->span > ESF_NVS_ENTRIES_PER_PAGE - index)
        return esf_error_set(err, ESF_ERR_INVALID, "entry %u: span %u past the page end", index,
                             it->span);
    if (it->span != esf_nvs_span_for_size(size))
        return esf_error_set(err, ESF_ERR_INVALID, "entry %u: span %u for size %u, want %u", index,
                             it->span, size, esf_nvs_span_for_size(size));
    if (it->type == ESF_NVS_TYPE_BLOB_DATA && it->chunk_index == ESF_NVS_CHUNK_ANY)
        return esf_error_set(err, ESF_ERR_INVALID, "entry %u: blob chunk without chunk index", index);
    return ESF_OK;
}

uint32_t esf_nvs_item_hash(uint8_t ns, const uint8_t key[ESF_NVS_KEY_SIZE], uint8_t chunk_index)
{
    uint8_t buf[1 + ESF_NVS_KEY_SIZE + 1];
    buf[0] = ns;
    memcpy(buf + 1, key, ESF_NVS_KEY_SIZE);
    buf[1 + ESF_NVS_KEY_SIZE] = chunk_index;
    return esf_nvs_crc(buf, sizeof buf) & 0xFFFFFFu;
}
