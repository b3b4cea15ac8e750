/* tests/test_mpi_run.c - `mpirun -n R dfusim run SCENARIO --mpi` (docs/mpi.md) writes the
 * database of `-j 1` for any R; rank 0 alone prints the runs' lines, the summary and errors;
 * SIGINT to rank 0 stops every rank and the database says 'interrupted'. Registered only in
 * a build with MPI (CMakeLists.txt); runs the built dfusim under the mpirun it was built
 * with, as root too (CI runs as root). */
#include "sim/cli/cli.h"

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

#define SRC     DFUSIM_SOURCE_DIR
#define DFUSIM  DFUSIM_BINARY_DIR "/dfusim"
#define SWEEP   SRC "/scenarios/sweep-window.yaml" /* 5 points x 3 replications */
#define FLEET   SRC "/tests/scenarios/cli/fleet.yaml"
#define LONG    SRC "/tests/scenarios/cli/long.yaml"
#define OUT_LOG "mpi_test.out"
#define ERR_LOG "mpi_test.err"

static char out_buf[1 << 16], err_buf[1 << 16];

static void read_log(const char *path, char *buf, size_t n)
{
    FILE *f = fopen(path, "r");
    size_t got = f != NULL ? fread(buf, 1, n - 1, f) : 0;
    buf[got] = '\0';
    if (f != NULL)
        fclose(f);
}

/* Start argv (NULL-terminated) with stdout and stderr to OUT_LOG and ERR_LOG. */
static pid_t spawn(const char *const *argv)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (freopen(OUT_LOG, "w", stdout) == NULL || freopen(ERR_LOG, "w", stderr) == NULL)
            _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

/* Wait for pid; its exit code (128 + signal when killed), its output in out_buf/err_buf. */
static int finish(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    read_log(OUT_LOG, out_buf, sizeof(out_buf));
    read_log(ERR_LOG, err_buf, sizeof(err_buf));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run(const char *const *argv)
{
    return finish(spawn(argv));
}

/* `mpirun -n ranks dfusim run scenario --mpi -o db [extra]`. */
static int run_mpi(int ranks, const char *scenario, const char *db, const char *extra)
{
    char n[16];
    snprintf(n, sizeof(n), "%d", ranks);
    const char *argv[] = {DFUSIM_MPIEXEC,
                          "--oversubscribe",
                          "--allow-run-as-root",
                          "-n",
                          n,
                          DFUSIM,
                          "run",
                          scenario,
                          "--mpi",
                          "-o",
                          db,
                          extra,
                          NULL};
    return run(argv);
}

static size_t count(const char *text, const char *what)
{
    size_t n = 0;
    for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
        n++;
    return n;
}

/* Files in the working directory whose name starts with `prefix` and contains `what` (this
 * test's own: other tests run in the same directory at the same time). */
static size_t count_files(const char *prefix, const char *what)
{
    DIR *d = opendir(".");
    assert_non_null(d);
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, what) != NULL;
    closedir(d);
    return n;
}

/* No PART_BASE.runK.part, FILE.dfusim-PID.tmp or worker database (TMPDIR is "." in the
 * interrupt test) left in the working directory. */
static size_t leftovers(void)
{
    return count_files("mpi_", ".part") + count_files("mpi_", ".dfusim-") +
           count_files("dfusim-mpi-", "");
}

/* EVIDENCE-OF (issue 18, 5a): a sweep with replications on 1, 2 and 3 ranks gives the
 * database of -j 1, table by table (wall clock aside), whichever rank ran what; rank 0 alone
 * prints each run's line, once, in run order, and the summary; another seed differs (so the
 * comparison can fail). */
static void ranks_write_the_database_of_j1(void **state)
{
    (void)state;
    const char *j1[] = {DFUSIM, "run", SWEEP, "-j", "1", "-o", "mpi_j1.db", NULL};
    assert_int_equal(run(j1), 0);
    assert_int_equal(run_mpi(2, SWEEP, "mpi_r2.db", NULL), 0);
    /* rank 0 speaks: every run's line once, in run order; one summary */
    assert_int_equal(count(out_buf, "\n  run ") + (strncmp(out_buf, "  run ", 6) == 0), 15);
    const char *r1 = strstr(out_buf, "  run 1/15 "), *r15 = strstr(out_buf, "  run 15/15 ");
    assert_non_null(r1);
    assert_non_null(r15);
    assert_true(r1 < r15);
    assert_int_equal(count(out_buf, "dfusim run: sweep-window: 15 runs (5 sweep points x 3 "
                                    "replications)"),
                     1);
    assert_int_equal(count_differing_tables("mpi_j1.db", "mpi_r2.db"), 0);
    assert_int_equal(run_mpi(3, SWEEP, "mpi_r3.db", NULL), 0);
    assert_int_equal(count_differing_tables("mpi_j1.db", "mpi_r3.db"), 0);
    assert_int_equal(run_mpi(1, SWEEP, "mpi_r1.db", NULL), 0);
    assert_int_equal(count_differing_tables("mpi_j1.db", "mpi_r1.db"), 0);
    assert_string_equal(query("mpi_r3.db", "select value from meta where key = 'runs_finished'"),
                        "15");
    assert_int_equal(run_mpi(2, SWEEP, "mpi_s6.db", "--seed=6"), 0);
    assert_true(count_differing_tables("mpi_j1.db", "mpi_s6.db") > 0);
    assert_int_equal(leftovers(), 0);
    unlink("mpi_j1.db");
    unlink("mpi_r1.db");
    unlink("mpi_r2.db");
    unlink("mpi_r3.db");
    unlink("mpi_s6.db");
}

/* The same with gateways, a rollout, faults and drawn parameters (tests/scenarios/cli/
 * fleet.yaml), made 4 replications: 2 ranks against -j 1. */
static void fleet_replications_on_two_ranks(void **state)
{
    (void)state;
    const char *j1[] = {DFUSIM,           "run", FLEET,        "-q", "--set",
                        "replications=4", "-o",  "mpi_fj1.db", NULL};
    assert_int_equal(run(j1), 0);
    char n[] = "2";
    const char *argv[] = {DFUSIM_MPIEXEC,
                          "--oversubscribe",
                          "--allow-run-as-root",
                          "-n",
                          n,
                          DFUSIM,
                          "run",
                          FLEET,
                          "-q",
                          "--set",
                          "replications=4",
                          "--mpi",
                          "-o",
                          "mpi_fr2.db",
                          NULL};
    assert_int_equal(run(argv), 0);
    assert_string_equal(out_buf, ""); /* -q */
    assert_int_equal(count_differing_tables("mpi_fj1.db", "mpi_fr2.db"), 0);
    assert_string_equal(query("mpi_fr2.db", "select count(*) from runs"), "4");
    unlink("mpi_fj1.db");
    unlink("mpi_fr2.db");
}

/* A bad scenario is reported once, by rank 0, with exit code 2 from mpirun; nothing is
 * written. */
static void bad_input_is_reported_once(void **state)
{
    (void)state;
    const char *argv[] = {DFUSIM_MPIEXEC,
                          "--oversubscribe",
                          "--allow-run-as-root",
                          "-n",
                          "2",
                          DFUSIM,
                          "run",
                          SWEEP,
                          "--mpi",
                          "--set",
                          "devices.zz.count=1",
                          "-o",
                          "mpi_bad.db",
                          NULL};
    assert_int_equal(run(argv), 2);
    assert_int_equal(count(err_buf, "devices.zz.count"), 1);
    assert_int_equal(access("mpi_bad.db", F_OK), -1);
    /* a bad option too (before MPI starts), and --mpi with -j */
    const char *bad_opt[] = {DFUSIM_MPIEXEC,
                             "--oversubscribe",
                             "--allow-run-as-root",
                             "-n",
                             "2",
                             DFUSIM,
                             "run",
                             SWEEP,
                             "--mpi",
                             "-j",
                             "2",
                             NULL};
    assert_int_equal(run(bad_opt), 2);
    assert_int_equal(count(err_buf, "--mpi and -j do not go together"), 1);
}

/* A scenario of one run (no sweep, no replications) runs on rank 0 with its full summary;
 * the others are told there is nothing to do; the database is that of a plain run. */
static void one_run_goes_to_rank_zero(void **state)
{
    (void)state;
    const char *small = SRC "/tests/scenarios/cli/small.yaml";
    const char *plain[] = {DFUSIM, "run", small, "-q", "-o", "mpi_one_a.db", NULL};
    assert_int_equal(run(plain), 0);
    assert_int_equal(run_mpi(2, small, "mpi_one_b.db", NULL), 0);
    assert_int_equal(count(out_buf, "dfusim run: cli-small (model"), 1);
    assert_int_equal(count(err_buf, "rank 0 runs it, the other 1 ranks have nothing to do"), 1);
    assert_int_equal(count_differing_tables("mpi_one_a.db", "mpi_one_b.db"), 0);
    unlink("mpi_one_a.db");
    unlink("mpi_one_b.db");
}

/* One run with a rollout epoch is split over the ranks by partition (a phone and the
 * devices it serves, a device without a gateway), the controller decides at the same epoch
 * times on every rank from the results of all, and rank 0 merges the ranks' rows: the
 * database is that of a plain run, every table, for 1, 2 and 4 ranks (4 > the devices of
 * some partitions' share, oversubscribed). */
#define SPLIT SRC "/tests/scenarios/cli/fleet-split.yaml"
static void one_fleet_split_over_ranks(void **state)
{
    (void)state;
    const char *plain[] = {DFUSIM, "run", SPLIT, "-q", "-o", "mpi_split_p.db", NULL};
    assert_int_equal(run(plain), 0);
    /* the scenario exercises what it should: waves decided, phones' sessions, chunks */
    assert_int_equal(atoi(query("mpi_split_p.db", "select count(*) from waves")), 3);
    assert_true(atoi(query("mpi_split_p.db", "select count(*) from sessions")) > 0);
    assert_true(atoi(query("mpi_split_p.db", "select count(*) from chunks")) > 0);
    /* every wave decision is at an epoch time (30 s) */
    assert_string_equal(query("mpi_split_p.db", "select count(*) from waves where end_ns % "
                                                "30000000000 != 0"),
                        "0");
    static const int ranks[] = {1, 2, 4};
    for (size_t i = 0; i < sizeof(ranks) / sizeof(ranks[0]); i++) {
        print_message("ranks: %d\n", ranks[i]);
        assert_int_equal(run_mpi(ranks[i], SPLIT, "mpi_split_r.db", "-q"), 0);
        assert_int_equal(count_differing_tables("mpi_split_p.db", "mpi_split_r.db"), 0);
        unlink("mpi_split_r.db");
    }
    /* the summary counts the whole fleet, printed once */
    assert_int_equal(run_mpi(2, SPLIT, "mpi_split_r.db", NULL), 0);
    assert_int_equal(count(out_buf, "  devices   100: "), 1);
    assert_int_equal(leftovers(), 0);
    unlink("mpi_split_p.db");
    unlink("mpi_split_r.db");
}

/* The pid of the process under `parent` (mpirun) whose environment says it is rank 0. */
static pid_t rank0_of(pid_t parent)
{
    for (int tries = 0; tries < 500; tries++) {
        DIR *d = opendir("/proc");
        assert_non_null(d);
        pid_t found = 0;
        for (struct dirent *e; found == 0 && (e = readdir(d)) != NULL;) {
            pid_t pid = (pid_t)atoi(e->d_name);
            char path[64], stat[512], env[1 << 15];
            if (pid <= 0)
                continue;
            snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
            read_log(path, stat, sizeof(stat));
            const char *rp = strrchr(stat, ')');
            int ppid = 0;
            if (rp == NULL || sscanf(rp + 2, "%*c %d", &ppid) != 1 || ppid != parent)
                continue;
            snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
            FILE *f = fopen(path, "r");
            size_t got = f != NULL ? fread(env, 1, sizeof(env) - 1, f) : 0;
            if (f != NULL)
                fclose(f);
            for (size_t i = 0; i < got; i += strlen(env + i) + 1)
                if (strcmp(env + i, "OMPI_COMM_WORLD_RANK=0") == 0)
                    found = pid;
        }
        closedir(d);
        if (found != 0)
            return found;
        const struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
    }
    fail_msg("no rank 0 under mpirun %d", (int)parent);
    return 0;
}

/* EVIDENCE-OF (issue 18, 5a): SIGINT to rank 0 stops every rank: exit 130, the runs that
 * were simulating are in the database as 'interrupted' by SIGINT, the last line says the
 * sweep is incomplete, and no part file is left. */
static void sigint_to_rank0_stops_every_rank(void **state)
{
    (void)state;
    const char *argv[] = {DFUSIM_MPIEXEC,
                          "--oversubscribe",
                          "--allow-run-as-root",
                          "-n",
                          "2",
                          DFUSIM,
                          "run",
                          LONG,
                          "--mpi",
                          "--set",
                          "replications=4",
                          "--set",
                          "record=summary",
                          "-o",
                          "mpi_int.db",
                          NULL};
    unlink("mpi_int.db");
    setenv("TMPDIR", ".", 1); /* the worker's database, so that it can be seen */
    pid_t pid = spawn(argv);
    unsetenv("TMPDIR");
    pid_t r0 = rank0_of(pid);
    /* both ranks in a run: rank 0's part database and the worker's temporary one exist */
    for (int i = 0;
         i < 3000 && (count_files("mpi_int.db", ".part") < 1 || count_files("dfusim-mpi-", "") < 1);
         i++) {
        const struct timespec ms = {0, 10000000};
        nanosleep(&ms, NULL);
    }
    assert_int_equal(kill(r0, SIGINT), 0);
    assert_int_equal(finish(pid), CLI_EXIT_INTERRUPTED);
    assert_non_null(strstr(out_buf, "0 of 4 runs finished (2 started, 2 not started"));
    assert_string_equal(query("mpi_int.db", "select group_concat(status || ':' || status_detail)"
                                            " from runs"),
                        "interrupted:SIGINT,interrupted:SIGINT");
    assert_string_equal(query("mpi_int.db", "select value from meta where key = 'runs_planned'"),
                        "4");
    assert_int_equal(leftovers(), 0);
    unlink("mpi_int.db");
}

int main(void)
{
    /* the ranks inherit it: Open MPI's own allocations are no leak of ours (ASan build) */
    char lsan[4096];
    const char *was = getenv("LSAN_OPTIONS");
    snprintf(lsan, sizeof(lsan), "%s%ssuppressions=%s/tests/lsan-openmpi.supp",
             was != NULL ? was : "", was != NULL && was[0] ? ":" : "", SRC);
    setenv("LSAN_OPTIONS", lsan, 1);
    /* whole stacks (Open MPI is built without frame pointers), so the suppressions match */
    const char *asan = getenv("ASAN_OPTIONS");
    char asan_opts[4096];
    snprintf(asan_opts, sizeof(asan_opts), "%s%sfast_unwind_on_malloc=0", asan != NULL ? asan : "",
             asan != NULL && asan[0] ? ":" : "");
    setenv("ASAN_OPTIONS", asan_opts, 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ranks_write_the_database_of_j1),
        cmocka_unit_test(fleet_replications_on_two_ranks),
        cmocka_unit_test(bad_input_is_reported_once),
        cmocka_unit_test(one_run_goes_to_rank_zero),
        cmocka_unit_test(one_fleet_split_over_ranks),
        cmocka_unit_test(sigint_to_rank0_stops_every_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
