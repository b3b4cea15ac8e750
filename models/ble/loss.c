/* models/ble/loss.c - Bernoulli and Gilbert-Elliott per-PDU loss (Gilbert 1960; Elliott 1963). */
#include "models/ble/loss.h"

#include "sim/error.h"

static bool is_prob(double p)
{
    return p >= 0.0 && p <= 1.0; /* false for NaN too */
}

int ble_loss_cfg_check(const struct ble_loss_cfg *c)
{
    if (c->model != BLE_LOSS_NONE && c->model != BLE_LOSS_BERNOULLI &&
        c->model != BLE_LOSS_GILBERT_ELLIOTT)
        return SIM_ERANGE;
    if (!is_prob(c->per_good) || !is_prob(c->per_bad) || !is_prob(c->p_gb) || !is_prob(c->p_bg))
        return SIM_ERANGE;
    return 0;
}

void ble_loss_init(struct ble_loss *s)
{
    s->bad = false;
}

bool ble_loss_step(struct ble_loss *s, const struct ble_loss_cfg *c, struct sim_rng *rng)
{
    switch (c->model) {
    case BLE_LOSS_NONE:
        return false;
    case BLE_LOSS_BERNOULLI:
        return sim_rng_uniform(rng) < c->per_good;
    case BLE_LOSS_GILBERT_ELLIOTT:
        break;
    }
    bool lost = sim_rng_uniform(rng) < (s->bad ? c->per_bad : c->per_good);
    double move = sim_rng_uniform(rng);
    if (s->bad ? move < c->p_bg : move < c->p_gb)
        s->bad = !s->bad;
    return lost;
}
