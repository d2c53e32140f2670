/* NVS image reader and checker: generator vectors read back (values compared with what the
 * reference nvs_tool.py read from the same images), the checker passes them, and damaged copies
 * (bytes flipped here) are reported with page, entry and offset. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "esf_test.h"
#include "espforge/nvs_check.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_dump.h"
#include "espforge/nvs_image.h"

#define vectors esf_test_nvs_vectors  /* tests/support: every generator vector image */

static esf_nvs_image *load_vector(const char *name)
{
    char rel[128];
    size_t len, klen;
    uint8_t key[64], *kb = NULL;
    snprintf(rel, sizeof rel, "nvs/%s/expected.bin", name);
    uint8_t *buf = esf_test_read(rel, &len);
    bool enc = strstr(name, "encrypted") != NULL;
    if (enc) {
        snprintf(rel, sizeof rel, "nvs/%s/keys.bin", name);
        kb = esf_test_read(rel, &klen);
        assert_int_equal(esf_nvs_keys_parse(kb, klen, key, rel, NULL), ESF_OK);
    }
    esf_nvs_image *img = NULL;
    esf_error err;
    int rc = esf_nvs_image_parse(&img, buf, len, enc ? key : NULL, &err);
    if (rc != ESF_OK)
        fail_msg("%s: %s", name, err.msg);
    free(buf);
    free(kb);
    return img;
}

/* whole file through zlib (plain or gzip) */
static char *read_gz(const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s", esf_test_path(rel));
    gzFile f = gzopen(path, "rb");
    if (!f) {
        snprintf(path + strlen(path), sizeof path - strlen(path), ".gz");
        f = gzopen(path, "rb");
    }
    if (!f)
        fail_msg("cannot open %s", rel);
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    int n;
    while ((n = gzread(f, s + len, (unsigned)(cap - len - 1))) > 0) {
        len += (size_t)n;
        if (cap - len < 4096)
            s = realloc(s, cap *= 2);
    }
    gzclose(f);
    s[len] = '\0';
    return s;
}

/* Every value the reference lists (nvs_tool -f json -d minimal, recorded) is what we read;
 * chunks of a v2 blob are concatenated; for a key written twice the later one counts. */
static void vectors_read_values_like_reference(void **state)
{
    (void)state;
    unsigned total = 0;
    for (size_t v = 0; v < ARRAY_LEN(vectors); v++) {
        esf_nvs_image *img = load_vector(vectors[v]);
        char rel[160];
        snprintf(rel, sizeof rel, "nvs-tool/expect/%s%s/json-minimal.out", vectors[v],
                 strstr(vectors[v], "encrypted") ? "_plain" : "");
        char *text = read_gz(rel);
        cJSON *arr = cJSON_Parse(text);
        assert_non_null(arr);
        int n = cJSON_GetArraySize(arr);
        uint8_t *blob = malloc(600000);
        size_t blen = 0, distinct = 0;
        for (int i = 0; i < n; i++) {
            cJSON *o = cJSON_GetArrayItem(arr, i);
            const char *ns = cJSON_GetObjectItem(o, "namespace")->valuestring;
            const char *key = cJSON_GetObjectItem(o, "key")->valuestring;
            const char *enc = cJSON_GetObjectItem(o, "encoding")->valuestring;
            cJSON *data = cJSON_GetObjectItem(o, "data");
            /* later records of the same key decide; chunks accumulate */
            bool later = false, next_chunk = false;
            for (int j = i + 1; j < n; j++) {
                cJSON *p = cJSON_GetArrayItem(arr, j);
                if (!strcmp(cJSON_GetObjectItem(p, "namespace")->valuestring, ns) &&
                    !strcmp(cJSON_GetObjectItem(p, "key")->valuestring, key)) {
                    later = true;
                    next_chunk = j == i + 1 && !strcmp(enc, "blob_data") &&
                                 !strcmp(cJSON_GetObjectItem(p, "encoding")->valuestring,
                                         "blob_data");
                    break;
                }
            }
            if (!strcmp(enc, "blob_data") || !strcmp(enc, "blob"))
                blen += esf_test_base64_decode(data->valuestring, strlen(data->valuestring), blob + blen);
            if (next_chunk)
                continue;
            if (later) {
                blen = 0;
                continue;
            }
            distinct++;
            const esf_nvs_value *val = esf_nvs_image_find(img, ns, key);
            if (!val)
                fail_msg("%s: %s:%s not read", vectors[v], ns, key);
            if (cJSON_IsNumber(data)) {
                assert_int_equal(val->kind, ESF_NVS_KIND_INT);
                double want = data->valuedouble;
                double got = esf_nvs_type_is_signed(val->type) ? (double)(int64_t)val->num
                                                               : (double)val->num;
                if (got != want)
                    fail_msg("%s: %s:%s = %.0f, reference %.0f", vectors[v], ns, key, got, want);
            } else if (!strcmp(enc, "string")) {
                size_t l = val->len;
                while (l > 0 && val->data[l - 1] == 0)
                    l--;
                if (l != strlen(data->valuestring) || memcmp(val->data, data->valuestring, l))
                    fail_msg("%s: string %s:%s differs", vectors[v], ns, key);
            } else {
                if (val->len != blen || memcmp(val->data, blob, blen))
                    fail_msg("%s: blob %s:%s: %zu bytes, reference %zu", vectors[v], ns, key,
                             val->len, blen);
                blen = 0;
            }
            total++;
        }
        if (distinct != img->nvalues)
            fail_msg("%s: %zu values read, reference lists %zu keys", vectors[v], img->nvalues,
                     distinct);
        cJSON_Delete(arr);
        free(text);
        free(blob);
        esf_nvs_image_free(img);
    }
    print_message("values compared with the reference: %u in %zu images\n", total,
                  ARRAY_LEN(vectors));
}

/* the integer extremes exactly (beyond a double's precision) against n01's CSV */
static void primitives_exact(void **state)
{
    (void)state;
    static const struct { const char *key; uint8_t type; uint64_t bits; } want[] = {
        { "u8_min", ESF_NVS_TYPE_U8, 0 }, { "u8_max", ESF_NVS_TYPE_U8, 255 },
        { "i8_min", ESF_NVS_TYPE_I8, (uint64_t)-128 }, { "i8_max", ESF_NVS_TYPE_I8, 127 },
        { "u16_max", ESF_NVS_TYPE_U16, 65535 }, { "i16_min", ESF_NVS_TYPE_I16, (uint64_t)-32768 },
        { "i16_max", ESF_NVS_TYPE_I16, 32767 }, { "u32_max", ESF_NVS_TYPE_U32, 4294967295u },
        { "i32_min", ESF_NVS_TYPE_I32, (uint64_t)(int64_t)INT32_MIN },
        { "i32_max", ESF_NVS_TYPE_I32, INT32_MAX }, { "u64_max", ESF_NVS_TYPE_U64, UINT64_MAX },
        { "i64_min", ESF_NVS_TYPE_I64, (uint64_t)INT64_MIN },
        { "i64_max", ESF_NVS_TYPE_I64, INT64_MAX }, { "plus_sign", ESF_NVS_TYPE_U32, 42 },
        { "leading_zeros", ESF_NVS_TYPE_I16, (uint64_t)-7 },
        { "k123456789abcde", ESF_NVS_TYPE_U8, 7 },
    };
    const char *const imgs[] = { "n01_primitives_v2", "n02_primitives_v1" };
    for (size_t k = 0; k < ARRAY_LEN(imgs); k++) {
        esf_nvs_image *img = load_vector(imgs[k]);
        assert_int_equal(img->nvalues, ARRAY_LEN(want));
        for (size_t i = 0; i < ARRAY_LEN(want); i++) {
            const esf_nvs_value *v = esf_nvs_image_find(img, "prims", want[i].key);
            if (!v || v->type != want[i].type || v->num != want[i].bits)
                fail_msg("%s: %s wrong", imgs[k], want[i].key);
        }
        esf_nvs_image_free(img);
    }
}

static void check_report(const esf_nvs_image *img, esf_nvs_report *rep)
{
    memset(rep, 0, sizeof *rep);
    assert_int_equal(esf_nvs_check(img, rep, NULL), ESF_OK);
}

static void vectors_pass_check(void **state)
{
    (void)state;
    for (size_t v = 0; v < ARRAY_LEN(vectors); v++) {
        esf_nvs_image *img = load_vector(vectors[v]);
        esf_nvs_report rep;
        check_report(img, &rep);
        for (size_t i = 0; i < rep.count; i++)
            if (rep.items[i].severity == ESF_NVS_SEV_ERROR)
                fail_msg("%s: %s", vectors[v], rep.items[i].msg);
        esf_nvs_report_free(&rep);
        esf_nvs_image_free(img);
    }
}

/* ---- damaged copies */

static uint8_t *vec_bytes(const char *name, size_t *len)
{
    char rel[128];
    snprintf(rel, sizeof rel, "nvs/%s/expected.bin", name);
    return esf_test_read(rel, len);
}

static esf_nvs_image *parse(const uint8_t *b, size_t len)
{
    esf_nvs_image *img = NULL;
    assert_int_equal(esf_nvs_image_parse(&img, b, len, NULL, NULL), ESF_OK);
    return img;
}

static const esf_nvs_finding *find_rule(const esf_nvs_report *rep, esf_nvs_rule r, int page,
                                        int entry)
{
    for (size_t i = 0; i < rep->count; i++)
        if (rep->items[i].rule == r && (page < 0 || rep->items[i].page == page) &&
            (entry < 0 || rep->items[i].entry == entry))
            return &rep->items[i];
    return NULL;
}

static void set_state(uint8_t *img, unsigned page, unsigned i, unsigned st)
{
    esf_nvs_bitmap_set(img + page * 4096 + 32, i, st);
}

static void bad_entry_crc(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n12_namespaces", &len);
    b[esf_nvs_entry_offset(0, 1) + 8] ^= 0x20; /* key "a1" -> "A1", CRC left */
    esf_nvs_image *img = parse(b, len);
    esf_nvs_report rep;
    check_report(img, &rep);
    const esf_nvs_finding *f = find_rule(&rep, ESF_NVS_R_ENTRY_CRC, 0, 1);
    assert_non_null(f);
    assert_int_equal(f->offset, 0x60);
    assert_int_equal(f->severity, ESF_NVS_SEV_ERROR);
    assert_string_equal(f->key, "A1");
    assert_null(esf_nvs_image_find(img, "alpha", "a1"));
    assert_null(esf_nvs_image_find(img, "alpha", "A1"));
    assert_non_null(esf_nvs_image_find(img, "beta", "b2"));
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    free(b);
}

static void bad_header_crc(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n07_multipage_blob_v2", &len);
    b[4096 + 4] ^= 0x01; /* page 1's sequence number, CRC left */
    esf_nvs_image *img = parse(b, len);
    esf_nvs_report rep;
    check_report(img, &rep);
    const esf_nvs_finding *f = find_rule(&rep, ESF_NVS_R_PAGE_CRC, 1, -1);
    assert_non_null(f);
    assert_int_equal(f->offset, 4096);
    assert_false(img->pages[1].loaded);
    /* the blob had chunks on page 1: it is gone from the runtime view */
    assert_null(esf_nvs_image_find(img, "ns", "big"));
    assert_true(rep.errors > 0);
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    free(b);
}

static void orphan_chunk(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n07_multipage_blob_v2", &len);
    esf_nvs_image *img = parse(b, len);
    const esf_nvs_value *v = esf_nvs_image_find(img, "ns", "big");
    assert_non_null(v);
    assert_int_equal(v->len, 10000);
    const esf_nvs_rec *ix = &img->items[v->item];
    unsigned ipage = ix->page, ientry = ix->entry;
    esf_nvs_image_free(img);
    set_state(b, ipage, ientry, ESF_NVS_ENTRY_ERASED); /* drop the BLOB_IDX */
    img = parse(b, len);
    assert_null(esf_nvs_image_find(img, "ns", "big"));
    esf_nvs_report rep;
    check_report(img, &rep);
    const esf_nvs_finding *f = find_rule(&rep, ESF_NVS_R_BLOB_ORPHAN, -1, -1);
    assert_non_null(f);
    assert_string_equal(f->key, "big");
    assert_int_equal(f->offset, esf_nvs_entry_offset((uint32_t)f->page, (unsigned)f->entry));
    assert_int_equal(f->severity, ESF_NVS_SEV_ERROR);
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    free(b);
}

static void duplicate_key(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n01_primitives_v2", &len);
    /* entry 1 is the first u8 of namespace 1; append a newer copy with another value */
    uint8_t *src = b + esf_nvs_entry_offset(0, 1);
    assert_int_equal(src[1], ESF_NVS_TYPE_U8);
    unsigned j = 0;
    while (esf_nvs_bitmap_get(b + 32, j) != ESF_NVS_ENTRY_EMPTY)
        j++;
    uint8_t *dst = b + esf_nvs_entry_offset(0, j);
    memcpy(dst, src, 32);
    dst[24] = 77;
    uint32_t c = esf_nvs_item_crc(dst);
    for (int k = 0; k < 4; k++)
        dst[4 + k] = (uint8_t)(c >> (8 * k));
    set_state(b, 0, j, ESF_NVS_ENTRY_WRITTEN);
    esf_nvs_image *img = parse(b, len);
    char key[17];
    memcpy(key, src + 8, 16);
    key[16] = 0;
    const esf_nvs_value *v = esf_nvs_image_find(img, esf_nvs_image_ns_name(img, 1), key);
    assert_non_null(v);
    assert_int_equal(v->num, 77); /* the newer copy is the value */
    esf_nvs_report rep;
    check_report(img, &rep);
    const esf_nvs_finding *f = find_rule(&rep, ESF_NVS_R_DUP_KEY, 0, 1);
    assert_non_null(f);
    assert_int_equal(f->offset, 0x60);
    assert_int_equal(f->a, j);
    assert_non_null(find_rule(&rep, ESF_NVS_R_DUPLICATE, 0, 1));
    assert_non_null(find_rule(&rep, ESF_NVS_R_DUPLICATE, 0, (int)j));
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    free(b);
}

static void freeing_and_erased_pages(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n13_page_boundaries_v2", &len);
    b[0] = 0xF8; /* page 0 FREEING: still read (the runtime copies it at init) */
    set_state(b, 0, 3, ESF_NVS_ENTRY_ERASED); /* an erased item: gone, not an error */
    esf_nvs_image *img = parse(b, len);
    esf_nvs_report rep;
    check_report(img, &rep);
    assert_non_null(find_rule(&rep, ESF_NVS_R_FREEING, 0, -1));
    assert_true(img->pages[0].loaded);
    assert_non_null(esf_nvs_image_find(img, "ns", "u000"));
    assert_null(esf_nvs_image_find(img, "ns", "u002"));
    assert_int_equal(rep.errors, 0);
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    free(b);
}

static void encrypted_needs_key(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n21_encrypted_v2", &len);
    esf_nvs_image *img = parse(b, len);
    assert_int_equal(img->nvalues, 0);
    esf_nvs_report rep;
    check_report(img, &rep);
    assert_non_null(find_rule(&rep, ESF_NVS_R_ENTRY_CRC, 0, 0));
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(img);
    /* with the key: the same values as the plain image */
    img = load_vector("n21_encrypted_v2");
    size_t plen;
    uint8_t *p = esf_test_read("nvs/n21_encrypted_v2/expected_plain.bin", &plen);
    esf_nvs_image *plain = parse(p, plen);
    assert_int_equal(img->nvalues, plain->nvalues);
    for (size_t i = 0; i < img->nvalues; i++) {
        assert_string_equal(img->values[i].key, plain->values[i].key);
        assert_int_equal(img->values[i].len, plain->values[i].len);
        if (img->values[i].len)
            assert_memory_equal(img->values[i].data, plain->values[i].data, img->values[i].len);
    }
    assert_memory_equal(img->bytes, p, plen); /* decrypted == generator's plain image */
    esf_nvs_image_free(plain);
    esf_nvs_image_free(img);
    free(p);
    free(b);
}

static void garbage_never_crashes(void **state)
{
    (void)state;
    /* deterministic pseudo-random pages, and each vector with every 97th byte flipped */
    uint8_t *b = malloc(5 * 4096);
    uint32_t x = 12345;
    for (size_t i = 0; i < 5 * 4096; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    b[0] = 0xFE; b[1] = b[2] = b[3] = 0xFF;
    esf_nvs_image *img = parse(b, 5 * 4096);
    esf_nvs_report rep;
    check_report(img, &rep);
    esf_nvs_report_free(&rep);
    FILE *null = fopen("/dev/null", "w");
    esf_nvs_dump_opts o = { ESF_NVS_DUMP_JSON, false };
    assert_int_equal(esf_nvs_dump(null, img, &o, NULL), ESF_OK);
    esf_nvs_image_free(img);
    free(b);
    for (size_t v = 0; v < ARRAY_LEN(vectors); v++) {
        size_t len;
        b = vec_bytes(vectors[v], &len);
        for (size_t i = 13; i < len; i += 97)
            b[i] ^= (uint8_t)(i * 7 + 1);
        img = parse(b, len);
        check_report(img, &rep);
        assert_int_equal(esf_nvs_tool_check(null, img, &rep, false, NULL), ESF_OK);
        for (int m = ESF_NVS_TOOL_ALL; m <= ESF_NVS_TOOL_STORAGE_INFO; m++)
            assert_int_equal(esf_nvs_tool_text(null, img, (esf_nvs_tool_mode)m, true, NULL),
                             ESF_OK);
        esf_nvs_report_free(&rep);
        esf_nvs_image_free(img);
        free(b);
    }
    fclose(null);
}

static void unaligned_refused(void **state)
{
    (void)state;
    uint8_t b[5000];
    memset(b, 0xFF, sizeof b);
    esf_nvs_image *img = (esf_nvs_image *)1;
    esf_error err;
    assert_int_equal(esf_nvs_image_parse(&img, b, sizeof b, NULL, &err), ESF_ERR_INVALID);
    assert_null(img);
    assert_non_null(strstr(err.msg, "5000 % 4096 = 904"));
    assert_int_equal(esf_nvs_image_parse(&img, b, 4096, NULL, &err), ESF_OK);
    assert_int_equal(img->nvalues, 0);
    esf_nvs_image_free(img);
}

/* each damaged image of tests/data/nvs-tool/corrupt: the rules that must fire, the error count */
static void damaged_images_rules(void **state)
{
    (void)state;
    static const struct {
        const char *image;
        esf_nvs_rule rules[4];
        unsigned nrules;
        bool errors;
    } cases[] = {
        { "c01_entry_crc", { ESF_NVS_R_ENTRY_CRC }, 1, true },
        { "c02_header_crc", { ESF_NVS_R_PAGE_CRC }, 1, true },
        { "c03_orphan_chunks", { ESF_NVS_R_BLOB_ORPHAN }, 1, true },
        { "c04_duplicate_key", { ESF_NVS_R_DUPLICATE, ESF_NVS_R_DUP_KEY }, 2, false },
        { "c05_erased_update", { 0 }, 0, false },
        { "c06_freeing_page", { ESF_NVS_R_FREEING }, 1, false },
        { "c07_data_crc", { ESF_NVS_R_DATA_CRC }, 1, true },
        { "c08_missing_chunk", { ESF_NVS_R_BLOB_MISSING_CHUNK, ESF_NVS_R_BLOB_MISSING_DATA,
                                 ESF_NVS_R_BLOB_INCOMPLETE, ESF_NVS_R_BLOB_STALE }, 4, true },
        { "c09_unknown_type", { ESF_NVS_R_TYPE_UNKNOWN }, 1, false },
        { "c10_span_oob", { ESF_NVS_R_SPAN_OOB }, 1, true },
        { "c11_undefined_ns", { ESF_NVS_R_NS_UNDEFINED }, 1, true },
        { "c12_namespaces", { ESF_NVS_R_NS_UNUSED, ESF_NVS_R_NS_DUP, ESF_NVS_R_DUPLICATE }, 3,
          false },
        { "c13_page_states", { ESF_NVS_R_PAGE_STATE }, 1, true },
        { "c14_entry_states", { ESF_NVS_R_WRITTEN_EMPTY, ESF_NVS_R_ERASED_EMPTY,
                                ESF_NVS_R_ENTRY_ILLEGAL, ESF_NVS_R_TORN_ENTRY }, 4, true },
        { "c15_child_state", { ESF_NVS_R_CHILD_STATE }, 1, true },
        { "c16_blob_ver1", { 0 }, 0, false },
        { "c17_garbage_page", { ESF_NVS_R_PAGE_CRC }, 1, true },
        { "c18_stale_blob_version", { ESF_NVS_R_BLOB_STALE, ESF_NVS_R_BLOB_ORPHAN }, 2, false },
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        char rel[128];
        size_t len;
        snprintf(rel, sizeof rel, "nvs-tool/corrupt/%s.bin", cases[c].image);
        uint8_t *b = esf_test_read(rel, &len);
        esf_nvs_image *img = parse(b, len);
        esf_nvs_report rep;
        check_report(img, &rep);
        for (unsigned r = 0; r < cases[c].nrules; r++) {
            const esf_nvs_finding *f = find_rule(&rep, cases[c].rules[r], -1, -1);
            if (!f)
                fail_msg("%s: rule %s not reported", cases[c].image,
                         esf_nvs_rule_id(cases[c].rules[r]));
            if (f->entry >= 0)
                assert_int_equal(f->offset, esf_nvs_entry_offset((uint32_t)f->page,
                                                                 (unsigned)f->entry));
        }
        if ((rep.errors > 0) != cases[c].errors)
            fail_msg("%s: %u errors", cases[c].image, rep.errors);
        if (!cases[c].nrules && rep.warnings)
            fail_msg("%s: %u warnings on a sound image", cases[c].image, rep.warnings);
        esf_nvs_report_free(&rep);
        esf_nvs_image_free(img);
        free(b);
    }
    /* every rule has a distinct id */
    for (int r = 0; r < ESF_NVS_R__COUNT; r++)
        for (int q = 0; q < r; q++)
            assert_string_not_equal(esf_nvs_rule_id((esf_nvs_rule)r),
                                    esf_nvs_rule_id((esf_nvs_rule)q));
    assert_string_equal(esf_nvs_rule_id(ESF_NVS_R__COUNT), "unknown");
}

/* the partition-view loader reads the same image inside a bigger flash */
/* FLOAT/DOUBLE items (IDF >= v6.1) added to a generator image: values of kind FLOAT with their
 * exact bits; check notes them (info, for nvs_tool's "unrecognized type") without a warning or
 * an inconsistency; the text dump shows them; a generator CSV refuses them */
static void float_double_values(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n01_primitives_v2", &len);
    esf_nvs_image *base = parse(b, len);
    esf_nvs_report rep0;
    check_report(base, &rep0);
    unsigned j = 0;
    while (esf_nvs_bitmap_get(b + 32, j) != ESF_NVS_ENTRY_EMPTY)
        j++;
    float f = -0.1f;
    double d = 6.02214076e23;
    uint32_t fb;
    uint64_t db;
    memcpy(&fb, &f, 4);
    memcpy(&db, &d, 8);
    esf_nvs_item it;
    assert_int_equal(esf_nvs_item_init_prim(&it, 1, ESF_NVS_TYPE_FLOAT, "fl", 2, fb), ESF_OK);
    esf_nvs_item_encode(&it, b + esf_nvs_entry_offset(0, j));
    assert_int_equal(esf_nvs_item_init_prim(&it, 1, ESF_NVS_TYPE_DOUBLE, "db", 2, db), ESF_OK);
    esf_nvs_item_encode(&it, b + esf_nvs_entry_offset(0, j + 1));
    assert_memory_equal(b + esf_nvs_entry_offset(0, j) + 28, "\xff\xff\xff\xff", 4);
    set_state(b, 0, j, ESF_NVS_ENTRY_WRITTEN);
    set_state(b, 0, j + 1, ESF_NVS_ENTRY_WRITTEN);
    esf_nvs_image *img = parse(b, len);
    assert_int_equal(img->nvalues, base->nvalues + 2);
    const char *ns = esf_nvs_image_ns_name(img, 1);
    const esf_nvs_value *v = esf_nvs_image_find(img, ns, "fl");
    assert_non_null(v);
    assert_int_equal(v->kind, ESF_NVS_KIND_FLOAT);
    assert_int_equal(v->type, ESF_NVS_TYPE_FLOAT);
    assert_int_equal(v->num, fb);
    v = esf_nvs_image_find(img, ns, "db");
    assert_non_null(v);
    assert_int_equal(v->kind, ESF_NVS_KIND_FLOAT);
    assert_int_equal(v->type, ESF_NVS_TYPE_DOUBLE);
    assert_true(v->num == db);
    esf_nvs_report rep;
    check_report(img, &rep);
    assert_int_equal(rep.errors, rep0.errors);
    assert_int_equal(rep.warnings, rep0.warnings);
    const esf_nvs_finding *fi = find_rule(&rep, ESF_NVS_R_TYPE_UNKNOWN, 0, (int)j);
    assert_non_null(fi);
    assert_true(fi->reference);
    assert_int_equal(fi->severity, ESF_NVS_SEV_INFO);
    assert_null(find_rule(&rep, ESF_NVS_R_ITEM_INCONSISTENT, -1, -1));
    char *txt = NULL;
    size_t tlen = 0;
    FILE *mf = open_memstream(&txt, &tlen);
    esf_nvs_dump_opts o = { ESF_NVS_DUMP_TEXT, false };
    assert_int_equal(esf_nvs_dump(mf, img, &o, NULL), ESF_OK);
    fclose(mf);
    assert_non_null(strstr(txt, "fl              float   -0.1\n"));
    assert_non_null(strstr(txt, "db              double  6.02214076e+23\n"));
    free(txt);
    mf = fopen("/dev/null", "w");
    assert_non_null(mf);
    o.format = ESF_NVS_DUMP_CSV;
    esf_error err;
    esf_error_clear(&err);
    assert_int_equal(esf_nvs_dump(mf, img, &o, &err), ESF_ERR_UNSUPPORTED);
    fclose(mf);
    assert_non_null(strstr(err.msg, "key 'fl'"));
    esf_nvs_report_free(&rep);
    esf_nvs_report_free(&rep0);
    esf_nvs_image_free(img);
    esf_nvs_image_free(base);
    free(b);
}

static void load_from_partition(void **state)
{
    (void)state;
    size_t len;
    uint8_t *b = vec_bytes("n12_namespaces", &len);
    esf_flash f;
    memset(&f, 0, sizeof f);
    assert_int_equal(esf_flash_ram_init(&f, 0x20000, NULL), ESF_OK);
    assert_int_equal(esf_flash_program(&f, 0x9000, b, len), ESF_OK);
    esf_part p;
    assert_int_equal(esf_part_init(&p, &f, 0x9000, (uint32_t)len, "nvs", NULL), ESF_OK);
    esf_nvs_image *img = NULL;
    assert_int_equal(esf_nvs_image_load(&img, &p, NULL, NULL), ESF_OK);
    const esf_nvs_value *v = esf_nvs_image_find(img, "gamma", "g1");
    assert_non_null(v);
    assert_int_equal((int64_t)v->num, -3);
    esf_nvs_image_free(img);
    esf_flash_close(&f);
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(vectors_read_values_like_reference),
        cmocka_unit_test(primitives_exact),
        cmocka_unit_test(vectors_pass_check),
        cmocka_unit_test(bad_entry_crc),
        cmocka_unit_test(bad_header_crc),
        cmocka_unit_test(orphan_chunk),
        cmocka_unit_test(duplicate_key),
        cmocka_unit_test(freeing_and_erased_pages),
        cmocka_unit_test(encrypted_needs_key),
        cmocka_unit_test(garbage_never_crashes),
        cmocka_unit_test(unaligned_refused),
        cmocka_unit_test(damaged_images_rules),
        cmocka_unit_test(float_double_values),
        cmocka_unit_test(load_from_partition),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
