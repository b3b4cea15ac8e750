/* tests/test_smp_server.c - SMP dispatcher: request loop, routing, v1/v2 error shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/server.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fake transport: records every frame ---------------------------------------- */

#define MAX_FRAMES 8
struct fake_tp {
    size_t n_frames;
    uint8_t frames[MAX_FRAMES][512];
    size_t lens[MAX_FRAMES];
    int fail_rc; /* returned by send when non-zero */
};

static int fake_send(void *env, const uint8_t *frame, size_t n)
{
    struct fake_tp *tp = env;
    if (tp->fail_rc)
        return tp->fail_rc;
    assert_true(tp->n_frames < MAX_FRAMES);
    assert_true(n <= sizeof(tp->frames[0]));
    memcpy(tp->frames[tp->n_frames], frame, n);
    tp->lens[tp->n_frames++] = n;
    return 0;
}

/* ---- a test group (64, PERUSER) ------------------------------------------------- */

#define TG 64

static int tg_read_value(void *state, struct smp_server_req *rq)
{
    (void)state;
    smp_frame_put_text(rq->w, "v");
    smp_frame_put_uint(rq->w, 1);
    return 0;
}

static int tg_write_group_err(void *state, struct smp_server_req *rq)
{
    (void)state;
    smp_server_req_err(rq, rq->hdr.group, 5);
    return 0;
}

static int tg_write_rc(void *state, struct smp_server_req *rq)
{
    (void)state;
    smp_frame_put_text(rq->w, "partial"); /* discarded: the rc replaces the map */
    return 6;
}

static int tg_read_big(void *state, struct smp_server_req *rq)
{
    (void)state;
    static const char big[600] = {0};
    smp_frame_put_textn(rq->w, big, sizeof(big));
    return 0;
}

static int tg_read_sim_fail(void *state, struct smp_server_req *rq)
{
    (void)state;
    (void)rq;
    return SIM_EINTERNAL;
}

static const struct smp_server_handler tg_handlers[] = {
    [0] = {.read = tg_read_value, .write = tg_write_group_err},
    [1] = {.write = tg_write_rc},
    [2] = {.read = tg_read_big},
    [3] = {.read = tg_read_sim_fail},
};

static int tg_translate(uint16_t rc)
{
    return rc == 5 ? 3 : 1;
}

struct fixture {
    struct smp_server srv;
    struct smp_callbacks cbs;
    struct fake_tp tp;
    struct smp_server_ctx cx;
    uint8_t rsp[384];
};

static void fixture_init(struct fixture *f, bool original)
{
    memset(f, 0, sizeof(*f));
    struct smp_server_cfg cfg = smp_server_cfg_default();
    cfg.support_original_protocol = original;
    smp_callbacks_init(&f->cbs);
    smp_server_init(&f->srv, &cfg, &f->cbs);
    struct smp_server_group g = {.handlers = tg_handlers,
                                 .n_handlers = ARRAY_LEN(tg_handlers),
                                 .translate = tg_translate,
                                 .id = TG};
    assert_int_equal(smp_server_group_add(&f->srv, &g), 0);
    g.id = TG + 1; /* same handlers, no translation function */
    g.translate = NULL;
    assert_int_equal(smp_server_group_add(&f->srv, &g), 0);
    f->cx = (struct smp_server_ctx){.env = &f->tp, .send = fake_send};
}

static void hex(char *out, size_t cap, const uint8_t *b, size_t n)
{
    out[0] = 0;
    for (size_t i = 0; i < n && strlen(out) + 3 < cap; i++)
        snprintf(out + strlen(out), cap - strlen(out), "%02x", b[i]);
}

static void check_frame(const char *name, const struct fake_tp *tp, size_t i, const uint8_t *want,
                        size_t want_n)
{
    if (i >= tp->n_frames)
        fail_msg("%s: frame %zu missing (%zu sent)", name, i, tp->n_frames);
    if (tp->lens[i] == want_n && memcmp(tp->frames[i], want, want_n) == 0)
        return;
    char g[512], w[512];
    hex(g, sizeof(g), tp->frames[i], tp->lens[i]);
    hex(w, sizeof(w), want, want_n);
    fail_msg("%s: frame %zu\n  got  %s\n  want %s", name, i, g, w);
}

/* Response bodies, as Zephyr's zcbor encoder emits them. */
#define RC_BODY(rc) 0xbf, 0x62, 'r', 'c', (rc), 0xff
#define ERR_BODY(grp, rc)                                                                          \
    0xbf, 0x63, 'e', 'r', 'r', 0xbf, 0x65, 'g', 'r', 'o', 'u', 'p', 0x18, (grp), 0x62, 'r', 'c',   \
        (rc), 0xff, 0xff

struct dispatch_case {
    const char *name;
    bool original; /* support_original_protocol */
    uint8_t req[40];
    size_t req_n;
    size_t n_rsp;
    uint8_t rsp[3][40];
    size_t rsp_n[3];
};

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/smp/src/smp.c @main */
static const struct dispatch_case dispatch_cases[] = {
    {"v2 read succeeds with READ_RSP v2 and the handler's map",
     true,
     {0x08, 0, 0, 0, 0, TG, 0x07, 0},
     8,
     1,
     {{0x09, 0, 0, 5, 0, TG, 0x07, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {13}},
    {"v1 read succeeds with READ_RSP v1",
     true,
     {0x00, 0, 0, 0, 0, TG, 0x09, 0},
     8,
     1,
     {{0x01, 0, 0, 5, 0, TG, 0x09, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {13}},
    {"request flags are not copied into the response",
     true,
     {0x08, 0xff, 0, 0, 0, TG, 0x07, 0},
     8,
     1,
     {{0x09, 0, 0, 5, 0, TG, 0x07, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {13}},
    {"v2 group error is err{group, rc} in a WRITE_RSP",
     true,
     {0x0a, 0, 0, 0, 0, TG, 0x01, 0},
     8,
     1,
     {{0x0b, 0, 0, 20, 0, TG, 0x01, 0, ERR_BODY(TG, 5)}},
     {28}},
    {"v1 group error is translated to rc",
     true,
     {0x02, 0, 0, 0, 0, TG, 0x01, 0},
     8,
     1,
     {{0x03, 0, 0, 6, 0, TG, 0x01, 0, RC_BODY(3)}},
     {14}},
    {"v1 group error of a group without translation is EUNKNOWN",
     true,
     {0x02, 0, 0, 0, 0, TG + 1, 0x01, 0},
     8,
     1,
     {{0x03, 0, 0, 6, 0, TG + 1, 0x01, 0, RC_BODY(1)}},
     {14}},
    {"handler rc replaces the partial map (v2)",
     true,
     {0x0a, 0, 0, 0, 0, TG, 0x02, 1},
     8,
     1,
     {{0x0b, 0, 0, 6, 0, TG, 0x02, 1, RC_BODY(6)}},
     {14}},
    {"unknown group is ENOTSUP",
     true,
     {0x08, 0, 0, 0, 0x12, 0x34, 0x03, 0},
     8,
     1,
     {{0x09, 0, 0, 6, 0x12, 0x34, 0x03, 0, RC_BODY(8)}},
     {14}},
    {"unknown command id is ENOTSUP",
     true,
     {0x08, 0, 0, 0, 0, TG, 0x03, 200},
     8,
     1,
     {{0x09, 0, 0, 6, 0, TG, 0x03, 200, RC_BODY(8)}},
     {14}},
    {"READ of a write-only command is ENOTSUP",
     true,
     {0x08, 0, 0, 0, 0, TG, 0x03, 1},
     8,
     1,
     {{0x09, 0, 0, 6, 0, TG, 0x03, 1, RC_BODY(8)}},
     {14}},
    {"op READ_RSP is ENOTSUP answered with op WRITE_RSP",
     true,
     {0x09, 0, 0, 0, 0, TG, 0x03, 0},
     8,
     1,
     {{0x0b, 0, 0, 6, 0, TG, 0x03, 0, RC_BODY(8)}},
     {14}},
    {"op 7 is ENOTSUP",
     true,
     {0x0f, 0, 0, 0, 0, TG, 0x03, 0},
     8,
     1,
     {{0x0b, 0, 0, 6, 0, TG, 0x03, 0, RC_BODY(8)}},
     {14}},
    {"version 2 is too new; response says v2",
     true,
     {0x10, 0, 0, 0, 0, TG, 0x04, 0},
     8,
     1,
     {{0x09, 0, 0, 6, 0, TG, 0x04, 0, RC_BODY(13)}},
     {14}},
    {"version 3 is too new even for an unknown group",
     true,
     {0x18, 0, 0, 0, 0x7f, 0x7f, 0x04, 0},
     8,
     1,
     {{0x09, 0, 0, 6, 0x7f, 0x7f, 0x04, 0, RC_BODY(13)}},
     {14}},
    {"v1 without original-protocol support is too old",
     false,
     {0x00, 0, 0, 0, 0, TG, 0x05, 0},
     8,
     1,
     {{0x01, 0, 0, 6, 0, TG, 0x05, 0, RC_BODY(12)}},
     {14}},
    {"v2 still works without original-protocol support",
     false,
     {0x08, 0, 0, 0, 0, TG, 0x05, 0},
     8,
     1,
     {{0x09, 0, 0, 5, 0, TG, 0x05, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {13}},
    {"data length past the packet is ECORRUPT",
     true,
     {0x08, 0, 0, 4, 0, TG, 0x06, 0, 0xa0, 0xa0},
     10,
     1,
     {{0x09, 0, 0, 6, 0, TG, 0x06, 0, RC_BODY(9)}},
     {14}},
    {"truncated header gets no response", true, {0x08, 0, 0, 0, 0}, 5, 0, {{0}}, {0}},
    {"two requests in one packet get two responses",
     true,
     {0x08, 0, 0, 0, 0, TG, 0x01, 0, 0x08, 0, 0, 0, 0, TG, 0x02, 0},
     16,
     2,
     {{0x09, 0, 0, 5, 0, TG, 0x01, 0, 0xbf, 0x61, 'v', 0x01, 0xff},
      {0x09, 0, 0, 5, 0, TG, 0x02, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {13, 13}},
    {"a request's payload is skipped to reach the next one",
     true,
     {0x08, 0, 0, 2, 0, TG, 0x01, 0, 0xbf, 0xff, 0x08, 0, 0, 0, 0, TG, 0x02, 0},
     18,
     2,
     {{0x09, 0, 0, 5, 0, TG, 0x01, 0, 0xbf, 0x61, 'v', 0x01, 0xff},
      {0x09, 0, 0, 5, 0, TG, 0x02, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {13, 13}},
    {"trailing bytes too short for a header are dropped silently",
     true,
     {0x08, 0, 0, 0, 0, TG, 0x01, 0, 0x08, 0, 0},
     11,
     1,
     {{0x09, 0, 0, 5, 0, TG, 0x01, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {13}},
    {"the first error stops the packet",
     true,
     {0x08, 0, 0, 0, 0x7f, 0x7f, 0x01, 0, 0x08, 0, 0, 0, 0, TG, 0x02, 0},
     16,
     1,
     {{0x09, 0, 0, 6, 0x7f, 0x7f, 0x01, 0, RC_BODY(8)}},
     {14}},
    {"a v1 translated group error stops the packet",
     true,
     {0x02, 0, 0, 0, 0, TG, 0x01, 0, 0x08, 0, 0, 0, 0, TG, 0x02, 0},
     16,
     1,
     {{0x03, 0, 0, 6, 0, TG, 0x01, 0, RC_BODY(3)}},
     {14}},
    {"a v2 group error does not stop the packet",
     true,
     {0x0a, 0, 0, 0, 0, TG, 0x01, 0, 0x08, 0, 0, 0, 0, TG, 0x02, 0},
     16,
     2,
     {{0x0b, 0, 0, 20, 0, TG, 0x01, 0, ERR_BODY(TG, 5)},
      {0x09, 0, 0, 5, 0, TG, 0x02, 0, 0xbf, 0x61, 'v', 0x01, 0xff}},
     {28, 13}},
    {"second request with short body: first answered, then ECORRUPT",
     true,
     {0x08, 0, 0, 0, 0, TG, 0x01, 0, 0x08, 0, 0, 9, 0, TG, 0x02, 0, 0xa0},
     17,
     2,
     {{0x09, 0, 0, 5, 0, TG, 0x01, 0, 0xbf, 0x61, 'v', 0x01, 0xff},
      {0x09, 0, 0, 6, 0, TG, 0x02, 0, RC_BODY(9)}},
     {13, 14}},
    {"response too big for the buffer is EMSGSIZE",
     true,
     {0x08, 0, 0, 0, 0, TG, 0x01, 2},
     8,
     1,
     {{0x09, 0, 0, 6, 0, TG, 0x01, 2, RC_BODY(7)}},
     {14}},
};

static void test_dispatch_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(dispatch_cases); i++) {
        const struct dispatch_case *c = &dispatch_cases[i];
        struct fixture f;
        fixture_init(&f, c->original);
        int rc = smp_server_process(&f.srv, c->req, c->req_n, f.rsp, sizeof(f.rsp), 0, &f.cx, NULL);
        if (rc != 0)
            fail_msg("%s: process returned %d", c->name, rc);
        if (f.tp.n_frames != c->n_rsp)
            fail_msg("%s: %zu frames, want %zu", c->name, f.tp.n_frames, c->n_rsp);
        for (size_t k = 0; k < c->n_rsp; k++)
            check_frame(c->name, &f.tp, k, c->rsp[k], c->rsp_n[k]);
    }
}

static void test_stats_count_requests_and_stop_rc(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, true);
    const uint8_t req[] = {0x08, 0, 0, 0, 0, TG, 1, 0, 0x08, 0, 0, 0, 0, 0x7f, 2, 0};
    struct smp_server_stats st;
    assert_int_equal(
        smp_server_process(&f.srv, req, sizeof(req), f.rsp, sizeof(f.rsp), 0, &f.cx, &st), 0);
    assert_int_equal(st.n_requests, 2);
    assert_int_equal(st.n_responses, 2);
    assert_int_equal(st.stop_rc, SMP_MGMT_ERR_ENOTSUP);
}

static void test_no_response_buffer_is_answered_enomem(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, true);
    const uint8_t req[] = {0x08, 0, 0, 0, 0, TG, 0x21, 0};
    assert_int_equal(smp_server_process(&f.srv, req, sizeof(req), NULL, 0, 0, &f.cx, NULL), 0);
    const uint8_t want[] = {0x09, 0, 0, 6, 0, TG, 0x21, 0, RC_BODY(2)};
    check_frame("no free net_buf", &f.tp, 0, want, sizeof(want));
    assert_int_equal(f.tp.n_frames, 1);
}

static void test_simulator_failures_propagate(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, true);
    const uint8_t bad_handler[] = {0x08, 0, 0, 0, 0, TG, 0, 3};
    assert_int_equal(
        smp_server_process(&f.srv, bad_handler, 8, f.rsp, sizeof(f.rsp), 0, &f.cx, NULL),
        SIM_EINTERNAL);
    assert_int_equal(f.tp.n_frames, 0);
    f.tp.fail_rc = SIM_EIO;
    const uint8_t ok[] = {0x08, 0, 0, 0, 0, TG, 0, 0};
    assert_int_equal(smp_server_process(&f.srv, ok, 8, f.rsp, sizeof(f.rsp), 0, &f.cx, NULL),
                     SIM_EIO);
}

static void test_group_registry(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, true);
    struct smp_server_group g = {.handlers = tg_handlers, .n_handlers = 1, .id = TG};
    assert_int_equal(smp_server_group_add(&f.srv, &g), SIM_EINVAL); /* duplicate id */
    g.handlers = NULL;
    g.id = 1;
    assert_int_equal(smp_server_group_add(&f.srv, &g), SIM_EINVAL);
    g.handlers = tg_handlers;
    for (uint16_t id = 100; f.srv.n_groups < SMP_SERVER_MAX_GROUPS; id++) {
        g.id = id;
        assert_int_equal(smp_server_group_add(&f.srv, &g), 0);
    }
    g.id = 999;
    assert_int_equal(smp_server_group_add(&f.srv, &g), SIM_ERANGE);
}

/* ---- command status hooks -------------------------------------------------------- */

struct hook_log {
    enum smp_callbacks_status answer;
    int32_t rc;
    uint16_t group;
    size_t n_recv, n_done;
    struct smp_callbacks_cmd last_recv, last_done;
};

static enum smp_callbacks_status hook(void *env, uint32_t event, enum smp_callbacks_status prev,
                                      int32_t *rc, uint16_t *group, bool *abort_more,
                                      const void *data, size_t size, int64_t now)
{
    (void)prev;
    (void)abort_more;
    (void)now;
    struct hook_log *log = env;
    assert_int_equal(size, sizeof(struct smp_callbacks_cmd));
    if (event == SMP_CALLBACKS_EVT_CMD_DONE) {
        log->n_done++;
        log->last_done = *(const struct smp_callbacks_cmd *)data;
        return SMP_CALLBACKS_OK;
    }
    assert_int_equal(event, SMP_CALLBACKS_EVT_CMD_RECV);
    log->n_recv++;
    log->last_recv = *(const struct smp_callbacks_cmd *)data;
    *rc = log->rc;
    *group = log->group;
    return log->answer;
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @main
 * (version B vetoes commands from a single CMD_RECV hook with rc 11). */
static void test_cmd_recv_hook_vetoes_with_rc_or_err(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum smp_callbacks_status answer;
        uint8_t ver;
        uint8_t want[28];
        size_t want_n;
    } cases[] = {
        {"OK lets the handler run",
         SMP_CALLBACKS_OK,
         0x08,
         {0x09, 0, 0, 5, 0, TG, 0, 0, 0xbf, 0x61, 'v', 0x01, 0xff},
         13},
        {"ERROR_RC answers rc and skips the handler",
         SMP_CALLBACKS_ERROR_RC,
         0x08,
         {0x09, 0, 0, 6, 0, TG, 0, 0, RC_BODY(11)},
         14},
        {"ERROR_ERR answers err{group, rc} (v2)",
         SMP_CALLBACKS_ERROR_ERR,
         0x08,
         {0x09, 0, 0, 20, 0, TG, 0, 0, ERR_BODY(TG, 11)},
         28},
        {"ERROR_ERR on v1 is translated by the error's group",
         SMP_CALLBACKS_ERROR_ERR,
         0x00,
         {0x01, 0, 0, 6, 0, TG, 0, 0, RC_BODY(1)},
         14},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fixture f;
        fixture_init(&f, true);
        struct hook_log log = {.answer = cases[i].answer, .rc = 11, .group = TG};
        assert_int_equal(smp_callbacks_register(&f.cbs, SMP_CALLBACKS_EVT_GRP_ALL(1), hook, &log),
                         0);
        const uint8_t req[] = {cases[i].ver, 0, 0, 0, 0, TG, 0, 0};
        assert_int_equal(smp_server_process(&f.srv, req, 8, f.rsp, sizeof(f.rsp), 0, &f.cx, NULL),
                         0);
        check_frame(cases[i].name, &f.tp, 0, cases[i].want, cases[i].want_n);
        assert_int_equal(log.n_recv, 1);
        assert_int_equal(log.last_recv.group, TG);
        assert_int_equal(log.last_recv.op, SMP_MGMT_OP_READ);
        assert_int_equal(log.n_done, 1);
        int want_err = cases[i].answer == SMP_CALLBACKS_ERROR_RC                           ? 11
                       : (cases[i].answer == SMP_CALLBACKS_ERROR_ERR && cases[i].ver == 0) ? 1
                                                                                           : 0;
        if (log.last_done.err != want_err)
            fail_msg("%s: CMD_DONE err %d, want %d", cases[i].name, log.last_done.err, want_err);
    }
}

static void test_cmd_done_not_raised_without_handler(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, true);
    struct hook_log log = {.answer = SMP_CALLBACKS_OK};
    assert_int_equal(smp_callbacks_register(&f.cbs, SMP_CALLBACKS_EVT_GRP_ALL(1), hook, &log), 0);
    const uint8_t req[] = {0x08, 0, 0, 0, 0x7f, 0x7f, 0, 0};
    assert_int_equal(smp_server_process(&f.srv, req, 8, f.rsp, sizeof(f.rsp), 0, &f.cx, NULL), 0);
    assert_int_equal(log.n_recv, 0);
    assert_int_equal(log.n_done, 0);
}

/* ---- callbacks registry ---------------------------------------------------------- */

struct order_log {
    int calls[8];
    size_t n;
};
struct cb_env {
    struct order_log *log;
    int tag;
    enum smp_callbacks_status answer;
    int32_t rc;
    bool abort;
};

static enum smp_callbacks_status ordered_cb(void *env, uint32_t event,
                                            enum smp_callbacks_status prev, int32_t *rc,
                                            uint16_t *group, bool *abort_more, const void *data,
                                            size_t size, int64_t now)
{
    (void)event;
    (void)data;
    (void)size;
    (void)now;
    struct cb_env *e = env;
    e->log->calls[e->log->n++] = e->tag;
    if (e->abort)
        *abort_more = true;
    if (e->answer != SMP_CALLBACKS_OK && prev == SMP_CALLBACKS_OK) {
        *rc = e->rc;
        *group = 1;
    }
    return e->answer;
}

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/mgmt/src/mgmt.c @main */
static void test_callbacks_first_failure_wins_and_later_ones_still_run(void **state)
{
    (void)state;
    struct smp_callbacks c;
    smp_callbacks_init(&c);
    struct order_log log = {0};
    struct cb_env a = {&log, 1, SMP_CALLBACKS_OK, 0, false};
    struct cb_env b = {&log, 2, SMP_CALLBACKS_ERROR_RC, 11, false};
    struct cb_env d = {&log, 3, SMP_CALLBACKS_ERROR_ERR, 27, false};
    struct cb_env other = {&log, 4, SMP_CALLBACKS_ERROR_RC, 99, false};
    assert_int_equal(smp_callbacks_register(&c, SMP_CALLBACKS_EVT_ALL, ordered_cb, &a), 0);
    assert_int_equal(smp_callbacks_register(&c, SMP_CALLBACKS_EVT_IMG_ALL, ordered_cb, &b), 0);
    assert_int_equal(smp_callbacks_register(&c, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK, ordered_cb, &d),
                     0);
    assert_int_equal(smp_callbacks_register(&c, SMP_CALLBACKS_EVT_OS_RESET, ordered_cb, &other), 0);
    int32_t rc;
    uint16_t group;
    enum smp_callbacks_status s =
        smp_callbacks_notify(&c, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK, NULL, 0, 0, &rc, &group);
    assert_int_equal(s, SMP_CALLBACKS_ERROR_RC);
    assert_int_equal(rc, 11);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.calls[2], 3); /* still notified */
    /* an event of another id in the same group skips the single-event registration */
    log.n = 0;
    s = smp_callbacks_notify(&c, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED, NULL, 0, 0, &rc, &group);
    assert_int_equal(log.n, 2);
    /* abort_more stops the walk */
    log.n = 0;
    a.abort = true;
    s = smp_callbacks_notify(&c, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK, NULL, 0, 0, &rc, &group);
    assert_int_equal(s, SMP_CALLBACKS_OK);
    assert_int_equal(log.n, 1);
    assert_int_equal(rc, 0);
    /* NULL registry: hooks not configured */
    assert_int_equal(smp_callbacks_notify(NULL, 1, NULL, 0, 0, &rc, &group), SMP_CALLBACKS_OK);
    /* registry limits */
    assert_int_equal(smp_callbacks_register(&c, 1, NULL, NULL), SIM_EINVAL);
    while (c.n_entries < SMP_CALLBACKS_MAX)
        assert_int_equal(smp_callbacks_register(&c, 1, ordered_cb, &a), 0);
    assert_int_equal(smp_callbacks_register(&c, 1, ordered_cb, &a), SIM_ERANGE);
}

/* ---- robustness ------------------------------------------------------------------ */

/* Random packets never crash, and every response is a well-formed frame whose length
 * field matches its body and whose body is one CBOR map. */
static void test_random_packets_get_well_formed_responses(void **state)
{
    (void)state;
    struct fixture f;
    fixture_init(&f, true);
    uint32_t x = 0xdeadbeefu;
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t pkt[64] = {0};
        size_t n = (size_t)(iter % 64);
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            pkt[i] = (uint8_t)x;
        }
        if (n >= 8 && pkt[5] >= TG && pkt[4] == 0 && pkt[7] == 3)
            pkt[7] = 0;             /* id 3 of the test group is the simulator-failure handler */
        if (n >= 8 && (iter & 1)) { /* make the header plausible half of the time */
            pkt[0] &= 0x1b;
            pkt[2] = 0;
            pkt[3] %= (uint8_t)(n - 7);
            pkt[4] = 0;
            pkt[5] = (uint8_t)(TG + (pkt[5] & 1));
            pkt[7] %= 3; /* id 3 is the simulator-failure handler */
        }
        uint8_t *heap = malloc(n ? n : 1);
        assert_non_null(heap);
        memcpy(heap, pkt, n);
        f.tp.n_frames = 0;
        assert_int_equal(smp_server_process(&f.srv, heap, n, f.rsp, sizeof(f.rsp), 0, &f.cx, NULL),
                         0);
        for (size_t k = 0; k < f.tp.n_frames; k++) {
            struct smp_frame_hdr h;
            assert_int_equal(smp_frame_hdr_decode(&h, f.tp.frames[k], f.tp.lens[k]), 0);
            assert_int_equal(h.len + 8u, f.tp.lens[k]);
            assert_true(h.op == SMP_MGMT_OP_READ_RSP || h.op == SMP_MGMT_OP_WRITE_RSP);
            size_t item;
            assert_int_equal(smp_frame_item_len(f.tp.frames[k] + 8, h.len, &item), 0);
            assert_int_equal(item, h.len);
        }
        free(heap);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dispatch_table),
        cmocka_unit_test(test_stats_count_requests_and_stop_rc),
        cmocka_unit_test(test_no_response_buffer_is_answered_enomem),
        cmocka_unit_test(test_simulator_failures_propagate),
        cmocka_unit_test(test_group_registry),
        cmocka_unit_test(test_cmd_recv_hook_vetoes_with_rc_or_err),
        cmocka_unit_test(test_cmd_done_not_raised_without_handler),
        cmocka_unit_test(test_callbacks_first_failure_wins_and_later_ones_still_run),
        cmocka_unit_test(test_random_packets_get_well_formed_responses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
