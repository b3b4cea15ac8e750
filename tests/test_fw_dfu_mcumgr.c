/* tests/test_fw_dfu_mcumgr.c - nRF Desktop dfu_mcumgr, transition by transition
 * (nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c), against a fake
 * context that records calls.
 *
 * Version B cases mirror the CMD_RECV revision, which v2.9.0 already ships. Version A
 * cases mirror the older IMG_MGMT_ALL / OS_MGMT_RESET revision of the same file, as read
 * from its history; the tag given for it (v2.4.0) is not pinned against the source. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/fw/dfu_mcumgr.h"
#include "models/smp/mgmt.h"
#include "models/smp/os_mgmt.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define SEC          1000000000LL

#define UP_B                                                                                       \
    "UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.9.0"
#define UP_A                                                                                       \
    "UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.4.0"

/* ---- fake context ---------------------------------------------------------------- */

struct fake {
    uint32_t next_gen;
    uint32_t gen; /* generation of the last arm of the DFU timer */
    int64_t at;   /* its expiry */
    bool armed;   /* per the fake: armed and not cancelled */
    int n_submit, n_confirm, n_reset, n_records, n_unexpected, n_reject;
    int submit_rc;
    int confirm_rc;
    struct fw_event_bus *bus; /* non-NULL: submit forwards to it */
    struct fw_record last;
};

static uint32_t f_arm(void *env, int timer, int64_t at)
{
    struct fake *f = env;
    assert_int_equal(timer, FW_DFU_MCUMGR_TIMER_DFU);
    f->gen = ++f->next_gen;
    f->at = at;
    f->armed = true;
    return f->gen;
}

static void f_cancel(void *env, int timer)
{
    struct fake *f = env;
    assert_int_equal(timer, FW_DFU_MCUMGR_TIMER_DFU);
    f->armed = false;
}

static int f_submit(void *env, const struct fw_event *ev, int64_t now)
{
    struct fake *f = env;
    assert_int_equal(ev->type, FW_EVENT_BLE_SMP_TRANSFER);
    if (f->submit_rc != 0)
        return f->submit_rc;
    f->n_submit++;
    return f->bus ? fw_event_bus_submit(f->bus, ev, now) : 0;
}

static int f_confirm(void *env, int64_t now)
{
    (void)now;
    struct fake *f = env;
    f->n_confirm++;
    return f->confirm_rc;
}

static void f_reset(void *env, int64_t now)
{
    (void)now;
    struct fake *f = env;
    f->n_reset++;
}

static void f_emit(void *env, const struct fw_record *r)
{
    struct fake *f = env;
    f->n_records++;
    f->last = *r;
    if (r->kind == FW_RECORD_UNEXPECTED)
        f->n_unexpected++;
    if (r->kind == FW_RECORD_REJECT)
        f->n_reject++;
}

/* ---- the rig: module, lock, a config-channel stand-in, SMP callbacks -------------- */

struct rig {
    struct fake f;
    struct fw_dfu_mcumgr_ctx cx;
    struct fw_dfu_lock lock;
    struct smp_callbacks cbs;
    struct fw_dfu_mcumgr m;
};

static const struct fw_dfu_lock_owner CC = {"Config channel", NULL, NULL};

static void rig_init(struct rig *r, enum fw_dfu_mcumgr_version v, bool bt, bool xip, bool with_lock)
{
    memset(r, 0, sizeof(*r));
    r->cx =
        (struct fw_dfu_mcumgr_ctx){&r->f, f_arm, f_cancel, f_submit, f_confirm, f_reset, f_emit};
    fw_dfu_lock_init(&r->lock, NULL, NULL);
    smp_callbacks_init(&r->cbs);
    struct fw_dfu_mcumgr_cfg cfg = fw_dfu_mcumgr_cfg_default();
    cfg.version = v;
    cfg.transport_bt = bt;
    cfg.direct_xip = xip;
    fw_dfu_mcumgr_init(&r->m, &cfg, &r->cx, with_lock ? &r->lock : NULL, &r->cbs);
}

/* Script steps. Besides module inputs: the config channel claims or releases the lock. */
enum { S_READY, S_CMD, S_TIMEOUT, S_STALE_TIMEOUT, S_DONE, S_CC_CLAIM, S_CC_RELEASE };

struct step {
    int what;
    uint32_t event; /* S_CMD */
    uint16_t group;
    uint8_t id;
    int want_rc;
    int want_state;
};

#define RECV(g, i) S_CMD, SMP_CALLBACKS_EVT_CMD_RECV, g, i
#define IMG_LIST   RECV(SMP_MGMT_GROUP_IMAGE, 0)
#define IMG_UPLOAD RECV(SMP_MGMT_GROUP_IMAGE, 1)
#define OS_RESET   RECV(SMP_MGMT_GROUP_OS, SMP_OS_MGMT_ID_RESET)
#define OS_ECHO    RECV(SMP_MGMT_GROUP_OS, SMP_OS_MGMT_ID_ECHO)
#define A_CHUNK    S_CMD, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK, SMP_MGMT_GROUP_IMAGE, 1
#define A_RESET    S_CMD, SMP_CALLBACKS_EVT_OS_RESET, SMP_MGMT_GROUP_OS, SMP_OS_MGMT_ID_RESET
#define NOARG(w)   w, 0, 0, 0
#define I          FW_DFU_MCUMGR_IDLE
#define A          FW_DFU_MCUMGR_ACTIVE
#define N          FW_DFU_MCUMGR_INIT
#define DENIED     SMP_MGMT_ERR_EACCESSDENIED

struct mcase {
    const char *name;
    const char *upstream;
    enum fw_dfu_mcumgr_version version;
    bool bt, xip, lock;
    struct step steps[8];
    size_t n_steps;
    int want_submit, want_confirm, want_reset, want_unexpected, want_reject;
    char want_owner; /* 'M' MCUmgr, 'C' config channel, '-' free */
    bool want_armed; /* the fake's view of the DFU timer */
};

#define B  FW_DFU_MCUMGR_VERSION_B
#define VA FW_DFU_MCUMGR_VERSION_A

static const struct mcase cases[] = {
    {"main READY self-confirms the running image and enters IDLE",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}},
     1,
     0,
     1,
     0,
     0,
     0,
     '-',
     false},
    {"direct-xip skips the self-confirm",
     UP_B,
     B,
     true,
     true,
     true,
     {{NOARG(S_READY), 0, I}},
     1,
     0,
     0,
     0,
     0,
     0,
     '-',
     false},
    {"image command claims the lock, arms the 5 s timeout, submits a transfer event",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {IMG_UPLOAD, 0, A}},
     2,
     1,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"image list (a read) is DFU-relevant in version B",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {IMG_LIST, 0, A}},
     2,
     1,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"OS reset is DFU-relevant in version B and submits a transfer event",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {OS_RESET, 0, A}},
     2,
     1,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"other commands (OS echo) are ignored",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {OS_ECHO, 0, I}},
     2,
     0,
     1,
     0,
     0,
     0,
     '-',
     false},
    {"image upload while the config channel holds the lock is rejected with rc 11",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {NOARG(S_CC_CLAIM), 0, I}, {IMG_UPLOAD, DENIED, I}},
     3,
     0,
     1,
     0,
     0,
     1,
     'C',
     false},
    {"image list is rejected too in version B",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {NOARG(S_CC_CLAIM), 0, I}, {IMG_LIST, DENIED, I}},
     3,
     0,
     1,
     0,
     0,
     1,
     'C',
     false},
    {"OS reset is rejected with rc 11 while another owner holds the lock",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {NOARG(S_CC_CLAIM), 0, I}, {OS_RESET, DENIED, I}},
     3,
     0,
     1,
     0,
     0,
     1,
     'C',
     false},
    {"ignored commands pass even while another owner holds the lock",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {NOARG(S_CC_CLAIM), 0, I}, {OS_ECHO, 0, I}},
     3,
     0,
     1,
     0,
     0,
     0,
     'C',
     false},
    {"at most one transfer event in flight; the next goes out after the final subscriber",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I},
      {IMG_UPLOAD, 0, A},
      {IMG_UPLOAD, 0, A},
      {IMG_UPLOAD, 0, A},
      {NOARG(S_DONE), 0, A},
      {IMG_UPLOAD, 0, A}},
     6,
     2,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"5 s without a DFU command releases the lock",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {IMG_UPLOAD, 0, A}, {NOARG(S_TIMEOUT), 0, I}},
     3,
     1,
     1,
     0,
     0,
     0,
     '-',
     false},
    {"a stale timeout (re-armed by a later command) changes nothing",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I},
      {IMG_UPLOAD, 0, A},
      {IMG_UPLOAD, 0, A},
      {NOARG(S_STALE_TIMEOUT), 0, A}},
     4,
     1,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"re-claim by MCUmgr after its own timeout does not reset the upload",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {IMG_UPLOAD, 0, A}, {NOARG(S_TIMEOUT), 0, I}, {IMG_UPLOAD, 0, A}},
     4,
     1,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"another owner claiming after MCUmgr released resets the img_mgmt upload",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I},
      {IMG_UPLOAD, 0, A},
      {NOARG(S_TIMEOUT), 0, I},
      {NOARG(S_CC_CLAIM), 0, I},
      {IMG_UPLOAD, DENIED, I},
      {NOARG(S_CC_RELEASE), 0, I},
      {IMG_UPLOAD, 0, A}},
     7,
     1,
     1,
     1,
     0,
     1,
     'M',
     true},
    {"without the DFU lock nothing is rejected and the timeout only idles",
     UP_B,
     B,
     true,
     false,
     false,
     {{NOARG(S_READY), 0, I}, {IMG_UPLOAD, 0, A}, {NOARG(S_TIMEOUT), 0, I}},
     3,
     1,
     1,
     0,
     0,
     0,
     '-',
     false},
    {"without the BT transport no transfer event is submitted",
     UP_B,
     B,
     false,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {IMG_UPLOAD, 0, A}},
     2,
     0,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"version B answers a spurious event with EUNKNOWN",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {A_CHUNK, SMP_MGMT_ERR_EUNKNOWN, I}},
     2,
     0,
     1,
     0,
     0,
     0,
     '-',
     false},
    {"version A: an upload-chunk notification claims and submits",
     UP_A,
     VA,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {A_CHUNK, 0, A}},
     2,
     1,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"version A: the OS reset hook claims but submits no transfer event",
     UP_A,
     VA,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {A_RESET, 0, A}},
     2,
     0,
     1,
     0,
     0,
     0,
     'M',
     true},
    {"version A: a chunk is rejected with rc 11 under the config channel's lock",
     UP_A,
     VA,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {NOARG(S_CC_CLAIM), 0, I}, {A_CHUNK, DENIED, I}},
     3,
     0,
     1,
     0,
     0,
     1,
     'C',
     false},
    {"version A: CMD_RECV is not its hook and is ignored",
     UP_A,
     VA,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {IMG_LIST, 0, I}},
     2,
     0,
     1,
     0,
     0,
     0,
     '-',
     false},
    {"unexpected: a command before main READY is recorded and changes nothing",
     UP_B,
     B,
     true,
     false,
     true,
     {{IMG_UPLOAD, 0, N}},
     1,
     0,
     0,
     0,
     1,
     0,
     '-',
     false},
    {"unexpected: a transfer event done with none in flight is recorded",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {NOARG(S_DONE), 0, I}},
     2,
     0,
     1,
     0,
     1,
     0,
     '-',
     false},
    {"unexpected: a second main READY is recorded",
     UP_B,
     B,
     true,
     false,
     true,
     {{NOARG(S_READY), 0, I}, {NOARG(S_READY), 0, I}},
     2,
     0,
     1,
     0,
     1,
     0,
     '-',
     false},
};

static int run_step(struct rig *r, const struct step *s, int64_t now)
{
    struct fw_dfu_mcumgr_cmd c = {s->event, s->group, s->id};
    uint32_t gen = r->f.gen;
    switch (s->what) {
    case S_READY:
        return fw_dfu_mcumgr_step(&r->m, FW_DFU_MCUMGR_IN_READY, NULL, now);
    case S_CMD:
        return fw_dfu_mcumgr_step(&r->m, FW_DFU_MCUMGR_IN_CMD, &c, now);
    case S_TIMEOUT:
        r->f.armed = false; /* the engine delivered it */
        return fw_dfu_mcumgr_step(&r->m, FW_DFU_MCUMGR_IN_TIMEOUT, &gen, r->f.at);
    case S_STALE_TIMEOUT:
        gen--;
        return fw_dfu_mcumgr_step(&r->m, FW_DFU_MCUMGR_IN_TIMEOUT, &gen, now);
    case S_DONE:
        return fw_dfu_mcumgr_step(&r->m, FW_DFU_MCUMGR_IN_TRANSFER_DONE, NULL, now);
    case S_CC_CLAIM:
        return fw_dfu_lock_claim(&r->lock, &CC, now);
    case S_CC_RELEASE:
        return fw_dfu_lock_release(&r->lock, &CC, now);
    default:
        return SIM_EINTERNAL;
    }
}

static void run_case(const struct mcase *c)
{
    struct rig r;
    rig_init(&r, c->version, c->bt, c->xip, c->lock);
    for (size_t i = 0; i < c->n_steps; i++) {
        int rc = run_step(&r, &c->steps[i], (int64_t)i * SEC);
        if (rc != c->steps[i].want_rc || r.m.state != c->steps[i].want_state) {
            print_error("case \"%s\" (%s) step %zu: rc %d want %d, state %s want %s\n", c->name,
                        c->upstream, i, rc, c->steps[i].want_rc,
                        fw_dfu_mcumgr_state_name(r.m.state),
                        fw_dfu_mcumgr_state_name(c->steps[i].want_state));
            fail();
        }
    }
    const struct fw_dfu_lock_owner *o = fw_dfu_lock_owner_get(&r.lock);
    char owner = o == NULL ? '-' : o->name[0];
    if (r.f.n_submit != c->want_submit || r.f.n_confirm != c->want_confirm ||
        r.f.n_reset != c->want_reset || r.f.n_unexpected != c->want_unexpected ||
        r.f.n_reject != c->want_reject || owner != c->want_owner || r.f.armed != c->want_armed) {
        print_error("case \"%s\" (%s): submit %d/%d confirm %d/%d reset %d/%d unexpected %d/%d "
                    "reject %d/%d owner %c/%c armed %d/%d (got/want)\n",
                    c->name, c->upstream, r.f.n_submit, c->want_submit, r.f.n_confirm,
                    c->want_confirm, r.f.n_reset, c->want_reset, r.f.n_unexpected,
                    c->want_unexpected, r.f.n_reject, c->want_reject, owner, c->want_owner,
                    r.f.armed, c->want_armed);
        fail();
    }
}

static void test_dfu_mcumgr_transitions(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++)
        run_case(&cases[i]);
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.9.0
 * (k_work_reschedule(&dfu_timeout, DFU_TIMEOUT) with DFU_TIMEOUT K_SECONDS(5)) */
static void test_timeout_is_5s_after_the_last_command(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, B, true, false, true);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_READY, NULL, 0), 0);
    struct fw_dfu_mcumgr_cmd c = {SMP_CALLBACKS_EVT_CMD_RECV, SMP_MGMT_GROUP_IMAGE, 1};
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_CMD, &c, 1 * SEC), 0);
    assert_int_equal(r.f.at, 6 * SEC);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_CMD, &c, 3 * SEC), 0);
    assert_int_equal(r.f.at, 8 * SEC);
}

/* ---- through the SMP callback registry (models/smp/callbacks.h) ------------------- */

static enum smp_callbacks_status notify_cmd(struct rig *r, uint16_t group, uint8_t id, int64_t now,
                                            int32_t *rc)
{
    struct smp_callbacks_cmd arg = {.group = group, .id = id, .op = SMP_MGMT_OP_WRITE};
    uint16_t g;
    return smp_callbacks_notify(&r->cbs, SMP_CALLBACKS_EVT_CMD_RECV, &arg, sizeof(arg), now, rc,
                                &g);
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.9.0
 * (smp_cmd_recv registered on MGMT_EVT_OP_CMD_RECV at main READY; MGMT_CB_ERROR_RC with
 * MGMT_ERR_EACCESSDENIED when dfu_lock_claim fails) */
static void test_registered_hook_rejects_through_smp_callbacks(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, B, true, false, true);
    int32_t rc = -1;
    /* Before READY nothing is registered: the command passes. */
    assert_int_equal(notify_cmd(&r, SMP_MGMT_GROUP_IMAGE, 1, 0, &rc), SMP_CALLBACKS_OK);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_READY, NULL, 0), 0);
    assert_int_equal(r.cbs.n_entries, 1);
    assert_int_equal(r.cbs.entries[0].events, SMP_CALLBACKS_EVT_CMD_RECV);
    assert_int_equal(fw_dfu_lock_claim(&r.lock, &CC, 0), 0);
    assert_int_equal(notify_cmd(&r, SMP_MGMT_GROUP_IMAGE, 1, 1, &rc), SMP_CALLBACKS_ERROR_RC);
    assert_int_equal(rc, SMP_MGMT_ERR_EACCESSDENIED);
    assert_int_equal(notify_cmd(&r, SMP_MGMT_GROUP_OS, 0, 1, &rc), SMP_CALLBACKS_OK);
    assert_int_equal(fw_dfu_lock_release(&r.lock, &CC, 2), 0);
    assert_int_equal(notify_cmd(&r, SMP_MGMT_GROUP_IMAGE, 1, 3, &rc), SMP_CALLBACKS_OK);
    assert_int_equal(r.m.state, FW_DFU_MCUMGR_ACTIVE);
    /* Wrong data size: "Invalid data size in recv cb" -> EUNKNOWN. */
    uint16_t g;
    struct smp_callbacks_cmd arg = {0};
    assert_int_equal(smp_callbacks_notify(&r.cbs, SMP_CALLBACKS_EVT_CMD_RECV, &arg, 1, 4, &rc, &g),
                     SMP_CALLBACKS_ERROR_RC);
    assert_int_equal(rc, SMP_MGMT_ERR_EUNKNOWN);
}

static enum smp_callbacks_status veto_first(void *env, uint32_t event,
                                            enum smp_callbacks_status prev, int32_t *rc,
                                            uint16_t *group, bool *abort_more, const void *data,
                                            size_t size, int64_t now)
{
    (void)env, (void)event, (void)prev, (void)group, (void)abort_more, (void)data, (void)size;
    (void)now;
    *rc = SMP_MGMT_ERR_EBUSY;
    return SMP_CALLBACKS_ERROR_RC;
}

static void test_earlier_veto_keeps_its_rc(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, B, true, false, true);
    assert_int_equal(smp_callbacks_register(&r.cbs, SMP_CALLBACKS_EVT_CMD_RECV, veto_first, NULL),
                     0);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_READY, NULL, 0), 0);
    assert_int_equal(fw_dfu_lock_claim(&r.lock, &CC, 0), 0);
    int32_t rc;
    assert_int_equal(notify_cmd(&r, SMP_MGMT_GROUP_IMAGE, 1, 1, &rc), SMP_CALLBACKS_ERROR_RC);
    assert_int_equal(rc, SMP_MGMT_ERR_EBUSY);
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.4.0
 * (version A registers MGMT_EVT_OP_IMG_MGMT_ALL and MGMT_EVT_OP_OS_MGMT_RESET) */
static void test_version_a_registers_image_and_reset_hooks(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, VA, true, false, true);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_READY, NULL, 0), 0);
    assert_int_equal(r.cbs.n_entries, 2);
    assert_int_equal(r.cbs.entries[0].events, SMP_CALLBACKS_EVT_IMG_ALL);
    assert_int_equal(r.cbs.entries[1].events, SMP_CALLBACKS_EVT_OS_RESET);
    int32_t rc;
    uint16_t g;
    assert_int_equal(fw_dfu_lock_claim(&r.lock, &CC, 0), 0);
    assert_int_equal(
        smp_callbacks_notify(&r.cbs, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK, NULL, 0, 1, &rc, &g),
        SMP_CALLBACKS_ERROR_RC);
    assert_int_equal(rc, SMP_MGMT_ERR_EACCESSDENIED);
}

/* ---- through the event bus: final subscriber clears the in-flight flag ------------- */

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @v2.9.0
 * (APP_EVENT_SUBSCRIBE_FINAL(MODULE, ble_smp_transfer_event) clears mcumgr_event_active) */
static void test_final_subscriber_on_the_bus_allows_the_next_event(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, B, true, false, true);
    struct fw_event_bus bus;
    fw_event_bus_init(&bus, NULL);
    r.f.bus = &bus;
    assert_int_equal(fw_dfu_mcumgr_subscribe(&r.m, &bus), 0);
    struct fw_event ready = fw_event_module_state(FW_EVENT_MOD_MAIN, FW_EVENT_STATE_READY);
    assert_int_equal(fw_event_bus_submit(&bus, &ready, 0), 0);
    assert_int_equal(fw_event_bus_process(&bus, 0), 1);
    assert_int_equal(r.m.state, FW_DFU_MCUMGR_IDLE);
    struct fw_dfu_mcumgr_cmd c = {SMP_CALLBACKS_EVT_CMD_RECV, SMP_MGMT_GROUP_IMAGE, 1};
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_CMD, &c, 1), 0);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_CMD, &c, 2), 0);
    assert_true(r.m.evt_in_flight);
    assert_int_equal(fw_event_bus_pending(&bus), 1);
    assert_int_equal(fw_event_bus_process(&bus, 3), 1);
    assert_false(r.m.evt_in_flight);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_CMD, &c, 4), 0);
    assert_int_equal(fw_event_bus_pending(&bus), 1);
    assert_int_equal(r.f.n_submit, 2);
}

/* A failed submit (bus full) is a simulator error; the flag stays clear. */
static void test_submit_failure_is_returned_and_leaves_no_flag(void **state)
{
    (void)state;
    struct rig r;
    rig_init(&r, B, true, false, true);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_READY, NULL, 0), 0);
    r.f.submit_rc = SIM_ERANGE;
    struct fw_dfu_mcumgr_cmd c = {SMP_CALLBACKS_EVT_CMD_RECV, SMP_MGMT_GROUP_IMAGE, 1};
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_CMD, &c, 1), SIM_ERANGE);
    assert_false(r.m.evt_in_flight);
    int32_t rc = 0;
    assert_int_equal(notify_cmd(&r, SMP_MGMT_GROUP_IMAGE, 1, 2, &rc), SMP_CALLBACKS_OK);
    assert_int_equal(r.m.fault, SIM_ERANGE);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_INPUT_COUNT, NULL, 0), SIM_EINVAL);
    assert_int_equal(fw_dfu_mcumgr_step(&r.m, FW_DFU_MCUMGR_IN_CMD, NULL, 0), SIM_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dfu_mcumgr_transitions),
        cmocka_unit_test(test_timeout_is_5s_after_the_last_command),
        cmocka_unit_test(test_registered_hook_rejects_through_smp_callbacks),
        cmocka_unit_test(test_earlier_veto_keeps_its_rc),
        cmocka_unit_test(test_version_a_registers_image_and_reset_hooks),
        cmocka_unit_test(test_final_subscriber_on_the_bus_allows_the_next_event),
        cmocka_unit_test(test_submit_failure_is_returned_and_leaves_no_flag),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
