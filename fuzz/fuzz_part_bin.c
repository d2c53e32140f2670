/* libFuzzer target: partition-table binary. Decode (with and without MD5 checking, also as a
 * flash image), verify, render; re-encode what decoded and decode it again: the same entries;
 * for plain names, render as CSV, parse and encode: the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/part_table.h"

static void fuzz_assert(int ok) { if (!ok) abort(); }

static bool plain(const char *s)
{
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (int nomd5 = 0; nomd5 < 2; nomd5++) {
        esf_part_opts o;
        esf_part_opts_init(&o);
        o.disable_md5 = nomd5;
        esf_part_table *t = NULL, *t2 = NULL, *t3 = NULL;
        esf_error err;
        uint8_t bin[ESF_PART_TABLE_MAX_LEN], bin2[ESF_PART_TABLE_MAX_LEN];
        char *csv = NULL, *s = NULL;
        if (size > 16 && esf_part_table_decode_image(&t, data, size, 16, "img", &o, &err) == ESF_OK)
            esf_part_table_free(t);
        t = NULL;
        int rc = esf_part_table_decode(&t, data, size, "fuzz.bin", &o, &err);
        if (rc != ESF_OK) {
            fuzz_assert(t == NULL && err.code == rc && err.msg[0]);
            continue;
        }
        (void)esf_part_table_verify(t, &o, &err);
        if (esf_part_table_summary(t, NULL, &s, &err) == ESF_OK) free(s);
        if (esf_part_table_to_json(t, NULL, &s, &err) == ESF_OK) free(s);
        if (esf_part_table_encode(t, &o, bin, &err) == ESF_OK) {
            fuzz_assert(esf_part_table_decode(&t2, bin, sizeof bin, "bin", &o, &err) == ESF_OK);
            fuzz_assert(t2->count == t->count);
            bool names_plain = true;
            for (size_t i = 0; i < t->count; i++) {
                const esf_part_entry *a = &t->entries[i], *b = &t2->entries[i];
                fuzz_assert(!strcmp(a->name, b->name) && a->type == b->type && a->subtype == b->subtype &&
                            a->offset == b->offset && a->size == b->size && a->flags == b->flags);
                names_plain &= plain(a->name) && a->type != 2 && a->type != 3; /* sizes forced by the CSV parser */
            }
            fuzz_assert(esf_part_table_to_csv(t, NULL, &csv, &err) == ESF_OK);
            if (names_plain) {
                esf_part_opts o2 = o;
                /* explicit offsets must be ascending for the CSV form, as in the reference */
                rc = esf_part_csv_parse(&t3, csv, strlen(csv), "again.csv", &o2, &err);
                if (rc == ESF_OK) {
                    fuzz_assert(esf_part_table_encode(t3, &o2, bin2, &err) == ESF_OK);
                    fuzz_assert(!memcmp(bin, bin2, sizeof bin));
                } else {
                    fuzz_assert(rc == ESF_ERR_INVALID); /* only the placement rule may refuse it */
                }
            }
        }
        free(csv);
        esf_part_table_free(t);
        esf_part_table_free(t2);
        esf_part_table_free(t3);
    }
    return 0;
}
