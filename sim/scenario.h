/* sim/scenario.h - YAML scenario file -> validated, plain-data config.
 *
 * The loader parses YAML with libyaml, applies command-line overrides (--set key=value),
 * converts units ("7.5ms", "384KiB", "2%") and checks every key against a schema table.
 * Every problem is reported as
 *     FILE:LINE:COLUMN: key.path: what is wrong (what is allowed)
 * into a caller-supplied struct sim_diag; all problems of a file are reported, not just
 * the first. The run's own keys (name, seed, until, record, replications, sweeps, check)
 * are declared here; every other key is a model's, declared beside the model
 * (sim/scenario/settings.h) and reached through the models' root table the caller passes
 * (models/fleet/settings.h: fleet_settings_schema). The tables are also the scenario
 * reference (`dfusim keys`, docs/scenario-reference.md).
 *
 * Key paths in messages name list elements by index: devices[1].board (the group name may
 * be missing or wrong in the very element being reported). A problem that has no key, such
 * as an empty file, shows "-" as the path. Problems in a --set argument are located as
 * --set:N:COLUMN, N counting the arguments from 1, and name the key as it was typed.
 * Messages come sorted by position (the file first), at most 20, then a count of the rest.
 */
#ifndef SIM_SCENARIO_H
#define SIM_SCENARIO_H

#include "sim/error.h"
#include "sim/scenario/settings.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* How much the recorder writes (CONTRIBUTING.md rule 8). */
enum scenario_record { SCENARIO_RECORD_SUMMARY, SCENARIO_RECORD_ATTEMPTS, SCENARIO_RECORD_CHUNKS };

/* ---- sweeps and replications (docs/scenarios.md "Sweeps and replications"). */

enum scenario_sweep_mode {
    SCENARIO_SWEEP_GRID, /* every combination; the first parameter varies slowest */
    SCENARIO_SWEEP_LIST  /* point i takes the i-th value of every parameter */
};

/* One swept parameter: a --set key path and the values it takes, as --set takes them. */
struct scenario_sweep {
    char *key;
    size_t n_values;
    char **values;
    struct scenario_pos pos; /* the list element */
};

#define SCENARIO_SWEEP_MAX_POINTS 10000u /* points of one file; runs = points x replications */

/* ---- check: tolerances of `dfusim check` (docs/ci.md). The loader checks
 * units and bounds; sim/cli/check.c checks the metric names and reports them at `pos`. */
struct scenario_tolerance {
    char *metric;            /* a metric column of the baseline, e.g. "goodput_kBps_mean" */
    double rel;              /* fraction of the baseline value the metric may get worse by */
    double abs;              /* in the metric's unit; the larger of the two applies */
    struct scenario_pos pos; /* the list element */
};

struct scenario_check {
    bool present;
    struct scenario_pos at;
    size_t n_tolerances;
    struct scenario_tolerance *tolerances; /* metric names unique */
};

/* ---- measured: published figures a validation scenario reproduces (`dfusim calibration`,
 * sim/cli/calibration.c, which checks the metric and group names). */
struct scenario_measured {
    char *metric;            /* a summary metric column, e.g. "goodput_kBps_mean" */
    char *group;             /* the device group it is about; NULL: the first group */
    double value;            /* the published figure, in the metric's unit */
    double tolerance;        /* fraction: |simulated / value - 1| within it passes */
    char *source;            /* where it was published and the setup it states */
    char *known_gap;         /* why the model misses it today; NULL: it must pass */
    char *relative_to;       /* a second group: the figure is the ratio group / relative_to
                                of the metric; NULL: the metric itself */
    struct scenario_pos pos; /* the list element */
};

struct scenario {
    char *path; /* file it was loaded from, as given */
    char *text; /* the file's full text (recorded with its SHA-256) */
    size_t text_len;
    char *name;
    uint64_t seed;
    int64_t until; /* ns of simulated time */
    enum scenario_record record;
    const struct scenario_schema *models; /* the models' root table it was loaded with */
    void *model;        /* what that table bound (models/fleet: struct fleet_settings) */
    size_t n_overrides; /* the --set arguments that were applied, in order */
    char **overrides;
    uint32_t replications; /* runs per sweep point, 1..1000 */
    int sweep_mode;        /* enum scenario_sweep_mode */
    size_t n_sweep;        /* swept parameters; 0: no sweep */
    struct scenario_sweep *sweep;
    struct scenario_check check; /* not present: every metric at its default tolerance */
    size_t n_measured;
    struct scenario_measured *measured;
    size_t n_points; /* sweep points (1 without a sweep) */
    size_t point;    /* the point whose values this struct holds */
};

/* Load, override and validate, with `models` the models' root table (its keys sit at the
 * top level beside the run's; what it binds is s->model). overrides are "key.path=value" strings
 * (list elements with a unique key are addressed by it: devices.mice.count=10,
 * gateways.dock.links=8; any element by index: faults[0].share=5%). On success returns 0 and fills
 * *out (free with scenario_fini). On failure returns SIM_EINVAL (bad content), SIM_EIO or
 * SIM_ENOENT (file), SIM_ENOMEM; *out is left zeroed and diag says why. */
int scenario_load(const char *path, const struct scenario_schema *models,
                  const char *const *overrides, size_t n_overrides, struct scenario *out,
                  struct sim_diag *diag);
/* Same from text in memory; `path` names it in messages. */
int scenario_load_text(const char *path, const struct scenario_schema *models, const char *text,
                       size_t len, const char *const *overrides, size_t n_overrides,
                       struct scenario *out, struct sim_diag *diag);
void scenario_fini(struct scenario *s);

/* Sweeps: scenario_load and scenario_load_text check every sweep point (a bad key or value
 * is reported at the sweep entry, once) and return point 0, its values applied as --set
 * overrides after the real ones. scenario_load_point returns point `point` of the text
 * the first load read (s->text); it checks that point only. point >= n_points:
 * SIM_EINVAL with a message. */
int scenario_load_point(const char *path, const struct scenario_schema *models, const char *text,
                        size_t len, const char *const *overrides, size_t n_overrides, size_t point,
                        struct scenario *out, struct sim_diag *diag);
/* Index into s->sweep[param].values of the value that sweep point `point` takes. */
size_t scenario_sweep_index(const struct scenario *s, size_t point, size_t param);
/* The seed of replication r: the seed itself for r = 0 (a run without replications is
 * unchanged), else the first output of the keyed stream sim_rng_init(seed, r,
 * SIM_RNG_REPLICATION). */
uint64_t scenario_replication_seed(uint64_t seed, uint32_t r);

/* Visit every effective setting as (key path, value text), defaults included, in schema
 * order: what the recorder stores per run. List elements are named by group or name:
 * devices.mice.count, gateways.dock.links, else by index: faults[0].kind (as --set
 * addresses them). An absent rollout, keys that do not apply (a fault's keys of another
 * kind, a gateway's session keys without sessions) are not visited. A distribution is
 * visited as its text; a list of values as a flow list "[10%, 50]". Values are canonical
 * text that --set parses
 * back to the same value: durations and sizes as an integer in the largest unit that
 * divides them exactly ("24h", "90min", "7500us", "0s"; "384KiB", "1536B"), percentages
 * with up to 15 significant digits ("0.5%"), versions with the build ("2.0.0+0"). */
typedef void (*scenario_visit_fn)(void *ctx, const char *key, const char *value);
void scenario_visit(const struct scenario *s, scenario_visit_fn fn, void *ctx);

/* The name of a record level, for messages and records. */
const char *scenario_record_name(enum scenario_record r);
/* The k-th distribution name the loader accepts ("fixed", "uniform", ...), NULL past the
 * last: models/fleet/population.h's grammar, in enum fleet_population_kind order. */
const char *scenario_dist_kind_name(unsigned k);

/* Unit parsers, exposed for --set and tests. Return 0 or SIM_EINVAL/SIM_ERANGE.
 * Durations: integer or decimal with ns|us|ms|s|min|h ("7.5ms"); a bare number is an error.
 * Sizes: B|KiB|MiB or a plain integer (bytes). Percentages: "2%", "0.5%" -> 0.02, 0.005. */
int scenario_parse_duration(const char *text, int64_t *ns);
int scenario_parse_size(const char *text, uint64_t *bytes);
int scenario_parse_percent(const char *text, double *fraction);

/* The scenario reference, from the tables the loader binds with (the run's and `models`):
 * one line per key, or with markdown the Markdown of docs/scenario-reference.md. */
void scenario_reference_write(FILE *out, const struct scenario_schema *models, bool markdown);

#endif /* SIM_SCENARIO_H */
