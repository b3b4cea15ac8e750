/* sim/rng.c - keyed xoshiro256** streams and their GSL generator type. */
#include "sim/rng.h"

#include <assert.h>

_Static_assert(sizeof(struct sim_rng) <= 64, "a stream's state is at most 64 bytes");

/* SplitMix64's output function (Steele, Lea, Flood, OOPSLA 2014): a bijection on
 * 64-bit words with good avalanche, used to turn keys into state. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

#define GOLDEN_GAMMA 0x9e3779b97f4a7c15ULL

void sim_rng_init(struct sim_rng *r, uint64_t seed, uint64_t entity, uint32_t purpose)
{
    /* Each step is a bijection of the previous hash given the next key part, so two
     * keys that differ in one part never collide on the chain state. */
    uint64_t h = mix64(seed + GOLDEN_GAMMA);
    h = mix64(h ^ mix64(entity + 2 * GOLDEN_GAMMA));
    h = mix64(h ^ mix64((uint64_t)purpose + 3 * GOLDEN_GAMMA));
    /* SplitMix64 sequence from h fills the state, as the xoshiro authors advise. */
    for (int i = 0; i < 4; i++) {
        h += GOLDEN_GAMMA;
        r->s[i] = mix64(h);
    }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) /* the one forbidden state */
        r->s[0] = GOLDEN_GAMMA;
}

static void gsl_set(void *state, unsigned long seed)
{
    sim_rng_init(state, seed, 0, 0);
}

/* 32-bit outputs keep gsl_rng_max() the same on every platform's unsigned long. */
static unsigned long gsl_get(void *state)
{
    return (unsigned long)(sim_rng_u64(state) >> 32);
}

static double gsl_get_double(void *state)
{
    return sim_rng_uniform(state);
}

static const gsl_rng_type xoshiro_type = {
    .name = "dfusim-xoshiro256starstar",
    .max = 0xffffffffUL,
    .min = 0,
    .size = sizeof(struct sim_rng),
    .set = gsl_set,
    .get = gsl_get,
    .get_double = gsl_get_double,
};

const gsl_rng_type *const sim_rng_gsl_type = &xoshiro_type;

gsl_rng *sim_rng_gsl(struct sim_rng *r, gsl_rng *view)
{
    assert(r != NULL && view != NULL);
    view->type = &xoshiro_type;
    view->state = r;
    return view;
}
