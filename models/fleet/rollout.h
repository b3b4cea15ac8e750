/* models/fleet/rollout.h - the rollout controller: which device starts its update when,
 * in waves, under success and error thresholds, rate limits, per-device execution timeouts
 * with retries, and daily maintenance windows.
 *
 * One policy that unites the knobs of Eclipse hawkBit
 * (groups, success/error conditions), AWS IoT Jobs (abort criteria, exponential rate,
 * timeout, retry, maintenance windows) and Azure Device Update (failed-device count,
 * rollback). The world owns the devices; the controller owns one byte per device (status
 * and retries used) and decides, through struct fleet_rollout_ctx, which device index
 * starts, which is cancelled, when to roll back, and which timers to arm. Device results
 * come back as inputs. Time is int64_t ns, always passed in as `now`.
 *
 * Wave membership is device index order: wave k is the index range that follows wave k-1
 * (no per-device storage, no random draw). A world that wants a random sample per wave
 * (Memfault --rollout-percent) numbers its devices from a shuffle keyed (seed, rollout,
 * SIM_RNG_ROLLOUT); the controller itself draws nothing. Wave sizes are fixed at START
 * from n_devices (hawkBit fills its groups at creation; no dynamic groups).
 *
 * States:
 *
 *   IDLE --START--> RUNNING (window open or none) | WAITING_WINDOW; opens wave 0
 *   RUNNING --window closes--> WAITING_WINDOW (end_behavior CANCEL: cancel in-progress
 *           devices and queue them again, no retry used)
 *   WAITING_WINDOW --window opens--> RUNNING (starts resume)
 *   RUNNING|WAITING_WINDOW --current wave: errors trip--> PAUSED (error_action PAUSE)
 *           | CANCELLED (CANCEL: in-progress devices cancelled) | ROLLING_BACK (ROLLBACK:
 *           in-progress devices cancelled, ctx rollback())
 *   RUNNING|WAITING_WINDOW --current wave: succeeded/target >= success threshold-->
 *           opens the next wave (success_action NEXT) | PAUSED (PAUSE) | same state
 *           (last wave: no next)
 *   RUNNING|WAITING_WINDOW --current wave: every device ended below the success
 *           threshold--> PAUSED (the next wave never starts by itself)
 *   RUNNING|WAITING_WINDOW --no wave left, nothing queued or in progress--> DONE
 *   PAUSED --RESUME--> RUNNING | WAITING_WINDOW (after an error pause: the same wave, its
 *           error condition acknowledged; after a wave pause: the next wave)
 *   RUNNING|WAITING_WINDOW|PAUSED --CANCEL (a person)--> CANCELLED
 *   ROLLING_BACK --ROLLBACK_DONE (the world finished rolling back)--> ROLLED_BACK
 *   any but IDLE --DEVICE_RESULT--> counted; in CANCELLED, ROLLING_BACK, ROLLED_BACK, DONE
 *           and for a device not in progress (timed out, cancelled) it is late: counted
 *           n_late, nothing else
 *   any but IDLE --TIMER--> RATE pumps starts; EXEC times out devices (also in PAUSED);
 *           WINDOW moves between RUNNING and WAITING_WINDOW (PAUSED only tracks it, and
 *           applies end_behavior CANCEL); after a stop or DONE timers lapse. A stale
 *           generation is counted n_stale. No device starts at or past a closing edge,
 *           even when another timer of that instant comes before the WINDOW timer.
 *   Every other (state, input) pair is unexpected: counted n_unexpected and reported
 *   through ctx.unexpected; the state does not change.
 *
 * Epochs (cfg.epoch > 0): the controller decides only at epoch times, the multiples of
 * epoch from simulated time 0, as a real rollout service evaluates its rollouts on a
 * schedule (eclipse-hawkbit/hawkbit RolloutScheduler polls every
 * hawkbit.rollout.scheduler.fixedDelay). Its timers are not armed through ctx.timer_arm:
 * a timer set for `at` is due at the first epoch time >= at (fleet_rollout_next_due), and
 * the world delivers, at each epoch time T, one EPOCH input: the device results that
 * arrived since the last epoch time (each is handled as a DEVICE_RESULT, in the order
 * given: the world sorts them by arrival time, then rollout index), then every timer due
 * at T, in timer id order, until none is due. So every start, cancel, timeout and wave
 * decision happens at an epoch time, and what the controller decides depends only on the
 * results of whole epochs: the world may simulate the devices of an epoch in any order,
 * or on several processes (docs/mpi.md, "One fleet across ranks"). The world delivers
 * START at the first epoch time >= the rollout's start.
 *
 * Wave records (ctx.emit_wave) are written when a wave's fate is decided, with the counts
 * at that moment: "next", "pause" (success_action PAUSE, or every device ended below the
 * threshold), "done" (the last wave met its threshold), or the error action "pause",
 * "cancel", "rollback"; a manual CANCEL records "cancel". A wave paused on errors and
 * resumed is recorded again when it is decided. Devices of a decided wave still in
 * progress go on; their results count rollout-wide (stats, the error count rule), no
 * longer against the wave's thresholds (hawkBit keeps checking a RUNNING group's error
 * condition until all its actions end: a deliberate simplification).
 *
 * Per-state invariants (fleet_rollout_check() asserts them after each step in debug builds):
 *   1. IDLE: no wave open, nothing started, no timer armed.
 *   2. RUNNING: a window is open or none is configured.
 *   3. WAITING_WINDOW: a window is configured and closed.
 *   4. PAUSED: pause_reason is ERROR or WAVE.
 *   5. CANCELLED, ROLLING_BACK, ROLLED_BACK: nothing in progress, nothing queued.
 *   6. DONE: every wave opened and decided, nothing in progress, nothing queued.
 *   7. always: queued + in progress + ended == devices of the opened waves; at most one
 *      wave is open and undecided (the current one); the start cursor lies in the opened
 *      range; the rate ring holds at most rate_max_per_min start times.
 *   8. debug, n_devices <= 4096 only (an O(n) recount per step would make a debug
 *      million-device run quadratic): the per-device bytes agree with the counters.
 */
#ifndef MODELS_FLEET_ROLLOUT_H
#define MODELS_FLEET_ROLLOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "sim/error.h"
#include "sim/recorder.h"
#include "sim/scenario/settings.h"

#define FLEET_ROLLOUT_MAX_WAVES   32
#define FLEET_ROLLOUT_MAX_RETRIES 10     /* AWS numberOfRetries 0-10 (fits the 4-bit field) */
#define FLEET_ROLLOUT_MAX_RATE    100000 /* starts per minute: bounds the rate ring */
#define FLEET_ROLLOUT_MINUTE_NS   60000000000LL
#define FLEET_ROLLOUT_DAY_NS      86400000000000LL

/* How a device's execution ended (AWS JobExecutionStatus terminal values). */
enum fleet_rollout_result {
    FLEET_ROLLOUT_SUCCEEDED,
    FLEET_ROLLOUT_FAILED,
    FLEET_ROLLOUT_REJECTED,
    FLEET_ROLLOUT_TIMED_OUT, /* also what the controller's own execution timeout gives */
    FLEET_ROLLOUT_RESULT_COUNT
};

/* Masks of failure types (error_failure_types, retry_on): AWS failureType. */
#define FLEET_ROLLOUT_F_FAILED    (1u << FLEET_ROLLOUT_FAILED)
#define FLEET_ROLLOUT_F_REJECTED  (1u << FLEET_ROLLOUT_REJECTED)
#define FLEET_ROLLOUT_F_TIMED_OUT (1u << FLEET_ROLLOUT_TIMED_OUT)
#define FLEET_ROLLOUT_F_ALL                                                                        \
    (FLEET_ROLLOUT_F_FAILED | FLEET_ROLLOUT_F_REJECTED | FLEET_ROLLOUT_F_TIMED_OUT)

enum fleet_rollout_wave_kind {
    FLEET_ROLLOUT_WAVE_PERCENT, /* share of the devices not yet in a wave (hawkBit) */
    FLEET_ROLLOUT_WAVE_COUNT    /* absolute count, capped by what remains */
};

struct fleet_rollout_wave {
    uint8_t kind;  /* enum fleet_rollout_wave_kind */
    double amount; /* percent in [0, 100], or a count >= 0 */
};

enum fleet_rollout_success_action { FLEET_ROLLOUT_NEXT, FLEET_ROLLOUT_PAUSE_ON_SUCCESS };
enum fleet_rollout_error_action {
    FLEET_ROLLOUT_PAUSE,
    FLEET_ROLLOUT_CANCEL,
    FLEET_ROLLOUT_ROLLBACK
};
enum fleet_rollout_end_behavior {
    FLEET_ROLLOUT_END_STOP,  /* stop starting new devices; in-progress ones go on */
    FLEET_ROLLOUT_END_CANCEL /* also cancel in-progress ones; they start again later */
};

/* Plain data; every knob with its default (fleet_rollout_cfg_default) and origin. */
struct fleet_rollout_cfg {
    /* Waves: default one wave of 100 %. Sizes are fixed at START: a percentage takes
     * round-half-up(amount / 100 * remaining) devices (hawkBit Math.round), a count takes
     * min(count, remaining) (hawkBit dynamic targetCount, Mender batch_size as count).
     * Devices left after the last wave are not part of the rollout (n_excluded; Memfault
     * --rollout-percent < 100). */
    uint32_t n_waves;
    struct fleet_rollout_wave waves[FLEET_ROLLOUT_MAX_WAVES];

    /* Success: succeeded / target >= success_threshold (fraction; default 1.0, hawkBit
     * successCondition THRESHOLD "100" per group); an empty wave succeeds at once.
     * success_action default NEXT (hawkBit NEXTGROUP; PAUSE is hawkBit PAUSE). */
    double success_threshold;
    uint8_t success_action; /* enum fleet_rollout_success_action */

    /* Errors, on the current wave: errors / target > error_threshold (fraction, strict ">"
     * as hawkBit; default 1.0 = never), evaluated only once error_min_executed devices of
     * the wave have ended (AWS minNumberOfExecutedThings; default 1). error_of_executed
     * divides by the wave's ended devices instead of its target (AWS thresholdPercentage
     * of executed things, *unverified*; default false = hawkBit). Or, when
     * error_threshold_count > 0, the rollout's errors >= that count trips alone (Azure
     * devicesFailedCount; OR with the percentage, AND/OR *unverified*; default 0 = off;
     * counted since the last RESUME of an error pause, else a resumed rollout re-trips).
     * An error is a final outcome (retries exhausted) whose type is in
     * error_failure_types (AWS failureType; default FLEET_ROLLOUT_F_ALL). */
    double error_threshold;
    uint32_t error_min_executed;
    bool error_of_executed;
    uint32_t error_threshold_count;
    uint8_t error_failure_types;
    uint8_t error_action; /* enum fleet_rollout_error_action; default PAUSE (hawkBit) */

    /* Rate: no 60 s span holds more than rate limit starts (retries and restarts count).
     * rate_max_per_min 0 = unlimited (default; AWS maximumPerMinute). Exponential ramp
     * when rate_base_per_min > 0 (AWS exponentialRate, default off): the rate starts at
     * base and is multiplied by rate_factor (AWS incrementFactor 1.1-5, default 2.0) each
     * time rate_increase_after_notified more devices were started for the first time, or
     * rate_increase_after_succeeded more succeeded (AWS rateIncreaseCriteria; exactly one
     * is > 0), capped at rate_max_per_min. The limit used is floor(rate), at least 1. */
    uint32_t rate_max_per_min;
    uint32_t rate_base_per_min;
    double rate_factor;
    uint32_t rate_increase_after_notified;
    uint32_t rate_increase_after_succeeded;

    /* Execution timeout (AWS inProgressTimeoutInMinutes, 1-10080 min): ns after a start,
     * the device is cancelled and ends TIMED_OUT. 0 = none (default). */
    int64_t exec_timeout;

    /* Retries (AWS jobExecutionsRetryConfig numberOfRetries 0-10, Mender retries): a
     * device whose outcome type is in retry_on is queued again, up to `retries` times;
     * only its last outcome counts. Default 0, retry_on FAILED | TIMED_OUT (AWS ALL). */
    uint8_t retries;
    uint8_t retry_on;

    /* Maintenance window (AWS schedulingConfig maintenanceWindows, daily cron only): opens
     * every day at window_start ns after midnight (simulated time 0 is midnight) for
     * window_duration ns (0 = no window, always open: default; else < 24 h). Devices
     * start only inside it. end_behavior default STOP (AWS STOP_ROLLOUT). */
    int64_t window_start;
    int64_t window_duration;
    uint8_t end_behavior; /* enum fleet_rollout_end_behavior */

    /* Epoch (see "Epochs" above): ns between the times the controller decides; 0 =
     * continuously, at every input (default). */
    int64_t epoch;
};

/* The defaults documented above. */
struct fleet_rollout_cfg fleet_rollout_cfg_default(void);

/* Check every knob. Returns 0, or SIM_EINVAL / SIM_ERANGE with one message per bad knob
 * (its name, the value, the allowed range) in diag (may be NULL). */
int fleet_rollout_cfg_validate(const struct fleet_rollout_cfg *cfg, struct sim_diag *diag);

enum fleet_rollout_state {
    FLEET_ROLLOUT_ST_IDLE,
    FLEET_ROLLOUT_ST_RUNNING,
    FLEET_ROLLOUT_ST_WAITING_WINDOW,
    FLEET_ROLLOUT_ST_PAUSED,
    FLEET_ROLLOUT_ST_CANCELLED,
    FLEET_ROLLOUT_ST_ROLLING_BACK,
    FLEET_ROLLOUT_ST_ROLLED_BACK,
    FLEET_ROLLOUT_ST_DONE,
    FLEET_ROLLOUT_STATE_COUNT
};

enum fleet_rollout_input {
    FLEET_ROLLOUT_IN_START,         /* arg NULL */
    FLEET_ROLLOUT_IN_DEVICE_RESULT, /* arg const struct fleet_rollout_device_result * */
    FLEET_ROLLOUT_IN_TIMER,         /* arg const struct fleet_rollout_timer * */
    FLEET_ROLLOUT_IN_RESUME,        /* arg NULL: a person resumes a paused rollout */
    FLEET_ROLLOUT_IN_CANCEL,        /* arg NULL: a person cancels the rollout */
    FLEET_ROLLOUT_IN_ROLLBACK_DONE, /* arg NULL: the world finished ctx.rollback() */
    FLEET_ROLLOUT_IN_EPOCH,         /* arg const struct fleet_rollout_epoch *; epoch > 0 */
    FLEET_ROLLOUT_INPUT_COUNT
};

enum fleet_rollout_timer_id {
    FLEET_ROLLOUT_TIMER_RATE,   /* the next start the rate limit allows */
    FLEET_ROLLOUT_TIMER_EXEC,   /* the earliest execution deadline */
    FLEET_ROLLOUT_TIMER_WINDOW, /* the next window edge */
    FLEET_ROLLOUT_TIMER_COUNT
};

/* Status of one device, as fleet_rollout_device_get reports it (2-3 bits of its byte). */
enum fleet_rollout_device_status {
    FLEET_ROLLOUT_DEV_QUEUED,      /* not started yet (or queued again) */
    FLEET_ROLLOUT_DEV_IN_PROGRESS, /* started; no result yet */
    FLEET_ROLLOUT_DEV_SUCCEEDED,
    FLEET_ROLLOUT_DEV_FAILED,
    FLEET_ROLLOUT_DEV_REJECTED,
    FLEET_ROLLOUT_DEV_TIMED_OUT,
    FLEET_ROLLOUT_DEV_CANCELLED
};

struct fleet_rollout_device_result {
    uint32_t device; /* index in [0, n_devices) */
    uint8_t result;  /* enum fleet_rollout_result */
};

/* An epoch time's input: the results that arrived since the last one, in arrival order
 * (ties by device index). results is borrowed for the call; NULL when n is 0. */
struct fleet_rollout_epoch {
    const struct fleet_rollout_device_result *results;
    uint32_t n;
};

struct fleet_rollout_timer {
    int timer;    /* enum fleet_rollout_timer_id */
    uint32_t gen; /* what timer_arm returned; an older one is stale and counted */
};

/* The controller acts only through this. Calls happen inside fleet_rollout_step; the world
 * must not call fleet_rollout_step from inside them (report results as later events). */
struct fleet_rollout_ctx {
    void *env;
    void (*start_device)(void *env, uint32_t device, int64_t now);
    void (*cancel_device)(void *env, uint32_t device, int64_t now);
    void (*rollback)(void *env, int64_t now);                    /* answer with IN_ROLLBACK_DONE */
    uint32_t (*timer_arm)(void *env, int timer, int64_t at_ns);  /* returns a generation;
                                                                  * unused with an epoch */
    void (*emit_wave)(void *env, const struct recorder_wave *w); /* w valid in the call */
    void (*unexpected)(void *env, int state, int input, int64_t now); /* may be NULL */
};

/* Rollout-wide counters. */
struct fleet_rollout_stats {
    uint32_t n_devices, n_excluded; /* n_excluded: after the last wave, never started */
    uint32_t queued, in_progress;   /* in the opened waves */
    uint32_t succeeded, failed, rejected, timed_out, cancelled; /* final outcomes */
    uint32_t errors;         /* final outcomes of a type in error_failure_types */
    uint64_t starts;         /* start_device calls (first starts, retries, restarts) */
    uint32_t notified;       /* first starts */
    uint32_t retries;        /* devices queued again after a retryable outcome */
    uint32_t timeouts_fired; /* executions the controller timed out */
    uint32_t window_cancels; /* in-progress devices cancelled and queued at a window end */
    uint32_t waves_opened;   /* waves opened so far; the current one is waves_opened - 1 */
    uint32_t rate_limit;     /* starts per minute now (0 = unlimited) */
    uint64_t n_late, n_stale, n_unexpected;
};

struct fleet_rollout; /* opaque: callers could break its invariants */

/* A controller for n_devices devices (indexes 0..n_devices-1). cfg is copied, cx borrowed.
 * Returns 0 and *out, SIM_EINVAL / SIM_ERANGE for a bad cfg (messages in diag, may be
 * NULL), or SIM_ENOMEM; *out is untouched on failure. Memory: one byte per device, the
 * rate ring (8 bytes per allowed start per minute) and the execution-deadline ring (16
 * bytes per start still inside exec_timeout, grown on demand). */
int fleet_rollout_new(const struct fleet_rollout_cfg *cfg, uint32_t n_devices,
                      const struct fleet_rollout_ctx *cx, struct fleet_rollout **out,
                      struct sim_diag *diag);
void fleet_rollout_free(struct fleet_rollout *r); /* accepts NULL; calls nothing */

/* One input. Returns 0, SIM_EINVAL for a bad arg (NULL, device index out of range,
 * unknown result or timer id, EPOCH without an epoch or at a time that is not an epoch
 * time; nothing changes), or SIM_ENOMEM when the deadline ring cannot grow (the step
 * completed, but that device was started without a timeout). */
int fleet_rollout_step(struct fleet_rollout *r, enum fleet_rollout_input in, const void *arg,
                       int64_t now);

enum fleet_rollout_state fleet_rollout_state_get(const struct fleet_rollout *r);
void fleet_rollout_stats_get(const struct fleet_rollout *r, struct fleet_rollout_stats *out);
enum fleet_rollout_device_status fleet_rollout_device_get(const struct fleet_rollout *r,
                                                          uint32_t device);
uint8_t fleet_rollout_device_retries_get(const struct fleet_rollout *r, uint32_t device);
/* Wave k's index range, known after START. Returns 0, or SIM_ENOENT (k out of range or
 * before START). */
int fleet_rollout_wave_get(const struct fleet_rollout *r, uint32_t k, uint32_t *first,
                           uint32_t *count);
/* With an epoch: the epoch time at which the earliest armed timer is due, or INT64_MAX
 * when none is armed. Without one: INT64_MAX. */
int64_t fleet_rollout_next_due(const struct fleet_rollout *r);
/* The first multiple of epoch (> 0) at or after t (>= 0): where something set for t
 * happens. A device result that arrives at t is delivered at fleet_rollout_epoch_ceil(
 * epoch, t + 1): results of an epoch time itself count at the next one, because the
 * world runs the controller before the events of that instant. */
int64_t fleet_rollout_epoch_ceil(int64_t epoch, int64_t t);

/* Whether the maintenance window is open at `now` (true without a window). */
bool fleet_rollout_window_open(const struct fleet_rollout_cfg *cfg, int64_t now);

const char *fleet_rollout_state_name(enum fleet_rollout_state s);

/* Assert invariants 1-8 (no-op with NDEBUG). */
void fleet_rollout_check(const struct fleet_rollout *r);

/* ---- settings: the `rollout` map of a scenario (table in rollout.c) ---- */

/* Failure types as a scenario names them (error_failure_types, retry_on). */
enum fleet_rollout_failure {
    FLEET_ROLLOUT_FAILURE_FAILED,
    FLEET_ROLLOUT_FAILURE_REJECTED,
    FLEET_ROLLOUT_FAILURE_TIMED_OUT
};

/* Daily maintenance window. duration 0: none (always open). */
struct fleet_rollout_window_settings {
    int64_t start, duration; /* ns after midnight (simulated time 0), ns */
    int end_behavior;        /* enum fleet_rollout_end_behavior */
};

/* The rollout as a scenario gives it; fleet_rollout_cfg_from_settings maps it onto struct
 * fleet_rollout_cfg, whose comments give each knob's origin. The table checks units and
 * plain bounds; fleet_rollout_cfg_validate the rest (window < 24 h, one increase
 * criterion, ...). */
struct fleet_rollout_settings {
    bool present; /* the file (or a --set) has a rollout map; false: no controller, every
                   * device starts at client.start, and every other member is zero */
    size_t n_waves;
    struct scenario_amount *waves; /* 1..32 */
    double success_threshold;      /* fraction */
    int success_action;            /* enum fleet_rollout_success_action */
    double error_threshold;        /* fraction; 1 = never */
    uint32_t error_min_executed;
    bool error_of_executed;
    uint32_t error_threshold_count; /* 0 = off */
    size_t n_error_failure_types;
    int *error_failure_types; /* enum fleet_rollout_failure, each at most once */
    int error_action;         /* enum fleet_rollout_error_action */
    uint32_t rate_max_per_min, rate_base_per_min; /* 0 = unlimited, 0 = no ramp */
    double rate_factor;
    uint32_t rate_increase_after_notified, rate_increase_after_succeeded;
    int64_t exec_timeout; /* ns, 0 = none */
    uint8_t retries;
    size_t n_retry_on;
    int *retry_on; /* enum fleet_rollout_failure, each at most once */
    struct fleet_rollout_window_settings window;
    int64_t start;          /* ns: when the rollout starts */
    int64_t epoch;          /* ns between decisions; 0 = continuously */
    struct scenario_pos at; /* the rollout map */
};
extern const struct scenario_schema fleet_rollout_settings_schema;

struct fleet_rollout_cfg fleet_rollout_cfg_from_settings(const struct fleet_rollout_settings *s);

#endif /* MODELS_FLEET_ROLLOUT_H */
