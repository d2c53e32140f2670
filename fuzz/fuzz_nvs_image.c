/* libFuzzer target: the NVS image reader, the checker and every renderer.
 * Input: the image, cut to whole pages (at least one, padded with 0xFF; at most 4, which keeps the
 * renderers fast enough for a useful exec rate); an odd
 * number of bytes past the last whole page selects decryption with a fixed key (so the seeds,
 * whole images, parse as they are). Invariants: parsing never fails on aligned input,
 * the same bytes parse to the same views, every renderer succeeds except the generator CSV, which
 * may refuse (ESF_ERR_UNSUPPORTED), and findings name valid places. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/nvs_check.h"
#include "espforge/nvs_dump.h"
#include "espforge/nvs_image.h"

static FILE *sink(void)
{
    static FILE *f;
    if (!f)
        f = fopen("/dev/null", "w");
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t key[64] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
                                     17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31,
                                     32, 33 };
    bool enc = (size % 4096) & 1;
    size_t pages = size / 4096 ? size / 4096 : 1;
    if (pages > 4)
        pages = 4;
    size_t len = pages * 4096;
    uint8_t *buf = malloc(len);
    if (!buf)
        return 0;
    memset(buf, 0xFF, len);
    memcpy(buf, data, size < len ? size : len);

    esf_nvs_image *img = NULL, *again = NULL;
    if (esf_nvs_image_parse(&img, buf, len, enc ? key : NULL, NULL) != ESF_OK)
        abort();
    if (esf_nvs_image_parse(&again, buf, len, enc ? key : NULL, NULL) != ESF_OK ||
        again->nvalues != img->nvalues || again->nitems != img->nitems || again->nns != img->nns)
        abort();
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        if (v->item >= img->nitems || (v->len && !v->data) ||
            esf_nvs_image_find(img, v->ns_name ? v->ns_name : "", v->key) == NULL) {
            if (v->ns_name)
                abort();
        }
    }
    esf_nvs_report rep = { 0 };
    if (esf_nvs_check(img, &rep, NULL) != ESF_OK)
        abort();
    for (size_t i = 0; i < rep.count; i++) {
        const esf_nvs_finding *f = &rep.items[i];
        if (f->page >= (int32_t)img->npages || f->entry >= 126 ||
            (f->entry >= 0 && f->page < 0))
            abort();
    }
    FILE *out = sink();
    if (out) {
        /* the full dumps (hundreds of KB of text per page) only on small images: they are
         * simple loops over the same model, and the exec rate matters more */
        bool full = pages <= 2;
        for (int m = ESF_NVS_TOOL_ALL; m <= ESF_NVS_TOOL_STORAGE_INFO; m++)
            if ((full || (m != ESF_NVS_TOOL_ALL && m != ESF_NVS_TOOL_WRITTEN)) &&
                esf_nvs_tool_text(out, img, (esf_nvs_tool_mode)m, m & 1, NULL) != ESF_OK)
                abort();
        if ((full && esf_nvs_tool_json(out, img, "fuzz.bin", false, NULL) != ESF_OK) ||
            esf_nvs_tool_json(out, img, "fuzz.bin", true, NULL) != ESF_OK ||
            esf_nvs_tool_check(out, img, &rep, false, NULL) != ESF_OK ||
            esf_nvs_report_print(out, &rep, 0x9000, false, NULL) != ESF_OK ||
            esf_nvs_report_print(out, &rep, 0, true, NULL) != ESF_OK)
            abort();
        esf_nvs_dump_opts o = { ESF_NVS_DUMP_TEXT, false };
        for (int f = ESF_NVS_DUMP_TEXT; f <= ESF_NVS_DUMP_CSV; f++) {
            o.format = (esf_nvs_dump_format)f;
            int rc = esf_nvs_dump(out, img, &o, NULL);
            if (rc != ESF_OK && !(f == ESF_NVS_DUMP_CSV && rc == ESF_ERR_UNSUPPORTED))
                abort();
        }
        for (size_t i = 0; i < img->nvalues; i++)
            if (esf_nvs_value_print(out, &img->values[i], i & 1, NULL) != ESF_OK)
                abort();
    }
    esf_nvs_report_free(&rep);
    esf_nvs_image_free(again);
    esf_nvs_image_free(img);
    free(buf);
    return 0;
}
