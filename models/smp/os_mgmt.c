/* models/smp/os_mgmt.c - MCUmgr OS group handlers.
 * Every rule: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/os_mgmt/src/os_mgmt.c. */
#include "models/smp/os_mgmt.h"

#include <string.h>

#include "sim/error.h"

#define MS_NS 1000000LL

struct smp_os_mgmt_cfg smp_os_mgmt_cfg_default(void)
{
    return (struct smp_os_mgmt_cfg){
        .echo = true,
        .reset = true,
        .reset_delay = 250 * MS_NS,
        .buf_size = 384,
        .buf_count = 4,
        .info_max = 256,
        .info_strings = {.node_name = "unknown",
                         .kernel_release = "unknown",
                         .kernel_version = "3.7.0",
                         .machine = "arm",
                         .processor = "cortex-m4",
                         .platform = "nrf52840dk"},
        .boot_mode = SMP_OS_MGMT_BOOT_MODE_UNKNOWN,
    };
}

/* Echo (READ or WRITE): {"d": text} -> {"r": text}. A missing "d" echoes "". */
static int echo(void *state, struct smp_server_req *rq)
{
    (void)state;
    struct smp_frame_field d = {.key = "d", .type = SMP_FRAME_T_TEXT};
    if (smp_frame_map_decode(rq->payload, rq->hdr.len, &d, 1) != 0)
        return SMP_MGMT_ERR_EINVAL;
    smp_frame_put_text(rq->w, "r");
    smp_frame_put_textn(rq->w, d.found ? (const char *)d.str : "", d.found ? d.str_len : 0);
    return 0;
}

/* Reset (WRITE). With the hook, an undecodable request is not an error (force stays
 * false), and a veto answers rc or err without arming the timer. */
static int reset(void *state, struct smp_server_req *rq)
{
    struct smp_os_mgmt *m = state;
    if (m->cfg.reset_hook) {
        struct smp_frame_field f = {.key = "force", .type = SMP_FRAME_T_BOOL};
        struct smp_os_mgmt_reset_data data = {.force = false};
        if (smp_frame_map_decode(rq->payload, rq->hdr.len, &f, 1) == 0 && f.found)
            data.force = f.b;
        int32_t rc;
        uint16_t group;
        enum smp_callbacks_status st = smp_callbacks_notify(
            m->callbacks, SMP_CALLBACKS_EVT_OS_RESET, &data, sizeof(data), rq->now, &rc, &group);
        if (st == SMP_CALLBACKS_ERROR_RC)
            return rc;
        if (st == SMP_CALLBACKS_ERROR_ERR) {
            smp_server_req_err(rq, group, (uint16_t)rc);
            return 0;
        }
    }
    int64_t at = rq->now + m->cfg.reset_delay;
    int err = m->cx->timer_arm(m->cx->env, at);
    if (err != 0)
        return err < 0 ? err : SIM_EINTERNAL;
    m->pending_reset_at = at;
    return 0;
}

static int mcumgr_params(void *state, struct smp_server_req *rq)
{
    struct smp_os_mgmt *m = state;
    smp_frame_put_text(rq->w, "buf_size");
    smp_frame_put_uint(rq->w, m->cfg.buf_size);
    smp_frame_put_text(rq->w, "buf_count");
    smp_frame_put_uint(rq->w, m->cfg.buf_count);
    return 0;
}

/* Bootloader info (READ): no known key -> {"bootloader": "MCUboot"}; query "mode" ->
 * {"mode": n}; any other query -> rc QUERY_YIELDS_NO_ANSWER (3) as an SMP-level rc. */
static int bootloader_info(void *state, struct smp_server_req *rq)
{
    struct smp_os_mgmt *m = state;
    struct smp_frame_field q = {.key = "query", .type = SMP_FRAME_T_TEXT};
    if (smp_frame_map_decode(rq->payload, rq->hdr.len, &q, 1) != 0)
        return SMP_MGMT_ERR_EINVAL;
    if (!q.found) {
        smp_frame_put_text(rq->w, "bootloader");
        smp_frame_put_text(rq->w, "MCUboot");
        return 0;
    }
    if (q.str_len != 4 || memcmp(q.str, "mode", 4) != 0)
        return SMP_OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER;
    smp_frame_put_text(rq->w, "mode");
    smp_frame_put_int(rq->w, m->cfg.boot_mode);
    if (m->cfg.no_downgrade) {
        smp_frame_put_text(rq->w, "no-downgrade");
        smp_frame_put_bool(rq->w, true);
    }
    return 0;
}

/* Info format letters in output order; 'a' selects all of them. */
enum { F_S, F_N, F_R, F_V, F_B, F_M, F_P, F_I, F_O, F_COUNT };
static const char info_letters[F_COUNT + 1] = "snrvbmpio";

static const char *info_string(const struct smp_os_mgmt_cfg *cfg, int f)
{
    const struct smp_os_mgmt_info_strings *s = &cfg->info_strings;
    const char *v[F_COUNT] = {"Zephyr",          s->node_name,  s->kernel_release,
                              s->kernel_version, s->build_date, s->machine,
                              s->processor,      s->platform,   "Zephyr"};
    return v[f] ? v[f] : "unknown";
}

/* Info (READ): {"format": letters} -> {"output": fields separated by spaces}. Unknown
 * letters give err INVALID_FORMAT; no letter means 's'; output longer than info_max - 1
 * gives EMSGSIZE (the firmware formats into a fixed buffer). */
static int info(void *state, struct smp_server_req *rq)
{
    struct smp_os_mgmt *m = state;
    struct smp_frame_field fmt = {.key = "format", .type = SMP_FRAME_T_TEXT};
    if (smp_frame_map_decode(rq->payload, rq->hdr.len, &fmt, 1) != 0)
        return SMP_MGMT_ERR_EINVAL;
    unsigned mask = 0;
    size_t n_valid = 0;
    size_t n = fmt.found ? fmt.str_len : 0;
    for (size_t i = 0; i < n; i++) {
        char c = (char)fmt.str[i];
        const char *at = c ? strchr(info_letters, c) : NULL;
        if (c == 'a') {
            mask = (1u << F_COUNT) - 1;
            if (m->cfg.info_strings.build_date == NULL)
                mask &= ~(1u << F_B);
            n_valid++;
        } else if (at != NULL && (c != 'b' || m->cfg.info_strings.build_date != NULL)) {
            mask |= 1u << (at - info_letters);
            n_valid++;
        }
    }
    if (n_valid != n) {
        smp_server_req_err(rq, SMP_MGMT_GROUP_OS, SMP_OS_MGMT_ERR_INVALID_FORMAT);
        return 0;
    }
    if (mask == 0)
        mask = 1u << F_S;
    char out[512];
    size_t len = 0, cap = m->cfg.info_max < sizeof(out) ? m->cfg.info_max : sizeof(out);
    for (int f = 0; f < F_COUNT; f++) {
        if (!(mask & (1u << f)))
            continue;
        const char *s = info_string(&m->cfg, f);
        size_t need = strlen(s) + (len > 0 ? 1 : 0);
        if (len + need >= cap) /* snprintf would truncate: the firmware fails */
            return SMP_MGMT_ERR_EMSGSIZE;
        if (len > 0)
            out[len++] = ' ';
        memcpy(out + len, s, strlen(s));
        len += strlen(s);
    }
    smp_frame_put_text(rq->w, "output");
    smp_frame_put_textn(rq->w, out, len);
    return 0;
}

void smp_os_mgmt_init(struct smp_os_mgmt *m, const struct smp_os_mgmt_cfg *cfg,
                      const struct smp_os_mgmt_ctx *cx, const struct smp_callbacks *callbacks)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    m->cx = cx;
    m->callbacks = callbacks;
    m->pending_reset_at = -1;
    if (cfg->echo)
        m->handlers[SMP_OS_MGMT_ID_ECHO] = (struct smp_server_handler){echo, echo};
    if (cfg->reset)
        m->handlers[SMP_OS_MGMT_ID_RESET].write = reset;
    if (cfg->mcumgr_params)
        m->handlers[SMP_OS_MGMT_ID_MCUMGR_PARAMS].read = mcumgr_params;
    if (cfg->info)
        m->handlers[SMP_OS_MGMT_ID_INFO].read = info;
    if (cfg->bootloader_info)
        m->handlers[SMP_OS_MGMT_ID_BOOTLOADER_INFO].read = bootloader_info;
}

void smp_os_mgmt_fini(struct smp_os_mgmt *m)
{
    m->pending_reset_at = -1;
}

struct smp_server_group smp_os_mgmt_group(struct smp_os_mgmt *m)
{
    return (struct smp_server_group){.handlers = m->handlers,
                                     .n_handlers = SMP_OS_MGMT_ID_COUNT,
                                     .translate = smp_os_mgmt_translate,
                                     .state = m,
                                     .id = SMP_MGMT_GROUP_OS};
}

void smp_os_mgmt_timer(struct smp_os_mgmt *m, int64_t now)
{
    if (m->pending_reset_at < 0 || now != m->pending_reset_at)
        return;
    m->pending_reset_at = -1;
    m->cx->reboot(m->cx->env, now);
}

int smp_os_mgmt_translate(uint16_t group_rc)
{
    switch (group_rc) {
    case SMP_OS_MGMT_ERR_INVALID_FORMAT:
        return SMP_MGMT_ERR_EINVAL;
    case SMP_OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER:
    case SMP_OS_MGMT_ERR_RTC_NOT_SET:
        return SMP_MGMT_ERR_ENOENT;
    default:
        return SMP_MGMT_ERR_EUNKNOWN;
    }
}
