/* tests/test_report_json.c - report/json_out.h (issue 12): exact bytes of a small
 * document, string escapes and invalid UTF-8, numbers that read back exactly, NAN as
 * null, misuse reported; and jq (Debian package jq) parses what it writes. */
#include "report/json_out.h"
#include "report/summary.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static char text[8192];

static FILE *open_text(void)
{
    memset(text, 0, sizeof(text));
    FILE *f = fmemopen(text, sizeof(text) - 1, "w");
    assert_non_null(f);
    return f;
}

/* ---- a document, byte for byte: layout, separators, every value type ---- */
static void document_bytes_are_exact(void **state)
{
    (void)state;
    FILE *f = open_text();
    struct report_json j;
    report_json_init(&j, f);
    report_json_begin_object(&j);
    report_json_key(&j, "name");
    report_json_string(&j, "reg");
    report_json_key(&j, "values");
    report_json_begin_array(&j);
    report_json_number(&j, 1.5);
    report_json_number(&j, NAN);
    report_json_int(&j, -3);
    report_json_uint(&j, UINT64_MAX);
    report_json_bool(&j, true);
    report_json_null(&j);
    report_json_end_array(&j);
    report_json_key(&j, "empty");
    report_json_begin_object(&j);
    report_json_end_object(&j);
    report_json_key(&j, "none");
    report_json_begin_array(&j);
    report_json_end_array(&j);
    report_json_end_object(&j);
    assert_int_equal(report_json_finish(&j), 0);
    fclose(f);
    assert_string_equal(text, "{\n"
                              "  \"name\": \"reg\",\n"
                              "  \"values\": [\n"
                              "    1.5,\n"
                              "    null,\n"
                              "    -3,\n"
                              "    18446744073709551615,\n"
                              "    true,\n"
                              "    null\n"
                              "  ],\n"
                              "  \"empty\": {},\n"
                              "  \"none\": []\n"
                              "}\n");
}

static const char *one_string(const char *s)
{
    FILE *f = open_text();
    struct report_json j;
    report_json_init(&j, f);
    report_json_string(&j, s);
    assert_int_equal(report_json_finish(&j), 0);
    fclose(f);
    text[strcspn(text, "\n")] = '\0';
    return text;
}

/* ---- strings: RFC 8259 section 7 escapes; invalid UTF-8 becomes U+FFFD ---- */
static void strings_are_escaped(void **state)
{
    (void)state;
    static const struct {
        const char *name, *in, *want;
    } cases[] = {
        {"plain", "all / dk", "\"all / dk\""},
        {"quote and backslash", "a\"b\\c", "\"a\\\"b\\\\c\""},
        {"short escapes", "\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\""},
        {"other control characters as \\u00XX", "\x01\x1f", "\"\\u0001\\u001f\""},
        {"valid UTF-8 passes through", "\xc2\xb1 5 %", "\"\xc2\xb1 5 %\""},
        {"four-byte UTF-8", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
        {"a stray continuation byte", "a\x80z", "\"a\\ufffdz\""},
        {"a truncated sequence", "a\xe2\x82", "\"a\\ufffd\\ufffd\""},
        {"an overlong form", "\xc0\xaf", "\"\\ufffd\\ufffd\""},
        {"a surrogate", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""},
        {"past U+10FFFF", "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        if (strcmp(one_string(cases[i].in), cases[i].want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].name, text, cases[i].want);
}

/* ---- numbers: shortest of %.15g / %.17g that reads back; not finite is null ---- */
static void numbers_read_back_exactly(void **state)
{
    (void)state;
    static const double values[] = {0.1, 1.0 / 3, 123456789.123, 1e-300, 5e300, -2.5, 0};
    for (size_t i = 0; i < ARRAY_LEN(values); i++) {
        FILE *f = open_text();
        struct report_json j;
        report_json_init(&j, f);
        report_json_number(&j, values[i]);
        assert_int_equal(report_json_finish(&j), 0);
        fclose(f);
        if (strtod(text, NULL) != values[i])
            fail_msg("%.17g written as %s", values[i], text);
    }
    assert_string_equal(one_string("x"), "\"x\""); /* reset */
    FILE *f = open_text();
    struct report_json j;
    report_json_init(&j, f);
    report_json_begin_array(&j);
    report_json_number(&j, 0.1);
    report_json_number(&j, INFINITY);
    report_json_number(&j, -0.0);
    report_json_end_array(&j);
    assert_int_equal(report_json_finish(&j), 0);
    fclose(f);
    assert_string_equal(text, "[\n  0.1,\n  null,\n  0\n]\n");
}

/* ---- misuse is not written and is reported by finish ---- */
static void misuse_is_reported(void **state)
{
    (void)state;
    struct report_json j;
    FILE *f = open_text();
    report_json_init(&j, f);
    report_json_begin_object(&j);
    report_json_number(&j, 1); /* a value without a key */
    report_json_end_object(&j);
    assert_int_equal(report_json_finish(&j), REPORT_EFORMAT);
    fclose(f);
    f = open_text();
    report_json_init(&j, f);
    report_json_begin_array(&j); /* left open */
    assert_int_equal(report_json_finish(&j), REPORT_EFORMAT);
    fclose(f);
    f = open_text();
    report_json_init(&j, f);
    report_json_begin_array(&j);
    report_json_end_object(&j); /* the wrong container */
    report_json_end_array(&j);
    assert_int_equal(report_json_finish(&j), REPORT_EFORMAT);
    fclose(f);
    f = open_text();
    report_json_init(&j, f);
    for (int i = 0; i < REPORT_JSON_DEPTH + 1; i++)
        report_json_begin_array(&j);
    assert_int_equal(report_json_finish(&j), REPORT_EFORMAT);
    fclose(f);
}

/* ---- jq parses a document with every tricky string and reads the values back ---- */
static void jq_parses_the_output(void **state)
{
    (void)state;
    char path[] = "/tmp/dfusim-test-json-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    struct report_json j;
    report_json_init(&j, f);
    report_json_begin_object(&j);
    report_json_key(&j, "s");
    report_json_string(&j, "q\"\\\n\x01\x80\xc2\xb1");
    report_json_key(&j, "x");
    report_json_number(&j, 0.1);
    report_json_key(&j, "n");
    report_json_number(&j, NAN);
    report_json_end_object(&j);
    assert_int_equal(report_json_finish(&j), 0);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof(cmd),
             "jq -e '.s == \"q\\\"\\\\\\n\\u0001\\ufffd\\u00b1\" and .x == 0.1 and .n == null' %s "
             ">/dev/null",
             path);
    int rc = system(cmd);
    remove(path);
    assert_int_equal(rc, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(document_bytes_are_exact),  cmocka_unit_test(strings_are_escaped),
        cmocka_unit_test(numbers_read_back_exactly), cmocka_unit_test(misuse_is_reported),
        cmocka_unit_test(jq_parses_the_output),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
