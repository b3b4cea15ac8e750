/* tests/test_cli.c - the dfusim program end to end: verbs, exit codes, messages for the
 * broken scenarios under tests/scenarios/broken/, the results database, determinism, and
 * SIGINT leaving a database that says 'interrupted'. */
#include "models/flash/map.h"
#include "models/fleet/settings.h"
#include "models/fleet/population.h"
#include "sim/cli/cli.h"
#include "sim/cli/mpi.h"
#include "sim/error.h"
#include "sim/scenario.h"

#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tests/db_compare.h"

#define SRC   DFUSIM_SOURCE_DIR
#define SMALL SRC "/tests/scenarios/cli/small.yaml"

/* Output of the last call of run_cli(). */
static char out_text[1 << 16], err_text[1 << 16];

static int run_cli(int argc, const char *const *argv)
{
    FILE *out = fmemopen(out_text, sizeof(out_text), "w");
    FILE *err = fmemopen(err_text, sizeof(err_text), "w");
    assert_non_null(out);
    assert_non_null(err);
    int code = cli_main(argc, (char **)argv, out, err);
    fclose(out);
    fclose(err);
    return code;
}

#define RUN_CLI(...)                                                                               \
    run_cli((int)(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *)),                   \
            (const char *[]){__VA_ARGS__})

/* Usage errors are exit code 2 with a message that says what to do. */
static void usage_errors_exit_2(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *argv[4];
        int argc;
        int code;
        const char *err;
    } cases[] = {
        {"no command", {"dfusim"}, 1, SIM_EXIT_USAGE, "Usage: dfusim"},
        {"unknown command", {"dfusim", "fly"}, 2, SIM_EXIT_USAGE, "unknown command 'fly'"},
        {"run without scenario", {"dfusim", "run"}, 2, SIM_EXIT_USAGE, "exactly one SCENARIO"},
        {"run unknown option",
         {"dfusim", "run", "--frobnicate", SMALL},
         4,
         SIM_EXIT_USAGE,
         "unknown option '--frobnicate'"},
        {"run option without value",
         {"dfusim", "run", SMALL, "-o"},
         4,
         SIM_EXIT_USAGE,
         "needs a value"},
        {"run missing file",
         {"dfusim", "run", "/no/such.yaml"},
         3,
         SIM_EXIT_USAGE,
         "/no/such.yaml"},
        {"validate nothing", {"dfusim", "validate"}, 2, SIM_EXIT_USAGE, "no scenario file"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int code = run_cli(cases[i].argc, cases[i].argv);
        if (code != cases[i].code || strstr(err_text, cases[i].err) == NULL)
            fail_msg("%s: exit %d, stderr: %s", cases[i].name, code, err_text);
    }
}

static void help_and_version_exit_0(void **state)
{
    (void)state;
    assert_int_equal(RUN_CLI("dfusim", "--help"), 0);
    assert_non_null(strstr(out_text, "validate FILE"));
    assert_int_equal(RUN_CLI("dfusim", "--version"), 0);
    assert_non_null(strstr(out_text, "dfusim " DFUSIM_VERSION));
    assert_int_equal(RUN_CLI("dfusim", "run", "--help"), 0);
    assert_non_null(strstr(out_text, "--set KEY=VALUE"));
    assert_int_equal(RUN_CLI("dfusim", "validate", "--help"), 0);
    assert_non_null(strstr(out_text, "FILE:LINE:COLUMN"));
}

/* EVIDENCE-OF (issue 2): `dfusim validate` on each broken scenario file prints the right
 * line, column and key, and exits 2. Each file states its expectation in its first line:
 * "# expect: LINE:COLUMN: key.path". */
static void validate_reports_each_broken_file(void **state)
{
    (void)state;
    const char *dir_path = SRC "/tests/scenarios/broken";
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    int checked = 0;
    struct dirent *ent;
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
        snprintf(want, sizeof(want), "%s:%s", path, line + 10);
        if (RUN_CLI("dfusim", "validate", path) != SIM_EXIT_USAGE)
            fail_msg("%s: expected exit 2", path);
        if (strstr(err_text, want) == NULL)
            fail_msg("%s: expected '%s' in:\n%s", ent->d_name, want, err_text);
        checked++;
    }
    closedir(dir);
    assert_true(checked >= 8);
}

/* A firmware combination the SDK refuses (dfu_mcumgr + CAF ble_smp, fw_config_check) is
 * bad input: FILE:LINE:COL of the firmware map, the key, what to do; exit 2, no run. */
static void firmware_conflict_is_reported_at_its_key(void **state)
{
    (void)state;
    const char *f = SRC "/tests/scenarios/cli/firmware_conflict.yaml";
    assert_int_equal(RUN_CLI("dfusim", "validate", f), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "firmware_conflict.yaml:8:15: devices[0].firmware: "
                                     "dfu_mcumgr and CAF ble_smp cannot be enabled together"));
    assert_non_null(strstr(err_text, "disable one of them"));
    unlink("test_cli_conflict.db");
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "test_cli_conflict.db", f),
                     SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "devices[0].firmware: dfu_mcumgr and CAF ble_smp"));
    assert_int_not_equal(access("test_cli_conflict.db", F_OK), 0);
    /* the same through --set, located in the argument */
    assert_int_equal(RUN_CLI("dfusim", "validate", "--set", "devices.a.firmware.smp=ble-smp",
                             "--set", "devices.b.firmware={smp: dfu-mcumgr+ble-smp}", SMALL),
                     SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "--set:2:20: devices[1].firmware: dfu_mcumgr and CAF"));
}

static void validate_accepts_the_examples(void **state)
{
    (void)state;
    assert_int_equal(RUN_CLI("dfusim", "validate", SRC "/scenarios/sweep-window.yaml"), 0);
    assert_int_equal(RUN_CLI("dfusim", "validate", SRC "/scenarios/quickstart.yaml", SMALL), 0);
    assert_non_null(strstr(out_text, "quickstart.yaml: ok (2 device groups, 3 devices)"));
    static const char *const fleet[] = {"phones-warehouse",     "gateways-20-links",
                                        "staged-rollout-abort", "lossy-site",
                                        "power-loss-swap",      "lock-contention"};
    for (size_t i = 0; i < sizeof(fleet) / sizeof(fleet[0]); i++) {
        char path[512];
        snprintf(path, sizeof(path), SRC "/scenarios/fleet/%s.yaml", fleet[i]);
        if (RUN_CLI("dfusim", "validate", path) != 0)
            fail_msg("%s", out_text);
    }
}

/* The fleet keys' problems that need the models (a rollout knob, a group no gateway can
 * serve, a fault the firmware cannot have, distributions that draw illegal values) are
 * all reported by one validate, each at its key. */
static void fleet_problems_are_reported_at_their_keys(void **state)
{
    (void)state;
    const char *f = SRC "/tests/scenarios/cli/fleet_problems.yaml";
    assert_int_equal(RUN_CLI("dfusim", "validate", f), SIM_EXIT_USAGE);
    static const char *const want[] = {
        "fleet_problems.yaml:13:3: rollout: window_duration",
        "fleet_problems.yaml:11:5: gateways[0].serves: b is not a device group",
        "fleet_problems.yaml:15:5: faults[0].groups: two-sources needs a second DFU source",
        "fleet_problems.yaml:9:39: devices[0].link.loss.good: normal(2%, 1%) can draw values "
        "outside [0%, 100%]",
        "fleet_problems.yaml:8:17: devices[0].link.interval: uniform(2ms, 30ms) can draw values "
        "outside [7.5ms, 4s]",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (strstr(err_text, want[i]) == NULL)
            fail_msg("missing \"%s\" in:\n%s", want[i], err_text);
}

/* A run writes a complete database: the run row, settings, groups and one row per device,
 * and as many attempts as devices that finished. */
static void run_writes_a_complete_database(void **state)
{
    (void)state;
    const char *db = "test_cli_run.db";
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", db, SMALL), 0);
    assert_string_equal(query(db, "select status from runs"), "complete");
    assert_string_equal(query(db, "select model || ' ' || seed from runs"), "dfu 5");
    assert_string_equal(query(db, "select count(*) from devices"), "5");
    assert_string_equal(query(db, "select group_concat(name || ':' || count || ':' || board"
                                  " || ':' || bootloader, ' ') from device_groups"),
                        "a:3:nrf52840dk:swap-move b:2:nrf5340dk:direct-xip");
    /* A real DFU: every device ends updated, each attempt has its phases in order. */
    assert_string_equal(query(db, "select count(*) from devices where state = 'updated'"), "5");
    assert_string_equal(query(db, "select count(*) from dfu_attempts where outcome = 'updated'"
                                  " and upload_start_ns < upload_end_ns and upload_end_ns <="
                                  " reset_ns and bytes_sent >= 131072 and image_bytes = 131072"),
                        "5");
    assert_string_equal(query(db, "select count(*) from swaps"), "5");
    assert_string_equal(query(db, "select count(*) = (select count(*) from devices"
                                  " where state in ('updated','failed')) from dfu_attempts"),
                        "1");
    assert_string_equal(query(db, "select value from run_params where key = 'image.size'"),
                        query(db, "select value from run_params where key = 'image.size'"));
    assert_string_equal(query(db, "select count(*) > 5 from run_params"), "1");
    /* Every attempt ends after it starts and within the time limit (1 h). */
    assert_string_equal(query(db, "select count(*) from dfu_attempts"
                                  " where end_ns <= start_ns or end_ns > 3600000000000"),
                        "0");
    unlink(db);
}

/* --set and --seed reach the model: a different count, a different trajectory. */
static void overrides_change_the_run(void **state)
{
    (void)state;
    const char *db = "test_cli_set.db";
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", db, "--set", "devices.a.count=7",
                             "--seed", "9", "--set", "record=summary", SMALL),
                     0);
    assert_string_equal(query(db, "select count(*) from devices"), "9");
    assert_string_equal(query(db, "select seed from runs"), "9");
    assert_string_equal(query(db, "select count(*) from dfu_attempts"), "0");
    unlink(db);
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", db, "--set", "devices.zz.count=1", SMALL),
                     SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "devices.zz.count"));
}

/* EVIDENCE-OF (issue 2): the same scenario and seed run twice give identical rows in
 * every table except the wall-clock columns; another seed gives other rows (so the
 * comparison can fail). */
static void same_seed_gives_identical_databases(void **state)
{
    (void)state;
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "det_a.db", SMALL), 0);
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "det_b.db", SMALL), 0);
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "det_c.db", "--seed", "6", SMALL), 0);
    assert_int_equal(count_differing_tables("det_a.db", "det_b.db"), 0);
    assert_true(count_differing_tables("det_a.db", "det_c.db") > 0);
    /* ... and not only in runs.seed: the trajectories themselves differ. */
    static char times_a[4096];
    const char *sql = "select group_concat(end_ns) from dfu_attempts order by attempt_id";
    snprintf(times_a, sizeof(times_a), "%s", query("det_a.db", sql));
    assert_string_not_equal(query("det_c.db", sql), times_a);
    assert_string_equal(query("det_b.db", sql), times_a);
    unlink("det_a.db");
    unlink("det_b.db");
    unlink("det_c.db");
}

/* EVIDENCE-OF (issue 6): with gateways in sessions, a rollout, random faults and drawn
 * parameters, the same seed still gives identical databases (and another seed not). */
static void fleet_runs_are_deterministic(void **state)
{
    (void)state;
    const char *fleet = SRC "/tests/scenarios/cli/fleet.yaml";
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "fdet_a.db", fleet), 0);
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "fdet_b.db", fleet), 0);
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "fdet_c.db", "--seed", "6", fleet), 0);
    assert_int_equal(count_differing_tables("fdet_a.db", "fdet_b.db"), 0);
    assert_true(count_differing_tables("fdet_a.db", "fdet_c.db") > 3);
    assert_string_equal(query("fdet_a.db", "select count(*) > 0 from sessions"), "1");
    assert_string_equal(query("fdet_a.db", "select count(*) from waves"), "2");
    unlink("fdet_a.db");
    unlink("fdet_b.db");
    unlink("fdet_c.db");
}

/* Every attempt of groups a and b, by group and index within the group, with its timings
 * and retransmissions (static buffer). */
static const char *attempts_by_group(const char *db)
{
    return query(db, "select group_concat(line, ';') from (select g.name || '/' ||"
                     " (d.device_id - (select min(device_id) from devices d2"
                     "  where d2.group_id = d.group_id)) || ':' || a.upload_end_ns || ','"
                     " || a.end_ns || ',' || a.retransmissions || ',' || a.outcome as line"
                     " from dfu_attempts a join devices d using (run_id, device_id)"
                     " join device_groups g on g.run_id = d.run_id and g.group_id = d.group_id"
                     " where g.name in ('a', 'b') order by g.name, line)");
}

/* EVIDENCE-OF (CONTRIBUTING.md rule 3, issue 6): adding a device group does not change what the
 * devices of other groups draw: streams are keyed by group name and index, not global id. */
static void adding_a_group_leaves_other_groups_unchanged(void **state)
{
    (void)state;
    static char before[4096];
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "grp_a.db", SMALL), 0);
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "grp_b.db",
                             SRC "/tests/scenarios/cli/groups_added.yaml"),
                     0);
    snprintf(before, sizeof(before), "%s", attempts_by_group("grp_a.db"));
    assert_true(strlen(before) > 20);
    assert_string_equal(attempts_by_group("grp_b.db"), before);
    /* Every group counts its flash wear (regression: rows were indexed by global id, so
     * wear of every group but the first was lost). */
    assert_string_equal(query("grp_b.db", "select count(distinct d.group_id) from device_wear w"
                                          " join devices d using (run_id, device_id)"),
                        "3");
    /* The draws matter: without loss (no draws) the same groups time differently. */
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-o", "grp_c.db", "--set",
                             "devices.a.link.loss.good=0%", "--set", "devices.b.link.loss.good=0%",
                             SMALL),
                     0);
    assert_string_not_equal(attempts_by_group("grp_c.db"), before);
    unlink("grp_a.db");
    unlink("grp_b.db");
    unlink("grp_c.db");
}

/* SIGINT stops the program with exit code 130 and a database that says 'interrupted',
 * never 'complete'. Runs the real executable and waits until the run row exists. */
static void sigint_leaves_an_interrupted_database(void **state)
{
    (void)state;
    const char *db = "test_cli_sigint.db";
    unlink(db);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        freopen("/dev/null", "w", stdout);
        execl(DFUSIM_BINARY_DIR "/dfusim", "dfusim", "run", "-q", "-o", db,
              SRC "/tests/scenarios/cli/long.yaml", (char *)NULL);
        _exit(127);
    }
    /* Poll until the run row is committed (status 'running'), at most 60 s. The run
     * writes DB.dfusim-PID.tmp and renames it to DB when it ends. */
    char tmp[256];
    snprintf(tmp, sizeof(tmp), "%s.dfusim-%ld.tmp", db, (long)pid);
    const struct timespec pause = {0, 20 * 1000 * 1000};
    for (int i = 0; i < 3000; i++) {
        if (access(tmp, F_OK) == 0) {
            sqlite3 *h = NULL;
            int running = 0;
            if (sqlite3_open_v2(tmp, &h, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
                sqlite3_stmt *st = NULL;
                if (sqlite3_prepare_v2(h, "select count(*) from runs where status='running'", -1,
                                       &st, NULL) == SQLITE_OK &&
                    sqlite3_step(st) == SQLITE_ROW)
                    running = sqlite3_column_int(st, 0);
                sqlite3_finalize(st);
            }
            sqlite3_close(h);
            if (running)
                break;
        }
        nanosleep(&pause, NULL);
    }
    assert_int_equal(kill(pid, SIGINT), 0);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), CLI_EXIT_INTERRUPTED);
    assert_string_equal(query(db, "select status || ':' || status_detail from runs"),
                        "interrupted:SIGINT");
    assert_int_equal(access(tmp, F_OK), -1); /* renamed, not left behind */
    unlink(db);
}

/* small.yaml with a 2x2 grid and 2 replications, written into the build folder. */
static const char *write_sweep_file(void)
{
    static const char path[] = "test_cli_sweep.yaml";
    size_t len = 0;
    FILE *in = fopen(SMALL, "rb");
    assert_non_null(in);
    static char text[8192];
    len = fread(text, 1, sizeof(text) - 1, in);
    fclose(in);
    text[len] = '\0';
    FILE *out = fopen(path, "w");
    assert_non_null(out);
    fprintf(out,
            "%sreplications: 2\nsweep:\n"
            "  - { key: client.window, values: [1, 4] }\n"
            "  - { key: devices.a.count, values: [1, 2] }\n",
            text);
    fclose(out);
    return path;
}

/* EVIDENCE-OF (issue 7): a 2x2 grid with 2 replications is 8 runs in one database, each
 * with its point, replication, seed and effective settings; -j 2 gives the same rows. */
static void sweep_runs_every_point_and_replication(void **state)
{
    (void)state;
    const char *yaml = write_sweep_file();
    assert_int_equal(RUN_CLI("dfusim", "run", "-o", "sweep_j1.db", yaml), 0);
    size_t lines = 0;
    for (const char *p = out_text; (p = strstr(p, "\n  run ")) != NULL; p++)
        lines++;
    assert_int_equal(lines + (strncmp(out_text, "  run ", 6) == 0), 8);
    /* one numbering everywhere: points and replications count from 1 (issue 12) */
    assert_non_null(strstr(out_text, "  run 3/8  point 2 (client.window=1, devices.a.count=2)"
                                     " replication 1 seed 5: 4 devices"));
    assert_non_null(strstr(out_text, "  point 2 (client.window=1, devices.a.count=2), 2 runs:"));
    assert_non_null(strstr(out_text, "dfusim run: cli-small: 8 runs (4 sweep points x 2 "
                                     "replications)"));
    char want[1024];
    unsigned long long s1 = (unsigned long long)scenario_replication_seed(5, 1);
    snprintf(want, sizeof(want), "1:1:5,1:2:%llu,2:1:5,2:2:%llu,3:1:5,3:2:%llu,4:1:5,4:2:%llu", s1,
             s1, s1, s1);
    const char *ids = "select group_concat(sweep_point || ':' || replication || ':' || seed)"
                      " from (select * from runs where status = 'complete' order by run_id)";
    assert_string_equal(query("sweep_j1.db", ids), want);
    /* run_params: each run's effective settings, so the swept keys differ by point */
    snprintf(want, sizeof(want), "1/1/5,1/1/%llu,1/2/5,1/2/%llu,4/1/5,4/1/%llu,4/2/5,4/2/%llu", s1,
             s1, s1, s1);
    assert_string_equal(query("sweep_j1.db",
                              "select group_concat(v) from (select w.value || '/' || c.value ||"
                              " '/' || s.value as v from run_params w join run_params c using"
                              " (run_id) join run_params s using (run_id) where w.key ="
                              " 'client.window' and c.key = 'devices.a.count' and s.key = 'seed'"
                              " order by run_id)"),
                        want);
    assert_string_equal(query("sweep_j1.db", "select group_concat(n) from (select count(*) as n"
                                             " from devices group by run_id order by run_id)"),
                        "3,3,4,4,3,3,4,4");
    /* replications differ in what happened, not only in their seed */
    const char *ends = "select group_concat(end_ns) from dfu_attempts where run_id = %d";
    char q[256], end1[4096];
    snprintf(q, sizeof(q), ends, 1);
    snprintf(end1, sizeof(end1), "%s", query("sweep_j1.db", q));
    snprintf(q, sizeof(q), ends, 2);
    assert_string_not_equal(query("sweep_j1.db", q), end1);
    /* -j 2: children write their own databases, copied in run order */
    assert_int_equal(RUN_CLI("dfusim", "run", "-q", "-j", "2", "-o", "sweep_j2.db", yaml), 0);
    assert_int_equal(count_differing_tables("sweep_j1.db", "sweep_j2.db"), 0);
    assert_int_equal(access("sweep_j2.db.run0.part", F_OK), -1); /* removed */
    /* ... and the comparison can fail: another seed */
    assert_int_equal(
        RUN_CLI("dfusim", "run", "-q", "-j", "2", "--seed", "6", "-o", "sweep_j3.db", yaml), 0);
    assert_true(count_differing_tables("sweep_j1.db", "sweep_j3.db") > 0);
    unlink("sweep_j1.db");
    unlink("sweep_j2.db");
    unlink("sweep_j3.db");
    unlink(yaml);
}

/* EVIDENCE-OF (issue 18, 5a): --mpi refuses -j (mpirun starts the processes) and --pcap (a
 * capture is of one run in one process) before MPI starts, and a build without MPI refuses
 * --mpi itself; each with exit code 2 and nothing written. (The runs over ranks:
 * tests/test_mpi_run.c, in builds with MPI.) */
static void mpi_refuses_what_it_cannot_do(void **state)
{
    (void)state;
    unlink("mpi_refused.db");
    assert_int_equal(RUN_CLI("dfusim", "run", SMALL, "--mpi", "-j", "2", "-o", "mpi_refused.db"),
                     SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "--mpi and -j do not go together"));
    assert_int_equal(RUN_CLI("dfusim", "run", SMALL, "-j", "1", "--mpi", "-o", "mpi_refused.db"),
                     SIM_EXIT_USAGE);
    assert_int_equal(RUN_CLI("dfusim", "run", SMALL, "--mpi", "--pcap", "mpi_refused.pcap", "-o",
                             "mpi_refused.db"),
                     SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "--mpi and --pcap do not go together"));
    if (!cli_mpi_built()) {
        assert_int_equal(RUN_CLI("dfusim", "run", SMALL, "--mpi", "-o", "mpi_refused.db"),
                         SIM_EXIT_USAGE);
        assert_non_null(strstr(err_text, "this dfusim was built without MPI"));
    }
    assert_int_equal(access("mpi_refused.db", F_OK), -1);
    assert_int_equal(access("mpi_refused.pcap", F_OK), -1);
    /* --help says what --mpi does */
    assert_int_equal(RUN_CLI("dfusim", "run", "--help"), 0);
    assert_non_null(strstr(out_text, "--mpi"));
}

/* The text of a documentation file under the source tree (static buffer, so one at a
 * time). */
static const char *read_doc(const char *rel)
{
    static char text[1 << 17];
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", SRC, rel);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    assert_true(feof(f)); /* the buffer holds the whole file */
    fclose(f);
    text[n] = '\0';
    return text;
}

struct key_check {
    const char *readme;
    const struct scenario *s;
    int checked;
};

/* Length of the element name that key (just past "LIST.") starts with, the longest that
 * is followed by '.' (names may hold dots: kbd.v2); 0 if none. */
static size_t element_name_len(const struct scenario *s, const char *list, const char *key)
{
    size_t best = 0;
    bool devices = strcmp(list, "devices") == 0, check = strcmp(list, "check.tolerances") == 0;
    const struct fleet_settings *fs = fleet_settings_of(s);
    size_t n = devices ? fs->n_groups : check ? s->check.n_tolerances : fs->n_gateways;
    for (size_t i = 0; i < n; i++) {
        const char *name = devices ? fs->groups[i].name
                           : check ? s->check.tolerances[i].metric
                                   : fs->gateways[i].name;
        size_t len = strlen(name);
        if (len > best && strncmp(key, name, len) == 0 && key[len] == '.')
            best = len;
    }
    return best;
}

/* devices.a.count -> `devices[].count`, faults[0].kind -> `faults[].kind`: the key table
 * (docs/scenario-reference.md) must name it. */
static void check_key_documented(void *ctx, const char *key, const char *value)
{
    (void)value;
    struct key_check *kc = ctx;
    char want[256];
    static const char *const lists[] = {"devices", "gateways", "faults", "sweep",
                                        "check.tolerances"};
    snprintf(want, sizeof(want), "`%s`", key);
    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        size_t l = strlen(lists[i]);
        if (strncmp(key, lists[i], l) != 0 || (key[l] != '.' && key[l] != '['))
            continue;
        const char *field = key[l] == '['
                                ? strchr(key + l, ']') + 1
                                : key + l + 1 + element_name_len(kc->s, lists[i], key + l + 1);
        assert_true(field[0] == '.');
        snprintf(want, sizeof(want), "`%s[]%s`", lists[i], field);
    }
    if (strstr(kc->readme, want) == NULL)
        fail_msg("docs/scenario-reference.md: %s is not documented", want);
    kc->checked++;
}

/* Every scenario key (all that scenario_visit reports, defaults included) has a row in the
 * key table (docs/scenario-reference.md), so a new key cannot land undocumented. */
static void docs_document_every_scenario_key(void **state)
{
    (void)state;
    const char *readme = read_doc("docs/scenario-reference.md");
    struct scenario s;
    struct sim_diag diag;
    sim_diag_init(&diag);
    assert_int_equal(scenario_load(SMALL, &fleet_settings_schema, NULL, 0, &s, &diag), 0);
    struct key_check kc = {readme, &s, 0};
    scenario_visit(&s, check_key_documented, &kc);
    scenario_fini(&s);
    assert_true(kc.checked >= 12);
    /* the file that sets every key, rollout, gateways and every kind of fault included */
    assert_int_equal(scenario_load(SRC "/tests/scenarios/valid/full.yaml", &fleet_settings_schema,
                                   NULL, 0, &s, &diag),
                     0);
    kc = (struct key_check){readme, &s, 0};
    scenario_visit(&s, check_key_documented, &kc);
    scenario_fini(&s);
    assert_true(kc.checked >= 150);
}

/* The loader accepts exactly the distribution names of models/fleet/population.h's grammar
 * (sim/ cannot include models/, so the list is kept twice): each name the loader knows is
 * the population kind of the same index, and a text of each parses there. */
static void scenario_distribution_names_are_population_kinds(void **state)
{
    (void)state;
    static const char *const example[] = {
        "fixed(1)",    "uniform(1, 2)",  "normal(1, 1) in [0, 2]", "lognormal(1, 0.5)",
        "beta(2, 50)", "exponential(1)", "choice(1 @ 3, 2 @ 1)",   "empirical(1, 2, 2)",
    };
    unsigned k = 0;
    for (; scenario_dist_kind_name(k) != NULL; k++) {
        assert_true(k < FLEET_POPULATION_KIND_COUNT);
        assert_string_equal(scenario_dist_kind_name(k),
                            fleet_population_kind_name((enum fleet_population_kind)k));
        struct fleet_population_dist d;
        unsigned col = 0;
        assert_int_equal(fleet_population_parse(example[k], NULL, NULL, &d, &col, NULL), 0);
        assert_int_equal(d.kind, (enum fleet_population_kind)k);
    }
    assert_int_equal(k, FLEET_POPULATION_KIND_COUNT);
}

/* The board names a scenario takes are the flash maps' names, in enum order: the binder
 * stores the index, which the world uses as an enum flash_map_board. */
static void scenario_boards_are_flash_map_boards(void **state)
{
    (void)state;
    int b = 0;
    for (; flash_map_board_names[b] != NULL; b++) {
        enum flash_map_board found;
        struct flash_map map;
        assert_int_equal(flash_map_find(flash_map_board_names[b], &found, NULL), 0);
        assert_int_equal(found, b);
        assert_int_equal(flash_map_board(found, &map), 0);
        assert_string_equal(map.board, flash_map_board_names[b]);
    }
    assert_int_equal(b, FLASH_MAP_BOARD_COUNT);
}

/* `dfusim explain` prints one row per mode from the mode's real plan. swap-move on the
 * nRF52840 DK with a 128 KiB image (L = 32 sectors of 4 KiB) copies 3L = 96 sectors
 * (mcu-tools/mcuboot: boot/bootutil/src/swap_move.c); direct-xip copies nothing. */
static void explain_prints_each_mode(void **state)
{
    (void)state;
    assert_int_equal(
        RUN_CLI("dfusim", "explain", "--board", "nrf52840dk", "--size", "128KiB", "--markdown"), 0);
    assert_non_null(strstr(out_text, "| swap-move | yes (464) | 98 | 96 |"));
    assert_non_null(strstr(out_text, "| direct-xip | yes (472) | 0 | 0 | 0 | 0 | 0.00 |"));
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "nrf5340dk", "--size", "464KiB"), 0);
    assert_non_null(strstr(out_text, "swap-move"));
    assert_non_null(strstr(out_text, "no (456)"));
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "nrf9999", "--size", "1KiB"),
                     SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "unknown board 'nrf9999'"));
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "nrf52840dk", "--size", "lots"),
                     SIM_EXIT_USAGE);
    assert_int_equal(
        RUN_CLI("dfusim", "explain", "--board", "nrf52840dk", "--size", "1KiB", "--timing", "fast"),
        SIM_EXIT_USAGE);
    /* issue 12: "typical" on a chip with maxima only says it is the maximum, and the
     * numbers are those of max; a chip with its own typical column stays "typical" */
    char max_table[8192];
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "nrf52840dk", "--size", "128KiB"), 0);
    snprintf(max_table, sizeof(max_table), "%s", strchr(out_text, '\n'));
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "nrf52840dk", "--size", "128KiB",
                             "--timing", "typical"),
                     0);
    assert_non_null(strstr(out_text, "nrf52840dk, 128KiB image, typical (= maximum: the nrf52840 "
                                     "datasheet gives maxima only) timing"));
    assert_string_equal(strchr(out_text, '\n'), max_table);
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "nrf52840dk-ext", "--size", "128KiB",
                             "--timing", "typical"),
                     0);
    assert_non_null(strstr(out_text, "typical (nrf52840: = maximum, its datasheet gives maxima "
                                     "only; mx25r64: typical) timing"));
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "rak3172", "--size", "64KiB",
                             "--timing", "typical"),
                     0);
    assert_non_null(strstr(out_text, "rak3172, 64KiB image, typical timing,"));
}

/* MCUboot's limits reach validate: on the NUCLEO-F429ZI (slots of two 128 KiB sectors)
 * swap-move leaves 2 - 1 (trailer sector) - 1 (move room) = 0 sectors for the image
 * (app_max_size() in mcu-tools/mcuboot swap_move.c), so any image is refused at image.size
 * with MCUboot's reason; direct-xip runs from the 256 KiB slot and validates. The board has
 * no radio, so auto picks the UART (smpclient has a serial transport). */
static void validate_reports_mcuboots_limit_on_stm32(void **state)
{
    (void)state;
    const char *f = SRC "/tests/scenarios/cli/stm32_swap_move.yaml";
    assert_int_equal(RUN_CLI("dfusim", "validate", f), SIM_EXIT_USAGE);
    assert_non_null(strstr(err_text, "stm32_swap_move.yaml:4:16: image.size: 65536 bytes do not "
                                     "fit group f4 (nucleo_f429zi, swap-move: at most 0 bytes"));
    assert_non_null(strstr(err_text, "Not enough free space to run swap upgrade"));
    assert_int_equal(RUN_CLI("dfusim", "validate", "--set", "devices.f4.bootloader=direct-xip", f),
                     0);
    assert_int_equal(RUN_CLI("dfusim", "explain", "--board", "nucleo_f429zi", "--size", "64KiB"),
                     0);
    assert_non_null(strstr(out_text, "swap-move: MCUboot allows at most 0 bytes"));
    assert_int_equal(RUN_CLI("dfusim", "list", "boards"), 0);
    assert_non_null(strstr(out_text, "nucleo_f429zi   stm32f429, slots of 256 KiB in 128 KiB"));
    assert_non_null(strstr(out_text, "nrf52dk         nrf52832, slots of 220 KiB in 4 KiB"));
    assert_non_null(strstr(out_text, "secondary slot on mx25r64-spi"));
}

/* The explain tables of docs/model.md are the program's current output (it says
 * "regenerated with ..."), so a model change that moves a number cannot leave them stale. */
static void docs_explain_tables_match_the_program(void **state)
{
    (void)state;
    const char *readme = read_doc("docs/model.md");
    static const char *const boards[] = {"nrf52840dk", "nrf5340dk"};
    static const char *const sizes[] = {"128KiB", "256KiB", "464KiB"};
    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < 3; i++) {
            assert_int_equal(RUN_CLI("dfusim", "explain", "--board", boards[b], "--size", sizes[i],
                                     "--markdown"),
                             0);
            if (strstr(readme, out_text) == NULL)
                fail_msg("docs/model.md: the explain table for %s %s differs from the program; "
                         "regenerate it (\"What one upgrade costs\"):\n%s",
                         boards[b], sizes[i], out_text);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(usage_errors_exit_2),
        cmocka_unit_test(help_and_version_exit_0),
        cmocka_unit_test(validate_reports_each_broken_file),
        cmocka_unit_test(validate_accepts_the_examples),
        cmocka_unit_test(firmware_conflict_is_reported_at_its_key),
        cmocka_unit_test(run_writes_a_complete_database),
        cmocka_unit_test(overrides_change_the_run),
        cmocka_unit_test(fleet_problems_are_reported_at_their_keys),
        cmocka_unit_test(same_seed_gives_identical_databases),
        cmocka_unit_test(fleet_runs_are_deterministic),
        cmocka_unit_test(adding_a_group_leaves_other_groups_unchanged),
        cmocka_unit_test(sigint_leaves_an_interrupted_database),
        cmocka_unit_test(sweep_runs_every_point_and_replication),
        cmocka_unit_test(mpi_refuses_what_it_cannot_do),
        cmocka_unit_test(docs_document_every_scenario_key),
        cmocka_unit_test(scenario_distribution_names_are_population_kinds),
        cmocka_unit_test(scenario_boards_are_flash_map_boards),
        cmocka_unit_test(explain_prints_each_mode),
        cmocka_unit_test(validate_reports_mcuboots_limit_on_stm32),
        cmocka_unit_test(docs_explain_tables_match_the_program),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
