/* bench/bench_hold.c - the classic hold model on the future event set (sim/evq.h).
 *
 * Fill the queue with N events, then repeat {pop the earliest; push one at its time plus an
 * Exp(mean) increment} M times, so the queue stays at N pending. Prints one line per N with
 * hold operations per second and ns per hold (one hold = one pop + one push).
 *
 * Usage: bench_hold [-m OPS] [N ...]      defaults: -m 10000000, N = 1000 100000 1000000
 *
 * The increments are drawn with GSL (MT19937, fixed seed) into a table before the clock
 * starts, so the figures measure the queue and not the RNG. The table is 2^20 entries,
 * reused cyclically: large enough that the queue never sees a repeating pattern in phase
 * with its own state, small enough (8 MiB) not to drown the queue's own memory traffic.
 */
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/engine.h"
#include "sim/error.h"
#include "sim/evq.h"

#define HOLD_MEAN_NS   1.0e6 /* mean increment: 1 ms of simulated time */
#define HOLD_TABLE_LEN (1u << 20)
#define HOLD_SEED      20261122UL
#define HOLD_OPS       10000000UL

static double seconds_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Fill inc[0..n) with Exp(HOLD_MEAN_NS) draws rounded to whole ns. */
static int fill_increments(int64_t *inc, size_t n)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (r == NULL)
        return SIM_ENOMEM;
    gsl_rng_set(r, HOLD_SEED);
    for (size_t i = 0; i < n; i++)
        inc[i] = (int64_t)(gsl_ran_exponential(r, HOLD_MEAN_NS) + 0.5);
    gsl_rng_free(r);
    return 0;
}

/* One hold operation; returns the new time so the work cannot be optimised away. The push
 * cannot fail: the pop just freed the room it needs. */
static inline int64_t hold(struct sim_evq *q, int64_t inc)
{
    struct sim_event ev;
    sim_evq_pop(q, &ev);
    ev.at += inc;
    sim_evq_push(q, &ev);
    return ev.at;
}

/* Run the hold model at n pending events for ops holds; prints one line. */
static int bench_size(size_t n, unsigned long ops, const int64_t *inc)
{
    const size_t mask = HOLD_TABLE_LEN - 1;
    struct sim_evq *q = sim_evq_new(n);
    if (q == NULL)
        return SIM_ENOMEM;
    struct sim_event ev = {.timer = SIM_TIMER_NONE};
    for (size_t i = 0; i < n; i++) {
        ev.at = inc[i & mask];
        ev.target = (uint32_t)i;
        if (sim_evq_push(q, &ev) != 0) {
            sim_evq_free(q);
            return SIM_ENOMEM;
        }
    }
    /* Warm up until the time distribution in the queue is near its steady state. */
    size_t k = n;
    int64_t sum = 0;
    for (size_t i = 0; i < n && i < 2000000; i++)
        sum += hold(q, inc[k++ & mask]);

    double t0 = seconds_now();
    for (unsigned long i = 0; i < ops; i++)
        sum += hold(q, inc[k++ & mask]);
    double dt = seconds_now() - t0;

    printf("hold N=%-8zu ops=%lu  %.3f s  %6.2f Mops/s  %6.1f ns/op  (pending %zu, check %lld)\n",
           n, ops, dt, (double)ops / dt / 1e6, dt * 1e9 / (double)ops, sim_evq_size(q),
           (long long)(sum & 0xffff));
    sim_evq_free(q);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long ops = HOLD_OPS;
    size_t sizes[16] = {1000, 100000, 1000000};
    size_t n_sizes = 3, n_args = 0;
    for (int i = 1; i < argc; i++) {
        bool is_ops = strcmp(argv[i], "-m") == 0 && i + 1 < argc;
        char *end;
        unsigned long v = strtoul(argv[is_ops ? ++i : i], &end, 10);
        if (*end != '\0' || v == 0 || (!is_ops && n_args == 16)) {
            fprintf(stderr, "usage: bench_hold [-m OPS] [N ...] (OPS, N > 0; at most 16 sizes)\n");
            return 2;
        }
        if (is_ops)
            ops = v;
        else
            sizes[n_args++] = v;
    }
    if (n_args > 0)
        n_sizes = n_args;

    int64_t *inc = malloc(HOLD_TABLE_LEN * sizeof(*inc));
    if (inc == NULL || fill_increments(inc, HOLD_TABLE_LEN) != 0) {
        fprintf(stderr, "bench_hold: out of memory\n");
        free(inc);
        return 3;
    }
    int rc = 0;
    for (size_t i = 0; i < n_sizes && rc == 0; i++)
        rc = bench_size(sizes[i], ops, inc);
    if (rc != 0)
        fprintf(stderr, "bench_hold: %s\n", sim_err_str(rc));
    free(inc);
    return rc == 0 ? 0 : 3;
}
