/* models/fleet/kconfig.c - a device group's Kconfig files -> its settings.
 *
 * devices[].firmware.kconfig (the application's .config or prj.conf) and
 * devices[].mcuboot.kconfig (MCUboot's .config, as sysbuild writes it) are parsed and
 * mapped by models/fw/kconfig.h; here each value lands on the group's setting unless the
 * scenario gave that key (scenario_given), and what contradicts the rest of the group is
 * reported at the option's FILE:LINE:COL. The same walk, not writing, describes what was
 * applied for `validate` and `run`.
 */
#include "models/fleet/settings.h"

#include <stdio.h>
#include <string.h>

#include "models/fw/kconfig.h"
#include "models/mcuboot/slots.h"

/* A file the scenario names: relative paths are taken from the scenario's folder (as
 * image.file in setup.c). */
static void scenario_file(const char *scenario_path, const char *name, char *path, size_t n)
{
    const char *slash = scenario_path != NULL ? strrchr(scenario_path, '/') : NULL;
    if (name[0] == '/' || slash == NULL)
        snprintf(path, n, "%s", name);
    else
        snprintf(path, n, "%.*s/%s", (int)(slash - scenario_path), scenario_path, name);
}

struct kfile {
    const char *key; /* "firmware.kconfig" or "mcuboot.kconfig" */
    bool mcuboot;
    bool loaded;
    struct fw_kconfig k;
    struct fw_kconfig_map m;
};

/* Where a group's setting lives and whether the scenario gave it. */
struct target {
    const struct scenario_schema *sch;
    void *base;
    const char *key;
};

static const struct scenario_schema *group_schema(void)
{
    return scenario_schema_find(&fleet_settings_schema, "devices")->sub;
}

static struct target target_of(struct fleet_group_settings *g, enum fw_kconfig_setting s)
{
    static const char *const fw_keys[FW_KS_COUNT] = {
        [FW_KS_REASSEMBLY] = "reassembly",
        [FW_KS_MCUMGR_PARAMS] = "mcumgr_params",
        [FW_KS_ERASE_PROGRESSIVE] = "erase_progressively",
        [FW_KS_REJECT_XIP] = "reject_xip_mismatched_slot",
        [FW_KS_IMAGE_CHECK] = "image_check",
        [FW_KS_DFU_LOCK] = "dfu_lock",
        [FW_KS_CC_DFU] = "config_channel_dfu",
        [FW_KS_BLE_LATENCY] = "ble_latency",
        [FW_KS_SMP] = "smp",
    };
    switch (s) {
    case FW_KS_NETBUF_SIZE:
        return (struct target){&smp_netbuf_settings_schema, &g->firmware.netbuf, "size"};
    case FW_KS_NETBUF_COUNT:
        return (struct target){&smp_netbuf_settings_schema, &g->firmware.netbuf, "count"};
    case FW_KS_APP_BOOTLOADER:
    case FW_KS_BOOTLOADER:
        return (struct target){group_schema(), g, "bootloader"};
    case FW_KS_VALIDATE_SLOT0:
        return (struct target){&mcuboot_timing_settings_schema, &g->mcuboot, "validate_slot0"};
    default:
        return (struct target){&fw_settings_schema, &g->firmware, fw_keys[s]};
    }
}

static int64_t get(struct fleet_group_settings *g, enum fw_kconfig_setting s)
{
    struct fw_settings *f = &g->firmware;
    switch (s) {
    case FW_KS_NETBUF_SIZE:
        return (int64_t)f->netbuf.size;
    case FW_KS_NETBUF_COUNT:
        return f->netbuf.count;
    case FW_KS_REASSEMBLY:
        return f->reassembly;
    case FW_KS_MCUMGR_PARAMS:
        return f->mcumgr_params;
    case FW_KS_ERASE_PROGRESSIVE:
        return f->erase_progressively;
    case FW_KS_REJECT_XIP:
        return f->reject_xip_mismatched_slot;
    case FW_KS_IMAGE_CHECK:
        return f->image_check;
    case FW_KS_DFU_LOCK:
        return f->dfu_lock;
    case FW_KS_CC_DFU:
        return f->config_channel_dfu;
    case FW_KS_BLE_LATENCY:
        return f->ble_latency;
    case FW_KS_SMP:
        return f->smp;
    case FW_KS_VALIDATE_SLOT0:
        return g->mcuboot.validate_slot0;
    default:
        return g->bootloader;
    }
}

static void set(struct fleet_group_settings *g, enum fw_kconfig_setting s, int64_t v)
{
    struct fw_settings *f = &g->firmware;
    switch (s) {
    case FW_KS_NETBUF_SIZE:
        f->netbuf.size = (uint64_t)v; /* 64..4096 (fw_kconfig_map) */
        break;
    case FW_KS_NETBUF_COUNT:
        f->netbuf.count = (uint32_t)v; /* 1..32 */
        break;
    case FW_KS_REASSEMBLY:
        f->reassembly = v != 0;
        break;
    case FW_KS_MCUMGR_PARAMS:
        f->mcumgr_params = v != 0;
        break;
    case FW_KS_ERASE_PROGRESSIVE:
        f->erase_progressively = v != 0;
        break;
    case FW_KS_REJECT_XIP:
        f->reject_xip_mismatched_slot = v != 0;
        break;
    case FW_KS_IMAGE_CHECK:
        f->image_check = v != 0;
        break;
    case FW_KS_DFU_LOCK:
        f->dfu_lock = v != 0;
        break;
    case FW_KS_CC_DFU:
        f->config_channel_dfu = v != 0;
        break;
    case FW_KS_BLE_LATENCY:
        f->ble_latency = v != 0;
        break;
    case FW_KS_SMP:
        f->smp = (int)v;
        break;
    case FW_KS_VALIDATE_SLOT0:
        g->mcuboot.validate_slot0 = v != 0;
        break;
    default:
        g->bootloader = (int)v;
    }
}

/* A setting's value as a scenario writes it. */
static const char *value_text(enum fw_kconfig_setting s, int64_t v, char *buf, size_t n)
{
    static const char *const smp_names[] = {"dfu-mcumgr", "ble-smp", "dfu-mcumgr+ble-smp", "none"};
    if (s == FW_KS_NETBUF_SIZE)
        snprintf(buf, n, "%lldB", (long long)v);
    else if (s == FW_KS_NETBUF_COUNT)
        snprintf(buf, n, "%lld", (long long)v);
    else if (s == FW_KS_SMP)
        snprintf(buf, n, "%s", v >= 0 && v < 4 ? smp_names[v] : "?");
    else if (s == FW_KS_BOOTLOADER || s == FW_KS_APP_BOOTLOADER)
        snprintf(buf, n, "%s",
                 v >= 0 && v < MCUBOOT_SLOTS_RAM_LOAD + 1 ? mcuboot_slots_mode_names[v] : "?");
    else
        snprintf(buf, n, "%s", v ? "true" : "false");
    return buf;
}

static bool is_xip(int mode)
{
    return mode == MCUBOOT_SLOTS_DIRECT_XIP || mode == MCUBOOT_SLOTS_DIRECT_XIP_REVERT;
}

/* Load, map, apply (write) or describe (notes) one group. Returns 0, SIM_EINVAL or
 * SIM_ENOMEM. */
static int group(struct fleet_group_settings *g, size_t gi, const char *scenario_path, bool write,
                 bool verbose, struct sim_diag *notes, struct sim_diag *d)
{
    struct kfile files[2] = {{.key = "firmware.kconfig", .mcuboot = false},
                             {.key = "mcuboot.kconfig", .mcuboot = true}};
    const char *names[2] = {g->firmware.kconfig, g->mcuboot.kconfig};
    const struct scenario_pos *pos[2] = {&g->firmware.kconfig_at, &g->mcuboot.kconfig_at};
    int rc = 0;
    for (int f = 0; f < 2; f++) {
        if (names[f] == NULL)
            continue;
        char path[4096], key[96], where[600];
        scenario_file(scenario_path, names[f], path, sizeof(path));
        struct sim_diag why;
        sim_diag_init(&why);
        int frc = fw_kconfig_read(path, &files[f].k, &why);
        if (frc == SIM_ENOENT || frc == SIM_EIO) {
            snprintf(key, sizeof(key), "devices[%zu].%s", gi, files[f].key);
            scenario_pos_format(where, sizeof(where), pos[f], key);
            sim_diag_add(d, "%s: %.*s", where, (int)strcspn(why.text, "\n"), why.text);
        } else if (frc != 0) {
            sim_diag_add(d, "%.*s", (int)(why.len > 0 ? why.len - 1 : 0), why.text);
        } else {
            files[f].loaded = true;
            frc = fw_kconfig_map(&files[f].k, files[f].mcuboot, &files[f].m, d);
        }
        if (frc != 0 && rc != SIM_ENOMEM)
            rc = frc == SIM_ENOMEM ? SIM_ENOMEM : SIM_EINVAL;
    }
    struct kfile *app = &files[0], *boot = &files[1];
    char a[64], b[64];
    /* The application's assumed mode against MCUboot's own. */
    const struct fw_kconfig_value *am = &app->m.s[FW_KS_APP_BOOTLOADER],
                                  *bm = &boot->m.s[FW_KS_BOOTLOADER];
    if (rc == 0 && app->loaded && boot->loaded && am->set && bm->set && am->v != bm->v) {
        sim_diag_add(d,
                     "%s:%u:%u: %s=%s: the application is built for MCUboot in %s mode, but "
                     "MCUboot's configuration selects %s (%s:%u); build both for one mode",
                     app->k.src, am->from->line, am->from->col, am->from->symbol, am->from->text,
                     value_text(FW_KS_APP_BOOTLOADER, am->v, a, sizeof(a)),
                     value_text(FW_KS_BOOTLOADER, bm->v, b, sizeof(b)), boot->k.src,
                     bm->from->line);
        rc = SIM_EINVAL;
    }
    for (int f = 0; f < 2 && rc == 0; f++) {
        struct kfile *kf = &files[f];
        if (!kf->loaded)
            continue;
        size_t applied = 0, overridden = 0;
        for (int pass = 0; pass < 2; pass++) {
            if (pass == 1)
                sim_diag_add(notes,
                             "devices[%zu] (group %s): %s %s: %zu setting%s applied, %zu given "
                             "by the scenario instead, %zu option%s not modelled%s",
                             gi, g->name, kf->key, kf->k.src, applied, applied == 1 ? "" : "s",
                             overridden, kf->m.n_ignored, kf->m.n_ignored == 1 ? "" : "s",
                             verbose || kf->m.n_ignored == 0 ? ""
                                                             : " (--kconfig-verbose lists them)");
            for (int s = 0; s < FW_KS_COUNT; s++) {
                const struct fw_kconfig_value *v = &kf->m.s[s];
                /* MCUboot's own mode wins over the application's assumption (equal when
                 * both are given: checked above). */
                if (!v->set || (s == FW_KS_APP_BOOTLOADER && boot->loaded && bm->set))
                    continue;
                struct target t = target_of(g, (enum fw_kconfig_setting)s);
                bool given = scenario_given(t.sch, t.base, t.key);
                if (pass == 0) {
                    overridden += given;
                    applied += !given;
                    if (write && !given)
                        set(g, (enum fw_kconfig_setting)s, v->v);
                    continue;
                }
                char src[600]; /* the option, or what its absence from a whole .config says */
                if (v->from != NULL)
                    snprintf(src, sizeof(src), "%s:%u:%u: %s=%s", kf->k.src, v->from->line,
                             v->from->col, v->from->symbol, v->from->text);
                else
                    snprintf(src, sizeof(src), "%s: (module not in this whole .config)", kf->k.src);
                if (given)
                    sim_diag_add(notes, "  %s -> %s: the scenario's %s stands", src,
                                 fw_kconfig_settings[s].key,
                                 value_text(s, get(g, s), a, sizeof(a)));
                else
                    sim_diag_add(notes, "  %s -> %s = %s", src, fw_kconfig_settings[s].key,
                                 value_text(s, v->v, a, sizeof(a)));
            }
        }
        for (size_t i = 0; verbose && i < kf->k.n; i++) {
            const struct fw_kconfig_entry *e = &kf->k.e[i];
            if (!fw_kconfig_modelled(e->symbol, kf->mcuboot))
                sim_diag_add(notes, "  %s:%u:%u: %s=%s: not modelled", kf->k.src, e->line, e->col,
                             e->symbol, e->text);
        }
    }
    /* What the files say against the group as it now stands. */
    const struct fw_kconfig_value *rx = &app->m.s[FW_KS_REJECT_XIP];
    if (rc == 0 && app->loaded && rx->set && rx->v &&
        !scenario_given(&fw_settings_schema, &g->firmware, "reject_xip_mismatched_slot") &&
        !is_xip(g->bootloader)) {
        bool from_boot =
            boot->loaded && bm->set && !scenario_given(group_schema(), g, "bootloader");
        char src[600];
        if (from_boot)
            snprintf(src, sizeof(src), "MCUboot's configuration, %s:%u", boot->k.src,
                     bm->from->line);
        else if (am->set && !scenario_given(group_schema(), g, "bootloader"))
            snprintf(src, sizeof(src), "this file, line %u", am->from->line);
        else
            snprintf(src, sizeof(src), "devices[%zu].bootloader", gi);
        sim_diag_add(d,
                     "%s:%u:%u: %s=%s: rejecting a direct-xip image built for the other slot "
                     "needs a direct-xip bootloader, but group %s's is %s (%s); disable the "
                     "option or use direct-xip",
                     app->k.src, rx->from->line, rx->from->col, rx->from->symbol, rx->from->text,
                     g->name, value_text(FW_KS_BOOTLOADER, g->bootloader, a, sizeof(a)), src);
        rc = SIM_EINVAL;
    }
    if (rc == 0 && app->loaded && app->m.no_bt && fleet_group_uses_ble(g)) {
        const struct fw_kconfig_entry *e = app->m.no_bt_at;
        char where[600];
        if (e != NULL)
            snprintf(where, sizeof(where), "%s:%u:%u: %s=%s", app->k.src, e->line, e->col,
                     e->symbol, e->text);
        else
            snprintf(where, sizeof(where),
                     "%s: CONFIG_MCUMGR_TRANSPORT_BT is not in this whole "
                     ".config",
                     app->k.src);
        sim_diag_add(d,
                     "%s: the build has no SMP over Bluetooth, but group %s reaches its devices "
                     "over BLE; enable the transport or use link.transport: uart",
                     where, g->name);
        rc = SIM_EINVAL;
    }
    fw_kconfig_free(&app->k);
    fw_kconfig_free(&boot->k);
    return rc;
}

int fleet_kconfig_apply(struct fleet_settings *fs, const char *scenario_path, struct sim_diag *d)
{
    int rc = 0;
    for (size_t i = 0; i < fs->n_groups && rc != SIM_ENOMEM; i++) {
        int grc = group(&fs->groups[i], i, scenario_path, true, false, NULL, d);
        if (grc != 0)
            rc = grc;
    }
    return rc;
}

int fleet_kconfig_describe(const struct fleet_settings *fs, const char *scenario_path, bool verbose,
                           struct sim_diag *notes)
{
    int rc = 0;
    struct sim_diag ignore;
    sim_diag_init(&ignore);
    for (size_t i = 0; i < fs->n_groups && rc == 0; i++) {
        /* not written: the settings hold what fleet_kconfig_apply set */
        struct fleet_group_settings g = fs->groups[i];
        rc = group(&g, i, scenario_path, false, verbose, notes, &ignore);
    }
    return rc;
}
