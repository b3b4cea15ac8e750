/* sim/cli/run.c - `dfusim run`: scenario -> world -> engine -> results database. */
#include "models/fleet/world.h"
#include "models/fleet/settings.h"
#include "report/fmt.h"
#include "report/summary.h"
#include "sim/cli/capture.h"
#include "sim/cli/cli.h"
#include "sim/cli/cli_int.h"
#include "sim/cli/mpi.h"
#include "sim/cli/run_int.h"
#include "sim/engine.h"
#include "sim/outfile.h"
#include "sim/recorder.h"
#include "sim/scenario.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char run_usage[] =
    "Usage: dfusim run SCENARIO [OPTIONS]\n"
    "\n"
    "Run a scenario and record the results in a SQLite database.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE      results database (default results/NAME.db, NAME from the\n"
    "                         scenario); written to FILE.dfusim-PID.tmp and renamed\n"
    "                         over FILE when the run ends; only an older results\n"
    "                         database is ever replaced, anything else is refused\n"
    "      --seed N           random seed (same as --set seed=N)\n"
    "  -s, --set KEY=VALUE    override one scenario value, e.g. --set until=2h,\n"
    "                         --set devices.mice.count=500 (repeatable)\n"
    "  -j, --jobs N           run up to N runs at once, one process each (default 1); the\n"
    "                         database is the same as with -j 1\n"
    "      --mpi              under mpirun -n R (or srun): spread the sweep points and\n"
    "                         replications over the R ranks, on one or many machines;\n"
    "                         rank 0 writes the database, the same as with -j 1;\n"
    "                         a single run whose rollout has an epoch (rollout.epoch)\n"
    "                         has its fleet split over the ranks by gateway, with the\n"
    "                         same database as 1 rank (docs/mpi.md); not with -j or --pcap\n"
    "      --json FILE        when the runs end, write the per-group summary (the rows of\n"
    "                         dfusim report, same fields) as JSON to FILE; - : stdout\n"
    "      --pcap FILE        write the traffic of the chosen devices as a capture\n"
    "                         Wireshark reads (docs/captures.md): BLE link-layer packets\n"
    "                         (LINKTYPE_BLUETOOTH_LE_LL_WITH_PHDR) or UART bytes\n"
    "                         (LINKTYPE_USER0); one run only (no sweep or replications)\n"
    "      --pcap-devices LIST  devices to capture, ids as the database numbers them,\n"
    "                         comma-separated, ranges allowed (e.g. 0,2-4); all on one\n"
    "                         transport (default: device 0)\n"
    "  -q, --quiet            no progress line, no summary and no Kconfig notes\n"
    "      --kconfig-verbose  with firmware.kconfig or mcuboot.kconfig: also list each\n"
    "                         option the simulator does not model (dfusim validate\n"
    "                         --help says what the Kconfig notes are)\n"
    "  -h, --help             show this help\n"
    "\n"
    "The same scenario and seed always give the same results. Progress (simulated time,\n"
    "events/s, ETA) is shown on stderr when it is a terminal. Ctrl-C (or SIGTERM, SIGHUP)\n"
    "stops the run; the database then records status 'interrupted' and the exit code is\n"
    "130. An interrupted run does not replace an existing database: it goes to\n"
    "FILE.interrupted instead. A failed or killed run leaves FILE as it was.\n"
    "A scenario with `sweep` or `replications` makes one run per sweep point and\n"
    "replication, all in the same database, with one summary line each.\n";

/* The one mutable static in the program: a signal handler can reach nothing else. 0, or the
 * number of the signal that asked to stop (SIGINT, SIGTERM, SIGHUP). */
volatile sig_atomic_t run_interrupt_flag;

static void on_sigint(int sig)
{
    if (run_interrupt_flag == 0)
        run_interrupt_flag = sig;
}

static const char *const stop_signals[] = {"SIGINT", "SIGTERM", "SIGHUP"};
static const int stop_signal_nums[] = {SIGINT, SIGTERM, SIGHUP};
#define N_STOP_SIGNALS 3

static const char *signal_name(int sig)
{
    for (int i = 0; i < N_STOP_SIGNALS; i++)
        if (stop_signal_nums[i] == sig)
            return stop_signals[i];
    return "signal";
}

/* SIGINT, SIGTERM and SIGHUP all stop the run the same way (status 'interrupted'). */
static void catch_stop_signals(struct sigaction old[N_STOP_SIGNALS])
{
    struct sigaction sa = {.sa_handler = on_sigint};
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < N_STOP_SIGNALS; i++)
        sigaction(stop_signal_nums[i], &sa, &old[i]);
}

static void restore_stop_signals(const struct sigaction old[N_STOP_SIGNALS])
{
    for (int i = 0; i < N_STOP_SIGNALS; i++)
        sigaction(stop_signal_nums[i], &old[i], NULL);
}

#define CLI_RUN_MAX_JOBS 64

#define HELP_SHOWN (-1) /* parse_options: --help was printed; exit 0 */

/* --mpi alone: mpirun starts the processes (not -j), --pcap captures in one process, and the
 * build must have MPI. Returns 0 or SIM_EXIT_USAGE after saying why. */
static int check_mpi_options(const struct run_options *o, FILE *err)
{
    if (o->jobs_given) {
        fprintf(err, "dfusim run: --mpi and -j do not go together: with --mpi, `mpirun -n R` "
                     "starts the processes (docs/mpi.md)\n");
        return SIM_EXIT_USAGE;
    }
    if (o->pcap != NULL) {
        fprintf(err, "dfusim run: --mpi and --pcap do not go together: a capture is of one run "
                     "in one process\n");
        return SIM_EXIT_USAGE;
    }
    if (!cli_mpi_built()) {
        fprintf(err, "dfusim run: --mpi: this dfusim was built without MPI; install Open MPI "
                     "(libopenmpi-dev, openmpi-bin) and rebuild with cmake -DDFUSIM_MPI=ON "
                     "(docs/mpi.md)\n");
        return SIM_EXIT_USAGE;
    }
    return 0;
}

/* Returns 0 to run, HELP_SHOWN, or an exit code after printing why. */
static int parse_options(int argc, char **argv, struct run_options *o, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"seed", required_argument, NULL, 'S'},
        {"set", required_argument, NULL, 's'},    {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {"jobs", required_argument, NULL, 'j'},
        {"json", required_argument, NULL, 'J'},   {"kconfig-verbose", no_argument, NULL, 'K'},
        {"pcap", required_argument, NULL, 'P'},   {"pcap-devices", required_argument, NULL, 'D'},
        {"mpi", no_argument, NULL, 'M'},          {NULL, 0, NULL, 0},
    };
    /* argc + 1 bounds the overrides: each takes at least one argv entry. */
    o->overrides = calloc((size_t)argc + 1, sizeof(*o->overrides));
    if (o->overrides == NULL)
        return SIM_EXIT_INTERNAL;
    optind = 0; /* GNU: restart scanning, so cli_main can run several times per process */
    opterr = 0;
    int c;
    o->jobs = 1;
    while ((c = getopt_long(argc, argv, ":o:s:j:qh", longopts, NULL)) != -1) {
        char *end;
        unsigned long jobs;
        switch (c) {
        case 'j':
            jobs = strtoul(optarg, &end, 10);
            if (end == optarg || *end != '\0' || jobs < 1 || jobs > CLI_RUN_MAX_JOBS) {
                fprintf(err, "dfusim run: -j %s: expected a number of jobs, 1..%d\n", optarg,
                        CLI_RUN_MAX_JOBS);
                return SIM_EXIT_USAGE;
            }
            o->jobs = (unsigned)jobs;
            o->jobs_given = true;
            break;
        case 'M':
            o->mpi = true;
            break;
        case 'o':
            o->output = optarg;
            break;
        case 'J':
            o->json = optarg;
            break;
        case 'P':
            o->pcap = optarg;
            break;
        case 'D':
            o->pcap_devices = optarg;
            break;
        case 'S':
            snprintf(o->seed_override, sizeof(o->seed_override), "seed=%s", optarg);
            break;
        case 's':
            o->overrides[o->n_overrides++] = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'K':
            o->kconfig_verbose = true;
            break;
        case 'h':
            fputs(run_usage, out);
            return HELP_SHOWN;
        default:
            return cli_option_error(err, "run", c, argv);
        }
    }
    if (o->seed_override[0] != '\0')
        o->overrides[o->n_overrides++] = o->seed_override; /* last, so it wins */
    if (argc - optind != 1) {
        fprintf(err,
                "dfusim run: expected exactly one SCENARIO file, got %d (see dfusim run "
                "--help)\n",
                argc - optind);
        return SIM_EXIT_USAGE;
    }
    o->scenario_path = argv[optind];
    if (o->pcap_devices != NULL && o->pcap == NULL) {
        fprintf(err, "dfusim run: --pcap-devices needs --pcap FILE\n");
        return SIM_EXIT_USAGE;
    }
    return o->mpi ? check_mpi_options(o, err) : 0;
}

struct param_sink {
    struct recorder *rec;
    int err; /* first recorder error; the visitor itself cannot fail */
};

static void record_param(void *ctx, const char *key, const char *value)
{
    struct param_sink *sink = ctx;
    if (sink->err == 0)
        sink->err = recorder_param(sink->rec, key, value);
}

/* Settings, groups: what the database needs to reproduce and regroup the run. */
int cli_record_setup(struct recorder *rec, const struct scenario *s)
{
    struct param_sink sink = {rec, 0};
    scenario_visit(s, record_param, &sink);
    if (sink.err != 0)
        return sink.err;
    const struct fleet_settings *fs = fleet_settings_of(s);
    for (size_t g = 0; g < fs->n_groups; g++) {
        const struct fleet_group_settings *gs = &fs->groups[g];
        const struct recorder_group row = {
            .group_id = (uint32_t)g,
            .name = gs->name,
            .board = flash_map_board_names[gs->board],
            .bootloader = mcuboot_slots_mode_names[gs->bootloader],
            .count = gs->count,
        };
        int err = recorder_group_emit(rec, &row);
        if (err != 0)
            return err;
    }
    return 0;
}

/* results/NAME.db, creating results/ when it is missing. */
static int default_output(const struct scenario *s, char *buf, size_t n, FILE *err)
{
    if (mkdir("results", 0777) != 0 && errno != EEXIST) {
        fprintf(err, "dfusim run: cannot create folder 'results': %s (use -o FILE)\n",
                strerror(errno));
        return SIM_EXIT_USAGE;
    }
    snprintf(buf, n, "results/%s.db", s->name);
    return 0;
}

static const char *stop_name(enum sim_stop why)
{
    switch (why) {
    case SIM_STOP_EMPTY:
        return "no event left";
    case SIM_STOP_LIMIT:
        return "time limit";
    case SIM_STOP_REQUESTED:
        return "stopped by the model";
    case SIM_STOP_INTERRUPTED:
        return "interrupted";
    }
    return "?";
}

/* Per device group of every sweep point, the headline metrics of report/summary.h (their
 * one implementation), read back from the database the run wrote; with replications, the
 * means across them. Never a mean across groups: boards and modes stay apart. */
static void print_group_lines(FILE *out, FILE *err, const char *db_path)
{
    struct report_summary *sum = NULL;
    char msg[512];
    if (report_summary_load(db_path, NULL, &sum, msg, sizeof(msg)) != 0) {
        fprintf(err, "dfusim run: cannot summarise: %s\n", msg);
        return;
    }
    size_t point = SIZE_MAX;
    for (size_t i = 0; i < sum->n_rows; i++) {
        const struct report_row *r = &sum->rows[i];
        const double *m = r->mean;
        if (sum->n_points > 1 && r->point_index != point)
            fprintf(out, "  point %zu (%s), %zu run%s:\n", r->point_index + 1, r->point, r->n_runs,
                    r->n_runs == 1 ? "" : "s");
        point = r->point_index;
        char ttu[48], swap[48], down[48], t100[48], goodput[32] = "-";
        if (isfinite(m[REPORT_GOODPUT_MEAN]))
            snprintf(goodput, sizeof(goodput), "%.1f kB/s", m[REPORT_GOODPUT_MEAN]);
        fprintf(out,
                "  group %s (%s, %s): %.0f devices, %.0f updated, %.0f reverted, %.0f failed\n"
                "    per device: time to updated %s, %.2f attempts, downtime %s;"
                " goodput %s; swap %s; all updated at %s\n",
                r->group, r->board, r->bootloader, m[REPORT_DEVICES], m[REPORT_UPDATED],
                m[REPORT_REVERTED], m[REPORT_FAILED],
                report_fmt_duration(m[REPORT_TTU_MEAN], ttu, sizeof(ttu)), m[REPORT_ATTEMPTS_MEAN],
                report_fmt_duration(m[REPORT_DOWNTIME_MEAN], down, sizeof(down)), goodput,
                report_fmt_duration(m[REPORT_SWAP_MEAN], swap, sizeof(swap)),
                report_fmt_duration(m[REPORT_T100], t100, sizeof(t100)));
    }
    report_summary_free(sum);
}

static void print_summary(FILE *out, FILE *err, const struct scenario *s, const char *db_path,
                          const char *written, const struct fleet_world_stats *st,
                          const struct sim_engine *e, uint64_t events, bool split,
                          enum sim_stop why, double wall)
{
    char now[48];
    cli_format_time(now, sizeof(now), sim_engine_now(e));
    fprintf(out, "dfusim run: %s (model %s, client %s, seed %llu)\n", s->name,
            FLEET_WORLD_MODEL_NAME,
            client_dfu_kind_name((enum client_dfu_kind)fleet_settings_of(s)->client.kind),
            (unsigned long long)s->seed);
    fprintf(out,
            "  devices   %llu: %llu updated, %llu reverted, %llu failed, %llu not finished"
            " (%llu attempts)\n",
            (unsigned long long)st->devices, (unsigned long long)st->updated,
            (unsigned long long)st->reverted, (unsigned long long)st->failed + st->dead,
            (unsigned long long)st->pending, (unsigned long long)st->attempts);
    print_group_lines(out, err, written);
    if (st->last_updated_ns > 0) {
        char last[48];
        cli_format_time(last, sizeof(last), st->last_updated_ns);
        fprintf(out, "  fleet     last device updated at %s\n", last);
    }
    if (st->rollout_state != NULL)
        fprintf(out, "  rollout   %s: %u wave%s opened, %u devices started, %u errors\n",
                st->rollout_state, st->waves_opened, st->waves_opened == 1 ? "" : "s", st->started,
                st->rollout_errors);
    if (st->gateways > 0)
        fprintf(out, "  gateways  %u: %u sessions, at most %u links busy on one\n", st->gateways,
                st->gateway_sessions, st->gateway_max_active);
    char refused[300];
    if (fleet_world_image_refused(s, refused, sizeof(refused)))
        fprintf(out, "  image     the devices' MCUboot refuses it: %s\n", refused);
    fprintf(out, "  sim time  %s (%s)\n", now, stop_name(why));
    fprintf(out, "  events    %llu in %.2f s wall (%.0f events/s", (unsigned long long)events, wall,
            wall > 0 ? (double)events / wall : 0.0);
    if (!split) /* a split run's ranks continue different events inline */
        fprintf(out, "; %llu of them continued inline",
                (unsigned long long)sim_engine_events_inline(e));
    fprintf(out, ")\n");
    fprintf(out, "  results   %s\n", db_path);
}

/* One run of a sweep: which point and replication, and what to say when it ends. */
struct run_slot {
    size_t index, n_runs; /* run order: points outer, replications inner */
    uint32_t replication;
    bool progress;   /* a progress line on a terminal */
    char *line;      /* multi-run: the one-line summary goes here instead of the full one */
    size_t line_len; /* its size */
    const struct run_hook *hook; /* NULL: none */
    const struct run_part *part; /* NULL: the whole run in this process */
};

/* "client.window=3, devices.a.count=2": the swept values of s's point. */
static void format_point(char *buf, size_t n, const struct scenario *s)
{
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < s->n_sweep && o < n; i++) {
        const struct scenario_sweep *w = &s->sweep[i];
        o += (size_t)snprintf(buf + o, n - o, "%s%s=%s", i ? ", " : "", w->key,
                              w->values[scenario_sweep_index(s, s->point, i)]);
    }
}

/* "run 3/8 point 1 (client.window=4) replication 0 seed 77: 5 devices, ...". */
static void format_run_line(const struct run_slot *slot, const struct scenario *s,
                            const struct fleet_world_stats *st, const struct sim_engine *e,
                            enum sim_stop why)
{
    char point[512] = "", last[48] = "-";
    format_point(point, sizeof(point), s);
    if (st->last_updated_ns > 0)
        cli_format_time(last, sizeof(last), st->last_updated_ns);
    char now[48];
    cli_format_time(now, sizeof(now), sim_engine_now(e));
    snprintf(slot->line, slot->line_len,
             "  run %zu/%zu  point %zu%s%s%s replication %u seed %llu: %llu devices, %llu "
             "updated, %llu reverted, %llu failed, %llu not finished; last updated %s; sim time "
             "%s (%s)\n",
             slot->index + 1, slot->n_runs, s->point + 1, point[0] ? " (" : "", point,
             point[0] ? ")" : "", slot->replication + 1, (unsigned long long)s->seed,
             (unsigned long long)st->devices, (unsigned long long)st->updated,
             (unsigned long long)st->reverted, (unsigned long long)st->failed + st->dead,
             (unsigned long long)st->pending, last, now, stop_name(why));
}

/* The engine's progress callback: the progress line, then the slot's hook. */
struct progress_and_hook {
    struct cli_progress progress;
    const struct run_hook *hook;
};

static void on_progress(void *ctx, const struct sim_engine *e)
{
    struct progress_and_hook *ph = ctx;
    cli_progress_update(&ph->progress, e);
    if (ph->hook != NULL)
        ph->hook->fn(ph->hook->ctx);
}

/* Run the loaded scenario (s->seed already the replication's) into rec. Returns an exit
 * code. */
static int simulate(const struct scenario *s, struct recorder *rec, const char *db_path,
                    const struct run_options *o, const struct run_slot *slot, FILE *out, FILE *err)
{
    const struct recorder_run info = {
        .scenario_name = s->name,
        .scenario_path = s->path,
        .scenario_text = s->text,
        .scenario_len = s->text_len,
        .model = FLEET_WORLD_MODEL_NAME,
        .seed = s->seed,
        .replication = slot->replication + 1, /* every output counts from 1 */
        .sweep_point = (uint32_t)s->point + 1,
        .level = (enum recorder_level)s->record,
    };
    struct sim_engine *e = NULL;
    struct fleet_world *w = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    int code = SIM_EXIT_INTERNAL;
    const char *failure = "internal failure";
    /* Stop signals are caught by cli_run for the whole command; one that arrives while
     * the world is built stops the engine before its first event. */
    int rc = recorder_run_begin(rec, &info, NULL);
    if (rc == 0)
        rc = cli_record_setup(rec, s);
    if (rc != 0) {
        failure = "could not write to the results database";
        goto fail;
    }
    e = sim_engine_new(0);
    const struct run_part *part = slot->part;
    /* A capture wants its devices' events in time order: one engine, no blocks. */
    const struct fleet_world_layout layout = {part != NULL ? part->part : 0,
                                              part != NULL ? part->n_parts : 1,
                                              o->pcap != NULL ? FLEET_WORLD_BLOCKS_OFF : 0};
    rc = e == NULL ? SIM_ENOMEM : fleet_world_from_scenario_layout(s, e, rec, &layout, &w, &diag);
    if (part != NULL && !part->agree(part->ctx, rc == 0) && rc == 0) {
        rc = SIM_EINTR;
        sim_diag_add(&diag, "another rank could not build its part of the world");
    }
    if (rc != 0) {
        fputs(diag.text, err);
        failure = rc == SIM_ENOMEM ? "out of memory building the world" : "cannot build the world";
        goto fail;
    }
    struct cli_capture *cap = NULL;
    if (o->pcap != NULL &&
        (code = cli_capture_open(w, "run", o->pcap, o->pcap_devices, false, &cap, err)) != 0) {
        (void)recorder_run_end(rec, RECORDER_FAILED, "bad --pcap", 0, 0);
        fleet_world_free(w);
        sim_engine_free(e);
        return code;
    }

    struct progress_and_hook progress = {.hook = slot->hook};
    cli_progress_init(&progress.progress, err, s->name, s->until,
                      slot->progress && !o->quiet && isatty(fileno(err)));
    sim_engine_set_progress(e, on_progress, &progress, 1u << 16);
    sim_engine_set_interrupt(e, &run_interrupt_flag);
    double wall0 = cli_wall_seconds();
    enum sim_stop why;
    rc = fleet_world_run(w, s->until, part != NULL ? part->sync : NULL, &why);
    struct fleet_world_stats part_st; /* a part's summary counts the whole fleet */
    uint64_t events = sim_engine_events_handled(e);
    if (part != NULL) {
        fleet_world_stats(w, &part_st);
        part->sum(part->ctx, &part_st, &events);
    }
    double wall = cli_wall_seconds() - wall0;
    cli_progress_done(&progress.progress);

    if (rc == 0)
        rc = fleet_world_error(w);
    int cap_code = cli_capture_close(cap, rc == 0, err); /* an interrupted run keeps its own */
    if (rc == 0 && why != SIM_STOP_INTERRUPTED)
        rc = fleet_world_finish(w);
    if (rc != 0) {
        failure = "could not write to the results database";
        goto fail;
    }
    if (part != NULL && part->merge != NULL && (code = part->merge(part->ctx, rec, err)) != 0) {
        (void)recorder_run_end(rec, RECORDER_FAILED, "the other ranks' rows are missing",
                               sim_engine_now(e), sim_engine_events_handled(e));
        fleet_world_free(w);
        sim_engine_free(e);
        return code;
    }
    /* With an epoch the fleet may be split: rows in the order every split gives. */
    if (fleet_world_epoch(w) > 0 && (rc = recorder_run_canonical(rec)) != 0) {
        failure = "could not write to the results database";
        goto fail;
    }
    enum recorder_status status =
        why == SIM_STOP_INTERRUPTED ? RECORDER_INTERRUPTED : RECORDER_COMPLETE;
    rc = recorder_run_end(
        rec, status, why == SIM_STOP_INTERRUPTED ? signal_name(run_interrupt_flag) : stop_name(why),
        sim_engine_now(e), events);
    if (rc != 0) {
        failure = "could not finish the results database";
        goto fail;
    }
    if (why == SIM_STOP_INTERRUPTED) {
        char now[48];
        cli_format_time(now, sizeof(now), sim_engine_now(e));
        fprintf(err, "dfusim run: %s at simulated time %s; the run is recorded as 'interrupted'\n",
                signal_name(run_interrupt_flag), now);
        code = CLI_EXIT_INTERRUPTED;
    } else {
        if (!o->quiet || slot->line != NULL) {
            struct fleet_world_stats st;
            if (part != NULL)
                st = part_st;
            else
                fleet_world_stats(w, &st);
            if (slot->line != NULL)
                format_run_line(slot, s, &st, e, why);
            else
                print_summary(out, err, s, db_path, recorder_path(rec), &st, e, events,
                              part != NULL, why, wall);
        }
        code = cap_code;
    }
    fleet_world_free(w);
    sim_engine_free(e);
    return code;
fail:
    fprintf(err, "dfusim run: %s: %s (%s)%s%s\n", db_path, failure, sim_err_str(rc),
            recorder_error(rec)[0] ? ": " : "", recorder_error(rec));
    (void)recorder_run_end(rec, RECORDER_FAILED, failure, e ? sim_engine_now(e) : 0,
                           e ? sim_engine_events_handled(e) : 0);
    fleet_world_free(w);
    sim_engine_free(e);
    /* The results cannot be written (disk full, file too large, I/O error): a problem of
     * the output, like an unwritable -o, not a dfusim bug (README "Exit codes"). */
    return rc == SIM_EIO ? SIM_EXIT_USAGE : SIM_EXIT_INTERNAL;
}

/* The scenario of every sweep point, each checked for the world: all or nothing before
 * the first run. Returns 0 or an exit code after printing why. */
int run_load_points(const struct scenario *s0, const struct run_options *o,
                    struct scenario **points, FILE *err)
{
    struct sim_diag diag;
    sim_diag_init(&diag);
    *points = calloc(s0->n_points, sizeof(**points));
    if (*points == NULL)
        return SIM_EXIT_INTERNAL;
    for (size_t p = 1; p < s0->n_points; p++) {
        if (scenario_load_point(s0->path, &fleet_settings_schema, s0->text, s0->text_len,
                                o->overrides, o->n_overrides, p, &(*points)[p], &diag) != 0 ||
            fleet_world_check(&(*points)[p], &diag) != 0) {
            fprintf(err, "dfusim run: sweep point %zu:\n", p + 1);
            fputs(diag.text, err);
            return SIM_EXIT_USAGE;
        }
    }
    return 0;
}

/* Worse of two exit codes: interrupted > internal > usage > ok. */
int run_worse(int a, int b)
{
    static const int rank[] = {SIM_EXIT_OK, SIM_EXIT_USAGE, SIM_EXIT_INTERNAL,
                               CLI_EXIT_INTERRUPTED};
    int ra = 0, rb = 0;
    for (int i = 0; i < 4; i++) {
        ra = rank[i] == a ? i : ra;
        rb = rank[i] == b ? i : rb;
    }
    return ra >= rb ? a : b;
}

int run_fleet_part(struct scenario *s, struct recorder *rec, const char *db_path,
                   const struct run_options *o, const struct run_part *part, FILE *out, FILE *err)
{
    const struct run_slot slot = {.n_runs = 1, .progress = part->part == 0, .part = part};
    return simulate(s, rec, db_path, o, &slot, out, err);
}

/* Run k of the sweep in this process, into rec; hook may be NULL. */
int run_one(struct scenario *s, uint32_t r, size_t k, size_t n_runs, struct recorder *rec,
            const char *db_path, const struct run_options *o, char *line, size_t line_len,
            const struct run_hook *hook, FILE *out, FILE *err)
{
    const uint64_t seed = s->seed;
    struct run_slot slot = {.index = k,
                            .n_runs = n_runs,
                            .replication = r,
                            .progress = o->jobs == 1 && !o->mpi,
                            .line = line,
                            .line_len = line_len,
                            .hook = hook};
    s->seed = scenario_replication_seed(seed, r);
    int code = simulate(s, rec, db_path, o, &slot, out, err);
    s->seed = seed;
    return code;
}

static int meta_count(struct recorder *rec, const char *key, size_t n)
{
    char v[32];
    snprintf(v, sizeof(v), "%zu", n);
    return recorder_meta_set(rec, key, v);
}

/* One run ended with code: count it and record the count. */
int run_counted(struct sweep *sw, int code)
{
    if (code != SIM_EXIT_OK)
        return code;
    sw->finished++;
    if (meta_count(sw->rec, "runs_finished", sw->finished) != 0)
        return SIM_EXIT_USAGE; /* the database cannot be written */
    return code;
}

/* A child process of -j: one run into its own database, its summary line down a pipe. */
struct child {
    pid_t pid;
    int fd;     /* read end of its pipe; -1 when not running */
    size_t run; /* which run */
    char part[OUTFILE_PATH_MAX + 64];
};

static void start_child(struct child *c, struct scenario *s, uint32_t r, size_t k, size_t n_runs,
                        const struct sweep *sw, const struct run_options *o, FILE *err)
{
    int fds[2];
    c->run = k;
    c->fd = -1;
    snprintf(c->part, sizeof(c->part), "%s.run%zu.part", sw->part_base, k);
    if (pipe(fds) != 0)
        return;
    fflush(NULL);
    const pid_t parent = getpid();
    c->pid = fork();
    if (c->pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (c->pid == 0) {
        /* Die with the parent: a worker whose parent was killed has no one to import its
         * run. getppid() closes the race of a parent that died before prctl(). */
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
            _exit(SIM_EXIT_INTERNAL);
        close(fds[0]);
        struct sim_diag diag;
        struct recorder *rec = NULL;
        char line[1024] = "";
        sim_diag_init(&diag);
        int code = SIM_EXIT_USAGE;
        if (recorder_open(c->part, &rec, &diag) == 0)
            code = run_one(s, r, k, n_runs, rec, sw->db_path, o, line, sizeof(line), NULL, stdout,
                           err);
        else
            fputs(diag.text, err);
        recorder_close(rec);
        fflush(NULL);
        /* a line fits in a pipe's buffer (PIPE_BUF >= 512 is atomic; 1 KiB never blocks) */
        if (write(fds[1], line, strlen(line)) < 0)
            code = SIM_EXIT_INTERNAL;
        _exit(code);
    }
    close(fds[1]);
    c->fd = fds[0];
}

/* A stop signal sent to the parent alone (kill, not a terminal's Ctrl-C, which reaches the
 * whole process group) is passed on to the running children, once. */
static void forward_interrupt(struct child *kids, unsigned n, bool *forwarded)
{
    if (!run_interrupt_flag || *forwarded)
        return;
    *forwarded = true;
    for (unsigned i = 0; i < n; i++)
        if (kids[i].fd >= 0)
            (void)kill(kids[i].pid, run_interrupt_flag); /* the same signal, recorded as such */
}

/* Wait for child c, import its database into rec, print its line. Returns an exit code. */
static int finish_child(struct child *c, struct child *kids, unsigned n_kids, bool *forwarded,
                        struct sweep *sw, const struct run_options *o, FILE *out, FILE *err)
{
    if (c->fd < 0) {
        fprintf(err, "dfusim run: cannot start run %zu: %s\n", c->run + 1, strerror(errno));
        outfile_remove_db(c->part);
        return SIM_EXIT_INTERNAL;
    }
    char line[1024];
    size_t n = 0;
    ssize_t got;
    while (n < sizeof(line) - 1 && (got = read(c->fd, line + n, sizeof(line) - 1 - n)) != 0) {
        if (got < 0 && errno == EINTR) {
            forward_interrupt(kids, n_kids, forwarded);
            continue;
        }
        if (got < 0)
            break;
        n += (size_t)got;
    }
    line[n] = '\0';
    close(c->fd);
    c->fd = -1;
    int status = 0;
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : SIM_EXIT_INTERNAL;
    if (access(c->part, F_OK) == 0 && recorder_import(sw->rec, c->part) != 0) {
        fprintf(err, "dfusim run: cannot copy run %zu into the results database: %s\n", c->run + 1,
                recorder_error(sw->rec));
        code = run_worse(code, SIM_EXIT_USAGE);
    }
    outfile_remove_db(c->part);
    if (!o->quiet)
        fputs(line, out);
    return run_counted(sw, code);
}

/* Every (point, replication) in run order, up to o->jobs at once. Children are finished
 * (and imported) in run order, so the database is that of -j 1. */
static int run_parallel(struct scenario *points, uint32_t reps, struct sweep *sw,
                        const struct run_options *o, FILE *out, FILE *err)
{
    struct child kids[CLI_RUN_MAX_JOBS];
    for (unsigned i = 0; i < CLI_RUN_MAX_JOBS; i++)
        kids[i].fd = -1;
    bool forwarded = false;
    size_t done = 0;
    int code = SIM_EXIT_OK;
    /* Ctrl-C reaches the children (same process group), which record 'interrupted'; the
     * parent stops starting runs and imports what they wrote. */
    while (done < sw->planned) {
        while (sw->started < sw->planned && sw->started - done < o->jobs && !run_interrupt_flag) {
            struct child *c = &kids[sw->started % o->jobs];
            start_child(c, &points[sw->started / reps], (uint32_t)(sw->started % reps), sw->started,
                        sw->planned, sw, o, err);
            sw->started++;
        }
        if (done == sw->started)
            break; /* interrupted before the next start */
        forward_interrupt(kids, o->jobs, &forwarded);
        code = run_worse(
            code, finish_child(&kids[done % o->jobs], kids, o->jobs, &forwarded, sw, o, out, err));
        done++;
    }
    if (run_interrupt_flag)
        code = CLI_EXIT_INTERRUPTED;
    return code;
}

/* Every run of a sweep or of replications, then a final line that says what ran. */
static int run_all(struct scenario *points, struct sweep *sw, const struct run_options *o,
                   struct mpi_job *mj, FILE *out, FILE *err)
{
    const uint32_t reps = points[0].replications;
    double wall0 = cli_wall_seconds();
    int code = SIM_EXIT_OK;
    if (mj->on) {
        code = run_mpi(points, reps, sw, o, mj, out, err);
    } else if (o->jobs > 1) {
        code = run_parallel(points, reps, sw, o, out, err);
    } else {
        for (size_t k = 0; k < sw->planned && code != CLI_EXIT_INTERRUPTED && !run_interrupt_flag;
             k++) {
            char line[1024] = "";
            sw->started++;
            int one = run_one(&points[k / reps], (uint32_t)(k % reps), k, sw->planned, sw->rec,
                              sw->db_path, o, line, sizeof(line), NULL, out, err);
            code = run_worse(code, run_counted(sw, one));
            if (!o->quiet)
                fputs(line, out);
        }
        if (run_interrupt_flag)
            code = run_worse(code, CLI_EXIT_INTERRUPTED);
    }
    if (o->quiet)
        return code;
    if (code != CLI_EXIT_INTERRUPTED)
        print_group_lines(out, err, recorder_path(sw->rec));
    if (sw->finished == sw->planned)
        fprintf(out,
                "dfusim run: %s: %zu runs (%zu sweep points x %u replications) in %.2f s "
                "wall; results %s\n",
                points[0].name, sw->planned, points[0].n_points, reps, cli_wall_seconds() - wall0,
                sw->db_path);
    else
        fprintf(out,
                "dfusim run: %s: %zu of %zu runs finished (%zu started, %zu not started; %zu "
                "sweep points x %u replications) in %.2f s wall; the sweep is incomplete\n",
                points[0].name, sw->finished, sw->planned, sw->started, sw->planned - sw->started,
                points[0].n_points, reps, cli_wall_seconds() - wall0);
    return code;
}

/* After the runs: put the temporary database where it belongs, or remove it. A complete
 * command replaces the destination; an interrupted one too when the destination held no
 * database, else it goes to DEST.interrupted so that the older results stay as they were;
 * a failed one leaves everything as it was. Returns the exit code. */
static int finish_output(struct outfile *of, int code, FILE *err)
{
    struct sim_diag diag;
    sim_diag_init(&diag);
    if (code != SIM_EXIT_OK && code != CLI_EXIT_INTERRUPTED) {
        outfile_discard(of);
        if (code == SIM_EXIT_USAGE || code == SIM_EXIT_INTERNAL)
            fprintf(err, "dfusim run: no results written; %s is as it was\n", of->dest);
        return code;
    }
    char to[OUTFILE_PATH_MAX + 16];
    snprintf(to, sizeof(to), "%s", of->dest);
    if (code == CLI_EXIT_INTERRUPTED && of->existed) {
        snprintf(to, sizeof(to), "%s.interrupted", of->dest);
        struct stat st;
        char why[160];
        if (lstat(to, &st) == 0 &&
            (!S_ISREG(st.st_mode) ||
             (st.st_size > 0 && !outfile_is_results_db(to, why, sizeof(why))))) {
            fprintf(err,
                    "dfusim run: %s exists and is not a results database: the partial "
                    "results are not kept; %s is as it was\n",
                    to, of->dest);
            outfile_discard(of);
            return code;
        }
    }
    if (outfile_commit(of, to, &diag) != 0) {
        fputs(diag.text, err);
        return run_worse(code, SIM_EXIT_USAGE);
    }
    if (code == CLI_EXIT_INTERRUPTED)
        fprintf(err, "dfusim run: the partial results (status 'interrupted') are in %s%s%s%s\n", to,
                of->existed ? "; " : "", of->existed ? of->dest : "",
                of->existed ? " still holds the previous results" : "");
    return code;
}

/* --json: the summary of the database the runs wrote, read back by report/summary.c. */
static int write_json(const char *db_path, const char *path, FILE *out, FILE *err)
{
    struct report_summary *sum = NULL;
    char msg[512];
    if (report_summary_load(db_path, NULL, &sum, msg, sizeof(msg)) != 0) {
        fprintf(err, "dfusim run: --json: %s\n", msg);
        return SIM_EXIT_INTERNAL;
    }
    FILE *f = cli_output_open("run", path, out, err);
    int code = f == NULL
                   ? SIM_EXIT_USAGE
                   : cli_output_close("run", path, f, out, report_summary_write_json(sum, f), err);
    report_summary_free(sum);
    return code;
}

int cli_run(int argc, char **argv, FILE *out, FILE *err)
{
    struct run_options o = {0};
    struct scenario s = {0};
    struct recorder *rec = NULL;
    struct scenario *points = NULL; /* every sweep point; [0] is s */
    struct sim_diag diag;
    struct outfile of = {0};
    struct sigaction old_sa[N_STOP_SIGNALS];
    char db_path[OUTFILE_PATH_MAX];
    struct mpi_job mj = {0};
    FILE *sink = NULL; /* --mpi, a worker rank: where its output goes */
    if (run_mpi_asked(argc, argv) && run_mpi_launcher_rank() > 0 &&
        (sink = fopen("/dev/null", "w")) != NULL)
        out = err = sink;
    /* From here to the end, a stop signal ends the command through its normal path, which
     * removes or keeps the temporary database (never left behind). */
    run_interrupt_flag = 0;
    catch_stop_signals(old_sa);
    int code = parse_options(argc, argv, &o, out, err);
    if (code != 0) {
        code = code == HELP_SHOWN ? SIM_EXIT_OK : code;
        goto done;
    }
    if (o.mpi && (code = run_mpi_begin(&mj, &out, &err, &sink)) != 0)
        goto done;
    if (mj.on && mj.rank != 0) {
        code = run_mpi_worker(&o, sink);
        goto done;
    }
    sim_diag_init(&diag);
    if (scenario_load(o.scenario_path, &fleet_settings_schema, o.overrides, o.n_overrides, &s,
                      &diag) != 0 ||
        fleet_world_check(&s, &diag) != 0) {
        fputs(diag.text, err);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    if (!o.quiet)
        cli_kconfig_notes(&s, o.kconfig_verbose, out);
    if (o.output != NULL)
        snprintf(db_path, sizeof(db_path), "%s", o.output);
    else if ((code = default_output(&s, db_path, sizeof(db_path), err)) != 0)
        goto done;
    /* --json must not land on the scenario or the results database */
    const char *inputs[] = {o.scenario_path, db_path};
    if (o.json != NULL &&
        (strcmp(o.json, db_path) == 0 ||
         cli_refuse_input_as_output("run", "--json", o.json, inputs, 2, NULL, err) != 0)) {
        if (strcmp(o.json, db_path) == 0)
            fprintf(err,
                    "dfusim run: --json %s: that is the results database; choose another "
                    "file\n",
                    o.json);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    if (o.pcap != NULL && (s.n_points > 1 || s.replications > 1)) {
        fprintf(err,
                "dfusim run: --pcap captures one run; %s makes %zu (sweep points x "
                "replications): pick one with --set\n",
                o.scenario_path, (size_t)s.n_points * s.replications);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    if (s.n_points > 1 || s.replications > 1) {
        if ((code = run_load_points(&s, &o, &points, err)) != 0)
            goto done;
        points[0] = s; /* borrowed: freed below as s */
    }
    if (outfile_db_begin(&of, db_path, &diag) != 0 || recorder_open(of.tmp, &rec, &diag) != 0) {
        fprintf(err, "dfusim run: %s", diag.text);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    struct sweep sw = {rec, of.dest, of.tmp, (size_t)s.n_points * s.replications, 0, 0};
    if (meta_count(rec, "runs_planned", sw.planned) != 0 ||
        meta_count(rec, "runs_finished", 0) != 0) {
        fprintf(err, "dfusim run: %s: cannot write the results database: %s\n", db_path,
                recorder_error(rec));
        code = SIM_EXIT_USAGE;
        goto done;
    }
    if (points == NULL) { /* one run: the full summary */
        const struct run_slot slot = {.n_runs = 1, .progress = true};
        if (mj.on && mj.n_ranks > 1 && run_mpi_fleet_splits(&s)) {
            sw.started = 1;
            code = run_counted(&sw, run_mpi_fleet(&s, rec, of.dest, of.tmp, &o, &mj, out, err));
            goto done;
        }
        if (mj.on && mj.n_ranks > 1) {
            (void)run_mpi_verdict(&mj, RUN_MPI_IDLE);
            if (!o.quiet)
                fprintf(err,
                        "dfusim run: --mpi: %s is one run (no sweep, no replications) without "
                        "a rollout epoch: rank 0 runs it, the other %d ranks have nothing to do "
                        "(set rollout.epoch to split its fleet, docs/mpi.md)\n",
                        o.scenario_path, mj.n_ranks - 1);
        }
        sw.started = 1;
        code = run_counted(&sw, simulate(&s, rec, of.dest, &o, &slot, out, err));
    } else {
        code = run_all(points, &sw, &o, &mj, out, err);
    }
done:
    if (points != NULL) {
        for (size_t p = 1; p < s.n_points; p++)
            scenario_fini(&points[p]);
        free(points);
    }
    recorder_close(rec);
    if (of.active)
        code = finish_output(&of, code, err);
    restore_stop_signals(old_sa);
    if (code == SIM_EXIT_OK && o.json != NULL)
        code = write_json(of.dest, o.json, out, err);
    scenario_fini(&s);
    free(o.overrides);
    if (mj.on)
        code = run_mpi_end(&mj, code);
    if (sink != NULL)
        fclose(sink);
    return code;
}
