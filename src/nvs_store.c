/* espforge NVS runtime, storage core: hash index, flash writes in ESP-IDF's power-safe order,
 * page activation and garbage collection. See src/internal/nvs_store.h and nvs-runtime.md §6. */
#include <string.h>

#include "espforge/nvs_crypt.h"
#include "internal/le.h"
#include "internal/nvs_store.h"

/* ---- hash index */

/* The key normalised to 16 bytes: its bytes up to the NUL (at most 15), zeros after. */
static void key16(const char *key, size_t klen, uint8_t out[16])
{
    memset(out, 0, 16);
    memcpy(out, key, klen);
}

static uint32_t hash16(uint8_t ns, const uint8_t k[16], uint8_t chunk)
{
    uint64_t a, b;
    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    uint64_t h = (a ^ ((uint64_t)ns << 56 | (uint64_t)chunk << 48)) * 0x9E3779B97F4A7C15ull;
    h ^= (b + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (uint32_t)h ? (uint32_t)h : 1;
}

uint32_t nvs_hash(uint8_t ns, const char *key, size_t klen, uint8_t chunk)
{
    uint8_t k[16];
    key16(key, klen, k);
    return hash16(ns, k, chunk);
}

static size_t stored_klen(const uint8_t *e)
{
    size_t n = 0;
    while (n < ESF_NVS_KEY_MAX && e[8 + n])
        n++;
    return n;
}

static uint32_t entry_hash(const uint8_t *e)
{
    return nvs_hash(e[0], (const char *)e + 8, stored_klen(e), e[3]);
}

/* True when entry e has exactly this (ns, normalised key, chunk). */
static bool entry_is(const uint8_t *e, uint8_t ns, const uint8_t k[16], size_t klen, uint8_t chunk)
{
    return e[0] == ns && e[3] == chunk && memcmp(e + 8, k, klen) == 0 &&
           (klen == ESF_NVS_KEY_MAX || e[8 + klen] == 0);
}

void nvs_entry_key(const uint8_t *e, char out[16])
{
    size_t n = stored_klen(e);
    memcpy(out, e + 8, n);
    out[n] = 0;
}

void nvs_index_add(esf_nvs *s, uint32_t loc)
{
    const uint8_t *e = nvs_loc_ent(s, loc);
    size_t klen = stored_klen(e);
    uint8_t k[16];
    key16((const char *)e + 8, klen, k);
    uint32_t h = hash16(e[0], k, e[3]);
    uint32_t i = h & s->tab_mask;
    for (; s->tab[i].h; i = (i + 1) & s->tab_mask)
        if (s->loading && s->tab[i].h == h &&
            entry_is(nvs_loc_ent(s, s->tab[i].loc), e[0], k, klen, e[3]))
            s->dups = true;  /* a second live item for one key (legacy writers, interrupted
                                updates before recovery): lookups then pick the oldest */
    s->tab[i].h = h;
    s->tab[i].loc = loc;
}

void nvs_index_del(esf_nvs *s, uint32_t loc)
{
    uint32_t h = entry_hash(nvs_loc_ent(s, loc));
    uint32_t i = h & s->tab_mask;
    while (s->tab[i].h && !(s->tab[i].h == h && s->tab[i].loc == loc))
        i = (i + 1) & s->tab_mask;
    if (!s->tab[i].h)
        return;
    /* backward-shift deletion keeps probe chains intact without tombstones */
    uint32_t j = i;
    for (;;) {
        j = (j + 1) & s->tab_mask;
        if (!s->tab[j].h)
            break;
        uint32_t k = s->tab[j].h & s->tab_mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (stays)
            continue;
        s->tab[i] = s->tab[j];
        i = j;
    }
    s->tab[i].h = 0;
}

uint32_t nvs_find(esf_nvs *s, uint8_t ns, const char *key, uint8_t chunk, uint8_t type,
                  uint32_t except)
{
    size_t klen = strnlen(key, ESF_NVS_KEY_MAX);
    uint8_t k[16];
    key16(key, klen, k);
    uint32_t h = hash16(ns, k, chunk);
    uint32_t best = NVS_NO_LOC;
    for (uint32_t i = h & s->tab_mask; s->tab[i].h; i = (i + 1) & s->tab_mask) {
        if (s->tab[i].h != h)
            continue;
        uint32_t loc = s->tab[i].loc;
        const uint8_t *e = nvs_loc_ent(s, loc);
        if (loc == except || !entry_is(e, ns, k, klen, chunk))
            continue;
        if (type != ESF_NVS_TYPE_ANY && e[1] != type)
            continue;
        if (!s->dups)
            return loc;  /* one live item per key: no need to look further */
        if (best == NVS_NO_LOC)
            best = loc;
        else {
            uint32_t bp = nvs_loc_page(best), lp = nvs_loc_page(loc);
            if (lp != bp ? nvs_older(s, lp, bp) : loc < best)
                best = loc;
        }
    }
    return best;
}

uint32_t nvs_find_if(esf_nvs *s, uint8_t ns, const char *key, uint8_t chunk,
                     bool (*fn)(esf_nvs *s, uint32_t loc, void *ctx), void *ctx)
{
    size_t klen = strnlen(key, ESF_NVS_KEY_MAX);
    uint8_t k[16];
    key16(key, klen, k);
    uint32_t h = hash16(ns, k, chunk);
    for (uint32_t i = h & s->tab_mask; s->tab[i].h; i = (i + 1) & s->tab_mask) {
        if (s->tab[i].h != h)
            continue;
        if (entry_is(nvs_loc_ent(s, s->tab[i].loc), ns, k, klen, chunk) &&
            fn(s, s->tab[i].loc, ctx))
            return s->tab[i].loc;
    }
    return NVS_NO_LOC;
}

/* ---- flash writes */

static int prog(esf_nvs *s, uint32_t addr, const void *buf, size_t len)
{
    int rc = esf_part_program(&s->part, addr, buf, len);
    if (rc != ESF_OK) {
        s->broken = true;
        return rc;
    }
    s->dirty = true;
    return ESF_OK;
}

/* Program `n` entries of page p from the mirror (encrypted on the way when needed). */
static int write_entries(esf_nvs *s, uint32_t p, unsigned i, unsigned n)
{
    const uint8_t *src = nvs_ent(s, p, i);
    uint32_t addr = esf_nvs_entry_offset(p, i);
    if (s->enc) {
        if (esf_nvs_cipher_run(s->enc_c, addr, src, s->buf, n, NULL) != ESF_OK) {
            s->broken = true;
            return ESF_ERR_CRYPTO;
        }
        src = s->buf;
    }
    return prog(s, addr, src, (size_t)n * 32u);
}

static int write_bitmap(esf_nvs *s, uint32_t p, unsigned w0, unsigned w1)
{
    return prog(s, p * 4096u + 32u + 4u * w0, nvs_bitmap(s, p) + 4u * w0, 4u * (w1 - w0 + 1));
}

int nvs_set_states(esf_nvs *s, uint32_t p, unsigned i, unsigned n, unsigned state, bool persist)
{
    uint8_t *bm = nvs_bitmap(s, p);
    for (unsigned k = i; k < i + n; k++) {
        unsigned old = esf_nvs_bitmap_get(bm, k);
        if (old == ESF_NVS_ENTRY_WRITTEN && state != ESF_NVS_ENTRY_WRITTEN)
            s->pg[p].written--;
        else if (old != ESF_NVS_ENTRY_WRITTEN && state == ESF_NVS_ENTRY_WRITTEN)
            s->pg[p].written++;
        esf_nvs_bitmap_set(bm, k, state);
    }
    if (!persist || n == 0)
        return ESF_OK;
    unsigned w0 = i / 16, w1 = (i + n - 1) / 16;
    if (state == ESF_NVS_ENTRY_WRITTEN)  /* a torn write lands the item's first word first */
        return write_bitmap(s, p, w0, w1);
    /* Erasures: the words above the first entry's word, then that word, so the item's header is
     * marked last (ESP-IDF writes every word separately, highest first; a torn write of the upper
     * words leaves a header with an incomplete span, which load erases whole). */
    if (w1 > w0) {
        int rc = write_bitmap(s, p, w0 + 1, w1);
        if (rc != ESF_OK)
            return rc;
    }
    return write_bitmap(s, p, w0, w0);
}

int nvs_erase_at(esf_nvs *s, uint32_t loc, bool purge)
{
    uint32_t p = nvs_loc_page(loc);
    unsigned i = nvs_loc_entry(loc);
    uint8_t *e = nvs_ent(s, p, i);
    unsigned span = nvs_item_span(e);
    s->erasures++;
    nvs_index_del(s, loc);
    int rc = nvs_set_states(s, p, i, span, ESF_NVS_ENTRY_ERASED, !s->ro);
    if (rc != ESF_OK || !purge || s->ro)
        return rc;
    memset(e, 0, 32u * span);  /* zero-fill is raw, never encrypted */
    return prog(s, esf_nvs_entry_offset(p, i), e, 32u * span);
}

int nvs_erase_item_family(esf_nvs *s, uint32_t loc, bool purge)
{
    const uint8_t *e = nvs_loc_ent(s, loc);
    if (e[1] != ESF_NVS_TYPE_BLOB_IDX)
        return nvs_erase_at(s, loc, purge);
    uint8_t ns = e[0], start = e[29], count = e[28];
    char key[16];
    nvs_entry_key(e, key);
    int rc = nvs_erase_at(s, loc, purge);  /* the index first: the chunks become orphans */
    for (unsigned c = start; rc == ESF_OK && c < (unsigned)start + count && c < 0xFF; c++) {
        uint32_t cl;  /* every copy: a damaged image may hold a chunk twice */
        while (rc == ESF_OK &&
               (cl = nvs_find(s, ns, key, (uint8_t)c, ESF_NVS_TYPE_BLOB_DATA, NVS_NO_LOC)) !=
                   NVS_NO_LOC)
            rc = nvs_erase_at(s, cl, purge);
    }
    return rc;
}

int nvs_write_page_state(esf_nvs *s, uint32_t p, uint32_t state)
{
    uint8_t *hdr = nvs_page_mem(s, p);
    esf_nvs_page_set_state(hdr, state);
    s->pg[p].state = state;
    if (s->ro)
        return ESF_OK;
    return prog(s, p * 4096u, hdr, 4);
}

int nvs_erase_page(esf_nvs *s, uint32_t p)
{
    int rc = esf_part_erase_sector(&s->part, p);
    if (rc != ESF_OK) {
        s->broken = true;
        return rc;
    }
    s->dirty = true;
    memset(nvs_page_mem(s, p), 0xFF, 4096);
    s->pg[p] = (nvs_pg){.state = ESF_NVS_PAGE_EMPTY};
    return ESF_OK;
}

void nvs_used_remove(esf_nvs *s, uint32_t p)
{
    for (uint32_t k = 0; k < s->nused; k++)
        if (s->used[k] == p) {
            memmove(s->used + k, s->used + k + 1, (s->nused - k - 1) * sizeof *s->used);
            s->nused--;
            return;
        }
}

int nvs_activate_page(esf_nvs *s)
{
    if (s->nfree == 0)
        return ESF_ERR_NO_SPACE;
    uint32_t p = s->freel[0];
    if (s->pg[p].state == ESF_NVS_PAGE_CORRUPT) {
        int rc = nvs_erase_page(s, p);
        if (rc != ESF_OK)
            return rc;
    }
    memmove(s->freel, s->freel + 1, (s->nfree - 1) * sizeof *s->freel);
    s->nfree--;
    s->used[s->nused++] = (uint16_t)p;
    s->pg[p] = (nvs_pg){.state = ESF_NVS_PAGE_ACTIVE, .seq = s->next_seq++, .fresh = true};
    s->cur = (int32_t)p;
    return ESF_OK;
}

/* Write the header of a fresh page (ACTIVE, its seq, version 2). */
static int write_header(esf_nvs *s, uint32_t p)
{
    uint8_t *hdr = nvs_page_mem(s, p);
    esf_nvs_page_header_init(hdr, ESF_NVS_PAGE_ACTIVE, s->pg[p].seq, ESF_NVS_VERSION_2);
    s->pg[p].fresh = false;
    return prog(s, p * 4096u, hdr, 32);
}

static int dedup_page(esf_nvs *s, uint32_t p);

int nvs_copy_items(esf_nvs *s, uint32_t from, uint32_t to)
{
    unsigned j = 0;
    for (unsigned i = 0; i < NVS_EPP;) {
        if (nvs_estate(s, from, i) != ESF_NVS_ENTRY_WRITTEN) {
            i++;
            continue;
        }
        unsigned span = nvs_item_span(nvs_ent(s, from, i));
        memcpy(nvs_ent(s, to, j), nvs_ent(s, from, i), 32u * span);
        i += span;
        j += span;
    }
    if (j == 0)
        return ESF_OK;  /* nothing to copy: the new page stays blank */
    int rc = write_header(s, to);
    if (rc == ESF_OK)
        rc = write_entries(s, to, 0, j);
    if (rc == ESF_OK)
        rc = nvs_set_states(s, to, 0, j, ESF_NVS_ENTRY_WRITTEN, true);
    if (rc != ESF_OK)
        return rc;
    s->pg[to].next_free = (uint8_t)j;
    /* move the index entries over, in the same order */
    j = 0;
    for (unsigned i = 0; i < NVS_EPP;) {
        if (nvs_estate(s, from, i) != ESF_NVS_ENTRY_WRITTEN) {
            i++;
            continue;
        }
        unsigned span = nvs_item_span(nvs_ent(s, from, i));
        nvs_index_del(s, nvs_loc(from, i));
        nvs_index_add(s, nvs_loc(to, j));
        i += span;
        j += span;
    }
    return s->dups ? dedup_page(s, to) : ESF_OK;
}

/* An older item with exactly the same (ns, key, chunk) as a later one on page p is erased: the
 * ACTIVE-page rule of load (newest wins), applied when a copy brings duplicates from a FULL or
 * FREEING page (legacy images) so that the next load has nothing left to change. */
static int dedup_page(esf_nvs *s, uint32_t p)
{
    for (unsigned i = nvs_next_item(s, p, 0); i < NVS_EPP;) {
        const uint8_t *e = nvs_ent(s, p, i);
        unsigned span = nvs_item_span(e);
        for (unsigned j = nvs_next_item(s, p, i + span); j < NVS_EPP;) {
            const uint8_t *f = nvs_ent(s, p, j);
            if (f[0] == e[0] && f[3] == e[3] &&
                strncmp((const char *)f + 8, (const char *)e + 8, ESF_NVS_KEY_MAX) == 0) {
                int rc = nvs_erase_at(s, nvs_loc(p, i), false);
                if (rc != ESF_OK)
                    return rc;
                break;
            }
            j = nvs_next_item(s, p, j + nvs_item_span(f));
        }
        i = nvs_next_item(s, p, i + span);
    }
    return ESF_OK;
}

static int collect_garbage(esf_nvs *s)
{
    int32_t victim = -1;
    unsigned most = 0;
    for (uint32_t k = 0; k < s->nused; k++) {
        uint32_t p = s->used[k];
        unsigned unused = NVS_EPP - s->pg[p].written;
        if (unused > most) {
            most = unused;
            victim = (int32_t)p;
        }
    }
    if (victim < 0)
        return ESF_ERR_NO_SPACE;
    int rc = nvs_write_page_state(s, (uint32_t)victim, ESF_NVS_PAGE_FREEING);
    if (rc == ESF_OK)
        rc = nvs_activate_page(s);
    if (rc == ESF_OK)
        rc = nvs_copy_items(s, (uint32_t)victim, (uint32_t)s->cur);
    if (rc == ESF_OK)
        rc = nvs_erase_page(s, (uint32_t)victim);
    if (rc != ESF_OK)
        return rc;
    nvs_used_remove(s, (uint32_t)victim);
    s->freel[s->nfree++] = (uint16_t)victim;
    return ESF_OK;
}

int nvs_new_page(esf_nvs *s)
{
    if (s->cur >= 0 && s->pg[s->cur].state == ESF_NVS_PAGE_ACTIVE && !s->pg[s->cur].fresh) {
        int rc = nvs_write_page_state(s, (uint32_t)s->cur, ESF_NVS_PAGE_FULL);
        if (rc != ESF_OK)
            return rc;
        s->pg[s->cur].next_free = NVS_EPP;
    }
    if (s->nfree >= 2)
        return nvs_activate_page(s);
    if (s->nfree == 1)
        return collect_garbage(s);
    return ESF_ERR_STATE;
}

size_t nvs_tailroom(esf_nvs *s)
{
    if (s->cur < 0)
        return 0;
    const nvs_pg *pg = &s->pg[s->cur];
    if (pg->fresh)
        return ESF_NVS_STR_MAX;
    if (pg->state != ESF_NVS_PAGE_ACTIVE)
        return 0;
    return pg->next_free < NVS_EPP - 1 ? (size_t)(NVS_EPP - 1 - pg->next_free) * 32u : 0;
}

int nvs_append(esf_nvs *s, const uint8_t hdr[32], const void *payload, size_t size, uint32_t *loc)
{
    if (s->cur < 0)
        return NVS_PAGE_FULL;
    uint32_t p = (uint32_t)s->cur;
    nvs_pg *pg = &s->pg[p];
    unsigned span = nvs_item_span(hdr);
    if (pg->state != ESF_NVS_PAGE_ACTIVE || pg->next_free + span > NVS_EPP)
        return NVS_PAGE_FULL;
    int rc;
    if (pg->fresh && (rc = write_header(s, p)) != ESF_OK)
        return rc;
    unsigned i = pg->next_free;
    memcpy(nvs_ent(s, p, i), hdr, 32);
    if (span > 1)
        esf_nvs_payload_write(nvs_ent(s, p, i + 1), payload, size);
    /* the whole item in one program, then its bitmap words: the item counts only once marked */
    if ((rc = write_entries(s, p, i, span)) != ESF_OK)
        return rc;
    if ((rc = nvs_set_states(s, p, i, span, ESF_NVS_ENTRY_WRITTEN, true)) != ESF_OK)
        return rc;
    pg->next_free = (uint8_t)(i + span);
    nvs_index_add(s, nvs_loc(p, i));
    *loc = nvs_loc(p, i);
    return ESF_OK;
}

int nvs_append_or_new_page(esf_nvs *s, const uint8_t hdr[32], const void *payload, size_t size,
                           uint32_t *loc)
{
    int rc = nvs_append(s, hdr, payload, size, loc);
    if (rc != NVS_PAGE_FULL)
        return rc;
    if ((rc = nvs_new_page(s)) != ESF_OK)
        return rc;
    rc = nvs_append(s, hdr, payload, size, loc);
    return rc == NVS_PAGE_FULL ? ESF_ERR_NO_SPACE : rc;
}
