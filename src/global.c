/* Process-wide set-up. See include/espforge/global.h. */
#include "espforge/global.h"

#include "espforge/error.h"
#include "internal/crypto.h"

int esf_global_init(unsigned flags)
{
    if ((flags & ESF_GLOBAL_STANDALONE) && esf_crypto_init_standalone() < 0)
        return ESF_ERR_CRYPTO;
    return ESF_OK;
}
