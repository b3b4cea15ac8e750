/* report/json_out.c - a small streaming JSON writer (report/json_out.h). */
#include "report/json_out.h"
#include "report/summary.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void report_json_init(struct report_json *j, FILE *out)
{
    memset(j, 0, sizeof(*j));
    j->out = out;
}

static void indent(struct report_json *j)
{
    fputc('\n', j->out);
    for (unsigned i = 0; i < j->depth; i++)
        fputs("  ", j->out);
}

/* Before any value: the separator and indentation its place needs. False on misuse. */
static bool value_start(struct report_json *j)
{
    if (j->done) {
        j->misuse = true; /* a second top-level value */
        return false;
    }
    if (j->depth == 0)
        return true;
    unsigned t = j->depth - 1;
    if (j->in_object[t]) {
        if (!j->key_pending) {
            j->misuse = true;
            return false;
        }
        j->key_pending = false;
        return true; /* report_json_key wrote the separator and the indentation */
    }
    if (j->has_items[t])
        fputc(',', j->out);
    j->has_items[t] = true;
    indent(j);
    return true;
}

static void value_end(struct report_json *j)
{
    if (j->depth == 0) {
        j->done = true;
        fputc('\n', j->out);
    }
}

/* Writes s as a JSON string: escapes, and U+FFFD for bytes that are not valid UTF-8. */
static void put_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p != '\0') {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', f);
            fputc(c, f);
            p++;
        } else if (c < 0x20) {
            static const char short_esc[] = {
                ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'};
            if (c < sizeof(short_esc) && short_esc[c] != 0)
                fprintf(f, "\\%c", short_esc[c]);
            else
                fprintf(f, "\\u%04x", c);
            p++;
        } else if (c < 0x80) {
            fputc(c, f);
            p++;
        } else {
            /* UTF-8: lead byte, continuation count, smallest code point (no overlong
             * forms), no surrogates, at most U+10FFFF (RFC 3629 section 4) */
            size_t n = c >= 0xc2 && c <= 0xdf   ? 1
                       : c >= 0xe0 && c <= 0xef ? 2
                       : c >= 0xf0 && c <= 0xf4 ? 3
                                                : 0;
            uint32_t cp = n == 1 ? c & 0x1fu : n == 2 ? c & 0x0fu : c & 0x07u;
            size_t k = 1;
            for (; n > 0 && k <= n && (p[k] & 0xc0) == 0x80; k++)
                cp = (cp << 6) | (p[k] & 0x3fu);
            bool ok = n > 0 && k == n + 1 && !(n == 2 && cp < 0x800) &&
                      !(n == 3 && (cp < 0x10000 || cp > 0x10ffff)) &&
                      !(cp >= 0xd800 && cp <= 0xdfff);
            if (ok) {
                fwrite(p, 1, n + 1, f);
                p += n + 1;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
        }
    }
    fputc('"', f);
}

static void open_container(struct report_json *j, bool object)
{
    if (j->depth == REPORT_JSON_DEPTH) {
        j->misuse = true;
        return;
    }
    if (!value_start(j))
        return;
    fputc(object ? '{' : '[', j->out);
    j->in_object[j->depth] = object;
    j->has_items[j->depth] = false;
    j->depth++;
}

static void close_container(struct report_json *j, bool object)
{
    if (j->depth == 0 || j->in_object[j->depth - 1] != object || j->key_pending) {
        j->misuse = true;
        return;
    }
    bool had = j->has_items[--j->depth];
    if (had)
        indent(j);
    fputc(object ? '}' : ']', j->out);
    value_end(j);
}

void report_json_begin_object(struct report_json *j)
{
    open_container(j, true);
}

void report_json_end_object(struct report_json *j)
{
    close_container(j, true);
}

void report_json_begin_array(struct report_json *j)
{
    open_container(j, false);
}

void report_json_end_array(struct report_json *j)
{
    close_container(j, false);
}

void report_json_key(struct report_json *j, const char *key)
{
    if (j->depth == 0 || !j->in_object[j->depth - 1] || j->key_pending || key == NULL) {
        j->misuse = true;
        return;
    }
    unsigned t = j->depth - 1;
    if (j->has_items[t])
        fputc(',', j->out);
    j->has_items[t] = true;
    indent(j);
    put_string(j->out, key);
    fputs(": ", j->out);
    j->key_pending = true;
}

void report_json_string(struct report_json *j, const char *s)
{
    if (s == NULL) {
        report_json_null(j);
        return;
    }
    if (!value_start(j))
        return;
    put_string(j->out, s);
    value_end(j);
}

void report_json_number(struct report_json *j, double v)
{
    if (!isfinite(v)) {
        report_json_null(j);
        return;
    }
    if (!value_start(j))
        return;
    char buf[40];
    snprintf(buf, sizeof(buf), "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, sizeof(buf), "%.17g", v);
    if (strcmp(buf, "-0") == 0)
        snprintf(buf, sizeof(buf), "0");
    fputs(buf, j->out);
    value_end(j);
}

void report_json_int(struct report_json *j, int64_t v)
{
    if (!value_start(j))
        return;
    fprintf(j->out, "%" PRId64, v);
    value_end(j);
}

void report_json_uint(struct report_json *j, uint64_t v)
{
    if (!value_start(j))
        return;
    fprintf(j->out, "%" PRIu64, v);
    value_end(j);
}

void report_json_bool(struct report_json *j, bool v)
{
    if (!value_start(j))
        return;
    fputs(v ? "true" : "false", j->out);
    value_end(j);
}

void report_json_null(struct report_json *j)
{
    if (!value_start(j))
        return;
    fputs("null", j->out);
    value_end(j);
}

int report_json_finish(struct report_json *j)
{
    bool bad = j->misuse || j->depth != 0 || j->key_pending || !j->done;
    if (fflush(j->out) != 0 || ferror(j->out))
        return REPORT_EIO;
    return bad ? REPORT_EFORMAT : 0;
}
