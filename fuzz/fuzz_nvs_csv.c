/* libFuzzer target: the NVS CSV reader and generator (esf_nvs_gen_add_csv / finish).
 * The first input byte picks the mode (compat/native, v1/v2, partition size, encryption); the rest
 * is the CSV. Invariants checked on success: the image has the requested length; every page with
 * a header has a valid header CRC and an ACTIVE or FULL state; every WRITTEN item of a native-mode
 * image passes the runtime's header-consistency rules with a matching payload CRC; encrypting and
 * decrypting the image gives it back. On failure an error message exists. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/nvs_crypt.h"
#include "espforge/nvs_gen.h"
#include "espforge/nvs_page.h"

static void check_image(const uint8_t *img, size_t n, bool native)
{
    for (size_t p = 0; p + ESF_NVS_PAGE_SIZE <= n; p += ESF_NVS_PAGE_SIZE) {
        esf_nvs_page_header h;
        esf_nvs_page_header_decode(img + p, &h);
        if (h.state == ESF_NVS_PAGE_EMPTY)
            continue;
        if (!esf_nvs_page_header_crc_ok(img + p) ||
            (h.state != ESF_NVS_PAGE_ACTIVE && h.state != ESF_NVS_PAGE_FULL))
            abort();
        if (!native)
            continue;
        const uint8_t *bm = img + p + ESF_NVS_BITMAP_OFFSET;
        for (unsigned i = 0; i < ESF_NVS_ENTRIES_PER_PAGE;) {
            if (esf_nvs_bitmap_get(bm, i) != ESF_NVS_ENTRY_WRITTEN)
                break;
            esf_nvs_item it;
            esf_nvs_item_decode(img + p + ESF_NVS_FIRST_ENTRY_OFFSET + 32 * i, &it);
            if (esf_nvs_item_check(&it, i, NULL) != ESF_OK)
                abort();
            if (esf_nvs_type_is_var(it.type) &&
                esf_nvs_crc(img + p + ESF_NVS_FIRST_ENTRY_OFFSET + 32 * (i + 1),
                            esf_nvs_item_var_size(&it)) != esf_nvs_item_var_crc(&it))
                abort();
            i += it.span;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    static const uint32_t sizes[4] = { 0x1000, 0x2000, 0x3000, 0x6000 };
    uint8_t key[64];
    for (int i = 0; i < 64; i++)
        key[i] = (uint8_t)(i * 7 + 3);
    esf_nvs_gen_opts o = { .size = sizes[mode & 3], .version = (mode & 4) ? 1 : 2,
                           .compat = (mode & 8) != 0, .no_files = true,
                           .no_wifi_extras = (mode & 16) != 0 };
    bool enc = (mode & 32) != 0;
    if (enc)
        o.key = key;
    esf_nvs_gen *g = NULL;
    esf_error err;
    if (esf_nvs_gen_new(&g, &o, &err) != ESF_OK)
        abort();
    uint8_t *img = malloc(o.size);
    int rc = esf_nvs_gen_add_csv(g, (const char *)data + 1, size - 1, "fuzz.csv", &err);
    if (rc == ESF_OK) {
        size_t n;
        if (esf_nvs_gen_finish(g, img, &n, &err) != ESF_OK || n > o.size || n % ESF_NVS_PAGE_SIZE)
            abort();
        if (!o.compat && n != o.size)
            abort();
        if (enc) {
            uint8_t *plain = malloc(n);
            memcpy(plain, img, n);
            if (esf_nvs_decrypt_image(plain, n, key, NULL) != ESF_OK)
                abort();
            check_image(plain, n, !o.compat);
            if (esf_nvs_encrypt_image(plain, n, key, NULL) != ESF_OK || memcmp(plain, img, n))
                abort();
            free(plain);
        } else {
            check_image(img, n, !o.compat);
        }
    } else if (!err.msg[0] || rc >= 0) {
        abort();
    }
    /* the generator is reusable after reset */
    esf_nvs_gen_reset(g);
    size_t n;
    if (esf_nvs_gen_finish(g, img, &n, &err) != ESF_OK)
        abort();
    free(img);
    esf_nvs_gen_free(g);
    return 0;
}
