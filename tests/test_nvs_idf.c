/* ESP-IDF compatibility layer: esp_err_t values, handle rules, error precedence, encrypted init
 * through a keys partition and through a security scheme (nvs-runtime.md §2). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esf_test.h"
#include "espforge/idf/nvs_flash.h"
#include "espforge/io.h"
#include "espforge/partition.h"

static esf_flash flash;  /* 0x10000: nvs 0x0-0x6000, ro 0x6000-0x7000, keys 0x8000, other 0x9000 */

static int setup(void **state)
{
    (void)state;
    esf_part p;
    if (esf_flash_ram_init(&flash, 0x10000, NULL) != ESF_OK)
        return -1;
    esf_part_init(&p, &flash, 0, 0x6000, "nvs", NULL);
    esf_idf_partition_register("nvs", &p, ESP_PARTITION_SUBTYPE_DATA_NVS);
    esf_part_init(&p, &flash, 0x6000, 0x1000, "ro", NULL);
    p.flags = ESF_PART_FLAG_READONLY;
    esf_idf_partition_register("ro", &p, ESP_PARTITION_SUBTYPE_DATA_NVS);
    esf_part_init(&p, &flash, 0x8000, 0x1000, "keys", NULL);
    esf_idf_partition_register("keys", &p, ESP_PARTITION_SUBTYPE_DATA_NVS_KEYS);
    esf_part_init(&p, &flash, 0x9000, 0x7000, "other", NULL);
    return esf_idf_partition_register("other", &p, ESP_PARTITION_SUBTYPE_DATA_NVS) == ESP_OK ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    esf_idf_partition_unregister_all();
    esf_flash_close(&flash);
    return 0;
}

static void codes(void **state)
{
    (void)state;
    assert_int_equal(ESP_ERR_NVS_NOT_FOUND, 0x1102);
    assert_int_equal(ESP_ERR_NVS_INVALID_LENGTH, 0x110C);
    assert_int_equal(ESP_ERR_NVS_NO_FREE_PAGES, 0x110D);
    assert_int_equal(ESP_ERR_NVS_NEW_VERSION_FOUND, 0x1110);
    assert_int_equal(ESP_ERR_NVS_WRONG_ENCRYPTION, 0x1119);
    assert_string_equal(esp_err_to_name(0x1107), "ESP_ERR_NVS_INVALID_HANDLE");
    assert_string_equal(esp_err_to_name(0x10D), "ESP_ERR_NOT_ALLOWED");
    assert_string_equal(esp_err_to_name(0x7777), "UNKNOWN ERROR");
}

static void handles_and_errors(void **state)
{
    (void)state;
    nvs_handle_t h = 0, h2 = 0;
    assert_int_equal(nvs_open("app", NVS_READWRITE, &h), ESP_ERR_NVS_NOT_INITIALIZED);
    assert_int_equal(nvs_flash_init_partition("no_such_part"), ESP_ERR_NOT_FOUND);
    assert_int_equal(nvs_flash_init_partition("label_longer_than_16"), ESP_ERR_INVALID_ARG);
    assert_int_equal(nvs_flash_deinit(), ESP_ERR_NVS_NOT_INITIALIZED);
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_flash_init(), ESP_OK);  /* already initialised */
    assert_int_equal(nvs_open_from_partition("other", "app", NVS_READWRITE, &h),
                     ESP_ERR_NVS_PART_NOT_FOUND);
    assert_int_equal(nvs_open("app", NVS_READWRITE, NULL), ESP_ERR_INVALID_ARG);
    assert_int_equal(nvs_open("app", NVS_READONLY, &h), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_open("namespace_too_long", NVS_READWRITE, &h), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(nvs_open("app", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_open("app", NVS_READONLY, &h2), ESP_OK);
    assert_true(h != 0 && h2 == h + 1);
    assert_int_equal(nvs_set_i32(h, "t", -5), ESP_OK);
    int32_t i32 = 0;
    assert_int_equal(nvs_get_i32(h2, "t", &i32), ESP_OK);
    assert_int_equal(i32, -5);
    uint32_t u32 = 9;
    assert_int_equal(nvs_get_u32(h2, "t", &u32), ESP_ERR_NVS_NOT_FOUND);  /* type mismatch (Q7) */
    assert_int_equal(u32, 9);
    assert_int_equal(nvs_set_u8(h2, "t", 1), ESP_ERR_NVS_READ_ONLY);
    assert_int_equal(nvs_set_u8(h, "key_is_16_chars_", 1), ESP_ERR_NVS_KEY_TOO_LONG);
    assert_int_equal(nvs_set_u8(h, NULL, 1), ESP_ERR_INVALID_ARG);
    assert_int_equal(nvs_set_float(0, "f", NAN), ESP_ERR_INVALID_ARG);  /* before the handle */
    assert_int_equal(nvs_set_float(0, "f", 1.0f), ESP_ERR_NVS_INVALID_HANDLE);
    assert_int_equal(nvs_set_double(h, "d", 2.25), ESP_OK);
    double d = 0;
    assert_int_equal(nvs_get_double(h2, "d", &d), ESP_OK);
    assert_true(d == 2.25);
    /* strings */
    char big[4002];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = 0;
    assert_int_equal(nvs_set_str(h, "s", big), ESP_ERR_NVS_VALUE_TOO_LONG);
    assert_int_equal(nvs_set_str(h, "s", "abc"), ESP_OK);
    size_t len = 0;
    char buf[8];
    assert_int_equal(nvs_get_str(h2, "s", NULL, &len), ESP_OK);
    assert_int_equal(len, 4);
    len = 2;
    assert_int_equal(nvs_get_str(h2, "s", buf, &len), ESP_ERR_NVS_INVALID_LENGTH);
    assert_int_equal(len, 4);
    assert_int_equal(nvs_get_str(h2, "s", buf, NULL), ESP_ERR_NVS_INVALID_LENGTH);
    nvs_type_t t;
    assert_int_equal(nvs_find_key(h2, "s", &t), ESP_OK);
    assert_int_equal(t, NVS_TYPE_STR);
    assert_int_equal(nvs_set_blob(h, "b", "xyz", 3), ESP_OK);
    assert_int_equal(nvs_find_key(h2, "b", &t), ESP_OK);
    assert_int_equal(t, NVS_TYPE_BLOB);
    assert_int_equal(nvs_erase_key(h, "missing"), ESP_ERR_NVS_NOT_FOUND);
    size_t used = 99;
    assert_int_equal(nvs_get_used_entry_count(h, &used), ESP_OK);
    assert_int_equal(used, 1 + 1 + 2 + 3);  /* t, d, s (2), b: chunk (2) + index */
    /* iterators */
    nvs_iterator_t it = NULL;
    int n = 0;
    for (esp_err_t r = nvs_entry_find("nvs", "app", NVS_TYPE_ANY, &it); r == ESP_OK;
         r = nvs_entry_next(&it)) {
        nvs_entry_info_t info;
        assert_int_equal(nvs_entry_info(it, &info), ESP_OK);
        assert_string_equal(info.namespace_name, "app");
        n++;
    }
    assert_int_equal(n, 4);
    assert_null(it);
    assert_int_equal(nvs_entry_find("nvs", "nope", NVS_TYPE_ANY, &it), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_entry_find_in_handle(12345, NVS_TYPE_ANY, &it), ESP_ERR_NVS_INVALID_HANDLE);
    assert_null(it);
    assert_int_equal(nvs_entry_find_in_handle(h, NVS_TYPE_BLOB, &it), ESP_OK);
    nvs_release_iterator(it);
    nvs_stats_t st;
    assert_int_equal(nvs_get_stats(NULL, &st), ESP_OK);
    assert_int_equal(st.total_entries, 6 * 126);
    assert_int_equal(st.namespace_count, 1);
    assert_int_equal(nvs_get_stats("other", &st), ESP_ERR_NVS_NOT_INITIALIZED);
    assert_int_equal(nvs_commit(h2), ESP_OK);
    /* erase_all, close, deinit invalidates handles */
    assert_int_equal(nvs_erase_all(h), ESP_OK);
    assert_int_equal(nvs_get_i32(h2, "t", &i32), ESP_ERR_NVS_NOT_FOUND);
    nvs_close(h2);
    assert_int_equal(nvs_get_i32(h2, "t", &i32), ESP_ERR_NVS_INVALID_HANDLE);
    nvs_close(h2);  /* unknown handle: ignored */
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(nvs_set_u8(h, "x", 1), ESP_ERR_NVS_INVALID_HANDLE);
    /* read-only partition: write open not allowed */
    assert_int_equal(nvs_flash_init_partition("ro"), ESP_OK);
    assert_int_equal(nvs_open_from_partition("ro", "x", NVS_READWRITE, &h), ESP_ERR_NOT_ALLOWED);
    assert_int_equal(nvs_flash_erase_partition("ro"), ESP_ERR_NOT_ALLOWED);
    /* erase of the default partition */
    assert_int_equal(nvs_flash_erase(), ESP_OK);
    assert_int_equal(nvs_flash_init(), ESP_OK);
    assert_int_equal(nvs_open("app", NVS_READONLY, &h), ESP_ERR_NVS_NOT_FOUND);
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    assert_int_equal(nvs_flash_deinit_partition("ro"), ESP_OK);
    assert_int_equal(nvs_flash_erase_partition("nope"), ESP_ERR_NOT_FOUND);
}

static esp_err_t scheme_read(const void *data, nvs_sec_cfg_t *cfg)
{
    return nvs_flash_read_security_cfg((const esp_partition_t *)data, cfg);
}

static esp_err_t scheme_gen(const void *data, nvs_sec_cfg_t *cfg)
{
    return nvs_flash_generate_keys((const esp_partition_t *)data, cfg);
}

static void encrypted_init(void **state)
{
    (void)state;
    const esp_partition_t *kp = esp_partition_find_first(
        ESP_PARTITION_TYPE_DATA, ESP_PARTITION_SUBTYPE_DATA_NVS_KEYS, NULL);
    assert_non_null(kp);
    assert_string_equal(kp->label, "keys");
    nvs_sec_cfg_t cfg, cfg2;
    assert_int_equal(nvs_flash_read_security_cfg(kp, &cfg), ESP_ERR_NVS_KEYS_NOT_INITIALIZED);
    /* through a security scheme, as nvs_flash_init() with CONFIG_NVS_ENCRYPTION: keys missing ->
     * generated, then an encrypted init */
    nvs_sec_scheme_t s = {.scheme_data = (void *)kp, .nvs_flash_key_gen = scheme_gen,
                          .nvs_flash_read_cfg = scheme_read};
    assert_int_equal(nvs_flash_register_security_scheme(&s), ESP_OK);
    assert_non_null(nvs_flash_get_default_security_scheme());
    assert_int_equal(nvs_flash_init(), ESP_OK);
    nvs_handle_t h;
    assert_int_equal(nvs_open("sec", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_str(h, "token", "plaintext-never-on-flash"), ESP_OK);
    nvs_close(h);
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    const uint8_t *raw = esf_flash_ram_data(&flash);
    for (size_t i = 0; i + 9 <= 0x6000; i++)
        assert_false(memcmp(raw + i, "plaintext", 9) == 0);
    /* read the keys back and init explicitly */
    assert_int_equal(nvs_flash_read_security_cfg(kp, &cfg), ESP_OK);
    assert_int_equal(nvs_flash_secure_init(&cfg), ESP_OK);
    assert_int_equal(nvs_open("sec", NVS_READONLY, &h), ESP_OK);
    char buf[64];
    size_t len = sizeof buf;
    assert_int_equal(nvs_get_str(h, "token", buf, &len), ESP_OK);
    assert_string_equal(buf, "plaintext-never-on-flash");
    nvs_close(h);
    assert_int_equal(nvs_flash_deinit(), ESP_OK);
    /* a damaged keys partition: clear a key byte that has bits set (the keys are random, so a
     * fixed byte may already be 0x00 and clearing it would change nothing) */
    uint8_t z = 0;
    size_t at = 0;
    while (at < 32 && raw[0x8000 + at] == 0)
        at++;
    assert_true(at < 32);
    assert_int_equal(esf_flash_program(&flash, 0x8000 + (uint32_t)at, &z, 1), ESF_OK);
    assert_int_equal(nvs_flash_read_security_cfg(kp, &cfg2), ESP_ERR_NVS_CORRUPT_KEY_PART);
    assert_int_equal(nvs_flash_deregister_security_scheme(), ESP_OK);
    assert_null(nvs_flash_get_default_security_scheme());
    assert_int_equal(nvs_flash_generate_keys_v2(NULL, &cfg), ESP_ERR_INVALID_ARG);
}

/* A partition flagged encrypted is refused (WRONG_ENCRYPTION); a file-backed partition reaches
 * its file on nvs_commit. */
static void flags_and_files(void **state)
{
    (void)state;
    esf_part p;
    esf_part_init(&p, &flash, 0xF000, 0x1000, "enc", NULL);
    p.flags = ESF_PART_FLAG_ENCRYPTED;
    assert_int_equal(esf_idf_partition_register("enc", &p, ESP_PARTITION_SUBTYPE_DATA_NVS), ESP_OK);
    assert_int_equal(esf_idf_partition_register("enc", &p, ESP_PARTITION_SUBTYPE_DATA_NVS),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(nvs_flash_init_partition("enc"), ESP_ERR_NVS_WRONG_ENCRYPTION);
    assert_int_equal(esf_idf_partition_unregister("enc"), ESP_OK);
    assert_int_equal(esf_idf_partition_unregister("enc"), ESP_ERR_NOT_FOUND);

    char *dir = esf_test_tmpdir();
    char path[4200];
    snprintf(path, sizeof path, "%s/img.bin", dir);
    uint8_t img[0x4000];
    memset(img, 0xFF, sizeof img);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite(img, 1, sizeof img, fp);
    fclose(fp);
    assert_int_equal(esf_idf_partition_register_file("f1", path, 0x1000, 0x3000,
                                                     ESP_PARTITION_SUBTYPE_DATA_NVS), ESP_OK);
    assert_int_equal(esf_idf_partition_register_file("f2", path, 0x0, 0x1000,
                                                     ESP_PARTITION_SUBTYPE_DATA_NVS), ESP_OK);
    assert_int_equal(esf_idf_partition_register_file("f3", path, 0x3000, 0x3000,
                                                     ESP_PARTITION_SUBTYPE_DATA_NVS),
                     ESP_ERR_INVALID_ARG);
    assert_int_equal(esf_idf_partition_register_file("f4", "/nonexistent/x", 0, 0,
                                                     ESP_PARTITION_SUBTYPE_DATA_NVS),
                     ESP_ERR_NOT_FOUND);
    assert_int_equal(nvs_flash_init_partition("f1"), ESP_OK);
    nvs_handle_t h;
    assert_int_equal(nvs_open_from_partition("f1", "ns", NVS_READWRITE, &h), ESP_OK);
    assert_int_equal(nvs_set_u16(h, "v", 513), ESP_OK);
    assert_int_equal(nvs_commit(h), ESP_OK);
    size_t len;
    uint8_t *disk = NULL;
    assert_int_equal(esf_file_read(path, &disk, &len, NULL), ESF_OK);
    assert_int_equal(len, sizeof img);
    assert_memory_equal(disk, img, 0x1000);  /* f2's window untouched */
    assert_int_equal(disk[0x1000], 0xFE);    /* f1's first page is ACTIVE on disk */
    free(disk);
    assert_int_equal(esf_idf_partition_unregister("f1"), ESP_OK);
    assert_int_equal(esf_idf_partition_unregister("f2"), ESP_OK);
    assert_int_equal(esf_idf_partition_register_file("f1", path, 0x1000, 0,
                                                     ESP_PARTITION_SUBTYPE_DATA_NVS), ESP_OK);
    assert_int_equal(nvs_flash_init_partition("f1"), ESP_OK);
    assert_int_equal(nvs_open_from_partition("f1", "ns", NVS_READONLY, &h), ESP_OK);
    uint16_t v = 0;
    assert_int_equal(nvs_get_u16(h, "v", &v), ESP_OK);
    assert_int_equal(v, 513);
    assert_int_equal(esf_idf_partition_unregister("f1"), ESP_OK);
    assert_int_equal(nvs_get_u16(h, "v", &v), ESP_ERR_NVS_INVALID_HANDLE);
    assert_int_equal(esf_test_count_entries(dir), 1);
    esf_test_rmdir(dir);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes),
        cmocka_unit_test_setup_teardown(handles_and_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(encrypted_init, setup, teardown),
        cmocka_unit_test_setup_teardown(flags_and_files, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
