/* tests/test_client_dfu.c - the four DFU clients against a fake SMP server.
 *
 * The fake decodes every request with models/smp/frame.h, keeps upload state the way
 * img_mgmt does (offset checks, resume by sha, {"off": expected} on a mismatch), image
 * state (list, test, confirm), reset with a reboot and swap, and answers through a small
 * event loop: responses after a latency, timers by generation, connect/disconnect.
 * Knobs inject a lost request, a busy reply, an error, silence and a link drop.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "models/client/dfu.h"
#include "models/smp/frame.h"
#include "models/smp/mgmt.h"
#include "sim/error.h"

#define MS(x)        ((int64_t)(x)*1000000LL)
#define IMG_MAX      (64 * 1024)
#define MAXEV        4096
#define EVB          700
#define MAXCH        2048
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

enum ev_kind { EV_RSP, EV_TIMER, EV_CONN, EV_DISC };

struct ev {
    int64_t t;
    uint64_t seq;
    int kind, timer;
    uint32_t gen;
    size_t n;
    uint8_t b[EVB];
    bool live;
};

struct chunk_log {
    int64_t t;
    uint32_t off, len;
    unsigned outstanding; /* requests unanswered when this one was sent, itself included */
    bool has_len, has_sha, has_image;
};

struct fake {
    struct client_dfu *c;
    struct client_dfu_image img;
    uint8_t image[IMG_MAX];
    uint8_t old_hash[32];
    int64_t now;
    struct ev ev[MAXEV];
    uint64_t ev_seq;
    uint32_t gen[CLIENT_DFU_TIMER_COUNT];
    bool link_up;
    uint16_t mtu;
    int64_t lat, proc, dev_free, connect_delay, dev_up_at, swap_time;
    /* device */
    bool uploading;
    uint32_t size, off;
    uint8_t sha[32];
    size_t sha_len;
    uint8_t flash[IMG_MAX];
    bool s1_present, s1_pending, s1_permanent, swapped, s0_confirmed;
    bool s0_test; /* the old image runs in a test boot (not confirmed) */
    /* knobs */
    bool params;
    uint32_t buf_size;
    int boot_mode; /* -100: no bootloader info handler */
    uint32_t drop_off;
    int drop_n; /* lose the request for this chunk offset n times */
    uint32_t busy_off;
    int busy_n;
    uint32_t disc_off;
    int disc_n;
    uint32_t silent_off;
    int silent_n;
    uint32_t lost_rsp_off[2]; /* the device takes the chunk, its answer is lost */
    int lost_rsp_n[2];
    uint32_t err_off;
    int32_t err_rc;
    bool test_no_pending;
    int64_t erase_time; /* image erase keeps the device busy this long (whole slot) */
    int32_t erase_err;  /* image erase answers err {group 1, rc} */
    int64_t first_time; /* a fresh offset-0 upload keeps the device busy this long (the
                           first chunk's erase), added to proc */
    bool erase_silent;  /* image erase gets no answer */
    bool erase_disc;    /* the link drops when the erase would answer (no answer) */
    const char *mute;   /* step letters whose requests get no answer (effects still happen) */
    int64_t muted_at;   /* when the first muted request was sent */
    /* logs */
    char steps[64];
    size_t n_steps;
    struct chunk_log ch[MAXCH];
    size_t n_ch;
    uint8_t first[EVB], first_up[EVB];
    size_t n_first, n_first_up;
    uint8_t erase_req[EVB]; /* the last image erase request, header included */
    size_t n_erase_req;
    unsigned n_erase;
    int64_t erase_sent_at;
    uint8_t sw[4][EVB]; /* image state writes, in order */
    size_t n_sw_len[4], n_sw;
    unsigned outstanding, max_out;
    struct client_dfu_record recs[8];
    char errs[8][80];
    size_t n_recs;
    unsigned n_connect, n_chunk_recs;
    int64_t busy_at, after_busy_at;
    int64_t reset_rsp_at;
};

/* ---- event queue -------------------------------------------------------------------- */

static struct ev *ev_push(struct fake *f, int64_t t, int kind)
{
    for (size_t i = 0; i < MAXEV; i++) {
        if (f->ev[i].live)
            continue;
        struct ev *e = &f->ev[i];
        memset(e, 0, offsetof(struct ev, b));
        e->t = t;
        e->seq = f->ev_seq++;
        e->kind = kind;
        e->live = true;
        return e;
    }
    fail_msg("event queue full");
    abort(); /* fail_msg does not return; this tells the compiler (no NULL path) */
}

static void log_step(struct fake *f, char s)
{
    if (s == 'U' && f->n_steps > 0 && f->steps[f->n_steps - 1] == 'U')
        return;
    if (f->n_steps + 1 < sizeof f->steps)
        f->steps[f->n_steps++] = s;
    f->steps[f->n_steps] = '\0';
}

/* ---- fake device -------------------------------------------------------------------- */

static const uint8_t NEW_HASH[32] = {
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf};
static const uint8_t SHA[32] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa,
                                0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5,
                                0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf};

static void put_entry(struct smp_frame_writer *w, uint32_t slot, const uint8_t *hash, bool pending,
                      bool confirmed, bool active, bool permanent)
{
    smp_frame_put_map(w, SMP_FRAME_INDEF);
    smp_frame_put_text(w, "slot");
    smp_frame_put_uint(w, slot);
    smp_frame_put_text(w, "version");
    smp_frame_put_text(w, "1.0.0");
    smp_frame_put_text(w, "hash");
    smp_frame_put_bstr(w, hash, 32);
    smp_frame_put_text(w, "bootable");
    smp_frame_put_bool(w, true);
    smp_frame_put_text(w, "pending");
    smp_frame_put_bool(w, pending);
    smp_frame_put_text(w, "confirmed");
    smp_frame_put_bool(w, confirmed);
    smp_frame_put_text(w, "active");
    smp_frame_put_bool(w, active);
    smp_frame_put_text(w, "permanent");
    smp_frame_put_bool(w, permanent);
    smp_frame_put_end(w);
}

static void put_list(struct fake *f, struct smp_frame_writer *w)
{
    smp_frame_put_text(w, "images");
    smp_frame_put_list(w, SMP_FRAME_INDEF);
    if (!f->swapped) {
        put_entry(w, 0, f->old_hash, false, !f->s0_test, true, false);
        if (f->s1_present)
            put_entry(w, 1, NEW_HASH, f->s1_pending, false, false, f->s1_permanent);
    } else {
        put_entry(w, 0, NEW_HASH, false, f->s0_confirmed, true, false);
        put_entry(w, 1, f->old_hash, false, !f->s0_confirmed, false, false);
    }
    smp_frame_put_end(w);
    smp_frame_put_text(w, "splitStatus");
    smp_frame_put_uint(w, 0);
}

static bool take(uint32_t want, uint32_t off, int *n)
{
    if (*n > 0 && want == off) {
        (*n)--;
        return true;
    }
    return false;
}

/* Build the response body into w; false: no response at all. */
static bool device_upload(struct fake *f, const uint8_t *p, size_t n, struct smp_frame_writer *w,
                          int64_t at)
{
    struct smp_frame_field fl[] = {
        {.key = "off", .type = SMP_FRAME_T_U32},   {.key = "data", .type = SMP_FRAME_T_BSTR},
        {.key = "len", .type = SMP_FRAME_T_U32},   {.key = "sha", .type = SMP_FRAME_T_BSTR},
        {.key = "image", .type = SMP_FRAME_T_U32}, {.key = "upgrade", .type = SMP_FRAME_T_BOOL},
    };
    assert_int_equal(smp_frame_map_decode(p, n, fl, ARRAY_LEN(fl)), 0);
    assert_true(fl[0].found && fl[1].found);
    uint32_t off = fl[0].u32, len = (uint32_t)fl[1].str_len;
    assert_true(f->n_ch < MAXCH);
    f->ch[f->n_ch++] = (struct chunk_log){.t = f->now,
                                          .off = off,
                                          .len = len,
                                          .outstanding = f->outstanding,
                                          .has_len = fl[2].found,
                                          .has_sha = fl[3].found,
                                          .has_image = fl[4].found};
    if (take(f->drop_off, off, &f->drop_n) || take(f->silent_off, off, &f->silent_n))
        return false;
    if (take(f->disc_off, off, &f->disc_n)) {
        ev_push(f, at, EV_DISC);
        return false;
    }
    smp_frame_put_map(w, SMP_FRAME_INDEF);
    if (take(f->busy_off, off, &f->busy_n)) {
        f->busy_at = at;
        smp_frame_put_text(w, "rc");
        smp_frame_put_uint(w, SMP_MGMT_ERR_EBUSY);
        smp_frame_put_end(w);
        return true;
    }
    if (f->busy_at && !f->after_busy_at && off == f->busy_off)
        f->after_busy_at = f->now;
    if (f->err_rc && off == f->err_off) {
        smp_frame_put_text(w, "err");
        smp_frame_put_map(w, SMP_FRAME_INDEF);
        smp_frame_put_text(w, "group");
        smp_frame_put_uint(w, 1);
        smp_frame_put_text(w, "rc");
        smp_frame_put_uint(w, (uint64_t)f->err_rc);
        smp_frame_put_end(w);
        smp_frame_put_end(w);
        return true;
    }
    if (off == 0) {
        assert_true(fl[2].found);
        bool resume = f->uploading && fl[3].found && fl[3].str_len == 32 &&
                      memcmp(fl[3].str, f->sha, 32) == 0;
        if (!resume) { /* fresh start: erase, take len and sha */
            f->uploading = true;
            f->size = fl[2].u32;
            f->off = 0;
            memset(f->sha, 0, 32);
            f->sha_len = fl[3].found ? fl[3].str_len : 0;
            if (fl[3].found)
                memcpy(f->sha, fl[3].str, fl[3].str_len);
            f->s1_present = false;
        }
    }
    if (f->uploading && off == f->off && (off != 0 || f->off == 0)) {
        assert_true(off + len <= f->size);
        memcpy(f->flash + off, fl[1].str, len);
        f->off += len;
    }
    bool lost = take(f->lost_rsp_off[0], off, &f->lost_rsp_n[0]) ||
                take(f->lost_rsp_off[1], off, &f->lost_rsp_n[1]);
    smp_frame_put_text(w, "off");
    smp_frame_put_uint(w, f->uploading ? f->off : 0);
    if (f->uploading && f->off == f->size) {
        if (f->sha_len == 32) { /* image check: "match" only with a full sha */
            smp_frame_put_text(w, "match");
            smp_frame_put_bool(w, memcmp(f->sha, SHA, 32) == 0);
        }
        f->uploading = false;
        f->s1_present = true;
        f->s1_pending = f->s1_permanent = false;
    }
    smp_frame_put_end(w);
    return !lost;
}

/* Image erase as Zephyr's img_mgmt_erase: the non-running slot is erased, the upload
 * state reset; success is an empty map. */
static bool device_erase(struct fake *f, const uint8_t *b, size_t n, struct smp_frame_writer *w,
                         int64_t at)
{
    log_step(f, 'E');
    f->n_erase++;
    f->erase_sent_at = f->now;
    memcpy(f->erase_req, b, n < EVB ? n : EVB);
    f->n_erase_req = n;
    smp_frame_put_map(w, SMP_FRAME_INDEF);
    if (f->erase_err) {
        smp_frame_put_text(w, "err");
        smp_frame_put_map(w, SMP_FRAME_INDEF);
        smp_frame_put_text(w, "group");
        smp_frame_put_uint(w, 1);
        smp_frame_put_text(w, "rc");
        smp_frame_put_uint(w, (uint64_t)f->erase_err);
        smp_frame_put_end(w);
    } else {
        f->uploading = false;
        f->s1_present = false;
    }
    smp_frame_put_end(w);
    if (f->erase_disc) {
        ev_push(f, at, EV_DISC);
        return false;
    }
    return !f->erase_silent;
}

static bool device_state_write(struct fake *f, const uint8_t *p, size_t n,
                               struct smp_frame_writer *w)
{
    struct smp_frame_field fl[] = {{.key = "hash", .type = SMP_FRAME_T_BSTR},
                                   {.key = "confirm", .type = SMP_FRAME_T_BOOL}};
    assert_int_equal(smp_frame_map_decode(p, n, fl, 2), 0);
    bool confirm = fl[1].found && fl[1].b;
    bool ours = fl[0].found && fl[0].str_len == 32 && memcmp(fl[0].str, NEW_HASH, 32) == 0;
    log_step(f, confirm ? 'C' : 'T');
    if (!confirm && ours && f->s1_present && !f->swapped)
        f->s1_pending = !f->test_no_pending;
    if (confirm && f->swapped && (ours || !fl[0].found))
        f->s0_confirmed = true;
    else if (confirm && ours && f->s1_present)
        f->s1_pending = f->s1_permanent = true;
    smp_frame_put_map(w, SMP_FRAME_INDEF);
    put_list(f, w);
    smp_frame_put_end(w);
    return true;
}

static void reboot(struct fake *f)
{
    f->uploading = false;
    f->s0_test = false;                       /* simplification: the test boot ends confirmed */
    if (f->boot_mode == 4 && f->s1_present) { /* Direct-XIP: newer slot boots */
        f->swapped = true;
        f->s0_confirmed = true;
        f->s1_present = false;
    } else if (f->s1_present && f->s1_pending) {
        f->swapped = true;
        f->s0_confirmed = f->s1_permanent;
        f->s1_present = false;
    }
}

static bool device_os(struct fake *f, const struct smp_frame_hdr *h, const uint8_t *p, size_t n,
                      struct smp_frame_writer *w, int64_t at)
{
    smp_frame_put_map(w, SMP_FRAME_INDEF);
    switch (h->id) {
    case 6: /* mcumgr params */
        log_step(f, 'P');
        if (f->params) {
            smp_frame_put_text(w, "buf_size");
            smp_frame_put_uint(w, f->buf_size);
            smp_frame_put_text(w, "buf_count");
            smp_frame_put_uint(w, 4);
        } else {
            smp_frame_put_text(w, "rc");
            smp_frame_put_uint(w, SMP_MGMT_ERR_ENOTSUP);
        }
        break;
    case 8: { /* bootloader info */
        struct smp_frame_field q = {.key = "query", .type = SMP_FRAME_T_TEXT};
        assert_int_equal(smp_frame_map_decode(p, n, &q, 1), 0);
        log_step(f, q.found ? 'M' : 'B');
        if (f->boot_mode == -100) {
            smp_frame_put_text(w, "rc");
            smp_frame_put_uint(w, SMP_MGMT_ERR_ENOTSUP);
        } else if (!q.found) {
            smp_frame_put_text(w, "bootloader");
            smp_frame_put_text(w, "MCUboot");
        } else {
            smp_frame_put_text(w, "mode");
            smp_frame_put_int(w, f->boot_mode);
        }
        break;
    }
    case 5: /* reset: {} now, reboot 250 ms later (CONFIG_MCUMGR_GRP_OS_RESET_MS) */
        log_step(f, 'R');
        f->reset_rsp_at = at;
        ev_push(f, at + MS(250), EV_DISC);
        reboot(f);
        f->dev_up_at = at + MS(250) + f->swap_time;
        break;
    default:
        fail_msg("unexpected os command %u", h->id);
    }
    smp_frame_put_end(w);
    return true;
}

static int f_send(void *env, const uint8_t *b, size_t n)
{
    struct fake *f = env;
    struct smp_frame_hdr h;
    assert_int_equal(smp_frame_hdr_decode(&h, b, n), 0);
    assert_int_equal(n, SMP_MGMT_HDR_SIZE + h.len);
    assert_true(f->link_up);
    if (f->n_first == 0) {
        memcpy(f->first, b, n < EVB ? n : EVB);
        f->n_first = n;
    }
    if (h.group == 1 && h.id == 1 && f->n_first_up == 0) {
        memcpy(f->first_up, b, n < EVB ? n : EVB);
        f->n_first_up = n;
    }
    if (h.group == 1 && h.id == 0 && h.op == SMP_MGMT_OP_WRITE && f->n_sw < 4) {
        memcpy(f->sw[f->n_sw], b, n < EVB ? n : EVB);
        f->n_sw_len[f->n_sw++] = n;
    }
    f->outstanding++;
    if (f->outstanding > f->max_out)
        f->max_out = f->outstanding;
    /* The device works on one request at a time (smp work queue). */
    int64_t start = f->now + f->lat > f->dev_free ? f->now + f->lat : f->dev_free;
    f->dev_free = start + f->proc;
    if (h.group == 1 && h.id == 5)
        f->dev_free += f->erase_time; /* the erase runs before the answer */
    if (h.group == 1 && h.id == 1 && f->first_time > 0) {
        struct smp_frame_field fo[] = {{.key = "off", .type = SMP_FRAME_T_U32},
                                       {.key = "sha", .type = SMP_FRAME_T_BSTR}};
        assert_int_equal(smp_frame_map_decode(b + SMP_MGMT_HDR_SIZE, h.len, fo, 2), 0);
        bool resume = f->uploading && fo[1].found && fo[1].str_len == 32 &&
                      memcmp(fo[1].str, f->sha, 32) == 0;
        if (fo[0].found && fo[0].u32 == 0 && !resume)
            f->dev_free += f->first_time; /* img_mgmt erases before it writes and answers */
    }
    int64_t at = f->dev_free + f->lat;
    uint8_t body[EVB];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, body, sizeof body);
    const uint8_t *p = b + SMP_MGMT_HDR_SIZE;
    bool answer;
    if (h.group == 1 && h.id == 1) {
        log_step(f, 'U');
        answer = device_upload(f, p, h.len, &w, at);
    } else if (h.group == 1 && h.id == 0 && h.op == SMP_MGMT_OP_READ) {
        log_step(f, 'L');
        smp_frame_put_map(&w, SMP_FRAME_INDEF);
        put_list(f, &w);
        smp_frame_put_end(&w);
        answer = true;
    } else if (h.group == 1 && h.id == 0) {
        answer = device_state_write(f, p, h.len, &w);
    } else if (h.group == 1 && h.id == 5 && h.op == SMP_MGMT_OP_WRITE) {
        answer = device_erase(f, b, n, &w, at);
    } else if (h.group == 0) {
        answer = device_os(f, &h, p, h.len, &w, at);
    } else {
        fail_msg("unexpected group %u", h.group);
        answer = false;
    }
    assert_false(w.overflow);
    if (answer && f->mute && h.id != 1 && f->n_steps > 0 &&
        strchr(f->mute, f->steps[f->n_steps - 1])) {
        answer = false;
        if (!f->muted_at)
            f->muted_at = f->now;
    }
    if (!answer)
        return 0;
    struct ev *e = ev_push(f, at, EV_RSP);
    struct smp_frame_hdr r = h;
    r.op = (uint8_t)(h.op + 1);
    r.version = h.version > 1 ? 1 : h.version;
    r.len = (uint16_t)w.len;
    smp_frame_hdr_encode(&r, e->b);
    memcpy(e->b + SMP_MGMT_HDR_SIZE, body, w.len);
    e->n = SMP_MGMT_HDR_SIZE + w.len;
    return 0;
}

static uint32_t f_arm(void *env, int timer, int64_t at)
{
    struct fake *f = env;
    assert_true(at >= f->now);
    struct ev *e = ev_push(f, at, EV_TIMER);
    e->timer = timer;
    e->gen = ++f->gen[timer];
    return e->gen;
}

static void f_connect(void *env)
{
    struct fake *f = env;
    f->n_connect++;
    assert_false(f->link_up);
    int64_t t = f->now > f->dev_up_at ? f->now : f->dev_up_at;
    ev_push(f, t + f->connect_delay, EV_CONN);
}

static void f_emit(void *env, const struct client_dfu_record *r)
{
    struct fake *f = env;
    assert_true(f->n_recs < ARRAY_LEN(f->recs));
    f->recs[f->n_recs] = *r;
    snprintf(f->errs[f->n_recs], sizeof f->errs[0], "%s", r->attempt.error ? r->attempt.error : "");
    f->n_recs++;
}

static void f_emit_chunk(void *env, const struct recorder_chunk *c)
{
    struct fake *f = env;
    assert_true(c->seq < f->n_ch); /* index of a chunk the device saw */
    if (c->attempt_id == 0) {      /* the fake's log spans attempts */
        assert_int_equal(c->offset, f->ch[c->seq].off);
        assert_int_equal(c->len, f->ch[c->seq].len);
    }
    f->n_chunk_recs++;
}

static int f_read(void *env, uint32_t off, uint8_t *buf, size_t n)
{
    struct fake *f = env;
    assert_true(off + n <= f->img.size);
    memcpy(buf, f->image + off, n);
    return 0;
}

static const struct client_dfu_ctx CTX_PROTO = {.send = f_send,
                                                .timer_arm = f_arm,
                                                .connect = f_connect,
                                                .emit = f_emit,
                                                .emit_chunk = f_emit_chunk};

/* A fake with an image of size bytes; link down, device up. */
static struct fake *fake_new(uint32_t size)
{
    struct fake *f = calloc(1, sizeof *f);
    assert_non_null(f);
    assert_true(size <= IMG_MAX);
    for (uint32_t i = 0; i < size; i++)
        f->image[i] = (uint8_t)(i * 7 + 3);
    memset(f->old_hash, 0x11, 32);
    f->img.size = size;
    memcpy(f->img.sha, SHA, 32);
    memcpy(f->img.hash, NEW_HASH, 32);
    f->img.env = f;
    f->img.read = f_read;
    f->mtu = 498;
    f->lat = MS(10);
    f->proc = MS(5);
    f->connect_delay = MS(100);
    f->swap_time = MS(5000);
    f->boot_mode = 3; /* swap-move */
    f->buf_size = 2475;
    f->drop_n = f->busy_n = f->disc_n = f->silent_n = 0;
    return f;
}

static void fake_free(struct fake *f)
{
    client_dfu_free(f->c);
    free(f);
}

static void start(struct fake *f, const struct client_dfu_cfg *cfg)
{
    f->c = client_dfu_new(cfg, &f->img);
    assert_non_null(f->c);
    struct client_dfu_ctx cx = CTX_PROTO;
    cx.env = f;
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_START, NULL, f->now, &cx), 0);
}

/* Deliver events in (time, insertion) order until none is left or until. */
static void run(struct fake *f, int64_t until)
{
    struct client_dfu_ctx cx = CTX_PROTO;
    cx.env = f;
    for (;;) {
        struct ev *e = NULL;
        for (size_t i = 0; i < MAXEV; i++)
            if (f->ev[i].live &&
                (!e || f->ev[i].t < e->t || (f->ev[i].t == e->t && f->ev[i].seq < e->seq)))
                e = &f->ev[i];
        if (!e || e->t > until)
            return;
        struct ev v = *e;
        e->live = false;
        f->now = v.t;
        int rc = 0;
        switch (v.kind) {
        case EV_RSP: {
            f->outstanding--;
            struct client_dfu_rx rx = {.b = v.b, .n = v.n};
            rc = client_dfu_step(f->c, CLIENT_DFU_IN_RX, &rx, f->now, &cx);
            break;
        }
        case EV_TIMER: {
            struct client_dfu_timer t = {.timer = v.timer, .gen = v.gen};
            rc = client_dfu_step(f->c, CLIENT_DFU_IN_TIMER, &t, f->now, &cx);
            break;
        }
        case EV_CONN: {
            f->link_up = true;
            log_step(f, '^');
            struct client_dfu_conn cn = {.att_mtu = f->mtu};
            rc = client_dfu_step(f->c, CLIENT_DFU_IN_CONNECTED, &cn, f->now, &cx);
            break;
        }
        case EV_DISC:
            if (!f->link_up)
                break;
            f->link_up = false;
            log_step(f, '|');
            for (size_t i = 0; i < MAXEV; i++) /* responses in the air are lost */
                if (f->ev[i].live && f->ev[i].kind == EV_RSP) {
                    f->ev[i].live = false;
                    f->outstanding--;
                }
            f->outstanding = 0;
            f->dev_free = f->now;
            rc = client_dfu_step(f->c, CLIENT_DFU_IN_DISCONNECTED, NULL, f->now, &cx);
            break;
        }
        assert_int_equal(rc, 0);
    }
}

static void assert_image_written(const struct fake *f)
{
    assert_memory_equal(f->flash, f->image, f->img.size);
}

static const struct client_dfu_record *last(const struct fake *f)
{
    assert_true(f->n_recs > 0);
    return &f->recs[f->n_recs - 1];
}

/* ==== Golden bytes: the first request and the first upload request of each client ==== */

#define SHA_BYTES                                                                                  \
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae,      \
        0xaf, 0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd,  \
        0xbe, 0xbf
/* The 4-byte test image: i * 7 + 3. */
#define IMG4 0x03, 0x0a, 0x11, 0x18

/* Android: params raw with seq 0xFF (McuMgrBleTransport.java), SMP v2 header (byte 0 =
 * op | 1 << 3), definite maps, upload keys data, off, len, sha (ImageUploader.kt). */
static const uint8_t android_first[] = {0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0xff, 0x06, 0xa0};
static const uint8_t android_up[] = {
    0x0a, 0x00, 0x00, 0x3b, 0x00, 0x01, 0x03, 0x01, /* v2 WRITE, len 59, img, seq 3, upload */
    0xa4, 0x64, 'd',  'a',  't',  'a',  0x44, IMG4, 0x63, 'o',  'f',  'f',      0x00,
    0x63, 'l',  'e',  'n',  0x04, 0x63, 's',  'h',  'a',  0x58, 0x20, SHA_BYTES};
/* iOS: v2, params first (seq 0), upload keys data, off, len, sha. */
static const uint8_t ios_first[] = {0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0xa0};
static const uint8_t ios_up[] = {0x0a, 0x00, 0x00, 0x3b, 0x00, 0x01,     0x03, 0x01, 0xa4,
                                 0x64, 'd',  'a',  't',  'a',  0x44,     IMG4, 0x63, 'o',
                                 'f',  'f',  0x00, 0x63, 'l',  'e',      'n',  0x04, 0x63,
                                 's',  'h',  'a',  0x58, 0x20, SHA_BYTES};
/* Go CLI: SMP v1 header (version 0), `image list` first, then `image upload`'s image
 * erase (seq 1); upload keys image, off, len, sha, data, with "upgrade" left out when
 * false (omitempty). */
static const uint8_t cli_first[] = {0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0xa0};
static const uint8_t cli_up[] = {0x02, 0x00, 0x00,      0x42, 0x00, 0x01, 0x02, 0x01, 0xa5, 0x65,
                                 'i',  'm',  'a',       'g',  'e',  0x00, 0x63, 'o',  'f',  'f',
                                 0x00, 0x63, 'l',       'e',  'n',  0x04, 0x63, 's',  'h',  'a',
                                 0x58, 0x20, SHA_BYTES, 0x64, 'd',  'a',  't',  'a',  0x44, IMG4};
/* smpclient: v2, params first; keys off, data, image, len, sha, upgrade. */
static const uint8_t smpc_first[] = {0x08, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0xa0};
static const uint8_t smpc_up[] = {0x0a, 0x00, 0x00, 0x4b, 0x00, 0x01, 0x01, 0x01, 0xa6, 0x63,
                                  'o',  'f',  'f',  0x00, 0x64, 'd',  'a',  't',  'a',  0x44,
                                  IMG4, 0x65, 'i',  'm',  'a',  'g',  'e',  0x00, 0x63, 'l',
                                  'e',  'n',  0x04, 0x63, 's',  'h',  'a',  0x58, 0x20, SHA_BYTES,
                                  0x67, 'u',  'p',  'g',  'r',  'a',  'd',  'e',  0xf4};

struct golden_case {
    const char *name;
    enum client_dfu_kind kind;
    const uint8_t *first, *up;
    size_t n_first, n_up;
};

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/transfer/ImageUploader.kt @e733429
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/nmp/image.go @60b2da7
 * UPSTREAM: intercreate/smpclient: src/smpclient/__init__.py @4970f3e */
static void test_golden_first_requests(void **state)
{
    (void)state;
    static const struct golden_case cases[] = {
        {"android: params raw seq 0xff, then upload v2", CLIENT_DFU_ANDROID, android_first,
         android_up, sizeof android_first, sizeof android_up},
        {"ios: params, then upload v2", CLIENT_DFU_IOS, ios_first, ios_up, sizeof ios_first,
         sizeof ios_up},
        {"mcumgr cli: list v1, then upload with image key", CLIENT_DFU_MCUMGR_CLI, cli_first,
         cli_up, sizeof cli_first, sizeof cli_up},
        {"smpclient: params, then upload with image and upgrade", CLIENT_DFU_SMPCLIENT, smpc_first,
         smpc_up, sizeof smpc_first, sizeof smpc_up},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct fake *f = fake_new(4);
        struct client_dfu_cfg cfg = client_dfu_cfg_default(cases[i].kind);
        start(f, &cfg);
        run(f, MS(600000));
        assert_int_equal(f->n_first, cases[i].n_first);
        assert_memory_equal(f->first, cases[i].first, cases[i].n_first);
        assert_int_equal(f->n_first_up, cases[i].n_up);
        assert_memory_equal(f->first_up, cases[i].up, cases[i].n_up);
        assert_string_equal(last(f)->attempt.outcome, "updated");
        fake_free(f);
    }
}

#define NEW_HASH_BYTES                                                                             \
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce,      \
        0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd,  \
        0xde, 0xdf

/* Android (seq: B 0, M 1, L 2, U 3, T 4, R 5, C 6): test is {"hash"} (ImageManager.java test()),
 * confirm {"confirm": true, "hash"} in java.util.HashMap order. */
static const uint8_t android_test[] = {0x0a, 0x00, 0x00, 0x28, 0x00,          0x01,
                                       0x04, 0x00, 0xa1, 0x64, 'h',           'a',
                                       's',  'h',  0x58, 0x20, NEW_HASH_BYTES};
static const uint8_t android_confirm[] = {
    0x0a, 0x00, 0x00, 0x31, 0x00, 0x01, 0x06, 0x00, 0xa2, 0x67, 'c',  'o',  'n',
    'f',  'i',  'r',  'm',  0xf5, 0x64, 'h',  'a',  's',  'h',  0x58, 0x20, NEW_HASH_BYTES};
/* Go CLI (seq: L 0, E 1, U 2, T 3, R 4, L 5, C 6): `image test <hash>` {hash, confirm:
 * false}, `image confirm` with no hash confirms the running image. */
static const uint8_t cli_test[] = {
    0x02, 0x00, 0x00, 0x31,           0x00, 0x01, 0x03, 0x00, 0xa2, 0x64, 'h', 'a', 's',
    'h',  0x58, 0x20, NEW_HASH_BYTES, 0x67, 'c',  'o',  'n',  'f',  'i',  'r', 'm', 0xf4};
static const uint8_t cli_confirm[] = {0x02, 0x00, 0x00, 0x0a, 0x00, 0x01, 0x06, 0x00, 0xa1,
                                      0x67, 'c',  'o',  'n',  'f',  'i',  'r',  'm',  0xf5};

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/managers/ImageManager.java @e733429
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/nmp/image.go @60b2da7 */
static void test_golden_state_writes(void **state)
{
    (void)state;
    static const struct golden_case cases[] = {
        {"android: test {hash}, confirm {confirm, hash}", CLIENT_DFU_ANDROID, android_test,
         android_confirm, sizeof android_test, sizeof android_confirm},
        {"mcumgr cli: test {hash, confirm false}, confirm {confirm}", CLIENT_DFU_MCUMGR_CLI,
         cli_test, cli_confirm, sizeof cli_test, sizeof cli_confirm},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct fake *f = fake_new(4);
        struct client_dfu_cfg cfg = client_dfu_cfg_default(cases[i].kind);
        start(f, &cfg);
        run(f, MS(600000));
        assert_int_equal(f->n_sw, 2);
        assert_int_equal(f->n_sw_len[0], cases[i].n_first);
        assert_memory_equal(f->sw[0], cases[i].first, cases[i].n_first);
        assert_int_equal(f->n_sw_len[1], cases[i].n_up);
        assert_memory_equal(f->sw[1], cases[i].up, cases[i].n_up);
        assert_string_equal(last(f)->attempt.outcome, "updated");
        fake_free(f);
    }
}

/* ==== Mode sequences ==== */

struct mode_case {
    const char *name;
    enum client_dfu_kind kind;
    enum client_dfu_mode mode;
    int boot_mode;
    const char *steps; /* ^ connect, | drop, P params, B/M boot info, L list, E erase, U upload,
                          T test, C confirm, R reset */
    bool confirmed;    /* the device ends on the new image, confirmed */
};

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/dfu/mcuboot/FirmwareUpgradeManager.java,
 *   .../dfu/mcuboot/task/Validate.java, .../task/Reset.java @e733429
 * UPSTREAM: NordicSemiconductor/IOS-nRF-Connect-Device-Manager:
 *   iOSMcuManagerLibrary/Source/Managers/DFU/FirmwareUpgradeManager.swift @54e9b8a
 * UPSTREAM: apache/mynewt-mcumgr-cli: README.md (list, upload, test, reset, list, confirm) */
static void test_mode_sequences(void **state)
{
    (void)state;
    static const struct mode_case cases[] = {
        {"android TEST_AND_CONFIRM: upload, test, reset, wait, reconnect, confirm",
         CLIENT_DFU_ANDROID, CLIENT_DFU_MODE_TEST_AND_CONFIRM, 3, "^PBMLUTR|^C", true},
        {"android CONFIRM_ONLY: upload, confirm, reset, no reconnect", CLIENT_DFU_ANDROID,
         CLIENT_DFU_MODE_CONFIRM_ONLY, 3, "^PBMLUCR|", true},
        {"android TEST_ONLY: upload, test, reset", CLIENT_DFU_ANDROID, CLIENT_DFU_MODE_TEST_ONLY, 3,
         "^PBMLUTR|", false},
        {"android NONE: upload, reset", CLIENT_DFU_ANDROID, CLIENT_DFU_MODE_NONE, 3, "^PBMLUR|",
         false},
        {"android picks NONE for Direct-XIP without revert", CLIENT_DFU_ANDROID,
         CLIENT_DFU_MODE_TEST_AND_CONFIRM, 4, "^PBMLUR|", true},
        {"android with Direct-XIP with revert keeps test and confirm", CLIENT_DFU_ANDROID,
         CLIENT_DFU_MODE_TEST_AND_CONFIRM, 5, "^PBMLUTR|^C", true},
        {"android: bootloader info errors are ignored", CLIENT_DFU_ANDROID,
         CLIENT_DFU_MODE_TEST_AND_CONFIRM, -100, "^PBLUTR|^C", true},
        {"ios confirmOnly (default): confirm, reset, reconnect", CLIENT_DFU_IOS,
         CLIENT_DFU_MODE_CONFIRM_ONLY, 3, "^PMLUCR|^", true},
        {"ios testAndConfirm: list and confirm after reconnect", CLIENT_DFU_IOS,
         CLIENT_DFU_MODE_TEST_AND_CONFIRM, 3, "^PMLUTR|^LC", true},
        {"mcumgr cli: list, upload, test, reset, list, confirm", CLIENT_DFU_MCUMGR_CLI,
         CLIENT_DFU_MODE_TEST_AND_CONFIRM, 3, "^LEUTR|^LC", true},
        {"smpclient: upload only", CLIENT_DFU_SMPCLIENT, CLIENT_DFU_MODE_UPLOAD_ONLY, 3, "^PU",
         false},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct fake *f = fake_new(3000);
        f->boot_mode = cases[i].boot_mode;
        struct client_dfu_cfg cfg = client_dfu_cfg_default(cases[i].kind);
        cfg.mode = cases[i].mode;
        cfg.swap_wait = MS(10000);
        start(f, &cfg);
        run(f, MS(600000));
        assert_string_equal(f->steps, cases[i].steps);
        assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_DONE);
        assert_int_equal(f->n_recs, 1);
        assert_string_equal(last(f)->attempt.outcome, "updated");
        assert_int_equal(f->swapped && f->s0_confirmed, cases[i].confirmed);
        assert_image_written(f);
        fake_free(f);
    }
}

/* ==== Command timeouts ==== */

struct mute_case {
    const char *name;
    enum client_dfu_kind kind;
    const char *mute;
    const char *steps;
    const char *outcome;
    int64_t after; /* end − muted request, 0: not checked */
};

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/McuManager.java, managers/ImageManager.java,
 *   dfu/mcuboot/task/Reset.java, mcumgr-ble/.../McuMgrBleTransport.java @e733429
 * UPSTREAM: NordicSemiconductor/IOS-nRF-Connect-Device-Manager:
 *   iOSMcuManagerLibrary/Source/McuManager.swift @54e9b8a */
static void test_command_timeouts(void **state)
{
    (void)state;
    static const struct mute_case cases[] = {
        {"android: unanswered test fails after SHORT_TIMEOUT 2.5 s", CLIENT_DFU_ANDROID, "T",
         "^PBMLUT", "timeout", MS(2500)},
        {"android: unanswered list fails after MEDIUM_TIMEOUT 5 s", CLIENT_DFU_ANDROID, "L",
         "^PBML", "timeout", MS(5000)},
        {"android: unanswered reset is ignored, the drop goes on", CLIENT_DFU_ANDROID, "R",
         "^PBMLUTR|^C", "updated", 0},
        {"android: unanswered params: 1 s, then MTU − 3", CLIENT_DFU_ANDROID, "P", "^PBMLUTR|^C",
         "updated", 0},
        {"ios: unanswered confirm fails after 40 s", CLIENT_DFU_IOS, "C", "^PMLUC", "timeout",
         MS(40000)},
        {"mcumgr cli: unanswered test fails after the 10 s CLI timeout", CLIENT_DFU_MCUMGR_CLI, "T",
         "^LEUT", "timeout", MS(10000)},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct fake *f = fake_new(3000);
        f->mute = cases[i].mute;
        f->params = true; /* buf_size 2475 if the answer got through */
        struct client_dfu_cfg cfg = client_dfu_cfg_default(cases[i].kind);
        start(f, &cfg);
        run(f, MS(600000));
        assert_string_equal(f->steps, cases[i].steps);
        assert_string_equal(last(f)->attempt.outcome, cases[i].outcome);
        if (cases[i].after)
            assert_int_equal(last(f)->attempt.end_ns - f->muted_at, cases[i].after);
        if (strcmp(cases[i].mute, "P") == 0) /* MTU − 3 = 495 − 64 − 3, not buf_size */
            assert_int_equal(f->ch[0].len, 428);
        fake_free(f);
    }
}

/* ==== Record phases and the swap wait ==== */

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/dfu/mcuboot/task/Reset.java @e733429
 *   (wait estimatedSwapTime minus the time since the reset response) */
static void test_android_record_phases_and_swap_wait(void **state)
{
    (void)state;
    struct fake *f = fake_new(20000);
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    cfg.swap_wait = MS(10000);
    cfg.device_id = 7;
    start(f, &cfg);
    run(f, MS(600000));
    const struct client_dfu_record *r = last(f);
    const struct recorder_attempt *a = &r->attempt;
    assert_string_equal(a->client, "device-manager-android");
    assert_int_equal(a->device_id, 7);
    assert_null(a->error);
    int64_t t[] = {a->start_ns,
                   r->attempt.connect_ns,
                   r->attempt.validate_ns,
                   a->upload_start_ns,
                   a->upload_end_ns,
                   r->attempt.test_ns,
                   a->reset_ns,
                   r->wait_start_ns,
                   r->wait_end_ns,
                   r->attempt.reconnect_ns,
                   a->confirm_ns,
                   a->end_ns};
    for (size_t i = 1; i < ARRAY_LEN(t); i++) {
        assert_true(t[i] != RECORDER_NONE);
        assert_true(t[i - 1] <= t[i]);
    }
    assert_true(a->upload_start_ns < a->upload_end_ns);
    /* the wait ends swap_wait after the reset response */
    assert_int_equal(r->wait_end_ns - f->reset_rsp_at, MS(10000));
    assert_int_equal(a->bytes_sent, 20000);
    assert_int_equal(a->bytes_resent, 0);
    assert_int_equal(a->retries, 0);
    assert_int_equal(a->swap_start_ns, RECORDER_NONE);
    assert_true(f->n_chunk_recs == (unsigned)a->chunks);
    fake_free(f);
}

/* ==== Chunk sizes ==== */

struct size_case {
    const char *name;
    enum client_dfu_kind kind;
    uint16_t mtu;
    bool params;
    uint8_t alignment;
    uint32_t first, second; /* data bytes of chunk 1 and chunk 2 */
};

/* Image 40000 bytes: U(len) = 3. Arithmetic in the comments, from the files below.
 * UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/transfer/Uploader.kt @e733429
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7
 * UPSTREAM: intercreate/smpclient: src/smpclient/__init__.py @4970f3e
 * UPSTREAM: NordicSemiconductor/IOS-nRF-Connect-Device-Manager:
 *   iOSMcuManagerLibrary/Source/Managers/McuMgrUploadPipeline.swift @54e9b8a */
static void test_chunk_sizes(void **state)
{
    (void)state;
    static const struct size_case cases[] = {
        /* 495 − (8+1+5+4+1 + 4+3 + 38) = 431, − 3 bstr head = 428; then 495 − 21 − 3 */
        {"android MTU 498: MTU − 3 minus overhead", CLIENT_DFU_ANDROID, 498, false, 1, 428, 471},
        {"android memory alignment 4 rounds non-final chunks down", CLIENT_DFU_ANDROID, 498, false,
         4, 428, 468},
        {"android buf_size 2475 from mcumgr params", CLIENT_DFU_ANDROID, 498, true, 1, 2408, 2451},
        /* 512 encodes to 8+1+7+5+7+38+5+3+512 = 586 > 495: shrink by 91 -> 421 */
        {"mcumgr cli: 512 shrunk by the overflow to MtuOut", CLIENT_DFU_MCUMGR_CLI, 498, false, 1,
         421, 464},
        /* MTU 247: 586 − 244 = 342 -> 170, whose bstr head is 1 byte shorter: 170 kept */
        {"mcumgr cli MTU 247: one shrink, one byte left unused", CLIENT_DFU_MCUMGR_CLI, 247, false,
         1, 170, 214},
        {"mcumgr cli ignores buf_size (MtuOut <= 512)", CLIENT_DFU_MCUMGR_CLI, 498, true, 1, 421,
         464},
        /* 495 − (8+1+5+8+7+7+38+9) = 412 exact */
        {"smpclient fills MTU − 3 exactly", CLIENT_DFU_SMPCLIENT, 498, false, 1, 412, 471},
        {"smpclient fills buf_size exactly", CLIENT_DFU_SMPCLIENT, 498, true, 1, 2392, 2451},
        /* 495 − (encoded with 1 byte: 8+1+7+5+7+38 = 66, + 5) = 424 */
        {"ios: 1-byte encoding plus 5", CLIENT_DFU_IOS, 498, false, 1, 424, 467},
        {"ios: buf_size from params", CLIENT_DFU_IOS, 498, true, 1, 2404, 2447},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct fake *f = fake_new(40000);
        f->mtu = cases[i].mtu;
        f->params = cases[i].params;
        struct client_dfu_cfg cfg = client_dfu_cfg_default(cases[i].kind);
        cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
        cfg.alignment = cases[i].alignment;
        start(f, &cfg);
        run(f, MS(600000));
        assert_true(f->n_ch >= 2);
        assert_int_equal(f->ch[0].len, cases[i].first);
        assert_int_equal(f->ch[1].off, cases[i].first);
        assert_int_equal(f->ch[1].len, cases[i].second);
        assert_string_equal(last(f)->attempt.outcome, "updated");
        assert_image_written(f);
        fake_free(f);
    }
}

/* ==== Windows ==== */

struct window_case {
    const char *name;
    enum client_dfu_kind kind;
    uint8_t window;
    unsigned max_out;
};

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/transfer/Uploader.kt @e733429
 * UPSTREAM: NordicSemiconductor/IOS-nRF-Connect-Device-Manager:
 *   iOSMcuManagerLibrary/Source/Managers/McuMgrUploadPipeline.swift @54e9b8a
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7 */
static void test_window_limits(void **state)
{
    (void)state;
    static const struct window_case cases[] = {
        {"android window 1 is stop-and-wait", CLIENT_DFU_ANDROID, 1, 1},
        {"android window 3 keeps 3 chunks out", CLIENT_DFU_ANDROID, 3, 3},
        {"android window 5 keeps 5 chunks out", CLIENT_DFU_ANDROID, 5, 5},
        {"ios pipeline depth 4", CLIENT_DFU_IOS, 4, 4},
        {"mcumgr cli grows to its maximum 5", CLIENT_DFU_MCUMGR_CLI, 5, 5},
        {"mcumgr cli -w 3", CLIENT_DFU_MCUMGR_CLI, 3, 3},
        {"smpclient is stop-and-wait", CLIENT_DFU_SMPCLIENT, 1, 1},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct fake *f = fake_new(30000);
        struct client_dfu_cfg cfg = client_dfu_cfg_default(cases[i].kind);
        cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
        cfg.window = cases[i].window;
        start(f, &cfg);
        run(f, MS(600000));
        unsigned mx = 0;
        for (size_t k = 0; k < f->n_ch; k++)
            mx = f->ch[k].outstanding > mx ? f->ch[k].outstanding : mx;
        assert_int_equal(mx, cases[i].max_out);
        /* the offset-0 chunk goes alone (all clients: window 1 or first_alone) */
        assert_int_equal(f->ch[0].outstanding, 1);
        assert_int_equal(f->ch[1].outstanding, 1);
        assert_string_equal(last(f)->attempt.outcome, "updated");
        assert_int_equal(last(f)->attempt.retries, 0);
        assert_image_written(f);
        fake_free(f);
    }
}

/* UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7 (IMAGE_UPLOAD_START_WS 1,
 * grows by one per response up to IMAGE_UPLOAD_DEF_MAX_WS 5) */
static void test_cli_window_grows_one_per_response(void **state)
{
    (void)state;
    struct fake *f = fake_new(30000);
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_MCUMGR_CLI);
    cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
    start(f, &cfg);
    run(f, MS(600000));
    /* chunk k is sent after k responses at most, with at most min(k + 1, 5) out */
    unsigned seen = 0;
    for (size_t k = 0; k < f->n_ch; k++) {
        unsigned cap = k + 1 < 5 ? (unsigned)k + 1 : 5;
        assert_true(f->ch[k].outstanding <= cap);
        if (f->ch[k].outstanding > seen) {
            assert_int_equal(f->ch[k].outstanding, seen + 1); /* grows one step at a time */
            seen = f->ch[k].outstanding;
        }
    }
    assert_int_equal(seen, 5);
    assert_int_equal(client_dfu_window_get(f->c), 5);
    assert_int_equal(last(f)->window_max, 5);
    fake_free(f);
}

/* ==== Image erase before the upload, and the first chunk's own erase ==== */

struct erase_case {
    const char *name;
    enum client_dfu_kind kind;
    int erase_first;    /* -1: the client's default, else 0 / 1 */
    uint8_t image;      /* target image */
    int64_t erase_time; /* the device's erase (answer after it) */
    int32_t erase_err;  /* err rc of the erase answer, 0: none */
    const uint8_t *req; /* golden erase request (header + CBOR), NULL: no erase sent */
    size_t n_req;
    const char *outcome, *error; /* error: start of the attempt's error, NULL: none */
    int64_t fail_after;          /* erase sent -> attempt end, 0: not checked */
};

/* {} with the client's header: SMP v1 WRITE for the Go CLI (seq 1, after `image list`), v2
 * for the others (Android: seq 3 after params 0xff, bootloader info 0, mode 1, list 2). */
static const uint8_t cli_erase[] = {0x02, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x05, 0xa0};
static const uint8_t android_erase[] = {0x0a, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03, 0x05, 0xa0};
static const uint8_t android_erase_img1[] = {0x0a, 0x00, 0x00, 0x07, 0x00, 0x01, 0x03, 0x05,
                                             0xa1, 0x64, 's',  'l',  'o',  't',  0x03};
/* iOS: params 0, bootloader mode 1, list 2, erase 3; smpclient: params 0, erase 1. */
static const uint8_t ios_erase[] = {0x0a, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03, 0x05, 0xa0};
static const uint8_t smpc_erase[] = {0x0a, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0x05, 0xa0};

/* UPSTREAM: apache/mynewt-newtmgr: newtmgr/cli/image.go (--noerase default false),
 *   nmxact/xact/image.go (ImageUpgradeCmd: erase, then upload whatever it answered),
 *   newtmgr/cli/commands.go (-t 10 s), nmxact/nmp/image.go (ImageEraseReq: no field)
 * UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/.../managers/ImageManager.java erase() DEFAULT_TIMEOUT 40 s @e733429
 * UPSTREAM: NordicSemiconductor/IOS-nRF-Connect-Device-Manager:
 *   iOSMcuManagerLibrary/Source/Managers/ImageManager.swift ERASE_TIMEOUT_SECONDS 75 @54e9b8a
 * UPSTREAM: intercreate/smpclient: src/smpclient/__init__.py (request timeout_s 2.5 s) */
static void test_erase_before_upload(void **state)
{
    (void)state;
    static const struct erase_case cases[] = {
        {"mcumgr cli: `image upload` erases first, {} in SMP v1", CLIENT_DFU_MCUMGR_CLI, -1, 0,
         MS(8000), 0, cli_erase, sizeof cli_erase, "updated", NULL, 0},
        {"mcumgr cli -e: no erase", CLIENT_DFU_MCUMGR_CLI, 0, 0, 0, 0, NULL, 0, "updated", NULL, 0},
        {"mcumgr cli: a 10.1 s erase outlasts the 10 s CLI timeout", CLIENT_DFU_MCUMGR_CLI, -1, 0,
         MS(10100), 0, cli_erase, sizeof cli_erase, "timeout", "image erase timed out", MS(10000)},
        {"mcumgr cli: an erase error is not fatal, the upload goes on", CLIENT_DFU_MCUMGR_CLI, -1,
         0, 0, 9, cli_erase, sizeof cli_erase, "updated", NULL, 0},
        {"android: no erase by default", CLIENT_DFU_ANDROID, -1, 0, 0, 0, NULL, 0, "updated", NULL,
         0},
        {"android erase_first: {} in v2, a 39 s erase is waited for", CLIENT_DFU_ANDROID, 1, 0,
         MS(39000), 0, android_erase, sizeof android_erase, "updated", NULL, 0},
        {"android erase_first: timeout after DEFAULT_TIMEOUT 40 s", CLIENT_DFU_ANDROID, 1, 0,
         MS(41000), 0, android_erase, sizeof android_erase, "timeout", "image erase timed out",
         MS(40000)},
        {"android erase_first: image 1 names slot 3", CLIENT_DFU_ANDROID, 1, 1, 0, 0,
         android_erase_img1, sizeof android_erase_img1, "updated", NULL, 0},
        {"android erase_first: an erase error fails the attempt", CLIENT_DFU_ANDROID, 1, 0, 0, 9,
         android_erase, sizeof android_erase, "failed", "image erase: group rc 9", 0},
        {"ios erase_first: 75 s erase timeout, a 60 s erase is waited for", CLIENT_DFU_IOS, 1, 0,
         MS(60000), 0, ios_erase, sizeof ios_erase, "updated", NULL, 0},
        {"ios erase_first: timeout after ERASE_TIMEOUT_SECONDS 75", CLIENT_DFU_IOS, 1, 0, MS(76000),
         0, ios_erase, sizeof ios_erase, "timeout", "image erase timed out", MS(75000)},
        {"smpclient erase_first: the client's 2.5 s default timeout", CLIENT_DFU_SMPCLIENT, 1, 0,
         MS(3000), 0, smpc_erase, sizeof smpc_erase, "timeout", "image erase timed out", MS(2500)},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct erase_case *k = &cases[i];
        print_message("case: %s\n", k->name);
        struct fake *f = fake_new(4000);
        f->erase_time = k->erase_time;
        f->erase_err = k->erase_err;
        struct client_dfu_cfg cfg = client_dfu_cfg_default(k->kind);
        if (k->erase_first >= 0)
            cfg.erase_first = k->erase_first == 1;
        cfg.image = k->image;
        cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY; /* the fake lists image 0 only */
        start(f, &cfg);
        run(f, MS(600000));
        const struct client_dfu_record *r = last(f);
        if (strcmp(r->attempt.outcome, k->outcome) != 0)
            fail_msg("%s: outcome %s (%s)", k->name, r->attempt.outcome,
                     r->attempt.error ? r->attempt.error : "-");
        assert_int_equal(f->n_erase, k->req != NULL);
        if (k->req != NULL) {
            assert_int_equal(f->n_erase_req, k->n_req);
            assert_memory_equal(f->erase_req, k->req, k->n_req);
        }
        if (k->error != NULL) {
            assert_non_null(r->attempt.error);
            assert_true(strncmp(r->attempt.error, k->error, strlen(k->error)) == 0);
            assert_int_equal(f->n_ch, 0); /* nothing uploaded */
        } else {
            assert_image_written(f);
        }
        if (k->erase_time > 0 && strcmp(k->outcome, "updated") == 0) {
            /* the upload starts after the erase's answer */
            assert_true(f->n_ch > 0);
            assert_true(f->ch[0].t >= k->erase_time);
        }
        if (k->fail_after) {
            assert_int_equal(r->timeouts, 1);
            assert_int_equal(r->attempt.end_ns - f->erase_sent_at, k->fail_after);
        }
        fake_free(f);
    }
}

/* An image already in the slot: validate drops the erase with the upload. */
static void test_erase_skipped_when_image_present(void **state)
{
    (void)state;
    struct fake *f = fake_new(4000);
    f->s1_present = true; /* NEW_HASH in slot 1, not pending */
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_MCUMGR_CLI);
    start(f, &cfg);
    run(f, MS(600000));
    assert_string_equal(last(f)->attempt.outcome, "updated");
    assert_int_equal(f->n_erase, 0);
    assert_int_equal(f->n_ch, 0);
    assert_string_equal(f->steps, "^LTR|^LC");
    fake_free(f);
}

/* client.erase_first: "default" keeps the kind's own choice (the Go CLI erases, the
 * others do not); "true" and "false" override it. */
static void test_erase_first_setting(void **state)
{
    (void)state;
    for (int kind = 0; kind < CLIENT_DFU_KIND_COUNT; kind++) {
        struct client_dfu_settings st = {.kind = kind,
                                         .mode = CLIENT_DFU_SETTINGS_MODE_DEFAULT,
                                         .attempts = 1,
                                         .erase_first = CLIENT_DFU_SETTINGS_ERASE_DEFAULT};
        struct client_dfu_cfg c = client_dfu_cfg_from_settings(&st);
        assert_int_equal(c.erase_first, kind == CLIENT_DFU_MCUMGR_CLI);
        assert_true(c.p.t_erase > 0);
        st.erase_first = 0;
        assert_false(client_dfu_cfg_from_settings(&st).erase_first);
        st.erase_first = 1;
        assert_true(client_dfu_cfg_from_settings(&st).erase_first);
    }
}

/* A drop while the device erases: the Go CLI's ImageUpgradeCmd.runErase rescues the
 * session (reopens it) and goes on to the upload; Device Manager fails the attempt.
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go (rescue, runErase) */
static void test_erase_interrupted_by_a_drop(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum client_dfu_kind kind;
        const char *outcome, *steps;
    } cases[] = {
        {"mcumgr cli: reconnect, then upload", CLIENT_DFU_MCUMGR_CLI, "updated", "^LE|^U"},
        {"android erase_first: the drop fails the attempt", CLIENT_DFU_ANDROID, "failed",
         "^PBMLE|"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        struct fake *f = fake_new(4000);
        f->erase_disc = true;
        f->erase_time = MS(2000);
        struct client_dfu_cfg cfg = client_dfu_cfg_default(cases[i].kind);
        cfg.erase_first = true;
        cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
        start(f, &cfg);
        run(f, MS(600000));
        const struct client_dfu_record *r = last(f);
        assert_string_equal(r->attempt.outcome, cases[i].outcome);
        assert_string_equal(f->steps, cases[i].steps);
        assert_int_equal(f->n_recs, 1);
        if (strcmp(cases[i].outcome, "updated") == 0) {
            assert_image_written(f);
            assert_int_equal(f->n_connect, 2);
            assert_int_equal(r->attempt.retries, 1);
        } else {
            assert_string_equal(r->attempt.error, "disconnected");
        }
        fake_free(f);
    }
}

struct first_case {
    const char *name;
    enum client_dfu_kind kind;
    uint8_t window;
    int64_t first_time; /* the device's first-chunk erase */
    const char *outcome;
    int64_t fail_after; /* first chunk sent -> attempt end, 0: not checked */
    int64_t retries;
};

/* A first chunk that waits for the device's erase (older mcumgr erased the whole slot:
 * 118 pages x 85 ms = 10.03 s on the nRF52840 DK, before any radio slowdown) against each
 * client's first-chunk timeout.
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go runUpload (3 s, 1 try) @60b2da7
 * UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager: transfer/Uploader.kt
 *   (offset 0: 40 s; a timeout resends, MAX_CHUNK_FAILURES 5), TransferCallable.java
 *   (stop-and-wait: any error fails) @e733429
 * UPSTREAM: NordicSemiconductor/IOS-nRF-Connect-Device-Manager: ImageManager.swift
 *   (offset 0: DEFAULT_SEND_TIMEOUT_SECONDS 40) @54e9b8a
 * UPSTREAM: intercreate/smpclient: upload(first_timeout_s = 40.0) */
static void test_first_chunk_erase_vs_timeout(void **state)
{
    (void)state;
    static const struct first_case cases[] = {
        {"mcumgr cli -e: a 10 s first chunk outlasts the 3 s timeout", CLIENT_DFU_MCUMGR_CLI, 5,
         MS(10030), "timeout", MS(3000), 0},
        {"mcumgr cli -e: a 2.9 s first chunk is in time", CLIENT_DFU_MCUMGR_CLI, 5, MS(2900),
         "updated", 0, 0},
        {"android: 40 s for the first chunk, a 10 s erase is fine", CLIENT_DFU_ANDROID, 1,
         MS(10030), "updated", 0, 0},
        {"android stop-and-wait: a 41 s first chunk fails at 40 s", CLIENT_DFU_ANDROID, 1,
         MS(41000), "timeout", MS(40000), 0},
        {"android pipelined: a 41 s first chunk is resent at 40 s, then resumes",
         CLIENT_DFU_ANDROID, 3, MS(41000), "updated", 0, 1},
        {"ios: 40 s for the first chunk, then fails", CLIENT_DFU_IOS, 1, MS(41000), "timeout",
         MS(40000), 0},
        {"smpclient: first_timeout_s 40", CLIENT_DFU_SMPCLIENT, 1, MS(41000), "timeout", MS(40000),
         0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct first_case *k = &cases[i];
        print_message("case: %s\n", k->name);
        struct fake *f = fake_new(12000);
        f->first_time = k->first_time;
        struct client_dfu_cfg cfg = client_dfu_cfg_default(k->kind);
        cfg.erase_first = false;
        cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
        cfg.window = k->window;
        start(f, &cfg);
        run(f, MS(600000));
        const struct client_dfu_record *r = last(f);
        if (strcmp(r->attempt.outcome, k->outcome) != 0)
            fail_msg("%s: outcome %s (%s)", k->name, r->attempt.outcome,
                     r->attempt.error ? r->attempt.error : "-");
        assert_true(f->n_ch > 0 && f->ch[0].off == 0);
        if (k->fail_after) {
            assert_string_equal(r->attempt.error, "upload chunk timed out");
            assert_int_equal(r->attempt.end_ns - f->ch[0].t, k->fail_after);
            assert_int_equal(f->n_ch, 1); /* nothing after the first chunk */
            assert_int_equal(r->timeouts, 1);
        } else {
            assert_image_written(f);
            assert_int_equal(r->attempt.retries, k->retries);
        }
        fake_free(f);
    }
}

/* ==== Losses, mismatches, busy, errors ==== */

struct loss_case {
    const char *name;
    enum client_dfu_kind kind;
    uint8_t window;
    int kind_of_fault;    /* 0 lost request, 1 busy, 2 silent (timeout), 3 group error */
    uint32_t fault_chunk; /* index of the chunk hit */
    int times;
    const char *outcome;
    int64_t fail_after; /* ns from the chunk's send to the end, 0: not checked */
    int64_t min_retries;
    size_t want_requests; /* lock-in: upload requests sent, 0: not checked */
};

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/transfer/Uploader.kt,
 *   .../transfer/TransferCallable.java, .../McuManager.java @e733429
 * UPSTREAM: NordicSemiconductor/IOS-nRF-Connect-Device-Manager:
 *   iOSMcuManagerLibrary/Source/Managers/ImageManager.swift, McuManager.swift @54e9b8a
 * UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7
 * UPSTREAM: intercreate/smpclient: src/smpclient/__init__.py @4970f3e */
static void test_faults(void **state)
{
    (void)state;
    static const struct loss_case cases[] = {
        {"android pipelined: lost chunk, device answers the expected offset, resend",
         CLIENT_DFU_ANDROID, 3, 0, 5, 1, "updated", 0, 1, 0},
        {"android pipelined: 5 failures at one offset abort (MAX_CHUNK_FAILURES)",
         CLIENT_DFU_ANDROID, 3, 0, 5, 5, "timeout", 0, 4, 0},
        {"android pipelined: a silent chunk is resent after 2.5 s", CLIENT_DFU_ANDROID, 3, 2, 5, 1,
         "updated", 0, 1, 0},
        {"android stop-and-wait: a timeout fails after 2.5 s, no retry", CLIENT_DFU_ANDROID, 1, 2,
         5, 1, "timeout", MS(2500), 0, 0},
        {"android: offset-0 chunk timeout is 40 s", CLIENT_DFU_ANDROID, 1, 2, 0, 1, "timeout",
         MS(40000), 0, 0},
        {"android pipelined: last chunk timeout is 20 s, then resent", CLIENT_DFU_ANDROID, 3, 2,
         999, 1, "updated", 0, 1, 0},
        {"android: busy is an error", CLIENT_DFU_ANDROID, 1, 1, 3, 1, "failed", 0, 0, 0},
        {"android: an SMP group error aborts", CLIENT_DFU_ANDROID, 3, 3, 4, 1, "failed", 0, 0, 0},
        {"ios: busy resent after 0.1 s", CLIENT_DFU_IOS, 1, 1, 3, 1, "updated", 0, 1, 0},
        {"ios depth 3: busy drains, then resends", CLIENT_DFU_IOS, 3, 1, 6, 1, "updated", 0, 1, 0},
        {"ios depth 3: a request the device dropped (no buffer) fails after 10 s", CLIENT_DFU_IOS,
         3, 0, 6, 1, "timeout", MS(10000), 0, 0},
        {"ios: chunk timeout 10 s fails", CLIENT_DFU_IOS, 1, 2, 4, 1, "timeout", MS(10000), 0, 0},
        /* lock-in: 26 chunks + 8 sent again. Two responses naming offset X trigger a
         * retransmit from X; the two chunks still out then name X again and trigger a
         * second one (with a threshold of 3 it would be 36). */
        {"mcumgr cli: lost chunk, the same offset twice triggers a retransmit",
         CLIENT_DFU_MCUMGR_CLI, 5, 0, 12, 1, "updated", 0, 1, 34},
        {"mcumgr cli: a timed-out chunk covered by a retransmit shrinks the window, goes on",
         CLIENT_DFU_MCUMGR_CLI, 5, 2, 12, 1, "updated", 0, 1, 0},
        {"mcumgr cli -w 1: 3 s chunk timeout fails the upload", CLIENT_DFU_MCUMGR_CLI, 1, 2, 12, 1,
         "timeout", MS(3000), 0, 0},
        {"smpclient: 2.5 s timeout fails", CLIENT_DFU_SMPCLIENT, 1, 2, 3, 1, "timeout", MS(2500), 0,
         0},
        {"smpclient: first chunk 40 s timeout", CLIENT_DFU_SMPCLIENT, 1, 2, 0, 1, "timeout",
         MS(40000), 0, 0},
        {"smpclient: any error raises", CLIENT_DFU_SMPCLIENT, 1, 3, 2, 1, "failed", 0, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        const struct loss_case *k = &cases[i];
        print_message("case: %s\n", k->name);
        /* a dry run gives the offsets the client will use */
        struct fake *d = fake_new(12000);
        struct client_dfu_cfg cfg = client_dfu_cfg_default(k->kind);
        cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
        cfg.window = k->window;
        start(d, &cfg);
        run(d, MS(600000));
        uint32_t idx = k->fault_chunk < d->n_ch ? k->fault_chunk : (uint32_t)d->n_ch - 1;
        uint32_t off = d->ch[idx].off;
        fake_free(d);

        struct fake *f = fake_new(12000);
        switch (k->kind_of_fault) {
        case 0:
            f->drop_off = off;
            f->drop_n = k->times;
            break;
        case 1:
            f->busy_off = off;
            f->busy_n = k->times;
            break;
        case 2:
            f->silent_off = off;
            f->silent_n = k->times;
            break;
        default:
            f->err_off = off;
            f->err_rc = 12; /* FLASH_WRITE_FAILED */
            break;
        }
        start(f, &cfg);
        run(f, MS(600000));
        const struct client_dfu_record *r = last(f);
        assert_string_equal(r->attempt.outcome, k->outcome);
        assert_true(r->attempt.retries >= k->min_retries);
        if (strcmp(k->outcome, "updated") == 0)
            assert_image_written(f);
        else
            assert_non_null(r->attempt.error);
        if (k->fail_after) {
            int64_t sent = -1;
            for (size_t j = 0; j < f->n_ch; j++)
                if (f->ch[j].off == off)
                    sent = f->ch[j].t;
            assert_int_equal(r->attempt.end_ns - sent, k->fail_after);
        }
        if (k->want_requests)
            assert_int_equal(f->n_ch, k->want_requests);
        if (k->kind_of_fault == 3) {
            assert_int_equal(r->smp_group, 1);
            assert_int_equal(r->smp_rc, 12);
        }
        if (k->kind_of_fault == 1 && strcmp(k->outcome, "failed") == 0)
            assert_int_equal(r->smp_rc, SMP_MGMT_ERR_EBUSY);
        if (k->kind_of_fault == 1 && k->kind == CLIENT_DFU_IOS) {
            /* the resend reaches the device 0.1 s + one latency after the busy reply */
            assert_int_equal(f->after_busy_at - f->busy_at, MS(100));
        }
        if (k->kind == CLIENT_DFU_ANDROID && k->window > 1 && k->kind_of_fault == 2 &&
            k->fault_chunk == 999) {
            /* the last chunk: sent twice, 20 s apart */
            int64_t t0 = -1, t1 = -1;
            for (size_t j = 0; j < f->n_ch; j++)
                if (f->ch[j].off == off) {
                    if (t0 < 0)
                        t0 = f->ch[j].t;
                    else
                        t1 = f->ch[j].t;
                }
            assert_int_equal(t1 - t0, MS(20000));
        }
        fake_free(f);
    }
}

/* ==== Android pipelined: Uploader.kt's failure directory and per-write timeouts ==== */

#define UKT_SIZE 40000u /* 17 chunks of about 2.4 KB (buf_size 2475) */

/* Android, upload only, window w, on a fresh fake. */
static struct client_dfu_cfg ukt_cfg(uint8_t w)
{
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
    cfg.window = w;
    return cfg;
}

/* Offset of chunk k of a fault-free upload at window w (chunk 0 is offset 0). */
static uint32_t ukt_off(uint8_t w, unsigned k)
{
    struct fake *d = fake_new(UKT_SIZE);
    struct client_dfu_cfg cfg = ukt_cfg(w);
    start(d, &cfg);
    run(d, MS(600000));
    assert_string_equal(last(d)->attempt.outcome, "updated");
    assert_true(k < d->n_ch);
    uint32_t off = d->ch[k].off;
    fake_free(d);
    return off;
}

/* Deliveries of offset off; *t_nth: send time of the nth (from 1), -1 if fewer. */
static unsigned deliveries(const struct fake *f, uint32_t off, unsigned nth, int64_t *t_nth)
{
    unsigned n = 0;
    *t_nth = -1;
    for (size_t j = 0; j < f->n_ch; j++)
        if (f->ch[j].off == off && ++n == nth)
            *t_nth = f->ch[j].t;
    return n;
}

/* Run until the first event after the nth delivery of off plus dt. */
static void run_past(struct fake *f, uint32_t off, unsigned nth, int64_t dt)
{
    int64_t t = -1;
    for (int64_t until = MS(1000); until < MS(600000) && t < 0; until += MS(100)) {
        run(f, until);
        deliveries(f, off, nth, &t);
    }
    assert_true(t >= 0);
    run(f, t + dt);
}

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/transfer/Uploader.kt @e733429
 *   upload(): failureDirectory (line 100), MAX_CHUNK_FAILURES 5 (line 32); a timeout
 *   counts against the chunk that timed out unless currentOffset is past it (178-203);
 *   writeInternal awaits a resend alone (327-340).
 * Window 3, the request for chunk 1 (offset A) lost n times: chunks 2 and 3 are answered
 * with off A (one failure each, against chunks 2 and 3); the first answer sends A again
 * at once (failures channel) and the loop waits for it; the original times out (failure
 * 1 of A), then each lost resend after 2.5 s (failures 2, 3, ...): the fifth loss of A is
 * its fifth failure and aborts, 2.5 s after the fifth send; four losses let it finish. */
static void test_android_five_failures_at_one_offset_abort(void **state)
{
    (void)state;
    uint32_t a = ukt_off(3, 1), b = ukt_off(3, 2), c3 = ukt_off(3, 3);
    for (int lost = 4; lost <= 5; lost++) {
        print_message("case: request for offset %u lost %d times\n", a, lost);
        struct fake *f = fake_new(UKT_SIZE);
        f->drop_off = a;
        f->drop_n = lost;
        struct client_dfu_cfg cfg = ukt_cfg(3);
        start(f, &cfg);
        run_past(f, a, 2, 1); /* the first resend is out: chunks 2 and 3 answered */
        assert_int_equal(client_dfu_failures_get(f->c, b), 1);
        assert_int_equal(client_dfu_failures_get(f->c, c3), 1);
        assert_int_equal(client_dfu_failures_get(f->c, a), 0);
        run(f, MS(600000));
        const struct client_dfu_record *r = last(f);
        int64_t t5;
        assert_int_equal(deliveries(f, a, 5, &t5), 5); /* the original and four resends */
        if (lost == 5) {
            assert_string_equal(r->attempt.outcome, "timeout");
            assert_string_equal(r->attempt.error, "too many chunk failures");
            assert_int_equal(r->attempt.end_ns - t5, MS(2500));
            assert_int_equal(r->timeouts, 5);
        } else {
            assert_string_equal(r->attempt.outcome, "updated");
            assert_image_written(f);
            assert_int_equal(r->timeouts, 4);
        }
        fake_free(f);
    }
}

/* UPSTREAM: Uploader.kt @e733429 upload() lines 100, 178-203 (failureDirectory).
 * Window 2, chunks 1 and 2 (offsets A and B) taken by the device but their answers lost:
 * both time out together (A first): A's failure 1 sends A again at once, B's failure 1
 * goes to the failures channel, where A's next failure replaces it (CONFLATED). Each
 * answer to A lost again is another failure of A; B's failure in between does not reset
 * A's count: A's fifth failure, on its fifth send, aborts (a count of the last failing
 * offset only would start A again at 1 after B's and need a sixth). */
static void test_android_failures_accumulate_per_offset(void **state)
{
    (void)state;
    uint32_t a = ukt_off(2, 1), b = ukt_off(2, 2);
    for (int lost = 4; lost <= 5; lost++) {
        print_message("case: answers for offset %u lost %d times, for %u once\n", a, lost, b);
        struct fake *f = fake_new(UKT_SIZE);
        f->lost_rsp_off[0] = a;
        f->lost_rsp_n[0] = lost;
        f->lost_rsp_off[1] = b;
        f->lost_rsp_n[1] = 1;
        struct client_dfu_cfg cfg = ukt_cfg(2);
        start(f, &cfg);
        int64_t t1, t2;
        deliveries(f, a, 1, &t1);
        run_past(f, a, 2, 1); /* both timed out; A resent */
        deliveries(f, a, 1, &t1);
        deliveries(f, a, 2, &t2);
        assert_int_equal(t2 - t1, MS(2500)); /* A's own timeout */
        assert_int_equal(client_dfu_failures_get(f->c, a), 1);
        assert_int_equal(client_dfu_failures_get(f->c, b), 1);
        run_past(f, a, 3, 1);
        assert_int_equal(client_dfu_failures_get(f->c, a), 2);
        assert_int_equal(client_dfu_failures_get(f->c, b), 1);
        run(f, MS(600000));
        const struct client_dfu_record *r = last(f);
        int64_t t5;
        assert_int_equal(deliveries(f, a, 5, &t5), 5);
        if (lost == 5) {
            assert_string_equal(r->attempt.outcome, "timeout");
            assert_string_equal(r->attempt.error, "too many chunk failures");
            assert_int_equal(r->attempt.end_ns - t5, MS(2500));
        } else {
            assert_string_equal(r->attempt.outcome, "updated");
            assert_image_written(f);
            int64_t tb;
            assert_int_equal(deliveries(f, b, 2, &tb), 1); /* the device has B */
        }
        fake_free(f);
    }
}

/* UPSTREAM: Uploader.kt @e733429 upload() lines 129-143: a response whose offset is below
 * the chunk's end is a failure of the chunk answered (chunk.offset), not of the offset
 * the device asks for; a resend's answer is never one (!resend).
 * Window 3, the request for chunk 1 (offset A) lost once: chunks 2 and 3 each count one
 * failure, A none: A's resend is answered, so the original's timeout is covered. */
static void test_android_mismatch_counts_against_answered_chunk(void **state)
{
    (void)state;
    uint32_t a = ukt_off(3, 1), b = ukt_off(3, 2), c3 = ukt_off(3, 3);
    struct fake *f = fake_new(UKT_SIZE);
    f->drop_off = a;
    f->drop_n = 1;
    struct client_dfu_cfg cfg = ukt_cfg(3);
    start(f, &cfg);
    int64_t t1;
    run_past(f, a, 1, 1);
    deliveries(f, a, 1, &t1);
    run(f, t1 + MS(2500) - 1); /* just before A's original times out */
    assert_int_equal(client_dfu_failures_get(f->c, a), 0);
    assert_int_equal(client_dfu_failures_get(f->c, b), 1);
    assert_int_equal(client_dfu_failures_get(f->c, c3), 1);
    assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_UPLOAD);
    run(f, MS(600000));
    const struct client_dfu_record *r = last(f);
    assert_string_equal(r->attempt.outcome, "updated");
    assert_image_written(f);
    int64_t t;
    /* the original and one resend per failure (chunks 2 and 3 each sent A to the
     * failures channel: the second after the loop had taken the first) */
    assert_int_equal(deliveries(f, a, 4, &t), 3);
    assert_int_equal(r->timeouts, 1); /* A's original, covered: no failure, no resend */
    /* the last answer came long before; the upload returns with A's original's result */
    assert_int_equal(r->attempt.upload_end_ns, t1 + MS(2500));
    fake_free(f);
}

/* UPSTREAM: Uploader.kt @e733429 upload() lines 178-188 (a timeout with currentOffset past
 * the chunk is not a failure) and coroutineScope (line 97: the upload returns when every
 * request's result is in). Window 3, the answer to chunk k lost once: later chunks'
 * answers pass it, so its timeout is no failure and it is not sent again. When k is the
 * last but one, the upload ends at its timeout, 2.5 s after it was sent. */
static void test_android_covered_timeout_is_not_a_failure(void **state)
{
    (void)state;
    struct fake *d = fake_new(UKT_SIZE);
    struct client_dfu_cfg cfg = ukt_cfg(3);
    start(d, &cfg);
    run(d, MS(600000));
    size_t n = d->n_ch;
    fake_free(d);
    const unsigned ks[] = {1, (unsigned)n - 2};
    for (size_t i = 0; i < ARRAY_LEN(ks); i++) {
        uint32_t off = ukt_off(3, ks[i]);
        print_message("case: answer to chunk %u (offset %u) lost\n", ks[i], off);
        struct fake *f = fake_new(UKT_SIZE);
        f->lost_rsp_off[0] = off;
        f->lost_rsp_n[0] = 1;
        start(f, &cfg);
        int64_t t1;
        run_past(f, off, 1, MS(2500));
        assert_int_equal(client_dfu_failures_get(f->c, off), 0);
        run(f, MS(600000));
        const struct client_dfu_record *r = last(f);
        assert_string_equal(r->attempt.outcome, "updated");
        assert_image_written(f);
        assert_int_equal(deliveries(f, off, 1, &t1), 1);
        assert_int_equal(f->n_ch, n);
        assert_int_equal(r->timeouts, 1);
        assert_int_equal(r->attempt.retries, 0);
        if (i == 1)
            assert_int_equal(r->attempt.upload_end_ns, t1 + MS(2500));
        else
            assert_true(r->attempt.upload_end_ns < t1 + MS(20000));
        fake_free(f);
    }
}

/* UPSTREAM: Uploader.kt @e733429 writeInternal lines 307-313: each write has its own
 * timeout, a resend included: 40 s at offset 0, 20 s for the last chunk, 2.5 s otherwise;
 * the offset-0 chunk and resends are awaited alone (318-340).
 * Window 3; the request at the offset named lost twice: its second resend leaves one
 * timeout after the first (the original's loss is seen at once at offset 0 and the last
 * chunk, by its timeout; at chunk 1 chunk 2's answer names it, so the first resend leaves
 * at once and only the resend's own timeout counts). */
static void test_android_per_write_timeouts(void **state)
{
    (void)state;
    struct fake *d = fake_new(UKT_SIZE);
    struct client_dfu_cfg cfg = ukt_cfg(3);
    start(d, &cfg);
    run(d, MS(600000));
    uint32_t last_off = d->ch[d->n_ch - 1].off, mid = d->ch[1].off;
    fake_free(d);
    static const struct {
        const char *name;
        int which; /* 0 offset 0, 1 chunk 1, 2 the last chunk */
        int64_t t;
    } cases[] = {{"first chunk: 40 s", 0, MS(40000)},
                 {"a chunk in the middle: 2.5 s", 1, MS(2500)},
                 {"the last chunk: 20 s", 2, MS(20000)}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        print_message("case: %s\n", cases[i].name);
        uint32_t off = cases[i].which == 0 ? 0 : cases[i].which == 1 ? mid : last_off;
        struct fake *f = fake_new(UKT_SIZE);
        f->drop_off = off;
        f->drop_n = 2;
        start(f, &cfg);
        run(f, MS(600000));
        assert_string_equal(last(f)->attempt.outcome, "updated");
        assert_image_written(f);
        int64_t t1, t2, t3;
        assert_int_equal(deliveries(f, off, 3, &t3), 3);
        deliveries(f, off, 1, &t1);
        deliveries(f, off, 2, &t2);
        assert_int_equal(t3 - t2, cases[i].t);
        if (cases[i].which != 1)
            assert_int_equal(t2 - t1, cases[i].t);
        if (cases[i].which == 0) { /* nothing else until offset 0 is answered */
            for (size_t j = 0; j < 3; j++)
                assert_int_equal(f->ch[j].off, 0);
        }
        fake_free(f);
    }
}

/* ==== Link drop mid-upload ==== */

/* UPSTREAM: apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7 (runUpload: reopen the
 * transport and resume from the last acknowledged offset) */
static void test_cli_reconnects_and_resumes_from_device_offset(void **state)
{
    (void)state;
    struct fake *f = fake_new(20000);
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_MCUMGR_CLI);
    cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
    /* find chunk 20's offset with a dry run */
    struct fake *d = fake_new(20000);
    start(d, &cfg);
    run(d, MS(600000));
    uint32_t off = d->ch[20].off;
    fake_free(d);
    f->disc_off = off;
    f->disc_n = 1;
    start(f, &cfg);
    run(f, MS(600000));
    assert_string_equal(last(f)->attempt.outcome, "updated");
    assert_int_equal(f->n_recs, 1);
    assert_int_equal(f->n_connect, 2);
    /* after the drop the first chunk sent starts at the device's offset, not at 0 */
    size_t j = 0;
    while (j < f->n_ch && !(f->ch[j].off == off))
        j++;
    assert_true(j < f->n_ch);
    int64_t t_drop = f->ch[j].t;
    /* first chunk after reconnect */
    size_t first_after = j + 1;
    while (first_after < f->n_ch && f->ch[first_after].t < t_drop + f->connect_delay)
        first_after++;
    assert_true(first_after < f->n_ch);
    assert_int_equal(f->ch[first_after].off, off);
    assert_false(f->ch[first_after].has_len);
    /* image.go: the failed sends (more than 2 out) shrink the window by one and stop the
     * tuning, so it stays at 4 */
    assert_int_equal(client_dfu_window_get(f->c), 4);
    assert_true(last(f)->attempt.retries >= 1);
    assert_image_written(f);
    fake_free(f);
}

/* Android fails the attempt on a drop; a new attempt sends offset 0 with the same sha and
 * the device answers with its progress (img_mgmt_upload_inspect() resume by sha,
 * zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/zephyr_img_mgmt.c). */
static void test_android_new_attempt_resumes_by_sha(void **state)
{
    (void)state;
    struct fake *f = fake_new(20000);
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    cfg.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
    cfg.attempts = 2;
    cfg.retry_delay = MS(1000);
    f->disc_off = 428 + 471 * 20;
    f->disc_n = 1;
    start(f, &cfg);
    run(f, MS(600000));
    assert_int_equal(f->n_recs, 2);
    assert_string_equal(f->recs[0].attempt.outcome, "failed");
    assert_string_equal(f->errs[0], "disconnected");
    assert_string_equal(f->recs[1].attempt.outcome, "updated");
    assert_int_equal(f->recs[1].attempt.attempt_id, 1);
    /* the second attempt only sends what the device is missing, plus the first chunk */
    assert_true(f->recs[1].attempt.bytes_sent < 20000 - 428 * 19);
    assert_image_written(f);
    fake_free(f);
}

/* smpclient: a continuation answered {"off": 0} (device lost its state) restarts with len,
 * image and upgrade but without sha. UPSTREAM: intercreate/smpclient:
 * src/smpclient/__init__.py @4970f3e */
static void test_smpclient_restart_without_sha(void **state)
{
    (void)state;
    struct fake *f = fake_new(5000);
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_SMPCLIENT);
    start(f, &cfg);
    /* let the first three chunks through, then forget the upload */
    for (int64_t t = MS(1); f->n_ch < 3; t += MS(1))
        run(f, t);
    f->uploading = false;
    run(f, MS(600000));
    assert_string_equal(last(f)->attempt.outcome, "updated");
    size_t j = 3;
    while (j < f->n_ch && f->ch[j].off != 0)
        j++;
    assert_true(j < f->n_ch);
    assert_true(f->ch[j].has_len);
    assert_true(f->ch[j].has_image);
    assert_false(f->ch[j].has_sha);
    fake_free(f);
}

/* ==== Validate ==== */

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager:
 *   mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/dfu/mcuboot/task/Validate.java @e733429 */
static void test_android_validate(void **state)
{
    (void)state;
    /* already running and confirmed: done after the list, nothing uploaded */
    struct fake *f = fake_new(3000);
    f->swapped = true;
    f->s0_confirmed = true;
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    start(f, &cfg);
    run(f, MS(600000));
    assert_string_equal(f->steps, "^PBML");
    assert_string_equal(last(f)->attempt.outcome, "updated");
    assert_int_equal(last(f)->attempt.bytes_sent, 0);
    fake_free(f);

    /* already uploaded and pending: no upload, no test, reset, confirm */
    f = fake_new(3000);
    f->s1_present = true;
    f->s1_pending = true;
    cfg.swap_wait = MS(2000);
    start(f, &cfg);
    run(f, MS(600000));
    assert_string_equal(f->steps, "^PBMLR|^C");
    assert_true(f->swapped && f->s0_confirmed);
    fake_free(f);

    /* the device runs a test boot: ResetBeforeUpload, validate again, then the DFU */
    f = fake_new(3000);
    f->s0_test = true;
    start(f, &cfg);
    run(f, MS(600000));
    assert_string_equal(f->steps, "^PBMLR|^LUTR|^C");
    assert_string_equal(last(f)->attempt.outcome, "updated");
    assert_true(f->swapped && f->s0_confirmed);
    assert_image_written(f);
    fake_free(f);

    /* test answered without pending: "downgrade forbidden" */
    f = fake_new(3000);
    f->test_no_pending = true;
    start(f, &cfg);
    run(f, MS(600000));
    assert_string_equal(f->steps, "^PBMLUT");
    assert_string_equal(last(f)->attempt.outcome, "failed");
    assert_string_equal(f->errs[0], "downgrade forbidden");
    fake_free(f);
}

/* ==== The host leaves (CANCEL); a new run (START after the end) ==== */

/* Mid-upload the host leaves: the attempt ends now, "failed", "host left", nothing in
 * flight, no retry though attempts are left; late answers change nothing. START then
 * begins a new run whose attempt number continues, and it completes. */
static void test_cancel_then_new_run(void **state)
{
    (void)state;
    struct fake *f = fake_new(60000);
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    cfg.attempts = 3;
    cfg.swap_wait = MS(2000);
    start(f, &cfg);
    int64_t t = 0;
    while (!(client_dfu_state_get(f->c) == CLIENT_DFU_UPLOAD && f->off >= 10000) && t < MS(60000))
        run(f, t += MS(5));
    assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_UPLOAD);
    struct client_dfu_ctx cx = CTX_PROTO;
    cx.env = f;
    f->now = t;
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_CANCEL, NULL, t, &cx), 0);
    assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_FAILED);
    assert_int_equal(client_dfu_inflight_get(f->c), 0);
    assert_true(client_dfu_finished(f->c));
    assert_int_equal(f->n_recs, 1);
    assert_string_equal(f->recs[0].attempt.outcome, "failed");
    assert_string_equal(f->errs[0], "host left");
    assert_int_equal(f->recs[0].attempt.end_ns, t);
    run(f, MS(600000)); /* answers in the air arrive; stale timers fire */
    assert_int_equal(f->n_recs, 1);
    assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_FAILED);
    /* CANCEL of a finished run changes nothing */
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_CANCEL, NULL, f->now, &cx), 0);
    assert_int_equal(f->n_recs, 1);

    f->link_up = false; /* the host's side of the link went with it (device.c) */
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_START, NULL, f->now, &cx), 0);
    assert_false(client_dfu_finished(f->c));
    run(f, f->now + MS(600000));
    assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_DONE);
    assert_int_equal(f->n_recs, 2);
    assert_int_equal(f->recs[1].attempt.attempt_id, 1);
    assert_string_equal(f->recs[1].attempt.outcome, "updated");
    assert_true(client_dfu_finished(f->c));
    assert_image_written(f);
    fake_free(f);
}

/* A failed attempt waits for its retry: CANCEL drops the retry, the run is over. */
static void test_cancel_drops_pending_retry(void **state)
{
    (void)state;
    struct fake *f = fake_new(3000);
    f->err_off = 0;
    f->err_rc = 12; /* FLASH_WRITE_FAILED at the first chunk */
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    cfg.attempts = 3;
    cfg.retry_delay = MS(5000);
    start(f, &cfg);
    int64_t t = 0;
    while (f->n_recs == 0 && t < MS(60000))
        run(f, t += MS(5));
    assert_int_equal(f->n_recs, 1);
    assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_FAILED);
    assert_false(client_dfu_finished(f->c)); /* a retry is pending */
    struct client_dfu_ctx cx = CTX_PROTO;
    cx.env = f;
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_CANCEL, NULL, t, &cx), 0);
    assert_true(client_dfu_finished(f->c));
    run(f, MS(600000));
    assert_int_equal(f->n_recs, 1);
    fake_free(f);
}

/* ==== Machine hygiene ==== */

static void test_unexpected_and_stale_inputs(void **state)
{
    (void)state;
    struct fake *f = fake_new(3000);
    struct client_dfu_cfg cfg = client_dfu_cfg_default(CLIENT_DFU_SMPCLIENT);
    start(f, &cfg);
    run(f, MS(600000));
    assert_int_equal(client_dfu_state_get(f->c), CLIENT_DFU_DONE);
    struct client_dfu_ctx cx = CTX_PROTO;
    cx.env = f;
    /* a stray response after DONE is counted, never acted on */
    uint8_t stray[] = {0x0b, 0x00, 0x00, 0x01, 0x00, 0x01, 0x42, 0x01, 0xa0};
    struct client_dfu_rx rx = {.b = stray, .n = sizeof stray};
    size_t sent = f->n_ch;
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_RX, &rx, f->now, &cx), 0);
    assert_int_equal(f->n_ch, sent);
    assert_int_equal(client_dfu_record_get(f->c)->unexpected, 1);
    /* a stale timer generation is ignored */
    struct client_dfu_timer t = {.timer = CLIENT_DFU_TIMER_RSP, .gen = 12345};
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_TIMER, &t, f->now, &cx), 0);
    /* bad arguments */
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_RX, NULL, f->now, &cx), SIM_EINVAL);
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_IN_CONNECTED, NULL, f->now, &cx), SIM_EINVAL);
    assert_int_equal(client_dfu_step(f->c, CLIENT_DFU_INPUT_COUNT, NULL, f->now, &cx), SIM_EINVAL);
    fake_free(f);

    /* no connection within t_connect: the attempt fails as a timeout */
    f = fake_new(3000);
    f->connect_delay = MS(60000);
    cfg = client_dfu_cfg_default(CLIENT_DFU_IOS);
    start(f, &cfg);
    run(f, MS(600000));
    assert_string_equal(last(f)->attempt.outcome, "timeout");
    assert_string_equal(f->errs[0], "connect timed out");
    assert_int_equal(last(f)->attempt.end_ns, MS(20000)); /* CONNECTION_TIMEOUT */
    fake_free(f);

    /* bad configs are refused */
    struct client_dfu_image img = {.size = 10, .read = f_read};
    struct client_dfu_cfg bad = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    bad.window = 0;
    assert_null(client_dfu_new(&bad, &img));
    bad = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    bad.alignment = 3;
    assert_null(client_dfu_new(&bad, &img));
    bad = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    bad.attempts = 0;
    assert_null(client_dfu_new(&bad, &img));
    client_dfu_free(NULL);
}

/* UPSTREAM: NordicSemiconductor/Android-nRF-Connect-Device-Manager: README.md and
 * McuManager.java @e733429; NordicSemiconductor/IOS-nRF-Connect-Device-Manager:
 * McuManager.swift @54e9b8a; apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7;
 * intercreate/smpclient: src/smpclient/__init__.py @4970f3e */
static void test_profile_constants(void **state)
{
    (void)state;
    struct client_dfu_cfg a = client_dfu_cfg_default(CLIENT_DFU_ANDROID);
    assert_int_equal(a.p.t_first, MS(40000));
    assert_int_equal(a.p.t_chunk, MS(2500));
    assert_int_equal(a.p.t_last, MS(20000));
    assert_int_equal(a.p.max_failures, 5);
    assert_int_equal(a.p.att_mtu_request, 498);
    assert_int_equal(a.mode, CLIENT_DFU_MODE_TEST_AND_CONFIRM);
    assert_int_equal(a.p.hdr_version, 1);
    struct client_dfu_cfg i = client_dfu_cfg_default(CLIENT_DFU_IOS);
    assert_int_equal(i.p.t_first, MS(40000));
    assert_int_equal(i.p.t_chunk, MS(10000));
    assert_int_equal(i.p.busy_retry, MS(100));
    assert_int_equal(i.mode, CLIENT_DFU_MODE_CONFIRM_ONLY);
    struct client_dfu_cfg g = client_dfu_cfg_default(CLIENT_DFU_MCUMGR_CLI);
    assert_int_equal(g.p.t_chunk, MS(3000));
    assert_int_equal(g.p.max_chunk, 512);
    assert_int_equal(g.p.window_start, 1);
    assert_int_equal(g.p.window_max, 5);
    assert_int_equal(g.p.hdr_version, 0);
    struct client_dfu_cfg s = client_dfu_cfg_default(CLIENT_DFU_SMPCLIENT);
    assert_int_equal(s.p.t_first, MS(40000));
    assert_int_equal(s.p.t_chunk, MS(2500));
    assert_int_equal(s.window, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_profile_constants),
        cmocka_unit_test(test_golden_first_requests),
        cmocka_unit_test(test_golden_state_writes),
        cmocka_unit_test(test_mode_sequences),
        cmocka_unit_test(test_android_record_phases_and_swap_wait),
        cmocka_unit_test(test_command_timeouts),
        cmocka_unit_test(test_chunk_sizes),
        cmocka_unit_test(test_window_limits),
        cmocka_unit_test(test_cli_window_grows_one_per_response),
        cmocka_unit_test(test_faults),
        cmocka_unit_test(test_android_five_failures_at_one_offset_abort),
        cmocka_unit_test(test_android_failures_accumulate_per_offset),
        cmocka_unit_test(test_android_mismatch_counts_against_answered_chunk),
        cmocka_unit_test(test_android_covered_timeout_is_not_a_failure),
        cmocka_unit_test(test_android_per_write_timeouts),
        cmocka_unit_test(test_erase_before_upload),
        cmocka_unit_test(test_erase_skipped_when_image_present),
        cmocka_unit_test(test_erase_first_setting),
        cmocka_unit_test(test_erase_interrupted_by_a_drop),
        cmocka_unit_test(test_first_chunk_erase_vs_timeout),
        cmocka_unit_test(test_cli_reconnects_and_resumes_from_device_offset),
        cmocka_unit_test(test_android_new_attempt_resumes_by_sha),
        cmocka_unit_test(test_smpclient_restart_without_sha),
        cmocka_unit_test(test_android_validate),
        cmocka_unit_test(test_unexpected_and_stale_inputs),
        cmocka_unit_test(test_cancel_then_new_run),
        cmocka_unit_test(test_cancel_drops_pending_retry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
