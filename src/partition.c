/* espforge layer 2: a partition view, a bounds-checked window of a flash device.
 * See include/espforge/partition.h. */
#include "espforge/partition.h"

#include <string.h>

int esf_part_init(esf_part *p, esf_flash *flash, uint32_t offset, uint32_t size, const char *label,
                  esf_error *err)
{
    if (!p || !flash)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "partition view: NULL argument");
    memset(p, 0, sizeof *p);
    const char *name = label ? label : "";
    if (size == 0 || offset % ESF_SECTOR_SIZE || size % ESF_SECTOR_SIZE)
        return esf_error_set(err, ESF_ERR_INVALID_ARG,
                             "partition '%s': offset 0x%x / size 0x%x not 4096-aligned or empty",
                             name, offset, size);
    if ((uint64_t)offset + size > flash->size)
        return esf_error_set(err, ESF_ERR_RANGE,
                             "partition '%s': 0x%x + 0x%x runs past the 0x%x-byte flash", name,
                             offset, size, flash->size);
    p->flash = flash;
    p->offset = offset;
    p->size = size;
    strncpy(p->label, name, sizeof p->label - 1);
    return ESF_OK;
}

int esf_part_init_whole(esf_part *p, esf_flash *flash, const char *label, esf_error *err)
{
    if (!flash)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "partition view: NULL flash");
    return esf_part_init(p, flash, 0, flash->size, label, err);
}

static int in_view(const esf_part *p, uint32_t addr, size_t len)
{
    return p && p->flash && (uint64_t)addr + len <= p->size;
}

int esf_part_read(const esf_part *p, uint32_t addr, void *buf, size_t len)
{
    if (!in_view(p, addr, len))
        return p && p->flash ? ESF_ERR_RANGE : ESF_ERR_INVALID_ARG;
    return esf_flash_read(p->flash, p->offset + addr, buf, len);
}

int esf_part_program(const esf_part *p, uint32_t addr, const void *buf, size_t len)
{
    if (!in_view(p, addr, len))
        return p && p->flash ? ESF_ERR_RANGE : ESF_ERR_INVALID_ARG;
    if (p->flags & ESF_PART_FLAG_READONLY)
        return ESF_ERR_READ_ONLY;
    return esf_flash_program(p->flash, p->offset + addr, buf, len);
}

int esf_part_erase_sector(const esf_part *p, uint32_t sector)
{
    if (!p || !p->flash)
        return ESF_ERR_INVALID_ARG;
    if (sector >= esf_part_sectors(p))
        return ESF_ERR_RANGE;
    if (p->flags & ESF_PART_FLAG_READONLY)
        return ESF_ERR_READ_ONLY;
    return esf_flash_erase(p->flash, p->offset / ESF_SECTOR_SIZE + sector);
}

int esf_part_erase_range(const esf_part *p, uint32_t addr, uint32_t len)
{
    if (!p || !p->flash || addr % ESF_SECTOR_SIZE || len % ESF_SECTOR_SIZE)
        return ESF_ERR_INVALID_ARG;
    if (!in_view(p, addr, len))
        return ESF_ERR_RANGE;
    if (p->flags & ESF_PART_FLAG_READONLY)
        return ESF_ERR_READ_ONLY;
    for (uint32_t s = addr / ESF_SECTOR_SIZE; s < (addr + len) / ESF_SECTOR_SIZE; s++) {
        int rc = esf_part_erase_sector(p, s);
        if (rc != ESF_OK)
            return rc;
    }
    return ESF_OK;
}
