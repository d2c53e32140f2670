/* The crypto seam: known answers for CRC-32, MD5, SHA-256, HMAC, PBKDF2; XTS round trip and tweak
 * use. test_crypto_standalone.c runs the same tests after esf_global_init(ESF_GLOBAL_STANDALONE),
 * the program's mode (no openssl.cnf, no legacy name tables). */
#include "esf_test.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "espforge/global.h"
#include "internal/crypto.h"

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", b[i]);
}

/* esf_crc32 walks short inputs with its own table loop and long ones with zlib: every length
 * either side of the switch, at every alignment and with several seeds, equals zlib's crc32. */
static void test_crc32_matches_zlib(void **state)
{
    (void)state;
    static uint8_t buf[600];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    const uint32_t seeds[] = { 0, 0xFFFFFFFFu, 0x12345678u };
    for (size_t s = 0; s < 3; s++)
        for (size_t off = 0; off < 8; off++)
            for (size_t len = 0; len + off <= 520; len++)
                assert_int_equal(esf_crc32(seeds[s], buf + off, len),
                                 (uint32_t)crc32(seeds[s], buf + off, (uInt)len));
}

static void test_known_answers(void **state)
{
    (void)state;
    /* CRC-32 check value; the NVS seed 0xFFFFFFFF gives zlib.crc32(b"123456789", 0xffffffff) */
    assert_int_equal(esf_crc32(0, "123456789", 9), 0xCBF43926u);
    assert_int_equal(esf_crc32(0xFFFFFFFFu, "123456789", 9), 0xD202D277u);
    uint8_t d[32];
    char h[65];
    assert_int_equal(esf_md5("", 0, d), 0);
    hex(d, 16, h);
    assert_string_equal(h, "d41d8cd98f00b204e9800998ecf8427e");
    assert_int_equal(esf_sha256("abc", 3, d), 0);
    hex(d, 32, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    esf_sha256_ctx *c = esf_sha256_begin();
    assert_non_null(c);
    assert_int_equal(esf_sha256_update(c, "a", 1), 0);
    assert_int_equal(esf_sha256_update(c, "bc", 2), 0);
    assert_int_equal(esf_sha256_end(c, d), 0);
    hex(d, 32, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* RFC 4231 test case 2 */
    assert_int_equal(esf_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d), 0);
    hex(d, 32, h);
    assert_string_equal(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    /* RFC 6070 test case 2 */
    assert_int_equal(esf_pbkdf2_sha1("password", 8, "salt", 4, 2, d, 20), 0);
    hex(d, 20, h);
    assert_string_equal(h, "ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957");
}

static void test_xts_roundtrip(void **state)
{
    (void)state;
    uint8_t key[64], tweak[16] = { 0 }, plain[32], enc[32], enc2[32], back[32];
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (int i = 0; i < 32; i++)
        plain[i] = (uint8_t)i;
    assert_int_equal(esf_aes_xts(1, key, tweak, plain, enc, 32), 0);
    assert_memory_not_equal(enc, plain, 32);
    tweak[0] = 0x20; /* another address: another ciphertext */
    assert_int_equal(esf_aes_xts(1, key, tweak, plain, enc2, 32), 0);
    assert_memory_not_equal(enc, enc2, 32);
    tweak[0] = 0;
    assert_int_equal(esf_aes_xts(0, key, tweak, enc, back, 32), 0);
    assert_memory_equal(back, plain, 32);
    uint8_t r1[32] = { 0 }, r2[32] = { 0 };
    assert_int_equal(esf_random(r1, 32), 0);
    assert_int_equal(esf_random(r2, 32), 0);
    assert_memory_not_equal(r1, r2, 32);
}

/* Known answers made with Python's cryptography package (AES-256-XTS, key bytes i*7+1, plaintext
 * 0..31, tweaks 0x20,k,0...): the one-shot and the reusable context, encrypting and decrypting,
 * whatever path the backend takes inside OpenSSL. */
static void test_xts_known_answers(void **state)
{
    (void)state;
    static const char *want[3] = {
        "7ace0c7b323047da5b501368003f1b1ba9dc6e9406095f64dd9ca396f4caa2df",
        "448432dc414bb7a9410d1ad4093d74d4f59ee354cf6d4adb2608bd9973c1fc7a",
        "5c54a8c4f3b5a5d355dad2716137c4b6f809de27fc944789c26008dec11aea91",
    };
    uint8_t key[64], plain[32], out[32], back[32], tweak[16] = { 0x20 };
    char h[65];
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)(i * 7 + 1);
    for (int i = 0; i < 32; i++)
        plain[i] = (uint8_t)i;
    esf_xts_ctx *enc = esf_aes_xts_new(1, key), *dec = esf_aes_xts_new(0, key);
    assert_non_null(enc);
    assert_non_null(dec);
    for (int k = 0; k < 3; k++) {
        tweak[1] = (uint8_t)k;
        assert_int_equal(esf_aes_xts_run(enc, tweak, plain, out, 32), 0);
        hex(out, 32, h);
        assert_string_equal(h, want[k]);
        assert_int_equal(esf_aes_xts(1, key, tweak, plain, out, 32), 0);
        hex(out, 32, h);
        assert_string_equal(h, want[k]);
        assert_int_equal(esf_aes_xts_run(dec, tweak, out, back, 32), 0);
        assert_memory_equal(back, plain, 32);
    }
    esf_aes_xts_free(enc);
    esf_aes_xts_free(dec);
    /* equal key halves: XTS refuses them for encryption */
    memset(key, 5, sizeof key);
    assert_null(esf_aes_xts_new(1, key));
}

int main(void)
{
#ifdef ESF_TEST_STANDALONE
    assert_int_equal(esf_global_init(ESF_GLOBAL_STANDALONE), ESF_OK);
#endif
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_known_answers),
        cmocka_unit_test(test_crc32_matches_zlib),
        cmocka_unit_test(test_xts_roundtrip),
        cmocka_unit_test(test_xts_known_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
