/* sim/cli/run.c - `dfusim run`: scenario -> world -> engine -> results database. */
#include "models/fleet/world.h"
#include "sim/cli/cli.h"
#include "sim/cli/cli_int.h"
#include "sim/engine.h"
#include "sim/recorder.h"
#include "sim/scenario.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char run_usage[] =
    "Usage: dfusim run SCENARIO [OPTIONS]\n"
    "\n"
    "Run a scenario and record the results in a SQLite database.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE      results database (default results/NAME.db, NAME from the\n"
    "                         scenario); an existing file there is replaced\n"
    "      --seed N           random seed (same as --set seed=N)\n"
    "  -s, --set KEY=VALUE    override one scenario value, e.g. --set until=2h,\n"
    "                         --set devices.mice.count=500 (repeatable)\n"
    "  -q, --quiet            no progress line and no summary\n"
    "  -h, --help             show this help\n"
    "\n"
    "The same scenario and seed always give the same results. Progress (simulated time,\n"
    "events/s, ETA) is shown on stderr when it is a terminal. Ctrl-C stops the run; the\n"
    "database then records status 'interrupted' and the exit code is 130.\n";

/* The one static in the program: a signal handler can reach nothing else. */
static volatile sig_atomic_t interrupt_flag;

static void on_sigint(int sig)
{
    (void)sig;
    interrupt_flag = 1;
}

struct run_options {
    const char *scenario_path;
    const char *output;
    const char **overrides;
    size_t n_overrides;
    char seed_override[64];
    bool quiet;
};

#define HELP_SHOWN (-1) /* parse_options: --help was printed; exit 0 */

/* Returns 0 to run, HELP_SHOWN, or an exit code after printing why. */
static int parse_options(int argc, char **argv, struct run_options *o, FILE *out, FILE *err)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"seed", required_argument, NULL, 'S'},
        {"set", required_argument, NULL, 's'},    {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    /* argc + 1 bounds the overrides: each takes at least one argv entry. */
    o->overrides = calloc((size_t)argc + 1, sizeof(*o->overrides));
    if (o->overrides == NULL)
        return SIM_EXIT_INTERNAL;
    optind = 0; /* GNU: restart scanning, so cli_main can run several times per process */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":o:s:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o':
            o->output = optarg;
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
    return 0;
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
static int record_setup(struct recorder *rec, const struct scenario *s)
{
    struct param_sink sink = {rec, 0};
    scenario_visit(s, record_param, &sink);
    if (sink.err != 0)
        return sink.err;
    for (size_t g = 0; g < s->n_groups; g++) {
        const struct recorder_group row = {
            .group_id = (uint32_t)g,
            .name = s->groups[g].name,
            .board = scenario_board_name(s->groups[g].board),
            .bootloader = scenario_bootloader_name(s->groups[g].bootloader),
            .count = s->groups[g].count,
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

/* "12.9 s", or "12.9 s (0.4-37.5 s)" when devices differ. */
static void print_duration(FILE *out, const char *label, int64_t mean, int64_t lo, int64_t hi)
{
    if (mean <= 0) {
        fprintf(out, "  %-9s -\n", label);
        return;
    }
    fprintf(out, "  %-9s %.1f s", label, (double)mean / 1e9);
    if (hi - lo >= 50000000) /* 0.05 s: differs at the printed precision */
        fprintf(out, " mean (%.1f-%.1f s)", (double)lo / 1e9, (double)hi / 1e9);
    fputc('\n', out);
}

static void print_summary(FILE *out, const struct scenario *s, const char *db_path,
                          const struct fleet_world_stats *st, const struct sim_engine *e,
                          enum sim_stop why, double wall)
{
    char now[48];
    cli_format_time(now, sizeof(now), sim_engine_now(e));
    uint64_t events = sim_engine_events_run(e);
    fprintf(out, "dfusim run: %s (model %s, client %s, seed %llu)\n", s->name,
            FLEET_WORLD_MODEL_NAME, scenario_client_kind_name(s->client.kind),
            (unsigned long long)s->seed);
    fprintf(out,
            "  devices   %llu: %llu updated, %llu reverted, %llu failed, %llu not finished"
            " (%llu attempts)\n",
            (unsigned long long)st->devices, (unsigned long long)st->updated,
            (unsigned long long)st->reverted, (unsigned long long)st->failed + st->dead,
            (unsigned long long)st->pending, (unsigned long long)st->attempts);
    if (st->upload_bytes_per_s > 0) {
        fprintf(out, "  upload    %.1f kB/s (%.1f s for %llu bytes)",
                st->upload_bytes_per_s / 1000.0, (double)st->upload_ns_mean / 1e9,
                (unsigned long long)s->image.size);
        if (st->upload_bps_max - st->upload_bps_min >= 50.0)
            fprintf(out, ", mean of %.1f-%.1f kB/s", st->upload_bps_min / 1000.0,
                    st->upload_bps_max / 1000.0);
        fputc('\n', out);
    } else {
        fprintf(out, "  upload    -\n");
    }
    print_duration(out, "swap", st->swap_ns_mean, st->swap_min, st->swap_max);
    print_duration(out, "DFU", st->e2e_ns_mean, st->e2e_min, st->e2e_max);
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
    fprintf(out, "  sim time  %s (%s)\n", now, stop_name(why));
    fprintf(out, "  events    %llu in %.2f s wall (%.0f events/s)\n", (unsigned long long)events,
            wall, wall > 0 ? (double)events / wall : 0.0);
    fprintf(out, "  results   %s\n", db_path);
}

/* Run the loaded scenario into rec. Returns an exit code. */
static int simulate(const struct scenario *s, struct recorder *rec, const char *db_path,
                    const struct run_options *o, FILE *out, FILE *err)
{
    const struct recorder_run info = {
        .scenario_name = s->name,
        .scenario_path = s->path,
        .scenario_text = s->text,
        .scenario_len = s->text_len,
        .model = FLEET_WORLD_MODEL_NAME,
        .seed = s->seed,
        .replication = 0,
        .level = (enum recorder_level)s->record,
    };
    struct sim_engine *e = NULL;
    struct fleet_world *w = NULL;
    struct sim_diag diag;
    sim_diag_init(&diag);
    int code = SIM_EXIT_INTERNAL;
    const char *failure = "internal failure";
    /* SIGINT is caught from before the 'running' row exists until the run ends; one that
     * arrives while the world is built stops the engine before its first event. */
    interrupt_flag = 0;
    struct sigaction sa = {.sa_handler = on_sigint}, old_sa;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_sa);
    int rc = recorder_run_begin(rec, &info, NULL);
    if (rc == 0)
        rc = record_setup(rec, s);
    if (rc != 0) {
        failure = "could not write to the results database";
        goto fail;
    }
    e = sim_engine_new(0);
    rc = e == NULL ? SIM_ENOMEM : fleet_world_from_scenario(s, e, rec, &w, &diag);
    if (rc != 0) {
        fputs(diag.text, err);
        failure = rc == SIM_ENOMEM ? "out of memory building the world" : "cannot build the world";
        goto fail;
    }

    struct cli_progress progress;
    cli_progress_init(&progress, err, s->name, s->until, !o->quiet && isatty(fileno(err)));
    sim_engine_set_progress(e, cli_progress_update, &progress, 1u << 16);
    sim_engine_set_interrupt(e, &interrupt_flag);
    double wall0 = cli_wall_seconds();
    enum sim_stop why;
    rc = sim_engine_run(e, s->until, &why);
    double wall = cli_wall_seconds() - wall0;
    cli_progress_done(&progress);

    if (rc == 0)
        rc = fleet_world_error(w);
    if (rc == 0 && why != SIM_STOP_INTERRUPTED)
        rc = fleet_world_finish(w);
    if (rc != 0) {
        failure = "could not write to the results database";
        goto fail;
    }
    enum recorder_status status =
        why == SIM_STOP_INTERRUPTED ? RECORDER_INTERRUPTED : RECORDER_COMPLETE;
    rc = recorder_run_end(rec, status, why == SIM_STOP_INTERRUPTED ? "SIGINT" : stop_name(why),
                          sim_engine_now(e), sim_engine_events_run(e));
    if (rc != 0) {
        failure = "could not finish the results database";
        goto fail;
    }
    if (why == SIM_STOP_INTERRUPTED) {
        char now[48];
        cli_format_time(now, sizeof(now), sim_engine_now(e));
        fprintf(err,
                "dfusim run: interrupted at simulated time %s; %s records the run as "
                "'interrupted'\n",
                now, db_path);
        code = CLI_EXIT_INTERRUPTED;
    } else {
        if (!o->quiet) {
            struct fleet_world_stats st;
            fleet_world_stats(w, &st);
            print_summary(out, s, db_path, &st, e, why, wall);
        }
        code = SIM_EXIT_OK;
    }
    fleet_world_free(w);
    sim_engine_free(e);
    sigaction(SIGINT, &old_sa, NULL);
    return code;
fail:
    fprintf(err, "dfusim run: %s: %s (%s)%s%s\n", db_path, failure, sim_err_str(rc),
            recorder_error(rec)[0] ? ": " : "", recorder_error(rec));
    (void)recorder_run_end(rec, RECORDER_FAILED, failure, e ? sim_engine_now(e) : 0,
                           e ? sim_engine_events_run(e) : 0);
    fleet_world_free(w);
    sim_engine_free(e);
    sigaction(SIGINT, &old_sa, NULL);
    return SIM_EXIT_INTERNAL;
}

int cli_run(int argc, char **argv, FILE *out, FILE *err)
{
    struct run_options o = {0};
    struct scenario s = {0};
    struct recorder *rec = NULL;
    struct sim_diag diag;
    char db_path[4096];
    int code = parse_options(argc, argv, &o, out, err);
    if (code != 0) {
        code = code == HELP_SHOWN ? SIM_EXIT_OK : code;
        goto done;
    }
    sim_diag_init(&diag);
    if (scenario_load(o.scenario_path, o.overrides, o.n_overrides, &s, &diag) != 0 ||
        fleet_world_check(&s, &diag) != 0) {
        fputs(diag.text, err);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    if (o.output != NULL)
        snprintf(db_path, sizeof(db_path), "%s", o.output);
    else if ((code = default_output(&s, db_path, sizeof(db_path), err)) != 0)
        goto done;
    if (recorder_open(db_path, &rec, &diag) != 0) {
        fputs(diag.text, err);
        code = SIM_EXIT_USAGE;
        goto done;
    }
    code = simulate(&s, rec, db_path, &o, out, err);
done:
    recorder_close(rec);
    scenario_fini(&s);
    free(o.overrides);
    return code;
}
