/* espforge NVS runtime, load and power-loss recovery (nvs-format.md §12, with quirks Q1, Q2 and
 * Q3 fixed). Succeeds on any flash contents except a newer format version or, when writable, no
 * free page. On a read-only store every clean-up changes only the RAM mirror. */
#include <stdlib.h>
#include <string.h>

#include "espforge/nvs_crypt.h"
#include "internal/le.h"
#include "internal/nvs_store.h"

static bool all_ff(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return false;
    return true;
}

/* Pass 1: read every page into the mirror and classify it (nvs-format.md §3.2). */
static int classify(esf_nvs *s, esf_error *err)
{
    for (uint32_t p = 0; p < s->npages; p++) {
        uint8_t *m = nvs_page_mem(s, p);
        int rc = esf_part_read(&s->part, p * 4096u, m, 4096);
        if (rc != ESF_OK)
            return esf_error_at(err, rc, s->part.label, (int64_t)p * 4096, "NVS: reading page %u",
                                p);
        uint32_t state = esf_le32(m);
        nvs_pg *pg = &s->pg[p];
        *pg = (nvs_pg){.state = ESF_NVS_PAGE_CORRUPT};
        if (state == ESF_NVS_PAGE_EMPTY) {
            if (all_ff(m, 4096))
                pg->state = ESF_NVS_PAGE_EMPTY;
        } else if (esf_nvs_page_header_crc_ok(m)) {
            if (m[8] < ESF_NVS_VERSION_2)
                return esf_error_at(err, ESF_ERR_UNSUPPORTED, s->part.label, (int64_t)p * 4096 + 8,
                                    "NVS: page %u has format version byte 0x%02x (newer than 2)",
                                    p, m[8]);
            if (state == ESF_NVS_PAGE_ACTIVE || state == ESF_NVS_PAGE_FULL ||
                state == ESF_NVS_PAGE_FREEING) {
                pg->state = state;
                pg->seq = esf_le32(m + 4);
            }
        }
        if (pg->state == ESF_NVS_PAGE_EMPTY || pg->state == ESF_NVS_PAGE_CORRUPT) {
            s->freel[s->nfree++] = (uint16_t)p;
        } else {
            uint32_t k = s->nused++;  /* insertion by (seq, physical index) */
            while (k > 0 && nvs_older(s, p, s->used[k - 1])) {
                s->used[k] = s->used[k - 1];
                k--;
            }
            s->used[k] = (uint16_t)p;
        }
    }
    return ESF_OK;
}

/* Entries and bitmap of a used page: append point, stray bytes, decryption (B1/B2, C). */
static int prepare_page(esf_nvs *s, uint32_t p)
{
    nvs_pg *pg = &s->pg[p];
    int rc;
    if (pg->state == ESF_NVS_PAGE_ACTIVE) {
        /* Append point: after the last entry that is marked or holds any byte (an interrupted
         * write leaves data without its bitmap mark); unmarked entries before it become ERASED so
         * that appends only ever program erased bytes. */
        int last = -1;
        for (unsigned i = 0; i < NVS_EPP; i++)
            if (nvs_estate(s, p, i) != ESF_NVS_ENTRY_EMPTY || !all_ff(nvs_ent(s, p, i), 32))
                last = (int)i;
        pg->next_free = (uint8_t)(last + 1);
        for (unsigned i = 0; i < pg->next_free;) {  /* runs of them: one program per word */
            unsigned n = 0;
            while (i + n < pg->next_free && nvs_estate(s, p, i + n) == ESF_NVS_ENTRY_EMPTY)
                n++;
            if (n && (rc = nvs_set_states(s, p, i, n, ESF_NVS_ENTRY_ERASED, !s->ro)) != ESF_OK)
                return rc;
            i += n ? n : 1;
        }
    } else {
        pg->next_free = NVS_EPP;
    }
    pg->written = 0;
    for (unsigned i = 0; i < NVS_EPP; i++) {
        unsigned st = nvs_estate(s, p, i);
        if (st == ESF_NVS_ENTRY_ILLEGAL) {
            if ((rc = nvs_set_states(s, p, i, 1, ESF_NVS_ENTRY_ERASED, !s->ro)) != ESF_OK)
                return rc;
        } else if (st != ESF_NVS_ENTRY_EMPTY) {
            uint8_t *e = nvs_ent(s, p, i);
            pg->written += st == ESF_NVS_ENTRY_WRITTEN;
            /* decrypt written entries and erased ones that still hold a ciphertext (not
             * zero-filled by a purge), so that nvs_purge_all can recognise them */
            bool zero = true;
            for (unsigned b = 0; b < 32 && zero; b++)
                zero = e[b] == 0;
            if (s->enc && !zero && (st == ESF_NVS_ENTRY_WRITTEN || !all_ff(e, 32))) {
                uint32_t off = esf_nvs_entry_offset(p, i);
                if (esf_nvs_cipher_run(s->dec_c, off, e, e, 1, NULL) != ESF_OK)
                    return ESF_ERR_CRYPTO;
            }
        }
    }
    return ESF_OK;
}

static bool same_item_id(const uint8_t *a, const uint8_t *b)
{
    return a[0] == b[0] && a[3] == b[3] && strncmp((const char *)a + 8, (const char *)b + 8, 15) == 0;
}

/* Walk the items of a used page: drop inconsistent headers and incomplete spans, and on the ACTIVE
 * page an older item with exactly the same (ns, key, chunk) — newest wins (B3/B4 with Q1/Q2
 * fixed: the full identity is compared, never the 24-bit hash alone, and chunk indices count). */
static int walk_page(esf_nvs *s, uint32_t p)
{
    bool active = s->pg[p].state == ESF_NVS_PAGE_ACTIVE;
    uint8_t rec[NVS_EPP];
    unsigned nrec = 0;
    int rc;
    for (unsigned i = 0; i < NVS_EPP;) {
        if (nvs_estate(s, p, i) != ESF_NVS_ENTRY_WRITTEN) {
            i++;
            continue;
        }
        const uint8_t *e = nvs_ent(s, p, i);
        esf_nvs_item it;
        esf_nvs_item_decode(e, &it);
        if (esf_nvs_item_check(&it, i, NULL) != ESF_OK) {
            if ((rc = nvs_set_states(s, p, i, 1, ESF_NVS_ENTRY_ERASED, !s->ro)) != ESF_OK)
                return rc;
            i++;
            continue;
        }
        unsigned span = nvs_item_span(e);
        bool whole = true;
        for (unsigned k = 1; k < span; k++)
            if (nvs_estate(s, p, i + k) != ESF_NVS_ENTRY_WRITTEN)
                whole = false;
        /* A torn ERASED mark of stray entries (11 -> 00 cut half-way) can read back as WRITTEN
         * (10), making the complete header of an interrupted string or chunk look like a whole
         * item: its payload CRC tells. ESP-IDF checks it only when the value is read (and then the
         * broken newer copy has already replaced the old value). Checked on every page, so that a
         * damaged item copied by a GC is not dropped by a later load only (idempotent loads). */
        if (whole && span > 1 &&
            esf_nvs_crc(e + 32, esf_le16(e + 24)) != esf_le32(e + 28))
            whole = false;
        if (!whole) {
            if ((rc = nvs_set_states(s, p, i, span, ESF_NVS_ENTRY_ERASED, !s->ro)) != ESF_OK)
                return rc;
            /* the span may reach past the append point (a torn ERASED mark can read back as
             * WRITTEN on a header whose payload never landed): appends go after it */
            if (active && i + span > s->pg[p].next_free)
                s->pg[p].next_free = (uint8_t)(i + span);
            i += span;
            continue;
        }
        if (active) {
            for (unsigned r = 0; r < nrec; r++) {
                if (rec[r] == 0xFF || !same_item_id(nvs_ent(s, p, rec[r]), e))
                    continue;
                if ((rc = nvs_erase_at(s, nvs_loc(p, rec[r]), false)) != ESF_OK)
                    return rc;
                rec[r] = 0xFF;
            }
            rec[nrec++] = (uint8_t)i;
        }
        nvs_index_add(s, nvs_loc(p, i));
        i += span;
    }
    return ESF_OK;
}

static uint32_t last_item(esf_nvs *s, uint32_t p)
{
    uint32_t last = NVS_NO_LOC;
    for (unsigned i = nvs_next_item(s, p, 0); i < NVS_EPP;
         i = nvs_next_item(s, p, i + nvs_item_span(nvs_ent(s, p, i))))
        last = nvs_loc(p, i);
    return last;
}

typedef struct dup_ctx {
    uint32_t except;
    uint32_t best;
} dup_ctx;

static bool older_copy(esf_nvs *s, uint32_t loc, void *vctx)
{
    dup_ctx *c = vctx;
    uint32_t p = nvs_loc_page(loc);
    if (loc == c->except || s->pg[p].state == ESF_NVS_PAGE_FREEING)
        return false;
    if (c->best == NVS_NO_LOC || (p != nvs_loc_page(c->best) ? nvs_older(s, p, nvs_loc_page(c->best))
                                                              : loc < c->best))
        c->best = loc;
    return false;
}

/* F: the last item of the newest page may be an update whose old copy was not erased yet: erase
 * every other item with the same (ns, key, chunk), whatever its type (Q3 fixed), outside FREEING
 * pages. */
static int drop_interrupted_duplicate(esf_nvs *s)
{
    uint32_t newest = s->used[s->nused - 1];
    uint32_t last = last_item(s, newest);
    if (last == NVS_NO_LOC)
        return ESF_OK;
    const uint8_t *e = nvs_loc_ent(s, last);
    char key[16];
    nvs_entry_key(e, key);
    for (;;) {  /* normally one copy; damaged or legacy images may hold more */
        dup_ctx c = {.except = last, .best = NVS_NO_LOC};
        nvs_find_if(s, e[0], key, e[3], older_copy, &c);
        if (c.best == NVS_NO_LOC)
            return ESF_OK;
        int rc = nvs_erase_at(s, c.best, false);
        if (rc != ESF_OK)
            return rc;
    }
}

/* G: finish an interrupted garbage collection. */
static int finish_freeing(esf_nvs *s, int32_t freeing, int32_t target)
{
    int rc;
    if (target >= 0) {  /* the half-filled copy: never indexed, erase it */
        if ((rc = nvs_erase_page(s, (uint32_t)target)) != ESF_OK)
            return rc;
        nvs_used_remove(s, (uint32_t)target);
        s->freel[s->nfree++] = (uint16_t)target;
    }
    if ((rc = nvs_activate_page(s)) != ESF_OK)
        return rc;
    if ((rc = nvs_copy_items(s, (uint32_t)freeing, (uint32_t)s->cur)) != ESF_OK)
        return rc;
    if ((rc = nvs_erase_page(s, (uint32_t)freeing)) != ESF_OK)
        return rc;
    nvs_used_remove(s, (uint32_t)freeing);
    s->freel[s->nfree++] = (uint16_t)freeing;
    return ESF_OK;
}

/* I: namespace entries (every U8 item of namespace 0; Q6 not reproduced). */
static void load_namespaces(esf_nvs *s)
{
    for (uint32_t k = 0; k < s->nused; k++) {
        uint32_t p = s->used[k];
        for (unsigned i = nvs_next_item(s, p, 0); i < NVS_EPP;
             i = nvs_next_item(s, p, i + nvs_item_span(nvs_ent(s, p, i)))) {
            const uint8_t *e = nvs_ent(s, p, i);
            if (e[0] != 0 || e[1] != ESF_NVS_TYPE_U8)
                continue;
            uint8_t idx = e[24];
            s->ns_count++;
            if (idx == 0 || idx == 0xFF)
                continue;
            if (!s->ns_taken[idx]) {
                s->ns_taken[idx] = 1;
                nvs_entry_key(e, s->ns_name[idx]);
                s->ns_rank[idx] = s->ns_count;
            }
        }
    }
}

typedef struct idx_cover {
    uint8_t chunk;
    bool found;
} idx_cover;

static bool covers_chunk(esf_nvs *s, uint32_t loc, void *vctx)
{
    const uint8_t *e = nvs_loc_ent(s, loc);
    idx_cover *c = vctx;
    return e[1] == ESF_NVS_TYPE_BLOB_IDX && c->chunk >= e[29] && c->chunk < e[29] + e[28];
}

/* J: a blob index whose chunks do not add up is dropped, then every chunk no index claims. */
static int check_blobs(esf_nvs *s)
{
    int rc;
    for (uint32_t k = 0; k < s->nused; k++) {
        uint32_t p = s->used[k];
        for (unsigned i = nvs_next_item(s, p, 0); i < NVS_EPP;) {
            const uint8_t *e = nvs_ent(s, p, i);
            unsigned span = nvs_item_span(e);
            if (e[1] == ESF_NVS_TYPE_BLOB_IDX) {
                char key[16];
                nvs_entry_key(e, key);
                unsigned lo = e[29] & 0x80u, hi = lo + 0x7Fu, n = 0;
                uint64_t sum = 0;
                for (unsigned c = lo; c <= hi && c < 0xFF; c++) {
                    uint32_t cl = nvs_find(s, e[0], key, (uint8_t)c, ESF_NVS_TYPE_BLOB_DATA,
                                           NVS_NO_LOC);
                    if (cl != NVS_NO_LOC) {
                        n++;
                        sum += esf_le16(nvs_loc_ent(s, cl) + 24);
                    }
                }
                if (n != e[28] || sum != esf_le32(e + 24))
                    if ((rc = nvs_erase_at(s, nvs_loc(p, i), false)) != ESF_OK)
                        return rc;
            }
            i = nvs_next_item(s, p, i + span);
        }
    }
    for (uint32_t k = 0; k < s->nused; k++) {
        uint32_t p = s->used[k];
        for (unsigned i = nvs_next_item(s, p, 0); i < NVS_EPP;) {
            const uint8_t *e = nvs_ent(s, p, i);
            unsigned span = nvs_item_span(e);
            if (e[1] == ESF_NVS_TYPE_BLOB_DATA) {
                char key[16];
                nvs_entry_key(e, key);
                idx_cover c = {.chunk = e[3]};
                if (nvs_find_if(s, e[0], key, ESF_NVS_CHUNK_ANY, covers_chunk, &c) == NVS_NO_LOC &&
                    (rc = nvs_erase_at(s, nvs_loc(p, i), false)) != ESF_OK)
                    return rc;
            }
            i = nvs_next_item(s, p, i + span);
        }
    }
    return ESF_OK;
}

static int load(esf_nvs *s, esf_error *err);

int nvs_load(esf_nvs *s, esf_error *err)
{
    s->loading = true;
    int rc = load(s, err);
    s->loading = false;
    return rc;
}

static int load(esf_nvs *s, esf_error *err)
{
    int rc = classify(s, err);
    if (rc != ESF_OK)
        return rc;
    s->next_seq = s->nused ? s->pg[s->used[s->nused - 1]].seq + 1 : 0;

    /* An interrupted GC leaves a FREEING page; when the newest page is ACTIVE it is the partial
     * copy (the old current page was marked FULL before the GC started): ignore its contents. */
    int32_t freeing = -1, target = -1;
    for (uint32_t k = 0; k < s->nused && freeing < 0; k++)
        if (s->pg[s->used[k]].state == ESF_NVS_PAGE_FREEING)
            freeing = s->used[k];
    if (freeing >= 0 && s->pg[s->used[s->nused - 1]].state == ESF_NVS_PAGE_ACTIVE &&
        s->used[s->nused - 1] != (uint32_t)freeing)
        target = s->used[s->nused - 1];

    for (uint32_t k = 0; k < s->nused; k++) {
        uint32_t p = s->used[k];
        if ((int32_t)p == target)
            continue;
        if ((rc = prepare_page(s, p)) != ESF_OK || (rc = walk_page(s, p)) != ESF_OK)
            goto flash_error;
    }
    if (s->ro && target >= 0) {  /* read-only: the bootloader's way, ignore the partial copy */
        nvs_used_remove(s, (uint32_t)target);
        s->pg[target].state = ESF_NVS_PAGE_CORRUPT;
        target = -1;
    }

    if (s->nused == 0) {  /* D: blank (or all corrupt) partition */
        if (!s->ro && (rc = nvs_activate_page(s)) != ESF_OK && rc != ESF_ERR_NO_SPACE)
            goto flash_error;
        return ESF_OK;
    }
    s->cur = s->used[s->nused - 1];
    if (!s->ro) {
        if (target < 0 && (rc = drop_interrupted_duplicate(s)) != ESF_OK)
            goto flash_error;
        if (freeing >= 0 && (rc = finish_freeing(s, freeing, target)) != ESF_OK)
            goto flash_error;
        /* Q4: ESP-IDF finishes one FREEING page per init; the algorithm never leaves two, but a
         * damaged image may: finish them all so that the next load has nothing to do */
        for (uint32_t k = 0; freeing >= 0 && k < s->nused; k++) {
            uint32_t p = s->used[k];
            if (s->pg[p].state == ESF_NVS_PAGE_FREEING) {
                if ((rc = finish_freeing(s, (int32_t)p, -1)) != ESF_OK)
                    goto flash_error;
                k = (uint32_t)-1;  /* the used list changed: start over */
            }
        }
        if (s->nfree == 0)
            return esf_error_set(err, ESF_ERR_NO_SPACE,
                                 "NVS '%s': no free page (ESP_ERR_NVS_NO_FREE_PAGES); erase the "
                                 "partition or make it larger", s->part.label);
    }
    load_namespaces(s);
    /* J, then F again until nothing changes: dropping orphan chunks can expose another last item
     * (and F can orphan chunks), so that a second load never finds anything left to do */
    for (uint64_t before = s->erasures;; before = s->erasures) {
        if ((rc = check_blobs(s)) != ESF_OK)
            goto flash_error;
        if (s->ro || s->nused == 0 || (rc = drop_interrupted_duplicate(s)) != ESF_OK ||
            s->erasures == before)
            break;
    }
    if (rc != ESF_OK)
        goto flash_error;
    return ESF_OK;
flash_error:
    return esf_error_set(err, rc, "NVS '%s': recovery write failed (%s)", s->part.label,
                         esf_strerror(rc));
}
