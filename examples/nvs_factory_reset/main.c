/* nvs_factory_reset: ESP-IDF firmware code running unchanged on the host against a flash image.
 *
 * The firmware part (app_main and factory_reset below) uses only ESP-IDF's NVS API: it reads the
 * device's mass-production data from the `fctry` partition (namespace `mfg_ns`, written by
 * `espforge mfg gen` / ESP-IDF's mfg_gen.py, as in ESP-Jumpstart's 7_mfg step) and performs a
 * factory reset of the `nvs` partition: the user's settings (namespace `user_data`) are erased,
 * everything else stays.
 *
 * The host part (main) registers the two partitions of a flash image under their labels, with the
 * smart-plug layout of examples/smart-plug/partitions.csv (nvs at 0x9000, fctry at 0x340000, both
 * 0x6000), runs app_main() and writes the changed image back atomically.
 *
 *   nvs_factory_reset FLASH.bin [--nvs OFFSET] [--fctry OFFSET]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp_err.h"
#include "nvs.h"
#include "nvs_flash.h"

/* ---------------- firmware code (ESP-IDF API only) ---------------- */

static esp_err_t print_mfg_data(void)
{
    esp_err_t err = nvs_flash_init_partition("fctry");
    if (err != ESP_OK)
        return err;
    nvs_handle_t h;
    err = nvs_open_from_partition("fctry", "mfg_ns", NVS_READONLY, &h);
    if (err != ESP_OK)
        return err;
    nvs_iterator_t it = NULL;
    for (esp_err_t r = nvs_entry_find_in_handle(h, NVS_TYPE_ANY, &it); r == ESP_OK;
         r = nvs_entry_next(&it)) {
        nvs_entry_info_t info;
        nvs_entry_info(it, &info);
        size_t len = 0;
        if (info.type == NVS_TYPE_STR) {
            nvs_get_str(h, info.key, NULL, &len);
            char *s = malloc(len);
            if (s && nvs_get_str(h, info.key, s, &len) == ESP_OK)
                printf("mfg %s = \"%s\"\n", info.key, s);
            free(s);
        } else if (info.type == NVS_TYPE_BLOB) {
            nvs_get_blob(h, info.key, NULL, &len);
            unsigned char *b = malloc(len ? len : 1);
            if (b && nvs_get_blob(h, info.key, b, &len) == ESP_OK) {
                size_t text = 0;
                while (text < len && b[text] >= 0x20 && b[text] < 0x7f)
                    text++;
                printf("mfg %s = blob of %zu bytes:", info.key, len);
                if (text == len && len > 0)
                    printf(" \"%.*s\"\n", (int)len, (const char *)b);  /* e.g. a serial number */
                else {
                    for (size_t i = 0; i < len && i < 16; i++)
                        printf(" %02x", b[i]);
                    printf("%s\n", len > 16 ? " ..." : "");
                }
            }
            free(b);
        } else {
            uint32_t v = 0;
            if (info.type == NVS_TYPE_U32 && nvs_get_u32(h, info.key, &v) == ESP_OK)
                printf("mfg %s = %u\n", info.key, (unsigned)v);
            else
                printf("mfg %s (type 0x%02x)\n", info.key, (unsigned)info.type);
        }
    }
    nvs_release_iterator(it);
    nvs_close(h);
    return ESP_OK;
}

static esp_err_t factory_reset(void)
{
    esp_err_t err = nvs_flash_init();
    if (err == ESP_ERR_NVS_NO_FREE_PAGES || err == ESP_ERR_NVS_NEW_VERSION_FOUND) {
        ESP_ERROR_CHECK(nvs_flash_erase());  /* the usual ESP-IDF idiom */
        err = nvs_flash_init();
    }
    if (err != ESP_OK)
        return err;
    nvs_handle_t h;
    err = nvs_open("user_data", NVS_READWRITE, &h);
    if (err != ESP_OK)
        return err;
    size_t before = 0, after = 0;
    nvs_get_used_entry_count(h, &before);
    err = nvs_erase_all(h);
    if (err == ESP_OK)
        err = nvs_commit(h);
    nvs_get_used_entry_count(h, &after);
    printf("factory reset: user_data %zu -> %zu entries\n", before, after);
    nvs_close(h);
    nvs_stats_t st;
    if (nvs_get_stats(NULL, &st) == ESP_OK)
        printf("nvs: %zu used, %zu free, %zu namespaces\n", st.used_entries, st.free_entries,
               st.namespace_count);
    return err;
}

void app_main(void)
{
    esp_err_t err = print_mfg_data();
    if (err != ESP_OK)
        printf("no manufacturing data: %s\n", esp_err_to_name(err));
    ESP_ERROR_CHECK(factory_reset());
}

/* ---------------- host glue ---------------- */

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FLASH.bin [--nvs OFFSET] [--fctry OFFSET]\n", argv[0]);
        return 2;
    }
    unsigned long nvs_off = 0x9000, fctry_off = 0x340000;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--nvs"))
            nvs_off = strtoul(argv[i + 1], NULL, 0);
        else if (!strcmp(argv[i], "--fctry"))
            fctry_off = strtoul(argv[i + 1], NULL, 0);
    }
    esp_err_t err = esf_idf_partition_register_file("nvs", argv[1], (uint32_t)nvs_off, 0x6000,
                                                    ESP_PARTITION_SUBTYPE_DATA_NVS);
    if (err == ESP_OK)
        err = esf_idf_partition_register_file("fctry", argv[1], (uint32_t)fctry_off, 0x6000,
                                              ESP_PARTITION_SUBTYPE_DATA_NVS);
    if (err != ESP_OK) {
        fprintf(stderr, "%s: cannot register the partitions: %s\n", argv[1], esp_err_to_name(err));
        return 1;
    }
    app_main();
    err = esf_idf_partition_unregister_all();
    if (err != ESP_OK) {
        fprintf(stderr, "%s: writing the image back failed: %s\n", argv[1], esp_err_to_name(err));
        return 1;
    }
    return 0;
}
