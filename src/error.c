/* The library's error type: codes, messages, places. See include/espforge/error.h. */
#include "espforge/error.h"

#include <stdio.h>
#include <string.h>

static const char *const code_names[] = {
    "ESF_OK", "ESF_ERR_NO_MEM", "ESF_ERR_INVALID_ARG", "ESF_ERR_IO", "ESF_ERR_PARSE",
    "ESF_ERR_RANGE", "ESF_ERR_CORRUPT", "ESF_ERR_NOT_FOUND", "ESF_ERR_EXISTS", "ESF_ERR_NO_SPACE",
    "ESF_ERR_FLASH", "ESF_ERR_POWER_CUT", "ESF_ERR_UNSUPPORTED", "ESF_ERR_INVALID",
    "ESF_ERR_TOO_LONG", "ESF_ERR_READ_ONLY", "ESF_ERR_CRYPTO", "ESF_ERR_TYPE_MISMATCH",
    "ESF_ERR_STATE", "ESF_ERR_INTERNAL", "ESF_ERR_CANCELLED",
};

const char *esf_strerror(int code)
{
    if (code <= 0 && code > ESF_ERR__LAST)
        return code_names[-code];
    return "ESF_ERR_UNKNOWN";
}

void esf_error_clear(esf_error *err)
{
    if (!err)
        return;
    memset(err, 0, sizeof *err);
    err->offset = -1;
}

static void set_source(esf_error *err, const char *source)
{
    if (source)
        snprintf(err->source, sizeof err->source, "%s", source);
    else
        err->source[0] = '\0';
}

int esf_error_vset(esf_error *err, int code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    esf_error_clear(err);
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    return code;
}

int esf_error_set(esf_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    esf_error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int esf_error_at(esf_error *err, int code, const char *source, int64_t offset, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    esf_error_vset(err, code, fmt, ap);
    va_end(ap);
    if (err) {
        set_source(err, source);
        err->offset = offset;
    }
    return code;
}

int esf_error_loc(esf_error *err, int code, const char *source, uint32_t line, uint32_t column,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    esf_error_vset(err, code, fmt, ap);
    va_end(ap);
    if (err) {
        set_source(err, source);
        err->line = line;
        err->column = column;
    }
    return code;
}

int esf_error_wrap(esf_error *err, const char *fmt, ...)
{
    if (!err)
        return ESF_ERR_INTERNAL;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
    return err->code;
}

const char *esf_error_format(const esf_error *err, char *buf, size_t len)
{
    if (!buf || !len)
        return buf;
    if (!err) {
        buf[0] = '\0';
        return buf;
    }
    if (err->source[0] && err->line && err->column)
        snprintf(buf, len, "%s:%u:%u: %s", err->source, err->line, err->column, err->msg);
    else if (err->source[0] && err->line)
        snprintf(buf, len, "%s:%u: %s", err->source, err->line, err->msg);
    else if (err->offset >= 0)
        snprintf(buf, len, "%s%soffset 0x%llx: %s", err->source, err->source[0] ? ": " : "",
                 (unsigned long long)err->offset, err->msg);
    else if (err->source[0])
        snprintf(buf, len, "%s: %s", err->source, err->msg);
    else
        snprintf(buf, len, "%s", err->msg);
    return buf;
}

void esf_warn_loc(const esf_warn_sink *sink, const char *source, uint32_t line, uint32_t column,
                  const char *fmt, ...)
{
    if (!sink || !sink->fn)
        return;
    esf_error w;
    va_list ap;
    va_start(ap, fmt);
    esf_error_vset(&w, ESF_OK, fmt, ap);
    va_end(ap);
    set_source(&w, source);
    w.line = line;
    w.column = column;
    sink->fn(sink->ctx, &w);
}
