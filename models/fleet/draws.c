/* models/fleet/draws.c - what each device is dealt: its parameters drawn from its group's
 * distributions (fleet_world_group_dist) and the faults that strike it
 * (fleet_world_fault_add), each from a stream keyed by the device's entity, so nothing a
 * device draws depends on other devices or groups (CONTRIBUTING.md rule 3). */
#include <math.h>
#include <stdlib.h>

#include "models/fleet/world_int.h"
#include "sim/error.h"

/* ---- parameters drawn per device ------------------------------------------------------ */

static bool drawable(enum fleet_population_param p)
{
    switch (p) {
    case FLEET_POPULATION_LOSS_GOOD:
    case FLEET_POPULATION_LOSS_BAD:
    case FLEET_POPULATION_LOSS_P_GB:
    case FLEET_POPULATION_LOSS_P_BG:
    case FLEET_POPULATION_INTERVAL:
    case FLEET_POPULATION_LATENCY:
    case FLEET_POPULATION_TIMEOUT:
    case FLEET_POPULATION_ADV_DELAY:
    case FLEET_POPULATION_APP_START:
    case FLEET_POPULATION_CPU_PER_REQUEST:
    case FLEET_POPULATION_CLIENT_START:
    case FLEET_POPULATION_CENTRAL:
        return true;
    default:
        return false;
    }
}

int fleet_world_group_dist(struct fleet_world *w, uint32_t group, enum fleet_population_param param,
                           const struct fleet_population_dist *dist, struct sim_diag *d)
{
    if (group >= w->n_groups || !drawable(param)) {
        sim_diag_add(d, "group %u: parameter %d cannot be drawn", group, (int)param);
        return SIM_EINVAL;
    }
    int rc = fleet_population_validate(dist, d);
    if (rc != 0)
        return rc;
    struct group *g = &w->groups[group];
    struct drawn *dr = realloc(g->drawn, (g->n_drawn + 1) * sizeof(*dr));
    if (dr == NULL)
        return SIM_ENOMEM;
    g->drawn = dr;
    dr[g->n_drawn++] = (struct drawn){param, *dist};
    return 0;
}

/* ---- faults --------------------------------------------------------------------------- */

/* Copy the parameters of the kinds in bits from f into the group's. */
static void faults_merge(struct fleet_device_faults *g, const struct fleet_device_faults *f,
                         uint32_t bits)
{
    if (bits & FLEET_FAULTS_POWER_UPLOAD)
        g->upload_at = f->upload_at;
    if (bits & FLEET_FAULTS_POWER_SWAP)
        g->swap_at = f->swap_at;
    if (bits & FLEET_FAULTS_POWER_RANDOM)
        g->mean_ns = f->mean_ns;
    if (bits & (FLEET_FAULTS_POWER_UPLOAD | FLEET_FAULTS_POWER_SWAP | FLEET_FAULTS_POWER_RANDOM))
        g->off_ns = f->off_ns;
    if (bits & FLEET_FAULTS_BAD_IMAGE) {
        g->bad_image = f->bad_image;
        g->crash_after_ns = f->crash_after_ns;
    }
    if (bits & FLEET_FAULTS_NEVER_CONFIRM)
        g->reset_after_ns = f->reset_after_ns;
    if (bits & FLEET_FAULTS_LINK_DEGRADE) {
        g->degrade_to = f->degrade_to;
        g->degrade_from_ns = f->degrade_from_ns;
        g->degrade_over_ns = f->degrade_over_ns;
    }
    if (bits & FLEET_FAULTS_TWO_SOURCES) {
        g->two_sources_at_ns = f->two_sources_at_ns;
        g->two_sources_report_ns = f->two_sources_report_ns;
    }
}

int fleet_world_fault_add(struct fleet_world *w, uint64_t groups, double share, uint32_t bits,
                          const struct fleet_device_faults *f, struct sim_diag *d)
{
    if (bits == 0 || (bits & ~(uint32_t)FLEET_FAULTS_ALL) || !(share >= 0 && share <= 1)) {
        sim_diag_add(d, "fault: kinds 0x%x or share %g out of range", bits, share);
        return SIM_EINVAL;
    }
    struct fault_entry *fe = realloc(w->faults, (w->n_faults + 1) * sizeof(*fe));
    if (fe == NULL)
        return SIM_ENOMEM;
    w->faults = fe;
    fe[w->n_faults++] = (struct fault_entry){groups != 0 ? groups : ~0ULL, share, bits};
    for (uint32_t g = 0; g < w->n_groups && g < 64; g++)
        if (groups == 0 || (groups >> g & 1))
            faults_merge(&w->groups[g].faults, f, bits);
    return 0;
}

/* The fault kinds that hit device `id` (entity: its stream key): each entry draws from its
 * own stream, so adding an entry changes no other entry's devices. */
uint32_t world_faults_of(const struct fleet_world *w, uint32_t id, uint64_t entity)
{
    uint32_t bits = 0, g = w->dev_group[id];
    for (uint32_t k = 0; k < w->n_faults; k++) {
        const struct fault_entry *fe = &w->faults[k];
        if (g >= 64 || !(fe->groups >> g & 1))
            continue;
        struct sim_rng r;
        sim_rng_init(&r, w->seed, entity, SIM_RNG_FAULT | k << 16);
        if (sim_rng_uniform(&r) < fe->share)
            bits |= fe->bits;
    }
    return bits;
}

/* v rounded to a multiple of step. */
static int64_t grid(double v, int64_t step)
{
    return (int64_t)llround(v / (double)step) * step;
}

/* Device `index` of group g: its own settings, the group's with every drawn parameter
 * replaced. Returns 0, or SIM_ERANGE with the device and the values named. */
int world_draw_cfg(const struct fleet_world *w, const struct group *g, uint32_t index,
                   uint64_t entity, struct fleet_device_cfg *c, struct sim_diag *d)
{
    *c = g->cfg.dev;
    for (uint32_t k = 0; k < g->n_drawn; k++) {
        const struct drawn *dr = &g->drawn[k];
        double v = fleet_population_draw(&dr->dist, w->seed, entity, dr->param);
        switch (dr->param) {
        case FLEET_POPULATION_LOSS_GOOD:
            c->link.loss.per_good = v;
            break;
        case FLEET_POPULATION_LOSS_BAD:
            c->link.loss.per_bad = v;
            break;
        case FLEET_POPULATION_LOSS_P_GB:
            c->link.loss.p_gb = v;
            break;
        case FLEET_POPULATION_LOSS_P_BG:
            c->link.loss.p_bg = v;
            break;
        case FLEET_POPULATION_INTERVAL: /* 1.25 ms units (Core Vol 6 Part B §4.5.2) */
            c->link.interval_ns = grid(v, 1250000);
            break;
        case FLEET_POPULATION_LATENCY:
            c->link.latency = v < 0 || v > 499 ? UINT16_MAX : (uint16_t)llround(v);
            break;
        case FLEET_POPULATION_TIMEOUT: /* 10 ms units */
            c->link.timeout_ns = grid(v, 10000000);
            break;
        case FLEET_POPULATION_ADV_DELAY:
            c->adv_ns = (int64_t)llround(v);
            break;
        case FLEET_POPULATION_APP_START:
            c->app_boot_ns = (int64_t)llround(v);
            break;
        case FLEET_POPULATION_CPU_PER_REQUEST:
            c->netbuf.cpu_per_request = (int64_t)llround(v);
            break;
        case FLEET_POPULATION_CLIENT_START:
            if (c->start_ns >= 0) /* a rollout starts the clients otherwise */
                c->start_ns = (int64_t)llround(v);
            break;
        case FLEET_POPULATION_CENTRAL: /* an index of the mix's names (setup.c) */
            c->central = (uint8_t)llround(v);
            break;
        default:
            break;
        }
    }
    bool times_ok = c->adv_ns >= 0 && c->app_boot_ns >= 0 && c->netbuf.cpu_per_request >= 0;
    if ((c->transport == FLEET_TRANSPORT_BLE && ble_link_cfg_check(&c->link) != 0) || !times_ok) {
        sim_diag_add(d,
                     "group %s, device %u: the drawn settings are out of range (interval %.2f "
                     "ms, latency %u, timeout %.0f ms, loss %g/%g/%g/%g; times must be >= 0); "
                     "narrow the distributions",
                     g->cfg.name, index, (double)c->link.interval_ns / 1e6, c->link.latency,
                     (double)c->link.timeout_ns / 1e6, c->link.loss.per_good, c->link.loss.per_bad,
                     c->link.loss.p_gb, c->link.loss.p_bg);
        return SIM_ERANGE;
    }
    return 0;
}
