/* models/fw/kconfig.c - parse a Zephyr/NCS .config or prj.conf and map the symbols the
 * simulator models (models/fw/kconfig.h). */
#include "models/fw/kconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/fw/config.h"
#include "models/mcuboot/slots.h"

/* ---- parsing ---------------------------------------------------------------------------- */

#define MAX_ERRORS 20 /* bad lines reported per file; more are counted */

struct parser {
    const char *src;
    struct fw_kconfig *out;
    size_t cap;
    unsigned n_errors;
    struct sim_diag *d;
    int rc;
};

static void bad(struct parser *p, unsigned line, unsigned col, const char *what)
{
    if (p->n_errors++ < MAX_ERRORS)
        sim_diag_add(p->d, "%s:%u:%u: %s", p->src, line, col, what);
    if (p->rc == 0)
        p->rc = SIM_EINVAL;
}

static bool sym_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

/* Length of a symbol name at s (CONFIG_ and at least one character), 0 if none. */
static size_t symbol_len(const char *s, size_t n)
{
    if (n < 8 || memcmp(s, "CONFIG_", 7) != 0)
        return 0;
    size_t i = 7;
    while (i < n && sym_char(s[i]))
        i++;
    return i > 7 ? i : 0;
}

static char *dup_n(const char *s, size_t n)
{
    char *r = malloc(n + 1);
    if (r != NULL) {
        memcpy(r, s, n);
        r[n] = '\0';
    }
    return r;
}

static int add(struct parser *p, const char *sym, size_t sym_n, const char *text, size_t text_n,
               unsigned line, unsigned col, struct fw_kconfig_entry *e)
{
    if (p->out->n == p->cap) {
        size_t cap = p->cap ? 2 * p->cap : 64;
        struct fw_kconfig_entry *ne = realloc(p->out->e, cap * sizeof(*ne));
        if (ne == NULL)
            return SIM_ENOMEM;
        p->out->e = ne;
        p->cap = cap;
    }
    e->symbol = dup_n(sym, sym_n);
    e->text = dup_n(text, text_n);
    e->line = line;
    e->col = col;
    if (e->symbol == NULL || e->text == NULL) {
        free(e->symbol);
        free(e->text);
        free(e->s);
        return SIM_ENOMEM;
    }
    p->out->e[p->out->n++] = *e;
    return 0;
}

/* A quoted string value at v (n bytes, v[0] == '"'): unescaped into *out; *end is the
 * index after the closing quote. Returns 0, 1 when unterminated or a bad escape (*end at
 * the offending byte), or SIM_ENOMEM. */
static int string_value(const char *v, size_t n, char **out, size_t *end)
{
    char *s = malloc(n);
    if (s == NULL)
        return SIM_ENOMEM;
    size_t o = 0;
    for (size_t i = 1; i < n; i++) {
        if (v[i] == '"') {
            s[o] = '\0';
            *out = s;
            *end = i + 1;
            return 0;
        }
        if (v[i] == '\\') {
            if (i + 1 >= n || (v[i + 1] != '"' && v[i + 1] != '\\')) {
                free(s);
                *end = i;
                return 1;
            }
            i++;
        }
        s[o++] = v[i];
    }
    free(s);
    *end = n;
    return 1;
}

/* A decimal (optionally negative) or 0x hex integer filling v[0..n). */
static bool int_value(const char *v, size_t n, int64_t *out)
{
    char buf[32];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, v, n);
    buf[n] = '\0';
    bool hex = n > 2 && buf[0] == '0' && (buf[1] == 'x' || buf[1] == 'X');
    for (size_t i = hex ? 2 : (buf[0] == '-'); i < n; i++) {
        char c = buf[i];
        bool ok =
            (c >= '0' && c <= '9') || (hex && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')));
        if (!ok)
            return false;
    }
    if (buf[0] == '-' && n == 1)
        return false;
    errno = 0;
    char *end;
    long long x = strtoll(buf, &end, hex ? 16 : 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = (int64_t)x;
    return true;
}

static void parse_line(struct parser *p, const char *s, size_t n, unsigned line)
{
    if (n > 0 && s[n - 1] == '\r')
        n--;
    size_t lead = 0;
    while (lead < n && (s[lead] == ' ' || s[lead] == '\t'))
        lead++;
    if (lead == n)
        return; /* blank */
    if (s[lead] == '#') {
        /* "# CONFIG_X is not set" is an assignment; any other comment is ignored. */
        const char *c = s + lead + 1;
        size_t cn = n - lead - 1;
        /* Kconfig writes this header atop a whole .config (kconfiglib.py write_config). */
        static const char generated[] = " Automatically generated file; DO NOT EDIT.";
        if (line <= 3 && cn == sizeof(generated) - 1 && memcmp(c, generated, cn) == 0)
            p->out->generated = true;
        if (cn < 1 || c[0] != ' ')
            return;
        size_t sl = symbol_len(c + 1, cn - 1);
        static const char tail[] = " is not set";
        size_t tl = sizeof(tail) - 1;
        size_t rest = sl ? cn - 1 - sl : 0;
        if (sl == 0 || rest < tl || memcmp(c + 1 + sl, tail, tl) != 0)
            return;
        for (size_t i = 1 + sl + tl; i < cn; i++)
            if (c[i] != ' ' && c[i] != '\t')
                return;
        struct fw_kconfig_entry e = {.kind = FW_KCONFIG_BOOL, .b = false};
        if (add(p, c + 1, sl, "n", 1, line, (unsigned)(lead + 3), &e) != 0)
            p->rc = SIM_ENOMEM;
        return;
    }
    unsigned col = (unsigned)lead + 1;
    const char *a = s + lead;
    size_t an = n - lead;
    size_t sl = symbol_len(a, an);
    if (sl == 0) {
        bad(p, line, col,
            "expected CONFIG_NAME=VALUE, \"# CONFIG_NAME is not set\" or a # comment");
        return;
    }
    if (sl == an || a[sl] != '=') {
        bad(p, line, col + (unsigned)sl,
            sl < an && (a[sl] == ' ' || a[sl] == '\t')
                ? "no space may stand before '=' (expected CONFIG_NAME=VALUE)"
                : "expected '=' after the symbol name (CONFIG_NAME=VALUE)");
        return;
    }
    const char *v = a + sl + 1;
    size_t vn = an - sl - 1;
    unsigned vcol = col + (unsigned)sl + 1;
    size_t end = vn; /* the value's own length, trailing blanks excluded */
    while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
        end--;
    struct fw_kconfig_entry e = {0};
    if (vn > 0 && v[0] == '"') {
        size_t close;
        int rc = string_value(v, end, &e.s, &close);
        if (rc == SIM_ENOMEM) {
            p->rc = SIM_ENOMEM;
            return;
        }
        if (rc != 0) {
            bad(p, line, vcol + (unsigned)close,
                close < end ? "bad escape in a string (only \\\" and \\\\)"
                            : "unterminated string (expected a closing \")");
            return;
        }
        if (close != end) {
            free(e.s);
            bad(p, line, vcol + (unsigned)close,
                "text after the closing quote (a comment needs a line of its own)");
            return;
        }
        e.kind = FW_KCONFIG_STRING;
    } else if (end == 1 && (v[0] == 'y' || v[0] == 'n')) {
        e.kind = FW_KCONFIG_BOOL;
        e.b = v[0] == 'y';
    } else if (end == 1 && v[0] == 'm') {
        bad(p, line, vcol, "m (module) does not exist in Zephyr: expected y or n");
        return;
    } else if (int_value(v, end, &e.i)) {
        e.kind = FW_KCONFIG_INT;
    } else {
        bad(p, line, vcol,
            end == 0 ? "no value (expected y, n, a number or a quoted string)"
                     : "expected y, n, a decimal or 0x number, or a quoted string (a comment "
                       "needs a line of its own)");
        return;
    }
    if (add(p, a, sl, v, end, line, col, &e) != 0)
        p->rc = SIM_ENOMEM;
}

int fw_kconfig_parse(const char *text, size_t len, const char *src, struct fw_kconfig *out,
                     struct sim_diag *d)
{
    memset(out, 0, sizeof(*out));
    out->src = strdup(src != NULL ? src : "-");
    if (out->src == NULL)
        return SIM_ENOMEM;
    struct parser p = {.src = out->src, .out = out, .d = d};
    unsigned line = 1;
    size_t start = 0;
    for (size_t i = 0; i <= len && p.rc != SIM_ENOMEM; i++) {
        if (i < len && text[i] == '\0') {
            bad(&p, line, (unsigned)(i - start) + 1, "a NUL byte: not a text file");
            return p.rc;
        }
        if (i == len || text[i] == '\n') {
            parse_line(&p, text + start, i - start, line);
            line++;
            start = i + 1;
        }
    }
    if (p.n_errors > MAX_ERRORS)
        sim_diag_add(d, "%s: %u more bad lines not shown", out->src, p.n_errors - MAX_ERRORS);
    return p.rc;
}

int fw_kconfig_read(const char *path, struct fw_kconfig *out, struct sim_diag *d)
{
    memset(out, 0, sizeof(*out));
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        int e = errno;
        sim_diag_add(d, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? SIM_ENOENT : SIM_EIO;
    }
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 4096;
            char *nb = ncap > (64u << 20) ? NULL : realloc(buf, ncap);
            if (nb == NULL) {
                rc = ncap > (64u << 20) ? SIM_EIO : SIM_ENOMEM;
                if (rc == SIM_EIO)
                    sim_diag_add(d, "%s: larger than 64 MiB: not a Kconfig file", path);
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                sim_diag_add(d, "cannot read %s", path);
                rc = SIM_EIO;
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        rc = fw_kconfig_parse(buf != NULL ? buf : "", len, path, out, d);
    free(buf);
    return rc;
}

void fw_kconfig_free(struct fw_kconfig *k)
{
    for (size_t i = 0; i < k->n; i++) {
        free(k->e[i].symbol);
        free(k->e[i].s);
        free(k->e[i].text);
    }
    free(k->e);
    free(k->src);
    memset(k, 0, sizeof(*k));
}

const struct fw_kconfig_entry *fw_kconfig_find(const struct fw_kconfig *k, const char *symbol)
{
    for (size_t i = k->n; i-- > 0;)
        if (strcmp(k->e[i].symbol, symbol) == 0)
            return &k->e[i];
    return NULL;
}

/* ---- mapping ---------------------------------------------------------------------------- */

const struct fw_kconfig_setting_row fw_kconfig_settings[FW_KS_COUNT] = {
    [FW_KS_NETBUF_SIZE] = {"firmware.netbuf.size"},
    [FW_KS_NETBUF_COUNT] = {"firmware.netbuf.count"},
    [FW_KS_REASSEMBLY] = {"firmware.reassembly"},
    [FW_KS_MCUMGR_PARAMS] = {"firmware.mcumgr_params"},
    [FW_KS_ERASE_PROGRESSIVE] = {"firmware.erase_progressively"},
    [FW_KS_REJECT_XIP] = {"firmware.reject_xip_mismatched_slot"},
    [FW_KS_IMAGE_CHECK] = {"firmware.image_check"},
    [FW_KS_DFU_LOCK] = {"firmware.dfu_lock"},
    [FW_KS_CC_DFU] = {"firmware.config_channel_dfu"},
    [FW_KS_BLE_LATENCY] = {"firmware.ble_latency"},
    [FW_KS_SMP] = {"firmware.smp"},
    [FW_KS_APP_BOOTLOADER] = {"bootloader"},
    [FW_KS_BOOTLOADER] = {"bootloader"},
    [FW_KS_VALIDATE_SLOT0] = {"mcuboot.validate_slot0"},
};

enum row_kind {
    R_BOOL,    /* y/n into a bool setting */
    R_INT,     /* a number in [lo, hi] */
    R_CHOICE,  /* a member of a bootloader-mode choice: y selects mode */
    R_REVERT,  /* MCUboot's _REVERT companion of direct-xip / RAM load */
    R_MCUMGR,  /* nRF Desktop dfu_mcumgr */
    R_BLE_SMP, /* CAF ble_smp */
    R_BT,      /* the MCUmgr Bluetooth transport */
    R_REFUSED  /* y names a build the simulator does not model: why */
};

/* One modelled symbol. Sources (upstream file that declares it, its default):
 * zephyrproject-rtos/zephyr subsys/mgmt/mcumgr/transport/Kconfig (NETBUF_COUNT default 4,
 * NETBUF_SIZE default 384), .../transport/Kconfig.bluetooth (BT_REASSEMBLY, default n),
 * .../grp/os_mgmt/Kconfig (MCUMGR_PARAMS, default n), .../grp/img_mgmt/Kconfig
 * (REJECT_DIRECT_XIP_MISMATCHED_SLOT, default n), subsys/dfu/Kconfig
 * (IMG_ERASE_PROGRESSIVELY, default n), modules/Kconfig.mcuboot (the application's
 * MCUBOOT_BOOTLOADER_MODE choice, default SWAP_WITHOUT_SCRATCH); nrfconnect/sdk-nrf
 * applications/nrf_desktop/src/util/Kconfig.dfu_lock (DESKTOP_DFU_LOCK, default y with
 * both DFU methods), src/modules/Kconfig.config_channel (CONFIG_CHANNEL_DFU_ENABLE, no
 * default), src/modules/Kconfig.ble_latency (BLE_LATENCY_ENABLE, implied by
 * DESKTOP_BT_PERIPHERAL), src/modules/Kconfig.dfu_mcumgr (DFU_MCUMGR_ENABLE),
 * subsys/caf/modules/Kconfig.ble_smp (CAF_BLE_SMP); mcu-tools/mcuboot boot/zephyr/Kconfig
 * (choice BOOT_IMAGE_UPGRADE_MODE, BOOT_DIRECT_XIP_REVERT, BOOT_RAM_LOAD_REVERT,
 * BOOT_VALIDATE_SLOT0 default y). Ranges are the model's (the scenario keys' bounds). */
struct row {
    const char *symbol;
    bool mcuboot; /* in MCUboot's configuration, not the application's */
    enum row_kind kind;
    enum fw_kconfig_setting s;
    int64_t lo, hi;  /* R_INT; R_CHOICE: lo is the mode */
    const char *why; /* R_REFUSED */
};

static const struct row rows[] = {
    {"CONFIG_MCUMGR_TRANSPORT_NETBUF_SIZE", false, R_INT, FW_KS_NETBUF_SIZE, 64, 4096, NULL},
    {"CONFIG_MCUMGR_TRANSPORT_NETBUF_COUNT", false, R_INT, FW_KS_NETBUF_COUNT, 1, 32, NULL},
    {"CONFIG_MCUMGR_TRANSPORT_BT_REASSEMBLY", false, R_BOOL, FW_KS_REASSEMBLY, 0, 0, NULL},
    {"CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS", false, R_BOOL, FW_KS_MCUMGR_PARAMS, 0, 0, NULL},
    {"CONFIG_IMG_ERASE_PROGRESSIVELY", false, R_BOOL, FW_KS_ERASE_PROGRESSIVE, 0, 0, NULL},
    {"CONFIG_MCUMGR_GRP_IMG_REJECT_DIRECT_XIP_MISMATCHED_SLOT", false, R_BOOL, FW_KS_REJECT_XIP, 0,
     0, NULL},
    {"CONFIG_IMG_ENABLE_IMAGE_CHECK", false, R_BOOL, FW_KS_IMAGE_CHECK, 0, 0, NULL},
    {"CONFIG_DESKTOP_DFU_LOCK", false, R_BOOL, FW_KS_DFU_LOCK, 0, 0, NULL},
    {"CONFIG_DESKTOP_CONFIG_CHANNEL_DFU_ENABLE", false, R_BOOL, FW_KS_CC_DFU, 0, 0, NULL},
    {"CONFIG_DESKTOP_BLE_LATENCY_ENABLE", false, R_BOOL, FW_KS_BLE_LATENCY, 0, 0, NULL},
    {"CONFIG_DESKTOP_DFU_MCUMGR_ENABLE", false, R_MCUMGR, FW_KS_SMP, 0, 0, NULL},
    {"CONFIG_CAF_BLE_SMP", false, R_BLE_SMP, FW_KS_SMP, 0, 0, NULL},
    {"CONFIG_MCUMGR_TRANSPORT_BT", false, R_BT, FW_KS_SMP, 0, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_OVERWRITE_ONLY", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_OVERWRITE, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_SCRATCH", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_SWAP_SCRATCH, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_WITHOUT_SCRATCH", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_SWAP_MOVE, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_MOVE", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_SWAP_MOVE, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_SWAP_USING_OFFSET", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_SWAP_OFFSET, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_DIRECT_XIP, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_DIRECT_XIP_WITH_REVERT", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_DIRECT_XIP_REVERT, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_RAM_LOAD", false, R_CHOICE, FW_KS_APP_BOOTLOADER,
     MCUBOOT_SLOTS_RAM_LOAD, 0, NULL},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_SINGLE_APP", false, R_REFUSED, FW_KS_APP_BOOTLOADER, 0, 0,
     "a single-slot MCUboot (updates only through serial recovery) is not modelled"},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_FIRMWARE_UPDATER", false, R_REFUSED, FW_KS_APP_BOOTLOADER, 0,
     0, "MCUboot's firmware-updater mode is not modelled"},
    {"CONFIG_MCUBOOT_BOOTLOADER_MODE_RAM_LOAD_WITH_REVERT", false, R_REFUSED, FW_KS_APP_BOOTLOADER,
     0, 0, "RAM load with revert is not a bootloader mode the scenario has"},
    /* MCUboot's own configuration */
    {"CONFIG_BOOT_UPGRADE_ONLY", true, R_CHOICE, FW_KS_BOOTLOADER, MCUBOOT_SLOTS_OVERWRITE, 0,
     NULL},
    {"CONFIG_BOOT_SWAP_USING_SCRATCH", true, R_CHOICE, FW_KS_BOOTLOADER, MCUBOOT_SLOTS_SWAP_SCRATCH,
     0, NULL},
    {"CONFIG_BOOT_SWAP_USING_MOVE", true, R_CHOICE, FW_KS_BOOTLOADER, MCUBOOT_SLOTS_SWAP_MOVE, 0,
     NULL},
    {"CONFIG_BOOT_SWAP_USING_OFFSET", true, R_CHOICE, FW_KS_BOOTLOADER, MCUBOOT_SLOTS_SWAP_OFFSET,
     0, NULL},
    {"CONFIG_BOOT_DIRECT_XIP", true, R_CHOICE, FW_KS_BOOTLOADER, MCUBOOT_SLOTS_DIRECT_XIP, 0, NULL},
    {"CONFIG_BOOT_RAM_LOAD", true, R_CHOICE, FW_KS_BOOTLOADER, MCUBOOT_SLOTS_RAM_LOAD, 0, NULL},
    {"CONFIG_BOOT_DIRECT_XIP_REVERT", true, R_REVERT, FW_KS_BOOTLOADER, MCUBOOT_SLOTS_DIRECT_XIP, 0,
     NULL},
    {"CONFIG_BOOT_RAM_LOAD_REVERT", true, R_REFUSED, FW_KS_BOOTLOADER, 0, 0,
     "RAM load with revert is not a bootloader mode the scenario has"},
    {"CONFIG_SINGLE_APPLICATION_SLOT", true, R_REFUSED, FW_KS_BOOTLOADER, 0, 0,
     "a single-slot MCUboot (updates only through serial recovery) is not modelled"},
    {"CONFIG_BOOT_FIRMWARE_LOADER", true, R_REFUSED, FW_KS_BOOTLOADER, 0, 0,
     "MCUboot's firmware-loader mode is not modelled"},
    {"CONFIG_BOOT_VALIDATE_SLOT0", true, R_BOOL, FW_KS_VALIDATE_SLOT0, 0, 0, NULL},
};

static const struct row *row_of(const char *symbol, bool mcuboot)
{
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].mcuboot == mcuboot && strcmp(rows[i].symbol, symbol) == 0)
            return &rows[i];
    return NULL;
}

bool fw_kconfig_modelled(const char *symbol, bool mcuboot)
{
    return row_of(symbol, mcuboot) != NULL;
}

static void at(struct sim_diag *d, const struct fw_kconfig *k, const struct fw_kconfig_entry *e,
               const char *fmt, const char *a, const char *b)
{
    char msg[400];
    snprintf(msg, sizeof(msg), fmt, a, b);
    sim_diag_add(d, "%s:%u:%u: %s=%s: %s", k->src, e->line, e->col, e->symbol, e->text, msg);
}

int fw_kconfig_map(const struct fw_kconfig *k, bool mcuboot, struct fw_kconfig_map *m,
                   struct sim_diag *d)
{
    memset(m, 0, sizeof(*m));
    int rc = 0;
    const struct fw_kconfig_entry *mcumgr = NULL, *ble_smp = NULL, *revert = NULL, *bt = NULL;
    for (size_t i = 0; i < k->n; i++) {
        const struct fw_kconfig_entry *e = &k->e[i];
        const struct row *r = row_of(e->symbol, mcuboot);
        if (r == NULL) {
            m->n_ignored++;
            continue;
        }
        m->n_applied++;
        bool want_int = r->kind == R_INT;
        if (want_int ? e->kind != FW_KCONFIG_INT : e->kind != FW_KCONFIG_BOOL) {
            at(d, k, e, "%s", want_int ? "expects a number" : "expects y or n", NULL);
            rc = SIM_EINVAL;
            continue;
        }
        struct fw_kconfig_value *v = &m->s[r->s];
        char lo[24], hi[24];
        switch (r->kind) {
        case R_INT:
            if (e->i < r->lo || e->i > r->hi) {
                snprintf(lo, sizeof(lo), "%lld", (long long)r->lo);
                snprintf(hi, sizeof(hi), "%lld", (long long)r->hi);
                at(d, k, e, "outside what the simulator takes [%s, %s]", lo, hi);
                rc = SIM_EINVAL;
                break;
            }
            *v = (struct fw_kconfig_value){true, e->i, e};
            break;
        case R_BOOL:
            *v = (struct fw_kconfig_value){true, e->b, e};
            break;
        case R_CHOICE:
            if (!e->b && v->set && strcmp(v->from->symbol, e->symbol) == 0)
                *v = (struct fw_kconfig_value){0}; /* selected, then unselected: the last wins */
            if (!e->b)
                break;
            if (v->set && strcmp(v->from->symbol, e->symbol) != 0) {
                snprintf(lo, sizeof(lo), "%u", v->from->line);
                at(d, k, e, "a second bootloader mode: %s is selected at line %s", v->from->symbol,
                   lo);
                rc = SIM_EINVAL;
                break;
            }
            *v = (struct fw_kconfig_value){true, r->lo, e};
            break;
        case R_REVERT:
            revert = e->b ? e : NULL;
            break;
        case R_MCUMGR:
            mcumgr = e;
            break;
        case R_BLE_SMP:
            ble_smp = e;
            break;
        case R_BT:
            bt = e;
            break;
        case R_REFUSED:
            if (e->b) {
                at(d, k, e, "%s", r->why, NULL);
                rc = SIM_EINVAL;
            }
            break;
        }
    }
    /* mcu-tools/mcuboot boot/zephyr/Kconfig: BOOT_DIRECT_XIP_REVERT depends on
     * BOOT_DIRECT_XIP. */
    struct fw_kconfig_value *boot = &m->s[FW_KS_BOOTLOADER];
    if (revert != NULL && boot->set && boot->v == MCUBOOT_SLOTS_DIRECT_XIP) {
        boot->v = MCUBOOT_SLOTS_DIRECT_XIP_REVERT;
        boot->from = revert;
    } else if (revert != NULL) {
        at(d, k, revert, "%s", "depends on CONFIG_BOOT_DIRECT_XIP, which is not selected", NULL);
        rc = SIM_EINVAL;
    }
    /* nrfconnect/sdk-nrf applications/nrf_desktop/src/modules/dfu_mcumgr.c:
     * BUILD_ASSERT(!IS_ENABLED(CONFIG_CAF_BLE_SMP)). */
    bool on_m = mcumgr != NULL && mcumgr->b, on_b = ble_smp != NULL && ble_smp->b;
    const struct fw_kconfig_entry *later = mcumgr == NULL     ? ble_smp
                                           : ble_smp == NULL  ? mcumgr
                                           : mcumgr > ble_smp ? mcumgr
                                                              : ble_smp;
    if (on_m && on_b) {
        const struct fw_kconfig_entry *first = later == mcumgr ? ble_smp : mcumgr;
        char ln[24];
        snprintf(ln, sizeof(ln), "%u", first->line);
        at(d, k, later,
           "nRF Desktop dfu_mcumgr and CAF ble_smp cannot be built together (dfu_mcumgr.c "
           "refuses CONFIG_CAF_BLE_SMP; the other is at line %s); disable one of them%s",
           ln, "");
        rc = SIM_EINVAL;
    } else if (on_m || on_b) {
        m->s[FW_KS_SMP] = (struct fw_kconfig_value){true, on_m ? FW_SMP_DFU_MCUMGR : FW_SMP_BLE_SMP,
                                                    on_m ? mcumgr : ble_smp};
    } else if (later != NULL || (k->generated && !mcuboot)) {
        /* Both said n, or a whole .config that has neither (the modules are not in the
         * build, as in Zephyr's smp_svr): MCUmgr alone. from NULL: fixed by absence. */
        m->s[FW_KS_SMP] = (struct fw_kconfig_value){true, FW_SMP_NONE, later};
    }
    /* A whole .config lists every symbol whose dependencies hold, so an nRF Desktop module
     * it does not name is not in the build (Kconfig writes "# ... is not set" only for
     * visible symbols: kconfiglib.py Symbol.config_string). */
    static const enum fw_kconfig_setting modules[] = {FW_KS_DFU_LOCK, FW_KS_CC_DFU,
                                                      FW_KS_BLE_LATENCY};
    for (size_t i = 0; k->generated && !mcuboot && i < sizeof(modules) / sizeof(modules[0]); i++)
        if (!m->s[modules[i]].set)
            m->s[modules[i]] = (struct fw_kconfig_value){true, 0, NULL};
    /* No MCUmgr Bluetooth transport: said n, or missing from a whole .config. */
    m->no_bt = (bt != NULL && !bt->b) || (bt == NULL && k->generated && !mcuboot);
    m->no_bt_at = bt;
    return rc;
}
