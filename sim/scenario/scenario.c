/* sim/scenario/scenario.c - the run's own keys and the sim/scenario.h API.
 *
 * The tables below declare what every run has (name, seed, until, record, replications,
 * sweeps, check); the models' keys come from the table the caller passes, spliced in
 * after `record` (scenario_root_init). Defaults and bounds are written as a user would
 * write them.
 */
#include "sim/rng.h"
#include "sim/scenario/scenario_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const record_names[] = {"summary", "attempts", "chunks", NULL};

static const char *const sweep_mode_names[] = {"grid", "list", NULL};

static const struct scenario_field sweep_value_item = {
    .key = "value", .type = SCENARIO_T_STRING, .size = sizeof(char *)};

static const struct scenario_field sweep_fields[] = {
    {.key = "key",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct scenario_sweep, key),
     .flags = SCENARIO_F_REQUIRED,
     .doc = "a key path as --set takes it (devices.mice.count, client.window)"},
    {.key = "values",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct scenario_sweep, values),
     .count_offset = offsetof(struct scenario_sweep, n_values),
     .item = &sweep_value_item,
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .max = "10000", /* SCENARIO_SWEEP_MAX_POINTS */
     .doc = "the values it takes, each as --set would take it"},
};

static const struct scenario_schema sweep_schema = {
    .noun = "sweep parameter",
    .size = sizeof(struct scenario_sweep),
    .has_pos = true,
    .pos_offset = offsetof(struct scenario_sweep, pos),
    .n_fields = sizeof(sweep_fields) / sizeof(sweep_fields[0]),
    .fields = sweep_fields};

/* ---- check (sim/cli/check.c) ---------------------------------------------------------- */

static const struct scenario_field tolerance_fields[] = {
    {.key = "metric",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_tolerance, metric),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_UNIQUE,
     .doc = "a baseline metric (goodput_kBps_mean, time_to_updated_s_mean, ...)"},
    {.key = "rel",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_tolerance, rel),
     .def = "0%",
     .min = "0%",
     .doc = "how much worse than the baseline, relative to it"},
    {.key = "abs",
     .type = SCENARIO_T_NUMBER,
     SCENARIO_AT(struct scenario_tolerance, abs),
     .def = "0",
     .min = "0",
     .doc = "how much worse than the baseline, in the metric's unit"},
};

static const struct scenario_schema tolerance_schema = {
    .noun = "tolerance",
    .size = sizeof(struct scenario_tolerance),
    .has_pos = true,
    .pos_offset = offsetof(struct scenario_tolerance, pos),
    .n_fields = sizeof(tolerance_fields) / sizeof(tolerance_fields[0]),
    .fields = tolerance_fields};

static const struct scenario_field check_fields[] = {
    {.key = "tolerances",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario_check, tolerances),
     .count_offset = offsetof(struct scenario_check, n_tolerances),
     .sub = &tolerance_schema,
     .doc = "per metric, how much worse than the baseline still passes"},
};

static const struct scenario_schema check_schema = {.noun = "check",
                                                    .size = sizeof(struct scenario_check),
                                                    .n_fields = sizeof(check_fields) /
                                                                sizeof(check_fields[0]),
                                                    .fields = check_fields};

/* ---- measured (sim/cli/calibration.c) ------------------------------------------------------ */

static const struct scenario_field measured_fields[] = {
    {.key = "metric",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_measured, metric),
     .flags = SCENARIO_F_REQUIRED,
     .doc = "the summary metric the figure is (goodput_kBps_mean, swap_s_mean, ...)"},
    {.key = "group",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_measured, group),
     .doc = "the device group it is about; absent: the first"},
    {.key = "value",
     .type = SCENARIO_T_NUMBER,
     SCENARIO_AT(struct scenario_measured, value),
     .flags = SCENARIO_F_REQUIRED,
     .min = "0",
     .doc = "the published figure, in the metric's unit"},
    {.key = "tolerance",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_measured, tolerance),
     .def = "15%",
     .min = "0%",
     .max = "100%",
     .doc = "how far the simulated value may be from it, relative to it"},
    {.key = "source",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct scenario_measured, source),
     .flags = SCENARIO_F_REQUIRED,
     .doc = "where it was published (repository and PR or issue, page) and the setup it states"},
    {.key = "known_gap",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct scenario_measured, known_gap),
     .doc = "why the model misses it today (the figure is then reported, not failed); absent: "
            "it must pass"},
    {.key = "relative_to",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_measured, relative_to),
     .doc = "a second device group of the scenario: the figure is then the ratio of the metric, "
            "group / relative_to (e.g. window 3 over window 1 on one setup), and value is that "
            "ratio; absent: the metric itself"},
};

static const struct scenario_schema measured_schema = {
    .noun = "measured figure",
    .size = sizeof(struct scenario_measured),
    .has_pos = true,
    .pos_offset = offsetof(struct scenario_measured, pos),
    .n_fields = sizeof(measured_fields) / sizeof(measured_fields[0]),
    .fields = measured_fields};

static const struct scenario_field scenario_fields[] = {
    {.key = "name",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario, name),
     .flags = SCENARIO_F_REQUIRED,
     .doc = "scenario name; results go to results/NAME.db"},
    {.key = "seed",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario, seed),
     .def = "1",
     .min = "0",
     .max = "18446744073709551615",
     .doc = "root of every random stream"},
    {.key = "until",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario, until),
     .def = "24h",
     .min = "1ns",
     .doc = "simulated-time limit"},
    {.key = "record",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario, record),
     .def = "attempts",
     .names = record_names,
     .doc = "how much the recorder writes"},
    {.type = SCENARIO_T_INLINE, /* the models' keys: scenario_root_schema() */
     SCENARIO_AT(struct scenario, model),
     .flags = SCENARIO_F_INDIRECT},
    {.key = "replications",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario, replications),
     .def = "1",
     .min = "1",
     .max = "1000",
     .doc = "runs per sweep point, each with its own seed"},
    {.key = "sweep_mode",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario, sweep_mode),
     .def = "grid",
     .names = sweep_mode_names,
     .doc = "grid: every combination of the values; list: the i-th value of every parameter"},
    {.key = "sweep",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario, sweep),
     .count_offset = offsetof(struct scenario, n_sweep),
     .sub = &sweep_schema,
     .doc = "swept parameters; absent or empty: one point"},
    {.key = "check",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario, check),
     .flags = SCENARIO_F_POS | SCENARIO_F_OPTIONAL,
     .pos_offset = offsetof(struct scenario, check.at),
     .present_offset = offsetof(struct scenario, check.present),
     .sub = &check_schema,
     .doc = "dfusim check: tolerances against the baseline; absent: the defaults"},
    {.key = "measured",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario, measured),
     .count_offset = offsetof(struct scenario, n_measured),
     .sub = &measured_schema,
     .doc = "published figures the run reproduces (dfusim calibration); absent or empty: none"},
};

const struct scenario_schema *scenario_root_init(struct scenario_root *r,
                                                 const struct scenario_schema *models)
{
    size_t n = sizeof(scenario_fields) / sizeof(scenario_fields[0]);
    memcpy(r->fields, scenario_fields, sizeof(scenario_fields));
    for (size_t i = 0; i < n; i++)
        if (r->fields[i].type == SCENARIO_T_INLINE)
            r->fields[i].sub = models;
    r->schema = (struct scenario_schema){
        .noun = "scenario", .size = sizeof(struct scenario), .n_fields = n, .fields = r->fields};
    return &r->schema;
}

/* ---- names ------------------------------------------------------------------------- */

const char *scenario_record_name(enum scenario_record r)
{
    return (unsigned)r <= SCENARIO_RECORD_CHUNKS ? record_names[r] : "?";
}

/* ---- loading ----------------------------------------------------------------------- */

/* Parse and apply the --set overrides: *root is the tree (NULL on failure). Returns 0,
 * SIM_EINVAL after reporting (the tree is still returned when only an override was bad,
 * so that binding reports the file's own problems too) or SIM_ENOMEM. */
static int parse_root(const struct scenario_schema *sch, const char *text, size_t len,
                      const char *name, const char *const *overrides, size_t n_overrides,
                      struct scenario_node **root, struct scenario_report *rep)
{
    struct scenario_src src = {.name = name};
    char want[256];
    int bad = 0;

    *root = NULL;
    int rc = scenario_tree_parse(text, len, &src, root, rep);
    if (rc != 0)
        return rc;
    snprintf(want, sizeof(want), "a map with keys: ");
    const struct scenario_field *keys[SCENARIO_SCHEMA_MAX_FIELDS];
    size_t n_keys = scenario_schema_flatten(sch, keys);
    for (size_t i = 0; i < n_keys; i++)
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? ", " : "",
                 keys[i]->key);
    if (*root == NULL) {
        scenario_report_error(rep, src.name, 1, 1, NULL, "the scenario is empty (expected %s)",
                              want);
        return SIM_EINVAL;
    }
    if ((*root)->kind != SCENARIO_NODE_MAP) {
        scenario_report_error(rep, src.name, (*root)->line, (*root)->col, NULL,
                              "the scenario must be a map (%s), not %s", want,
                              (*root)->kind == SCENARIO_NODE_SEQ ? "a list" : "a single value");
        scenario_tree_free(*root);
        *root = NULL;
        return SIM_EINVAL;
    }
    for (size_t i = 0; i < n_overrides; i++) {
        rc = scenario_override_apply(*root, sch, overrides[i], (unsigned)i + 1, rep);
        if (rc == SIM_ENOMEM) {
            scenario_tree_free(*root);
            *root = NULL;
            return rc;
        }
        if (rc != 0)
            bad = rc;
    }
    return bad;
}

/* The value node of key `key` in map m, or NULL. */
static const struct scenario_node *map_get(const struct scenario_node *m, const char *key)
{
    long k = m != NULL && m->kind == SCENARIO_NODE_MAP ? scenario_tree_find(m, key) : -1;
    return k >= 0 ? m->items[k] : NULL;
}

/* What the schema cannot check about a bound sweep: keys that cannot be swept or are
 * swept twice, list lengths in list mode, the number of points. Sets s->n_points. */
static int check_sweep(struct scenario *s, const struct scenario_node *root,
                       struct scenario_report *rep)
{
    static const char *const fixed[] = {"sweep", "sweep_mode", "replications", "measured"};
    const struct scenario_node *seq = map_get(root, "sweep");
    int rc = 0;
    uint64_t points = 1;
    for (size_t i = 0; i < s->n_sweep; i++) {
        const struct scenario_sweep *w = &s->sweep[i];
        const struct scenario_node *item = seq->items[i];
        const struct scenario_node *key = map_get(item, "key");
        const struct scenario_node *values = map_get(item, "values");
        char path[64];
        snprintf(path, sizeof(path), "sweep[%zu].key", i);
        size_t seg = strcspn(w->key, ".[");
        for (size_t f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++) {
            if (strlen(fixed[f]) == seg && strncmp(w->key, fixed[f], seg) == 0) {
                scenario_report_error(rep, key->src, key->line, key->col, path,
                                      "%s cannot be swept (it says how the runs are made)",
                                      fixed[f]);
                rc = SIM_EINVAL;
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->sweep[j].key, w->key) != 0)
                continue;
            const struct scenario_node *first = map_get(seq->items[j], "key");
            scenario_report_error(rep, key->src, key->line, key->col, path,
                                  "%s is swept twice (first at %u:%u; give all its values in "
                                  "one entry)",
                                  w->key, first->line, first->col);
            rc = SIM_EINVAL;
        }
        snprintf(path, sizeof(path), "sweep[%zu].values", i);
        if (s->sweep_mode == SCENARIO_SWEEP_LIST && w->n_values != s->sweep[0].n_values) {
            scenario_report_error(rep, values->src, values->line, values->col, path,
                                  "%zu values, but sweep[0] has %zu (sweep_mode list takes the "
                                  "i-th value of every parameter: give every list the same "
                                  "length, or use sweep_mode grid)",
                                  w->n_values, s->sweep[0].n_values);
            rc = SIM_EINVAL;
        }
        if (s->sweep_mode == SCENARIO_SWEEP_GRID)
            points = points * w->n_values > SCENARIO_SWEEP_MAX_POINTS + 1ull
                         ? SCENARIO_SWEEP_MAX_POINTS + 1ull
                         : points * w->n_values;
        else
            points = w->n_values;
    }
    if (points > SCENARIO_SWEEP_MAX_POINTS) {
        scenario_report_error(rep, seq->src, seq->line, seq->col, "sweep",
                              "more than %u sweep points (split the sweep into several files)",
                              SCENARIO_SWEEP_MAX_POINTS);
        rc = SIM_EINVAL;
    }
    s->n_points = (size_t)points;
    return rc;
}

size_t scenario_sweep_index(const struct scenario *s, size_t point, size_t param)
{
    if (s->sweep_mode == SCENARIO_SWEEP_LIST)
        return point;
    size_t stride = 1;
    for (size_t i = param + 1; i < s->n_sweep; i++)
        stride *= s->sweep[i].n_values;
    return point / stride % s->sweep[param].n_values;
}

uint64_t scenario_replication_seed(uint64_t seed, uint32_t r)
{
    if (r == 0)
        return seed;
    struct sim_rng g;
    sim_rng_init(&g, seed, r, SIM_RNG_REPLICATION);
    return sim_rng_u64(&g);
}

/* Bind point p of base's sweep into *out (zeroed, path and text set): the tree again, the
 * --set overrides, then each parameter's value placed as an override located at the
 * value in the sweep entry (base_root holds the positions). */
static int load_point(const struct scenario_schema *sch, const char *text, size_t len,
                      const char *const *overrides, size_t n_overrides, const struct scenario *base,
                      const struct scenario_node *base_root, size_t p, struct scenario *out,
                      struct scenario_report *rep)
{
    struct scenario_node *root = NULL;
    int rc = parse_root(sch, text, len, out->path, overrides, n_overrides, &root, rep);
    const struct scenario_node *seq = map_get(base_root, "sweep");
    for (size_t i = 0; rc == 0 && i < base->n_sweep; i++) {
        const struct scenario_node *key = map_get(seq->items[i], "key");
        size_t j = scenario_sweep_index(base, p, i);
        const struct scenario_node *value = map_get(seq->items[i], "values")->items[j];
        const struct scenario_override_at at = {value->src, value->line, key->col, value->col};
        /* a key's problem is reported at the key: line and columns of the key node */
        const struct scenario_override_at key_at = {key->src, key->line, key->col, value->col};
        rc = scenario_override_place(root, sch, base->sweep[i].key, value->text,
                                     key->line == value->line ? &at : &key_at, rep);
    }
    if (rc == 0)
        rc = scenario_schema_bind(sch, root, root, out, rep);
    scenario_tree_free(root);
    return rc;
}

#define LOAD_EVERY_POINT SIZE_MAX

/* Parse, override and bind into *out (zeroed but for path and text). Without a sweep, that
 * is all; with one, checks every point (point LOAD_EVERY_POINT; *out is then point 0) or
 * only `point`, and leaves that point in *out. Reports into rep. */
static int load(const struct scenario_schema *sch, const char *text, size_t len,
                const char *const *overrides, size_t n_overrides, size_t point,
                struct scenario *out, struct scenario_report *rep)
{
    struct scenario_node *root = NULL;
    int bad = parse_root(sch, text, len, out->path, overrides, n_overrides, &root, rep);
    if (root == NULL)
        return bad;
    int rc = scenario_schema_bind(sch, root, root, out, rep);
    if (rc == 0)
        rc = bad;
    if (rc == 0)
        rc = check_sweep(out, root, rep);
    if (rc == 0 && out->n_sweep == 0 && point != LOAD_EVERY_POINT && point > 0) {
        scenario_report_error(rep, out->path, 1, 1, "sweep", "no sweep point %zu (the file has 1)",
                              point);
        rc = SIM_EINVAL;
    }
    if (rc != 0 || out->n_sweep == 0) {
        scenario_tree_free(root);
        return rc;
    }
    if (point != LOAD_EVERY_POINT && point >= out->n_points) {
        scenario_report_error(rep, out->path, 1, 1, "sweep",
                              "no sweep point %zu (the file has %zu)", point, out->n_points);
        scenario_tree_free(root);
        return SIM_EINVAL;
    }
    size_t first = point == LOAD_EVERY_POINT ? 0 : point;
    size_t last = point == LOAD_EVERY_POINT ? out->n_points - 1 : point;
    struct scenario keep = {0};
    for (size_t p = first; p <= last; p++) {
        struct scenario tmp = {
            .path = out->path, .text = out->text, .text_len = out->text_len, .models = out->models};
        int prc = load_point(sch, text, len, overrides, n_overrides, out, root, p, &tmp, rep);
        if (prc == 0 && p == first)
            keep = tmp; /* the point returned */
        else
            scenario_schema_free(sch, &tmp);
        if (prc != 0)
            rc = prc;
        if (prc == SIM_ENOMEM)
            break;
    }
    scenario_tree_free(root);
    size_t n_points = out->n_points;
    scenario_schema_free(sch, out);
    if (keep.path == NULL)
        return rc;
    keep.n_points = n_points;
    keep.point = first;
    *out = keep;
    return rc;
}

static int copy_overrides(struct scenario *s, const char *const *overrides, size_t n)
{
    if (n == 0)
        return 0;
    s->overrides = calloc(n, sizeof(*s->overrides));
    if (s->overrides == NULL)
        return SIM_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        s->overrides[i] = strdup(overrides[i]);
        if (s->overrides[i] == NULL)
            return SIM_ENOMEM;
        s->n_overrides = i + 1;
    }
    return 0;
}

int scenario_load_point(const char *path, const struct scenario_schema *models, const char *text,
                        size_t len, const char *const *overrides, size_t n_overrides, size_t point,
                        struct scenario *out, struct sim_diag *diag)
{
    struct scenario_report rep;
    struct scenario_root root;
    int rc = SIM_ENOMEM;

    memset(out, 0, sizeof(*out));
    out->models = models;
    scenario_report_init(&rep, path ? path : "-");
    out->path = strdup(path ? path : "-");
    out->text = malloc(len + 1);
    if (out->path == NULL || out->text == NULL)
        goto fail;
    if (len > 0)
        memcpy(out->text, text, len);
    out->text[len] = '\0';
    out->text_len = len;
    rc = load(scenario_root_init(&root, models), text, len, overrides, n_overrides, point, out,
              &rep);
    if (rc != 0)
        goto fail;
    if (models->finish != NULL && (rc = models->finish(out->model, out->path, diag)) != 0) {
        if (rc == SIM_ENOMEM)
            sim_diag_add(diag, "%s: out of memory while loading the scenario", out->path);
        scenario_fini(out);
        return rc;
    }
    rc = copy_overrides(out, overrides, n_overrides);
    if (rc != 0)
        goto fail;
    return 0;
fail:
    scenario_report_flush(&rep, diag);
    if (rc == SIM_ENOMEM)
        sim_diag_add(diag, "%s: out of memory while loading the scenario", path ? path : "-");
    scenario_fini(out);
    return rc;
}

int scenario_load_text(const char *path, const struct scenario_schema *models, const char *text,
                       size_t len, const char *const *overrides, size_t n_overrides,
                       struct scenario *out, struct sim_diag *diag)
{
    return scenario_load_point(path, models, text, len, overrides, n_overrides, LOAD_EVERY_POINT,
                               out, diag);
}

int scenario_load(const char *path, const struct scenario_schema *models,
                  const char *const *overrides, size_t n_overrides, struct scenario *out,
                  struct sim_diag *diag)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        sim_diag_add(diag, "%s: cannot open the scenario: %s", path, strerror(e));
        return e == ENOENT ? SIM_ENOENT : SIM_EIO;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *t = realloc(text, cap);
            if (t == NULL) {
                sim_diag_add(diag, "%s: out of memory reading the scenario", path);
                rc = SIM_ENOMEM;
                goto fail;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        sim_diag_add(diag, "%s: cannot read the scenario", path);
        rc = SIM_EIO;
        goto fail;
    }
    rc = scenario_load_text(path, models, text ? text : "", len, overrides, n_overrides, out, diag);
fail:
    fclose(f);
    free(text);
    return rc;
}

void scenario_fini(struct scenario *s)
{
    if (s == NULL)
        return;
    struct scenario_root root;
    scenario_schema_free(scenario_root_init(&root, s->models), s);
    for (size_t i = 0; i < s->n_overrides; i++)
        free(s->overrides[i]);
    free(s->overrides);
    free(s->path);
    free(s->text);
    memset(s, 0, sizeof(*s));
}

void scenario_visit(const struct scenario *s, scenario_visit_fn fn, void *ctx)
{
    struct scenario_root root;
    scenario_schema_visit(scenario_root_init(&root, s->models), s, fn, ctx);
}
