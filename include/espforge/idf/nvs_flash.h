/* espforge ESP-IDF compatibility: nvs_flash.h — partition-level NVS functions on the host, plus
 * the host extensions that make partitions known (ESP-IDF finds them in the device's partition
 * table; here a program registers an image file window or a flash view under a label first).
 *
 * Typical host main():
 *     esf_idf_partition_register_file("nvs", "flash.bin", 0x9000, 0x6000, ESP_PARTITION_SUBTYPE_DATA_NVS);
 *     app_main();            // unchanged firmware code: nvs_flash_init(), nvs_open(), ...
 *     esf_idf_partition_unregister_all();   // deinit + write changed images back atomically
 */
#ifndef ESPFORGE_IDF_NVS_FLASH_H
#define ESPFORGE_IDF_NVS_FLASH_H

#include "esp_err.h"
#include "esp_partition.h"
#include "nvs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NVS_KEY_SIZE 32 /* AES-256 */

typedef struct {
    uint8_t eky[NVS_KEY_SIZE]; /* XTS data key */
    uint8_t tky[NVS_KEY_SIZE]; /* XTS tweak key */
} nvs_sec_cfg_t;

typedef esp_err_t (*nvs_flash_generate_keys_t)(const void *scheme_data, nvs_sec_cfg_t *cfg);
typedef esp_err_t (*nvs_flash_read_cfg_t)(const void *scheme_data, nvs_sec_cfg_t *cfg);

typedef struct {
    int scheme_id;
    void *scheme_data;
    nvs_flash_generate_keys_t nvs_flash_key_gen;
    nvs_flash_read_cfg_t nvs_flash_read_cfg;
} nvs_sec_scheme_t;

/* ---- ESP-IDF functions (nvs-runtime.md §2.3) */
esp_err_t nvs_flash_init(void);  /* = nvs_flash_init_partition("nvs"); a registered default
                                    security scheme (nvs_flash_register_security_scheme) makes it
                                    read (or generate) keys and init encrypted, as with
                                    CONFIG_NVS_ENCRYPTION */
esp_err_t nvs_flash_init_partition(const char *partition_label);
esp_err_t nvs_flash_init_partition_ptr(const esp_partition_t *partition);
esp_err_t nvs_flash_secure_init(nvs_sec_cfg_t *cfg);
esp_err_t nvs_flash_secure_init_partition(const char *partition_label, nvs_sec_cfg_t *cfg);
esp_err_t nvs_flash_deinit(void);
esp_err_t nvs_flash_deinit_partition(const char *partition_label);
esp_err_t nvs_flash_erase(void);
esp_err_t nvs_flash_erase_partition(const char *part_name);
esp_err_t nvs_flash_erase_partition_ptr(const esp_partition_t *partition);
/** Host: random keys (OS CSPRNG) written as a plaintext keys partition (nvs-encryption.md §3). */
esp_err_t nvs_flash_generate_keys(const esp_partition_t *partition, nvs_sec_cfg_t *cfg);
esp_err_t nvs_flash_read_security_cfg(const esp_partition_t *partition, nvs_sec_cfg_t *cfg);
esp_err_t nvs_flash_register_security_scheme(nvs_sec_scheme_t *scheme_cfg);
esp_err_t nvs_flash_deregister_security_scheme(void);
nvs_sec_scheme_t *nvs_flash_get_default_security_scheme(void);
esp_err_t nvs_flash_generate_keys_v2(nvs_sec_scheme_t *scheme_cfg, nvs_sec_cfg_t *cfg);
esp_err_t nvs_flash_read_security_cfg_v2(nvs_sec_scheme_t *scheme_cfg, nvs_sec_cfg_t *cfg);

/* ---- host extensions (espforge) */

struct esf_part;

/** Register `size` bytes at `offset` of the image file `path` (size 0: to the end of the file)
 *  under `label` with partition type data and `subtype` (ESP_PARTITION_SUBTYPE_DATA_NVS or
 *  _NVS_KEYS). Several partitions may live in one file; it is loaded once and written back
 *  atomically (temporary file + rename) when changed, by nvs_commit(), nvs_flash_deinit*(),
 *  nvs_flash_erase*(), nvs_flash_generate_keys() and esf_idf_partition_unregister*().
 *  @return ESP_OK; ESP_ERR_INVALID_ARG (NULL, label > 16 bytes, already registered, window not
 *          4096-aligned or outside the file); ESP_ERR_NOT_FOUND (file unreadable);
 *          ESP_ERR_NO_MEM. */
esp_err_t esf_idf_partition_register_file(const char *label, const char *path, uint32_t offset,
                                          uint32_t size, esp_partition_subtype_t subtype);

/** Register a flash view (e.g. over a RAM flash) under `label`; the view is copied, its flash is
 *  not owned and must outlive the registration. ESF_PART_FLAG_READONLY / _ENCRYPTED of the view
 *  become the partition's readonly / encrypted flags. @return as above. */
esp_err_t esf_idf_partition_register(const char *label, const struct esf_part *part,
                                     esp_partition_subtype_t subtype);

/** Deinit (closing handles), write back a changed image file, forget the label.
 *  @return ESP_OK; ESP_ERR_NOT_FOUND; ESP_ERR_FLASH_OP_FAIL (write-back failed). */
esp_err_t esf_idf_partition_unregister(const char *label);

/** esf_idf_partition_unregister() for every partition; also clears the security scheme.
 *  @return ESP_OK or the first failure. */
esp_err_t esf_idf_partition_unregister_all(void);

#ifdef __cplusplus
}
#endif
#endif
