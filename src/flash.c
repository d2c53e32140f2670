/* espforge layer 1: the flash device — range-checked entry points, counters, the RAM backend and
 * the fault-injecting wrapper. The file backend (an image on disk) is in flash_file.c.
 * See include/espforge/flash.h. */
#include "espforge/flash.h"

#include <stdlib.h>
#include <string.h>

#include "internal/flash_backend.h"

/* ---- entry points */

static int range_ok(const esf_flash *f, uint32_t addr, size_t len)
{
    return f && (uint64_t)addr + len <= f->size;
}

int esf_flash_read(esf_flash *f, uint32_t addr, void *buf, size_t len)
{
    if (!f || (!buf && len))
        return ESF_ERR_INVALID_ARG;
    if (!range_ok(f, addr, len))
        return ESF_ERR_RANGE;
    if (len == 0)
        return ESF_OK;
    int rc = f->read(f, addr, buf, len);
    if (rc == ESF_OK) {
        f->stats.reads++;
        f->stats.bytes_read += len;
    }
    return rc;
}

int esf_flash_program(esf_flash *f, uint32_t addr, const void *buf, size_t len)
{
    if (!f || (!buf && len))
        return ESF_ERR_INVALID_ARG;
    if (!range_ok(f, addr, len))
        return ESF_ERR_RANGE;
    if (len == 0)
        return ESF_OK;
    int rc = f->program(f, addr, buf, len);
    if (rc == ESF_OK) {
        f->stats.programs++;
        f->stats.bytes_programmed += len;
    }
    return rc;
}

int esf_flash_erase(esf_flash *f, uint32_t sector)
{
    if (!f)
        return ESF_ERR_INVALID_ARG;
    if (f->sector_size == 0 || sector >= f->size / f->sector_size)
        return ESF_ERR_RANGE;
    int rc = f->erase(f, sector);
    if (rc == ESF_OK) {
        f->stats.erases++;
        if (f->stats.sector_erases)
            f->stats.sector_erases[sector]++;
    }
    return rc;
}

int esf_flash_erase_range(esf_flash *f, uint32_t addr, uint32_t len)
{
    if (!f || f->sector_size == 0)
        return ESF_ERR_INVALID_ARG;
    if (addr % f->sector_size || len % f->sector_size)
        return ESF_ERR_INVALID_ARG;
    if (!range_ok(f, addr, len))
        return ESF_ERR_RANGE;
    for (uint32_t s = addr / f->sector_size; s < (addr + len) / f->sector_size; s++) {
        int rc = esf_flash_erase(f, s);
        if (rc != ESF_OK)
            return rc;
    }
    return ESF_OK;
}

void esf_flash_stats_reset(esf_flash *f)
{
    if (!f)
        return;
    uint32_t *per = f->stats.sector_erases;
    memset(&f->stats, 0, sizeof f->stats);
    f->stats.sector_erases = per;
    if (per && f->sector_size)
        memset(per, 0, sizeof *per * (f->size / f->sector_size));
}

void esf_flash_close(esf_flash *f)
{
    if (!f)
        return;
    if (f->close)
        f->close(f);
    free(f->stats.sector_erases);
    memset(f, 0, sizeof *f);
}

int esf_flash_setup(esf_flash *f, uint32_t size, void *ctx, esf_error *err)
{
    memset(f, 0, sizeof *f);
    f->sector_size = ESF_SECTOR_SIZE;
    f->size = size;
    f->ctx = ctx;
    f->stats.sector_erases = calloc(size / ESF_SECTOR_SIZE ? size / ESF_SECTOR_SIZE : 1,
                                    sizeof(uint32_t));
    if (!f->stats.sector_erases)
        return esf_error_set(err, ESF_ERR_NO_MEM, "flash: no memory for %u-byte counters", size);
    return ESF_OK;
}

/* ---- RAM backend */

static int ram_read(esf_flash *f, uint32_t addr, void *buf, size_t len)
{
    esf_flash_ram *r = f->ctx;
    memcpy(buf, r->data + addr, len);
    return ESF_OK;
}

static int ram_program(esf_flash *f, uint32_t addr, const void *buf, size_t len)
{
    esf_flash_ram *r = f->ctx;
    uint8_t *dst = r->data + addr;
    const uint8_t *src = buf;
    for (size_t i = 0; i < len; i++)  /* NOR: check everything before writing anything */
        if ((dst[i] & src[i]) != src[i])
            return ESF_ERR_FLASH;
    for (size_t i = 0; i < len; i++)
        dst[i] &= src[i];
    return ESF_OK;
}

static int ram_erase(esf_flash *f, uint32_t sector)
{
    esf_flash_ram *r = f->ctx;
    memset(r->data + (size_t)sector * f->sector_size, 0xFF, f->sector_size);
    return ESF_OK;
}

static void ram_close(esf_flash *f)
{
    esf_flash_ram *r = f->ctx;
    if (!r)
        return;
    free(r->data);
    free(r->path);
    free(r);
    f->ctx = NULL;
}

int esf_flash_ram_adopt(esf_flash *f, uint32_t size, uint8_t *data, char *path, esf_error *err)
{
    esf_flash_ram *r = calloc(1, sizeof *r);
    if (!r) {
        free(data);
        free(path);
        return esf_error_set(err, ESF_ERR_NO_MEM, "flash: no memory");
    }
    r->data = data;
    r->path = path;
    int rc = esf_flash_setup(f, size, r, err);
    f->read = ram_read;
    f->program = ram_program;
    f->erase = ram_erase;
    f->close = ram_close;
    if (rc != ESF_OK)
        esf_flash_close(f);
    return rc;
}

int esf_flash_ram_init_from(esf_flash *f, uint32_t size, const void *data, size_t len,
                            esf_error *err)
{
    if (!f)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "flash: NULL device");
    memset(f, 0, sizeof *f);
    if (size == 0 || size % ESF_SECTOR_SIZE)
        return esf_error_set(err, ESF_ERR_INVALID_ARG,
                             "flash: size %u is not a positive multiple of %u", size,
                             ESF_SECTOR_SIZE);
    if (len > size || (len && !data))
        return esf_error_set(err, ESF_ERR_INVALID_ARG,
                             "flash: %zu bytes of contents do not fit %u bytes", len, size);
    uint8_t *mem = malloc(size);
    if (!mem)
        return esf_error_set(err, ESF_ERR_NO_MEM, "flash: no memory for %u bytes", size);
    if (len)
        memcpy(mem, data, len);
    memset(mem + len, 0xFF, size - len);
    return esf_flash_ram_adopt(f, size, mem, NULL, err);
}

int esf_flash_ram_init(esf_flash *f, uint32_t size, esf_error *err)
{
    return esf_flash_ram_init_from(f, size, NULL, 0, err);
}

uint8_t *esf_flash_ram_data(esf_flash *f)
{
    if (!f || f->read != ram_read)
        return NULL;
    return ((esf_flash_ram *)f->ctx)->data;
}

esf_flash_ram *esf_flash_ram_ctx(esf_flash *f)
{
    return f && f->read == ram_read ? f->ctx : NULL;
}

/* ---- fault injection */

typedef struct fault_ctx {
    esf_flash *inner;
    esf_fault_plan plan;
    uint64_t ops;   /* program/erase calls seen, up to and including the cut one */
    bool tripped;
    uint64_t rng;   /* splitmix64 state */
} fault_ctx;

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* True when this call is the one that loses power (and marks the wrapper tripped). */
static bool fault_step(fault_ctx *c)
{
    if (c->tripped)
        return true;
    c->ops++;
    if (c->plan.cut_after_ops != UINT64_MAX && c->ops > c->plan.cut_after_ops) {
        c->tripped = true;
        c->rng = c->plan.seed ^ (c->ops * 0xD1B54A32D192ED03ull);
        return true;
    }
    return false;
}

static int fault_read(esf_flash *f, uint32_t addr, void *buf, size_t len)
{
    fault_ctx *c = f->ctx;
    if (c->tripped && c->plan.fail_reads_after_cut)
        return ESF_ERR_POWER_CUT;
    return esf_flash_read(c->inner, addr, buf, len);
}

static int fault_program(esf_flash *f, uint32_t addr, const void *buf, size_t len)
{
    fault_ctx *c = f->ctx;
    bool was_tripped = c->tripped;
    if (!fault_step(c))
        return esf_flash_program(c->inner, addr, buf, len);
    if (was_tripped || c->plan.tear != ESF_TEAR_RANDOM)
        return ESF_ERR_POWER_CUT;
    /* Torn: bytes [0, keep) land, byte `keep` lands partly (a random subset of its cleared
     * bits), the rest stay as they were. NOR still holds: the result only clears bits. */
    uint8_t *cur = malloc(len);
    if (!cur)
        return ESF_ERR_NO_MEM;
    if (esf_flash_read(c->inner, addr, cur, len) == ESF_OK) {
        const uint8_t *src = buf;
        size_t keep = (size_t)(splitmix64(&c->rng) % len);
        for (size_t i = 0; i < keep; i++)
            cur[i] &= src[i];
        uint8_t partial = (uint8_t)splitmix64(&c->rng);
        cur[keep] &= (uint8_t)(src[keep] | partial);
        (void)esf_flash_program(c->inner, addr, cur, len);
    }
    free(cur);
    return ESF_ERR_POWER_CUT;
}

static int fault_erase(esf_flash *f, uint32_t sector)
{
    fault_ctx *c = f->ctx;
    bool was_tripped = c->tripped;
    if (!fault_step(c))
        return esf_flash_erase(c->inner, sector);
    if (was_tripped || c->plan.tear != ESF_TEAR_RANDOM)
        return ESF_ERR_POWER_CUT;
    /* Torn: a random-length prefix reads 0xFF, the rest keeps its old bits plus random set bits.
     * Done as erase + program of the computed contents on the inner device. */
    uint32_t ss = f->sector_size;
    uint8_t *cur = malloc(ss);
    if (!cur)
        return ESF_ERR_NO_MEM;
    uint32_t base = sector * ss;
    if (esf_flash_read(c->inner, base, cur, ss) == ESF_OK) {
        uint32_t erased = (uint32_t)(splitmix64(&c->rng) % ss);
        memset(cur, 0xFF, erased);
        for (uint32_t i = erased; i < ss; i += 8) {
            uint64_t bits = splitmix64(&c->rng);
            for (uint32_t j = 0; j < 8 && i + j < ss; j++)
                cur[i + j] |= (uint8_t)(bits >> (8 * j));
        }
        if (esf_flash_erase(c->inner, sector) == ESF_OK)
            (void)esf_flash_program(c->inner, base, cur, ss);
    }
    free(cur);
    return ESF_ERR_POWER_CUT;
}

static void fault_close(esf_flash *f)
{
    free(f->ctx);
    f->ctx = NULL;
}

int esf_flash_fault_wrap(esf_flash *f, esf_flash *inner, const esf_fault_plan *plan,
                         esf_error *err)
{
    if (!f || !inner || !plan)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "flash fault wrapper: NULL argument");
    memset(f, 0, sizeof *f);
    fault_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return esf_error_set(err, ESF_ERR_NO_MEM, "flash fault wrapper: no memory");
    c->inner = inner;
    c->plan = *plan;
    int rc = esf_flash_setup(f, inner->size, c, err);
    f->sector_size = inner->sector_size;
    f->read = fault_read;
    f->program = fault_program;
    f->erase = fault_erase;
    f->close = fault_close;
    if (rc != ESF_OK)
        esf_flash_close(f);
    return rc;
}

bool esf_flash_fault_tripped(const esf_flash *f)
{
    return f && f->read == fault_read && ((const fault_ctx *)f->ctx)->tripped;
}

uint64_t esf_flash_fault_ops(const esf_flash *f)
{
    return f && f->read == fault_read ? ((const fault_ctx *)f->ctx)->ops : 0;
}

int esf_flash_fault_rearm(esf_flash *f, const esf_fault_plan *plan)
{
    if (!f || !plan || f->read != fault_read)
        return ESF_ERR_INVALID_ARG;
    fault_ctx *c = f->ctx;
    c->plan = *plan;
    c->ops = 0;
    c->tripped = false;
    return ESF_OK;
}
