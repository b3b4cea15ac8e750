/* models/smp/server.c - SMP request loop, dispatch and response building.
 * Source of every rule: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/smp/src/smp.c. */
#include "models/smp/server.h"

#include "sim/error.h"

/* Bytes of the largest SMP-level error response: header, 0xBF, "rc", int32, 0xFF. */
#define ERR_RSP_MAX (SMP_MGMT_HDR_SIZE + 1 + 3 + 5 + 1)

struct smp_server_cfg smp_server_cfg_default(void)
{
    return (struct smp_server_cfg){.support_original_protocol = true};
}

void smp_server_init(struct smp_server *s, const struct smp_server_cfg *cfg,
                     const struct smp_callbacks *callbacks)
{
    s->cfg = *cfg;
    s->callbacks = callbacks;
    s->n_groups = 0;
}

void smp_server_fini(struct smp_server *s)
{
    s->n_groups = 0;
    s->callbacks = NULL;
}

static const struct smp_server_group *find_group(const struct smp_server *s, uint16_t id)
{
    for (size_t i = 0; i < s->n_groups; i++)
        if (s->groups[i].id == id)
            return &s->groups[i];
    return NULL;
}

int smp_server_group_add(struct smp_server *s, const struct smp_server_group *g)
{
    if (g->handlers == NULL || find_group(s, g->id) != NULL)
        return SIM_EINVAL;
    if (s->n_groups >= SMP_SERVER_MAX_GROUPS)
        return SIM_ERANGE;
    s->groups[s->n_groups++] = *g;
    return 0;
}

void smp_server_req_err(struct smp_server_req *rq, uint16_t group, uint16_t rc)
{
    if (rc == 0)
        return;
    rq->err_group = group;
    rq->err_rc = rc;
    smp_frame_put_text(rq->w, "err");
    smp_frame_put_map(rq->w, SMP_FRAME_INDEF);
    smp_frame_put_text(rq->w, "group");
    smp_frame_put_uint(rq->w, group);
    smp_frame_put_text(rq->w, "rc");
    smp_frame_put_uint(rq->w, rc);
    smp_frame_put_end(rq->w);
}

/* smp_rsp_op: READ is answered READ_RSP, everything else WRITE_RSP. */
static uint8_t rsp_op(uint8_t req_op)
{
    return req_op == SMP_MGMT_OP_READ ? SMP_MGMT_OP_READ_RSP : SMP_MGMT_OP_WRITE_RSP;
}

/* smp_make_rsp_hdr: copy group, seq, id; flags 0; version capped at v2. */
static void put_rsp_hdr(const struct smp_frame_hdr *req, uint8_t *frame, size_t body_len)
{
    struct smp_frame_hdr h = {
        .len = (uint16_t)body_len,
        .group = req->group,
        .op = rsp_op(req->op),
        .version = req->version > SMP_MGMT_VERSION_2 ? SMP_MGMT_VERSION_2 : req->version,
        .flags = 0,
        .seq = req->seq,
        .id = req->id,
    };
    smp_frame_hdr_encode(&h, frame);
}

static int send_frame(const struct smp_server_ctx *cx, const uint8_t *frame, size_t n,
                      struct smp_server_stats *st)
{
    int rc = cx->send(cx->env, frame, n);
    if (rc == 0)
        st->n_responses++;
    return rc;
}

/* smp_on_err + smp_build_err_rsp: {"rc": status} replaces any partial response. The
 * response buffer is used if there is one, else a small one stands in for the request
 * buffer Zephyr reuses. A buffer too small for even this is not sent. */
static int send_err(const struct smp_frame_hdr *req, int status, uint8_t *rsp, size_t rsp_cap,
                    const struct smp_server_ctx *cx, struct smp_server_stats *st)
{
    uint8_t local[ERR_RSP_MAX];
    if (rsp == NULL) {
        rsp = local;
        rsp_cap = sizeof(local);
    }
    if (rsp_cap < SMP_MGMT_HDR_SIZE)
        return 0;
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, rsp + SMP_MGMT_HDR_SIZE, rsp_cap - SMP_MGMT_HDR_SIZE);
    smp_frame_put_map(&w, SMP_FRAME_INDEF);
    smp_frame_put_text(&w, "rc");
    smp_frame_put_int(&w, status);
    smp_frame_put_end(&w);
    if (w.overflow)
        return 0;
    put_rsp_hdr(req, rsp, w.len);
    return send_frame(cx, rsp, SMP_MGMT_HDR_SIZE + w.len, st);
}

/* CMD_RECV hook: may veto the command (rc) or answer it with a group error (err). */
static int cmd_recv(const struct smp_server *s, struct smp_server_req *rq, bool *skip)
{
    struct smp_callbacks_cmd arg = {.group = rq->hdr.group, .id = rq->hdr.id, .op = rq->hdr.op};
    int32_t rc;
    uint16_t group;
    enum smp_callbacks_status st = smp_callbacks_notify(s->callbacks, SMP_CALLBACKS_EVT_CMD_RECV,
                                                        &arg, sizeof(arg), rq->now, &rc, &group);
    *skip = st != SMP_CALLBACKS_OK;
    if (st == SMP_CALLBACKS_ERROR_RC)
        return rc;
    if (st == SMP_CALLBACKS_ERROR_ERR)
        smp_server_req_err(rq, group, (uint16_t)rc);
    return 0;
}

/* smp_handle_single_payload: find the handler, run it between map start and map end.
 * Returns an SMP rc (>= 0) or a negative sim_err. */
static int handle_payload(const struct smp_server *s, struct smp_server_req *rq,
                          bool *handler_found)
{
    const struct smp_server_group *g = find_group(s, rq->hdr.group);
    if (g == NULL || rq->hdr.id >= g->n_handlers)
        return SMP_MGMT_ERR_ENOTSUP;
    const struct smp_server_handler *h = &g->handlers[rq->hdr.id];
    smp_server_handler_fn fn = rq->hdr.op == SMP_MGMT_OP_READ ? h->read : h->write;
    if (fn == NULL)
        return SMP_MGMT_ERR_ENOTSUP;
    *handler_found = true;

    smp_frame_put_map(rq->w, SMP_FRAME_INDEF);
    if (rq->w->overflow)
        return SMP_MGMT_ERR_EMSGSIZE;
    bool skip = false;
    int rc = cmd_recv(s, rq, &skip);
    if (!skip)
        rc = fn(g->state, rq);
    if (rc < 0)
        return rc;
    smp_frame_put_end(rq->w);
    if (rc == 0 && rq->w->overflow)
        rc = SMP_MGMT_ERR_EMSGSIZE;
    return rc;
}

/* smp_handle_single_req: version checks, dispatch, v1 translation of group errors.
 * On 0 the response frame is complete in rsp[0..*len). */
static int handle_req(const struct smp_server *s, struct smp_server_req *rq, uint8_t *rsp,
                      size_t *len, bool *handler_found)
{
    if (rq->hdr.version == SMP_MGMT_VERSION_1 && !s->cfg.support_original_protocol)
        return SMP_MGMT_ERR_UNSUPPORTED_TOO_OLD;
    if (rq->hdr.version > SMP_MGMT_VERSION_2)
        return SMP_MGMT_ERR_UNSUPPORTED_TOO_NEW;
    int rc = handle_payload(s, rq, handler_found);
    if (rc != 0)
        return rc;
    if (rq->err_rc != 0 && rq->hdr.version == SMP_MGMT_VERSION_1) {
        const struct smp_server_group *g = find_group(s, rq->err_group);
        return (g != NULL && g->translate != NULL) ? g->translate(rq->err_rc)
                                                   : SMP_MGMT_ERR_EUNKNOWN;
    }
    put_rsp_hdr(&rq->hdr, rsp, rq->w->len);
    *len = SMP_MGMT_HDR_SIZE + rq->w->len;
    return 0;
}

static void cmd_done(const struct smp_server *s, const struct smp_frame_hdr *h, int err,
                     int64_t now)
{
    struct smp_callbacks_cmd arg = {.group = h->group, .id = h->id, .err = err};
    int32_t rc;
    uint16_t group;
    (void)smp_callbacks_notify(s->callbacks, SMP_CALLBACKS_EVT_CMD_DONE, &arg, sizeof(arg), now,
                               &rc, &group);
}

int smp_server_process(const struct smp_server *s, const uint8_t *pkt, size_t n, uint8_t *rsp,
                       size_t rsp_cap, int64_t now, const struct smp_server_ctx *cx,
                       struct smp_server_stats *stats)
{
    struct smp_server_stats local_stats;
    struct smp_server_stats *st = stats ? stats : &local_stats;
    *st = (struct smp_server_stats){0};
    struct smp_frame_hdr hdr;
    size_t off = 0;
    int rc = 0;
    bool handler_found = false;

    while (off < n) {
        handler_found = false;
        if (smp_frame_hdr_decode(&hdr, pkt + off, n - off) != 0) {
            st->stop_rc = SMP_MGMT_ERR_ECORRUPT; /* no valid header: nothing to answer */
            return 0;
        }
        off += SMP_MGMT_HDR_SIZE;
        if (n - off < hdr.len) {
            rc = SMP_MGMT_ERR_ECORRUPT;
            break;
        }
        st->n_requests++;
        if (hdr.op != SMP_MGMT_OP_READ && hdr.op != SMP_MGMT_OP_WRITE) {
            rc = SMP_MGMT_ERR_ENOTSUP;
            break;
        }
        if (rsp == NULL) {
            rc = SMP_MGMT_ERR_ENOMEM;
            break;
        }
        if (rsp_cap < SMP_MGMT_HDR_SIZE) {
            rc = SMP_MGMT_ERR_EMSGSIZE;
            break;
        }
        struct smp_frame_writer w;
        smp_frame_writer_init(&w, rsp + SMP_MGMT_HDR_SIZE, rsp_cap - SMP_MGMT_HDR_SIZE);
        struct smp_server_req rq = {.hdr = hdr, .payload = pkt + off, .w = &w, .now = now};
        size_t len = 0;
        rc = handle_req(s, &rq, rsp, &len, &handler_found);
        if (rc < 0)
            return rc;
        if (rc != 0)
            break;
        rc = send_frame(cx, rsp, len, st);
        if (rc != 0)
            return rc;
        off += hdr.len;
        cmd_done(s, &hdr, 0, now);
    }
    if (rc == 0)
        return 0;
    st->stop_rc = rc;
    int err = send_err(&hdr, rc, rsp, rsp_cap, cx, st);
    if (handler_found)
        cmd_done(s, &hdr, rc, now);
    return err;
}
