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

/* A one-group scenario of 2 devices with one measured figure (keys of a measured entry). */
static int calibrate(const char *figure, const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f,
            "name: calib\n"
            "image: { size: 16KiB }\n"
            "devices: [{ group: a, count: 2 }]\n"
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

static void unknown_names_are_bad_input(void **state)
{
    (void)state;
    char path[256];
    snprintf(path, sizeof(path), "%s/calib_bad_%d.yaml", DFUSIM_BINARY_DIR, (int)getpid());
    assert_int_equal(calibrate("value: 2, metric: goodput, group: a", path), SIM_EXIT_USAGE);
    assert_int_equal(calibrate("value: 2, metric: devices, group: b", path), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "b is not a device group"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(verdicts_follow_the_ratio),
        cmocka_unit_test(unknown_names_are_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
