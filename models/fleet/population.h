/* models/fleet/population.h - per-device parameters that are fixed or drawn from a
 * distribution (issue 6, item 1): a loss rate per device from a beta distribution, a
 * connection interval from a truncated normal, a profile from a weighted list.
 *
 * A distribution is plain data (struct fleet_population_dist), checked once by
 * fleet_population_validate or built from text by fleet_population_parse. A draw is a pure
 * function of (distribution, scenario seed, device id, parameter id): each draw keys its
 * own stream sim_rng_init(seed, device_id, SIM_RNG_POPULATION | param_id << 16)
 * (CONTRIBUTING.md rule 3), so what a device draws does not depend on the order in which devices
 * or parameters are drawn, on how many devices exist, or on the other parameters.
 *
 * Two keys must stay stable for that to hold:
 *   - param_id: a value of enum fleet_population_param, never renumbered;
 *   - device_id: must not shift when devices are added elsewhere. A running index over
 *     every group does shift when a group is inserted before this one; derive the id from
 *     the group and the device's index in it instead.
 *
 * Text grammar (fleet_population_parse; spaces allowed between tokens, names are
 * lower case):
 *
 *   dist    := VALUE                                      same as fixed(VALUE)
 *            | "fixed" "(" VALUE ")"
 *            | "uniform" "(" VALUE "," VALUE ")"           lo, hi: flat on [lo, hi]
 *            | "normal" "(" VALUE "," VALUE ")" [range]     mu, sigma
 *            | "lognormal" "(" VALUE "," NUMBER ")" [range] median e^mu, sigma of ln X
 *            | "beta" "(" NUMBER "," NUMBER ["," VALUE "," VALUE] ")"
 *                                                         shapes a, b; scaled to [lo, hi]
 *                                                         (default [0, 1])
 *            | "exponential" "(" VALUE ")" [range]         mean
 *            | "choice" "(" VALUE "@" NUMBER {"," VALUE "@" NUMBER} ")"
 *                                                         VALUE @ WEIGHT (relative weights)
 *            | "empirical" "(" VALUE {"," VALUE} ")"        each value equally likely
 *   range   := "in" "[" VALUE "," VALUE "]"               truncation: the draw is
 *                                                         conditioned on lo <= X <= hi
 *   VALUE   := the text up to the next , : @ ( ) [ ] or the end, spaces trimmed, converted
 *              by the caller's unit parser (fleet_population_unit_fn): "7.5ms", "2%", "0.02"
 *   NUMBER  := a plain number (fleet_population_unit_number): shapes, sigma of a
 *              lognormal, weights have no unit
 *
 *   Examples: "beta(2, 50)", "beta(2, 50, 0%, 20%)", "uniform(7.5ms, 30ms)",
 *             "normal(2%, 1%) in [0%, 20%]", "lognormal(30ms, 0.5)",
 *             "choice(7.5ms @ 3, 15ms @ 1)", "empirical(1, 2, 2, 7)", "7.5ms".
 *
 * YAML: the forms above are valid plain scalars in block style (`loss: beta(2, 50)`). A
 * weight is not written "VALUE: WEIGHT" because ": " ends a plain scalar; the parser refuses
 * ':' and says so. Inside a flow mapping ({ a: b, ... }) commas and brackets end the entry,
 * so there the text must be quoted: { interval: "uniform(7.5ms, 30ms)" }.
 *
 * lognormal takes the median rather than mu because mu is the log of a value in the
 * parameter's unit (ln 30ms = ln 3e7 ns = 17.2) and nobody should have to write that.
 */
#ifndef MODELS_FLEET_POPULATION_H
#define MODELS_FLEET_POPULATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/error.h"
#include "sim/rng.h"

/* Stable parameter ids: the second half of a draw's key. Never renumber or reuse a value
 * (every drawn result depends on it); add new ids in the free room of their block. 0 is
 * reserved (a zeroed id is a bug). Ids fit in 16 bits. */
enum fleet_population_param {
    /* 1..63: link of a device */
    FLEET_POPULATION_LOSS_GOOD = 1, /* loss per PDU in Good (Bernoulli: every PDU) */
    FLEET_POPULATION_LOSS_BAD = 2,  /* loss per PDU in Bad */
    FLEET_POPULATION_LOSS_P_GB = 3, /* Good -> Bad per PDU */
    FLEET_POPULATION_LOSS_P_BG = 4, /* Bad -> Good per PDU */
    FLEET_POPULATION_INTERVAL = 5,  /* connection interval, ns */
    FLEET_POPULATION_LATENCY = 6,   /* peripheral latency, events */
    FLEET_POPULATION_TIMEOUT = 7,   /* supervision timeout, ns */
    FLEET_POPULATION_ADV_DELAY = 8, /* advertising -> CONNECT_IND, ns */
    FLEET_POPULATION_MTU = 9,
    FLEET_POPULATION_DLE = 10,
    /* 64..127: firmware, client and profile of a device */
    FLEET_POPULATION_PROFILE = 64,         /* index of the group's weighted profile */
    FLEET_POPULATION_APP_START = 65,       /* MCUboot done -> advertising, ns */
    FLEET_POPULATION_CPU_PER_REQUEST = 66, /* SMP worker CPU per request, ns */
    FLEET_POPULATION_CLIENT_START = 67,    /* when the device's client starts, ns */
    FLEET_POPULATION_CENTRAL = 68,         /* the central's profile (enum client_central) */
    /* 128..191: gateways and phones (device_id is then the gateway's id) */
    FLEET_POPULATION_GW_LINKS = 128,   /* most concurrent links */
    FLEET_POPULATION_GW_ARRIVAL = 129, /* mean time between sessions, ns */
    FLEET_POPULATION_GW_DWELL = 130,   /* session length, ns */
    /* 192..65535: free */
    FLEET_POPULATION_PARAM_MAX = 0xffff
};

enum fleet_population_kind {
    FLEET_POPULATION_FIXED, /* 0, so a zeroed struct is fixed(0) */
    FLEET_POPULATION_UNIFORM,
    FLEET_POPULATION_NORMAL,
    FLEET_POPULATION_LOGNORMAL,
    FLEET_POPULATION_BETA,
    FLEET_POPULATION_EXPONENTIAL,
    FLEET_POPULATION_CHOICE,
    FLEET_POPULATION_EMPIRICAL,
    FLEET_POPULATION_KIND_COUNT
};

/* Items of a choice or an empirical list. */
#define FLEET_POPULATION_MAX_ITEMS 64

/* One per-device parameter. Plain data, by value (about 1.1 KiB: one per group and
 * parameter, never one per device). Fields by kind; the others are ignored:
 *
 *   KIND         FIELDS                  DRAW
 *   FIXED        value                   value
 *   UNIFORM      lo, hi                  flat on [lo, hi]
 *   NORMAL       mu, sigma [lo, hi]      N(mu, sigma^2), conditioned on [lo, hi] if truncated
 *   LOGNORMAL    mu, sigma [lo, hi]      exp(N(mu, sigma^2)), idem
 *   BETA         a, b, lo, hi            lo + (hi - lo) Beta(a, b)
 *   EXPONENTIAL  mean [lo, hi]           Exp with that mean, idem
 *   CHOICE       n_items, values,        values[i] with probability weights[i] / sum
 *                weights
 *   EMPIRICAL    n_items, values         values[i] with probability 1 / n_items
 *
 * Units are the parameter's (ns, fraction, count); mu and sigma of a lognormal are those
 * of ln X with X in that unit. Truncation bounds may be -INFINITY / INFINITY (one-sided). */
struct fleet_population_dist {
    enum fleet_population_kind kind;
    bool truncated; /* NORMAL, LOGNORMAL, EXPONENTIAL: lo and hi bound the draw */
    double value;
    double mu, sigma;
    double a, b;
    double mean;
    double lo, hi;
    size_t n_items;
    double values[FLEET_POPULATION_MAX_ITEMS];
    double weights[FLEET_POPULATION_MAX_ITEMS];
};

/* Name of a kind as the grammar spells it ("beta"); "?" for an unknown one. */
const char *fleet_population_kind_name(enum fleet_population_kind k);

/* Check d. Returns 0, SIM_EINVAL (unknown kind, no items or too many) or SIM_ERANGE (a
 * field outside its domain), and adds one message for people to diag (may be NULL), with
 * no location: the caller knows the key and the position and puts them in front, e.g.
 * "beta: a must be > 0 (got -1)". */
int fleet_population_validate(const struct fleet_population_dist *d, struct sim_diag *diag);

/* The smallest and largest values a draw can return (+-INFINITY where unbounded), for a
 * caller that checks them against the parameter's legal range ("a loss must lie in
 * [0, 1]: write normal(...) in [0, 1]"). d must be valid. */
void fleet_population_support(const struct fleet_population_dist *d, double *lo, double *hi);

/* One draw for (seed, device_id, param). d must be valid (fleet_population_validate
 * returned 0); otherwise the result is unspecified (possibly NaN) but nothing outside *d is
 * read. Never allocates, never fails; the result lies in fleet_population_support(). A
 * CHOICE or EMPIRICAL draw returns values[fleet_population_draw_index(same key)]. Cost: one
 * stream keying (nine SplitMix64 rounds) plus the GSL draw; CHOICE scans its weights, O(n_items)
 * (an alias table would make it O(1) if profiles ever number in the hundreds). */
double fleet_population_draw(const struct fleet_population_dist *d, uint64_t seed,
                             uint64_t device_id, enum fleet_population_param param);

/* One draw from the caller's stream r, which advances (FIXED draws nothing), for a value
 * drawn again and again by one entity (a gateway's session lengths) rather than once per
 * (device, parameter). Same distribution and contract as fleet_population_draw. */
double fleet_population_draw_rng(const struct fleet_population_dist *d, struct sim_rng *r);

/* The item a CHOICE or EMPIRICAL draw picks (0 .. n_items - 1), e.g. the profile of a
 * device; 0 for the other kinds. Same contract as fleet_population_draw. */
size_t fleet_population_draw_index(const struct fleet_population_dist *d, uint64_t seed,
                                   uint64_t device_id, enum fleet_population_param param);

/* Converts one VALUE as written (spaces trimmed, NUL-terminated: "7.5ms", "2%") into the
 * parameter's unit. Returns 0, or a negative sim_err and sets *why to a reason that reads
 * after the quoted text ("has an unknown unit"). ctx is the parser's unit_ctx. */
typedef int (*fleet_population_unit_fn)(void *ctx, const char *text, double *value,
                                        const char **why);

/* Unit parsers for fleet_population_parse (ctx unused):
 *   number:   a plain decimal number, signed, with an optional exponent ("-0.5", "2e-3");
 *             no unit, no inf or nan;
 *   duration: sim/scenario.h durations ("7.5ms", "4s") -> ns;
 *   percent:  sim/scenario.h percentages ("2%") -> fraction (0.02). */
int fleet_population_unit_number(void *ctx, const char *text, double *value, const char **why);
int fleet_population_unit_duration(void *ctx, const char *text, double *value, const char **why);
int fleet_population_unit_percent(void *ctx, const char *text, double *value, const char **why);

/* Parse text (grammar above) into *out and validate it. unit converts every VALUE; NULL
 * means fleet_population_unit_number. Returns 0, or SIM_EINVAL (syntax, a VALUE the unit
 * parser rejects, unknown distribution) or SIM_ERANGE (validation, too many items), with
 * *out untouched, *col the 1-based column (in characters) of the problem in text, and one
 * message for people in diag (may be NULL) without a location, e.g.
 * "beta: a must be > 0 (got -1)"; the caller adds FILE:LINE:COL and the key. */
int fleet_population_parse(const char *text, fleet_population_unit_fn unit, void *unit_ctx,
                           struct fleet_population_dist *out, unsigned *col, struct sim_diag *diag);

#endif /* MODELS_FLEET_POPULATION_H */
