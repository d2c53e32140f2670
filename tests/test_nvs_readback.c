/* Real CSVs (ESP-IDF examples, ESP-Jumpstart's factory data with sample device files) generated
 * with the generator, then read back: every row's value is what the reader returns, and the
 * checker finds no error. The CSVs are parsed here independently of the generator. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esf_test.h"
#include "espforge/csv.h"
#include "espforge/nvs_check.h"
#include "espforge/nvs_gen.h"
#include "espforge/nvs_image.h"

static const struct { const char *dir, *csv; } cases[] = {
    { "nvs-real/nvsgen_nvs_data", "input.csv" },
    { "nvs-real/nvs_bootloader_nvs_data", "input.csv" },
    { "nvs-real/wifi_nvs_config_nvs_station_data", "input.csv" },
    { "nvs-read/jumpstart", "mfg_config.csv" },
};

static size_t unhex(const char *s, size_t n, uint8_t *out)
{
    size_t k = 0;
    while (n && isspace((unsigned char)*s)) s++, n--;
    while (n && isspace((unsigned char)s[n - 1])) n--;
    for (size_t i = 0; i + 1 < n; i += 2) {
        char b[3] = { s[i], s[i + 1], 0 };
        out[k++] = (uint8_t)strtoul(b, NULL, 16);
    }
    return k;
}

static void readback(void **state)
{
    (void)state;
    unsigned rows = 0;
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        char rel[256], dir[512];
        snprintf(rel, sizeof rel, "%s/%s", cases[c].dir, cases[c].csv);
        size_t len;
        char *text = (char *)esf_test_read(rel, &len);
        snprintf(dir, sizeof dir, "%s", esf_test_path(cases[c].dir));

        /* generate (native mode, file paths relative to the CSV's directory) */
        esf_nvs_gen_opts go = { .size = 0x6000, .base_dir = dir };
        esf_nvs_gen *g = NULL;
        esf_error err;
        uint8_t *image = malloc(0x6000);
        size_t ilen = 0;
        assert_int_equal(esf_nvs_gen_new(&g, &go, &err), ESF_OK);
        if (esf_nvs_gen_add_csv(g, text, len, rel, &err) != ESF_OK ||
            esf_nvs_gen_finish(g, image, &ilen, &err) != ESF_OK)
            fail_msg("%s: %s", rel, err.msg);
        esf_nvs_gen_free(g);

        esf_nvs_image *img = NULL;
        assert_int_equal(esf_nvs_image_parse(&img, image, ilen, NULL, &err), ESF_OK);
        esf_nvs_report rep = { 0 };
        assert_int_equal(esf_nvs_check(img, &rep, &err), ESF_OK);
        if (rep.errors || rep.warnings)
            fail_msg("%s: %u errors, %u warnings (%s)", rel, rep.errors, rep.warnings,
                     rep.count ? rep.items[rep.count - 1].msg : "");
        esf_nvs_report_free(&rep);

        /* every data row's value, parsed here */
        esf_csv *r = NULL;
        esf_csv_opts co = { .skip_hash_lines = true };
        esf_csv_row row;
        assert_int_equal(esf_csv_open_mem(&r, text, len, rel, &co, &err), ESF_OK);
        assert_int_equal(esf_csv_next(r, &row, &err), 1); /* header key,type,encoding,value */
        char ns[32] = "";
        size_t values = 0;
        uint8_t *want = malloc(65536);
        while (esf_csv_next(r, &row, &err) == 1) {
            if (row.nfields < 3)
                continue;
            const char *key = row.fields[0].text, *type = row.fields[1].text;
            const char *enc = row.fields[2].text;
            const char *val = row.nfields > 3 ? row.fields[3].text : "";
            size_t vlen = row.nfields > 3 ? row.fields[3].len : 0;
            if (!strcmp(type, "namespace")) {
                snprintf(ns, sizeof ns, "%s", key);
                continue;
            }
            char *content = NULL;
            if (!strcmp(type, "file")) {
                char frel[512];
                snprintf(frel, sizeof frel, "%s/%s", cases[c].dir, val);
                content = (char *)esf_test_read(frel, &vlen);
                val = content;
            }
            const esf_nvs_value *v = esf_nvs_image_find(img, ns, key);
            if (!v)
                fail_msg("%s:%u: %s:%s not read back", rel, row.line, ns, key);
            values++;
            size_t wlen;
            if (enc[0] == 'u' || enc[0] == 'i') {
                assert_int_equal(v->kind, ESF_NVS_KIND_INT);
                if (enc[0] == 'u')
                    assert_true(v->num == strtoull(val, NULL, 10));
                else
                    assert_true((int64_t)v->num == strtoll(val, NULL, 10));
            } else if (!strcmp(enc, "string")) {
                assert_int_equal(v->kind, ESF_NVS_KIND_STR);
                assert_int_equal(v->len, vlen + 1);
                assert_memory_equal(v->data, val, vlen);
                assert_int_equal(v->data[vlen], 0);
            } else {
                unsigned n, pad;
                bool sz = sscanf(enc, "blob_sz_fill(%u;0x%x)", &n, &pad) == 2;
                if (sz || sscanf(enc, "blob_fill(%u;0x%x)", &n, &pad) == 2) {
                    size_t at = 0;
                    if (sz) {
                        for (int k = 0; k < 4; k++)
                            want[at++] = (uint8_t)(vlen >> (8 * k));
                    }
                    memcpy(want + at, val, vlen);
                    memset(want + at + vlen, (int)pad, n - vlen);
                    wlen = at + n;
                } else if (!strcmp(enc, "hex2bin"))
                    wlen = unhex(val, vlen, want);
                else if (!strcmp(enc, "base64"))
                    wlen = esf_test_base64_decode(val, vlen, want);
                else {
                    assert_string_equal(enc, "binary");
                    memcpy(want, val, vlen);
                    wlen = vlen;
                }
                assert_int_equal(v->kind, ESF_NVS_KIND_BLOB);
                assert_int_equal(v->len, wlen);
                assert_memory_equal(v->data, want, wlen);
            }
            rows++;
            free(content);
        }
        /* plus the Wi-Fi entries the generator adds by itself (nvs-generator.md §5.8) */
        static const char *const extras[] = { "sta.apinfo", "sta.pmk", "sta.apsw",
                                              "ap.pmk_info" };
        for (size_t k = 0; k < ARRAY_LEN(extras); k++)
            values += esf_nvs_image_find(img, ns, extras[k]) != NULL;
        assert_int_equal(values, img->nvalues);
        esf_csv_free(r);
        free(want);
        esf_nvs_image_free(img);
        free(image);
        free(text);
    }
    print_message("real CSV rows read back: %u in %zu CSVs\n", rows, ARRAY_LEN(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = { cmocka_unit_test(readback) };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
