/* espforge layer 4: mass manufacturing (mfg_gen.py, spec nvs-generator.md §7). See mfg.h.
 *
 * Structure: input preparation (blank-line filter, config rows, values header), device assembly
 * (REPEAT, file id, names, the intermediate CSV), image generation (nvs_gen on the reparsed
 * intermediate CSV, so the generator sees exactly the rows mfg_gen's generator sees), and the
 * engine (a producer reading the values file, worker threads, results consumed in order). */
#include "espforge/mfg.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "espforge/csv.h"
#include "espforge/io.h"
#include "espforge/nvs_crypt.h"
#include "espforge/nvs_gen.h"
#include "internal/crypto.h"

/* ------------------------------------------------------------------ small helpers */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p)
        memcpy(p, s, n);
    return p;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return NULL;
    char *p = malloc((size_t)n + 1);
    if (!p)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

/* A growable byte buffer. */
typedef struct buf {
    char *p;
    size_t len, cap;
} buf;

static int buf_reserve(buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p)
        return -1;
    b->p = p;
    b->cap = cap;
    return 0;
}

static int buf_add(buf *b, const char *s, size_t n)
{
    if (buf_reserve(b, n))
        return -1;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return 0;
}

static int buf_adds(buf *b, const char *s) { return buf_add(b, s, strlen(s)); }

/* Python os.path.join(dir, '') : dir with one trailing '/', "" stays "". */
static char *dir_prefix(const char *dir)
{
    size_t n = strlen(dir);
    if (n == 0 || dir[n - 1] == '/')
        return xstrdup(dir);
    return xasprintf("%s/", dir);
}

/* ------------------------------------------------------------------ blank-line filter
 * mfg_gen copies both inputs to *_tmp.csv without the lines for which Python's str.isspace() is
 * true (universal newlines: \n, \r\n and \r end lines), before CSV parsing, so a whitespace-only
 * line inside a quoted value disappears too. We parse the file in place when it has no such line
 * and otherwise a filtered copy, mapping line numbers back to the physical file. */

/* Length of a Python-whitespace character at p (0 if none). ASCII: \t \n \v \f \r, \x1c-\x1f,
 * space; UTF-8: U+0085, U+00A0, U+1680, U+2000-200A, U+2028, U+2029, U+202F, U+205F, U+3000. */
static size_t py_space_len(const unsigned char *p, const unsigned char *end)
{
    unsigned c = p[0];
    if (c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f))
        return 1;
    if (c == 0xc2 && end - p >= 2 && (p[1] == 0x85 || p[1] == 0xa0))
        return 2;
    if (end - p >= 3) {
        if (c == 0xe1 && p[1] == 0x9a && p[2] == 0x80)
            return 3;
        if (c == 0xe2 && p[1] == 0x80 && (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf) &&
            p[2] >= 0x80)
            return 3;
        if (c == 0xe2 && p[1] == 0x81 && p[2] == 0x9f)
            return 3;
        if (c == 0xe3 && p[1] == 0x80 && p[2] == 0x80)
            return 3;
    }
    return 0;
}

/* A line [s, e) (terminator excluded) is dropped when it is all whitespace (or empty). */
static int line_is_blank(const unsigned char *s, const unsigned char *e)
{
    while (s < e) {
        size_t n = py_space_len(s, e);
        if (!n)
            return 0;
        s += n;
    }
    return 1;
}

/* End of the line starting at s: pointer to its terminator (or end); *next = start of next line. */
static const unsigned char *line_end(const unsigned char *s, const unsigned char *end,
                                     const unsigned char **next)
{
    const unsigned char *p = s;
    while (p < end && *p != '\n' && *p != '\r')
        p++;
    if (p == end)
        *next = end;
    else if (*p == '\r' && p + 1 < end && p[1] == '\n')
        *next = p + 2;
    else
        *next = p + 1;
    return p;
}

typedef struct text_src {
    const char *data;      /* what the CSV reader parses */
    size_t len;
    char *copy;            /* filtered copy (owned) or NULL */
    void *map;             /* mmap of the file (owned) or NULL */
    size_t map_len;
    uint8_t *owned;        /* esf_file_read buffer or NULL */
    uint32_t *dropped;     /* physical line numbers dropped, ascending */
    size_t ndropped;
    char *path;
} text_src;

static void text_src_free(text_src *t)
{
    free(t->copy);
    if (t->map)
        munmap(t->map, t->map_len);
    free(t->owned);
    free(t->dropped);
    free(t->path);
    memset(t, 0, sizeof *t);
}

/* Physical line of line `l` of the filtered text. */
static uint32_t text_src_line(const text_src *t, uint32_t l)
{
    for (size_t i = 0; i < t->ndropped && t->dropped[i] <= l; i++)
        l++;
    return l;
}

static int text_src_filter(text_src *t, const char *data, size_t len, esf_error *err)
{
    const unsigned char *s = (const unsigned char *)data, *end = s + len, *next;
    uint32_t line = 1;
    size_t cap = 0;
    /* first scan: any blank line? */
    for (const unsigned char *p = s; p < end; p = next, line++) {
        const unsigned char *e = line_end(p, end, &next);
        if (line_is_blank(p, e)) {
            if (t->ndropped == cap) {
                cap = cap ? cap * 2 : 16;
                uint32_t *d = realloc(t->dropped, cap * sizeof *d);
                if (!d)
                    return esf_error_set(err, ESF_ERR_NO_MEM, "%s: filtering blank lines", t->path);
                t->dropped = d;
            }
            t->dropped[t->ndropped++] = line;
        }
    }
    if (!t->ndropped) {
        t->data = data;
        t->len = len;
        return ESF_OK;
    }
    if (!(t->copy = malloc(len + 1)))
        return esf_error_set(err, ESF_ERR_NO_MEM, "%s: filtering blank lines", t->path);
    size_t o = 0, di = 0;
    line = 1;
    for (const unsigned char *p = s; p < end; p = next, line++) {
        line_end(p, end, &next);
        if (di < t->ndropped && t->dropped[di] == line) {
            di++;
            continue;
        }
        memcpy(t->copy + o, p, (size_t)(next - p));
        o += (size_t)(next - p);
    }
    t->copy[o] = '\0';
    t->data = t->copy;
    t->len = o;
    return ESF_OK;
}

/* Load `path` (mapped when large) and filter it. */
static int text_src_open(text_src *t, const char *path, bool map, esf_error *err)
{
    memset(t, 0, sizeof *t);
    if (!(t->path = xstrdup(path)))
        return esf_error_set(err, ESF_ERR_NO_MEM, "%s", path);
    if (map) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            return esf_error_loc(err, ESF_ERR_IO, path, 0, 0, "cannot open: %s", strerror(e));
        }
        if (st.st_size > 0) {
            void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (m == MAP_FAILED) {
                int e = errno;
                close(fd);
                return esf_error_loc(err, ESF_ERR_IO, path, 0, 0, "cannot map: %s", strerror(e));
            }
            madvise(m, (size_t)st.st_size, MADV_SEQUENTIAL);
            t->map = m;
            t->map_len = (size_t)st.st_size;
        }
        close(fd);
        return text_src_filter(t, t->map ? t->map : "", t->map_len, err);
    }
    size_t len = 0;
    int rc = esf_file_read(path, &t->owned, &len, err);
    if (rc < 0)
        return rc;
    return text_src_filter(t, (const char *)t->owned, len, err);
}

/* ------------------------------------------------------------------ config file */

typedef struct cfg_row {
    char **cells;       /* after removing the first "REPEAT" cell */
    size_t n;
    bool is_ns;         /* some cell is "namespace" (mfg_gen's membership test) */
    uint32_t line;      /* physical line */
} cfg_row;

typedef struct mfg_config {
    cfg_row *rows;
    size_t nrows;
} mfg_config;

static void config_free(mfg_config *c)
{
    for (size_t i = 0; i < c->nrows; i++) {
        for (size_t j = 0; j < c->rows[i].n; j++)
            free(c->rows[i].cells[j]);
        free(c->rows[i].cells);
    }
    free(c->rows);
    memset(c, 0, sizeof *c);
}

/* Raw rows of a filtered text: a list of string vectors (also used for the values header). */
typedef struct raw_row {
    char **cells;
    uint32_t *cols;
    size_t n;
    uint32_t line;
} raw_row;

static void raw_row_free(raw_row *r)
{
    if (!r)
        return;
    for (size_t j = 0; j < r->n; j++)
        free(r->cells[j]);
    free(r->cells);
    free(r->cols);
    memset(r, 0, sizeof *r);
}

static int raw_row_copy(raw_row *dst, const esf_csv_row *row, const text_src *t)
{
    dst->n = row->nfields;
    dst->line = text_src_line(t, row->line);
    dst->cells = calloc(row->nfields ? row->nfields : 1, sizeof *dst->cells);
    dst->cols = calloc(row->nfields ? row->nfields : 1, sizeof *dst->cols);
    if (!dst->cells || !dst->cols)
        return -1;
    for (size_t j = 0; j < row->nfields; j++) {
        if (!(dst->cells[j] = malloc(row->fields[j].len + 1)))
            return -1;
        memcpy(dst->cells[j], row->fields[j].text, row->fields[j].len + 1);
        dst->cols[j] = row->fields[j].column;
    }
    return 0;
}

static bool row_has(char *const *cells, size_t n, const char *word)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(cells[i], word))
            return true;
    return false;
}

static const char *const valid_encodings[] = {
    "string", "binary", "hex2bin", "u8", "i8", "u16", "u32", "i32", "u64", "i64", "base64",
};

typedef struct run run;

/* ------------------------------------------------------------------ the run's shared state */

struct run {
    const esf_mfg_opts *o;
    mfg_config cfg;
    raw_row header;          /* values file column names */
    bool *repeat_col;        /* per column: overwritten with the first device's value */
    raw_row first;           /* the first device's row (REPEAT source) */
    bool have_first;
    char *pre;               /* outdir with trailing '/' ("" if outdir "") */
    char *csv_dir, *bin_dir, *keys_dir;
    uint8_t hmac_key[32];    /* derived/global keys */
    uint8_t derived_key[64];
    /* duplicate-name detection: open-addressing set of 64-bit hashes */
    uint64_t *names;
    size_t names_cap, names_len;
    /* old manifest (resume) */
    text_src old_src;
    esf_csv *old_csv;
    bool old_eof;
    raw_row old_row;
    bool old_have;
    /* new manifest */
    esf_atomic_file man_csv, man_json;
    bool man_open, json_open;
    uint64_t json_count;
};

/* ------------------------------------------------------------------ config validation */

static int load_config(run *r, esf_error *err)
{
    const esf_mfg_opts *o = r->o;
    text_src t;
    esf_csv *csv = NULL;
    int rc = text_src_open(&t, o->conf_path, false, err);
    if (rc < 0)
        goto done;
    if (t.len == 0) {
        rc = o->ref_messages
                 ? esf_error_set(err, ESF_ERR_INVALID, "Error: config file: %s is empty.", o->conf_path)
                 : esf_error_loc(err, ESF_ERR_INVALID, o->conf_path, 0, 0, "config file is empty");
        goto done;
    }
    esf_csv_opts co = { .skip_hash_lines = false };
    if ((rc = esf_csv_open_mem(&csv, t.data, t.len, o->conf_path, &co, err)) < 0)
        goto done;
    size_t cap = 0;
    for (;;) {
        esf_csv_row row;
        rc = esf_csv_next(csv, &row, err);
        if (rc < 0)
            goto done;
        if (rc == 0)
            break;
        if (row.nfields == 0)
            continue;  /* cannot happen after the blank-line filter; like csv.reader's [] rows */
        if (r->cfg.nrows == cap) {
            cap = cap ? cap * 2 : 16;
            cfg_row *n = realloc(r->cfg.rows, cap * sizeof *n);
            if (!n) {
                rc = esf_error_set(err, ESF_ERR_NO_MEM, "reading %s", o->conf_path);
                goto done;
            }
            r->cfg.rows = n;
        }
        raw_row rr = { 0 };
        if (raw_row_copy(&rr, &row, &t)) {
            raw_row_free(&rr);
            rc = esf_error_set(err, ESF_ERR_NO_MEM, "reading %s", o->conf_path);
            goto done;
        }
        cfg_row *c = &r->cfg.rows[r->cfg.nrows++];
        c->cells = rr.cells;
        c->n = rr.n;
        c->line = rr.line;
        c->is_ns = row_has(c->cells, c->n, "namespace");
        free(rr.cols);
    }
    rc = ESF_OK;
done:
    esf_csv_free(csv);
    text_src_free(&t);
    return rc;
}

/* mfg_gen's checks, in its order (verify_file_data_count, verify_datatype_encoding,
 * verify_keys_exist), then REPEAT removal. The values header must be loaded. */
static int check_config(run *r, esf_error *err)
{
    const esf_mfg_opts *o = r->o;
    mfg_config *c = &r->cfg;
    const char *cf = o->conf_path;
    /* REPEAT keys: first cell of rows holding a REPEAT cell */
    for (size_t i = 0; i < c->nrows; i++) {
        cfg_row *row = &c->rows[i];
        uint32_t rec = (uint32_t)i + 1;
        bool repeat_key = false;
        for (size_t k = 0; k < c->nrows && !repeat_key; k++)
            if (row_has(c->rows[k].cells, c->rows[k].n, "REPEAT") && !strcmp(c->rows[k].cells[0], row->cells[0]))
                repeat_key = true;
        if (row->n != 3 && !repeat_key)
            return o->ref_messages
                       ? esf_error_loc(err, ESF_ERR_INVALID, cf, row->line, 0,
                                       "Error: data missing in config file at line no:%u <format needed:key,type,encoding>\n",
                                       rec)
                       : esf_error_loc(err, ESF_ERR_INVALID, cf, row->line, 1,
                                       "%zu cells, want 3 (key,type,encoding) or 4 (key,type,encoding,REPEAT)",
                                       row->n);
    }
    for (size_t i = 0; i < c->nrows; i++) {
        cfg_row *row = &c->rows[i];
        uint32_t rec = (uint32_t)i + 1;
        const char *type = row->n > 1 ? row->cells[1] : "";
        if (row->n < 2 || (strcmp(type, "file") && strcmp(type, "data") && strcmp(type, "namespace")))
            return o->ref_messages
                       ? esf_error_loc(err, ESF_ERR_INVALID, cf, row->line, 0,
                                       "Error: config file: %s has invalid datatype at line no:%u\n`", cf, rec)
                       : esf_error_loc(err, ESF_ERR_INVALID, cf, row->line, 0,
                                       "type '%s' is not file, data or namespace", type);
        if (!row->is_ns) {
            bool ok = false;
            if (row->n > 2)
                for (size_t k = 0; k < sizeof valid_encodings / sizeof *valid_encodings; k++)
                    ok |= !strcmp(row->cells[2], valid_encodings[k]);
            if (!ok)
                return o->ref_messages
                           ? esf_error_loc(err, ESF_ERR_INVALID, cf, row->line, 0,
                                           "Error: config file: %s has invalid encoding at line no:%u\n`", cf, rec)
                           : esf_error_loc(err, ESF_ERR_INVALID, cf, row->line, 0,
                                           "encoding '%s' is not one mfg_gen accepts (string, binary, hex2bin, "
                                           "u8, i8, u16, u32, i32, u64, i64, base64)",
                                           row->n > 2 ? row->cells[2] : "");
        }
    }
    /* keys in the values header, in the same order */
    buf missing = { 0 };
    size_t hpos = 0;
    int nmissing = 0;
    for (size_t i = 0; i < c->nrows; i++) {
        cfg_row *row = &c->rows[i];
        if (row->is_ns)
            continue;
        /* next header column that is also a config key */
        while (hpos < r->header.n) {
            bool is_key = false;
            for (size_t k = 0; k < c->nrows && !is_key; k++)
                is_key = !c->rows[k].is_ns && !strcmp(c->rows[k].cells[0], r->header.cells[hpos]);
            if (is_key)
                break;
            hpos++;
        }
        if (hpos < r->header.n && !strcmp(r->header.cells[hpos], row->cells[0])) {
            hpos++;
            continue;
        }
        nmissing++;
        char line[600];
        if (o->ref_messages)
            snprintf(line, sizeof line, "%sKey:` %s ` at line no: %u  in config file is not found in values file.",
                     missing.len ? "\n" : "", row->cells[0], (unsigned)i + 1);
        else
            snprintf(line, sizeof line, "%s%s:%u: key '%s' has no column in %s (columns must follow the config order)",
                     missing.len ? "\n" : "", cf, row->line, row->cells[0], o->values_path);
        if (buf_adds(&missing, line)) {
            free(missing.p);
            return esf_error_set(err, ESF_ERR_NO_MEM, "checking keys");
        }
    }
    if (nmissing) {
        int rc = esf_error_set(err, ESF_ERR_NOT_FOUND, "%s", missing.p);
        free(missing.p);
        return rc;
    }
    /* mfg_gen removes the first "REPEAT" cell of each row when assembling device CSVs */
    for (size_t i = 0; i < c->nrows; i++) {
        cfg_row *row = &c->rows[i];
        for (size_t j = 0; j < row->n; j++)
            if (!strcmp(row->cells[j], "REPEAT")) {
                free(row->cells[j]);
                memmove(&row->cells[j], &row->cells[j + 1], (row->n - j - 1) * sizeof *row->cells);
                row->n--;
                break;
            }
    }
    return ESF_OK;
}

/* REPEAT columns (set_repeat_value): header positions matched greedily, in order, against the
 * config's REPEAT keys in config order. */
static int compute_repeat(run *r, esf_error *err)
{
    if (!(r->repeat_col = calloc(r->header.n ? r->header.n : 1, sizeof *r->repeat_col)))
        return esf_error_set(err, ESF_ERR_NO_MEM, "REPEAT columns");
    /* config REPEAT keys in config order (before removal, rows that held REPEAT): recomputed
     * from the raw config is not possible after removal, so check_config runs after this. */
    size_t k = 0;
    const mfg_config *c = &r->cfg;
    /* list of repeat keys */
    const char **keys = calloc(c->nrows ? c->nrows : 1, sizeof *keys);
    size_t nkeys = 0;
    if (!keys)
        return esf_error_set(err, ESF_ERR_NO_MEM, "REPEAT columns");
    for (size_t i = 0; i < c->nrows; i++)
        if (row_has(c->rows[i].cells, c->rows[i].n, "REPEAT"))
            keys[nkeys++] = c->rows[i].cells[0];
    for (size_t col = 0; col < r->header.n && k < nkeys; col++)
        if (!strcmp(r->header.cells[col], keys[k])) {
            r->repeat_col[col] = true;
            k++;
        }
    free(keys);
    return ESF_OK;
}
