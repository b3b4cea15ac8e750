/* tests/test_calibration.c - `dfusim calibration`: each figure's verdict from its measured
 * value, the simulated one and its tolerance, and the exit code those verdicts give. The
 * figure is the device count of a group (2 devices: a number the run cannot get wrong),
 * so the expected verdicts follow from the ratio alone. */
#include "cli_capture.h"
#include "sim/error.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char out_text[1 << 16], err_text[1 << 14];

/* A scenario of group a (2 devices) and group b (1 device) with one measured figure (keys
 * of a measured entry). */
static int calibrate(const char *figure, const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "name: calib\n"
            "image: { size: 16KiB }\n"
            "devices: [{ group: a, count: 2 }, { group: b, count: 1 }]\n"
            "measured:\n"
            "  - { source: \"a test\", %s }\n",
            figure);
    fclose(f);
    const char *argv[] = {"dfusim", "calibration", path};
    int code = cli_capture(3, argv, out_text, sizeof(out_text), err_text, sizeof(err_text));
    unlink(path);
    return code;
}

static void verdicts_follow_the_ratio(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/calib_%d.yaml", DFUSIM_BINARY_DIR, (int)getpid());
    static const struct {
        const char *figure, *verdict;
        int code;
    } cases[] = {
        {"metric: devices, group: a, value: 2", "ok", SIM_EXIT_OK},   /* ratio 1 */
        {"metric: devices, group: a, value: 2.3", "ok", SIM_EXIT_OK}, /* 0.87: inside 15 % */
        {"metric: devices, group: a, value: 2.5", "FAIL", SIM_EXIT_REGRESSION}, /* 0.80 */
        {"metric: devices, group: a, value: 2.5, tolerance: 25%", "ok",
         SIM_EXIT_OK}, /* 0.80 inside 25 % */
        {"metric: devices, group: a, value: 4, known_gap: \"why\"", "known gap",
         SIM_EXIT_OK}, /* 0.50 */
        {"metric: devices, group: a, value: 2, known_gap: \"why\"", "now ok",
         SIM_EXIT_REGRESSION}, /* a stale gap */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int code = calibrate(cases[i].figure, path);
        if (code != cases[i].code || strstr(out_text, cases[i].verdict) == NULL)
            fail_msg("%s: exit %d (want %d), want '%s' in:\n%s%s", cases[i].figure, code,
                     cases[i].code, cases[i].verdict, out_text, err_text);
    }
}

/* relative_to: the figure is group / relative_to of the metric, 2 devices over 1 = 2 (and
 * 1 over 2 = 0.5 the other way round), judged as any figure is. */
static void a_ratio_divides_the_groups(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/calib_ratio_%d.yaml", DFUSIM_BINARY_DIR, (int)getpid());
    static const struct {
        const char *figure, *verdict;
        int code;
    } cases[] = {
        {"metric: devices, group: a, relative_to: b, value: 2", "ok", SIM_EXIT_OK},
        {"metric: devices, group: b, relative_to: a, value: 0.5", "ok", SIM_EXIT_OK},
        {"metric: devices, relative_to: b, value: 2", "ok", SIM_EXIT_OK}, /* a: the first */
        {"metric: devices, group: a, relative_to: b, value: 1", "FAIL", SIM_EXIT_REGRESSION},
        {"metric: devices, group: a, relative_to: b, value: 4, known_gap: \"why\"", "known gap",
         SIM_EXIT_OK},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int code = calibrate(cases[i].figure, path);
        if (code != cases[i].code || strstr(out_text, cases[i].verdict) == NULL)
            fail_msg("%s: exit %d (want %d), want '%s' in:\n%s%s", cases[i].figure, code,
                     cases[i].code, cases[i].verdict, out_text, err_text);
    }
    /* The table names the ratio as group / relative_to. */
    assert_int_equal(calibrate("metric: devices, group: b, relative_to: a, value: 0.5", path),
                     SIM_EXIT_OK);
    assert_non_null(strstr(out_text, " / b / a "));
    assert_non_null(strstr(out_text, "0.5 ")); /* measured and simulated: 1 device over 2 */
    assert_non_null(strstr(out_text, "1.00  ok"));
}

static void unknown_names_are_bad_input(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/calib_bad_%d.yaml", DFUSIM_BINARY_DIR, (int)getpid());
    assert_int_equal(calibrate("value: 2, metric: goodput, group: a", path), SIM_EXIT_USAGE);
    assert_int_equal(calibrate("value: 2, metric: devices, group: c", path), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "c is not a device group"));
    assert_int_equal(calibrate("value: 2, metric: devices, relative_to: c", path), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "measured[0].relative_to: c is not a device group"));
    assert_int_equal(calibrate("value: 1, metric: devices, group: a, relative_to: a", path),
                     SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "the figure's own group"));
    /* the scenario records attempts (the default): no chunks to read the first chunk from */
    assert_int_equal(calibrate("value: 1, metric: first_chunk_s_max", path), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "needs `record: chunks` (it has attempts)"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts_follow_the_ratio),
        cmocka_unit_test(a_ratio_divides_the_groups),
        cmocka_unit_test(unknown_names_are_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
