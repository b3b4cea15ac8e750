/* tests/test_fleet_rollout.c - the rollout controller (models/fleet/rollout.h), driven by a
 * fake world: a tiny event loop over the controller's timers and scripted device results,
 * recording every start, cancel, rollback and wave record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/fleet/rollout.h"
#include "sim/error.h"
#include "sim/rng.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SEC          1000000000LL
#define MIN          (60 * SEC)
#define HOUR         (60 * MIN)
#define DAY          (24 * HOUR)
#define MAX_STARTS   20000
#define MAX_PEND     4096
#define MAX_WREC     64
#define NO_ANSWER    0xff

#define UP_HAWKBIT                                                                                 \
    "UPSTREAM: eclipse-hawkbit/hawkbit: hawkbit-repository/hawkbit-repository-jpa/.../rollout/"    \
    "condition/ThresholdRolloutGroupErrorCondition.java, ...SuccessCondition.java @master"
#define UP_HAWKBIT_GROUPS                                                                          \
    "UPSTREAM: eclipse-hawkbit/hawkbit: hawkbit-repository/hawkbit-repository-jpa/.../management/" \
    "JpaRolloutManager.java (Math.round(targetPercentage / 100 * remaining)) @master"
#define UP_AWS_ABORT  "UPSTREAM: AWS IoT API Reference: AbortCriteria (minNumberOfExecutedThings)"
#define UP_AWS_RATE   "UPSTREAM: AWS IoT API Reference: ExponentialRolloutRate, RateIncreaseCriteria"
#define UP_AWS_TMO    "UPSTREAM: AWS IoT API Reference: TimeoutConfig, JobExecutionsRetryConfig"
#define UP_AWS_WINDOW "UPSTREAM: AWS IoT API Reference: SchedulingConfig, MaintenanceWindow"
#define UP_AZURE      "UPSTREAM: Azure Device Update: rollbackPolicy devicesFailedCount"

/* ---- fake world ------------------------------------------------------------------------ */

struct start_log {
    uint32_t dev;
    int64_t at;
    uint32_t limit; /* the rollout's rate limit as the device started */
};

struct pend {
    int64_t at;
    uint32_t dev;
    uint8_t res;
};

/* How device dev answers its attempt-th start (0-based): a result, or NO_ANSWER. */
typedef uint8_t (*outcome_fn)(void *arg, uint32_t dev, uint32_t attempt);

struct fake {
    struct fleet_rollout *r;
    struct start_log starts[MAX_STARTS];
    uint32_t n_starts;
    uint64_t n_starts_total; /* beyond the log too */
    uint32_t *attempts;      /* per device */
    uint32_t cancels[MAX_STARTS];
    int64_t cancel_at[MAX_STARTS];
    uint32_t n_cancels;
    int n_rollback;
    uint32_t next_gen, gen[FLEET_ROLLOUT_TIMER_COUNT];
    int64_t at[FLEET_ROLLOUT_TIMER_COUNT];
    bool armed[FLEET_ROLLOUT_TIMER_COUNT];
    struct recorder_wave waves[MAX_WREC];
    char actions[MAX_WREC][16];
    int n_waves;
    int n_unexpected;
    /* automatic device answers */
    outcome_fn outcome;
    void *outcome_arg;
    int64_t dur;
    bool late_results; /* a cancelled device still answers (to test n_late) */
    struct pend pend[MAX_PEND];
    int n_pend;
};

static void f_start(void *env, uint32_t dev, int64_t now)
{
    struct fake *f = env;
    f->n_starts_total++;
    if (f->n_starts == MAX_STARTS) /* only the million-device case gets here */
        return;
    struct fleet_rollout_stats st;
    fleet_rollout_stats_get(f->r, &st);
    f->starts[f->n_starts++] = (struct start_log){dev, now, st.rate_limit};
    uint32_t attempt = f->attempts[dev]++;
    if (!f->outcome)
        return;
    uint8_t res = f->outcome(f->outcome_arg, dev, attempt);
    if (res == NO_ANSWER)
        return;
    assert_true(f->n_pend < MAX_PEND);
    f->pend[f->n_pend++] = (struct pend){now + f->dur, dev, res};
}

static void f_cancel(void *env, uint32_t dev, int64_t now)
{
    struct fake *f = env;
    assert_true(f->n_cancels < MAX_STARTS);
    f->cancel_at[f->n_cancels] = now;
    f->cancels[f->n_cancels++] = dev;
    if (f->late_results)
        return;
    for (int j = 0; j < f->n_pend; j++)
        if (f->pend[j].dev == dev)
            f->pend[j--] = f->pend[--f->n_pend];
}

static void f_rollback(void *env, int64_t now)
{
    (void)now;
    ((struct fake *)env)->n_rollback++;
}

static uint32_t f_arm(void *env, int t, int64_t at)
{
    struct fake *f = env;
    f->gen[t] = ++f->next_gen;
    f->at[t] = at;
    f->armed[t] = true;
    return f->gen[t];
}

static void f_wave(void *env, const struct recorder_wave *w)
{
    struct fake *f = env;
    assert_true(f->n_waves < MAX_WREC);
    f->waves[f->n_waves] = *w;
    snprintf(f->actions[f->n_waves], sizeof(f->actions[0]), "%s", w->action);
    f->waves[f->n_waves].action = f->actions[f->n_waves];
    f->n_waves++;
}

static void f_unexpected(void *env, int state, int input, int64_t now)
{
    (void)state;
    (void)input;
    (void)now;
    ((struct fake *)env)->n_unexpected++;
}

struct rig {
    struct fake f;
    struct fleet_rollout_ctx cx;
    uint32_t n;
};

static struct rig *rig_new(const struct fleet_rollout_cfg *cfg, uint32_t n)
{
    struct rig *g = calloc(1, sizeof(*g));
    assert_non_null(g);
    g->n = n;
    g->f.attempts = calloc(n ? n : 1, sizeof(uint32_t));
    assert_non_null(g->f.attempts);
    g->cx = (struct fleet_rollout_ctx){&g->f, f_start, f_cancel,    f_rollback,
                                       f_arm, f_wave,  f_unexpected};
    struct sim_diag d;
    sim_diag_init(&d);
    int rc = fleet_rollout_new(cfg, n, &g->cx, &g->f.r, &d);
    if (rc)
        fail_msg("fleet_rollout_new: %d %s", rc, d.text);
    return g;
}

static void rig_free(struct rig *g)
{
    fleet_rollout_free(g->f.r);
    free(g->f.attempts);
    free(g);
}

static int step(struct rig *g, enum fleet_rollout_input in, const void *arg, int64_t now)
{
    return fleet_rollout_step(g->f.r, in, arg, now);
}

static void result(struct rig *g, uint32_t dev, uint8_t res, int64_t now)
{
    struct fleet_rollout_device_result d = {dev, res};
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_DEVICE_RESULT, &d, now), 0);
}

static enum fleet_rollout_state state(const struct rig *g)
{
    return fleet_rollout_state_get(g->f.r);
}

static struct fleet_rollout_stats stats(const struct rig *g)
{
    struct fleet_rollout_stats s;
    fleet_rollout_stats_get(g->f.r, &s);
    return s;
}

/* Deliver timers and device answers in time order (timers first on a tie) up to `until`. */
static void run(struct rig *g, int64_t until)
{
    struct fake *f = &g->f;
    for (;;) {
        int t_best = -1, p_best = -1;
        int64_t best = until + 1;
        for (int t = 0; t < FLEET_ROLLOUT_TIMER_COUNT; t++)
            if (f->armed[t] && f->at[t] < best) {
                best = f->at[t];
                t_best = t;
            }
        for (int j = 0; j < f->n_pend; j++)
            if (f->pend[j].at < best || (f->pend[j].at == best && t_best < 0 && p_best >= 0 &&
                                         f->pend[j].dev < f->pend[p_best].dev)) {
                best = f->pend[j].at;
                p_best = j;
                t_best = -1;
            }
        if (t_best < 0 && p_best < 0)
            return;
        if (t_best >= 0) {
            f->armed[t_best] = false;
            struct fleet_rollout_timer tm = {t_best, f->gen[t_best]};
            assert_int_equal(step(g, FLEET_ROLLOUT_IN_TIMER, &tm, best), 0);
            continue;
        }
        struct pend p = f->pend[p_best];
        f->pend[p_best] = f->pend[--f->n_pend];
        result(g, p.dev, p.res, p.at);
    }
}

static uint8_t all_succeed(void *arg, uint32_t dev, uint32_t attempt)
{
    (void)arg;
    (void)dev;
    (void)attempt;
    return FLEET_ROLLOUT_SUCCEEDED;
}

static uint8_t always(void *arg, uint32_t dev, uint32_t attempt)
{
    (void)dev;
    (void)attempt;
    return *(const uint8_t *)arg;
}

static uint8_t code_of(char c)
{
    switch (c) {
    case 'S':
        return FLEET_ROLLOUT_SUCCEEDED;
    case 'F':
        return FLEET_ROLLOUT_FAILED;
    case 'R':
        return FLEET_ROLLOUT_REJECTED;
    default:
        return FLEET_ROLLOUT_TIMED_OUT;
    }
}

static struct fleet_rollout_cfg cfg_waves(int n, const double *pct)
{
    struct fleet_rollout_cfg c = fleet_rollout_cfg_default();
    c.n_waves = (uint32_t)n;
    for (int k = 0; k < n; k++)
        c.waves[k] = (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_PERCENT, pct[k]};
    return c;
}

/* ---- error threshold and minimum executed count ---------------------------------------- */

struct err_case {
    const char *name, *upstream;
    uint32_t n;
    double thr;
    uint32_t min_executed, count;
    uint8_t types;
    bool of_executed;
    const char *results;                              /* for devices 0, 1, ... in order */
    enum fleet_rollout_state want_before, want_after; /* before / after the last result */
};

static const struct err_case err_cases[] = {
    {"errors/total exactly at the threshold does not trip (hawkBit '>')", UP_HAWKBIT, 10, 0.2, 1, 0,
     FLEET_ROLLOUT_F_ALL, false, "FF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_RUNNING},
    {"errors/total just over the threshold pauses", UP_HAWKBIT, 10, 0.2, 1, 0, FLEET_ROLLOUT_F_ALL,
     false, "FFF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_PAUSED},
    {"over the threshold at min_executed - 1 executed does not trip", UP_AWS_ABORT, 10, 0.1, 5, 0,
     FLEET_ROLLOUT_F_ALL, false, "FFFF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_RUNNING},
    {"the min_executed-th execution (a success) trips the pending threshold", UP_AWS_ABORT, 10, 0.1,
     5, 0, FLEET_ROLLOUT_F_ALL, false, "FFFFS", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_PAUSED},
    {"successes count as executed for the minimum", UP_AWS_ABORT, 10, 0.1, 3, 0,
     FLEET_ROLLOUT_F_ALL, false, "SSFF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_PAUSED},
    {"only the chosen failure types count as errors", UP_AWS_ABORT, 10, 0.2, 1, 0,
     FLEET_ROLLOUT_F_FAILED, false, "RRRRTF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_RUNNING},
    {"rejected counts when chosen", UP_AWS_ABORT, 10, 0.2, 1, 0, FLEET_ROLLOUT_F_REJECTED, false,
     "FFFRRR", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_PAUSED},
    {"share of executed: 1 of 2 over 40% trips once executed >= min", UP_AWS_ABORT, 100, 0.4, 2, 0,
     FLEET_ROLLOUT_F_ALL, true, "SF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_PAUSED},
    {"absolute failed count trips at the count, not before", UP_AZURE, 100, 1.0, 1, 3,
     FLEET_ROLLOUT_F_ALL, false, "SFSFSF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_PAUSED},
    {"threshold 100% never trips even when all fail", UP_HAWKBIT, 4, 1.0, 1, 0, FLEET_ROLLOUT_F_ALL,
     false, "FFFF", FLEET_ROLLOUT_ST_RUNNING, FLEET_ROLLOUT_ST_PAUSED},
};

static void check_err_case(const struct err_case *c)
{
    print_message("case: %s (%s)\n", c->name, c->upstream);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.success_threshold = 1.0;
    cfg.error_threshold = c->thr;
    cfg.error_min_executed = c->min_executed;
    cfg.error_threshold_count = c->count;
    cfg.error_failure_types = c->types;
    cfg.error_of_executed = c->of_executed;
    struct rig *g = rig_new(&cfg, c->n);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_START, NULL, 0), 0);
    assert_int_equal(g->f.n_starts, c->n);
    size_t len = strlen(c->results);
    for (size_t j = 0; j < len; j++) {
        if (j + 1 == len)
            assert_int_equal(state(g), c->want_before);
        result(g, (uint32_t)j, code_of(c->results[j]), (int64_t)(j + 1) * SEC);
    }
    assert_int_equal(state(g), c->want_after);
    if (c->want_after == FLEET_ROLLOUT_ST_PAUSED) {
        assert_int_equal(g->f.n_waves, 1);
        assert_string_equal(g->f.waves[0].action, "pause");
        assert_int_equal(g->f.waves[0].end_ns, (int64_t)len * SEC);
    }
    assert_int_equal(g->f.n_cancels, 0);
    rig_free(g);
}

static void test_error_threshold_and_min_executed(void **s)
{
    (void)s;
    for (size_t i = 0; i < ARRAY_LEN(err_cases); i++)
        check_err_case(&err_cases[i]);
}

/* ---- error actions, pause and resume ------------------------------------------------- */

/* UPSTREAM: hawkBit errorAction PAUSE; AWS AbortConfig action CANCEL; Azure rollbackPolicy. */
static void test_error_action_cancel_cancels_in_progress_devices(void **s)
{
    (void)s;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.error_threshold = 0.1;
    cfg.error_action = FLEET_ROLLOUT_CANCEL;
    struct rig *g = rig_new(&cfg, 10);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    result(g, 0, FLEET_ROLLOUT_FAILED, SEC);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING);
    result(g, 1, FLEET_ROLLOUT_FAILED, 2 * SEC);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_CANCELLED);
    assert_int_equal(g->f.n_cancels, 8); /* devices 2..9 were in progress */
    for (uint32_t j = 0; j < 8; j++) {
        assert_int_equal(g->f.cancels[j], j + 2);
        assert_int_equal(fleet_rollout_device_get(g->f.r, j + 2), FLEET_ROLLOUT_DEV_CANCELLED);
    }
    assert_int_equal(g->f.n_rollback, 0);
    assert_int_equal(g->f.n_waves, 1);
    assert_string_equal(g->f.waves[0].action, "cancel");
    assert_int_equal(g->f.waves[0].failed, 2);
    /* a late answer from a cancelled device is counted, changes nothing */
    result(g, 5, FLEET_ROLLOUT_SUCCEEDED, 3 * SEC);
    assert_int_equal(stats(g).n_late, 1);
    assert_int_equal(stats(g).succeeded, 0);
    assert_int_equal(g->f.n_unexpected, 0);
    rig_free(g);
}

static void test_error_action_rollback_calls_the_world_then_rolled_back(void **s)
{
    (void)s;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.error_threshold = 0.0;
    cfg.error_action = FLEET_ROLLOUT_ROLLBACK;
    struct rig *g = rig_new(&cfg, 4);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    result(g, 2, FLEET_ROLLOUT_REJECTED, SEC);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_ROLLING_BACK);
    assert_int_equal(g->f.n_rollback, 1);
    assert_int_equal(g->f.n_cancels, 3);
    assert_string_equal(g->f.waves[0].action, "rollback");
    step(g, FLEET_ROLLOUT_IN_ROLLBACK_DONE, NULL, 5 * SEC);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_ROLLED_BACK);
    assert_int_equal(g->f.n_unexpected, 0);
    rig_free(g);
}

static void test_error_pause_then_resume_continues_the_same_wave(void **s)
{
    (void)s;
    const double w[] = {50, 100};
    struct fleet_rollout_cfg cfg = cfg_waves(2, w);
    cfg.success_threshold = 0.6;
    cfg.error_threshold = 0.2;
    cfg.rate_max_per_min = 2;          /* so that some devices of the wave are still queued */
    struct rig *g = rig_new(&cfg, 20); /* wave 0: 10 devices */
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    assert_int_equal(g->f.n_starts, 2);
    result(g, 0, FLEET_ROLLOUT_FAILED, SEC);
    result(g, 1, FLEET_ROLLOUT_FAILED, 2 * SEC);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING); /* 2/10 is not > 20 % */
    run(g, MIN);                                          /* devices 2, 3 start */
    assert_int_equal(g->f.n_starts, 4);
    result(g, 2, FLEET_ROLLOUT_FAILED, MIN + SEC);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_PAUSED);
    run(g, 10 * MIN); /* paused: nothing starts */
    assert_int_equal(g->f.n_starts, 4);
    result(g, 3, FLEET_ROLLOUT_SUCCEEDED, 10 * MIN); /* in progress ones still report */
    assert_int_equal(stats(g).succeeded, 1);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_RESUME, NULL, 11 * MIN), 0);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING);
    assert_int_equal(g->f.n_starts, 6); /* the rate allows two more at once */
    assert_int_equal(g->f.starts[4].dev, 4);
    /* more errors in the acknowledged wave do not pause again */
    result(g, 4, FLEET_ROLLOUT_FAILED, 11 * MIN + SEC);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING);
    g->f.outcome = all_succeed;
    g->f.dur = SEC;
    result(g, 5, FLEET_ROLLOUT_SUCCEEDED, 11 * MIN + 2 * SEC);
    run(g, 60 * MIN);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
    assert_int_equal(g->f.n_waves, 3); /* pause, next, done */
    assert_string_equal(g->f.waves[0].action, "pause");
    assert_string_equal(g->f.waves[1].action, "next");
    assert_int_equal(g->f.waves[1].wave, 0);
    assert_string_equal(g->f.waves[2].action, "done");
    assert_int_equal(g->f.n_unexpected, 0);
    rig_free(g);
}

static void test_failed_count_restarts_from_the_resume(void **s)
{
    (void)s;
    print_message("%s\n", UP_AZURE);
    const double w[] = {50, 100};
    struct fleet_rollout_cfg cfg = cfg_waves(2, w);
    cfg.success_threshold = 0.5;
    cfg.error_threshold_count = 2;
    struct rig *g = rig_new(&cfg, 10);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    result(g, 0, FLEET_ROLLOUT_FAILED, 1);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING);
    result(g, 1, FLEET_ROLLOUT_FAILED, 2);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_PAUSED);
    step(g, FLEET_ROLLOUT_IN_RESUME, NULL, 3);
    for (uint32_t i = 2; i < 5; i++)
        result(g, i, FLEET_ROLLOUT_SUCCEEDED, 4);
    assert_int_equal(g->f.n_starts, 10); /* 3/5 >= 50 %: wave 1 started */
    result(g, 5, FLEET_ROLLOUT_FAILED, 5);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING); /* 1 since the resume */
    result(g, 6, FLEET_ROLLOUT_FAILED, 6);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_PAUSED);
    assert_int_equal(stats(g).errors, 4);
    rig_free(g);
}

/* ---- success threshold ----------------------------------------------------------------- */

struct succ_case {
    const char *name;
    double thr;
    uint8_t action;
    const char *results; /* devices 0..4 of wave 0 (5 of 10) */
    enum fleet_rollout_state want;
    uint32_t want_starts;    /* wave 1 started or not */
    const char *want_record; /* NULL: none yet */
};

static const struct succ_case succ_cases[] = {
    {"succeeded/target exactly at the threshold starts the next wave (hawkBit '>=')", 0.8,
     FLEET_ROLLOUT_NEXT, "SSSS", FLEET_ROLLOUT_ST_RUNNING, 10, "next"},
    {"one below the threshold does not start the next wave", 0.8, FLEET_ROLLOUT_NEXT, "SSS",
     FLEET_ROLLOUT_ST_RUNNING, 5, NULL},
    {"every device ended below the threshold pauses", 0.8, FLEET_ROLLOUT_NEXT, "SSSFF",
     FLEET_ROLLOUT_ST_PAUSED, 5, "pause"},
    {"success_action pause stops after a successful wave", 0.8, FLEET_ROLLOUT_PAUSE_ON_SUCCESS,
     "SSSS", FLEET_ROLLOUT_ST_PAUSED, 5, "pause"},
};

static void check_succ_case(const struct succ_case *c)
{
    print_message("case: %s (%s)\n", c->name, UP_HAWKBIT);
    const double w[] = {50, 100};
    struct fleet_rollout_cfg cfg = cfg_waves(2, w);
    cfg.success_threshold = c->thr;
    cfg.success_action = c->action;
    struct rig *g = rig_new(&cfg, 10);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    assert_int_equal(g->f.n_starts, 5);
    for (size_t j = 0; c->results[j]; j++)
        result(g, (uint32_t)j, code_of(c->results[j]), (int64_t)(j + 1) * SEC);
    assert_int_equal(state(g), c->want);
    assert_int_equal(g->f.n_starts, c->want_starts);
    if (!c->want_record) {
        assert_int_equal(g->f.n_waves, 0);
    } else {
        assert_int_equal(g->f.n_waves, 1);
        assert_string_equal(g->f.waves[0].action, c->want_record);
        assert_int_equal(g->f.waves[0].target, 5);
    }
    if (c->want == FLEET_ROLLOUT_ST_PAUSED) { /* a person resumes: the next wave starts */
        step(g, FLEET_ROLLOUT_IN_RESUME, NULL, HOUR);
        assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING);
        assert_int_equal(g->f.n_starts, 10);
        assert_int_equal(g->f.starts[5].dev, 5);
        assert_int_equal(g->f.starts[5].at, HOUR);
    }
    rig_free(g);
}

static void test_success_threshold_gates_the_next_wave(void **s)
{
    (void)s;
    for (size_t i = 0; i < ARRAY_LEN(succ_cases); i++)
        check_succ_case(&succ_cases[i]);
}

static void test_empty_wave_counts_as_successful(void **s)
{
    (void)s;
    print_message("%s\n", UP_HAWKBIT);
    const double w[] = {10, 100}; /* round(0.3) = 0 devices in wave 0 */
    struct fleet_rollout_cfg cfg = cfg_waves(2, w);
    struct rig *g = rig_new(&cfg, 3);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 7);
    assert_int_equal(g->f.n_starts, 3);
    assert_int_equal(g->f.n_waves, 1);
    assert_int_equal(g->f.waves[0].target, 0);
    assert_string_equal(g->f.waves[0].action, "next");
    for (uint32_t i = 0; i < 3; i++)
        result(g, i, FLEET_ROLLOUT_SUCCEEDED, 10);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
    assert_string_equal(g->f.waves[1].action, "done");
    rig_free(g);
}

/* ---- wave sizes ------------------------------------------------------------------------ */

struct size_case {
    const char *name;
    uint32_t n;
    int n_waves;
    struct fleet_rollout_wave w[4];
    uint32_t want[4];
    uint32_t want_excluded;
};

#define P(x)                                                                                       \
    {                                                                                              \
        FLEET_ROLLOUT_WAVE_PERCENT, x                                                              \
    }
#define C(x)                                                                                       \
    {                                                                                              \
        FLEET_ROLLOUT_WAVE_COUNT, x                                                                \
    }

static const struct size_case size_cases[] = {
    {"1/10/50/100 % of the remaining, half rounds up",
     1000,
     4,
     {P(1), P(10), P(50), P(100)},
     {10, 99, 446, 445},
     0},
    {"50 % of 7 rounds 3.5 up to 4", 7, 2, {P(50), P(100)}, {4, 3}, 0},
    {"33.3 % of 10 rounds down to 3; the rest is excluded", 10, 1, {P(33.3)}, {3}, 7},
    {"counts are capped by what remains", 10, 3, {C(3), C(3), C(100)}, {3, 3, 4}, 0},
    {"count then percent of the remaining: 10 % of 95 = 9.5 -> 10",
     100,
     3,
     {C(5), P(10), P(100)},
     {5, 10, 85},
     0},
    {"a wave after everything is taken is empty", 5, 3, {P(100), C(2), P(50)}, {5, 0, 0}, 0},
    {"no devices: every wave is empty", 0, 2, {P(50), P(100)}, {0, 0}, 0},
};

static void check_size_case(const struct size_case *c)
{
    print_message("case: %s (%s)\n", c->name, UP_HAWKBIT_GROUPS);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.n_waves = (uint32_t)c->n_waves;
    memcpy(cfg.waves, c->w, sizeof(c->w));
    struct rig *g = rig_new(&cfg, c->n);
    uint32_t first, count, at = 0;
    assert_int_equal(fleet_rollout_wave_get(g->f.r, 0, &first, &count), SIM_ENOENT);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    for (int k = 0; k < c->n_waves; k++) {
        assert_int_equal(fleet_rollout_wave_get(g->f.r, (uint32_t)k, &first, &count), 0);
        assert_int_equal(first, at);
        assert_int_equal(count, c->want[k]);
        at += count;
    }
    assert_int_equal(stats(g).n_excluded, c->want_excluded);
    /* every wave succeeds in turn; the excluded devices never start */
    for (uint32_t i = 0; i < at; i++) {
        result(g, i, FLEET_ROLLOUT_SUCCEEDED, SEC);
    }
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
    assert_int_equal(g->f.n_starts, at);
    assert_int_equal(g->f.n_waves, c->n_waves);
    for (int k = 0; k < c->n_waves; k++)
        assert_int_equal(g->f.waves[k].target, c->want[k]);
    rig_free(g);
}

static void test_wave_sizes_percent_of_remaining_and_count(void **s)
{
    (void)s;
    for (size_t i = 0; i < ARRAY_LEN(size_cases); i++)
        check_size_case(&size_cases[i]);
}

/* ---- rate limits ------------------------------------------------------------------------- */

/* Largest number of starts inside any half-open 60 s span. */
static uint32_t max_per_minute(const struct fake *f)
{
    uint32_t best = 0;
    for (uint32_t j = 0; j < f->n_starts; j++) {
        uint32_t n = 0;
        for (uint32_t k = j; k < f->n_starts && f->starts[k].at < f->starts[j].at + MIN; k++)
            n++;
        if (n > best)
            best = n;
    }
    return best;
}

static void test_rate_limit_no_minute_holds_more_than_the_maximum(void **s)
{
    (void)s;
    print_message("%s\n", UP_AWS_RATE);
    static const struct {
        uint32_t max, n;
        int64_t dur;
    } cases[] = {{50, 500, 7 * SEC}, {1, 5, SEC}, {7, 100, 90 * SEC}, {1000, 3000, 100}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
        cfg.rate_max_per_min = cases[i].max;
        struct rig *g = rig_new(&cfg, cases[i].n);
        g->f.outcome = all_succeed;
        g->f.dur = cases[i].dur;
        step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
        run(g, 100 * DAY);
        assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
        assert_int_equal(g->f.n_starts, cases[i].n);
        assert_int_equal(max_per_minute(&g->f), cases[i].max); /* reached, never exceeded */
        /* work-conserving: the k-th batch starts at k minutes */
        uint32_t last = cases[i].n - 1;
        assert_int_equal(g->f.starts[last].at, (int64_t)(last / cases[i].max) * MIN);
        rig_free(g);
    }
}

static void test_exponential_ramp_multiplies_after_notified_and_caps(void **s)
{
    (void)s;
    print_message("%s\n", UP_AWS_RATE);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.rate_max_per_min = 16;
    cfg.rate_base_per_min = 2;
    cfg.rate_factor = 2.0;
    cfg.rate_increase_after_notified = 4;
    struct rig *g = rig_new(&cfg, 200);
    g->f.outcome = all_succeed;
    g->f.dur = SEC;
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    run(g, DAY);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
    for (uint32_t k = 1; k <= g->f.n_starts; k++) {
        uint32_t want = k / 4 >= 3 ? 16 : 2u << (k / 4); /* 2, 4, 8, then capped at 16 */
        assert_int_equal(g->f.starts[k - 1].limit, want);
    }
    assert_int_equal(g->f.starts[1].at, 0);
    assert_int_equal(g->f.starts[2].at, MIN); /* base 2 in the first minute */
    assert_true(max_per_minute(&g->f) <= 16);
    rig_free(g);
}

static void test_exponential_ramp_after_succeeded_waits_for_successes(void **s)
{
    (void)s;
    print_message("%s\n", UP_AWS_RATE);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.rate_max_per_min = 5;
    cfg.rate_base_per_min = 2;
    cfg.rate_factor = 1.5;
    cfg.rate_increase_after_succeeded = 3;
    struct rig *g = rig_new(&cfg, 100);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    run(g, 5 * MIN - 1); /* nobody answers: the rate stays at base */
    assert_int_equal(g->f.n_starts, 10);
    assert_int_equal(stats(g).rate_limit, 2);
    for (uint32_t i = 0; i < 3; i++)
        result(g, i, FLEET_ROLLOUT_SUCCEEDED, 5 * MIN);
    assert_int_equal(stats(g).rate_limit, 3); /* floor(2 * 1.5) */
    for (uint32_t i = 3; i < 9; i++)
        result(g, i, FLEET_ROLLOUT_SUCCEEDED, 5 * MIN);
    assert_int_equal(stats(g).rate_limit, 5); /* 4.5 -> 6.75, capped at 5 */
    assert_true(max_per_minute(&g->f) <= 5);
    rig_free(g);
}

/* ---- execution timeout and retries ------------------------------------------------------- */

struct tmo_case {
    const char *name;
    uint8_t retries, retry_on, types;
    uint8_t answer; /* what the device says every time, NO_ANSWER: times out */
    uint32_t want_starts, want_errors, want_timeouts;
    enum fleet_rollout_device_status want_status;
    int64_t want_end; /* last cancel or result time */
};

static const struct tmo_case tmo_cases[] = {
    {"no answer within the timeout ends TIMED_OUT and counts as an error", 0,
     FLEET_ROLLOUT_F_TIMED_OUT, FLEET_ROLLOUT_F_ALL, NO_ANSWER, 1, 1, 1,
     FLEET_ROLLOUT_DEV_TIMED_OUT, 10 * MIN},
    {"timed out is not an error when the types exclude it", 0, FLEET_ROLLOUT_F_TIMED_OUT,
     FLEET_ROLLOUT_F_FAILED, NO_ANSWER, 1, 0, 1, FLEET_ROLLOUT_DEV_TIMED_OUT, 10 * MIN},
    {"retries on timed out restart the device N times", 2, FLEET_ROLLOUT_F_TIMED_OUT,
     FLEET_ROLLOUT_F_ALL, NO_ANSWER, 3, 1, 3, FLEET_ROLLOUT_DEV_TIMED_OUT, 30 * MIN},
    {"retries on failed restart a failing device N times", 3, FLEET_ROLLOUT_F_FAILED,
     FLEET_ROLLOUT_F_ALL, FLEET_ROLLOUT_FAILED, 4, 1, 0, FLEET_ROLLOUT_DEV_FAILED, 4 * MIN},
    {"a failure type not in retry_on is final at once", 3, FLEET_ROLLOUT_F_FAILED,
     FLEET_ROLLOUT_F_ALL, FLEET_ROLLOUT_REJECTED, 1, 1, 0, FLEET_ROLLOUT_DEV_REJECTED, MIN},
};

static void check_tmo_case(const struct tmo_case *c)
{
    print_message("case: %s (%s)\n", c->name, UP_AWS_TMO);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.exec_timeout = 10 * MIN;
    cfg.retries = c->retries;
    cfg.retry_on = c->retry_on;
    cfg.error_failure_types = c->types;
    struct rig *g = rig_new(&cfg, 1);
    g->f.outcome = always;
    g->f.outcome_arg = (void *)&c->answer;
    g->f.dur = MIN;
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    run(g, DAY);
    struct fleet_rollout_stats st = stats(g);
    assert_int_equal(g->f.n_starts, c->want_starts);
    assert_int_equal(st.errors, c->want_errors);
    assert_int_equal(st.timeouts_fired, c->want_timeouts);
    assert_int_equal(st.retries, c->want_starts - 1);
    assert_int_equal(st.notified, 1);
    assert_int_equal(fleet_rollout_device_get(g->f.r, 0), c->want_status);
    assert_int_equal(fleet_rollout_device_retries_get(g->f.r, 0), c->want_starts - 1);
    assert_int_equal(g->f.n_cancels, c->want_timeouts); /* a timeout cancels the execution */
    if (c->want_timeouts)
        assert_int_equal(g->f.cancel_at[g->f.n_cancels - 1], c->want_end);
    for (uint32_t k = 1; k < g->f.n_starts; k++) /* a retry starts at once */
        assert_int_equal(g->f.starts[k].at, k * (c->answer == NO_ANSWER ? 10 * MIN : MIN));
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_PAUSED); /* 1 of 1 below 100 % */
    rig_free(g);
}

static void test_exec_timeout_and_retries(void **s)
{
    (void)s;
    for (size_t i = 0; i < ARRAY_LEN(tmo_cases); i++)
        check_tmo_case(&tmo_cases[i]);
}

static void test_exec_timeout_ignores_answered_and_late_answers_are_counted(void **s)
{
    (void)s;
    print_message("%s\n", UP_AWS_TMO);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.exec_timeout = 10 * MIN;
    cfg.success_threshold = 0.5;
    struct rig *g = rig_new(&cfg, 3);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    result(g, 0, FLEET_ROLLOUT_SUCCEEDED, 5 * MIN);
    run(g, 10 * MIN); /* devices 1 and 2 time out; 0 had answered */
    assert_int_equal(g->f.n_cancels, 2);
    assert_int_equal(g->f.cancels[0], 1);
    assert_int_equal(fleet_rollout_device_get(g->f.r, 0), FLEET_ROLLOUT_DEV_SUCCEEDED);
    assert_int_equal(stats(g).timed_out, 2);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_PAUSED); /* 1/3 < 50 %, all ended */
    result(g, 1, FLEET_ROLLOUT_SUCCEEDED, 11 * MIN);     /* too late */
    assert_int_equal(stats(g).n_late, 1);
    assert_int_equal(stats(g).succeeded, 1);
    rig_free(g);
}

static void test_a_retry_starts_before_never_started_devices(void **s)
{
    (void)s;
    print_message("%s\n", UP_AWS_TMO);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.rate_max_per_min = 1;
    cfg.retries = 1;
    struct rig *g = rig_new(&cfg, 4);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    result(g, 0, FLEET_ROLLOUT_FAILED, 30 * SEC); /* queued again, rate-limited */
    assert_int_equal(g->f.n_starts, 1);
    run(g, MIN);
    assert_int_equal(g->f.n_starts, 2);
    assert_int_equal(g->f.starts[1].dev, 0); /* the retry, not device 1 */
    assert_int_equal(g->f.starts[1].at, MIN);
    run(g, 2 * MIN);
    assert_int_equal(g->f.starts[2].dev, 1);
    assert_int_equal(stats(g).notified, 2);
    assert_int_equal(stats(g).starts, 3);
    rig_free(g);
}

/* ---- maintenance windows ----------------------------------------------------------------- */

static void check_window(uint8_t end, bool start_inside)
{
    print_message("window end_behavior %u (%s)\n", end, UP_AWS_WINDOW);
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.window_start = 2 * HOUR;
    cfg.window_duration = HOUR;
    cfg.end_behavior = end;
    cfg.rate_max_per_min = 1;
    struct rig *g = rig_new(&cfg, 150); /* 60 per window: three nights */
    g->f.outcome = all_succeed;
    g->f.dur = 20 * MIN;
    int64_t t0 = start_inside ? 2 * HOUR + 30 * MIN : 0;
    step(g, FLEET_ROLLOUT_IN_START, NULL, t0);
    assert_int_equal(state(g),
                     start_inside ? FLEET_ROLLOUT_ST_RUNNING : FLEET_ROLLOUT_ST_WAITING_WINDOW);
    assert_int_equal(g->f.n_starts, start_inside ? 1 : 0);
    run(g, 3 * HOUR + MIN);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_WAITING_WINDOW);
    run(g, 10 * DAY);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
    assert_int_equal(stats(g).succeeded, 150);
    for (uint32_t j = 0; j < g->f.n_starts; j++) {
        int64_t at = g->f.starts[j].at;
        assert_true(fleet_rollout_window_open(&cfg, at));
        assert_true(at % DAY >= 2 * HOUR && at % DAY < 3 * HOUR);
    }
    if (end == FLEET_ROLLOUT_END_STOP) {
        assert_int_equal(g->f.n_cancels, 0); /* in progress at the end: they finish */
        assert_int_equal(g->f.n_starts, 150);
    } else {
        /* the ones started in the last 20 min of each window were cancelled and restarted
         * the next night, without using a retry */
        assert_true(g->f.n_cancels > 0);
        assert_int_equal(stats(g).window_cancels, g->f.n_cancels);
        assert_int_equal(g->f.n_starts, 150 + g->f.n_cancels);
        for (uint32_t j = 0; j < g->f.n_cancels; j++)
            assert_int_equal(g->f.cancel_at[j] % DAY, 3 * HOUR);
        assert_int_equal(stats(g).notified, 150);
        assert_int_equal(stats(g).retries, 0);
        for (uint32_t i = 0; i < 150; i++)
            assert_int_equal(fleet_rollout_device_retries_get(g->f.r, i), 0);
    }
    rig_free(g);
}

static void test_maintenance_window_no_start_outside_and_end_behaviours(void **s)
{
    (void)s;
    check_window(FLEET_ROLLOUT_END_STOP, false);
    check_window(FLEET_ROLLOUT_END_CANCEL, false);
    check_window(FLEET_ROLLOUT_END_STOP, true);
    check_window(FLEET_ROLLOUT_END_CANCEL, true);
}

static void test_window_edges_are_half_open(void **s)
{
    (void)s;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.window_start = 23 * HOUR;
    cfg.window_duration = 2 * HOUR; /* wraps past midnight */
    static const struct {
        int64_t at;
        bool open;
    } cases[] = {{23 * HOUR - 1, false}, {23 * HOUR, true},          {DAY, true},
                 {DAY + HOUR - 1, true}, {DAY + HOUR, false},        {0, true},
                 {HOUR, false},          {5 * DAY + 23 * HOUR, true}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        assert_int_equal(fleet_rollout_window_open(&cfg, cases[i].at), cases[i].open);
}

/* ---- determinism ----------------------------------------------------------------------- */

struct rng_outcome {
    uint64_t seed;
};

/* A device's answers from its own stream keyed (seed, device, attempt), like the world. */
static uint8_t random_outcome(void *arg, uint32_t dev, uint32_t attempt)
{
    const struct rng_outcome *o = arg;
    struct sim_rng r;
    sim_rng_init(&r, o->seed, ((uint64_t)dev << 8) | attempt, SIM_RNG_TEST);
    double u = sim_rng_uniform(&r);
    return u < 0.05 ? FLEET_ROLLOUT_FAILED : u < 0.08 ? NO_ANSWER : FLEET_ROLLOUT_SUCCEEDED;
}

static struct rig *run_mixed(uint64_t seed)
{
    const double w[] = {1, 10, 50, 100};
    struct fleet_rollout_cfg cfg = cfg_waves(4, w);
    cfg.success_threshold = 0.8;
    cfg.error_threshold = 0.3;
    cfg.rate_max_per_min = 40;
    cfg.rate_base_per_min = 5;
    cfg.rate_factor = 1.5;
    cfg.rate_increase_after_succeeded = 10;
    cfg.exec_timeout = 30 * MIN;
    cfg.retries = 2;
    cfg.window_start = HOUR;
    cfg.window_duration = 6 * HOUR;
    cfg.end_behavior = FLEET_ROLLOUT_END_CANCEL;
    static struct rng_outcome o;
    o.seed = seed;
    struct rig *g = rig_new(&cfg, 2000);
    g->f.outcome = random_outcome;
    g->f.outcome_arg = &o;
    g->f.dur = 3 * MIN;
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    run(g, 30 * DAY);
    return g;
}

static void test_same_config_and_seed_give_same_starts(void **s)
{
    (void)s;
    struct rig *a = run_mixed(42), *b = run_mixed(42);
    assert_int_equal(state(a), FLEET_ROLLOUT_ST_DONE);
    assert_true(a->f.n_starts > 2000);
    assert_int_equal(a->f.n_starts, b->f.n_starts);
    assert_memory_equal(a->f.starts, b->f.starts, a->f.n_starts * sizeof(a->f.starts[0]));
    assert_int_equal(a->f.n_waves, b->f.n_waves);
    assert_int_equal(a->f.n_waves, 4);
    for (int k = 0; k < a->f.n_waves; k++) {
        assert_int_equal(a->f.waves[k].end_ns, b->f.waves[k].end_ns);
        assert_int_equal(a->f.waves[k].succeeded, b->f.waves[k].succeeded);
    }
    /* time never goes back in the start log */
    for (uint32_t j = 1; j < a->f.n_starts; j++)
        assert_true(a->f.starts[j].at >= a->f.starts[j - 1].at);
    assert_true(max_per_minute(&a->f) <= 40);
    rig_free(a);
    rig_free(b);
}

/* ---- every other (state, input) pair ---------------------------------------------------- */

static void test_unexpected_inputs_are_recorded_and_change_nothing(void **s)
{
    (void)s;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    struct rig *g = rig_new(&cfg, 2);
    struct fleet_rollout_device_result d = {0, FLEET_ROLLOUT_SUCCEEDED};
    struct fleet_rollout_timer t = {FLEET_ROLLOUT_TIMER_RATE, 1};
    /* IDLE: results, timers, resume, cancel, rollback done */
    step(g, FLEET_ROLLOUT_IN_DEVICE_RESULT, &d, 0);
    step(g, FLEET_ROLLOUT_IN_TIMER, &t, 0);
    step(g, FLEET_ROLLOUT_IN_RESUME, NULL, 0);
    step(g, FLEET_ROLLOUT_IN_CANCEL, NULL, 0);
    step(g, FLEET_ROLLOUT_IN_ROLLBACK_DONE, NULL, 0);
    assert_int_equal(g->f.n_unexpected, 5);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_IDLE);
    assert_int_equal(g->f.n_starts, 0);
    /* RUNNING: START again, RESUME, ROLLBACK_DONE */
    step(g, FLEET_ROLLOUT_IN_START, NULL, 1);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 2);
    step(g, FLEET_ROLLOUT_IN_RESUME, NULL, 2);
    step(g, FLEET_ROLLOUT_IN_ROLLBACK_DONE, NULL, 2);
    assert_int_equal(g->f.n_unexpected, 8);
    assert_int_equal(g->f.n_starts, 2);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_RUNNING);
    /* a timer nobody armed is stale */
    step(g, FLEET_ROLLOUT_IN_TIMER, &t, 3);
    assert_int_equal(stats(g).n_stale, 1);
    /* DONE: CANCEL and RESUME are unexpected, results late */
    result(g, 0, FLEET_ROLLOUT_SUCCEEDED, 4);
    result(g, 1, FLEET_ROLLOUT_SUCCEEDED, 4);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
    step(g, FLEET_ROLLOUT_IN_CANCEL, NULL, 5);
    step(g, FLEET_ROLLOUT_IN_RESUME, NULL, 5);
    result(g, 1, FLEET_ROLLOUT_FAILED, 5);
    assert_int_equal(g->f.n_unexpected, 10);
    assert_int_equal(stats(g).n_late, 1);
    assert_int_equal(stats(g).n_unexpected, 10);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_DONE);
    /* bad arguments are refused */
    struct fleet_rollout_device_result bad_dev = {2, FLEET_ROLLOUT_SUCCEEDED};
    struct fleet_rollout_device_result bad_res = {0, FLEET_ROLLOUT_RESULT_COUNT};
    struct fleet_rollout_timer bad_t = {FLEET_ROLLOUT_TIMER_COUNT, 1};
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_DEVICE_RESULT, &bad_dev, 6), SIM_EINVAL);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_DEVICE_RESULT, &bad_res, 6), SIM_EINVAL);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_DEVICE_RESULT, NULL, 6), SIM_EINVAL);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_TIMER, &bad_t, 6), SIM_EINVAL);
    assert_int_equal(step(g, FLEET_ROLLOUT_INPUT_COUNT, NULL, 6), SIM_EINVAL);
    assert_int_equal(fleet_rollout_step(NULL, FLEET_ROLLOUT_IN_START, NULL, 6), SIM_EINVAL);
    rig_free(g);
}

static void test_manual_cancel_while_paused(void **s)
{
    (void)s;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.error_threshold = 0.0;
    struct rig *g = rig_new(&cfg, 3);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    result(g, 0, FLEET_ROLLOUT_FAILED, 1);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_PAUSED);
    step(g, FLEET_ROLLOUT_IN_CANCEL, NULL, 2);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_CANCELLED);
    assert_int_equal(g->f.n_cancels, 2);
    assert_int_equal(g->f.n_waves, 2);
    assert_string_equal(g->f.waves[1].action, "cancel");
    assert_int_equal(stats(g).cancelled, 2);
    rig_free(g);
}

/* ---- configuration ----------------------------------------------------------------------- */

static void test_cfg_validate_rejects_bad_knobs(void **s)
{
    (void)s;
    struct fleet_rollout_cfg base = fleet_rollout_cfg_default();
    assert_int_equal(fleet_rollout_cfg_validate(&base, NULL), 0);
    static const struct {
        const char *name, *knob;
        int want;
    } cases[] = {
        {"no waves", "waves", SIM_ERANGE},
        {"percent over 100", "waves", SIM_ERANGE},
        {"success threshold over 1", "success_threshold", SIM_ERANGE},
        {"error threshold negative", "error_threshold", SIM_ERANGE},
        {"factor under AWS 1.1", "rate_factor", SIM_ERANGE},
        {"ramp without a maximum", "rate_base_per_min", SIM_ERANGE},
        {"ramp with both criteria", "rate_increase_after_*", SIM_EINVAL},
        {"retries over AWS 10", "retries", SIM_ERANGE},
        {"window of a whole day", "window_duration", SIM_ERANGE},
        {"unknown error action", "error_action", SIM_EINVAL},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fleet_rollout_cfg c = base;
        switch (i) {
        case 0:
            c.n_waves = 0;
            break;
        case 1:
            c.waves[0].amount = 100.5;
            break;
        case 2:
            c.success_threshold = 1.01;
            break;
        case 3:
            c.error_threshold = -0.1;
            break;
        case 4:
            c.rate_max_per_min = 10;
            c.rate_base_per_min = 1;
            c.rate_factor = 1.0;
            c.rate_increase_after_notified = 1;
            break;
        case 5:
            c.rate_base_per_min = 1;
            c.rate_increase_after_notified = 1;
            break;
        case 6:
            c.rate_max_per_min = 10;
            c.rate_base_per_min = 1;
            c.rate_increase_after_notified = 1;
            c.rate_increase_after_succeeded = 1;
            break;
        case 7:
            c.retries = 11;
            break;
        case 8:
            c.window_duration = DAY;
            break;
        default:
            c.error_action = 7;
            break;
        }
        struct sim_diag d;
        sim_diag_init(&d);
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(fleet_rollout_cfg_validate(&c, &d), cases[i].want);
        assert_non_null(strstr(d.text, cases[i].knob));
        struct fleet_rollout *r = NULL;
        struct fleet_rollout_ctx cx = {0};
        assert_int_equal(fleet_rollout_new(&c, 1, &cx, &r, NULL), cases[i].want);
        assert_null(r);
    }
}

/* ---- epochs (rollout.h "Epochs") -------------------------------------------------------- */

#define UP_HAWKBIT_SCHED                                                                           \
    "UPSTREAM: eclipse-hawkbit/hawkbit: hawkbit-repository/hawkbit-repository-jpa/.../scheduler/"  \
    "RolloutScheduler.java (hawkbit.rollout.scheduler.fixedDelay) @master"

/* Deliver the fake's pending answers as a world with an epoch does: at each epoch time T up
 * to `until`, the answers that arrived before T (fleet_rollout_epoch_ceil(E, at + 1) <= T),
 * in (arrival, device) order, as one EPOCH input. */
static void run_epochs(struct rig *g, int64_t epoch, int64_t from, int64_t until)
{
    struct fake *f = &g->f;
    for (int64_t t = from; t <= until; t += epoch) {
        struct fleet_rollout_device_result batch[MAX_PEND];
        uint32_t n = 0;
        for (;;) { /* take the earliest due answer, ties by device */
            int best = -1;
            for (int j = 0; j < f->n_pend; j++)
                if (fleet_rollout_epoch_ceil(epoch, f->pend[j].at + 1) <= t &&
                    (best < 0 || f->pend[j].at < f->pend[best].at ||
                     (f->pend[j].at == f->pend[best].at && f->pend[j].dev < f->pend[best].dev)))
                    best = j;
            if (best < 0)
                break;
            batch[n++] = (struct fleet_rollout_device_result){f->pend[best].dev, f->pend[best].res};
            f->pend[best] = f->pend[--f->n_pend];
        }
        struct fleet_rollout_epoch ep = {batch, n};
        assert_int_equal(step(g, FLEET_ROLLOUT_IN_EPOCH, &ep, t), 0);
    }
}

static void test_epoch_ceil_places_results_after_the_instant_they_arrive(void **s)
{
    (void)s;
    const int64_t e = 30 * SEC;
    static const struct {
        const char *name;
        int64_t t, want;
    } cases[] = {
        {"time 0 is an epoch time", 0, 0},
        {"1 ns after an epoch time: the next one", 1, 30 * SEC},
        {"an epoch time itself", 60 * SEC, 60 * SEC},
        {"1 ns before an epoch time: that one", 60 * SEC - 1, 60 * SEC},
        {"no overflow near the end of time", INT64_MAX - 5, INT64_MAX},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        assert_int_equal(fleet_rollout_epoch_ceil(e, cases[i].t), cases[i].want);
    }
    /* a result at an epoch time counts at the next one: the controller runs first */
    assert_int_equal(fleet_rollout_epoch_ceil(e, 60 * SEC + 1), 90 * SEC);
}

static uint8_t wave0_succeeds_at(void *arg, uint32_t dev, uint32_t attempt)
{
    (void)attempt;
    (void)arg;
    return dev == 0 ? FLEET_ROLLOUT_SUCCEEDED : NO_ANSWER;
}

/* Two waves of one device each; device 0's success arrives at `at`. The wave is decided,
 * and device 1 starts, at the epoch time that follows the arrival: just before a boundary
 * counts at that boundary, at or just after it at the next. */
static void test_epoch_a_result_just_before_and_just_after_a_boundary(void **s)
{
    (void)s;
    const int64_t e = 10 * SEC;
    static const struct {
        const char *name;
        int64_t at, decided;
    } cases[] = {
        {"1 ns after the start", 1, 10 * SEC},
        {"1 ns before the boundary", 10 * SEC - 1, 10 * SEC},
        {"at the boundary", 10 * SEC, 20 * SEC},
        {"1 ns after the boundary", 10 * SEC + 1, 20 * SEC},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s (%s)\n", cases[i].name, UP_HAWKBIT_SCHED);
        static const double pct[] = {50, 100};
        struct fleet_rollout_cfg cfg = cfg_waves(2, pct);
        cfg.epoch = e;
        struct rig *g = rig_new(&cfg, 2);
        g->f.outcome = wave0_succeeds_at;
        g->f.dur = cases[i].at;
        assert_int_equal(step(g, FLEET_ROLLOUT_IN_START, NULL, 0), 0);
        assert_int_equal(g->f.n_starts, 1);
        run_epochs(g, e, e, 40 * SEC);
        assert_int_equal(g->f.n_waves, 1);
        assert_string_equal(g->f.waves[0].action, "next");
        assert_int_equal(g->f.waves[0].end_ns, cases[i].decided);
        assert_int_equal(g->f.waves[0].succeeded, 1);
        assert_int_equal(g->f.n_starts, 2);
        assert_int_equal(g->f.starts[1].dev, 1);
        assert_int_equal(g->f.starts[1].at, cases[i].decided);
        assert_int_equal(g->f.next_gen, 0); /* no world timer was ever armed */
        rig_free(g);
    }
}

/* 2 starts per minute with a 45 s epoch: the rate allows the next starts at 60 s, which is
 * not an epoch time, so they happen at 90 s; the next at 150 s, so at 180 s. */
static void test_epoch_rate_limited_starts_happen_at_epoch_times(void **s)
{
    (void)s;
    print_message("%s\n%s\n", UP_AWS_RATE, UP_HAWKBIT_SCHED);
    const int64_t e = 45 * SEC;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.rate_max_per_min = 2;
    cfg.epoch = e;
    struct rig *g = rig_new(&cfg, 5);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_START, NULL, 0), 0);
    assert_int_equal(g->f.n_starts, 2);
    assert_int_equal(fleet_rollout_next_due(g->f.r), 90 * SEC);
    run_epochs(g, e, e, e);
    assert_int_equal(g->f.n_starts, 2);
    run_epochs(g, e, 2 * e, 2 * e);
    assert_int_equal(g->f.n_starts, 4);
    assert_int_equal(fleet_rollout_next_due(g->f.r), 180 * SEC);
    run_epochs(g, e, 3 * e, 4 * e);
    assert_int_equal(g->f.n_starts, 5);
    const int64_t want[] = {0, 0, 90 * SEC, 90 * SEC, 180 * SEC};
    for (uint32_t i = 0; i < 5; i++) {
        assert_int_equal(g->f.starts[i].dev, i);
        assert_int_equal(g->f.starts[i].at, want[i]);
    }
    assert_int_equal(fleet_rollout_next_due(g->f.r), INT64_MAX);
    assert_int_equal(g->f.next_gen, 0);
    rig_free(g);
}

/* A 25 s execution timeout with a 10 s epoch times the silent device out at 30 s. */
static void test_epoch_exec_timeout_fires_at_the_epoch_time_after_the_deadline(void **s)
{
    (void)s;
    print_message("%s\n", UP_AWS_TMO);
    const int64_t e = 10 * SEC;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.exec_timeout = 25 * SEC;
    cfg.epoch = e;
    struct rig *g = rig_new(&cfg, 1);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_START, NULL, 0), 0);
    assert_int_equal(fleet_rollout_next_due(g->f.r), 30 * SEC);
    run_epochs(g, e, e, 2 * e);
    assert_int_equal(g->f.n_cancels, 0);
    run_epochs(g, e, 3 * e, 3 * e);
    assert_int_equal(g->f.n_cancels, 1);
    assert_int_equal(g->f.cancel_at[0], 30 * SEC);
    assert_int_equal(stats(g).timed_out, 1);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_PAUSED); /* the only wave ended below 100 % */
    rig_free(g);
}

/* Results of one epoch time are taken in the order given: with an error threshold of one
 * failure, the failure given first trips the rollout and the success after it is late. */
static void test_epoch_batch_order_and_bad_epoch_inputs(void **s)
{
    (void)s;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    cfg.error_threshold_count = 1;
    cfg.error_action = FLEET_ROLLOUT_CANCEL;
    cfg.epoch = 5 * SEC;
    struct rig *g = rig_new(&cfg, 2);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_START, NULL, 0), 0);
    struct fleet_rollout_device_result b[] = {{1, FLEET_ROLLOUT_FAILED},
                                              {0, FLEET_ROLLOUT_SUCCEEDED}};
    struct fleet_rollout_epoch ep = {b, 2};
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_EPOCH, &ep, 3 * SEC), SIM_EINVAL); /* not on it */
    assert_int_equal(stats(g).failed, 0);
    struct fleet_rollout_device_result bad = {2, FLEET_ROLLOUT_FAILED};
    struct fleet_rollout_epoch ep_bad = {&bad, 1};
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_EPOCH, &ep_bad, 5 * SEC), SIM_EINVAL);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_EPOCH, NULL, 5 * SEC), SIM_EINVAL);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_EPOCH, &ep, 5 * SEC), 0);
    assert_int_equal(state(g), FLEET_ROLLOUT_ST_CANCELLED);
    assert_int_equal(stats(g).failed, 1);
    assert_int_equal(stats(g).succeeded, 0);
    assert_int_equal(stats(g).n_late, 1);
    assert_int_equal(g->f.n_cancels, 1);
    assert_int_equal(g->f.cancels[0], 0);
    assert_int_equal(g->f.cancel_at[0], 5 * SEC);
    rig_free(g);

    cfg.epoch = 0; /* without an epoch there is no EPOCH input */
    g = rig_new(&cfg, 2);
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_START, NULL, 0), 0);
    struct fleet_rollout_epoch none = {NULL, 0};
    assert_int_equal(step(g, FLEET_ROLLOUT_IN_EPOCH, &none, 0), SIM_EINVAL);
    rig_free(g);

    cfg.epoch = -1;
    struct sim_diag d;
    sim_diag_init(&d);
    assert_int_equal(fleet_rollout_cfg_validate(&cfg, &d), SIM_ERANGE);
    assert_non_null(strstr(d.text, "epoch"));
}

static void test_a_million_devices_cost_a_byte_each(void **s)
{
    (void)s;
    struct fleet_rollout_cfg cfg = fleet_rollout_cfg_default();
    struct rig *g = rig_new(&cfg, 1000000);
    step(g, FLEET_ROLLOUT_IN_START, NULL, 0);
    assert_int_equal(stats(g).in_progress, 1000000);
    assert_int_equal(g->f.n_starts_total, 1000000);
    result(g, 999999, FLEET_ROLLOUT_SUCCEEDED, SEC);
    assert_int_equal(fleet_rollout_device_get(g->f.r, 999999), FLEET_ROLLOUT_DEV_SUCCEEDED);
    rig_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_threshold_and_min_executed),
        cmocka_unit_test(test_error_action_cancel_cancels_in_progress_devices),
        cmocka_unit_test(test_error_action_rollback_calls_the_world_then_rolled_back),
        cmocka_unit_test(test_error_pause_then_resume_continues_the_same_wave),
        cmocka_unit_test(test_failed_count_restarts_from_the_resume),
        cmocka_unit_test(test_success_threshold_gates_the_next_wave),
        cmocka_unit_test(test_empty_wave_counts_as_successful),
        cmocka_unit_test(test_wave_sizes_percent_of_remaining_and_count),
        cmocka_unit_test(test_rate_limit_no_minute_holds_more_than_the_maximum),
        cmocka_unit_test(test_exponential_ramp_multiplies_after_notified_and_caps),
        cmocka_unit_test(test_exponential_ramp_after_succeeded_waits_for_successes),
        cmocka_unit_test(test_exec_timeout_and_retries),
        cmocka_unit_test(test_exec_timeout_ignores_answered_and_late_answers_are_counted),
        cmocka_unit_test(test_a_retry_starts_before_never_started_devices),
        cmocka_unit_test(test_maintenance_window_no_start_outside_and_end_behaviours),
        cmocka_unit_test(test_window_edges_are_half_open),
        cmocka_unit_test(test_same_config_and_seed_give_same_starts),
        cmocka_unit_test(test_unexpected_inputs_are_recorded_and_change_nothing),
        cmocka_unit_test(test_manual_cancel_while_paused),
        cmocka_unit_test(test_cfg_validate_rejects_bad_knobs),
        cmocka_unit_test(test_epoch_ceil_places_results_after_the_instant_they_arrive),
        cmocka_unit_test(test_epoch_a_result_just_before_and_just_after_a_boundary),
        cmocka_unit_test(test_epoch_rate_limited_starts_happen_at_epoch_times),
        cmocka_unit_test(test_epoch_exec_timeout_fires_at_the_epoch_time_after_the_deadline),
        cmocka_unit_test(test_epoch_batch_order_and_bad_epoch_inputs),
        cmocka_unit_test(test_a_million_devices_cost_a_byte_each),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
