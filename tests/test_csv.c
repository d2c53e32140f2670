/* The CSV reader: Python csv "excel" dialect (non-strict), universal newlines, places. */
#include "esf_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "espforge/csv.h"

/* Render rows as "a|b;c|d;" (fields '|'-joined, rows ';'-ended) for compact expectations; with
 * `places`, as "L:a@line.col b@line.col;" (L the row's line, '*' after a quoted field). */
static void render_rows(const char *in, bool skip_hash, bool places, char *out, size_t cap)
{
    esf_csv *r = NULL;
    esf_csv_opts o = { .skip_hash_lines = skip_hash };
    assert_int_equal(esf_csv_open_mem(&r, in, strlen(in), "t.csv", &o, NULL), ESF_OK);
    esf_csv_row row;
    size_t n = 0;
    out[0] = '\0';
    int rc;
    while ((rc = esf_csv_next(r, &row, NULL)) == 1) {
        if (places)
            n += (size_t)snprintf(out + n, cap - n, "%u:", row.line);
        for (size_t i = 0; i < row.nfields; i++) {
            const esf_csv_field *f = &row.fields[i];
            if (places)
                n += (size_t)snprintf(out + n, cap - n, "%s%s@%u.%u%s", i ? " " : "", f->text,
                                      f->line, f->column, f->quoted ? "*" : "");
            else
                n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "|" : "", f->text);
        }
        n += (size_t)snprintf(out + n, cap - n, ";");
    }
    assert_int_equal(rc, 0);
    assert_int_equal(esf_csv_offset(r), strlen(in));
    esf_csv_free(r);
}

typedef struct render_case {
    const char *in;
    bool skip;
    const char *want;
} render_case;

static void check_cases(const render_case *cases, size_t n, bool places)
{
    char out[512];
    for (size_t i = 0; i < n; i++) {
        render_rows(cases[i].in, cases[i].skip, places, out, sizeof out);
        if (strcmp(out, cases[i].want))
            fail_msg("case %zu: got \"%s\" want \"%s\"", i, out, cases[i].want);
    }
}

static void test_dialect(void **state)
{
    (void)state;
    /* expectations are what Python's csv.reader yields for the same text (universal newlines) */
    static const render_case cases[] = {
        { "a,b,c\n", false, "a|b|c;" },
        { "a,b,c", false, "a|b|c;" },
        { "a,,\n", false, "a||;" },
        { "\n\na\n", false, ";;a;" },
        { " a , b \n", false, " a | b ;" },
        { "\"x,y\",z\n", false, "x,y|z;" },
        { "\"he said \"\"hi\"\"\"\n", false, "he said \"hi\";" },
        { "\"multi\nline\",2\n", false, "multi\nline|2;" },
        { "\"multi\r\nline\"\r\n", false, "multi\nline;" },
        { "a\rb\r", false, "a;b;" },
        { "ab\"c\"d,e\n", false, "ab\"c\"d|e;" },
        { "\"ab\"cd,e\n", false, "abcd|e;" },
        { "\"open\nto the end", false, "open\nto the end;" },
        { "\"open\n", false, "open\n;" },
        { "#c,1\nk,2\n", true, "k|2;" },
        { "#c,1\nk,2\n", false, "#c|1;k|2;" },
        { "\"a\n#gone\nb\"\n", true, "a\nb;" },
        { "k,\"\"\n", false, "k|;" },
        /* line ends: CR only, CRLF, LF, mixed; blank lines of each kind; no final newline */
        { "a\rb\r\nc\nd", false, "a;b;c;d;" },
        { "\r\r\n\n", false, ";;;" },
        { "a,b\r\n\r\nc,d\r\n", false, "a|b;;c|d;" },
        /* empty fields at a line's start and end, trailing comma */
        { ",a,\n", false, "|a|;" },
        { ",\n", false, "|;" },
        { ",", false, "|;" },
        { "a,b,\n", false, "a|b|;" },
        { "a,b,", false, "a|b|;" },
        /* quotes in the middle of unquoted fields are literal; escapes; text after a quote */
        { "ab\"c,d\n", false, "ab\"c|d;" },
        { "a\"\n", false, "a\";" },
        { "a,\"b\"\"\",c\"d\"\n", false, "a|b\"|c\"d\";" },
        { "\"\"\"\",x\r\n", false, "\"|x;" },
        /* a multi-line quoted field that then goes on unquoted, and the next plain row */
        { "x,\"multi\nline\"tail,y\nnext,row\n", false, "x|multi\nlinetail|y;next|row;" },
        { "x,\"cr\rline\"\r\nz\r", false, "x|cr\nline;z;" },
        /* '#' lines: dropped only at a line's first byte, also inside quotes; kept when not asked */
        { "#x\r#y\r\nk\r", true, "k;" },
        { "a,#b\n", true, "a|#b;" },
        { " #a\n", true, " #a;" },
        { "\"q\n#h\",z\n#c\nw", true, "q\nw;" },
        { "#only\n#lines", true, "" },
        { "k,v\n#c\n", true, "k|v;" },
        { "#\n\n", true, ";" },
        /* long plain lines: fields across the reader's 16-byte blocks */
        { "0123456789abcde,0123456789abcdef,\n0123456789abcdef0123456789abcdef\r\n", false,
          "0123456789abcde|0123456789abcdef|;0123456789abcdef0123456789abcdef;" },
    };
    check_cases(cases, ARRAY_LEN(cases), false);
}

static void test_places(void **state)
{
    (void)state;
    const char *in = "key,type\n#comment\nns,\"quoted\nvalue\",z\n";
    esf_csv *r = NULL;
    esf_csv_opts o = { .skip_hash_lines = true };
    assert_int_equal(esf_csv_open_mem(&r, in, strlen(in), "nvs.csv", &o, NULL), ESF_OK);
    assert_string_equal(esf_csv_source(r), "nvs.csv");
    esf_csv_row row;
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.line, 1);
    assert_int_equal(row.fields[1].column, 5);
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.line, 3);
    assert_int_equal(row.nfields, 3);
    assert_int_equal(row.fields[1].line, 3);
    assert_int_equal(row.fields[1].column, 4);
    assert_true(row.fields[1].quoted);
    assert_int_equal(row.fields[1].len, 12);
    assert_int_equal(row.fields[2].line, 4);
    assert_int_equal(row.fields[2].column, 8);
    assert_int_equal(esf_csv_next(r, &row, NULL), 0);
    esf_csv_free(r);
}

static void test_places_each_path(void **state)
{
    (void)state;
    static const render_case cases[] = {
        { "a,bc,\n", false, "1:a@1.1 bc@1.3 @1.6;" },
        { ",b", false, "1:@1.1 b@1.2;" },
        { "a\rb,c\r", false, "1:a@1.1;2:b@2.1 c@2.3;" },
        { "a\r\n\r\nb", false, "1:a@1.1;2:;3:b@3.1;" },
        { "\"ab\",c\n", false, "1:ab@1.1* c@1.6;" },
        { "x,\"m\nl\"t,y\nz", false, "1:x@1.1 m\nlt@1.3* y@2.5;3:z@3.1;" },
        { "p\"q,r\n", false, "1:p\"q@1.1 r@1.5;" },
        { "#h\r\n#i\nk,v\n", true, "3:k@3.1 v@3.3;" },
        { "#h\n\"a\n#in\nb\",c\n", true, "2:a\nb@2.1* c@4.4;" },
        { "#h\n\"a\n#in\nb\",c\n", false, "1:#h@1.1;2:a\n#in\nb@2.1* c@4.4;" },
        { "k,\"v", false, "1:k@1.1 v@1.3*;" },
        { "\"\"", false, "1:@1.1*;" },
    };
    check_cases(cases, ARRAY_LEN(cases), true);
}

/* ---- a deliberately simple reference reader for the differential test below. It follows the
 * dialect's rules one character at a time and shares nothing with src/csv.c: split the input
 * into physical lines ('\n', '\r', "\r\n"), drop '#' lines when asked, then run Python's
 * reader states over each line's characters, its '\n' (when it had a terminator) and an
 * end-of-line event, until a line ends in the start-of-record state. */
typedef struct ref_field {
    char text[2048];
    size_t len;
    uint32_t line, column;
    bool quoted;
} ref_field;

typedef struct ref_row {
    ref_field f[512];
    size_t n;
    uint32_t line;
    size_t offset;  /* where the next record's lines start */
} ref_row;

typedef struct ref_reader {
    const char *in;
    size_t len, pos;
    uint32_t line;
    bool skip_hash;
} ref_reader;

enum { R_START_RECORD, R_START_FIELD, R_IN_FIELD, R_IN_QUOTED, R_QUOTE_IN_QUOTED, R_EAT_NL };

static void ref_begin(ref_row *row, uint32_t line, uint32_t col, bool quoted)
{
    ref_field *f = &row->f[row->n];
    f->len = 0;
    f->line = line;
    f->column = col;
    f->quoted = quoted;
}

static void ref_add(ref_row *row, char c)
{
    ref_field *f = &row->f[row->n];
    assert_true(f->len < sizeof f->text - 1);
    f->text[f->len++] = c;
}

static void ref_save(ref_row *row)
{
    row->f[row->n].text[row->f[row->n].len] = '\0';
    row->n++;
    assert_true(row->n < ARRAY_LEN(row->f));
}

/* One character c (-1: end of line) at line:col. */
static void ref_char(ref_row *row, int *st, int c, uint32_t line, uint32_t col)
{
    bool eol = c == -1, nl = c == '\n';
    switch (*st) {
    case R_START_RECORD:
        if (eol)
            return;  /* a blank line: the record is empty */
        if (nl) {
            *st = R_EAT_NL;
            return;
        }
        *st = R_START_FIELD;
        ref_char(row, st, c, line, col);
        return;
    case R_START_FIELD:
        if (c == '"') {
            ref_begin(row, line, col, true);
            *st = R_IN_QUOTED;
            return;
        }
        ref_begin(row, line, col, false);
        if (eol || nl || c == ',') {
            ref_save(row);
            *st = eol ? R_START_RECORD : nl ? R_EAT_NL : R_START_FIELD;
            return;
        }
        ref_add(row, (char)c);
        *st = R_IN_FIELD;
        return;
    case R_IN_FIELD:
        if (eol || nl || c == ',') {
            ref_save(row);
            *st = eol ? R_START_RECORD : nl ? R_EAT_NL : R_START_FIELD;
            return;
        }
        ref_add(row, (char)c);
        return;
    case R_IN_QUOTED:
        if (c == '"')
            *st = R_QUOTE_IN_QUOTED;
        else if (!eol)
            ref_add(row, (char)c);
        return;
    case R_QUOTE_IN_QUOTED:
        if (c == '"') {
            ref_add(row, '"');
            *st = R_IN_QUOTED;
        } else if (eol || nl || c == ',') {
            ref_save(row);
            *st = eol ? R_START_RECORD : nl ? R_EAT_NL : R_START_FIELD;
        } else {
            ref_add(row, (char)c);
            *st = R_IN_FIELD;
        }
        return;
    case R_EAT_NL:
        if (eol)
            *st = R_START_RECORD;
        return;
    }
}

/* The next record; false at the end of input. */
static bool ref_next(ref_reader *rr, ref_row *row)
{
    int st = R_START_RECORD;
    bool started = false;
    row->n = 0;
    while (rr->pos < rr->len) {
        size_t b = rr->pos, e = b;
        while (e < rr->len && rr->in[e] != '\n' && rr->in[e] != '\r')
            e++;
        bool has_nl = e < rr->len;
        rr->pos = e + (has_nl ? 1 : 0);
        if (has_nl && rr->in[e] == '\r' && e + 1 < rr->len && rr->in[e + 1] == '\n')
            rr->pos++;
        uint32_t line = rr->line++;
        if (rr->skip_hash && e > b && rr->in[b] == '#')
            continue;
        if (!started) {
            started = true;
            row->line = line;
        }
        for (size_t i = b; i < e; i++)
            ref_char(row, &st, (unsigned char)rr->in[i], line, (uint32_t)(i - b + 1));
        if (has_nl)
            ref_char(row, &st, '\n', line, (uint32_t)(e - b + 1));
        ref_char(row, &st, -1, line, (uint32_t)(e - b + 1));
        if (st == R_START_RECORD) {
            row->offset = rr->pos;
            return true;
        }
    }
    if (!started)
        return false;
    ref_save(row);  /* the input ended inside a quoted field: it ends there */
    row->offset = rr->pos;
    return true;
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rng(void)  /* xorshift64*, fixed seed: the same cases on every run */
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* Random inputs over a small alphabet of the bytes that matter (and some that do not), both
 * '#' modes: every row, field bytes, length, place, quoted flag and offset as the reference. */
static void test_differential_random(void **state)
{
    (void)state;
    static const char common[] = "a,,\"\r\n\n#  xa";
    static const char plain[] = "abcdefghij,,,0123456789";
    /* bytes up to ',' that are no stop: the SSE2 scanner's candidates it must look past */
    static const char spaced[] = "ab c, #!\t+*(\x01,xyz";
    static ref_row want;
    size_t cases = 0, rows = 0, fields = 0;
    for (int iter = 0; iter < 30000; iter++) {
        /* mostly short inputs; some long ones with long plain runs (many blocks), and a few
         * longer than the reader's batch of records (4 KiB), whose arrays grow within a batch */
        uint32_t kind = rng() % 64;
        size_t len = kind == 0 ? rng() % 9000 : kind % 8 == 0 ? rng() % 300 : rng() % 40;
        /* 0: any byte of `common`; 1: plain lines; 2: odd bytes too; 3: long lines of `spaced`
         * (the longest inputs: 1 or 3, which keep fields and records short enough for ref_row) */
        int mode = kind == 0 ? 1 + 2 * (int)(rng() % 2) : (int)(rng() % 4);
        char *in = malloc(len ? len : 1);  /* exactly sized: the reader may not look past it */
        assert_non_null(in);
        for (size_t i = 0; i < len; i++) {
            uint32_t x = rng();
            if (mode == 1)
                in[i] = x % 23 == 0 ? "\n\r\"#"[x / 23 % 4] : plain[x / 23 % (sizeof plain - 1)];
            else if (mode == 3)
                in[i] = x % 29 == 0 ? "\n\r\"#"[x / 29 % 4] : spaced[x / 29 % (sizeof spaced - 1)];
            else if (mode == 2 && x % 7 == 0)
                in[i] = (char)(x >> 8);  /* any byte, NUL and high bytes included */
            else
                in[i] = common[x / 7 % (sizeof common - 1)];
        }
        bool skip = rng() & 1;
        ref_reader rr = { in, len, 0, 1, skip };
        esf_csv *r = NULL;
        esf_csv_opts o = { .skip_hash_lines = skip };
        assert_int_equal(esf_csv_open_mem(&r, in, len, "rand.csv", &o, NULL), ESF_OK);
        for (size_t k = 0;; k++) {
            esf_csv_row row;
            int rc = esf_csv_next(r, &row, NULL);
            bool more = ref_next(&rr, &want);
            if (rc != (more ? 1 : 0))
                fail_msg("case %d row %zu: reader %d, reference %d", iter, k, rc, more);
            if (!more)
                break;
            rows++;
            if (row.nfields != want.n || row.line != want.line || esf_csv_offset(r) != want.offset)
                fail_msg("case %d row %zu: %zu fields line %u offset %zu, reference %zu line %u "
                         "offset %zu", iter, k, row.nfields, row.line, esf_csv_offset(r), want.n,
                         want.line, want.offset);
            for (size_t i = 0; i < row.nfields; i++, fields++) {
                const esf_csv_field *f = &row.fields[i];
                const ref_field *w = &want.f[i];
                if (f->len != w->len || memcmp(f->text, w->text, w->len) || f->text[f->len] != '\0' ||
                    f->line != w->line || f->column != w->column || f->quoted != w->quoted)
                    fail_msg("case %d row %zu field %zu: len %zu @%u.%u%s, reference len %zu "
                             "@%u.%u%s", iter, k, i, f->len, f->line, f->column,
                             f->quoted ? "*" : "", w->len, w->line, w->column, w->quoted ? "*" : "");
            }
        }
        assert_int_equal(esf_csv_offset(r), len);
        esf_csv_free(r);
        free(in);
        cases++;
    }
    /* the generator must reach every kind of record; these bound it from below */
    assert_true(rows > 100000);
    assert_true(fields > 200000);
    print_message("compared %zu inputs, %zu rows, %zu fields\n", cases, rows, fields);
}

static void test_embedded_nul_and_long_fields(void **state)
{
    (void)state;
    static char big[100000];
    memset(big, 'x', sizeof big - 3);
    big[sizeof big - 3] = ',';
    big[sizeof big - 2] = 'y';
    esf_csv *r = NULL;
    assert_int_equal(esf_csv_open_mem(&r, big, sizeof big - 1, "big", NULL, NULL), ESF_OK);
    esf_csv_row row;
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.nfields, 2);
    assert_int_equal(row.fields[0].len, sizeof big - 3);
    assert_string_equal(row.fields[1].text, "y");
    esf_csv_free(r);

    const char nul[] = { 'a', '\0', 'b', ',', 'c' };
    assert_int_equal(esf_csv_open_mem(&r, nul, sizeof nul, "nul", NULL, NULL), ESF_OK);
    assert_int_equal(esf_csv_next(r, &row, NULL), 1);
    assert_int_equal(row.fields[0].len, 3);
    assert_memory_equal(row.fields[0].text, "a\0b", 3);
    esf_csv_free(r);
    esf_csv_free(NULL);
}

/* esf_utf8_check: the first bad byte is found at every offset, inside or after ASCII runs
 * (which it skips 32 bytes at a time with SSE2, then eight at a time), and valid multi-byte text
 * passes. */
static void test_utf8_check_offsets(void **state)
{
    (void)state;
    static const struct { const char *seq; size_t n; bool ok; } cases[] = {
        { "\xc3\xa9", 2, true },          /* U+00E9 */
        { "\xe2\x82\xac", 3, true },      /* U+20AC */
        { "\xf0\x9f\x98\x80", 4, true },  /* U+1F600 */
        { "\x80", 1, false },              /* lone continuation */
        { "\xc0\xaf", 2, false },          /* overlong */
        { "\xed\xa0\x80", 3, false },      /* surrogate */
        { "\xf4\x90\x80\x80", 4, false },  /* above U+10FFFF */
        { "\xff", 1, false },
        { "\xe2\x82", 2, false },          /* truncated at the end */
    };
    uint8_t buf[112];
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (size_t at = 0; at + cases[c].n <= 104; at++)
            for (size_t tail = 0; tail < 8 && at + cases[c].n + tail <= sizeof buf; tail++) {
                if (!cases[c].ok && cases[c].n == 2 && cases[c].seq[0] == '\xe2' && tail)
                    continue;  /* the truncated case only stands at the very end */
                memset(buf, 'a', sizeof buf);
                memcpy(buf + at, cases[c].seq, cases[c].n);
                size_t len = at + cases[c].n + tail;
                assert_int_equal(esf_utf8_check(buf, len), cases[c].ok ? len : at);
            }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dialect),
        cmocka_unit_test(test_utf8_check_offsets),
        cmocka_unit_test(test_places),
        cmocka_unit_test(test_places_each_path),
        cmocka_unit_test(test_differential_random),
        cmocka_unit_test(test_embedded_nul_and_long_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
