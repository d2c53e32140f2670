/* libFuzzer target: the NVS runtime's load and recovery (esf_nvs_init) on arbitrary flash
 * contents. The input (cut to at most 8 pages, padded with 0xFF to whole pages, at least 3) is the
 * partition. Invariants: init succeeds or refuses with ESF_ERR_UNSUPPORTED / ESF_ERR_NO_SPACE only;
 * a second init changes no byte (idempotent recovery); every item the iterator lists is found
 * with its type and readable; a write then succeeds or reports no space, and reads back after
 * another init. A read-only init never writes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/nvs.h"

static void check_listed(esf_nvs *s)
{
    esf_nvs_iter *it = NULL;
    for (int rc = esf_nvs_entry_find(s, NULL, ESF_NVS_TYPE_ANY, &it); rc == ESF_OK;
         rc = esf_nvs_entry_next(&it)) {
        esf_nvs_info info;
        if (esf_nvs_entry_info(it, &info) != ESF_OK)
            abort();
        if (!info.namespace_name[0])
            continue;  /* its namespace entry is gone: unreachable by name */
        esf_nvs_handle *h = NULL;
        if (esf_nvs_open(s, info.namespace_name, ESF_NVS_READONLY, &h, NULL) != ESF_OK)
            abort();
        uint8_t t = 0;
        if (esf_nvs_find_key(h, info.key, &t) != ESF_OK)
            abort();
        static uint8_t buf[520000];
        size_t len = sizeof buf;
        uint64_t raw;
        if (t == ESF_NVS_TYPE_STR)
            (void)esf_nvs_get_str(h, info.key, (char *)buf, &len);  /* may fail its data CRC */
        else if (t == ESF_NVS_TYPE_BLOB_DATA)
            (void)esf_nvs_get_blob(h, info.key, buf, &len);
        else if (esf_nvs_get_prim(h, info.key, t, &raw) != ESF_OK)
            abort();
        esf_nvs_close(h);
    }
    esf_nvs_release_iterator(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t pages = (size + 4095) / 4096;
    if (pages > 8)
        pages = 8;
    if (pages < 3)
        pages = 3;
    size_t n = pages * 4096, used = size < n ? size : n;
    uint8_t *img = malloc(n), *after = malloc(n);
    memcpy(img, data, used);
    memset(img + used, 0xFF, n - used);
    esf_flash f;
    esf_part part;
    esf_nvs *s = NULL;
    if (esf_flash_ram_init_from(&f, (uint32_t)n, img, n, NULL) != ESF_OK)
        abort();
    esf_part_init_whole(&part, &f, "nvs", NULL);
    esf_nvs_options ro = {.read_only = true};
    int rc = esf_nvs_init(&s, &part, &ro, NULL);
    if (rc == ESF_OK) {
        check_listed(s);
        esf_nvs_deinit(s);
    }
    if (f.stats.programs || f.stats.erases)
        abort();  /* read-only: never written */
    rc = esf_nvs_init(&s, &part, NULL, NULL);
    if (rc != ESF_OK) {
        if (rc != ESF_ERR_UNSUPPORTED && rc != ESF_ERR_NO_SPACE)
            abort();
    } else {
        esf_nvs_deinit(s);
        memcpy(after, esf_flash_ram_data(&f), n);
        if (esf_nvs_init(&s, &part, NULL, NULL) != ESF_OK)
            abort();
        if (memcmp(after, esf_flash_ram_data(&f), n) != 0)
            abort();  /* recovery is idempotent */
        check_listed(s);  /* (reads may erase items whose data CRC fails) */
        esf_nvs_handle *h = NULL;
        rc = esf_nvs_open(s, "fuzz", ESF_NVS_READWRITE, &h, NULL);
        if (rc == ESF_OK)
            rc = esf_nvs_set_str(h, "probe", "written after recovery");
        if (rc != ESF_OK && rc != ESF_ERR_NO_SPACE)
            abort();
        esf_nvs_close(h);
        esf_nvs_deinit(s);
        if (rc == ESF_OK) {
            if (esf_nvs_init(&s, &part, NULL, NULL) != ESF_OK ||
                esf_nvs_open(s, "fuzz", ESF_NVS_READONLY, &h, NULL) != ESF_OK)
                abort();
            char buf[64];
            size_t len = sizeof buf;
            if (esf_nvs_get_str(h, "probe", buf, &len) != ESF_OK ||
                strcmp(buf, "written after recovery") != 0)
                abort();
            esf_nvs_close(h);
            esf_nvs_deinit(s);
        }
    }
    esf_flash_close(&f);
    free(img);
    free(after);
    return 0;
}
