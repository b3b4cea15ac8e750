/* models/smp/os_mgmt.h - MCUmgr OS group (0): echo, reset, MCUmgr parameters, info,
 * bootloader info.
 *
 * Mirrors zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/os_mgmt/src/os_mgmt.c; the
 * Kconfig options that shape it are runtime fields of struct smp_os_mgmt_cfg. The reset
 * reboots through a timer and a reboot function in struct smp_os_mgmt_ctx.
 *
 * Reset, as a two-state machine (pending_reset_at):
 *
 *   IDLE --reset request accepted / timer_arm(now + reset_delay)--> PENDING
 *   PENDING --reset request accepted / timer_arm again (k_timer_start restarts)--> PENDING
 *   PENDING --smp_os_mgmt_timer(at the armed time) / reboot()--> IDLE
 *   IDLE --smp_os_mgmt_timer (stale)--> IDLE, nothing happens
 *
 *   IDLE:    pending_reset_at == -1
 *   PENDING: pending_reset_at is the time the timer was armed for (ns)
 */
#ifndef MODELS_SMP_OS_MGMT_H
#define MODELS_SMP_OS_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/smp/callbacks.h"
#include "models/smp/server.h"

/* Command ids (zephyrproject-rtos/zephyr: include/zephyr/mgmt/mcumgr/grp/os_mgmt/os_mgmt.h). */
enum smp_os_mgmt_id {
    SMP_OS_MGMT_ID_ECHO = 0,
    SMP_OS_MGMT_ID_CONS_ECHO_CTRL = 1,
    SMP_OS_MGMT_ID_TASKSTAT = 2,
    SMP_OS_MGMT_ID_MPSTAT = 3,
    SMP_OS_MGMT_ID_DATETIME_STR = 4,
    SMP_OS_MGMT_ID_RESET = 5,
    SMP_OS_MGMT_ID_MCUMGR_PARAMS = 6,
    SMP_OS_MGMT_ID_INFO = 7,
    SMP_OS_MGMT_ID_BOOTLOADER_INFO = 8,
    SMP_OS_MGMT_ID_COUNT
};

/* Group errors (enum os_mgmt_err_code_t, same header). */
enum smp_os_mgmt_err {
    SMP_OS_MGMT_ERR_OK = 0,
    SMP_OS_MGMT_ERR_UNKNOWN = 1,
    SMP_OS_MGMT_ERR_INVALID_FORMAT = 2,
    SMP_OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER = 3,
    SMP_OS_MGMT_ERR_RTC_NOT_SET = 4,
    SMP_OS_MGMT_ERR_RTC_COMMAND_FAILED = 5,
    SMP_OS_MGMT_ERR_QUERY_RESPONSE_VALUE_NOT_VALID = 6,
    SMP_OS_MGMT_ERR_HEAP_STATS_FETCH_FAILED = 7
};

/* Bootloader mode numbers: MCUboot's enum mcuboot_mode
 * (mcu-tools/mcuboot: boot/bootutil/include/bootutil/boot_status.h). The Zephyr revision
 * we follow maps only 0..5 from its Kconfig and reports -1 for every other build
 * (RAM load, firmware loader, swap-offset, ...): the firmware config decides which
 * number a simulated device reports. */
enum smp_os_mgmt_boot_mode {
    SMP_OS_MGMT_BOOT_MODE_UNKNOWN = -1,
    SMP_OS_MGMT_BOOT_MODE_SINGLE_SLOT = 0,
    SMP_OS_MGMT_BOOT_MODE_SWAP_USING_SCRATCH = 1,
    SMP_OS_MGMT_BOOT_MODE_UPGRADE_ONLY = 2,
    SMP_OS_MGMT_BOOT_MODE_SWAP_USING_MOVE = 3,
    SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP = 4,
    SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP_WITH_REVERT = 5,
    SMP_OS_MGMT_BOOT_MODE_RAM_LOAD = 6,
    SMP_OS_MGMT_BOOT_MODE_FIRMWARE_LOADER = 7,
    SMP_OS_MGMT_BOOT_MODE_SINGLE_SLOT_RAM_LOAD = 8,
    SMP_OS_MGMT_BOOT_MODE_SWAP_USING_OFFSET = 9
};

/* Strings the info command (7) reports, one per format letter. Not owned. */
struct smp_os_mgmt_info_strings {
    const char *node_name;      /* 'n': Bluetooth device name, or "unknown" */
    const char *kernel_release; /* 'r': BUILD_VERSION (git describe), or "unknown" */
    const char *kernel_version; /* 'v': KERNEL_VERSION_STRING, e.g. "3.7.0" */
    const char *build_date;     /* 'b': NULL = CONFIG_MCUMGR_GRP_OS_INFO_BUILD_DATE_TIME off */
    const char *machine;        /* 'm': CONFIG_ARCH, e.g. "arm" */
    const char *processor;      /* 'p': PROCESSOR_NAME, e.g. "cortex-m4" */
    const char *platform;       /* 'i': CONFIG_BOARD[@revision], e.g. "nrf52840dk" */
};

/* Firmware options (Kconfig in Zephyr). */
struct smp_os_mgmt_cfg {
    bool echo;           /* CONFIG_MCUMGR_GRP_OS_ECHO, default y */
    bool reset;          /* CONFIG_REBOOT: the reset command exists */
    bool reset_hook;     /* CONFIG_MCUMGR_GRP_OS_RESET_HOOK, default n */
    int64_t reset_delay; /* CONFIG_MCUMGR_GRP_OS_RESET_MS, default 250 ms; in ns */
    bool mcumgr_params;  /* CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS, default n */
    uint32_t buf_size;   /* CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE, default 384 */
    uint32_t buf_count;  /* CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT, default 4 */
    bool info;           /* CONFIG_MCUMGR_GRP_OS_INFO, default n */
    size_t info_max;     /* CONFIG_MCUMGR_GRP_OS_INFO_MAX_RESPONSE_SIZE, default 256 */
    struct smp_os_mgmt_info_strings info_strings;
    bool bootloader_info; /* CONFIG_MCUMGR_GRP_OS_BOOTLOADER_INFO, default n */
    int32_t boot_mode;    /* enum smp_os_mgmt_boot_mode reported by query "mode" */
    bool no_downgrade;    /* adds "no-downgrade": true to the mode answer */
};

/* Defaults as Zephyr's Kconfig sets them (reset on, everything optional off). */
struct smp_os_mgmt_cfg smp_os_mgmt_cfg_default(void);

/* What the group acts through. */
struct smp_os_mgmt_ctx {
    void *env;
    /* (Re)arm the device's reset timer for absolute time at_ns; an earlier arming is
     * replaced. The device calls smp_os_mgmt_timer() when it fires. */
    int (*timer_arm)(void *env, int64_t at_ns);
    /* Warm reboot (sys_reboot(SYS_REBOOT_WARM)). */
    void (*reboot)(void *env, int64_t now);
};

/* Data of SMP_CALLBACKS_EVT_OS_RESET (struct os_mgmt_reset_data). */
struct smp_os_mgmt_reset_data {
    bool force; /* request's "force", false if absent or undecodable */
};

/* One per device, caller storage. */
struct smp_os_mgmt {
    struct smp_os_mgmt_cfg cfg;
    const struct smp_os_mgmt_ctx *cx;                         /* not owned */
    const struct smp_callbacks *callbacks;                    /* not owned; NULL = no hooks */
    int64_t pending_reset_at;                                 /* -1: no reset pending */
    struct smp_server_handler handlers[SMP_OS_MGMT_ID_COUNT]; /* built from cfg */
};

/* Build the handler table from cfg. cx and callbacks are kept by pointer (callbacks may
 * be NULL). Allocates nothing. */
void smp_os_mgmt_init(struct smp_os_mgmt *m, const struct smp_os_mgmt_cfg *cfg,
                      const struct smp_os_mgmt_ctx *cx, const struct smp_callbacks *callbacks);
/* Forget a pending reset (the device is going away). */
void smp_os_mgmt_fini(struct smp_os_mgmt *m);

/* The group record to pass to smp_server_group_add() (handlers, translation, state). */
struct smp_server_group smp_os_mgmt_group(struct smp_os_mgmt *m);

/* The reset timer fired at now: reboot if a reset is pending for this time. A stale
 * firing (re-armed or nothing pending) does nothing. */
void smp_os_mgmt_timer(struct smp_os_mgmt *m, int64_t now);

/* OS group error -> v1 rc (os_mgmt_translate_error_code). */
int smp_os_mgmt_translate(uint16_t group_rc);

#endif /* MODELS_SMP_OS_MGMT_H */
