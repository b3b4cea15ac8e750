/* tests/test_fw_cc_dfu.c - nRF Desktop config-channel DFU (dfu.c), transition by
 * transition (nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c), against a
 * fake flash that records calls, and the lock contention with dfu_mcumgr that follows
 * (dfu_mcumgr.c and applications/nrf_desktop/src/util/dfu_lock.c together). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fw/cc_dfu.h"
#include "models/fw/dfu_mcumgr.h"
#include "models/smp/mgmt.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MS           1000000LL
#define SEC          1000000000LL
#define UP           "UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c @v2.9.0"

#define PAGES    4
#define PAGE     4096
#define ERASE_NS (85 * MS) /* nRF52840 page erase, order of magnitude */

/* ---- fake flash, timers, reboot -------------------------------------------------- */

struct fake {
    bool clean[PAGES];
    int erase_rc, write_rc;
    int n_erase, n_write, n_confirm, n_upgrade, n_reboot, n_unexpected, n_defer;
    uint32_t written;
    bool upgrade_permanent;
    uint32_t next_gen, gen[FW_CC_DFU_TIMER_COUNT];
    int64_t at[FW_CC_DFU_TIMER_COUNT];
    bool armed[FW_CC_DFU_TIMER_COUNT];
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
    ((struct fake *)env)->armed[t] = false;
}

static int f_confirm(void *env, int64_t now)
{
    (void)now;
    ((struct fake *)env)->n_confirm++;
    return 0;
}

static bool f_is_clean(void *env, uint32_t off, uint32_t len)
{
    (void)len;
    return ((struct fake *)env)->clean[off / PAGE];
}

static int f_erase(void *env, uint32_t off, uint32_t len, int64_t now, int64_t *done_at)
{
    (void)len;
    struct fake *f = env;
    if (f->erase_rc)
        return f->erase_rc;
    f->n_erase++;
    f->clean[off / PAGE] = true;
    *done_at = now + ERASE_NS;
    return 0;
}

static int f_write(void *env, uint32_t off, uint32_t len, int64_t now)
{
    (void)now;
    struct fake *f = env;
    if (f->write_rc)
        return f->write_rc;
    assert_int_equal(off, f->written); /* sequential */
    f->n_write++;
    f->written += len;
    f->clean[off / PAGE] = false;
    return 0;
}

static int f_upgrade(void *env, bool permanent, int64_t now)
{
    (void)now;
    struct fake *f = env;
    f->n_upgrade++;
    f->upgrade_permanent = permanent;
    return 0;
}

static void f_reboot(void *env, int64_t now)
{
    (void)now;
    ((struct fake *)env)->n_reboot++;
}

static void f_emit(void *env, const struct fw_record *r)
{
    struct fake *f = env;
    if (r->kind == FW_RECORD_UNEXPECTED)
        f->n_unexpected++;
    if (r->kind == FW_RECORD_ERASE_DEFER)
        f->n_defer++;
}

struct rig {
    struct fake f;
    struct fw_cc_dfu_ctx cx;
    struct fw_dfu_lock lock;
    struct fw_cc_dfu d;
    int64_t now;
};

static const struct fw_dfu_lock_owner MCUMGR = {"MCUmgr", NULL, NULL};

static void rig_init(struct rig *r, bool xip)
{
    memset(r, 0, sizeof(*r));
    r->cx = (struct fw_cc_dfu_ctx){&r->f,   f_arm,   f_cancel,  f_confirm, f_is_clean,
                                   f_erase, f_write, f_upgrade, f_reboot,  f_emit};
    fw_dfu_lock_init(&r->lock, NULL, NULL);
    struct fw_cc_dfu_cfg cfg = fw_cc_dfu_cfg_default();
    cfg.slot_size = PAGES * PAGE;
    cfg.direct_xip = xip;
    fw_cc_dfu_init(&r->d, &cfg, &r->cx, &r->lock);
}

/* Deliver timer t if armed; now becomes its time. */
static int fire(struct rig *r, int t, enum fw_cc_dfu_input in)
{
    assert_true(r->f.armed[t]);
    r->f.armed[t] = false;
    if (r->f.at[t] > r->now)
        r->now = r->f.at[t];
    uint32_t gen = r->f.gen[t];
    return fw_cc_dfu_step(&r->d, in, &gen, r->now);
}

/* ---- script ---------------------------------------------------------------------- */

enum {
    S_READY,
    S_ERASE,
    S_ERASE_ALL,
    S_ACT,
    S_START,
    S_DATA,
    S_SYNC,
    S_STORE_ALL,
    S_STORE,
    S_TIMEOUT,
    S_REBOOT,
    S_REBOOT_TIMER,
    S_M_CLAIM,
    S_M_RELEASE,
    S_ERASE_FAILS,
    S_DIRTY,
    S_STALE
};

struct step {
    int what;
    uint32_t a, b, c, d; /* START: len, csum, offset, payload_len; DATA: a bytes;
                          * SYNC: a = host state wanted; REBOOT: a = reply wanted */
    int want_rc;
    int want_state;
};

#define BOOT  FW_CC_DFU_BOOT
#define IDLE  FW_CC_DFU_IDLE
#define ERAS  FW_CC_DFU_ERASING
#define ACTV  FW_CC_DFU_ACTIVE
#define EPERM FW_DFU_LOCK_EPERM

struct ccase {
    const char *name;
    bool xip;
    struct step steps[12];
    size_t n_steps;
    char want_owner; /* 'C' config channel, 'M' MCUmgr, '-' */
    int want_confirm, want_erase, want_upgrade, want_reboot, want_unexpected, want_defer;
    uint32_t want_cur_offset;
};

#define READY                                                                                      \
    {                                                                                              \
        S_READY, 0, 0, 0, 0, 0, ERAS                                                               \
    }
#define ERASED                                                                                     \
    {                                                                                              \
        S_ERASE_ALL, 0, 0, 0, 0, 0, IDLE                                                           \
    }
#define START(l, o)                                                                                \
    {                                                                                              \
        S_START, l, 0xc5, o, 12, 0, ACTV                                                           \
    }
#define SYNC(st, s)                                                                                \
    {                                                                                              \
        S_SYNC, st, 0, 0, 0, 0, s                                                                  \
    }

static const struct ccase cases[] = {
    {"main READY confirms the image, claims the lock and starts the background erase",
     false,
     {READY},
     1,
     'C',
     1,
     0,
     0,
     0,
     0,
     0,
     0},
    {"direct-xip skips the self-confirm", true, {READY}, 1, 'C', 0, 0, 0, 0, 0, 0, 0},
    {"each erase-work run erases one dirty page",
     false,
     {READY, {S_ERASE, 0, 0, 0, 0, 0, ERAS}},
     2,
     'C',
     1,
     1,
     0,
     0,
     0,
     0,
     0},
    {"the erase ends at the slot end: clean, lock released",
     false,
     {READY, ERASED},
     2,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"user activity postpones the erase by 15 s",
     false,
     {READY, {S_ACT, 0, 0, 0, 0, 0, ERAS}, {S_ERASE, 0, 0, 0, 0, 0, ERAS}, ERASED},
     4,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     1,
     0},
    {"an erase error ends the erase, not clean, and releases the lock",
     false,
     {READY,
      {S_ERASE_FAILS, 0, 0, 0, 0, 0, ERAS},
      {S_ERASE, 0, 0, 0, 0, 0, IDLE},
      SYNC(FW_CC_DFU_HOST_CLEANING, IDLE)},
     4,
     '-',
     1,
     0,
     0,
     0,
     0,
     0,
     0},
    {"start while erasing is ignored (not clean)",
     false,
     {READY, {S_START, 64, 1, 0, 12, 0, ERAS}, SYNC(FW_CC_DFU_HOST_CLEANING, ERAS)},
     3,
     'C',
     1,
     0,
     0,
     0,
     0,
     0,
     0},
    {"start with a payload shorter than 12 B is ignored",
     false,
     {READY, ERASED, {S_START, 64, 1, 0, 11, 0, IDLE}},
     3,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"start while MCUmgr holds the lock is ignored",
     false,
     {READY,
      ERASED,
      {S_M_CLAIM, 0, 0, 0, 0, 0, IDLE},
      {S_START, 64, 1, 0, 12, 0, IDLE},
      SYNC(FW_CC_DFU_HOST_ACTIVE_OTHER, IDLE)},
     5,
     'M',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"start after MCUmgr used the slot re-erases it first",
     false,
     {READY,
      ERASED,
      {S_M_CLAIM, 0, 0, 0, 0, 0, IDLE},
      {S_M_RELEASE, 0, 0, 0, 0, 0, IDLE},
      {S_DIRTY, 0, 0, 0, 0, 0, IDLE},
      {S_START, 64, 1, 0, 12, 0, ERAS},
      SYNC(FW_CC_DFU_HOST_CLEANING, ERAS),
      ERASED,
      START(64, 0)},
     9,
     'C',
     1,
     2 * PAGES,
     0,
     0,
     0,
     0,
     0},
    {"an accepted start arms the 5 s timeout and holds the lock",
     false,
     {READY, ERASED, START(64, 0), SYNC(FW_CC_DFU_HOST_ACTIVE_CONFIG_CHANNEL, ACTV)},
     4,
     'C',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"data(0) terminates and releases the lock",
     false,
     {READY, ERASED, START(64, 0), {S_DATA, 0, 0, 0, 0, 0, IDLE}},
     4,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"data is buffered and reported as STORING until the store work flushes it",
     false,
     {READY,
      ERASED,
      START(64, 0),
      {S_DATA, 32, 0, 0, 0, 0, ACTV},
      SYNC(FW_CC_DFU_HOST_STORING, ACTV),
      {S_STORE_ALL, 0, 0, 0, 0, 0, ACTV},
      SYNC(FW_CC_DFU_HOST_ACTIVE_CONFIG_CHANNEL, ACTV)},
     7,
     'C',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     32},
    {"the last store requests a test upgrade and terminates",
     false,
     {READY,
      ERASED,
      START(40, 0),
      {S_DATA, 40, 0, 0, 0, 0, ACTV},
      SYNC(FW_CC_DFU_HOST_STORING, ACTV),
      {S_STORE_ALL, 0, 0, 0, 0, 0, IDLE},
      SYNC(FW_CC_DFU_HOST_INACTIVE, IDLE)},
     7,
     '-',
     1,
     PAGES,
     1,
     0,
     0,
     0,
     40},
    {"direct-xip requests no upgrade",
     true,
     {READY,
      ERASED,
      START(16, 0),
      {S_DATA, 16, 0, 0, 0, 0, ACTV},
      SYNC(FW_CC_DFU_HOST_STORING, ACTV),
      {S_STORE_ALL, 0, 0, 0, 0, 0, IDLE}},
     6,
     '-',
     0,
     PAGES,
     0,
     0,
     0,
     0,
     16},
    {"5 s without data terminates the DFU",
     false,
     {READY, ERASED, START(64, 0), {S_TIMEOUT, 0, 0, 0, 0, 0, IDLE}},
     4,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"resume with matching offset, length and checksum",
     false,
     {READY,
      ERASED,
      START(64, 0),
      {S_DATA, 32, 0, 0, 0, 0, ACTV},
      SYNC(FW_CC_DFU_HOST_STORING, ACTV),
      {S_STORE_ALL, 0, 0, 0, 0, 0, ACTV},
      {S_TIMEOUT, 0, 0, 0, 0, 0, IDLE},
      START(64, 32)},
     8,
     'C',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     32},
    {"resume with a mismatching offset releases the lock and is ignored",
     false,
     {READY,
      ERASED,
      START(64, 0),
      {S_DATA, 32, 0, 0, 0, 0, ACTV},
      SYNC(FW_CC_DFU_HOST_STORING, ACTV),
      {S_STORE_ALL, 0, 0, 0, 0, 0, ACTV},
      {S_TIMEOUT, 0, 0, 0, 0, 0, IDLE},
      {S_START, 64, 0xc5, 16, 12, 0, IDLE}},
     8,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     32},
    {"start at offset 0 after a partial DFU wipes and re-erases",
     false,
     {READY,
      ERASED,
      START(64, 0),
      {S_DATA, 32, 0, 0, 0, 0, ACTV},
      SYNC(FW_CC_DFU_HOST_STORING, ACTV),
      {S_STORE_ALL, 0, 0, 0, 0, 0, ACTV},
      {S_TIMEOUT, 0, 0, 0, 0, 0, IDLE},
      {S_START, 64, 0xc5, 0, 12, 0, ERAS}},
     8,
     'C',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"an image larger than the slot is refused and the lock released",
     false,
     {READY, ERASED, {S_START, PAGES *PAGE + 1, 1, 0, 12, 0, IDLE}},
     3,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"reboot with the lock replies true and reboots 250 ms later",
     false,
     {READY, ERASED, {S_REBOOT, 1, 0, 0, 0, 0, IDLE}, {S_REBOOT_TIMER, 0, 0, 0, 0, 0, IDLE}},
     4,
     'C',
     1,
     PAGES,
     0,
     1,
     0,
     0,
     0},
    {"reboot while MCUmgr holds the lock replies false",
     false,
     {READY, ERASED, {S_M_CLAIM, 0, 0, 0, 0, 0, IDLE}, {S_REBOOT, 0, 0, 0, 0, 0, IDLE}},
     4,
     'M',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"a pending reboot keeps the lock when the erase ends",
     false,
     {READY, {S_REBOOT, 1, 0, 0, 0, 0, ERAS}, ERASED},
     3,
     'C',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"sync while idle claims and releases the lock (INACTIVE)",
     false,
     {READY, ERASED, SYNC(FW_CC_DFU_HOST_INACTIVE, IDLE)},
     3,
     '-',
     1,
     PAGES,
     0,
     0,
     0,
     0,
     0},
    {"a stale erase timer is ignored",
     false,
     {READY, {S_STALE, 0, 0, 0, 0, 0, ERAS}},
     2,
     'C',
     1,
     0,
     0,
     0,
     0,
     0,
     0},
    {"unexpected: start before main READY",
     false,
     {{S_START, 64, 1, 0, 12, 0, BOOT}},
     1,
     '-',
     0,
     0,
     0,
     0,
     1,
     0,
     0},
    {"unexpected: a second main READY",
     false,
     {READY, {S_READY, 0, 0, 0, 0, 0, ERAS}},
     2,
     'C',
     1,
     0,
     0,
     0,
     1,
     0,
     0},
};

static int run_step(struct rig *r, const struct step *s)
{
    struct fw_cc_dfu_start st = {s->d, s->a, s->b, s->c};
    uint32_t n = s->a;
    int rc = 0;
    switch (s->what) {
    case S_READY:
        return fw_cc_dfu_step(&r->d, FW_CC_DFU_IN_READY, NULL, r->now);
    case S_ERASE:
        return fire(r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK);
    case S_ERASE_ALL:
        for (int i = 0; i < 100 && rc == 0 && r->d.state == FW_CC_DFU_ERASING; i++)
            rc = fire(r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK);
        return rc;
    case S_STALE: {
        uint32_t gen = r->f.gen[FW_CC_DFU_TIMER_ERASE] + 7;
        return fw_cc_dfu_step(&r->d, FW_CC_DFU_IN_ERASE_WORK, &gen, r->now);
    }
    case S_ACT:
        return fw_cc_dfu_step(&r->d, FW_CC_DFU_IN_ACTIVITY, NULL, r->now);
    case S_START:
        return fw_cc_dfu_step(&r->d, FW_CC_DFU_IN_START, &st, r->now);
    case S_DATA:
        return fw_cc_dfu_step(&r->d, FW_CC_DFU_IN_DATA, &n, r->now);
    case S_SYNC:
        rc = fw_cc_dfu_step(&r->d, FW_CC_DFU_IN_SYNC, NULL, r->now);
        if (rc == 0 && r->d.sync.state != s->a) {
            print_error("sync replied state %u, want %u\n", r->d.sync.state, s->a);
            return SIM_EINTERNAL;
        }
        return rc;
    case S_STORE:
        return fire(r, FW_CC_DFU_TIMER_STORE, FW_CC_DFU_IN_STORE_WORK);
    case S_STORE_ALL:
        for (int i = 0; i < 100 && rc == 0 && r->f.armed[FW_CC_DFU_TIMER_STORE]; i++)
            rc = fire(r, FW_CC_DFU_TIMER_STORE, FW_CC_DFU_IN_STORE_WORK);
        return rc;
    case S_TIMEOUT:
        return fire(r, FW_CC_DFU_TIMER_TIMEOUT, FW_CC_DFU_IN_TIMEOUT);
    case S_REBOOT:
        rc = fw_cc_dfu_step(&r->d, FW_CC_DFU_IN_REBOOT, NULL, r->now);
        if (rc == 0 && r->d.reboot_ok != (s->a != 0))
            return SIM_EINTERNAL;
        return rc;
    case S_REBOOT_TIMER:
        return fire(r, FW_CC_DFU_TIMER_REBOOT, FW_CC_DFU_IN_REBOOT_TIMER);
    case S_M_CLAIM:
        return fw_dfu_lock_claim(&r->lock, &MCUMGR, r->now);
    case S_M_RELEASE:
        return fw_dfu_lock_release(&r->lock, &MCUMGR, r->now);
    case S_ERASE_FAILS:
        r->f.erase_rc = 5; /* -EIO as data */
        return 0;
    case S_DIRTY:
        for (int i = 0; i < PAGES; i++)
            r->f.clean[i] = false;
        return 0;
    default:
        return SIM_EINTERNAL;
    }
}

static void run_case(const struct ccase *c)
{
    struct rig r;
    rig_init(&r, c->xip);
    for (size_t i = 0; i < c->n_steps; i++) {
        const struct step *s = &c->steps[i];
        int rc = run_step(&r, s);
        if (rc != s->want_rc || r.d.state != s->want_state) {
            print_error("case \"%s\" (%s) step %zu: rc %d want %d, state %s want %s\n", c->name, UP,
                        i, rc, s->want_rc, fw_cc_dfu_state_name(r.d.state),
                        fw_cc_dfu_state_name(s->want_state));
            fail();
        }
    }
    const struct fw_dfu_lock_owner *o = fw_dfu_lock_owner_get(&r.lock);
    char owner = o == NULL ? '-' : o->name[0];
    if (owner != c->want_owner || r.f.n_confirm != c->want_confirm ||
        r.f.n_erase != c->want_erase || r.f.n_upgrade != c->want_upgrade ||
        r.f.n_reboot != c->want_reboot || r.f.n_unexpected != c->want_unexpected ||
        r.f.n_defer != c->want_defer || r.d.cur_offset != c->want_cur_offset) {
        print_error("case \"%s\" (%s): owner %c/%c confirm %d/%d erase %d/%d upgrade %d/%d "
                    "reboot %d/%d unexpected %d/%d defer %d/%d cur_offset %u/%u (got/want)\n",
                    c->name, UP, owner, c->want_owner, r.f.n_confirm, c->want_confirm, r.f.n_erase,
                    c->want_erase, r.f.n_upgrade, c->want_upgrade, r.f.n_reboot, c->want_reboot,
                    r.f.n_unexpected, c->want_unexpected, r.f.n_defer, c->want_defer,
                    r.d.cur_offset, c->want_cur_offset);
        fail();
    }
    assert_false(r.f.upgrade_permanent);
    fw_cc_dfu_fini(&r.d);
}

static void test_cc_dfu_transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        run_case(&cases[i]);
}

/* ---- timing ---------------------------------------------------------------------- */

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c @v2.9.0
 * (dirty pages are erased one per run, clean ones skipped at once; 15 s back-off) */
static void test_erase_timing_dirty_clean_and_backoff(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false);
    r.f.clean[1] = r.f.clean[3] = true; /* pages 0 and 2 dirty */
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_READY, NULL, 0), 0);
    assert_int_equal(r.f.at[FW_CC_DFU_TIMER_ERASE], 0);
    assert_int_equal(fire(&r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK), 0); /* page 0 */
    assert_int_equal(r.f.at[FW_CC_DFU_TIMER_ERASE], ERASE_NS);
    assert_int_equal(fire(&r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK), 0); /* page 1 */
    assert_int_equal(r.f.at[FW_CC_DFU_TIMER_ERASE], ERASE_NS); /* clean: at once */
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_ACTIVITY, NULL, r.now), 0);
    assert_int_equal(fire(&r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK), 0); /* deferred */
    assert_int_equal(r.f.at[FW_CC_DFU_TIMER_ERASE], ERASE_NS + 15 * SEC);
    assert_false(r.d.device_in_use);
    for (int i = 0; i < 10 && r.d.state == FW_CC_DFU_ERASING; i++)
        assert_int_equal(fire(&r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK), 0);
    assert_int_equal(r.d.state, FW_CC_DFU_IDLE);
    assert_int_equal(r.f.n_erase, 2);
    assert_int_equal(r.now, 2 * ERASE_NS + 15 * SEC);
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c @v2.9.0
 * (store work: <= 16 B every 5 ms, one tick skipped while the device is in use, the 5 s
 * DFU timeout refreshed while data remains) */
static void test_store_writes_16_bytes_every_5_ms(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false);
    for (int i = 0; i < PAGES; i++)
        r.f.clean[i] = true;
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_READY, NULL, 0), 0);
    while (r.d.state == FW_CC_DFU_ERASING)
        assert_int_equal(fire(&r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK), 0);
    struct fw_cc_dfu_start st = {12, 1000, 7, 0};
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_START, &st, 0), 0);
    uint32_t n = 600; /* truncated to the 512 B sync buffer */
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_DATA, &n, 0), 0);
    assert_int_equal(r.d.sync_off, 512);
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_SYNC, NULL, 0), 0);
    assert_int_equal(r.d.sync.sync_buffer_size, 512);
    assert_int_equal(fire(&r, FW_CC_DFU_TIMER_STORE, FW_CC_DFU_IN_STORE_WORK), 0);
    assert_int_equal(r.f.written, 16);
    assert_int_equal(r.f.at[FW_CC_DFU_TIMER_STORE], 5 * MS);
    assert_int_equal(r.f.at[FW_CC_DFU_TIMER_TIMEOUT], 5 * SEC);
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_ACTIVITY, NULL, r.now), 0);
    assert_int_equal(fire(&r, FW_CC_DFU_TIMER_STORE, FW_CC_DFU_IN_STORE_WORK), 0); /* skipped */
    assert_int_equal(r.f.written, 16);
    while (r.f.armed[FW_CC_DFU_TIMER_STORE])
        assert_int_equal(fire(&r, FW_CC_DFU_TIMER_STORE, FW_CC_DFU_IN_STORE_WORK), 0);
    assert_int_equal(r.f.written, 512);
    assert_int_equal(r.d.cur_offset, 512);
    assert_int_equal(r.f.n_write, 32);
    assert_int_equal(r.now, 5 * MS * 32); /* 32 writes + 1 skipped tick, first at 0 */
    assert_int_equal(r.f.at[FW_CC_DFU_TIMER_TIMEOUT], r.now - 5 * MS + 5 * SEC);
}

/* ---- lock contention with dfu_mcumgr (dfu.c, dfu_mcumgr.c, dfu_lock.c together) ---- */

struct mfake {
    int n_reset;
    uint32_t gen;
};

static uint32_t m_arm(void *env, int t, int64_t at)
{
    (void)t, (void)at;
    return ++((struct mfake *)env)->gen;
}
static void m_cancel(void *env, int t)
{
    (void)env, (void)t;
}
static int m_submit(void *env, const struct fw_event *ev, int64_t now)
{
    (void)env, (void)ev, (void)now;
    return 0;
}
static int m_confirm(void *env, int64_t now)
{
    (void)env, (void)now;
    return 0;
}
static void m_reset(void *env, int64_t now)
{
    (void)now;
    ((struct mfake *)env)->n_reset++;
}
static void m_emit(void *env, const struct fw_record *r)
{
    (void)env, (void)r;
}

static int smp_cmd(struct fw_dfu_mcumgr *m, int64_t now)
{
    struct fw_dfu_mcumgr_cmd c = {SMP_CALLBACKS_EVT_CMD_RECV, SMP_MGMT_GROUP_IMAGE, 1};
    return fw_dfu_mcumgr_step(m, FW_DFU_MCUMGR_IN_CMD, &c, now);
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c @v2.9.0
 * UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.9.0
 * (the config channel owns the lock from boot until its background erase ends; SMP DFU
 * commands get rc 11 meanwhile; each side's owner_changed fires on the other's claim) */
static void test_boot_lockout_and_contention_with_mcumgr(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false);
    struct mfake mf = {0};
    struct fw_dfu_mcumgr_ctx mcx = {&mf, m_arm, m_cancel, m_submit, m_confirm, m_reset, m_emit};
    struct fw_dfu_mcumgr_cfg mcfg = fw_dfu_mcumgr_cfg_default();
    struct fw_dfu_mcumgr m;
    fw_dfu_mcumgr_init(&m, &mcfg, &mcx, &r.lock, NULL);
    assert_int_equal(fw_dfu_mcumgr_step(&m, FW_DFU_MCUMGR_IN_READY, NULL, 0), 0);
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_READY, NULL, 0), 0);

    /* 1. Boot-time lock-out: every SMP DFU command is refused during the erase. */
    assert_int_equal(smp_cmd(&m, 0), SMP_MGMT_ERR_EACCESSDENIED);
    assert_int_equal(fire(&r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK), 0);
    assert_int_equal(smp_cmd(&m, r.now), SMP_MGMT_ERR_EACCESSDENIED);
    /* 2. User activity stretches it by 15 s. */
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_ACTIVITY, NULL, r.now), 0);
    while (r.d.state == FW_CC_DFU_ERASING)
        assert_int_equal(fire(&r, FW_CC_DFU_TIMER_ERASE, FW_CC_DFU_IN_ERASE_WORK), 0);
    assert_true(r.now >= 15 * SEC + PAGES * ERASE_NS);
    /* Erase done: MCUmgr gets the lock; the config channel learns the slot was used. */
    assert_int_equal(smp_cmd(&m, r.now), 0);
    assert_ptr_equal(fw_dfu_lock_owner_get(&r.lock), &m.owner);
    assert_true(r.d.slot_used_by_other);
    assert_int_equal(mf.n_reset, 0);
    /* The config channel cannot start or reboot while MCUmgr holds the lock. */
    struct fw_cc_dfu_start st = {12, 64, 1, 0};
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_START, &st, r.now), 0);
    assert_int_equal(r.d.state, FW_CC_DFU_IDLE);
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_REBOOT, NULL, r.now), 0);
    assert_false(r.d.reboot_ok);
    /* 4. MCUmgr idles 5 s and releases; a host sync claims the lock: upload reset. */
    uint32_t gen = mf.gen;
    assert_int_equal(fw_dfu_mcumgr_step(&m, FW_DFU_MCUMGR_IN_TIMEOUT, &gen, r.now + 5 * SEC), 0);
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_SYNC, NULL, r.now + 6 * SEC), 0);
    assert_int_equal(mf.n_reset, 1);
    assert_null(fw_dfu_lock_owner_get(&r.lock)); /* idle sync released it again */
    /* 5. The config channel's start after MCUmgr used the slot re-erases it. */
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_START, &st, r.now + 7 * SEC), 0);
    assert_int_equal(r.d.state, FW_CC_DFU_ERASING);
    assert_int_equal(smp_cmd(&m, r.now + 7 * SEC), SMP_MGMT_ERR_EACCESSDENIED);
    fw_dfu_mcumgr_fini(&m);
}

static void test_bus_wiring_and_bad_inputs(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, false);
    struct fw_event_bus bus;
    fw_event_bus_init(&bus, NULL);
    assert_int_equal(fw_cc_dfu_subscribe(&r.d, &bus), 0);
    struct fw_event evs[] = {fw_event_module_state(FW_EVENT_MOD_MAIN, FW_EVENT_STATE_READY),
                             fw_event_plain(FW_EVENT_HID_REPORT)};
    for (size_t i = 0; i < ARRAY_LEN(evs); i++)
        assert_int_equal(fw_event_bus_submit(&bus, &evs[i], 0), 0);
    assert_int_equal(fw_event_bus_process(&bus, 0), 2);
    assert_int_equal(r.d.state, FW_CC_DFU_ERASING);
    assert_true(r.d.device_in_use);
    struct fw_event peer = fw_event_peer(FW_EVENT_PEER_SECURED);
    r.d.device_in_use = false;
    assert_int_equal(fw_event_bus_submit(&bus, &peer, 0), 0);
    assert_int_equal(fw_event_bus_process(&bus, 0), 1);
    assert_true(r.d.device_in_use);
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_INPUT_COUNT, NULL, 0), SIM_EINVAL);
    assert_int_equal(fw_cc_dfu_step(&r.d, FW_CC_DFU_IN_DATA, NULL, 0), SIM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cc_dfu_transitions),
        cmocka_unit_test(test_erase_timing_dirty_clean_and_backoff),
        cmocka_unit_test(test_store_writes_16_bytes_every_5_ms),
        cmocka_unit_test(test_boot_lockout_and_contention_with_mcumgr),
        cmocka_unit_test(test_bus_wiring_and_bad_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
