/* tests/test_fw_ble_latency.c - nRF Desktop ble_latency, transition by transition
 * (nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/ble_latency.c), against a fake
 * link that records requests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fw/ble_latency.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MS           1000000LL
#define SEC          1000000000LL
#define UP                                                                                         \
    "UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/ble_latency.c @v2.9.0"

/* ---- fake link and timers --------------------------------------------------------- */

struct fake {
    struct fw_event_conn_params cur; /* the link's parameters */
    struct fw_event_conn_params req[16];
    int n_req;
    int update_rc;
    uint32_t next_gen, gen[2];
    int64_t at[2];
    bool armed[2];
    int n_disconnect, n_unexpected;
    uint8_t reason;
};

static uint32_t f_arm(void *env, int t, int64_t at)
{
    struct fake *f = env;
    f->gen[t] = ++f->next_gen;
    f->at[t] = at;
    f->armed[t] = true;
    return f->gen[t];
}

static void f_cancel(void *env, int t)
{
    struct fake *f = env;
    f->armed[t] = false;
}

static void f_get(void *env, struct fw_event_conn_params *out)
{
    *out = ((struct fake *)env)->cur;
}

static int f_update(void *env, const struct fw_event_conn_params *p, int64_t now)
{
    (void)now;
    struct fake *f = env;
    assert_true(f->n_req < (int)ARRAY_LEN(f->req));
    f->req[f->n_req++] = *p;
    return f->update_rc;
}

static void f_disconnect(void *env, uint8_t reason, int64_t now)
{
    (void)now;
    struct fake *f = env;
    f->n_disconnect++;
    f->reason = reason;
}

static void f_emit(void *env, const struct fw_record *r)
{
    struct fake *f = env;
    if (r->kind == FW_RECORD_UNEXPECTED)
        f->n_unexpected++;
}

struct rig {
    struct fake f;
    struct fw_ble_latency_ctx cx;
    struct fw_ble_latency l;
};

static void rig_init(struct rig *r, bool lock)
{
    memset(r, 0, sizeof(*r));
    r->f.cur = (struct fw_event_conn_params){6, 6, 99, 400};
    r->cx =
        (struct fw_ble_latency_ctx){&r->f, f_arm, f_cancel, f_get, f_update, f_disconnect, f_emit};
    struct fw_ble_latency_cfg cfg = fw_ble_latency_cfg_default();
    cfg.low_latency_lock = lock;
    fw_ble_latency_init(&r->l, &cfg, &r->cx);
}

/* ---- script steps ---------------------------------------------------------------- */

enum {
    S_CONN = FW_BLE_LATENCY_IN_CONNECTED,
    S_SEC = FW_BLE_LATENCY_IN_SECURED,
    S_DISC = FW_BLE_LATENCY_IN_DISCONNECTED,
    S_XFER = FW_BLE_LATENCY_IN_TRANSFER,
    S_PARAMS = FW_BLE_LATENCY_IN_PARAMS, /* link applied {iv, iv, lat, 400} */
    S_CHECK = FW_BLE_LATENCY_IN_CHECK,
    S_SECTMO = FW_BLE_LATENCY_IN_SECURITY,
    S_PD = FW_BLE_LATENCY_IN_POWER_DOWN,
    S_WU = FW_BLE_LATENCY_IN_WAKE_UP,
    S_PEER_REQ = 100, /* conn params event with updated = false */
    S_STALE_CHECK,
    S_RC /* set the fake's update result to `lat` */
};

struct step {
    int what;
    uint16_t iv, lat; /* S_PARAMS / S_PEER_REQ; S_RC: lat is the result */
    int want_state;
    unsigned want_flags;
};

#define DIS      FW_BLE_LATENCY_ST_DISCONNECTED
#define CON      FW_BLE_LATENCY_ST_CONNECTED
#define SCD      FW_BLE_LATENCY_ST_SECURED
#define EN       FW_BLE_LATENCY_ENABLED
#define RQ       FW_BLE_LATENCY_REQUIRED
#define LK       FW_BLE_LATENCY_LOCKED
#define LL       FW_BLE_LATENCY_IS_LLPM
#define SF       FW_BLE_LATENCY_SECURED
#define LLPM_1MS 0x0d01

struct lcase {
    const char *name;
    bool lock;
    struct step steps[10];
    size_t n_steps;
    int want_req;          /* requests made */
    int want_last_latency; /* latency of the last request, -1 if none */
    int want_last_iv;      /* interval of the last request, -1 to skip */
    bool want_check, want_security;
    int want_disconnect, want_unexpected;
};

#define SECURED_AT_99                                                                              \
    {S_CONN, 0, 0, CON, 0}, {S_PARAMS, 6, 99, CON, 0},                                             \
    {                                                                                              \
        S_SEC, 0, 0, SCD, SF                                                                       \
    }

static const struct lcase cases[] = {
    {"connect requests 7.5 ms with latency 0 and arms the 10 s security timer",
     false,
     {{S_CONN, 0, 0, CON, 0}},
     1,
     1,
     0,
     6,
     false,
     true,
     0,
     0},
    {"connect with the low-latency lock sets LOCKED",
     true,
     {{S_CONN, 0, 0, CON, LK}},
     1,
     1,
     0,
     6,
     false,
     true,
     0,
     0},
    {"secured cancels the security timer",
     false,
     {{S_CONN, 0, 0, CON, 0}, {S_SEC, 0, 0, SCD, SF}},
     2,
     1,
     0,
     6,
     false,
     false,
     0,
     0},
    {"no security within 10 s disconnects with remote user terminated",
     false,
     {{S_CONN, 0, 0, CON, 0}, {S_SECTMO, 0, 0, CON, 0}},
     2,
     1,
     0,
     6,
     false,
     false,
     1,
     0},
    {"disconnect clears every flag and cancels both timers",
     true,
     {{S_CONN, 0, 0, CON, LK}, {S_PARAMS, 6, 0, CON, LK | EN}, {S_DISC, 0, 0, DIS, 0}},
     3,
     1,
     0,
     6,
     false,
     false,
     0,
     0},
    {"a transfer event with no connection is ignored",
     false,
     {{S_XFER, 0, 0, DIS, 0}},
     1,
     0,
     -1,
     -1,
     false,
     false,
     0,
     0},
    {"a transfer event at latency 99 requests latency 0 and sets ENABLED at once",
     false,
     {SECURED_AT_99, {S_XFER, 0, 0, SCD, SF | EN}},
     4,
     2,
     0,
     6,
     false,
     false,
     0,
     0},
    {"a transfer event while ENABLED only sets REQUIRED",
     false,
     {SECURED_AT_99, {S_XFER, 0, 0, SCD, SF | EN}, {S_XFER, 0, 0, SCD, SF | EN | RQ}},
     5,
     2,
     0,
     6,
     false,
     false,
     0,
     0},
    {"the link applying latency 0 sets ENABLED, clears REQUIRED and arms the 5 s check",
     false,
     {SECURED_AT_99,
      {S_XFER, 0, 0, SCD, SF | EN},
      {S_XFER, 0, 0, SCD, SF | EN | RQ},
      {S_PARAMS, 6, 0, SCD, SF | EN}},
     6,
     2,
     0,
     6,
     true,
     false,
     0,
     0},
    {"the link applying a non-zero latency clears ENABLED and cancels the check",
     false,
     {SECURED_AT_99, {S_PARAMS, 6, 0, SCD, SF | EN}, {S_PARAMS, 6, 30, SCD, SF}},
     5,
     1,
     0,
     6,
     false,
     false,
     0,
     0},
    {"a peer's parameter request (updated = false) is ignored",
     false,
     {SECURED_AT_99, {S_PEER_REQ, 6, 0, SCD, SF}},
     4,
     1,
     0,
     6,
     false,
     false,
     0,
     0},
    {"check before security re-arms and never raises latency",
     false,
     {{S_CONN, 0, 0, CON, 0}, {S_PARAMS, 6, 0, CON, EN}, {S_CHECK, 0, 0, CON, EN}},
     3,
     1,
     0,
     6,
     true,
     true,
     0,
     0},
    {"check with REQUIRED clears it and re-arms",
     false,
     {SECURED_AT_99,
      {S_PARAMS, 6, 0, SCD, SF | EN},
      {S_XFER, 0, 0, SCD, SF | EN | RQ},
      {S_CHECK, 0, 0, SCD, SF | EN}},
     6,
     1,
     0,
     6,
     true,
     false,
     0,
     0},
    {"check without REQUIRED requests the preferred latency 99 and clears ENABLED",
     false,
     {SECURED_AT_99, {S_PARAMS, 6, 0, SCD, SF | EN}, {S_CHECK, 0, 0, SCD, SF}},
     5,
     2,
     99,
     6,
     false,
     false,
     0,
     0},
    {"a request is skipped when the link already has the target latency",
     false,
     {SECURED_AT_99, {S_PARAMS, 6, 99, SCD, SF}, {S_XFER, 0, 0, SCD, SF | EN}},
     5,
     2,
     0,
     6,
     false,
     false,
     0,
     0},
    {"EALREADY counts as success and sets ENABLED",
     false,
     {SECURED_AT_99, {S_RC, 0, FW_BLE_LATENCY_EALREADY, SCD, SF}, {S_XFER, 0, 0, SCD, SF | EN}},
     5,
     2,
     0,
     6,
     false,
     false,
     0,
     0},
    {"a refused request leaves the flags unchanged",
     false,
     {SECURED_AT_99, {S_RC, 0, FW_BLE_LATENCY_EFAIL, SCD, SF}, {S_XFER, 0, 0, SCD, SF}},
     5,
     2,
     0,
     6,
     false,
     false,
     0,
     0},
    {"on an LLPM link requests use the standard 7.5 ms interval",
     false,
     {SECURED_AT_99, {S_PARAMS, LLPM_1MS, 99, SCD, SF | LL}, {S_XFER, 0, 0, SCD, SF | LL | EN}},
     5,
     2,
     0,
     6,
     false,
     false,
     0,
     0},
    {"LOCKED on an LLPM link forces latency 0 and cancels the check",
     true,
     {{S_CONN, 0, 0, CON, LK},
      {S_SEC, 0, 0, SCD, LK | SF},
      {S_PARAMS, LLPM_1MS, 99, SCD, LK | SF | LL | EN}},
     3,
     2,
     0,
     6,
     false,
     false,
     0,
     0},
    {"power-down clears LOCKED and lets the check run again",
     true,
     {{S_CONN, 0, 0, CON, LK},
      {S_SEC, 0, 0, SCD, LK | SF},
      {S_PARAMS, LLPM_1MS, 0, SCD, LK | SF | LL | EN},
      {S_PD, 0, 0, SCD, SF | LL | EN}},
     4,
     1,
     0,
     6,
     true,
     false,
     0,
     0},
    {"wake-up sets LOCKED again",
     true,
     {{S_CONN, 0, 0, CON, LK}, {S_PD, 0, 0, CON, 0}, {S_WU, 0, 0, CON, LK}},
     3,
     1,
     0,
     6,
     false,
     true,
     0,
     0},
    {"a stale check timer is ignored",
     false,
     {SECURED_AT_99,
      {S_PARAMS, 6, 0, SCD, SF | EN},
      {S_PARAMS, 6, 0, SCD, SF | EN},
      {S_STALE_CHECK, 0, 0, SCD, SF | EN}},
     6,
     1,
     0,
     6,
     true,
     false,
     0,
     0},
    {"unexpected: a second connection (CONFIG_BT_MAX_CONN = 1)",
     false,
     {{S_CONN, 0, 0, CON, 0}, {S_CONN, 0, 0, CON, 0}},
     2,
     1,
     0,
     6,
     false,
     true,
     0,
     1},
    {"unexpected: secured or disconnected without a connection",
     false,
     {{S_SEC, 0, 0, DIS, 0}, {S_DISC, 0, 0, DIS, 0}},
     2,
     0,
     -1,
     -1,
     false,
     false,
     0,
     2},
};

static int run_step(struct rig *r, const struct step *s, int64_t now)
{
    struct fw_event ev = {.type = FW_EVENT_BLE_CONN_PARAMS};
    ev.u.conn_params.p = (struct fw_event_conn_params){s->iv, s->iv, s->lat, 400};
    uint32_t gen;
    switch (s->what) {
    case S_PARAMS:
        r->f.cur = ev.u.conn_params.p;
        ev.u.conn_params.updated = true;
        return fw_ble_latency_step(&r->l, FW_BLE_LATENCY_IN_PARAMS, &ev, now);
    case S_PEER_REQ:
        return fw_ble_latency_step(&r->l, FW_BLE_LATENCY_IN_PARAMS, &ev, now);
    case S_CHECK:
    case S_SECTMO:
        gen = r->f.gen[s->what == S_CHECK ? 0 : 1];
        r->f.armed[s->what == S_CHECK ? 0 : 1] = false;
        return fw_ble_latency_step(&r->l, (enum fw_ble_latency_input)s->what, &gen, now);
    case S_STALE_CHECK:
        gen = r->f.gen[0] - 1;
        return fw_ble_latency_step(&r->l, FW_BLE_LATENCY_IN_CHECK, &gen, now);
    case S_RC:
        r->f.update_rc = s->lat;
        return 0;
    default:
        return fw_ble_latency_step(&r->l, (enum fw_ble_latency_input)s->what, NULL, now);
    }
}

static void run_case(const struct lcase *c)
{
    struct rig r;
    rig_init(&r, c->lock);
    for (size_t i = 0; i < c->n_steps; i++) {
        const struct step *s = &c->steps[i];
        int rc = run_step(&r, s, (int64_t)i * SEC);
        if (rc != 0 || r.l.state != s->want_state || r.l.flags != s->want_flags) {
            print_error("case \"%s\" (%s) step %zu: rc %d state %d/%d flags 0x%x/0x%x\n", c->name,
                        UP, i, rc, r.l.state, s->want_state, r.l.flags, s->want_flags);
            fail();
        }
    }
    int last_lat = r.f.n_req ? r.f.req[r.f.n_req - 1].latency : -1;
    int last_iv = r.f.n_req ? r.f.req[r.f.n_req - 1].interval_max : -1;
    if (r.f.n_req != c->want_req || last_lat != c->want_last_latency ||
        (c->want_last_iv >= 0 && last_iv != c->want_last_iv) || r.f.armed[0] != c->want_check ||
        r.f.armed[1] != c->want_security || r.f.n_disconnect != c->want_disconnect ||
        r.f.n_unexpected != c->want_unexpected) {
        print_error("case \"%s\" (%s): req %d/%d last latency %d/%d interval %d/%d check %d/%d "
                    "security %d/%d disconnect %d/%d unexpected %d/%d (got/want)\n",
                    c->name, UP, r.f.n_req, c->want_req, last_lat, c->want_last_latency, last_iv,
                    c->want_last_iv, r.f.armed[0], c->want_check, r.f.armed[1], c->want_security,
                    r.f.n_disconnect, c->want_disconnect, r.f.n_unexpected, c->want_unexpected);
        fail();
    }
    if (c->want_disconnect)
        assert_int_equal(r.f.reason, FW_BLE_LATENCY_HCI_REMOTE_USER_TERM);
    fw_ble_latency_fini(&r.l);
}

static void test_ble_latency_transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        run_case(&cases[i]);
}

/* ---- timing: 5-10 s after the last transfer event --------------------------------- */

/* Deliver armed timers in time order up to `until`, applying accepted requests on the
 * link 100 ms after they were made (the link model's job, simplified). Returns the
 * time latency went back to 99, or -1. */
static int64_t run_until(struct rig *r, int64_t until)
{
    int seen = r->f.n_req;
    for (;;) {
        int t = -1;
        if (r->f.armed[0] && r->f.at[0] <= until)
            t = 0;
        if (t < 0)
            return -1;
        int64_t now = r->f.at[0];
        r->f.armed[0] = false;
        uint32_t gen = r->f.gen[0];
        assert_int_equal(fw_ble_latency_step(&r->l, FW_BLE_LATENCY_IN_CHECK, &gen, now), 0);
        if (r->f.n_req > seen && r->f.req[r->f.n_req - 1].latency == 99)
            return now;
    }
}

static void apply_link(struct rig *r, uint16_t latency, int64_t now)
{
    struct fw_event ev = {.type = FW_EVENT_BLE_CONN_PARAMS};
    ev.u.conn_params.p = (struct fw_event_conn_params){6, 6, latency, 400};
    ev.u.conn_params.updated = true;
    r->f.cur = ev.u.conn_params.p;
    assert_int_equal(fw_ble_latency_step(&r->l, FW_BLE_LATENCY_IN_PARAMS, &ev, now), 0);
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/ble_latency.c @v2.9.0
 * (LOW_LATENCY_CHECK_PERIOD 5 s; REQUIRED keeps latency low for one more period) */
static void test_latency_returns_5_to_10_s_after_the_last_transfer(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int64_t transfers[4];
        int n;
        int64_t want_raise;
    } cases_t[] = {
        /* link applies latency 0 at 0.1 s: check at 5.1 s */
        {"one transfer at 0: raised at the first check, 5.1 s later", {0}, 1, 5100 * MS},
        {"last transfer at 1 s: REQUIRED defers to the second check", {0, 1 * SEC}, 2, 10100 * MS},
        {"last transfer at 5 s: raised at 10.1 s (5.1 s after it)", {0, 5 * SEC}, 2, 10100 * MS},
        {"transfers every 4 s keep it low", {0, 4 * SEC, 8 * SEC, 12 * SEC}, 4, 20100 * MS},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases_t); i++) {
        struct rig r;
        rig_init(&r, false);
        assert_int_equal(fw_ble_latency_step(&r.l, FW_BLE_LATENCY_IN_CONNECTED, NULL, -2 * SEC), 0);
        apply_link(&r, 99, -2 * SEC);
        assert_int_equal(fw_ble_latency_step(&r.l, FW_BLE_LATENCY_IN_SECURED, NULL, -1 * SEC), 0);
        int64_t raised = -1;
        for (int k = 0; k < cases_t[i].n; k++) {
            int64_t at = cases_t[i].transfers[k];
            raised = run_until(&r, at);
            assert_int_equal(raised, -1);
            assert_int_equal(fw_ble_latency_step(&r.l, FW_BLE_LATENCY_IN_TRANSFER, NULL, at), 0);
            if (k == 0)
                apply_link(&r, 0, at + 100 * MS);
        }
        raised = run_until(&r, 60 * SEC);
        int64_t last = cases_t[i].transfers[cases_t[i].n - 1];
        if (raised != cases_t[i].want_raise || raised - last < 5 * SEC ||
            raised - last > 10200 * MS) {
            print_error("case \"%s\" (%s): raised at %lld ns, want %lld\n", cases_t[i].name, UP,
                        (long long)raised, (long long)cases_t[i].want_raise);
            fail();
        }
    }
}

static void test_bus_wiring(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false);
    struct fw_event_bus bus;
    fw_event_bus_init(&bus, NULL);
    assert_int_equal(fw_ble_latency_subscribe(&r.l, &bus), 0);
    struct fw_event evs[] = {fw_event_peer(FW_EVENT_PEER_CONNECTED),
                             fw_event_peer(FW_EVENT_PEER_SECURED), fw_event_plain(FW_EVENT_CONFIG)};
    for (size_t i = 0; i < ARRAY_LEN(evs); i++)
        assert_int_equal(fw_event_bus_submit(&bus, &evs[i], 0), 0);
    assert_int_equal(fw_event_bus_process(&bus, 0), 3);
    assert_int_equal(r.l.state, FW_BLE_LATENCY_ST_SECURED);
    assert_int_equal(r.f.n_req, 2); /* connect request, then latency 0 for the config event */
    assert_true(r.l.flags & FW_BLE_LATENCY_ENABLED);
    assert_int_equal(fw_ble_latency_step(&r.l, FW_BLE_LATENCY_IN_PARAMS, NULL, 0), SIM_EINVAL);
    r.f.update_rc = SIM_EINTERNAL;
    assert_int_equal(fw_ble_latency_step(&r.l, FW_BLE_LATENCY_IN_DISCONNECTED, NULL, 1), 0);
    assert_int_equal(fw_ble_latency_step(&r.l, FW_BLE_LATENCY_IN_CONNECTED, NULL, 2),
                     SIM_EINTERNAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ble_latency_transitions),
        cmocka_unit_test(test_latency_returns_5_to_10_s_after_the_last_transfer),
        cmocka_unit_test(test_bus_wiring),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
