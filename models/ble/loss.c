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

/* ---- settings ------------------------------------------------------------------------- */

/* Order matches enum ble_loss_model. */
static const char *const loss_names[] = {"none", "bernoulli", "gilbert-elliott", NULL};

static const struct scenario_field loss_fields[] = {
    {.key = "model",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct ble_loss_settings, model),
     .def = "none",
     .names = loss_names,
     .doc = "per-PDU loss model"},
    {.key = "good",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct ble_loss_settings, good),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct ble_loss_settings, good_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(BLE_LOSS_BERNOULLI) | SCENARIO_BIT(BLE_LOSS_GILBERT_ELLIOTT)}},
     .doc = "loss per PDU in the Good state; bernoulli: of every PDU (plausible 0.1-1%)",
     .unverified = true},
    {.key = "bad",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct ble_loss_settings, bad),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct ble_loss_settings, bad_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(BLE_LOSS_GILBERT_ELLIOTT)}},
     .doc = "gilbert-elliott: loss per PDU in the Bad state (plausible 50-100%)",
     .unverified = true},
    {.key = "p_gb",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct ble_loss_settings, p_gb),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct ble_loss_settings, p_gb_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(BLE_LOSS_GILBERT_ELLIOTT)}},
     .doc = "gilbert-elliott: probability per PDU of Good -> Bad"},
    {.key = "p_bg",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct ble_loss_settings, p_bg),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct ble_loss_settings, p_bg_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(BLE_LOSS_GILBERT_ELLIOTT)}},
     .doc = "gilbert-elliott: probability per PDU of Bad -> Good (mean burst 1/p_bg)"},
};

const struct scenario_schema ble_loss_settings_schema =
    SCENARIO_SCHEMA("loss model", struct ble_loss_settings, loss_fields);
