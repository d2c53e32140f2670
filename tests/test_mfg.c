/* Mass production (esf_mfg_run): invariants the CLI tests cannot see — fresh keys decrypt to the
 * plain images, HMAC key files derive the keys files, results do not depend on the thread count,
 * devices are reported in order, the caller can stop a run, config errors are located. The
 * byte-for-byte comparisons with mfg_gen.py's outputs are in tests/cli/mfg.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "esf_test.h"
#include "espforge/io.h"
#include "espforge/mfg.h"
#include "espforge/nvs_crypt.h"

/* m03's inputs: 3 devices, two namespaces, a type=file value, REPEAT, a 1 KiB string */
#define CASE "mfg/m03_encrypted_v2"

typedef struct seen {
    uint64_t n;
    uint64_t order_errors;
    int stop_at;  /* return non-zero at this device index (-1 = never) */
} seen;

static int on_device(void *ctx, const esf_mfg_device *d)
{
    seen *s = ctx;
    if (d->index != s->n)
        s->order_errors++;
    s->n++;
    return s->stop_at >= 0 && d->index == (uint64_t)s->stop_at;
}

static void base_opts(esf_mfg_opts *o, char *conf, char *values, const char *outdir)
{
    memset(o, 0, sizeof *o);
    snprintf(conf, 1024, "%s", esf_test_path(CASE "/config.csv"));
    snprintf(values, 1024, "%s", esf_test_path(CASE "/values.csv"));
    o->conf_path = conf;
    o->values_path = values;
    o->prefix = "t";
    o->size = 0x5000;
    o->version = 2;
    o->outdir = outdir;
    o->base_dir = NULL;
    o->manifest = true;
}

static char *path_in(const char *dir, const char *rel)
{
    size_t n = strlen(dir) + strlen(rel) + 2;
    char *p = malloc(n);
    assert_non_null(p);
    snprintf(p, n, "%s/%s", dir, rel);
    return p;
}

static uint8_t *slurp(const char *dir, const char *rel, size_t *len)
{
    char *p = path_in(dir, rel);
    uint8_t *b = NULL;
    esf_error err = { 0 };
    if (esf_file_read(p, &b, len, &err) < 0)
        fail_msg("%s: %s", p, err.msg);
    free(p);
    return b;
}

/* type=file values are relative to the current directory, as in the reference */
static void enter_case(void)
{
    assert_int_equal(chdir(esf_test_path(CASE)), 0);
}

static void test_keygen_decrypts_to_plain(void **state)
{
    (void)state;
    enter_case();
    char *dir = esf_test_tmpdir(), *plain = path_in(dir, "plain"), *enc = path_in(dir, "enc");
    char conf[1024], values[1024];
    esf_mfg_opts o;
    esf_error err = { 0 };
    esf_mfg_stats st;
    base_opts(&o, conf, values, plain);
    assert_int_equal(esf_mfg_run(&o, &st, &err), ESF_OK);
    assert_int_equal(st.written, 3);
    base_opts(&o, conf, values, enc);
    o.key_mode = ESF_MFG_KEY_GEN;
    o.jobs = 3;
    if (esf_mfg_run(&o, &st, &err) != ESF_OK)
        fail_msg("%s", err.msg);
    for (int i = 1; i <= 3; i++) {
        char rel[64];
        size_t kl, el, pl;
        snprintf(rel, sizeof rel, "keys/keys-t-%d.bin", i);
        uint8_t *kf = slurp(enc, rel, &kl), key[64];
        assert_int_equal(kl, ESF_NVS_KEYS_PART_SIZE);
        assert_int_equal(esf_nvs_keys_parse(kf, kl, key, rel, &err), ESF_OK);
        snprintf(rel, sizeof rel, "bin/t-%d.bin", i);
        uint8_t *e = slurp(enc, rel, &el), *p = slurp(plain, rel, &pl);
        assert_int_equal(el, pl);
        assert_memory_not_equal(e, p, pl);
        assert_int_equal(esf_nvs_decrypt_image(e, el, key, &err), ESF_OK);
        assert_memory_equal(e, p, pl);
        free(kf);
        free(e);
        free(p);
    }
    esf_test_rmdir(dir);
    free(plain);
    free(enc);
    free(dir);
}

static void test_hmac_keygen_derives_keys(void **state)
{
    (void)state;
    enter_case();
    char *dir = esf_test_tmpdir();
    char conf[1024], values[1024];
    esf_mfg_opts o;
    esf_error err = { 0 };
    base_opts(&o, conf, values, dir);
    o.key_mode = ESF_MFG_KEY_HMAC_GEN;
    o.no_csv = true;
    if (esf_mfg_run(&o, NULL, &err) != ESF_OK)
        fail_msg("%s", err.msg);
    for (int i = 1; i <= 3; i++) {
        char rel[64];
        size_t hl, kl;
        snprintf(rel, sizeof rel, "keys/hmac-keys-t-%d.bin", i);
        uint8_t *h = slurp(dir, rel, &hl), want[64], got[64];
        assert_int_equal(hl, ESF_NVS_HMAC_KEY_LEN);
        assert_int_equal(esf_nvs_keys_from_hmac(h, hl, want, &err), ESF_OK);
        snprintf(rel, sizeof rel, "keys/keys-t-%d.bin", i);
        uint8_t *k = slurp(dir, rel, &kl);
        assert_int_equal(esf_nvs_keys_parse(k, kl, got, rel, &err), ESF_OK);
        assert_memory_equal(got, want, 64);
        free(h);
        free(k);
    }
    assert_int_equal(esf_test_count_entries(dir), 3);  /* bin, keys, manifest.csv: no csv/ */
    esf_test_rmdir(dir);
    free(dir);
}

static void test_thread_count_does_not_matter(void **state)
{
    (void)state;
    enter_case();
    char *dir = esf_test_tmpdir();
    char conf[1024], values[1024];
    uint8_t *m[3];
    size_t ml[3];
    static const unsigned jobs[3] = { 1, 2, 7 };
    for (int k = 0; k < 3; k++) {
        char sub[16];
        snprintf(sub, sizeof sub, "j%u", jobs[k]);
        char *out = path_in(dir, sub);
        esf_mfg_opts o;
        esf_error err = { 0 };
        seen s = { .stop_at = -1 };
        base_opts(&o, conf, values, out);
        o.jobs = jobs[k];
        o.cb.device = on_device;
        o.cb.ctx = &s;
        assert_int_equal(esf_mfg_run(&o, NULL, &err), ESF_OK);
        assert_int_equal(s.n, 3);
        assert_int_equal(s.order_errors, 0);
        m[k] = slurp(out, "manifest.csv", &ml[k]);
        free(out);
    }
    for (int k = 1; k < 3; k++) {
        assert_int_equal(ml[k], ml[0]);
        assert_memory_equal(m[k], m[0], ml[0]);
    }
    for (int k = 0; k < 3; k++)
        free(m[k]);
    esf_test_rmdir(dir);
    free(dir);
}

static void test_callback_stops_run(void **state)
{
    (void)state;
    enter_case();
    char *dir = esf_test_tmpdir();
    char conf[1024], values[1024];
    esf_mfg_opts o;
    esf_error err = { 0 };
    seen s = { .stop_at = 1 };
    base_opts(&o, conf, values, dir);
    o.cb.device = on_device;
    o.cb.ctx = &s;
    assert_int_equal(esf_mfg_run(&o, NULL, &err), ESF_ERR_CANCELLED);
    assert_int_equal(s.n, 2);
    char *man = path_in(dir, "manifest.csv");
    FILE *f = fopen(man, "r");
    assert_null(f);  /* the manifest of a stopped run is not committed */
    free(man);
    esf_test_rmdir(dir);
    free(dir);
}

static void test_config_error_located(void **state)
{
    (void)state;
    char *dir = esf_test_tmpdir();
    char *conf = path_in(dir, "c.csv"), *values = path_in(dir, "v.csv"), *out = path_in(dir, "out");
    const char c[] = "ns,namespace,\na,data,u8\nb,data,i16\n";
    const char v[] = "a,b\n1,2\n";
    esf_error err = { 0 };
    assert_int_equal(esf_file_write_atomic(conf, c, sizeof c - 1, &err), ESF_OK);
    assert_int_equal(esf_file_write_atomic(values, v, sizeof v - 1, &err), ESF_OK);
    esf_mfg_opts o = { .conf_path = conf, .values_path = values, .prefix = "p", .size = 0x3000,
                       .version = 2, .outdir = out, .manifest = true };
    assert_int_equal(esf_mfg_run(&o, NULL, &err), ESF_ERR_PARSE);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "i16"));
    assert_int_equal(esf_test_count_entries(dir), 2);  /* nothing written */
    esf_test_rmdir(dir);
    free(conf);
    free(values);
    free(out);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen_decrypts_to_plain),
        cmocka_unit_test(test_hmac_keygen_derives_keys),
        cmocka_unit_test(test_thread_count_does_not_matter),
        cmocka_unit_test(test_callback_stops_run),
        cmocka_unit_test(test_config_error_located),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
