/* The crypto seam (src/internal/crypto.h) over OpenSSL libcrypto and zlib. */
#include "internal/crypto.h"

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
/* MD5 uses OpenSSL's direct (pre-3.0) digest functions: they skip the provider loading that the
 * first EVP fetch costs (about 2-3 ms per process), which dominated a whole `gen_esp32part` run. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <zlib.h>

#include "internal/le.h"

/* Short inputs (NVS entries: 4 + 24 bytes, values of a few dozen) go through a slice-by-8 table
 * loop: zlib's crc32() walks them a byte at a time, one dependent table load per byte, which was
 * a tenth of a 5,000-key `nvs_partition_gen generate`. Long ones stay with zlib's braided code.
 * (A carry-less-multiply fold + Barrett path ran 40% fewer instructions but, each 8 bytes
 * waiting on three dependent multiplies, made a 5,000-key image 40% slower on an EPYC host.)
 * The tables are built once, on first use, under pthread_once; a flag published after them
 * (acquire/release) keeps the once-call out of every later CRC. */
#define CRC_SHORT_MAX 256

static uint32_t crc_tab[8][256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;
static atomic_bool crc_ready;

static void crc_tab_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ 0xEDB88320u : c >> 1;
        crc_tab[0][i] = c;
    }
    for (int t = 1; t < 8; t++)
        for (int i = 0; i < 256; i++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xFF];
    atomic_store_explicit(&crc_ready, true, memory_order_release);
}

/* the register after 4 more bytes, `c` holding them xor-ed in */
static inline uint32_t crc_word(uint32_t c)
{
    return crc_tab[3][c & 0xFF] ^ crc_tab[2][(c >> 8) & 0xFF] ^ crc_tab[1][(c >> 16) & 0xFF] ^
           crc_tab[0][c >> 24];
}

/* zlib's crc32(crc, p, len) for len < CRC_SHORT_MAX, by the tables */
static inline uint32_t crc_short(uint32_t crc, const uint8_t *p, size_t len)
{
    uint32_t c = ~crc;
    for (; len >= 8; p += 8, len -= 8) {
        uint32_t lo = c ^ esf_le32(p), hi = esf_le32(p + 4);
        c = crc_tab[7][lo & 0xFF] ^ crc_tab[6][(lo >> 8) & 0xFF] ^ crc_tab[5][(lo >> 16) & 0xFF] ^
            crc_tab[4][lo >> 24] ^ crc_word(hi);
    }
    if (len >= 4) {
        c = crc_word(c ^ esf_le32(p));
        p += 4;
        len -= 4;
    }
    while (len--)
        c = crc_tab[0][(c ^ *p++) & 0xFF] ^ (c >> 8);
    return ~c;
}

/* the first short CRC of the process: builds the tables (out of esf_crc32's registers) */
__attribute__((cold, noinline)) static uint32_t crc_first(uint32_t crc, const uint8_t *p,
                                                         size_t len)
{
    pthread_once(&crc_once, crc_tab_init);
    return crc_short(crc, p, len);
}

__attribute__((noinline)) static uint32_t crc_long(uint32_t init, const uint8_t *p, size_t len)
{
    uLong crc = init;
    while (len > 0) {
        uInt chunk = len > UINT_MAX ? UINT_MAX : (uInt)len;
        crc = crc32(crc, p, chunk);
        p += chunk;
        len -= chunk;
    }
    return (uint32_t)crc;
}

uint32_t esf_crc32(uint32_t init, const void *data, size_t len)
{
    if (len >= CRC_SHORT_MAX)
        return crc_long(init, data, len);
    if (!atomic_load_explicit(&crc_ready, memory_order_acquire))
        return crc_first(init, data, len);
    return crc_short(init, data, len);
}

/* OpenSSL is initialised on the first EVP use, not at start: the commands that need no crypto
 * (plain images, partition tables) then never pay for it. In standalone mode (set before any
 * use) every fetch here is by name from the default provider, which needs neither openssl.cnf
 * nor the OBJ_NAME tables of all legacy ciphers and digests that OpenSSL 3 otherwise fills and
 * copies into its name map on the first fetch (~0.2 ms a process). */
static uint64_t init_opts;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;
static int init_failed;

static void init_run(void)
{
    if (init_opts && OPENSSL_init_crypto(init_opts, NULL) != 1)
        init_failed = 1;
}

static int crypto_start(void)
{
    pthread_once(&init_once, init_run);
    return init_failed ? -1 : 0;
}

int esf_crypto_init_standalone(void)
{
    init_opts = OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
                OPENSSL_INIT_NO_ADD_ALL_DIGESTS;
    return 0;
}

static int digest(const EVP_MD *md, const void *data, size_t len, uint8_t *out)
{
    unsigned int n = 0;
    return EVP_Digest(data, len, out, &n, md, NULL) == 1 ? 0 : -1;
}

int esf_md5(const void *data, size_t len, uint8_t out[ESF_MD5_LEN])
{
    return MD5(data, len, out) ? 0 : -1;
}

int esf_sha256(const void *data, size_t len, uint8_t out[ESF_SHA256_LEN])
{
    if (crypto_start() < 0)
        return -1;
    return digest(EVP_sha256(), data, len, out);
}

struct esf_sha256_ctx {
    EVP_MD_CTX *md;
};

esf_sha256_ctx *esf_sha256_begin(void)
{
    if (crypto_start() < 0)
        return NULL;
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    if (!md)
        return NULL;
    if (EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(md);
        return NULL;
    }
    return (esf_sha256_ctx *)md;  /* the context is the EVP one */
}

int esf_sha256_update(esf_sha256_ctx *c, const void *data, size_t len)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)c, data, len) == 1 ? 0 : -1;
}

int esf_sha256_end(esf_sha256_ctx *c, uint8_t out[ESF_SHA256_LEN])
{
    unsigned int n = 0;
    int ok = EVP_DigestFinal_ex((EVP_MD_CTX *)c, out, &n) == 1;
    EVP_MD_CTX_free((EVP_MD_CTX *)c);
    return ok ? 0 : -1;
}

int esf_hmac_sha256(const void *key, size_t key_len, const void *data, size_t len,
                    uint8_t out[ESF_SHA256_LEN])
{
    unsigned int n = 0;
    if (key_len > INT_MAX || crypto_start() < 0)
        return -1;
    return HMAC(EVP_sha256(), key, (int)key_len, data, len, out, &n) ? 0 : -1;
}

/* AES-256-XTS goes through a copy of OpenSSL's own legacy cipher object: EVP then takes its
 * legacy path, straight into libcrypto's AES-NI XTS code, instead of a provider fetch. The first
 * fetch of OpenSSL 3.0 builds a method for every cipher of the default provider, each walking
 * the whole name map: ~0.4 ms of a small encrypted nvs_partition_gen run, and the provider path
 * costs more per call too. Same bytes either way (test_crypto checks both against each other,
 * the NVS vectors against the reference). Where the deprecated API is gone: the fetch. */
#if OPENSSL_VERSION_MAJOR == 3 && !defined(OPENSSL_NO_DEPRECATED_3_0)
static const EVP_CIPHER *xts_legacy;
static pthread_once_t xts_once = PTHREAD_ONCE_INIT;

static void xts_make(void) { xts_legacy = EVP_CIPHER_meth_dup(EVP_aes_256_xts()); }
#endif

static const EVP_CIPHER *xts_cipher(void)
{
#if OPENSSL_VERSION_MAJOR == 3 && !defined(OPENSSL_NO_DEPRECATED_3_0)
    pthread_once(&xts_once, xts_make);
    if (xts_legacy)
        return xts_legacy;
#endif
    return EVP_aes_256_xts();
}

int esf_aes_xts(int encrypt, const uint8_t key[64], const uint8_t tweak[16], const uint8_t *in,
                uint8_t *out, size_t len)
{
    if (crypto_start() < 0)
        return -1;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    int ok = 0, n = 0;
    if (!c || len > INT_MAX)
        goto done;
    if (EVP_CipherInit_ex(c, xts_cipher(), NULL, key, tweak, encrypt ? 1 : 0) != 1)
        goto done;
    if (EVP_CipherUpdate(c, out, &n, in, (int)len) != 1)
        goto done;
    ok = 1;
done:
    EVP_CIPHER_CTX_free(c);
    return ok ? 0 : -1;
}

struct esf_xts_ctx {
    EVP_CIPHER_CTX *c;
};

esf_xts_ctx *esf_aes_xts_new(int encrypt, const uint8_t key[64])
{
    if (crypto_start() < 0)
        return NULL;
    esf_xts_ctx *x = malloc(sizeof *x);
    if (!x)
        return NULL;
    if (!(x->c = EVP_CIPHER_CTX_new()) ||
        EVP_CipherInit_ex(x->c, xts_cipher(), NULL, key, NULL, encrypt ? 1 : 0) != 1) {
        esf_aes_xts_free(x);
        return NULL;
    }
    return x;
}

int esf_aes_xts_run(esf_xts_ctx *x, const uint8_t tweak[16], const uint8_t *in, uint8_t *out,
                    size_t len)
{
    int n = 0;
    if (len > INT_MAX || EVP_CipherInit_ex(x->c, NULL, NULL, NULL, tweak, -1) != 1 ||
        EVP_CipherUpdate(x->c, out, &n, in, (int)len) != 1)
        return -1;
    return 0;
}

void esf_aes_xts_free(esf_xts_ctx *x)
{
    if (!x)
        return;
    EVP_CIPHER_CTX_free(x->c);
    free(x);
}

int esf_pbkdf2_sha1(const void *pw, size_t pw_len, const void *salt, size_t salt_len, unsigned iter,
                    uint8_t *out, size_t out_len)
{
    if (pw_len > INT_MAX || salt_len > INT_MAX || out_len > INT_MAX || iter > INT_MAX ||
        crypto_start() < 0)
        return -1;
    return PKCS5_PBKDF2_HMAC_SHA1(pw, (int)pw_len, salt, (int)salt_len, (int)iter, (int)out_len,
                                  out) == 1 ? 0 : -1;
}

int esf_random(void *buf, size_t len)
{
    if (len > INT_MAX || crypto_start() < 0)
        return -1;
    return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}
