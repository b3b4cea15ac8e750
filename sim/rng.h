/* sim/rng.h - per-entity random streams, usable by GSL's distributions.
 *
 * A stream is keyed by (scenario seed, entity id, purpose), never by creation order
 * (CONTRIBUTING.md rule 3), so adding a device or a gateway does not change what the others
 * draw. The generator is xoshiro256** (Blackman and Vigna, "Scrambled linear
 * pseudorandom number generators", ACM TOMS 47(4), 2021): 32 bytes of state, period
 * 2^256 - 1. Keys are hashed with the SplitMix64 finaliser into the initial state; with
 * a 2^256 period, the chance that two keyed streams overlap in a run is negligible.
 */
#ifndef SIM_RNG_H
#define SIM_RNG_H

#include <gsl/gsl_rng.h>
#include <stdint.h>

/* Plain data, by value: one per device/link/gateway and purpose. */
struct sim_rng {
    uint64_t s[4];
};

/* What a stream is for. Models add their own values (keep them stable: changing one
 * changes every result drawn from it; 1 was the removed pipeline-demo model, do not reuse).
 * Values stay below 2^16: models/fleet/population.c puts its parameter id in the bits above. */
enum sim_rng_purpose {
    SIM_RNG_LINK_LOSS = 2,   /* per-PDU loss */
    SIM_RNG_CLIENT = 3,      /* client think times and choices */
    SIM_RNG_FAULT = 4,       /* fault injection */
    SIM_RNG_ROLLOUT = 5,     /* rollout controller */
    SIM_RNG_POPULATION = 6,  /* per-device parameters drawn from distributions */
    SIM_RNG_GATEWAY = 7,     /* gateway/phone sessions and device-to-gateway assignment */
    SIM_RNG_REPLICATION = 8, /* the seed of replication r > 0 (scenario_replication_seed) */
    SIM_RNG_CENTRAL = 9,     /* a central's host latency per response (models/client/central.h) */
    SIM_RNG_TEST = 1000      /* unit tests */
};

/* Key a stream. Never fails; the same key always gives the same sequence. */
void sim_rng_init(struct sim_rng *r, uint64_t seed, uint64_t entity, uint32_t purpose);

/* Next 64 random bits. */
static inline uint64_t sim_rng_u64(struct sim_rng *r)
{
    uint64_t *s = r->s;
    uint64_t x = s[1] * 5;
    uint64_t result = ((x << 7) | (x >> 57)) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = (s[3] << 45) | (s[3] >> 19);
    return result;
}

/* Uniform double in [0, 1) with 53 random bits. */
static inline double sim_rng_uniform(struct sim_rng *r)
{
    return (double)(sim_rng_u64(r) >> 11) * 0x1.0p-53;
}

/* The GSL generator type over struct sim_rng. gsl_rng_alloc(sim_rng_gsl_type) works
 * (its set() keys the stream as (seed, 0, 0)); for per-entity streams use a view. */
extern const gsl_rng_type *const sim_rng_gsl_type;

/* Make *view a gsl_rng that draws from *r (no allocation; the view borrows r and is
 * valid while r is). Returns view, for gsl_ran_*(sim_rng_gsl(&r, &view), ...). */
gsl_rng *sim_rng_gsl(struct sim_rng *r, gsl_rng *view);

#endif /* SIM_RNG_H */
