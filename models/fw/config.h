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

#endif /* MODELS_FW_CONFIG_H */
