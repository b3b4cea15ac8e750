/* sim/cli/run_ranks.c - `dfusim run --mpi` (docs/mpi.md): rank 0 hands a sweep's runs to the
 * MPI ranks and imports their databases in run order; the workers simulate what they are
 * given. The MPI transport is sim/cli/mpi.h; what the schedulers share is run_int.h. */
#include "sim/cli/run_int.h"

#include "models/fleet/settings.h"
#include "models/fleet/world.h"
#include "sim/cli/cli.h"
#include "sim/cli/cli_int.h"
#include "sim/cli/mpi.h"
#include "sim/outfile.h"
#include "sim/recorder.h"
#include "sim/scenario.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --mpi (docs/mpi.md). Rank 0 is the parent of -j: it hands runs to the worker ranks as they
 * ask, simulates runs itself in between (answering the workers from the engine's progress
 * callback), receives each worker's database into PART_BASE.runK.part and imports every
 * run in run order, so the database is that of -j 1 whatever the ranks and whoever ran
 * what. The sequence of messages is in sim/cli/mpi.h. */
int run_mpi_verdict(struct mpi_job *mj, int verdict)
{
    mj->verdict_sent = true;
    return cli_mpi_bcast_int(&verdict);
}

/* What rank 0 knows of each run. */
enum mpi_run_state { MPI_RUN_TODO, MPI_RUN_BUSY, MPI_RUN_DONE };

struct mpi_run {
    enum mpi_run_state state;
    int code;
    char *line; /* its summary line (malloc'd), printed when it is imported */
};

struct mpi_coord {
    struct scenario *points;
    uint32_t reps;
    struct sweep *sw;
    const struct run_options *o;
    FILE *out, *err;
    int n_ranks;
    struct mpi_run *runs; /* sw->planned */
    int64_t *busy;        /* per rank: the run it simulates, -1 none ([0] unused) */
    int active;           /* workers not yet told to stop */
    size_t next;          /* the next run to hand out */
    size_t imported;      /* runs imported, in order */
    bool halt;            /* hand out nothing more: a worker could not load the scenario */
    bool interrupt_sent;
    int code; /* worst exit code so far */
};

static void mpi_part_path(const struct mpi_coord *c, size_t k, char *buf, size_t n)
{
    snprintf(buf, n, "%s.run%zu.part", c->sw->part_base, k);
}

/* The next run to whoever asks, or stop. */
static bool mpi_take_next(struct mpi_coord *c, size_t *k)
{
    if (c->halt || run_interrupt_flag || c->next >= c->sw->planned)
        return false;
    *k = c->next++;
    c->runs[*k].state = MPI_RUN_BUSY;
    c->sw->started++;
    return true;
}

static void mpi_hand_out(struct mpi_coord *c, int to)
{
    size_t k;
    if (mpi_take_next(c, &k)) {
        c->busy[to] = (int64_t)k;
        (void)cli_mpi_control_send(to, CLI_MPI_ASSIGN, (int64_t)k);
    } else {
        (void)cli_mpi_control_send(to, CLI_MPI_STOP, 0);
        c->active--;
    }
}

/* A report from worker `from` (text: the run's line, then its messages). */
static void mpi_take_report(struct mpi_coord *c, int from, const struct cli_mpi_report *r,
                            char *text)
{
    if (r->kind == CLI_MPI_LOAD_FAILED) {
        fprintf(c->err, "dfusim run: --mpi: rank %d could not load the scenario:\n%s", from, text);
        c->code = run_worse(c->code, r->code);
        c->halt = true;
    } else if (r->kind == CLI_MPI_RESULT) {
        const int64_t k = r->run;
        char part[OUTFILE_PATH_MAX + 64];
        if (k < 0 || c->busy[from] != k || r->line_len > r->text_len) { /* not ours: a bug */
            fprintf(c->err, "dfusim run: --mpi: rank %d reported run %lld it was not given\n", from,
                    (long long)k);
            (void)cli_mpi_report_file(from, r->file_size, "/dev/null");
            c->code = run_worse(c->code, SIM_EXIT_INTERNAL);
            c->halt = true;
            return;
        }
        mpi_part_path(c, (size_t)k, part, sizeof(part));
        struct mpi_run *run = &c->runs[k];
        run->code = r->code;
        if (r->file_size > 0 && cli_mpi_report_file(from, r->file_size, part) != 0) {
            fprintf(c->err, "dfusim run: --mpi: cannot write %s: %s\n", part, strerror(errno));
            run->code = run_worse(run->code, SIM_EXIT_USAGE);
        }
        fputs(text + r->line_len, c->err); /* its messages now, as a -j child's */
        run->line = strndup(text, r->line_len);
        run->state = MPI_RUN_DONE;
        c->busy[from] = -1;
        /* A worker stopped by a signal of its own (its job cancelled): stop them all. */
        if (r->code == CLI_EXIT_INTERRUPTED && !run_interrupt_flag)
            run_interrupt_flag = r->sig != 0 ? r->sig : SIGTERM;
    }
}

/* Answer every report that arrived, and pass a stop signal on to the busy workers, once.
 * A run_hook: it runs between the events of rank 0's own runs too. */
static void mpi_serve(void *ctx)
{
    struct mpi_coord *c = ctx;
    struct cli_mpi_report r;
    char *text = NULL;
    int from, got;
    while ((got = cli_mpi_report_poll(&from, &r, &text)) == 1) {
        mpi_take_report(c, from, &r, text);
        free(text);
        mpi_hand_out(c, from);
    }
    if (got < 0) {
        fprintf(c->err, "dfusim run: --mpi: out of memory receiving a report\n");
        c->code = run_worse(c->code, SIM_EXIT_INTERNAL);
        c->halt = true;
    }
    if (run_interrupt_flag && !c->interrupt_sent) {
        c->interrupt_sent = true;
        for (int w = 1; w < c->n_ranks; w++)
            if (c->busy[w] >= 0)
                (void)cli_mpi_control_send(w, CLI_MPI_INTERRUPT, run_interrupt_flag);
    }
}

/* Import the finished runs that come next in run order, printing their lines. */
static void mpi_import_ready(struct mpi_coord *c)
{
    while (c->imported < c->next && c->runs[c->imported].state == MPI_RUN_DONE) {
        const size_t k = c->imported++;
        struct mpi_run *run = &c->runs[k];
        char part[OUTFILE_PATH_MAX + 64];
        mpi_part_path(c, k, part, sizeof(part));
        int code = run->code;
        if (access(part, F_OK) == 0 && recorder_import(c->sw->rec, part) != 0) {
            fprintf(c->err, "dfusim run: cannot copy run %zu into the results database: %s\n",
                    k + 1, recorder_error(c->sw->rec));
            code = run_worse(code, SIM_EXIT_USAGE);
        }
        outfile_remove_db(part);
        if (!c->o->quiet && run->line != NULL)
            fputs(run->line, c->out);
        c->code = run_worse(c->code, run_counted(c->sw, code));
    }
}

/* Rank 0 simulates run k itself, into its part database, serving the workers meanwhile. */
static void mpi_run_here(struct mpi_coord *c, size_t k)
{
    char part[OUTFILE_PATH_MAX + 64], line[1024] = "";
    mpi_part_path(c, k, part, sizeof(part));
    const struct run_hook hook = {mpi_serve, c};
    struct sim_diag diag;
    struct recorder *rec = NULL;
    sim_diag_init(&diag);
    int code = SIM_EXIT_USAGE;
    if (recorder_open(part, &rec, &diag) == 0)
        code = run_one(&c->points[k / c->reps], (uint32_t)(k % c->reps), k, c->sw->planned, rec,
                       c->sw->db_path, c->o, line, sizeof(line), &hook, c->out, c->err);
    else
        fputs(diag.text, c->err);
    recorder_close(rec);
    c->runs[k] = (struct mpi_run){.state = MPI_RUN_DONE, .code = code, .line = strdup(line)};
}

int run_mpi(struct scenario *points, uint32_t reps, struct sweep *sw, const struct run_options *o,
            struct mpi_job *mj, FILE *out, FILE *err)
{
    struct mpi_coord c = {.points = points,
                          .reps = reps,
                          .sw = sw,
                          .o = o,
                          .out = out,
                          .err = err,
                          .n_ranks = mj->n_ranks,
                          .active = mj->n_ranks - 1,
                          .code = SIM_EXIT_OK};
    c.runs = calloc(sw->planned, sizeof(*c.runs));
    c.busy = malloc((size_t)mj->n_ranks * sizeof(*c.busy));
    size_t text_len = points[0].text_len, dest_len = strlen(sw->db_path);
    char *text = (char *)points[0].text, *dest = (char *)sw->db_path;
    if (c.runs == NULL || c.busy == NULL) {
        free(c.runs);
        free(c.busy);
        (void)run_mpi_verdict(mj, SIM_EXIT_INTERNAL);
        return SIM_EXIT_INTERNAL;
    }
    for (int w = 0; w < mj->n_ranks; w++)
        c.busy[w] = -1;
    if (run_mpi_verdict(mj, RUN_MPI_GO) != 0 || cli_mpi_bcast_bytes(&text, &text_len) != 0 ||
        cli_mpi_bcast_bytes(&dest, &dest_len) != 0) {
        free(c.runs);
        free(c.busy);
        return SIM_EXIT_INTERNAL;
    }
    for (;;) {
        mpi_serve(&c);
        mpi_import_ready(&c);
        size_t k;
        if (mpi_take_next(&c, &k)) {
            mpi_run_here(&c, k);
            continue;
        }
        if (c.active == 0 && c.imported == c.next)
            break;
        cli_mpi_idle();
    }
    for (size_t k = 0; k < sw->planned; k++)
        free(c.runs[k].line);
    free(c.runs);
    free(c.busy);
    if (run_interrupt_flag)
        c.code = run_worse(c.code, CLI_EXIT_INTERRUPTED);
    return c.code;
}

/* ---- one fleet across ranks (docs/mpi.md) ------------------------------------------- */

/* What each rank says at an epoch time, before its results (fleet_world_sync_in). */
struct fleet_head {
    int64_t n, next_at, now, flags;
};

struct fleet_mpi {
    int rank, n_ranks;
    const char *part_base; /* rank 0: where the other ranks' databases land */
    struct fleet_world_result *buf;
    size_t cap;
    bool merged;
    struct fleet_world_sync sync;
    struct run_part part;
};

static int fleet_exchange(void *ctx, const struct fleet_world_sync_in *in,
                          struct fleet_world_sync_out *out)
{
    struct fleet_mpi *f = ctx;
    const struct fleet_head mine = {in->n, in->next_at, in->now, in->flags};
    struct fleet_head *all = malloc((size_t)f->n_ranks * sizeof(*all));
    uint64_t *counts = malloc((size_t)f->n_ranks * sizeof(*counts));
    int rc = all != NULL && counts != NULL ? 0 : SIM_ENOMEM;
    if (rc == 0 && cli_mpi_allgather(&mine, sizeof(mine), all) != 0)
        rc = SIM_EIO;
    size_t total = 0;
    *out = (struct fleet_world_sync_out){.next_at = INT64_MAX, .now = INT64_MIN};
    for (int r = 0; rc == 0 && r < f->n_ranks; r++) {
        counts[r] = (uint64_t)all[r].n * sizeof(struct fleet_world_result);
        total += (size_t)all[r].n;
        out->next_at = all[r].next_at < out->next_at ? all[r].next_at : out->next_at;
        out->now = all[r].now > out->now ? all[r].now : out->now;
        out->flags |= (uint32_t)all[r].flags;
    }
    if (rc == 0 && total > f->cap) {
        struct fleet_world_result *b = realloc(f->buf, total * sizeof(*b));
        rc = b != NULL ? 0 : SIM_ENOMEM;
        if (b != NULL) {
            f->buf = b;
            f->cap = total;
        }
    }
    /* every rank takes part in the second collective, or none does (rc agrees) */
    if (rc == 0 && cli_mpi_allgatherv(in->results, counts, f->buf) != 0)
        rc = SIM_EIO;
    out->results = f->buf;
    out->n = (uint32_t)total;
    free(all);
    free(counts);
    return rc;
}

static bool fleet_agree(void *ctx, bool ok)
{
    struct fleet_mpi *f = ctx;
    int mine = ok, *all = malloc((size_t)f->n_ranks * sizeof(*all));
    bool every = all != NULL && cli_mpi_allgather(&mine, sizeof(mine), all) == 0;
    for (int r = 0; every && r < f->n_ranks; r++)
        every = all[r] != 0;
    free(all);
    return every;
}

/* The fleet's totals: sums of the parts' counts, the latest of their times, the busiest
 * gateway (a part's devices, gateways and sessions are its own; the rollout's figures are
 * the same in every part). */
static void fleet_sum(void *ctx, struct fleet_world_stats *st, uint64_t *events)
{
    struct fleet_mpi *f = ctx;
    enum { N = 11 };
    const int64_t mine[N] = {(int64_t)st->updated, (int64_t)st->reverted, (int64_t)st->failed,
                             (int64_t)st->pending, (int64_t)st->dead,     (int64_t)st->attempts,
                             (int64_t)st->swaps,   st->gateway_sessions,  (int64_t)*events,
                             st->last_updated_ns,  st->gateway_max_active};
    int64_t(*all)[N] = malloc((size_t)f->n_ranks * sizeof(*all));
    if (all == NULL || cli_mpi_allgather(mine, sizeof(mine), all) != 0) {
        free(all);
        return; /* this part's counts only */
    }
    int64_t t[N] = {0};
    for (int r = 0; r < f->n_ranks; r++)
        for (int i = 0; i < N; i++)
            t[i] = i < 9 ? t[i] + all[r][i] : (all[r][i] > t[i] ? all[r][i] : t[i]);
    free(all);
    st->updated = (uint64_t)t[0];
    st->reverted = (uint64_t)t[1];
    st->failed = (uint64_t)t[2];
    st->pending = (uint64_t)t[3];
    st->dead = (uint64_t)t[4];
    st->attempts = (uint64_t)t[5];
    st->swaps = (uint64_t)t[6];
    st->gateway_sessions = (uint32_t)t[7];
    *events = (uint64_t)t[8];
    st->last_updated_ns = t[9];
    st->gateway_max_active = (uint32_t)t[10];
}

/* Rank 0: each other rank's report and database; its rows join the open run. Runs once. */
static int fleet_merge(void *ctx, struct recorder *rec, FILE *err)
{
    struct fleet_mpi *f = ctx;
    int code = SIM_EXIT_OK;
    f->merged = true;
    for (int got = 0; got < f->n_ranks - 1;) {
        int from = 0;
        struct cli_mpi_report r;
        char *text = NULL;
        int k = cli_mpi_report_poll(&from, &r, &text);
        if (k < 0)
            return SIM_EXIT_INTERNAL;
        if (k == 0) {
            cli_mpi_idle();
            continue;
        }
        got++;
        char path[OUTFILE_PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s.rank%d.part", f->part_base, from);
        bool file_ok = cli_mpi_report_file(from, r.file_size, path) == 0;
        if (r.code != SIM_EXIT_OK) {
            if (text != NULL && r.text_len > r.line_len)
                fputs(text + r.line_len, err);
            code = run_worse(code, r.code);
        } else if (rec != NULL && (!file_ok || recorder_run_merge_part(rec, path) != 0)) {
            fprintf(err, "dfusim run: --mpi: cannot merge the rows of rank %d: %s\n", from,
                    recorder_error(rec));
            code = run_worse(code, SIM_EXIT_INTERNAL);
        }
        outfile_remove_db(path);
        free(text);
    }
    return code;
}

static void fleet_init(struct fleet_mpi *f, const struct mpi_job *mj, const char *part_base)
{
    *f = (struct fleet_mpi){.rank = mj->rank, .n_ranks = mj->n_ranks, .part_base = part_base};
    f->sync = (struct fleet_world_sync){f, fleet_exchange};
    f->part = (struct run_part){.part = (uint32_t)mj->rank,
                                .n_parts = (uint32_t)mj->n_ranks,
                                .sync = &f->sync,
                                .agree = fleet_agree,
                                .merge = mj->rank == 0 ? fleet_merge : NULL,
                                .sum = fleet_sum,
                                .ctx = f};
}

bool run_mpi_fleet_splits(const struct scenario *s)
{
    const struct fleet_settings *fs = fleet_settings_of(s);
    return fs->rollout.present && fs->rollout.epoch > 0;
}

int run_mpi_fleet(struct scenario *s, struct recorder *rec, const char *db_path,
                  const char *part_base, const struct run_options *o, struct mpi_job *mj, FILE *out,
                  FILE *err)
{
    size_t text_len = s->text_len, dest_len = strlen(db_path);
    char *text = (char *)s->text, *dest = (char *)db_path;
    if (run_mpi_verdict(mj, RUN_MPI_FLEET) != 0 || cli_mpi_bcast_bytes(&text, &text_len) != 0 ||
        cli_mpi_bcast_bytes(&dest, &dest_len) != 0)
        return SIM_EXIT_INTERNAL;
    struct fleet_mpi f;
    fleet_init(&f, mj, part_base);
    int code = run_fleet_part(s, rec, db_path, o, &f.part, out, err);
    if (!f.merged) /* the run failed before the merge: the workers' reports still come */
        code = run_worse(code, fleet_merge(&f, NULL, err));
    free(f.buf);
    return code;
}

/* A worker's part of the one run (RUN_MPI_FLEET): its devices into a temporary database,
 * sent to rank 0 with its messages. s NULL: the scenario did not load here. */
static void fleet_worker(struct scenario *s, const char *dest, const struct run_options *o,
                         int rank, int n_ranks, const char *load_msgs, FILE *sink)
{
    const struct mpi_job mj = {.on = true, .rank = rank, .n_ranks = n_ranks};
    struct fleet_mpi f;
    fleet_init(&f, &mj, NULL);
    const char *dir = getenv("TMPDIR");
    char tmp[OUTFILE_PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s/dfusim-mpi-XXXXXX", dir != NULL && dir[0] ? dir : "/tmp");
    char *msgs = NULL;
    size_t msgs_len = 0;
    FILE *merr = open_memstream(&msgs, &msgs_len);
    FILE *err = merr != NULL ? merr : sink;
    struct recorder *rec = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    int code = SIM_EXIT_USAGE;
    int fd = s != NULL ? mkstemp(tmp) : -1;
    if (fd >= 0)
        close(fd);
    if (s == NULL || fd < 0 || recorder_open(tmp, &rec, &diag) != 0) {
        fputs(s == NULL ? load_msgs : diag.text, err);
        (void)fleet_agree(&f, false); /* as simulate would have: the others stop too */
    } else {
        code = run_fleet_part(s, rec, dest, o, &f.part, sink, err);
    }
    recorder_close(rec);
    if (merr != NULL)
        fclose(merr);
    const struct cli_mpi_report r = {.kind = CLI_MPI_RESULT,
                                     .code = code,
                                     .sig = run_interrupt_flag,
                                     .text_len = msgs != NULL ? (uint32_t)msgs_len : 0};
    (void)cli_mpi_report_send(&r, msgs, fd >= 0 ? tmp : NULL);
    free(msgs);
    free(f.buf);
    if (fd >= 0)
        outfile_remove_db(tmp);
}

/* A worker's hook while it simulates: a stop signal passed on by rank 0 stops the run (the
 * database records it as that signal, as a -j child's). ASSIGN and STOP only answer a
 * report, and none is pending while a run simulates. */
static void mpi_worker_poll(void *ctx)
{
    (void)ctx;
    enum cli_mpi_control what;
    int64_t value;
    while (cli_mpi_control_poll(&what, &value) == 1)
        if (what == CLI_MPI_INTERRUPT && !run_interrupt_flag)
            run_interrupt_flag = (sig_atomic_t)value;
}

/* A worker simulates run k into a temporary database in $TMPDIR (on its own machine) and
 * sends it to rank 0 with the run's line and messages. */
static void mpi_worker_run(struct scenario *points, uint32_t reps, size_t planned, size_t k,
                           const char *dest, const struct run_options *o, FILE *sink)
{
    const char *dir = getenv("TMPDIR");
    char tmp[OUTFILE_PATH_MAX], line[1024] = "";
    snprintf(tmp, sizeof(tmp), "%s/dfusim-mpi-XXXXXX", dir != NULL && dir[0] ? dir : "/tmp");
    char *msgs = NULL;
    size_t msgs_len = 0;
    FILE *merr = open_memstream(&msgs, &msgs_len);
    FILE *err = merr != NULL ? merr : sink;
    struct sim_diag diag;
    struct recorder *rec = NULL;
    sim_diag_init(&diag);
    const struct run_hook hook = {mpi_worker_poll, NULL};
    int code = SIM_EXIT_INTERNAL;
    int fd = mkstemp(tmp);
    if (fd < 0) {
        fprintf(err, "dfusim run: --mpi: cannot create a temporary database in %s: %s\n",
                dir != NULL && dir[0] ? dir : "/tmp", strerror(errno));
        tmp[0] = '\0';
    } else {
        close(fd);
        code = SIM_EXIT_USAGE;
        if (recorder_open(tmp, &rec, &diag) == 0)
            code = run_one(&points[k / reps], (uint32_t)(k % reps), k, planned, rec, dest, o, line,
                           sizeof(line), &hook, sink, err);
        else
            fputs(diag.text, err);
        recorder_close(rec);
    }
    if (merr != NULL)
        fclose(merr);
    size_t line_len = strlen(line);
    char *text = malloc(line_len + msgs_len + 1);
    if (text != NULL) {
        memcpy(text, line, line_len);
        memcpy(text + line_len, msgs != NULL ? msgs : "", msgs_len);
    }
    const struct cli_mpi_report r = {.kind = CLI_MPI_RESULT,
                                     .code = text != NULL ? code : SIM_EXIT_INTERNAL,
                                     .sig = run_interrupt_flag,
                                     .line_len = text != NULL ? (uint32_t)line_len : 0,
                                     .text_len = text != NULL ? (uint32_t)(line_len + msgs_len) : 0,
                                     .run = (int64_t)k};
    (void)cli_mpi_report_send(&r, text, tmp[0] ? tmp : NULL);
    free(text);
    free(msgs);
    if (tmp[0])
        outfile_remove_db(tmp);
}

/* What run_mpi_worker loaded: the sweep's points beyond the first (points[0] is s), s,
 * the scenario text and the database path rank 0 sent. */
static void worker_free(struct scenario *points, struct scenario *s, char *text, char *dest)
{
    if (points != NULL) {
        for (size_t p = 1; p < s->n_points; p++)
            scenario_fini(&points[p]);
        free(points);
    }
    scenario_fini(s);
    free(text);
    free(dest);
}

/* A worker rank: wait for rank 0's verdict; with work, load the scenario rank 0 sends (its
 * bytes, so every rank runs the same text; files it names must be at the same paths on every
 * machine) and simulate the runs rank 0 hands out until it says stop. Prints nothing: what it
 * has to say goes to rank 0. Returns SIM_EXIT_OK or SIM_EXIT_INTERNAL; the command's exit
 * code is rank 0's (mpi_end). */
int run_mpi_worker(const struct run_options *o, FILE *sink)
{
    int verdict = RUN_MPI_IDLE;
    if (cli_mpi_bcast_int(&verdict) != 0)
        return SIM_EXIT_INTERNAL;
    if (verdict != RUN_MPI_GO && verdict != RUN_MPI_FLEET)
        return SIM_EXIT_OK;
    char *text = NULL, *dest = NULL;
    size_t text_len = 0, dest_len = 0;
    if (cli_mpi_bcast_bytes(&text, &text_len) != 0 || cli_mpi_bcast_bytes(&dest, &dest_len) != 0) {
        free(text);
        return SIM_EXIT_INTERNAL;
    }
    struct scenario s = {0};
    struct scenario *points = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    char *msgs = NULL;
    size_t msgs_len = 0;
    FILE *merr = open_memstream(&msgs, &msgs_len);
    int code = SIM_EXIT_OK;
    if (scenario_load_text(o->scenario_path, &fleet_settings_schema, text, text_len, o->overrides,
                           o->n_overrides, &s, &diag) != 0 ||
        fleet_world_check(&s, &diag) != 0) {
        fputs(diag.text, merr != NULL ? merr : sink);
        code = SIM_EXIT_USAGE;
    } else if ((code = run_load_points(&s, o, &points, merr != NULL ? merr : sink)) == 0) {
        points[0] = s; /* borrowed: freed below as s */
    }
    if (merr != NULL)
        fclose(merr);
    if (verdict == RUN_MPI_FLEET) {
        int rank = 0, n_ranks = 1;
        char m[8];
        (void)cli_mpi_init(&rank, &n_ranks, m, sizeof(m)); /* already done: rank and size */
        fleet_worker(code == 0 ? &s : NULL, dest, o, rank, n_ranks, msgs != NULL ? msgs : "", sink);
        free(msgs);
        worker_free(points, &s, text, dest);
        return SIM_EXIT_OK;
    }
    struct cli_mpi_report r = {.kind = code == 0 ? CLI_MPI_READY : CLI_MPI_LOAD_FAILED,
                               .code = code,
                               .text_len = msgs != NULL ? (uint32_t)msgs_len : 0};
    (void)cli_mpi_report_send(&r, msgs, NULL);
    free(msgs);
    for (;;) {
        enum cli_mpi_control what;
        int64_t value;
        if (cli_mpi_control_wait(&what, &value) != 0 || what == CLI_MPI_STOP)
            break;
        if (what == CLI_MPI_INTERRUPT) {
            if (!run_interrupt_flag)
                run_interrupt_flag = (sig_atomic_t)value;
            continue;
        }
        if (points == NULL || value < 0 ||
            (size_t)value >= (size_t)s.n_points * s.replications) { /* a bug: say so */
            const struct cli_mpi_report bad = {
                .kind = CLI_MPI_RESULT, .code = SIM_EXIT_INTERNAL, .run = value};
            (void)cli_mpi_report_send(&bad, NULL, NULL);
            continue;
        }
        mpi_worker_run(points, s.replications, (size_t)s.n_points * s.replications, (size_t)value,
                       dest, o, sink);
    }
    worker_free(points, &s, text, dest);
    return SIM_EXIT_OK;
}

/* The rank the launcher (mpirun, srun) gave this process, from its environment, before
 * MPI_Init: 0 when there is none. Only to keep the other ranks quiet from the start, so that
 * a bad command line is reported once. */
int run_mpi_launcher_rank(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK",
                                       "SLURM_PROCID"};
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
        const char *v = getenv(vars[i]);
        if (v != NULL && v[0] != '\0')
            return atoi(v);
    }
    return 0;
}

bool run_mpi_asked(int argc, char **argv)
{
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (strcmp(argv[i], "--mpi") == 0)
            return true;
    return false;
}

/* --mpi: MPI_Init; a worker rank's output goes to the sink (rank 0 speaks for all). Returns 0
 * or an exit code after saying why. */
int run_mpi_begin(struct mpi_job *mj, FILE **out, FILE **err, FILE **sink)
{
    char msg[128];
    if (cli_mpi_init(&mj->rank, &mj->n_ranks, msg, sizeof(msg)) != 0) {
        fprintf(*err, "dfusim run: --mpi: %s\n", msg);
        return SIM_EXIT_INTERNAL;
    }
    mj->on = true;
    if (mj->rank != 0) {
        if (*sink == NULL)
            *sink = fopen("/dev/null", "w");
        if (*sink == NULL)
            return SIM_EXIT_INTERNAL;
        *out = *err = *sink;
    }
    return 0;
}

/* --mpi, every rank at the end: rank 0 tells the workers there is no work if it has not
 * said anything yet, then everyone takes rank 0's exit code (so that mpirun and srun exit
 * with it) and MPI_Finalize. */
int run_mpi_end(struct mpi_job *mj, int code)
{
    if (mj->rank == 0 && !mj->verdict_sent)
        (void)run_mpi_verdict(mj, code != SIM_EXIT_OK ? code : RUN_MPI_IDLE);
    int final = code;
    if (cli_mpi_bcast_int(&final) != 0)
        final = SIM_EXIT_INTERNAL;
    cli_mpi_finalize();
    return final;
}
