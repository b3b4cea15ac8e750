/* sim/scenario/scenario.c - the dfusim scenario schema and the sim/scenario.h API.
 *
 * The tables below ARE the scenario reference: adding a key is one row (plus its struct
 * member). Defaults and bounds are written as a user would write them.
 */
#include "sim/rng.h"
#include "sim/scenario/scenario_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Offset and size of a member, for a table row. */
#define SCENARIO_AT(type, member)                                                                  \
    .offset = offsetof(type, member), .size = sizeof(((type *)0)->member)

/* The mask bit of an enum value, for a field's `when` condition. */
#define SCENARIO_BIT(e) (1u << (e))

static const char *const record_names[] = {"summary", "attempts", "chunks", NULL};

/* Order matches enum scenario_board. */
static const char *const board_names[] = {"rak4631",    "nrf52840dk", "nrf52840dk-ext", "nrf5340dk",
                                          "nrf54l15dk", "rak3172",    "rak11720",       NULL};

/* Order matches enum scenario_bootloader (MCUboot upgrade modes, written in kebab case). */
static const char *const bootloader_names[] = {
    "overwrite-only", "swap-scratch",      "swap-move", "swap-offset",
    "direct-xip",     "direct-xip-revert", "ram-load",  NULL};

static const struct scenario_field image_fields[] = {
    {.key = "size",
     .type = SCENARIO_T_SIZE,
     SCENARIO_AT(struct scenario_image, size),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1B",
     .max = "64MiB",
     .doc = "size of the update image (bytes, KiB, MiB)"},
    {.key = "version",
     .type = SCENARIO_T_VERSION,
     SCENARIO_AT(struct scenario_image, version),
     .def = "1.0.0+0",
     .doc = "MCUboot image version MAJOR.MINOR.REVISION[+BUILD]"},
    {.key = "installed",
     .type = SCENARIO_T_VERSION,
     SCENARIO_AT(struct scenario_image, installed),
     .def = "0.0.0+0",
     .doc = "version the devices run at power-on (an image of the same size, confirmed)"},
};

static const struct scenario_schema image_schema = {.noun = "image",
                                                    .size = sizeof(struct scenario_image),
                                                    .n_fields = sizeof(image_fields) /
                                                                sizeof(image_fields[0]),
                                                    .fields = image_fields};

static const char *const smp_names[] = {"dfu-mcumgr", "ble-smp", "dfu-mcumgr+ble-smp", NULL};
static const char *const phy_names[] = {"1M", "2M", "coded-s2", "coded-s8", NULL};
static const char *const loss_names[] = {"none", "bernoulli", "gilbert-elliott", NULL};
/* Order matches enum scenario_transport. */
static const char *const transport_names[] = {"auto", "ble", "uart", NULL};
/* Order matches enum scenario_client_kind. */
static const char *const client_names[] = {"device-manager-android", "device-manager-ios",
                                           "mcumgr-cli", "smpclient", NULL};
static const char *const mode_names[] = {"test-and-confirm", "confirm-only", "test-only", "none",
                                         "upload-only",      "default",      NULL};

static const struct scenario_field netbuf_fields[] = {
    {.key = "size",
     .type = SCENARIO_T_SIZE,
     SCENARIO_AT(struct scenario_netbuf, size),
     .def = "2475B",
     .min = "64B",
     .max = "4KiB",
     .doc = "MCUmgr net_buf size (CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE; 2475 = Nordic's "
            "recommendation for MTU 498)"},
    {.key = "count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_netbuf, count),
     .def = "4",
     .min = "1",
     .max = "32",
     .doc = "MCUmgr net_bufs (CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT, Zephyr default 4)"},
    {.key = "cpu_per_request",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_netbuf, cpu_per_request),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_netbuf, cpu_per_request_dist),
     .def = "200us",
     .min = "0s",
     .max = "1s",
     .doc = "SMP worker CPU time per request, flash work excluded (unverified)"},
};

static const struct scenario_schema netbuf_schema = {.noun = "net_buf pool",
                                                     .size = sizeof(struct scenario_netbuf),
                                                     .n_fields = sizeof(netbuf_fields) /
                                                                 sizeof(netbuf_fields[0]),
                                                     .fields = netbuf_fields};

static const struct scenario_field firmware_fields[] = {
    {.key = "smp",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_firmware, smp),
     .def = "dfu-mcumgr",
     .names = smp_names,
     .doc = "SMP DFU module: nRF Desktop dfu_mcumgr or CAF ble_smp (both: refused, as the SDK "
            "build is)"},
    {.key = "dfu_lock",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct scenario_firmware, dfu_lock),
     .def = "true",
     .doc = "nRF Desktop DFU lock between config-channel DFU and MCUmgr (CONFIG_DESKTOP_DFU_LOCK)"},
    {.key = "config_channel_dfu",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct scenario_firmware, config_channel_dfu),
     .def = "false",
     .doc = "nRF Desktop config-channel DFU: background erase of a used secondary slot"},
    {.key = "ble_latency",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct scenario_firmware, ble_latency),
     .def = "true",
     .doc = "nRF Desktop ble_latency: latency 0 during DFU, back to 99 5-10 s after"},
    {.key = "reassembly",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct scenario_firmware, reassembly),
     .def = "true",
     .doc = "SMP BT reassembly of packets larger than the MTU "
            "(CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY)"},
    {.key = "mcumgr_params",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct scenario_firmware, mcumgr_params),
     .def = "true",
     .doc = "os_mgmt answers MCUmgr parameters (buf_size, buf_count; "
            "CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS): clients then send packets of buf_size"},
    {.key = "erase_progressively",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct scenario_firmware, erase_progressively),
     .def = "false",
     .doc = "erase the slot sector by sector while writing (CONFIG_IMG_ERASE_PROGRESSIVELY)"},
    {.key = "app_start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_firmware, app_start),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_firmware, app_start_dist),
     .def = "0s",
     .min = "0s",
     .max = "1min",
     .doc = "from MCUboot's end to the application advertising (unverified)"},
    {.key = "netbuf",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_firmware, netbuf),
     .sub = &netbuf_schema,
     .doc = "MCUmgr net_buf pool"},
};

static const struct scenario_schema firmware_schema = {.noun = "firmware",
                                                       .size = sizeof(struct scenario_firmware),
                                                       .n_fields = sizeof(firmware_fields) /
                                                                   sizeof(firmware_fields[0]),
                                                       .fields = firmware_fields};

static const struct scenario_field loss_fields[] = {
    {.key = "model",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_loss, model),
     .def = "none",
     .names = loss_names,
     .doc = "per-PDU loss model"},
    {.key = "good",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_loss, good),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_loss, good_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(SCENARIO_LOSS_BERNOULLI) | SCENARIO_BIT(SCENARIO_LOSS_GE)}},
     .doc = "loss per PDU in the Good state; bernoulli: of every PDU (unverified: 0.1-1%)"},
    {.key = "bad",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_loss, bad),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_loss, bad_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(SCENARIO_LOSS_GE)}},
     .doc = "gilbert-elliott: loss per PDU in the Bad state (unverified: 50-100%)"},
    {.key = "p_gb",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_loss, p_gb),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_loss, p_gb_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(SCENARIO_LOSS_GE)}},
     .doc = "gilbert-elliott: probability per PDU of Good -> Bad"},
    {.key = "p_bg",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_loss, p_bg),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_loss, p_bg_dist),
     .def = "0%",
     .min = "0%",
     .max = "100%",
     .when = {{"model", SCENARIO_BIT(SCENARIO_LOSS_GE)}},
     .doc = "gilbert-elliott: probability per PDU of Bad -> Good (mean burst 1/p_bg)"},
};

static const struct scenario_schema loss_schema = {.noun = "loss model",
                                                   .size = sizeof(struct scenario_loss),
                                                   .n_fields =
                                                       sizeof(loss_fields) / sizeof(loss_fields[0]),
                                                   .fields = loss_fields};

static const struct scenario_field link_fields[] = {
    {.key = "transport",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_link, transport),
     .def = "auto",
     .names = transport_names,
     .doc = "SMP transport: ble (GATT over the BLE link) or uart (SMP serial frames); auto: "
            "uart on rak3172 (no BLE radio), ble elsewhere. With uart the BLE keys below, "
            "firmware.ble_latency and firmware.reassembly are ignored"},
    {.key = "baud",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_link, baud),
     .def = "115200",
     .min = "1200",
     .max = "4000000",
     .doc = "UART bits per second, 8N1 (10 bits per byte); ignored with ble"},
    {.key = "phy",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_link, phy),
     .def = "2M",
     .names = phy_names,
     .doc = "PHY after the PHY exchange"},
    {.key = "mtu",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_link, mtu),
     .def = "498",
     .min = "23",
     .max = "517",
     .doc = "ATT MTU after the exchange (Nordic's SMP recommendation 498)"},
    {.key = "dle",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_link, dle),
     .def = "251",
     .min = "27",
     .max = "251",
     .doc = "LL data length (octets per PDU) after the DLE exchange"},
    {.key = "interval",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_link, interval),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_link, interval_dist),
     .def = "7.5ms",
     .min = "7.5ms",
     .max = "4s",
     .doc = "connection interval (nRF Desktop 7.5 ms; a multiple of 1.25 ms)"},
    {.key = "latency",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_link, latency),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_link, latency_dist),
     .def = "0",
     .min = "0",
     .max = "499",
     .doc = "peripheral latency at connection (nRF Desktop: 99 idle; ble_latency sets 0 in DFU)"},
    {.key = "timeout",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_link, timeout),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_link, timeout_dist),
     .def = "4s",
     .min = "100ms",
     .max = "32s",
     .doc = "supervision timeout (nRF Desktop 4 s)"},
    {.key = "adv_delay",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_link, adv_delay),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_link, adv_delay_dist),
     .def = "100ms",
     .min = "0s",
     .max = "1h",
     .doc = "from advertising (or the central asking, if later) to CONNECT_IND (unverified)"},
    {.key = "loss",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_link, loss),
     .sub = &loss_schema,
     .doc = "per-PDU loss with link-layer retransmission"},
};

static const struct scenario_schema link_schema = {.noun = "link",
                                                   .size = sizeof(struct scenario_link),
                                                   .n_fields =
                                                       sizeof(link_fields) / sizeof(link_fields[0]),
                                                   .fields = link_fields};

static const struct scenario_field client_fields[] = {
    {.key = "kind",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_client, kind),
     .def = "device-manager-android",
     .names = client_names,
     .doc = "DFU client run by every device's central (models/client/dfu.h)"},
    {.key = "mode",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_client, mode),
     .def = "default",
     .names = mode_names,
     .doc = "upgrade mode; default: the client's own (Android and mcumgr CLI test-and-confirm, "
            "iOS confirm-only, smpclient upload-only)"},
    {.key = "window",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_client, window),
     .def = "0",
     .min = "0",
     .max = "16",
     .doc = "chunks in flight (Android window capacity, iOS pipeline depth, mcumgr CLI "
            "maximum); 0: the client's default"},
    {.key = "alignment",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_client, alignment),
     .def = "0",
     .min = "0",
     .max = "16",
     .doc = "memory alignment of chunk data, 1, 2, 4, 8 or 16; 0: the client's default"},
    {.key = "packets_per_event",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_client, packets_per_event),
     .def = "6",
     .min = "1",
     .max = "1000",
     .doc = "the central's cap on packets per connection event (unverified: Android ~6, iOS 4)"},
    {.key = "swap_wait",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_client, swap_wait),
     .def = "0s",
     .min = "0s",
     .doc = "estimated swap time the client waits after the reset (library default 0; the "
            "sample app says 10 s)"},
    {.key = "attempts",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_client, attempts),
     .def = "1",
     .min = "1",
     .max = "64",
     .doc = "attempts before the client gives up"},
    {.key = "retry_delay",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_client, retry_delay),
     .def = "10s",
     .min = "0s",
     .doc = "pause between attempts (assumption)"},
    {.key = "start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_client, start),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_client, start_dist),
     .def = "0s",
     .min = "0s",
     .doc = "when each device's central starts its DFU (fixed, or drawn per device)"},
};

static const struct scenario_schema client_schema = {.noun = "client",
                                                     .size = sizeof(struct scenario_client),
                                                     .n_fields = sizeof(client_fields) /
                                                                 sizeof(client_fields[0]),
                                                     .fields = client_fields};

static const struct scenario_field mcuboot_fields[] = {
    {.key = "hash_rate",
     .type = SCENARIO_T_SIZE,
     SCENARIO_AT(struct scenario_mcuboot, hash_rate),
     .def = "1000000B",
     .min = "1B",
     .max = "1024MiB",
     .doc = "bytes MCUboot hashes per second while validating an image (SHA-256 over flash; "
            "unverified: no published figure for these chips)"},
    {.key = "sig_time",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_mcuboot, sig_time),
     .def = "100ms",
     .min = "0s",
     .max = "10s",
     .doc = "one signature check per image validated (ECDSA P-256 on a Cortex-M; "
            "unverified: assumed 10-300 ms by crypto backend)"},
};

static const struct scenario_schema mcuboot_schema = {.noun = "bootloader timing",
                                                      .size = sizeof(struct scenario_mcuboot),
                                                      .n_fields = sizeof(mcuboot_fields) /
                                                                  sizeof(mcuboot_fields[0]),
                                                      .fields = mcuboot_fields};

static const char *const flash_timing_names[] = {"max", "typical", NULL};

static const struct scenario_field flash_fields[] = {
    {.key = "timing",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_flash, timing),
     .def = "max",
     .names = flash_timing_names,
     .doc = "which datasheet column times erases and writes: max or typical"},
    {.key = "ble_slowdown",
     .type = SCENARIO_T_NUMBER,
     SCENARIO_AT(struct scenario_flash, ble_slowdown),
     .def = "0",
     .min = "0",
     .max = "10",
     .doc = "factor on the application's flash work while a BLE link is up (radio "
            "time-slotting); 0: the chip's own (unverified)"},
};

static const struct scenario_schema flash_schema = {.noun = "flash timing",
                                                    .size = sizeof(struct scenario_flash),
                                                    .n_fields = sizeof(flash_fields) /
                                                                sizeof(flash_fields[0]),
                                                    .fields = flash_fields};

static const struct scenario_field group_fields[] = {
    {.key = "group",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_group, name),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_UNIQUE,
     .doc = "name of the device group, unique; --set addresses it as devices.NAME.KEY"},
    {.key = "count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_group, count),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .max = "10000000",
     .doc = "number of devices in the group"},
    {.key = "board",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_group, board),
     .def = "nrf52840dk",
     .names = board_names,
     .doc = "board: flash map and chip profiles (models/flash/map.h)"},
    {.key = "bootloader",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_group, bootloader),
     .def = "swap-move",
     .names = bootloader_names,
     .doc = "MCUboot upgrade mode"},
    {.key = "mcuboot",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_group, mcuboot),
     .sub = &mcuboot_schema,
     .doc = "MCUboot's validation timing"},
    {.key = "flash",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_group, flash),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct scenario_group, flash.at),
     .sub = &flash_schema,
     .doc = "flash timing of the board"},
    {.key = "firmware",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_group, firmware),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct scenario_group, firmware.at),
     .sub = &firmware_schema,
     .doc = "firmware modules and MCUmgr options"},
    {.key = "link",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_group, link),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct scenario_group, link.at),
     .sub = &link_schema,
     .doc = "the link to the device's central: BLE, or a UART for boards without BLE"},
};

static const struct scenario_schema group_schema = {.noun = "device group",
                                                    .size = sizeof(struct scenario_group),
                                                    .n_fields = sizeof(group_fields) /
                                                                sizeof(group_fields[0]),
                                                    .fields = group_fields};

/* ---- rollout (models/fleet/rollout.h, struct fleet_rollout_cfg) --------------------- */

/* Order matches enum scenario_failure. */
static const char *const failure_names[] = {"failed", "rejected", "timed_out", NULL};
static const char *const success_action_names[] = {"next", "pause", NULL};
static const char *const error_action_names[] = {"pause", "cancel", "rollback", NULL};
static const char *const end_behavior_names[] = {"stop", "cancel", NULL};

static const struct scenario_field wave_item = {
    .key = "wave", .type = SCENARIO_T_AMOUNT, .size = sizeof(struct scenario_amount)};
static const struct scenario_field failure_item = {
    .key = "failure type", .type = SCENARIO_T_ENUM, .size = sizeof(int), .names = failure_names};

static const struct scenario_field window_fields[] = {
    {.key = "start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_window, start),
     .def = "0s",
     .min = "0s",
     .max = "24h",
     .doc = "daily opening time, after midnight (simulated time 0 is midnight); below 24 h"},
    {.key = "duration",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_window, duration),
     .def = "0s",
     .min = "0s",
     .max = "24h",
     .doc = "how long the window stays open each day; 0s: no window (always open); below 24 h"},
    {.key = "end_behavior",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_window, end_behavior),
     .def = "stop",
     .names = end_behavior_names,
     .doc = "at the window's end: stop starting devices, or also cancel those in progress"},
};

static const struct scenario_schema window_schema = {.noun = "maintenance window",
                                                     .size = sizeof(struct scenario_window),
                                                     .n_fields = sizeof(window_fields) /
                                                                 sizeof(window_fields[0]),
                                                     .fields = window_fields};

static const struct scenario_field rollout_fields[] = {
    {.key = "waves",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct scenario_rollout, waves),
     .count_offset = offsetof(struct scenario_rollout, n_waves),
     .item = &wave_item,
     .def = "[100%]",
     .min = "1",
     .max = "32", /* FLEET_ROLLOUT_MAX_WAVES */
     .doc = "wave sizes in device order: a share of the devices not yet in a wave, or a count"},
    {.key = "success_threshold",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_rollout, success_threshold),
     .def = "100%",
     .min = "0%",
     .max = "100%",
     .doc = "a wave succeeds when this share of it succeeded (hawkBit successCondition)"},
    {.key = "success_action",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_rollout, success_action),
     .def = "next",
     .names = success_action_names,
     .doc = "after a successful wave: open the next one, or pause"},
    {.key = "error_threshold",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_rollout, error_threshold),
     .def = "100%",
     .min = "0%",
     .max = "100%",
     .doc = "errors / wave above this trip error_action; 100%: never (hawkBit errorCondition)"},
    {.key = "error_min_executed",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_rollout, error_min_executed),
     .def = "1",
     .doc = "devices of the wave that must have ended before errors are judged (AWS)"},
    {.key = "error_of_executed",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct scenario_rollout, error_of_executed),
     .def = "false",
     .doc = "divide errors by the wave's ended devices instead of its size"},
    {.key = "error_threshold_count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_rollout, error_threshold_count),
     .def = "0",
     .doc = "this many errors rollout-wide trip error_action alone (Azure); 0: off"},
    {.key = "error_failure_types",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct scenario_rollout, error_failure_types),
     .count_offset = offsetof(struct scenario_rollout, n_error_failure_types),
     .item = &failure_item,
     .flags = SCENARIO_F_UNIQUE,
     .def = "[failed, rejected, timed_out]",
     .min = "1",
     .max = "3",
     .doc = "final outcomes that count as errors (AWS failureType)"},
    {.key = "error_action",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_rollout, error_action),
     .def = "pause",
     .names = error_action_names,
     .doc = "what tripped errors do: pause, cancel the rollout, or roll back"},
    {.key = "rate_max_per_min",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_rollout, rate_max_per_min),
     .def = "0",
     .max = "100000", /* FLEET_ROLLOUT_MAX_RATE */
     .doc = "most device starts in any 60 s (AWS maximumPerMinute); 0: unlimited"},
    {.key = "rate_base_per_min",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_rollout, rate_base_per_min),
     .def = "0",
     .max = "100000",
     .doc = "exponential ramp: starting rate (AWS exponentialRate); 0: no ramp"},
    {.key = "rate_factor",
     .type = SCENARIO_T_NUMBER,
     SCENARIO_AT(struct scenario_rollout, rate_factor),
     .def = "2",
     .min = "1.1",
     .max = "5",
     .doc = "ramp: the rate is multiplied by this at each step (AWS incrementFactor)"},
    {.key = "rate_increase_after_notified",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_rollout, rate_increase_after_notified),
     .def = "0",
     .doc = "ramp: step after this many more first starts (AWS rateIncreaseCriteria)"},
    {.key = "rate_increase_after_succeeded",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_rollout, rate_increase_after_succeeded),
     .def = "0",
     .doc = "ramp: step after this many more successes"},
    {.key = "exec_timeout",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_rollout, exec_timeout),
     .def = "0s",
     .min = "0s",
     .doc = "a started device not done after this ends timed_out (AWS); 0s: none"},
    {.key = "retries",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_rollout, retries),
     .def = "0",
     .max = "10", /* FLEET_ROLLOUT_MAX_RETRIES, AWS numberOfRetries */
     .doc = "times a device is queued again after an outcome in retry_on"},
    {.key = "retry_on",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct scenario_rollout, retry_on),
     .count_offset = offsetof(struct scenario_rollout, n_retry_on),
     .item = &failure_item,
     .flags = SCENARIO_F_UNIQUE,
     .def = "[failed, timed_out]",
     .min = "1",
     .max = "3",
     .doc = "outcomes that are retried"},
    {.key = "window",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_rollout, window),
     .sub = &window_schema,
     .doc = "daily maintenance window: devices start only inside it"},
    {.key = "start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_rollout, start),
     .def = "0s",
     .min = "0s",
     .doc = "when the rollout starts"},
};

static const struct scenario_schema rollout_schema = {.noun = "rollout",
                                                      .size = sizeof(struct scenario_rollout),
                                                      .n_fields = sizeof(rollout_fields) /
                                                                  sizeof(rollout_fields[0]),
                                                      .fields = rollout_fields};

/* ---- gateways ------------------------------------------------------------------------- */

static const char *const gateway_kind_names[] = {"gateway", "phone", NULL};
/* Order matches enum scenario_availability. */
static const char *const availability_names[] = {"always", "sessions", NULL};
static const char *const assignment_names[] = {"round-robin", "block", "random", NULL};

static const struct scenario_field group_name_item = {
    .key = "group name", .type = SCENARIO_T_NAME, .size = sizeof(char *)};

static const struct scenario_field gateway_fields[] = {
    {.key = "name",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_gateway, name),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_UNIQUE,
     .doc = "name of the gateway kind, unique; --set addresses it as gateways.NAME.KEY"},
    {.key = "count",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_gateway, count),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .max = "10000000",
     .doc = "gateways (or phones) of this kind"},
    {.key = "kind",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_gateway, kind),
     .def = "gateway",
     .names = gateway_kind_names,
     .doc = "gateway or phone (informative)"},
    {.key = "links",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario_gateway, links),
     .def = "1",
     .min = "1",
     .max = "20",
     .doc = "most devices one gateway updates at a time (concurrent BLE links)"},
    {.key = "availability",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_gateway, availability),
     .def = "always",
     .names = availability_names,
     .doc = "always present, or in sessions (a phone that comes by)"},
    {.key = "arrival",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_gateway, arrival),
     .def = "1h",
     .min = "1ns",
     .when = {{"availability", SCENARIO_BIT(SCENARIO_AVAIL_SESSIONS)}},
     .doc = "sessions: mean gap between sessions (Poisson arrivals)"},
    {.key = "dwell",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_gateway, dwell),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct scenario_gateway, dwell_dist),
     .def = "10min",
     .min = "1ns",
     .when = {{"availability", SCENARIO_BIT(SCENARIO_AVAIL_SESSIONS)}},
     .doc = "sessions: how long a session lasts"},
    {.key = "serves",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct scenario_gateway, serves),
     .count_offset = offsetof(struct scenario_gateway, n_serves),
     .item = &group_name_item,
     .flags = SCENARIO_F_UNIQUE,
     .min = "1",
     .doc = "device groups this gateway kind serves; absent: every group"},
    {.key = "assignment",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_gateway, assignment),
     .def = "round-robin",
     .names = assignment_names,
     .doc = "how served devices are spread over the gateways of this kind"},
    {.key = "client",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario_gateway, client),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct scenario_gateway, client.at),
     .sub = &client_schema,
     .doc = "the gateway's DFU client; keys not given are the top-level client's"},
};

static const struct scenario_schema gateway_schema = {
    .noun = "gateway",
    .size = sizeof(struct scenario_gateway),
    .has_pos = true,
    .pos_offset = offsetof(struct scenario_gateway, pos),
    .n_fields = sizeof(gateway_fields) / sizeof(gateway_fields[0]),
    .fields = gateway_fields};

/* ---- faults ------------------------------------------------------------------------------ */

/* Order matches enum scenario_fault_kind, _during, _boot. */
static const char *const fault_kind_names[] = {"power-loss",   "bad-image",   "never-confirm",
                                               "link-degrade", "two-sources", NULL};
static const char *const during_names[] = {"upload", "swap", "random", NULL};
static const char *const fault_boot_names[] = {"crash", "invalid", NULL};

#define WHEN_KIND(k)                                                                               \
    {                                                                                              \
        "kind", SCENARIO_BIT(k)                                                                    \
    }

static const struct scenario_field fault_fields[] = {
    {.key = "kind",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_fault, kind),
     .flags = SCENARIO_F_REQUIRED,
     .names = fault_kind_names,
     .doc = "what goes wrong"},
    {.key = "groups",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct scenario_fault, groups),
     .count_offset = offsetof(struct scenario_fault, n_groups),
     .item = &group_name_item,
     .flags = SCENARIO_F_UNIQUE,
     .min = "1",
     .doc = "device groups it strikes; absent: every group"},
    {.key = "share",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_fault, share),
     .def = "100%",
     .min = "0%",
     .max = "100%",
     .doc = "share of those groups' devices it strikes (a keyed draw per device)"},
    {.key = "during",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_fault, during),
     .flags = SCENARIO_F_REQUIRED,
     .names = during_names,
     .when = {WHEN_KIND(SCENARIO_FAULT_POWER_LOSS)},
     .doc = "power-loss: during the upload, the swap, or at random times"},
    {.key = "at",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_fault, at),
     .def = "50%",
     .min = "0%",
     .max = "100%",
     .when = {WHEN_KIND(SCENARIO_FAULT_POWER_LOSS),
              {"during",
               SCENARIO_BIT(SCENARIO_DURING_UPLOAD) | SCENARIO_BIT(SCENARIO_DURING_SWAP)}},
     .doc = "power-loss upload/swap: share of the image written, or of the swap steps done"},
    {.key = "mean",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, mean),
     .def = "1h",
     .min = "1ns",
     .when = {WHEN_KIND(SCENARIO_FAULT_POWER_LOSS),
              {"during", SCENARIO_BIT(SCENARIO_DURING_RANDOM)}},
     .doc = "power-loss random: mean time between power losses (Poisson)"},
    {.key = "off",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, off),
     .def = "1s",
     .min = "0s",
     .when = {WHEN_KIND(SCENARIO_FAULT_POWER_LOSS)},
     .doc = "power-loss: how long power stays off"},
    {.key = "boot",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario_fault, boot),
     .def = "crash",
     .names = fault_boot_names,
     .when = {WHEN_KIND(SCENARIO_FAULT_BAD_IMAGE)},
     .doc = "bad-image: the application crashes, or the image does not validate"},
    {.key = "crash_after",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, crash_after),
     .def = "2s",
     .min = "0s",
     .when = {WHEN_KIND(SCENARIO_FAULT_BAD_IMAGE),
              {"boot", SCENARIO_BIT(SCENARIO_BAD_IMAGE_CRASH)}},
     .doc = "bad-image crash: from the application's start to its crash"},
    {.key = "reset_after",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, reset_after),
     .def = "1h",
     .min = "0s",
     .when = {WHEN_KIND(SCENARIO_FAULT_NEVER_CONFIRM)},
     .doc = "never-confirm: from the failed confirm to the reset"},
    {.key = "to",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_fault, to),
     .def = "30%",
     .min = "0%",
     .max = "100%",
     .when = {WHEN_KIND(SCENARIO_FAULT_LINK_DEGRADE)},
     .doc = "link-degrade: loss per PDU reached at the end"},
    {.key = "over",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, over),
     .def = "10min",
     .min = "0s",
     .when = {WHEN_KIND(SCENARIO_FAULT_LINK_DEGRADE)},
     .doc = "link-degrade: how long the linear rise takes"},
    {.key = "from",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, from),
     .def = "0s",
     .min = "0s",
     .when = {WHEN_KIND(SCENARIO_FAULT_LINK_DEGRADE)},
     .doc = "link-degrade: simulated time at which the rise starts"},
    {.key = "delay",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, delay),
     .def = "10s",
     .min = "0s",
     .when = {WHEN_KIND(SCENARIO_FAULT_TWO_SOURCES)},
     .doc = "two-sources: from the SMP upload's start to the config-channel DFU's"},
    {.key = "report",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario_fault, report),
     .def = "20ms",
     .min = "1us",
     .when = {WHEN_KIND(SCENARIO_FAULT_TWO_SOURCES)},
     .doc = "two-sources: the config-channel host's pace, one 24-byte report each"},
};

static const struct scenario_schema fault_schema = {
    .noun = "fault",
    .size = sizeof(struct scenario_fault),
    .has_pos = true,
    .pos_offset = offsetof(struct scenario_fault, pos),
    .n_fields = sizeof(fault_fields) / sizeof(fault_fields[0]),
    .fields = fault_fields};

static const char *const sweep_mode_names[] = {"grid", "list", NULL};

static const struct scenario_field sweep_value_item = {
    .key = "value", .type = SCENARIO_T_STRING, .size = sizeof(char *)};

static const struct scenario_field sweep_fields[] = {
    {.key = "key",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct scenario_sweep, key),
     .flags = SCENARIO_F_REQUIRED,
     .doc = "a key path as --set takes it (devices.mice.count, client.window)"},
    {.key = "values",
     .type = SCENARIO_T_VALUES,
     SCENARIO_AT(struct scenario_sweep, values),
     .count_offset = offsetof(struct scenario_sweep, n_values),
     .item = &sweep_value_item,
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .max = "10000", /* SCENARIO_SWEEP_MAX_POINTS */
     .doc = "the values it takes, each as --set would take it"},
};

static const struct scenario_schema sweep_schema = {
    .noun = "sweep parameter",
    .size = sizeof(struct scenario_sweep),
    .has_pos = true,
    .pos_offset = offsetof(struct scenario_sweep, pos),
    .n_fields = sizeof(sweep_fields) / sizeof(sweep_fields[0]),
    .fields = sweep_fields};

/* ---- check (sim/cli/check.c) ---------------------------------------------------------- */

static const struct scenario_field tolerance_fields[] = {
    {.key = "metric",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario_tolerance, metric),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_UNIQUE,
     .doc = "a baseline metric (goodput_kBps_mean, time_to_updated_s_mean, ...)"},
    {.key = "rel",
     .type = SCENARIO_T_PERCENT,
     SCENARIO_AT(struct scenario_tolerance, rel),
     .def = "0%",
     .min = "0%",
     .doc = "how much worse than the baseline, relative to it"},
    {.key = "abs",
     .type = SCENARIO_T_NUMBER,
     SCENARIO_AT(struct scenario_tolerance, abs),
     .def = "0",
     .min = "0",
     .doc = "how much worse than the baseline, in the metric's unit"},
};

static const struct scenario_schema tolerance_schema = {
    .noun = "tolerance",
    .size = sizeof(struct scenario_tolerance),
    .has_pos = true,
    .pos_offset = offsetof(struct scenario_tolerance, pos),
    .n_fields = sizeof(tolerance_fields) / sizeof(tolerance_fields[0]),
    .fields = tolerance_fields};

static const struct scenario_field check_fields[] = {
    {.key = "tolerances",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario_check, tolerances),
     .count_offset = offsetof(struct scenario_check, n_tolerances),
     .sub = &tolerance_schema,
     .doc = "per metric, how much worse than the baseline still passes"},
};

static const struct scenario_schema check_schema = {.noun = "check",
                                                    .size = sizeof(struct scenario_check),
                                                    .n_fields = sizeof(check_fields) /
                                                                sizeof(check_fields[0]),
                                                    .fields = check_fields};

static const struct scenario_field scenario_fields[] = {
    {.key = "name",
     .type = SCENARIO_T_NAME,
     SCENARIO_AT(struct scenario, name),
     .flags = SCENARIO_F_REQUIRED,
     .doc = "scenario name; results go to results/NAME.db"},
    {.key = "seed",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario, seed),
     .def = "1",
     .min = "0",
     .max = "18446744073709551615",
     .doc = "root of every random stream"},
    {.key = "until",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct scenario, until),
     .def = "24h",
     .min = "1ns",
     .doc = "simulated-time limit"},
    {.key = "record",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario, record),
     .def = "attempts",
     .names = record_names,
     .doc = "how much the recorder writes"},
    {.key = "image",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario, image),
     .flags = SCENARIO_F_REQUIRED | SCENARIO_F_POS,
     .pos_offset = offsetof(struct scenario, image.at),
     .sub = &image_schema,
     .doc = "the update image"},
    {.key = "client",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario, client),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct scenario, client.at),
     .sub = &client_schema,
     .doc = "the DFU client of every device's central; the default of every gateway's client"},
    {.key = "devices",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario, groups),
     .count_offset = offsetof(struct scenario, n_groups),
     .flags = SCENARIO_F_REQUIRED,
     .min = "1",
     .sub = &group_schema,
     .doc = "the device groups of the fleet"},
    {.key = "rollout",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario, rollout),
     .flags = SCENARIO_F_POS | SCENARIO_F_OPTIONAL,
     .pos_offset = offsetof(struct scenario, rollout.at),
     .present_offset = offsetof(struct scenario, rollout.present),
     .sub = &rollout_schema,
     .doc = "rollout controller: waves, thresholds, rates; absent: every device starts at "
            "client.start"},
    {.key = "gateways",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario, gateways),
     .count_offset = offsetof(struct scenario, n_gateways),
     .sub = &gateway_schema,
     .doc = "shared centrals; absent or empty: every device has its own, always present"},
    {.key = "faults",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario, faults),
     .count_offset = offsetof(struct scenario, n_faults),
     .sub = &fault_schema,
     .doc = "injected faults; absent or empty: none"},
    {.key = "replications",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct scenario, replications),
     .def = "1",
     .min = "1",
     .max = "1000",
     .doc = "runs per sweep point, each with its own seed"},
    {.key = "sweep_mode",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct scenario, sweep_mode),
     .def = "grid",
     .names = sweep_mode_names,
     .doc = "grid: every combination of the values; list: the i-th value of every parameter"},
    {.key = "sweep",
     .type = SCENARIO_T_LIST,
     SCENARIO_AT(struct scenario, sweep),
     .count_offset = offsetof(struct scenario, n_sweep),
     .sub = &sweep_schema,
     .doc = "swept parameters; absent or empty: one point"},
    {.key = "check",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct scenario, check),
     .flags = SCENARIO_F_POS | SCENARIO_F_OPTIONAL,
     .pos_offset = offsetof(struct scenario, check.at),
     .present_offset = offsetof(struct scenario, check.present),
     .sub = &check_schema,
     .doc = "dfusim check: tolerances against the baseline; absent: the defaults"},
};

static const struct scenario_schema root_schema = {.noun = "scenario",
                                                   .size = sizeof(struct scenario),
                                                   .n_fields = sizeof(scenario_fields) /
                                                               sizeof(scenario_fields[0]),
                                                   .fields = scenario_fields};

const struct scenario_schema *scenario_root_schema(void)
{
    return &root_schema;
}

/* ---- names ------------------------------------------------------------------------- */

const char *scenario_board_name(enum scenario_board b)
{
    return (unsigned)b < SCENARIO_BOARD_COUNT ? board_names[b] : "?";
}

const char *scenario_bootloader_name(enum scenario_bootloader b)
{
    return (unsigned)b < SCENARIO_BOOT_COUNT ? bootloader_names[b] : "?";
}

const char *scenario_client_kind_name(enum scenario_client_kind k)
{
    return (unsigned)k <= SCENARIO_CLIENT_SMPCLIENT ? client_names[k] : "?";
}

const char *scenario_transport_name(enum scenario_transport t)
{
    return (unsigned)t <= SCENARIO_TRANSPORT_UART ? transport_names[t] : "?";
}

const char *scenario_record_name(enum scenario_record r)
{
    return (unsigned)r <= SCENARIO_RECORD_CHUNKS ? record_names[r] : "?";
}

/* ---- loading ----------------------------------------------------------------------- */

/* An absent list of group names means every group: fill them in, so that the struct and
 * what scenario_visit records say so. */
static int fill_all_groups(const struct scenario *s, char ***names, size_t *n)
{
    if (*n > 0)
        return 0;
    *names = calloc(s->n_groups, sizeof(**names));
    if (*names == NULL)
        return SIM_ENOMEM;
    *n = s->n_groups;
    for (size_t i = 0; i < s->n_groups; i++) {
        (*names)[i] = strdup(s->groups[i].name);
        if ((*names)[i] == NULL)
            return SIM_ENOMEM;
    }
    return 0;
}

/* What the tables cannot say, done on a bound scenario: a gateway's client takes every key
 * it leaves out from the top-level client (after --set, so client.window=4 reaches it),
 * and absent serves/groups lists become every group. */
static int complete(struct scenario *s, const struct scenario_node *root)
{
    long k = scenario_tree_find(root, "gateways");
    for (size_t i = 0; i < s->n_gateways; i++) {
        struct scenario_gateway *g = &s->gateways[i];
        const struct scenario_node *item = root->items[k]->items[i];
        long c = scenario_tree_find(item, "client");
        int rc = scenario_schema_inherit(&client_schema, c >= 0 ? item->items[c] : NULL, &g->client,
                                         &s->client);
        if (rc == 0)
            rc = fill_all_groups(s, &g->serves, &g->n_serves);
        if (rc != 0)
            return rc;
    }
    for (size_t i = 0; i < s->n_faults; i++) {
        int rc = fill_all_groups(s, &s->faults[i].groups, &s->faults[i].n_groups);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* Parse and apply the --set overrides: *root is the tree (NULL on failure). Returns 0,
 * SIM_EINVAL after reporting (the tree is still returned when only an override was bad,
 * so that binding reports the file's own problems too) or SIM_ENOMEM. */
static int parse_root(const char *text, size_t len, const char *name, const char *const *overrides,
                      size_t n_overrides, struct scenario_node **root, struct scenario_report *rep)
{
    struct scenario_src src = {.name = name};
    char want[256];
    int bad = 0;

    *root = NULL;
    int rc = scenario_tree_parse(text, len, &src, root, rep);
    if (rc != 0)
        return rc;
    snprintf(want, sizeof(want), "a map with keys: ");
    for (size_t i = 0; i < root_schema.n_fields; i++)
        snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s", i ? ", " : "",
                 root_schema.fields[i].key);
    if (*root == NULL) {
        scenario_report_error(rep, src.name, 1, 1, NULL, "the scenario is empty (expected %s)",
                              want);
        return SIM_EINVAL;
    }
    if ((*root)->kind != SCENARIO_NODE_MAP) {
        scenario_report_error(rep, src.name, (*root)->line, (*root)->col, NULL,
                              "the scenario must be a map (%s), not %s", want,
                              (*root)->kind == SCENARIO_NODE_SEQ ? "a list" : "a single value");
        scenario_tree_free(*root);
        *root = NULL;
        return SIM_EINVAL;
    }
    for (size_t i = 0; i < n_overrides; i++) {
        rc = scenario_override_apply(*root, &root_schema, overrides[i], (unsigned)i + 1, rep);
        if (rc == SIM_ENOMEM) {
            scenario_tree_free(*root);
            *root = NULL;
            return rc;
        }
        if (rc != 0)
            bad = rc;
    }
    return bad;
}

/* The value node of key `key` in map m, or NULL. */
static const struct scenario_node *map_get(const struct scenario_node *m, const char *key)
{
    long k = m != NULL && m->kind == SCENARIO_NODE_MAP ? scenario_tree_find(m, key) : -1;
    return k >= 0 ? m->items[k] : NULL;
}

/* What the schema cannot check about a bound sweep: keys that cannot be swept or are
 * swept twice, list lengths in list mode, the number of points. Sets s->n_points. */
static int check_sweep(struct scenario *s, const struct scenario_node *root,
                       struct scenario_report *rep)
{
    static const char *const fixed[] = {"sweep", "sweep_mode", "replications"};
    const struct scenario_node *seq = map_get(root, "sweep");
    int rc = 0;
    uint64_t points = 1;
    for (size_t i = 0; i < s->n_sweep; i++) {
        const struct scenario_sweep *w = &s->sweep[i];
        const struct scenario_node *item = seq->items[i];
        const struct scenario_node *key = map_get(item, "key");
        const struct scenario_node *values = map_get(item, "values");
        char path[64];
        snprintf(path, sizeof(path), "sweep[%zu].key", i);
        size_t seg = strcspn(w->key, ".[");
        for (size_t f = 0; f < sizeof(fixed) / sizeof(fixed[0]); f++) {
            if (strlen(fixed[f]) == seg && strncmp(w->key, fixed[f], seg) == 0) {
                scenario_report_error(rep, key->src, key->line, key->col, path,
                                      "%s cannot be swept (it says how the runs are made)",
                                      fixed[f]);
                rc = SIM_EINVAL;
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(s->sweep[j].key, w->key) != 0)
                continue;
            const struct scenario_node *first = map_get(seq->items[j], "key");
            scenario_report_error(rep, key->src, key->line, key->col, path,
                                  "%s is swept twice (first at %u:%u; give all its values in "
                                  "one entry)",
                                  w->key, first->line, first->col);
            rc = SIM_EINVAL;
        }
        snprintf(path, sizeof(path), "sweep[%zu].values", i);
        if (s->sweep_mode == SCENARIO_SWEEP_LIST && w->n_values != s->sweep[0].n_values) {
            scenario_report_error(rep, values->src, values->line, values->col, path,
                                  "%zu values, but sweep[0] has %zu (sweep_mode list takes the "
                                  "i-th value of every parameter: give every list the same "
                                  "length, or use sweep_mode grid)",
                                  w->n_values, s->sweep[0].n_values);
            rc = SIM_EINVAL;
        }
        if (s->sweep_mode == SCENARIO_SWEEP_GRID)
            points = points * w->n_values > SCENARIO_SWEEP_MAX_POINTS + 1ull
                         ? SCENARIO_SWEEP_MAX_POINTS + 1ull
                         : points * w->n_values;
        else
            points = w->n_values;
    }
    if (points > SCENARIO_SWEEP_MAX_POINTS) {
        scenario_report_error(rep, seq->src, seq->line, seq->col, "sweep",
                              "more than %u sweep points (split the sweep into several files)",
                              SCENARIO_SWEEP_MAX_POINTS);
        rc = SIM_EINVAL;
    }
    s->n_points = (size_t)points;
    return rc;
}

size_t scenario_sweep_index(const struct scenario *s, size_t point, size_t param)
{
    if (s->sweep_mode == SCENARIO_SWEEP_LIST)
        return point;
    size_t stride = 1;
    for (size_t i = param + 1; i < s->n_sweep; i++)
        stride *= s->sweep[i].n_values;
    return point / stride % s->sweep[param].n_values;
}

uint64_t scenario_replication_seed(uint64_t seed, uint32_t r)
{
    if (r == 0)
        return seed;
    struct sim_rng g;
    sim_rng_init(&g, seed, r, SIM_RNG_REPLICATION);
    return sim_rng_u64(&g);
}

/* Bind point p of base's sweep into *out (zeroed, path and text set): the tree again, the
 * --set overrides, then each parameter's value placed as an override located at the
 * value in the sweep entry (base_root holds the positions). */
static int load_point(const char *text, size_t len, const char *const *overrides,
                      size_t n_overrides, const struct scenario *base,
                      const struct scenario_node *base_root, size_t p, struct scenario *out,
                      struct scenario_report *rep)
{
    struct scenario_node *root = NULL;
    int rc = parse_root(text, len, out->path, overrides, n_overrides, &root, rep);
    const struct scenario_node *seq = map_get(base_root, "sweep");
    for (size_t i = 0; rc == 0 && i < base->n_sweep; i++) {
        const struct scenario_node *key = map_get(seq->items[i], "key");
        size_t j = scenario_sweep_index(base, p, i);
        const struct scenario_node *value = map_get(seq->items[i], "values")->items[j];
        const struct scenario_override_at at = {value->src, value->line, key->col, value->col};
        /* a key's problem is reported at the key: line and columns of the key node */
        const struct scenario_override_at key_at = {key->src, key->line, key->col, value->col};
        rc = scenario_override_place(root, &root_schema, base->sweep[i].key, value->text,
                                     key->line == value->line ? &at : &key_at, rep);
    }
    if (rc == 0)
        rc = scenario_schema_bind(&root_schema, root, root, out, rep);
    if (rc == 0)
        rc = complete(out, root);
    scenario_tree_free(root);
    return rc;
}

#define LOAD_EVERY_POINT SIZE_MAX

/* Parse, override and bind into *out (zeroed but for path and text). Without a sweep, that
 * is all; with one, checks every point (point LOAD_EVERY_POINT; *out is then point 0) or
 * only `point`, and leaves that point in *out. Reports into rep. */
static int load(const char *text, size_t len, const char *const *overrides, size_t n_overrides,
                size_t point, struct scenario *out, struct scenario_report *rep)
{
    struct scenario_node *root = NULL;
    int bad = parse_root(text, len, out->path, overrides, n_overrides, &root, rep);
    if (root == NULL)
        return bad;
    int rc = scenario_schema_bind(&root_schema, root, root, out, rep);
    if (rc == 0)
        rc = bad;
    if (rc == 0)
        rc = check_sweep(out, root, rep);
    if (rc == 0 && out->n_sweep == 0 && point != LOAD_EVERY_POINT && point > 0) {
        scenario_report_error(rep, out->path, 1, 1, "sweep", "no sweep point %zu (the file has 1)",
                              point);
        rc = SIM_EINVAL;
    }
    if (rc != 0 || out->n_sweep == 0) {
        if (rc == 0)
            rc = complete(out, root);
        scenario_tree_free(root);
        return rc;
    }
    if (point != LOAD_EVERY_POINT && point >= out->n_points) {
        scenario_report_error(rep, out->path, 1, 1, "sweep",
                              "no sweep point %zu (the file has %zu)", point, out->n_points);
        scenario_tree_free(root);
        return SIM_EINVAL;
    }
    size_t first = point == LOAD_EVERY_POINT ? 0 : point;
    size_t last = point == LOAD_EVERY_POINT ? out->n_points - 1 : point;
    struct scenario keep = {0};
    for (size_t p = first; p <= last; p++) {
        struct scenario tmp = {.path = out->path, .text = out->text, .text_len = out->text_len};
        int prc = load_point(text, len, overrides, n_overrides, out, root, p, &tmp, rep);
        if (prc == 0 && p == first)
            keep = tmp; /* the point returned */
        else
            scenario_schema_free(&root_schema, &tmp);
        if (prc != 0)
            rc = prc;
        if (prc == SIM_ENOMEM)
            break;
    }
    scenario_tree_free(root);
    size_t n_points = out->n_points;
    scenario_schema_free(&root_schema, out);
    if (keep.path == NULL)
        return rc;
    keep.n_points = n_points;
    keep.point = first;
    *out = keep;
    return rc;
}

static int copy_overrides(struct scenario *s, const char *const *overrides, size_t n)
{
    if (n == 0)
        return 0;
    s->overrides = calloc(n, sizeof(*s->overrides));
    if (s->overrides == NULL)
        return SIM_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        s->overrides[i] = strdup(overrides[i]);
        if (s->overrides[i] == NULL)
            return SIM_ENOMEM;
        s->n_overrides = i + 1;
    }
    return 0;
}

int scenario_load_point(const char *path, const char *text, size_t len,
                        const char *const *overrides, size_t n_overrides, size_t point,
                        struct scenario *out, struct sim_diag *diag)
{
    struct scenario_report rep;
    int rc = SIM_ENOMEM;

    memset(out, 0, sizeof(*out));
    scenario_report_init(&rep, path ? path : "-");
    out->path = strdup(path ? path : "-");
    out->text = malloc(len + 1);
    if (out->path == NULL || out->text == NULL)
        goto fail;
    if (len > 0)
        memcpy(out->text, text, len);
    out->text[len] = '\0';
    out->text_len = len;
    rc = load(text, len, overrides, n_overrides, point, out, &rep);
    if (rc != 0)
        goto fail;
    rc = copy_overrides(out, overrides, n_overrides);
    if (rc != 0)
        goto fail;
    return 0;
fail:
    scenario_report_flush(&rep, diag);
    if (rc == SIM_ENOMEM)
        sim_diag_add(diag, "%s: out of memory while loading the scenario", path ? path : "-");
    scenario_fini(out);
    return rc;
}

int scenario_load_text(const char *path, const char *text, size_t len, const char *const *overrides,
                       size_t n_overrides, struct scenario *out, struct sim_diag *diag)
{
    return scenario_load_point(path, text, len, overrides, n_overrides, LOAD_EVERY_POINT, out,
                               diag);
}

int scenario_load(const char *path, const char *const *overrides, size_t n_overrides,
                  struct scenario *out, struct sim_diag *diag)
{
    char *text = NULL;
    size_t len = 0, cap = 0;
    int rc;

    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        sim_diag_add(diag, "%s: cannot open the scenario: %s", path, strerror(e));
        return e == ENOENT ? SIM_ENOENT : SIM_EIO;
    }
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            char *t = realloc(text, cap);
            if (t == NULL) {
                sim_diag_add(diag, "%s: out of memory reading the scenario", path);
                rc = SIM_ENOMEM;
                goto fail;
            }
            text = t;
        }
        size_t n = fread(text + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        sim_diag_add(diag, "%s: cannot read the scenario", path);
        rc = SIM_EIO;
        goto fail;
    }
    rc = scenario_load_text(path, text ? text : "", len, overrides, n_overrides, out, diag);
fail:
    fclose(f);
    free(text);
    return rc;
}

void scenario_fini(struct scenario *s)
{
    if (s == NULL)
        return;
    scenario_schema_free(&root_schema, s);
    for (size_t i = 0; i < s->n_overrides; i++)
        free(s->overrides[i]);
    free(s->overrides);
    free(s->path);
    free(s->text);
    memset(s, 0, sizeof(*s));
}

void scenario_visit(const struct scenario *s, scenario_visit_fn fn, void *ctx)
{
    scenario_schema_visit(&root_schema, s, fn, ctx);
}
