/* models/fleet/setup.c - a loaded scenario -> checks the loader cannot make -> a world.
 *
 * The scenario layer (sim/) knows no model, so the firmware combinations the SDK refuses,
 * link settings out of the Bluetooth ranges, transports the board or the client cannot
 * use and images too large for a mode are checked here, each reported at the position the
 * loader kept for its map. link.transport auto is resolved here too (transport_of). */
#include "models/fleet/world.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/fw/config.h"
#include "models/mcuboot/explain.h"
#include "models/mcuboot/image.h"
#include "sim/error.h"

/* "FILE:LINE:COL: KEY" */
static void where(char *buf, size_t n, const struct scenario_pos *p, const char *key)
{
    if (p->src != NULL && p->line > 0)
        snprintf(buf, n, "%s:%u:%u: %s", p->src, p->line, p->col, key);
    else
        snprintf(buf, n, "%s", key);
}

/* Each message of why (one per line), located at `at`. */
static void add_at(struct sim_diag *d, const char *at, const struct sim_diag *why)
{
    for (const char *p = why->text; *p != '\0';) {
        const char *nl = strchr(p, '\n');
        int n = nl != NULL ? (int)(nl - p) : (int)strlen(p);
        sim_diag_add(d, "%s: %.*s", at, n, p);
        p += n + (nl != NULL);
    }
}

/* Boards whose SoC has a BLE radio: all but the RAK3172 (STM32WLE5: LoRa only; ST RM0461,
 * zephyrproject-rtos/zephyr: boards/rakwireless/rak3172/rak3172.dts). */
static bool board_has_ble(enum scenario_board b)
{
    return b != SCENARIO_BOARD_RAK3172;
}

/* link.transport with auto resolved: BLE where the board has a radio, else the UART. */
static enum fleet_device_transport transport_of(const struct scenario_group *g)
{
    switch (g->link.transport) {
    case SCENARIO_TRANSPORT_BLE:
        return FLEET_TRANSPORT_BLE;
    case SCENARIO_TRANSPORT_UART:
        return FLEET_TRANSPORT_UART;
    default:
        return board_has_ble(g->board) ? FLEET_TRANSPORT_BLE : FLEET_TRANSPORT_UART;
    }
}

/* Over a UART the firmware has no MCUmgr Bluetooth transport and no ble_latency (the key
 * is ignored). */
static struct fw_config fw_of(const struct scenario_firmware *f, bool uart)
{
    return (struct fw_config){
        .dfu_mcumgr = f->smp == SCENARIO_SMP_DFU_MCUMGR || f->smp == SCENARIO_SMP_BOTH,
        .ble_smp = f->smp == SCENARIO_SMP_BLE_SMP || f->smp == SCENARIO_SMP_BOTH,
        .config_channel_dfu = f->config_channel_dfu,
        .dfu_lock = f->dfu_lock,
        .ble_latency = f->ble_latency && !uart,
        .transport_bt = !uart,
    };
}

/* The transport of group i against its board and the client: 0 or SIM_EINVAL. */
static int check_transport(const struct scenario *s, size_t i, struct sim_diag *d)
{
    const struct scenario_group *g = &s->groups[i];
    char at[512], key[64];
    if (g->link.transport == SCENARIO_TRANSPORT_BLE && !board_has_ble(g->board)) {
        snprintf(key, sizeof(key), "devices[%zu].link.transport", i);
        where(at, sizeof(at), &g->link.at, key);
        sim_diag_add(d,
                     "%s: ble needs a BLE radio and group %s's board %s has none; use uart "
                     "(or auto, which picks uart there)",
                     at, g->name, scenario_board_name(g->board));
        return SIM_EINVAL;
    }
    struct fleet_serial_host host;
    if (transport_of(g) == FLEET_TRANSPORT_UART &&
        fleet_serial_host_default((enum client_dfu_kind)s->client.kind, &host) != 0) {
        where(at, sizeof(at), &s->client.at, "client.kind");
        sim_diag_add(d,
                     "%s: %s speaks SMP over BLE only, and group %s (%s) is reached over a UART "
                     "(devices[%zu].link.transport); use mcumgr-cli or smpclient, which have a "
                     "serial transport",
                     at, scenario_client_kind_name((enum scenario_client_kind)s->client.kind),
                     g->name, scenario_board_name(g->board), i);
        return SIM_EINVAL;
    }
    return 0;
}

/* A distribution's text -> *out, or a message at its position. */
static int dist_parse(const struct scenario_dist *sd, const char *key,
                      fleet_population_unit_fn unit, struct fleet_population_dist *out,
                      struct sim_diag *d)
{
    unsigned col = 0;
    struct sim_diag why;
    sim_diag_init(&why);
    if (fleet_population_parse(sd->text, unit, NULL, out, &col, &why) == 0)
        return 0;
    struct scenario_pos p = sd->at;
    if (p.line > 0 && col > 0)
        p.col += col - 1;
    char at[512];
    where(at, sizeof(at), &p, key);
    add_at(d, at, &why);
    return SIM_EINVAL;
}

static void link_cfg(const struct scenario_link *l, const struct scenario_client *c,
                     struct ble_link_cfg *out)
{
    ble_link_cfg_default(out);
    out->phy = (enum ble_phy)l->phy;
    out->mtu = l->mtu;
    out->dle = l->dle;
    out->interval_ns = l->interval;
    out->latency = l->latency;
    out->timeout_ns = l->timeout;
    out->max_pdus_per_event = c->packets_per_event;
    out->loss.model = (enum ble_loss_model)l->loss.model;
    out->loss.per_good = l->loss.good;
    out->loss.per_bad = l->loss.bad;
    out->loss.p_gb = l->loss.p_gb;
    out->loss.p_bg = l->loss.p_bg;
}

static struct client_dfu_cfg client_cfg(const struct scenario_client *c)
{
    struct client_dfu_cfg k = client_dfu_cfg_default((enum client_dfu_kind)c->kind);
    if (c->mode != SCENARIO_MODE_DEFAULT)
        k.mode = (enum client_dfu_mode)c->mode;
    if (c->window != 0)
        k.window = c->window;
    if (c->alignment != 0)
        k.alignment = c->alignment;
    k.swap_wait = c->swap_wait;
    k.attempts = c->attempts;
    k.retry_delay = c->retry_delay;
    return k;
}

/* ---- rollout and gateways ------------------------------------------------------------ */

static uint8_t failure_mask(const int *types, size_t n)
{
    static const uint8_t bit[] = {
        [SCENARIO_FAILURE_FAILED] = FLEET_ROLLOUT_F_FAILED,
        [SCENARIO_FAILURE_REJECTED] = FLEET_ROLLOUT_F_REJECTED,
        [SCENARIO_FAILURE_TIMED_OUT] = FLEET_ROLLOUT_F_TIMED_OUT,
    };
    uint8_t m = 0;
    for (size_t i = 0; i < n; i++)
        m |= bit[types[i]];
    return m;
}

static struct fleet_rollout_cfg rollout_cfg(const struct scenario_rollout *r)
{
    struct fleet_rollout_cfg c = fleet_rollout_cfg_default();
    c.n_waves = (uint32_t)r->n_waves;
    for (size_t i = 0; i < r->n_waves && i < FLEET_ROLLOUT_MAX_WAVES; i++)
        c.waves[i] = r->waves[i].is_count
                         ? (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_COUNT, r->waves[i].count}
                         : (struct fleet_rollout_wave){FLEET_ROLLOUT_WAVE_PERCENT,
                                                       r->waves[i].share * 100.0};
    c.success_threshold = r->success_threshold;
    c.success_action = r->success_action == SCENARIO_SUCCESS_PAUSE ? FLEET_ROLLOUT_PAUSE_ON_SUCCESS
                                                                   : FLEET_ROLLOUT_NEXT;
    c.error_threshold = r->error_threshold;
    c.error_min_executed = r->error_min_executed;
    c.error_of_executed = r->error_of_executed;
    c.error_threshold_count = r->error_threshold_count;
    c.error_failure_types = failure_mask(r->error_failure_types, r->n_error_failure_types);
    c.error_action = (uint8_t)r->error_action; /* same order as enum fleet_rollout_error_action */
    c.rate_max_per_min = r->rate_max_per_min;
    c.rate_base_per_min = r->rate_base_per_min;
    c.rate_factor = r->rate_factor;
    c.rate_increase_after_notified = r->rate_increase_after_notified;
    c.rate_increase_after_succeeded = r->rate_increase_after_succeeded;
    c.exec_timeout = r->exec_timeout;
    c.retries = r->retries;
    c.retry_on = failure_mask(r->retry_on, r->n_retry_on);
    c.window_start = r->window.start;
    c.window_duration = r->window.duration;
    c.end_behavior = r->window.end_behavior == SCENARIO_END_CANCEL ? FLEET_ROLLOUT_END_CANCEL
                                                                   : FLEET_ROLLOUT_END_STOP;
    return c;
}

/* The rollout's knobs as the controller checks them, each message at the rollout map. */
static int check_rollout(const struct scenario *s, struct sim_diag *d)
{
    if (!s->rollout.present)
        return 0;
    struct fleet_rollout_cfg c = rollout_cfg(&s->rollout);
    struct sim_diag why;
    sim_diag_init(&why);
    if (fleet_rollout_cfg_validate(&c, &why) == 0)
        return 0;
    /* The controller's messages start with "rollout: " and its knob's name. */
    char at[512];
    const struct scenario_pos *p = &s->rollout.at;
    if (p->src != NULL && p->line > 0)
        snprintf(at, sizeof(at), "%s:%u:%u", p->src, p->line, p->col);
    else
        snprintf(at, sizeof(at), "%s", s->path);
    add_at(d, at, &why);
    return SIM_EINVAL;
}

/* The index of the group called name, or -1. */
static int group_index(const struct scenario *s, const char *name)
{
    for (size_t g = 0; g < s->n_groups; g++)
        if (strcmp(name, s->groups[g].name) == 0)
            return (int)g;
    return -1;
}

/* Bit g set: group g is one of names (a gateway's serves, a fault's groups; groups past
 * 64 are refused by the checks). */
static uint64_t group_mask(const struct scenario *s, char *const *names, size_t n)
{
    uint64_t m = 0;
    for (size_t j = 0; j < n; j++) {
        int g = group_index(s, names[j]);
        if (g >= 0 && g < 64)
            m |= 1ULL << g;
    }
    return m;
}

/* Every serves name is a group, each group has at most one kind of gateway, and (with
 * gateways) at least one; a phone's client speaks BLE only with BLE groups. */
static int check_gateways(const struct scenario *s, struct sim_diag *d)
{
    if (s->n_gateways == 0)
        return 0;
    int rc = 0;
    char at[512], key[96];
    if (s->n_groups > 64) {
        sim_diag_add(d, "%s: devices: at most 64 groups with gateways", s->path);
        return SIM_EINVAL;
    }
    uint64_t seen = 0;
    for (size_t i = 0; i < s->n_gateways; i++) {
        const struct scenario_gateway *gw = &s->gateways[i];
        for (size_t j = 0; j < gw->n_serves; j++) {
            if (group_index(s, gw->serves[j]) >= 0)
                continue;
            snprintf(key, sizeof(key), "gateways[%zu].serves", i);
            where(at, sizeof(at), &gw->pos, key);
            sim_diag_add(d, "%s: %s is not a device group", at, gw->serves[j]);
            rc = SIM_EINVAL;
        }
        uint64_t m = group_mask(s, gw->serves, gw->n_serves);
        if (m & seen) {
            snprintf(key, sizeof(key), "gateways[%zu].serves", i);
            where(at, sizeof(at), &gw->pos, key);
            sim_diag_add(d,
                         "%s: group %s is served by an earlier gateway too; give each "
                         "group one kind of gateway",
                         at, s->groups[__builtin_ctzll(m & seen)].name);
            rc = SIM_EINVAL;
        }
        seen |= m;
        struct fleet_serial_host host;
        for (size_t g = 0; g < s->n_groups; g++) {
            if (!(m >> g & 1) || transport_of(&s->groups[g]) != FLEET_TRANSPORT_UART ||
                fleet_serial_host_default((enum client_dfu_kind)gw->client.kind, &host) == 0)
                continue;
            snprintf(key, sizeof(key), "gateways[%zu].client.kind", i);
            where(at, sizeof(at), &gw->pos, key);
            sim_diag_add(d,
                         "%s: %s speaks SMP over BLE only, and group %s is reached over a UART; "
                         "use mcumgr-cli or smpclient",
                         at, scenario_client_kind_name((enum scenario_client_kind)gw->client.kind),
                         s->groups[g].name);
            rc = SIM_EINVAL;
        }
        struct fleet_gateway_cfg gc = {gw->links, (uint8_t)gw->availability, gw->arrival, NULL};
        struct fleet_population_dist fixed = {.kind = FLEET_POPULATION_FIXED, .value = 1};
        /* A drawn dwell is parsed here as gateways_add() will (the fuzzer found one that
         * validated and then did not build). */
        if (gw->dwell_dist.text != NULL) {
            snprintf(key, sizeof(key), "gateways[%zu].dwell", i);
            if (dist_parse(&gw->dwell_dist, key, fleet_population_unit_duration, &fixed, d) != 0) {
                rc = SIM_EINVAL;
                fixed = (struct fleet_population_dist){.kind = FLEET_POPULATION_FIXED, .value = 1};
            }
        }
        gc.dwell = &fixed;
        struct sim_diag why;
        sim_diag_init(&why);
        if (fleet_gateway_cfg_validate(&gc, &why) != 0) {
            snprintf(key, sizeof(key), "gateways[%zu]", i);
            where(at, sizeof(at), &gw->pos, key);
            add_at(d, at, &why);
            rc = SIM_EINVAL;
        }
    }
    for (size_t g = 0; g < s->n_groups; g++) {
        if (seen >> g & 1)
            continue;
        where(at, sizeof(at), &s->gateways[0].pos, "gateways");
        sim_diag_add(d,
                     "%s: no gateway serves group %s, so its devices would never update; "
                     "add it to a gateway's serves",
                     at, s->groups[g].name);
        rc = SIM_EINVAL;
    }
    return rc;
}

/* The keys of a group that may hold a distribution, with their unit. */
struct dist_key {
    enum fleet_population_param param;
    const char *key; /* under devices[i] */
    fleet_population_unit_fn unit;
    double lo, hi; /* what a draw may be (Bluetooth Core Vol 6 Part B §4.5.2) */
    const char *range;
};

#define PCT fleet_population_unit_percent
#define DUR fleet_population_unit_duration
static const struct dist_key dist_keys[] = {
    {FLEET_POPULATION_LOSS_GOOD, "link.loss.good", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_LOSS_BAD, "link.loss.bad", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_LOSS_P_GB, "link.loss.p_gb", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_LOSS_P_BG, "link.loss.p_bg", PCT, 0, 1, "[0%, 100%]"},
    {FLEET_POPULATION_INTERVAL, "link.interval", DUR, 7.5e6, 4e9, "[7.5ms, 4s]"},
    {FLEET_POPULATION_LATENCY, "link.latency", fleet_population_unit_number, 0, 499, "[0, 499]"},
    {FLEET_POPULATION_TIMEOUT, "link.timeout", DUR, 1e8, 3.2e10, "[100ms, 32s]"},
    {FLEET_POPULATION_ADV_DELAY, "link.adv_delay", DUR, 0, INFINITY, "[0s, ...)"},
    {FLEET_POPULATION_APP_START, "firmware.app_start", DUR, 0, INFINITY, "[0s, ...)"},
    {FLEET_POPULATION_CPU_PER_REQUEST, "firmware.netbuf.cpu_per_request", DUR, 0, INFINITY,
     "[0s, ...)"},
    {FLEET_POPULATION_CLIENT_START, "client.start", DUR, 0, INFINITY, "[0s, ...)"},
};
#undef PCT
#undef DUR

/* Where group g keeps the distribution of key k (client.start: the scenario's client). */
static const struct scenario_dist *dist_of(const struct scenario *s, const struct scenario_group *g,
                                           enum fleet_population_param p)
{
    switch (p) {
    case FLEET_POPULATION_LOSS_GOOD:
        return &g->link.loss.good_dist;
    case FLEET_POPULATION_LOSS_BAD:
        return &g->link.loss.bad_dist;
    case FLEET_POPULATION_LOSS_P_GB:
        return &g->link.loss.p_gb_dist;
    case FLEET_POPULATION_LOSS_P_BG:
        return &g->link.loss.p_bg_dist;
    case FLEET_POPULATION_INTERVAL:
        return &g->link.interval_dist;
    case FLEET_POPULATION_LATENCY:
        return &g->link.latency_dist;
    case FLEET_POPULATION_TIMEOUT:
        return &g->link.timeout_dist;
    case FLEET_POPULATION_ADV_DELAY:
        return &g->link.adv_delay_dist;
    case FLEET_POPULATION_APP_START:
        return &g->firmware.app_start_dist;
    case FLEET_POPULATION_CPU_PER_REQUEST:
        return &g->firmware.netbuf.cpu_per_request_dist;
    case FLEET_POPULATION_CLIENT_START:
        return &s->client.start_dist;
    default:
        return NULL;
    }
}

/* Parse every distribution of group i (messages at their keys) and, with w, hand them to
 * the world. Returns 0 or SIM_EINVAL. */
static int group_dists(const struct scenario *s, size_t i, struct fleet_world *w,
                       struct sim_diag *d)
{
    int rc = 0;
    for (size_t k = 0; k < sizeof(dist_keys) / sizeof(dist_keys[0]); k++) {
        const struct scenario_dist *sd = dist_of(s, &s->groups[i], dist_keys[k].param);
        if (sd == NULL || sd->text == NULL)
            continue;
        char key[96];
        if (dist_keys[k].param == FLEET_POPULATION_CLIENT_START)
            snprintf(key, sizeof(key), "%s", dist_keys[k].key);
        else
            snprintf(key, sizeof(key), "devices[%zu].%s", i, dist_keys[k].key);
        struct fleet_population_dist dist;
        bool shared = dist_keys[k].param == FLEET_POPULATION_CLIENT_START;
        struct sim_diag *dd = shared && i > 0 ? NULL : d;
        if (dist_parse(sd, key, dist_keys[k].unit, &dist, dd) != 0) {
            rc = SIM_EINVAL;
            continue;
        }
        double lo, hi;
        fleet_population_support(&dist, &lo, &hi);
        if (lo < dist_keys[k].lo || hi > dist_keys[k].hi) {
            char at[512];
            where(at, sizeof(at), &sd->at, key);
            sim_diag_add(dd,
                         "%s: %s can draw values outside %s; narrow it, or truncate it with "
                         "\"in [LO, HI]\"",
                         at, sd->text, dist_keys[k].range);
            rc = SIM_EINVAL;
            continue;
        }
        if (w != NULL && fleet_world_group_dist(w, (uint32_t)i, dist_keys[k].param, &dist, d) != 0)
            rc = SIM_EINVAL;
    }
    return rc;
}

/* The worst connection parameters group i can draw (largest interval and latency, smallest
 * timeout; rounded to their steps as world_draw_cfg() rounds them) into lc. False when a
 * distribution does not parse (reported by group_dists). */
static bool worst_link(const struct scenario *s, size_t i, struct ble_link_cfg *lc)
{
    static const enum fleet_population_param params[] = {
        FLEET_POPULATION_INTERVAL, FLEET_POPULATION_LATENCY, FLEET_POPULATION_TIMEOUT};
    for (size_t j = 0; j < 3; j++) {
        const struct scenario_dist *sd = dist_of(s, &s->groups[i], params[j]);
        if (sd == NULL || sd->text == NULL)
            continue;
        const struct dist_key *k = NULL;
        for (size_t n = 0; n < sizeof(dist_keys) / sizeof(dist_keys[0]); n++)
            if (dist_keys[n].param == params[j])
                k = &dist_keys[n];
        struct fleet_population_dist dist;
        double lo, hi;
        if (k == NULL || dist_parse(sd, k->key, k->unit, &dist, NULL) != 0)
            return false;
        fleet_population_support(&dist, &lo, &hi);
        if (params[j] == FLEET_POPULATION_INTERVAL)
            lc->interval_ns = (int64_t)llround(hi / 1250000.0) * 1250000; /* 1.25 ms steps */
        else if (params[j] == FLEET_POPULATION_LATENCY)
            lc->latency = (uint16_t)llround(hi);
        else
            lc->timeout_ns = (int64_t)llround(lo / 10000000.0) * 10000000; /* 10 ms steps */
    }
    return true;
}

/* Every group a fault names exists; parameters the device refuses are reported. */
static uint32_t fault_of(const struct scenario_fault *f, struct fleet_device_faults *p);

static int check_faults(const struct scenario *s, struct sim_diag *d)
{
    int rc = 0;
    char at[512], key[64];
    for (size_t i = 0; i < s->n_faults; i++) {
        const struct scenario_fault *f = &s->faults[i];
        /* The values the devices will refuse (fleet_device_faults_set), said here. */
        struct fleet_device_faults p;
        const char *bad = fleet_device_faults_invalid(&p, fault_of(f, &p));
        if (bad != NULL) {
            snprintf(key, sizeof(key), "faults[%zu]", i);
            where(at, sizeof(at), &f->pos, key);
            sim_diag_add(d, "%s.%s", at, bad);
            rc = SIM_EINVAL;
        }
        snprintf(key, sizeof(key), "faults[%zu].groups", i);
        where(at, sizeof(at), &f->pos, key);
        for (size_t j = 0; j < f->n_groups; j++) {
            int g = group_index(s, f->groups[j]);
            if (g < 0) {
                sim_diag_add(d, "%s: %s is not a device group", at, f->groups[j]);
                rc = SIM_EINVAL;
            } else if (f->kind == SCENARIO_FAULT_TWO_SOURCES &&
                       !s->groups[g].firmware.config_channel_dfu) {
                sim_diag_add(d,
                             "%s: two-sources needs a second DFU source: group %s has no "
                             "firmware.config_channel_dfu (set it, or leave the group out)",
                             at, f->groups[j]);
                rc = SIM_EINVAL;
            }
        }
    }
    return rc;
}

int fleet_world_check(const struct scenario *s, struct sim_diag *d)
{
    int rc = 0;
    char at[512];
    if (s->client.alignment & (s->client.alignment - 1)) {
        sim_diag_add(d, "%s: client.alignment: %u is not a power of two (1, 2, 4, 8 or 16)",
                     s->path, s->client.alignment);
        rc = SIM_EINVAL;
    }
    if (s->image.size < mcuboot_image_synth_min_size()) { /* fleet_world_image_add refuses */
        where(at, sizeof(at), &s->image.at, "image.size");
        sim_diag_add(d,
                     "%s: %llu bytes cannot hold an MCUboot image (0x200-byte header and the "
                     "TLVs); give at least %u bytes",
                     at, (unsigned long long)s->image.size, mcuboot_image_synth_min_size());
        rc = SIM_EINVAL;
    }
    /* All three, so that one run of validate shows every problem. */
    int rollout_rc = check_rollout(s, d), gateways_rc = check_gateways(s, d);
    int faults_rc = check_faults(s, d);
    if (rollout_rc != 0 || gateways_rc != 0 || faults_rc != 0)
        rc = SIM_EINVAL;
    for (size_t i = 0; i < s->n_groups; i++) {
        const struct scenario_group *g = &s->groups[i];
        char key[64];
        snprintf(key, sizeof(key), "devices[%zu].firmware", i);
        where(at, sizeof(at), &g->firmware.at, key);
        bool uart = transport_of(g) == FLEET_TRANSPORT_UART;
        struct fw_config fc = fw_of(&g->firmware, uart);
        if (fw_config_check(&fc, at, d) != 0)
            rc = SIM_EINVAL;
        if (check_transport(s, i, d) != 0)
            rc = SIM_EINVAL;
        bool dists_ok = group_dists(s, i, NULL, d) == 0;
        if (!dists_ok)
            rc = SIM_EINVAL;
        if (g->flash.ble_slowdown != 0 && g->flash.ble_slowdown < 1) {
            snprintf(key, sizeof(key), "devices[%zu].flash.ble_slowdown", i);
            where(at, sizeof(at), &g->flash.at, key);
            sim_diag_add(d,
                         "%s: %g would make flash work faster with the radio on; give 0 (the "
                         "chip's own) or a factor >= 1",
                         at, g->flash.ble_slowdown);
            rc = SIM_EINVAL;
        }
        struct ble_link_cfg lc;
        link_cfg(&g->link, &s->client, &lc);
        snprintf(key, sizeof(key), "devices[%zu].link", i);
        where(at, sizeof(at), &g->link.at, key);
        /* Drawn connection parameters are checked per device when the world starts
         * (world_draw_cfg); here at their worst corner, so that no device can draw a
         * combination that run would refuse (issue 13). */
        bool drawn = g->link.interval_dist.text != NULL || g->link.latency_dist.text != NULL ||
                     g->link.timeout_dist.text != NULL;
        if (drawn && !(dists_ok && worst_link(s, i, &lc)))
            lc.interval_ns = 7500000, lc.latency = 0, lc.timeout_ns = 4000000000LL;
        if (!uart && drawn && ble_link_cfg_check(&lc) != 0) {
            sim_diag_add(d,
                         "%s: the drawn interval, latency and timeout can break the Bluetooth "
                         "rule timeout > (1 + latency) x interval x 2 (at interval %.2f ms, "
                         "latency %u, timeout %.0f ms); narrow the distributions",
                         at, (double)lc.interval_ns / 1e6, lc.latency, (double)lc.timeout_ns / 1e6);
            rc = SIM_EINVAL;
        } else if (!uart && ble_link_cfg_check(&lc) != 0) {
            sim_diag_add(d,
                         "%s: the connection parameters break the Bluetooth rules (interval "
                         "7.5 ms - 4 s in 1.25 ms steps, latency 0-499, timeout 100 ms - 32 s "
                         "and > (1 + latency) x interval x 2); change interval, latency or "
                         "timeout",
                         at);
            rc = SIM_EINVAL;
        }
        struct flash_map map;
        struct mcuboot_explain_params p;
        struct mcuboot_explain_row rows[MCUBOOT_EXPLAIN_MODE_COUNT];
        struct sim_diag ignore;
        sim_diag_init(&ignore);
        mcuboot_explain_params_default(&p);
        if (flash_map_board((enum flash_map_board)g->board, &map) != 0 ||
            mcuboot_explain(&map, (uint32_t)s->image.size, &p, rows, &ignore) != 0)
            continue;
        const struct mcuboot_explain_row *row = &rows[g->bootloader];
        if (!row->fits) {
            where(at, sizeof(at), &s->image.at, "image.size");
            sim_diag_add(d,
                         "%s: %llu bytes do not fit group %s (%s, %s: at most %u bytes); use a "
                         "smaller image or another board or bootloader",
                         at, (unsigned long long)s->image.size, g->name,
                         scenario_board_name(g->board), scenario_bootloader_name(g->bootloader),
                         row->max_image);
            rc = SIM_EINVAL;
        }
    }
    return rc;
}

/* One faults entry -> the device's fault kinds and parameters. */
static uint32_t fault_of(const struct scenario_fault *f, struct fleet_device_faults *p)
{
    static const uint32_t power[] = {
        [SCENARIO_DURING_UPLOAD] = FLEET_FAULTS_POWER_UPLOAD,
        [SCENARIO_DURING_SWAP] = FLEET_FAULTS_POWER_SWAP,
        [SCENARIO_DURING_RANDOM] = FLEET_FAULTS_POWER_RANDOM,
    };
    fleet_device_faults_default(p);
    p->upload_at = p->swap_at = f->at;
    p->mean_ns = f->mean;
    p->off_ns = f->off;
    p->bad_image =
        f->boot == SCENARIO_BAD_IMAGE_INVALID ? FLEET_BAD_IMAGE_INVALID : FLEET_BAD_IMAGE_CRASH;
    p->crash_after_ns = f->crash_after;
    p->reset_after_ns = f->reset_after;
    p->degrade_to = f->to;
    p->degrade_from_ns = f->from;
    p->degrade_over_ns = f->over;
    p->two_sources_at_ns = f->delay;
    p->two_sources_report_ns = f->report;
    switch (f->kind) {
    case SCENARIO_FAULT_POWER_LOSS:
        return power[f->during];
    case SCENARIO_FAULT_BAD_IMAGE:
        return FLEET_FAULTS_BAD_IMAGE;
    case SCENARIO_FAULT_NEVER_CONFIRM:
        return FLEET_FAULTS_NEVER_CONFIRM;
    case SCENARIO_FAULT_LINK_DEGRADE:
        return FLEET_FAULTS_LINK_DEGRADE;
    default:
        return FLEET_FAULTS_TWO_SOURCES;
    }
}

/* The client that updates group g: its gateway's, or the top-level one. */
static const struct scenario_client *client_of(const struct scenario *s, size_t g)
{
    for (size_t i = 0; i < s->n_gateways; i++)
        if (g < 64 && (group_mask(s, s->gateways[i].serves, s->gateways[i].n_serves) >> g & 1))
            return &s->gateways[i].client;
    return &s->client;
}

static int gateways_add(struct fleet_world *w, const struct scenario *s,
                        const struct scenario_gateway *gw, struct sim_diag *d)
{
    struct client_dfu_cfg client = client_cfg(&gw->client);
    struct fleet_world_gateways g = {
        .name = gw->name,
        .count = gw->count,
        .cfg = {gw->links, (uint8_t)gw->availability, gw->arrival, NULL},
        .assignment = (enum fleet_gateway_assignment)gw->assignment,
        .serves = group_mask(s, gw->serves, gw->n_serves),
        .client = &client,
    };
    int rc = 0;
    if (gw->dwell_dist.text != NULL)
        rc = dist_parse(&gw->dwell_dist, "dwell", fleet_population_unit_duration, &g.dwell, d);
    else
        g.dwell = (struct fleet_population_dist){.kind = FLEET_POPULATION_FIXED,
                                                 .value = (double)gw->dwell};
    return rc != 0 ? rc : fleet_world_gateways_add(w, &g, d);
}

int fleet_world_from_scenario(const struct scenario *s, struct sim_engine *e, struct recorder *rec,
                              struct fleet_world **out, struct sim_diag *d)
{
    *out = NULL;
    int rc = fleet_world_check(s, d);
    if (rc != 0)
        return rc;
    struct fleet_world *w = fleet_world_new(e, rec, s->seed);
    if (w == NULL)
        return SIM_ENOMEM;
    const struct scenario_version *iv = &s->image.installed, *uv = &s->image.version;
    const struct mcuboot_image_version installed = {iv->major, iv->minor, iv->revision, iv->build};
    const struct mcuboot_image_version update = {uv->major, uv->minor, uv->revision, uv->build};
    uint32_t factory, upd;
    rc = fleet_world_image_add(w, (uint32_t)s->image.size, &installed, &factory, d);
    if (rc == 0)
        rc = fleet_world_image_add(w, (uint32_t)s->image.size, &update, &upd, d);
    for (size_t i = 0; i < s->n_groups && rc == 0; i++) {
        const struct scenario_group *g = &s->groups[i];
        const struct fleet_boot_timing boot = {(uint32_t)g->mcuboot.hash_rate, g->mcuboot.sig_time};
        const struct fleet_flash_timing flash = {
            g->flash.timing == SCENARIO_FLASH_TYPICAL ? FLASH_CHIP_TYP : FLASH_CHIP_MAX,
            g->flash.ble_slowdown};
        struct fleet_group_cfg gc = {
            .name = g->name,
            .board = (enum flash_map_board)g->board,
            .mode = (enum mcuboot_slots_mode)g->bootloader,
            .erase_progressively = g->firmware.erase_progressively,
            .count = g->count,
            .boot = &boot,
            .flash = &flash,
        };
        fleet_device_cfg_default(&gc.dev);
        gc.dev.factory_image = factory;
        gc.dev.update_image = upd;
        gc.dev.smp = (enum fleet_device_smp)g->firmware.smp;
        gc.dev.dfu_lock = g->firmware.dfu_lock;
        gc.dev.config_channel_dfu = g->firmware.config_channel_dfu;
        gc.dev.ble_latency = g->firmware.ble_latency;
        gc.dev.reassembly = g->firmware.reassembly;
        gc.dev.mcumgr_params = g->firmware.mcumgr_params;
        gc.dev.netbuf.buf_size = (uint32_t)g->firmware.netbuf.size;
        gc.dev.netbuf.buf_count = g->firmware.netbuf.count;
        gc.dev.netbuf.cpu_per_request = g->firmware.netbuf.cpu_per_request;
        gc.dev.app_boot_ns = g->firmware.app_start;
        gc.dev.adv_ns = g->link.adv_delay;
        link_cfg(&g->link, &s->client, &gc.dev.link);
        gc.dev.transport = transport_of(g);
        gc.dev.uart.baud = g->link.baud;
        if (gc.dev.transport == FLEET_TRANSPORT_UART)
            (void)fleet_serial_host_default((enum client_dfu_kind)client_of(s, i)->kind,
                                            &gc.dev.serial);
        gc.dev.client = client_cfg(client_of(s, i));
        gc.dev.start_ns = s->client.start;
        uint32_t first;
        rc = fleet_world_group_add(w, &gc, &first, d);
        if (rc == 0)
            rc = group_dists(s, i, w, d);
    }
    if (rc == 0 && s->rollout.present) {
        struct fleet_rollout_cfg rc_cfg = rollout_cfg(&s->rollout);
        rc = fleet_world_rollout_set(w, &rc_cfg, s->rollout.start, d);
    }
    for (size_t i = 0; i < s->n_gateways && rc == 0; i++)
        rc = gateways_add(w, s, &s->gateways[i], d);
    for (size_t i = 0; i < s->n_faults && rc == 0; i++) {
        struct fleet_device_faults p;
        uint32_t bits = fault_of(&s->faults[i], &p);
        rc = fleet_world_fault_add(w, group_mask(s, s->faults[i].groups, s->faults[i].n_groups),
                                   s->faults[i].share, bits, &p, d);
    }
    if (rc == 0 && (rc = fleet_world_start(w)) != 0 && fleet_world_diag(w)->len > 0)
        add_at(d, s->path, fleet_world_diag(w));
    if (rc != 0) {
        fleet_world_free(w);
        return rc;
    }
    *out = w;
    return 0;
}
