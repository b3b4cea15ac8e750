/* tests/test_validate_build.c - `dfusim validate` and `dfusim run` agree: every scenario
 * that validates (scenario_load + fleet_world_check, what validate does) also builds its
 * world (fleet_world_from_scenario, what run does), at every sweep point; and values the
 * devices refuse at build time (issue 13, D3: a power loss at 0 % of the upload or at 100 %
 * of the swap) are refused by validate with FILE:LINE:COL and the key.
 *
 * Scenarios: every YAML file under tests/scenarios/ and scenarios/, plus inline variants of
 * every fault kind at the edges of its ranges. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "models/fleet/world.h"
#include "models/fleet/settings.h"
#include "sim/cli/cli.h"
#include "sim/engine.h"
#include "sim/error.h"
#include "sim/scenario.h"

#define SRC DFUSIM_SOURCE_DIR

/* Outcome of one scenario text: -1 does not load, 0 loads but validate refuses it, 1
 * validates. For 1 the world of every sweep point must build; a failure is fail_msg(). */
static int validate_then_build(const char *path, const char *text, struct sim_diag *vd)
{
    struct scenario s;
    sim_diag_init(vd);
    int rc = text != NULL ? scenario_load_text(path, &fleet_settings_schema, text, strlen(text),
                                               NULL, 0, &s, vd)
                          : scenario_load(path, &fleet_settings_schema, NULL, 0, &s, vd);
    if (rc != 0)
        return -1;
    /* validate checks every sweep point */
    bool refused = fleet_world_check(&s, vd) != 0;
    for (size_t p = 1; p < s.n_points && !refused; p++) {
        struct scenario sp;
        if (scenario_load_point(s.path, &fleet_settings_schema, s.text, s.text_len, NULL, 0, p, &sp,
                                vd) != 0)
            fail_msg("%s: sweep point %zu does not load: %s", path, p, vd->text);
        refused = fleet_world_check(&sp, vd) != 0;
        scenario_fini(&sp);
    }
    if (refused) {
        scenario_fini(&s);
        return 0;
    }
    for (size_t p = 0; p < s.n_points; p++) {
        struct scenario sp;
        struct sim_diag d;
        sim_diag_init(&d);
        const struct scenario *cur = &s;
        if (p > 0) {
            if (scenario_load_point(s.path, &fleet_settings_schema, s.text, s.text_len, NULL, 0, p,
                                    &sp, &d) != 0)
                fail_msg("%s: sweep point %zu does not load: %s", path, p, d.text);
            cur = &sp;
        }
        struct sim_engine *e = sim_engine_new(0);
        assert_non_null(e);
        struct fleet_world *w = NULL;
        rc = fleet_world_from_scenario(cur, e, NULL, &w, &d);
        if (rc != 0)
            fail_msg("%s (point %zu) validates but its world does not build (%s): %s", path, p,
                     sim_err_str(rc), d.text);
        fleet_world_free(w);
        sim_engine_free(e);
        if (p > 0)
            scenario_fini(&sp);
    }
    scenario_fini(&s);
    return 1;
}

static size_t visit_dir(const char *dir, size_t *n_valid)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    char path[4096];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        if (S_ISDIR(st.st_mode)) {
            n += visit_dir(path, n_valid);
            continue;
        }
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 5, ".yaml") != 0)
            continue;
        /* 100,000 devices: built by the benchmark itself, too slow for a unit test. */
        if (strstr(path, "/bench/") != NULL)
            continue;
        struct sim_diag vd;
        n++;
        *n_valid += validate_then_build(path, NULL, &vd) == 1;
    }
    closedir(d);
    return n;
}

/* Every shipped and test scenario that validates also builds. */
static void every_valid_scenario_builds(void **state)
{
    (void)state;
    size_t valid = 0;
    size_t n = visit_dir(SRC "/tests/scenarios", &valid) + visit_dir(SRC "/scenarios", &valid);
    print_message("%zu scenario files, %zu validate and build\n", n, valid);
    /* The folders hold dozens of files; the shipped ones and tests/scenarios/valid, cli valid. */
    assert_true(n >= 40);
    assert_true(valid >= 25);
}

static const char base[] = "name: edge\n"
                           "seed: 5\n"
                           "until: 1h\n"
                           "image: { size: 128KiB }\n"
                           "client: { kind: device-manager-android }\n"
                           "devices:\n"
                           "  - { group: a, count: 2, board: nrf52840dk, bootloader: swap-move,\n"
                           "      firmware: { config_channel_dfu: true } }\n"
                           "faults:\n"
                           "  - ";

/* Each fault kind at the edges of its values: validate accepts exactly what builds, and what
 * it refuses is said at the fault's position with the key. */
static void fault_edges_validate_as_they_build(void **state)
{
    (void)state;
    static const struct {
        const char *fault;
        int validates;   /* 1 validates (and builds), 0 refused by validate, -1 by the parser */
        const char *msg; /* for 0: part of the message */
    } cases[] = {
        {"{ kind: power-loss, during: upload, at: 0% }", 0,
         "inline.yaml:10:5: faults[0].at: a power loss during the upload"},
        {"{ kind: power-loss, during: upload, at: 100% }", 1, NULL},
        {"{ kind: power-loss, during: upload, at: 0.1% }", 1, NULL},
        {"{ kind: power-loss, during: swap, at: 100% }", 0,
         "inline.yaml:10:5: faults[0].at: a power loss during the swap"},
        {"{ kind: power-loss, during: swap, at: 0% }", 1, NULL},
        {"{ kind: power-loss, during: swap, at: 99.9% }", 1, NULL},
        {"{ kind: power-loss, during: random, mean: 1s, off: 0s }", 1, NULL},
        {"{ kind: bad-image, boot: crash, crash_after: 0s }", 1, NULL},
        {"{ kind: bad-image, boot: invalid }", 1, NULL},
        {"{ kind: never-confirm, reset_after: 0s }", 1, NULL},
        {"{ kind: link-degrade, to: 0%, over: 0s }", 1, NULL},
        {"{ kind: link-degrade, to: 100% }", 1, NULL},
        {"{ kind: two-sources, delay: 0s }", 1, NULL},
    };
    char text[2048];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text), "%s%s\n", base, cases[i].fault);
        struct sim_diag vd;
        int got = validate_then_build("inline.yaml", text, &vd);
        if (got == -1 && cases[i].validates != -1)
            fail_msg("%s: does not load: %s", cases[i].fault, vd.text);
        if (got != cases[i].validates)
            fail_msg("%s: validate says %d, expected %d: %s", cases[i].fault, got,
                     cases[i].validates, vd.text);
        if (cases[i].msg != NULL && strstr(vd.text, cases[i].msg) == NULL)
            fail_msg("%s: message \"%s\" does not say \"%s\"", cases[i].fault, vd.text,
                     cases[i].msg);
    }
}

/* tests/scenarios/world/: files that load but that the devices would refuse; `dfusim
 * validate` says so at "# expect: LINE:COL: key" (first line) and exits 2, and `dfusim
 * run` refuses them the same way (exit 2, before any database). */
static void validate_refuses_what_run_would(void **state)
{
    (void)state;
    const char *dir_path = SRC "/tests/scenarios/world";
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int checked = 0;
    struct dirent *ent;
    static char out_text[1 << 14], err_text[1 << 14];
    while ((ent = readdir(dir)) != NULL) {
        size_t len = strlen(ent->d_name);
        if (len < 5 || strcmp(ent->d_name + len - 5, ".yaml") != 0)
            continue;
        char path[1024], line[512], want[2048];
        snprintf(path, sizeof(path), "%s/%s", dir_path, ent->d_name);
        FILE *f = fopen(path, "r");
        assert_non_null(f);
        if (fgets(line, sizeof(line), f) == NULL || strncmp(line, "# expect: ", 10) != 0)
            fail_msg("%s: first line must be '# expect: LINE:COLUMN: key'", path);
        fclose(f);
        line[strcspn(line, "\n")] = '\0';
        snprintf(want, sizeof(want), "%s:%s:", path, line + 10);
        for (int verb = 0; verb < 2; verb++) {
            const char *argv[] = {"dfusim", verb ? "run" : "validate", path, "-o",
                                  "test_validate_build.db"};
            FILE *out = fmemopen(out_text, sizeof(out_text), "w");
            FILE *err = fmemopen(err_text, sizeof(err_text), "w");
            int code = cli_main(verb ? 5 : 3, (char **)argv, out, err);
            fclose(out);
            fclose(err);
            if (code != SIM_EXIT_USAGE || strstr(err_text, want) == NULL)
                fail_msg("%s %s: exit %d, expected 2 and '%s' in:\n%s", argv[1], path, code, want,
                         err_text);
            if (strstr(err_text, "not an error") != NULL)
                fail_msg("%s: %s", path, err_text);
        }
        checked++;
    }
    closedir(dir);
    assert_true(checked >= 2);
}

/* What dfusim check would refuse in a scenario (an unknown check.tolerances metric),
 * validate refuses too, at the entry's position. */
static void validate_refuses_what_check_would(void **state)
{
    (void)state;
    const char *path = "test_validate_build_tolerance.yaml";
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("name: tol\nimage: { size: 64KiB }\ndevices: [{group: a, count: 2}]\ncheck:\n"
          "  tolerances:\n    - { metric: no_such_metric, rel: 5% }\n",
          f);
    fclose(f);
    static char out_text[4096], err_text[4096];
    const char *argv[] = {"dfusim", "validate", path};
    FILE *out = fmemopen(out_text, sizeof(out_text), "w");
    FILE *err = fmemopen(err_text, sizeof(err_text), "w");
    int code = cli_main(3, (char **)argv, out, err);
    fclose(out);
    fclose(err);
    unlink(path);
    assert_int_equal(code, SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "test_validate_build_tolerance.yaml:6:7: check.tolerances: "
                                     "unknown metric \"no_such_metric\""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_valid_scenario_builds),
        cmocka_unit_test(fault_edges_validate_as_they_build),
        cmocka_unit_test(validate_refuses_what_run_would),
        cmocka_unit_test(validate_refuses_what_check_would),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
