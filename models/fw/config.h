/* models/fw/config.h - which firmware modules a device runs, and the combinations the
 * real build refuses.
 *
 * nRF Connect SDK decides these at build time (Kconfig, BUILD_ASSERT); we sweep them at
 * run time, so the scenario loader calls fw_config_check() and reports what the build
 * would have refused. Sources per rule are in config.c.
 */
#ifndef MODELS_FW_CONFIG_H
#define MODELS_FW_CONFIG_H

#include <stdbool.h>

#include "sim/error.h"
#include "models/smp/netbuf.h"
#include "sim/scenario/settings.h"

struct fw_config {
    bool dfu_mcumgr;         /* nRF Desktop dfu_mcumgr (CONFIG_DESKTOP_DFU_MCUMGR_ENABLE) */
    bool ble_smp;            /* CAF ble_smp (CONFIG_CAF_BLE_SMP) */
    bool config_channel_dfu; /* nRF Desktop dfu.c (CONFIG_DESKTOP_CONFIG_CHANNEL_DFU_ENABLE) */
    bool dfu_lock;           /* CONFIG_DESKTOP_DFU_LOCK */
    bool ble_latency;        /* nRF Desktop ble_latency */
    bool transport_bt;       /* CONFIG_MCUMGR_TRANSPORT_BT */
};

/* nRF Desktop with SMP DFU over BLE: dfu_mcumgr, config-channel DFU, the lock (default
 * y exactly when both DFU transports are on, util/Kconfig.dfu_lock), ble_latency. */
struct fw_config fw_config_default(void);

/* Check a combination. Returns 0, or SIM_EINVAL with one message per problem added to
 * diag (may be NULL), each starting with where (e.g. "s.yaml:12:5: devices[0].firmware",
 * may be NULL) and saying what is wrong and what to do. Never prints. */
int fw_config_check(const struct fw_config *c, const char *where, struct sim_diag *diag);

/* ---- settings: devices[].firmware (table in config.c) ---- */

/* The SMP DFU module: nRF Desktop dfu_mcumgr, CAF ble_smp, both (a build the SDK refuses;
 * kept so that fw_config_check can say so), or none: Zephyr's MCUmgr alone, as the smp_svr
 * sample builds it (no DFU lock, nothing confirms at boot: the client confirms). Same order
 * as enum fleet_device_smp. */
enum fw_smp { FW_SMP_DFU_MCUMGR, FW_SMP_BLE_SMP, FW_SMP_BOTH, FW_SMP_NONE };

/* Firmware modules and MCUmgr options of a device group. */
struct fw_settings {
    int smp; /* enum fw_smp */
    bool dfu_lock, config_channel_dfu, ble_latency, reassembly, mcumgr_params, erase_progressively;
    bool reject_xip_mismatched_slot;
    bool image_check; /* CONFIG_IMG_ENABLE_IMAGE_CHECK: img_mgmt hashes the upload ("match") */
    int erase;        /* enum smp_img_mgmt_erase: when the first chunk erases the slot */
    struct smp_netbuf_settings netbuf;
    int64_t app_start; /* MCUboot done -> application advertising, ns */
    struct scenario_dist app_start_dist;
    struct scenario_pos at; /* the firmware map (or its group when absent) */
    char *kconfig;          /* the application's .config or prj.conf; NULL: none */
    struct scenario_pos kconfig_at;
    uint64_t given; /* which keys the scenario gave (scenario_given) */
};
extern const struct scenario_schema fw_settings_schema;

/* The modules s enables; over a UART the firmware has no MCUmgr Bluetooth transport and
 * no ble_latency (the key is ignored). */
struct fw_config fw_config_from_settings(const struct fw_settings *s, bool uart);

#endif /* MODELS_FW_CONFIG_H */
