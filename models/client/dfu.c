/* models/client/dfu.c - one DFU client state machine; the clients differ only by the
 * profile that client_dfu_cfg_default() fills in from their upstream sources.
 *
 * Each constant cites its upstream file. Repositories and the commits read:
 * NordicSemiconductor/Android-nRF-Connect-Device-Manager @e733429 (paths under
 * mcumgr-core/src/main/java/no/nordicsemi/android/mcumgr/, and mcumgr-ble/ for the
 * transport), NordicSemiconductor/
 * IOS-nRF-Connect-Device-Manager @54e9b8a (iOSMcuManagerLibrary/Source/),
 * apache/mynewt-newtmgr @60b2da7 as pinned by apache/mynewt-mcumgr-cli's go.mod, and
 * intercreate/smpclient @4970f3e.
 */
#include "models/client/dfu.h"
#include "models/client/central.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/smp/frame.h"
#include "models/smp/img_mgmt.h"
#include "models/smp/mgmt.h"
#include "models/smp/os_mgmt.h"
#include "sim/error.h"
#include "sim/rng.h"

/* Responses the host holds at once (host latency): a client has at most
 * CLIENT_DFU_MAX_WINDOW requests out, so a few more than that covers late ones. When full,
 * the oldest is handed on early (never happens with the shipped windows). */
#define HOLD_MAX   20
#define HOLD_FIRST 256u  /* first allocation of the held bytes */
#define HOLD_CAP   8192u /* held bytes at most (the central's reassembly cap) */

/* One response the host holds until due (host latency). */
struct held {
    int64_t due;
    uint32_t n; /* bytes, back to back in client_dfu.hold */
};

/* One request waiting for its response. */
struct req {
    int64_t sent_at, deadline;
    uint32_t off, len; /* chunks only */
    uint32_t n;        /* chunks only: index of the chunk in the attempt, from 0 */
    uint8_t seq;
    uint8_t id;     /* command id */
    uint16_t group; /* group id */
    bool resend;    /* chunk sent again */
    bool prio;      /* Uploader.kt: taken from the failures channel (a resend), see below */
};

/* Requests in flight and held responses: allocated when the first is added (sess_need) and
 * freed when a step leaves none (client_dfu_step), so that a client between sessions holds
 * no such table (bench/RESULTS.md, "Session state on demand"). */
struct client_sess {
    struct req fl[CLIENT_DFU_MAX_WINDOW];
    struct held hq[HOLD_MAX];
};

/* Failures counted against one chunk offset. */
struct fail_ent {
    uint32_t off, n;
};

/* Where upload()'s loop in transfer/Uploader.kt (e733429) waits (lines 113-214). */
enum ul_wait {
    UL_ACQUIRE, /* window.acquire(): for a permit (a request in flight holds one) */
    UL_SELECT,  /* holds a permit; select on failures, next, close (biased, that order) */
    UL_SYNC,    /* writeInternal awaits the result of the offset-0 chunk or of a resend */
    UL_CLOSED   /* broke out on close: coroutineScope waits for the results still out */
};

/* One upload's failure accounting, allocated when an upload needs it and freed when the
 * upload ends (upl_free: upload complete, attempt ended, client freed), so that a client
 * outside an upload holds none of it.
 *
 * fd is Uploader.kt upload()'s failureDirectory (line 100): failures per chunk offset for
 * the whole upload, sorted by offset; the upload aborts when one reaches max_failures
 * (MAX_CHUNK_FAILURES = 5, line 32). Memory: one entry per chunk offset that failed, at
 * most one per chunk boundary of the image (about 1,600 for 384 KiB in 245-byte chunks,
 * 13 KiB at 8 B an entry); upstream's mutableMapOf grows the same way and is dropped when
 * upload() returns. The other profiles reach it only with max_failures 1: their first
 * failure ends the upload, and the table has one entry.
 *
 * The rest is Uploader.kt's loop (Android, window > 1; ul_* below): the CONFLATED
 * channels failures and next (lines 106-107: each holds the latest chunk sent to it, by
 * offset), close (line 108), and currentOffset (line 78: the highest offset a success
 * response reported). */
struct client_upl {
    uint8_t wait; /* enum ul_wait */
    bool has_fail, has_next, closed;
    uint32_t fail_off, next_off;
    uint32_t cur_off;
    uint32_t n_fd, cap_fd;
    struct fail_ent fd[];
};

struct client_dfu {
    struct client_dfu_cfg cfg;
    const struct client_dfu_image *img; /* not owned */
    enum client_dfu_state state;
    enum client_dfu_mode mode; /* effective mode (Android may switch to NONE) */
    enum client_dfu_state plan[CLIENT_DFU_MAX_PLAN];
    size_t n_plan, pc;
    bool after_reset;  /* a RESET step has run since the upload started */
    bool reset_before; /* ResetBeforeUpload already done in this attempt */
    bool started;
    bool cancelled; /* the host left (CANCEL): no attempt until the next START */

    /* link */
    bool link_up;
    uint16_t mtu;
    uint32_t buf_size; /* from mcumgr params */
    bool have_params;
    int32_t boot_mode; /* -1: unknown */
    bool no_swap;

    /* requests */
    uint8_t seq;
    struct client_sess *sess; /* NULL while n_fl == 0 and n_hq == 0 */
    unsigned n_fl;
    int64_t extra_deadline; /* connect / reset deadline; -1: none */

    /* upload */
    unsigned window;
    bool tuning;            /* Go CLI: still growing the window */
    uint32_t next_off;      /* next new chunk starts here */
    uint32_t dev_off;       /* the device's offset in its latest response */
    bool recovering;        /* a mismatch or loss is being repaired (no new chunks) */
    bool busy_pending;      /* iOS busy back-off running */
    bool reopening;         /* Go CLI reconnecting mid-upload */
    bool use_sha;           /* send "sha" with offset-0 chunks */
    uint32_t sent_hi;       /* end of the highest chunk sent: below it a send is a resend */
    struct client_upl *upl; /* failure directory (and Uploader.kt's loop): NULL outside an
                               upload, see "Uploader.kt" below */
    uint32_t trk_off;       /* Go CLI tracker: offset reported again */
    unsigned trk_count;

    /* reset */
    bool reset_rsp; /* the reset was answered (at reset_rsp_at) */
    int64_t reset_rsp_at;

    /* timers */
    bool armed[CLIENT_DFU_TIMER_COUNT];
    uint32_t gen[CLIENT_DFU_TIMER_COUNT];
    int64_t armed_at[CLIENT_DFU_TIMER_COUNT];
    bool retry_pending;

    /* host latency (cfg.host_*): responses delivered by the link, not yet handed to the
     * state machine, oldest first */
    struct sim_rng host_rng;
    unsigned n_hq; /* in sess->hq */
    uint8_t *hold; /* their bytes, grown on demand to at most HOLD_CAP */
    size_t hold_len, hold_cap;

    uint32_t attempt_no;
    uint32_t session_first; /* attempt_no of the first attempt of this run (START) */
    struct client_dfu_record rec;
    char error[80];
    /* No request buffers: a request is encoded on the stack of the call that sends it
     * (send_cmd, send_chunk) and the transport copies it. 8 KiB less per device, and the
     * stack stays in cache across devices (bench/RESULTS.md, "Fleet scale"). */
};

/* ---- profiles ------------------------------------------------------------------- */

const char *client_dfu_kind_doc(enum client_dfu_kind kind)
{
    static const char *const docs[CLIENT_DFU_KIND_COUNT] = {
        [CLIENT_DFU_ANDROID] = "nRF Connect Device Manager, Android (NordicSemiconductor/"
                               "Android-nRF-Connect-Device-Manager): test-and-confirm, window 3",
        [CLIENT_DFU_IOS] = "nRF Connect Device Manager, iOS (NordicSemiconductor/"
                           "IOS-nRF-Connect-Device-Manager): confirm-only, window 3",
        [CLIENT_DFU_MCUMGR_CLI] = "the Go mcumgr CLI over nmxact (apache/mynewt-newtmgr): "
                                  "test-and-confirm, adaptive window",
        [CLIENT_DFU_SMPCLIENT] = "Python smpclient (intercreate/smpclient): upload-only, "
                                 "stop-and-wait",
    };
    return (unsigned)kind < CLIENT_DFU_KIND_COUNT ? docs[kind] : "?";
}

struct client_dfu_cfg client_dfu_cfg_default(enum client_dfu_kind kind)
{
    struct client_dfu_cfg c;
    memset(&c, 0, sizeof c);
    struct client_dfu_profile *p = &c.p;
    c.window = 1;
    c.alignment = 1;
    c.attempts = 1;
    c.gateway_id = RECORDER_NONE;
    p->window_start = 1;
    p->window_max = 1;
    p->max_failures = 1;
    p->params_seq = -1;
    p->hdr_version = SMP_MGMT_VERSION_2;
    p->image_if_nonzero = true;
    p->sha_on_restart = true;
    p->first_alone = true;
    p->confirm_hash_after_reset = true;
    /* Go nmp ImageStateWriteReq {hash, confirm}; smpclient / iOS: *unverified*, a missing
     * "confirm" means false on the device anyway. */
    p->test_sends_confirm = true;
    switch (kind) {
    case CLIENT_DFU_ANDROID:
        p->name = "device-manager-android";
        /* mcumgr-core/.../McuMgrHeader.java: header version always 1 (SMP v2). */
        p->sizing = CLIENT_DFU_SIZING_ANDROID;
        /* transfer/ImageUploader.kt builds mutableMapOf("data", "off") then "image" (> 0),
         * "len" (and "sha" in e733429): a LinkedHashMap keeps that order. */
        p->keys = CLIENT_DFU_KEYS_ANDROID;
        /* managers/ImageManager.java test()/confirm(): a java.util.HashMap; its
         * iteration order (capacity 16) puts "confirm" (bucket 0) before "hash" (14). */
        p->state_keys_confirm_first = true;
        /* managers/ImageManager.java test() (e733429): TEST writes {"hash"} only. */
        p->test_sends_confirm = false;
        /* dfu/mcuboot/task/Upload.java: window 1 -> ImageManager's ImageUpload, any
         * error fails; window > 1 -> transfer/Uploader.kt upload() (the ul_* functions):
         * failureDirectory per chunk offset, MAX_CHUNK_FAILURES = 5 (line 32). */
        p->on_timeout = CLIENT_DFU_TIMEOUT_RESEND;
        p->max_failures = 5;
        /* mcumgr-ble/.../McuMgrBleTransport.java: params sent raw, seq 0xFF, 1 s. */
        p->params = true;
        p->params_seq = 0xFF;
        p->t_params = CLIENT_DFU_MS(1000);
        /* dfu/mcuboot/task/Validate.java: bootloader info, then "mode" if "MCUboot". */
        p->bootinfo_name = true;
        p->bootmode = true;
        p->list_first = true;
        p->auto_none_xip = true;       /* FirmwareUpgradeManager.java / Validate.java */
        p->reset_before_upload = true; /* Validate.java: ResetBeforeUpload */
        /* Validate.java, TEST_AND_CONFIRM: resetRequired only when the image is pending (or
         * a test is queued); an image found active but unconfirmed gets ConfirmAfterReset
         * with no Reset, so it is confirmed where it runs. */
        p->reset_only_if_pending = true;
        p->image_if_nonzero = true;
        p->att_mtu_request = 498; /* McuMgrBleTransport.java */
        /* McuManager.java DEFAULT / MEDIUM / SHORT = 40 s / 5 s / 2.5 s; window 1:
         * ImageManager.java upload() 40 s at offset 0, SHORT otherwise (line 295);
         * window > 1: Uploader.kt writeInternal (lines 307-313), per write, resends too:
         * offset 0 40 s, the last chunk 20 s, others 2.5 s. */
        p->t_first = CLIENT_DFU_MS(40000);
        p->t_chunk = CLIENT_DFU_MS(2500);
        p->t_last = CLIENT_DFU_MS(20000);
        p->t_bootinfo = CLIENT_DFU_MS(2500); /* SHORT_TIMEOUT; *unverified* */
        p->t_list = CLIENT_DFU_MS(5000);     /* Validate.java: MEDIUM_TIMEOUT */
        p->t_state = CLIENT_DFU_MS(2500);    /* ImageManager.java test/confirm: SHORT */
        p->t_reset = CLIENT_DFU_MS(2500);    /* task/Reset.java: SHORT, errors ignored */
        p->t_connect = CLIENT_DFU_MS(30000); /* transport default 30 s; *unverified* */
        /* managers/ImageManager.java erase(): DEFAULT_TIMEOUT 40 s; no "slot" for the
         * secondary of image 0 (an empty map), {"slot": n} otherwise. FirmwareUpgradeManager
         * never erases: an app calls ImageManager.erase() itself (the sample's image
         * control screen does), so erase_first stays off; an error fails it. */
        p->t_erase = CLIENT_DFU_MS(40000);
        p->erase_slot_key = true;
        c.mode = CLIENT_DFU_MODE_TEST_AND_CONFIRM; /* FirmwareUpgradeManager.mMode */
        c.window = 1; /* FirmwareUpgradeManager.Settings: window capacity 1 */
        c.alignment = 1;
        break;
    case CLIENT_DFU_IOS:
        p->name = "device-manager-ios";
        p->sizing = CLIENT_DFU_SIZING_IOS;
        /* Managers/ImageManager.swift builds a Swift Dictionary, whose iteration order is
         * seeded per process: any order is what the app sends. We pick insertion order. */
        p->keys = CLIENT_DFU_KEYS_IOS;
        p->on_timeout = CLIENT_DFU_TIMEOUT_FAIL;
        p->max_failures = 1;
        p->params = true;   /* FirmwareUpgradeManager.swift: requestMcuMgrParameters */
        p->bootmode = true; /* bootloaderInfo (mode) */
        p->list_first = true;
        p->list_after_reset = true;  /* testAndConfirm: list + confirm after reconnect */
        p->reconnect_always = true;  /* reset -> wait -> reconnect -> success */
        p->drain_on_mismatch = true; /* McuMgrUploadPipeline.swift */
        p->packet_cap = 65535;       /* reassemblyBufferSize capped at 65535 */
        /* McuManager.swift DEFAULT_SEND_TIMEOUT 40 s (offset 0), FAST_TIMEOUT 10 s. */
        p->t_first = CLIENT_DFU_MS(40000);
        p->t_chunk = CLIENT_DFU_MS(10000);
        p->t_params = CLIENT_DFU_MS(40000);
        p->t_bootinfo = CLIENT_DFU_MS(40000);
        p->t_list = CLIENT_DFU_MS(40000);
        p->t_state = CLIENT_DFU_MS(40000);
        p->t_reset = CLIENT_DFU_MS(40000);
        p->t_connect = CLIENT_DFU_MS(20000); /* McuMgrBleTransport.swift CONNECTION_TIMEOUT */
        p->busy_retry = CLIENT_DFU_MS(100);  /* ImageManager.swift BUSY_WAIT_DELAY_MS */
        /* Managers/ImageManager.swift erase(image:slot:): ERASE_TIMEOUT_SECONDS 75, "slot"
         * only when both are given (nil payload: an empty map); FirmwareUpgradeManager
         * never calls it (eraseAppSettings is the settings storage, not the slot). */
        p->t_erase = CLIENT_DFU_MS(75000);
        p->erase_slot_key = true;
        c.mode = CLIENT_DFU_MODE_CONFIRM_ONLY; /* FirmwareUpgradeConfiguration default */
        c.window = 1;                          /* pipelineDepth 1 */
        break;
    case CLIENT_DFU_MCUMGR_CLI:
        p->name = "mcumgr-cli";
        /* apache/mynewt-newtmgr: nmxact/xact/image.go @60b2da7 unless noted. */
        p->hdr_version = SMP_MGMT_VERSION_1; /* nmp header version 0 */
        p->sizing = CLIENT_DFU_SIZING_NEWT;
        /* nmxact/nmp/image.go ImageUploadReq field order: image, off, len, sha, upgrade,
         * data (ugorji codec encodes struct fields in declaration order). */
        p->keys = CLIENT_DFU_KEYS_NEWT;
        p->on_timeout = CLIENT_DFU_TIMEOUT_FAIL; /* 1 try per chunk (runUpload) */
        p->max_failures = 1;
        p->list_first = true;       /* README: image list -> upload -> test -> reset ... */
        p->list_after_reset = true; /* ... -> image list -> image confirm */
        p->window_adaptive = true;
        p->window_start = 1;      /* IMAGE_UPLOAD_START_WS */
        p->window_max = 5;        /* IMAGE_UPLOAD_DEF_MAX_WS (-w/--maxwinsize) */
        p->reopen_on_drop = true; /* runUpload: reopen transport, resume */
        p->first_alone = false;   /* the window of 1 does it */
        p->image_every_chunk = true;
        p->image_if_nonzero = false;
        p->upgrade_key = 1;                  /* `codec:"upgrade,omitempty"` */
        p->confirm_hash_after_reset = false; /* `mcumgr image confirm`: running image */
        p->max_chunk = 512;                  /* IMAGE_UPLOAD_MAX_CHUNK */
        p->min_first_chunk = 32;             /* IMAGE_UPLOAD_MIN_1ST_CHUNK */
        p->t_first = CLIENT_DFU_MS(3000);    /* runUpload: 3 s (10 s after 5f1f36e) */
        p->t_chunk = CLIENT_DFU_MS(3000);
        p->t_list = CLIENT_DFU_MS(10000); /* CLI -t default 10 s */
        p->t_state = CLIENT_DFU_MS(10000);
        p->t_reset = CLIENT_DFU_MS(10000);
        p->t_connect = CLIENT_DFU_MS(10000); /* *unverified* */
        /* newtmgr/cli/image.go: `image upload` runs xact ImageUpgradeCmd, which sends an
         * image erase first unless -e/--noerase (default false); the erase uses the CLI's
         * tx options (-t 10 s, -r 1 try: newtmgr/cli/commands.go). ImageUpgradeCmd.Run
         * goes on to the upload whatever the erase answered, but a timeout on an open
         * session ends the command; after a drop it reopens and uploads (rescue). The
         * request is an empty map (nmxact/nmp/image.go ImageEraseReq has no field). */
        p->erase_first = true;
        p->erase_error_ignored = true;
        p->t_erase = CLIENT_DFU_MS(10000);
        c.mode = CLIENT_DFU_MODE_TEST_AND_CONFIRM;
        c.window = 5;
        break;
    case CLIENT_DFU_SMPCLIENT:
    default:
        p->name = "smpclient";
        /* intercreate/smpclient: src/smpclient/__init__.py @4970f3e. */
        p->sizing = CLIENT_DFU_SIZING_SMPCLIENT;
        /* smp: image_management.py ImageUploadWriteRequest fields off, data, image, len,
         * sha, upgrade; dumped in field order, unset (None) fields left out. */
        p->keys = CLIENT_DFU_KEYS_SMPCLIENT;
        p->on_timeout = CLIENT_DFU_TIMEOUT_FAIL;
        p->max_failures = 1;
        p->params = true; /* buf_size obtained at connect */
        p->image_if_nonzero = false;
        p->sha_on_restart = false; /* restart at off 0 resends len, image, upgrade */
        p->upgrade_key = 2;
        p->t_first = CLIENT_DFU_MS(40000); /* upload(first_timeout_s = 40) */
        p->t_chunk = CLIENT_DFU_MS(2500);  /* subsequent_timeout_s = client default 2.5 */
        p->t_params = CLIENT_DFU_MS(2500);
        p->t_list = CLIENT_DFU_MS(2500);
        p->t_state = CLIENT_DFU_MS(2500);
        p->t_reset = CLIENT_DFU_MS(2500);
        p->t_connect = CLIENT_DFU_MS(10000); /* *unverified* */
        /* upload() sends no erase; a script's request(ImageEraseRequest()) waits the
         * client's default timeout_s 2.5 s (smp: image_management.py, "slot" optional). */
        p->t_erase = CLIENT_DFU_MS(2500);
        p->erase_slot_key = true;
        c.mode = CLIENT_DFU_MODE_UPLOAD_ONLY;
        c.window = 1;
        break;
    }
    c.erase_first = p->erase_first;
    return c;
}

/* ---- small helpers -------------------------------------------------------------- */

static unsigned uint_size(uint64_t v) /* CBOR head bytes of an unsigned (RFC 8949) */
{
    if (v < 24)
        return 1;
    if (v < 256)
        return 2;
    if (v < 65536)
        return 3;
    if (v <= UINT32_MAX)
        return 5;
    return 9;
}

static void arm(struct client_dfu *c, const struct client_dfu_ctx *cx, int t, int64_t at)
{
    c->gen[t] = cx->timer_arm(cx->env, t, at);
    c->armed[t] = true;
    c->armed_at[t] = at;
}

/* Re-arm the RSP timer for the earliest deadline (lazy: a stale firing is ignored). */
static void rsp_rearm(struct client_dfu *c, const struct client_dfu_ctx *cx)
{
    int64_t at = c->extra_deadline;
    for (unsigned i = 0; i < c->n_fl; i++)
        if (at < 0 || c->sess->fl[i].deadline < at)
            at = c->sess->fl[i].deadline;
    if (c->n_hq > 0 && (at < 0 || c->sess->hq[0].due < at))
        at = c->sess->hq[0].due; /* the host hands on a held response then */
    if (at < 0) {
        c->armed[CLIENT_DFU_TIMER_RSP] = false;
        return;
    }
    if (!c->armed[CLIENT_DFU_TIMER_RSP] || c->armed_at[CLIENT_DFU_TIMER_RSP] != at)
        arm(c, cx, CLIENT_DFU_TIMER_RSP, at);
}

/* The table of requests and held responses exists while one of them does. */
static int sess_need(struct client_dfu *c)
{
    if (c->sess == NULL && (c->sess = malloc(sizeof *c->sess)) == NULL)
        return SIM_ENOMEM;
    return 0;
}

static void sess_trim(struct client_dfu *c)
{
    if (c->n_fl == 0 && c->n_hq == 0) {
        free(c->sess);
        c->sess = NULL;
        assert(c->hold_len == 0);
        free(c->hold); /* the held bytes too: host_hold grows them again from HOLD_FIRST */
        c->hold = NULL;
        c->hold_cap = 0;
    }
}

/* The failure directory (struct client_upl) exists while an upload needs it. */
#define UPL_FIRST_CAP 8u /* entries of the first allocation (doubled as needed) */

static int upl_need(struct client_dfu *c)
{
    if (c->upl != NULL)
        return 0;
    c->upl = calloc(1, sizeof *c->upl + UPL_FIRST_CAP * sizeof c->upl->fd[0]);
    if (c->upl == NULL)
        return SIM_ENOMEM;
    c->upl->cap_fd = UPL_FIRST_CAP;
    return 0;
}

static void upl_free(struct client_dfu *c)
{
    free(c->upl);
    c->upl = NULL;
}

static void fl_remove(struct client_dfu *c, unsigned i)
{
    c->sess->fl[i] = c->sess->fl[c->n_fl - 1];
    c->n_fl--;
}

static int fl_find_seq(const struct client_dfu *c, uint8_t seq)
{
    for (unsigned i = 0; i < c->n_fl; i++)
        if (c->sess->fl[i].seq == seq)
            return (int)i;
    return -1;
}

static bool fl_has_off(const struct client_dfu *c, uint32_t off)
{
    for (unsigned i = 0; i < c->n_fl; i++)
        if (c->sess->fl[i].off == off && c->sess->fl[i].len > 0)
            return true;
    return false;
}

/* Encode the header in front of the CBOR at frame[8..8+len) and send; track it. */
static int send_req(struct client_dfu *c, const struct client_dfu_ctx *cx, uint8_t *frame,
                    uint8_t op, uint16_t group, uint8_t id, int seq, size_t cbor_len,
                    int64_t timeout, int64_t now, uint32_t off, uint32_t len)
{
    assert(c->n_fl < CLIENT_DFU_MAX_WINDOW);
    if (sess_need(c) != 0)
        return SIM_ENOMEM;
    struct smp_frame_hdr h = {.len = (uint16_t)cbor_len,
                              .group = group,
                              .op = op,
                              .version = c->cfg.p.hdr_version,
                              .flags = 0,
                              .seq = seq >= 0 ? (uint8_t)seq : c->seq++,
                              .id = id};
    smp_frame_hdr_encode(&h, frame);
    struct req *r = &c->sess->fl[c->n_fl++];
    *r = (struct req){.sent_at = now,
                      .deadline = now + timeout,
                      .off = off,
                      .len = len,
                      .seq = h.seq,
                      .id = id,
                      .group = group};
    int rc = cx->send(cx->env, frame, SMP_MGMT_HDR_SIZE + cbor_len);
    if (rc < 0)
        return rc;
    rsp_rearm(c, cx);
    return 0;
}

/* ---- upload request encoding ----------------------------------------------------- */

enum key { K_DATA, K_OFF, K_IMAGE, K_LEN, K_SHA, K_UPGRADE, K_END };

static const enum key key_order[][K_END + 1] = {
    [CLIENT_DFU_KEYS_ANDROID] = {K_DATA, K_OFF, K_IMAGE, K_LEN, K_SHA, K_END},
    [CLIENT_DFU_KEYS_IOS] = {K_DATA, K_OFF, K_IMAGE, K_LEN, K_SHA, K_END},
    [CLIENT_DFU_KEYS_NEWT] = {K_IMAGE, K_OFF, K_LEN, K_SHA, K_UPGRADE, K_DATA, K_END},
    [CLIENT_DFU_KEYS_SMPCLIENT] = {K_OFF, K_DATA, K_IMAGE, K_LEN, K_SHA, K_UPGRADE, K_END},
};

static bool key_present(const struct client_dfu *c, enum key k, uint32_t off, bool sha)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    switch (k) {
    case K_DATA:
    case K_OFF:
        return true;
    case K_IMAGE:
        if (p->image_every_chunk)
            return true;
        return off == 0 && (!p->image_if_nonzero || c->cfg.image > 0);
    case K_LEN:
        return off == 0;
    case K_SHA:
        return off == 0 && sha;
    case K_UPGRADE:
        return off == 0 && (p->upgrade_key == 2 || (p->upgrade_key == 1 && c->cfg.upgrade));
    case K_END:
        break;
    }
    return false;
}

/* CBOR of one upload request into w, with room for len bytes of data: returns where they go
 * (the caller writes them), or NULL on overflow. */
static uint8_t *upload_cbor(const struct client_dfu *c, struct smp_frame_writer *w, uint32_t off,
                            uint32_t len, bool sha)
{
    uint8_t *data = NULL;
    const enum key *order = key_order[c->cfg.p.keys];
    size_t n = 0;
    for (size_t i = 0; order[i] != K_END; i++)
        n += key_present(c, order[i], off, sha);
    smp_frame_put_map(w, n);
    for (size_t i = 0; order[i] != K_END; i++) {
        if (!key_present(c, order[i], off, sha))
            continue;
        switch (order[i]) {
        case K_DATA:
            smp_frame_put_text(w, "data");
            data = smp_frame_put_bstr_space(w, len);
            break;
        case K_OFF:
            smp_frame_put_text(w, "off");
            smp_frame_put_uint(w, off);
            break;
        case K_IMAGE:
            smp_frame_put_text(w, "image");
            smp_frame_put_uint(w, c->cfg.image);
            break;
        case K_LEN:
            smp_frame_put_text(w, "len");
            smp_frame_put_uint(w, c->img->size);
            break;
        case K_SHA:
            smp_frame_put_text(w, "sha");
            smp_frame_put_bstr(w, c->img->sha, CLIENT_DFU_SHA_LEN);
            break;
        case K_UPGRADE:
            smp_frame_put_text(w, "upgrade");
            smp_frame_put_bool(w, c->cfg.upgrade);
            break;
        case K_END:
            break;
        }
    }
    return w->overflow ? NULL : data;
}

/* Whole frame length (header + CBOR) of a chunk of len bytes at off (the data's content
 * does not change the length, so it is not written). */
static size_t upload_frame_len(const struct client_dfu *c, uint32_t off, uint32_t len, bool sha)
{
    uint8_t tmp[CLIENT_DFU_MAX_PACKET];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, tmp, sizeof tmp);
    (void)upload_cbor(c, &w, off, len, sha);
    if (w.overflow)
        return SIZE_MAX;
    return SMP_MGMT_HDR_SIZE + w.len;
}

/* Largest packet (header + CBOR) the client builds now. */
static uint32_t packet_limit(const struct client_dfu *c)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    uint32_t mtu_payload = c->mtu > 3 ? (uint32_t)c->mtu - 3 : 20;
    uint32_t lim = mtu_payload;
    if (p->sizing == CLIENT_DFU_SIZING_NEWT) {
        /* BLE MtuOut = min(ATT_MTU - 3, 512) (nmxact/nmble). */
        lim = mtu_payload < 512 ? mtu_payload : 512;
    } else if (c->have_params && c->buf_size > 0) {
        /* Android McuMgrBleTransport.java, iOS reassemblyBufferSize, smpclient
         * max_unencoded_size: buf_size from mcumgr params. */
        lim = c->buf_size;
        if (p->packet_cap && lim > p->packet_cap)
            lim = p->packet_cap;
    }
    if (lim > CLIENT_DFU_MAX_PACKET)
        lim = CLIENT_DFU_MAX_PACKET;
    return lim;
}

/* Largest d with d + bstr head(d) <= avail. */
static uint32_t fit_bstr(uint32_t avail)
{
    uint32_t d = avail > 0 ? avail - 1 : 0;
    while (d > 0 && d + uint_size(d) > avail)
        d--;
    return d;
}

/* Data bytes of the chunk at off, before alignment; 0 when nothing fits. */
static uint32_t chunk_raw(const struct client_dfu *c, uint32_t off, bool sha)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    uint32_t left = c->img->size - off;
    uint32_t lim = packet_limit(c);
    int64_t d;
    switch (p->sizing) {
    case CLIENT_DFU_SIZING_ANDROID: {
        /* transfer/Uploader.kt getMaxChunkSize (e733429): header 8, map 1, "data" 5,
         * "off" 4 + U(off); offset 0: "len" 4 + U(len), "sha" 4 + 2 + 32 (4 + 1 + 32
         * would undercount: a 32-byte bstr head is 2 bytes, see the report), "image"
         * 6 + U(image) when image > 0; minus the data bstr head. */
        int64_t ov = 8 + 1 + 5 + 4 + uint_size(off);
        if (off == 0) {
            ov += 4 + uint_size(c->img->size);
            if (sha)
                ov += 4 + 2 + CLIENT_DFU_SHA_LEN;
            if (c->cfg.image > 0)
                ov += 6 + uint_size(c->cfg.image);
        }
        d = (int64_t)lim - ov;
        d = d > 0 ? fit_bstr((uint32_t)d) : 0;
        break;
    }
    case CLIENT_DFU_SIZING_IOS: {
        /* McuMgrUploadPipeline.swift: overhead = encoded packet with 1 data byte + 5. */
        size_t ov = upload_frame_len(c, off, 1, sha) + 5;
        d = (int64_t)lim - (int64_t)ov;
        break;
    }
    case CLIENT_DFU_SIZING_NEWT:
    case CLIENT_DFU_SIZING_SMPCLIENT:
    default: {
        /* image.go: start at min(left, 512) and shrink by the overflow until the encoded
         * request fits MtuOut; smpclient _maximize_upload_packet fills
         * max_unencoded_size exactly (CBOR head sizes accounted for). */
        d = p->max_chunk ? p->max_chunk : lim;
        if (d > left)
            d = left;
        for (int i = 0; i < 8 && d > 0; i++) {
            size_t n = upload_frame_len(c, off, (uint32_t)d, sha);
            if (n <= lim)
                break;
            d -= (int64_t)(n - lim);
        }
        break;
    }
    }
    if (d < 0)
        d = 0;
    if (d > left)
        d = left;
    return (uint32_t)d;
}

/* Data bytes of the chunk at off: non-final chunks rounded down to the alignment. */
static uint32_t chunk_len_sha(const struct client_dfu *c, uint32_t off, bool sha)
{
    uint32_t d = chunk_raw(c, off, sha);
    uint32_t left = c->img->size - off;
    if (d < left && c->cfg.alignment > 1)
        d -= d % c->cfg.alignment;
    return d;
}

uint32_t client_dfu_chunk_len(const struct client_dfu *c, uint32_t off)
{
    if (off >= c->img->size)
        return 0;
    return chunk_len_sha(c, off, c->use_sha);
}

/* ---- records ---------------------------------------------------------------------- */

static void rec_begin(struct client_dfu *c, int64_t now)
{
    struct client_dfu_record *r = &c->rec;
    memset(r, 0, sizeof *r);
    struct recorder_attempt *a = &r->attempt;
    a->attempt_id = c->attempt_no;
    a->device_id = c->cfg.device_id;
    a->gateway_id = c->cfg.gateway_id;
    a->client = c->cfg.p.name;
    a->start_ns = now;
    a->upload_start_ns = a->upload_end_ns = a->reset_ns = RECORDER_NONE;
    a->swap_start_ns = a->swap_end_ns = a->confirm_ns = a->end_ns = RECORDER_NONE;
    a->connect_ns = a->validate_ns = a->test_ns = a->reconnect_ns = RECORDER_NONE;
    r->wait_start_ns = r->wait_end_ns = RECORDER_NONE;
    r->smp_rc = RECORDER_NONE;
    c->error[0] = '\0';
}

static void chunk_emit(const struct client_dfu *c, const struct client_dfu_ctx *cx,
                       const struct req *q, int64_t acked, int32_t rc)
{
    if (!cx->emit_chunk)
        return;
    struct recorder_chunk ch = {.attempt_id = c->rec.attempt.attempt_id,
                                .device_id = c->cfg.device_id,
                                .seq = q->n,
                                .offset = q->off,
                                .len = q->len,
                                .sent_ns = q->sent_at,
                                .acked_ns = acked,
                                .rc = rc};
    cx->emit_chunk(cx->env, &ch);
}

/* ---- attempt end ------------------------------------------------------------------ */

static void finish(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx,
                   const char *outcome)
{
    c->n_fl = 0;
    c->n_hq = 0; /* responses the host still held belong to the attempt that ended */
    c->hold_len = 0;
    c->extra_deadline = -1;
    c->armed[CLIENT_DFU_TIMER_RSP] = false;
    c->armed[CLIENT_DFU_TIMER_WAIT] = false;
    c->busy_pending = false;
    c->reopening = false;
    upl_free(c);
    c->rec.attempt.end_ns = now;
    c->rec.attempt.outcome = outcome;
    c->rec.attempt.error = c->error[0] ? c->error : NULL;
    cx->emit(cx->env, &c->rec);
}

static void done(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    c->state = CLIENT_DFU_DONE;
    finish(c, now, cx, "updated");
}

/* End the attempt as failed; schedule another one if attempts are left. Returns 0. */
static int fail(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx,
                const char *outcome, uint16_t group, int32_t rc, const char *why)
{
    c->rec.smp_group = group;
    c->rec.smp_rc = rc;
    if (rc != RECORDER_NONE)
        snprintf(c->error, sizeof c->error, "%s: %s rc %d", why, group ? "group" : "smp", (int)rc);
    else
        snprintf(c->error, sizeof c->error, "%s", why);
    c->state = CLIENT_DFU_FAILED;
    finish(c, now, cx, outcome);
    c->retry_pending = false;
    if (!c->cancelled && c->attempt_no + 1 - c->session_first < c->cfg.attempts) {
        c->retry_pending = true;
        arm(c, cx, CLIENT_DFU_TIMER_WAIT, now + c->cfg.retry_delay);
    }
    return 0;
}

/* ---- plan ------------------------------------------------------------------------- */

static void plan_build(struct client_dfu *c)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    size_t n = 0;
    enum client_dfu_state *s = c->plan;
    s[n++] = CLIENT_DFU_CONNECT;
    if (p->params)
        s[n++] = CLIENT_DFU_PARAMS;
    if (p->bootinfo_name)
        s[n++] = CLIENT_DFU_BOOTINFO;
    else if (p->bootmode)
        s[n++] = CLIENT_DFU_BOOTMODE;
    if (p->list_first)
        s[n++] = CLIENT_DFU_LIST;
    if (c->cfg.erase_first)
        s[n++] = CLIENT_DFU_ERASE;
    s[n++] = CLIENT_DFU_UPLOAD;
    switch (c->mode) {
    case CLIENT_DFU_MODE_TEST_AND_CONFIRM:
        s[n++] = CLIENT_DFU_TEST;
        s[n++] = CLIENT_DFU_RESET;
        s[n++] = CLIENT_DFU_SWAP_WAIT;
        s[n++] = CLIENT_DFU_CONNECT;
        if (p->list_after_reset)
            s[n++] = CLIENT_DFU_LIST;
        s[n++] = CLIENT_DFU_CONFIRM;
        break;
    case CLIENT_DFU_MODE_CONFIRM_ONLY:
    case CLIENT_DFU_MODE_TEST_ONLY:
    case CLIENT_DFU_MODE_NONE:
        if (c->mode == CLIENT_DFU_MODE_CONFIRM_ONLY)
            s[n++] = CLIENT_DFU_CONFIRM;
        if (c->mode == CLIENT_DFU_MODE_TEST_ONLY)
            s[n++] = CLIENT_DFU_TEST;
        s[n++] = CLIENT_DFU_RESET;
        s[n++] = CLIENT_DFU_SWAP_WAIT;
        if (p->reconnect_always)
            s[n++] = CLIENT_DFU_CONNECT;
        break;
    case CLIENT_DFU_MODE_UPLOAD_ONLY:
        break;
    }
    c->n_plan = n;
}

/* Insert n steps right after the current one. */
static void plan_insert(struct client_dfu *c, const enum client_dfu_state *s, size_t n)
{
    assert(c->n_plan + n <= CLIENT_DFU_MAX_PLAN);
    size_t tail = c->n_plan - c->pc - 1;
    memmove(&c->plan[c->pc + 1 + n], &c->plan[c->pc + 1], tail * sizeof c->plan[0]);
    memcpy(&c->plan[c->pc + 1], s, n * sizeof s[0]);
    c->n_plan += n;
}

/* Whether step s comes later in the plan. */
static bool plan_later(const struct client_dfu *c, enum client_dfu_state s)
{
    for (size_t i = c->pc + 1; i < c->n_plan; i++)
        if (c->plan[i] == s)
            return true;
    return false;
}

/* Drop every later occurrence of step s from the plan. */
static void plan_drop(struct client_dfu *c, enum client_dfu_state s)
{
    size_t j = c->pc + 1;
    for (size_t i = c->pc + 1; i < c->n_plan; i++)
        if (c->plan[i] != s)
            c->plan[j++] = c->plan[i];
    c->n_plan = j;
}

static int enter(struct client_dfu *c, enum client_dfu_state s, int64_t now,
                 const struct client_dfu_ctx *cx);

static int advance(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    c->pc++;
    if (c->pc >= c->n_plan) {
        done(c, now, cx);
        return 0;
    }
    return enter(c, c->plan[c->pc], now, cx);
}

/* ---- commands -------------------------------------------------------------------- */

/* Image state write: test {"hash"[, "confirm": false]} or confirm {"confirm": true[,
 * "hash"]}, keys in the client's order. */
static void state_write_cbor(const struct client_dfu *c, struct smp_frame_writer *w)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    bool confirm = c->state == CLIENT_DFU_CONFIRM;
    bool hash = !confirm || !c->after_reset || p->confirm_hash_after_reset;
    bool confirm_key = confirm || p->test_sends_confirm;
    smp_frame_put_map(w, (size_t)hash + (size_t)confirm_key);
    if (hash && !p->state_keys_confirm_first) {
        smp_frame_put_text(w, "hash");
        smp_frame_put_bstr(w, c->img->hash, CLIENT_DFU_SHA_LEN);
    }
    if (confirm_key) {
        smp_frame_put_text(w, "confirm");
        smp_frame_put_bool(w, confirm);
    }
    if (hash && p->state_keys_confirm_first) {
        smp_frame_put_text(w, "hash");
        smp_frame_put_bstr(w, c->img->hash, CLIENT_DFU_SHA_LEN);
    }
}

static int send_cmd(struct client_dfu *c, const struct client_dfu_ctx *cx, int64_t now, uint8_t op,
                    uint16_t group, uint8_t id, int seq, int64_t timeout)
{
    uint8_t frame[SMP_MGMT_HDR_SIZE + 256];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, frame + SMP_MGMT_HDR_SIZE, 256);
    switch (c->state) {
    case CLIENT_DFU_BOOTMODE:
        smp_frame_put_map(&w, 1);
        smp_frame_put_text(&w, "query");
        smp_frame_put_text(&w, "mode");
        break;
    case CLIENT_DFU_TEST:
    case CLIENT_DFU_CONFIRM:
        state_write_cbor(c, &w);
        break;
    case CLIENT_DFU_ERASE: /* {} erases the slot that is not running; "slot": 2i + 1 */
        if (c->cfg.p.erase_slot_key && c->cfg.image > 0) {
            smp_frame_put_map(&w, 1);
            smp_frame_put_text(&w, "slot");
            smp_frame_put_uint(&w, 2u * c->cfg.image + 1u);
        } else {
            smp_frame_put_map(&w, 0);
        }
        break;
    default:
        smp_frame_put_map(&w, 0);
        break;
    }
    assert(!w.overflow);
    if (c->rec.attempt.validate_ns == RECORDER_NONE)
        c->rec.attempt.validate_ns = now;
    return send_req(c, cx, frame, op, group, id, seq, w.len, timeout, now, 0, 0);
}

/* ---- upload engine --------------------------------------------------------------- */

static int send_chunk(struct client_dfu *c, const struct client_dfu_ctx *cx, int64_t now,
                      uint32_t off, bool resend)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    bool sha = c->use_sha;
    uint32_t len = chunk_len_sha(c, off, sha);
    /* image.go: a first chunk under IMAGE_UPLOAD_MIN_1ST_CHUNK with sha is recomputed
     * without sha. */
    if (off == 0 && sha && p->min_first_chunk && len < p->min_first_chunk && len < c->img->size) {
        sha = false;
        len = chunk_len_sha(c, off, sha);
    }
    if (len == 0)
        return fail(c, now, cx, "failed", 0, RECORDER_NONE, "packet too small for data");
    uint8_t frame[CLIENT_DFU_MAX_PACKET];
    struct smp_frame_writer w;
    smp_frame_writer_init(&w, frame + SMP_MGMT_HDR_SIZE, sizeof frame - SMP_MGMT_HDR_SIZE);
    uint8_t *data = upload_cbor(c, &w, off, len, sha);
    if (data == NULL || w.overflow)
        return SIM_EINTERNAL;                           /* len was sized to fit the frame */
    int rc = c->img->read(c->img->env, off, data, len); /* straight into the frame */
    if (rc < 0)
        return rc;
    int64_t t = off == 0 ? p->t_first : p->t_chunk;
    if (off != 0 && off + len == c->img->size && p->t_last && c->window > 1)
        t = p->t_last;
    if (c->rec.attempt.upload_start_ns == RECORDER_NONE)
        c->rec.attempt.upload_start_ns = now;
    resend = resend || off < c->sent_hi;
    if (off + len > c->sent_hi)
        c->sent_hi = off + len;
    c->rec.attempt.chunks++;
    c->rec.attempt.bytes_sent += len;
    if (resend) {
        c->rec.attempt.bytes_resent += len;
        c->rec.attempt.retransmissions++;
        c->rec.attempt.retries++;
    }
    rc = send_req(c, cx, frame, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_IMAGE, SMP_IMG_MGMT_ID_UPLOAD, -1,
                  w.len, t, now, off, len);
    if (rc < 0)
        return rc;
    c->sess->fl[c->n_fl - 1].resend = resend;
    c->sess->fl[c->n_fl - 1].n = (uint32_t)(c->rec.attempt.chunks - 1);
    if (c->n_fl > c->rec.window_max)
        c->rec.window_max = (uint8_t)c->n_fl;
    return 0;
}

/* Send new chunks while the window allows. */
static int pump(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    if (c->state != CLIENT_DFU_UPLOAD || c->reopening || c->busy_pending)
        return 0;
    if (c->recovering) {
        if (c->n_fl > 0)
            return 0; /* wait: the resend, or (iOS) every outstanding send */
        c->recovering = false;
        c->next_off = c->dev_off;
    }
    for (;;) {
        unsigned cap = c->window;
        if (c->cfg.p.first_alone && c->dev_off == 0 && c->next_off != 0)
            cap = 0; /* offset 0 is awaited alone */
        if (c->n_fl >= cap || c->next_off >= c->img->size)
            return 0;
        uint32_t off = c->next_off;
        int rc = send_chunk(c, cx, now, off, false);
        if (rc < 0 || c->state != CLIENT_DFU_UPLOAD)
            return rc;
        c->next_off = off + c->sess->fl[c->n_fl - 1].len;
    }
}

/* ---- failure directory and Uploader.kt (Android, window > 1) ------------------------ */

/* Whether the upload runs Uploader.kt's loop: Android's task/Upload.java (e733429) uses
 * ImageUploader (transfer/Uploader.kt) when windowCapacity > 1, and ImageManager's
 * stop-and-wait ImageUpload otherwise (the pump() engine, where any timeout fails). */
static bool ukt(const struct client_dfu *c)
{
    return c->cfg.p.on_timeout == CLIENT_DFU_TIMEOUT_RESEND && c->cfg.window > 1;
}

/* Count one failure against the chunk at off (Uploader.kt upload(): failureDirectory
 * [chunk.offset] + 1, lines 135-139 and 195-199). Returns the offset's count, or
 * SIM_ENOMEM (nothing counted). */
static int fd_count(struct client_dfu *c, uint32_t off)
{
    if (upl_need(c) != 0)
        return SIM_ENOMEM;
    struct client_upl *u = c->upl;
    uint32_t lo = 0, hi = u->n_fd; /* first entry with fd[i].off >= off */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (u->fd[mid].off < off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < u->n_fd && u->fd[lo].off == off)
        return (int)++u->fd[lo].n;
    if (u->n_fd == u->cap_fd) {
        uint32_t cap = u->cap_fd * 2;
        struct client_upl *g = realloc(u, sizeof *u + cap * sizeof u->fd[0]);
        if (g == NULL)
            return SIM_ENOMEM;
        c->upl = u = g;
        u->cap_fd = cap;
    }
    memmove(&u->fd[lo + 1], &u->fd[lo], (u->n_fd - lo) * sizeof u->fd[0]);
    u->fd[lo] = (struct fail_ent){.off = off, .n = 1};
    u->n_fd++;
    return 1;
}

static int upload_complete(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    c->n_fl = 0;
    upl_free(c);
    c->rec.attempt.upload_end_ns = now;
    rsp_rearm(c, cx);
    return advance(c, now, cx);
}

/* Run upload()'s loop (Uploader.kt lines 113-214) until it waits: take a window permit,
 * select a chunk (failures first, then next, then close), send it. writeInternal (lines
 * 300-351) awaits the offset-0 chunk and a resend before the loop goes on; any other
 * chunk's result is handled when it comes (ul_result) and the loop goes on with the next
 * chunk. The write's timeout is send_chunk's: 40 s at offset 0, 20 s for the last chunk,
 * 2.5 s otherwise (lines 307-313), a resend included. */
static int ul_run(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    struct client_upl *u = c->upl;
    for (;;) {
        if (c->state != CLIENT_DFU_UPLOAD)
            return 0;
        switch ((enum ul_wait)u->wait) {
        case UL_ACQUIRE:
            if (c->n_fl >= c->window)
                return 0;
            u->wait = UL_SELECT;
            break;
        case UL_SELECT: {
            uint32_t off;
            bool prio = u->has_fail;
            if (u->has_fail) {
                off = u->fail_off;
                u->has_fail = false;
            } else if (u->has_next) {
                off = u->next_off;
                u->has_next = false;
            } else if (u->closed) {
                u->wait = UL_CLOSED; /* break; window.release() */
                break;
            } else {
                return 0; /* nothing to send yet: wait holding the permit */
            }
            int rc = send_chunk(c, cx, now, off, prio);
            if (rc < 0 || c->state != CLIENT_DFU_UPLOAD)
                return rc;
            struct req *r = &c->sess->fl[c->n_fl - 1];
            r->prio = prio;
            if (off == 0 || prio) {
                u->wait = UL_SYNC;
                return 0;
            }
            if (off + r->len < c->img->size) { /* next.send(nextChunk) */
                u->has_next = true;
                u->next_off = off + r->len;
            }
            u->wait = UL_ACQUIRE;
            break;
        }
        case UL_SYNC:
            return 0;
        case UL_CLOSED:
            if (c->n_fl > 0)
                return 0; /* coroutineScope returns when its children have */
            return upload_complete(c, now, cx);
        }
    }
}

/* The result callback of chunk q (Uploader.kt lines 127-208): answered with a success
 * response naming off, or timed out (!answered; McuMgrTimeoutException). Error responses
 * (McuMgrErrorException) and a digest mismatch end the upload before this. */
static int ul_result(struct client_dfu *c, const struct req *q, bool answered, uint32_t off,
                     int64_t now, const struct client_dfu_ctx *cx)
{
    int n = 0;
    if (answered && !q->prio && off < q->off + q->len) {
        /* a chunk lost before it, or not accepted: a failure of the chunk answered, and
         * the device's offset is sent again with priority (lines 129-143) */
        if ((n = fd_count(c, q->off)) < 0)
            return n;
        if (n >= c->cfg.p.max_failures)
            return fail(c, now, cx, "failed", 0, RECORDER_NONE, "too many chunk failures");
        c->upl->has_fail = true;
        c->upl->fail_off = off;
    } else if (answered) { /* success (a resend's answer always is): lines 144-156 */
        if (c->upl->cur_off < off)
            c->upl->cur_off = off;
        if (off >= c->img->size)
            c->upl->closed = true;
    } else if (c->upl->cur_off <= q->off) {
        /* a timeout no later response covered: a failure of this chunk, sent again
         * (lines 178-203); covered ones are not counted (line 182) */
        if ((n = fd_count(c, q->off)) < 0)
            return n;
        if (n >= c->cfg.p.max_failures)
            return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "too many chunk failures");
        c->upl->has_fail = true;
        c->upl->fail_off = q->off;
    }
    if (q->off == 0 || q->prio) {
        /* writeInternal returns to the loop: a response's offset, or the chunk after
         * this one (lines 318-340), which the loop sends to next if data is left */
        uint32_t next = answered ? off : q->off + q->len;
        if (next < c->img->size) {
            c->upl->has_next = true;
            c->upl->next_off = next;
        }
        c->upl->wait = UL_ACQUIRE;
    }
    return 0;
}

static int upload_start(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    c->after_reset = false; /* a reset before the upload does not count */
    c->window = c->cfg.p.window_adaptive ? c->cfg.p.window_start : c->cfg.window;
    c->tuning = true;
    c->next_off = 0;
    c->dev_off = 0;
    c->recovering = false;
    c->busy_pending = false;
    c->reopening = false;
    c->use_sha = true;
    upl_free(c);
    c->trk_off = UINT32_MAX;
    c->trk_count = 0;
    c->sent_hi = 0;
    if (!ukt(c))
        return pump(c, now, cx);
    if (upl_need(c) != 0)
        return SIM_ENOMEM;
    c->upl->has_next = true; /* next.send(newChunk(0)), line 111 */
    c->upl->next_off = 0;
    c->upl->wait = UL_ACQUIRE;
    return ul_run(c, now, cx);
}

/* A chunk response (the request is already out of the table). */
static int chunk_rsp(struct client_dfu *c, const struct req *q, bool has_off, uint32_t off,
                     bool has_match, bool match, int64_t now, const struct client_dfu_ctx *cx)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    if (!has_off)
        return fail(c, now, cx, "failed", 0, RECORDER_NONE, "upload response without off");
    c->dev_off = off;
    if (ukt(c)) {
        /* ImageUploader.kt uploadAsync: "match": false is a DigestException (lines 103-105) */
        if (has_match && !match)
            return fail(c, now, cx, "failed", 0, RECORDER_NONE, "image digest mismatch");
        int rc = ul_result(c, q, true, off, now, cx);
        if (rc < 0 || c->state != CLIENT_DFU_UPLOAD)
            return rc;
        return ul_run(c, now, cx);
    }
    if (off >= c->img->size) {
        if (has_match && !match)
            return fail(c, now, cx, "failed", 0, RECORDER_NONE, "image digest mismatch");
        return upload_complete(c, now, cx);
    }
    if (off >= q->off + q->len) { /* as predicted, or ahead (resume) */
        if (c->recovering && q->resend && !p->drain_on_mismatch) {
            c->recovering = false;
            c->next_off = off;
        }
        if (p->window_adaptive && c->tuning && c->window < c->cfg.window)
            c->window++;
        if (c->n_fl == 0 || off > c->next_off)
            c->next_off = off;
        return pump(c, now, cx);
    }
    /* The device expects an earlier offset: a chunk was lost or its state is gone. */
    if (off == 0 && q->off != 0)
        c->use_sha = p->sha_on_restart; /* smpclient restarts without sha */
    if (p->drain_on_mismatch) {         /* McuMgrUploadPipeline.swift: drain, resend */
        c->recovering = true;
        return pump(c, now, cx);
    }
    if (c->window == 1 || (p->window_adaptive && c->n_fl == 0)) {
        c->next_off = off; /* stop-and-wait: the next request starts at the device's off */
        return pump(c, now, cx);
    }
    if (p->window_adaptive) { /* image.go tracker: the same offset twice -> retransmit */
        if (c->trk_off == off) {
            c->trk_count++;
        } else {
            c->trk_off = off;
            c->trk_count = 1;
        }
        if (c->trk_count >= 2) {
            c->trk_count = 0;
            c->next_off = off;
        }
        return pump(c, now, cx);
    }
    /* A window > 1 without a rule of its own (smpclient given a window, max_failures 1):
     * the failure ends the upload; otherwise resend from off, awaited alone, and ignore
     * the answers to chunks already out. */
    if (c->recovering && fl_has_off(c, off))
        return pump(c, now, cx);
    int n = fd_count(c, off);
    if (n < 0)
        return n;
    if (n >= p->max_failures)
        return fail(c, now, cx, "failed", 0, RECORDER_NONE, "too many chunk failures");
    c->recovering = true;
    return send_chunk(c, cx, now, off, true);
}

/* Uploader.kt: the requests whose timeout ran out, earliest deadline first (each write
 * has its own timer: SmpProtocolSession.kt writer(), lines 98-102); the loop runs after
 * each result, as it would between two timers. */
static int ul_timeout(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    for (;;) {
        int k = -1;
        for (unsigned i = 0; i < c->n_fl; i++) {
            const struct req *r = &c->sess->fl[i];
            if (r->deadline <= now &&
                (k < 0 || r->deadline < c->sess->fl[k].deadline ||
                 (r->deadline == c->sess->fl[k].deadline && r->n < c->sess->fl[k].n)))
                k = (int)i;
        }
        if (k < 0)
            break;
        struct req q = c->sess->fl[k];
        fl_remove(c, (unsigned)k);
        chunk_emit(c, cx, &q, RECORDER_NONE, RECORDER_NONE);
        c->rec.timeouts++;
        int rc = ul_result(c, &q, false, 0, now, cx);
        if (rc < 0 || c->state != CLIENT_DFU_UPLOAD)
            return rc;
        rc = ul_run(c, now, cx);
        if (rc < 0 || c->state != CLIENT_DFU_UPLOAD)
            return rc;
    }
    rsp_rearm(c, cx);
    return 0;
}

/* Chunks whose deadline passed. */
static int upload_timeout(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    if (ukt(c))
        return ul_timeout(c, now, cx);
    for (unsigned i = 0; i < c->n_fl;) {
        struct req q = c->sess->fl[i];
        if (q.deadline > now) {
            i++;
            continue;
        }
        unsigned out = c->n_fl;
        fl_remove(c, i);
        chunk_emit(c, cx, &q, RECORDER_NONE, RECORDER_NONE);
        c->rec.timeouts++;
        bool covered = c->dev_off >= q.off + q.len; /* a later response acknowledged it */
        if (c->cfg.p.window_adaptive) {
            /* image.go: an error shrinks the window (more than 2 out) and stops tuning;
             * one try per chunk, so an uncovered chunk fails the upload. */
            if (out > 2 && c->window > 1)
                c->window--;
            c->tuning = false;
            if (covered)
                continue;
            return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "upload chunk timed out");
        }
        /* Android stop-and-wait, iOS, smpclient: a timeout fails the transfer. */
        return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "upload chunk timed out");
    }
    rsp_rearm(c, cx);
    return pump(c, now, cx);
}

/* ---- entering a step -------------------------------------------------------------- */

static int enter(struct client_dfu *c, enum client_dfu_state s, int64_t now,
                 const struct client_dfu_ctx *cx)
{
    const struct client_dfu_profile *p = &c->cfg.p;
    c->state = s;
    switch (s) {
    case CLIENT_DFU_CONNECT:
        if (c->link_up) {
            if (c->after_reset)
                c->rec.attempt.reconnect_ns = now;
            else if (c->rec.attempt.connect_ns == RECORDER_NONE)
                c->rec.attempt.connect_ns = now;
            return advance(c, now, cx);
        }
        c->extra_deadline = now + p->t_connect;
        rsp_rearm(c, cx);
        cx->connect(cx->env);
        return 0;
    case CLIENT_DFU_PARAMS:
        return send_cmd(c, cx, now, SMP_MGMT_OP_READ, SMP_MGMT_GROUP_OS,
                        SMP_OS_MGMT_ID_MCUMGR_PARAMS, p->params_seq, p->t_params);
    case CLIENT_DFU_BOOTINFO:
    case CLIENT_DFU_BOOTMODE:
        return send_cmd(c, cx, now, SMP_MGMT_OP_READ, SMP_MGMT_GROUP_OS,
                        SMP_OS_MGMT_ID_BOOTLOADER_INFO, -1, p->t_bootinfo);
    case CLIENT_DFU_LIST:
        return send_cmd(c, cx, now, SMP_MGMT_OP_READ, SMP_MGMT_GROUP_IMAGE, SMP_IMG_MGMT_ID_STATE,
                        -1, p->t_list);
    case CLIENT_DFU_ERASE:
        return send_cmd(c, cx, now, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_IMAGE, SMP_IMG_MGMT_ID_ERASE,
                        -1, p->t_erase);
    case CLIENT_DFU_UPLOAD:
        return upload_start(c, now, cx);
    case CLIENT_DFU_TEST:
    case CLIENT_DFU_CONFIRM:
        return send_cmd(c, cx, now, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_IMAGE, SMP_IMG_MGMT_ID_STATE,
                        -1, p->t_state);
    case CLIENT_DFU_RESET:
        c->reset_rsp = false;
        c->after_reset = true;
        c->rec.attempt.reset_ns = now;
        return send_cmd(c, cx, now, SMP_MGMT_OP_WRITE, SMP_MGMT_GROUP_OS, SMP_OS_MGMT_ID_RESET, -1,
                        p->t_reset);
    case CLIENT_DFU_SWAP_WAIT: {
        /* task/Reset.java: wait estimatedSwapTime − (now − reset response); none without
         * swap (Direct-XIP, firmware loader). */
        c->rec.wait_start_ns = now;
        int64_t since = c->reset_rsp ? now - c->reset_rsp_at : 0;
        int64_t wait = c->no_swap ? 0 : c->cfg.swap_wait - since;
        if (wait <= 0) {
            c->rec.wait_end_ns = now;
            return advance(c, now, cx);
        }
        arm(c, cx, CLIENT_DFU_TIMER_WAIT, now + wait);
        return 0;
    }
    case CLIENT_DFU_IDLE:
    case CLIENT_DFU_DONE:
    case CLIENT_DFU_FAILED:
    case CLIENT_DFU_STATE_COUNT:
        break;
    }
    return SIM_EINTERNAL;
}

static int attempt_begin(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    rec_begin(c, now);
    c->mode = c->cfg.mode;
    c->after_reset = false;
    c->reset_before = false;
    c->have_params = false;
    c->buf_size = 0;
    c->boot_mode = -1;
    c->no_swap = false;
    c->n_fl = 0;
    c->extra_deadline = -1;
    c->retry_pending = false;
    c->use_sha = true;
    c->window = c->cfg.p.window_adaptive ? c->cfg.p.window_start : c->cfg.window;
    plan_build(c);
    c->pc = 0;
    return enter(c, c->plan[0], now, cx);
}

/* ---- response decoding ----------------------------------------------------------- */

enum { F_RC, F_ERR, F_OFF, F_MATCH, F_IMAGES, F_BUF_SIZE, F_BOOTLOADER, F_MODE, F_COUNT };

struct rsp {
    struct smp_frame_field f[F_COUNT];
    uint16_t err_group;
    int32_t rc; /* SMP rc or group rc, 0 when none */
};

static int decode_rsp(const uint8_t *p, size_t n, struct rsp *r)
{
    static const struct smp_frame_field proto[F_COUNT] = {
        [F_RC] = {.key = "rc", .type = SMP_FRAME_T_U32},
        [F_ERR] = {.key = "err", .type = SMP_FRAME_T_ANY},
        [F_OFF] = {.key = "off", .type = SMP_FRAME_T_U32},
        [F_MATCH] = {.key = "match", .type = SMP_FRAME_T_BOOL},
        [F_IMAGES] = {.key = "images", .type = SMP_FRAME_T_ANY},
        [F_BUF_SIZE] = {.key = "buf_size", .type = SMP_FRAME_T_U32},
        [F_BOOTLOADER] = {.key = "bootloader", .type = SMP_FRAME_T_TEXT},
        [F_MODE] = {.key = "mode", .type = SMP_FRAME_T_ANY},
    };
    memcpy(r->f, proto, sizeof proto);
    r->err_group = 0;
    r->rc = 0;
    if (smp_frame_map_decode(p, n, r->f, F_COUNT) < 0)
        return SIM_EFORMAT;
    if (r->f[F_RC].found && r->f[F_RC].u32 != 0)
        r->rc = (int32_t)r->f[F_RC].u32;
    if (r->f[F_ERR].found) {
        struct smp_frame_field e[2] = {{.key = "group", .type = SMP_FRAME_T_U32},
                                       {.key = "rc", .type = SMP_FRAME_T_U32}};
        if (smp_frame_map_decode(r->f[F_ERR].str, r->f[F_ERR].str_len, e, 2) < 0)
            return SIM_EFORMAT;
        if (e[1].found && e[1].u32 != 0) {
            r->err_group = (uint16_t)e[0].u32;
            r->rc = (int32_t)e[1].u32;
        }
    }
    return 0;
}

/* A CBOR integer (major type 0 or 1) at p[0..n). */
static int cbor_int(const uint8_t *p, size_t n, int64_t *v)
{
    if (n < 1)
        return SIM_EFORMAT;
    unsigned major = p[0] >> 5, ai = p[0] & 0x1f;
    uint64_t u;
    if (major > 1)
        return SIM_EFORMAT;
    if (ai < 24) {
        u = ai;
    } else if (ai >= 24 && ai <= 26 && n >= 1u + (1u << (ai - 24))) {
        size_t k = 1u << (ai - 24);
        u = 0;
        for (size_t i = 0; i < k; i++)
            u = (u << 8) | p[1 + i];
    } else {
        return SIM_EFORMAT;
    }
    *v = major == 0 ? (int64_t)u : -1 - (int64_t)u;
    return 0;
}

/* Flags of the image-list entry carrying our hash (target image). */
struct entry {
    bool found, pending, confirmed, active, permanent; /* the entry with our hash */
    bool any_active_confirmed; /* some entry of the target image runs confirmed */
    bool other_pending;        /* another entry of the target image is pending */
    bool running_test;         /* the active entry is not confirmed (test boot) */
};

static int find_entry(const struct client_dfu *c, const struct rsp *r, struct entry *e)
{
    memset(e, 0, sizeof *e);
    if (!r->f[F_IMAGES].found)
        return 0;
    const uint8_t *p = r->f[F_IMAGES].str;
    size_t n = r->f[F_IMAGES].str_len, pos = 1;
    if (n < 1 || (p[0] >> 5) != 4)
        return SIM_EFORMAT;
    size_t count = SIZE_MAX;
    unsigned ai = p[0] & 0x1f;
    if (ai < 24) {
        count = ai;
    } else if (ai == 24 && n >= 2) {
        count = p[1];
        pos = 2;
    } else if (ai != 31) {
        return SIM_EFORMAT;
    }
    for (size_t k = 0; k < count && pos < n; k++) {
        if (count == SIZE_MAX && p[pos] == 0xff)
            break;
        size_t len;
        if (smp_frame_item_len(p + pos, n - pos, &len) < 0)
            return SIM_EFORMAT;
        struct smp_frame_field f[] = {
            {.key = "image", .type = SMP_FRAME_T_U32},
            {.key = "hash", .type = SMP_FRAME_T_BSTR},
            {.key = "pending", .type = SMP_FRAME_T_BOOL},
            {.key = "confirmed", .type = SMP_FRAME_T_BOOL},
            {.key = "active", .type = SMP_FRAME_T_BOOL},
            {.key = "permanent", .type = SMP_FRAME_T_BOOL},
        };
        if (smp_frame_map_decode(p + pos, len, f, 6) < 0)
            return SIM_EFORMAT;
        pos += len;
        uint32_t image = f[0].found ? f[0].u32 : 0;
        bool conf = f[3].found && f[3].b, act = f[4].found && f[4].b;
        if (image != c->cfg.image)
            continue;
        e->any_active_confirmed |= act && conf;
        e->running_test |= act && !conf;
        if (!f[1].found || f[1].str_len != CLIENT_DFU_SHA_LEN ||
            memcmp(f[1].str, c->img->hash, CLIENT_DFU_SHA_LEN) != 0) {
            e->other_pending |= f[2].found && f[2].b;
            continue;
        }
        e->found = true;
        e->pending = f[2].found && f[2].b;
        e->confirmed = conf;
        e->active = act;
        e->permanent = f[5].found && f[5].b;
    }
    return 0;
}

/* VALIDATE (task/Validate.java): edit the plan from the image list. */
static int validate(struct client_dfu *c, const struct rsp *r, int64_t now,
                    const struct client_dfu_ctx *cx)
{
    struct entry e;
    if (find_entry(c, r, &e) < 0)
        return fail(c, now, cx, "failed", 0, RECORDER_NONE, "malformed image list");
    if (!e.found && c->cfg.p.reset_before_upload && !c->reset_before &&
        (e.other_pending || e.running_test)) {
        /* The slot is pending, or the device runs a test image: ResetBeforeUpload, then
         * Validate again (once per attempt here; see the header). */
        static const enum client_dfu_state again[] = {CLIENT_DFU_RESET, CLIENT_DFU_SWAP_WAIT,
                                                      CLIENT_DFU_CONNECT, CLIENT_DFU_LIST};
        c->reset_before = true;
        plan_insert(c, again, sizeof again / sizeof again[0]);
        return advance(c, now, cx);
    }
    if (!e.found)
        return advance(c, now, cx);
    if (e.active && e.confirmed) { /* already running, confirmed: complete at once */
        done(c, now, cx);
        return 0;
    }
    plan_drop(c, CLIENT_DFU_ERASE);
    plan_drop(c, CLIENT_DFU_UPLOAD);
    if (e.pending || e.confirmed || e.active)
        plan_drop(c, CLIENT_DFU_TEST);
    if (e.permanent || e.confirmed)
        plan_drop(c, CLIENT_DFU_CONFIRM);
    if (c->cfg.p.reset_only_if_pending && c->mode == CLIENT_DFU_MODE_TEST_AND_CONFIRM &&
        !e.pending && !plan_later(c, CLIENT_DFU_TEST)) {
        /* nothing will swap: no reset, and the confirm goes to the image where it runs
         * (a device left in a test boot by a phone that walked away) */
        plan_drop(c, CLIENT_DFU_RESET);
        plan_drop(c, CLIENT_DFU_SWAP_WAIT);
        plan_drop(c, CLIENT_DFU_CONNECT);
        plan_drop(c, CLIENT_DFU_LIST);
    }
    return advance(c, now, cx);
}

/* A response to the command of the current step. */
static int cmd_rsp(struct client_dfu *c, const struct rsp *r, int64_t now,
                   const struct client_dfu_ctx *cx)
{
    struct entry e;
    switch (c->state) {
    case CLIENT_DFU_PARAMS:
        if (r->rc == 0 && r->f[F_BUF_SIZE].found && r->f[F_BUF_SIZE].u32 > 0) {
            c->have_params = true;
            c->buf_size = r->f[F_BUF_SIZE].u32;
        }
        return advance(c, now, cx);
    case CLIENT_DFU_BOOTINFO:
        if (r->rc == 0 && r->f[F_BOOTLOADER].found && r->f[F_BOOTLOADER].str_len == 7 &&
            memcmp(r->f[F_BOOTLOADER].str, "MCUboot", 7) == 0)
            return enter(c, CLIENT_DFU_BOOTMODE, now, cx);
        return advance(c, now, cx);
    case CLIENT_DFU_BOOTMODE: {
        int64_t mode;
        if (r->rc != 0 || !r->f[F_MODE].found ||
            cbor_int(r->f[F_MODE].str, r->f[F_MODE].str_len, &mode) < 0)
            return advance(c, now, cx); /* errors ignored: swap with revert assumed */
        c->boot_mode = (int32_t)mode;
        c->no_swap = mode == SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP ||
                     mode == SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP_WITH_REVERT ||
                     mode == SMP_OS_MGMT_BOOT_MODE_FIRMWARE_LOADER;
        if (c->cfg.p.auto_none_xip && mode == SMP_OS_MGMT_BOOT_MODE_DIRECT_XIP &&
            c->mode != CLIENT_DFU_MODE_UPLOAD_ONLY) {
            c->mode = CLIENT_DFU_MODE_NONE;
            size_t pc = c->pc;
            plan_build(c);
            c->pc = pc;
        }
        return advance(c, now, cx);
    }
    case CLIENT_DFU_LIST:
        if (r->rc != 0)
            return fail(c, now, cx, "failed", r->err_group, r->rc, "image list");
        if (!plan_later(c, CLIENT_DFU_UPLOAD)) /* `image list` after the reset */
            return advance(c, now, cx);
        return validate(c, r, now, cx);
    case CLIENT_DFU_ERASE:
        if (r->rc != 0 && !c->cfg.p.erase_error_ignored)
            return fail(c, now, cx, "failed", r->err_group, r->rc, "image erase");
        return advance(c, now, cx);
    case CLIENT_DFU_TEST:
        if (r->rc != 0)
            return fail(c, now, cx, "failed", r->err_group, r->rc, "image test");
        if (find_entry(c, r, &e) < 0 || !e.found || !e.pending)
            return fail(c, now, cx, "failed", 0, RECORDER_NONE, "downgrade forbidden");
        c->rec.attempt.test_ns = now;
        return advance(c, now, cx);
    case CLIENT_DFU_CONFIRM: {
        if (r->rc != 0)
            return fail(c, now, cx, "failed", r->err_group, r->rc, "image confirm");
        if (find_entry(c, r, &e) < 0)
            return fail(c, now, cx, "failed", 0, RECORDER_NONE, "malformed image list");
        bool hash = !c->after_reset || c->cfg.p.confirm_hash_after_reset;
        bool ok = hash ? e.found && (e.permanent || e.confirmed) : e.any_active_confirmed;
        if (!ok)
            return fail(c, now, cx, "failed", 0, RECORDER_NONE, "confirm not applied");
        c->rec.attempt.confirm_ns = now;
        if (!c->after_reset)
            c->rec.attempt.test_ns = now;
        return advance(c, now, cx);
    }
    case CLIENT_DFU_RESET:
        /* task/Reset.java: errors ignored; the drop decides. */
        c->reset_rsp = true;
        c->reset_rsp_at = now;
        if (!c->link_up)
            return advance(c, now, cx);
        c->extra_deadline = now + c->cfg.p.t_connect; /* wait for the drop */
        rsp_rearm(c, cx);
        return 0;
    default:
        c->rec.unexpected++;
        return 0;
    }
}

static int on_rx(struct client_dfu *c, const struct client_dfu_rx *rx, int64_t now,
                 const struct client_dfu_ctx *cx)
{
    struct smp_frame_hdr h;
    if (smp_frame_hdr_decode(&h, rx->b, rx->n) < 0 || rx->n < (size_t)SMP_MGMT_HDR_SIZE + h.len) {
        c->rec.unexpected++;
        return 0;
    }
    int i = fl_find_seq(c, h.seq);
    if (i < 0 || c->sess->fl[i].group != h.group || c->sess->fl[i].id != h.id ||
        (h.op != SMP_MGMT_OP_READ_RSP && h.op != SMP_MGMT_OP_WRITE_RSP)) {
        c->rec.unexpected++; /* late (timed out) or foreign response */
        return 0;
    }
    struct req q = c->sess->fl[i];
    fl_remove(c, (unsigned)i);
    rsp_rearm(c, cx);
    struct rsp r;
    if (decode_rsp(rx->b + SMP_MGMT_HDR_SIZE, h.len, &r) < 0)
        return fail(c, now, cx, "failed", 0, RECORDER_NONE, "malformed response");
    if (c->state != CLIENT_DFU_UPLOAD)
        return cmd_rsp(c, &r, now, cx);
    chunk_emit(c, cx, &q, now, r.rc);
    if (r.rc == SMP_MGMT_ERR_EBUSY && r.err_group == 0 && c->cfg.p.busy_retry > 0) {
        /* ImageManager.swift: resend from the response's off after BUSY_WAIT_DELAY_MS. */
        if (r.f[F_OFF].found)
            c->dev_off = r.f[F_OFF].u32;
        c->recovering = true;
        c->rec.attempt.retries++;
        if (!c->busy_pending) {
            c->busy_pending = true;
            arm(c, cx, CLIENT_DFU_TIMER_WAIT, now + c->cfg.p.busy_retry);
        }
        return 0;
    }
    if (r.rc != 0)
        return fail(c, now, cx, "failed", r.err_group, r.rc, "upload");
    return chunk_rsp(c, &q, r.f[F_OFF].found, r.f[F_OFF].u32, r.f[F_MATCH].found, r.f[F_MATCH].b,
                     now, cx);
}

/* ---- host latency ------------------------------------------------------------------ */

/* Hand the held responses due by now (all of them when all) to the state machine, oldest
 * first, each at now. A response may end the attempt, which drops the rest (finish). */
static int host_drain(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx, bool all)
{
    while (c->n_hq > 0 && (all || c->sess->hq[0].due <= now)) {
        uint8_t frame[HOLD_CAP]; /* taken off first: the queue may change under on_rx */
        uint32_t n = c->sess->hq[0].n;
        memcpy(frame, c->hold, n);
        memmove(c->hold, c->hold + n, c->hold_len - n);
        c->hold_len -= n;
        memmove(&c->sess->hq[0], &c->sess->hq[1], (c->n_hq - 1) * sizeof c->sess->hq[0]);
        c->n_hq--;
        struct client_dfu_rx rx = {frame, n};
        int rc = on_rx(c, &rx, now, cx);
        if (rc < 0)
            return rc;
    }
    return 0;
}

/* The host got a response at now: hold it for a latency drawn on [host_lo, host_hi],
 * after the one before it (one thread hands them on in order). */
static int host_hold(struct client_dfu *c, const struct client_dfu_rx *rx, int64_t now,
                     const struct client_dfu_ctx *cx)
{
    if (rx->n > HOLD_CAP) {
        c->rec.unexpected++; /* larger than any response a central reassembles */
        return 0;
    }
    if (c->n_hq == HOLD_MAX || c->hold_len + rx->n > HOLD_CAP) {
        int rc = host_drain(c, INT64_MAX, cx, false); /* early: make room (see HOLD_MAX) */
        if (rc < 0)
            return rc;
    }
    if (sess_need(c) != 0)
        return SIM_ENOMEM;
    if (c->hold_len + rx->n > c->hold_cap) {
        size_t cap = c->hold_cap ? c->hold_cap : HOLD_FIRST;
        while (cap < c->hold_len + rx->n)
            cap *= 2;
        uint8_t *p = realloc(c->hold, cap);
        if (p == NULL)
            return SIM_ENOMEM;
        c->hold = p;
        c->hold_cap = cap;
    }
    const struct client_dfu_cfg *k = &c->cfg;
    int64_t lat = k->host_lo_ns;
    if (k->host_hi_ns > k->host_lo_ns)
        lat += (int64_t)((double)(k->host_hi_ns - k->host_lo_ns) * sim_rng_uniform(&c->host_rng));
    int64_t due = now + lat;
    if (c->n_hq > 0 && c->sess->hq[c->n_hq - 1].due > due)
        due = c->sess->hq[c->n_hq - 1].due;
    memcpy(c->hold + c->hold_len, rx->b, rx->n);
    c->hold_len += rx->n;
    c->sess->hq[c->n_hq++] = (struct held){due, (uint32_t)rx->n};
    int rc = host_drain(c, now, cx, false); /* a zero latency hands it on at once */
    if (rc < 0)
        return rc;
    if (c->state != CLIENT_DFU_DONE && c->state != CLIENT_DFU_FAILED)
        rsp_rearm(c, cx);
    return 0;
}

/* A response deadline or the connect/reset deadline is due at now. */
static bool deadline_due(const struct client_dfu *c, int64_t now)
{
    if (c->extra_deadline >= 0 && c->extra_deadline <= now)
        return true;
    for (unsigned i = 0; i < c->n_fl; i++)
        if (c->sess->fl[i].deadline <= now)
            return true;
    return false;
}

/* ---- inputs ------------------------------------------------------------------------ */

static int on_timer(struct client_dfu *c, const struct client_dfu_timer *t, int64_t now,
                    const struct client_dfu_ctx *cx)
{
    if (t->timer < 0 || t->timer >= CLIENT_DFU_TIMER_COUNT)
        return SIM_EINVAL;
    if (!c->armed[t->timer] || c->gen[t->timer] != t->gen)
        return 0; /* stale: lazily cancelled */
    c->armed[t->timer] = false;
    if (c->n_hq > 0) { /* held responses due by now come first */
        bool wait_armed = t->timer == CLIENT_DFU_TIMER_WAIT;
        int rc = host_drain(c, now, cx, false);
        if (rc < 0)
            return rc;
        if (wait_armed && (c->state == CLIENT_DFU_DONE || c->armed[CLIENT_DFU_TIMER_WAIT]))
            return 0; /* the response ended the wait's reason, or re-armed it */
        if (!wait_armed && !deadline_due(c, now)) {
            if (c->state != CLIENT_DFU_DONE && c->state != CLIENT_DFU_FAILED)
                rsp_rearm(c, cx);
            return 0;
        }
    } else if (t->timer == CLIENT_DFU_TIMER_RSP && !deadline_due(c, now)) {
        rsp_rearm(c, cx); /* it woke for a held response that has gone */
        return 0;
    }
    if (t->timer == CLIENT_DFU_TIMER_WAIT) {
        switch (c->state) {
        case CLIENT_DFU_SWAP_WAIT:
            c->rec.wait_end_ns = now;
            return advance(c, now, cx);
        case CLIENT_DFU_UPLOAD:
            c->busy_pending = false;
            return pump(c, now, cx);
        case CLIENT_DFU_FAILED:
            if (!c->retry_pending)
                break;
            c->attempt_no++;
            return attempt_begin(c, now, cx);
        default:
            break;
        }
        c->rec.unexpected++;
        return 0;
    }
    /* RSP: requests or the connect / reset deadline ran out. */
    bool extra = c->extra_deadline >= 0 && c->extra_deadline <= now;
    switch (c->state) {
    case CLIENT_DFU_CONNECT:
        if (extra)
            return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "connect timed out");
        break;
    case CLIENT_DFU_PARAMS:
    case CLIENT_DFU_BOOTINFO:
    case CLIENT_DFU_BOOTMODE:
        c->n_fl = 0; /* errors ignored: go on without the answer */
        c->rec.timeouts++;
        rsp_rearm(c, cx);
        return advance(c, now, cx);
    case CLIENT_DFU_LIST:
        c->rec.timeouts++;
        return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "image list timed out");
    case CLIENT_DFU_ERASE:
        c->rec.timeouts++;
        return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "image erase timed out");
    case CLIENT_DFU_TEST:
        c->rec.timeouts++;
        return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "image test timed out");
    case CLIENT_DFU_CONFIRM:
        c->rec.timeouts++;
        return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "image confirm timed out");
    case CLIENT_DFU_RESET:
        if (extra)
            return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "reset: link stayed up");
        /* Reset.java ignores the error; keep waiting for the drop. */
        c->n_fl = 0;
        c->rec.timeouts++;
        c->extra_deadline = now + c->cfg.p.t_connect;
        rsp_rearm(c, cx);
        return 0;
    case CLIENT_DFU_UPLOAD:
        if (c->reopening && extra)
            return fail(c, now, cx, "timeout", 0, RECORDER_NONE, "reconnect timed out");
        return upload_timeout(c, now, cx);
    default:
        break;
    }
    c->rec.unexpected++;
    rsp_rearm(c, cx);
    return 0;
}

static int on_connected(struct client_dfu *c, const struct client_dfu_conn *cn, int64_t now,
                        const struct client_dfu_ctx *cx)
{
    c->link_up = true;
    c->mtu = cn->att_mtu;
    if (c->state == CLIENT_DFU_CONNECT) {
        c->extra_deadline = -1;
        rsp_rearm(c, cx);
        if (c->after_reset)
            c->rec.attempt.reconnect_ns = now;
        else
            c->rec.attempt.connect_ns = now;
        return advance(c, now, cx);
    }
    if (c->state == CLIENT_DFU_UPLOAD && c->reopening) {
        /* runUpload: reopened; resume from the last acknowledged offset. */
        c->reopening = false;
        c->extra_deadline = -1;
        c->next_off = c->dev_off;
        c->recovering = false;
        rsp_rearm(c, cx);
        return pump(c, now, cx);
    }
    return 0;
}

static int on_disconnected(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    c->link_up = false;
    switch (c->state) {
    case CLIENT_DFU_RESET:
        c->n_fl = 0;
        c->extra_deadline = -1;
        rsp_rearm(c, cx);
        return advance(c, now, cx);
    case CLIENT_DFU_UPLOAD:
        if (!c->cfg.p.reopen_on_drop)
            return fail(c, now, cx, "failed", 0, RECORDER_NONE, "disconnected");
        /* runUpload: the send failed; capacity shrinks when more than 2 were out, tuning
         * stops; reopen the transport. */
        for (unsigned i = 0; i < c->n_fl; i++)
            chunk_emit(c, cx, &c->sess->fl[i], RECORDER_NONE, RECORDER_NONE);
        if (c->n_fl > 2 && c->window > 1)
            c->window--;
        c->tuning = false;
        c->n_fl = 0;
        c->reopening = true;
        c->rec.attempt.retries++;
        c->extra_deadline = now + c->cfg.p.t_connect;
        rsp_rearm(c, cx);
        cx->connect(cx->env);
        return 0;
    case CLIENT_DFU_ERASE:
        if (c->cfg.p.reopen_on_drop) {
            /* ImageUpgradeCmd.runErase: rescue reopens the session, then the upload. */
            static const enum client_dfu_state reconnect[] = {CLIENT_DFU_CONNECT};
            c->n_fl = 0;
            rsp_rearm(c, cx);
            c->rec.attempt.retries++;
            plan_insert(c, reconnect, 1);
            return advance(c, now, cx);
        }
        return fail(c, now, cx, "failed", 0, RECORDER_NONE, "disconnected");
    case CLIENT_DFU_PARAMS:
    case CLIENT_DFU_BOOTINFO:
    case CLIENT_DFU_BOOTMODE:
    case CLIENT_DFU_LIST:
    case CLIENT_DFU_TEST:
    case CLIENT_DFU_CONFIRM:
        return fail(c, now, cx, "failed", 0, RECORDER_NONE, "disconnected");
    case CLIENT_DFU_CONNECT: /* a failed connection attempt: keep waiting */
    case CLIENT_DFU_SWAP_WAIT:
    case CLIENT_DFU_IDLE:
    case CLIENT_DFU_DONE:
    case CLIENT_DFU_FAILED:
    case CLIENT_DFU_STATE_COUNT:
        break;
    }
    return 0;
}

/* The host went away: the attempt in progress ends "failed" ("host left"), a pending
 * retry is dropped, nothing stays in flight or armed. Chunks in flight are recorded
 * unanswered. Idle, DONE or FAILED without a retry: only the run ends (no record). */
static int on_cancel(struct client_dfu *c, int64_t now, const struct client_dfu_ctx *cx)
{
    c->link_up = false;
    c->cancelled = true;
    switch (c->state) {
    case CLIENT_DFU_IDLE:
    case CLIENT_DFU_DONE:
        break;
    case CLIENT_DFU_FAILED:
        c->retry_pending = false;
        c->armed[CLIENT_DFU_TIMER_WAIT] = false;
        break;
    default:
        if (c->state == CLIENT_DFU_UPLOAD)
            for (unsigned i = 0; i < c->n_fl; i++)
                chunk_emit(c, cx, &c->sess->fl[i], RECORDER_NONE, RECORDER_NONE);
        fail(c, now, cx, "failed", 0, RECORDER_NONE, "host left");
        break;
    }
    c->retry_pending = false;
    c->armed[CLIENT_DFU_TIMER_WAIT] = false;
    client_dfu_check(c);
    return 0;
}

static int step(struct client_dfu *c, enum client_dfu_input in, const void *arg, int64_t now,
                const struct client_dfu_ctx *cx)
{
    int rc = 0;
    switch (in) {
    case CLIENT_DFU_IN_START:
        if (c->started && c->state != CLIENT_DFU_DONE && c->state != CLIENT_DFU_FAILED) {
            c->rec.unexpected++;
            return 0;
        }
        if (c->started) {                            /* a new run (session) after DONE or FAILED */
            c->armed[CLIENT_DFU_TIMER_WAIT] = false; /* a retry of the old run, if any */
            c->attempt_no++;
            c->session_first = c->attempt_no;
        }
        c->started = true;
        c->cancelled = false;
        rc = attempt_begin(c, now, cx);
        break;
    case CLIENT_DFU_IN_CANCEL:
        return on_cancel(c, now, cx);
    case CLIENT_DFU_IN_CONNECTED:
        if (arg == NULL)
            return SIM_EINVAL;
        rc = host_drain(c, now, cx, false);
        if (rc == 0)
            rc = on_connected(c, arg, now, cx);
        break;
    case CLIENT_DFU_IN_DISCONNECTED:
        /* what arrived before the drop is handed on before it, early (the host learns of
         * both in that order) */
        rc = host_drain(c, now, cx, true);
        if (rc == 0)
            rc = on_disconnected(c, now, cx);
        break;
    case CLIENT_DFU_IN_RX: {
        const struct client_dfu_rx *rx = arg;
        if (rx == NULL || rx->b == NULL)
            return SIM_EINVAL;
        if (c->state == CLIENT_DFU_IDLE || c->state == CLIENT_DFU_DONE ||
            c->state == CLIENT_DFU_FAILED) {
            c->rec.unexpected++;
            return 0;
        }
        if (c->cfg.host_hi_ns > 0)
            rc = host_hold(c, rx, now, cx);
        else
            rc = on_rx(c, rx, now, cx);
        break;
    }
    case CLIENT_DFU_IN_TIMER:
        if (arg == NULL)
            return SIM_EINVAL;
        rc = on_timer(c, arg, now, cx);
        break;
    case CLIENT_DFU_INPUT_COUNT:
    default:
        return SIM_EINVAL;
    }
    if (rc < 0 && c->state != CLIENT_DFU_FAILED && c->state != CLIENT_DFU_DONE) {
        fail(c, now, cx, "failed", 0, RECORDER_NONE, sim_err_str(rc));
        c->retry_pending = false;
        c->armed[CLIENT_DFU_TIMER_WAIT] = false;
    }
    client_dfu_check(c);
    return rc;
}

int client_dfu_step(struct client_dfu *c, enum client_dfu_input in, const void *arg, int64_t now,
                    const struct client_dfu_ctx *cx)
{
    if (c == NULL || cx == NULL)
        return SIM_EINVAL;
    int rc = step(c, in, arg, now, cx);
    sess_trim(c);
    return rc;
}

/* ---- lifetime and accessors ------------------------------------------------------- */

struct client_dfu *client_dfu_new(const struct client_dfu_cfg *cfg,
                                  const struct client_dfu_image *img)
{
    if (cfg == NULL || img == NULL || img->read == NULL || img->size == 0)
        return NULL;
    const struct client_dfu_profile *p = &cfg->p;
    if (cfg->host_lo_ns < 0 || cfg->host_hi_ns < cfg->host_lo_ns)
        return NULL;
    if (cfg->window == 0 || cfg->window > CLIENT_DFU_MAX_WINDOW || p->window_start == 0 ||
        p->window_start > cfg->window || cfg->attempts == 0 ||
        cfg->attempts > CLIENT_DFU_MAX_ATTEMPTS || cfg->alignment == 0 ||
        (cfg->alignment & (cfg->alignment - 1)) != 0 || p->max_failures == 0 || p->name == NULL)
        return NULL;
    struct client_dfu *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->cfg = *cfg;
    c->img = img;
    c->state = CLIENT_DFU_IDLE;
    c->seq = cfg->first_seq;
    c->mtu = 23;
    c->extra_deadline = -1;
    c->boot_mode = -1;
    c->window = p->window_adaptive ? p->window_start : cfg->window;
    c->use_sha = true;
    sim_rng_init(&c->host_rng, cfg->host_seed, cfg->host_entity, SIM_RNG_CENTRAL);
    rec_begin(c, 0);
    return c;
}

void client_dfu_free(struct client_dfu *c)
{
    if (c != NULL) {
        free(c->hold);
        free(c->sess);
        free(c->upl);
    }
    free(c);
}

enum client_dfu_state client_dfu_state_get(const struct client_dfu *c)
{
    return c->state;
}

const char *client_dfu_state_name(enum client_dfu_state s)
{
    static const char *const names[CLIENT_DFU_STATE_COUNT] = {
        "idle",   "connect", "params",  "bootinfo", "bootmode",  "list", "erase",
        "upload", "test",    "confirm", "reset",    "swap_wait", "done", "failed"};
    if ((unsigned)s >= CLIENT_DFU_STATE_COUNT)
        return "?";
    return names[s];
}

unsigned client_dfu_inflight_get(const struct client_dfu *c)
{
    return c->n_fl;
}

unsigned client_dfu_window_get(const struct client_dfu *c)
{
    return c->window;
}

unsigned client_dfu_failures_get(const struct client_dfu *c, uint32_t off)
{
    if (c->upl == NULL)
        return 0;
    for (uint32_t i = 0; i < c->upl->n_fd; i++)
        if (c->upl->fd[i].off == off)
            return c->upl->fd[i].n;
    return 0;
}

const struct client_dfu_record *client_dfu_record_get(const struct client_dfu *c)
{
    return &c->rec;
}

bool client_dfu_finished(const struct client_dfu *c)
{
    return c->state == CLIENT_DFU_DONE || (c->state == CLIENT_DFU_FAILED && !c->retry_pending);
}

void client_dfu_check(const struct client_dfu *c)
{
#ifdef NDEBUG
    (void)c;
#else
    assert(c->window >= 1 && c->window <= c->cfg.window && c->cfg.window <= CLIENT_DFU_MAX_WINDOW);
    assert(c->n_fl <= CLIENT_DFU_MAX_WINDOW);
    if (c->state == CLIENT_DFU_UPLOAD) {
        assert(c->n_fl <= c->window);
        assert(c->next_off <= c->img->size);
        for (unsigned i = 0; i < c->n_fl; i++)
            assert(c->sess->fl[i].len > 0 &&
                   c->sess->fl[i].off + c->sess->fl[i].len <= c->img->size);
    } else {
        assert(c->n_fl <= 1);
    }
    if (c->state == CLIENT_DFU_DONE || c->state == CLIENT_DFU_FAILED) {
        assert(c->n_fl == 0);
        assert(!c->armed[CLIENT_DFU_TIMER_RSP]);
        assert(!c->armed[CLIENT_DFU_TIMER_WAIT] || c->retry_pending);
    }
    if (c->n_fl > 0 || c->n_hq > 0)
        assert(c->armed[CLIENT_DFU_TIMER_RSP]);
    if (c->state == CLIENT_DFU_DONE || c->state == CLIENT_DFU_FAILED)
        assert(c->n_hq == 0);
#endif
}

/* ---- settings ------------------------------------------------------------------------- */

/* Order matches enum client_dfu_kind. */
static const char *const client_names[] = {"device-manager-android", "device-manager-ios",
                                           "mcumgr-cli", "smpclient", NULL};
/* Order matches enum client_dfu_mode, then CLIENT_DFU_SETTINGS_MODE_DEFAULT. */
static const char *const mode_names[] = {"test-and-confirm", "confirm-only", "test-only", "none",
                                         "upload-only",      "default",      NULL};
/* Order: false, true, then CLIENT_DFU_SETTINGS_ERASE_DEFAULT. */
static const char *const erase_first_names[] = {"false", "true", "default", NULL};

static const struct scenario_field client_fields[] = {
    {.key = "kind",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct client_dfu_settings, kind),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct client_dfu_settings, kind_at),
     .def = "device-manager-android",
     .names = client_names,
     .doc = "DFU client run by every device's central (models/client/dfu.h)"},
    {.key = "mode",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct client_dfu_settings, mode),
     .def = "default",
     .names = mode_names,
     .doc = "upgrade mode; default: the client's own (Android and mcumgr CLI test-and-confirm, "
            "iOS confirm-only, smpclient upload-only)"},
    {.key = "erase_first",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct client_dfu_settings, erase_first),
     .def = "default",
     .names = erase_first_names,
     .doc = "send image erase (group 1, id 5) before the upload and wait for its answer; "
            "default: the client's own (the mcumgr CLI's `image upload` does, unless -e; "
            "Device Manager and smpclient do not)",
     .source = "apache/mynewt-newtmgr: newtmgr/cli/image.go (--noerase default false), "
               "nmxact/xact/image.go (ImageUpgradeCmd)"},
    {.key = "window",
     .type = SCENARIO_T_UINT,
     .unit = "requests",
     SCENARIO_AT(struct client_dfu_settings, window),
     .def = "0",
     .min = "0",
     .max = "16",
     .doc = "chunks in flight (Android window capacity, iOS pipeline depth, mcumgr CLI "
            "maximum); 0: the client's default"},
    {.key = "alignment",
     .type = SCENARIO_T_UINT,
     .unit = "bytes",
     SCENARIO_AT(struct client_dfu_settings, alignment),
     .flags = SCENARIO_F_POS,
     .pos_offset = offsetof(struct client_dfu_settings, alignment_at),
     .def = "0",
     .min = "0",
     .max = "16",
     .doc = "memory alignment of chunk data, 1, 2, 4, 8 or 16; 0: the client's default"},
    {.key = "central",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct client_dfu_settings, central),
     .flags = SCENARIO_F_DIST | SCENARIO_F_POS,
     .dist_offset = offsetof(struct client_dfu_settings, central_dist),
     .pos_offset = offsetof(struct client_dfu_settings, central_at),
     .def = "default",
     .names = client_central_names,
     .doc = "the host the client runs on (models/client/central.h), fixed or a mix drawn per "
            "device, e.g. choice(android @ 7, ios @ 3); default: Device Manager on its phone, "
            "mcumgr-cli and smpclient on linux-bluez"},
    {.key = "priority",
     .type = SCENARIO_T_ENUM,
     SCENARIO_AT(struct client_dfu_settings, priority),
     .def = "high",
     .names = client_central_priority_names,
     .doc = "connection priority the app asks for where the platform has one (Android "
            "requestConnectionPriority, Windows presets)",
     .source = "NordicSemiconductor/Android-nRF-Connect-Device-Manager: sample app "
               "ImageUpgradeViewModel.java requestHighConnectionPriority()"},
    {.key = "packets_per_event",
     .type = SCENARIO_T_UINT,
     .unit = "packets",
     SCENARIO_AT(struct client_dfu_settings, packets_per_event),
     .def = "0",
     .min = "0",
     .max = "1000",
     .doc = "the central's cap on packets per connection event; 0: the central profile's "
            "(client.central)"},
    {.key = "swap_wait",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct client_dfu_settings, swap_wait),
     .def = "0s",
     .min = "0s",
     .doc = "estimated swap time the client waits after the reset (the sample app says 10 s)",
     .source = "NordicSemiconductor/Android-nRF-Connect-Device-Manager: library default 0"},
    {.key = "attempts",
     .type = SCENARIO_T_UINT,
     SCENARIO_AT(struct client_dfu_settings, attempts),
     .def = "1",
     .min = "1",
     .max = "64",
     .doc = "attempts before the client gives up"},
    {.key = "retry_delay",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct client_dfu_settings, retry_delay),
     .def = "10s",
     .min = "0s",
     .doc = "pause between attempts",
     .unverified = true},
    {.key = "start",
     .type = SCENARIO_T_DURATION,
     SCENARIO_AT(struct client_dfu_settings, start),
     .flags = SCENARIO_F_DIST,
     .dist_offset = offsetof(struct client_dfu_settings, start_dist),
     .def = "0s",
     .min = "0s",
     .doc = "when each device's central starts its DFU (fixed, or drawn per device)"},
};

const char *client_dfu_kind_name(enum client_dfu_kind kind)
{
    return (unsigned)kind < CLIENT_DFU_KIND_COUNT ? client_names[kind] : "?";
}

const struct scenario_schema client_dfu_settings_schema =
    SCENARIO_SCHEMA("client", struct client_dfu_settings, client_fields);

struct client_dfu_cfg client_dfu_cfg_from_settings(const struct client_dfu_settings *s)
{
    struct client_dfu_cfg k = client_dfu_cfg_default((enum client_dfu_kind)s->kind);
    if (s->mode != CLIENT_DFU_SETTINGS_MODE_DEFAULT)
        k.mode = (enum client_dfu_mode)s->mode;
    if (s->window != 0)
        k.window = s->window;
    if (s->alignment != 0)
        k.alignment = s->alignment;
    if (s->erase_first != CLIENT_DFU_SETTINGS_ERASE_DEFAULT)
        k.erase_first = s->erase_first == 1;
    k.swap_wait = s->swap_wait;
    k.attempts = s->attempts;
    k.retry_delay = s->retry_delay;
    return k;
}

int client_dfu_settings_check(const struct client_dfu_settings *s, const char *key,
                              struct sim_diag *d)
{
    if ((s->alignment & (s->alignment - 1)) == 0)
        return 0;
    char at[512], k[128];
    snprintf(k, sizeof(k), "%s.alignment", key);
    scenario_pos_format(at, sizeof(at), &s->alignment_at, k);
    sim_diag_add(d, "%s: %u is not a power of two (1, 2, 4, 8 or 16)", at, s->alignment);
    return SIM_EINVAL;
}
