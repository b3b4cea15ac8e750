/* models/client/cc_host.c - the HID configurator's config-channel DFU (see cc_host.h).
 * Behaviour of nrfconnect/sdk-nrf: scripts/hid_configurator/modules/dfu.py. */
#include "models/client/cc_host.h"

#include <assert.h>
#include <stddef.h>

#include "sim/error.h"

#define MS_NS 1000000LL

struct client_cc_host_cfg client_cc_host_cfg_default(void)
{
    return (struct client_cc_host_cfg){
        .img_length = 0,
        .img_csum = 0,
        .payload = 30 - 6,            /* NrfHidDevice.py: REPORT_SIZE - 6 */
        .report_ns = 20 * MS_NS,      /* NrfHidDevice.py: POLL_INTERVAL_DEFAULT 0.02 s */
        .sync_wait_ns = 1000 * MS_NS, /* dfu.py: DFU_SYNC_INTERVAL 1 s */
        .store_wait_ns = 300 * MS_NS, /* dfu.py dfu_checkpoint: sleep_time 0.3 s */
    };
}

const char *client_cc_host_end_name(enum client_cc_host_end e)
{
    static const char *const names[] = {"none", "done", "refused", "failed", "lost"};
    return (unsigned)e <= CLIENT_CC_HOST_END_LOST ? names[e] : "?";
}

static int end(struct client_cc_host *h, enum client_cc_host_end e, int64_t now,
               const struct client_cc_host_ctx *cx)
{
    cx->timer_cancel(cx->env);
    h->state = CLIENT_CC_HOST_ENDED;
    h->end = (uint8_t)e;
    cx->ended(cx->env, e, now);
    return 0;
}

static int next(struct client_cc_host *h, enum client_cc_host_state s, int64_t at,
                const struct client_cc_host_ctx *cx)
{
    h->state = (uint8_t)s;
    cx->timer_arm(cx->env, at);
    return 0;
}

/* One sync exchange. Returns 0 with *r filled, 1 when the run ended (no answer, or
 * ACTIVE_OTHER where refuse is set), or a negative sim_err. */
static int sync(struct client_cc_host *h, struct fw_cc_dfu_sync_reply *r, bool refuse, int64_t now,
                const struct client_cc_host_ctx *cx)
{
    int rc = cx->sync(cx->env, r, now);
    if (rc < 0)
        return rc;
    if (rc > 0) {
        end(h, CLIENT_CC_HOST_END_LOST, now, cx);
        return 1;
    }
    if (refuse && r->state == FW_CC_DFU_HOST_ACTIVE_OTHER) {
        end(h, CLIENT_CC_HOST_END_REFUSED, now, cx);
        return 1;
    }
    return 0;
}

/* dfu_sync_wait_until_inactive, then get_dfu_operation_offset. */
static int on_sync_inactive(struct client_cc_host *h, const struct client_cc_host_cfg *c,
                            int64_t now, const struct client_cc_host_ctx *cx)
{
    struct fw_cc_dfu_sync_reply r;
    int rc = sync(h, &r, true, now, cx);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (r.state != FW_CC_DFU_HOST_INACTIVE) /* "device to clean update slot" */
        return next(h, CLIENT_CC_HOST_SYNC_INACTIVE, now + c->report_ns + c->sync_wait_ns, cx);
    bool resume =
        r.img_length == c->img_length && r.img_csum == c->img_csum && r.cur_offset <= c->img_length;
    h->off = resume ? r.cur_offset : 0;
    return next(h, CLIENT_CC_HOST_START, now + c->report_ns, cx);
}

/* dfu_start: no answer but the exchange's status (dfu.c ignores a refused start; the
 * next sync tells). */
static int on_start(struct client_cc_host *h, const struct client_cc_host_cfg *c, int64_t now,
                    const struct client_cc_host_ctx *cx)
{
    struct fw_cc_dfu_start s = {12, c->img_length, c->img_csum, h->off};
    int rc = cx->start(cx->env, &s, now);
    if (rc < 0)
        return rc;
    if (rc > 0)
        return end(h, CLIENT_CC_HOST_END_LOST, now, cx);
    return next(h, CLIENT_CC_HOST_STARTED, now + c->report_ns, cx);
}

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

/* The sync after start: is_started() (ACTIVE or STORING), else dfu_transfer loops. */
static int on_started(struct client_cc_host *h, const struct client_cc_host_cfg *c, int64_t now,
                      const struct client_cc_host_ctx *cx)
{
    struct fw_cc_dfu_sync_reply r;
    int rc = sync(h, &r, true, now, cx);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (r.state != FW_CC_DFU_HOST_ACTIVE_CONFIG_CHANNEL && r.state != FW_CC_DFU_HOST_STORING)
        return next(h, CLIENT_CC_HOST_SYNC_INACTIVE, now + c->report_ns, cx);
    if (r.sync_buffer_size == 0)
        return end(h, CLIENT_CC_HOST_END_FAILED, now, cx);
    h->sync_buf = r.sync_buffer_size;
    h->checkpoint = min_u32(h->off + h->sync_buf, c->img_length);
    return next(h, CLIENT_CC_HOST_DATA, now + c->report_ns, cx);
}

/* send_chunks: one data report, up to the next checkpoint. */
static int on_data(struct client_cc_host *h, const struct client_cc_host_cfg *c, int64_t now,
                   const struct client_cc_host_ctx *cx)
{
    uint32_t n = min_u32(c->payload, h->checkpoint - h->off);
    int rc = cx->data(cx->env, n, now);
    if (rc < 0)
        return rc;
    if (rc > 0)
        return end(h, CLIENT_CC_HOST_END_LOST, now, cx);
    h->off += n;
    if (h->off < h->checkpoint)
        return next(h, CLIENT_CC_HOST_DATA, now + c->report_ns, cx);
    h->retries = 0;
    return next(h, CLIENT_CC_HOST_CHECKPOINT, now + c->report_ns, cx);
}

/* dfu_checkpoint's sleep while STORING: 0.3 s, doubled at every 8th retry, <= 1 s. */
static int64_t store_wait(const struct client_cc_host *h, const struct client_cc_host_cfg *c)
{
    int64_t w = c->store_wait_ns;
    for (uint16_t k = 8; k <= h->retries && w < c->sync_wait_ns; k += 8)
        w *= 2;
    return w < c->sync_wait_ns ? w : c->sync_wait_ns;
}

/* dfu_checkpoint. */
static int on_checkpoint(struct client_cc_host *h, const struct client_cc_host_cfg *c, int64_t now,
                         const struct client_cc_host_ctx *cx)
{
    struct fw_cc_dfu_sync_reply r;
    int rc = sync(h, &r, true, now, cx);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    bool busy = r.state != FW_CC_DFU_HOST_INACTIVE;
    if (r.img_length != c->img_length || r.img_csum != c->img_csum ||
        (!busy && r.cur_offset != c->img_length))
        return end(h, CLIENT_CC_HOST_END_FAILED, now, cx); /* "DFU interrupted by device" */
    if (r.state == FW_CC_DFU_HOST_STORING) {
        h->retries++;
        return next(h, CLIENT_CC_HOST_CHECKPOINT, now + c->report_ns + store_wait(h, c), cx);
    }
    if (busy && r.cur_offset != h->off)
        return end(h, CLIENT_CC_HOST_END_FAILED, now, cx); /* "Mismatching offset" */
    if (h->off >= c->img_length)
        return next(h, CLIENT_CC_HOST_FINAL, now + c->report_ns, cx);
    h->checkpoint = min_u32(h->checkpoint + h->sync_buf, c->img_length);
    return next(h, CLIENT_CC_HOST_DATA, now + c->report_ns, cx);
}

/* dfu_transfer's last dfu_sync_wait_until_inactive: the device must be idle at our offset.
 * Any busy state is waited for here, ACTIVE_OTHER too (as the tool does). */
static int on_final(struct client_cc_host *h, const struct client_cc_host_cfg *c, int64_t now,
                    const struct client_cc_host_ctx *cx)
{
    struct fw_cc_dfu_sync_reply r;
    int rc = sync(h, &r, false, now, cx);
    if (rc != 0)
        return rc < 0 ? rc : 0;
    if (r.state != FW_CC_DFU_HOST_INACTIVE)
        return next(h, CLIENT_CC_HOST_FINAL, now + c->report_ns + c->sync_wait_ns, cx);
    return end(h, r.cur_offset == h->off ? CLIENT_CC_HOST_END_DONE : CLIENT_CC_HOST_END_FAILED, now,
               cx);
}

static int on_timer(struct client_cc_host *h, const struct client_cc_host_cfg *c, int64_t now,
                    const struct client_cc_host_ctx *cx)
{
    switch (h->state) {
    case CLIENT_CC_HOST_SYNC_INACTIVE:
        return on_sync_inactive(h, c, now, cx);
    case CLIENT_CC_HOST_START:
        return on_start(h, c, now, cx);
    case CLIENT_CC_HOST_STARTED:
        return on_started(h, c, now, cx);
    case CLIENT_CC_HOST_DATA:
        return on_data(h, c, now, cx);
    case CLIENT_CC_HOST_CHECKPOINT:
        return on_checkpoint(h, c, now, cx);
    case CLIENT_CC_HOST_FINAL:
        return on_final(h, c, now, cx);
    default:
        return CLIENT_CC_HOST_UNEXPECTED; /* IDLE, ENDED: nothing armed */
    }
}

static void check(const struct client_cc_host *h, const struct client_cc_host_cfg *c)
{
#ifndef NDEBUG
    assert(h->state < CLIENT_CC_HOST_STATE_COUNT);
    assert((h->state == CLIENT_CC_HOST_ENDED) == (h->end != CLIENT_CC_HOST_END_NONE));
    if (h->state == CLIENT_CC_HOST_DATA || h->state == CLIENT_CC_HOST_CHECKPOINT ||
        h->state == CLIENT_CC_HOST_FINAL)
        assert(h->off <= h->checkpoint && h->checkpoint <= c->img_length);
#else
    (void)h, (void)c;
#endif
}

int client_cc_host_step(struct client_cc_host *h, const struct client_cc_host_cfg *cfg,
                        enum client_cc_host_input in, int64_t now,
                        const struct client_cc_host_ctx *cx)
{
    if ((unsigned)in >= CLIENT_CC_HOST_INPUT_COUNT || cfg->payload == 0 || cfg->report_ns <= 0)
        return SIM_EINVAL;
    int rc;
    switch (in) {
    case CLIENT_CC_HOST_IN_START:
        if (h->state != CLIENT_CC_HOST_IDLE)
            return CLIENT_CC_HOST_UNEXPECTED;
        rc = on_sync_inactive(h, cfg, now, cx);
        break;
    case CLIENT_CC_HOST_IN_TIMER:
        rc = on_timer(h, cfg, now, cx);
        break;
    case CLIENT_CC_HOST_IN_RESET:
    default:
        /* A reset before the run or after it is no event for the host. */
        if (h->state == CLIENT_CC_HOST_IDLE || h->state == CLIENT_CC_HOST_ENDED)
            return 0;
        rc = end(h, CLIENT_CC_HOST_END_LOST, now, cx);
        break;
    }
    check(h, cfg);
    return rc;
}
