/* models/fleet/rollout.c - the rollout controller (states and knobs in rollout.h).
 * Rules mirrored: eclipse-hawkbit/hawkbit hawkbit-repository-jpa JpaRolloutManager
 * (group sizes: Math.round(targetPercentage / 100 * remaining)) and rollout/condition/
 * (ThresholdRolloutGroupSuccessCondition ">=", ThresholdRolloutGroupErrorCondition ">",
 * empty group successful); AWS IoT API Reference AbortCriteria, ExponentialRolloutRate,
 * RateIncreaseCriteria, TimeoutConfig, JobExecutionsRetryConfig, SchedulingConfig;
 * Azure Device Update for IoT Hub rollbackPolicy and devicesFailedCount (Microsoft Learn,
 * Device Update documentation).
 */
#include "models/fleet/rollout.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Per-device byte:
 *   BITS  FIELD
 *   0-2   enum fleet_rollout_device_status
 *   3-6   retries used (0..FLEET_ROLLOUT_MAX_RETRIES)
 *   7     started at least once (a restart after a window cancel is not "notified" again)
 */
#define DEV_STATUS_MASK 0x07u
#define DEV_RETRY_SHIFT 3
#define DEV_RETRY_MASK  0x78u
#define DEV_EVER        0x80u

#define FULL_CHECK_MAX 4096u

enum pause_reason { PAUSE_NONE, PAUSE_ERROR, PAUSE_WAVE };

struct wave_stat {
    int64_t start_ns;
    uint32_t succeeded, failed, errors, ended; /* final outcomes in this wave */
    bool decided; /* success or stop decided: the wave is no longer evaluated */
    bool err_ack; /* paused on errors and resumed: its error condition is not re-checked */
};

/* One pending execution deadline; deadlines grow in push order (now + a constant). */
struct exec_ent {
    int64_t deadline;
    uint32_t device;
    uint8_t tag; /* retries used at the start: an older start of the same device is stale */
};

struct fleet_rollout {
    struct fleet_rollout_cfg cfg;
    const struct fleet_rollout_ctx *cx;
    uint32_t n_devices;
    uint8_t *dev; /* n_devices bytes, layout above */

    uint32_t bound[FLEET_ROLLOUT_MAX_WAVES + 1]; /* wave k = [bound[k], bound[k + 1]) */
    struct wave_stat ws[FLEET_ROLLOUT_MAX_WAVES];
    uint32_t open_end;    /* bound[waves_opened] */
    uint32_t errors_base; /* st.errors when a person last resumed an error pause */
    uint32_t cursor;      /* first-start scan; below it, QUEUED devices are in rq */

    struct fleet_rollout_stats st;
    uint8_t state, pause_reason;
    bool window_open;

    /* Rate: the last rate_cap start times, oldest overwritten. */
    int64_t *rate_ring;
    uint32_t rate_cap, rate_head, rate_n;
    double rate_cur;
    uint32_t since_notified, since_succeeded;

    /* Devices queued again (retry, window-end cancel), started before the cursor's: a
     * FIFO ring grown on demand, so a retry never rescans the started devices. */
    uint32_t *rq;
    uint32_t rq_cap, rq_head, rq_n;

    /* Execution deadlines, a FIFO ring grown on demand. */
    struct exec_ent *ex;
    uint32_t ex_cap, ex_head, ex_n;

    uint32_t gen[FLEET_ROLLOUT_TIMER_COUNT];
    int64_t armed_at[FLEET_ROLLOUT_TIMER_COUNT];
    bool armed[FLEET_ROLLOUT_TIMER_COUNT];
};

/* ---- configuration --------------------------------------------------------------- */

struct fleet_rollout_cfg fleet_rollout_cfg_default(void)
{
    return (struct fleet_rollout_cfg){
        .n_waves = 1,
        .waves = {{FLEET_ROLLOUT_WAVE_PERCENT, 100.0}},
        .success_threshold = 1.0, /* hawkBit successCondition THRESHOLD "100" */
        .success_action = FLEET_ROLLOUT_NEXT,
        .error_threshold = 1.0, /* errors / target > 1 never holds: off */
        .error_min_executed = 1,
        .error_of_executed = false,
        .error_threshold_count = 0,
        .error_failure_types = FLEET_ROLLOUT_F_ALL,
        .error_action = FLEET_ROLLOUT_PAUSE,
        .rate_max_per_min = 0,
        .rate_base_per_min = 0,
        .rate_factor = 2.0,
        .rate_increase_after_notified = 0,
        .rate_increase_after_succeeded = 0,
        .exec_timeout = 0,
        .retries = 0,
        .retry_on = FLEET_ROLLOUT_F_FAILED | FLEET_ROLLOUT_F_TIMED_OUT,
        .window_start = 0,
        .window_duration = 0,
        .end_behavior = FLEET_ROLLOUT_END_STOP,
        .epoch = 0,
    };
}

static bool frac_ok(double x)
{
    return isfinite(x) && x >= 0.0 && x <= 1.0;
}

static int bad(struct sim_diag *d, int *rc, int code, const char *fmt, const char *knob, double v)
{
    sim_diag_add(d, fmt, knob, v);
    if (*rc == 0)
        *rc = code;
    return *rc;
}

static void validate_waves(const struct fleet_rollout_cfg *c, struct sim_diag *d, int *rc)
{
    if (c->n_waves < 1 || c->n_waves > FLEET_ROLLOUT_MAX_WAVES) {
        bad(d, rc, SIM_ERANGE, "rollout: %s is %g; give 1 to 32 waves", "waves",
            (double)c->n_waves);
        return;
    }
    for (uint32_t k = 0; k < c->n_waves; k++) {
        const struct fleet_rollout_wave *w = &c->waves[k];
        double max = w->kind == FLEET_ROLLOUT_WAVE_PERCENT ? 100.0 : (double)UINT32_MAX;
        if (w->kind > FLEET_ROLLOUT_WAVE_COUNT)
            bad(d, rc, SIM_EINVAL, "rollout: %s has an unknown kind %g; use a percent or a count",
                "waves", (double)w->kind);
        else if (!isfinite(w->amount) || w->amount < 0.0 || w->amount > max)
            bad(d, rc, SIM_ERANGE,
                "rollout: %s amount %g is out of range; a percent lies in 0-100%%, a count is "
                ">= 0",
                "waves", w->amount);
    }
}

static void validate_rate(const struct fleet_rollout_cfg *c, struct sim_diag *d, int *rc)
{
    if (c->rate_max_per_min > FLEET_ROLLOUT_MAX_RATE)
        bad(d, rc, SIM_ERANGE, "rollout: %s is %g; the most is 100000 (0 = unlimited)",
            "rate_max_per_min", (double)c->rate_max_per_min);
    if (c->rate_base_per_min == 0)
        return;
    if (c->rate_max_per_min == 0 || c->rate_base_per_min > c->rate_max_per_min)
        bad(d, rc, SIM_ERANGE,
            "rollout: %s is %g; an exponential ramp needs 1 <= base <= rate_max_per_min",
            "rate_base_per_min", (double)c->rate_base_per_min);
    if (!isfinite(c->rate_factor) || c->rate_factor < 1.1 || c->rate_factor > 5.0)
        bad(d, rc, SIM_ERANGE, "rollout: %s is %g; AWS incrementFactor allows 1.1 to 5",
            "rate_factor", c->rate_factor);
    if ((c->rate_increase_after_notified > 0) == (c->rate_increase_after_succeeded > 0))
        bad(d, rc, SIM_EINVAL,
            "rollout: %s: set exactly one of rate_increase_after_notified and "
            "rate_increase_after_succeeded (got %g set)",
            "rate_increase_after_*",
            (double)((c->rate_increase_after_notified > 0) +
                     (c->rate_increase_after_succeeded > 0)));
}

int fleet_rollout_cfg_validate(const struct fleet_rollout_cfg *c, struct sim_diag *d)
{
    int rc = 0;
    if (!c)
        return SIM_EINVAL;
    validate_waves(c, d, &rc);
    if (!frac_ok(c->success_threshold))
        bad(d, &rc, SIM_ERANGE, "rollout: %s is %g; give 0%% to 100%%", "success_threshold",
            c->success_threshold);
    if (!frac_ok(c->error_threshold))
        bad(d, &rc, SIM_ERANGE, "rollout: %s is %g; give 0%% to 100%%", "error_threshold",
            c->error_threshold);
    if (c->success_action > FLEET_ROLLOUT_PAUSE_ON_SUCCESS)
        bad(d, &rc, SIM_EINVAL, "rollout: %s %g is unknown; use next or pause", "success_action",
            (double)c->success_action);
    if (c->error_action > FLEET_ROLLOUT_ROLLBACK)
        bad(d, &rc, SIM_EINVAL, "rollout: %s %g is unknown; use pause, cancel or rollback",
            "error_action", (double)c->error_action);
    if (c->error_failure_types & ~FLEET_ROLLOUT_F_ALL)
        bad(d, &rc, SIM_EINVAL,
            "rollout: %s mask %g has unknown bits; use failed, rejected, timed_out",
            "error_failure_types", (double)c->error_failure_types);
    if (c->retry_on & ~FLEET_ROLLOUT_F_ALL)
        bad(d, &rc, SIM_EINVAL,
            "rollout: %s mask %g has unknown bits; use failed, rejected, timed_out", "retry_on",
            (double)c->retry_on);
    validate_rate(c, d, &rc);
    if (c->exec_timeout < 0)
        bad(d, &rc, SIM_ERANGE, "rollout: %s is %g ns; give 0 (none) or a positive time",
            "exec_timeout", (double)c->exec_timeout);
    if (c->retries > FLEET_ROLLOUT_MAX_RETRIES)
        bad(d, &rc, SIM_ERANGE, "rollout: %s is %g; AWS numberOfRetries allows 0 to 10", "retries",
            (double)c->retries);
    if (c->window_duration < 0 || c->window_duration >= FLEET_ROLLOUT_DAY_NS)
        bad(d, &rc, SIM_ERANGE,
            "rollout: %s is %g ns; give 0 (no window) or less than 24 h (daily window)",
            "window_duration", (double)c->window_duration);
    if (c->window_start < 0 || c->window_start >= FLEET_ROLLOUT_DAY_NS)
        bad(d, &rc, SIM_ERANGE, "rollout: %s is %g ns; give a time of day in [0, 24h)",
            "window_start", (double)c->window_start);
    if (c->epoch < 0)
        bad(d, &rc, SIM_ERANGE, "rollout: %s is %g ns; give 0 (continuous) or a positive time",
            "epoch", (double)c->epoch);
    if (c->end_behavior > FLEET_ROLLOUT_END_CANCEL)
        bad(d, &rc, SIM_EINVAL, "rollout: %s %g is unknown; use stop or cancel", "end_behavior",
            (double)c->end_behavior);
    return rc;
}

/* ---- lifetime ---------------------------------------------------------------------- */

int fleet_rollout_new(const struct fleet_rollout_cfg *cfg, uint32_t n_devices,
                      const struct fleet_rollout_ctx *cx, struct fleet_rollout **out,
                      struct sim_diag *diag)
{
    if (!cfg || !cx || !out)
        return SIM_EINVAL;
    int rc = fleet_rollout_cfg_validate(cfg, diag);
    if (rc)
        return rc;
    struct fleet_rollout *r = calloc(1, sizeof(*r));
    if (!r)
        return SIM_ENOMEM;
    r->cfg = *cfg;
    r->cx = cx;
    r->n_devices = n_devices;
    r->dev = calloc(n_devices ? n_devices : 1, 1); /* 0 = QUEUED, no retry, never started */
    if (!r->dev)
        goto fail;
    r->rate_cap = cfg->rate_max_per_min;
    if (r->rate_cap) {
        r->rate_ring = calloc(r->rate_cap, sizeof(*r->rate_ring));
        if (!r->rate_ring)
            goto fail;
    }
    r->rate_cur =
        cfg->rate_base_per_min ? (double)cfg->rate_base_per_min : (double)cfg->rate_max_per_min;
    r->st.rate_limit = (uint32_t)r->rate_cur;
    r->st.n_devices = n_devices;
    r->state = FLEET_ROLLOUT_ST_IDLE;
    *out = r;
    return 0;
fail:
    fleet_rollout_free(r);
    return SIM_ENOMEM;
}

void fleet_rollout_free(struct fleet_rollout *r)
{
    if (!r)
        return;
    free(r->ex);
    free(r->rq);
    free(r->rate_ring);
    free(r->dev);
    free(r);
}

/* ---- small helpers ------------------------------------------------------------------ */

static unsigned dev_status(const struct fleet_rollout *r, uint32_t i)
{
    return r->dev[i] & DEV_STATUS_MASK;
}

static unsigned dev_retries(const struct fleet_rollout *r, uint32_t i)
{
    return (r->dev[i] & DEV_RETRY_MASK) >> DEV_RETRY_SHIFT;
}

static void dev_set_status(struct fleet_rollout *r, uint32_t i, unsigned s)
{
    r->dev[i] = (uint8_t)((r->dev[i] & ~DEV_STATUS_MASK) | s);
}

static uint32_t wave_of(const struct fleet_rollout *r, uint32_t i)
{
    uint32_t lo = 0, hi = r->cfg.n_waves - 1; /* the wave k with bound[k] <= i < bound[k+1] */
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (i < r->bound[mid + 1])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static uint32_t wave_target(const struct fleet_rollout *r, uint32_t k)
{
    return r->bound[k + 1] - r->bound[k];
}

static bool active(const struct fleet_rollout *r)
{
    return r->state == FLEET_ROLLOUT_ST_RUNNING || r->state == FLEET_ROLLOUT_ST_WAITING_WINDOW;
}

/* Without an epoch the world's timer fires at `at`; with one, the timer is due at the
 * first epoch time >= at, and an EPOCH input fires it (on_epoch). */
static void arm(struct fleet_rollout *r, int t, int64_t at)
{
    r->gen[t] = r->cfg.epoch > 0 ? r->gen[t] + 1 : r->cx->timer_arm(r->cx->env, t, at);
    r->armed[t] = true;
    r->armed_at[t] = at;
}

int64_t fleet_rollout_epoch_ceil(int64_t epoch, int64_t t)
{
    int64_t k = t / epoch + (t % epoch != 0);
    return k > INT64_MAX / epoch ? INT64_MAX : k * epoch;
}

int64_t fleet_rollout_next_due(const struct fleet_rollout *r)
{
    int64_t due = INT64_MAX;
    for (int t = 0; r->cfg.epoch > 0 && t < FLEET_ROLLOUT_TIMER_COUNT; t++) {
        int64_t at = fleet_rollout_epoch_ceil(r->cfg.epoch, r->armed_at[t]);
        if (r->armed[t] && at < due)
            due = at;
    }
    return due;
}

static void unexpected(struct fleet_rollout *r, int in, int64_t now)
{
    r->st.n_unexpected++;
    if (r->cx->unexpected)
        r->cx->unexpected(r->cx->env, r->state, in, now);
}

static void emit_wave(struct fleet_rollout *r, uint32_t k, const char *action, int64_t now)
{
    const struct wave_stat *w = &r->ws[k];
    struct recorder_wave rec = {.wave = k,
                                .start_ns = w->start_ns,
                                .end_ns = now,
                                .target = wave_target(r, k),
                                .succeeded = w->succeeded,
                                .failed = w->failed,
                                .action = action};
    r->cx->emit_wave(r->cx->env, &rec);
}

bool fleet_rollout_window_open(const struct fleet_rollout_cfg *c, int64_t now)
{
    if (c->window_duration == 0)
        return true;
    int64_t phase = ((now - c->window_start) % FLEET_ROLLOUT_DAY_NS + FLEET_ROLLOUT_DAY_NS) %
                    FLEET_ROLLOUT_DAY_NS;
    return phase < c->window_duration;
}

/* The next window edge strictly after now. */
static int64_t window_next_edge(const struct fleet_rollout_cfg *c, int64_t now)
{
    int64_t phase = ((now - c->window_start) % FLEET_ROLLOUT_DAY_NS + FLEET_ROLLOUT_DAY_NS) %
                    FLEET_ROLLOUT_DAY_NS;
    return phase < c->window_duration ? now + (c->window_duration - phase)
                                      : now + (FLEET_ROLLOUT_DAY_NS - phase);
}

/* hawkBit JpaRolloutManager: each group takes Math.round(pct / 100 * remaining), i.e.
 * floor(x + 0.5); a count takes min(count, remaining). */
static void compute_bounds(struct fleet_rollout *r)
{
    uint32_t at = 0;
    for (uint32_t k = 0; k < r->cfg.n_waves; k++) {
        const struct fleet_rollout_wave *w = &r->cfg.waves[k];
        uint32_t remaining = r->n_devices - at;
        double want = w->kind == FLEET_ROLLOUT_WAVE_PERCENT
                          ? floor(w->amount / 100.0 * (double)remaining + 0.5)
                          : floor(w->amount);
        uint32_t n = want >= (double)remaining ? remaining : (uint32_t)want;
        r->bound[k] = at;
        at += n;
    }
    r->bound[r->cfg.n_waves] = at;
    r->st.n_excluded = r->n_devices - at;
}

/* ---- rate limit --------------------------------------------------------------------- */

static uint32_t rate_limit(const struct fleet_rollout *r)
{
    if (r->cfg.rate_max_per_min == 0)
        return 0;
    uint32_t l = (uint32_t)floor(r->rate_cur);
    return l < 1 ? 1 : l;
}

/* May a device start at now? If not, *at is the earliest time it may. */
static bool rate_allows(const struct fleet_rollout *r, int64_t now, int64_t *at)
{
    uint32_t lim = rate_limit(r);
    if (lim == 0 || r->rate_n < lim)
        return true;
    /* The lim-th most recent start: a new one must be at least a minute after it, so that
     * no 60 s span [a, a + 60 s) holds lim + 1 starts. */
    uint32_t idx = (r->rate_head + r->rate_cap - lim) % r->rate_cap;
    *at = r->rate_ring[idx] + FLEET_ROLLOUT_MINUTE_NS;
    return *at <= now;
}

static void rate_push(struct fleet_rollout *r, int64_t now)
{
    if (r->rate_cap == 0)
        return;
    r->rate_ring[r->rate_head] = now;
    r->rate_head = (r->rate_head + 1) % r->rate_cap;
    if (r->rate_n < r->rate_cap)
        r->rate_n++;
}

/* AWS ExponentialRolloutRate: after each criterion count, rate *= factor, capped. */
static void ramp(struct fleet_rollout *r, uint32_t *since, uint32_t every)
{
    if (r->cfg.rate_base_per_min == 0 || every == 0)
        return;
    if (++*since < every)
        return;
    *since = 0;
    r->rate_cur *= r->cfg.rate_factor;
    if (r->rate_cur > (double)r->cfg.rate_max_per_min)
        r->rate_cur = (double)r->cfg.rate_max_per_min;
    r->st.rate_limit = rate_limit(r);
}

/* ---- execution deadlines ------------------------------------------------------------ */

static int ex_push(struct fleet_rollout *r, uint32_t i, int64_t deadline)
{
    if (r->ex_n == r->ex_cap) {
        uint32_t cap = r->ex_cap ? r->ex_cap * 2 : 64;
        struct exec_ent *n = malloc((size_t)cap * sizeof(*n));
        if (!n)
            return SIM_ENOMEM;
        for (uint32_t j = 0; j < r->ex_n; j++)
            n[j] = r->ex[(r->ex_head + j) % r->ex_cap];
        free(r->ex);
        r->ex = n;
        r->ex_cap = cap;
        r->ex_head = 0;
    }
    r->ex[(r->ex_head + r->ex_n) % r->ex_cap] =
        (struct exec_ent){deadline, i, (uint8_t)dev_retries(r, i)};
    r->ex_n++;
    if (!r->armed[FLEET_ROLLOUT_TIMER_EXEC])
        arm(r, FLEET_ROLLOUT_TIMER_EXEC, r->ex[r->ex_head].deadline);
    return 0;
}

static void ex_clear(struct fleet_rollout *r)
{
    r->ex_n = 0;
    r->ex_head = 0;
}

/* ---- starting, ending, cancelling --------------------------------------------------- */

static int start(struct fleet_rollout *r, uint32_t i, int64_t now)
{
    bool first = !(r->dev[i] & DEV_EVER);
    dev_set_status(r, i, FLEET_ROLLOUT_DEV_IN_PROGRESS);
    r->dev[i] |= DEV_EVER;
    r->st.queued--;
    r->st.in_progress++;
    r->st.starts++;
    rate_push(r, now);
    if (first) {
        r->st.notified++;
        ramp(r, &r->since_notified, r->cfg.rate_increase_after_notified);
    }
    int rc = r->cfg.exec_timeout > 0 ? ex_push(r, i, now + r->cfg.exec_timeout) : 0;
    r->cx->start_device(r->cx->env, i, now);
    return rc;
}

/* The next device to start: the oldest one queued again, else the next never-started one
 * at the cursor. Returns false when none is queued. */
static bool next_queued(struct fleet_rollout *r, uint32_t *i, bool *from_rq)
{
    while (r->rq_n > 0) {
        *i = r->rq[r->rq_head];
        if (dev_status(r, *i) == FLEET_ROLLOUT_DEV_QUEUED) {
            *from_rq = true;
            return true;
        }
        r->rq_head = (r->rq_head + 1) % r->rq_cap; /* started by the cursor meanwhile */
        r->rq_n--;
    }
    while (r->cursor < r->open_end && dev_status(r, r->cursor) != FLEET_ROLLOUT_DEV_QUEUED)
        r->cursor++;
    *i = r->cursor;
    *from_rq = false;
    return r->cursor < r->open_end;
}

/* Start what the state, the window, the rate and the opened waves allow. */
static int pump(struct fleet_rollout *r, int64_t now)
{
    int rc = 0;
    if (r->state != FLEET_ROLLOUT_ST_RUNNING)
        return 0;
    /* The window's edge timer may come after another timer of the same instant (the engine
     * orders ties by insertion): never start at or past the closing edge. */
    if (!fleet_rollout_window_open(&r->cfg, now))
        return 0;
    uint32_t i;
    bool from_rq;
    while (r->st.queued > 0 && next_queued(r, &i, &from_rq)) {
        int64_t at = now;
        if (!rate_allows(r, now, &at)) {
            if (!r->armed[FLEET_ROLLOUT_TIMER_RATE] || r->armed_at[FLEET_ROLLOUT_TIMER_RATE] != at)
                arm(r, FLEET_ROLLOUT_TIMER_RATE, at);
            return rc;
        }
        if (from_rq) {
            r->rq_head = (r->rq_head + 1) % r->rq_cap;
            r->rq_n--;
        } else {
            r->cursor++;
        }
        int e = start(r, i, now);
        if (e && !rc)
            rc = e;
    }
    return rc;
}

static int rq_push(struct fleet_rollout *r, uint32_t i)
{
    if (r->rq_n == r->rq_cap) {
        uint32_t cap = r->rq_cap ? r->rq_cap * 2 : 64;
        uint32_t *n = malloc((size_t)cap * sizeof(*n));
        if (!n)
            return SIM_ENOMEM;
        for (uint32_t j = 0; j < r->rq_n; j++)
            n[j] = r->rq[(r->rq_head + j) % r->rq_cap];
        free(r->rq);
        r->rq = n;
        r->rq_cap = cap;
        r->rq_head = 0;
    }
    r->rq[(r->rq_head + r->rq_n) % r->rq_cap] = i;
    r->rq_n++;
    return 0;
}

static void requeue(struct fleet_rollout *r, uint32_t i)
{
    dev_set_status(r, i, FLEET_ROLLOUT_DEV_QUEUED);
    r->st.queued++;
    if (rq_push(r, i) != 0 && i < r->cursor)
        r->cursor = i; /* out of memory: the cursor scan finds it again, slower */
}

/* Cancel every device in progress; with `keep`, queue them again (window end), else
 * they and the queued ones end CANCELLED (rollout stopped). */
static void cancel_all(struct fleet_rollout *r, bool keep, int64_t now)
{
    for (uint32_t i = 0; i < r->open_end; i++) {
        unsigned s = dev_status(r, i);
        if (s == FLEET_ROLLOUT_DEV_IN_PROGRESS) {
            r->st.in_progress--;
            r->cx->cancel_device(r->cx->env, i, now);
            if (keep) {
                r->st.window_cancels++;
                requeue(r, i);
                continue;
            }
            dev_set_status(r, i, FLEET_ROLLOUT_DEV_CANCELLED);
            r->st.cancelled++;
        } else if (s == FLEET_ROLLOUT_DEV_QUEUED && !keep) {
            r->st.queued--;
            dev_set_status(r, i, FLEET_ROLLOUT_DEV_CANCELLED);
            r->st.cancelled++;
        }
    }
    if (!keep) {
        r->cursor = r->open_end;
        r->rq_n = 0;
        r->rq_head = 0;
    }
    ex_clear(r); /* every deadline left belonged to a device no longer in progress */
}

static void open_wave(struct fleet_rollout *r, uint32_t k, int64_t now)
{
    r->ws[k].start_ns = now;
    r->st.waves_opened = k + 1;
    r->open_end = r->bound[k + 1];
    r->st.queued += wave_target(r, k);
    if (r->bound[k] < r->cursor)
        r->cursor = r->bound[k];
}

static bool errors_trip(const struct fleet_rollout *r, uint32_t k)
{
    const struct wave_stat *w = &r->ws[k];
    if (r->cfg.error_threshold_count > 0 &&
        r->st.errors - r->errors_base >= r->cfg.error_threshold_count)
        return true; /* Azure devicesFailedCount */
    uint32_t denom = r->cfg.error_of_executed ? w->ended : wave_target(r, k);
    if (denom == 0 || w->ended < r->cfg.error_min_executed)
        return false; /* AWS minNumberOfExecutedThings */
    return (double)w->errors / (double)denom > r->cfg.error_threshold; /* hawkBit ">" */
}

static bool success_met(const struct fleet_rollout *r, uint32_t k)
{
    uint32_t target = wave_target(r, k);
    if (target == 0)
        return true; /* hawkBit: an empty group counts as successful */
    return (double)r->ws[k].succeeded / (double)target >= r->cfg.success_threshold;
}

static void stop(struct fleet_rollout *r, uint8_t action, int64_t now)
{
    cancel_all(r, false, now);
    if (action == FLEET_ROLLOUT_ROLLBACK) {
        r->state = FLEET_ROLLOUT_ST_ROLLING_BACK;
        r->cx->rollback(r->cx->env, now);
    } else {
        r->state = FLEET_ROLLOUT_ST_CANCELLED;
    }
}

static void trip(struct fleet_rollout *r, uint32_t k, int64_t now)
{
    static const char *const names[] = {"pause", "cancel", "rollback"};
    emit_wave(r, k, names[r->cfg.error_action], now);
    if (r->cfg.error_action == FLEET_ROLLOUT_PAUSE) {
        r->state = FLEET_ROLLOUT_ST_PAUSED;
        r->pause_reason = PAUSE_ERROR;
        return;
    }
    r->ws[k].decided = true;
    stop(r, r->cfg.error_action, now);
}

/* Decide the current wave while the rollout is active: errors, success, or stuck. */
static void evaluate(struct fleet_rollout *r, int64_t now)
{
    while (active(r)) {
        uint32_t k = r->st.waves_opened - 1;
        struct wave_stat *w = &r->ws[k];
        bool last = k + 1 == r->cfg.n_waves;
        if (w->decided)
            return;
        if (!w->err_ack && errors_trip(r, k)) {
            trip(r, k, now);
            return;
        }
        if (success_met(r, k)) {
            w->decided = true;
            if (last) {
                emit_wave(r, k, "done", now);
                return;
            }
            if (r->cfg.success_action == FLEET_ROLLOUT_PAUSE_ON_SUCCESS) {
                emit_wave(r, k, "pause", now);
                r->state = FLEET_ROLLOUT_ST_PAUSED;
                r->pause_reason = PAUSE_WAVE;
                return;
            }
            emit_wave(r, k, "next", now);
            open_wave(r, k + 1, now);
            continue; /* an empty next wave is decided at once */
        }
        if (w->ended == wave_target(r, k)) { /* all ended below the threshold: stuck */
            w->decided = true;
            emit_wave(r, k, "pause", now);
            r->state = FLEET_ROLLOUT_ST_PAUSED;
            r->pause_reason = PAUSE_WAVE;
        }
        return;
    }
}

static void maybe_done(struct fleet_rollout *r)
{
    if (!active(r) || r->st.waves_opened != r->cfg.n_waves)
        return;
    if (!r->ws[r->cfg.n_waves - 1].decided || r->st.queued || r->st.in_progress)
        return;
    r->state = FLEET_ROLLOUT_ST_DONE;
    ex_clear(r);
}

/* Device i (in progress) ended with res. */
static void device_ended(struct fleet_rollout *r, uint32_t i, unsigned res)
{
    r->st.in_progress--;
    unsigned bit = 1u << res;
    bool can_requeue = active(r) || r->state == FLEET_ROLLOUT_ST_PAUSED;
    if (res != FLEET_ROLLOUT_SUCCEEDED && (r->cfg.retry_on & bit) &&
        dev_retries(r, i) < r->cfg.retries && can_requeue) {
        r->dev[i] = (uint8_t)(r->dev[i] + (1u << DEV_RETRY_SHIFT));
        r->st.retries++;
        requeue(r, i);
        return;
    }
    struct wave_stat *w = &r->ws[wave_of(r, i)];
    w->ended++;
    if (res == FLEET_ROLLOUT_SUCCEEDED) {
        dev_set_status(r, i, FLEET_ROLLOUT_DEV_SUCCEEDED);
        w->succeeded++;
        r->st.succeeded++;
        ramp(r, &r->since_succeeded, r->cfg.rate_increase_after_succeeded);
        return;
    }
    static const uint8_t status[] = {0, FLEET_ROLLOUT_DEV_FAILED, FLEET_ROLLOUT_DEV_REJECTED,
                                     FLEET_ROLLOUT_DEV_TIMED_OUT};
    dev_set_status(r, i, status[res]);
    w->failed++;
    if (res == FLEET_ROLLOUT_FAILED)
        r->st.failed++;
    else if (res == FLEET_ROLLOUT_REJECTED)
        r->st.rejected++;
    else
        r->st.timed_out++;
    if (r->cfg.error_failure_types & bit) {
        w->errors++;
        r->st.errors++;
    }
}

static void exec_fire(struct fleet_rollout *r, int64_t now)
{
    while (r->ex_n > 0 && r->ex[r->ex_head].deadline <= now) {
        struct exec_ent e = r->ex[r->ex_head];
        r->ex_head = (r->ex_head + 1) % r->ex_cap;
        r->ex_n--;
        if (dev_status(r, e.device) != FLEET_ROLLOUT_DEV_IN_PROGRESS ||
            dev_retries(r, e.device) != e.tag)
            continue; /* ended or restarted since: a stale deadline */
        r->st.timeouts_fired++;
        r->cx->cancel_device(r->cx->env, e.device, now); /* AWS: execution TIMED_OUT */
        device_ended(r, e.device, FLEET_ROLLOUT_TIMED_OUT);
        evaluate(r, now);
    }
    if (r->ex_n > 0)
        arm(r, FLEET_ROLLOUT_TIMER_EXEC, r->ex[r->ex_head].deadline);
}

static void window_fire(struct fleet_rollout *r, int64_t now)
{
    bool terminal = !active(r) && r->state != FLEET_ROLLOUT_ST_PAUSED;
    if (terminal)
        return; /* nothing to start any more: let the window timer lapse */
    bool was = r->window_open;
    r->window_open = fleet_rollout_window_open(&r->cfg, now);
    arm(r, FLEET_ROLLOUT_TIMER_WINDOW, window_next_edge(&r->cfg, now));
    if (was && !r->window_open && r->cfg.end_behavior == FLEET_ROLLOUT_END_CANCEL)
        cancel_all(r, true, now);
    if (r->state == FLEET_ROLLOUT_ST_RUNNING && !r->window_open)
        r->state = FLEET_ROLLOUT_ST_WAITING_WINDOW;
    else if (r->state == FLEET_ROLLOUT_ST_WAITING_WINDOW && r->window_open)
        r->state = FLEET_ROLLOUT_ST_RUNNING;
}

/* ---- inputs -------------------------------------------------------------------------- */

static void set_active(struct fleet_rollout *r)
{
    r->state = r->window_open ? FLEET_ROLLOUT_ST_RUNNING : FLEET_ROLLOUT_ST_WAITING_WINDOW;
    r->pause_reason = PAUSE_NONE;
}

static int on_start(struct fleet_rollout *r, int64_t now)
{
    compute_bounds(r);
    r->window_open = fleet_rollout_window_open(&r->cfg, now);
    if (r->cfg.window_duration > 0)
        arm(r, FLEET_ROLLOUT_TIMER_WINDOW, window_next_edge(&r->cfg, now));
    set_active(r);
    open_wave(r, 0, now);
    evaluate(r, now);
    return pump(r, now);
}

static int on_resume(struct fleet_rollout *r, int64_t now)
{
    uint32_t k = r->st.waves_opened - 1;
    if (r->pause_reason == PAUSE_ERROR) {
        r->ws[k].err_ack = true;       /* a person accepted this wave's errors ... */
        r->errors_base = r->st.errors; /* ... and the rollout's so far */
    }
    set_active(r);
    if (r->ws[k].decided && k + 1 < r->cfg.n_waves)
        open_wave(r, k + 1, now);
    evaluate(r, now);
    return pump(r, now);
}

static int on_result(struct fleet_rollout *r, const struct fleet_rollout_device_result *res,
                     int64_t now)
{
    if (dev_status(r, res->device) != FLEET_ROLLOUT_DEV_IN_PROGRESS) {
        r->st.n_late++; /* timed out, cancelled, or never started: the world was told */
        return 0;
    }
    device_ended(r, res->device, res->result);
    evaluate(r, now);
    return pump(r, now);
}

static int on_timer(struct fleet_rollout *r, const struct fleet_rollout_timer *t, int64_t now)
{
    if (!r->armed[t->timer] || r->gen[t->timer] != t->gen) {
        r->st.n_stale++;
        return 0;
    }
    r->armed[t->timer] = false;
    if (t->timer == FLEET_ROLLOUT_TIMER_EXEC)
        exec_fire(r, now);
    else if (t->timer == FLEET_ROLLOUT_TIMER_WINDOW)
        window_fire(r, now);
    return pump(r, now);
}

static int check_arg(const struct fleet_rollout *r, enum fleet_rollout_input in, const void *arg,
                     int64_t now)
{
    if (in == FLEET_ROLLOUT_IN_EPOCH && r->cfg.epoch > 0 && (now < 0 || now % r->cfg.epoch != 0))
        return SIM_EINVAL; /* not an epoch time */
    if (in == FLEET_ROLLOUT_IN_DEVICE_RESULT) {
        const struct fleet_rollout_device_result *d = arg;
        if (!d || d->device >= r->n_devices || d->result >= FLEET_ROLLOUT_RESULT_COUNT)
            return SIM_EINVAL;
    } else if (in == FLEET_ROLLOUT_IN_TIMER) {
        const struct fleet_rollout_timer *t = arg;
        if (!t || t->timer < 0 || t->timer >= FLEET_ROLLOUT_TIMER_COUNT)
            return SIM_EINVAL;
    } else if (in == FLEET_ROLLOUT_IN_EPOCH) {
        const struct fleet_rollout_epoch *ep = arg;
        if (!ep || (ep->n > 0 && !ep->results) || r->cfg.epoch == 0)
            return SIM_EINVAL;
        for (uint32_t j = 0; j < ep->n; j++)
            if (ep->results[j].device >= r->n_devices ||
                ep->results[j].result >= FLEET_ROLLOUT_RESULT_COUNT)
                return SIM_EINVAL;
    } else if ((unsigned)in >= FLEET_ROLLOUT_INPUT_COUNT) {
        return SIM_EINVAL;
    }
    return 0;
}

static int on_cancel(struct fleet_rollout *r, int64_t now)
{
    uint32_t k = r->st.waves_opened - 1;
    if (!r->ws[k].decided)
        emit_wave(r, k, "cancel", now);
    r->ws[k].decided = true;
    stop(r, FLEET_ROLLOUT_CANCEL, now);
    return 0;
}

/* Inputs of a rollout that is under way (RUNNING, WAITING_WINDOW, PAUSED). */
static int dispatch_live(struct fleet_rollout *r, enum fleet_rollout_input in, const void *arg,
                         int64_t now)
{
    switch (in) {
    case FLEET_ROLLOUT_IN_DEVICE_RESULT:
        return on_result(r, arg, now);
    case FLEET_ROLLOUT_IN_TIMER:
        return on_timer(r, arg, now);
    case FLEET_ROLLOUT_IN_RESUME:
        if (r->state == FLEET_ROLLOUT_ST_PAUSED)
            return on_resume(r, now);
        break;
    case FLEET_ROLLOUT_IN_CANCEL:
        return on_cancel(r, now);
    default: /* START, ROLLBACK_DONE */
        break;
    }
    unexpected(r, in, now);
    return 0;
}

/* Inputs of a rollout that has stopped or finished (ROLLING_BACK, ROLLED_BACK, CANCELLED,
 * DONE): every device was cancelled or had ended, so a result is late; timers lapse. */
static int dispatch_over(struct fleet_rollout *r, enum fleet_rollout_input in, const void *arg,
                         int64_t now)
{
    switch (in) {
    case FLEET_ROLLOUT_IN_DEVICE_RESULT:
        r->st.n_late++;
        return 0;
    case FLEET_ROLLOUT_IN_TIMER:
        return on_timer(r, arg, now);
    case FLEET_ROLLOUT_IN_ROLLBACK_DONE:
        if (r->state == FLEET_ROLLOUT_ST_ROLLING_BACK) {
            r->state = FLEET_ROLLOUT_ST_ROLLED_BACK;
            return 0;
        }
        break;
    default: /* START, RESUME, CANCEL */
        break;
    }
    unexpected(r, in, now);
    return 0;
}

/* Switch on the state, then on the input; every pair lands in a handler or unexpected(). */
static int dispatch(struct fleet_rollout *r, enum fleet_rollout_input in, const void *arg,
                    int64_t now)
{
    switch (r->state) {
    case FLEET_ROLLOUT_ST_IDLE:
        if (in == FLEET_ROLLOUT_IN_START)
            return on_start(r, now);
        break; /* IDLE has started nothing and armed nothing */
    case FLEET_ROLLOUT_ST_RUNNING:
    case FLEET_ROLLOUT_ST_WAITING_WINDOW:
    case FLEET_ROLLOUT_ST_PAUSED:
        return dispatch_live(r, in, arg, now);
    default:
        return dispatch_over(r, in, arg, now);
    }
    unexpected(r, in, now);
    return 0;
}

/* An epoch time (rollout.h "Epochs"): the results in the order given, then the timers due,
 * in id order, until none is due (a timer a fired one re-arms is due later: every timer is
 * set for a time after now, except RATE's, which pump re-arms only for a later time). */
static int on_epoch(struct fleet_rollout *r, const struct fleet_rollout_epoch *ep, int64_t now)
{
    int rc = 0;
    for (uint32_t j = 0; j < ep->n; j++) {
        int e = dispatch(r, FLEET_ROLLOUT_IN_DEVICE_RESULT, &ep->results[j], now);
        rc = rc ? rc : e;
    }
    for (bool fired = true; fired;) {
        fired = false;
        for (int t = 0; t < FLEET_ROLLOUT_TIMER_COUNT; t++) {
            if (!r->armed[t] || fleet_rollout_epoch_ceil(r->cfg.epoch, r->armed_at[t]) > now)
                continue;
            struct fleet_rollout_timer tm = {t, r->gen[t]};
            int e = dispatch(r, FLEET_ROLLOUT_IN_TIMER, &tm, now);
            rc = rc ? rc : e;
            fired = true;
        }
    }
    return rc;
}

int fleet_rollout_step(struct fleet_rollout *r, enum fleet_rollout_input in, const void *arg,
                       int64_t now)
{
    if (!r)
        return SIM_EINVAL;
    int rc = check_arg(r, in, arg, now);
    if (rc)
        return rc;
    rc = in == FLEET_ROLLOUT_IN_EPOCH ? on_epoch(r, arg, now) : dispatch(r, in, arg, now);
    maybe_done(r);
    fleet_rollout_check(r);
    return rc;
}

/* ---- accessors ----------------------------------------------------------------------- */

enum fleet_rollout_state fleet_rollout_state_get(const struct fleet_rollout *r)
{
    return (enum fleet_rollout_state)r->state;
}

void fleet_rollout_stats_get(const struct fleet_rollout *r, struct fleet_rollout_stats *out)
{
    *out = r->st;
}

enum fleet_rollout_device_status fleet_rollout_device_get(const struct fleet_rollout *r,
                                                          uint32_t device)
{
    assert(device < r->n_devices);
    return (enum fleet_rollout_device_status)dev_status(r, device);
}

uint8_t fleet_rollout_device_retries_get(const struct fleet_rollout *r, uint32_t device)
{
    assert(device < r->n_devices);
    return (uint8_t)dev_retries(r, device);
}

int fleet_rollout_wave_get(const struct fleet_rollout *r, uint32_t k, uint32_t *first,
                           uint32_t *count)
{
    if (r->state == FLEET_ROLLOUT_ST_IDLE || k >= r->cfg.n_waves)
        return SIM_ENOENT;
    *first = r->bound[k];
    *count = wave_target(r, k);
    return 0;
}

const char *fleet_rollout_state_name(enum fleet_rollout_state s)
{
    static const char *const names[] = {"idle",      "running",      "waiting_window", "paused",
                                        "cancelled", "rolling_back", "rolled_back",    "done"};
    return (unsigned)s < FLEET_ROLLOUT_STATE_COUNT ? names[s] : "?";
}

/* ---- invariants ----------------------------------------------------------------------- */

#ifndef NDEBUG
static void check_full(const struct fleet_rollout *r)
{
    uint32_t n[8] = {0};
    for (uint32_t i = 0; i < r->open_end; i++)
        n[dev_status(r, i)]++;
    assert(n[FLEET_ROLLOUT_DEV_QUEUED] == r->st.queued);
    assert(n[FLEET_ROLLOUT_DEV_IN_PROGRESS] == r->st.in_progress);
    assert(n[FLEET_ROLLOUT_DEV_SUCCEEDED] == r->st.succeeded);
    assert(n[FLEET_ROLLOUT_DEV_CANCELLED] == r->st.cancelled);
    uint32_t below = 0;
    for (uint32_t i = 0; i < r->cursor && i < r->open_end; i++)
        below += dev_status(r, i) == FLEET_ROLLOUT_DEV_QUEUED;
    assert(below <= r->rq_n); /* every QUEUED device below the cursor waits in rq */
    for (uint32_t i = r->open_end; i < r->n_devices; i++)
        assert(r->dev[i] == 0);
}
#endif

void fleet_rollout_check(const struct fleet_rollout *r)
{
#ifndef NDEBUG
    const struct fleet_rollout_stats *s = &r->st;
    uint32_t ended = s->succeeded + s->failed + s->rejected + s->timed_out + s->cancelled;
    switch (r->state) {
    case FLEET_ROLLOUT_ST_IDLE:
        assert(s->waves_opened == 0 && s->starts == 0);
        for (int t = 0; t < FLEET_ROLLOUT_TIMER_COUNT; t++)
            assert(!r->armed[t]);
        break;
    case FLEET_ROLLOUT_ST_RUNNING:
        assert(r->window_open);
        break;
    case FLEET_ROLLOUT_ST_WAITING_WINDOW:
        assert(r->cfg.window_duration > 0 && !r->window_open);
        break;
    case FLEET_ROLLOUT_ST_PAUSED:
        assert(r->pause_reason == PAUSE_ERROR || r->pause_reason == PAUSE_WAVE);
        break;
    case FLEET_ROLLOUT_ST_CANCELLED:
    case FLEET_ROLLOUT_ST_ROLLING_BACK:
    case FLEET_ROLLOUT_ST_ROLLED_BACK:
        assert(s->in_progress == 0 && s->queued == 0);
        break;
    case FLEET_ROLLOUT_ST_DONE:
        assert(s->waves_opened == r->cfg.n_waves && r->ws[r->cfg.n_waves - 1].decided);
        assert(s->in_progress == 0 && s->queued == 0);
        break;
    default:
        assert(!"unknown rollout state");
    }
    if (r->state != FLEET_ROLLOUT_ST_IDLE) {
        assert(s->queued + s->in_progress + ended == r->open_end);
        assert(r->open_end == r->bound[s->waves_opened]);
        for (uint32_t k = 0; k + 1 < s->waves_opened; k++)
            assert(r->ws[k].decided); /* only the current wave may be undecided */
        assert(r->cursor <= r->open_end);
    }
    assert(r->rate_n <= r->rate_cap);
    if (r->n_devices <= FULL_CHECK_MAX && r->state != FLEET_ROLLOUT_ST_IDLE)
        check_full(r);
#else
    (void)r;
#endif
}

/* ---- settings ------------------------------------------------------------------------- */

/* Order matches enum fleet_rollout_failure. */
static const char *const failure_names[] = {"failed", "rejected", "timed_out", NULL};
/* Order matches enum fleet_rollout_success_action, _error_action, _end_behavior. */
static const char *const success_action_names[] = {"next", "pause", NULL};
static const char *const error_action_names[] = {"pause", "cancel", "rollback", NULL};
static const char *const end_behavior_names[] = {"stop", "cancel", NULL};

static const struct scenario_field wave_item = {
    .key = "wave", .type = SCENARIO_T_AMOUNT, .size = sizeof(struct scenario_amount)};
static const struct scenario_field failure_item = {
    .key = "failure type", .type = SCENARIO_T_ENUM, .size = sizeof(int), .names = failure_names};

static const struct scenario_field window_fields[] = {
    {.key = "start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_rollout_window_settings, start),
     .def = "0s",
     .min = "0s",
     .max = "24h",
     .doc = "daily opening time, after midnight (simulated time 0 is midnight); below 24 h"},
    {.key = "duration",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_rollout_window_settings, duration),
     .def = "0s",
     .min = "0s",
     .max = "24h",
     .doc = "how long the window stays open each day; 0s: no window (always open); below 24 h"},
    {.key = "end_behavior",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_rollout_window_settings, end_behavior),
     .def = "stop",
     .names = end_behavior_names,
     .doc = "at the window's end: stop starting devices, or also cancel those in progress"},
};

static const struct scenario_schema window_schema =
    SCENARIO_SCHEMA("maintenance window", struct fleet_rollout_window_settings, window_fields);

static const struct scenario_field rollout_fields[] = {
    {.key = "waves",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct fleet_rollout_settings, waves),
     .count_offset = offsetof(struct fleet_rollout_settings, n_waves),
     .item = &wave_item,
     .def = "[100%]",
     .min = "1",
     .max = "32", /* FLEET_ROLLOUT_MAX_WAVES */
     .doc = "wave sizes in device order: a share of the devices not yet in a wave, or a count"},
    {.key = "success_threshold",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct fleet_rollout_settings, success_threshold),
     .def = "100%",
     .min = "0%",
     .max = "100%",
     .doc = "a wave succeeds when this share of it succeeded (hawkBit successCondition)"},
    {.key = "success_action",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_rollout_settings, success_action),
     .def = "next",
     .names = success_action_names,
     .doc = "after a successful wave: open the next one, or pause"},
    {.key = "error_threshold",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct fleet_rollout_settings, error_threshold),
     .def = "100%",
     .min = "0%",
     .max = "100%",
     .doc = "errors / wave above this trip error_action; 100%: never (hawkBit errorCondition)"},
    {.key = "error_min_executed",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_rollout_settings, error_min_executed),
     .def = "1",
     .doc = "devices of the wave that must have ended before errors are judged (AWS)"},
    {.key = "error_of_executed",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fleet_rollout_settings, error_of_executed),
     .def = "false",
     .doc = "divide errors by the wave's ended devices instead of its size",
     .source = "AWS IoT Jobs abortConfig minNumberOfExecutedThings (its exact rule unchecked)",
     .unverified = true},
    {.key = "error_threshold_count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_rollout_settings, error_threshold_count),
     .def = "0",
     .doc = "this many errors rollout-wide trip error_action alone (Azure); 0: off; how it "
            "combines with error_threshold (either trips) is not documented upstream",
     .unverified = true},
    {.key = "error_failure_types",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct fleet_rollout_settings, error_failure_types),
     .count_offset = offsetof(struct fleet_rollout_settings, n_error_failure_types),
     .item = &failure_item,
     .flags = SCENARIO_F_UNIQUE,
     .def = "[failed, rejected, timed_out]",
     .min = "1",
     .max = "3",
     .doc = "final outcomes that count as errors (AWS failureType)"},
    {.key = "error_action",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fleet_rollout_settings, error_action),
     .def = "pause",
     .names = error_action_names,
     .doc = "what tripped errors do: pause, cancel the rollout, or roll back"},
    {.key = "rate_max_per_min",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_rollout_settings, rate_max_per_min),
     .def = "0",
     .max = "100000", /* FLEET_ROLLOUT_MAX_RATE */
     .doc = "most device starts in any 60 s (AWS maximumPerMinute); 0: unlimited"},
    {.key = "rate_base_per_min",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_rollout_settings, rate_base_per_min),
     .def = "0",
     .max = "100000",
     .doc = "exponential ramp: starting rate (AWS exponentialRate); 0: no ramp"},
    {.key = "rate_factor",
     .type = SCENARIO_T_NUMBER,
     .unit = "factor",
     SCENARIO_AT(struct fleet_rollout_settings, rate_factor),
     .def = "2",
     .min = "1.1",
     .max = "5",
     .doc = "ramp: the rate is multiplied by this at each step (AWS incrementFactor)"},
    {.key = "rate_increase_after_notified",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_rollout_settings, rate_increase_after_notified),
     .def = "0",
     .doc = "ramp: step after this many more first starts (AWS rateIncreaseCriteria)"},
    {.key = "rate_increase_after_succeeded",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_rollout_settings, rate_increase_after_succeeded),
     .def = "0",
     .doc = "ramp: step after this many more successes"},
    {.key = "exec_timeout",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_rollout_settings, exec_timeout),
     .def = "0s",
     .min = "0s",
     .doc = "a started device not done after this ends timed_out (AWS); 0s: none"},
    {.key = "retries",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct fleet_rollout_settings, retries),
     .def = "0",
     .max = "10", /* FLEET_ROLLOUT_MAX_RETRIES, AWS numberOfRetries */
     .doc = "times a device is queued again after an outcome in retry_on"},
    {.key = "retry_on",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct fleet_rollout_settings, retry_on),
     .count_offset = offsetof(struct fleet_rollout_settings, n_retry_on),
     .item = &failure_item,
     .flags = SCENARIO_F_UNIQUE,
     .def = "[failed, timed_out]",
     .min = "1",
     .max = "3",
     .doc = "outcomes that are retried"},
    {.key = "window",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fleet_rollout_settings, window),
     .sub = &window_schema,
     .doc = "daily maintenance window: devices start only inside it"},
    {.key = "start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_rollout_settings, start),
     .def = "0s",
     .min = "0s",
     .doc = "when the rollout starts (with an epoch: the first epoch time from then)"},
    {.key = "epoch",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fleet_rollout_settings, epoch),
     .def = "0s",
     .min = "0s",
     .doc = "the controller decides only every epoch (as a rollout service polls); 0s: at "
            "every result; > 0 lets one fleet run as blocks of partitions (faster on big "
            "fleets) and across MPI ranks (docs/mpi.md)",
     .source = "0s keeps the controller continuous; hawkBit polls rollouts every 2 s "
               "(eclipse-hawkbit/hawkbit: hawkbit-repository/hawkbit-repository-jpa/src/main/"
               "java/org/eclipse/hawkbit/repository/jpa/scheduler/RolloutScheduler.java, "
               "hawkbit.rollout.scheduler.fixedDelay)"},
};

const struct scenario_schema fleet_rollout_settings_schema =
    SCENARIO_SCHEMA("rollout", struct fleet_rollout_settings, rollout_fields);

static uint8_t failure_mask(const int *types, size_t n)
{
    static const uint8_t bit[] = {
        [FLEET_ROLLOUT_FAILURE_FAILED] = FLEET_ROLLOUT_F_FAILED,
        [FLEET_ROLLOUT_FAILURE_REJECTED] = FLEET_ROLLOUT_F_REJECTED,
        [FLEET_ROLLOUT_FAILURE_TIMED_OUT] = FLEET_ROLLOUT_F_TIMED_OUT,
    };
    uint8_t m = 0;
    for (size_t i = 0; i < n; i++)
        m |= bit[types[i]];
    return m;
}

struct fleet_rollout_cfg fleet_rollout_cfg_from_settings(const struct fleet_rollout_settings *s)
{
    struct fleet_rollout_cfg c = fleet_rollout_cfg_default();
    c.n_waves = (uint32_t)s->n_waves;
    for (size_t i = 0; i < s->n_waves && i < FLEET_ROLLOUT_MAX_WAVES; i++)
        c.waves[i] = s->waves[i].is_count
                         ? (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_COUNT, s->waves[i].count}
                         : (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_PERCENT,
                                                       s->waves[i].share * 100.0};
    c.success_threshold = s->success_threshold;
    c.success_action = (uint8_t)s->success_action;
    c.error_threshold = s->error_threshold;
    c.error_min_executed = s->error_min_executed;
    c.error_of_executed = s->error_of_executed;
    c.error_threshold_count = s->error_threshold_count;
    c.error_failure_types = failure_mask(s->error_failure_types, s->n_error_failure_types);
    c.error_action = (uint8_t)s->error_action;
    c.rate_max_per_min = s->rate_max_per_min;
    c.rate_base_per_min = s->rate_base_per_min;
    c.rate_factor = s->rate_factor;
    c.rate_increase_after_notified = s->rate_increase_after_notified;
    c.rate_increase_after_succeeded = s->rate_increase_after_succeeded;
    c.exec_timeout = s->exec_timeout;
    c.retries = s->retries;
    c.retry_on = failure_mask(s->retry_on, s->n_retry_on);
    c.window_start = s->window.start;
    c.window_duration = s->window.duration;
    c.end_behavior = (uint8_t)s->window.end_behavior;
    c.epoch = s->epoch;
    return c;
}
