/* espforge CLI: Python argparse's parsing rules for the drop-in twins. See argparse.h. */
#include "argparse.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ap_usage(const ap_parser *p, void *out)
{
    FILE *f = out;
    char line[2048];
    size_t n = (size_t)snprintf(line, sizeof line, "usage: %s [-h]", p->prog);
    size_t indent = strlen("usage: ") + strlen(p->prog) + 1;
    size_t col = n;
    fputs(line, f);
    for (size_t i = 0; i < p->nopts + p->npos; i++) {
        char item[256];
        if (i < p->nopts) {
            const ap_opt *o = &p->opts[i];
            if (o->help && !strcmp(o->help, AP_SUPPRESS))
                continue;
            if (o->kind == AP_STORE_TRUE)
                snprintf(item, sizeof item, "[%s]", o->name);
            else
                snprintf(item, sizeof item, "[%s %s]", o->name, o->metavar);
        } else {
            const ap_pos *a = &p->pos[i - p->nopts];
            if (a->nargs == AP_ONE_OR_MORE)
                snprintf(item, sizeof item, "%s [%s ...]", a->name, a->name);
            else
                snprintf(item, sizeof item, "%s", a->name);
        }
        if (col + 1 + strlen(item) > 78) {
            fprintf(f, "\n%*s", (int)indent - 1, "");
            col = indent - 1;
        }
        fprintf(f, " %s", item);
        col += 1 + strlen(item);
    }
    fputc('\n', f);
}

int ap_error(const ap_parser *p, const char *fmt, ...)
{
    ap_usage(p, stderr);
    fprintf(stderr, "%s: error: ", p->prog);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

static void print_help(const ap_parser *p)
{
    ap_usage(p, stdout);
    if (p->description)
        printf("\n%s\n", p->description);
    if (p->npos) {
        printf("\npositional arguments:\n");
        for (size_t i = 0; i < p->npos; i++)
            printf("  %-22s %s\n", p->pos[i].name, p->pos[i].help ? p->pos[i].help : "");
    }
    printf("\noptions:\n  %-22s %s\n", "-h, --help", "show this help message and exit");
    for (size_t i = 0; i < p->nopts; i++) {
        char head[128];
        const ap_opt *o = &p->opts[i];
        if (o->help && !strcmp(o->help, AP_SUPPRESS))
            continue;
        if (o->kind == AP_STORE_TRUE)
            snprintf(head, sizeof head, "%s", o->name);
        else
            snprintf(head, sizeof head, "%s %s", o->name, o->metavar);
        printf("  %-22s %s\n", head, o->help ? o->help : "");
    }
}

static bool is_negative_number(const char *s)
{
    /* ^-\d+$|^-\d*\.\d+$ */
    if (s[0] != '-' || !s[1])
        return false;
    const char *q = s + 1;
    size_t d1 = strspn(q, "0123456789");
    if (!q[d1])
        return d1 > 0;
    if (q[d1] != '.')
        return false;
    size_t d2 = strspn(q + d1 + 1, "0123456789");
    return d2 > 0 && !q[d1 + 1 + d2];
}

enum { T_POS = 'A', T_OPT = 'O' };

typedef struct tok {
    char kind;        /* 'A' or 'O' */
    int opt;          /* option index, -1 unknown, -2 help */
    const char *explicit_arg;
} tok;

/* argparse _parse_optional: classify one argument. Returns 0, or 2 after an ambiguity error. */
static int classify(const ap_parser *p, const char *a, tok *t)
{
    t->kind = T_POS;
    t->opt = -1;
    t->explicit_arg = NULL;
    if (a[0] != '-' || !a[1])
        return 0;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
        t->kind = T_OPT;
        t->opt = -2;
        return 0;
    }
    for (size_t i = 0; i < p->nopts; i++)
        if (!strcmp(a, p->opts[i].name)) {
            t->kind = T_OPT;
            t->opt = (int)i;
            return 0;
        }
    const char *eq = strchr(a, '=');
    size_t plen = eq ? (size_t)(eq - a) : strlen(a);
    if (eq)
        for (size_t i = 0; i < p->nopts; i++)
            if (strlen(p->opts[i].name) == plen && !strncmp(a, p->opts[i].name, plen)) {
                t->kind = T_OPT;
                t->opt = (int)i;
                t->explicit_arg = eq + 1;
                return 0;
            }
    /* unambiguous prefixes of long options */
    if (a[1] == '-') {
        int found = -1, nfound = 0;
        char list[1024] = "";
        if (!strncmp("--help", a, plen) && plen >= 3) {
            found = -2;
            nfound++;
            strcat(list, "--help");
        }
        for (size_t i = 0; i < p->nopts; i++)
            if (!strncmp(p->opts[i].name, a, plen)) {
                if (nfound)
                    strncat(list, ", ", sizeof list - strlen(list) - 1);
                strncat(list, p->opts[i].name, sizeof list - strlen(list) - 1);
                found = (int)i;
                nfound++;
            }
        if (nfound > 1)
            return ap_error(p, "ambiguous option: %.*s could match %s", (int)plen, a, list);
        if (nfound == 1) {
            t->kind = T_OPT;
            t->opt = found;
            t->explicit_arg = eq ? eq + 1 : NULL;
            return 0;
        }
    } else if (strlen(a) > 2) {
        /* a single-dash option with its value attached: -j4 */
        for (size_t i = 0; i < p->nopts; i++)
            if (strlen(p->opts[i].name) == 2 && !strncmp(a, p->opts[i].name, 2) &&
                (p->opts[i].kind == AP_STORE || p->opts[i].kind == AP_STORE_INT)) {
                t->kind = T_OPT;
                t->opt = (int)i;
                t->explicit_arg = a + 2;
                return 0;
            }
    }
    if (a[1] != '-' && plen >= 2 && !strncmp(a, "-h", 2)) {
        t->kind = T_OPT;  /* -hX: help with an explicit argument -> handled as help */
        t->opt = -2;
        return 0;
    }
    if (is_negative_number(a))
        return 0;
    if (strchr(a, ' '))
        return 0;
    t->kind = T_OPT;  /* unknown option */
    return 0;
}

static int parse_long(const char *s, long *out)
{
    /* Python int(): whitespace, sign, digits with single underscores */
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    int neg = 0;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    long v = 0;
    int nd = 0, prev = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        v = v * 10 + (*s - '0');
        nd++;
        prev = 1;
        if (s[1] == '_' && s[2] >= '0' && s[2] <= '9' && prev)
            s++;
        if (v > 1000000000L)
            return -1;
    }
    while (*s == ' ' || (*s >= '\t' && *s <= '\r'))
        s++;
    if (!nd || *s)
        return -1;
    *out = neg ? -v : v;
    return 0;
}

int ap_int(const char *s, long *out) { return parse_long(s, out); }

static int store(ap_parser *p, ap_opt *o, const char *val)
{
    if (o->kind == AP_STORE_INT2) {  /* one of the two values: the first to ivalue, then value */
        long v;
        if (parse_long(val, &v))
            return ap_error(p, "argument %s: invalid int value: '%s'", o->name, val);
        if (o->set)
            o->value = val;
        else
            o->ivalue = v;
        o->set = true;
        return 0;
    }
    if (o->kind == AP_STORE_INT) {
        long v;
        if (parse_long(val, &v))
            return ap_error(p, "argument %s: invalid int value: '%s'", o->name, val);
        if (o->choices) {
            bool ok = false;
            for (size_t i = 0; i < o->nchoices; i++)
                ok |= o->choices[i] == v;
            if (!ok) {
                char list[128] = "";
                for (size_t i = 0; i < o->nchoices; i++)
                    snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? ", " : "",
                             o->choices[i]);
                return ap_error(p, "argument %s: invalid choice: %ld (choose from %s)", o->name, v, list);
            }
        }
        o->ivalue = v;
    } else {
        o->value = val;
    }
    o->set = true;
    return 0;
}

/* Match positionals [first, first+k) against `nA` available strings like argparse's regex
 * (nargs 1 = exactly one, '+' = one or more, greedy). Fills counts; false if impossible. */
static bool match_k(const ap_parser *p, size_t first, size_t k, int nA, int *counts)
{
    int need = 0;
    int plus = -1;
    for (size_t i = 0; i < k; i++) {
        need += 1;
        if (p->pos[first + i].nargs == AP_ONE_OR_MORE && plus < 0)
            plus = (int)i;
        counts[i] = 1;
    }
    if (need > nA)
        return false;
    if (plus >= 0)
        counts[plus] += nA - need;  /* greedy: the first '+' takes the rest */
    return true;
}

int ap_parse(ap_parser *p, int argc, char **argv)
{
    tok *t = calloc((size_t)argc + 1, sizeof *t);
    if (!t) {
        fprintf(stderr, "%s: out of memory\n", p->prog);
        return 2;
    }
    for (size_t i = 0; i < p->npos; i++) {
        p->pos[i].values = calloc((size_t)argc + 1, sizeof(char *));
        p->pos[i].count = 0;
        if (!p->pos[i].values) {
            free(t);
            return 2;
        }
    }
    int rc = 0;
    bool dashdash = false;
    for (int i = 0; i < argc; i++) {
        if (dashdash) {
            t[i].kind = T_POS;
            continue;
        }
        if (!strcmp(argv[i], "--")) {
            dashdash = true;
            t[i].kind = '-';
            continue;
        }
        if ((rc = classify(p, argv[i], &t[i])))
            goto done;
    }
    size_t next_pos = 0;     /* first positional not consumed yet */
    char *extras[256];
    int nextras = 0;
    int i = 0;
    while (i < argc) {
        if (t[i].kind == '-') {
            i++;
            continue;
        }
        if (t[i].kind == T_POS) {
            /* a run of positional strings, up to the next option */
            int j = i;
            int nA = 0;
            while (j < argc && t[j].kind != T_OPT) {
                if (t[j].kind == T_POS)
                    nA++;
                j++;
            }
            int counts[16];
            size_t k = p->npos - next_pos;
            while (k > 0 && !match_k(p, next_pos, k, nA, counts))
                k--;
            int used = 0;
            for (size_t a = 0; a < k; a++) {
                ap_pos *pp = &p->pos[next_pos + a];
                for (int c = 0; c < counts[a]; c++) {
                    while (t[i].kind != T_POS)
                        i++;
                    pp->values[pp->count++] = argv[i++];
                    used++;
                }
            }
            next_pos += k;
            for (; i < j; i++)
                if (t[i].kind == T_POS && nextras < 256)
                    extras[nextras++] = argv[i];
            continue;
        }
        /* an option */
        if (t[i].opt == -2) {
            print_help(p);
            rc = -1;
            goto done;
        }
        if (t[i].opt == -1) {
            if (nextras < 256)
                extras[nextras++] = argv[i];
            i++;
            continue;
        }
        ap_opt *o = &p->opts[t[i].opt];
        if (o->kind == AP_STORE_TRUE) {
            if (t[i].explicit_arg) {
                rc = ap_error(p, "argument %s: ignored explicit argument '%s'", o->name, t[i].explicit_arg);
                goto done;
            }
            o->set = true;
            i++;
            continue;
        }
        if (o->kind == AP_STORE_INT2) {
            if (t[i].explicit_arg || i + 2 >= argc || t[i + 1].kind != T_POS || t[i + 2].kind != T_POS) {
                rc = ap_error(p, "argument %s: expected 2 arguments", o->name);
                goto done;
            }
            o->set = false;
            if ((rc = store(p, o, argv[i + 1])) || (rc = store(p, o, argv[i + 2])))
                goto done;
            i += 3;
            continue;
        }
        if (t[i].explicit_arg) {
            if ((rc = store(p, o, t[i].explicit_arg)))
                goto done;
            i++;
            continue;
        }
        if (i + 1 >= argc || t[i + 1].kind != T_POS) {
            rc = ap_error(p, "argument %s: expected one argument", o->name);
            goto done;
        }
        if ((rc = store(p, o, argv[i + 1])))
            goto done;
        i += 2;
    }
    if (next_pos < p->npos) {
        char list[512] = "";
        for (size_t a = next_pos; a < p->npos; a++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a > next_pos ? ", " : "",
                     p->pos[a].name);
        rc = ap_error(p, "the following arguments are required: %s", list);
        goto done;
    }
    if (nextras) {
        char list[1024] = "";
        for (int a = 0; a < nextras; a++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", a ? " " : "", extras[a]);
        rc = ap_error(p, "unrecognized arguments: %s", list);
        goto done;
    }
done:
    free(t);
    return rc == -1 ? AP_HELP_SHOWN : rc;
}

void ap_free(ap_parser *p)
{
    for (size_t i = 0; i < p->npos; i++) {
        free(p->pos[i].values);
        p->pos[i].values = NULL;
    }
}
