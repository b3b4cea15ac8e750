/* models/fleet/population.c - per-device parameter distributions: checks, keyed draws
 * through GSL, and the text parser of population.h.
 *
 * Truncated distributions are drawn by inversion: one uniform u in (0, 1) is mapped into
 * [F(lo), F(hi)] and back through F^-1 (GSL's gsl_cdf_ugaussian_*), so a far-tail range
 * costs the same as a central one, where rejection would loop for ever. In the upper tail
 * the complementary CDF Q is used instead of P, because 1 - P loses every digit there.
 */
#include "models/fleet/population.h"

#include <errno.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/rng.h"
#include "sim/scenario.h"

#define TOKEN_CAP 64     /* longest VALUE, in bytes */
#define MIN_MASS  1e-300 /* a truncation range less likely than this is refused */

/* ---- kinds ---------------------------------------------------------------------- */

/* What a kind accepts in text. arity: bit n set when n arguments are allowed (item kinds
 * take 1 to FLEET_POPULATION_MAX_ITEMS). */
static const struct kind_info {
    const char *name;
    unsigned arity;
    bool items;       /* a list of items, not fixed arguments */
    bool truncatable; /* accepts "in [lo, hi]" */
    const char *usage;
    const char *no_range; /* why "in [lo, hi]" is refused */
} kinds[FLEET_POPULATION_KIND_COUNT] = {
    [FLEET_POPULATION_FIXED] = {"fixed", 1u << 1, false, false, "fixed(VALUE)",
                                "a fixed value has no range"},
    [FLEET_POPULATION_UNIFORM] = {"uniform", 1u << 2, false, false, "uniform(LO, HI)",
                                  "uniform(LO, HI) is bounded already"},
    [FLEET_POPULATION_NORMAL] = {"normal", 1u << 2, false, true, "normal(MU, SIGMA)", NULL},
    [FLEET_POPULATION_LOGNORMAL] = {"lognormal", 1u << 2, false, true, "lognormal(MEDIAN, SIGMA)",
                                    NULL},
    [FLEET_POPULATION_BETA] = {"beta", (1u << 2) | (1u << 4), false, false,
                               "beta(A, B) or beta(A, B, LO, HI)",
                               "to scale a beta to [lo, hi] write beta(A, B, LO, HI)"},
    [FLEET_POPULATION_EXPONENTIAL] = {"exponential", 1u << 1, false, true, "exponential(MEAN)",
                                      NULL},
    [FLEET_POPULATION_CHOICE] = {"choice", 0, true, false,
                                 "choice(VALUE @ WEIGHT, VALUE @ WEIGHT, ...)",
                                 "a choice has no range"},
    [FLEET_POPULATION_EMPIRICAL] = {"empirical", 0, true, false, "empirical(VALUE, VALUE, ...)",
                                    "an empirical list has no range"},
};

const char *fleet_population_kind_name(enum fleet_population_kind k)
{
    if ((unsigned)k >= FLEET_POPULATION_KIND_COUNT)
        return "?";
    return kinds[k].name;
}

/* ---- checks --------------------------------------------------------------------- */

/* The field a problem is about, so that the parser can point at its text. */
enum field { F_NONE, F_VALUE, F_MU, F_SIGMA, F_A, F_B, F_MEAN, F_LO, F_HI, F_ITEM, F_WEIGHT };

struct problem {
    enum field field;
    size_t item; /* F_ITEM, F_WEIGHT: 0-based */
    char msg[256];
};

__attribute__((format(printf, 5, 6))) static int fail(struct problem *pb, int rc, enum field f,
                                                      size_t item, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pb->msg, sizeof(pb->msg), fmt, ap);
    va_end(ap);
    pb->field = f;
    pb->item = item;
    return rc;
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Standard-normal bounds of the truncation range (lognormal: of ln X). */
static void std_bounds(const struct fleet_population_dist *d, double *za, double *zb)
{
    if (d->kind == FLEET_POPULATION_LOGNORMAL) {
        *za = d->lo > 0 ? (log(d->lo) - d->mu) / d->sigma : -INFINITY;
        *zb = (log(d->hi) - d->mu) / d->sigma;
        return;
    }
    *za = (d->lo - d->mu) / d->sigma;
    *zb = (d->hi - d->mu) / d->sigma;
}

/* P(za <= Z <= zb) for a standard normal Z, accurate in either tail. */
static double std_normal_mass(double za, double zb)
{
    if (za >= 0)
        return gsl_cdf_ugaussian_Q(za) - gsl_cdf_ugaussian_Q(zb);
    return gsl_cdf_ugaussian_P(zb) - gsl_cdf_ugaussian_P(za);
}

/* Probability of the truncation range; the exponential is memoryless, so only the range's
 * width past its lower end counts. */
static double range_mass(const struct fleet_population_dist *d)
{
    if (d->kind == FLEET_POPULATION_EXPONENTIAL)
        return -expm1(-(d->hi - max2(d->lo, 0)) / d->mean);
    double za, zb;
    std_bounds(d, &za, &zb);
    return std_normal_mass(za, zb);
}

/* v must be finite and, when positive is set, > 0. */
static int check_number(struct problem *pb, const char *kind, const char *label, enum field f,
                        double v, bool positive)
{
    if (!isfinite(v))
        return fail(pb, SIM_ERANGE, f, 0, "%s: %s must be a finite number (got %g)", kind, label,
                    v);
    if (positive && !(v > 0))
        return fail(pb, SIM_ERANGE, f, 0, "%s: %s must be > 0 (got %g)", kind, label, v);
    return 0;
}

/* lo and hi of uniform and beta: finite, lo < hi. */
static int check_interval(struct problem *pb, const struct fleet_population_dist *d,
                          const char *kind)
{
    int rc = check_number(pb, kind, "lo", F_LO, d->lo, false);
    if (rc == 0)
        rc = check_number(pb, kind, "hi", F_HI, d->hi, false);
    if (rc == 0 && !(d->lo < d->hi))
        rc =
            fail(pb, SIM_ERANGE, F_HI, 0, "%s: hi must be > lo (got [%g, %g])", kind, d->lo, d->hi);
    return rc;
}

/* The truncation range of normal, lognormal and exponential: may be infinite, must not be
 * empty, must meet the support and must not be too improbable to draw from. */
static int check_range(struct problem *pb, const struct fleet_population_dist *d, const char *kind)
{
    if (!d->truncated)
        return 0;
    if (isnan(d->lo) || isnan(d->hi))
        return fail(pb, SIM_ERANGE, isnan(d->lo) ? F_LO : F_HI, 0,
                    "%s: the bounds of the range must be numbers (got [%g, %g])", kind, d->lo,
                    d->hi);
    if (!(d->lo < d->hi))
        return fail(pb, SIM_ERANGE, F_HI, 0, "%s: the range [%g, %g] is empty (lo must be < hi)",
                    kind, d->lo, d->hi);
    bool positive = d->kind != FLEET_POPULATION_NORMAL;
    if (positive && !(d->hi > 0))
        return fail(
            pb, SIM_ERANGE, F_HI, 0,
            "%s: the range [%g, %g] lies at or below 0, where %s draws never fall (hi must be "
            "> 0)",
            kind, d->lo, d->hi, kind);
    if (!(range_mass(d) >= MIN_MASS))
        return fail(pb, SIM_ERANGE, F_LO, 0,
                    "%s: the range [%g, %g] is too far in the tail to draw from (probability "
                    "below 1e-300); move it closer to the bulk of the distribution",
                    kind, d->lo, d->hi);
    return 0;
}

static int check_items(struct problem *pb, const struct fleet_population_dist *d, const char *kind)
{
    if (d->n_items < 1 || d->n_items > FLEET_POPULATION_MAX_ITEMS)
        return fail(pb, SIM_EINVAL, F_NONE, 0, "%s: needs 1 to %d items (got %zu)", kind,
                    FLEET_POPULATION_MAX_ITEMS, d->n_items);
    double sum = 0;
    for (size_t i = 0; i < d->n_items; i++) {
        if (!isfinite(d->values[i]))
            return fail(pb, SIM_ERANGE, F_ITEM, i, "%s: item %zu must be a finite number (got %g)",
                        kind, i + 1, d->values[i]);
        if (d->kind != FLEET_POPULATION_CHOICE)
            continue;
        if (!isfinite(d->weights[i]) || d->weights[i] < 0)
            return fail(pb, SIM_ERANGE, F_WEIGHT, i,
                        "%s: the weight of item %zu must be a finite number >= 0 (got %g)", kind,
                        i + 1, d->weights[i]);
        sum += d->weights[i];
    }
    if (d->kind != FLEET_POPULATION_CHOICE)
        return 0;
    if (!isfinite(sum))
        return fail(pb, SIM_ERANGE, F_NONE, 0, "%s: the weights add up to more than %g", kind,
                    1.7e308);
    if (!(sum > 0))
        return fail(pb, SIM_ERANGE, F_NONE, 0,
                    "%s: every weight is 0; give at least one item a weight > 0", kind);
    return 0;
}

static int check(const struct fleet_population_dist *d, struct problem *pb)
{
    if ((unsigned)d->kind >= FLEET_POPULATION_KIND_COUNT)
        return fail(pb, SIM_EINVAL, F_NONE, 0, "unknown distribution kind %d", (int)d->kind);
    const char *k = kinds[d->kind].name;
    int rc = 0;
    switch (d->kind) {
    case FLEET_POPULATION_FIXED:
        return check_number(pb, k, "the value", F_VALUE, d->value, false);
    case FLEET_POPULATION_UNIFORM:
    case FLEET_POPULATION_BETA:
        if (d->kind == FLEET_POPULATION_BETA) {
            rc = check_number(pb, k, "a", F_A, d->a, true);
            if (rc == 0)
                rc = check_number(pb, k, "b", F_B, d->b, true);
        }
        return rc != 0 ? rc : check_interval(pb, d, k);
    case FLEET_POPULATION_NORMAL:
    case FLEET_POPULATION_LOGNORMAL:
        rc = check_number(pb, k, "mu", F_MU, d->mu, false);
        if (rc == 0)
            rc = check_number(pb, k, "sigma", F_SIGMA, d->sigma, true);
        return rc != 0 ? rc : check_range(pb, d, k);
    case FLEET_POPULATION_EXPONENTIAL:
        rc = check_number(pb, k, "the mean", F_MEAN, d->mean, true);
        return rc != 0 ? rc : check_range(pb, d, k);
    case FLEET_POPULATION_CHOICE:
    case FLEET_POPULATION_EMPIRICAL:
        return check_items(pb, d, k);
    case FLEET_POPULATION_KIND_COUNT:
        break;
    }
    return fail(pb, SIM_EINVAL, F_NONE, 0, "unknown distribution kind %d", (int)d->kind);
}

int fleet_population_validate(const struct fleet_population_dist *d, struct sim_diag *diag)
{
    struct problem pb;
    int rc = check(d, &pb);
    if (rc != 0)
        sim_diag_add(diag, "%s", pb.msg);
    return rc;
}

void fleet_population_support(const struct fleet_population_dist *d, double *lo, double *hi)
{
    *lo = -INFINITY;
    *hi = INFINITY;
    switch (d->kind) {
    case FLEET_POPULATION_FIXED:
        *lo = *hi = d->value;
        return;
    case FLEET_POPULATION_UNIFORM:
    case FLEET_POPULATION_BETA:
        *lo = d->lo;
        *hi = d->hi;
        return;
    case FLEET_POPULATION_NORMAL:
        if (d->truncated) {
            *lo = d->lo;
            *hi = d->hi;
        }
        return;
    case FLEET_POPULATION_LOGNORMAL:
    case FLEET_POPULATION_EXPONENTIAL:
        *lo = d->truncated ? max2(d->lo, 0) : 0;
        if (d->truncated)
            *hi = d->hi;
        return;
    case FLEET_POPULATION_CHOICE:
    case FLEET_POPULATION_EMPIRICAL:
        *lo = INFINITY;
        *hi = -INFINITY;
        for (size_t i = 0; i < d->n_items && i < FLEET_POPULATION_MAX_ITEMS; i++) {
            if (d->kind == FLEET_POPULATION_CHOICE && !(d->weights[i] > 0))
                continue;
            *lo = d->values[i] < *lo ? d->values[i] : *lo;
            *hi = d->values[i] > *hi ? d->values[i] : *hi;
        }
        return;
    case FLEET_POPULATION_KIND_COUNT:
        break;
    }
    *lo = *hi = NAN;
}

/* ---- draws ---------------------------------------------------------------------- */

/* The stream of one (seed, device, parameter). Purposes below 2^16 are the plain
 * enum sim_rng_purpose values, so a parameter's purpose never equals another model's. */
static gsl_rng *stream(struct sim_rng *r, gsl_rng *view, uint64_t seed, uint64_t device_id,
                       enum fleet_population_param param)
{
    uint32_t purpose = (uint32_t)SIM_RNG_POPULATION | ((uint32_t)param & 0xffffu) << 16;
    sim_rng_init(r, seed, device_id, purpose);
    return sim_rng_gsl(r, view);
}

/* A standard normal conditioned on [za, zb], by inversion of one u in (0, 1). */
static double std_normal_in(gsl_rng *g, double za, double zb)
{
    double u = gsl_rng_uniform_pos(g);
    if (za >= 0) { /* upper tail: Q keeps its relative precision there */
        double qa = gsl_cdf_ugaussian_Q(za), qb = gsl_cdf_ugaussian_Q(zb);
        return gsl_cdf_ugaussian_Qinv(qb + (qa - qb) * u);
    }
    double pa = gsl_cdf_ugaussian_P(za), pb = gsl_cdf_ugaussian_P(zb);
    return gsl_cdf_ugaussian_Pinv(pa + (pb - pa) * u);
}

static double draw_normal(const struct fleet_population_dist *d, gsl_rng *g)
{
    if (!d->truncated)
        return d->mu + gsl_ran_gaussian(g, d->sigma);
    double za, zb;
    std_bounds(d, &za, &zb);
    return clamp(d->mu + d->sigma * std_normal_in(g, za, zb), d->lo, d->hi);
}

static double draw_lognormal(const struct fleet_population_dist *d, gsl_rng *g)
{
    if (!d->truncated)
        return gsl_ran_lognormal(g, d->mu, d->sigma);
    double za, zb;
    std_bounds(d, &za, &zb);
    return clamp(exp(d->mu + d->sigma * std_normal_in(g, za, zb)), max2(d->lo, 0), d->hi);
}

/* Exp(mean) conditioned on [lo, hi]: lo + Exp(mean) conditioned on [0, hi - lo]
 * (memoryless), inverted as -mean ln(1 - u c) with c = P(X <= hi - lo). */
static double draw_exponential(const struct fleet_population_dist *d, gsl_rng *g)
{
    if (!d->truncated)
        return gsl_ran_exponential(g, d->mean);
    double lo = max2(d->lo, 0);
    if (isinf(d->hi))
        return lo + gsl_ran_exponential(g, d->mean);
    double c = -expm1(-(d->hi - lo) / d->mean);
    double u = gsl_rng_uniform_pos(g);
    return clamp(lo - d->mean * log1p(-u * c), lo, d->hi);
}

/* Item of a CHOICE: the first whose cumulative weight exceeds u * sum; rounding that
 * leaves u * sum at the very top picks the last item with a weight (never one with 0). */
static size_t draw_choice(const struct fleet_population_dist *d, gsl_rng *g, size_t n)
{
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += d->weights[i];
    double t = gsl_rng_uniform(g) * sum, acc = 0;
    size_t last = 0;
    for (size_t i = 0; i < n; i++) {
        acc += d->weights[i];
        if (t < acc)
            return i;
        if (d->weights[i] > 0)
            last = i;
    }
    return last;
}

static size_t draw_item(const struct fleet_population_dist *d, gsl_rng *g)
{
    size_t n = d->n_items;
    if (n < 1 || n > FLEET_POPULATION_MAX_ITEMS)
        return 0; /* invalid; keeps the contract of reading nothing outside *d */
    if (d->kind == FLEET_POPULATION_CHOICE)
        return draw_choice(d, g, n);
    return (size_t)gsl_rng_uniform_int(g, (unsigned long)n);
}

size_t fleet_population_draw_index(const struct fleet_population_dist *d, uint64_t seed,
                                   uint64_t device_id, enum fleet_population_param param)
{
    if (d->kind != FLEET_POPULATION_CHOICE && d->kind != FLEET_POPULATION_EMPIRICAL)
        return 0;
    struct sim_rng r;
    gsl_rng view;
    return draw_item(d, stream(&r, &view, seed, device_id, param));
}

/* One draw of a non-FIXED kind from g (FIXED draws nothing). */
static double draw_from(const struct fleet_population_dist *d, gsl_rng *g)
{
    switch (d->kind) {
    case FLEET_POPULATION_UNIFORM:
        return clamp(gsl_ran_flat(g, d->lo, d->hi), d->lo, d->hi);
    case FLEET_POPULATION_NORMAL:
        return draw_normal(d, g);
    case FLEET_POPULATION_LOGNORMAL:
        return draw_lognormal(d, g);
    case FLEET_POPULATION_BETA:
        return clamp(d->lo + (d->hi - d->lo) * gsl_ran_beta(g, d->a, d->b), d->lo, d->hi);
    case FLEET_POPULATION_EXPONENTIAL:
        return draw_exponential(d, g);
    case FLEET_POPULATION_CHOICE:
    case FLEET_POPULATION_EMPIRICAL:
        return d->values[draw_item(d, g)];
    case FLEET_POPULATION_FIXED:
        return d->value;
    case FLEET_POPULATION_KIND_COUNT:
        break;
    }
    return NAN;
}

double fleet_population_draw(const struct fleet_population_dist *d, uint64_t seed,
                             uint64_t device_id, enum fleet_population_param param)
{
    if (d->kind == FLEET_POPULATION_FIXED)
        return d->value;
    struct sim_rng r;
    gsl_rng view;
    return draw_from(d, stream(&r, &view, seed, device_id, param));
}

double fleet_population_draw_rng(const struct fleet_population_dist *d, struct sim_rng *r)
{
    if (d->kind == FLEET_POPULATION_FIXED)
        return d->value;
    gsl_rng view;
    return draw_from(d, sim_rng_gsl(r, &view));
}

/* ---- unit parsers --------------------------------------------------------------- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *skip_digits(const char *p, size_t *n)
{
    while (is_digit(*p)) {
        p++;
        (*n)++;
    }
    return p;
}

int fleet_population_unit_number(void *ctx, const char *text, double *value, const char **why)
{
    (void)ctx;
    const char *p = text;
    size_t digits = 0, exp_digits = 0;
    if (*p == '+' || *p == '-')
        p++;
    p = skip_digits(p, &digits);
    if (*p == '.')
        p = skip_digits(p + 1, &digits);
    if (digits > 0 && (*p == 'e' || *p == 'E')) {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        p = skip_digits(p, &exp_digits);
        if (exp_digits == 0)
            digits = 0;
    }
    if (digits == 0 || *p != '\0') {
        *why = text[0] == '\0' ? "is empty" : "is not a plain number";
        return SIM_EINVAL;
    }
    /* The text is a C-locale decimal by now, which strtod reads exactly (rounded once). */
    errno = 0;
    double v = strtod(text, NULL);
    if (errno == ERANGE && isinf(v)) {
        *why = "is too large";
        return SIM_ERANGE;
    }
    *value = v;
    return 0;
}

int fleet_population_unit_duration(void *ctx, const char *text, double *value, const char **why)
{
    (void)ctx;
    int64_t ns;
    int rc = scenario_parse_duration(text, &ns);
    if (rc == SIM_ERANGE) {
        *why = "is out of range for a duration (1ns to 2562047h)";
        return rc;
    }
    if (rc != 0) {
        *why = "is not a duration (a number and ns, us, ms, s, min, h or d: 7.5ms)";
        return rc;
    }
    *value = (double)ns;
    return 0;
}

int fleet_population_unit_percent(void *ctx, const char *text, double *value, const char **why)
{
    (void)ctx;
    int rc = scenario_parse_percent(text, value);
    if (rc != 0)
        *why = rc == SIM_ERANGE ? "has too many digits" : "is not a percentage (2%, 0.5%)";
    return rc;
}

/* ---- parser --------------------------------------------------------------------- */

/* A piece of the input, spaces trimmed. */
struct token {
    const char *at;
    size_t len;
};

/* One argument: VALUE, or VALUE ":" WEIGHT in a choice. */
struct arg {
    struct token v, w;
};

struct parser {
    const char *text, *p;
    fleet_population_unit_fn unit;
    void *unit_ctx;
    const char *err_at; /* where the problem is */
    char msg[320];
};

__attribute__((format(printf, 4, 5))) static int perr(struct parser *ps, const char *at, int rc,
                                                      const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ps->msg, sizeof(ps->msg), fmt, ap);
    va_end(ap);
    ps->err_at = at;
    return rc;
}

/* 1-based column of p in characters (UTF-8 continuation bytes do not count). */
static unsigned column(const char *text, const char *p)
{
    unsigned col = 1;
    for (const char *q = text; q < p; q++)
        col += ((unsigned char)*q & 0xc0) != 0x80;
    return col;
}

static void skip_spaces(struct parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t')
        ps->p++;
}

static bool is_stop(char c)
{
    return c == '\0' || c == ',' || c == ':' || c == '@' || c == '(' || c == ')' || c == '[' ||
           c == ']';
}

static bool is_ident(char c, bool first)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && is_digit(c));
}

/* Copy a token for a message: control characters become '?', quotes are escaped, and a
 * long token is cut with "...". */
static const char *quote(char *buf, size_t n, const char *s, size_t len)
{
    size_t o = 0, i = 0;
    buf[o++] = '"';
    for (; i < len && o + 6 < n; i++) {
        char c = s[i];
        if (c == '"' || c == '\\')
            buf[o++] = '\\';
        buf[o++] = ((unsigned char)c < 0x20 || c == 0x7f) ? '?' : c;
    }
    if (i < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* Describe what sits at p, for "expected X, found Y". */
static const char *found(char *buf, size_t n, const char *p)
{
    if (*p == '\0')
        return "the end of the text";
    snprintf(buf, n, "'%c'", *p);
    return buf;
}

/* Read a VALUE or NUMBER token at ps->p (up to a stop character). */
static int read_token(struct parser *ps, struct token *t, const char *what)
{
    skip_spaces(ps);
    const char *s = ps->p;
    while (!is_stop(*ps->p))
        ps->p++;
    const char *e = ps->p;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    if (e == s) {
        char buf[8];
        return perr(ps, s, SIM_EINVAL, "expected %s, found %s", what, found(buf, sizeof(buf), s));
    }
    t->at = s;
    t->len = (size_t)(e - s);
    return 0;
}

/* Expect the character c at ps->p (after spaces) and step over it. */
static int expect(struct parser *ps, char c, const char *what)
{
    skip_spaces(ps);
    if (*ps->p == c) {
        ps->p++;
        return 0;
    }
    char buf[8];
    return perr(ps, ps->p, SIM_EINVAL, "expected %s, found %s", what,
                found(buf, sizeof(buf), ps->p));
}

/* Convert a token: through the caller's unit parser, or as a plain number. */
static int convert(struct parser *ps, const struct token *t, bool with_unit, double *v)
{
    char buf[TOKEN_CAP + 1], q[TOKEN_CAP + 16];
    if (t->len > TOKEN_CAP)
        return perr(ps, t->at, SIM_EINVAL, "%s is too long for a value (at most %d characters)",
                    quote(q, sizeof(q), t->at, t->len), TOKEN_CAP);
    memcpy(buf, t->at, t->len);
    buf[t->len] = '\0';
    fleet_population_unit_fn fn = with_unit ? ps->unit : fleet_population_unit_number;
    const char *why = NULL;
    if (fn(with_unit ? ps->unit_ctx : NULL, buf, v, &why) == 0)
        return 0;
    const char *hint = with_unit ? "" : " (shapes, weights and a lognormal's sigma have no unit)";
    if (memchr(t->at, ' ', t->len) != NULL || memchr(t->at, '\t', t->len) != NULL)
        hint = " (is a ',' missing?)";
    return perr(ps, t->at, SIM_EINVAL, "%s %s%s", quote(q, sizeof(q), t->at, t->len),
                why != NULL ? why : "is not valid", hint);
}

/* After an item's VALUE: "@" WEIGHT in a choice, nothing elsewhere. ':' is refused with a
 * hint, because ": " ends a plain scalar in YAML (the text would never reach us whole). */
static int read_weight(struct parser *ps, enum fleet_population_kind kind, struct arg *a,
                       size_t item)
{
    bool choice = kind == FLEET_POPULATION_CHOICE;
    skip_spaces(ps);
    if (*ps->p == ':')
        return perr(ps, ps->p, SIM_EINVAL,
                    "unexpected ':' (a choice's weights are written VALUE @ WEIGHT, because "
                    "': ' ends a plain YAML scalar)");
    if (*ps->p != '@' && !choice)
        return 0;
    if (*ps->p != '@')
        return perr(ps, ps->p, SIM_EINVAL, "choice: expected '@' and the weight of item %zu",
                    item + 1);
    if (!choice)
        return perr(ps, ps->p, SIM_EINVAL,
                    "'@' gives a weight, which only choice(VALUE @ WEIGHT, ...) takes");
    ps->p++;
    return read_token(ps, &a->w, "a weight");
}

/* Arguments between "(" and ")": values, each with a weight in a choice. */
static int read_args(struct parser *ps, enum fleet_population_kind kind, struct arg *args,
                     size_t *n_args)
{
    const struct kind_info *k = &kinds[kind];
    size_t cap = FLEET_POPULATION_MAX_ITEMS;
    if (!k->items)
        for (cap = 0; k->arity >> (cap + 1) != 0; cap++)
            ; /* the highest arity allowed */
    size_t n = 0;
    skip_spaces(ps);
    if (*ps->p == ')') {
        ps->p++;
        *n_args = 0;
        return 0;
    }
    for (;;) {
        skip_spaces(ps);
        if (n == cap && k->items)
            return perr(ps, ps->p, SIM_ERANGE, "%s: at most %d items", k->name,
                        FLEET_POPULATION_MAX_ITEMS);
        if (n == cap)
            return perr(ps, ps->p, SIM_EINVAL, "too many arguments: %s", k->usage);
        struct arg *a = &args[n];
        memset(a, 0, sizeof(*a));
        int rc = read_token(ps, &a->v, "a value");
        if (rc != 0)
            return rc;
        rc = read_weight(ps, kind, a, n);
        if (rc != 0)
            return rc;
        n++;
        skip_spaces(ps);
        if (*ps->p == ',') {
            ps->p++;
            continue;
        }
        if (*ps->p == ')') {
            ps->p++;
            break;
        }
        if (*ps->p == '\0')
            return perr(ps, ps->p, SIM_EINVAL, "missing ')' to close %s(", k->name);
        return perr(ps, ps->p, SIM_EINVAL, "expected ',' or ')', found '%c'", *ps->p);
    }
    *n_args = n;
    return 0;
}

/* Where each field of the result was written, for validation messages. */
struct places {
    const char *field[F_WEIGHT + 1];
    const struct arg *args;
};

/* Fill d from the arguments of kind; places remembers where each field came from. */
static int bind_args(struct parser *ps, struct fleet_population_dist *d, const struct arg *a,
                     size_t n, struct places *pl)
{
    static const struct {
        enum field f;
        bool unit;
    } layout[FLEET_POPULATION_KIND_COUNT][4] = {
        [FLEET_POPULATION_FIXED] = {{F_VALUE, true}},
        [FLEET_POPULATION_UNIFORM] = {{F_LO, true}, {F_HI, true}},
        [FLEET_POPULATION_NORMAL] = {{F_MU, true}, {F_SIGMA, true}},
        [FLEET_POPULATION_LOGNORMAL] = {{F_MU, true}, {F_SIGMA, false}}, /* F_MU: the median */
        [FLEET_POPULATION_BETA] = {{F_A, false}, {F_B, false}, {F_LO, true}, {F_HI, true}},
        [FLEET_POPULATION_EXPONENTIAL] = {{F_MEAN, true}},
    };
    if (kinds[d->kind].items) {
        d->n_items = n;
        for (size_t i = 0; i < n; i++) {
            int rc = convert(ps, &a[i].v, true, &d->values[i]);
            if (rc == 0 && d->kind == FLEET_POPULATION_CHOICE)
                rc = convert(ps, &a[i].w, false, &d->weights[i]);
            if (rc != 0)
                return rc;
        }
        return 0;
    }
    if (d->kind == FLEET_POPULATION_BETA && n == 2) {
        d->lo = 0;
        d->hi = 1;
    }
    double *slot[] = {
        [F_VALUE] = &d->value, [F_MU] = &d->mu,     [F_SIGMA] = &d->sigma, [F_A] = &d->a,
        [F_B] = &d->b,         [F_MEAN] = &d->mean, [F_LO] = &d->lo,       [F_HI] = &d->hi};
    for (size_t i = 0; i < n; i++) {
        enum field f = layout[d->kind][i].f;
        int rc = convert(ps, &a[i].v, layout[d->kind][i].unit, slot[f]);
        if (rc != 0)
            return rc;
        pl->field[f] = a[i].v.at;
    }
    if (d->kind != FLEET_POPULATION_LOGNORMAL || n == 0)
        return 0;
    double median = d->mu;
    if (!(median > 0) || isinf(median))
        return perr(ps, a[0].v.at, SIM_ERANGE,
                    "lognormal: the median must be a finite number > 0 (got %g); "
                    "lognormal(MEDIAN, SIGMA) takes the median e^mu in the parameter's unit, "
                    "not mu",
                    median);
    d->mu = log(median);
    return 0;
}

/* Optional "in [lo, hi]" after the arguments. */
static int read_range(struct parser *ps, struct fleet_population_dist *d, struct places *pl)
{
    skip_spaces(ps);
    const char *at = ps->p;
    if (at[0] != 'i' || at[1] != 'n' || is_ident(at[2], false))
        return 0;
    const struct kind_info *k = &kinds[d->kind];
    if (!k->truncatable)
        return perr(ps, at, SIM_EINVAL, "%s: 'in [LO, HI]' is not allowed here: %s", k->name,
                    k->no_range);
    ps->p += 2;
    struct token lo, hi;
    int rc = expect(ps, '[', "'[' after 'in'");
    if (rc == 0)
        rc = read_token(ps, &lo, "the lower bound");
    if (rc == 0)
        rc = expect(ps, ',', "',' between the bounds of 'in [LO, HI]'");
    if (rc == 0)
        rc = read_token(ps, &hi, "the upper bound");
    if (rc == 0)
        rc = expect(ps, ']', "']' to close 'in [LO, HI]'");
    if (rc == 0)
        rc = convert(ps, &lo, true, &d->lo);
    if (rc == 0)
        rc = convert(ps, &hi, true, &d->hi);
    if (rc != 0)
        return rc;
    d->truncated = true;
    pl->field[F_LO] = lo.at;
    pl->field[F_HI] = hi.at;
    return 0;
}

/* "NAME(" at ps->p: returns the kind, or -1 when the text is a bare VALUE. A name that is
 * followed by '(' but unknown is an error (SIM_EINVAL through *rc). */
static int read_name(struct parser *ps, int *rc)
{
    const char *s = ps->p, *e = s;
    *rc = 0;
    if (!is_ident(*e, true))
        return -1;
    while (is_ident(*e, false))
        e++;
    const char *q = e;
    while (*q == ' ' || *q == '\t')
        q++;
    if (*q != '(')
        return -1;
    for (int k = 0; k < FLEET_POPULATION_KIND_COUNT; k++)
        if (strlen(kinds[k].name) == (size_t)(e - s) &&
            memcmp(kinds[k].name, s, (size_t)(e - s)) == 0) {
            ps->p = q + 1;
            return k;
        }
    char buf[48];
    *rc = perr(ps, s, SIM_EINVAL,
               "unknown distribution %s (expected fixed, uniform, normal, lognormal, beta, "
               "exponential, choice or empirical)",
               quote(buf, sizeof(buf), s, (size_t)(e - s)));
    return -1;
}

static const char *place_of(const struct problem *pb, const struct places *pl, const char *name_at)
{
    const char *at = NULL;
    if (pb->field == F_ITEM)
        at = pl->args[pb->item].v.at;
    else if (pb->field == F_WEIGHT)
        at = pl->args[pb->item].w.at;
    else
        at = pl->field[pb->field];
    return at != NULL ? at : name_at;
}

/* The whole grammar of population.h into *d (which starts zeroed). */
static int parse(struct parser *ps, struct fleet_population_dist *d,
                 struct arg args[FLEET_POPULATION_MAX_ITEMS])
{
    struct places pl = {.args = args};
    skip_spaces(ps);
    const char *name_at = ps->p;
    int rc;
    int kind = read_name(ps, &rc);
    if (rc != 0)
        return rc;
    if (kind < 0) { /* a bare VALUE: fixed(VALUE) */
        struct token t;
        rc = read_token(ps, &t, "a value or a distribution such as beta(2, 50)");
        if (rc == 0)
            rc = convert(ps, &t, true, &d->value);
        if (rc != 0)
            return rc;
        pl.field[F_VALUE] = t.at;
        d->kind = FLEET_POPULATION_FIXED;
    } else {
        d->kind = (enum fleet_population_kind)kind;
        const struct kind_info *k = &kinds[kind];
        size_t n = 0;
        rc = read_args(ps, d->kind, args, &n);
        if (rc != 0)
            return rc;
        rc = bind_args(ps, d, args, n, &pl);
        if (rc != 0)
            return rc;
        bool ok = k->items ? n >= 1 : (k->arity >> n & 1u) != 0;
        bool few = k->items || (k->arity & ((2u << n) - 1)) == 0; /* none allowed <= n */
        if (!ok)
            return perr(ps, ps->p - 1, SIM_EINVAL, "%s arguments (%zu): %s",
                        few ? "too few" : "wrong number of", n, k->usage);
        rc = read_range(ps, d, &pl);
        if (rc != 0)
            return rc;
    }
    skip_spaces(ps);
    if (*ps->p != '\0')
        return perr(ps, ps->p, SIM_EINVAL, "unexpected text after the distribution");
    struct problem pb;
    rc = check(d, &pb);
    if (rc != 0)
        return perr(ps, place_of(&pb, &pl, name_at), rc, "%s", pb.msg);
    return 0;
}

int fleet_population_parse(const char *text, fleet_population_unit_fn unit, void *unit_ctx,
                           struct fleet_population_dist *out, unsigned *col, struct sim_diag *diag)
{
    struct parser ps = {
        .text = text,
        .p = text,
        .unit = unit != NULL ? unit : fleet_population_unit_number,
        .unit_ctx = unit_ctx,
    };
    struct fleet_population_dist d;
    struct arg args[FLEET_POPULATION_MAX_ITEMS];
    memset(&d, 0, sizeof(d));
    int rc = parse(&ps, &d, args);
    if (rc != 0) {
        *col = column(text, ps.err_at);
        sim_diag_add(diag, "%s", ps.msg);
        return rc;
    }
    *out = d;
    return 0;
}
