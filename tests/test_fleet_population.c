/* tests/test_fleet_population.c - per-device parameter distributions
 * (models/fleet/population): moments against closed forms, bounds, weighted choice,
 * keyed draws that do not depend on who else draws, the text grammar and its messages.
 *
 * Statistical checks use N = 10^5 draws and a 5-standard-error tolerance: a false alarm has
 * probability about 6e-7 per check, and the draws are keyed by fixed seeds, so a result
 * never flickers; a distribution off by more than 5 standard errors fails. */
#include "models/fleet/population.h"

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define N            100000
#define SEED         20261122u
#define K_SE         5.0 /* tolerance in standard errors */

/* ---- distributions used by the cases ------------------------------------------- */

static struct fleet_population_dist fixed(double v)
{
    return (struct fleet_population_dist){.kind = FLEET_POPULATION_FIXED, .value = v};
}

static struct fleet_population_dist uniform(double lo, double hi)
{
    return (struct fleet_population_dist){.kind = FLEET_POPULATION_UNIFORM, .lo = lo, .hi = hi};
}

static struct fleet_population_dist normal(double mu, double sigma)
{
    return (struct fleet_population_dist){
        .kind = FLEET_POPULATION_NORMAL, .mu = mu, .sigma = sigma};
}

static struct fleet_population_dist truncated(struct fleet_population_dist d, double lo, double hi)
{
    d.truncated = true;
    d.lo = lo;
    d.hi = hi;
    return d;
}

static struct fleet_population_dist lognormal(double mu, double sigma)
{
    return (struct fleet_population_dist){
        .kind = FLEET_POPULATION_LOGNORMAL, .mu = mu, .sigma = sigma};
}

static struct fleet_population_dist beta(double a, double b, double lo, double hi)
{
    return (struct fleet_population_dist){
        .kind = FLEET_POPULATION_BETA, .a = a, .b = b, .lo = lo, .hi = hi};
}

static struct fleet_population_dist exponential(double mean)
{
    return (struct fleet_population_dist){.kind = FLEET_POPULATION_EXPONENTIAL, .mean = mean};
}

/* A choice (weights != NULL) or an empirical list (weights == NULL). */
static struct fleet_population_dist items(size_t n, const double *values, const double *weights)
{
    struct fleet_population_dist d = {.kind = weights != NULL ? FLEET_POPULATION_CHOICE
                                                              : FLEET_POPULATION_EMPIRICAL,
                                      .n_items = n};
    for (size_t i = 0; i < n; i++) {
        d.values[i] = values[i];
        d.weights[i] = weights != NULL ? weights[i] : 0;
    }
    return d;
}

/* ---- closed forms ---------------------------------------------------------------- */

/* Mean and variance of N(0, 1) conditioned on [a, b] (Johnson, Kotz and Balakrishnan,
 * Continuous Univariate Distributions 1, 2nd ed., section 10.1). */
static void std_normal_moments(double a, double b, double *mean, double *var)
{
    double z = a >= 0 ? gsl_cdf_ugaussian_Q(a) - gsl_cdf_ugaussian_Q(b)
                      : gsl_cdf_ugaussian_P(b) - gsl_cdf_ugaussian_P(a);
    double pa = gsl_ran_ugaussian_pdf(a), pb = gsl_ran_ugaussian_pdf(b);
    double apa = isinf(a) ? 0 : a * pa, bpb = isinf(b) ? 0 : b * pb;
    *mean = (pa - pb) / z;
    *var = 1 + (apa - bpb) / z - *mean * *mean;
}

/* E[X^k] of a lognormal(mu, sigma) conditioned on ln X in [a, b]. */
static double lognormal_moment(double mu, double sigma, double a, double b, int k)
{
    double za = (a - mu) / sigma, zb = (b - mu) / sigma;
    double z = gsl_cdf_ugaussian_P(zb) - gsl_cdf_ugaussian_P(za);
    double zk = gsl_cdf_ugaussian_P(zb - k * sigma) - gsl_cdf_ugaussian_P(za - k * sigma);
    return exp(k * mu + k * k * sigma * sigma / 2) * zk / z;
}

/* Mean and variance of a distribution, from its parameters only (not from the module). */
static void closed_form(const struct fleet_population_dist *d, double *mean, double *var)
{
    switch (d->kind) {
    case FLEET_POPULATION_FIXED:
        *mean = d->value;
        *var = 0;
        return;
    case FLEET_POPULATION_UNIFORM:
        *mean = (d->lo + d->hi) / 2;
        *var = (d->hi - d->lo) * (d->hi - d->lo) / 12;
        return;
    case FLEET_POPULATION_NORMAL: {
        double m = 0, v = 1;
        if (d->truncated)
            std_normal_moments((d->lo - d->mu) / d->sigma, (d->hi - d->mu) / d->sigma, &m, &v);
        *mean = d->mu + d->sigma * m;
        *var = d->sigma * d->sigma * v;
        return;
    }
    case FLEET_POPULATION_LOGNORMAL: {
        double a = d->truncated && d->lo > 0 ? log(d->lo) : -INFINITY;
        double b = d->truncated ? log(d->hi) : INFINITY;
        *mean = lognormal_moment(d->mu, d->sigma, a, b, 1);
        *var = lognormal_moment(d->mu, d->sigma, a, b, 2) - *mean * *mean;
        return;
    }
    case FLEET_POPULATION_BETA: {
        double s = d->a + d->b, w = d->hi - d->lo;
        *mean = d->lo + w * d->a / s;
        *var = w * w * d->a * d->b / (s * s * (s + 1));
        return;
    }
    case FLEET_POPULATION_EXPONENTIAL: {
        double m = d->mean;
        if (!d->truncated) {
            *mean = m;
            *var = m * m;
            return;
        }
        /* lo + Y, Y ~ Exp(m) on [0, L]: E[Y] = m - L q / (1 - q), q = e^(-L/m);
         * E[Y^2] = (2 m^2 - q (L^2 + 2 m L + 2 m^2)) / (1 - q). */
        double lo = d->lo > 0 ? d->lo : 0, l = d->hi - lo, q = exp(-l / m);
        double ey = m - l * q / (1 - q);
        double ey2 = (2 * m * m - q * (l * l + 2 * m * l + 2 * m * m)) / (1 - q);
        *mean = lo + ey;
        *var = ey2 - ey * ey;
        return;
    }
    case FLEET_POPULATION_CHOICE:
    case FLEET_POPULATION_EMPIRICAL: {
        double sw = 0, s1 = 0, s2 = 0;
        for (size_t i = 0; i < d->n_items; i++) {
            double w = d->kind == FLEET_POPULATION_CHOICE ? d->weights[i] : 1;
            sw += w;
            s1 += w * d->values[i];
            s2 += w * d->values[i] * d->values[i];
        }
        *mean = s1 / sw;
        *var = s2 / sw - *mean * *mean;
        return;
    }
    default:
        fail_msg("no closed form for kind %d", (int)d->kind);
    }
}

/* ---- moments --------------------------------------------------------------------- */

static double draws[N];

/* Sample mean and variance of a distribution over devices 0..N-1 against its closed form:
 * the mean within K_SE standard errors sqrt(var / N), the variance within K_SE standard
 * errors of a sample variance, sqrt((m4 - s^4) / N), m4 the sample's 4th central moment. */
static void check_moments(const char *name, const struct fleet_population_dist *d,
                          enum fleet_population_param param)
{
    double want_mean = NAN, want_var = NAN;
    closed_form(d, &want_mean, &want_var);
    double sum = 0;
    for (int i = 0; i < N; i++) {
        draws[i] = fleet_population_draw(d, SEED, (uint64_t)i, param);
        sum += draws[i];
    }
    double mean = sum / N, m2 = 0, m4 = 0;
    for (int i = 0; i < N; i++) {
        double e = draws[i] - mean;
        m2 += e * e;
        m4 += e * e * e * e;
    }
    m4 /= N;
    double var = m2 / (N - 1);
    double se_mean = sqrt(want_var / N);
    double se_var = sqrt(fabs(m4 - var * var) / N);
    if (want_var == 0) { /* fixed: every draw is exactly the value */
        for (int i = 0; i < N; i++)
            if (draws[i] != want_mean)
                fail_msg("%s: device %d drew %.17g, not %.17g", name, i, draws[i], want_mean);
        return;
    }
    if (fabs(mean - want_mean) > K_SE * se_mean)
        fail_msg("%s: mean %.9g, closed form %.9g (%.1f standard errors of %.3g)", name, mean,
                 want_mean, fabs(mean - want_mean) / se_mean, se_mean);
    if (fabs(var - want_var) > K_SE * se_var)
        fail_msg("%s: variance %.9g, closed form %.9g (%.1f standard errors of %.3g)", name, var,
                 want_var, fabs(var - want_var) / se_var, se_var);
}

/* EVIDENCE-OF: population.h "a draw ... DRAW column": every kind's sample mean and
 * variance over 10^5 devices match the closed form of the distribution it documents. */
static void sample_moments_match_closed_forms(void **state)
{
    (void)state;
    static const double profile_v[] = {7.5e6, 15e6, 30e6}, profile_w[] = {3, 1, 0.5};
    static const double emp_v[] = {1, 2, 2, 7, 0.5};
    const struct {
        const char *name;
        struct fleet_population_dist d;
    } cases[] = {
        {"fixed(0.02) draws exactly its value", fixed(0.02)},
        {"uniform(7.5ms, 30ms)", uniform(7.5e6, 30e6)},
        {"normal(0.02, 0.01), untruncated", normal(0.02, 0.01)},
        {"normal(0.02, 0.01) in [0, 0.03], both tails cut", truncated(normal(0.02, 0.01), 0, 0.03)},
        {"normal(0, 1) in [2, 3], upper tail (Q branch)", truncated(normal(0, 1), 2, 3)},
        {"normal(0, 1) in [30, 31], far upper tail", truncated(normal(0, 1), 30, 31)},
        {"normal(0, 1) in [-inf, -1], one-sided", truncated(normal(0, 1), -INFINITY, -1)},
        {"lognormal(ln 30ms, 0.5)", lognormal(log(30e6), 0.5)},
        {"lognormal(ln 30ms, 0.5) in [20ms, 40ms]",
         truncated(lognormal(log(30e6), 0.5), 20e6, 40e6)},
        {"beta(2, 50) on [0, 1]", beta(2, 50, 0, 1)},
        {"beta(2, 50) scaled to [0.1, 0.3]", beta(2, 50, 0.1, 0.3)},
        {"beta(0.5, 0.5) on [0, 1], Johnk branch", beta(0.5, 0.5, 0, 1)},
        {"exponential(2s)", exponential(2e9)},
        {"exponential(2s) in [1s, 3s]", truncated(exponential(2e9), 1e9, 3e9)},
        {"exponential(1) in [700, 701], memoryless shift", truncated(exponential(1), 700, 701)},
        {"choice(7.5ms @ 3, 15ms @ 1, 30ms @ 0.5)", items(3, profile_v, profile_w)},
        {"empirical(1, 2, 2, 7, 0.5)", items(5, emp_v, NULL)},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        assert_int_equal(fleet_population_validate(&cases[i].d, NULL), 0);
        check_moments(cases[i].name, &cases[i].d, FLEET_POPULATION_LOSS_GOOD);
    }
}

/* ---- bounds ---------------------------------------------------------------------- */

/* EVIDENCE-OF: population.h "the result lies in fleet_population_support()": every draw of a
 * bounded distribution, extreme shapes and far tails included, stays inside the support,
 * and the support is the documented one. */
static void draws_always_respect_bounds(void **state)
{
    (void)state;
    static const double v[] = {3, -1, 8}, w[] = {1, 1, 0};
    const struct {
        const char *name;
        struct fleet_population_dist d;
        double lo, hi; /* support, as documented */
    } cases[] = {
        {"uniform(0, 1)", uniform(0, 1), 0, 1},
        {"uniform on an interval 1 ulp wide", uniform(1, nextafter(1, 2)), 1, nextafter(1, 2)},
        {"beta(0.1, 0.1), mass at both ends", beta(0.1, 0.1, 0, 1), 0, 1},
        {"beta(0.05, 3) scaled to [0.2, 0.5]", beta(0.05, 3, 0.2, 0.5), 0.2, 0.5},
        {"beta(500, 0.01)", beta(500, 0.01, 0, 1), 0, 1},
        {"normal(0.02, 0.01) in [0, 0.2]", truncated(normal(0.02, 0.01), 0, 0.2), 0, 0.2},
        {"normal(0, 1) in [36, 36.5]", truncated(normal(0, 1), 36, 36.5), 36, 36.5},
        {"normal(0, 1) in [-36.5, -36]", truncated(normal(0, 1), -36.5, -36), -36.5, -36},
        {"normal(0, 1) in [0, 1e-12]", truncated(normal(0, 1), 0, 1e-12), 0, 1e-12},
        {"normal(0, 1) in [-inf, 0]", truncated(normal(0, 1), -INFINITY, 0), -INFINITY, 0},
        {"lognormal(0, 3)", lognormal(0, 3), 0, INFINITY},
        {"lognormal(0, 1) in [-5, 0.001]", truncated(lognormal(0, 1), -5, 0.001), 0, 0.001},
        {"exponential(1)", exponential(1), 0, INFINITY},
        {"exponential(1) in [-3, 1e-9]", truncated(exponential(1), -3, 1e-9), 0, 1e-9},
        {"exponential(1) in [5000, inf]", truncated(exponential(1), 5000, INFINITY), 5000,
         INFINITY},
        {"choice(3 @ 1, -1 @ 1, 8 @ 0) never reaches the 0-weight 8", items(3, v, w), -1, 3},
        {"empirical(3, -1, 8)", items(3, v, NULL), -1, 8},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct fleet_population_dist *d = &cases[i].d;
        assert_int_equal(fleet_population_validate(d, NULL), 0);
        double lo, hi;
        fleet_population_support(d, &lo, &hi);
        if (lo != cases[i].lo || hi != cases[i].hi)
            fail_msg("%s: support [%g, %g], documented [%g, %g]", cases[i].name, lo, hi,
                     cases[i].lo, cases[i].hi);
        for (int k = 0; k < N; k++) {
            double x = fleet_population_draw(d, SEED, (uint64_t)k, FLEET_POPULATION_LOSS_BAD);
            if (!(x >= lo && x <= hi))
                fail_msg("%s: device %d drew %.17g outside [%g, %g]", cases[i].name, k, x, lo, hi);
        }
    }
}

/* ---- weighted choice ------------------------------------------------------------- */

/* EVIDENCE-OF: population.h "values[i] with probability weights[i] / sum": each item's
 * frequency over 10^5 devices is within K_SE binomial standard errors of its weight's share,
 * a weight of 0 is never drawn, and a draw returns values[draw_index]. */
static void weighted_choice_frequencies_match_weights(void **state)
{
    (void)state;
    static const double v[] = {10, 20, 30, 40, 50}, w[] = {5, 3, 0, 2, 0.1};
    static const double ev[] = {1, 2, 3, 4};
    const struct {
        const char *name;
        struct fleet_population_dist d;
        double share[5];
    } cases[] = {
        {"choice weights 5:3:0:2:0.1",
         items(5, v, w),
         {5 / 10.1, 3 / 10.1, 0, 2 / 10.1, 0.1 / 10.1}},
        {"empirical of 4 values, 1/4 each", items(4, ev, NULL), {0.25, 0.25, 0.25, 0.25, 0}},
        {"choice of one item", items(1, v, w), {1, 0, 0, 0, 0}},
    };
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        const struct fleet_population_dist *d = &cases[c].d;
        unsigned long count[FLEET_POPULATION_MAX_ITEMS] = {0};
        for (int k = 0; k < N; k++) {
            size_t i = fleet_population_draw_index(d, SEED, (uint64_t)k, FLEET_POPULATION_PROFILE);
            assert_true(i < d->n_items);
            count[i]++;
            double x = fleet_population_draw(d, SEED, (uint64_t)k, FLEET_POPULATION_PROFILE);
            if (x != d->values[i])
                fail_msg("%s: device %d drew %g but its index is %zu (%g)", cases[c].name, k, x, i,
                         d->values[i]);
        }
        for (size_t i = 0; i < d->n_items; i++) {
            double p = cases[c].share[i], f = (double)count[i] / N;
            double se = sqrt(p * (1 - p) / N);
            if (p == 0 ? count[i] != 0 : fabs(f - p) > K_SE * se)
                fail_msg("%s: item %zu drawn with frequency %.5f, weight share %.5f (se %.5f)",
                         cases[c].name, i, f, p, se);
        }
    }
}

/* Kinds other than choice and empirical have index 0. */
static void draw_index_of_a_continuous_kind_is_zero(void **state)
{
    (void)state;
    struct fleet_population_dist d = beta(2, 50, 0, 1);
    for (uint64_t k = 0; k < 100; k++)
        assert_int_equal(fleet_population_draw_index(&d, SEED, k, FLEET_POPULATION_PROFILE), 0);
}

/* ---- keyed draws ----------------------------------------------------------------- */

/* Lock-in (values from an independent Python model of sim_rng keying and xoshiro256**,
 * with purpose SIM_RNG_POPULATION | param << 16): the key of a draw must not change
 * silently, because every recorded result depends on it. Update only on purpose. */
static void draw_keying_is_stable(void **state)
{
    (void)state;
    struct fleet_population_dist u = uniform(0, 1);
    assert_true(fleet_population_draw(&u, 42, 7, FLEET_POPULATION_LOSS_GOOD) ==
                1787172261695386.0 * 0x1.0p-53);
    assert_true(fleet_population_draw(&u, 1, 0, FLEET_POPULATION_INTERVAL) ==
                1760482022227712.0 * 0x1.0p-53);
    /* u = 0.93777 for (42, 7, PROFILE): 16:1 -> 15.94 < 16 picks item 0, 15:1 -> 15.004 >= 15
     * picks item 1 (the scan's boundary). */
    static const double v[] = {0, 1}, w16[] = {16, 1}, w15[] = {15, 1};
    struct fleet_population_dist c16 = items(2, v, w16), c15 = items(2, v, w15);
    assert_int_equal(fleet_population_draw_index(&c16, 42, 7, FLEET_POPULATION_PROFILE), 0);
    assert_int_equal(fleet_population_draw_index(&c15, 42, 7, FLEET_POPULATION_PROFILE), 1);
}

/* CONTRIBUTING.md rule 3: adding devices or parameters does not change what existing devices
 * draw. Devices 0..99 draw three parameters alone; then a fleet of 10^4 devices draws,
 * from the highest id down, those parameters interleaved with four others: devices 0..99
 * get identical values. */
static void adding_devices_or_parameters_does_not_change_draws(void **state)
{
    (void)state;
    enum { SMALL = 100, LARGE = 10000 };
    static const double pv[] = {0, 1, 2}, pw[] = {2, 1, 1};
    const struct {
        enum fleet_population_param param;
        struct fleet_population_dist d;
    } mine[] = {
        {FLEET_POPULATION_LOSS_GOOD, beta(2, 50, 0, 1)},
        {FLEET_POPULATION_INTERVAL, truncated(normal(15e6, 5e6), 7.5e6, 30e6)},
        {FLEET_POPULATION_PROFILE, items(3, pv, pw)},
    };
    const struct {
        enum fleet_population_param param;
        struct fleet_population_dist d;
    } others[] = {
        {FLEET_POPULATION_LOSS_BAD, uniform(0.1, 0.5)},
        {FLEET_POPULATION_TIMEOUT, exponential(4e9)},
        {FLEET_POPULATION_GW_DWELL, lognormal(3, 1)},
        {(enum fleet_population_param)1000, normal(0, 1)},
    };
    static double before[SMALL][3];
    for (uint64_t dev = 0; dev < SMALL; dev++)
        for (size_t p = 0; p < ARRAY_LEN(mine); p++)
            before[dev][p] = fleet_population_draw(&mine[p].d, SEED, dev, mine[p].param);

    for (uint64_t dev = LARGE; dev-- > 0;) {
        for (size_t o = 0; o < ARRAY_LEN(others); o++)
            (void)fleet_population_draw(&others[o].d, SEED, dev, others[o].param);
        for (size_t p = ARRAY_LEN(mine); p-- > 0;) {
            double x = fleet_population_draw(&mine[p].d, SEED, dev, mine[p].param);
            (void)fleet_population_draw(&others[p].d, SEED, dev + 1, others[p].param);
            if (dev < SMALL && x != before[dev][p])
                fail_msg("device %llu parameter %d: %.17g alone, %.17g in a larger fleet",
                         (unsigned long long)dev, (int)mine[p].param, before[dev][p], x);
        }
    }
}

/* The same key gives the same value; another seed gives another value. */
static void same_seed_same_values_other_seed_other_values(void **state)
{
    (void)state;
    struct fleet_population_dist d = beta(2, 50, 0, 1);
    int same_other_seed = 0;
    for (uint64_t dev = 0; dev < 1000; dev++) {
        double a = fleet_population_draw(&d, SEED, dev, FLEET_POPULATION_LOSS_GOOD);
        double b = fleet_population_draw(&d, SEED, dev, FLEET_POPULATION_LOSS_GOOD);
        assert_true(a == b);
        same_other_seed +=
            a == fleet_population_draw(&d, SEED + 1, dev, FLEET_POPULATION_LOSS_GOOD);
    }
    assert_int_equal(same_other_seed, 0);
}

static double correlation(const double *x, const double *y, int n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

/* Two parameters of one device, one parameter of neighbouring devices, and one parameter
 * under neighbouring seeds are uncorrelated: under independence the sample correlation of
 * N pairs has standard error 1/sqrt(N), so |r| stays below K_SE/sqrt(N) = 0.016. */
static void different_keys_draw_uncorrelated_values(void **state)
{
    (void)state;
    static double y[N];
    const struct {
        const char *name;
        enum fleet_population_param p1, p2;
        uint64_t dev_shift, seed_shift;
    } cases[] = {
        {"loss good vs loss bad of a device", FLEET_POPULATION_LOSS_GOOD, FLEET_POPULATION_LOSS_BAD,
         0, 0},
        {"loss good vs interval of a device", FLEET_POPULATION_LOSS_GOOD, FLEET_POPULATION_INTERVAL,
         0, 0},
        {"profile vs gateway links (ids 64 and 128)", FLEET_POPULATION_PROFILE,
         FLEET_POPULATION_GW_LINKS, 0, 0},
        {"device d vs device d + 1", FLEET_POPULATION_LOSS_GOOD, FLEET_POPULATION_LOSS_GOOD, 1, 0},
        {"seed s vs seed s + 1", FLEET_POPULATION_LOSS_GOOD, FLEET_POPULATION_LOSS_GOOD, 0, 1},
    };
    struct fleet_population_dist u = uniform(0, 1);
    for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
        for (int i = 0; i < N; i++) {
            draws[i] = fleet_population_draw(&u, SEED, (uint64_t)i, cases[c].p1);
            y[i] = fleet_population_draw(&u, SEED + cases[c].seed_shift,
                                         (uint64_t)i + cases[c].dev_shift, cases[c].p2);
        }
        double r = correlation(draws, y, N);
        if (fabs(r) > K_SE / sqrt(N))
            fail_msg("%s: sample correlation %.5f", cases[c].name, r);
    }
}

/* ---- parser: accepted forms ------------------------------------------------------ */

/* A unit for tests: "<number>u" is that number; counts its calls through ctx. */
static int unit_u(void *ctx, const char *text, double *value, const char **why)
{
    (*(int *)ctx)++;
    size_t n = strlen(text);
    char buf[64];
    if (n < 2 || n >= sizeof(buf) || strcmp(text + n - 1, "u") != 0) {
        *why = "has no u";
        return SIM_EINVAL;
    }
    memcpy(buf, text, n - 1);
    buf[n - 1] = '\0';
    return fleet_population_unit_number(NULL, buf, value, why);
}

/* A unit for tests with a two-byte character: "<number>µ". */
static int unit_micro(void *ctx, const char *text, double *value, const char **why)
{
    (void)ctx;
    size_t n = strlen(text);
    char buf[64];
    if (n < 3 || n >= sizeof(buf) || strcmp(text + n - 2, "\xc2\xb5") != 0) {
        *why = "has no \xc2\xb5";
        return SIM_EINVAL;
    }
    memcpy(buf, text, n - 2);
    buf[n - 2] = '\0';
    return fleet_population_unit_number(NULL, buf, value, why);
}

static bool same_dist(const struct fleet_population_dist *a, const struct fleet_population_dist *b)
{
    if (a->kind != b->kind || a->truncated != b->truncated || a->n_items != b->n_items)
        return false;
    if (a->value != b->value || a->mu != b->mu || a->sigma != b->sigma || a->a != b->a ||
        a->b != b->b || a->mean != b->mean || a->lo != b->lo || a->hi != b->hi)
        return false;
    for (size_t i = 0; i < a->n_items; i++)
        if (a->values[i] != b->values[i] || a->weights[i] != b->weights[i])
            return false;
    return true;
}

/* EVIDENCE-OF: population.h grammar: each documented form parses to the distribution it
 * names, VALUEs through the caller's unit parser, shapes and weights as plain numbers. */
static void parser_accepts_documented_forms(void **state)
{
    (void)state;
    fleet_population_unit_fn num = fleet_population_unit_number;
    fleet_population_unit_fn dur = fleet_population_unit_duration;
    fleet_population_unit_fn pct = fleet_population_unit_percent;
    static const double cv[] = {7.5e6, 15e6}, cw[] = {3, 1};
    static const double c2v[] = {1, 2}, c2w[] = {0, 1e3};
    static const double ev[] = {1, 2, 2, 7};
    const struct {
        const char *text;
        fleet_population_unit_fn unit;
        struct fleet_population_dist want;
    } cases[] = {
        {"beta(2, 50)", num, beta(2, 50, 0, 1)},
        {"beta(2,50,0%,20%)", pct, beta(2, 50, 0, 0.2)},
        {"beta(\t2,\t50 )", num, beta(2, 50, 0, 1)},
        {"uniform(7.5ms, 30ms)", dur, uniform(7.5e6, 30e6)},
        {"normal(0.02, 0.01) in [0, 0.2]", num, truncated(normal(0.02, 0.01), 0, 0.2)},
        {"normal(2%, 1%) in [0%, 20%]", pct, truncated(normal(0.02, 0.01), 0, 0.2)},
        {"  normal ( 30ms , 5ms )  ", dur, normal(30e6, 5e6)},
        {"normal(-3, 1.5e-1)", num, normal(-3, 0.15)},
        {"lognormal(30ms, 0.5)", dur, lognormal(log(30e6), 0.5)},
        {"lognormal(30ms, 0.5) in [7.5ms, 4s]", dur,
         truncated(lognormal(log(30e6), 0.5), 7.5e6, 4e9)},
        {"exponential(2s)", dur, exponential(2e9)},
        {"exponential(2s)in[0s,10s]", dur, truncated(exponential(2e9), 0, 10e9)},
        {"choice(7.5ms @ 3, 15ms @ 1)", dur, items(2, cv, cw)},
        {"choice(1@0,2@1e3)", num, items(2, c2v, c2w)},
        {"empirical(1, 2, 2, 7)", num, items(4, ev, NULL)},
        {"fixed(-0.5)", num, fixed(-0.5)},
        {"7.5ms", dur, fixed(7.5e6)},
        {" 0.02 ", NULL, fixed(0.02)},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fleet_population_dist got;
        struct sim_diag diag;
        unsigned col = 0;
        sim_diag_init(&diag);
        int rc = fleet_population_parse(cases[i].text, cases[i].unit, NULL, &got, &col, &diag);
        if (rc != 0)
            fail_msg("\"%s\": rc %d at column %u: %s", cases[i].text, rc, col, diag.text);
        if (!same_dist(&got, &cases[i].want))
            fail_msg("\"%s\": parsed to kind %d, not the expected distribution", cases[i].text,
                     (int)got.kind);
        assert_int_equal(diag.n_messages, 0);
    }
}

/* Shapes, weights and a lognormal's sigma never reach the unit parser; VALUEs do, with the
 * caller's context. */
static void parser_sends_only_values_to_the_unit_parser(void **state)
{
    (void)state;
    const struct {
        const char *text;
        int calls;
    } cases[] = {
        {"beta(2, 50, 1u, 3u)", 2},
        {"beta(2, 50)", 0},
        {"choice(1u @ 2, 3u @ 4, 5u @ 6)", 3},
        {"lognormal(4u, 0.5) in [1u, 9u]", 3},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int calls = 0;
        unsigned col;
        struct fleet_population_dist d;
        assert_int_equal(fleet_population_parse(cases[i].text, unit_u, &calls, &d, &col, NULL), 0);
        if (calls != cases[i].calls)
            fail_msg("\"%s\": %d unit calls, want %d", cases[i].text, calls, cases[i].calls);
    }
}

/* The item limit: 64 items parse; a 65th is refused at its own column. */
static void parser_takes_up_to_max_items(void **state)
{
    (void)state;
    char text[1024];
    size_t len = (size_t)snprintf(text, sizeof(text), "choice(");
    size_t cut = 0, at65 = 0; /* byte offsets of ", 64 @ 1" and of "64 @ 1" */
    for (int i = 0; i <= FLEET_POPULATION_MAX_ITEMS; i++) {
        if (i == FLEET_POPULATION_MAX_ITEMS) {
            cut = len;
            at65 = len + 2;
        }
        len += (size_t)snprintf(text + len, sizeof(text) - len, "%s%d @ 1", i > 0 ? ", " : "", i);
    }
    memcpy(text + len, ")", 2);
    struct fleet_population_dist d;
    struct sim_diag diag;
    unsigned col = 0;
    sim_diag_init(&diag);
    assert_int_equal(fleet_population_parse(text, NULL, NULL, &d, &col, &diag), SIM_ERANGE);
    assert_int_equal(col, at65 + 1); /* ASCII: column = offset + 1 */
    assert_string_equal(diag.text, "choice: at most 64 items\n");

    memcpy(text + cut, ")", 2); /* drop the 65th */
    assert_int_equal(fleet_population_parse(text, NULL, NULL, &d, &col, NULL), 0);
    assert_int_equal(d.n_items, FLEET_POPULATION_MAX_ITEMS);
    assert_true(d.values[63] == 63 && d.weights[63] == 1);
}

/* ---- parser: rejected forms -------------------------------------------------------- */

/* Malformed text is refused with the column of the problem (in characters) and a message
 * that names it; *out is left untouched. */
static void parser_rejects_malformed_text_at_the_right_column(void **state)
{
    (void)state;
    fleet_population_unit_fn num = fleet_population_unit_number;
    fleet_population_unit_fn dur = fleet_population_unit_duration;
    const struct {
        const char *name, *text;
        fleet_population_unit_fn unit;
        int rc;
        unsigned col;
        const char *msg; /* the whole message */
    } cases[] = {
        {"empty text", "", num, SIM_EINVAL, 1,
         "expected a value or a distribution such as beta(2, 50), found the end of the text"},
        {"unknown name", "betta(2, 50)", num, SIM_EINVAL, 1,
         "unknown distribution \"betta\" (expected fixed, uniform, normal, lognormal, beta, "
         "exponential, choice or empirical)"},
        {"unclosed call", "beta(2, 50", num, SIM_EINVAL, 11, "missing ')' to close beta("},
        {"missing comma", "beta(2 50)", num, SIM_EINVAL, 6,
         "\"2 50\" is not a plain number (is a ',' missing?)"},
        {"negative beta shape a", "beta(-1, 50)", num, SIM_ERANGE, 6,
         "beta: a must be > 0 (got -1)"},
        {"zero beta shape b", "beta(2, 0)", num, SIM_ERANGE, 9, "beta: b must be > 0 (got 0)"},
        {"beta with 3 arguments", "beta(2, 50, 0.2)", num, SIM_EINVAL, 16,
         "wrong number of arguments (3): beta(A, B) or beta(A, B, LO, HI)"},
        {"beta with 5 arguments", "beta(1, 2, 3, 4, 5)", num, SIM_EINVAL, 18,
         "too many arguments: beta(A, B) or beta(A, B, LO, HI)"},
        {"beta scaled to an inverted interval", "beta(2, 50, 0.3, 0.1)", num, SIM_ERANGE, 18,
         "beta: hi must be > lo (got [0.3, 0.1])"},
        {"beta with a range", "beta(2, 50) in [0, 1]", num, SIM_EINVAL, 13,
         "beta: 'in [LO, HI]' is not allowed here: to scale a beta to [lo, hi] write beta(A, B, "
         "LO, HI)"},
        {"uniform upside down", "uniform(30ms, 7.5ms)", dur, SIM_ERANGE, 15,
         "uniform: hi must be > lo (got [3e+07, 7.5e+06])"},
        {"bad unit", "uniform(7.5xs, 30ms)", dur, SIM_EINVAL, 9,
         "\"7.5xs\" is not a duration (a number and ns, us, ms, s, min, h or d: 7.5ms)"},
        {"negative sigma", "normal(0.02, -0.01)", num, SIM_ERANGE, 14,
         "normal: sigma must be > 0 (got -0.01)"},
        {"empty range", "normal(0.02, 0.01) in [0.2, 0]", num, SIM_ERANGE, 29,
         "normal: the range [0.2, 0] is empty (lo must be < hi)"},
        {"range out in the tail", "normal(0, 1) in [40, 41]", num, SIM_ERANGE, 18,
         "normal: the range [40, 41] is too far in the tail to draw from (probability below "
         "1e-300); move it closer to the bulk of the distribution"},
        {"unclosed range", "normal(0, 1) in [0, 1", num, SIM_EINVAL, 22,
         "expected ']' to close 'in [LO, HI]', found the end of the text"},
        {"range without bracket", "normal(0, 1) in 0, 1]", num, SIM_EINVAL, 17,
         "expected '[' after 'in', found '0'"},
        {"range with one bound", "normal(0, 1) in [0]", num, SIM_EINVAL, 19,
         "expected ',' between the bounds of 'in [LO, HI]', found ']'"},
        {"trailing text", "normal(0, 1) x", num, SIM_EINVAL, 14,
         "unexpected text after the distribution"},
        {"lognormal given mu 0", "lognormal(0, 1)", num, SIM_ERANGE, 11,
         "lognormal: the median must be a finite number > 0 (got 0); lognormal(MEDIAN, SIGMA) "
         "takes the median e^mu in the parameter's unit, not mu"},
        {"lognormal without arguments", "lognormal()", num, SIM_EINVAL, 11,
         "too few arguments (0): lognormal(MEDIAN, SIGMA)"},
        {"normal with one argument", "normal(1)", num, SIM_EINVAL, 9,
         "too few arguments (1): normal(MU, SIGMA)"},
        {"lognormal sigma with a unit", "lognormal(30ms, 0.5ms)", dur, SIM_EINVAL, 17,
         "\"0.5ms\" is not a plain number (shapes, weights and a lognormal's sigma have no "
         "unit)"},
        {"zero mean", "exponential(0s)", dur, SIM_ERANGE, 13,
         "exponential: the mean must be > 0 (got 0)"},
        {"exponential range below 0", "exponential(1) in [-2, -1]", num, SIM_ERANGE, 24,
         "exponential: the range [-2, -1] lies at or below 0, where exponential draws never "
         "fall (hi must be > 0)"},
        {"choice item without weight", "choice(1 @ 1, 2)", num, SIM_EINVAL, 16,
         "choice: expected '@' and the weight of item 2"},
        {"choice negative weight", "choice(1 @ -1, 2 @ 1)", num, SIM_ERANGE, 12,
         "choice: the weight of item 1 must be a finite number >= 0 (got -1)"},
        {"choice all weights 0", "choice(1 @ 0, 2 @ 0)", num, SIM_ERANGE, 1,
         "choice: every weight is 0; give at least one item a weight > 0"},
        {"choice weight with a unit", "choice(1ms @ 2ms)", dur, SIM_EINVAL, 14,
         "\"2ms\" is not a plain number (shapes, weights and a lognormal's sigma have no unit)"},
        {"empty empirical", "empirical()", num, SIM_EINVAL, 11,
         "too few arguments (0): empirical(VALUE, VALUE, ...)"},
        {"empirical with weight", "empirical(1 @ 2)", num, SIM_EINVAL, 13,
         "'@' gives a weight, which only choice(VALUE @ WEIGHT, ...) takes"},
        {"choice weight after a colon", "choice(7.5ms: 3)", dur, SIM_EINVAL, 13,
         "unexpected ':' (a choice's weights are written VALUE @ WEIGHT, because ': ' ends a "
         "plain YAML scalar)"},
        {"empty argument", "uniform(1, )", num, SIM_EINVAL, 12, "expected a value, found ')'"},
        {"nested call", "uniform(1, (2))", num, SIM_EINVAL, 12, "expected a value, found '('"},
        {"fixed with 2 arguments", "fixed(1, 2)", num, SIM_EINVAL, 10,
         "too many arguments: fixed(VALUE)"},
        {"bare value then more", "7.5ms)", dur, SIM_EINVAL, 6,
         "unexpected text after the distribution"},
        {"bare value without unit", "7.5", dur, SIM_EINVAL, 1,
         "\"7.5\" is not a duration (a number and ns, us, ms, s, min, h or d: 7.5ms)"},
        {"inf is not a number", "fixed(inf)", num, SIM_EINVAL, 7, "\"inf\" is not a plain number"},
        {"value too long",
         "fixed(00000000000000000000000000000000000000000000000000000000000000001)", num,
         SIM_EINVAL, 7,
         "\"00000000000000000000000000000000000000000000000000000000000000001\" is too long for a "
         "value (at most 64 characters)"},
        {"columns count characters, not bytes", "uniform(3\xc2\xb5, 2\xc2\xb5)", unit_micro,
         SIM_ERANGE, 13, "uniform: hi must be > lo (got [3, 2])"},
        {"control characters are not copied into messages", "fixed(1\x01)", num, SIM_EINVAL, 7,
         "\"1?\" is not a plain number"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fleet_population_dist out = fixed(12345);
        struct sim_diag diag;
        unsigned col = 0;
        sim_diag_init(&diag);
        int rc = fleet_population_parse(cases[i].text, cases[i].unit, NULL, &out, &col, &diag);
        char want[512];
        snprintf(want, sizeof(want), "%s\n", cases[i].msg);
        if (rc != cases[i].rc || col != cases[i].col || strcmp(diag.text, want) != 0)
            fail_msg("%s: \"%s\": rc %d col %u \"%s\"; want rc %d col %u \"%s\"", cases[i].name,
                     cases[i].text, rc, col, diag.text, cases[i].rc, cases[i].col, cases[i].msg);
        if (out.kind != FLEET_POPULATION_FIXED || out.value != 12345)
            fail_msg("%s: *out was changed by a failed parse", cases[i].name);
    }
}

/* ---- validation ------------------------------------------------------------------ */

/* EVIDENCE-OF: population.h "adds one message for people": each invalid distribution gets
 * its error code and one message that names the field, the rule and the value. */
static void validation_names_the_field_the_rule_and_the_value(void **state)
{
    (void)state;
    static const double v3[] = {1, NAN, 3}, w3[] = {1, 1, 1};
    struct fleet_population_dist bad_kind = fixed(0), too_many = items(1, v3, w3);
    bad_kind.kind = (enum fleet_population_kind)99;
    too_many.n_items = FLEET_POPULATION_MAX_ITEMS + 1;
    const struct {
        const char *name;
        struct fleet_population_dist d;
        int rc;
        const char *msg; /* NULL: valid */
    } cases[] = {
        {"a zeroed struct is fixed(0)", {0}, 0, NULL},
        {"beta with a < 0", beta(-1, 50, 0, 1), SIM_ERANGE, "beta: a must be > 0 (got -1)"},
        {"beta with b infinite", beta(2, INFINITY, 0, 1), SIM_ERANGE,
         "beta: b must be a finite number (got inf)"},
        {"beta on [0, 0] (lo and hi left zeroed)", beta(2, 50, 0, 0), SIM_ERANGE,
         "beta: hi must be > lo (got [0, 0])"},
        {"unknown kind", bad_kind, SIM_EINVAL, "unknown distribution kind 99"},
        {"choice without items", items(0, v3, w3), SIM_EINVAL,
         "choice: needs 1 to 64 items (got 0)"},
        {"choice with too many items", too_many, SIM_EINVAL,
         "choice: needs 1 to 64 items (got 65)"},
        {"normal with sigma nan", normal(0, NAN), SIM_ERANGE,
         "normal: sigma must be a finite number (got nan)"},
        {"normal with mu infinite", normal(-INFINITY, 1), SIM_ERANGE,
         "normal: mu must be a finite number (got -inf)"},
        {"normal truncated to the whole line", truncated(normal(0, 1), -INFINITY, INFINITY), 0,
         NULL},
        {"normal with a nan bound", truncated(normal(0, 1), NAN, 1), SIM_ERANGE,
         "normal: the bounds of the range must be numbers (got [nan, 1])"},
        {"uniform of one point", uniform(3, 3), SIM_ERANGE,
         "uniform: hi must be > lo (got [3, 3])"},
        {"uniform to infinity", uniform(0, INFINITY), SIM_ERANGE,
         "uniform: hi must be a finite number (got inf)"},
        {"exponential on an empty range", truncated(exponential(1), 5, 5), SIM_ERANGE,
         "exponential: the range [5, 5] is empty (lo must be < hi)"},
        {"exponential with mean < 0", exponential(-2), SIM_ERANGE,
         "exponential: the mean must be > 0 (got -2)"},
        {"lognormal below 0", truncated(lognormal(0, 1), -5, 0), SIM_ERANGE,
         "lognormal: the range [-5, 0] lies at or below 0, where lognormal draws never fall (hi "
         "must be > 0)"},
        {"lognormal far in the tail", truncated(lognormal(0, 1), exp(40), exp(41)), SIM_ERANGE,
         "lognormal: the range [2.35385e+17, 6.39843e+17] is too far in the tail to draw from "
         "(probability below 1e-300); move it closer to the bulk of the distribution"},
        {"fixed infinity", fixed(INFINITY), SIM_ERANGE,
         "fixed: the value must be a finite number (got inf)"},
        {"empirical with a nan item", items(3, v3, NULL), SIM_ERANGE,
         "empirical: item 2 must be a finite number (got nan)"},
        {"choice with a nan item", items(3, v3, w3), SIM_ERANGE,
         "choice: item 2 must be a finite number (got nan)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct sim_diag diag;
        sim_diag_init(&diag);
        int rc = fleet_population_validate(&cases[i].d, &diag);
        char want[512];
        snprintf(want, sizeof(want), "%s\n", cases[i].msg != NULL ? cases[i].msg : "");
        if (cases[i].msg == NULL)
            want[0] = '\0';
        if (rc != cases[i].rc || strcmp(diag.text, want) != 0)
            fail_msg("%s: rc %d \"%s\"; want rc %d \"%s\"", cases[i].name, rc, diag.text,
                     cases[i].rc, want);
        assert_int_equal(diag.n_messages, cases[i].msg != NULL ? 1 : 0);
        assert_int_equal(fleet_population_validate(&cases[i].d, NULL), cases[i].rc);
    }
}

/* An invalid distribution still draws without reading outside the struct (ASan and
 * valgrind watch this case) and without aborting through GSL's error handler. */
static void invalid_distributions_draw_safely(void **state)
{
    (void)state;
    static const double v[] = {1, 2}, w[] = {1, 1};
    struct fleet_population_dist d = items(2, v, w);
    d.n_items = 1000;
    assert_int_equal(fleet_population_draw_index(&d, 1, 2, FLEET_POPULATION_PROFILE), 0);
    d.kind = FLEET_POPULATION_EMPIRICAL;
    d.n_items = 0;
    assert_int_equal(fleet_population_draw_index(&d, 1, 2, FLEET_POPULATION_PROFILE), 0);
    d.kind = (enum fleet_population_kind)77;
    assert_true(isnan(fleet_population_draw(&d, 1, 2, FLEET_POPULATION_PROFILE)));
    assert_string_equal(fleet_population_kind_name(d.kind), "?");
    assert_string_equal(fleet_population_kind_name(FLEET_POPULATION_LOGNORMAL), "lognormal");
}

/* ---- unit parsers ---------------------------------------------------------------- */

static void unit_parsers_accept_their_forms_only(void **state)
{
    (void)state;
    const struct {
        fleet_population_unit_fn fn;
        const char *text;
        int rc;
        double want;
        const char *why;
    } cases[] = {
        {fleet_population_unit_number, "2", 0, 2, NULL},
        {fleet_population_unit_number, "-0.5", 0, -0.5, NULL},
        {fleet_population_unit_number, "+3", 0, 3, NULL},
        {fleet_population_unit_number, "2e-3", 0, 2e-3, NULL},
        {fleet_population_unit_number, "1E3", 0, 1e3, NULL},
        {fleet_population_unit_number, ".5", 0, 0.5, NULL},
        {fleet_population_unit_number, "5.", 0, 5, NULL},
        {fleet_population_unit_number, "", SIM_EINVAL, 0, "is empty"},
        {fleet_population_unit_number, ".", SIM_EINVAL, 0, "is not a plain number"},
        {fleet_population_unit_number, "nan", SIM_EINVAL, 0, "is not a plain number"},
        {fleet_population_unit_number, "0x10", SIM_EINVAL, 0, "is not a plain number"},
        {fleet_population_unit_number, "1e", SIM_EINVAL, 0, "is not a plain number"},
        {fleet_population_unit_number, "2%", SIM_EINVAL, 0, "is not a plain number"},
        {fleet_population_unit_number, "--1", SIM_EINVAL, 0, "is not a plain number"},
        {fleet_population_unit_number, "1e999", SIM_ERANGE, 0, "is too large"},
        {fleet_population_unit_duration, "7.5ms", 0, 7.5e6, NULL},
        {fleet_population_unit_duration, "4s", 0, 4e9, NULL},
        {fleet_population_unit_duration, "7.5", SIM_EINVAL, 0,
         "is not a duration (a number and ns, us, ms, s, min, h or d: 7.5ms)"},
        {fleet_population_unit_duration, "0.5ns", SIM_ERANGE, 0,
         "is out of range for a duration (1ns to 2562047h)"},
        {fleet_population_unit_percent, "2%", 0, 0.02, NULL},
        {fleet_population_unit_percent, "0.5%", 0, 0.005, NULL},
        {fleet_population_unit_percent, "0.02", SIM_EINVAL, 0, "is not a percentage (2%, 0.5%)"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        double v = -1;
        const char *why = NULL;
        int rc = cases[i].fn(NULL, cases[i].text, &v, &why);
        if (rc != cases[i].rc)
            fail_msg("\"%s\": rc %d, want %d", cases[i].text, rc, cases[i].rc);
        if (rc == 0 && v != cases[i].want)
            fail_msg("\"%s\": %.17g, want %.17g", cases[i].text, v, cases[i].want);
        if (rc != 0 && (why == NULL || strcmp(why, cases[i].why) != 0))
            fail_msg("\"%s\": why \"%s\", want \"%s\"", cases[i].text, why ? why : "(null)",
                     cases[i].why);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_moments_match_closed_forms),
        cmocka_unit_test(draws_always_respect_bounds),
        cmocka_unit_test(weighted_choice_frequencies_match_weights),
        cmocka_unit_test(draw_index_of_a_continuous_kind_is_zero),
        cmocka_unit_test(draw_keying_is_stable),
        cmocka_unit_test(adding_devices_or_parameters_does_not_change_draws),
        cmocka_unit_test(same_seed_same_values_other_seed_other_values),
        cmocka_unit_test(different_keys_draw_uncorrelated_values),
        cmocka_unit_test(parser_accepts_documented_forms),
        cmocka_unit_test(parser_sends_only_values_to_the_unit_parser),
        cmocka_unit_test(parser_takes_up_to_max_items),
        cmocka_unit_test(parser_rejects_malformed_text_at_the_right_column),
        cmocka_unit_test(validation_names_the_field_the_rule_and_the_value),
        cmocka_unit_test(invalid_distributions_draw_safely),
        cmocka_unit_test(unit_parsers_accept_their_forms_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
