/* models/fw/kconfig.h - a Zephyr/NCS build's Kconfig values: parse a `.config` (or a
 * `prj.conf` fragment in the same syntax) and map the symbols the simulator models onto a
 * device group's settings.
 *
 * Syntax (as Kconfiglib writes and reads it: ulfalizer/Kconfiglib kconfiglib.py,
 * Kconfig.load_config, which Zephyr's scripts/kconfig/kconfig.py uses), one per line:
 *   CONFIG_NAME=y | n            a bool (tristate m does not exist in Zephyr: refused)
 *   CONFIG_NAME=123 | -5 | 0x1F  an int or hex
 *   CONFIG_NAME="text"           a string; \" and \\ are the only escapes
 *   # CONFIG_NAME is not set     a bool set to n
 *   # anything else, blank lines comments
 * No spaces around '=', nothing after the value but spaces or tabs; CRLF accepted. A
 * symbol given twice takes its last value (fragments merge that way). Every other line
 * is an error at FILE:LINE:COL saying what was expected.
 *
 * The mapping (fw_kconfig_map) turns a parsed file into the values of the settings it
 * fixes, each with the line that fixed it; which of them a scenario key overrides, and
 * what contradicts what, is judged by the caller that knows the scenario
 * (models/fleet/kconfig.c). The table of symbols is in kconfig.c and docs/model.md
 * "Kconfig input".
 */
#ifndef MODELS_FW_KCONFIG_H
#define MODELS_FW_KCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/error.h"

enum fw_kconfig_kind { FW_KCONFIG_BOOL, FW_KCONFIG_INT, FW_KCONFIG_STRING };

/* One assignment. */
struct fw_kconfig_entry {
    char *symbol; /* with its CONFIG_ prefix, as written */
    enum fw_kconfig_kind kind;
    bool b;             /* BOOL */
    int64_t i;          /* INT (decimal or hex) */
    char *s;            /* STRING, unescaped; NULL otherwise */
    char *text;         /* the value as written ("y", "0x10", "\"a\""; "n" for "is not set") */
    unsigned line, col; /* of the symbol, 1-based */
};

struct fw_kconfig {
    char *src;      /* the file's name in messages */
    bool generated; /* a whole .config as Kconfig writes it (its header says so): a symbol
                       it does not name is not in the build */
    size_t n;
    struct fw_kconfig_entry *e; /* in file order */
};

/* Parse text (len bytes, need not be NUL-terminated) named src in messages into *out
 * (free with fw_kconfig_free, also on failure). Returns 0; SIM_EINVAL with one message per
 * bad line in d ("SRC:LINE:COL: what is wrong (what is expected)"), or SIM_ENOMEM. */
int fw_kconfig_parse(const char *text, size_t len, const char *src, struct fw_kconfig *out,
                     struct sim_diag *d);

/* Read the file at path and parse it, named path in messages. A file that cannot be read:
 * SIM_ENOENT or SIM_EIO with the reason in d (no position). */
int fw_kconfig_read(const char *path, struct fw_kconfig *out, struct sim_diag *d);

void fw_kconfig_free(struct fw_kconfig *k);

/* The last assignment of symbol (with its CONFIG_ prefix), or NULL. */
const struct fw_kconfig_entry *fw_kconfig_find(const struct fw_kconfig *k, const char *symbol);

/* ---- mapping -------------------------------------------------------------------------- */

/* The settings a build's Kconfig fixes. Same order as the rows of fw_kconfig_settings[]. */
enum fw_kconfig_setting {
    FW_KS_NETBUF_SIZE,       /* firmware.netbuf.size, bytes */
    FW_KS_NETBUF_COUNT,      /* firmware.netbuf.count */
    FW_KS_REASSEMBLY,        /* firmware.reassembly */
    FW_KS_MCUMGR_PARAMS,     /* firmware.mcumgr_params */
    FW_KS_ERASE_PROGRESSIVE, /* firmware.erase_progressively */
    FW_KS_REJECT_XIP,        /* firmware.reject_xip_mismatched_slot */
    FW_KS_IMAGE_CHECK,       /* firmware.image_check */
    FW_KS_DFU_LOCK,          /* firmware.dfu_lock */
    FW_KS_CC_DFU,            /* firmware.config_channel_dfu */
    FW_KS_BLE_LATENCY,       /* firmware.ble_latency */
    FW_KS_SMP,               /* firmware.smp (enum fw_smp) */
    FW_KS_APP_BOOTLOADER,    /* bootloader, as the application assumes it (enum
                                mcuboot_slots_mode) */
    FW_KS_BOOTLOADER,        /* bootloader, from MCUboot's own configuration */
    FW_KS_VALIDATE_SLOT0,    /* mcuboot.validate_slot0 */
    FW_KS_COUNT
};

/* One setting the file fixes: its value and the entry that fixed it (for a setting fixed
 * by two symbols, the later one; NULL when a whole .config fixes it by not naming it). */
struct fw_kconfig_value {
    bool set;
    int64_t v; /* bool 0/1, a count, bytes, or an enum value */
    const struct fw_kconfig_entry *from;
};

/* What one file says. Entries not in the table are counted as not modelled. */
struct fw_kconfig_map {
    struct fw_kconfig_value s[FW_KS_COUNT];
    size_t n_applied; /* entries that fixed a setting */
    size_t n_ignored; /* entries of symbols the simulator does not model */
    bool no_bt;       /* no MCUmgr Bluetooth transport (said n, or not in a whole .config) */
    const struct fw_kconfig_entry *no_bt_at; /* where it said n; NULL: not named */
};

/* The row of a setting: the scenario key it sets, for messages and docs. */
struct fw_kconfig_setting_row {
    const char *key; /* "firmware.netbuf.count", "bootloader", "mcuboot.validate_slot0" */
};
extern const struct fw_kconfig_setting_row fw_kconfig_settings[FW_KS_COUNT];

/* Map the application's file (mcuboot false) or MCUboot's (true) onto *m. Problems with a
 * modelled symbol's value (a wrong type, out of the model's range, two bootloader modes,
 * a mode the simulator does not model, dfu_mcumgr together with CAF ble_smp) go to d at
 * the entry's FILE:LINE:COL. Returns 0 or SIM_EINVAL. */
int fw_kconfig_map(const struct fw_kconfig *k, bool mcuboot, struct fw_kconfig_map *m,
                   struct sim_diag *d);

/* Whether the entry is a symbol the mapping reads for the given file kind. */
bool fw_kconfig_modelled(const char *symbol, bool mcuboot);

#endif /* MODELS_FW_KCONFIG_H */
