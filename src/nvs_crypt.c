/* NVS encryption: XTS per entry, keys partition, HMAC derivation (nvs-encryption.md).
 * See include/espforge/nvs_crypt.h. */
#include "espforge/nvs_crypt.h"

#include <stdlib.h>
#include <string.h>

#include "espforge/nvs_page.h"
#include "internal/crypto.h"
#include "internal/le.h"

bool esf_nvs_key_halves_equal(const uint8_t key[ESF_NVS_XTS_KEY_LEN])
{
    return memcmp(key, key + 32, 32) == 0;
}

static int xts_open(esf_xts_ctx **x, int encrypt, const uint8_t key[ESF_NVS_XTS_KEY_LEN], esf_error *err)
{
    if (encrypt && esf_nvs_key_halves_equal(key))
        return esf_error_set(err, ESF_ERR_CRYPTO, "In XTS mode duplicated keys are not allowed");
    if (!(*x = esf_aes_xts_new(encrypt, key)))
        return esf_error_set(err, ESF_ERR_CRYPTO, "AES-XTS key setup failed");
    return ESF_OK;
}

static int xts_entries(esf_xts_ctx *x, int encrypt, uint32_t rel_off, const uint8_t *in,
                       uint8_t *out, size_t n, esf_error *err)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t tweak[16] = { 0 };
        esf_put_le32(tweak, rel_off + (uint32_t)(i * ESF_NVS_ENTRY_SIZE));
        if (esf_aes_xts_run(x, tweak, in + i * ESF_NVS_ENTRY_SIZE, out + i * ESF_NVS_ENTRY_SIZE,
                            ESF_NVS_ENTRY_SIZE) < 0)
            return esf_error_at(err, ESF_ERR_CRYPTO, NULL, (int64_t)rel_off + (int64_t)i * 32,
                                "AES-XTS %s failed", encrypt ? "encryption" : "decryption");
    }
    return ESF_OK;
}

int esf_nvs_crypt_entries(int encrypt, const uint8_t key[ESF_NVS_XTS_KEY_LEN], uint32_t rel_off,
                          const uint8_t *in, uint8_t *out, size_t n, esf_error *err)
{
    esf_xts_ctx *x = NULL;
    int rc = xts_open(&x, encrypt, key, err);
    if (!rc)
        rc = xts_entries(x, encrypt, rel_off, in, out, n, err);
    esf_aes_xts_free(x);
    return rc;
}

struct esf_nvs_cipher {
    esf_xts_ctx *x;
    int encrypt;
};

int esf_nvs_cipher_new(esf_nvs_cipher **out, int encrypt, const uint8_t key[ESF_NVS_XTS_KEY_LEN],
                       esf_error *err)
{
    *out = NULL;
    esf_nvs_cipher *c = calloc(1, sizeof *c);
    if (!c)
        return esf_error_set(err, ESF_ERR_NO_MEM, "no memory for an AES-XTS context");
    c->encrypt = encrypt;
    int rc = xts_open(&c->x, encrypt, key, err);
    if (rc) {
        free(c);
        return rc;
    }
    *out = c;
    return ESF_OK;
}

int esf_nvs_cipher_run(esf_nvs_cipher *c, uint32_t rel_off, const uint8_t *in, uint8_t *out,
                       size_t n, esf_error *err)
{
    return xts_entries(c->x, c->encrypt, rel_off, in, out, n, err);
}

void esf_nvs_cipher_free(esf_nvs_cipher *c)
{
    if (!c)
        return;
    esf_aes_xts_free(c->x);
    free(c);
}

int esf_nvs_encrypt_image(uint8_t *image, size_t size, const uint8_t key[ESF_NVS_XTS_KEY_LEN],
                          esf_error *err)
{
    esf_xts_ctx *x = NULL;
    int rc = xts_open(&x, 1, key, err);
    for (size_t p = 0; !rc && p + ESF_NVS_PAGE_SIZE <= size; p += ESF_NVS_PAGE_SIZE) {
        uint8_t *page = image + p;
        if (esf_le32(page) == ESF_NVS_PAGE_EMPTY)
            continue;
        const uint8_t *bm = page + ESF_NVS_BITMAP_OFFSET;
        for (unsigned i = 0; !rc && i < ESF_NVS_ENTRIES_PER_PAGE; i++) {
            if (esf_nvs_bitmap_get(bm, i) == ESF_NVS_ENTRY_EMPTY)
                continue;
            /* a run of non-empty entries in one call */
            unsigned j = i;
            while (j + 1 < ESF_NVS_ENTRIES_PER_PAGE &&
                   esf_nvs_bitmap_get(bm, j + 1) != ESF_NVS_ENTRY_EMPTY)
                j++;
            uint8_t *e = page + ESF_NVS_FIRST_ENTRY_OFFSET + i * ESF_NVS_ENTRY_SIZE;
            rc = xts_entries(x, 1, (uint32_t)p + ESF_NVS_FIRST_ENTRY_OFFSET + i * ESF_NVS_ENTRY_SIZE,
                             e, e, j - i + 1, err);
            i = j;
        }
    }
    esf_aes_xts_free(x);
    return rc;
}

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

int esf_nvs_decrypt_image(uint8_t *image, size_t size, const uint8_t key[ESF_NVS_XTS_KEY_LEN],
                          esf_error *err)
{
    if (size % ESF_NVS_ENTRY_SIZE)
        return esf_error_at(err, ESF_ERR_INVALID, NULL, (int64_t)(size - size % ESF_NVS_ENTRY_SIZE),
                            "image size %zu is not a multiple of 32 bytes", size);
    esf_xts_ctx *x = NULL;
    int rc = xts_open(&x, 0, key, err);
    for (size_t off = 0; !rc && off < size; off += ESF_NVS_ENTRY_SIZE) {
        size_t in_page = off % ESF_NVS_PAGE_SIZE;
        if (in_page < ESF_NVS_FIRST_ENTRY_OFFSET || all_ff(image + off, ESF_NVS_ENTRY_SIZE))
            continue;
        rc = xts_entries(x, 0, (uint32_t)off, image + off, image + off, 1, err);
    }
    esf_aes_xts_free(x);
    return rc;
}

void esf_nvs_keys_build(uint8_t out[ESF_NVS_KEYS_PART_SIZE], const uint8_t key[ESF_NVS_XTS_KEY_LEN])
{
    memset(out, 0xFF, ESF_NVS_KEYS_PART_SIZE);
    memcpy(out, key, ESF_NVS_XTS_KEY_LEN);
    esf_put_le32(out + ESF_NVS_KEYS_CRC_OFFSET, esf_nvs_crc(key, ESF_NVS_XTS_KEY_LEN));
}

int esf_nvs_keys_parse(const uint8_t *buf, size_t len, uint8_t key[ESF_NVS_XTS_KEY_LEN],
                       const char *source, esf_error *err)
{
    if (len < ESF_NVS_KEYS_CRC_OFFSET + 4)
        return esf_error_at(err, ESF_ERR_INVALID, source, (int64_t)len,
                            "keys file is %zu bytes, want at least 68 (64 key bytes + CRC)", len);
    if (all_ff(buf, ESF_NVS_KEYS_CRC_OFFSET + 4))
        return esf_error_at(err, ESF_ERR_NOT_FOUND, source, 0,
                            "keys not initialised (64 key bytes and CRC all 0xFF)");
    uint32_t got = esf_le32(buf + ESF_NVS_KEYS_CRC_OFFSET);
    uint32_t want = esf_nvs_crc(buf, ESF_NVS_XTS_KEY_LEN);
    if (got != want)
        return esf_error_at(err, ESF_ERR_CORRUPT, source, ESF_NVS_KEYS_CRC_OFFSET,
                            "keys CRC %08x, want %08x", got, want);
    memcpy(key, buf, ESF_NVS_XTS_KEY_LEN);
    return ESF_OK;
}

int esf_nvs_keys_generate(uint8_t key[ESF_NVS_XTS_KEY_LEN], esf_error *err)
{
    do {
        if (esf_random(key, ESF_NVS_XTS_KEY_LEN) < 0)
            return esf_error_set(err, ESF_ERR_CRYPTO, "secure random generator failed");
    } while (esf_nvs_key_halves_equal(key));
    return ESF_OK;
}

int esf_nvs_hmac_key_generate(uint8_t hmac_key[ESF_NVS_HMAC_KEY_LEN], esf_error *err)
{
    if (esf_random(hmac_key, ESF_NVS_HMAC_KEY_LEN) < 0)
        return esf_error_set(err, ESF_ERR_CRYPTO, "secure random generator failed");
    return ESF_OK;
}

int esf_nvs_keys_from_hmac(const uint8_t *hmac_key, size_t len, uint8_t key[ESF_NVS_XTS_KEY_LEN],
                           esf_error *err)
{
    static const uint8_t e_seed[4] = { 0x5A, 0x5A, 0xBE, 0xAE };
    static const uint8_t t_seed[4] = { 0xA5, 0xA5, 0xDE, 0xCE };
    uint8_t msg[32];
    for (int i = 0; i < 8; i++)
        memcpy(msg + 4 * i, e_seed, 4);
    if (esf_hmac_sha256(hmac_key, len, msg, sizeof msg, key) < 0)
        return esf_error_set(err, ESF_ERR_CRYPTO, "HMAC-SHA256 failed");
    for (int i = 0; i < 8; i++)
        memcpy(msg + 4 * i, t_seed, 4);
    if (esf_hmac_sha256(hmac_key, len, msg, sizeof msg, key + 32) < 0)
        return esf_error_set(err, ESF_ERR_CRYPTO, "HMAC-SHA256 failed");
    return ESF_OK;
}
