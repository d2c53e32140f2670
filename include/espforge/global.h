/* espforge: process-wide set-up, in the manner of curl_global_init. Optional: every function of
 * the library works without it. */
#ifndef ESPFORGE_GLOBAL_H
#define ESPFORGE_GLOBAL_H

#ifdef __cplusplus
extern "C" {
#endif

/** The program uses the crypto backend (OpenSSL libcrypto) only through espforge: skip what a
 *  general program may want but espforge never needs — loading openssl.cnf, and the legacy
 *  cipher/digest name tables that OpenSSL 3 otherwise builds on the first cipher fetch (about
 *  0.2 ms of every process that encrypts). Do not set it in a program that configures OpenSSL
 *  or looks ciphers up by name itself (EVP_get_cipherbyname): those would stop working. */
#define ESF_GLOBAL_STANDALONE 0x1u

/** Process-wide initialisation with ESF_GLOBAL_* flags; call once, early, before threads and
 *  before any other espforge call. Costs nothing at start: the crypto backend itself is still
 *  started on first use, so commands that need no crypto never load it.
 *  @return 0 (ESF_OK); ESF_ERR_CRYPTO when the backend refuses to initialise. */
int esf_global_init(unsigned flags);

#ifdef __cplusplus
}
#endif

#endif
