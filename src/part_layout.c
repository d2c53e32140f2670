/* Computed partition layouts in the style of MicroPython's ESP32 port (ports/esp32/partitions-*.csv):
 * NVS (+ otadata) + phy_init, the app slot(s) from the first 64 KiB boundary, and a file system
 * partition "vfs" filling the rest of the flash. Rules (docs/part.md, "part layout"):
 *  - app slot = max(1 MiB, app_size) rounded up to 64 KiB (the app alignment);
 *  - the file system must get at least a quarter of the flash, or the layout is refused
 *    (so 3 OTA slots of 1 MiB do not fit a 4 MiB flash: 0x10000 + 3 MiB leaves 960 KiB). */
#include <inttypes.h>
#include <stdio.h>

#include "espforge/part_table.h"

#define MIB 0x100000u

static uint64_t round_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

int esf_part_layout(esf_part_table **out, const esf_part_layout_opts *lo, esf_error *err)
{
    *out = NULL;
    if (!lo || lo->flash_size < MIB || lo->flash_size > 256u * MIB || lo->flash_size % 0x1000)
        return esf_error_set(err, ESF_ERR_INVALID_ARG,
                             "flash size must be a multiple of 4 KiB between 1 MB and 256 MB");
    if (lo->ota_slots != 0 && lo->ota_slots != 2 && lo->ota_slots != 3)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "OTA slots must be 0, 2 or 3, not %u", lo->ota_slots);
    uint64_t nvs = lo->nvs_size ? lo->nvs_size : lo->ota_slots ? 0x4000 : 0x6000;
    if (nvs < 0x3000 || nvs % 0x1000 || nvs > lo->flash_size)
        return esf_error_set(err, ESF_ERR_INVALID_ARG,
                             "NVS size 0x%" PRIx64 " must be a multiple of 4 KiB and at least 0x3000", nvs);
    if (lo->app_size > lo->flash_size)
        return esf_error_set(err, ESF_ERR_NO_SPACE, "app size 0x%" PRIx64 " is larger than the flash",
                             lo->app_size);
    uint64_t app = round_up(lo->app_size > MIB ? lo->app_size : MIB, 0x10000);
    int fs = lo->fs ? lo->fs : ESF_PART_SUBTYPE_DATA_FAT;
    esf_part_table *t = NULL;
    int rc = esf_part_table_new(&t, "layout", err);
    if (rc < 0)
        return rc;
    uint64_t at = ESF_PART_DEFAULT_OFFSET + ESF_PART_TABLE_SECTOR;
#define ADD(name, type, sub, size)                                                                  \
    do {                                                                                            \
        if ((rc = esf_part_table_add(t, name, type, sub, (int64_t)at, (int64_t)(size), 0, err)) < 0) \
            goto done;                                                                              \
        at += (size);                                                                               \
    } while (0)
    ADD("nvs", ESF_PART_TYPE_DATA, ESF_PART_SUBTYPE_DATA_NVS, nvs);
    if (lo->ota_slots) {
        at = round_up(at, 0x1000);
        ADD("otadata", ESF_PART_TYPE_DATA, ESF_PART_SUBTYPE_DATA_OTA, 0x2000);
    }
    ADD("phy_init", ESF_PART_TYPE_DATA, ESF_PART_SUBTYPE_DATA_PHY, 0x1000);
    at = round_up(at, 0x10000);
    unsigned slots = lo->ota_slots ? lo->ota_slots : 1;
    uint64_t apps_end = at + slots * app;
    uint64_t fs_min = fs < 0 ? 0 : lo->flash_size / 4;
    if (apps_end + fs_min > lo->flash_size) {
        rc = esf_error_set(err, ESF_ERR_NO_SPACE,
                           "%u app slot%s of 0x%" PRIx64 " bytes from 0x%" PRIx64 " end at 0x%" PRIx64
                           "%s, which does not fit a flash of 0x%" PRIx64 " bytes (short by 0x%" PRIx64 ")",
                           slots, slots > 1 ? "s" : "", app, at, apps_end,
                           fs < 0 ? "" : " and the file system needs a quarter of the flash",
                           lo->flash_size, apps_end + fs_min - lo->flash_size);
        goto done;
    }
    if (!lo->ota_slots) {
        ADD("factory", ESF_PART_TYPE_APP, ESF_PART_SUBTYPE_APP_FACTORY, app);
    } else {
        for (unsigned i = 0; i < slots; i++) {
            char name[8];
            snprintf(name, sizeof name, "ota_%u", i);
            ADD(name, ESF_PART_TYPE_APP, ESF_PART_SUBTYPE_APP_OTA_0 + (int)i, app);
        }
    }
    if (fs >= 0)
        ADD("vfs", ESF_PART_TYPE_DATA, fs, lo->flash_size - at);
#undef ADD
    *out = t;
    t = NULL;
done:
    esf_part_table_free(t);
    return rc;
}
