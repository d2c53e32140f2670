/* NVS runtime: bytes against the generator and the spec's worked examples, every generator vector
 * read back (against an independent walk of the image with the page codec), writes on top of
 * them, read-only and encrypted partitions, quirks Q1/Q2 (must NOT be reproduced), API rules,
 * recovery on damaged images, file-backed stores, wear spreading. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esf_test.h"
#include "espforge/io.h"
#include "espforge/nvs.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_gen.h"
#include "espforge/nvs_page.h"
#include "internal/le.h"

/* ---- helpers */

typedef struct store {
    esf_flash flash;
    esf_part part;
    esf_nvs *nvs;
} store;

static void store_blank(store *st, uint32_t size)
{
    assert_int_equal(esf_flash_ram_init(&st->flash, size, NULL), ESF_OK);
    assert_int_equal(esf_part_init_whole(&st->part, &st->flash, "nvs", NULL), ESF_OK);
    st->nvs = NULL;
}

static void store_image(store *st, const uint8_t *img, size_t len)
{
    assert_int_equal(esf_flash_ram_init_from(&st->flash, (uint32_t)len, img, len, NULL), ESF_OK);
    assert_int_equal(esf_part_init_whole(&st->part, &st->flash, "nvs", NULL), ESF_OK);
    st->nvs = NULL;
}

static int store_init(store *st, const esf_nvs_options *opt)
{
    esf_error err;
    esf_nvs_deinit(st->nvs);
    st->nvs = NULL;
    int rc = esf_nvs_init(&st->nvs, &st->part, opt, &err);
    if (rc != ESF_OK)
        print_message("init: %s\n", err.msg);
    return rc;
}

static void store_close(store *st)
{
    esf_nvs_deinit(st->nvs);
    esf_flash_close(&st->flash);
}

static esf_nvs_handle *open_ns(store *st, const char *ns, esf_nvs_open_mode mode)
{
    esf_nvs_handle *h = NULL;
    esf_error err;
    int rc = esf_nvs_open(st->nvs, ns, mode, &h, &err);
    if (rc != ESF_OK)
        fail_msg("open %s: %s", ns, err.msg);
    return h;
}

/* The generator's image for a CSV text (native mode). */
static uint8_t *gen_image(const char *csv, uint64_t size)
{
    esf_nvs_gen *g = NULL;
    esf_error err;
    esf_nvs_gen_opts o = {.size = size};
    assert_int_equal(esf_nvs_gen_new(&g, &o, &err), ESF_OK);
    if (esf_nvs_gen_add_csv(g, csv, strlen(csv), "test.csv", &err) != ESF_OK)
        fail_msg("gen: %s", err.msg);
    uint8_t *img = malloc(size);
    size_t len = size;
    assert_int_equal(esf_nvs_gen_finish(g, img, &len, &err), ESF_OK);
    assert_int_equal(len, size);
    esf_nvs_gen_free(g);
    return img;
}

/* ---- an independent oracle: walk an image with the page codec (no runtime code) */

typedef struct oitem {
    uint8_t ns, type, chunk;
    char key[16];
    uint64_t raw;        /* primitives */
    const uint8_t *data; /* var-length payload (points into the image) */
    size_t size;
    uint8_t idx_count, idx_start;
    uint32_t idx_size;
} oitem;

typedef struct oracle {
    oitem items[2048];
    size_t n;
    char ns_name[256][16];
} oracle;

static void oracle_walk(oracle *o, const uint8_t *img, size_t len)
{
    memset(o, 0, sizeof *o);
    uint32_t order[256], np = 0;
    for (uint32_t p = 0; p < len / 4096; p++) {
        esf_nvs_page_header h;
        esf_nvs_page_header_decode(img + p * 4096, &h);
        if ((h.state != ESF_NVS_PAGE_ACTIVE && h.state != ESF_NVS_PAGE_FULL) ||
            !esf_nvs_page_header_crc_ok(img + p * 4096))
            continue;
        uint32_t k = np++;
        while (k > 0 && esf_le32(img + order[k - 1] * 4096 + 4) > h.seq) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = p;
    }
    for (uint32_t k = 0; k < np; k++) {
        const uint8_t *pg = img + order[k] * 4096;
        for (unsigned i = 0; i < ESF_NVS_ENTRIES_PER_PAGE;) {
            if (esf_nvs_bitmap_get(pg + 32, i) != ESF_NVS_ENTRY_WRITTEN) {
                i++;
                continue;
            }
            esf_nvs_item it;
            esf_nvs_item_decode(pg + 64 + 32 * i, &it);
            assert_int_equal(esf_nvs_item_check(&it, i, NULL), ESF_OK);
            oitem *x = &o->items[o->n++];
            x->ns = it.ns;
            x->type = it.type;
            x->chunk = it.chunk_index;
            memcpy(x->key, it.key, 15);
            if (esf_nvs_type_is_prim(it.type)) {
                x->raw = esf_nvs_item_prim_u(&it);
            } else if (esf_nvs_type_is_var(it.type)) {
                x->data = pg + 64 + 32 * (i + 1);
                x->size = esf_nvs_item_var_size(&it);
            } else {
                x->idx_size = esf_nvs_item_idx_size(&it);
                x->idx_count = esf_nvs_item_idx_chunk_count(&it);
                x->idx_start = esf_nvs_item_idx_chunk_start(&it);
            }
            if (it.ns == 0 && it.type == ESF_NVS_TYPE_U8 && !o->ns_name[it.data[0]][0])
                memcpy(o->ns_name[it.data[0]], it.key, 15);
            i += esf_nvs_type_is_var(it.type) ? it.span : 1;
        }
    }
}

/* Number of items with the same (ns, key, chunk) as x. */
static int oracle_count(const oracle *o, const oitem *x)
{
    int n = 0;
    for (size_t i = 0; i < o->n; i++)
        n += o->items[i].ns == x->ns && o->items[i].chunk == x->chunk &&
             !strcmp(o->items[i].key, x->key) && (o->items[i].type == ESF_NVS_TYPE_BLOB_IDX) ==
                                                     (x->type == ESF_NVS_TYPE_BLOB_IDX);
    return n;
}

/* A v2 blob assembled from its chunks (malloc'd, *len bytes); NULL if incomplete. */
static uint8_t *oracle_blob(const oracle *o, const oitem *idx, size_t *len)
{
    uint8_t *buf = malloc(idx->idx_size + 1);
    size_t off = 0;
    for (unsigned c = idx->idx_start; c < (unsigned)idx->idx_start + idx->idx_count; c++) {
        const oitem *ch = NULL;
        for (size_t i = 0; i < o->n && !ch; i++)
            if (o->items[i].type == ESF_NVS_TYPE_BLOB_DATA && o->items[i].ns == idx->ns &&
                o->items[i].chunk == c && !strcmp(o->items[i].key, idx->key))
                ch = &o->items[i];
        assert_non_null(ch);
        assert_true(off + ch->size <= idx->idx_size);
        memcpy(buf + off, ch->data, ch->size);
        off += ch->size;
    }
    assert_int_equal(off, idx->idx_size);
    *len = off;
    return buf;
}

/* Every item of the oracle reads back through the runtime; the iterator lists them plus `extra`
 * items written since. Returns the number checked. */
static size_t check_against_oracle(store *st, const oracle *o, size_t extra)
{
    size_t checked = 0, listed = 0;
    for (size_t i = 0; i < o->n; i++) {
        const oitem *x = &o->items[i];
        if (x->ns == 0 || x->type == ESF_NVS_TYPE_BLOB_DATA || oracle_count(o, x) != 1)
            continue;  /* namespace entries, chunks (via their index), duplicate keys (n18) */
        esf_nvs_handle *h = open_ns(st, o->ns_name[x->ns], ESF_NVS_READONLY);
        if (esf_nvs_type_is_prim(x->type)) {
            uint64_t raw = ~0ull;
            assert_int_equal(esf_nvs_get_prim(h, x->key, x->type, &raw), ESF_OK);
            assert_int_equal(raw, x->raw);
            listed++;
        } else {
            size_t want_len = x->size;
            uint8_t *want = (uint8_t *)x->data, *got;
            bool v2 = x->type == ESF_NVS_TYPE_BLOB_IDX;
            if (v2)
                want = oracle_blob(o, x, &want_len);
            size_t len = 0;
            int rc = x->type == ESF_NVS_TYPE_STR ? esf_nvs_get_str(h, x->key, NULL, &len)
                                                 : esf_nvs_get_blob(h, x->key, NULL, &len);
            if (rc != ESF_OK)
                fail_msg("size of %s/%s: %s", o->ns_name[x->ns], x->key, esf_strerror(rc));
            assert_int_equal(len, want_len);
            got = malloc(len + 1);
            rc = x->type == ESF_NVS_TYPE_STR ? esf_nvs_get_str(h, x->key, (char *)got, &len)
                                             : esf_nvs_get_blob(h, x->key, got, &len);
            assert_int_equal(rc, ESF_OK);
            assert_memory_equal(got, want, want_len);
            uint8_t type = 0;
            assert_int_equal(esf_nvs_find_key(h, x->key, &type), ESF_OK);
            assert_int_equal(type, x->type == ESF_NVS_TYPE_STR ? ESF_NVS_TYPE_STR
                                                                : ESF_NVS_TYPE_BLOB_DATA);
            free(got);
            if (v2)
                free(want);
            listed += x->type != ESF_NVS_TYPE_BLOB;  /* iterators never list v1 blobs */
        }
        esf_nvs_close(h);
        checked++;
    }
    /* the iterator lists the same number of items (each v2 blob once) */
    size_t n = 0;
    esf_nvs_iter *it = NULL;
    for (int rc = esf_nvs_entry_find(st->nvs, NULL, ESF_NVS_TYPE_ANY, &it); rc == ESF_OK;
         rc = esf_nvs_entry_next(&it))
        n++;
    assert_null(it);
    size_t dups = 0;
    for (size_t i = 0; i < o->n; i++)
        dups += o->items[i].ns != 0 && oracle_count(o, &o->items[i]) != 1 &&
                o->items[i].type != ESF_NVS_TYPE_BLOB_DATA;
    assert_int_equal(n, listed + extra + (dups ? 1 : 0));  /* n18: two 'dup' items -> one survives */
    return checked;
}

static const char *const vectors[] = {
    "n01_primitives_v2", "n02_primitives_v1", "n03_strings_v2", "n04_string_max_v1",
    "n05_string_max_v2", "n06_blobs_inline_v2", "n07_multipage_blob_v2", "n08_blobs_v1",
    "n09_file_types_v2", "n10_idf_sample_multipage_v2", "n11_idf_sample_singlepage_v1",
    "n12_namespaces", "n13_page_boundaries_v2", "n14_readonly_0x1000", "n15_readonly_0x2000",
    "n16_blob_fill_v2", "n17_wifi_keys_v2", "n18_quirks_v2", "n19_random_large_v2",
    "n20_random_v1",
};

static uint8_t *vector_image(const char *name, size_t *len)
{
    char rel[256];
    snprintf(rel, sizeof rel, "nvs/%s/expected.bin", name);
    return esf_test_read(rel, len);
}

/* ---- tests */

/* nvs-format.md §14: the runtime's bytes equal the generator's; §6.9 statistics; update/erase. */
static void example_bytes(void **state)
{
    (void)state;
    store st;
    store_blank(&st, 0x3000);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = open_ns(&st, "wifi", ESF_NVS_READWRITE);
    const uint8_t mac[6] = {0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5};
    assert_int_equal(esf_nvs_set_u8(h, "chan", 6), ESF_OK);
    assert_int_equal(esf_nvs_set_str(h, "name", "esp"), ESF_OK);
    assert_int_equal(esf_nvs_set_str(h, "long", "The quick brown fox jumps over the lazy dog"),
                     ESF_OK);
    assert_int_equal(esf_nvs_set_blob(h, "mac", mac, sizeof mac), ESF_OK);
    uint8_t *want = gen_image("key,type,encoding,value\nwifi,namespace,,\nchan,data,u8,6\n"
                              "name,data,string,esp\nlong,data,string,The quick brown fox jumps "
                              "over the lazy dog\nmac,data,hex2bin,a0b1c2d3e4f5\n",
                              0x3000);
    assert_memory_equal(esf_flash_ram_data(&st.flash), want, 0x3000);
    free(want);
    esf_nvs_stats s;
    assert_int_equal(esf_nvs_get_stats(st.nvs, &s), ESF_OK);
    assert_int_equal(s.used_entries, 10);
    assert_int_equal(s.free_entries, 368);
    assert_int_equal(s.available_entries, 242);
    assert_int_equal(s.total_entries, 378);
    assert_int_equal(s.namespace_count, 1);
    size_t used = 0;
    assert_int_equal(esf_nvs_get_used_entry_count(h, &used), ESF_OK);
    assert_int_equal(used, 9);
    /* same value: no flash write at all */
    uint64_t progs = st.flash.stats.programs;
    assert_int_equal(esf_nvs_set_u8(h, "chan", 6), ESF_OK);
    assert_int_equal(esf_nvs_set_str(h, "name", "esp"), ESF_OK);
    assert_int_equal(esf_nvs_set_blob(h, "mac", mac, sizeof mac), ESF_OK);
    assert_int_equal(st.flash.stats.programs, progs);
    /* update: new entry e10 at 0x180, bitmap aa aa ea ff, then e1 erased: a2 aa ea ff */
    assert_int_equal(esf_nvs_set_u8(h, "chan", 7), ESF_OK);
    const uint8_t *d = esf_flash_ram_data(&st.flash);
    const uint8_t e10[8] = {0x01, 0x01, 0x01, 0xff, 0x6d, 0x56, 0xcb, 0x61};
    assert_memory_equal(d + 0x180, e10, 8);
    const uint8_t bm[4] = {0xa2, 0xaa, 0xea, 0xff};
    assert_memory_equal(d + 0x20, bm, 4);
    /* purge mode: the erased entries are zero-filled */
    esf_nvs_handle *hp = open_ns(&st, "wifi", ESF_NVS_READWRITE_PURGE);
    assert_int_equal(esf_nvs_set_u8(hp, "chan", 8), ESF_OK);
    for (int i = 0; i < 32; i++)
        assert_int_equal(d[0x180 + i], 0);
    assert_int_equal(esf_nvs_erase_key(hp, "name"), ESF_OK);
    for (int i = 0; i < 64; i++)
        assert_int_equal(d[0x80 + i], 0);
    /* purge_all zero-fills what plain erases left behind (e1 = old chan 6) */
    assert_int_equal(esf_nvs_purge_all(hp), ESF_OK);
    for (int i = 0; i < 32; i++)
        assert_int_equal(d[0x60 + i], 0);
    esf_nvs_close(hp);
    esf_nvs_close(h);
    /* and it all loads again */
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    h = open_ns(&st, "wifi", ESF_NVS_READONLY);
    uint8_t v = 0;
    assert_int_equal(esf_nvs_get_u8(h, "chan", &v), ESF_OK);
    assert_int_equal(v, 8);
    size_t len = 0;
    assert_int_equal(esf_nvs_get_str(h, "name", NULL, &len), ESF_ERR_NOT_FOUND);
    esf_nvs_close(h);
    store_close(&st);
}

/* nvs-format.md §14 multi-page blob: runtime and generator byte-identical. */
static void multipage_blob_bytes(void **state)
{
    (void)state;
    uint8_t big[5000];
    for (int i = 0; i < 5000; i++)
        big[i] = (uint8_t)((7 * i + 3) % 256);
    size_t cap = 200 + 2 * sizeof big;
    char *csv = malloc(cap);
    size_t n = (size_t)snprintf(csv, cap, "key,type,encoding,value\nns,namespace,,\nx,data,u8,1\n"
                                          "big,data,hex2bin,");
    for (int i = 0; i < 5000; i++)
        n += (size_t)snprintf(csv + n, cap - n, "%02x", big[i]);
    snprintf(csv + n, cap - n, "\ny,data,u8,2\n");
    uint8_t *want = gen_image(csv, 0x5000);
    free(csv);
    store st;
    store_blank(&st, 0x5000);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = open_ns(&st, "ns", ESF_NVS_READWRITE);
    assert_int_equal(esf_nvs_set_u8(h, "x", 1), ESF_OK);
    assert_int_equal(esf_nvs_set_blob(h, "big", big, sizeof big), ESF_OK);
    assert_int_equal(esf_nvs_set_u8(h, "y", 2), ESF_OK);
    assert_memory_equal(esf_flash_ram_data(&st.flash), want, 0x5000);
    const uint8_t *d = esf_flash_ram_data(&st.flash);
    assert_int_equal(esf_le32(d), ESF_NVS_PAGE_FULL);
    assert_int_equal(d[0x14a0 + 1], ESF_NVS_TYPE_BLOB_IDX);
    free(want);
    esf_nvs_close(h);
    store_close(&st);
}

/* Every generator vector loads (read-only ones read-only) and every value reads back; a writable
 * load of a generator image changes no byte (except n18's duplicate key: newest wins). */
static void vectors_read_back(void **state)
{
    (void)state;
    oracle *o = malloc(sizeof *o);
    size_t total = 0;
    for (size_t v = 0; v < ARRAY_LEN(vectors); v++) {
        size_t len;
        uint8_t *img = vector_image(vectors[v], &len);
        bool ro = len < 0x3000;
        store st;
        store_image(&st, img, len);
        esf_nvs_options opt = {.read_only = ro};
        if (store_init(&st, &opt) != ESF_OK)
            fail_msg("%s: init failed", vectors[v]);
        if (strcmp(vectors[v], "n18_quirks_v2") != 0)
            assert_memory_equal(esf_flash_ram_data(&st.flash), img, len);
        oracle_walk(o, img, len);
        size_t n = check_against_oracle(&st, o, 0);
        print_message("%s: %zu values read back\n", vectors[v], n);
        assert_true(n > 0);
        total += n;
        store_close(&st);
        free(img);
    }
    print_message("all vectors: %zu values\n", total);
    free(o);
}

/* Values against the CSV inputs themselves (spot checks of every kind). */
static void vectors_spot_values(void **state)
{
    (void)state;
    size_t len;
    store st;
    uint8_t *img = vector_image("n01_primitives_v2", &len);
    store_image(&st, img, len);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = open_ns(&st, "prims", ESF_NVS_READONLY);
    uint8_t u8 = 0;
    int8_t i8 = 0;
    uint16_t u16 = 0;
    int16_t i16 = 0;
    uint32_t u32 = 0;
    int32_t i32 = 0;
    uint64_t u64 = 0;
    int64_t i64 = 0;
    assert_int_equal(esf_nvs_get_u8(h, "u8_max", &u8), ESF_OK);
    assert_int_equal(u8, 255);
    assert_int_equal(esf_nvs_get_i8(h, "i8_min", &i8), ESF_OK);
    assert_int_equal(i8, -128);
    assert_int_equal(esf_nvs_get_u16(h, "u16_max", &u16), ESF_OK);
    assert_int_equal(u16, 65535);
    assert_int_equal(esf_nvs_get_i16(h, "leading_zeros", &i16), ESF_OK);
    assert_int_equal(i16, -7);
    assert_int_equal(esf_nvs_get_u32(h, "plus_sign", &u32), ESF_OK);
    assert_int_equal(u32, 42);
    assert_int_equal(esf_nvs_get_i32(h, "i32_min", &i32), ESF_OK);
    assert_true(i32 == INT32_MIN);
    assert_int_equal(esf_nvs_get_u64(h, "u64_max", &u64), ESF_OK);
    assert_true(u64 == UINT64_MAX);
    assert_int_equal(esf_nvs_get_i64(h, "i64_min", &i64), ESF_OK);
    assert_true(i64 == INT64_MIN);
    assert_int_equal(esf_nvs_get_u8(h, "k123456789abcde", &u8), ESF_OK);
    assert_int_equal(u8, 7);
    /* type mismatch is NOT_FOUND (Q7), value untouched */
    u32 = 99;
    assert_int_equal(esf_nvs_get_u32(h, "u8_max", &u32), ESF_ERR_NOT_FOUND);
    assert_int_equal(u32, 99);
    esf_nvs_close(h);
    store_close(&st);
    free(img);

    /* n07: the 10000-byte file as a multi-page v2 blob */
    img = vector_image("n07_multipage_blob_v2", &len);
    size_t blen;
    uint8_t *file = esf_test_read("nvs/n07_multipage_blob_v2/big.bin", &blen);
    store_image(&st, img, len);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    h = open_ns(&st, "ns", ESF_NVS_READONLY);
    uint8_t *buf = malloc(blen);
    size_t got = blen;
    assert_int_equal(esf_nvs_get_blob(h, "big", buf, &got), ESF_OK);
    assert_int_equal(got, blen);
    assert_memory_equal(buf, file, blen);
    got = blen - 1;  /* capacity too small: RANGE, size reported */
    assert_int_equal(esf_nvs_get_blob(h, "big", buf, &got), ESF_ERR_RANGE);
    assert_int_equal(got, blen);
    char s[64];
    got = sizeof s;
    assert_int_equal(esf_nvs_get_str(h, "after", s, &got), ESF_OK);
    assert_string_equal(s, "after the blobs");
    esf_nvs_close(h);
    store_close(&st);
    free(img);
    free(file);
    free(buf);

    /* n08: format-v1 blob of 1984 bytes */
    img = vector_image("n08_blobs_v1", &len);
    file = esf_test_read("nvs/n08_blobs_v1/max.bin", &blen);
    store_image(&st, img, len);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    h = open_ns(&st, "ns", ESF_NVS_READWRITE);
    buf = malloc(4096);
    got = 4096;
    assert_int_equal(esf_nvs_get_blob(h, "maxblob", buf, &got), ESF_OK);
    assert_int_equal(got, blen);
    assert_memory_equal(buf, file, blen);
    /* rewriting a v1 blob replaces it by a v2 blob; the v1 item is gone */
    assert_int_equal(esf_nvs_set_blob(h, "hx", "\x01\x02", 2), ESF_OK);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_close(h);
    h = open_ns(&st, "ns", ESF_NVS_READONLY);
    got = 4096;
    assert_int_equal(esf_nvs_get_blob(h, "hx", buf, &got), ESF_OK);
    assert_int_equal(got, 2);
    esf_nvs_iter *it = NULL;
    int listed = 0;
    for (int rc = esf_nvs_entry_find_in_handle(h, ESF_NVS_TYPE_BLOB_DATA, &it); rc == ESF_OK;
         rc = esf_nvs_entry_next(&it))
        listed++;
    assert_int_equal(listed, 1);  /* the new v2 "hx"; the v1 "maxblob" is never listed */
    esf_nvs_close(h);
    store_close(&st);
    free(img);
    free(file);
    free(buf);

    /* n12: namespaces re-entered keep their index; n18: duplicate key on the ACTIVE page, the
     * newest wins (ESP-IDF HEAD erases the older one at load); a read-only load decides the same
     * way without writing */
    img = vector_image("n12_namespaces", &len);
    store_image(&st, img, len);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    h = open_ns(&st, "alpha", ESF_NVS_READONLY);
    assert_int_equal(esf_nvs_get_u8(h, "a1", &u8), ESF_OK);
    assert_int_equal(u8, 1);
    /* the reference's "re-entered" namespace row does not switch back: a2 went to gamma */
    assert_int_equal(esf_nvs_get_u8(h, "a2", &u8), ESF_ERR_NOT_FOUND);
    esf_nvs_close(h);
    h = open_ns(&st, "gamma", ESF_NVS_READONLY);
    assert_int_equal(esf_nvs_get_u8(h, "a2", &u8), ESF_OK);
    assert_int_equal(u8, 4);
    esf_nvs_close(h);
    h = open_ns(&st, "ns_15_chars_xyz", ESF_NVS_READONLY);
    assert_int_equal(esf_nvs_get_u8(h, "z", &u8), ESF_OK);
    assert_int_equal(u8, 6);
    esf_nvs_close(h);
    esf_nvs_stats ss;
    assert_int_equal(esf_nvs_get_stats(st.nvs, &ss), ESF_OK);
    assert_int_equal(ss.namespace_count, 4);
    store_close(&st);
    free(img);
    img = vector_image("n18_quirks_v2", &len);
    for (int ro = 1; ro >= 0; ro--) {
        store_image(&st, img, len);
        esf_nvs_options opt = {.read_only = ro};
        assert_int_equal(store_init(&st, &opt), ESF_OK);
        h = open_ns(&st, "q", ESF_NVS_READONLY);
        assert_int_equal(esf_nvs_get_u8(h, "dup", &u8), ESF_OK);
        assert_int_equal(u8, 2);
        assert_int_equal(esf_nvs_get_u32(h, "underscore", &u32), ESF_OK);
        assert_int_equal(u32, 1000000);
        esf_nvs_close(h);
        if (ro)
            assert_memory_equal(esf_flash_ram_data(&st.flash), img, len);
        store_close(&st);
    }
    free(img);
}

/* Runtime writes on top of every writable generator image. */
static void vectors_write_on_top(void **state)
{
    (void)state;
    oracle *o = malloc(sizeof *o);
    for (size_t v = 0; v < ARRAY_LEN(vectors); v++) {
        size_t len;
        uint8_t *img = vector_image(vectors[v], &len);
        if (len < 0x3000 || !strcmp(vectors[v], "n18_quirks_v2")) {
            free(img);
            continue;
        }
        store st;
        store_image(&st, img, len);
        assert_int_equal(store_init(&st, NULL), ESF_OK);
        oracle_walk(o, img, len);
        esf_nvs_handle *h = open_ns(&st, "runtime", ESF_NVS_READWRITE);
        int rc = esf_nvs_set_u32(h, "counter", 0xC0FFEE);
        if (rc == ESF_ERR_NO_SPACE) {  /* a completely full generator image */
            print_message("%s: full\n", vectors[v]);
            esf_nvs_close(h);
            store_close(&st);
            free(img);
            continue;
        }
        assert_int_equal(rc, ESF_OK);
        assert_int_equal(esf_nvs_set_str(h, "hello", "world"), ESF_OK);
        esf_nvs_close(h);
        /* rewrite the first item of the image's first namespace with its own value: no write */
        uint64_t progs = st.flash.stats.programs;
        for (size_t i = 0; i < o->n; i++)
            if (o->items[i].ns != 0 && esf_nvs_type_is_prim(o->items[i].type) &&
                oracle_count(o, &o->items[i]) == 1) {
                h = open_ns(&st, o->ns_name[o->items[i].ns], ESF_NVS_READWRITE);
                assert_int_equal(esf_nvs_set_prim(h, o->items[i].key, o->items[i].type,
                                                  o->items[i].raw), ESF_OK);
                esf_nvs_close(h);
                break;
            }
        assert_int_equal(st.flash.stats.programs, progs);
        assert_int_equal(store_init(&st, NULL), ESF_OK);
        /* the generator's values are all still there */
        check_against_oracle(&st, o, 2);
        h = open_ns(&st, "runtime", ESF_NVS_READONLY);
        uint32_t c = 0;
        assert_int_equal(esf_nvs_get_u32(h, "counter", &c), ESF_OK);
        assert_int_equal(c, 0xC0FFEE);
        esf_nvs_close(h);
        store_close(&st);
        free(img);
    }
    free(o);
}

static void read_only(void **state)
{
    (void)state;
    size_t len;
    uint8_t *img = vector_image("n14_readonly_0x1000", &len);
    assert_int_equal(len, 0x1000);
    store st;
    store_image(&st, img, len);
    st.part.flags |= ESF_PART_FLAG_READONLY;  /* the partition table's read-only flag */
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    assert_true(esf_nvs_is_read_only(st.nvs));
    esf_nvs_iter *it = NULL;
    esf_nvs_info info;
    assert_int_equal(esf_nvs_entry_find(st.nvs, NULL, ESF_NVS_TYPE_ANY, &it), ESF_OK);
    assert_int_equal(esf_nvs_entry_info(it, &info), ESF_OK);
    esf_nvs_handle *h = NULL;
    assert_int_equal(esf_nvs_open(st.nvs, info.namespace_name, ESF_NVS_READWRITE, &h, NULL),
                     ESF_ERR_READ_ONLY);
    assert_null(h);
    h = open_ns(&st, info.namespace_name, ESF_NVS_READONLY);
    assert_int_equal(esf_nvs_set_u8(h, "x", 1), ESF_ERR_READ_ONLY);
    assert_int_equal(esf_nvs_erase_key(h, info.key), ESF_ERR_READ_ONLY);
    assert_int_equal(esf_nvs_erase_all(h), ESF_ERR_READ_ONLY);
    uint8_t t;
    assert_int_equal(esf_nvs_find_key(h, info.key, &t), ESF_OK);
    assert_int_equal(t, info.type);
    esf_nvs_release_iterator(it);
    esf_nvs_close(h);
    assert_int_equal(st.flash.stats.programs + st.flash.stats.erases, 0);
    /* a damaged read-only image: clean-up happens in RAM only */
    uint8_t *bad = malloc(len);
    memcpy(bad, img, len);
    bad[64 + 8] ^= 0x20;  /* entry 0's key: header CRC now wrong */
    store_close(&st);
    store_image(&st, bad, len);
    esf_nvs_options ro = {.read_only = true};
    assert_int_equal(store_init(&st, &ro), ESF_OK);
    assert_memory_equal(esf_flash_ram_data(&st.flash), bad, len);
    assert_int_equal(st.flash.stats.programs + st.flash.stats.erases, 0);
    store_close(&st);
    free(bad);
    free(img);
}

static void encrypted(void **state)
{
    (void)state;
    size_t len, klen, plen;
    uint8_t *img = esf_test_read("nvs/n21_encrypted_v2/expected.bin", &len);
    uint8_t *plain = esf_test_read("nvs/n21_encrypted_v2/expected_plain.bin", &plen);
    uint8_t *kf = esf_test_read("nvs/n21_encrypted_v2/keys.bin", &klen);
    uint8_t key[ESF_NVS_XTS_KEY_LEN];
    assert_int_equal(esf_nvs_keys_parse(kf, klen, key, "keys.bin", NULL), ESF_OK);
    oracle *o = malloc(sizeof *o);
    oracle_walk(o, plain, plen);
    store st;
    store_image(&st, img, len);
    esf_nvs_options opt = {.xts_key = key};
    assert_int_equal(store_init(&st, &opt), ESF_OK);
    assert_memory_equal(esf_flash_ram_data(&st.flash), img, len);  /* no recovery needed */
    assert_true(check_against_oracle(&st, o, 0) >= 4);
    /* write, reload with the key: values back; the image decrypts to a plain image that loads */
    esf_nvs_handle *h = open_ns(&st, "secret", ESF_NVS_READWRITE);
    assert_int_equal(esf_nvs_set_str(h, "pw", "hunter2"), ESF_OK);
    uint8_t blob[5000];
    for (size_t i = 0; i < sizeof blob; i++)
        blob[i] = (uint8_t)(i * 13);
    assert_int_equal(esf_nvs_set_blob(h, "cert", blob, sizeof blob), ESF_OK);
    esf_nvs_close(h);
    assert_int_equal(store_init(&st, &opt), ESF_OK);
    check_against_oracle(&st, o, 2);
    h = open_ns(&st, "secret", ESF_NVS_READONLY);
    char pw[16];
    size_t n = sizeof pw;
    assert_int_equal(esf_nvs_get_str(h, "pw", pw, &n), ESF_OK);
    assert_string_equal(pw, "hunter2");
    uint8_t back[5000];
    n = sizeof back;
    assert_int_equal(esf_nvs_get_blob(h, "cert", back, &n), ESF_OK);
    assert_memory_equal(back, blob, sizeof blob);
    esf_nvs_close(h);
    /* the plaintext never reaches flash */
    const uint8_t *raw = esf_flash_ram_data(&st.flash);
    for (size_t i = 0; i + 7 <= len; i++)
        assert_false(memcmp(raw + i, "hunter2", 7) == 0);
    uint8_t *dec = malloc(len);
    memcpy(dec, esf_flash_ram_data(&st.flash), len);
    assert_int_equal(esf_nvs_decrypt_image(dec, len, key, NULL), ESF_OK);
    store pst;
    store_image(&pst, dec, len);
    esf_nvs_options pro = {.read_only = true};
    assert_int_equal(store_init(&pst, &pro), ESF_OK);
    h = open_ns(&pst, "secret", ESF_NVS_READONLY);
    n = sizeof pw;
    assert_int_equal(esf_nvs_get_str(h, "pw", pw, &n), ESF_OK);
    assert_string_equal(pw, "hunter2");
    esf_nvs_close(h);
    store_close(&pst);
    /* a wrong key on a read-only load: nothing readable, nothing destroyed */
    store_close(&st);
    store_image(&st, img, len);
    key[0] ^= 1;
    esf_nvs_options wrong = {.xts_key = key, .read_only = true};
    assert_int_equal(store_init(&st, &wrong), ESF_OK);
    esf_nvs_iter *it = NULL;
    assert_int_equal(esf_nvs_entry_find(st.nvs, NULL, ESF_NVS_TYPE_ANY, &it), ESF_ERR_NOT_FOUND);
    assert_memory_equal(esf_flash_ram_data(&st.flash), img, len);
    store_close(&st);
    free(dec);
    free(o);
    free(img);
    free(plain);
    free(kf);
}

/* Q1: two keys whose 24-bit item hashes collide both survive a reload of their ACTIVE page. */
static void q1_hash_collision(void **state)
{
    (void)state;
    esf_nvs_item a, b;
    esf_nvs_item_set_key(&a, "gonkvakf", 8);
    esf_nvs_item_set_key(&b, "nzpxtsud", 8);
    assert_int_equal(esf_nvs_item_hash(1, a.key, 0xFF), esf_nvs_item_hash(1, b.key, 0xFF));
    assert_int_equal(esf_nvs_item_hash(1, a.key, 0xFF), 0x31684C);
    store st;
    store_blank(&st, 0x3000);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = open_ns(&st, "ns", ESF_NVS_READWRITE);
    assert_int_equal(esf_nvs_set_u32(h, "gonkvakf", 111), ESF_OK);
    assert_int_equal(esf_nvs_set_u32(h, "nzpxtsud", 222), ESF_OK);
    esf_nvs_close(h);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_init(&st, NULL), ESF_OK);
        h = open_ns(&st, "ns", ESF_NVS_READONLY);
        uint32_t v = 0;
        assert_int_equal(esf_nvs_get_u32(h, "gonkvakf", &v), ESF_OK);
        assert_int_equal(v, 111);
        assert_int_equal(esf_nvs_get_u32(h, "nzpxtsud", &v), ESF_OK);
        assert_int_equal(v, 222);
        esf_nvs_close(h);
    }
    store_close(&st);
}

/* A flash whose programs are forwarded to `inner` until the first program of a BLOB_IDX entry,
 * which is cut (nothing written, all later operations fail). */
typedef struct cut_idx {
    esf_flash *inner;
    bool cut;
} cut_idx;

static int ci_read(esf_flash *f, uint32_t a, void *b, size_t n)
{
    return esf_flash_read(((cut_idx *)f->ctx)->inner, a, b, n);
}
static int ci_program(esf_flash *f, uint32_t a, const void *b, size_t n)
{
    cut_idx *c = f->ctx;
    if (!c->cut && n == 32 && (a % 4096) >= 64 && ((const uint8_t *)b)[1] == ESF_NVS_TYPE_BLOB_IDX)
        c->cut = true;
    return c->cut ? ESF_ERR_POWER_CUT : esf_flash_program(c->inner, a, b, n);
}
static int ci_erase(esf_flash *f, uint32_t s)
{
    cut_idx *c = f->ctx;
    return c->cut ? ESF_ERR_POWER_CUT : esf_flash_erase(c->inner, s);
}

/* Q2: power lost after the new version's last chunk is complete but before its index, with the
 * old chunk on the same ACTIVE page: the committed (old) blob must survive. */
static void q2_blob_cut_before_index(void **state)
{
    (void)state;
    store st;
    store_blank(&st, 0x3000);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = open_ns(&st, "ns", ESF_NVS_READWRITE);
    const char old[] = "committed blob value", neu[] = "the new value, never indexed";
    assert_int_equal(esf_nvs_set_blob(h, "b", old, sizeof old), ESF_OK);
    assert_int_equal(esf_nvs_set_u8(h, "other", 1), ESF_OK);
    esf_nvs_close(h);
    esf_nvs_deinit(st.nvs);
    st.nvs = NULL;
    /* update through the cutting flash */
    cut_idx c = {.inner = &st.flash};
    esf_flash cf = {.ctx = &c, .read = ci_read, .program = ci_program, .erase = ci_erase,
                    .sector_size = 4096, .size = st.flash.size};
    esf_part cp;
    assert_int_equal(esf_part_init_whole(&cp, &cf, "nvs", NULL), ESF_OK);
    esf_nvs *s = NULL;
    assert_int_equal(esf_nvs_init(&s, &cp, NULL, NULL), ESF_OK);
    assert_int_equal(esf_nvs_open(s, "ns", ESF_NVS_READWRITE, &h, NULL), ESF_OK);
    assert_int_equal(esf_nvs_set_blob(h, "b", neu, sizeof neu), ESF_ERR_POWER_CUT);
    assert_true(c.cut);
    esf_nvs_close(h);
    esf_nvs_deinit(s);
    /* the new chunk (0x80) is complete on the ACTIVE page next to the old one (0x00) */
    const uint8_t *d = esf_flash_ram_data(&st.flash);
    int chunks = 0;
    for (unsigned i = 0; i < ESF_NVS_ENTRIES_PER_PAGE; i++)
        if (esf_nvs_bitmap_get(d + 32, i) == ESF_NVS_ENTRY_WRITTEN &&
            d[64 + 32 * i + 1] == ESF_NVS_TYPE_BLOB_DATA && d[64 + 32 * i + 8] == 'b')
            chunks++;
    assert_int_equal(chunks, 2);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_init(&st, NULL), ESF_OK);
        h = open_ns(&st, "ns", ESF_NVS_READWRITE);
        char buf[64];
        size_t n = sizeof buf;
        assert_int_equal(esf_nvs_get_blob(h, "b", buf, &n), ESF_OK);
        assert_int_equal(n, sizeof old);
        assert_memory_equal(buf, old, sizeof old);
        esf_nvs_close(h);
    }
    store_close(&st);
}

/* Regression (found by the torn power-cut sweep, seed 11): a string update cut half-way through
 * its payload, then the recovery's ERASED mark torn so that header and payload entries read back
 * WRITTEN. The header is valid, the payload is not: the old value must win, not the broken copy. */
static void torn_mark_fakes_whole_string(void **state)
{
    (void)state;
    store st;
    store_blank(&st, 0x3000);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = open_ns(&st, "ns", ESF_NVS_READWRITE);
    assert_int_equal(esf_nvs_set_u16(h, "k", 0x1234), ESF_OK);  /* entry 1 */
    esf_nvs_close(h);
    esf_nvs_deinit(st.nvs);
    st.nvs = NULL;
    /* the interrupted update: a 40-byte string header at entry 2, 10 of its 40 payload bytes */
    const char *val = "a new value that never fully arrived!!!";
    esf_nvs_item it;
    assert_int_equal(esf_nvs_item_init_var(&it, 1, ESF_NVS_TYPE_STR, "k", 1, ESF_NVS_CHUNK_ANY, val,
                                           strlen(val) + 1), ESF_OK);
    uint8_t ent[32];
    esf_nvs_item_encode(&it, ent);
    assert_int_equal(esf_flash_program(&st.flash, 64 + 2 * 32, ent, 32), ESF_OK);
    assert_int_equal(esf_flash_program(&st.flash, 64 + 3 * 32, val, 10), ESF_OK);
    /* bitmap: entries 0, 1 are WRITTEN (byte 0 = fa); entries 2, 3, 4 now read back WRITTEN too */
    const uint8_t *d = esf_flash_ram_data(&st.flash);
    assert_int_equal(d[32], 0xFA);
    const uint8_t marks[2] = {0xAA, 0xFE};
    assert_int_equal(esf_flash_program(&st.flash, 32, marks, 2), ESF_OK);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(store_init(&st, NULL), ESF_OK);
        h = open_ns(&st, "ns", ESF_NVS_READONLY);
        uint16_t v = 0;
        assert_int_equal(esf_nvs_get_u16(h, "k", &v), ESF_OK);
        assert_int_equal(v, 0x1234);
        size_t len = 0;
        assert_int_equal(esf_nvs_get_str(h, "k", NULL, &len), ESF_ERR_NOT_FOUND);
        esf_nvs_close(h);
    }
    store_close(&st);
}

static void api_rules(void **state)
{
    (void)state;
    store st;
    store_blank(&st, 0x4000);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = NULL, *ro = NULL;
    assert_int_equal(esf_nvs_open(st.nvs, "absent", ESF_NVS_READONLY, &h, NULL), ESF_ERR_NOT_FOUND);
    assert_int_equal(esf_nvs_open(st.nvs, "sixteen_chars_xx", ESF_NVS_READWRITE, &h, NULL),
                     ESF_ERR_TOO_LONG);
    assert_int_equal(esf_nvs_open(st.nvs, NULL, ESF_NVS_READWRITE, &h, NULL), ESF_ERR_INVALID_ARG);
    h = open_ns(&st, "app", ESF_NVS_READWRITE);
    ro = open_ns(&st, "app", ESF_NVS_READONLY);
    /* keys */
    assert_int_equal(esf_nvs_set_u8(h, NULL, 1), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_nvs_set_u8(h, "sixteen_chars_xx", 1), ESF_ERR_TOO_LONG);
    assert_int_equal(esf_nvs_set_u8(h, "fifteen_chars_x", 1), ESF_OK);
    uint8_t u8 = 0;
    assert_int_equal(esf_nvs_get_u8(h, "sixteen_chars_xx", &u8), ESF_ERR_TOO_LONG);
    assert_int_equal(esf_nvs_set_u8(ro, "k", 1), ESF_ERR_READ_ONLY);
    /* floats (IDF >= v6.1): NaN refused; infinities and -0.0 kept bit-exact */
    assert_int_equal(esf_nvs_set_float(h, "f", NAN), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_nvs_set_float(h, "f", 1.5f), ESF_OK);
    assert_int_equal(esf_nvs_set_double(h, "d", -INFINITY), ESF_OK);
    float f = 0;
    double dd = 0;
    assert_int_equal(esf_nvs_get_float(ro, "f", &f), ESF_OK);
    assert_true(f == 1.5f);
    assert_int_equal(esf_nvs_get_double(ro, "d", &dd), ESF_OK);
    assert_true(isinf(dd) && dd < 0);
    uint8_t t = 0;
    assert_int_equal(esf_nvs_find_key(ro, "f", &t), ESF_OK);
    assert_int_equal(t, ESF_NVS_TYPE_FLOAT);
    /* strings: size query, too small, NULL len */
    assert_int_equal(esf_nvs_set_str(h, "s", "hello"), ESF_OK);
    size_t len = 0;
    char buf[8];
    assert_int_equal(esf_nvs_get_str(ro, "s", NULL, &len), ESF_OK);
    assert_int_equal(len, 6);
    len = 5;
    assert_int_equal(esf_nvs_get_str(ro, "s", buf, &len), ESF_ERR_RANGE);
    assert_int_equal(len, 6);
    assert_int_equal(esf_nvs_get_str(ro, "s", buf, NULL), ESF_ERR_RANGE);
    assert_int_equal(esf_nvs_get_str(ro, "nope", buf, NULL), ESF_ERR_NOT_FOUND);
    assert_int_equal(esf_nvs_get_blob(ro, "s", NULL, &len), ESF_ERR_NOT_FOUND);
    /* the longest string fits an empty page only; longer is refused */
    char *big = malloc(4002);
    memset(big, 'x', 4001);
    big[4000] = 0;
    assert_int_equal(esf_nvs_set_str(h, "big", big), ESF_ERR_TOO_LONG);
    big[3999] = 0;
    assert_int_equal(esf_nvs_set_str(h, "big", big), ESF_OK);
    len = 0;
    assert_int_equal(esf_nvs_get_str(ro, "big", NULL, &len), ESF_OK);
    assert_int_equal(len, 4000);
    free(big);
    /* a key of another type is replaced (IDF >= v5.5), not kept twice */
    assert_int_equal(esf_nvs_set_u32(h, "s", 5), ESF_OK);
    assert_int_equal(esf_nvs_get_str(ro, "s", NULL, &len), ESF_ERR_NOT_FOUND);
    assert_int_equal(esf_nvs_find_key(ro, "s", &t), ESF_OK);
    assert_int_equal(t, ESF_NVS_TYPE_U32);
    /* blobs: empty, too long for the partition */
    assert_int_equal(esf_nvs_set_blob(h, "empty", NULL, 0), ESF_OK);
    len = 99;
    assert_int_equal(esf_nvs_get_blob(ro, "empty", buf, &len), ESF_OK);
    assert_int_equal(len, 0);
    uint8_t *huge = calloc(1, 3 * 4000 + 1);
    assert_int_equal(esf_nvs_set_blob(h, "huge", huge, 3 * 4000 + 1), ESF_ERR_TOO_LONG);
    free(huge);
    /* erase */
    assert_int_equal(esf_nvs_erase_key(h, "nope"), ESF_ERR_NOT_FOUND);
    assert_int_equal(esf_nvs_erase_key(h, "f"), ESF_OK);
    assert_int_equal(esf_nvs_get_float(ro, "f", &f), ESF_ERR_NOT_FOUND);
    /* iterators: namespace filter, type filter, v2 blobs once */
    esf_nvs_handle *h2 = open_ns(&st, "other", ESF_NVS_READWRITE);
    assert_int_equal(esf_nvs_set_u8(h2, "o", 1), ESF_OK);
    uint8_t b3[9000] = {1};
    assert_int_equal(esf_nvs_set_blob(h2, "multi", b3, sizeof b3), ESF_ERR_NO_SPACE);
    assert_int_equal(esf_nvs_set_blob(h2, "multi", b3, 5000), ESF_OK);
    int n = 0;
    esf_nvs_iter *it = NULL;
    esf_nvs_info info;
    for (int rc = esf_nvs_entry_find(st.nvs, "other", ESF_NVS_TYPE_ANY, &it); rc == ESF_OK;
         rc = esf_nvs_entry_next(&it)) {
        assert_int_equal(esf_nvs_entry_info(it, &info), ESF_OK);
        assert_string_equal(info.namespace_name, "other");
        n++;
    }
    assert_int_equal(n, 2);
    assert_int_equal(esf_nvs_entry_find(st.nvs, NULL, ESF_NVS_TYPE_BLOB_DATA, &it), ESF_OK);
    assert_int_equal(esf_nvs_entry_info(it, &info), ESF_OK);
    assert_int_equal(info.type, ESF_NVS_TYPE_BLOB_DATA);
    esf_nvs_release_iterator(it);
    assert_int_equal(esf_nvs_entry_find(st.nvs, "zzz", ESF_NVS_TYPE_ANY, &it), ESF_ERR_NOT_FOUND);
    assert_null(it);
    assert_int_equal(esf_nvs_entry_find(st.nvs, NULL, ESF_NVS_TYPE_I64, &it), ESF_ERR_NOT_FOUND);
    assert_int_equal(esf_nvs_entry_next(NULL), ESF_ERR_INVALID_ARG);
    /* erase_all: the namespace stays, its items go, others stay */
    size_t used = 0;
    assert_int_equal(esf_nvs_get_used_entry_count(h2, &used), ESF_OK);
    assert_true(used > 150);
    assert_int_equal(esf_nvs_erase_all(h2), ESF_OK);
    assert_int_equal(esf_nvs_get_used_entry_count(h2, &used), ESF_OK);
    assert_int_equal(used, 0);
    assert_int_equal(esf_nvs_erase_all(h2), ESF_OK);
    assert_int_equal(esf_nvs_get_u8(ro, "fifteen_chars_x", &u8), ESF_OK);
    assert_int_equal(esf_nvs_commit(ro), ESF_OK);
    esf_nvs_close(h2);
    esf_nvs_close(h);
    esf_nvs_close(ro);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    h2 = open_ns(&st, "other", ESF_NVS_READONLY);  /* still exists, empty */
    assert_int_equal(esf_nvs_get_u8(h2, "o", &u8), ESF_ERR_NOT_FOUND);
    esf_nvs_close(h2);
    store_close(&st);
}

static void namespaces_limit(void **state)
{
    (void)state;
    store st;
    store_blank(&st, 0x5000);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    char name[16];
    esf_nvs_handle *h;
    for (int i = 1; i <= 254; i++) {
        snprintf(name, sizeof name, "ns%d", i);
        h = open_ns(&st, name, ESF_NVS_READWRITE);
        esf_nvs_close(h);
    }
    h = NULL;
    assert_int_equal(esf_nvs_open(st.nvs, "one_more", ESF_NVS_READWRITE, &h, NULL),
                     ESF_ERR_NO_SPACE);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    h = open_ns(&st, "ns254", ESF_NVS_READWRITE);
    assert_int_equal(esf_nvs_set_u8(h, "k", 1), ESF_OK);
    esf_nvs_close(h);
    esf_nvs_stats s;
    esf_nvs_get_stats(st.nvs, &s);
    assert_int_equal(s.namespace_count, 254);
    store_close(&st);
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Init succeeds on damaged or random flash contents (or refuses with the two ESP-IDF codes), a
 * write works afterwards, and a second init changes no byte. */
static void damaged_images(void **state)
{
    (void)state;
    size_t len;
    uint8_t *base = vector_image("n19_random_large_v2", &len);
    uint8_t *img = malloc(len), *after = malloc(len);
    uint64_t r = 42;
    int ok = 0;
    for (int round = 0; round < 400; round++) {
        memcpy(img, base, len);
        if (round % 4 == 0) {
            for (size_t i = 0; i < len; i += 8) {
                uint64_t x = splitmix(&r);
                memcpy(img + i, &x, 8);
            }
        } else {
            for (int k = 0; k < 1 + round % 16; k++)
                img[splitmix(&r) % len] ^= (uint8_t)(1u << (splitmix(&r) % 8));
        }
        store st;
        store_image(&st, img, len);
        int rc = store_init(&st, NULL);
        if (rc == ESF_ERR_UNSUPPORTED || rc == ESF_ERR_NO_SPACE) {
            store_close(&st);
            continue;
        }
        assert_int_equal(rc, ESF_OK);
        esf_nvs_handle *h = NULL;
        esf_nvs_iter *it = NULL;
        for (int irc = esf_nvs_entry_find(st.nvs, NULL, ESF_NVS_TYPE_ANY, &it); irc == ESF_OK;
             irc = esf_nvs_entry_next(&it)) {  /* every listed item is readable */
            esf_nvs_info info;
            esf_nvs_entry_info(it, &info);
            if (!info.namespace_name[0])
                continue;  /* its namespace entry was destroyed: unreachable, as in ESP-IDF */
            assert_int_equal(esf_nvs_open(st.nvs, info.namespace_name, ESF_NVS_READONLY, &h,
                                          NULL), ESF_OK);
            uint8_t t;
            assert_int_equal(esf_nvs_find_key(h, info.key, &t), ESF_OK);
            esf_nvs_close(h);
        }
        memcpy(after, esf_flash_ram_data(&st.flash), len);
        assert_int_equal(store_init(&st, NULL), ESF_OK);
        assert_memory_equal(esf_flash_ram_data(&st.flash), after, len);  /* idempotent */
        h = open_ns(&st, "probe", ESF_NVS_READWRITE);
        rc = esf_nvs_set_str(h, "p", "written after recovery");
        assert_true(rc == ESF_OK || rc == ESF_ERR_NO_SPACE);
        esf_nvs_close(h);
        store_close(&st);
        ok++;
    }
    print_message("damaged images: %d of 400 initialised\n", ok);
    assert_true(ok > 300);
    free(base);
    free(img);
    free(after);
}

/* A file-backed store inside a larger flash image: nothing reaches the file before commit. */
static void file_backed(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/flash.bin", dir);
    size_t len;
    uint8_t *nvs = vector_image("n01_primitives_v2", &len);
    uint8_t *flash = malloc(0x20000);
    for (size_t i = 0; i < 0x20000; i++)
        flash[i] = (uint8_t)(i * 7);
    memcpy(flash + 0x9000, nvs, len);
    assert_int_equal(esf_file_write_atomic(path, flash, 0x20000, NULL), ESF_OK);
    esf_nvs *s = NULL;
    esf_error err;
    assert_int_equal(esf_nvs_open_file(&s, path, 0x9000, 0x30000, NULL, &err), ESF_ERR_RANGE);
    assert_int_equal(esf_nvs_open_file(&s, path, 0x9000, (uint32_t)len, NULL, &err), ESF_OK);
    esf_nvs_handle *h = NULL;
    assert_int_equal(esf_nvs_open(s, "prims", ESF_NVS_READWRITE, &h, &err), ESF_OK);
    assert_int_equal(esf_nvs_set_u8(h, "u8_max", 17), ESF_OK);
    uint8_t *disk = NULL;
    size_t dlen;
    assert_int_equal(esf_file_read(path, &disk, &dlen, NULL), ESF_OK);
    assert_memory_equal(disk, flash, 0x20000);
    free(disk);
    assert_int_equal(esf_nvs_commit(h), ESF_OK);
    esf_nvs_close(h);
    esf_nvs_deinit(s);
    assert_int_equal(esf_file_read(path, &disk, &dlen, NULL), ESF_OK);
    assert_int_equal(dlen, 0x20000);
    assert_memory_equal(disk, flash, 0x9000);  /* outside the window: untouched */
    assert_memory_equal(disk + 0x9000 + len, flash + 0x9000 + len, 0x20000 - 0x9000 - len);
    free(disk);
    assert_int_equal(esf_test_count_entries(dir), 1);  /* no temporary file left */
    assert_int_equal(esf_nvs_open_file(&s, path, 0x9000, (uint32_t)len, NULL, &err), ESF_OK);
    assert_int_equal(esf_nvs_open(s, "prims", ESF_NVS_READONLY, &h, &err), ESF_OK);
    uint8_t v = 0;
    assert_int_equal(esf_nvs_get_u8(h, "u8_max", &v), ESF_OK);
    assert_int_equal(v, 17);
    esf_nvs_close(h);
    assert_int_equal(esf_nvs_commit_file(s, &err), ESF_OK);  /* unchanged: nothing to do */
    esf_nvs_deinit(s);
    assert_int_equal(esf_nvs_open_file(&s, "/nonexistent/x.bin", 0, 0, NULL, &err), ESF_ERR_IO);
    free(nvs);
    free(flash);
    esf_test_rmdir(dir);
    free(dir);
}

/* ESP-IDF's wear test: 2 pages of static data + 2000 rewrites of one u32 on 6 sectors: every
 * sector erased at most 2000/126/4 + 1 times. */
static void wear_spreading(void **state)
{
    (void)state;
    store st;
    store_blank(&st, 6 * 4096);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    esf_nvs_handle *h = open_ns(&st, "wear", ESF_NVS_READWRITE);
    char key[16];
    for (int i = 0; i < 2 * 126 - 4; i++) {
        snprintf(key, sizeof key, "static%d", i);
        assert_int_equal(esf_nvs_set_u32(h, key, (uint32_t)i), ESF_OK);
    }
    esf_flash_stats_reset(&st.flash);
    for (uint32_t i = 0; i < 2000; i++)
        assert_int_equal(esf_nvs_set_u32(h, "counter", i), ESF_OK);
    uint32_t max = 0;
    for (int s = 0; s < 6; s++)
        if (st.flash.stats.sector_erases[s] > max)
            max = st.flash.stats.sector_erases[s];
    print_message("max erases per sector: %u (limit %d)\n", max, 2000 / 126 / 4 + 1);
    assert_true(max <= 2000 / 126 / 4 + 1);
    esf_nvs_close(h);
    assert_int_equal(store_init(&st, NULL), ESF_OK);
    h = open_ns(&st, "wear", ESF_NVS_READONLY);
    uint32_t v = 0;
    assert_int_equal(esf_nvs_get_u32(h, "counter", &v), ESF_OK);
    assert_int_equal(v, 1999);
    assert_int_equal(esf_nvs_get_u32(h, "static100", &v), ESF_OK);
    assert_int_equal(v, 100);
    esf_nvs_close(h);
    store_close(&st);
}

static void init_refusals(void **state)
{
    (void)state;
    store st;
    store_blank(&st, 0x3000);
    esf_nvs_options same = {.xts_key = (const uint8_t *)"0123456789abcdef0123456789abcdef"
                                                        "0123456789abcdef0123456789abcdef"};
    assert_int_equal(store_init(&st, &same), ESF_ERR_CRYPTO);
    st.part.flags = ESF_PART_FLAG_ENCRYPTED;
    assert_int_equal(store_init(&st, NULL), ESF_ERR_INVALID);
    st.part.flags = 0;
    /* a page of a newer format version */
    uint8_t hdr[32];
    esf_nvs_page_header_init(hdr, ESF_NVS_PAGE_FULL, 3, 0xFD);
    assert_int_equal(esf_flash_program(&st.flash, 4096, hdr, 32), ESF_OK);
    assert_int_equal(store_init(&st, NULL), ESF_ERR_UNSUPPORTED);
    assert_int_equal(esf_nvs_erase_partition(&st.part, NULL), ESF_OK);
    /* every page used: no free page */
    for (uint32_t p = 0; p < 3; p++) {
        esf_nvs_page_header_init(hdr, ESF_NVS_PAGE_FULL, p, ESF_NVS_VERSION_2);
        assert_int_equal(esf_flash_program(&st.flash, p * 4096, hdr, 32), ESF_OK);
    }
    assert_int_equal(store_init(&st, NULL), ESF_ERR_NO_SPACE);
    esf_nvs_options ro = {.read_only = true};
    assert_int_equal(store_init(&st, &ro), ESF_OK);  /* read-only needs no free page */
    store_close(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(example_bytes),        cmocka_unit_test(multipage_blob_bytes),
        cmocka_unit_test(vectors_read_back),    cmocka_unit_test(vectors_spot_values),
        cmocka_unit_test(vectors_write_on_top), cmocka_unit_test(read_only),
        cmocka_unit_test(encrypted),            cmocka_unit_test(q1_hash_collision),
        cmocka_unit_test(q2_blob_cut_before_index), cmocka_unit_test(torn_mark_fakes_whole_string),
        cmocka_unit_test(api_rules),
        cmocka_unit_test(namespaces_limit),     cmocka_unit_test(damaged_images),
        cmocka_unit_test(file_backed),          cmocka_unit_test(wear_spreading),
        cmocka_unit_test(init_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
