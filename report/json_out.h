/* report/json_out.h - a small streaming JSON writer for the CLI's --json outputs (check,
 * and run/report/compare later): valid JSON by construction, strings escaped, numbers as
 * numbers.
 *
 * Rules: strings are written as UTF-8 with '"', '\\' and control characters escaped
 * (\n, \t, \r, \b, \f, else \u00XX); a byte that is not part of valid UTF-8 becomes
 * U+FFFD, so any C string gives valid JSON. A double is written with the fewest of 15 or
 * 17 significant digits that read back to the same value; NAN and infinities are null
 * (JSON has no such numbers: for us they mean "not reached"). Output is indented by two
 * spaces, one value per line, and ends with a newline after the outermost value.
 *
 * Use: init, then values; inside an object each value follows report_json_key. Misuse
 * (a value without a key in an object, a key in an array, closing the wrong container,
 * nesting past REPORT_JSON_DEPTH) is not written but remembered, and report_json_finish
 * reports it. The writer never allocates. */
#ifndef REPORT_JSON_OUT_H
#define REPORT_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define REPORT_JSON_DEPTH 32

struct report_json {
    FILE *out;
    unsigned depth;
    bool in_object[REPORT_JSON_DEPTH]; /* per open container: object (true) or array */
    bool has_items[REPORT_JSON_DEPTH]; /* per open container: a value written already */
    bool key_pending;                  /* a key was written, its value not yet */
    bool misuse, done;
};

/* Starts a document on out (not owned; stays open). */
void report_json_init(struct report_json *j, FILE *out);

void report_json_begin_object(struct report_json *j);
void report_json_end_object(struct report_json *j);
void report_json_begin_array(struct report_json *j);
void report_json_end_array(struct report_json *j);
/* The key of the next value in the current object. */
void report_json_key(struct report_json *j, const char *key);

void report_json_string(struct report_json *j, const char *s); /* NULL: null */
void report_json_number(struct report_json *j, double v);      /* not finite: null */
void report_json_int(struct report_json *j, int64_t v);
void report_json_uint(struct report_json *j, uint64_t v);
void report_json_bool(struct report_json *j, bool v);
void report_json_null(struct report_json *j);

/* Ends the document: 0; REPORT_EFORMAT after misuse or with containers still open
 * (report/summary.h codes); REPORT_EIO when out has a write error. Flushes out. */
int report_json_finish(struct report_json *j);

#endif /* REPORT_JSON_OUT_H */
