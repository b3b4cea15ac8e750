/* models/serve/attempts.c - attempts from the wire (definitions in attempts.h). */
#include "models/serve/attempts.h"

#include <string.h>

#include "models/smp/frame.h"
#include "models/smp/img_mgmt.h"
#include "models/smp/mgmt.h"
#include "models/smp/os_mgmt.h"

#define CLIENT_NAME "external" /* recorder_attempt.client of a serve session's attempts */

static void window_reset(struct serve_attempts *t)
{
    t->window_ns = RECORDER_NONE;
    t->validate_ns = RECORDER_NONE;
}

void serve_attempts_init(struct serve_attempts *t)
{
    memset(t, 0, sizeof(*t));
    window_reset(t);
}

void serve_attempts_request(struct serve_attempts *t, const uint8_t *p, size_t n, int64_t now)
{
    struct smp_frame_hdr h;
    if (smp_frame_hdr_decode(&h, p, n) != 0)
        return;
    struct serve_attempts_req *r = &t->req[h.seq];
    *r = (struct serve_attempts_req){
        .at = now, .group = h.group, .id = h.id, .op = h.op, .valid = true};
    size_t plen = n - SMP_MGMT_HDR_SIZE < h.len ? n - SMP_MGMT_HDR_SIZE : h.len;
    struct smp_frame_field f[] = {
        {.key = "off", .type = SMP_FRAME_T_U32},
        {.key = "len", .type = SMP_FRAME_T_U32},
        {.key = "data", .type = SMP_FRAME_T_BSTR},
        {.key = "confirm", .type = SMP_FRAME_T_BOOL},
    };
    if (h.group != SMP_MGMT_GROUP_IMAGE || h.op != SMP_MGMT_OP_WRITE ||
        smp_frame_map_decode(p + SMP_MGMT_HDR_SIZE, plen, f, 4) != 0)
        return;
    r->off = f[0].found ? f[0].u32 : 0;
    r->len = f[1].found ? f[1].u32 : 0;
    r->data_len = f[2].found ? (uint32_t)f[2].str_len : 0;
    r->confirm = f[3].found && f[3].b;
}

static void end(struct serve_attempts *t, int64_t now, const char *outcome, const char *error,
                const struct serve_attempts_ctx *cx)
{
    t->a.end_ns = now;
    t->a.outcome = outcome;
    t->a.error = error;
    cx->end(cx->env, &t->a);
    t->open = false;
    window_reset(t);
}

static void begin(struct serve_attempts *t, const struct serve_attempts_req *r,
                  const struct serve_attempts_ctx *cx)
{
    int64_t start = t->window_ns != RECORDER_NONE ? t->window_ns : r->at;
    t->a = (struct recorder_attempt){
        .attempt_id = RECORDER_NONE,
        .gateway_id = RECORDER_NONE,
        .client = CLIENT_NAME,
        .start_ns = start,
        .connect_ns = start,
        .validate_ns = t->validate_ns,
        .upload_start_ns = r->at,
        .upload_end_ns = RECORDER_NONE,
        .test_ns = RECORDER_NONE,
        .reset_ns = RECORDER_NONE,
        .swap_start_ns = RECORDER_NONE,
        .swap_end_ns = RECORDER_NONE,
        .reconnect_ns = RECORDER_NONE,
        .confirm_ns = RECORDER_NONE,
        .end_ns = RECORDER_NONE,
    };
    t->open = true;
    t->upload_done = t->reset_seen = false;
    t->max_off = 0;
    t->image_len = r->len;
    t->chunk_seq = 0;
    cx->begin(cx->env, start);
}

static void on_upload(struct serve_attempts *t, const struct serve_attempts_req *r, bool ok,
                      int32_t rc, uint32_t rsp_off, bool has_off, int64_t now,
                      const struct serve_attempts_ctx *cx)
{
    if (ok && r->off == 0) {
        bool resend = t->open && !t->upload_done && t->a.chunks <= 1;
        if (!resend) {
            if (t->open)
                end(t, now, "failed", "a new upload began", cx);
            begin(t, r, cx);
        }
    }
    if (!t->open || t->upload_done)
        return;
    struct recorder_chunk c = {.seq = t->chunk_seq++,
                               .offset = r->off,
                               .len = r->data_len,
                               .sent_ns = r->at,
                               .acked_ns = now,
                               .rc = rc};
    cx->chunk(cx->env, &c);
    if (!ok)
        return;
    t->a.chunks++;
    t->a.bytes_sent += r->data_len;
    if (r->off < t->max_off) {
        t->a.bytes_resent += r->data_len;
        t->a.retransmissions++;
    }
    if (r->off + r->data_len > t->max_off)
        t->max_off = r->off + r->data_len;
    if (has_off && t->image_len > 0 && rsp_off >= t->image_len) {
        t->upload_done = true;
        t->a.upload_end_ns = now;
    }
}

void serve_attempts_response(struct serve_attempts *t, const uint8_t *p, size_t n, int64_t now,
                             const struct serve_attempts_ctx *cx)
{
    struct smp_frame_hdr h;
    if (smp_frame_hdr_decode(&h, p, n) != 0)
        return;
    struct serve_attempts_req r = t->req[h.seq];
    if (!r.valid || r.group != h.group || r.id != h.id)
        return; /* not an answer to a request we saw (or already answered) */
    t->req[h.seq].valid = false;
    size_t plen = n - SMP_MGMT_HDR_SIZE < h.len ? n - SMP_MGMT_HDR_SIZE : h.len;
    struct smp_frame_field f[] = {
        {.key = "rc", .type = SMP_FRAME_T_U32},
        {.key = "err", .type = SMP_FRAME_T_ANY},
        {.key = "off", .type = SMP_FRAME_T_U32},
    };
    if (smp_frame_map_decode(p + SMP_MGMT_HDR_SIZE, plen, f, 3) != 0)
        return;
    bool ok = !(f[0].found && f[0].u32 != 0) && !f[1].found;
    int32_t rc = f[0].found ? (int32_t)f[0].u32 : f[1].found ? -1 : 0;
    if (t->window_ns == RECORDER_NONE)
        t->window_ns = r.at;
    bool read = r.op == SMP_MGMT_OP_READ, write = r.op == SMP_MGMT_OP_WRITE;
    if (ok && t->validate_ns == RECORDER_NONE && !t->open && read &&
        ((r.group == SMP_MGMT_GROUP_IMAGE && r.id == SMP_IMG_MGMT_ID_STATE) ||
         (r.group == SMP_MGMT_GROUP_OS && r.id == SMP_OS_MGMT_ID_BOOTLOADER_INFO)))
        t->validate_ns = r.at;
    if (r.group == SMP_MGMT_GROUP_IMAGE && r.id == SMP_IMG_MGMT_ID_UPLOAD && write) {
        on_upload(t, &r, ok, rc < 0 ? RECORDER_NONE : rc, f[2].u32, f[2].found, now, cx);
        return;
    }
    if (!t->open || !t->upload_done || !ok)
        return;
    struct serve_attempts_dev dev;
    cx->device(cx->env, &dev);
    bool state_write = r.group == SMP_MGMT_GROUP_IMAGE && r.id == SMP_IMG_MGMT_ID_STATE && write;
    if (!t->reset_seen) {
        if (state_write && t->a.test_ns == RECORDER_NONE)
            t->a.test_ns = now;
        if (r.group == SMP_MGMT_GROUP_OS && r.id == SMP_OS_MGMT_ID_RESET && write) {
            t->a.reset_ns = now;
            t->reset_seen = true;
            t->boots_at_reset = dev.n_boots;
        }
        return;
    }
    if (dev.n_boots == t->boots_at_reset)
        return; /* answered before the device went down for the reset */
    if (t->a.reconnect_ns == RECORDER_NONE)
        t->a.reconnect_ns = now;
    if (state_write && r.confirm && t->a.confirm_ns == RECORDER_NONE)
        t->a.confirm_ns = now;
    if (dev.runs_update && dev.confirmed)
        end(t, now, "updated", NULL, cx);
    else if (!dev.runs_update && dev.ran_update)
        end(t, now, "reverted", NULL, cx);
    else if (!dev.runs_update)
        end(t, now, "failed", "the new image did not run after the reset", cx);
}

void serve_attempts_finish(struct serve_attempts *t, int64_t now,
                           const struct serve_attempts_ctx *cx)
{
    if (!t->open)
        return;
    struct serve_attempts_dev dev;
    cx->device(cx->env, &dev);
    if (dev.runs_update && dev.confirmed)
        end(t, now, "updated", NULL, cx);
    else
        end(t, now, "cancelled", "the serve session ended", cx);
}
