/* tests/test_report_fmt.c - report/fmt.h: durations for people (issue 12), the documented
 * rule at each boundary. */
#include "report/fmt.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static void durations_follow_the_documented_rule(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        double s;
        const char *want;
    } cases[] = {
        {"zero is milliseconds", 0, "0 ms"},
        {"below a millisecond keeps 3 digits", 0.00025, "0.25 ms"},
        {"sub-second is whole milliseconds", 0.25, "250 ms"},
        {"0.9996 s rounds up into seconds, not 1000 ms", 0.9996, "1.0 s"},
        {"seconds with one decimal", 3.2, "3.2 s"},
        {"just below a minute", 59.94, "59.9 s"},
        {"59.96 s prints as a minute, not 60.0 s", 59.96, "1:00"},
        {"minutes and seconds", 28 * 60 + 19, "28:19"},
        {"seconds round half up", 28 * 60 + 18.5, "28:19"},
        {"just below an hour", 3599.4, "59:59"},
        {"an hour", 3600, "1:00:00"},
        {"hours, minutes, seconds", 4 * 3600 + 19 * 60 + 2, "4:19:02"},
        {"a day", 86400, "1d 00:00:00"},
        {"a day and more", 86400 + 4 * 3600 + 19 * 60 + 2, "1d 04:19:02"},
        {"rounding carries into the day", 86399.6, "1d 00:00:00"},
        {"fourteen days", 14 * 86400, "14d 00:00:00"},
        {"negative keeps its sign", -3.2, "-3.2 s"},
        {"negative long", -(28 * 60 + 19), "-28:19"},
        {"NAN is not reached", NAN, "-"},
        {"infinity", INFINITY, "inf"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        char buf[32];
        const char *got = report_fmt_duration(cases[i].s, buf, sizeof(buf));
        assert_ptr_equal(got, buf);
        if (strcmp(buf, cases[i].want) != 0)
            fail_msg("%s: %.17g s printed \"%s\", want \"%s\"", cases[i].name, cases[i].s, buf,
                     cases[i].want);
    }
}

static void short_buffers_are_truncated_not_overrun(void **state)
{
    (void)state;
    char buf[8];
    memset(buf, 'x', sizeof(buf));
    report_fmt_duration(86400 * 123 + 1, buf, 5);
    assert_string_equal(buf, "123d");
    assert_int_equal(buf[5], 'x');
    char big[32];
    report_fmt_duration(1e12 * 86400, big, sizeof(big));
    assert_string_equal(big, "1000000000000d 00:00:00");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(durations_follow_the_documented_rule),
        cmocka_unit_test(short_buffers_are_truncated_not_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
