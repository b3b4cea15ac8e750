/* models/ble/loss.h - per-PDU loss: none, Bernoulli, or Gilbert-Elliott bursts.
 *
 * One step is one PDU transmission attempt. A lost PDU is one the receiver takes with a
 * CRC error (it still answers; see models/ble/link.h). Model and parameters:
 * Gilbert 1960; Elliott 1963; Pieper and Voran, NTIA ITS publication 3298. States Good and
 * Bad, p = P(G -> B), r = P(B -> G) per step, loss probability per_good in G and per_bad in
 * B; P(B) = p / (p + r), mean burst 1 / r.
 *
 *   GOOD --draw u < p_gb--> BAD      BAD --draw u < p_bg--> GOOD
 *
 * The loss of a step is drawn in the current state, then the state moves (one draw each).
 */
#ifndef MODELS_BLE_LOSS_H
#define MODELS_BLE_LOSS_H

#include <stdbool.h>

#include "sim/rng.h"
#include "sim/scenario/settings.h"

enum ble_loss_model {
    BLE_LOSS_NONE,      /* every PDU arrives; draws nothing */
    BLE_LOSS_BERNOULLI, /* independent loss with probability per_good */
    BLE_LOSS_GILBERT_ELLIOTT
};

/* Plain data. Probabilities in [0, 1]. Suggested starting values, all *unverified*
 * (our assumptions, to calibrate; compare the runs of >= 8 receive errors in
 * analogdevicesinc/msdk issue #1508): per_good 0.1-1 %, per_bad 50-100 %, mean bad dwell 2-10
 * events, bad occupancy 1-5 %. Defaults: model NONE, everything else 0. */
struct ble_loss_cfg {
    enum ble_loss_model model;
    double per_good; /* loss probability per PDU in Good (the Bernoulli PER) */
    double per_bad;  /* loss probability per PDU in Bad */
    double p_gb;     /* P(Good -> Bad) per PDU */
    double p_bg;     /* P(Bad -> Good) per PDU */
};

/* Per-link state; plain data. Starts in Good. */
struct ble_loss {
    bool bad;
};

/* Returns 0, or SIM_ERANGE if a probability is outside [0, 1] or the model is unknown. */
int ble_loss_cfg_check(const struct ble_loss_cfg *c);

void ble_loss_init(struct ble_loss *s);

/* One PDU attempt: true if it is lost. Draws from rng (not for BLE_LOSS_NONE). */
bool ble_loss_step(struct ble_loss *s, const struct ble_loss_cfg *c, struct sim_rng *rng);

/* ---- settings: devices[].link.loss (table in loss.c) ---- */

/* Each probability fixed, or drawn per device (the _dist text, models/fleet). */
struct ble_loss_settings {
    int model;         /* enum ble_loss_model */
    double good, bad;  /* loss per PDU in Good (Bernoulli: every PDU) and Bad */
    double p_gb, p_bg; /* transition probabilities per PDU */
    struct scenario_dist good_dist, bad_dist, p_gb_dist, p_bg_dist;
};
extern const struct scenario_schema ble_loss_settings_schema;

#endif /* MODELS_BLE_LOSS_H */
