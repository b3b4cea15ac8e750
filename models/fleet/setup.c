/* models/fleet/setup.c - a loaded scenario -> checks the loader cannot make -> a world.
 *
 * The scenario layer (sim/) knows no model, so the firmware combinations the SDK refuses,
 * link settings out of the Bluetooth ranges, transports the board or the client cannot
 * use and images too large for a mode are checked here, each reported at the position the
 * loader kept for its map. link.transport auto is resolved here too (transport_of). */
#include "models/fleet/world.h"

#include <stdio.h>
#include <string.h>

#include "models/fw/config.h"
#include "models/mcuboot/explain.h"
#include "sim/error.h"

/* "FILE:LINE:COL: KEY" */
static void where(char *buf, size_t n, const struct scenario_pos *p, const char *key)
{
    if (p->src != NULL && p->line > 0)
        snprintf(buf, n, "%s:%u:%u: %s", p->src, p->line, p->col, key);
    else
        snprintf(buf, n, "%s", key);
}

/* Boards whose SoC has a BLE radio: all but the RAK3172 (STM32WLE5: LoRa only,
 * flash-and-ble.md §1 "No BLE radio"). */
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

int fleet_world_check(const struct scenario *s, struct sim_diag *d)
{
    int rc = 0;
    char at[512];
    if (s->client.alignment & (s->client.alignment - 1)) {
        sim_diag_add(d, "%s: client.alignment: %u is not a power of two (1, 2, 4, 8 or 16)",
                     s->path, s->client.alignment);
        rc = SIM_EINVAL;
    }
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
        struct ble_link_cfg lc;
        link_cfg(&g->link, &s->client, &lc);
        snprintf(key, sizeof(key), "devices[%zu].link", i);
        where(at, sizeof(at), &g->link.at, key);
        if (!uart && ble_link_cfg_check(&lc) != 0) {
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
        struct fleet_group_cfg gc = {
            .name = g->name,
            .board = (enum flash_map_board)g->board,
            .mode = (enum mcuboot_slots_mode)g->bootloader,
            .erase_progressively = g->firmware.erase_progressively,
            .count = g->count,
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
            (void)fleet_serial_host_default((enum client_dfu_kind)s->client.kind, &gc.dev.serial);
        gc.dev.client = client_cfg(&s->client);
        gc.dev.start_ns = s->client.start;
        uint32_t first;
        rc = fleet_world_group_add(w, &gc, &first, d);
    }
    if (rc == 0)
        rc = fleet_world_start(w);
    if (rc != 0) {
        fleet_world_free(w);
        return rc;
    }
    *out = w;
    return 0;
}
