/* NVS page/entry codec and NVS encryption: spec vectors (nvs-format.md §1, §3.1, §10, §14;
 * nvs-encryption.md §4, §6) and the reference generator's images (tests/data/nvs). */
#include "esf_test.h"

#include <stdlib.h>
#include <string.h>

#include "espforge/nvs_crypt.h"
#include "espforge/nvs_page.h"

static void test_crc_and_header(void **state)
{
    (void)state;
    assert_int_equal(esf_nvs_crc("123456789", 9), 0xD202D277u);
    assert_int_equal(esf_nvs_crc("", 0), 0xFFFFFFFFu);
    static const struct { uint32_t seq; uint8_t ver; uint32_t crc; } hv[] = {
        { 0, 0xFE, 0xB9BA2D84u }, { 1, 0xFE, 0x389F48A3u }, { 2, 0xFE, 0x6081E18Bu },
        { 7, 0xFE, 0x88A21AF3u }, { 0, 0xFF, 0xDCDD16C2u },
    };
    for (size_t i = 0; i < ARRAY_LEN(hv); i++) {
        uint8_t h[32];
        esf_nvs_page_header_init(h, ESF_NVS_PAGE_ACTIVE, hv[i].seq, hv[i].ver);
        esf_nvs_page_header d;
        esf_nvs_page_header_decode(h, &d);
        if (d.crc != hv[i].crc || !esf_nvs_page_header_crc_ok(h) || d.seq != hv[i].seq ||
            d.version != hv[i].ver || d.state != ESF_NVS_PAGE_ACTIVE)
            fail_msg("header %zu: crc %08x", i, d.crc);
        esf_nvs_page_set_state(h, ESF_NVS_PAGE_FULL);
        assert_true(esf_nvs_page_header_crc_ok(h));
        assert_int_equal(h[0], 0xFC);
    }
    assert_int_equal(esf_nvs_version_number(0xFE), 2);
    assert_string_equal(esf_nvs_page_state_name(ESF_NVS_PAGE_FREEING), "Freeing");
}

static void test_bitmap(void **state)
{
    (void)state;
    uint8_t bm[32];
    memset(bm, 0xFF, sizeof bm);
    for (unsigned i = 0; i < 10; i++)
        esf_nvs_bitmap_set(bm, i, ESF_NVS_ENTRY_WRITTEN);
    static const uint8_t want[4] = { 0xaa, 0xaa, 0xfa, 0xff };  /* nvs-format.md §4 */
    assert_memory_equal(bm, want, 4);
    assert_int_equal(esf_nvs_bitmap_get(bm, 9), ESF_NVS_ENTRY_WRITTEN);
    assert_int_equal(esf_nvs_bitmap_get(bm, 10), ESF_NVS_ENTRY_EMPTY);
    esf_nvs_bitmap_set(bm, 1, ESF_NVS_ENTRY_ERASED);  /* §14: chan erased -> a2 */
    assert_int_equal(bm[0], 0xa2);
    assert_int_equal(esf_nvs_bitmap_get(bm, 1), ESF_NVS_ENTRY_ERASED);
    assert_int_equal(esf_nvs_entry_offset(1, 0), 0x1040u);
}

/* The §14 example: rebuild page 0 item by item and compare with the bytes in the spec. */
static void test_items_example(void **state)
{
    (void)state;
    esf_nvs_item it;
    uint8_t e[32];
    assert_int_equal(esf_nvs_item_init_prim(&it, 0, ESF_NVS_TYPE_U8, "wifi", 4, 1), ESF_OK);
    assert_int_equal(it.crc, 0x27311159u);
    esf_nvs_item_encode(&it, e);
    static const uint8_t e0[32] = { 0x00, 0x01, 0x01, 0xff, 0x59, 0x11, 0x31, 0x27, 'w', 'i', 'f',
        'i', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_memory_equal(e, e0, 32);
    assert_int_equal(esf_nvs_item_crc(e), 0x27311159u);
    assert_int_equal(esf_nvs_item_check(&it, 0, NULL), ESF_OK);

    assert_int_equal(esf_nvs_item_init_var(&it, 1, ESF_NVS_TYPE_STR, "name", 4, ESF_NVS_CHUNK_ANY,
                                           "esp", 4), ESF_OK);
    assert_int_equal(it.span, 2);
    assert_int_equal(esf_nvs_item_var_size(&it), 4);
    assert_int_equal(esf_nvs_item_var_crc(&it), 0x8A8F5731u);
    assert_int_equal(it.crc, 0x678f99e5u);

    static const uint8_t mac[6] = { 0xa0, 0xb1, 0xc2, 0xd3, 0xe4, 0xf5 };
    assert_int_equal(esf_nvs_item_init_var(&it, 1, ESF_NVS_TYPE_BLOB_DATA, "mac", 3, 0, mac, 6),
                     ESF_OK);
    assert_int_equal(it.crc, 0xfef0b02bu);
    assert_int_equal(esf_nvs_item_var_crc(&it), 0x6F0A522Au);
    assert_int_equal(esf_nvs_item_init_blob_idx(&it, 1, "mac", 3, 6, 1, 0), ESF_OK);
    assert_int_equal(it.crc, 0xa0372921u);
    assert_int_equal(esf_nvs_item_idx_size(&it), 6);
    assert_int_equal(esf_nvs_item_idx_chunk_count(&it), 1);

    uint8_t pay[64];
    esf_nvs_payload_write(pay, "esp", 4);
    assert_memory_equal(pay, "esp\0\xff\xff", 6);
    assert_int_equal(pay[31], 0xff);

    assert_int_equal(esf_nvs_item_set_key(&it, "0123456789abcdef", 16), ESF_ERR_TOO_LONG);
    assert_int_equal(esf_nvs_item_init_prim(&it, 1, ESF_NVS_TYPE_I8, "n", 1, (uint64_t)-5), ESF_OK);
    assert_int_equal(esf_nvs_item_prim_i(&it), -5);
    assert_int_equal(esf_nvs_item_prim_u(&it), 0xFB);
    assert_true(esf_nvs_item_key_eq(&it, "n"));
    assert_int_equal(esf_nvs_item_key_len(&it), 1);
}

static void test_hash_and_check(void **state)
{
    (void)state;
    uint8_t key[16] = { 0 };
    memcpy(key, "wifi", 4);
    assert_int_equal(esf_nvs_item_hash(0, key, 0xFF), 0xAEC06Bu);
    memset(key, 0, 16);
    memcpy(key, "chan", 4);
    assert_int_equal(esf_nvs_item_hash(1, key, 0xFF), 0x01FC73u);
    memset(key, 0, 16);
    memcpy(key, "big", 3);
    assert_int_equal(esf_nvs_item_hash(1, key, 0x00), 0x714777u);

    esf_nvs_item it;
    esf_error err;
    esf_nvs_item_init_prim(&it, 1, ESF_NVS_TYPE_U16, "k", 1, 5);
    it.crc ^= 1;
    assert_int_equal(esf_nvs_item_check(&it, 0, &err), ESF_ERR_CORRUPT);
    esf_nvs_item_init_var(&it, 1, ESF_NVS_TYPE_STR, "s", 1, ESF_NVS_CHUNK_ANY, "abc", 4);
    assert_int_equal(esf_nvs_item_check(&it, 124, NULL), ESF_OK);     /* span 2 ends at 125 */
    assert_int_equal(esf_nvs_item_check(&it, 125, &err), ESF_ERR_INVALID);
    it.type = 0x33;
    esf_nvs_item_seal(&it);
    assert_int_equal(esf_nvs_item_check(&it, 0, &err), ESF_ERR_INVALID);
}

/* Every page of every generated vector: header CRCs and item CRCs/consistency hold. */
static void test_vector_images_decode(void **state)
{
    (void)state;
    static const char *const imgs[] = {
        "nvs/n01_primitives_v2/expected.bin", "nvs/n03_strings_v2/expected.bin",
        "nvs/n07_multipage_blob_v2/expected.bin", "nvs/n08_blobs_v1/expected.bin",
        "nvs/n13_page_boundaries_v2/expected.bin", "nvs/n19_random_large_v2/expected.bin",
    };
    for (size_t k = 0; k < ARRAY_LEN(imgs); k++) {
        size_t len;
        uint8_t *img = esf_test_read(imgs[k], &len);
        unsigned items = 0;
        for (size_t p = 0; p + 4096 <= len; p += 4096) {
            esf_nvs_page_header h;
            esf_nvs_page_header_decode(img + p, &h);
            if (h.state == ESF_NVS_PAGE_EMPTY)
                continue;
            if (!esf_nvs_page_header_crc_ok(img + p) || h.seq != p / 4096)
                fail_msg("%s page %zu header", imgs[k], p / 4096);
            const uint8_t *bm = img + p + 32;
            for (unsigned i = 0; i < ESF_NVS_ENTRIES_PER_PAGE;) {
                if (esf_nvs_bitmap_get(bm, i) != ESF_NVS_ENTRY_WRITTEN)
                    break;
                esf_nvs_item it;
                esf_nvs_item_decode(img + p + 64 + 32 * i, &it);
                esf_error err;
                if (esf_nvs_item_check(&it, i, &err) != ESF_OK)
                    fail_msg("%s page %zu entry %u: %s", imgs[k], p / 4096, i, err.msg);
                if (esf_nvs_type_is_var(it.type)) {
                    const uint8_t *pl = img + p + 64 + 32 * (i + 1);
                    assert_int_equal(esf_nvs_crc(pl, esf_nvs_item_var_size(&it)),
                                     esf_nvs_item_var_crc(&it));
                }
                i += it.span;
                items++;
            }
        }
        assert_true(items > 0);
        free(img);
    }
}

static void test_keys_and_hmac(void **state)
{
    (void)state;
    uint8_t key[64], buf[4096];
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)i;
    esf_nvs_keys_build(buf, key);
    static const uint8_t crc[4] = { 0x45, 0x52, 0x7c, 0x9a };  /* nvs-encryption.md §6 */
    assert_memory_equal(buf + 64, crc, 4);
    assert_int_equal(buf[68], 0xff);
    assert_int_equal(buf[4095], 0xff);
    uint8_t back[64];
    assert_int_equal(esf_nvs_keys_parse(buf, sizeof buf, back, "k.bin", NULL), ESF_OK);
    assert_memory_equal(back, key, 64);
    esf_error err;
    buf[3] ^= 1;
    assert_int_equal(esf_nvs_keys_parse(buf, sizeof buf, back, "k.bin", &err), ESF_ERR_CORRUPT);
    assert_int_equal(err.offset, 64);
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(esf_nvs_keys_parse(buf, sizeof buf, back, NULL, NULL), ESF_ERR_NOT_FOUND);
    assert_int_equal(esf_nvs_keys_parse(buf, 67, back, NULL, NULL), ESF_ERR_INVALID);

    /* HMAC derivation: vector from ESP-IDF test data (nvs-encryption.md §4) and n22 */
    uint8_t k32[32];
    for (int i = 0; i < 32; i++)
        k32[i] = (uint8_t)(i + 1);
    assert_int_equal(esf_nvs_keys_from_hmac(k32, 32, key, NULL), ESF_OK);
    static const uint8_t eky0[4] = { 0xff, 0x69, 0x89, 0xe4 }, tky0[4] = { 0x9c, 0x8e, 0x2b, 0xa7 };
    assert_memory_equal(key, eky0, 4);
    assert_memory_equal(key + 32, tky0, 4);
    esf_nvs_keys_build(buf, key);
    static const uint8_t hcrc[4] = { 0xda, 0x57, 0xa0, 0x2f };
    assert_memory_equal(buf + 64, hcrc, 4);

    size_t hl, el;
    uint8_t *hk = esf_test_read("nvs/n22_generate_key_hmac/hmac_key.bin", &hl);
    uint8_t *exp = esf_test_read("nvs/n22_generate_key_hmac/expected_keys.bin", &el);
    assert_int_equal(esf_nvs_keys_from_hmac(hk, hl, key, NULL), ESF_OK);
    esf_nvs_keys_build(buf, key);
    assert_int_equal(el, 4096);
    assert_memory_equal(buf, exp, 4096);
    free(hk);
    free(exp);

    /* random keys: two draws differ, halves differ, file parses */
    uint8_t a[64], b[64];
    assert_int_equal(esf_nvs_keys_generate(a, NULL), ESF_OK);
    assert_int_equal(esf_nvs_keys_generate(b, NULL), ESF_OK);
    assert_memory_not_equal(a, b, 64);
    assert_false(esf_nvs_key_halves_equal(a));
    uint8_t *fmt = esf_test_read("nvs/n23_generate_key_format_example/example_keys.bin", &el);
    assert_int_equal(esf_nvs_keys_parse(fmt, el, key, NULL, NULL), ESF_OK);
    free(fmt);
}

/* n21: the reference's encrypted image equals our per-entry encryption of its plain image, and
 * decrypting gives the plain image back. */
static void test_encrypt_vector(void **state)
{
    (void)state;
    size_t kl, pl, el;
    uint8_t *kf = esf_test_read("nvs/n21_encrypted_v2/keys.bin", &kl);
    uint8_t *plain = esf_test_read("nvs/n21_encrypted_v2/expected_plain.bin", &pl);
    uint8_t *enc = esf_test_read("nvs/n21_encrypted_v2/expected.bin", &el);
    uint8_t key[64];
    assert_int_equal(esf_nvs_keys_parse(kf, kl, key, NULL, NULL), ESF_OK);
    assert_int_equal(pl, el);
    uint8_t *work = malloc(pl);
    memcpy(work, plain, pl);
    assert_int_equal(esf_nvs_encrypt_image(work, pl, key, NULL), ESF_OK);
    assert_memory_equal(work, enc, pl);
    assert_int_equal(esf_nvs_decrypt_image(work, pl, key, NULL), ESF_OK);
    assert_memory_equal(work, plain, pl);

    /* entry 0 of the spec example: tweak 0x40 */
    uint8_t one[32];
    assert_int_equal(esf_nvs_crypt_entries(1, key, 0x40, plain + 0x40, one, 1, NULL), ESF_OK);
    assert_memory_equal(one, enc + 0x40, 32);

    /* duplicated key halves: encryption refused, decryption allowed (OpenSSL / reference) */
    uint8_t dup[64] = { 0 };
    esf_error err;
    assert_int_equal(esf_nvs_encrypt_image(work, pl, dup, &err), ESF_ERR_CRYPTO);
    assert_int_equal(esf_nvs_crypt_entries(0, dup, 0x40, one, one, 1, NULL), ESF_OK);
    assert_int_equal(esf_nvs_decrypt_image(work, 33, key, &err), ESF_ERR_INVALID);
    free(work);
    free(kf);
    free(plain);
    free(enc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc_and_header),
        cmocka_unit_test(test_bitmap),
        cmocka_unit_test(test_items_example),
        cmocka_unit_test(test_hash_and_check),
        cmocka_unit_test(test_vector_images_decode),
        cmocka_unit_test(test_keys_and_hmac),
        cmocka_unit_test(test_encrypt_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
