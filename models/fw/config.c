/* models/fw/config.c - build-time constraints of the nRF Desktop / CAF DFU modules. */
#include "models/fw/config.h"

struct fw_config fw_config_default(void)
{
    return (struct fw_config){
        .dfu_mcumgr = true,
        .ble_smp = false,
        .config_channel_dfu = true,
        .dfu_lock = true,
        .ble_latency = true,
        .transport_bt = true,
    };
}

int fw_config_check(const struct fw_config *c, const char *where, struct sim_diag *diag)
{
    const char *w = where ? where : "firmware";
    int rc = 0;
    /* nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c
     * BUILD_ASSERT(!IS_ENABLED(CONFIG_CAF_BLE_SMP)). */
    if (c->dfu_mcumgr && c->ble_smp) {
        sim_diag_add(diag,
                     "%s: dfu_mcumgr and CAF ble_smp cannot be enabled together (nRF Desktop "
                     "dfu_mcumgr.c refuses to build with CONFIG_CAF_BLE_SMP); disable one of them",
                     w);
        rc = SIM_EINVAL;
    }
    /* nrfconnect/sdk-nrf: subsys/caf/modules/Kconfig.ble_smp: depends on
     * MCUMGR_TRANSPORT_BT. */
    if (c->ble_smp && !c->transport_bt) {
        sim_diag_add(diag,
                     "%s: CAF ble_smp needs the MCUmgr Bluetooth transport (Kconfig.ble_smp "
                     "depends on MCUMGR_TRANSPORT_BT); enable it or disable ble_smp",
                     w);
        rc = SIM_EINVAL;
    }
    return rc;
}
