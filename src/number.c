/* Number parsing with the reference tools' rules (Python int(x, 0); the partition table's K/M
 * suffixes). See include/espforge/number.h. */
#include "espforge/number.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

static int digit_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'z') return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') return c - 'A' + 10;
    return 99;
}

int esf_parse_int_n(const char *text, size_t len, int64_t *out, esf_error *err)
{
    if (!text || !out)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "no number");
    const char *p = text, *end = text + len;
    while (p < end && is_space(*p)) p++;
    while (end > p && is_space(end[-1])) end--;
    bool neg = false;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    unsigned base = 10;
    bool prefixed = false;
    if (end - p >= 2 && p[0] == '0') {
        char b = (char)tolower((unsigned char)p[1]);
        base = b == 'x' ? 16 : b == 'o' ? 8 : b == 'b' ? 2 : 10;
        if (base != 10) {
            p += 2;
            prefixed = true;
        }
    }
    /* digits with single '_' separators; a prefix may be followed by one '_' */
    uint64_t mag = 0;
    const uint64_t limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    size_t ndigits = 0;
    bool overflow = false, all_zero = true, first_is_zero = false;
    bool prev_us = false;  /* one '_' may stand before a digit (before the first only after a prefix) */
    for (; p < end; p++) {
        if (*p == '_') {
            if (prev_us || (!prefixed && ndigits == 0))
                goto bad;
            prev_us = true;
            continue;
        }
        unsigned d = (unsigned)digit_value(*p);
        if (d >= base)
            goto bad;
        if (ndigits == 0)
            first_is_zero = d == 0;
        if (d)
            all_zero = false;
        ndigits++;
        prev_us = false;
        if (mag > (limit - d) / base)
            overflow = true;
        else
            mag = mag * base + d;
    }
    if (ndigits == 0 || prev_us)
        goto bad;
    if (base == 10 && !prefixed && first_is_zero && !all_zero)
        goto bad;  /* Python: leading zeros in decimal are not permitted */
    if (overflow)
        return esf_error_set(err, ESF_ERR_RANGE, "number %.*s is out of range", (int)len, text);
    *out = neg ? (int64_t)(0 - mag) : (int64_t)mag;
    return ESF_OK;
bad:
    return esf_error_set(err, ESF_ERR_PARSE, "invalid literal for int() with base 0: '%.*s'",
                         (int)len, text);
}

int esf_parse_int(const char *text, int64_t *out, esf_error *err)
{
    if (!text)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "no number");
    return esf_parse_int_n(text, strlen(text), out, err);
}

/* The reference strips one k/m suffix per recursive call; strip them iteratively (no stack
 * growth on a long run of suffixes), then apply the multipliers. */
static int parse_km(const char *text, size_t len, int64_t *out, esf_error *err)
{
    size_t nk = 0, nm = 0, n = len;
    for (; n > 0; n--) {
        char last = (char)tolower((unsigned char)text[n - 1]);
        if (last == 'k')
            nk++;
        else if (last == 'm')
            nm++;
        else
            break;
    }
    int rc = esf_parse_int_n(text, n, out, err);
    if (rc == ESF_ERR_PARSE)
        return esf_error_set(err, rc, "Invalid field value %.*s", (int)n, text);
    if (rc < 0)
        return rc;
    int64_t v = *out;
    for (size_t i = 0; i < nk + nm && v != 0; i++) {
        int64_t mult = i < nk ? 1024 : 1048576;
        if (v > INT64_MAX / mult || v < INT64_MIN / mult)
            return esf_error_set(err, ESF_ERR_RANGE, "number %.*s is out of range", (int)len, text);
        v *= mult;
    }
    *out = v;
    return ESF_OK;
}

int esf_parse_int_km(const char *text, int64_t *out, esf_error *err)
{
    if (!text || !out)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "no number");
    int64_t v;
    int rc = parse_km(text, strlen(text), &v, err);
    if (rc == ESF_OK)
        *out = v;
    return rc;
}

int esf_parse_size(const char *text, uint64_t *out, esf_error *err)
{
    if (!text || !out)
        return esf_error_set(err, ESF_ERR_INVALID_ARG, "no size");
    char buf[128];
    size_t len = strlen(text);
    if (len >= sizeof buf)
        return esf_error_set(err, ESF_ERR_PARSE, "invalid size '%s'", text);
    memcpy(buf, text, len + 1);
    /* unit words: KB, MB, KiB, MiB (any case) -> K, M */
    while (len && is_space(buf[len - 1])) buf[--len] = '\0';
    if (len >= 3 && !strcasecmp(buf + len - 3, "kib")) buf[len -= 2] = '\0';
    else if (len >= 3 && !strcasecmp(buf + len - 3, "mib")) buf[len -= 2] = '\0';
    else if (len >= 2 && !strcasecmp(buf + len - 2, "kb")) buf[len -= 1] = '\0';
    else if (len >= 2 && !strcasecmp(buf + len - 2, "mb")) buf[len -= 1] = '\0';
    int64_t v;
    int rc = esf_parse_int_km(buf, &v, err);
    if (rc == ESF_ERR_PARSE)
        return esf_error_set(err, rc, "invalid size '%s' (want a number such as 0x6000, 24576, 24K or 1M)", text);
    if (rc < 0)
        return rc;
    if (v < 0)
        return esf_error_set(err, ESF_ERR_RANGE, "size '%s' is negative", text);
    *out = (uint64_t)v;
    return ESF_OK;
}
