/* Flash layer: NOR rules, bounds, counters, fault injection and tearing, partition views. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "espforge/flash.h"
#include "espforge/partition.h"

#define SZ (4 * ESF_SECTOR_SIZE)

static void ram_init_checks(void **state)
{
    (void)state;
    esf_flash f;
    esf_error err;
    assert_int_equal(esf_flash_ram_init(&f, 0, &err), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_flash_ram_init(&f, 4095, &err), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_flash_ram_init(&f, 8192 + 1, &err), ESF_ERR_INVALID_ARG);
    esf_flash_close(&f);  /* safe on a failed init */
    assert_int_equal(esf_flash_ram_init(&f, SZ, &err), ESF_OK);
    assert_int_equal(f.size, SZ);
    assert_int_equal(f.sector_size, 4096);
    const uint8_t *d = esf_flash_ram_data(&f);
    for (size_t i = 0; i < SZ; i++)
        assert_int_equal(d[i], 0xFF);
    esf_flash_close(&f);
    esf_flash_close(&f);  /* twice: zeroed struct */
    esf_flash_close(NULL);

    uint8_t img[5000];
    memset(img, 0x5A, sizeof img);
    assert_int_equal(esf_flash_ram_init_from(&f, 4096, img, sizeof img, &err), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_flash_ram_init_from(&f, 8192, img, sizeof img, &err), ESF_OK);
    d = esf_flash_ram_data(&f);
    assert_memory_equal(d, img, sizeof img);
    for (size_t i = sizeof img; i < 8192; i++)
        assert_int_equal(d[i], 0xFF);
    esf_flash_close(&f);
}

static void nor_refusal(void **state)
{
    (void)state;
    esf_flash f;
    assert_int_equal(esf_flash_ram_init(&f, SZ, NULL), ESF_OK);
    uint8_t a[4] = {0xF0, 0xF0, 0xF0, 0xF0};
    assert_int_equal(esf_flash_program(&f, 100, a, 4), ESF_OK);
    /* clearing more bits is fine */
    uint8_t b[2] = {0x70, 0x30};
    assert_int_equal(esf_flash_program(&f, 100, b, 2), ESF_OK);
    /* a request whose LAST byte would set a 0 bit to 1: refused, and its first bytes not written */
    uint8_t c[4] = {0x00, 0x00, 0x00, 0x0F};
    assert_int_equal(esf_flash_program(&f, 100, c, 4), ESF_ERR_FLASH);
    uint8_t got[4];
    assert_int_equal(esf_flash_read(&f, 100, got, 4), ESF_OK);
    const uint8_t want[4] = {0x70, 0x30, 0xF0, 0xF0};
    assert_memory_equal(got, want, 4);
    /* rewriting the same value is allowed (no 0 -> 1) */
    assert_int_equal(esf_flash_program(&f, 100, want, 4), ESF_OK);
    /* 0xFF over 0x00 refused */
    uint8_t z = 0, ff = 0xFF;
    assert_int_equal(esf_flash_program(&f, 7, &z, 1), ESF_OK);
    assert_int_equal(esf_flash_program(&f, 7, &ff, 1), ESF_ERR_FLASH);
    assert_int_equal(esf_flash_ram_data(&f)[7], 0);
    esf_flash_close(&f);
}

static void erase_rules(void **state)
{
    (void)state;
    esf_flash f;
    assert_int_equal(esf_flash_ram_init(&f, SZ, NULL), ESF_OK);
    uint8_t *d = esf_flash_ram_data(&f);
    uint8_t zeros[64] = {0};
    for (uint32_t s = 0; s < 4; s++)
        assert_int_equal(esf_flash_program(&f, s * 4096 + 4000, zeros, 64), ESF_OK);
    assert_int_equal(esf_flash_erase(&f, 1), ESF_OK);
    for (uint32_t i = 4096; i < 8192; i++)
        assert_int_equal(d[i], 0xFF);
    assert_int_equal(d[4000], 0);       /* sector 0 untouched */
    assert_int_equal(d[2 * 4096 + 4000], 0);
    /* after erase the bytes can be programmed again */
    assert_int_equal(esf_flash_program(&f, 4096 + 4000, zeros, 64), ESF_OK);
    assert_int_equal(esf_flash_erase_range(&f, 8192, 8192), ESF_OK);
    for (uint32_t i = 8192; i < SZ; i++)
        assert_int_equal(d[i], 0xFF);
    assert_int_equal(esf_flash_erase_range(&f, 100, 4096), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_flash_erase_range(&f, 4096, 100), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_flash_erase_range(&f, 8192, 3 * 4096), ESF_ERR_RANGE);
    assert_int_equal(d[4096 + 4000], 0);  /* refused ranges erased nothing */
    esf_flash_close(&f);
}

static void bounds(void **state)
{
    (void)state;
    esf_flash f;
    uint8_t buf[16] = {0};
    assert_int_equal(esf_flash_ram_init(&f, SZ, NULL), ESF_OK);
    assert_int_equal(esf_flash_read(&f, SZ - 16, buf, 16), ESF_OK);
    assert_int_equal(esf_flash_read(&f, SZ - 15, buf, 16), ESF_ERR_RANGE);
    assert_int_equal(esf_flash_read(&f, UINT32_MAX, buf, 2), ESF_ERR_RANGE);  /* no wrap-around */
    assert_int_equal(esf_flash_program(&f, SZ - 15, buf, 16), ESF_ERR_RANGE);
    assert_int_equal(esf_flash_program(&f, UINT32_MAX - 1, buf, 16), ESF_ERR_RANGE);
    assert_int_equal(esf_flash_erase(&f, 4), ESF_ERR_RANGE);
    assert_int_equal(esf_flash_erase(&f, UINT32_MAX), ESF_ERR_RANGE);
    assert_int_equal(esf_flash_read(&f, 0, NULL, 4), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_flash_read(NULL, 0, buf, 4), ESF_ERR_INVALID_ARG);
    const uint8_t *d = esf_flash_ram_data(&f);
    for (size_t i = 0; i < SZ; i++)
        assert_int_equal(d[i], 0xFF);  /* nothing out-of-range changed anything */
    assert_int_equal(f.stats.programs + f.stats.erases, 0);
    esf_flash_close(&f);
}

static void counters(void **state)
{
    (void)state;
    esf_flash f;
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    assert_int_equal(esf_flash_ram_init(&f, SZ, NULL), ESF_OK);
    assert_int_equal(esf_flash_read(&f, 0, buf, 32), ESF_OK);
    assert_int_equal(esf_flash_read(&f, 64, buf, 8), ESF_OK);
    memset(buf, 0, sizeof buf);
    assert_int_equal(esf_flash_program(&f, 0, buf, 32), ESF_OK);
    assert_int_equal(esf_flash_program(&f, 4096, buf, 3), ESF_OK);
    uint8_t ff = 0xFF;
    assert_int_equal(esf_flash_program(&f, 0, &ff, 1), ESF_ERR_FLASH);  /* refused: not counted */
    assert_int_equal(esf_flash_erase(&f, 2), ESF_OK);
    assert_int_equal(esf_flash_erase(&f, 2), ESF_OK);
    assert_int_equal(esf_flash_erase(&f, 3), ESF_OK);
    assert_int_equal(esf_flash_erase(&f, 9), ESF_ERR_RANGE);
    assert_int_equal(f.stats.reads, 2);
    assert_int_equal(f.stats.bytes_read, 40);
    assert_int_equal(f.stats.programs, 2);
    assert_int_equal(f.stats.bytes_programmed, 35);
    assert_int_equal(f.stats.erases, 3);
    assert_int_equal(f.stats.sector_erases[0], 0);
    assert_int_equal(f.stats.sector_erases[1], 0);
    assert_int_equal(f.stats.sector_erases[2], 2);
    assert_int_equal(f.stats.sector_erases[3], 1);
    esf_flash_stats_reset(&f);
    assert_int_equal(f.stats.reads + f.stats.programs + f.stats.erases + f.stats.bytes_programmed, 0);
    assert_non_null(f.stats.sector_erases);
    assert_int_equal(f.stats.sector_erases[2], 0);
    esf_flash_close(&f);
}

/* A small workload touching programs and erases: 6 operations. */
static int workload(esf_flash *f)
{
    uint8_t buf[40];
    int rc;
    memset(buf, 0xA5, sizeof buf);
    if ((rc = esf_flash_program(f, 10, buf, sizeof buf)) != ESF_OK) return rc;
    memset(buf, 0x00, sizeof buf);
    if ((rc = esf_flash_program(f, 4096 + 5, buf, sizeof buf)) != ESF_OK) return rc;
    if ((rc = esf_flash_erase(f, 0)) != ESF_OK) return rc;
    if ((rc = esf_flash_program(f, 200, buf, 16)) != ESF_OK) return rc;
    if ((rc = esf_flash_erase(f, 1)) != ESF_OK) return rc;
    return esf_flash_program(f, 4096 + 100, buf, 32);
}

static void fault_cut_clean(void **state)
{
    (void)state;
    esf_flash ram, ref, f;
    assert_int_equal(esf_flash_ram_init(&ref, SZ, NULL), ESF_OK);
    assert_int_equal(workload(&ref), ESF_OK);
    for (uint64_t cut = 0; cut <= 6; cut++) {
        assert_int_equal(esf_flash_ram_init(&ram, SZ, NULL), ESF_OK);
        esf_fault_plan plan = {.cut_after_ops = cut, .tear = ESF_TEAR_NONE, .seed = 1};
        assert_int_equal(esf_flash_fault_wrap(&f, &ram, &plan, NULL), ESF_OK);
        int rc = workload(&f);
        assert_int_equal(rc, cut < 6 ? ESF_ERR_POWER_CUT : ESF_OK);
        assert_int_equal(esf_flash_fault_tripped(&f), cut < 6);
        assert_int_equal(esf_flash_fault_ops(&f), cut < 6 ? cut + 1 : 6);
        /* exactly `cut` operations reached the device, the cut one did nothing */
        assert_int_equal(ram.stats.programs + ram.stats.erases, cut < 6 ? cut : 6);
        /* after the cut nothing more is written, reads still work */
        uint8_t z = 0, b;
        if (cut < 6) {
            uint8_t before[SZ];
            memcpy(before, esf_flash_ram_data(&ram), SZ);
            assert_int_equal(esf_flash_program(&f, 3000, &z, 1), ESF_ERR_POWER_CUT);
            assert_int_equal(esf_flash_erase(&f, 3), ESF_ERR_POWER_CUT);
            assert_memory_equal(before, esf_flash_ram_data(&ram), SZ);
            assert_int_equal(esf_flash_fault_ops(&f), cut + 1);
        }
        assert_int_equal(esf_flash_read(&f, 0, &b, 1), ESF_OK);
        if (cut == 6)
            assert_memory_equal(esf_flash_ram_data(&ram), esf_flash_ram_data(&ref), SZ);
        esf_flash_close(&f);
        esf_flash_close(&ram);
    }
    esf_flash_close(&ref);
}

static void fault_reads_and_rearm(void **state)
{
    (void)state;
    esf_flash ram, f;
    uint8_t b = 0;
    assert_int_equal(esf_flash_ram_init(&ram, SZ, NULL), ESF_OK);
    esf_fault_plan plan = {.cut_after_ops = 0, .fail_reads_after_cut = true};
    assert_int_equal(esf_flash_fault_wrap(&f, &ram, &plan, NULL), ESF_OK);
    assert_int_equal(esf_flash_read(&f, 0, &b, 1), ESF_OK);  /* before the cut */
    assert_int_equal(esf_flash_erase(&f, 0), ESF_ERR_POWER_CUT);
    assert_int_equal(esf_flash_read(&f, 0, &b, 1), ESF_ERR_POWER_CUT);
    esf_fault_plan on = {.cut_after_ops = UINT64_MAX};
    assert_int_equal(esf_flash_fault_rearm(&f, &on), ESF_OK);
    assert_false(esf_flash_fault_tripped(&f));
    assert_int_equal(workload(&f), ESF_OK);
    assert_int_equal(esf_flash_fault_ops(&f), 6);
    assert_int_equal(esf_flash_fault_rearm(&ram, &on), ESF_ERR_INVALID_ARG);
    assert_false(esf_flash_fault_tripped(&ram));
    assert_int_equal(f.size, ram.size);
    assert_null(esf_flash_ram_data(&f));
    esf_flash_close(&f);
    esf_flash_close(&ram);
}

/* Run the workload cut at `cut` with tearing; returns the image (malloc'd). */
static uint8_t *torn_image(uint64_t cut, uint64_t seed, uint8_t fill)
{
    esf_flash ram, f;
    uint8_t *init = malloc(SZ);
    assert_non_null(init);
    memset(init, fill, SZ);
    assert_int_equal(esf_flash_ram_init_from(&ram, SZ, init, SZ, NULL), ESF_OK);
    esf_fault_plan plan = {.cut_after_ops = cut, .tear = ESF_TEAR_RANDOM, .seed = seed};
    assert_int_equal(esf_flash_fault_wrap(&f, &ram, &plan, NULL), ESF_OK);
    assert_int_equal(workload(&f), ESF_ERR_POWER_CUT);
    memcpy(init, esf_flash_ram_data(&ram), SZ);
    esf_flash_close(&f);
    esf_flash_close(&ram);
    return init;
}

static void tearing(void **state)
{
    (void)state;
    /* op 0 is a 40-byte program of 0xA5 at 10 over 0xFF */
    int differ = 0, partial_seen = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        uint8_t *a = torn_image(0, seed, 0xFF), *b = torn_image(0, seed, 0xFF);
        assert_memory_equal(a, b, SZ);  /* deterministic */
        uint8_t *c = torn_image(0, seed + 1000, 0xFF);
        differ += memcmp(a, c, SZ) != 0;
        /* a prefix of 0xA5 bytes, then one byte between (bits of 0xA5 cleared partly), then 0xFF */
        size_t i = 10;
        while (i < 50 && a[i] == 0xA5)
            i++;
        assert_true(i < 50);  /* the cut program never completes */
        assert_int_equal(a[i] & 0xA5, 0xA5);  /* only bits that 0xA5 clears are cleared */
        partial_seen += a[i] != 0xFF && a[i] != 0xA5;
        for (size_t j = i + 1; j < SZ; j++)
            assert_int_equal(a[j], 0xFF);
        for (size_t j = 0; j < 10; j++)
            assert_int_equal(a[j], 0xFF);
        free(a); free(b); free(c);
    }
    assert_true(differ > 30);
    assert_true(partial_seen > 0);

    /* op 2 erases sector 0 of an image filled with 0xE7 (a superset of 0xA5's bits, so the
     * workload's programs stay legal): random 0xFF prefix, then old bits with random bits set */
    int partial_erase = 0;
    for (uint64_t seed = 1; seed <= 20; seed++) {
        uint8_t *a = torn_image(2, seed, 0xE7), *b = torn_image(2, seed, 0xE7);
        assert_memory_equal(a, b, SZ);
        size_t i = 0;
        while (i < 4096 && a[i] == 0xFF)
            i++;
        assert_true(i < 4096);  /* not fully erased (the rest has random bits only) */
        int raised = 0, kept = 0;
        for (size_t j = i; j < 4096; j++) {
            uint8_t old = (j >= 10 && j < 50) ? 0xA5 : 0xE7;
            assert_int_equal(a[j] & old, old);  /* bits only set, never cleared */
            raised += a[j] != old;
            kept += a[j] != 0xFF;
        }
        partial_erase += raised > 0 && kept > 0;
        /* other sectors: sector 1 got its program (op 1) */
        assert_int_equal(a[4096 + 5], 0x00);
        free(a); free(b);
    }
    assert_true(partial_erase > 10);
}

static void part_view(void **state)
{
    (void)state;
    esf_flash f;
    esf_part p;
    esf_error err;
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8}, got[8];
    assert_int_equal(esf_flash_ram_init(&f, SZ, NULL), ESF_OK);
    assert_int_equal(esf_part_init(&p, &f, 100, 4096, "x", &err), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_part_init(&p, &f, 4096, 100, "x", &err), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_part_init(&p, &f, 4096, 0, "x", &err), ESF_ERR_INVALID_ARG);
    assert_int_equal(esf_part_init(&p, &f, 8192, 3 * 4096, "x", &err), ESF_ERR_RANGE);
    assert_int_equal(esf_part_init(&p, &f, 4096, 2 * 4096, "a_label_longer_than_16", &err), ESF_OK);
    assert_string_equal(p.label, "a_label_longer_t");
    assert_int_equal(esf_part_sectors(&p), 2);
    /* partition-relative addressing */
    assert_int_equal(esf_part_program(&p, 0, buf, 8), ESF_OK);
    assert_memory_equal(esf_flash_ram_data(&f) + 4096, buf, 8);
    assert_int_equal(esf_part_read(&p, 0, got, 8), ESF_OK);
    assert_memory_equal(got, buf, 8);
    /* bounds of the view, not of the flash */
    assert_int_equal(esf_part_read(&p, 8192 - 4, got, 8), ESF_ERR_RANGE);
    assert_int_equal(esf_part_program(&p, 8192 - 4, buf, 8), ESF_ERR_RANGE);
    assert_int_equal(esf_part_erase_sector(&p, 2), ESF_ERR_RANGE);
    assert_int_equal(esf_part_erase_range(&p, 4096, 8192), ESF_ERR_RANGE);
    assert_int_equal(esf_part_erase_range(&p, 1, 4096), ESF_ERR_INVALID_ARG);
    /* the NOR rule passes through */
    uint8_t ff[8];
    memset(ff, 0xFF, 8);
    assert_int_equal(esf_part_program(&p, 0, ff, 8), ESF_ERR_FLASH);
    /* read-only: programs and erases refused, nothing changes */
    p.flags |= ESF_PART_FLAG_READONLY;
    uint8_t z[8] = {0};
    assert_int_equal(esf_part_program(&p, 100, z, 8), ESF_ERR_READ_ONLY);
    assert_int_equal(esf_part_erase_sector(&p, 0), ESF_ERR_READ_ONLY);
    assert_int_equal(esf_part_erase_range(&p, 0, 8192), ESF_ERR_READ_ONLY);
    assert_int_equal(esf_part_read(&p, 0, got, 8), ESF_OK);
    assert_memory_equal(got, buf, 8);
    assert_int_equal(esf_flash_ram_data(&f)[4096 + 100], 0xFF);
    p.flags = 0;
    assert_int_equal(esf_part_erase_sector(&p, 0), ESF_OK);
    assert_int_equal(f.stats.sector_erases[1], 1);  /* view sector 0 = flash sector 1 */
    assert_int_equal(esf_part_erase_range(&p, 0, 8192), ESF_OK);
    assert_int_equal(f.stats.sector_erases[2], 1);
    assert_int_equal(esf_part_init_whole(&p, &f, NULL, &err), ESF_OK);
    assert_int_equal(p.size, SZ);
    assert_string_equal(p.label, "");
    esf_flash_close(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ram_init_checks), cmocka_unit_test(nor_refusal),
        cmocka_unit_test(erase_rules),     cmocka_unit_test(bounds),
        cmocka_unit_test(counters),        cmocka_unit_test(fault_cut_clean),
        cmocka_unit_test(fault_reads_and_rearm), cmocka_unit_test(tearing),
        cmocka_unit_test(part_view),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
