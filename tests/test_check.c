/* tests/test_check.c - `dfusim check` (issue 8): baselines, tolerances, fingerprint, JUnit,
 * exit codes 0/1/2, run in-process through cli_main. */
#include "report/baseline.h"
#include "sim/cli/cli.h"
#include "sim/error.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#define SRC      DFUSIM_SOURCE_DIR
#define SCENARIO SRC "/scenarios/regression/swap-move-128k.yaml"

struct fixture {
    char dir[256];   /* baseline directory */
    char junit[300]; /* JUnit file */
    char out[65536], err[8192];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/dfusim-test-check-XXXXXX");
    if (f == NULL || mkdtemp(f->dir) == NULL)
        return -1;
    snprintf(f->junit, sizeof(f->junit), "%s/junit.xml", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        return -1;
    free(f);
    return 0;
}

/* Runs `dfusim check ARGS... --baseline DIR`; stdout and stderr into f->out, f->err. */
static int check(struct fixture *f, const char *const *args, size_t n)
{
    char *argv[32] = {(char *)"dfusim", (char *)"check"};
    int argc = 2;
    for (size_t i = 0; i < n; i++)
        argv[argc++] = (char *)args[i];
    argv[argc++] = (char *)"--baseline";
    argv[argc++] = f->dir;
    FILE *out = fmemopen(f->out, sizeof(f->out) - 1, "w");
    FILE *err = fmemopen(f->err, sizeof(f->err) - 1, "w");
    memset(f->out, 0, sizeof(f->out));
    memset(f->err, 0, sizeof(f->err));
    int rc = cli_main(argc, argv, out, err);
    fclose(out);
    fclose(err);
    return rc;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

static char *baseline_path(struct fixture *f, char *buf, size_t n)
{
    snprintf(buf, n, "%s/reg-swap-move-128k.csv", f->dir);
    return buf;
}

/* ---- update, then the same results pass with the same fingerprint ---- */
static void update_then_check_passes(void **state)
{
    struct fixture *f = *state;
    const char *up[] = {SCENARIO, "--update"};
    assert_int_equal(check(f, up, 2), SIM_EXIT_OK);
    assert_non_null(strstr(f->out, "baseline written"));
    const char *again[] = {SCENARIO};
    assert_int_equal(check(f, again, 1), SIM_EXIT_OK);
    assert_non_null(strstr(f->out, "fingerprint: same"));
    assert_non_null(strstr(f->out, "0 of 11 checks failed"));
}

/* ---- acceptance: a smaller window and netbuf make DFU slower: exit 1, a readable table
 * naming the metric and its change; after --update it passes ---- */
static void slower_dfu_is_a_regression_until_updated(void **state)
{
    struct fixture *f = *state;
    const char *up[] = {SCENARIO, "--update"};
    assert_int_equal(check(f, up, 2), SIM_EXIT_OK);
    const char *slow[] = {
        SCENARIO,  "--set",  "client.window=1",         "--set", "devices.dk.link.interval=30ms",
        "--junit", f->junit, "--allow-changed-settings"};
    assert_int_equal(check(f, slow, 8), SIM_EXIT_REGRESSION);
    const char *line = strstr(f->out, "all / dk / goodput_kBps_mean");
    assert_non_null(line);
    const char *eol = strchr(line, '\n');
    char row[256];
    snprintf(row, sizeof(row), "%.*s", (int)(eol - line), line);
    assert_non_null(strstr(row, "WORSE"));
    assert_non_null(strstr(row, "-")); /* throughput went down: a negative change */
    assert_non_null(strstr(row, "%"));
    assert_non_null(strstr(f->out, "time_to_updated_s_mean"));
    assert_non_null(strstr(f->out, "REGRESSION"));
    /* --update accepts the new results */
    const char *acc[] = {SCENARIO,          "--update", "--set",
                         "client.window=1", "--set",    "devices.dk.link.interval=30ms"};
    assert_int_equal(check(f, acc, 6), SIM_EXIT_OK);
    const char *again[] = {SCENARIO, "--set", "client.window=1", "--set",
                           "devices.dk.link.interval=30ms"};
    assert_int_equal(check(f, again, 5), SIM_EXIT_OK);
}

/* ---- a change inside the tolerances still changes the fingerprint, reported as such ---- */
static void fingerprint_only_change_is_reported_apart(void **state)
{
    struct fixture *f = *state;
    const char *up[] = {SCENARIO, "--update"};
    assert_int_equal(check(f, up, 2), SIM_EXIT_OK);
    /* a slightly larger image moves every time a little; the scenario's check map widens
     * every time and throughput tolerance to 50 % */
    char path[300], text[4096];
    FILE *in = fopen(SCENARIO, "r");
    assert_non_null(in);
    size_t n = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    text[n] = '\0';
    strcat(text, "check:\n  tolerances:\n");
    static const char *const wide[] = {"goodput_kBps_mean",
                                       "time_to_updated_s_mean",
                                       "downtime_s_mean",
                                       "t50_s",
                                       "t90_s",
                                       "t100_s"};
    for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text),
                 "    - { metric: %s, rel: 50%% }\n", wide[i]);
    snprintf(path, sizeof(path), "%s/wide.yaml", f->dir);
    write_file(path, text);
    const char *args[] = {path, "--set", "image.size=129KiB", "--allow-changed-settings"};
    int rc = check(f, args, sizeof(args) / sizeof(args[0]));
    assert_null(strstr(f->out, "  WORSE"));
    assert_non_null(strstr(f->out, "fingerprint: CHANGED"));
    assert_non_null(strstr(f->out, "even though every metric is inside its tolerance"));
    assert_int_equal(rc, SIM_EXIT_REGRESSION);
    const char *ign[] = {SCENARIO, "--set", "image.size=129KiB", "--ignore-fingerprint",
                         "--allow-changed-settings"};
    check(f, ign, 5);
    assert_non_null(strstr(f->out, "fingerprint: CHANGED"));
}

/* ---- bad input: exit 2 with file:line and what is wrong ---- */
static void corrupt_baseline_is_bad_input(void **state)
{
    struct fixture *f = *state;
    char path[300];
    const char *plain[] = {SCENARIO};
    assert_int_equal(check(f, plain, 1), SIM_EXIT_USAGE); /* no baseline yet */
    assert_non_null(strstr(f->err, "--update"));
    static const struct {
        const char *name, *text, *want;
    } cases[] = {
        {"wrong header", "a,b,c\n", ":1: expected the header"},
        {"bad number",
         "point,group,metric,value,rel_tol,abs_tol\n\"all\",\"dk\",updated,many,0,0\n",
         ":2: value \"many\" is not a number"},
        {"unknown metric", "point,group,metric,value,rel_tol,abs_tol\nall,dk,speed,1,0,0\n",
         ":2: unknown metric \"speed\""},
        {"short row", "point,group,metric,value,rel_tol,abs_tol\nall,dk,updated\n",
         ":2: expected 6 fields"},
        {"no fingerprint", "point,group,metric,value,rel_tol,abs_tol\nall,dk,updated,1,0,0\n",
         ":2: no fingerprint row"},
        {"negative tolerance", "point,group,metric,value,rel_tol,abs_tol\nall,dk,updated,1,-1,0\n",
         ":2: rel_tol \"-1\" is not a number >= 0"},
        {"unbalanced quote", "point,group,metric,value,rel_tol,abs_tol\n\"all,dk,updated,1,0,0\n",
         ":2: unbalanced quotes"},
        {"a newer format", "point,group,metric,value,rel_tol,abs_tol\n,,format,3,,\n",
         ":2: baseline format \"3\" is not one this dfusim reads (1 or 2): it was written by a "
         "newer dfusim; re-run with --update"},
        {"a setting without the format row",
         "point,group,metric,value,rel_tol,abs_tol\n,,seed,1,,\n",
         ":2: setting \"seed\" without a format row"},
        {"a bad scenario hash",
         "point,group,metric,value,rel_tol,abs_tol\n,,format,2,,\n"
         ",,scenario_sha256,abc,,\n",
         ":3: scenario_sha256 is not 64 lowercase hex digits"},
        {"an unknown setting",
         "point,group,metric,value,rel_tol,abs_tol\n,,format,2,,\n"
         ",,colour,red,,\n",
         ":3: unknown setting \"colour\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        write_file(baseline_path(f, path, sizeof(path)), cases[i].text);
        int rc = check(f, plain, 1);
        if (rc != SIM_EXIT_USAGE || strstr(f->err, cases[i].want) == NULL ||
            strstr(f->err, "reg-swap-move-128k.csv") == NULL)
            fail_msg("%s: rc %d, want \"%s\" in:\n%s", cases[i].name, rc, cases[i].want, f->err);
    }
}

static int count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* ---- JUnit: well-formed (balanced tags), one testcase per metric and the fingerprint,
 * a <failure> on the regression ---- */
static void junit_has_one_testcase_per_metric(void **state)
{
    struct fixture *f = *state;
    const char *up[] = {SCENARIO, "--update"};
    assert_int_equal(check(f, up, 2), SIM_EXIT_OK);
    const char *slow[] = {SCENARIO,  "--set",  "client.window=1",
                          "--junit", f->junit, "--allow-changed-settings"};
    assert_int_equal(check(f, slow, 6), SIM_EXIT_REGRESSION);
    FILE *fp = fopen(f->junit, "r");
    assert_non_null(fp);
    static char xml[65536];
    size_t n = fread(xml, 1, sizeof(xml) - 1, fp);
    xml[n] = '\0';
    fclose(fp);
    assert_int_equal(strncmp(xml, "<?xml", 5), 0);
    /* balanced tags: a stack of open element names */
    char stack[16][32];
    int depth = 0, testcases = 0;
    for (const char *p = strchr(xml + 1, '<'); p; p = strchr(p + 1, '<')) {
        const char *end = strchr(p, '>');
        assert_non_null(end);
        bool closing = p[1] == '/', empty = end[-1] == '/';
        char name[32];
        size_t len = strcspn(p + 1 + closing, " />");
        assert_true(len < sizeof(name));
        snprintf(name, sizeof(name), "%.*s", (int)len, p + 1 + closing);
        testcases += !closing && strcmp(name, "testcase") == 0;
        if (closing) {
            assert_true(depth > 0);
            assert_string_equal(stack[--depth], name);
        } else if (!empty) {
            assert_true(depth < 16);
            snprintf(stack[depth++], sizeof(stack[0]), "%s", name);
        }
        assert_null(memchr(p + 1, '<', (size_t)(end - p - 1))); /* no '<' inside a tag */
    }
    assert_int_equal(depth, 0);
    assert_int_equal(testcases, REPORT_CHECK_N_METRICS + 1);
    assert_true(count(xml, "<failure") >= 1);
    assert_non_null(strstr(xml, "name=\"all / dk / goodput_kBps_mean\" time=\""));
    assert_non_null(strstr(xml, "tolerance 5 %\" type=\"WORSE\"/>"));
    /* issue 12: wall time per testsuite and testcase as a float, the settings as properties */
    assert_int_equal(count(xml, " time=\""), 2 + REPORT_CHECK_N_METRICS + 1);
    const char *suite = strstr(xml, "<testsuite name=\"reg-swap-move-128k\"");
    assert_non_null(suite);
    const char *t = strstr(suite, "time=\"");
    assert_non_null(t);
    char *end;
    double secs = strtod(t + 6, &end);
    assert_true(*end == '"' && secs > 0 && strchr(t + 6, '.') < end);
    assert_non_null(strstr(xml, "<property name=\"seed\" value=\"1\"/>"));
    assert_non_null(strstr(xml, "<property name=\"set\" value=\"client.window=1\"/>"));
    assert_non_null(strstr(xml, "<property name=\"dfusim_version\" value=\"" DFUSIM_VERSION));
    assert_non_null(strstr(xml, "<property name=\"scenario_sha256\" value=\""));
    assert_non_null(strstr(xml, "<property name=\"settings_changed\" value=\"overrides: "));
    /* an independent parser agrees that it is well-formed XML (libxml2-utils) */
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "xmllint --noout '%s'", f->junit);
    assert_int_equal(system(cmd), 0);
}

/* The SHA-256 of a file by coreutils' sha256sum, an implementation apart from ours. */
static void sha256sum(const char *path, char hex[65])
{
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "sha256sum '%s'", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(hex, 65, p));
    pclose(p);
    assert_int_equal(strlen(hex), 64);
}

static char *read_all(const char *path, char *buf, size_t n)
{
    FILE *fp = fopen(path, "r");
    assert_non_null(fp);
    size_t got = fread(buf, 1, n - 1, fp);
    buf[got] = '\0';
    fclose(fp);
    return buf;
}

/* ---- issue 12: a baseline records its settings; other overrides or seed are refused
 * (exit 2, naming what differs and what to do) unless --allow-changed-settings ---- */
static void baseline_records_settings_and_refuses_others(void **state)
{
    struct fixture *f = *state;
    char path[300], text[4096], sha[65];
    const char *up[] = {SCENARIO, "--update", "--set", "client.window=2", "--seed", "5"};
    assert_int_equal(check(f, up, 6), SIM_EXIT_OK);
    read_all(baseline_path(f, path, sizeof(path)), text, sizeof(text));
    sha256sum(SCENARIO, sha);
    char want[200];
    snprintf(want, sizeof(want), "\n,,scenario_sha256,%s,,\n", sha);
    assert_non_null(strstr(text, want));
    assert_int_equal(strncmp(text, "point,group,metric,value,rel_tol,abs_tol\n,,format,2,,\n", 50),
                     0);
    assert_non_null(strstr(text, "\n,,dfusim_version,\"" DFUSIM_VERSION "\",,\n"));
    assert_non_null(strstr(text, "\n,,seed,5,,\n"));
    assert_non_null(strstr(text, "\n,,set,\"client.window=2\",,\n,,set,\"seed=5\",,\n"));
    /* the same settings compare */
    const char *same[] = {SCENARIO, "--set", "client.window=2", "--seed", "5"};
    assert_int_equal(check(f, same, 5), SIM_EXIT_OK);
    assert_null(strstr(f->out, "note:"));
    /* none of them: refused before running, naming both differences */
    const char *plain[] = {SCENARIO};
    assert_int_equal(check(f, plain, 1), SIM_EXIT_USAGE);
    assert_non_null(strstr(f->err, "was made with other settings"));
    assert_non_null(strstr(f->err, "overrides: the baseline was made with --set client.window=2 "
                                   "--set seed=5; this run has none"));
    assert_non_null(strstr(f->err, "seed: the baseline's is 5, this run's 1"));
    assert_non_null(strstr(f->err, "--update"));
    assert_non_null(strstr(f->err, "--allow-changed-settings"));
    assert_null(strstr(f->out, "checks failed"));
    /* the same value through --set seed= instead of --seed is another override list */
    const char *other[] = {SCENARIO, "--set", "client.window=2", "--set", "seed=5"};
    assert_int_equal(check(f, other, 5), SIM_EXIT_OK);
    const char *window3[] = {SCENARIO, "--set", "client.window=3", "--seed", "5"};
    assert_int_equal(check(f, window3, 5), SIM_EXIT_USAGE);
    assert_null(strstr(f->err, "seed: "));
    /* told to, it compares and says what differs */
    const char *allow[] = {SCENARIO, "--set", "client.window=3",
                           "--seed", "5",     "--allow-changed-settings"};
    int rc = check(f, allow, 6);
    assert_true(rc == SIM_EXIT_OK || rc == SIM_EXIT_REGRESSION);
    assert_non_null(strstr(f->out, "note: settings differ from the baseline's (compared anyway"));
    assert_non_null(strstr(f->out, "this run has --set client.window=3 --set seed=5"));
}

/* ---- issue 12: a changed scenario file is a note, not a refusal (its settings are in the
 * fingerprint); a baseline of the previous format is refused until --update ---- */
static void changed_scenario_is_a_note_and_old_baselines_are_refused(void **state)
{
    struct fixture *f = *state;
    char path[300], text[4096], copy[300];
    snprintf(copy, sizeof(copy), "%s/copy.yaml", f->dir);
    read_all(SCENARIO, text, sizeof(text));
    write_file(copy, text);
    const char *up[] = {copy, "--update"};
    assert_int_equal(check(f, up, 2), SIM_EXIT_OK);
    strcat(text, "# a comment changes the bytes, not the results\n");
    write_file(copy, text);
    const char *again[] = {copy};
    assert_int_equal(check(f, again, 1), SIM_EXIT_OK);
    assert_non_null(strstr(f->out, "note: settings differ from the baseline's:\n  scenario: the "
                                   "file changed since the baseline"));
    assert_non_null(strstr(f->out, "fingerprint: same"));
    /* the previous format: the same rows without the setting rows */
    read_all(baseline_path(f, path, sizeof(path)), text, sizeof(text));
    char old[4096] = "";
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n"))
        if (strncmp(line, ",,", 2) != 0 || strncmp(line, ",,fingerprint,", 14) == 0)
            snprintf(old + strlen(old), sizeof(old) - strlen(old), "%s\n", line);
    write_file(path, old);
    assert_int_equal(check(f, again, 1), SIM_EXIT_USAGE);
    assert_non_null(strstr(f->err, "did not record its settings (format 1)"));
    assert_non_null(strstr(f->err, "Re-run with --update"));
    const char *allow[] = {copy, "--allow-changed-settings"};
    assert_int_equal(check(f, allow, 2), SIM_EXIT_OK);
    assert_non_null(strstr(f->out, "fingerprint: same"));
}

/* ---- issue 12: the table shows the tolerance it applied, max(rel x |base|, abs) ---- */
static void table_shows_the_applied_tolerance(void **state)
{
    struct fixture *f = *state;
    char path[300], text[4096];
    read_all(SCENARIO, text, sizeof(text));
    /* 10 s absolute beats 1 % of a time of about 8 s; 50 % beats 0.001 kB/s */
    strcat(text, "check:\n  tolerances:\n"
                 "    - { metric: t100_s, rel: 1%, abs: 10 }\n"
                 "    - { metric: goodput_kBps_mean, rel: 50%, abs: 0.001 }\n");
    snprintf(path, sizeof(path), "%s/tol.yaml", f->dir);
    write_file(path, text);
    const char *up[] = {path, "--update"};
    assert_int_equal(check(f, up, 2), SIM_EXIT_OK);
    const char *again[] = {path};
    assert_int_equal(check(f, again, 1), SIM_EXIT_OK);
    assert_non_null(strstr(f->out, "tolerance"));
    static const struct {
        const char *row, *want;
    } rows[] = {
        {"all / dk / updated ", "exact"},
        {"all / dk / t100_s ", "10 abs"},
        {"all / dk / goodput_kBps_mean ", "50 %"},
        {"all / dk / t50_s ", "5 %"},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        const char *line = strstr(f->out, rows[i].row);
        assert_non_null(line);
        char one[256];
        snprintf(one, sizeof(one), "%.*s", (int)strcspn(line, "\n"), line);
        if (strstr(one, rows[i].want) == NULL)
            fail_msg("\"%s\": want \"%s\" in \"%s\"", rows[i].row, rows[i].want, one);
    }
}

/* ---- issue 12: --json FILE|- carries per metric baseline, value, tolerance, verdict;
 * jq (an independent parser) reads it ---- */
static void json_output_has_every_check(void **state)
{
    struct fixture *f = *state;
    const char *up[] = {SCENARIO, "--update"};
    assert_int_equal(check(f, up, 2), SIM_EXIT_OK);
    char json[300], cmd[1024];
    snprintf(json, sizeof(json), "%s/check.json", f->dir);
    const char *slow[] = {SCENARIO, "--set", "client.window=1", "--allow-changed-settings",
                          "--json", json};
    assert_int_equal(check(f, slow, 6), SIM_EXIT_REGRESSION);
    snprintf(cmd, sizeof(cmd),
             "jq -e '.verdict == \"regression\" and .dfusim_version == \"" DFUSIM_VERSION "\" "
             "and (.scenarios | length) == 1 and .scenarios[0].seed == 1 "
             "and .scenarios[0].overrides == [\"client.window=1\"] "
             "and (.scenarios[0].scenario_sha256 | length) == 64 "
             "and (.scenarios[0].metrics | length) == %d "
             "and .scenarios[0].fingerprint.verdict == \"changed\" "
             "and ([.scenarios[0].metrics[] | select(.metric == \"goodput_kBps_mean\")][0] "
             "| .verdict == \"worse\" and .failed and .tolerance.rel == 0.05 "
             "and .tolerance.allowed == 0.05 * .baseline and .value < .baseline "
             "and .point == \"all\" and .group == \"dk\") "
             "and ([.scenarios[0].metrics[] | select(.metric == \"updated\")][0] "
             "| .verdict == \"same\" and .tolerance.allowed == 0)' '%s' >/dev/null",
             REPORT_CHECK_N_METRICS, json);
    assert_int_equal(system(cmd), 0);
    /* "-": the JSON alone on stdout, the table on stderr */
    const char *to_stdout[] = {SCENARIO, "--json", "-"};
    assert_int_equal(check(f, to_stdout, 3), SIM_EXIT_OK);
    assert_int_equal(f->out[0], '{');
    assert_non_null(strstr(f->out, "\"verdict\": \"ok\""));
    assert_null(strstr(f->out, "point / group / metric"));
    assert_non_null(strstr(f->err, "point / group / metric"));
}

/* ---- the tolerance rule: direction, relative and absolute, NAN as the worst ---- */
static void tolerance_rule_per_direction(void **state)
{
    (void)state;
    int upload = report_check_metric_find("goodput_kBps_mean");
    int t100 = report_check_metric_find("t100_s");
    int updated = report_check_metric_find("updated");
    assert_true(upload >= 0 && t100 >= 0 && updated >= 0);
    const struct {
        const char *name;
        const int *metric;
        double base, now, rel, abs;
        enum report_verdict want;
    } cases[] = {
        {"throughput 4 % lower is within 5 %", &upload, 100, 96, 0.05, 0, REPORT_WITHIN},
        {"throughput 6 % lower is worse", &upload, 100, 94, 0.05, 0, REPORT_WORSE},
        {"throughput higher is better", &upload, 100, 120, 0.05, 0, REPORT_BETTER},
        {"time 6 % longer is worse", &t100, 100, 106, 0.05, 0, REPORT_WORSE},
        {"absolute allowance wins when larger", &t100, 100, 106, 0.05, 10, REPORT_WITHIN},
        {"one device fewer updated is worse (counts exact)", &updated, 10, 9, 0, 0, REPORT_WORSE},
        {"not reached any more is worse", &t100, 100, NAN, 0.05, 0, REPORT_WORSE},
        {"reached now is better", &t100, NAN, 100, 0.05, 0, REPORT_BETTER},
        {"equal is the same", &t100, 100, 100, 0, 0, REPORT_SAME},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        enum report_verdict v = report_check_compare(*cases[i].metric, cases[i].base, cases[i].now,
                                                     cases[i].rel, cases[i].abs);
        if (v != cases[i].want)
            fail_msg("%s: verdict %d, want %d", cases[i].name, v, cases[i].want);
    }
}

static void unknown_tolerance_metric_is_bad_input(void **state)
{
    struct fixture *f = *state;
    const char *args[] = {SCENARIO, "--update", "--set", "check.tolerances.speed.rel=5%"};
    int rc = check(f, args, 4);
    assert_int_equal(rc, SIM_EXIT_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(update_then_check_passes, setup, teardown),
        cmocka_unit_test_setup_teardown(slower_dfu_is_a_regression_until_updated, setup, teardown),
        cmocka_unit_test_setup_teardown(fingerprint_only_change_is_reported_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(corrupt_baseline_is_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(junit_has_one_testcase_per_metric, setup, teardown),
        cmocka_unit_test(tolerance_rule_per_direction),
        cmocka_unit_test_setup_teardown(baseline_records_settings_and_refuses_others, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(changed_scenario_is_a_note_and_old_baselines_are_refused,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(table_shows_the_applied_tolerance, setup, teardown),
        cmocka_unit_test_setup_teardown(json_output_has_every_check, setup, teardown),
        cmocka_unit_test_setup_teardown(unknown_tolerance_metric_is_bad_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
