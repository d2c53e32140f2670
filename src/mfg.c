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
#include "internal/strbuf.h"

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
    void *map;             /* mapping of the file, or of the filtered copy (owned) or NULL */
    size_t map_len;
    size_t released;       /* bytes at the start of the mapping given back (text_src_release) */
    uint8_t *owned;        /* esf_file_read buffer or NULL */
    uint32_t *dropped;     /* physical line numbers dropped, ascending */
    size_t ndropped;
    char *path;
} text_src;

static void text_src_free(text_src *t)
{
    if (t->map)
        munmap(t->map, t->map_len);
    free(t->owned);
    free(t->dropped);
    free(t->path);
    memset(t, 0, sizeof *t);
}

/* Streaming: give the pages before byte `off` of a mapped text back to the system (they are
 * read again from the file if a later pass needs them), so memory stays flat however many
 * devices the values file holds. */
static void text_src_release(text_src *t, size_t off)
{
    long pg = sysconf(_SC_PAGESIZE);
    if (!t->map || pg <= 0 || off < t->released + ((size_t)4 << 20))
        return;
    size_t to = off / (size_t)pg * (size_t)pg;
    madvise((char *)t->map + t->released, to - t->released, MADV_DONTNEED);
    t->released = to;
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
    /* first scan: blank lines, and UTF-8 (the reference opens the inputs as UTF-8 text) */
    bool mapped = t->map && data == t->map;
    for (const unsigned char *p = s; p < end; p = next, line++) {
        const unsigned char *e = line_end(p, end, &next);
        size_t bad = esf_utf8_check(p, (size_t)(e - p));
        if (bad != (size_t)(e - p))
            return esf_error_loc(err, ESF_ERR_PARSE, t->path, line, (uint32_t)bad + 1,
                                 "invalid UTF-8 (byte 0x%02x)", p[bad]);
        if (mapped)
            text_src_release(t, (size_t)(next - s));
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
    if (mapped) {  /* the scan is done: give the rest back too, the parser streams */
        madvise(t->map, t->map_len, MADV_DONTNEED);
        t->released = 0;
    }
    if (!t->ndropped) {
        t->data = data;
        t->len = len;
        return ESF_OK;
    }
    /* the filtered text goes to an unlinked temporary file, mapped like the input (not to the
     * heap: memory stays flat for large values files) */
    FILE *tmp = tmpfile();
    if (!tmp)
        return esf_error_loc(err, ESF_ERR_IO, t->path, 0, 0, "temporary file: %s", strerror(errno));
    size_t o = 0, di = 0;
    line = 1;
    for (const unsigned char *p = s; p < end; p = next, line++) {
        line_end(p, end, &next);
        if (di < t->ndropped && t->dropped[di] == line) {
            di++;
            continue;
        }
        if (fwrite(p, 1, (size_t)(next - p), tmp) != (size_t)(next - p))
            break;
        o += (size_t)(next - p);
        if (mapped)
            text_src_release(t, (size_t)(next - s));
    }
    void *m = NULL;
    if (fflush(tmp) == 0 && !ferror(tmp) && o) {
        m = mmap(NULL, o, PROT_READ, MAP_PRIVATE, fileno(tmp), 0);
        if (m == MAP_FAILED)
            m = NULL;
    }
    fclose(tmp);
    if (o && !m)
        return esf_error_loc(err, ESF_ERR_IO, t->path, 0, 0, "temporary file: %s", strerror(errno));
    /* the input's own mapping is not needed any more */
    if (t->map)
        munmap(t->map, t->map_len);
    t->map = m;
    t->map_len = o;
    t->data = m ? m : "";
    t->len = o;
    return ESF_OK;
}

/* Load `path` (mapped when large), filter it, check it is UTF-8. */
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

#define MFG_MAX_CELLS 64   /* cells of a config row */

/* ------------------------------------------------------------------ the run's shared state */

struct run {
    const esf_mfg_opts *o;
    mfg_config cfg;
    raw_row header;          /* values file column names */
    bool *repeat_col;        /* per column: overwritten with the first device's value */
    raw_row first;           /* the first device's row (REPEAT source) */
    bool have_first;
    char *pre;               /* outdir with trailing '/' ("" if outdir "") */
    char *keys_dir;
    bool cfg_hash;           /* a config key starts with '#' (see map_rows) */
    int dir_fd[3];           /* write pass: csv/, bin/, keys/ opened (-1 = not open) */
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
                 ? esf_error_set(err, ESF_ERR_PARSE, "Error: config file: %s is empty.", o->conf_path)
                 : esf_error_loc(err, ESF_ERR_PARSE, o->conf_path, 0, 0, "config file is empty");
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
                       ? esf_error_loc(err, ESF_ERR_PARSE, cf, row->line, 0,
                                       "Error: data missing in config file at line no:%u <format needed:key,type,encoding>\n",
                                       rec)
                       : esf_error_loc(err, ESF_ERR_PARSE, cf, row->line, 1,
                                       "%zu cells, want 3 (key,type,encoding) or 4 (key,type,encoding,REPEAT)",
                                       row->n);
    }
    for (size_t i = 0; i < c->nrows; i++) {
        cfg_row *row = &c->rows[i];
        uint32_t rec = (uint32_t)i + 1;
        const char *type = row->n > 1 ? row->cells[1] : "";
        if (row->n < 2 || (strcmp(type, "file") && strcmp(type, "data") && strcmp(type, "namespace")))
            return o->ref_messages
                       ? esf_error_loc(err, ESF_ERR_PARSE, cf, row->line, 0,
                                       "Error: config file: %s has invalid datatype at line no:%u\n`", cf, rec)
                       : esf_error_loc(err, ESF_ERR_PARSE, cf, row->line, 0,
                                       "type '%s' is not file, data or namespace", type);
        if (!row->is_ns) {
            bool ok = false;
            if (row->n > 2)
                for (size_t k = 0; k < sizeof valid_encodings / sizeof *valid_encodings; k++)
                    ok |= !strcmp(row->cells[2], valid_encodings[k]);
            if (!ok)
                return o->ref_messages
                           ? esf_error_loc(err, ESF_ERR_PARSE, cf, row->line, 0,
                                           "Error: config file: %s has invalid encoding at line no:%u\n`", cf, rec)
                           : esf_error_loc(err, ESF_ERR_PARSE, cf, row->line, 0,
                                           "encoding '%s' is not one mfg_gen accepts (string, binary, hex2bin, "
                                           "u8, i8, u16, u32, i32, u64, i64, base64)",
                                           row->n > 2 ? row->cells[2] : "");
        }
    }
    /* keys in the values header, in the same order */
    esf_sb missing = { 0 };
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
        esf_sb_add(&missing, line);
        if (missing.oom) {
            esf_sb_free(&missing);
            return esf_error_set(err, ESF_ERR_NO_MEM, "checking keys");
        }
    }
    if (nmissing) {
        int rc = esf_error_set(err, ESF_ERR_NOT_FOUND, "%s", missing.p);
        esf_sb_free(&missing);
        return rc;
    }
    for (size_t i = 0; i < c->nrows; i++) {
        cfg_row *row = &c->rows[i];
        if (row->n > MFG_MAX_CELLS)
            return esf_error_loc(err, ESF_ERR_PARSE, cf, row->line, 0, "%zu cells: at most %d", row->n,
                                 MFG_MAX_CELLS);
        for (size_t k = 0; k < row->n; k++)
            if ((k == 0 && row->cells[0][0] == '#') || strstr(row->cells[k], "\n#"))
                r->cfg_hash = true;
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

/* ------------------------------------------------------------------ Python csv.writer (excel) */

/* Append one row as Python's csv.writer writes it: QUOTE_MINIMAL (fields holding ',', '"', '\r'
 * or '\n' are quoted, quotes doubled), a lone empty field written as "", CRLF line end. */
static int csv_put_row(esf_sb *b, const char *const *f, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            esf_sb_addn(b, ",", 1);
        const char *s = f[i];
        bool q = strpbrk(s, ",\"\r\n") != NULL || (n == 1 && !*s);
        if (!q) {
            esf_sb_add(b, s);
            continue;
        }
        esf_sb_addn(b, "\"", 1);
        for (const char *p = s;;) {  /* runs up to each quote, the quote doubled */
            const char *q = strchr(p, '"');
            size_t run = q ? (size_t)(q - p) + 1 : strlen(p);
            esf_sb_addn(b, p, run);
            if (!q)
                break;
            esf_sb_addn(b, "\"", 1);
            p = q + 1;
        }
        esf_sb_addn(b, "\"", 1);
    }
    esf_sb_addn(b, "\r\n", 2);
    return b->oom ? -1 : 0;
}

/* ------------------------------------------------------------------ jobs */

enum { SLOT_FREE, SLOT_READY, SLOT_TAKEN, SLOT_DONE };

typedef struct job {
    int state;
    /* input (producer) */
    uint64_t index;
    uint32_t line;
    char **cells;          /* the device's row after REPEAT, pointers into `arena` */
    uint32_t *cols;
    size_t ncells, cells_cap;
    esf_sb arena;
    char *name, *csv_path, *bin_path, *key_path, *hmac_path;
    bool have_old;         /* resume: the old manifest lists this device */
    uint8_t old_sha[32], old_plain[32];
    char *old_key;         /* old manifest's key path (relative to outdir) */
    /* output (worker) */
    int rc;
    esf_error err;
    uint8_t sha[32], plain_sha[32];
    bool skipped;
    bool key_written;
    bool fatal;            /* an output could not be written: stops the run even with keep_going */
    uint8_t hkey[32];      /* ESF_MFG_KEY_HMAC_GEN: this device's HMAC key */
} job;

static void job_clear(job *j)
{
    free(j->name);
    free(j->csv_path);
    free(j->bin_path);
    free(j->key_path);
    free(j->hmac_path);
    free(j->old_key);
    j->name = j->csv_path = j->bin_path = j->key_path = j->hmac_path = j->old_key = NULL;
    j->have_old = j->skipped = j->key_written = j->fatal = false;
    j->rc = ESF_OK;
    esf_error_clear(&j->err);
}

static void job_free(job *j)
{
    job_clear(j);
    free(j->cells);
    free(j->cols);
    esf_sb_free(&j->arena);
}

/* Python splitext rule of set_target_filepath for key file names: no extension -> ".bin"
 * appended; an extension without ".bin" in it -> error; else kept. */
static int key_file_name(const char *name, char **out)
{
    const char *slash = strrchr(name, '/');
    const char *base = slash ? slash + 1 : name;
    const char *b = base;
    while (*b == '.')
        b++;
    const char *dot = strrchr(b, '.');
    *out = NULL;
    if (!dot) {
        *out = xasprintf("%s.bin", name);
        return *out ? 0 : -1;
    }
    if (!strstr(dot, ".bin"))
        return 1;
    *out = xstrdup(name);
    return *out ? 0 : -1;
}

/* ------------------------------------------------------------------ run state, values file */

typedef struct engine engine;

typedef struct run_state {
    run r;
    text_src vals;
    esf_csv *vcsv;
} run_state;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h ? h : 1;
}

/* Insert a name hash; returns 1 if it was present, 0 if added, -1 out of memory. */
static int names_insert(run *r, const char *name)
{
    if (r->names_len * 2 >= r->names_cap) {
        size_t cap = r->names_cap ? r->names_cap * 2 : 1024;
        uint64_t *n = calloc(cap, sizeof *n);
        if (!n)
            return -1;
        for (size_t i = 0; i < r->names_cap; i++)
            if (r->names[i]) {
                size_t k = r->names[i] & (cap - 1);
                while (n[k])
                    k = (k + 1) & (cap - 1);
                n[k] = r->names[i];
            }
        free(r->names);
        r->names = n;
        r->names_cap = cap;
    }
    uint64_t h = fnv1a(name);
    size_t k = h & (r->names_cap - 1);
    while (r->names[k]) {
        if (r->names[k] == h)
            return 1;
        k = (k + 1) & (r->names_cap - 1);
    }
    r->names[k] = h;
    r->names_len++;
    return 0;
}

/* (Re)open the values file and read its header row. */
static int values_open(run_state *s, esf_error *err)
{
    run *r = &s->r;
    esf_csv_free(s->vcsv);
    s->vcsv = NULL;
    if (!s->vals.data) {
        int rc = text_src_open(&s->vals, r->o->values_path, true, err);
        if (rc < 0)
            return rc;
    }
    esf_csv_opts co = { .skip_hash_lines = false };
    s->vals.released = 0;
    int rc = esf_csv_open_mem(&s->vcsv, s->vals.data, s->vals.len, r->o->values_path, &co, err);
    if (rc < 0)
        return rc;
    esf_csv_row row;
    do {
        rc = esf_csv_next(s->vcsv, &row, err);
        if (rc < 0)
            return rc;
    } while (rc == 1 && row.nfields == 0);
    if (rc == 0)
        return esf_error_loc(err, ESF_ERR_PARSE, r->o->values_path, 0, 0, "values file has no header row");
    if (!r->header.cells) {
        if (raw_row_copy(&r->header, &row, &s->vals))
            return esf_error_set(err, ESF_ERR_NO_MEM, "reading %s", r->o->values_path);
    }
    return ESF_OK;
}

static int job_put_cell(job *j, size_t k, const char *s, size_t len, uint32_t col, size_t *offs)
{
    offs[k] = j->arena.len;
    j->cols[k] = col;
    esf_sb_addn(&j->arena, s, len);
    esf_sb_addn(&j->arena, "", 1);
    return j->arena.oom ? -1 : 0;
}

#define JOB_FAIL(j, code, ...) \
    do { (j)->rc = esf_error_loc(&(j)->err, code, __VA_ARGS__); return 1; } while (0)

/* Read the next device row into `j`. Returns 1 (a job, maybe already failed), 0 (end), <0. */
static int produce(run_state *s, job *j, uint64_t index, bool pass2, esf_error *err)
{
    run *r = &s->r;
    const esf_mfg_opts *o = r->o;
    esf_csv_row row;
    int rc;
    do {
        rc = esf_csv_next(s->vcsv, &row, err);
        if (rc <= 0)
            return rc;
    } while (row.nfields == 0);
    text_src_release(&s->vals, esf_csv_offset(s->vcsv));
    job_clear(j);
    j->index = index;
    j->line = text_src_line(&s->vals, row.line);
    const char *vf = o->values_path;
    if (row.nfields != r->header.n) {
        if (o->ref_messages)
            JOB_FAIL(j, ESF_ERR_PARSE, vf, j->line, 0,
                     "\nError: Number of values is not equal to number of keys in file: %s at line No:%llu\n",
                     vf, (unsigned long long)index + 2);
        JOB_FAIL(j, ESF_ERR_PARSE, vf, j->line, 1, "%zu values, the header has %zu columns", row.nfields,
                 r->header.n);
    }
    size_t n = row.nfields;
    if (j->cells_cap < n) {
        char **c = realloc(j->cells, n * sizeof *c);
        uint32_t *cl = c ? realloc(j->cols, n * sizeof *cl) : NULL;
        if (c)
            j->cells = c;
        if (!c || !cl)
            return esf_error_set(err, ESF_ERR_NO_MEM, "reading %s", vf);
        j->cols = cl;
        j->cells_cap = n;
    }
    size_t offs_small[64], *offs = n <= 64 ? offs_small : malloc(n * sizeof *offs);
    if (!offs)
        return esf_error_set(err, ESF_ERR_NO_MEM, "reading %s", vf);
    esf_sb_reset(&j->arena);
    for (size_t k = 0; k < n; k++) {
        const esf_csv_field *f = &row.fields[k];
        if (job_put_cell(j, k, f->text, f->len, f->column, offs)) {
            if (offs != offs_small)
                free(offs);
            return esf_error_set(err, ESF_ERR_NO_MEM, "reading %s", vf);
        }
    }
    for (size_t k = 0; k < n; k++)
        j->cells[k] = j->arena.p + offs[k];
    if (offs != offs_small)
        free(offs);
    j->ncells = n;
    for (size_t k = 0; k < n; k++)
        if (strlen(j->cells[k]) != row.fields[k].len)
            JOB_FAIL(j, ESF_ERR_PARSE, vf, j->line, j->cols[k], "NUL byte in value of column '%s'",
                     r->header.cells[k]);
    /* REPEAT: the first device's value replaces later devices' cells */
    if (index == 0) {
        if (!r->have_first) {
            if (raw_row_copy(&r->first, &row, &s->vals))
                return esf_error_set(err, ESF_ERR_NO_MEM, "reading %s", vf);
            r->have_first = true;
        }
    } else if (r->have_first) {
        for (size_t k = 0; k < n; k++)
            if (r->repeat_col[k])
                j->cells[k] = r->first.cells[k];
    }
    /* file id and names */
    char num[32];
    const char *fid = NULL;
    size_t fid_col = 0;
    if (o->fileid) {
        for (size_t k = 0; k < n && !fid; k++)
            if (!strcmp(r->header.cells[k], o->fileid) || !strcmp(j->cells[k], o->fileid)) {
                fid = j->cells[k];
                fid_col = k;
            }
    }
    if (!fid) {
        snprintf(num, sizeof num, "%llu", (unsigned long long)index + 1);
        fid = num;
    }
    if (o->prefix_num)
        j->name = xasprintf("%s-%0*lld-%s", o->prefix, o->prefix_num_len,
                            (long long)(o->prefix_num_start + (int64_t)index), fid);
    else
        j->name = xasprintf("%s-%s", o->prefix, fid);
    if (!j->name)
        return esf_error_set(err, ESF_ERR_NO_MEM, "naming device");
    if (strchr(j->name, '/'))
        JOB_FAIL(j, ESF_ERR_INVALID_ARG, vf, j->line, fid == num ? 0 : j->cols[fid_col],
                 "device name '%s' contains '/'", j->name);
    j->csv_path = xasprintf("%scsv/%s.csv", r->pre, j->name);
    j->bin_path = xasprintf("%sbin/%s.bin", r->pre, j->name);
    if (!j->csv_path || !j->bin_path)
        return esf_error_set(err, ESF_ERR_NO_MEM, "naming device");
    int dup = names_insert(r, j->name);
    if (dup < 0)
        return esf_error_set(err, ESF_ERR_NO_MEM, "naming device");
    if (dup) {
        if (o->ref_messages)
            JOB_FAIL(j, ESF_ERR_EXISTS, vf, j->line, 0, "Target csv file: %s already exists.`", j->csv_path);
        JOB_FAIL(j, ESF_ERR_EXISTS, vf, j->line, fid == num ? 0 : j->cols[fid_col],
                 "device name '%s' is used by an earlier row", j->name);
    }
    if (o->refuse_existing && !pass2) {
        if (access(j->csv_path, F_OK) == 0)
            JOB_FAIL(j, ESF_ERR_EXISTS, vf, j->line, 0, "Target csv file: %s already exists.`", j->csv_path);
        if (access(j->bin_path, F_OK) == 0)
            JOB_FAIL(j, ESF_ERR_EXISTS, vf, j->line, 0, "Target binary file: %s already exists.`", j->bin_path);
    }
    if (o->key_mode >= ESF_MFG_KEY_GEN) {
        char *kn = xasprintf("keys-%s", j->name), *fname = NULL;
        if (!kn)
            return esf_error_set(err, ESF_ERR_NO_MEM, "naming device");
        int k = key_file_name(kn, &fname);
        if (k == 1) {
            int c = esf_error_loc(&j->err, ESF_ERR_INVALID_ARG, vf, j->line, 0,
                                  "Error: `%s`. Only `.bin` extension allowed.", kn);
            free(kn);
            j->rc = c;
            return 1;
        }
        free(kn);
        if (k < 0 || !(j->key_path = xasprintf("%s%s", r->keys_dir, fname))) {
            free(fname);
            return esf_error_set(err, ESF_ERR_NO_MEM, "naming device");
        }
        free(fname);
        if (o->key_mode == ESF_MFG_KEY_HMAC_GEN) {
            char *hn = o->hmac_keyfile ? xstrdup(o->hmac_keyfile) : xasprintf("hmac-keys-%s", j->name);
            if (!hn)
                return esf_error_set(err, ESF_ERR_NO_MEM, "naming device");
            k = key_file_name(hn, &fname);
            if (k == 1) {
                int c = esf_error_loc(&j->err, ESF_ERR_INVALID_ARG, vf, j->line, 0,
                                      "Error: `%s`. Only `.bin` extension allowed.", hn);
                free(hn);
                j->rc = c;
                return 1;
            }
            free(hn);
            j->hmac_path = k < 0 ? NULL
                                 : fname[0] == '/' ? xstrdup(fname) : xasprintf("%s%s", r->keys_dir, fname);
            free(fname);
            if (!j->hmac_path)
                return esf_error_set(err, ESF_ERR_NO_MEM, "naming device");
        }
    }
    return 1;
}

/* ------------------------------------------------------------------ one device's image */

typedef struct worker {
    run *r;
    esf_nvs_gen *g;
    uint8_t *img;          /* opts.size bytes */
    uint8_t *old;          /* resume: the image on disk */
    esf_sb text;            /* the device's intermediate CSV */
    uint32_t *row_line;    /* per CSV row (0 = header): first line in `text` */
    size_t *row_cfg;       /* per CSV row: config row index */
    size_t *row_col;       /* per CSV row: values column, SIZE_MAX for namespace rows */
    size_t rows_cap;
    bool reparse;          /* this device's image must come from its CSV text (see map_rows) */
    pthread_t tid;
} worker;

static size_t count_nl(const char *s, size_t n)
{
    size_t c = 0;
    for (const char *p = s, *e = s + n; (p = memchr(p, '\n', (size_t)(e - p))) != NULL; p++)
        c++;
    return c;
}

/* Map each config row to its value column for job `j` (mfg_gen's add_data_to_file scan: the
 * next (name, value) pair whose name OR value equals the key). Sets w->reparse when the written
 * CSV would hold a line starting with '#' (a '#' key, or "\n#" in a value): the generator drops
 * such lines, so then the image must come from the CSV text itself. */
static int map_rows(worker *w, job *j)
{
    run *r = w->r;
    const mfg_config *c = &r->cfg;
    if (w->rows_cap < c->nrows + 1) {
        size_t cap = c->nrows + 1;
        uint32_t *a = realloc(w->row_line, cap * sizeof *a);
        if (a)
            w->row_line = a;
        size_t *b = a ? realloc(w->row_cfg, cap * sizeof *b) : NULL;
        if (b)
            w->row_cfg = b;
        size_t *d = b ? realloc(w->row_col, cap * sizeof *d) : NULL;
        if (!d)
            return j->rc = esf_error_set(&j->err, ESF_ERR_NO_MEM, "assembling %s", j->name);
        w->row_col = d;
        w->rows_cap = cap;
    }
    w->reparse = r->cfg_hash;
    size_t pos = 0;
    for (size_t i = 0; i < c->nrows; i++) {
        const cfg_row *cr = &c->rows[i];
        size_t col = SIZE_MAX;
        if (!cr->is_ns) {
            const char *key = cr->n ? cr->cells[0] : "";
            while (pos < j->ncells && strcmp(r->header.cells[pos], key) && strcmp(j->cells[pos], key))
                pos++;
            if (pos >= j->ncells)
                return j->rc = esf_error_loc(&j->err, ESF_ERR_PARSE, r->o->conf_path, cr->line, 1,
                                             "device %s: key '%s' has no value column", j->name, key);
            col = pos++;
            if (strstr(j->cells[col], "\n#"))
                w->reparse = true;
        }
        w->row_cfg[i + 1] = i;
        w->row_col[i + 1] = col;
    }
    return ESF_OK;
}

/* Assemble the intermediate CSV text of job `j` (after map_rows), recording each row's line. */
static int build_text(worker *w, job *j)
{
    run *r = w->r;
    const mfg_config *c = &r->cfg;
    esf_sb_reset(&w->text);
    static const char *const hdr[] = { "key", "type", "encoding", "value" };
    if (csv_put_row(&w->text, hdr, 4))
        return j->rc = esf_error_set(&j->err, ESF_ERR_NO_MEM, "assembling %s", j->name);
    uint32_t line = 2;
    const char *cells[MFG_MAX_CELLS + 1];
    for (size_t i = 0; i < c->nrows; i++) {
        const cfg_row *cr = &c->rows[i];
        size_t col = w->row_col[i + 1];
        for (size_t k = 0; k < cr->n; k++)
            cells[k] = cr->cells[k];
        cells[cr->n] = col == SIZE_MAX ? "" : j->cells[col];
        size_t before = w->text.len;
        if (csv_put_row(&w->text, cells, cr->n + 1))
            return j->rc = esf_error_set(&j->err, ESF_ERR_NO_MEM, "assembling %s", j->name);
        w->row_line[i + 1] = line;
        line += (uint32_t)count_nl(w->text.p + before, w->text.len - before);
    }
    w->row_line[0] = 1;
    return ESF_OK;
}

/* Hand the rows to the generator directly: what it would read back from the CSV text when no line
 * of it starts with '#' (csv.writer then csv.reader is the identity on these fields). */
static int add_rows(worker *w, job *j)
{
    run *r = w->r;
    const mfg_config *c = &r->cfg;
    for (size_t i = 0; i < c->nrows; i++) {
        const cfg_row *cr = &c->rows[i];
        size_t col = w->row_col[i + 1];
        const char *f[MFG_MAX_CELLS + 1];
        size_t n = cr->n;
        for (size_t k = 0; k < n; k++)
            f[k] = cr->cells[k];
        f[n++] = col == SIZE_MAX ? "" : j->cells[col];
        esf_nvs_row row = { 0 };
        row.key = f[0];
        row.key_len = strlen(f[0]);
        if (n > 1) {
            row.type = f[1];
            row.type_len = strlen(f[1]);
        }
        if (n > 2) {
            row.encoding = f[2];
            row.encoding_len = strlen(f[2]);
        }
        if (n > 3) {
            row.value = f[3];
            row.value_len = strlen(f[3]);
        }
        if (col == SIZE_MAX) {
            row.source = r->o->conf_path;
            row.line = cr->line;
        } else {
            row.source = r->o->values_path;
            row.line = j->line;
            row.col_value = j->cols[col];
        }
        int rc = esf_nvs_gen_add_row(w->g, &row, &j->err);
        if (rc < 0)
            return rc;
    }
    return ESF_OK;
}

/* Point a generator error at the values file (or the config file for namespace rows). */
static void relocate_error(worker *w, job *j)
{
    run *r = w->r;
    const mfg_config *c = &r->cfg;
    char msg[sizeof j->err.msg];
    snprintf(msg, sizeof msg, "%s", j->err.msg);
    if (r->o->ref_messages)
        return;  /* the twin prints the generator's own text */
    uint32_t l = j->err.line;
    size_t row = 0;
    for (size_t k = 1; k <= c->nrows; k++)
        if (w->row_line[k] <= l)
            row = k;
    if (row == 0 || !l) {
        esf_error_loc(&j->err, j->rc, r->o->values_path, j->line, 0, "device %s: %s", j->name, msg);
        return;
    }
    const cfg_row *cr = &c->rows[w->row_cfg[row]];
    if (w->row_col[row] == SIZE_MAX)
        esf_error_loc(&j->err, j->rc, r->o->conf_path, cr->line, 1, "device %s: %s", j->name, msg);
    else
        esf_error_loc(&j->err, j->rc, r->o->values_path, j->line, j->cols[w->row_col[row]],
                      "device %s, column '%s': %s", j->name, r->header.cells[w->row_col[row]], msg);
}

/* Generate the plain image of `j` into w->img (`len` NULL: only check that every row is accepted). */
static int gen_plain(worker *w, job *j, size_t *len, bool need_text)
{
    int rc = map_rows(w, j);
    if (rc < 0)
        return rc;
    if ((need_text || w->reparse) && (rc = build_text(w, j)) < 0)
        return rc;
    esf_nvs_gen_reset(w->g);
    if (w->reparse) {
        rc = esf_nvs_gen_add_csv(w->g, w->text.p, w->text.len, j->csv_path, &j->err);
        if (rc < 0) {
            j->rc = rc;
            relocate_error(w, j);
            return rc;
        }
    } else if ((rc = add_rows(w, j)) < 0) {
        j->rc = rc;
        if (!w->r->o->ref_messages)
            esf_error_wrap(&j->err, "device %s", j->name);
        return rc;
    }
    if (!len)
        return ESF_OK;  /* validation only: every row was accepted; finishing cannot fail */
    rc = esf_nvs_gen_finish(w->g, w->img, len, &j->err);
    if (rc < 0)
        j->rc = rc;
    return rc;
}

static bool file_exists(const char *p) { return access(p, F_OK) == 0; }

/* A digest of a plain image for resume decisions, cheaper than hashing the whole image: SHA-256
 * of the bytes up to the end of the last page that is not blank (all 0xFF), then the image length
 * as 8 bytes little-endian. Equal digests = equal images (the rest is blank by construction). */
static int plain_digest(const uint8_t *img, size_t len, uint8_t out[32])
{
    size_t used = len;
    while (used >= 4096 && img[used - 4096] == 0xFF && !memcmp(img + used - 4096, img + used - 4095, 4095))
        used -= 4096;
    uint8_t tail[8];
    for (int i = 0; i < 8; i++)
        tail[i] = (uint8_t)((uint64_t)len >> (8 * i));
    esf_sha256_ctx *c = esf_sha256_begin();
    if (!c || esf_sha256_update(c, img, used) < 0 || esf_sha256_update(c, tail, 8) < 0)
        return c ? (esf_sha256_end(c, out), -1) : -1;
    return esf_sha256_end(c, out);
}

static int write_file(job *j, const char *path, const void *data, size_t len);

/* Read the image on disk into w->old. Returns its length, or SIZE_MAX if unreadable. */
static size_t read_old(worker *w, const job *j)
{
    FILE *fp = fopen(j->bin_path, "rb");
    if (!fp)
        return SIZE_MAX;
    size_t n = fread(w->old, 1, (size_t)w->r->o->size + 1, fp);
    fclose(fp);
    return n;
}

/* Resume, fresh keys: the manifest's plain digest equals this run's, the image on disk still has
 * the manifest's SHA-256 and its key file is there. Then the old image and key stay. */
static bool can_skip_fresh(worker *w, job *j)
{
    run *r = w->r;
    uint8_t sha[32];
    if (!j->have_old || memcmp(j->old_plain, j->plain_sha, 32) || !j->old_key || !j->old_key[0])
        return false;
    size_t n = read_old(w, j);
    if (n == SIZE_MAX || esf_sha256(w->old, n, sha) < 0 || memcmp(sha, j->old_sha, 32))
        return false;
    char *kp = xasprintf("%s%s", r->pre, j->old_key);
    if (!kp || !file_exists(kp)) {
        free(kp);
        return false;
    }
    free(j->key_path);
    j->key_path = kp;
    return true;
}

/* Resume, deterministic images (plain or one key): the new image has the manifest's SHA-256 and
 * the file on disk holds exactly these bytes. */
static bool can_skip_same(worker *w, job *j, const uint8_t *img, size_t len)
{
    if (!j->have_old || memcmp(j->old_sha, j->sha, 32))
        return false;
    size_t n = read_old(w, j);
    return n == len && !memcmp(w->old, img, len);
}

static void keep_old(worker *w, job *j)
{
    j->skipped = true;
    memcpy(j->sha, j->old_sha, 32);
    memcpy(j->plain_sha, j->old_plain, 32);
    if (!w->r->o->no_csv && !file_exists(j->csv_path))
        write_file(j, j->csv_path, w->text.p, w->text.len);
}

static int write_file(job *j, const char *path, const void *data, size_t len)
{
    int rc = esf_file_write_atomic(path, data, len, &j->err);
    if (rc < 0) {
        j->rc = rc;
        j->fatal = true;
    }
    return rc;
}

/* Write `path`, a file directly in the output sub-directory open as `dirfd` (csv/, bin/, keys/):
 * by name relative to that directory, which saves the path walks of thousands of files. */
static int write_in(job *j, int dirfd, const char *path, const void *data, size_t len)
{
    const char *base = strrchr(path, '/');
    if (dirfd < 0)
        return write_file(j, path, data, len);
    int rc = esf_file_write_atomic_at(dirfd, base ? base + 1 : path, data, len, path, &j->err);
    if (rc < 0) {
        j->rc = rc;
        j->fatal = true;
    }
    return rc;
}

/* Process one job: pass 1 validates (generation in memory); pass 2 also encrypts, hashes and
 * writes. Sets j->rc / j->err. */
static void process(worker *w, job *j, int pass)
{
    run *r = w->r;
    const esf_mfg_opts *o = r->o;
    if (j->rc < 0)
        return;
    size_t len = 0;
    if (gen_plain(w, j, pass == 2 ? &len : NULL, pass == 2 && !o->no_csv) < 0) {
        if (j->rc == ESF_OK)
            j->rc = j->err.code ? j->err.code : ESF_ERR_INTERNAL;
        return;
    }
    if (pass == 1)
        return;
    uint8_t *img = w->img;
    bool fresh = o->key_mode >= ESF_MFG_KEY_GEN;
    /* fresh keys: the image bytes change every run, so resume decisions use a digest of the
     * plain image; deterministic images are identified by their own SHA-256 */
    if (fresh && plain_digest(img, len, j->plain_sha) < 0) {
        j->rc = esf_error_set(&j->err, ESF_ERR_CRYPTO, "SHA-256 failed");
        j->fatal = true;
        return;
    }
    if (fresh && o->resume && can_skip_fresh(w, j)) {
        keep_old(w, j);
        return;
    }
    uint8_t key[64], hkey[32];
    const uint8_t *k = NULL;
    switch (o->key_mode) {
    case ESF_MFG_KEY_NONE: break;
    case ESF_MFG_KEY_INPUT: k = o->key; break;
    case ESF_MFG_KEY_HMAC_INPUT: k = r->derived_key; break;
    case ESF_MFG_KEY_GEN:
        if ((j->rc = esf_nvs_keys_generate(key, &j->err)) < 0) {
            j->fatal = true;
            return;
        }
        k = key;
        break;
    case ESF_MFG_KEY_HMAC_GEN:
        if ((j->rc = esf_nvs_hmac_key_generate(hkey, &j->err)) < 0) {
            j->fatal = true;
            return;
        }
        if ((j->rc = esf_nvs_keys_from_hmac(hkey, sizeof hkey, key, &j->err)) < 0) {
            j->fatal = true;
            return;
        }
        k = key;
        break;
    }
    if (k && (j->rc = esf_nvs_encrypt_image(img, len, k, &j->err)) < 0) {
        j->fatal = true;
        return;
    }
    if (esf_sha256(img, len, j->sha) < 0) {
        j->rc = esf_error_set(&j->err, ESF_ERR_CRYPTO, "SHA-256 failed");
        j->fatal = true;
        return;
    }
    if (!fresh) {
        memcpy(j->plain_sha, j->sha, 32);
        if (o->resume && can_skip_same(w, j, img, len)) {
            keep_old(w, j);
            return;
        }
    }
    if (!o->no_csv && write_in(j, r->dir_fd[0], j->csv_path, w->text.p, w->text.len) < 0)
        return;
    if (j->hmac_path) {
        memcpy(j->hkey, hkey, sizeof hkey);
        /* one shared HMAC key file (the reference overwrites it per device): written in device
         * order by the consumer, so it ends with the last device's key as there */
        if (!o->hmac_keyfile && write_file(j, j->hmac_path, hkey, sizeof hkey) < 0)
            return;
    }
    if (j->key_path) {
        uint8_t kf[ESF_NVS_KEYS_PART_SIZE];
        esf_nvs_keys_build(kf, k);
        if (write_in(j, r->dir_fd[2], j->key_path, kf, sizeof kf) < 0)
            return;
        j->key_written = true;
    }
    write_in(j, r->dir_fd[1], j->bin_path, img, len);
}

/* ------------------------------------------------------------------ manifest */

static void hex32(char out[65], const uint8_t sha[32])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[sha[i] >> 4];
        out[2 * i + 1] = d[sha[i] & 15];
    }
    out[64] = '\0';
}

static int unhex32(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return -1;
    for (int i = 0; i < 64; i++) {
        int c = s[i], v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return -1;
        if (i % 2 == 0)
            out[i / 2] = (uint8_t)(v << 4);
        else
            out[i / 2] |= (uint8_t)v;
    }
    return 0;
}

static const char *rel_to(const run *r, const char *path)
{
    size_t n = strlen(r->pre);
    return path && !strncmp(path, r->pre, n) ? path + n : path;
}

static void json_str(FILE *fp, const char *s)
{
    if (!s) {
        fputs("null", fp);
        return;
    }
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(fp, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(fp, "\\u%04x", *p);
        else
            fputc(*p, fp);
    }
    fputc('"', fp);
}

typedef struct manifest_out {
    FILE *csv, *json;
    char *csv_tmp, *csv_final, *json_tmp, *json_final;
    uint64_t n;
} manifest_out;

static const char manifest_header[] = "index,id,image,sha256,key,plain_digest";

static int manifest_open(run *r, manifest_out *m, esf_error *err)
{
    const esf_mfg_opts *o = r->o;
    memset(m, 0, sizeof *m);
    if (!o->manifest && !o->manifest_json)
        return ESF_OK;
    m->csv_final = xasprintf("%smanifest.csv", r->pre);
    m->csv_tmp = xasprintf("%smanifest.csv.partial", r->pre);
    m->json_final = xasprintf("%smanifest.json", r->pre);
    m->json_tmp = xasprintf("%smanifest.json.partial", r->pre);
    if (!m->csv_final || !m->csv_tmp || !m->json_final || !m->json_tmp)
        return esf_error_set(err, ESF_ERR_NO_MEM, "manifest");
    if (!(m->csv = fopen(m->csv_tmp, "w")))
        return esf_error_loc(err, ESF_ERR_IO, m->csv_tmp, 0, 0, "cannot create: %s", strerror(errno));
    fprintf(m->csv, "%s\n", manifest_header);
    if (o->manifest_json) {
        if (!(m->json = fopen(m->json_tmp, "w")))
            return esf_error_loc(err, ESF_ERR_IO, m->json_tmp, 0, 0, "cannot create: %s", strerror(errno));
        fputs("[", m->json);
    }
    return ESF_OK;
}

static int manifest_add(run *r, manifest_out *m, const job *j, esf_error *err)
{
    if (!m->csv)
        return ESF_OK;
    char sha[65], plain[65];
    hex32(sha, j->sha);
    hex32(plain, j->skipped ? j->old_plain : j->plain_sha);
    const char *img = rel_to(r, j->bin_path), *key = j->key_path ? rel_to(r, j->key_path) : "";
    char idx[32];
    snprintf(idx, sizeof idx, "%llu", (unsigned long long)j->index);
    const char *f[] = { idx, j->name, img, sha, key, plain };
    esf_sb b = { 0 };
    if (csv_put_row(&b, f, 6)) {
        esf_sb_free(&b);
        return esf_error_set(err, ESF_ERR_NO_MEM, "manifest");
    }
    b.p[b.len - 2] = '\n';  /* the manifest uses LF */
    fwrite(b.p, 1, b.len - 1, m->csv);
    esf_sb_free(&b);
    if (m->json) {
        fprintf(m->json, "%s\n  {\"index\": %s, \"id\": ", m->n ? "," : "", idx);
        json_str(m->json, j->name);
        fputs(", \"image\": ", m->json);
        json_str(m->json, img);
        fprintf(m->json, ", \"sha256\": \"%s\", \"key\": ", sha);
        json_str(m->json, j->key_path ? key : NULL);
        fprintf(m->json, ", \"skipped\": %s}", j->skipped ? "true" : "false");
    }
    m->n++;
    return ESF_OK;
}

/* Push the manifest lines so far to the file (once per batch of consumed devices: an interrupted
 * run leaves a usable manifest.csv.partial for resuming). */
static int manifest_flush(manifest_out *m, esf_error *err)
{
    if (m && m->csv && fflush(m->csv) != 0)
        return esf_error_loc(err, ESF_ERR_IO, m->csv_tmp, 0, 0, "cannot write: %s", strerror(errno));
    return ESF_OK;
}

static int manifest_close(manifest_out *m, bool commit, esf_error *err)
{
    int rc = ESF_OK;
    if (m->json) {
        fputs(m->n ? "\n]\n" : "]\n", m->json);
        if (fclose(m->json) != 0 && commit)
            rc = esf_error_loc(err, ESF_ERR_IO, m->json_tmp, 0, 0, "cannot write: %s", strerror(errno));
        if (commit && rc == ESF_OK && rename(m->json_tmp, m->json_final) != 0)
            rc = esf_error_loc(err, ESF_ERR_IO, m->json_final, 0, 0, "cannot write: %s", strerror(errno));
        if (!commit)
            unlink(m->json_tmp);
    }
    if (m->csv) {
        if (fclose(m->csv) != 0 && commit && rc == ESF_OK)
            rc = esf_error_loc(err, ESF_ERR_IO, m->csv_tmp, 0, 0, "cannot write: %s", strerror(errno));
        if (commit && rc == ESF_OK && rename(m->csv_tmp, m->csv_final) != 0)
            rc = esf_error_loc(err, ESF_ERR_IO, m->csv_final, 0, 0, "cannot write: %s", strerror(errno));
    }
    free(m->csv_tmp);
    free(m->csv_final);
    free(m->json_tmp);
    free(m->json_final);
    memset(m, 0, sizeof *m);
    return rc;
}

/* Resume: the previous run's manifest, read in step with the devices. The newest record wins:
 * an interrupted run's manifest.csv.partial (moved aside to manifest.csv.resume), else an
 * earlier .resume, else manifest.csv. */
static int old_manifest_open(run *r, esf_error *err)
{
    char *partial = xasprintf("%smanifest.csv.partial", r->pre);
    char *resume = xasprintf("%smanifest.csv.resume", r->pre);
    char *final = xasprintf("%smanifest.csv", r->pre);
    int rc = ESF_OK;
    if (!partial || !resume || !final) {
        rc = esf_error_set(err, ESF_ERR_NO_MEM, "manifest");
        goto done;
    }
    if (file_exists(partial) && rename(partial, resume) != 0) {
        rc = esf_error_loc(err, ESF_ERR_IO, partial, 0, 0, "cannot rename: %s", strerror(errno));
        goto done;
    }
    const char *src = file_exists(resume) ? resume : file_exists(final) ? final : NULL;
    if (!src)
        goto done;
    esf_error e2;
    if (text_src_open(&r->old_src, src, true, &e2) < 0)
        goto done;  /* unreadable: resume nothing */
    esf_csv_opts co = { 0 };
    if ((rc = esf_csv_open_mem(&r->old_csv, r->old_src.data, r->old_src.len, src, &co, err)) < 0)
        goto done;
    esf_csv_row row;
    if (esf_csv_next(r->old_csv, &row, NULL) != 1)  /* header */
        r->old_eof = true;
done:
    free(partial);
    free(resume);
    free(final);
    return rc;
}

/* Fill j->have_old etc. from the old manifest record with the same index and id. */
static void old_manifest_match(run *r, job *j)
{
    if (!r->old_csv)
        return;
    for (;;) {
        if (!r->old_have) {
            if (r->old_eof)
                return;
            esf_csv_row row;
            if (esf_csv_next(r->old_csv, &row, NULL) != 1) {
                r->old_eof = true;
                return;
            }
            text_src_release(&r->old_src, esf_csv_offset(r->old_csv));
            if (row.nfields != 6)
                continue;
            raw_row_free(&r->old_row);
            if (raw_row_copy(&r->old_row, &row, &r->old_src))
                return;
            r->old_have = true;
        }
        char *end;
        unsigned long long idx = strtoull(r->old_row.cells[0], &end, 10);
        if (*end || idx < j->index) {
            r->old_have = false;
            continue;
        }
        if (idx > j->index)
            return;
        r->old_have = false;
        if (strcmp(r->old_row.cells[1], j->name) || unhex32(r->old_row.cells[3], j->old_sha) ||
            unhex32(r->old_row.cells[5], j->old_plain))
            return;
        j->old_key = xstrdup(r->old_row.cells[4]);
        j->have_old = j->old_key != NULL;
        return;
    }
}

static void old_manifest_close(run *r, bool done)
{
    esf_csv_free(r->old_csv);
    r->old_csv = NULL;
    text_src_free(&r->old_src);
    raw_row_free(&r->old_row);
    if (done) {
        char *resume = xasprintf("%smanifest.csv.resume", r->pre);
        if (resume)
            unlink(resume);
        free(resume);
    }
}

/* ------------------------------------------------------------------ the engine
 * A ring of `nslots` jobs. The calling thread produces jobs (reads the values file in order) and
 * consumes results in order; workers take jobs in order and process them in parallel. */

struct engine {
    run_state *s;
    int pass;
    job *slots;
    size_t nslots;
    worker *workers;
    unsigned nworkers;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done;
    uint64_t produced, taken, ndone, consumed;  /* counters; guarded by mu */
    bool main_waiting;
    bool shutdown;
    bool sync_init;
    unsigned nalloc;       /* workers allocated (worker_free on each) */
    struct worker_ctx *ctx;
};

typedef struct worker_ctx {
    engine *e;
    worker *w;
} worker_ctx;

/* Workers take jobs in order; the consumer is woken only when the oldest job is done and half
 * the ring is (or everything produced is): few context switches per device. */
static void *worker_loop(void *arg)
{
    worker_ctx *c = arg;
    engine *e = c->e;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (e->taken >= e->produced && !e->shutdown)
            pthread_cond_wait(&e->cv_work, &e->mu);
        if (e->taken >= e->produced)
            break;
        job *j = &e->slots[e->taken % e->nslots];
        e->taken++;
        j->state = SLOT_TAKEN;
        int pass = e->pass;
        pthread_mutex_unlock(&e->mu);
        process(c->w, j, pass);
        pthread_mutex_lock(&e->mu);
        j->state = SLOT_DONE;
        e->ndone++;
        if (e->main_waiting && e->slots[e->consumed % e->nslots].state == SLOT_DONE &&
            (e->ndone - e->consumed >= e->nslots / 2 || e->ndone == e->produced))
            pthread_cond_signal(&e->cv_done);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

static void worker_free(worker *w)
{
    esf_nvs_gen_free(w->g);
    free(w->img);
    free(w->old);
    esf_sb_free(&w->text);
    free(w->row_line);
    free(w->row_cfg);
    free(w->row_col);
}

static int device_report(run *r, const job *j)
{
    const esf_mfg_opts *o = r->o;
    if (!o->cb.device)
        return 0;
    esf_mfg_device d = {
        .index = j->index, .line = j->line, .name = j->name,
        .csv_path = o->no_csv ? NULL : j->csv_path, .bin_path = j->bin_path,
        .key_path = j->key_path, .hmac_key_path = j->hmac_path, .skipped = j->skipped,
        .rc = j->rc, .err = j->rc < 0 ? &j->err : NULL,
    };
    memcpy(d.sha256, j->sha, 32);
    return o->cb.device(o->cb.ctx, &d);
}

/* One pass over the values file. */
static int run_pass(engine *e, int pass, esf_mfg_stats *st, manifest_out *m, esf_error *err)
{
    run_state *s = e->s;
    run *r = &s->r;
    const esf_mfg_opts *o = r->o;
    int rc = values_open(s, err);
    if (rc < 0)
        return rc;
    r->names_len = 0;
    if (r->names)
        memset(r->names, 0, r->names_cap * sizeof *r->names);
    pthread_mutex_lock(&e->mu);  /* the workers are idle, but they read these under the lock */
    e->pass = pass;
    e->produced = e->taken = e->ndone = e->consumed = 0;
    pthread_mutex_unlock(&e->mu);
    uint64_t produced = 0, consumed = 0, failed = 0;
    bool input_done = false, stop = false;
    int result = ESF_OK;
    while (true) {
        /* fill every free slot, then publish them at once */
        uint64_t first = produced;
        while (!input_done && !stop && produced - consumed < e->nslots) {
            job *j = &e->slots[produced % e->nslots];
            int p = produce(s, j, produced, pass == 2, err);
            if (p < 0) {
                result = p;
                stop = true;
                break;
            }
            if (p == 0) {
                input_done = true;
                break;
            }
            if (pass == 2 && o->resume && j->rc == ESF_OK)
                old_manifest_match(r, j);
            j->state = SLOT_READY;
            produced++;
        }
        pthread_mutex_lock(&e->mu);
        if (produced != first) {
            e->produced = produced;
            pthread_cond_broadcast(&e->cv_work);
        }
        if (consumed == produced && (input_done || stop)) {
            pthread_mutex_unlock(&e->mu);
            break;
        }
        while (e->slots[consumed % e->nslots].state != SLOT_DONE) {
            e->main_waiting = true;
            pthread_cond_wait(&e->cv_done, &e->mu);
        }
        e->main_waiting = false;
        uint64_t ready = 0;
        while (consumed + ready < produced && e->slots[(consumed + ready) % e->nslots].state == SLOT_DONE)
            ready++;
        pthread_mutex_unlock(&e->mu);
        for (uint64_t k = 0; k < ready; k++) {
            job *j = &e->slots[(consumed + k) % e->nslots];
            if (!stop) {
                if (j->rc < 0 && (!o->keep_going || j->fatal)) {
                    *err = j->err;
                    result = j->rc;
                    stop = true;
                } else if (pass == 1) {
                    failed += j->rc < 0;
                } else {
                    if (j->rc < 0)
                        failed++;
                    else if (j->skipped)
                        st->skipped++;
                    else
                        st->written++;
                    if (j->rc == ESF_OK && !j->skipped && j->hmac_path && o->hmac_keyfile &&
                        (rc = esf_file_write_atomic(j->hmac_path, j->hkey, sizeof j->hkey, err)) < 0) {
                        result = rc;
                        stop = true;
                    }
                    if (!stop && j->rc == ESF_OK && (rc = manifest_add(r, m, j, err)) < 0) {
                        result = rc;
                        stop = true;
                    }
                    if (!stop && device_report(r, j)) {
                        result = esf_error_set(err, ESF_ERR_CANCELLED, "stopped by the caller");
                        stop = true;
                    }
                }
                if (!stop && o->cb.progress &&
                    o->cb.progress(o->cb.ctx, pass, consumed + k + 1, pass == 2 ? st->devices : 0)) {
                    result = esf_error_set(err, ESF_ERR_CANCELLED, "stopped by the caller");
                    stop = true;
                }
            }
        }
        if (pass == 2 && !stop && (rc = manifest_flush(m, err)) < 0) {
            result = rc;
            stop = true;
        }
        pthread_mutex_lock(&e->mu);
        for (uint64_t k = 0; k < ready; k++)
            e->slots[(consumed + k) % e->nslots].state = SLOT_FREE;
        consumed += ready;
        e->consumed = consumed;
        pthread_mutex_unlock(&e->mu);
    }
    if (pass == 1)
        st->devices = consumed;
    else
        st->failed = failed;
    if (pass == 1 && result == ESF_OK)
        st->failed = failed;
    return result;
}

static int engine_start(engine *e, run_state *s, esf_error *err)
{
    run *r = &s->r;
    const esf_mfg_opts *o = r->o;
    unsigned n = o->jobs;
    if (!n) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        n = c > 0 ? (unsigned)c : 1;
    }
    if (n > 256)
        n = 256;
    e->s = s;
    e->nslots = (size_t)n * 32;
    e->slots = calloc(e->nslots, sizeof *e->slots);
    e->workers = calloc(n, sizeof *e->workers);
    e->nalloc = e->workers ? n : 0;
    worker_ctx *ctx = e->ctx = calloc(n, sizeof *ctx);
    if (!e->slots || !e->workers || !ctx)
        return esf_error_set(err, ESF_ERR_NO_MEM, "starting %u workers", n);
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->cv_work, NULL);
    pthread_cond_init(&e->cv_done, NULL);
    e->sync_init = true;
    e->nworkers = 0;
    esf_nvs_gen_opts go = {
        .size = o->size, .version = o->version, .compat = true, .base_dir = o->base_dir, .warn = o->warn,
    };
    for (unsigned i = 0; i < n; i++) {
        worker *w = &e->workers[i];
        w->r = r;
        int rc = esf_nvs_gen_new(&w->g, &go, err);
        if (rc < 0)
            return rc;
        if (!(w->img = malloc(o->size)) || !(w->old = malloc((size_t)o->size + 1)))
            return esf_error_set(err, ESF_ERR_NO_MEM, "image buffers");
    }
    for (unsigned i = 0; i < n; i++) {
        ctx[i].e = e;
        ctx[i].w = &e->workers[i];
        if (pthread_create(&e->workers[i].tid, NULL, worker_loop, &ctx[i]) != 0)
            return esf_error_set(err, ESF_ERR_NO_MEM, "cannot start worker threads");
        e->nworkers = i + 1;
    }
    return ESF_OK;
}

static void engine_stop(engine *e)
{
    if (e->sync_init) {
        pthread_mutex_lock(&e->mu);
        e->shutdown = true;
        pthread_cond_broadcast(&e->cv_work);
        pthread_mutex_unlock(&e->mu);
        for (unsigned i = 0; i < e->nworkers; i++)
            pthread_join(e->workers[i].tid, NULL);
        pthread_mutex_destroy(&e->mu);
        pthread_cond_destroy(&e->cv_work);
        pthread_cond_destroy(&e->cv_done);
    }
    if (e->workers)
        for (unsigned i = 0; i < e->nalloc; i++)
            worker_free(&e->workers[i]);
    if (e->slots)
        for (size_t i = 0; i < e->nslots; i++)
            job_free(&e->slots[i]);
    free(e->slots);
    free(e->workers);
    free(e->ctx);
}

/* ------------------------------------------------------------------ esf_mfg_run */

static int check_opts(const esf_mfg_opts *o, esf_error *err)
{
    if (!o || !o->conf_path || !o->values_path || !o->prefix || !o->outdir)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "esf_mfg_run: missing path or prefix");
    if (o->version != 1 && o->version != 2)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "NVS version %d: want 1 or 2", o->version);
    if (o->size < 4096 || o->size % 4096)
        return esf_error_set(err, ESF_ERR_RANGE, "partition size %u: want a multiple of 4096, at least 4096",
                             o->size);
    if (o->prefix_num && o->prefix_num_len < 0)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "prefix_num length %d: want >= 0", o->prefix_num_len);
    if (o->key_mode == ESF_MFG_KEY_HMAC_INPUT && (!o->hmac_key || !o->hmac_key_len))
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "HMAC key missing");
    return ESF_OK;
}

static const char *ext_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *b = slash ? slash + 1 : path;
    while (*b == '.')
        b++;
    const char *dot = strrchr(b, '.');
    return dot ? dot : "";
}

int esf_mfg_run(const esf_mfg_opts *o, esf_mfg_stats *stats, esf_error *err)
{
    esf_mfg_stats st_local = { 0 }, *st = stats ? stats : &st_local;
    memset(st, 0, sizeof *st);
    int rc = check_opts(o, err);
    if (rc < 0)
        return rc;
    run_state *s = calloc(1, sizeof *s);
    engine e = { 0 };
    manifest_out m = { 0 };
    if (!s)
        return esf_error_set(err, ESF_ERR_NO_MEM, "esf_mfg_run");
    run *r = &s->r;
    r->o = o;
    r->dir_fd[0] = r->dir_fd[1] = r->dir_fd[2] = -1;
    /* mfg_gen's file checks, in its order */
    if (strcmp(ext_of(o->conf_path), ".csv")) {
        rc = esf_error_loc(err, ESF_ERR_INVALID_ARG, o->conf_path, 0, 0,
                           o->ref_messages ? "Error: config file: %s does not have the .csv extension."
                                           : "%s: config file name must end in .csv", o->conf_path);
        goto done;
    }
    if (strcmp(ext_of(o->values_path), ".csv")) {
        rc = esf_error_loc(err, ESF_ERR_INVALID_ARG, o->values_path, 0, 0,
                           o->ref_messages ? "Error: values file: %s does not have the .csv extension."
                                           : "%s: values file name must end in .csv", o->values_path);
        goto done;
    }
    if ((rc = load_config(r, err)) < 0)
        goto done;
    if ((rc = text_src_open(&s->vals, o->values_path, true, err)) < 0)
        goto done;
    if (s->vals.len == 0) {
        rc = o->ref_messages
                 ? esf_error_set(err, ESF_ERR_PARSE, "Error: values file: %s is empty.", o->values_path)
                 : esf_error_loc(err, ESF_ERR_PARSE, o->values_path, 0, 0, "values file is empty");
        goto done;
    }
    if ((rc = values_open(s, err)) < 0)
        goto done;
    if (o->fileid && !row_has(r->header.cells, r->header.n, o->fileid)) {
        rc = o->ref_messages
                 ? esf_error_set(err, ESF_ERR_NOT_FOUND,
                                 "Error: target_file_identifier: %s does not exist in values file.\n", o->fileid)
                 : esf_error_loc(err, ESF_ERR_NOT_FOUND, o->values_path, r->header.line, 0,
                                 "file id column '%s' is not in the header", o->fileid);
        goto done;
    }
    if ((rc = compute_repeat(r, err)) < 0 || (rc = check_config(r, err)) < 0)
        goto done;
    if (!(r->pre = dir_prefix(o->outdir)) || !(r->keys_dir = xasprintf("%skeys/", r->pre))) {
        rc = esf_error_set(err, ESF_ERR_NO_MEM, "esf_mfg_run");
        goto done;
    }
    if (o->key_mode == ESF_MFG_KEY_HMAC_INPUT &&
        (rc = esf_nvs_keys_from_hmac(o->hmac_key, o->hmac_key_len, r->derived_key, err)) < 0)
        goto done;
    if (o->key_mode == ESF_MFG_KEY_INPUT && esf_nvs_key_halves_equal(o->key)) {
        rc = esf_error_set(err, ESF_ERR_CRYPTO, "XTS key halves are equal (In XTS mode duplicated keys are not allowed)");
        goto done;
    }
    if ((rc = engine_start(&e, s, err)) < 0)
        goto done;
    /* pass 1: validate everything, write nothing */
    if ((rc = run_pass(&e, 1, st, NULL, err)) < 0)
        goto done;
    /* pass 2: write */
    const char *dirs[3] = { "csv", "bin", "keys" };
    for (int i = 0; i < 3; i++) {
        if (i == 0 && o->no_csv)
            continue;
        if (i == 2 && o->key_mode < ESF_MFG_KEY_GEN)
            continue;
        char *d = xasprintf("%s%s", r->pre, dirs[i]);
        rc = d ? esf_mkdir_p(d, err) : esf_error_set(err, ESF_ERR_NO_MEM, "esf_mfg_run");
        if (rc == ESF_OK && (r->dir_fd[i] = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
            rc = esf_error_loc(err, ESF_ERR_IO, d, 0, 0, "cannot open directory: %s", strerror(errno));
        free(d);
        if (rc < 0)
            goto done;
    }
    if (o->resume && (rc = old_manifest_open(r, err)) < 0)
        goto done;
    if ((rc = manifest_open(r, &m, err)) < 0)
        goto done;
    rc = run_pass(&e, 2, st, &m, err);
    int rc2 = manifest_close(&m, rc == ESF_OK, err);
    if (rc == ESF_OK)
        rc = rc2;
    if (o->resume)
        old_manifest_close(r, rc == ESF_OK);
done:
    manifest_close(&m, false, NULL);
    engine_stop(&e);
    esf_csv_free(s->vcsv);
    text_src_free(&s->vals);
    config_free(&r->cfg);
    raw_row_free(&r->header);
    raw_row_free(&r->first);
    free(r->repeat_col);
    free(r->pre);
    free(r->keys_dir);
    free(r->names);
    for (int i = 0; i < 3; i++)
        if (r->dir_fd[i] >= 0)
            close(r->dir_fd[i]);
    old_manifest_close(r, false);
    free(s);
    return rc;
}

int esf_mfg_twin_exit_code(int rc)
{
    return rc == ESF_ERR_INVALID ? 254 : 1;
}
