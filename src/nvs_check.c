/* Integrity check of an NVS image: nvs_tool's rules (in its order) plus espforge's runtime rules.
 * See include/espforge/nvs_check.h; spec nvs-generator.md §10.7, nvs-format.md §3-§12. */
#include "espforge/nvs_check.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal/le.h"

#define NENT ESF_NVS_ENTRIES_PER_PAGE

static const char *const rule_ids[ESF_NVS_R__COUNT] = {
    "size", "no-free-page", "page-empty", "empty-page-bitmap", "empty-page-data", "page-crc-ok",
    "page-crc", "written-but-empty", "erased-but-empty", "entry-crc", "data-crc", "unknown-type",
    "span-out-of-bounds", "data-state", "duplicate", "blob-orphan-chunk", "blob-missing-chunk",
    "blob-missing-data", "namespace-undefined", "namespace-unused", "page-version", "page-state",
    "empty-page-header", "page-seq-duplicate", "page-freeing", "multiple-active-pages",
    "item-inconsistent", "torn-entry", "duplicate-key", "blob-incomplete", "blob-stale-chunk",
    "namespace-duplicate", "namespace-reserved", "namespace-not-u8", "string-no-nul",
    "entry-illegal-state",
};

const char *esf_nvs_rule_id(esf_nvs_rule r)
{
    return (unsigned)r < ESF_NVS_R__COUNT ? rule_ids[r] : "unknown";
}

/* FLOAT/DOUBLE (IDF >= v6.1): primitives for the runtime, unknown to nvs_tool */
static bool is_float(uint8_t t)
{
    return t == ESF_NVS_TYPE_FLOAT || t == ESF_NVS_TYPE_DOUBLE;
}

typedef struct ctx {
    const esf_nvs_image *img;
    esf_nvs_report *rep;
    int rc;
    esf_nvs_finding sink;  /* written instead of a finding once memory ran out; never read */
} ctx;

static esf_nvs_finding *add(ctx *c, esf_nvs_rule rule, esf_nvs_severity sev, bool ref,
                            int32_t page, int32_t entry, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));

static esf_nvs_finding *add(ctx *c, esf_nvs_rule rule, esf_nvs_severity sev, bool ref,
                            int32_t page, int32_t entry, const char *fmt, ...)
{
    esf_nvs_report *r = c->rep;
    if (c->rc < 0)
        return &c->sink;
    if (r->count == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        esf_nvs_finding *n = realloc(r->items, cap * sizeof *n);
        if (!n) {
            c->rc = ESF_ERR_NO_MEM;
            return &c->sink;
        }
        r->items = n;
        r->cap = cap;
    }
    esf_nvs_finding *f = &r->items[r->count++];
    memset(f, 0, sizeof *f);
    f->rule = rule;
    f->severity = sev;
    f->reference = ref;
    f->page = page;
    f->entry = entry;
    f->offset = page < 0 ? -1
                : entry < 0 ? (int64_t)page * ESF_NVS_PAGE_SIZE
                            : (int64_t)esf_nvs_entry_offset((uint32_t)page, (unsigned)entry);
    if (page >= 0 && entry >= 0) {
        const uint8_t *e = esf_nvs_page_entry(&c->img->pages[page], (unsigned)entry);
        f->ns = e[0];
        memcpy(f->key, e + 8, 16);
        f->key[16] = '\0';
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->msg, sizeof f->msg, fmt, ap);
    va_end(ap);
    if (sev == ESF_NVS_SEV_ERROR)
        r->errors++;
    else if (sev == ESF_NVS_SEV_WARN)
        r->warnings++;
    return f;
}

/* ---- pass A: nvs_tool's rules over the raw model */

/* a Written top-level slot as nvs_tool sees it */
typedef struct tslot {
    int32_t page;
    const esf_nvs_slot *s;
    const uint8_t *e;
    uint8_t klen;  /* nvs_tool key: the 16 key bytes without trailing NULs */
} tslot;

static uint8_t tool_key_len(const uint8_t *e)
{
    uint8_t n = 16;
    while (n > 0 && e[8 + n - 1] == 0)
        n--;
    return n;
}

static bool tkey_eq(const tslot *a, const tslot *b)
{
    return a->klen == b->klen && !memcmp(a->e + 8, b->e + 8, a->klen);
}

static const char *ns_name_or(const char *const names[256], uint8_t ns)
{
    return names[ns] ? names[ns] : "undefined";
}

/* Duplicate groups in nvs_tool's order: groups by first appearance of the key text; inside a
 * group, entries colliding in namespace (known types only); then blob_index collisions, blob_data
 * collisions (same chunk), and every other-type entry of the group. */
static void check_duplicates(ctx *c, const tslot *w, size_t nw)
{
    bool *done = calloc(nw ? nw : 1, 1), *keep = calloc(nw ? nw : 1, 1);
    size_t *grp = malloc((nw ? nw : 1) * sizeof *grp);
    if (!done || !keep || !grp) {
        c->rc = ESF_ERR_NO_MEM;
        goto out;
    }
    for (size_t i = 0; i < nw; i++) {
        if (done[i])
            continue;
        size_t ng = 0;
        for (size_t j = i; j < nw; j++)
            if (!done[j] && tkey_eq(&w[i], &w[j])) {
                done[j] = true;
                if (esf_nvs_tool_type_name(w[j].e[1]))
                    grp[ng++] = j;
            }
        if (ng < 2)
            continue;
        /* step 1: same-namespace collisions */
        for (size_t a = 0; a < ng; a++)
            keep[grp[a]] = false;
        for (size_t a = 0; a < ng; a++)
            for (size_t b = 0; b < a; b++)
                if (w[grp[a]].e[0] == w[grp[b]].e[0])
                    keep[grp[a]] = keep[grp[b]] = true;
        size_t n1 = 0;
        for (size_t a = 0; a < ng; a++)
            if (keep[grp[a]])
                grp[n1++] = grp[a];
        /* step 2: blob_index / blob_data collisions; any other type is a duplicate */
        static const uint8_t pass_types[2] = { ESF_NVS_TYPE_BLOB_IDX, ESF_NVS_TYPE_BLOB_DATA };
        for (int p = 0; p < 3; p++)
            for (size_t a = 0; a < n1; a++) {
                const tslot *x = &w[grp[a]];
                bool report = false;
                if (p < 2) {
                    if (x->e[1] != pass_types[p])
                        continue;
                    for (size_t b = 0; b < n1; b++) {
                        const tslot *y = &w[grp[b]];
                        if (b != a && y->e[1] == x->e[1] && y->e[0] == x->e[0] &&
                            (p == 0 || y->e[3] == x->e[3]))
                            report = true;
                    }
                } else {
                    report = x->e[1] != ESF_NVS_TYPE_BLOB_IDX && x->e[1] != ESF_NVS_TYPE_BLOB_DATA;
                }
                if (report)
                    add(c, ESF_NVS_R_DUPLICATE, ESF_NVS_SEV_WARN, true, x->page, x->s->index,
                        "duplicate entry: key '%.*s' written more than once in namespace %u",
                        x->klen, (const char *)x->e + 8, x->e[0]);
            }
    }
out:
    free(done);
    free(keep);
    free(grp);
}

static void pass_reference(ctx *c)
{
    const esf_nvs_image *img = c->img;
    tslot *w = NULL, *idx = NULL, *chunks = NULL;
    size_t nw = 0, nidx = 0, nchunks = 0, cap = 0;
    const char *found_name[256] = { NULL };
    int32_t found_at[256][2];      /* page, entry of the (last) definition */
    int found_order[256], nfound = 0;
    bool found[256] = { false }, used[256] = { false };
    int used_order[256], nused = 0;
    int32_t used_at[256][2];
    char names[256][17];

    for (uint32_t p = 0; p < img->npages; p++)
        cap += img->pages[p].nslots;
    w = calloc(cap ? cap : 1, sizeof *w);
    idx = calloc(cap ? cap : 1, sizeof *idx);
    chunks = calloc(cap ? cap : 1, sizeof *chunks);
    if (!w || !idx || !chunks) {
        c->rc = ESF_ERR_NO_MEM;
        goto out;
    }

    if (img->npages < 3)
        add(c, ESF_NVS_R_SIZE, ESF_NVS_SEV_WARN, true, -1, -1,
            "partition has %u page(s); read/write NVS needs at least 3 (0x3000 bytes)",
            img->npages);
    bool any_empty = false;
    for (uint32_t p = 0; p < img->npages; p++)
        any_empty |= img->pages[p].status == ESF_NVS_PS_EMPTY;
    if (!any_empty)
        add(c, ESF_NVS_R_NO_FREE_PAGE, img->npages >= 3 ? ESF_NVS_SEV_ERROR : ESF_NVS_SEV_WARN,
            true, -1, -1,
            "no free (empty) page: the runtime needs one (partition possibly truncated)");

    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        if (pg->status == ESF_NVS_PS_EMPTY) {
            add(c, ESF_NVS_R_PAGE_EMPTY, ESF_NVS_SEV_INFO, true, (int32_t)p, -1, "page empty");
            bool bitmap_ff = true;
            for (unsigned b = 0; b < ESF_NVS_BITMAP_SIZE; b++)
                bitmap_ff &= pg->raw[ESF_NVS_BITMAP_OFFSET + b] == 0xFF;
            if (!bitmap_ff)
                add(c, ESF_NVS_R_EMPTY_BITMAP, ESF_NVS_SEV_ERROR, true, (int32_t)p, -1,
                    "page state is Empty but its entry state bitmap is not all 0xFF");
            bool data = false;
            for (unsigned k = 0; k < pg->nslots; k++)
                data |= !pg->slots[k].blank;
            if (data)
                add(c, ESF_NVS_R_EMPTY_DATA, ESF_NVS_SEV_ERROR, true, (int32_t)p, -1,
                    "page state is Empty but entries hold data");
        } else if (pg->crc == pg->crc_calc) {
            esf_nvs_finding *f = add(c, ESF_NVS_R_PAGE_CRC_OK, ESF_NVS_SEV_INFO, true, (int32_t)p,
                                     -1, "page seq %u header CRC OK", pg->seq);
            f->a = f->b = pg->crc;
        } else {
            esf_nvs_finding *f = add(c, ESF_NVS_R_PAGE_CRC, ESF_NVS_SEV_ERROR, true, (int32_t)p,
                                     -1, "page header CRC %08x, computed %08x", pg->crc,
                                     pg->crc_calc);
            f->a = pg->crc;
            f->b = pg->crc_calc;
        }
        for (unsigned k = 0; k < pg->nslots; k++) {
            const esf_nvs_slot *s = &pg->slots[k];
            const uint8_t *e = esf_nvs_page_entry(pg, s->index);
            int32_t pi = (int32_t)p, ei = s->index;
            bool written = s->state == ESF_NVS_ENTRY_WRITTEN;
            tslot ts = { pi, s, e, tool_key_len(e) };
            if (written)
                w[nw++] = ts;
            if (s->blank && written) {
                add(c, ESF_NVS_R_WRITTEN_EMPTY, ESF_NVS_SEV_ERROR, true, pi, ei,
                    "entry marked Written but all 0xFF");
                continue;
            }
            if (s->blank && s->state == ESF_NVS_ENTRY_ERASED)
                add(c, ESF_NVS_R_ERASED_EMPTY, ESF_NVS_SEV_WARN, true, pi, ei,
                    "entry marked Erased but all 0xFF (only Empty entries should be)");
            if (!written)
                continue;
            int klen = ts.klen;
            const char *key = (const char *)e + 8;
            unsigned span = e[2];
            if (s->crc != s->crc_calc) {
                esf_nvs_finding *f = add(c, ESF_NVS_R_ENTRY_CRC, ESF_NVS_SEV_ERROR, true, pi, ei,
                                         "item '%.*s' CRC %08x, computed %08x", klen, key,
                                         s->crc, s->crc_calc);
                f->a = s->crc;
                f->b = s->crc_calc;
            }
            if (span > 1 && s->data_crc != s->data_crc_calc) {
                esf_nvs_finding *f = add(c, ESF_NVS_R_DATA_CRC, ESF_NVS_SEV_ERROR, true, pi, ei,
                                         "item '%.*s' payload CRC %08x, computed %08x", klen,
                                         key, s->data_crc, s->data_crc_calc);
                f->a = s->data_crc;
                f->b = s->data_crc_calc;
            }
            if (is_float(e[1]))  /* valid for the runtime; only nvs_tool does not know it */
                add(c, ESF_NVS_R_TYPE_UNKNOWN, ESF_NVS_SEV_INFO, true, pi, ei,
                    "item '%.*s' has type 0x%02x (%s, ESP-IDF >= v6.1; v5.4 to v6.0 erase it, "
                    "nvs_tool does not know it)", klen, key, e[1], esf_nvs_type_name(e[1]))->a = e[1];
            else if (!esf_nvs_tool_type_name(e[1]))
                add(c, ESF_NVS_R_TYPE_UNKNOWN, ESF_NVS_SEV_WARN, true, pi, ei,
                    "item '%.*s' has an unrecognized type 0x%02x", klen, key, e[1])->a = e[1];
            if (s->index + span - 1 >= NENT && span > 0) {
                add(c, ESF_NVS_R_SPAN_OOB, ESF_NVS_SEV_ERROR, true, pi, ei,
                    "item '%.*s' span %u runs past the page end", klen, key, span);
            } else if (span > 1) {
                for (unsigned ch = 0; ch < s->nchild; ch++) {
                    uint8_t st = pg->states[s->index + 1 + ch];
                    if (st == s->state)
                        continue;
                    esf_nvs_finding *f = add(c, ESF_NVS_R_CHILD_STATE, ESF_NVS_SEV_ERROR, true, pi,
                                             ei, "item '%.*s' is Written but its payload entry "
                                             "#%03u is %s", klen, key, s->index + 1 + ch,
                                             esf_nvs_state_name(st));
                    f->a = s->index + 1 + ch;
                    f->b = st;
                }
            }
            if (e[1] == ESF_NVS_TYPE_BLOB_IDX) {
                size_t j = 0;
                while (j < nidx && !(idx[j].e[0] == e[0] && tkey_eq(&idx[j], &ts)))
                    j++;
                idx[j] = ts;  /* the last index of a key replaces earlier ones, keeps its place */
                if (j == nidx)
                    nidx++;
            } else if (e[1] == ESF_NVS_TYPE_BLOB_DATA) {
                chunks[nchunks++] = ts;
            }
            if (e[0] == 0) {
                if (!esf_nvs_type_is_prim(e[1]) || e[1] == ESF_NVS_TYPE_FLOAT ||
                    e[1] == ESF_NVS_TYPE_DOUBLE)
                    continue; /* the reference crashes on these; not a namespace definition */
                esf_nvs_item it;
                esf_nvs_item_decode(e, &it);
                int64_t v = esf_nvs_item_prim_i(&it);
                if (v < 0 || v > 255)
                    continue;
                if (!found[v]) {
                    found[v] = true;
                    found_order[nfound++] = (int)v;
                }
                snprintf(names[v], sizeof names[v], "%.*s", klen, key);
                found_name[v] = names[v];
                found_at[v][0] = pi;
                found_at[v][1] = ei;
            } else if (!used[e[0]]) {
                used[e[0]] = true;
                used_order[nused++] = e[0];
                used_at[e[0]][0] = pi;
                used_at[e[0]][1] = ei;
            }
        }
    }
    check_duplicates(c, w, nw);

    /* blobs: chunks to their index's slots */
    size_t nslot_total = 0;
    for (size_t j = 0; j < nidx; j++)
        nslot_total += idx[j].e[28];
    const tslot **slot = calloc(nslot_total ? nslot_total : 1, sizeof *slot);
    size_t *base = calloc(nidx ? nidx : 1, sizeof *base);
    if (!slot || !base) {
        free(slot);
        free(base);
        c->rc = ESF_ERR_NO_MEM;
        goto out;
    }
    for (size_t j = 1; j < nidx; j++)
        base[j] = base[j - 1] + idx[j - 1].e[28];
    for (size_t k = 0; k < nchunks; k++) {
        const tslot *ch = &chunks[k];
        size_t j = 0;
        while (j < nidx && !(idx[j].e[0] == ch->e[0] && tkey_eq(&idx[j], ch)))
            j++;
        int rel = j < nidx ? (int)ch->e[3] - (int)idx[j].e[29] : -1;
        if (j == nidx || rel < 0 || rel >= idx[j].e[28]) {
            esf_nvs_finding *f = add(c, ESF_NVS_R_BLOB_ORPHAN,
                                     j == nidx ? ESF_NVS_SEV_ERROR : ESF_NVS_SEV_WARN, true,
                                     ch->page, ch->s->index,
                                     "blob chunk '%.*s' (namespace %u [%s], chunk %u) has no "
                                     "%sblob index", ch->klen, (const char *)ch->e + 8,
                                     ch->e[0], ns_name_or(found_name, ch->e[0]), ch->e[3],
                                     j == nidx ? "" : "matching ");
            f->a = ch->e[3];
            continue;
        }
        slot[base[j] + (size_t)rel] = ch;
    }
    for (size_t j = 0; j < nidx; j++) {
        const tslot *ix = &idx[j];
        int64_t left = (int64_t)esf_le32(ix->e + 24);
        for (unsigned k = 0; k < ix->e[28]; k++) {
            const tslot *ch = slot[base[j] + k];
            if (ch) {
                left -= 32 * (int64_t)ch->s->nchild;
                continue;
            }
            add(c, ESF_NVS_R_BLOB_MISSING_CHUNK, ESF_NVS_SEV_ERROR, true, ix->page, ix->s->index,
                "blob '%.*s' (namespace %u [%s]) is missing chunk %u", ix->klen,
                (const char *)ix->e + 8, ix->e[0], ns_name_or(found_name, ix->e[0]), k)->a = k;
        }
        if (left > 0)
            add(c, ESF_NVS_R_BLOB_MISSING_DATA, ESF_NVS_SEV_ERROR, true, ix->page, ix->s->index,
                "blob '%.*s' (namespace %u) is missing %lld bytes of data", ix->klen,
                (const char *)ix->e + 8, ix->e[0], (long long)left)->a = (uint32_t)left;
    }
    free(slot);
    free(base);

    /* namespaces */
    for (int k = 0; k < nused; k++) {
        int ns = used_order[k];
        if (found[ns]) {
            found[ns] = false;
            continue;
        }
        esf_nvs_finding *f = add(c, ESF_NVS_R_NS_UNDEFINED, ESF_NVS_SEV_ERROR, true,
                                 used_at[ns][0], used_at[ns][1],
                                 "namespace index %u is used but not defined", ns);
        f->ns = (uint8_t)ns;
    }
    for (int k = 0; k < nfound; k++) {
        int ns = found_order[k];
        if (!found[ns])
            continue;
        esf_nvs_finding *f = add(c, ESF_NVS_R_NS_UNUSED, ESF_NVS_SEV_WARN, true,
                                 found_at[ns][0], found_at[ns][1],
                                 "namespace '%s' (index %u) is defined but never used",
                                 found_name[ns], ns);
        f->ns = (uint8_t)ns;
        f->a = (uint32_t)ns;
    }
out:
    free(w);
    free(idx);
    free(chunks);
}

/* ---- pass B: espforge's rules over the runtime view */

static void pass_runtime(ctx *c)
{
    const esf_nvs_image *img = c->img;
    unsigned active = 0;
    for (uint32_t p = 0; p < img->npages; p++) {
        const esf_nvs_page *pg = &img->pages[p];
        int32_t pi = (int32_t)p;
        bool header_ok = pg->crc == pg->crc_calc;
        if (pg->status == ESF_NVS_PS_EMPTY) {
            bool hdr_ff = true;
            for (unsigned b = 4; b < ESF_NVS_HEADER_SIZE; b++)
                hdr_ff &= pg->raw[b] == 0xFF;
            if (!hdr_ff)
                add(c, ESF_NVS_R_EMPTY_HEADER, ESF_NVS_SEV_ERROR, false, pi, -1,
                    "page state is Empty but header bytes are written (the runtime treats the "
                    "page as corrupt)");
            continue;
        }
        if (pg->status == ESF_NVS_PS_CORRUPTED || pg->status == ESF_NVS_PS_INVALID) {
            add(c, ESF_NVS_R_PAGE_STATE, ESF_NVS_SEV_ERROR, false, pi, -1,
                "page state word 0x%08x is not a page state: the runtime treats the page as "
                "corrupt and erases it before reuse", pg->state_word)->a = pg->state_word;
            continue;
        }
        if (header_ok && pg->version_byte < ESF_NVS_VERSION_2)
            add(c, ESF_NVS_R_PAGE_VERSION, ESF_NVS_SEV_ERROR, false, pi, -1,
                "page format version %u (byte 0x%02x) is newer than 2: ESP-IDF refuses the "
                "partition (ESP_ERR_NVS_NEW_VERSION_FOUND)",
                esf_nvs_version_number(pg->version_byte), pg->version_byte)->a = pg->version_byte;
        if (!pg->loaded)
            continue;
        if (pg->status == ESF_NVS_PS_FREEING)
            add(c, ESF_NVS_R_FREEING, ESF_NVS_SEV_WARN, false, pi, -1,
                "page left in state FREEING (interrupted garbage collection): the runtime "
                "finishes moving its items at init");
        if (pg->status == ESF_NVS_PS_ACTIVE && ++active == 2)
            add(c, ESF_NVS_R_MULTI_ACTIVE, ESF_NVS_SEV_WARN, false, pi, -1,
                "more than one ACTIVE page");
        for (uint32_t q = 0; q < p; q++)
            if (img->pages[q].loaded && img->pages[q].seq == pg->seq) {
                add(c, ESF_NVS_R_SEQ_DUP, ESF_NVS_SEV_WARN, false, pi, -1,
                    "sequence number %u also used by page %u", pg->seq, q)->a = pg->seq;
                break;
            }
        /* items as the runtime walks them */
        unsigned i = 0, last_written = 0;
        bool any = false;
        while (i < NENT) {
            if (pg->states[i] == ESF_NVS_ENTRY_ILLEGAL)
                add(c, ESF_NVS_R_ENTRY_ILLEGAL, ESF_NVS_SEV_ERROR, false, pi, (int32_t)i,
                    "entry state bits 01 (illegal, flash corruption): the runtime erases the "
                    "entry");
            if (pg->states[i] != ESF_NVS_ENTRY_WRITTEN) {
                i++;
                continue;
            }
            const uint8_t *e = esf_nvs_page_entry(pg, i);
            esf_error why;
            esf_error_clear(&why);
            esf_nvs_item_fault f = esf_nvs_entry_fault(pg, i, &why);
            unsigned span = e[2] ? e[2] : 1;
            any = true;
            last_written = i;
            /* faults the reference rules already name (CRC, payload CRC/state, span past the
             * end, unknown type) are not repeated */
            bool oob = i + (unsigned)e[2] - 1 >= NENT && e[2] > 0;
            if ((f == ESF_NVS_ITEM_BAD_HEADER && !oob &&
                 (esf_nvs_tool_type_name(e[1]) || is_float(e[1]))) ||
                f == ESF_NVS_ITEM_BAD_CHUNK)
                add(c, ESF_NVS_R_ITEM_INCONSISTENT, ESF_NVS_SEV_ERROR, false, pi, (int32_t)i,
                    "item '%.16s': %s%s%s; the runtime erases it", (const char *)e + 8,
                    esf_nvs_item_fault_name(f), why.msg[0] ? ": " : "", why.msg)->a = f;
            if (f == ESF_NVS_ITEM_OK && e[1] == ESF_NVS_TYPE_STR && e[2] > 1) {
                uint16_t size = esf_le16(e + 24);
                if (size == 0 || e[32 + size - 1] != 0)
                    add(c, ESF_NVS_R_STR_NO_NUL, ESF_NVS_SEV_WARN, false, pi, (int32_t)i,
                        "string '%.16s' has no terminating NUL (nvs_get_str would return it "
                        "unterminated)", (const char *)e + 8);
            }
            i += (f == ESF_NVS_ITEM_OK || f == ESF_NVS_ITEM_INCOMPLETE ||
                  f == ESF_NVS_ITEM_BAD_DATA_CRC) ? span : 1;
            if (f == ESF_NVS_ITEM_OK)
                last_written = i - 1;
        }
        if (pg->status == ESF_NVS_PS_ACTIVE) {
            unsigned from = any ? last_written + 1 : 0;
            for (unsigned k = from; k < NENT; k++) {
                const uint8_t *e = esf_nvs_page_entry(pg, k);
                if (pg->states[k] == ESF_NVS_ENTRY_EMPTY && esf_le32(e) != 0xFFFFFFFFu) {
                    add(c, ESF_NVS_R_TORN_ENTRY, ESF_NVS_SEV_WARN, false, pi, (int32_t)k,
                        "entry holds data but is not marked written (interrupted write): the "
                        "runtime erases it at init");
                    break;
                }
            }
        }
    }

    /* namespace table */
    for (size_t k = 0; k < img->nitems; k++) {
        const esf_nvs_rec *it = &img->items[k];
        if (it->ns != 0)
            continue;
        if (it->type != ESF_NVS_TYPE_U8) {
            add(c, ESF_NVS_R_NS_NOT_U8, ESF_NVS_SEV_WARN, false, (int32_t)it->page, it->entry,
                "item '%s' of type 0x%02x in namespace 0: the runtime's namespace scan stops "
                "there for the rest of the page", it->key, it->type);
            continue;
        }
        if (it->num == 0 || it->num == 255) {
            add(c, ESF_NVS_R_NS_RESERVED, ESF_NVS_SEV_ERROR, false, (int32_t)it->page, it->entry,
                "namespace '%s' has the reserved index %u", it->key, (unsigned)it->num)->a =
                (uint32_t)it->num;
            continue;
        }
        for (size_t j = 0; j < k; j++) {
            const esf_nvs_rec *o = &img->items[j];
            if (o->ns != 0 || o->type != ESF_NVS_TYPE_U8)
                continue;
            bool same_name = !strcmp(o->key, it->key), same_idx = o->num == it->num;
            if (same_name || same_idx) {
                esf_nvs_finding *f = add(c, ESF_NVS_R_NS_DUP, ESF_NVS_SEV_WARN, false,
                                         (int32_t)it->page, it->entry,
                                         "namespace '%s' (index %u): %s already defined by "
                                         "'%s' (index %u) at page %u entry %u; the first wins",
                                         it->key, (unsigned)it->num,
                                         same_name ? "name" : "index", o->key, (unsigned)o->num,
                                         o->page, o->entry);
                f->a = o->entry;
                f->b = o->page;
                break;
            }
        }
    }

    /* duplicate live keys, blob families */
    for (size_t k = 0; k < img->nitems; k++) {
        const esf_nvs_rec *it = &img->items[k];
        if (it->ns == 0)
            continue;
        if (it->type == ESF_NVS_TYPE_BLOB_DATA) {
            /* stale: a chunk no complete index of its key covers, while some index exists */
            bool covered = false, has_index = false;
            for (size_t j = 0; j < img->nitems; j++) {
                const esf_nvs_rec *ix = &img->items[j];
                if (ix->type != ESF_NVS_TYPE_BLOB_IDX || ix->ns != it->ns ||
                    strcmp(ix->key, it->key))
                    continue;
                has_index = true;
                covered |= ix->live && it->chunk >= ix->chunk_start &&
                           it->chunk < (unsigned)ix->chunk_start + ix->chunk_count;
            }
            if (has_index && !covered)
                add(c, ESF_NVS_R_BLOB_STALE, ESF_NVS_SEV_WARN, false, (int32_t)it->page,
                    it->entry, "blob chunk '%s' (chunk %u) belongs to no complete version of "
                    "the blob (superseded or unfinished write): the runtime erases it",
                    it->key, it->chunk)->a = it->chunk;
            continue;
        }
        if (it->type == ESF_NVS_TYPE_BLOB_IDX && !it->live) {
            uint64_t sum = 0;
            unsigned n = 0, lo = it->chunk_start & 0x80, hi = lo ? 0xFE : 0x7F;
            for (size_t j = 0; j < img->nitems; j++) {
                const esf_nvs_rec *ch = &img->items[j];
                if (ch->type == ESF_NVS_TYPE_BLOB_DATA && ch->ns == it->ns &&
                    !strcmp(ch->key, it->key) && ch->chunk >= lo && ch->chunk <= hi) {
                    sum += ch->size;
                    n++;
                }
            }
            if (sum != it->num || n != it->chunk_count) {
                esf_nvs_finding *f = add(c, ESF_NVS_R_BLOB_INCOMPLETE, ESF_NVS_SEV_ERROR, false,
                                         (int32_t)it->page, it->entry,
                                         "blob '%s': %u of %u chunks with %llu of %llu bytes "
                                         "found; the runtime erases the index", it->key, n,
                                         it->chunk_count, (unsigned long long)sum,
                                         (unsigned long long)it->num);
                f->a = (uint32_t)sum;
                f->b = n;
                continue;
            }
        }
        if (it->live)
            continue;
        /* an older copy of a key that has a live value */
        for (size_t v = 0; v < img->nvalues; v++) {
            const esf_nvs_value *val = &img->values[v];
            const esf_nvs_rec *nw = &img->items[val->item];
            if (val->ns != it->ns || strcmp(val->key, it->key))
                continue;
            if (it->type == ESF_NVS_TYPE_BLOB_IDX || esf_nvs_type_is_prim(it->type) ||
                it->type == ESF_NVS_TYPE_STR || it->type == ESF_NVS_TYPE_BLOB) {
                esf_nvs_finding *f = add(c, ESF_NVS_R_DUP_KEY, ESF_NVS_SEV_WARN, false,
                                         (int32_t)it->page, it->entry,
                                         "key '%s' (namespace %u) is also written at page %u "
                                         "entry %u, which is the value read (an interrupted "
                                         "update; the runtime erases one copy)", it->key, it->ns,
                                         nw->page, nw->entry);
                f->a = nw->entry;
                f->b = nw->page;
            }
            break;
        }
    }
}

int esf_nvs_check(const esf_nvs_image *img, esf_nvs_report *rep, esf_error *err)
{
    if (!img || !rep)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_nvs_check: NULL argument");
    ctx c;
    memset(&c, 0, sizeof c);
    c.img = img;
    c.rep = rep;
    pass_reference(&c);
    if (c.rc == ESF_OK)
        pass_runtime(&c);
    if (c.rc < 0)
        return esf_error_set(err, c.rc, "NVS check: no memory for findings");
    return ESF_OK;
}

void esf_nvs_report_free(esf_nvs_report *rep)
{
    if (!rep)
        return;
    free(rep->items);
    memset(rep, 0, sizeof *rep);
}
