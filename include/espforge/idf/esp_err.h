/* espforge ESP-IDF compatibility: esp_err.h — esp_err_t and the codes the NVS API returns, with
 * ESP-IDF's numeric values (nvs-runtime.md §2.1). Add include/espforge/idf to the include path so
 * firmware's `#include "esp_err.h"` finds this file. */
#ifndef ESPFORGE_IDF_ESP_ERR_H
#define ESPFORGE_IDF_ESP_ERR_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef int esp_err_t;

#define ESP_OK 0
#define ESP_FAIL -1
#define ESP_ERR_NO_MEM 0x101
#define ESP_ERR_INVALID_ARG 0x102
#define ESP_ERR_INVALID_STATE 0x103
#define ESP_ERR_INVALID_SIZE 0x104
#define ESP_ERR_NOT_FOUND 0x105
#define ESP_ERR_NOT_SUPPORTED 0x106
#define ESP_ERR_TIMEOUT 0x107
#define ESP_ERR_INVALID_RESPONSE 0x108
#define ESP_ERR_INVALID_CRC 0x109
#define ESP_ERR_INVALID_VERSION 0x10A
#define ESP_ERR_INVALID_MAC 0x10B
#define ESP_ERR_NOT_FINISHED 0x10C
#define ESP_ERR_NOT_ALLOWED 0x10D
#define ESP_ERR_FLASH_BASE 0x6000
#define ESP_ERR_FLASH_OP_FAIL 0x6001
#define ESP_ERR_FLASH_OP_TIMEOUT 0x6002

/** Name of a code ("ESP_ERR_NVS_NOT_FOUND"); "UNKNOWN ERROR" for others. Never NULL. */
const char *esp_err_to_name(esp_err_t code);

/** ESP-IDF's ESP_ERROR_CHECK: on a non-zero code print where and abort (host programs only; the
 *  library itself never aborts). */
#define ESP_ERROR_CHECK(x)                                                                     \
    do {                                                                                       \
        esp_err_t esf_err_rc_ = (x);                                                           \
        if (esf_err_rc_ != ESP_OK) {                                                           \
            fprintf(stderr, "ESP_ERROR_CHECK failed: esp_err_t 0x%x (%s) at %s:%d: %s\n",      \
                    (unsigned)esf_err_rc_, esp_err_to_name(esf_err_rc_), __FILE__, __LINE__, #x); \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

/** ESP_ERROR_CHECK_WITHOUT_ABORT: evaluates to the code. */
#define ESP_ERROR_CHECK_WITHOUT_ABORT(x) (x)

#ifdef __cplusplus
}
#endif
#endif
