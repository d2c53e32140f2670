/* espforge layer 3: NVS encryption (spec nvs-encryption.md).
 *
 * XTS-AES-256 per 32-byte entry; the 64-byte key is eky (data key) ‖ tky (tweak key); the tweak is
 * the entry's partition-relative byte offset as u32 LE followed by 12 zero bytes. Page headers and
 * bitmaps are never encrypted. Also the keys partition ("nvs_keys") format and HMAC key derivation.
 * Pure functions over caller buffers; key generation uses the OS's secure generator.
 */
#ifndef ESPFORGE_NVS_CRYPT_H
#define ESPFORGE_NVS_CRYPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "espforge/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESF_NVS_XTS_KEY_LEN 64u        /* eky[32] ‖ tky[32] */
#define ESF_NVS_KEYS_PART_SIZE 4096u   /* keys partition / keys file */
#define ESF_NVS_KEYS_CRC_OFFSET 64u    /* u32 LE NVS CRC over the 64 key bytes */
#define ESF_NVS_HMAC_KEY_LEN 32u       /* eFuse HMAC key (nvs-encryption.md §4) */

/** Encrypt (`encrypt` != 0) or decrypt `n` consecutive 32-byte entries, the first at
 *  partition-relative offset `rel_off` (each next entry uses rel_off + 32·i as its tweak).
 *  `in` and `out` may be equal. Mirrors nvs_encrypted_partition.cpp / the generator's
 *  encrypt_data(). Encryption with eky == tky is refused (OpenSSL and the reference refuse it:
 *  "In XTS mode duplicated keys are not allowed"); decryption accepts it.
 *  @return ESF_OK; ESF_ERR_CRYPTO (backend failure, duplicated key halves on encrypt). */
int esf_nvs_crypt_entries(int encrypt, const uint8_t key[ESF_NVS_XTS_KEY_LEN], uint32_t rel_off,
                          const uint8_t *in, uint8_t *out, size_t n, esf_error *err);

/** A reusable entry cipher: the key schedule is made once (the NVS runtime encrypts or decrypts
 *  every entry it writes or loads; esf_nvs_crypt_entries sets the key up on every call). */
typedef struct esf_nvs_cipher esf_nvs_cipher;

/** New cipher for one direction (`encrypt` != 0: encrypt). Encryption with eky == tky is refused
 *  like esf_nvs_crypt_entries. @return ESF_OK; ESF_ERR_CRYPTO; ESF_ERR_NO_MEM. */
int esf_nvs_cipher_new(esf_nvs_cipher **out, int encrypt, const uint8_t key[ESF_NVS_XTS_KEY_LEN],
                       esf_error *err);

/** As esf_nvs_crypt_entries with the cipher's key and direction: `n` 32-byte entries, the first at
 *  partition-relative `rel_off`. @return ESF_OK; ESF_ERR_CRYPTO. */
int esf_nvs_cipher_run(esf_nvs_cipher *c, uint32_t rel_off, const uint8_t *in, uint8_t *out,
                       size_t n, esf_error *err);

/** NULL-safe. */
void esf_nvs_cipher_free(esf_nvs_cipher *c);

/** True when the two 32-byte key halves are equal (XTS encryption refuses such keys). */
bool esf_nvs_key_halves_equal(const uint8_t key[ESF_NVS_XTS_KEY_LEN]);

/** Encrypt an NVS image in place: in every page with a header (state word != 0xFFFFFFFF), every
 *  entry whose bitmap state is not EMPTY (written, erased or illegal) is encrypted with its
 *  physical partition-relative offset. Headers, bitmaps, EMPTY entries and header-less pages stay
 *  as they are. Equals what the generator's `encrypt` writes for the same plain image.
 *  @param size  bytes; a trailing partial page is left untouched
 *  @return ESF_OK; ESF_ERR_CRYPTO. */
int esf_nvs_encrypt_image(uint8_t *image, size_t size, const uint8_t key[ESF_NVS_XTS_KEY_LEN],
                          esf_error *err);

/** Decrypt an NVS image in place, like the generator's `decrypt`: in every 4096-byte page, the
 *  header and bitmap are kept, every entry that is not all 0xFF is decrypted with its PHYSICAL
 *  partition-relative offset (the reference counts only decrypted entries; identical on images
 *  whose written entries are contiguous from entry 0, i.e. all generator and runtime images).
 *  A trailing partial page is treated the same way entry by entry; a trailing partial entry
 *  (< 32 bytes) is refused.
 *  @return ESF_OK; ESF_ERR_INVALID (size not a multiple of 32); ESF_ERR_CRYPTO. */
int esf_nvs_decrypt_image(uint8_t *image, size_t size, const uint8_t key[ESF_NVS_XTS_KEY_LEN],
                          esf_error *err);

/** Build a keys partition/file: 64 key bytes, the u32 LE NVS CRC over them, 0xFF to 4096 bytes.
 *  Mirrors the generator's generate-key output (nvs-encryption.md §3). */
void esf_nvs_keys_build(uint8_t out[ESF_NVS_KEYS_PART_SIZE], const uint8_t key[ESF_NVS_XTS_KEY_LEN]);

/** Parse a keys partition/file (at least 68 bytes): the 64-byte key and its CRC, like
 *  nvs_flash_read_security_cfg() on plaintext.
 *  @param source  name for errors (may be NULL)
 *  @return ESF_OK; ESF_ERR_INVALID (shorter than 68 bytes); ESF_ERR_NOT_FOUND (all 0xFF:
 *          keys not initialised); ESF_ERR_CORRUPT (CRC mismatch, offset 64). */
int esf_nvs_keys_parse(const uint8_t *buf, size_t len, uint8_t key[ESF_NVS_XTS_KEY_LEN],
                       const char *source, esf_error *err);

/** Fill `key` with 64 bytes from the OS's secure random generator (eky and tky drawn again until
 *  they differ). @return ESF_OK; ESF_ERR_CRYPTO. */
int esf_nvs_keys_generate(uint8_t key[ESF_NVS_XTS_KEY_LEN], esf_error *err);

/** Fill `hmac_key` with 32 bytes from the OS's secure random generator (a new eFuse HMAC key,
 *  the generator's --kp_hmac_keygen). @return ESF_OK; ESF_ERR_CRYPTO. */
int esf_nvs_hmac_key_generate(uint8_t hmac_key[ESF_NVS_HMAC_KEY_LEN], esf_error *err);

/** Derive the XTS key from an HMAC key (nvs-encryption.md §4):
 *  eky = HMAC-SHA256(K, 5A 5A BE AE ×8), tky = HMAC-SHA256(K, A5 A5 DE CE ×8).
 *  `hmac_key` may have any length (the reference uses the whole key file).
 *  @return ESF_OK; ESF_ERR_CRYPTO. */
int esf_nvs_keys_from_hmac(const uint8_t *hmac_key, size_t len, uint8_t key[ESF_NVS_XTS_KEY_LEN],
                           esf_error *err);

#ifdef __cplusplus
}
#endif
#endif
