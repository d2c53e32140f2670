/* A CSV reader with places: Python csv "excel" dialect, non-strict, over universal newlines.
 * See include/espforge/csv.h. The state machine follows the one Python's _csv module documents:
 * each physical line is fed character by character, then an end-of-line event. */
#include "espforge/csv.h"

#include <stdlib.h>
#include <string.h>

enum state { START_RECORD, START_FIELD, IN_FIELD, IN_QUOTED_FIELD, QUOTE_IN_QUOTED_FIELD, EAT_CRNL };

typedef struct field_pos {
    size_t start;  /* offset of the field's bytes in r->buf */
    size_t len;
    uint32_t line, column;
    bool quoted;
} field_pos;

struct esf_csv {
    const char *data;
    size_t len, pos;       /* input and read position */
    uint32_t line;         /* physical line number of the next line to read (1-based) */
    esf_csv_opts opts;
    char *source;
    char *buf;             /* field bytes, each NUL-terminated */
    size_t buf_len, buf_cap;
    field_pos *pos_v;      /* fields of the row being built */
    esf_csv_field *fields; /* handed out */
    size_t nfields, fields_cap;
    field_pos cur;         /* the field being built */
};

static int buf_put(esf_csv *r, char c)
{
    if (r->buf_len == r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap * 2 : 256;
        char *b = realloc(r->buf, cap);
        if (!b)
            return ESF_ERR_NO_MEM;
        r->buf = b;
        r->buf_cap = cap;
    }
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
    if (r->buf_len + n > r->buf_cap) {
        size_t cap = r->buf_cap ? r->buf_cap : 256;
        while (cap < r->buf_len + n)
            cap *= 2;
        char *b = realloc(r->buf, cap);
        if (!b)
            return ESF_ERR_NO_MEM;
        r->buf = b;
        r->buf_cap = cap;
    }
    memcpy(r->buf + r->buf_len, s, n);
    r->buf_len += n;
    r->cur.len += n;
    return ESF_OK;
}

static int field_save(esf_csv *r)
{
    if (r->nfields == r->fields_cap) {
        size_t cap = r->fields_cap ? r->fields_cap * 2 : 16;
        field_pos *p = realloc(r->pos_v, cap * sizeof *p);
        if (!p)
            return ESF_ERR_NO_MEM;
        r->pos_v = p;
        esf_csv_field *f = realloc(r->fields, cap * sizeof *f);
        if (!f)
            return ESF_ERR_NO_MEM;
        r->fields = f;
        r->fields_cap = cap;
    }
    r->pos_v[r->nfields++] = r->cur;
    return buf_put(r, '\0');
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

size_t esf_csv_offset(const esf_csv *r) { return r ? r->pos : 0; }

/* Next physical line: [*start, *start + *n), `*nl` true if it had a terminator. 0 at end. */
static int next_line(esf_csv *r, const char **start, size_t *n, bool *nl)
{
    if (r->pos >= r->len)
        return 0;
    const char *p = r->data + r->pos, *end = r->data + r->len, *q = p;
    while (q < end && *q != '\n' && *q != '\r')
        q++;
    *start = p;
    *n = (size_t)(q - p);
    *nl = q < end;
    if (q < end && *q == '\r' && q + 1 < end && q[1] == '\n')
        q++;
    r->pos = (size_t)(q - r->data) + (q < end ? 1 : 0);
    return 1;
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

int esf_csv_next(esf_csv *r, esf_csv_row *row, esf_error *err)
{
    if (!r || !row)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_csv_next: NULL");
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

void esf_csv_free(esf_csv *r)
{
    if (!r)
        return;
    free(r->source);
    free(r->buf);
    free(r->pos_v);
    free(r->fields);
    free(r);
}

/* Strict UTF-8 check (Python's utf-8 codec): returns the offset of the first bad byte or len. */
size_t esf_utf8_check(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (len - i >= 8) {  /* ASCII runs (nearly every CSV) eight bytes at a time */
            uint64_t w;
            memcpy(&w, p + i, 8);
            if (!(w & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (c < 0x80) { i++; continue; }
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
