/* models/fleet/settings.h - what a scenario says about the fleet: the models' root table.
 *
 * The top-level keys image, client, devices, rollout, gateways and faults, bound by the
 * scenario loader (sim/scenario.h) into a struct fleet_settings that
 * fleet_world_from_scenario (setup.c) builds the world from. Each model declares its own
 * part beside its configuration struct (image: models/mcuboot/image.h, client:
 * models/client/dfu.h, a group's mcuboot, flash, firmware and BLE link keys:
 * models/mcuboot/slots.h, models/flash/chip.h, models/fw/config.h, models/ble/link.h,
 * rollout: models/fleet/rollout.h, gateways: models/fleet/gateway.h); this file declares
 * what belongs to the fleet itself: device groups, their link's transport, and faults.
 * The tables are in setup.c, beside their use.
 */
#ifndef MODELS_FLEET_SETTINGS_H
#define MODELS_FLEET_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "models/ble/link.h"
#include "models/client/dfu.h"
#include "models/flash/chip.h"
#include "models/fleet/device.h"
#include "models/fleet/gateway.h"
#include "models/fleet/rollout.h"
#include "models/fw/config.h"
#include "models/mcuboot/image.h"
#include "models/mcuboot/slots.h"
#include "sim/scenario.h"

/* How a group's devices are reached: AUTO is resolved when the world is built (setup.c):
 * BLE on boards with a BLE radio, UART on the RAK3172 (STM32WLE5, no radio). */
enum fleet_link_transport { FLEET_LINK_AUTO, FLEET_LINK_BLE, FLEET_LINK_UART };

/* The link of a device group: the BLE link as negotiated, or a UART (transport, baud; the
 * BLE keys are then ignored). One YAML map: the BLE keys are models/ble's. */
struct fleet_link_settings {
    int transport; /* enum fleet_link_transport */
    uint32_t baud; /* UART bits per second */
    struct ble_link_settings ble;
    struct scenario_pos at; /* the link map (or its group when absent) */
    struct scenario_pos transport_at;
};

struct fleet_group_settings {
    char *name;     /* unique among groups */
    uint32_t count; /* devices in the group */
    int board;      /* enum flash_map_board */
    int bootloader; /* enum mcuboot_slots_mode */
    struct scenario_pos bootloader_at;
    struct mcuboot_timing_settings mcuboot;
    struct flash_chip_settings flash;
    struct fw_settings firmware;
    struct fleet_link_settings link;
    uint64_t given; /* which keys the scenario gave (scenario_given) */
};

/* ---- faults (docs/model.md "Faults"). Keys that do not apply to the kind (or to
 * `during`, `boot`) are refused at load and stay 0 here. */

enum fleet_fault_kind {
    FLEET_FAULT_POWER_LOSS,
    FLEET_FAULT_BAD_IMAGE,
    FLEET_FAULT_NEVER_CONFIRM,
    FLEET_FAULT_LINK_DEGRADE,
    FLEET_FAULT_TWO_SOURCES
};
enum fleet_fault_during { FLEET_DURING_UPLOAD, FLEET_DURING_SWAP, FLEET_DURING_RANDOM };
/* bad-image's boot: enum fleet_bad_image (models/fleet/device.h). */

struct fleet_fault_settings {
    int kind; /* enum fleet_fault_kind */
    size_t n_groups;
    char **groups; /* as fleet_gateway_settings.serves: absent = every group */
    double share;  /* fraction of those groups' devices (a keyed draw per device) */
    /* power-loss */
    int during;   /* enum fleet_fault_during */
    double at;    /* upload, swap: fraction of the image written / of the swap steps done */
    int64_t mean; /* random: mean time between power losses, ns */
    int64_t off;  /* how long power stays off, ns */
    /* bad-image */
    int boot;            /* enum fleet_bad_image */
    int64_t crash_after; /* crash: application start -> crash, ns */
    /* never-confirm */
    int64_t reset_after; /* failed confirm -> reset, ns */
    /* link-degrade: loss per PDU rises linearly from the group's value to `to` over
     * `over`, starting at simulated time `from` */
    double to;
    int64_t over, from;
    /* two-sources: SMP upload start -> config-channel DFU starts writing, ns; the host's
     * time per 24-byte report, ns */
    int64_t delay, report;
    struct scenario_pos pos; /* the list element */
};

struct fleet_settings {
    struct mcuboot_image_settings image;
    struct client_dfu_settings client;
    size_t n_groups;
    struct fleet_group_settings *groups;
    struct fleet_rollout_settings rollout;
    size_t n_gateways; /* 0: every device has its own always-present central */
    struct fleet_gateway_settings *gateways;
    size_t n_faults;
    struct fleet_fault_settings *faults;
};

/* Whether group g's devices are reached over BLE (link.transport, auto resolved by board). */
bool fleet_group_uses_ble(const struct fleet_group_settings *g);

/* ---- Kconfig input (models/fleet/kconfig.c, docs/model.md "Kconfig input") ---- */

/* Apply each group's firmware.kconfig and mcuboot.kconfig (paths relative to the folder of
 * scenario_path) to the settings the scenario did not give. Unreadable files, malformed
 * lines and contradictions go to d, located in the files (or at the key for a file that
 * cannot be read). Returns 0, SIM_EINVAL or SIM_ENOMEM. Run by the loader (the root
 * table's finish hook); applying twice changes nothing. */
int fleet_kconfig_apply(struct fleet_settings *fs, const char *scenario_path, struct sim_diag *d);

/* What fleet_kconfig_apply did to s, for people: per file a summary line (options applied,
 * overridden by the scenario, not modelled), then one line per applied or overridden
 * setting, and with verbose one per symbol the simulator does not model. Nothing when no
 * group names a Kconfig file. Returns 0 or a negative code (a file changed since loading). */
int fleet_kconfig_describe(const struct fleet_settings *fs, const char *scenario_path, bool verbose,
                           struct sim_diag *notes);

/* The models' root table: pass it to scenario_load. */
extern const struct scenario_schema fleet_settings_schema;

/* What a scenario loaded with fleet_settings_schema says about the fleet. */
static inline const struct fleet_settings *fleet_settings_of(const struct scenario *s)
{
    return (const struct fleet_settings *)s->model;
}

#endif /* MODELS_FLEET_SETTINGS_H */
