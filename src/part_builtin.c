/* ESP-IDF's predefined partition tables, embedded as data: the CSV texts of
 * components/partition_table/partitions_*.csv from espressif/esp-idf @ 102122904ade (Apache-2.0),
 * copied byte for byte (see tests/data/README.md, "Partition tables"). Generated from those files;
 * to refresh, regenerate this table from a newer ESP-IDF checkout. */
#include <string.h>

#include "espforge/part_table.h"

typedef struct builtin_table {
    const char *name; /* short name: the file name without "partitions_" and ".csv" */
    const char *csv;
} builtin_table;

static const builtin_table tables[] = {
    { "singleapp",
      "# Name,   Type, SubType, Offset,  Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,        0x6000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "factory,  app,  factory, ,        1M,\n" },
    { "singleapp_coredump",
      "# Name,   Type, SubType, Offset,  Size\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,           ,  0x6000\n"
      "phy_init, data, phy,           ,  0x1000\n"
      "factory,  app,  factory,       ,  1M\n"
      "coredump, data, coredump,      ,  64K\n" },
    { "singleapp_encr_nvs",
      "# Name,   Type, SubType, Offset,  Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,        0x6000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "factory,  app,  factory, ,        1M,\n"
      "nvs_key,  data, nvs_keys,,        0x1000, encrypted\n" },
    { "singleapp_large",
      "# Name,   Type, SubType, Offset,  Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,        0x6000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "factory,  app,  factory, ,        1500K,\n" },
    { "singleapp_large_coredump",
      "# Name,   Type, SubType, Offset,  Size\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,           ,  0x6000\n"
      "phy_init, data, phy,           ,  0x1000\n"
      "factory,  app,  factory,       ,  1500K\n"
      "coredump, data, coredump,      ,  64K\n" },
    { "singleapp_large_encr_nvs",
      "# Name,   Type, SubType, Offset,  Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,        0x6000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "factory,  app,  factory, ,        1500K,\n"
      "nvs_key,  data, nvs_keys,,        0x1000, encrypted\n" },
    { "singleapp_tee",
      "# Name,   Type, SubType, Offset,  Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "tee,            app,   tee_0,       , 256K,\n"
      "secure_storage, data,  nvs,         , 64K,\n"
      "factory,        app,   factory,     , 1536K,\n"
      "nvs,            data,  nvs,         , 24K,\n"
      "phy_init,       data,  phy,         , 4K,\n" },
    { "two_ota",
      "# Name,   Type, SubType, Offset,   Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,        0x4000,\n"
      "otadata,  data, ota,     ,        0x2000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "factory,  app,  factory, ,        1M,\n"
      "ota_0,    app,  ota_0,   ,        1M,\n"
      "ota_1,    app,  ota_1,   ,        1M,\n" },
    { "two_ota_coredump",
      "# Name,   Type, SubType, Offset,   Size\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,         0x4000\n"
      "otadata,  data, ota,     ,         0x2000\n"
      "phy_init, data, phy,     ,         0x1000\n"
      "factory,  0,    0,       ,         1M\n"
      "coredump, data, coredump,,         64K\n"
      "ota_0,    0,    ota_0,   ,         1M\n"
      "ota_1,    0,    ota_1,   ,         1M\n" },
    { "two_ota_encr_nvs",
      "# Name,   Type, SubType, Offset,   Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,        0x4000,\n"
      "otadata,  data, ota,     ,        0x2000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "factory,  app,  factory, ,        1M,\n"
      "ota_0,    app,  ota_0,   ,        1M,\n"
      "ota_1,    app,  ota_1,   ,        1M,\n"
      "nvs_key,  data, nvs_keys,,        0x1000, encrypted\n" },
    { "two_ota_large",
      "# Name,   Type, SubType, Offset,   Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "nvs,      data, nvs,     ,        0x6000,\n"
      "otadata,  data, ota,     ,        0x2000,\n"
      "phy_init, data, phy,     ,        0x1000,\n"
      "ota_0,    app,  ota_0,   ,        1700K,\n"
      "ota_1,    app,  ota_1,   ,        1700K,\n" },
    { "two_ota_tee",
      "# Name,   Type, SubType, Offset,  Size, Flags\n"
      "# Note: if you have increased the bootloader size, make sure to update the offsets to avoid overlap\n"
      "tee_0,          app,   tee_0,       , 256K,\n"
      "tee_1,          app,   tee_1,       , 256K,\n"
      "tee_otadata,    data,  tee_ota,     , 8K,\n"
      "secure_storage, data,  nvs,         , 56K,\n"
      "ota_0,          app,   ota_0,       , 1536K,\n"
      "ota_1,          app,   ota_1,       , 1536K,\n"
      "otadata,        data,  ota,         , 8K,\n"
      "nvs,            data,  nvs,         , 24K,\n"
      "phy_init,       data,  phy,         , 4K,\n" },
};

const char *esf_part_builtin_name(size_t i)
{
    return i < sizeof tables / sizeof tables[0] ? tables[i].name : NULL;
}

const char *esf_part_builtin_csv(const char *name)
{
    if (!name)
        return NULL;
    size_t n = strlen(name);
    if (!strncmp(name, "partitions_", 11))
        name += 11, n -= 11;
    if (n >= 4 && !strcmp(name + n - 4, ".csv"))
        n -= 4;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
        if (strlen(tables[i].name) == n && !strncmp(tables[i].name, name, n))
            return tables[i].csv;
    return NULL;
}
