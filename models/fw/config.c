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

/* ---- settings ------------------------------------------------------------------------- */

/* Order matches enum smp_img_mgmt_erase. */
static const char *const erase_names[] = {"as-needed", "whole-slot-at-start", NULL};

/* Order matches enum fw_smp. */
static const char *const smp_names[] = {"dfu-mcumgr", "ble-smp", "dfu-mcumgr+ble-smp", "none",
                                        NULL};

static const struct scenario_field firmware_fields[] = {
    {.key = "smp",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fw_settings, smp),
     .def = "dfu-mcumgr",
     .names = smp_names,
     .doc = "SMP DFU module: nRF Desktop dfu_mcumgr or CAF ble_smp (both: refused, as the SDK "
            "build is); none: Zephyr's MCUmgr alone, as the smp_svr sample (no DFU lock, the "
            "client confirms)"},
    {.key = "dfu_lock",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, dfu_lock),
     .def = "true",
     .doc = "nRF Desktop DFU lock between config-channel DFU and MCUmgr (CONFIG_DESKTOP_DFU_LOCK)"},
    {.key = "config_channel_dfu",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, config_channel_dfu),
     .def = "false",
     .doc = "nRF Desktop config-channel DFU: background erase of a used secondary slot"},
    {.key = "ble_latency",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, ble_latency),
     .def = "true",
     .doc = "nRF Desktop ble_latency: latency 0 during DFU, back to 99 5-10 s after"},
    {.key = "reassembly",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, reassembly),
     .def = "true",
     .doc = "SMP BT reassembly of packets larger than the MTU "
            "(CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY)"},
    {.key = "mcumgr_params",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, mcumgr_params),
     .def = "true",
     .doc = "os_mgmt answers MCUmgr parameters (buf_size, buf_count; "
            "CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS): clients then send packets of buf_size"},
    {.key = "erase_progressively",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, erase_progressively),
     .def = "false",
     .doc = "erase the slot sector by sector while writing (CONFIG_IMG_ERASE_PROGRESSIVELY)"},
    {.key = "reject_xip_mismatched_slot",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, reject_xip_mismatched_slot),
     .def = "false",
     .doc = "direct-xip: img_mgmt refuses a first chunk whose ROM_FIXED image was built for "
            "another slot (CONFIG_MCUMGR_GRP_IMG_REJECT_DIRECT_XIP_MISMATCHED_SLOT; nRF Desktop's "
            "documentation recommends it)",
     .source = "zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/Kconfig (default n)"},
    {.key = "image_check",
     .type = SCENARIO_T_BOOL,
     SCENARIO_AT(struct fw_settings, image_check),
     .def = "true",
     .doc =
         "img_mgmt hashes what it wrote when the upload ends and answers \"match\", and skips an "
         "upload whose image the slot already holds (CONFIG_IMG_ENABLE_IMAGE_CHECK; Zephyr "
         "declares it off by default in subsys/dfu/Kconfig; on here as the model always had it)",
     .unverified = true},
    {.key = "erase",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct fw_settings, erase),
     .def = "as-needed",
     .names = erase_names,
     .doc = "first-chunk erase of a used slot: as-needed (Zephyr today: the image's pages and "
            "the trailer, or page by page with erase_progressively) or whole-slot-at-start "
            "(mcumgr before 2020: every page of the slot before the first response)",
     .source = "zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c "
               "(img_mgmt_erase_image_data); zephyrproject-rtos/mcumgr c27cf45: "
               "cmd/img_mgmt/src/img_mgmt.c (img_mgmt_impl_erase_slot at offset 0)"},
    {.key = "app_start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct fw_settings, app_start),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct fw_settings, app_start_dist),
     .def = "0s",
     .min = "0s",
     .max = "1min",
     .doc = "from MCUboot's end to the application advertising",
     .unverified = true},
    {.key = "kconfig",
     .type = SCENARIO_T_STRING,
     SCENARIO_AT(struct fw_settings, kconfig),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct fw_settings, kconfig_at),
     .doc = "the application's Zephyr/NCS .config (or a prj.conf fragment): sets the "
            "firmware keys it fixes (docs/model.md \"Kconfig input\"); keys given here win; "
            "a path relative to the scenario's folder"},
    {.key = "netbuf",
     .type = SCENARIO_T_MAP,
     SCENARIO_AT(struct fw_settings, netbuf),
     .sub = &smp_netbuf_settings_schema,
     .doc = "MCUmgr net_buf pool"},
};

const struct scenario_schema fw_settings_schema =
    SCENARIO_SCHEMA_GIVEN("firmware", struct fw_settings, firmware_fields, given);

struct fw_config fw_config_from_settings(const struct fw_settings *s, bool uart)
{
    return (struct fw_config){
        .dfu_mcumgr = s->smp == FW_SMP_DFU_MCUMGR || s->smp == FW_SMP_BOTH,
        .ble_smp = s->smp == FW_SMP_BLE_SMP || s->smp == FW_SMP_BOTH,
        .config_channel_dfu = s->config_channel_dfu,
        .dfu_lock = s->dfu_lock,
        .ble_latency = s->ble_latency && !uart,
        .transport_bt = !uart,
    };
}
