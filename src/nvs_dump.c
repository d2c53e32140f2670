/* Native renderings of NVS images: values as text/JSON, the generator CSV that regenerates an
 * image, one value, a diff of two images, and the check report. See include/espforge/nvs_dump.h;
 * the nvs_tool-compatible renderers are in nvs_tool_fmt.c. */
#include "espforge/nvs_dump.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal/le.h"
#include "internal/strbuf.h"

/* ---- native outputs */

static const char *native_type(const esf_nvs_value *v)
{
    switch (v->kind) {
    case ESF_NVS_KIND_STR: return "string";
    case ESF_NVS_KIND_BLOB: return "blob";
    case ESF_NVS_KIND_BLOB_V1: return "blob_v1";
    default: break;
    }
    switch (v->type) {
    case ESF_NVS_TYPE_U8: return "u8";
    case ESF_NVS_TYPE_I8: return "i8";
    case ESF_NVS_TYPE_U16: return "u16";
    case ESF_NVS_TYPE_I16: return "i16";
    case ESF_NVS_TYPE_U32: return "u32";
    case ESF_NVS_TYPE_I32: return "i32";
    case ESF_NVS_TYPE_U64: return "u64";
    case ESF_NVS_TYPE_FLOAT: return "float";
    case ESF_NVS_TYPE_DOUBLE: return "double";
    default: return "i64";
    }
}

static void add_value_int(esf_sb *b, const esf_nvs_value *v)
{
    esf_sb_int(b, (int64_t)v->num, !esf_nvs_type_is_signed(v->type));
}

/* FLOAT/DOUBLE value: the shortest %g text (up to 9 / 17 significant digits) that strtof /
 * strtod read back to the same bits; "nan", "inf", "-inf" for the non-finite ones. With `json`,
 * non-finite values are JSON strings (JSON has no number for them). */
static void add_value_float(esf_sb *b, const esf_nvs_value *v, bool json)
{
    bool dbl = v->type == ESF_NVS_TYPE_DOUBLE;
    double x;
    if (dbl) {
        memcpy(&x, &v->num, sizeof x);
    } else {
        uint32_t bits = (uint32_t)v->num;
        float f;
        memcpy(&f, &bits, sizeof f);
        x = f;
    }
    if (!isfinite(x)) {
        const char *t = isnan(x) ? "nan" : x < 0 ? "-inf" : "inf";
        esf_sb_addf(b, json ? "\"%s\"" : "%s", t);
        return;
    }
    char txt[40];
    for (int prec = 1; prec <= (dbl ? 17 : 9); prec++) {
        snprintf(txt, sizeof txt, "%.*g", prec, x);
        if (dbl) {
            double y = strtod(txt, NULL);
            if (!memcmp(&x, &y, sizeof x))
                break;
        } else {
            float y = strtof(txt, NULL), f = (float)x;
            if (!memcmp(&f, &y, sizeof f))
                break;
        }
    }
    esf_sb_add(b, txt);
}

static size_t str_len(const esf_nvs_value *v)
{
    return v->len > 0 && v->data[v->len - 1] == 0 ? v->len - 1 : v->len;
}

static void add_hex(esf_sb *b, const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        esf_sb_addf(b, "%02x", d[i]);
}

/* C-style quoted text for the readable dump */
static void add_quoted(esf_sb *b, const uint8_t *d, size_t n)
{
    esf_sb_add(b, "\"");
    for (size_t i = 0; i < n; i++) {
        uint8_t c = d[i];
        if (c == '"' || c == '\\')
            esf_sb_addf(b, "\\%c", c);
        else if (c == '\n')
            esf_sb_add(b, "\\n");
        else if (c == '\r')
            esf_sb_add(b, "\\r");
        else if (c == '\t')
            esf_sb_add(b, "\\t");
        else if (c < 0x20 || c == 0x7F)
            esf_sb_addf(b, "\\x%02x", c);
        else
            esf_sb_addn(b, (const char *)&c, 1);
    }
    esf_sb_add(b, "\"");
}

int esf_nvs_value_print(FILE *out, const esf_nvs_value *v, bool raw, esf_error *err)
{
    esf_sb b = { 0 };
    if (!out || !v)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_value_print: NULL argument");
    if (v->kind == ESF_NVS_KIND_INT)
        add_value_int(&b, v);
    else if (v->kind == ESF_NVS_KIND_FLOAT)
        add_value_float(&b, v, false);
    else if (v->kind == ESF_NVS_KIND_STR || raw)
        esf_sb_addn(&b, (const char *)v->data, v->kind == ESF_NVS_KIND_STR ? str_len(v) : v->len);
    else
        add_hex(&b, v->data, v->len);
    int rc = esf_sb_flush(&b, out, err);
    esf_sb_free(&b);
    return rc;
}

static unsigned image_version(const esf_nvs_image *img)
{
    bool v1 = false, v2 = false;
    for (uint32_t k = 0; k < img->norder; k++) {
        v1 |= img->pages[img->order[k]].version_byte == ESF_NVS_VERSION_1;
        v2 |= img->pages[img->order[k]].version_byte == ESF_NVS_VERSION_2;
    }
    return v1 && !v2 ? 1 : 2;
}

static void dump_text(esf_sb *b, const esf_nvs_image *img)
{
    esf_sb_addf(b, "# %u pages (%zu bytes), format version %u%s, %zu namespaces, %zu values\n",
            img->npages, img->size, image_version(img), img->encrypted ? ", decrypted" : "",
            img->nns, img->nvalues);
    int cur = -1;
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        if (v->ns != cur) {
            cur = v->ns;
            if (v->ns_name)
                esf_sb_addf(b, "%s (namespace %u)\n", v->ns_name, v->ns);
            else
                esf_sb_addf(b, "? (undefined namespace %u)\n", v->ns);
        }
        esf_sb_addf(b, "  %-15s %-7s ", v->key, native_type(v));
        if (v->kind == ESF_NVS_KIND_INT) {
            add_value_int(b, v);
        } else if (v->kind == ESF_NVS_KIND_FLOAT) {
            add_value_float(b, v, false);
        } else if (v->kind == ESF_NVS_KIND_STR) {
            add_quoted(b, v->data, str_len(v));
        } else {
            esf_sb_addf(b, "%zu bytes ", v->len);
            add_hex(b, v->data, v->len);
        }
        esf_sb_add(b, "\n");
    }
}

static void dump_json(esf_sb *b, const esf_nvs_image *img)
{
    esf_sb_addf(b, "{\n  \"pages\": %u,\n  \"size\": %zu,\n  \"version\": %u,\n  \"encrypted\": %s,\n"
               "  \"namespaces\": [",
            img->npages, img->size, image_version(img), img->encrypted ? "true" : "false");
    for (size_t i = 0; i < img->nns; i++) {
        esf_sb_addf(b, "%s\n    {\"index\": %u, \"name\": ", i ? "," : "", img->ns[i].index);
        esf_sb_json_utf8(b, (const uint8_t *)img->ns[i].name, strlen(img->ns[i].name));
        esf_sb_add(b, "}");
    }
    esf_sb_add(b, img->nns ? "\n  ],\n  \"values\": [" : "],\n  \"values\": [");
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        const esf_nvs_rec *it = &img->items[v->item];
        esf_sb_addf(b, "%s\n    {\"namespace\": ", i ? "," : "");
        if (v->ns_name)
            esf_sb_json_utf8(b, (const uint8_t *)v->ns_name, strlen(v->ns_name));
        else
            esf_sb_add(b, "null");
        esf_sb_addf(b, ", \"namespace_index\": %u, \"key\": ", v->ns);
        esf_sb_json_utf8(b, (const uint8_t *)v->key, strlen(v->key));
        esf_sb_addf(b, ", \"type\": \"%s\", \"value\": ", native_type(v));
        if (v->kind == ESF_NVS_KIND_INT) {
            add_value_int(b, v);
        } else if (v->kind == ESF_NVS_KIND_FLOAT) {
            add_value_float(b, v, true);
        } else if (v->kind == ESF_NVS_KIND_STR) {
            esf_sb_json_utf8(b, v->data, str_len(v));
        } else {
            esf_sb_json_base64(b, v->data, v->len);
            esf_sb_addf(b, ", \"encoding\": \"base64\", \"size\": %zu", v->len);
        }
        esf_sb_addf(b, ", \"page\": %u, \"entry\": %u}", it->page, it->entry);
    }
    esf_sb_add(b, img->nvalues ? "\n  ]\n}\n" : "]\n}\n");
}

/* ---- generator CSV */

static bool csv_needs_quotes(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] == ',' || d[i] == '"' || d[i] == '\n' || d[i] == '\r')
            return true;
    return n > 0 && (d[0] == ' ' || d[n - 1] == ' ');
}

static void csv_field(esf_sb *b, const uint8_t *d, size_t n)
{
    if (!csv_needs_quotes(d, n)) {
        esf_sb_addn(b, (const char *)d, n);
        return;
    }
    esf_sb_add(b, "\"");
    for (size_t i = 0; i < n; i++) {
        if (d[i] == '"')
            esf_sb_add(b, "\"");
        esf_sb_addn(b, (const char *)&d[i], 1);
    }
    esf_sb_add(b, "\"");
}

/* text a CSV cell can carry unchanged through the generator: valid UTF-8, no NUL, no CR, no
 * physical line starting with '#' (the generator drops those before parsing) */
static bool csv_text_ok(const uint8_t *d, size_t n)
{
    for (size_t i = 0; i < n;) {
        if (d[i] == 0 || d[i] == '\r' || (d[i] == '#' && (i == 0 || d[i - 1] == '\n')))
            return false;
        if (esf_utf8_next(d, n, &i) == 0xFFFD && !(i >= 3 && !memcmp(d + i - 3, "\xEF\xBF\xBD", 3)))
            return false;
    }
    return true;
}

static const esf_nvs_value *value_of_item(const esf_nvs_image *img, size_t item)
{
    for (size_t i = 0; i < img->nvalues; i++)
        if (img->values[i].item == item)
            return &img->values[i];
    return NULL;
}

/* the v2 blob value whose first chunk is the record `k` */
static const esf_nvs_value *blob_of_first_chunk(const esf_nvs_image *img, size_t k)
{
    const esf_nvs_rec *ch = &img->items[k];
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *v = &img->values[i];
        const esf_nvs_rec *ix = &img->items[v->item];
        if (v->kind == ESF_NVS_KIND_BLOB && v->ns == ch->ns && !strcmp(v->key, ch->key) &&
            ix->chunk_start == ch->chunk && ch->live)
            return v;
    }
    return NULL;
}

static bool all_eq(const uint8_t *d, size_t n, uint8_t c)
{
    for (size_t i = 0; i < n; i++)
        if (d[i] != c)
            return false;
    return true;
}

/* blob_fill / blob_sz_fill forms, so that the generator sees the literal text again (it derives
 * ap.pmk_info from the ap.ssid / ap.passwd text) */
static bool fill_form(esf_sb *b, const uint8_t *d, size_t n)
{
    if (n >= 4) {
        uint32_t l = esf_le32(d);
        if (l <= n - 4 && csv_text_ok(d + 4, l) && (l == n - 4 || all_eq(d + 4 + l, n - 4 - l,
                                                                        d[n - 1]))) {
            esf_sb_addf(b, "blob_sz_fill(%zu;0x%02x),", n - 4, l == n - 4 ? 0 : d[n - 1]);
            csv_field(b, d + 4, l);
            return true;
        }
    }
    if (n > 0) {
        size_t l = n;
        while (l > 0 && d[l - 1] == d[n - 1])
            l--;
        if (csv_text_ok(d, l)) {
            esf_sb_addf(b, "blob_fill(%zu;0x%02x),", n, d[n - 1]);
            csv_field(b, d, l);
            return true;
        }
    }
    return false;
}

static bool is_key(const esf_nvs_rec *it, const char *k) { return !strcmp(it->key, k); }

static bool wifi_injected(const esf_nvs_rec *it, const uint8_t *d, size_t n)
{
    if (is_key(it, "sta.apinfo"))
        return n == 140 && all_eq(d, n, 0xFF);
    if (is_key(it, "sta.pmk"))
        return n == 32 && all_eq(d, n, 0);
    if (is_key(it, "sta.apsw"))
        return n == 2 && all_eq(d, n, 0);
    return false;
}

static bool has_key(const esf_nvs_image *img, uint8_t ns, const char *key)
{
    for (size_t i = 0; i < img->nitems; i++)
        if (img->items[i].ns == ns && is_key(&img->items[i], key))
            return true;
    return false;
}

static int unsupported(esf_error *err, const esf_nvs_rec *it, const char *why)
{
    return esf_error_at(err, ESF_ERR_UNSUPPORTED, NULL,
                        (int64_t)esf_nvs_entry_offset(it->page, it->entry),
                        "page %u entry %u, key '%s': %s; a generator CSV cannot reproduce it",
                        it->page, it->entry, it->key, why);
}

static int dump_csv(esf_sb *b, const esf_nvs_image *img, bool base64, esf_error *err)
{
    unsigned ns_count = 0, cur = 0;
    bool sta_seen = false, sta_skipped[3] = { false };
    bool emitted[256] = { false };  /* image namespace index -> its namespace row was written */
    /* rows the reference generator's quirks are needed for (row in namespace 0, STRING, a key
     * twice), and rows only the intended semantics place right (back to an earlier namespace) */
    bool quirks = false, switch_back = false;
    esf_sb_add(b, "key,type,encoding,value\n");
    for (size_t k = 0; k < img->nitems; k++) {
        const esf_nvs_rec *it = &img->items[k];
        const uint8_t *d = it->data;
        size_t n = it->size;
        if (it->type == ESF_NVS_TYPE_BLOB_IDX ||
            (it->type == ESF_NVS_TYPE_BLOB_DATA && !blob_of_first_chunk(img, k)))
            continue; /* written with its blob's first chunk; stale chunks are not data */
        if (it->ns == 0 && it->type == ESF_NVS_TYPE_U8 && it->num > 0 && it->num < 255) {
            unsigned v = (unsigned)it->num;
            const char *name = esf_nvs_image_ns_name(img, (uint8_t)v);
            bool later = false, used = false;
            for (size_t j = k + 1; j < img->nitems; j++)
                later |= img->items[j].ns == 0 && img->items[j].type == ESF_NVS_TYPE_U8 &&
                         img->items[j].num == it->num;
            for (size_t j = 0; j < img->nitems && !used; j++)
                used = img->items[j].ns == v;
            if (emitted[v] && name && !strcmp(name, it->key))
                continue; /* its namespace row was written where its first item needed it */
            /* a namespace definition: the generator's next index (generator images), or one the
             * image's items use (a device can leave the definition after its items: GC) */
            if (!emitted[v] && ((v == ns_count + 1 && !later) || (used && name &&
                                                                  !strcmp(name, it->key)))) {
                if (!csv_text_ok((const uint8_t *)it->key, it->keylen) || it->key[0] == '#')
                    return unsupported(err, it, "namespace name not representable");
                csv_field(b, (const uint8_t *)it->key, it->keylen);
                esf_sb_add(b, ",namespace,,\n");
                cur = v;
                emitted[v] = true;
                ns_count++;
                continue;
            }
        }
        if (it->ns != cur) {
            const char *name = esf_nvs_image_ns_name(img, it->ns);
            if (it->ns == 0 || !name)
                return unsupported(err, it, "item in a namespace the CSV cannot select");
            /* back to an earlier namespace: fine for espforge's generator; the reference
             * (0.1.4 ... 0.2.0) writes such rows to the newest namespace instead */
            switch_back |= emitted[it->ns];
            ns_count += !emitted[it->ns];
            emitted[it->ns] = true;
            csv_field(b, (const uint8_t *)name, strlen(name));
            esf_sb_add(b, ",namespace,,\n");
            cur = it->ns;
        }
        if (it->type == ESF_NVS_TYPE_BLOB_DATA) {
            const esf_nvs_value *v = blob_of_first_chunk(img, k);
            d = v->data;
            n = v->len;
        }
        if (it->type == ESF_NVS_TYPE_BLOB_DATA || it->type == ESF_NVS_TYPE_BLOB) {
            static const char *const sta[3] = { "sta.apinfo", "sta.pmk", "sta.apsw" };
            bool skip = false;
            for (int s = 0; s < 3; s++)
                if (sta_seen && !sta_skipped[s] && is_key(it, sta[s]) && wifi_injected(it, d, n))
                    skip = sta_skipped[s] = true;
            if (is_key(it, "ap.pmk_info") && n == 132 && all_eq(d, 100, 0) &&
                has_key(img, it->ns, "ap.ssid") && has_key(img, it->ns, "ap.passwd") &&
                has_key(img, it->ns, "ap.authmode"))
                skip = true;
            if (skip)
                continue;
        }
        if (!csv_text_ok((const uint8_t *)it->key, it->keylen) || it->key[0] == '#' ||
            !it->keylen)
            return unsupported(err, it, "key not representable");
        csv_field(b, (const uint8_t *)it->key, it->keylen);
        quirks |= it->ns == 0 || (it->type == ESF_NVS_TYPE_STR && (n == 0 || d[n - 1] != 0));
        for (size_t j = 0; j < k && !quirks; j++)
            quirks = img->items[j].ns == it->ns && is_key(&img->items[j], it->key) &&
                     img->items[j].type != ESF_NVS_TYPE_BLOB_DATA &&
                     img->items[j].type != ESF_NVS_TYPE_BLOB_IDX;
        if (esf_nvs_type_is_prim(it->type)) {
            const esf_nvs_value *v = value_of_item(img, k);
            esf_nvs_value tmp = { .type = it->type, .num = it->num };
            if (it->type == ESF_NVS_TYPE_FLOAT || it->type == ESF_NVS_TYPE_DOUBLE)
                return unsupported(err, it, "float types have no generator encoding");
            esf_sb_addf(b, ",data,%s,", native_type(v ? v : &tmp));
            add_value_int(b, v ? v : &tmp);
        } else if (it->type == ESF_NVS_TYPE_STR) {
            bool nul = n > 0 && d[n - 1] == 0;
            if (!csv_text_ok(d, nul ? n - 1 : n))
                return unsupported(err, it, "string holds bytes a CSV cell cannot carry");
            esf_sb_add(b, nul ? ",data,string," : ",data,STRING,");
            csv_field(b, d, nul ? n - 1 : n);
        } else {
            esf_sb_add(b, ",data,");
            if (!((is_key(it, "ap.ssid") || is_key(it, "ap.passwd")) && fill_form(b, d, n))) {
                if (base64) {
                    esf_sb_add(b, "base64,");
                    esf_sb_base64(b, d, n);
                } else {
                    esf_sb_add(b, "hex2bin,");
                    add_hex(b, d, n);
                }
            }
        }
        esf_sb_add(b, "\n");
        if (is_key(it, "sta.ssid") || is_key(it, "sta.pswd"))
            sta_seen = true;
    }
    /* the header comment names the generator that rebuilds the image */
    esf_sb head = { 0 };
    unsigned version = image_version(img);
    if (switch_back && !quirks)
        esf_sb_addf(&head, "# espforge nvs dump: %u pages; regenerate with: espforge nvs gen THIS.csv "
                       "OUT.bin --size 0x%zx --version %u\n", img->npages, img->size, version);
    else
        esf_sb_addf(&head, "# espforge nvs dump: %u pages; regenerate with: espforge nvs_partition_gen "
                       "generate THIS.csv OUT.bin 0x%zx --version %u\n", img->npages, img->size,
                version);
    esf_sb_addn(&head, b->p ? b->p : "", b->len);
    head.oom |= b->oom;
    esf_sb_free(b);
    *b = head;
    return ESF_OK;
}

int esf_nvs_dump(FILE *out, const esf_nvs_image *img, const esf_nvs_dump_opts *opts,
                 esf_error *err)
{
    esf_sb b = { 0 };
    int rc = ESF_OK;
    if (!out || !img || !opts)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_dump: NULL argument");
    switch (opts->format) {
    case ESF_NVS_DUMP_TEXT: dump_text(&b, img); break;
    case ESF_NVS_DUMP_JSON: dump_json(&b, img); break;
    case ESF_NVS_DUMP_CSV: rc = dump_csv(&b, img, opts->blob_base64, err); break;
    default: rc = esf_error_set(err, ESF_ERR_INVALID_ARG, "unknown dump format %d", opts->format);
    }
    if (rc == ESF_OK)
        rc = esf_sb_flush(&b, out, err);
    esf_sb_free(&b);
    return rc;
}

/* ---- diff */

static void value_text(esf_sb *b, const esf_nvs_value *v)
{
    esf_sb_addf(b, "%s ", native_type(v));
    if (v->kind == ESF_NVS_KIND_INT)
        add_value_int(b, v);
    else if (v->kind == ESF_NVS_KIND_FLOAT)
        add_value_float(b, v, false);
    else if (v->kind == ESF_NVS_KIND_STR)
        add_quoted(b, v->data, str_len(v));
    else
        add_hex(b, v->data, v->len);
}

static bool value_equal(const esf_nvs_value *x, const esf_nvs_value *y)
{
    if (x->kind != y->kind || x->type != y->type)
        return false;
    if (x->kind == ESF_NVS_KIND_INT || x->kind == ESF_NVS_KIND_FLOAT)
        return x->num == y->num;
    return x->len == y->len && (!x->len || !memcmp(x->data, y->data, x->len));
}

static const esf_nvs_value *value_by_name(const esf_nvs_image *img, const esf_nvs_value *v)
{
    for (size_t i = 0; i < img->nvalues; i++) {
        const esf_nvs_value *w = &img->values[i];
        if (w->ns_name && v->ns_name && !strcmp(w->ns_name, v->ns_name) && !strcmp(w->key, v->key))
            return w;
    }
    return NULL;
}

int esf_nvs_diff(FILE *out, const esf_nvs_image *a, const esf_nvs_image *b, size_t *ndiff,
                 esf_error *err)
{
    esf_sb s = { 0 };
    size_t n = 0;
    if (!out || !a || !b)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_diff: NULL argument");
    for (size_t i = 0; i < a->nvalues; i++) {
        const esf_nvs_value *v = &a->values[i], *w = value_by_name(b, v);
        if (w && value_equal(v, w))
            continue;
        esf_sb_addf(&s, "%c %s:%s ", w ? '~' : '-', v->ns_name ? v->ns_name : "?", v->key);
        value_text(&s, v);
        if (w) {
            esf_sb_add(&s, " -> ");
            value_text(&s, w);
        }
        esf_sb_add(&s, "\n");
        n++;
    }
    for (size_t i = 0; i < b->nvalues; i++) {
        const esf_nvs_value *w = &b->values[i];
        if (value_by_name(a, w))
            continue;
        esf_sb_addf(&s, "+ %s:%s ", w->ns_name ? w->ns_name : "?", w->key);
        value_text(&s, w);
        esf_sb_add(&s, "\n");
        n++;
    }
    if (ndiff)
        *ndiff = n;
    int rc = esf_sb_flush(&s, out, err);
    esf_sb_free(&s);
    return rc;
}

/* ---- native check report */

static const char *sev_name(esf_nvs_severity s)
{
    return s == ESF_NVS_SEV_ERROR ? "error" : s == ESF_NVS_SEV_WARN ? "warning" : "info";
}

int esf_nvs_report_print(FILE *out, const esf_nvs_report *rep, uint64_t base, bool json,
                         esf_error *err)
{
    esf_sb b = { 0 };
    if (!out || !rep)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_report_print: NULL argument");
    if (json)
        esf_sb_addf(&b, "{\n  \"errors\": %u,\n  \"warnings\": %u,\n  \"findings\": [", rep->errors,
                rep->warnings);
    size_t shown = 0;
    for (size_t i = 0; i < rep->count; i++) {
        const esf_nvs_finding *f = &rep->items[i];
        /* info lines (page CRC OK ...) only in JSON */
        if (!json && f->severity == ESF_NVS_SEV_INFO)
            continue;
        if (json) {
            esf_sb_addf(&b, "%s\n    {\"rule\": \"%s\", \"severity\": \"%s\", \"reference\": %s, "
                        "\"page\": %d, \"entry\": %d, \"offset\": ", shown++ ? "," : "",
                    esf_nvs_rule_id(f->rule), sev_name(f->severity),
                    f->reference ? "true" : "false", f->page, f->entry);
            if (f->offset < 0)
                esf_sb_add(&b, "null");
            else
                esf_sb_addf(&b, "%" PRIu64, base + (uint64_t)f->offset);
            esf_sb_addf(&b, ", \"namespace\": %u, \"key\": ", f->ns);
            esf_sb_json_utf8(&b, (const uint8_t *)f->key, strlen(f->key));
            esf_sb_add(&b, ", \"message\": ");
            esf_sb_json_utf8(&b, (const uint8_t *)f->msg, strlen(f->msg));
            esf_sb_add(&b, "}");
            continue;
        }
        shown++;
        if (f->page < 0)
            esf_sb_add(&b, "partition: ");
        else if (f->entry < 0)
            esf_sb_addf(&b, "page %d (offset 0x%" PRIx64 "): ", f->page, base + (uint64_t)f->offset);
        else
            esf_sb_addf(&b, "page %d entry %d (offset 0x%" PRIx64 "): ", f->page, f->entry,
                    base + (uint64_t)f->offset);
        esf_sb_addf(&b, "%s: %s [%s]\n", sev_name(f->severity), f->msg, esf_nvs_rule_id(f->rule));
    }
    if (json)
        esf_sb_add(&b, shown ? "\n  ]\n}\n" : "]\n}\n");
    else
        esf_sb_addf(&b, "%u error(s), %u warning(s)\n", rep->errors, rep->warnings);
    int rc = esf_sb_flush(&b, out, err);
    esf_sb_free(&b);
    return rc;
}
