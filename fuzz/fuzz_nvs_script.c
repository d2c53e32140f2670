/* libFuzzer target: NVS edit scripts (esf_nvs_script_parse) applied through the runtime
 * (esf_nvs_script_apply) on a 4-page RAM flash.
 * Invariants: a parse error has a place (line and column >= 1) and keeps no operation; a parsed
 * script applies or stops with a placed error; afterwards the flash always reloads, and after a
 * successful apply every key holds the value of its last operation (a model of the script:
 * set = value, erase = absent, erase_all = namespace emptied). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/flash.h"
#include "espforge/nvs.h"
#include "espforge/nvs_page.h"
#include "espforge/nvs_script.h"

#define MAX_KEYS 64

typedef struct slot { const esf_nvs_op *op; char ns[16], key[16]; bool live; } slot;

static void model_apply(slot *m, size_t *n, const esf_nvs_op *op)
{
    for (size_t i = 0; i < *n; i++) {
        bool same_ns = !strcmp(m[i].ns, op->ns);
        if (op->kind == ESF_NVS_OP_ERASE_ALL && same_ns)
            m[i].live = false;
        if ((op->kind == ESF_NVS_OP_SET || op->kind == ESF_NVS_OP_ERASE) && same_ns &&
            !strcmp(m[i].key, op->key)) {
            m[i].live = op->kind == ESF_NVS_OP_SET;
            m[i].op = op;
            return;
        }
    }
    if (op->kind == ESF_NVS_OP_SET && *n < MAX_KEYS) {
        m[*n].op = op;
        memcpy(m[*n].ns, op->ns, 16);
        memcpy(m[*n].key, op->key, 16);
        m[(*n)++].live = true;
    }
}

static void check_slot(esf_nvs *nvs, const slot *s)
{
    esf_nvs_handle *h = NULL;
    if (esf_nvs_open(nvs, s->ns, ESF_NVS_READONLY, &h, NULL) != ESF_OK) {
        if (s->live)
            abort();
        return;
    }
    const esf_nvs_op *op = s->op;
    uint8_t type = 0;
    int rc = esf_nvs_find_key(h, s->key, &type);
    if (!s->live) {
        if (rc != ESF_ERR_NOT_FOUND)
            abort();
    } else if (op->type == ESF_NVS_TYPE_STR || op->type == ESF_NVS_TYPE_BLOB_DATA) {
        size_t len = op->len + 1;
        uint8_t *buf = malloc(len);
        rc = op->type == ESF_NVS_TYPE_STR ? esf_nvs_get_str(h, s->key, (char *)buf, &len)
                                          : esf_nvs_get_blob(h, s->key, buf, &len);
        size_t want = op->len + (op->type == ESF_NVS_TYPE_STR);
        if (rc != ESF_OK || len != want || memcmp(buf, op->data, want))
            abort();
        free(buf);
    } else {
        uint64_t raw = 0;
        if (esf_nvs_get_prim(h, s->key, op->type, &raw) != ESF_OK || raw != op->raw)
            abort();
    }
    esf_nvs_close(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    esf_nvs_script *s = NULL;
    esf_error err;
    esf_error_clear(&err);
    if (esf_nvs_script_new(&s, "fuzz.nvs", &err) != ESF_OK)
        return 0;
    int rc = esf_nvs_script_parse(s, (const char *)data, size, &err);
    if (rc != ESF_OK) {
        if (rc != ESF_ERR_NO_MEM && (err.line < 1 || err.column < 1 || !err.msg[0] ||
                                     s->count != 0))
            abort();
        esf_nvs_script_free(s);
        return 0;
    }
    esf_flash f;
    esf_part p;
    esf_nvs *nvs = NULL;
    if (esf_flash_ram_init(&f, 4 * 4096, NULL) != ESF_OK)
        abort();
    esf_part_init_whole(&p, &f, "nvs", NULL);
    if (esf_nvs_init(&nvs, &p, NULL, NULL) != ESF_OK)
        abort();
    size_t done = 0;
    rc = esf_nvs_script_apply(s, nvs, NULL, &done, &err);
    if (rc != ESF_OK && (err.line < 1 || !err.msg[0] || done >= s->count))
        abort();
    esf_nvs_deinit(nvs);
    if (esf_nvs_init(&nvs, &p, NULL, &err) != ESF_OK)  /* always a loadable NVS state */
        abort();
    if (rc == ESF_OK) {
        slot m[MAX_KEYS];
        size_t n = 0;
        for (size_t i = 0; i < s->count; i++)
            model_apply(m, &n, &s->ops[i]);
        for (size_t i = 0; i < n; i++)
            check_slot(nvs, &m[i]);
    }
    esf_nvs_deinit(nvs);
    esf_flash_close(&f);
    esf_nvs_script_free(s);
    return 0;
}
