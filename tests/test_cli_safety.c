/* tests/test_cli_safety.c - issue 13: dfusim never loses a user's file and survives faults
 * of its own process. Runs the built dfusim executable (fork + exec) so that signals,
 * process deaths and file-size limits are real:
 *  - `run -o` refuses to replace what is not a results database (exit 2, file untouched);
 *  - an interrupted (SIGINT), killed (SIGKILL) or failed (file too large) run leaves the
 *    previous database byte-identical; SIGTERM records 'interrupted';
 *  - report, compare and check refuse an output that is one of their inputs (also through a
 *    hard link);
 *  - SIGKILL of a `run -j 2` parent kills its workers, and the next run to the same path
 *    removes the files they left; an interrupted sweep is reported incomplete. */
#include "sim/cli/cli.h"
#include "sim/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#define SRC   DFUSIM_SOURCE_DIR
#define BIN   DFUSIM_BINARY_DIR "/dfusim"
#define SMALL SRC "/tests/scenarios/cli/small.yaml"
#define LONG  SRC "/tests/scenarios/cli/long.yaml"

static char dir[256]; /* a fresh folder per test */

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/test_cli_safety-XXXXXX", DFUSIM_BINARY_DIR);
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && (e->d_name[1] == '\0' || strcmp(e->d_name, "..") == 0))
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            (void)rmdir(p);
    }
    if (d != NULL)
        closedir(d);
    (void)rmdir(dir);
    return 0;
}

static const char *in_dir(const char *name)
{
    static char paths[256][512];
    static int next;
    char *p = paths[next++ % 256];
    snprintf(p, 512, "%s/%s", dir, name);
    return p;
}

/* The whole file (malloc'd, *len bytes and a NUL), or NULL when it cannot be read. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    do {
        if (n + 65536 > cap) {
            cap = 2 * cap + 65536;
            buf = realloc(buf, cap);
            assert_non_null(buf);
        }
        got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
    } while (got > 0);
    fclose(f);
    buf[n] = '\0'; /* also usable as text */
    *len = n;
    return buf;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void assert_same_bytes(const char *path, const char *want, size_t want_len)
{
    size_t len = 0;
    char *got = slurp(path, &len);
    if (got == NULL || len != want_len || memcmp(got, want, len) != 0)
        fail_msg("%s: changed (%zu bytes, was %zu)", path, got ? len : 0, want_len);
    free(got);
}

/* Start dfusim with argv (NULL-terminated, without the program); stdout and stderr go to
 * DIR/out.txt and DIR/err.txt. fsize > 0: a file-size limit (SIGXFSZ ignored). */
static pid_t spawn(const char *const *argv, long fsize)
{
    const char *out = in_dir("out.txt"), *err = in_dir("err.txt");
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0)
            _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        if (fsize > 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            setrlimit(RLIMIT_FSIZE, &rl);
        }
        char *args[32] = {(char *)"dfusim"};
        for (int i = 0; argv[i] != NULL && i < 30; i++)
            args[i + 1] = (char *)argv[i];
        execv(BIN, args);
        _exit(127);
    }
    return pid;
}

static int finish(pid_t pid)
{
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int run_dfusim(const char *const *argv)
{
    return finish(spawn(argv, 0));
}

static const char *err_text(void)
{
    static char text[1 << 14];
    size_t len = 0;
    char *t = slurp(in_dir("err.txt"), &len);
    snprintf(text, sizeof(text), "%.*s", t ? (int)len : 0, t ? t : "");
    free(t);
    return text;
}

static const char *out_text(void)
{
    static char text[1 << 14];
    size_t len = 0;
    char *t = slurp(in_dir("out.txt"), &len);
    snprintf(text, sizeof(text), "%.*s", t ? (int)len : 0, t ? t : "");
    free(t);
    return text;
}

static const char *query(const char *db_path, const char *sql)
{
    static char value[512];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(value, sizeof(value), "NULL");
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW &&
        sqlite3_column_text(st, 0) != NULL)
        snprintf(value, sizeof(value), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return value;
}

/* Files in DIR whose name contains part. */
static int count_files(const char *part)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strstr(e->d_name, part) != NULL;
    closedir(d);
    return n;
}

static void sleep_ms(long ms)
{
    const struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Wait (at most 60 s) until DIR holds at least n files whose name contains part. */
static void wait_for_files(const char *part, int n)
{
    for (int i = 0; i < 3000 && count_files(part) < n; i++)
        sleep_ms(20);
    assert_true(count_files(part) >= n);
}

/* A results database at DIR/name from small.yaml; its bytes in *bytes. */
static char *previous_db(const char *name, size_t *len)
{
    const char *db = in_dir(name);
    const char *argv[] = {"run", SMALL, "-q", "-o", db, NULL};
    assert_int_equal(run_dfusim(argv), 0);
    char *bytes = slurp(db, len);
    assert_non_null(bytes);
    return bytes;
}

/* `run -o` onto a text file, the scenario file, a folder, /dev/null or a link to a text
 * file: exit 2, a message naming the path, and the path as it was. */
static void run_refuses_what_is_not_a_database(void **state)
{
    (void)state;
    const char *notes = in_dir("notes.txt"), *scenario = in_dir("scenario.yaml");
    const char *folder = in_dir("folder"), *link = in_dir("link.db");
    write_text(notes, "my notes\n");
    size_t slen = 0;
    char *stext = slurp(SMALL, &slen);
    assert_non_null(stext);
    write_text(scenario, stext);
    assert_int_equal(mkdir(folder, 0755), 0);
    assert_int_equal(symlink(notes, link), 0);
    struct stat null_before, null_after, dir_before, dir_after;
    assert_int_equal(stat("/dev/null", &null_before), 0);
    assert_int_equal(stat(folder, &dir_before), 0);
    const char *targets[] = {notes, scenario, folder, "/dev/null", link};
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        const char *argv[] = {"run", scenario, "-q", "-o", targets[i], NULL};
        int code = run_dfusim(argv);
        if (code != SIM_EXIT_USAGE || strstr(err_text(), targets[i]) == NULL ||
            strstr(err_text(), "refusing") == NULL)
            fail_msg("-o %s: exit %d, stderr: %s", targets[i], code, err_text());
    }
    assert_same_bytes(notes, "my notes\n", 9);
    assert_same_bytes(scenario, stext, slen);
    assert_int_equal(stat("/dev/null", &null_after), 0);
    assert_true(S_ISCHR(null_after.st_mode) && null_after.st_rdev == null_before.st_rdev &&
                null_after.st_ino == null_before.st_ino);
    assert_int_equal(stat(folder, &dir_after), 0);
    assert_true(S_ISDIR(dir_after.st_mode) && dir_after.st_ino == dir_before.st_ino);
    assert_int_equal(count_files(".tmp"), 0);
    free(stext);
}

/* A run interrupted with SIGINT keeps its partial results in DB.interrupted and leaves
 * DB byte-identical; one killed with SIGKILL leaves DB byte-identical too, and the next run
 * to DB removes the temporary file the killed one left. */
static void interrupted_and_killed_runs_leave_the_database(void **state)
{
    (void)state;
    size_t len = 0;
    char *before = previous_db("r.db", &len);
    const char *db = in_dir("r.db");
    const char *argv[] = {"run", LONG, "-q", "-o", db, NULL};
    for (int k = 0; k < 2; k++) {
        pid_t pid = spawn(argv, 0);
        wait_for_files(".dfusim-", 1);
        sleep_ms(200);
        assert_int_equal(kill(pid, k == 0 ? SIGINT : SIGKILL), 0);
        int code = finish(pid);
        assert_int_equal(code, k == 0 ? CLI_EXIT_INTERRUPTED : 128 + SIGKILL);
        assert_same_bytes(db, before, len);
        if (k == 0) {
            assert_string_equal(query(in_dir("r.db.interrupted"),
                                      "select status || ':' || status_detail from runs"),
                                "interrupted:SIGINT");
            assert_int_equal(count_files(".dfusim-"), 0); /* nothing left behind */
        }
    }
    assert_true(count_files(".dfusim-") >= 1); /* the killed run's temporary file */
    const char *again[] = {"run", SMALL, "-q", "-o", db, NULL};
    assert_int_equal(run_dfusim(again), 0);
    assert_int_equal(count_files(".dfusim-"), 0);
    assert_string_equal(query(db, "select status from runs"), "complete");
    free(before);
}

/* A run that cannot write its database (file-size limit: a full disk as far as SQLite can
 * tell) exits 2 (README "Exit codes") and leaves the previous database byte-identical. */
static void a_full_disk_is_exit_2_and_keeps_the_database(void **state)
{
    (void)state;
    size_t len = 0;
    char *before = previous_db("f.db", &len);
    const char *argv[] = {"run", SMALL, "-q", "-o", in_dir("f.db"), NULL};
    int code = finish(spawn(argv, 40 * 1024));
    if (code != SIM_EXIT_USAGE)
        fail_msg("exit %d, stderr: %s", code, err_text());
    assert_null(strstr(err_text(), "not an error"));
    assert_same_bytes(in_dir("f.db"), before, len);
    assert_int_equal(count_files(".dfusim-"), 0);
    free(before);
}

/* SIGTERM (and SIGHUP) stop a run as SIGINT does: exit 130, status 'interrupted'. */
static void sigterm_records_interrupted(void **state)
{
    (void)state;
    const char *db = in_dir("t.db");
    const char *argv[] = {"run", LONG, "-q", "-o", db, NULL};
    static const int sigs[] = {SIGTERM, SIGHUP};
    static const char *const want[] = {"interrupted:SIGTERM", "interrupted:SIGHUP"};
    for (int i = 0; i < 2; i++) {
        unlink(db);
        pid_t pid = spawn(argv, 0);
        wait_for_files(".dfusim-", 1);
        sleep_ms(200);
        assert_int_equal(kill(pid, sigs[i]), 0);
        assert_int_equal(finish(pid), CLI_EXIT_INTERRUPTED);
        assert_string_equal(query(db, "select status || ':' || status_detail from runs"), want[i]);
    }
}

/* report --csv/--plot, compare --csv and check --junit onto an input, by name or through a
 * hard link: exit 2 and the input unchanged. */
static void readers_refuse_to_overwrite_their_input(void **state)
{
    (void)state;
    size_t len = 0, slen = 0;
    char *before = previous_db("in.db", &len);
    const char *db = in_dir("in.db"), *hard = in_dir("hard.db");
    const char *scenario = in_dir("s.yaml"), *shard = in_dir("s-link.yaml");
    assert_int_equal(link(db, hard), 0);
    char *stext = slurp(SMALL, &slen);
    write_text(scenario, stext);
    assert_int_equal(link(scenario, shard), 0);
    const char *cases[][8] = {
        {"report", db, "--csv", db, NULL},
        {"report", db, "--csv", hard, NULL},
        {"report", db, "--plot", hard, NULL},
        {"compare", db, hard, "--csv", db, NULL},
        {"compare", db, "--csv", hard, NULL},
        {"check", scenario, "--baseline", dir, "--junit", scenario, NULL},
        {"check", scenario, "--baseline", dir, "--junit", shard, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int code = run_dfusim(cases[i]);
        if (code != SIM_EXIT_USAGE || strstr(err_text(), "refusing to write there") == NULL)
            fail_msg("case %zu (%s): exit %d, stderr: %s", i, cases[i][0], code, err_text());
        assert_same_bytes(db, before, len);
        assert_same_bytes(scenario, stext, slen);
    }
    free(before);
    free(stext);
}

/* Children of ppid, from /proc (at most n). */
static size_t children_of(pid_t ppid, pid_t *out, size_t n)
{
    DIR *d = opendir("/proc");
    assert_non_null(d);
    size_t k = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && k < n) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL)
            continue;
        size_t got = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        buf[got] = '\0';
        const char *rp = strrchr(buf, ')'); /* "pid (comm) state ppid ..." */
        char state;
        int parent;
        if (rp != NULL && sscanf(rp + 1, " %c %d", &state, &parent) == 2 && parent == ppid)
            out[k++] = (pid_t)atoi(e->d_name);
    }
    closedir(d);
    return k;
}

/* Running: exists and is not a zombie (a zombie has died; it only waits to be reaped). */
static int running(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t got = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[got] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp != NULL && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

static const char *sweep_argv[] = {
    "run", LONG, "-q",          "--set", "replications=6", "--set", "record=summary", "-j",
    "2",   "-o", NULL /* db */, NULL};

/* SIGKILL of the parent of `run -j 2`: within a second no worker runs; the destination does
 * not exist (nothing looks complete); the next run to it removes the parts left behind. */
static void killed_parallel_parent_takes_its_workers(void **state)
{
    (void)state;
    const char *db = in_dir("p.db");
    sweep_argv[10] = db;
    pid_t pid = spawn(sweep_argv, 0);
    wait_for_files(".part", 2);
    pid_t kids[8];
    size_t n = children_of(pid, kids, 8);
    assert_int_equal(n, 2);
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(finish(pid), 128 + SIGKILL);
    int alive = 1; /* PR_SET_PDEATHSIG kills them at once; their exit may take a while on a
                      loaded machine, so wait up to 10 s (it failed once with 1 s) */
    for (int i = 0; i < 500 && alive; i++) {
        alive = 0;
        for (size_t k = 0; k < n; k++)
            alive += running(kids[k]);
        if (alive)
            sleep_ms(20);
    }
    assert_int_equal(alive, 0);
    assert_int_equal(access(db, F_OK), -1);
    assert_true(count_files(".part") >= 2); /* left by the dead; removed by the next run: */
    const char *again[] = {"run", SMALL, "-q", "-o", db, NULL};
    assert_int_equal(run_dfusim(again), 0);
    assert_int_equal(count_files(".part"), 0);
    assert_int_equal(count_files(".dfusim-"), 0);
}

/* SIGINT to the parent of `run -j 2` of 6 runs: exit 130, the last line says how many runs
 * finished out of 6, the database says 6 planned, and report warns that the sweep is
 * incomplete on stderr and in its output. */
static void interrupted_sweep_is_reported_incomplete(void **state)
{
    (void)state;
    const char *db = in_dir("i.db");
    sweep_argv[10] = db;
    sweep_argv[2] = "--seed=1"; /* instead of -q: the last line is printed */
    pid_t pid = spawn(sweep_argv, 0);
    sweep_argv[2] = "-q";
    wait_for_files(".part", 2);
    assert_int_equal(kill(pid, SIGINT), 0);
    assert_int_equal(finish(pid), CLI_EXIT_INTERRUPTED);
    assert_non_null(strstr(out_text(), "0 of 6 runs finished (2 started, 4 not started"));
    assert_null(strstr(out_text(), "6 runs (1 sweep points"));
    assert_string_equal(query(db, "select value from meta where key = 'runs_planned'"), "6");
    assert_string_equal(query(db, "select value from meta where key = 'runs_finished'"), "0");
    assert_string_equal(query(db, "select count(*) from runs where status = 'interrupted'"), "2");
    assert_int_equal(count_files(".part"), 0);
    const char *report[] = {"report", db, NULL};
    assert_int_equal(run_dfusim(report), 0);
    const char *want = "the sweep is incomplete: 0 of 6 planned runs finished (2 interrupted, 4 "
                       "never started)";
    if (strstr(err_text(), want) == NULL || strstr(out_text(), want) == NULL)
        fail_msg("report: stdout %s\nstderr %s", out_text(), err_text());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(run_refuses_what_is_not_a_database, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupted_and_killed_runs_leave_the_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_full_disk_is_exit_2_and_keeps_the_database, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(sigterm_records_interrupted, setup, teardown),
        cmocka_unit_test_setup_teardown(readers_refuse_to_overwrite_their_input, setup, teardown),
        cmocka_unit_test_setup_teardown(killed_parallel_parent_takes_its_workers, setup, teardown),
        cmocka_unit_test_setup_teardown(interrupted_sweep_is_reported_incomplete, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
