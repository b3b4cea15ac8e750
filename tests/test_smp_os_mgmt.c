/* tests/test_smp_os_mgmt.c - OS group: echo, reset, params, bootloader info, info. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "models/smp/os_mgmt.h"
#include "sim/error.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MS(x)        ((int64_t)(x)*1000000LL)

/* ---- fixture: server + OS group + fake transport, timer and reboot -------------- */

struct fix {
    struct smp_server srv;
    struct smp_callbacks cbs;
    struct smp_os_mgmt os;
    struct smp_os_mgmt_ctx os_cx;
    struct smp_server_ctx cx;
    uint8_t rsp[2475];
    size_t rsp_cap;
    /* recorded */
    size_t n_frames;
    uint8_t frame[8][600];
    size_t len[8];
    size_t n_arms;
    int64_t armed_at;
    size_t n_reboots;
    int64_t rebooted_at;
};

static int rec_send(void *env, const uint8_t *b, size_t n)
{
    struct fix *f = env;
    assert_true(f->n_frames < 8 && n <= sizeof(f->frame[0]));
    memcpy(f->frame[f->n_frames], b, n);
    f->len[f->n_frames++] = n;
    return 0;
}

static int rec_arm(void *env, int64_t at)
{
    struct fix *f = env;
    f->n_arms++;
    f->armed_at = at;
    return 0;
}

static void rec_reboot(void *env, int64_t now)
{
    struct fix *f = env;
    f->n_reboots++;
    f->rebooted_at = now;
}

static void fix_init(struct fix *f, const struct smp_os_mgmt_cfg *cfg)
{
    memset(f, 0, sizeof(*f));
    f->rsp_cap = sizeof(f->rsp);
    struct smp_server_cfg scfg = smp_server_cfg_default();
    smp_callbacks_init(&f->cbs);
    smp_server_init(&f->srv, &scfg, &f->cbs);
    f->os_cx = (struct smp_os_mgmt_ctx){.env = f, .timer_arm = rec_arm, .reboot = rec_reboot};
    smp_os_mgmt_init(&f->os, cfg, &f->os_cx, &f->cbs);
    struct smp_server_group g = smp_os_mgmt_group(&f->os);
    assert_int_equal(smp_server_group_add(&f->srv, &g), 0);
    f->cx = (struct smp_server_ctx){.env = f, .send = rec_send};
}

static void run(struct fix *f, const uint8_t *req, size_t n, int64_t now)
{
    f->n_frames = 0;
    assert_int_equal(smp_server_process(&f->srv, req, n, f->rsp, f->rsp_cap, now, &f->cx, NULL), 0);
}

/* Build a request frame: header then body (len taken from body). */
static size_t mkreq(uint8_t *out, uint8_t op, uint8_t ver, uint8_t id, const uint8_t *body,
                    size_t body_n)
{
    struct smp_frame_hdr h = {.op = op,
                              .version = ver,
                              .len = (uint16_t)body_n,
                              .group = SMP_MGMT_GROUP_OS,
                              .seq = 0x33,
                              .id = id};
    smp_frame_hdr_encode(&h, out);
    if (body_n > 0)
        memcpy(out + 8, body, body_n);
    return 8 + body_n;
}

static void expect_rsp(const char *name, const struct fix *f, uint8_t op, uint8_t ver, uint8_t id,
                       const uint8_t *body, size_t body_n)
{
    if (f->n_frames != 1)
        fail_msg("%s: %zu frames, want 1", name, f->n_frames);
    uint8_t want[600];
    struct smp_frame_hdr h = {.op = op,
                              .version = ver,
                              .len = (uint16_t)body_n,
                              .group = SMP_MGMT_GROUP_OS,
                              .seq = 0x33,
                              .id = id};
    smp_frame_hdr_encode(&h, want);
    memcpy(want + 8, body, body_n);
    if (f->len[0] == body_n + 8 && memcmp(f->frame[0], want, body_n + 8) == 0)
        return;
    char g[1300] = "", w[1300] = "";
    for (size_t i = 0; i < f->len[0] && i < 600; i++)
        snprintf(g + strlen(g), sizeof(g) - strlen(g), "%02x", f->frame[0][i]);
    for (size_t i = 0; i < body_n + 8; i++)
        snprintf(w + strlen(w), sizeof(w) - strlen(w), "%02x", want[i]);
    fail_msg("%s:\n  got  %s\n  want %s", name, g, w);
}

#define RC_BODY(rc) 0xbf, 0x62, 'r', 'c', (rc), 0xff

/* ---- echo ------------------------------------------------------------------------ */

/* UPSTREAM: zephyrproject-rtos/zephyr: tests/subsys/mgmt/mcumgr/os_mgmt_echo/src/main.c @main */
static void test_echo_zephyr_vector_byte_exact(void **state)
{
    (void)state;
    static const uint8_t req[] = {0x02, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x61, 0x64,
                                  0x78, 0x28, 's',  'h',  'o',  'r',  't',  ' ',  'M',  'C',  'U',
                                  'M',  'G',  'R',  ' ',  't',  'e',  's',  't',  ' ',  'a',  'p',
                                  'p',  'l',  'i',  'c',  'a',  't',  'i',  'o',  'n',  ' ',  'm',
                                  'e',  's',  's',  'a',  'g',  'e',  '.',  '.',  '.',  0xff};
    static const uint8_t rsp[] = {0x03, 0x00, 0x00, 0x2e, 0x00, 0x00, 0x01, 0x00, 0xbf, 0x61, 0x72,
                                  0x78, 0x28, 's',  'h',  'o',  'r',  't',  ' ',  'M',  'C',  'U',
                                  'M',  'G',  'R',  ' ',  't',  'e',  's',  't',  ' ',  'a',  'p',
                                  'p',  'l',  'i',  'c',  'a',  't',  'i',  'o',  'n',  ' ',  'm',
                                  'e',  's',  's',  'a',  'g',  'e',  '.',  '.',  '.',  0xff};
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    struct fix f;
    fix_init(&f, &cfg);
    run(&f, req, sizeof(req), 0);
    assert_int_equal(f.n_frames, 1);
    assert_int_equal(f.len[0], sizeof(rsp));
    assert_memory_equal(f.frame[0], rsp, sizeof(rsp));
}

static void test_echo_table(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t op, ver;
        uint8_t body[16];
        size_t body_n;
        uint8_t want[16];
        size_t want_n;
    } cases[] = {
        {"READ echo is answered READ_RSP",
         0,
         1,
         {0xa1, 0x61, 'd', 0x62, 'h', 'i'},
         6,
         {0xbf, 0x61, 'r', 0x62, 'h', 'i', 0xff},
         7},
        {"definite map request (Android) gets the indefinite response",
         2,
         1,
         {0xa1, 0x61, 'd', 0x62, 'h', 'i'},
         6,
         {0xbf, 0x61, 'r', 0x62, 'h', 'i', 0xff},
         7},
        {"unknown keys are ignored",
         2,
         1,
         {0xa2, 0x61, 'x', 0x01, 0x61, 'd', 0x61, 'z'},
         8,
         {0xbf, 0x61, 'r', 0x61, 'z', 0xff},
         6},
        {"missing d echoes an empty string", 2, 1, {0xa0}, 1, {0xbf, 0x61, 'r', 0x60, 0xff}, 5},
        {"d as a byte string is EINVAL", 2, 1, {0xa1, 0x61, 'd', 0x41, 'x'}, 5, {RC_BODY(3)}, 6},
        {"empty payload is EINVAL", 2, 1, {0}, 0, {RC_BODY(3)}, 6},
        {"payload that is not a map is EINVAL", 2, 0, {0x61, 'd'}, 2, {RC_BODY(3)}, 6},
    };
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct fix f;
        fix_init(&f, &cfg);
        uint8_t req[32];
        size_t n = mkreq(req, cases[i].op, cases[i].ver, 0, cases[i].body, cases[i].body_n);
        run(&f, req, n, 0);
        expect_rsp(cases[i].name, &f, cases[i].op == 0 ? 1 : 3, cases[i].ver, 0, cases[i].want,
                   cases[i].want_n);
    }
}

static void test_echo_longer_than_the_response_buffer_is_emsgsize(void **state)
{
    (void)state;
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    struct fix f;
    fix_init(&f, &cfg);
    f.rsp_cap = 64;
    uint8_t body[80] = {0xa1, 0x61, 'd', 0x78, 60};
    memset(body + 5, 'x', 60);
    uint8_t req[96];
    size_t n = mkreq(req, 2, 1, 0, body, 65);
    run(&f, req, n, 0);
    const uint8_t want[] = {RC_BODY(7)};
    expect_rsp("echo of 60 chars in a 64-byte net_buf", &f, 3, 1, 0, want, sizeof(want));
}

static void test_echo_disabled_is_enotsup(void **state)
{
    (void)state;
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    cfg.echo = false;
    struct fix f;
    fix_init(&f, &cfg);
    const uint8_t body[] = {0xa0};
    uint8_t req[16];
    run(&f, req, mkreq(req, 2, 1, 0, body, 1), 0);
    const uint8_t want[] = {RC_BODY(8)};
    expect_rsp("CONFIG_MCUMGR_GRP_OS_ECHO=n", &f, 3, 1, 0, want, sizeof(want));
}

/* ---- reset ----------------------------------------------------------------------- */

/* UPSTREAM: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/os_mgmt/src/os_mgmt.c @main */
static void test_reset_answers_then_reboots_250ms_later(void **state)
{
    (void)state;
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    struct fix f;
    fix_init(&f, &cfg);
    const uint8_t body[] = {0xa0};
    uint8_t req[16];
    size_t n = mkreq(req, 2, 1, SMP_OS_MGMT_ID_RESET, body, 1);
    run(&f, req, n, MS(1000));
    const uint8_t want[] = {0xbf, 0xff};
    expect_rsp("reset answers {}", &f, 3, 1, 5, want, sizeof(want));
    assert_int_equal(f.n_arms, 1);
    assert_true(f.armed_at == MS(1250));
    assert_int_equal(f.n_reboots, 0);
    /* a second reset re-arms (k_timer_start restarts the timer) */
    run(&f, req, n, MS(1100));
    assert_true(f.armed_at == MS(1350));
    smp_os_mgmt_timer(&f.os, MS(1250)); /* stale firing */
    assert_int_equal(f.n_reboots, 0);
    smp_os_mgmt_timer(&f.os, MS(1350));
    assert_int_equal(f.n_reboots, 1);
    assert_true(f.rebooted_at == MS(1350));
    smp_os_mgmt_timer(&f.os, MS(1350)); /* nothing pending any more */
    assert_int_equal(f.n_reboots, 1);
}

static void test_reset_read_and_empty_payload(void **state)
{
    (void)state;
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    struct fix f;
    fix_init(&f, &cfg);
    uint8_t req[16];
    run(&f, req, mkreq(req, 0, 1, SMP_OS_MGMT_ID_RESET, NULL, 0), 0);
    const uint8_t enotsup[] = {RC_BODY(8)};
    expect_rsp("reset has no READ handler", &f, 1, 1, 5, enotsup, sizeof(enotsup));
    /* without the hook the payload is never decoded, so an empty one is fine */
    run(&f, req, mkreq(req, 2, 1, SMP_OS_MGMT_ID_RESET, NULL, 0), 0);
    const uint8_t ok[] = {0xbf, 0xff};
    expect_rsp("reset with no payload", &f, 3, 1, 5, ok, sizeof(ok));
    cfg.reset = false; /* CONFIG_REBOOT=n */
    fix_init(&f, &cfg);
    run(&f, req, mkreq(req, 2, 1, SMP_OS_MGMT_ID_RESET, NULL, 0), 0);
    expect_rsp("CONFIG_REBOOT=n", &f, 3, 1, 5, enotsup, sizeof(enotsup));
}

struct reset_hook {
    enum smp_callbacks_status answer;
    int32_t rc;
    uint16_t group;
    size_t calls;
    bool force;
};

static enum smp_callbacks_status on_reset(void *env, uint32_t event, enum smp_callbacks_status prev,
                                          int32_t *rc, uint16_t *group, bool *abort_more,
                                          const void *data, size_t size, int64_t now)
{
    (void)prev;
    (void)abort_more;
    (void)now;
    struct reset_hook *h = env;
    assert_int_equal(event, SMP_CALLBACKS_EVT_OS_RESET);
    assert_int_equal(size, sizeof(struct smp_os_mgmt_reset_data));
    h->calls++;
    h->force = ((const struct smp_os_mgmt_reset_data *)data)->force;
    *rc = h->rc;
    *group = h->group;
    return h->answer;
}

/* UPSTREAM: nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu_mcumgr.c @main
 * (version A refuses a reset with rc 11 while another transport owns the DFU lock). */
static void test_reset_hook_may_reject(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool hook_enabled;
        enum smp_callbacks_status answer;
        uint8_t body[12];
        size_t body_n;
        bool want_force;
        uint8_t want[24];
        size_t want_n;
        size_t want_arms;
        size_t want_calls;
    } cases[] = {
        {"hook accepts: {} and the timer is armed",
         true,
         SMP_CALLBACKS_OK,
         {0xa0},
         1,
         false,
         {0xbf, 0xff},
         2,
         1,
         1},
        {"force is passed to the hook",
         true,
         SMP_CALLBACKS_OK,
         {0xa1, 0x65, 'f', 'o', 'r', 'c', 'e', 0xf5},
         8,
         true,
         {0xbf, 0xff},
         2,
         1,
         1},
        {"undecodable request is not an error with the hook",
         true,
         SMP_CALLBACKS_OK,
         {0xa1, 0x65, 'f', 'o', 'r', 'c', 'e', 0x01},
         8,
         false,
         {0xbf, 0xff},
         2,
         1,
         1},
        {"ERROR_RC answers rc 11 and does not reboot",
         true,
         SMP_CALLBACKS_ERROR_RC,
         {0xa0},
         1,
         false,
         {RC_BODY(11)},
         6,
         0,
         1},
        {"ERROR_ERR answers err and does not reboot",
         true,
         SMP_CALLBACKS_ERROR_ERR,
         {0xa0},
         1,
         false,
         {0xbf, 0x63, 'e',  'r', 'r',  0xbf, 0x65, 'g',  'r',  'o',
          'u',  'p',  0x18, 64,  0x62, 'r',  'c',  0x05, 0xff, 0xff},
         20,
         0,
         1},
        {"hook not configured: callbacks are not asked",
         false,
         SMP_CALLBACKS_ERROR_RC,
         {0xa0},
         1,
         false,
         {0xbf, 0xff},
         2,
         1,
         0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
        cfg.reset_hook = cases[i].hook_enabled;
        struct fix f;
        fix_init(&f, &cfg);
        struct reset_hook h = {.answer = cases[i].answer,
                               .rc = cases[i].answer == SMP_CALLBACKS_ERROR_RC ? 11 : 5,
                               .group = 64};
        assert_int_equal(smp_callbacks_register(&f.cbs, SMP_CALLBACKS_EVT_OS_RESET, on_reset, &h),
                         0);
        uint8_t req[32];
        run(&f, req, mkreq(req, 2, 1, SMP_OS_MGMT_ID_RESET, cases[i].body, cases[i].body_n), 0);
        expect_rsp(cases[i].name, &f, 3, 1, 5, cases[i].want, cases[i].want_n);
        if (f.n_arms != cases[i].want_arms || h.calls != cases[i].want_calls ||
            h.force != cases[i].want_force)
            fail_msg("%s: arms %zu calls %zu force %d", cases[i].name, f.n_arms, h.calls, h.force);
    }
}

/* ---- MCUmgr parameters ----------------------------------------------------------- */

static void test_mcumgr_params(void **state)
{
    (void)state;
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    struct fix f;
    fix_init(&f, &cfg);
    uint8_t req[16];
    run(&f, req, mkreq(req, 0, 1, SMP_OS_MGMT_ID_MCUMGR_PARAMS, NULL, 0), 0);
    const uint8_t enotsup[] = {RC_BODY(8)};
    expect_rsp("params off by default (CONFIG_MCUMGR_GRP_OS_MCUMGR_PARAMS=n)", &f, 1, 1, 6, enotsup,
               sizeof(enotsup));

    cfg.mcumgr_params = true;
    cfg.buf_size = 2475;
    cfg.buf_count = 4;
    fix_init(&f, &cfg);
    run(&f, req, mkreq(req, 0, 1, SMP_OS_MGMT_ID_MCUMGR_PARAMS, NULL, 0), 0);
    const uint8_t want[] = {0xbf, 0x68, 'b', 'u', 'f', '_', 's', 'i', 'z', 'e', 0x19, 0x09, 0xab,
                            0x69, 'b',  'u', 'f', '_', 'c', 'o', 'u', 'n', 't', 0x04, 0xff};
    expect_rsp("params report net_buf size and count, op READ_RSP", &f, 1, 1, 6, want,
               sizeof(want));
}

/* ---- bootloader info ------------------------------------------------------------- */

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager: mcumgr-core/src/main/java/io/runtime/mcumgr/dfu/mcuboot/task/Validate.java @e733429
 * (the client asks {"query": "mode"} and maps the numbers below). */
static void test_bootloader_info(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        int32_t mode;
        bool no_downgrade;
        uint8_t body[20];
        size_t body_n;
        uint8_t want[40];
        size_t want_n;
    } cases[] = {
        {"no query introduces MCUboot",
         3,
         false,
         {0xa0},
         1,
         {0xbf, 0x6a, 'b', 'o', 'o', 't', 'l', 'o', 'a', 'd', 'e',
          'r',  0x67, 'M', 'C', 'U', 'b', 'o', 'o', 't', 0xff},
         21},
        {"unknown key only: still introduces MCUboot",
         3,
         false,
         {0xa1, 0x61, 'q', 0x01},
         4,
         {0xbf, 0x6a, 'b', 'o', 'o', 't', 'l', 'o', 'a', 'd', 'e',
          'r',  0x67, 'M', 'C', 'U', 'b', 'o', 'o', 't', 0xff},
         21},
        {"mode of swap-move is 3",
         SMP_OS_MGMT_BOOT_MODE_SWAP_USING_MOVE,
         false,
         {0xa1, 0x65, 'q', 'u', 'e', 'r', 'y', 0x64, 'm', 'o', 'd', 'e'},
         12,
         {0xbf, 0x64, 'm', 'o', 'd', 'e', 0x03, 0xff},
         8},
        {"mode of direct-xip with revert is 5",
         SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP_WITH_REVERT,
         false,
         {0xa1, 0x65, 'q', 'u', 'e', 'r', 'y', 0x64, 'm', 'o', 'd', 'e'},
         12,
         {0xbf, 0x64, 'm', 'o', 'd', 'e', 0x05, 0xff},
         8},
        {"unmapped mode is -1",
         SMP_OS_MGMT_BOOT_MODE_UNKNOWN,
         false,
         {0xa1, 0x65, 'q', 'u', 'e', 'r', 'y', 0x64, 'm', 'o', 'd', 'e'},
         12,
         {0xbf, 0x64, 'm', 'o', 'd', 'e', 0x20, 0xff},
         8},
        {"no-downgrade is appended when set",
         SMP_OS_MGMT_BOOT_MODE_SWAP_USING_SCRATCH,
         true,
         {0xa1, 0x65, 'q', 'u', 'e', 'r', 'y', 0x64, 'm', 'o', 'd', 'e'},
         12,
         {0xbf, 0x64, 'm', 'o', 'd', 'e', 0x01, 0x6c, 'n', 'o',  '-',
          'd',  'o',  'w', 'n', 'g', 'r', 'a',  'd',  'e', 0xf5, 0xff},
         22},
        {"unknown query is SMP-level rc 3, not err",
         3,
         false,
         {0xa1, 0x65, 'q', 'u', 'e', 'r', 'y', 0x64, 'm', 'o', 'd', 'x'},
         12,
         {RC_BODY(3)},
         6},
        {"query that is not text is EINVAL",
         3,
         false,
         {0xa1, 0x65, 'q', 'u', 'e', 'r', 'y', 0x01},
         8,
         {RC_BODY(3)},
         6},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
        cfg.bootloader_info = true;
        cfg.boot_mode = cases[i].mode;
        cfg.no_downgrade = cases[i].no_downgrade;
        struct fix f;
        fix_init(&f, &cfg);
        uint8_t req[40];
        run(&f, req,
            mkreq(req, 0, 1, SMP_OS_MGMT_ID_BOOTLOADER_INFO, cases[i].body, cases[i].body_n), 0);
        expect_rsp(cases[i].name, &f, 1, 1, 8, cases[i].want, cases[i].want_n);
    }
}

/* ---- info ------------------------------------------------------------------------ */

static void test_info(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        uint8_t ver;
        const char *format; /* NULL: empty map */
        const char *want_output;
        int want_rc;  /* SMP-level rc answer, or -1 */
        int want_err; /* err rc in group 0, or -1 */
        size_t info_max;
    } cases[] = {
        {"no format gives the kernel name", 1, NULL, "Zephyr", -1, -1, 256},
        {"s", 1, "s", "Zephyr", -1, -1, 256},
        {"fields come in fixed order whatever the letter order", 1, "oms", "Zephyr arm Zephyr", -1,
         -1, 256},
        {"a gives every field but the build date", 1, "a",
         "Zephyr mouse unknown 3.7.0 arm cortex-m4 nrf52840dk Zephyr", -1, -1, 256},
        {"unknown letter is err INVALID_FORMAT (v2)", 1, "sx", NULL, -1, 2, 256},
        {"b without build date configured is invalid", 1, "b", NULL, -1, 2, 256},
        {"unknown letter on v1 is translated to EINVAL", 0, "x", NULL, 3, -1, 256},
        {"output that does not fit the info buffer is EMSGSIZE", 1, "a", NULL, 7, -1, 16},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
        cfg.info = true;
        cfg.info_max = cases[i].info_max;
        cfg.info_strings.node_name = "mouse";
        struct fix f;
        fix_init(&f, &cfg);
        uint8_t body[64];
        struct smp_frame_writer w;
        smp_frame_writer_init(&w, body, sizeof(body));
        smp_frame_put_map(&w, cases[i].format ? 1 : 0);
        if (cases[i].format) {
            smp_frame_put_text(&w, "format");
            smp_frame_put_text(&w, cases[i].format);
        }
        uint8_t req[96];
        run(&f, req, mkreq(req, 0, cases[i].ver, SMP_OS_MGMT_ID_INFO, body, w.len), 0);
        uint8_t want[128];
        smp_frame_writer_init(&w, want, sizeof(want));
        smp_frame_put_map(&w, SMP_FRAME_INDEF);
        if (cases[i].want_rc >= 0) {
            smp_frame_put_text(&w, "rc");
            smp_frame_put_uint(&w, (uint64_t)cases[i].want_rc);
        } else if (cases[i].want_err >= 0) {
            smp_frame_put_text(&w, "err");
            smp_frame_put_map(&w, SMP_FRAME_INDEF);
            smp_frame_put_text(&w, "group");
            smp_frame_put_uint(&w, 0);
            smp_frame_put_text(&w, "rc");
            smp_frame_put_uint(&w, (uint64_t)cases[i].want_err);
            smp_frame_put_end(&w);
        } else {
            smp_frame_put_text(&w, "output");
            smp_frame_put_text(&w, cases[i].want_output);
        }
        smp_frame_put_end(&w);
        expect_rsp(cases[i].name, &f, 1, cases[i].ver, 7, want, w.len);
    }
}

static void test_unimplemented_os_commands_are_enotsup(void **state)
{
    (void)state;
    struct smp_os_mgmt_cfg cfg = smp_os_mgmt_cfg_default();
    struct fix f;
    fix_init(&f, &cfg);
    const uint8_t enotsup[] = {RC_BODY(8)};
    const uint8_t ids[] = {1, 2, 3, 4, 7, 8, 9, 200};
    for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
        uint8_t req[16];
        run(&f, req, mkreq(req, 0, 1, ids[i], NULL, 0), 0);
        expect_rsp("unimplemented OS command", &f, 1, 1, ids[i], enotsup, sizeof(enotsup));
    }
}

static void test_os_translation(void **state)
{
    (void)state;
    assert_int_equal(smp_os_mgmt_translate(SMP_OS_MGMT_ERR_INVALID_FORMAT), 3);
    assert_int_equal(smp_os_mgmt_translate(SMP_OS_MGMT_ERR_QUERY_YIELDS_NO_ANSWER), 5);
    assert_int_equal(smp_os_mgmt_translate(SMP_OS_MGMT_ERR_RTC_NOT_SET), 5);
    assert_int_equal(smp_os_mgmt_translate(SMP_OS_MGMT_ERR_RTC_COMMAND_FAILED), 1);
    assert_int_equal(smp_os_mgmt_translate(SMP_OS_MGMT_ERR_UNKNOWN), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_echo_zephyr_vector_byte_exact),
        cmocka_unit_test(test_echo_table),
        cmocka_unit_test(test_echo_longer_than_the_response_buffer_is_emsgsize),
        cmocka_unit_test(test_echo_disabled_is_enotsup),
        cmocka_unit_test(test_reset_answers_then_reboots_250ms_later),
        cmocka_unit_test(test_reset_read_and_empty_payload),
        cmocka_unit_test(test_reset_hook_may_reject),
        cmocka_unit_test(test_mcumgr_params),
        cmocka_unit_test(test_bootloader_info),
        cmocka_unit_test(test_info),
        cmocka_unit_test(test_unimplemented_os_commands_are_enotsup),
        cmocka_unit_test(test_os_translation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
