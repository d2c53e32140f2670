/* espforge ESP-IDF compatibility: the part of esp_partition.h the NVS API needs. On the host a
 * partition is an image file window or a flash view registered under a label (nvs_flash.h,
 * esf_idf_partition_register*); esp_partition_find_first() finds registered partitions. */
#ifndef ESPFORGE_IDF_ESP_PARTITION_H
#define ESPFORGE_IDF_ESP_PARTITION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp_err.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ESP_PARTITION_TYPE_APP = 0x00,
    ESP_PARTITION_TYPE_DATA = 0x01,
    ESP_PARTITION_TYPE_ANY = 0xff
} esp_partition_type_t;

typedef enum {
    ESP_PARTITION_SUBTYPE_DATA_OTA = 0x00,
    ESP_PARTITION_SUBTYPE_DATA_PHY = 0x01,
    ESP_PARTITION_SUBTYPE_DATA_NVS = 0x02,
    ESP_PARTITION_SUBTYPE_DATA_COREDUMP = 0x03,
    ESP_PARTITION_SUBTYPE_DATA_NVS_KEYS = 0x04,
    ESP_PARTITION_SUBTYPE_ANY = 0xff
} esp_partition_subtype_t;

/** A registered partition (fields as ESP-IDF's; `address` = offset within its flash image). */
typedef struct esp_partition_t {
    esp_partition_type_t type;
    esp_partition_subtype_t subtype;
    uint32_t address;     /* bytes */
    uint32_t size;        /* bytes */
    uint32_t erase_size;  /* 4096 */
    char label[17];
    bool encrypted;
    bool readonly;
} esp_partition_t;

/** First registered partition matching type, subtype (ANY = any) and label (NULL = any).
 *  @return the partition (valid until it is unregistered) or NULL. */
const esp_partition_t *esp_partition_find_first(esp_partition_type_t type,
                                                esp_partition_subtype_t subtype, const char *label);

#ifdef __cplusplus
}
#endif
#endif
