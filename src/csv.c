/* A CSV reader with places: Python csv "excel" dialect, non-strict, over universal newlines.
 * See include/espforge/csv.h. The state machine follows the one Python's _csv module documents:
 * each physical line is fed character by character, then an end-of-line event. A record that is
 * one physical line without a '"' (nearly every record of an NVS or mfg CSV) takes a fast path
 * that gives the same fields: it only splits the line at its commas, and reads such records a
 * batch at a time (fast_batch), which esf_csv_next then hands out one by one.
 * -DESF_CSV_NO_SIMD builds only the bytewise scanner, which also reads the last bytes of every
 * input on any build. */
#include "espforge/csv.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && !defined(ESF_CSV_NO_SIMD)
#include <emmintrin.h>
#define CSV_SSE2 1
#endif

enum state { START_RECORD, START_FIELD, IN_FIELD, IN_QUOTED_FIELD, QUOTE_IN_QUOTED_FIELD, EAT_CRNL };

typedef struct field_pos {
    size_t start;  /* offset of the field's bytes in r->buf */
    size_t len;
    uint32_t line, column;
    bool quoted;
} field_pos;

struct esf_csv {
    const char *data;
    size_t len, pos;       /* input and read position (see read_pos) */
    uint32_t line;         /* physical line number of the next line to read (1-based; likewise) */
    esf_csv_opts opts;
    char *source;
    char *buf;             /* field bytes, each NUL-terminated */
    size_t buf_len, buf_cap;
    field_pos *pos_v;      /* fields of the row being built */
    esf_csv_field *fields; /* handed out */
    size_t nfields, fields_cap;
    field_pos cur;         /* the field being built */
    /* records read by fast_batch from `pos` on, one physical line each, the first on `line`:
     * rows[0..nrows), of which rows[0..row_next) are handed out (while a batch is handed out,
     * `pos` and `line` stay at its start: read_pos); fields from fields[next_field] on are
     * those of rows[row_next] and after */
    struct batch_row *rows;
    size_t nrows, row_next, rows_cap, next_field;
};

/* A record of fast_batch: its fields end at fields[fields_end] (and start where the record
 * before it ends theirs). */
typedef struct batch_row {
    size_t fields_end;
    size_t end;            /* offset of the next physical line, from the batch's `pos` */
} batch_row;

/* The input offset of the next physical line to read: after the records handed out. */
static size_t read_pos(const esf_csv *r)
{
    return r->row_next ? r->pos + r->rows[r->row_next - 1].end : r->pos;
}

/* The capacity an array of `cap` entries (`first` when it has none) grows to for `need`:
 * doubled as often as it takes (`cap` itself when it is enough). */
static size_t grown_cap(size_t cap, size_t first, size_t need)
{
    cap = cap ? cap : first;
    while (cap < need)
        cap *= 2;
    return cap;
}

/* Room for `need` bytes in r->buf (the state machine's; its fields keep offsets, not pointers). */
static int buf_reserve(esf_csv *r, size_t need)
{
    if (need <= r->buf_cap)
        return ESF_OK;
    size_t cap = grown_cap(r->buf_cap, 256, need);
    char *b = realloc(r->buf, cap);
    if (!b)
        return ESF_ERR_NO_MEM;
    r->buf = b;
    r->buf_cap = cap;
    return ESF_OK;
}

static int buf_put(esf_csv *r, char c)
{
    if (buf_reserve(r, r->buf_len + 1) < 0)
        return ESF_ERR_NO_MEM;
    r->buf[r->buf_len++] = c;
    return ESF_OK;
}

static void field_begin(esf_csv *r, uint32_t line, uint32_t column, bool quoted)
{
    r->cur.start = r->buf_len;
    r->cur.len = 0;
    r->cur.line = line;
    r->cur.column = column;
    r->cur.quoted = quoted;
}

static int field_add(esf_csv *r, char c)
{
    r->cur.len++;
    return buf_put(r, c);
}

/* Append `n` ordinary bytes to the current field (the fast path of esf_csv_next). */
static int field_add_n(esf_csv *r, const char *s, size_t n)
{
    if (buf_reserve(r, r->buf_len + n) < 0)
        return ESF_ERR_NO_MEM;
    memcpy(r->buf + r->buf_len, s, n);
    r->buf_len += n;
    r->cur.len += n;
    return ESF_OK;
}

/* Room for `need` fields in both field arrays (they grow together, in one step). New entries of
 * r->fields start unquoted: the fast path, whose fields are all unquoted, leaves `quoted` as it
 * finds it (and fast_batch clears those the state machine set). */
static int fields_reserve(esf_csv *r, size_t need)
{
    size_t cap = grown_cap(r->fields_cap, 16, need);
    if (cap == r->fields_cap)
        return ESF_OK;
    field_pos *p = realloc(r->pos_v, cap * sizeof *p);
    if (!p)
        return ESF_ERR_NO_MEM;
    r->pos_v = p;
    esf_csv_field *f = realloc(r->fields, cap * sizeof *f);
    if (!f)
        return ESF_ERR_NO_MEM;
    for (size_t i = r->fields_cap; i < cap; i++)
        f[i].quoted = false;
    r->fields = f;
    r->fields_cap = cap;
    return ESF_OK;
}

static int field_save(esf_csv *r)
{
    if (r->nfields == r->fields_cap && fields_reserve(r, r->nfields + 1) < 0)
        return ESF_ERR_NO_MEM;
    r->pos_v[r->nfields++] = r->cur;
    return buf_put(r, '\0');
}

/* ---- the byte scanner: which of the next bytes may matter to a one-line record: ',', the line
 * ends and '"' (which sends the record to the state machine). Bit k of a mask stands for p[k].
 * SSE2 (every x86-64) marks every byte up to ',' (0x2C) with one compare per 16 bytes: the
 * reader then looks at each marked byte, and passes over the few others there ('\0'..'+' but
 * '"'). The tail of the input, and every block where there is no SSE2, go byte by byte through
 * byte_class and mark exactly the bytes that matter. */
enum { C_STOP = 1, C_COMMA = 2 };  /* a byte that ends the record's line (or is '"'); a comma */
enum { BLOCK = 64 };  /* bytes the fast path scans at a time: bits of a uint64_t mask */

static const unsigned char byte_class[256] = {
    ['\n'] = C_STOP, ['\r'] = C_STOP, ['"'] = C_STOP, [','] = C_COMMA,
};

static inline unsigned lowest_bit(uint64_t m)  /* m != 0 */
{
#if defined(__GNUC__) || defined(__clang__)
    return (unsigned)__builtin_ctzll(m);
#else
    unsigned k = 0;
    while (!(m & 1)) {
        m >>= 1;
        k++;
    }
    return k;
#endif
}

#ifdef CSV_SSE2
static inline uint32_t vec_eol(__m128i v)
{
    return (uint32_t)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
                                                    _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))));
}

/* Copy the 16 bytes at `p` to `dst`; @return a mask of those up to ',' (0x2C): every byte of a
 * class, and a few others. */
static inline uint64_t vec_low(const char *p, char *dst)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    _mm_storeu_si128((__m128i *)(void *)dst, v);
    __m128i above = _mm_subs_epu8(v, _mm_set1_epi8(','));  /* 0 where v <= ',' */
    return (uint64_t)_mm_movemask_epi8(_mm_cmpeq_epi8(above, _mm_setzero_si128()));
}
#endif

/* Copy the next min(n, BLOCK) bytes at `p` to `dst` and mark in `*marks` those that may matter
 * (see above). @return the number of bytes copied. */
static inline size_t block_scan(const char *p, size_t n, char *dst, uint64_t *marks)
{
#ifdef CSV_SSE2
    if (n >= BLOCK) {
        *marks = vec_low(p, dst) | vec_low(p + 16, dst + 16) << 16 |
                 vec_low(p + 32, dst + 32) << 32 | vec_low(p + 48, dst + 48) << 48;
        return BLOCK;
    }
#endif
    n = n < BLOCK ? n : BLOCK;
    memcpy(dst, p, n);
    uint64_t m = 0;
    for (size_t k = 0; k < n; k++)
        m |= (uint64_t)(byte_class[(unsigned char)p[k]] != 0) << k;
    *marks = m;
    return n;
}

/* The first '\n' or '\r' in [p, end), or end. */
static const char *find_eol(const char *p, const char *end)
{
#ifdef CSV_SSE2
    for (; end - p >= 16; p += 16) {
        uint32_t m = vec_eol(_mm_loadu_si128((const __m128i *)(const void *)p));
        if (m)
            return p + lowest_bit(m);
    }
#endif
    while (p < end && *p != '\n' && *p != '\r')
        p++;
    return p;
}

/* Bytes of the line terminator at `eol` (`n` bytes left from it): 2 for "\r\n", 0 at the end. */
static inline size_t eol_len(const char *eol, size_t n)
{
    return n == 0 ? 0 : eol[0] == '\r' && n > 1 && eol[1] == '\n' ? 2 : 1;
}

/* Offset of the next physical line after the one ending at `eol` (its terminator, or end). */
static size_t after_eol(const esf_csv *r, const char *eol)
{
    size_t at = (size_t)(eol - r->data);
    return at + eol_len(eol, r->len - at);
}

int esf_csv_open_mem(esf_csv **out, const char *data, size_t len, const char *source,
                     const esf_csv_opts *opts, esf_error *err)
{
    *out = NULL;
    esf_csv *r = calloc(1, sizeof *r);
    if (!r || !(r->source = strdup(source ? source : ""))) {
        free(r);
        return esf_error_set(err, ESF_ERR_NO_MEM, "out of memory opening CSV %s", source ? source : "");
    }
    r->data = data;
    r->len = data ? len : 0;
    r->line = 1;
    if (opts)
        r->opts = *opts;
    *out = r;
    return ESF_OK;
}

const char *esf_csv_source(const esf_csv *r) { return r ? r->source : ""; }

size_t esf_csv_offset(const esf_csv *r) { return r ? read_pos(r) : 0; }

/* Next physical line: [*start, *start + *n), `*nl` true if it had a terminator. 0 at end. */
static int next_line(esf_csv *r, const char **start, size_t *n, bool *nl)
{
    if (r->pos >= r->len)
        return 0;
    const char *p = r->data + r->pos, *end = r->data + r->len, *q = find_eol(p, end);
    *start = p;
    *n = (size_t)(q - p);
    *nl = q < end;
    r->pos = after_eol(r, q);
    return 1;
}

/* Grow r->buf to at least `need` bytes keeping its first `keep`; the fast path's first `nf`
 * fields, which point into it, move with it. */
static int buf_grow_moving(esf_csv *r, size_t need, size_t keep, size_t nf)
{
    size_t cap = grown_cap(r->buf_cap, 256, need);
    char *b = malloc(cap);
    if (!b)
        return ESF_ERR_NO_MEM;
    if (keep)
        memcpy(b, r->buf, keep);
    for (size_t i = 0; i < nf; i++)
        r->fields[i].text = b + (r->fields[i].text - r->buf);
    free(r->buf);
    r->buf = b;
    r->buf_cap = cap;
    return ESF_OK;
}

/* Room for `need` batch_rows (in one step). */
static int rows_reserve(esf_csv *r, size_t need)
{
    size_t cap = grown_cap(r->rows_cap, 64, need);
    if (cap == r->rows_cap)
        return ESF_OK;
    batch_row *b = realloc(r->rows, cap * sizeof *b);
    if (!b)
        return ESF_ERR_NO_MEM;
    r->rows = b;
    r->rows_cap = cap;
    return ESF_OK;
}

/* The largest `at` the fast path may reach, having copied `at` bytes and made `nf` fields and
 * `nrows` records, and still have a block's room (and a NUL's) in r->buf, r->fields and r->rows;
 * negative when there is none. */
static ptrdiff_t fast_room(const esf_csv *r, size_t at, size_t nf, size_t nrows)
{
    ptrdiff_t room = (ptrdiff_t)r->buf_cap,
              by_fields = (ptrdiff_t)(at + r->fields_cap) - (ptrdiff_t)nf,
              by_rows = (ptrdiff_t)(at + r->rows_cap) - (ptrdiff_t)nrows;
    room = by_fields < room ? by_fields : room;
    return (by_rows < room ? by_rows : room) - (BLOCK + 1);
}

/* Room for the fast path when it has copied `at` bytes, made `nf` fields and `nrows` records, and
 * its batch ends with the record ending past `last`: for the next `ahead` bytes (at least a block
 * and the NUL of a line ending at its end; up to the end of the batch and a block, but no more
 * than 8 blocks), room in r->buf, and for as many more fields and records (at most one per comma
 * or line end, and one at the input's end).
 * @return the largest `at` the fast path may reach before it asks again; ESF_ERR_NO_MEM. */
static ptrdiff_t fast_reserve(esf_csv *r, size_t at, size_t nf, size_t nrows, size_t last)
{
    size_t ahead = (last > at ? last - at : 0) + BLOCK + 1;
    if (ahead > 8 * BLOCK)
        ahead = 8 * BLOCK;
    if (at + ahead > r->buf_cap && buf_grow_moving(r, at + ahead, at, nf) < 0)
        return ESF_ERR_NO_MEM;
    if (fields_reserve(r, nf + ahead) < 0 || rows_reserve(r, nrows + ahead) < 0)
        return ESF_ERR_NO_MEM;
    return fast_room(r, at, nf, nrows);
}

enum { BATCH = 4096 };  /* fast_batch reads records until this many bytes, or one record more */

/* Fill *f: a field of the fast path, bytes [from, to) of the input after r->pos, at the same
 * offsets in `buf`, on a line starting at `row0`. */
static inline void plain_field(esf_csv_field *f, const char *buf, size_t row0, size_t from,
                               size_t to, uint32_t line)
{
    f->text = buf + from;
    f->len = to - from;
    f->line = line;
    f->column = (uint32_t)(from - row0) + 1;  /* f->quoted is false already: fields_reserve */
}

/* fast_batch: the record at `row0` ends at `e` (its line end, or the input's end), the next
 * line starts at `next`: its last field (unless the line is blank) and its batch_row. */
static inline void batch_end_record(const esf_csv *r, batch_row **b, char *buf, size_t e,
                                    size_t next, size_t row0, size_t f0, esf_csv_field **f,
                                    uint32_t line)
{
    buf[e] = '\0';
    if (e > row0)
        plain_field((*f)++, buf, row0, f0, e, line);
    *(*b)++ = (batch_row){ (size_t)(*f - r->fields), next };
}

#if defined(__GNUC__) || defined(__clang__)
#define CSV_NOINLINE __attribute__((noinline))
#else
#define CSV_NOINLINE
#endif

/* The fast path: records that are one physical line without any '"' (nearly every line of an
 * NVS or mfg CSV), read from r->pos (after dropping '#' lines when asked) into r->rows. There
 * the state machine below only splits each line at its commas: the fields are the slices
 * between commas, unquoted, each starting at its byte's column. The input is copied into r->buf
 * a BLOCK at a time while it is scanned (the last block may run past the last record: room is
 * kept for it), and each field's end (a comma or a line end) becomes its NUL. The batch ends
 * after BATCH bytes, at the end of the input, before a line starting with '#' (when dropped)
 * and before a line holding a '"'. Not inlined: esf_csv_next, which hands the records out,
 * stays a leaf.
 * @return 1 with at least one record in r->rows; 0 at end of input; 2 if the first line holds a
 * '"' (r->pos is at its start: the state machine reads it); ESF_ERR_NO_MEM. */
static CSV_NOINLINE int fast_batch(esf_csv *r, esf_error *err)
{
    r->pos = read_pos(r);  /* the batch before is all handed out */
    r->line += (uint32_t)r->row_next;
    r->nrows = r->row_next = r->next_field = 0;
    for (size_t i = 0; i < r->nfields; i++)  /* the state machine's last record */
        r->fields[i].quoted = false;
    r->nfields = 0;
    while (r->opts.skip_hash_lines && r->pos < r->len && r->data[r->pos] == '#') {
        r->pos = after_eol(r, find_eol(r->data + r->pos, r->data + r->len));
        r->line++;
    }
    if (r->pos >= r->len)
        return 0;
    const char *const s = r->data + r->pos;
    const size_t left = r->len - r->pos;  /* bytes from s to the end of the input */
    const size_t last = left < BATCH ? left : BATCH;  /* a record ending past it ends the batch */
    uint32_t line = r->line;
    ptrdiff_t room = fast_room(r, 0, 0, 0);  /* the bound on `at` */
    char *buf = r->buf;
    esf_csv_field *f = r->fields;  /* the next field */
    batch_row *b = r->rows;  /* the next record */
    /* offsets from s (and in buf): bytes scanned, the record's start, the field's start */
    size_t at = 0, row0 = 0, f0 = 0;
    for (;;) {
        if ((ptrdiff_t)at > room) {
            size_t nf = (size_t)(f - r->fields), nrows = (size_t)(b - r->rows);
            if ((room = fast_reserve(r, at, nf, nrows, last)) < 0)
                goto no_mem;
            f = r->fields + nf;
            b = r->rows + nrows;
            buf = r->buf;
        }
        uint64_t ev;  /* the marked bytes, in order, from row0 on (the '\n' of a "\r\n" may
                       * start this block) */
        size_t step = block_scan(s + at, left - at, buf + at, &ev);
        ev &= ~(uint64_t)0 << (row0 > at ? row0 - at : 0);
        while (ev) {
            size_t e = at + lowest_bit(ev);
            ev &= ev - 1;
            unsigned char c = (unsigned char)s[e];
            if (c == ',') {
                buf[e] = '\0';
                plain_field(f++, buf, row0, f0, e, line);
                f0 = e + 1;
                continue;
            }
            if (c != '\n' && c != '\r') {
                if (c == '"')
                    goto done;  /* the state machine reads this record */
                continue;  /* marked by the SSE2 scan, but it does not matter */
            }
            size_t next = e + 1;
            if (c == '\r' && next < left && s[next] == '\n') {
                next++;
                ev &= ev - 1;  /* the '\n' (if it is in the next block: see above) */
            }
            batch_end_record(r, &b, buf, e, next, row0, f0, &f, line++);
            row0 = f0 = next;
            if (row0 >= last || (r->opts.skip_hash_lines && s[row0] == '#'))
                goto done;
        }
        at += step;
        if (at == left) {  /* the last line has no terminator */
            batch_end_record(r, &b, buf, left, left, row0, f0, &f, line);
            goto done;
        }
    }
done:
    r->nrows = (size_t)(b - r->rows);
    return r->nrows ? 1 : 2;
no_mem:
    r->nrows = 0;
    return esf_error_loc(err, ESF_ERR_NO_MEM, r->source, line, 0, "out of memory reading CSV");
}

/* Feed one character; c < 0 is the end-of-line event. Sets *done when a record ends. */
static int feed(esf_csv *r, enum state *st, int c, uint32_t line, uint32_t col, bool *done)
{
    int rc = ESF_OK;
    switch (*st) {
    case START_RECORD:
        if (c < 0 || c == '\n') {  /* blank line: an empty record */
            *st = c < 0 ? START_RECORD : EAT_CRNL;
            *done = c < 0;
            return ESF_OK;
        }
        *st = START_FIELD;
        /* fall through */
    case START_FIELD:
        if (c < 0 || c == '\n') {
            field_begin(r, line, col, false);
            rc = field_save(r);
            *st = c < 0 ? START_RECORD : EAT_CRNL;
            *done = c < 0;
        } else if (c == '"') {
            field_begin(r, line, col, true);
            *st = IN_QUOTED_FIELD;
        } else if (c == ',') {
            field_begin(r, line, col, false);
            rc = field_save(r);
        } else {
            field_begin(r, line, col, false);
            rc = field_add(r, (char)c);
            *st = IN_FIELD;
        }
        break;
    case IN_FIELD:
        if (c < 0 || c == '\n') {
            rc = field_save(r);
            *st = c < 0 ? START_RECORD : EAT_CRNL;
            *done = c < 0;
        } else if (c == ',') {
            rc = field_save(r);
            *st = START_FIELD;
        } else {
            rc = field_add(r, (char)c);
        }
        break;
    case IN_QUOTED_FIELD:
        if (c == '"')
            *st = QUOTE_IN_QUOTED_FIELD;
        else if (c >= 0)
            rc = field_add(r, (char)c);
        break;
    case QUOTE_IN_QUOTED_FIELD:
        if (c == '"') {
            rc = field_add(r, '"');
            *st = IN_QUOTED_FIELD;
        } else if (c == ',') {
            rc = field_save(r);
            *st = START_FIELD;
        } else if (c < 0 || c == '\n') {
            rc = field_save(r);
            *st = c < 0 ? START_RECORD : EAT_CRNL;
            *done = c < 0;
        } else {
            rc = field_add(r, (char)c);
            *st = IN_FIELD;
        }
        break;
    case EAT_CRNL:
        if (c < 0) {
            *st = START_RECORD;
            *done = true;
        }
        break;
    }
    return rc;
}

/* The general path: the state machine over physical lines, from the start of a record whose
 * first line holds a '"' (fast_batch declined it) to the record's end. */
static CSV_NOINLINE int slow_record(esf_csv *r, esf_csv_row *row, esf_error *err)
{
    r->buf_len = 0;
    r->nfields = 0;
    enum state st = START_RECORD;
    bool done = false, any = false;
    uint32_t row_line = 0;
    const char *s;
    size_t n;
    bool nl;
    while (!done && next_line(r, &s, &n, &nl)) {
        uint32_t line = r->line++;
        if (r->opts.skip_hash_lines && n > 0 && s[0] == '#')
            continue;
        if (!any) {
            any = true;
            row_line = line;
        }
        int rc = ESF_OK;
        for (size_t i = 0; i < n && rc == ESF_OK; i++) {
            /* fast path: inside a field, bytes that cannot change the state (all but ',' in an
             * unquoted field, all but '"' in a quoted one; a line holds no newline) go in at once */
            if (st == IN_FIELD || st == IN_QUOTED_FIELD) {
                const char *stop = memchr(s + i, st == IN_FIELD ? ',' : '"', n - i);
                size_t run = (stop ? (size_t)(stop - s) : n) - i;
                if (run) {
                    rc = field_add_n(r, s + i, run);
                    i += run - 1;
                    continue;
                }
            }
            rc = feed(r, &st, (unsigned char)s[i], line, (uint32_t)i + 1, &done);
        }
        if (rc == ESF_OK && nl)
            rc = feed(r, &st, '\n', line, (uint32_t)n + 1, &done);
        if (rc == ESF_OK)
            rc = feed(r, &st, -1, line, (uint32_t)n + 1, &done);
        if (rc < 0)
            return esf_error_loc(err, rc, r->source, line, 0, "out of memory reading CSV");
    }
    if (!any)
        return 0;
    if (!done && st == IN_QUOTED_FIELD) {  /* end of input inside quotes: the field ends here */
        int rc = field_save(r);
        if (rc < 0)
            return esf_error_set(err, rc, "out of memory reading CSV");
    }
    for (size_t i = 0; i < r->nfields; i++) {
        const field_pos *p = &r->pos_v[i];
        r->fields[i] = (esf_csv_field){ r->buf + p->start, p->len, p->line, p->column, p->quoted };
    }
    row->fields = r->fields;
    row->nfields = r->nfields;
    row->line = row_line;
    return 1;
}

/* Hand out the next record of the batch (there is one). */
static inline int batch_next(esf_csv *r, esf_csv_row *row)
{
    size_t i = r->row_next++;
    const batch_row *b = &r->rows[i];
    *row = (esf_csv_row){ r->fields + r->next_field, b->fields_end - r->next_field,
                          r->line + (uint32_t)i };
    r->next_field = b->fields_end;
    return 1;
}

/* esf_csv_next when the batch is used up: a new batch, or the state machine. Not inlined: the
 * common case stays a leaf. */
static CSV_NOINLINE int next_refill(esf_csv *r, esf_csv_row *row, esf_error *err)
{
    int rc = fast_batch(r, err);
    if (rc == 1)
        return batch_next(r, row);
    return rc == 2 ? slow_record(r, row, err) : rc;
}

int esf_csv_next(esf_csv *r, esf_csv_row *row, esf_error *err)
{
    if (!r || !row)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_csv_next: NULL");
    if (r->row_next == r->nrows)
        return next_refill(r, row, err);
    return batch_next(r, row);
}

void esf_csv_free(esf_csv *r)
{
    if (!r)
        return;
    free(r->source);
    free(r->buf);
    free(r->pos_v);
    free(r->fields);
    free(r->rows);
    free(r);
}

/* Bytes below 0x80 at the start of [p, p + n): 32 at a time with SSE2, eight at a time without,
 * then one by one. */
static size_t ascii_prefix(const uint8_t *p, size_t n)
{
    size_t i = 0;
#ifdef CSV_SSE2
    for (; n - i >= 32; i += 32) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        __m128i w = _mm_loadu_si128((const __m128i *)(const void *)(p + i + 16));
        if (_mm_movemask_epi8(_mm_or_si128(v, w)))
            break;
    }
#endif
    for (; n - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
    while (i < n && p[i] < 0x80)
        i++;
    return i;
}

/* Strict UTF-8 check (Python's utf-8 codec): returns the offset of the first bad byte or len. */
size_t esf_utf8_check(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while ((i += ascii_prefix(p + i, len - i)) < len) {
        uint8_t c = p[i];  /* >= 0x80 */
        size_t n; uint32_t min;
        if (c >= 0xC2 && c <= 0xDF) { n = 2; min = 0x80; }
        else if (c >= 0xE0 && c <= 0xEF) { n = 3; min = 0x800; }
        else if (c >= 0xF0 && c <= 0xF4) { n = 4; min = 0x10000; }
        else return i;
        if (len - i < n)
            return i;
        uint32_t v = c & (0x7F >> n);
        for (size_t k = 1; k < n; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return i;
            v = (v << 6) | (p[i + k] & 0x3F);
        }
        if (v < min || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
            return i;
        i += n;
    }
    return len;
}
