/* espforge internal: the one crypto seam. Everything cryptographic the library needs goes through
 * these functions, implemented over OpenSSL libcrypto in src/crypto_openssl.c; an embedded build
 * swaps in mbedTLS by providing another implementation of this header. CRC-32 (zlib) lives here
 * too so the codecs have a single include for checksums. */
#ifndef ESPFORGE_INTERNAL_CRYPTO_H
#define ESPFORGE_INTERNAL_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define ESF_MD5_LEN 16
#define ESF_SHA256_LEN 32

/** Mark the backend as used only through this seam (no configuration file, no legacy name
 *  tables: see ESF_GLOBAL_STANDALONE), before its first use; the backend itself starts lazily,
 *  on the first call that needs it. @return 0; negative on failure. */
int esf_crypto_init_standalone(void);

/** zlib crc32(data, init): the NVS CRC is esf_crc32(0xFFFFFFFF, ...) (nvs-format.md §1). */
uint32_t esf_crc32(uint32_t init, const void *data, size_t len);

/** MD5 of `len` bytes. @return 0; negative on backend failure. */
int esf_md5(const void *data, size_t len, uint8_t out[ESF_MD5_LEN]);

/** SHA-256 of `len` bytes. @return 0; negative on backend failure. */
int esf_sha256(const void *data, size_t len, uint8_t out[ESF_SHA256_LEN]);

/** Incremental SHA-256. */
typedef struct esf_sha256_ctx esf_sha256_ctx;
esf_sha256_ctx *esf_sha256_begin(void);                                  /* NULL: no memory */
int esf_sha256_update(esf_sha256_ctx *c, const void *data, size_t len);  /* 0 or negative */
int esf_sha256_end(esf_sha256_ctx *c, uint8_t out[ESF_SHA256_LEN]);      /* frees c */

/** HMAC-SHA-256. @return 0; negative on failure. */
int esf_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[ESF_SHA256_LEN]);

/** AES-256-XTS (key = 64 bytes: data key || tweak key) over `len` bytes (>= 16) with a 16-byte
 *  tweak; `in` and `out` may be equal. @return 0; negative on failure. */
int esf_aes_xts(int encrypt, const uint8_t key[64], const uint8_t tweak[16], const uint8_t *in,
                uint8_t *out, size_t len);

/** A reusable AES-256-XTS context: the key schedule is made once, then each data unit only sets
 *  its tweak (the NVS codec encrypts thousands of 32-byte entries per image). */
typedef struct esf_xts_ctx esf_xts_ctx;
/** NULL on failure (no memory, backend refusal such as equal key halves when encrypting). */
esf_xts_ctx *esf_aes_xts_new(int encrypt, const uint8_t key[64]);
/** One data unit of `len` bytes (>= 16) with its 16-byte tweak. @return 0; negative on failure. */
int esf_aes_xts_run(esf_xts_ctx *c, const uint8_t tweak[16], const uint8_t *in, uint8_t *out,
                    size_t len);
void esf_aes_xts_free(esf_xts_ctx *c);  /* NULL-safe */

/** PBKDF2-HMAC-SHA1 (RFC 8018) of `pw` with `salt`, `iter` iterations, `out_len` bytes (the Wi-Fi
 *  PMK: 4096 iterations, 32 bytes). @return 0; negative on failure. */
int esf_pbkdf2_sha1(const void *pw, size_t pw_len, const void *salt, size_t salt_len, unsigned iter,
                    uint8_t *out, size_t out_len);

/** Fill `buf` from the OS's secure random generator. @return 0; negative on failure. */
int esf_random(void *buf, size_t len);

#endif
