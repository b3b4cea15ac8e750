/* tests/test_client_cc_host.c - the HID configurator's config-channel DFU host
 * (models/client/cc_host.h) against a fake device that answers syncs from a script.
 * UPSTREAM: nrfconnect/sdk-nrf: scripts/hid_configurator/modules/dfu.py */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "models/client/cc_host.h"
#include "sim/error.h"

#define MS(x) ((int64_t)(x)*1000000LL)

/* A device: start makes it ACTIVE (unless `other` holds the lock or it is `cleaning` for
 * a number of syncs), data is buffered, the first sync after data answers STORING
 * `storing` times, then the buffer is stored. */
struct fake {
    struct fw_cc_dfu_sync_reply dev; /* what the device holds */
    uint32_t buffered;
    uint32_t cleaning; /* syncs still answered CLEANING */
    uint32_t storing;  /* STORING answers per checkpoint */
    uint32_t storing_left;
    bool other; /* the lock is held by MCUmgr */
    bool dead;  /* the device does not answer */
    bool drop;  /* the device times out its DFU at the next sync (INACTIVE) */
    int64_t at; /* armed time, -1 */
    uint32_t n_sync, n_start, n_data, start_off;
    enum client_cc_host_end end;
    int64_t end_at;
};

static void f_arm(void *env, int64_t at)
{
    ((struct fake *)env)->at = at;
}
static void f_cancel(void *env)
{
    ((struct fake *)env)->at = -1;
}
static int f_sync(void *env, struct fw_cc_dfu_sync_reply *out, int64_t now)
{
    struct fake *f = env;
    (void)now;
    if (f->dead)
        return 1;
    f->n_sync++;
    struct fw_cc_dfu_sync_reply r = f->dev;
    if (f->other) {
        r.state = FW_CC_DFU_HOST_ACTIVE_OTHER;
    } else if (f->cleaning > 0) {
        f->cleaning--;
        r.state = FW_CC_DFU_HOST_CLEANING;
    } else if (f->drop) {
        f->dev.state = r.state = FW_CC_DFU_HOST_INACTIVE;
    } else if (f->buffered > 0 && f->storing_left > 0) {
        f->storing_left--;
        r.state = FW_CC_DFU_HOST_STORING;
    } else if (f->buffered > 0) {
        f->dev.cur_offset += f->buffered;
        f->buffered = 0;
        f->storing_left = f->storing;
        if (f->dev.cur_offset == f->dev.img_length)
            f->dev.state = FW_CC_DFU_HOST_INACTIVE; /* stored, upgrade requested */
        r = f->dev;
    }
    *out = r;
    return 0;
}
static int f_start(void *env, const struct fw_cc_dfu_start *s, int64_t now)
{
    struct fake *f = env;
    (void)now;
    if (f->dead)
        return 1;
    f->n_start++;
    f->start_off = s->offset;
    if (f->other || f->cleaning > 0)
        return 0; /* ignored by dfu.c */
    f->dev.img_length = s->img_length;
    f->dev.img_csum = s->img_csum;
    f->dev.cur_offset = s->offset;
    f->dev.state = FW_CC_DFU_HOST_ACTIVE_CONFIG_CHANNEL;
    f->storing_left = f->storing;
    return 0;
}
static int f_data(void *env, uint32_t n, int64_t now)
{
    struct fake *f = env;
    (void)now;
    if (f->dead)
        return 1;
    f->n_data++;
    f->buffered += n;
    return 0;
}
static void f_ended(void *env, enum client_cc_host_end e, int64_t now)
{
    struct fake *f = env;
    f->end = e;
    f->end_at = now;
}

static const struct client_cc_host_ctx CX = {NULL,    f_arm,  f_cancel, f_sync,
                                             f_start, f_data, f_ended};

struct run {
    struct fake f;
    struct client_cc_host h;
    struct client_cc_host_cfg c;
    struct client_cc_host_ctx cx;
};

static void run_init(struct run *r, uint32_t len)
{
    memset(r, 0, sizeof(*r));
    r->f.at = -1;
    r->f.dev.sync_buffer_size = 512;
    r->f.storing = 1;
    r->c = client_cc_host_cfg_default();
    r->c.img_length = len;
    r->c.img_csum = 0x1234;
    r->cx = CX;
    r->cx.env = &r->f;
}

/* Start at 0 (first call), then fire the timer until the run ends or stop_at. */
static void run_go(struct run *r, int64_t stop_at)
{
    if (r->h.state == CLIENT_CC_HOST_IDLE)
        assert_int_equal(client_cc_host_step(&r->h, &r->c, CLIENT_CC_HOST_IN_START, 0, &r->cx), 0);
    while (r->f.at >= 0 && r->f.at <= stop_at) {
        int64_t t = r->f.at;
        r->f.at = -1;
        assert_int_equal(client_cc_host_step(&r->h, &r->c, CLIENT_CC_HOST_IN_TIMER, t, &r->cx), 0);
    }
}

/* ------------------------------------------------------------------------------------
 * A 1 KiB image: sync, start, sync, 22 data reports of <= 24 B to the 512 B checkpoint,
 * a sync finding STORING, 0.3 s, a sync; again; a final sync: done at 1.62 s.
 * EVIDENCE-OF: dfu.py send_chunks / dfu_checkpoint; NrfHidDevice.py POLL_INTERVAL_DEFAULT
 * ------------------------------------------------------------------------------------ */
static void one_kib_is_paced_by_reports_and_checkpoints(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, 1024);
    run_go(&r, INT64_MAX);
    assert_int_equal(r.f.end, CLIENT_CC_HOST_END_DONE);
    assert_int_equal(r.f.end_at, MS(1620));
    assert_int_equal(r.f.n_data, 44);
    assert_int_equal(r.f.n_start, 1);
    assert_int_equal(r.f.n_sync, 2 + 4 + 1);
    assert_int_equal(r.f.dev.cur_offset, 1024);
    assert_int_equal(r.h.state, CLIENT_CC_HOST_ENDED);
    assert_int_equal(r.f.at, -1); /* nothing armed */
    /* ended: further timers are unexpected, a reset is nothing */
    assert_int_equal(client_cc_host_step(&r.h, &r.c, CLIENT_CC_HOST_IN_TIMER, MS(2000), &r.cx),
                     CLIENT_CC_HOST_UNEXPECTED);
    assert_int_equal(client_cc_host_step(&r.h, &r.c, CLIENT_CC_HOST_IN_RESET, MS(2000), &r.cx), 0);
    assert_int_equal(client_cc_host_step(&r.h, &r.c, CLIENT_CC_HOST_IN_START, MS(2000), &r.cx),
                     CLIENT_CC_HOST_UNEXPECTED);
}

/* The checkpoint sleep while STORING: 0.3 s, doubled at the 8th and 16th retry, <= 1 s. */
static void storing_waits_double_every_eighth_retry(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint32_t storing;
        int64_t want_end;
    } cases[] = {
        /* 512 B: data 60..480, checkpoint syncs from 500 ms */
        {"one STORING", 1, MS(500 + 320 + 20)},
        {"seven: 7 x 0.32 s", 7, MS(500 + 7 * 320 + 20)},
        {"eight: the 8th sleeps 0.6 s", 8, MS(500 + 7 * 320 + 620 + 20)},
        {"seventeen: from the 16th, 1 s", 17, MS(500 + 7 * 320 + 8 * 620 + 2 * 1020 + 20)},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        print_message("case: %s\n", cases[i].name);
        struct run r;
        run_init(&r, 512);
        r.f.storing = cases[i].storing;
        run_go(&r, INT64_MAX);
        assert_int_equal(r.f.end, CLIENT_CC_HOST_END_DONE);
        assert_int_equal(r.f.end_at, cases[i].want_end);
    }
}

/* ------------------------------------------------------------------------------------
 * How runs end or wait: the lock held by MCUmgr (refused at once: no start, no data);
 * a slot being cleaned (a sync every 1.02 s until INACTIVE); a resume where the device
 * holds our length and checksum; a device that stops answering; a reset; a DFU the
 * device timed out (INACTIVE before the end).
 * ------------------------------------------------------------------------------------ */
static void ends_and_waits(void **state)
{
    (void)state;
    struct run r;
    run_init(&r, 1024);
    r.f.other = true;
    run_go(&r, INT64_MAX);
    assert_int_equal(r.f.end, CLIENT_CC_HOST_END_REFUSED);
    assert_int_equal(r.f.end_at, 0);
    assert_int_equal(r.f.n_sync, 1);
    assert_int_equal(r.f.n_start + r.f.n_data, 0);

    run_init(&r, 1024);
    r.f.cleaning = 3; /* three syncs: CLEANING */
    run_go(&r, MS(3090));
    assert_int_equal(r.f.n_sync, 4);
    assert_int_equal(r.f.n_start, 1);
    assert_int_equal(r.h.state, CLIENT_CC_HOST_STARTED); /* start at 3.08 s, sync at 3.1 s */

    run_init(&r, 1024);
    r.f.dev = (struct fw_cc_dfu_sync_reply){.img_length = 1024,
                                            .img_csum = 0x1234,
                                            .cur_offset = 512,
                                            .sync_buffer_size = 512,
                                            .state = FW_CC_DFU_HOST_INACTIVE};
    run_go(&r, INT64_MAX);
    assert_int_equal(r.f.start_off, 512);
    assert_int_equal(r.f.n_data, 22);
    assert_int_equal(r.f.end, CLIENT_CC_HOST_END_DONE);

    run_init(&r, 1024);
    run_go(&r, MS(200));
    r.f.dead = true;
    run_go(&r, INT64_MAX);
    assert_int_equal(r.f.end, CLIENT_CC_HOST_END_LOST);

    run_init(&r, 1024);
    run_go(&r, MS(200));
    assert_int_equal(client_cc_host_step(&r.h, &r.c, CLIENT_CC_HOST_IN_RESET, MS(210), &r.cx), 0);
    assert_int_equal(r.f.end, CLIENT_CC_HOST_END_LOST);
    assert_int_equal(r.f.end_at, MS(210));
    assert_int_equal(r.f.at, -1);

    run_init(&r, 1024);
    run_go(&r, MS(400));
    r.f.drop = true;
    run_go(&r, INT64_MAX);
    assert_int_equal(r.f.end, CLIENT_CC_HOST_END_FAILED); /* "DFU interrupted by device" */
    assert_int_equal(r.f.end_at, MS(500));

    run_init(&r, 1024);
    r.c.report_ns = 0;
    assert_int_equal(client_cc_host_step(&r.h, &r.c, CLIENT_CC_HOST_IN_START, 0, &r.cx),
                     SIM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_kib_is_paced_by_reports_and_checkpoints),
        cmocka_unit_test(storing_waits_double_every_eighth_retry),
        cmocka_unit_test(ends_and_waits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
