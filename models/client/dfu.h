/* models/client/dfu.h - SMP DFU clients: nRF Connect Device Manager (Android, iOS), the Go
 * mcumgr CLI (newtmgr nmxact) and Python smpclient, as one state machine whose
 * differences live in struct client_dfu_profile (timeouts, window, chunk sizing, key
 * order, header version, retry rules, steps). Upstream repositories, commits and files
 * are cited per constant in models/client/dfu.c.
 *
 * A client encodes real SMP requests with models/smp/frame.h, hands them to the link
 * through client_dfu_ctx.send, and is driven by inputs: start, link connected or lost,
 * a received response frame, a timer. Time is int64_t ns, always passed in as `now`.
 *
 * States (one attempt; each step of the plan is a state, the plan depends on the client
 * and the mode, see client_dfu_cfg_default() and the VALIDATE rules in dfu.c):
 *
 *   IDLE --START--> CONNECT (link down: connect()) or the first step (link up)
 *   CONNECT --CONNECTED--> next step         --timeout--> FAILED
 *   PARAMS --rsp / timeout / error--> next step (MTU − 3 is used when no buf_size)
 *   BOOTINFO --rsp "MCUboot"--> BOOTMODE; --other rsp, error, timeout--> next step
 *   BOOTMODE --rsp / error / timeout--> next step (errors mean "swap with revert");
 *        on Android, Direct-XIP without revert rebuilds the plan as mode NONE
 *   LIST (validate: an UPLOAD step follows) --rsp--> next step, plan edited: hash present
 *        -> no upload (and no test when pending/confirmed/active, no confirm when
 *        permanent/confirmed); already active and confirmed -> DONE; hash absent and the
 *        slot pending or the device in a test boot (Android) -> RESET, SWAP_WAIT, CONNECT,
 *        LIST inserted (once per attempt: a device that stays so gets the upload anyway)
 *   LIST (after the reset: Go CLI, iOS) --rsp--> next step
 *   ERASE (cfg.erase_first; dropped with the upload when the hash is found) --rsp-->
 *        UPLOAD; an error response fails the attempt, except on the Go CLI (its
 *        `image upload` goes on to the upload whatever the erase answered); a drop: the
 *        Go CLI reconnects (CONNECT inserted) and uploads, the others fail
 *   UPLOAD --rsp off < size--> UPLOAD (next chunks, resends, window)
 *   UPLOAD --rsp off == size (and match not false)--> next step (Android window > 1:
 *        once the requests still out are answered or timed out, see dfu.c "Uploader.kt")
 *   UPLOAD --a chunk offset's max_failures-th failure--> FAILED
 *   UPLOAD --DISCONNECTED, profile reopens (Go CLI)--> UPLOAD (connect(), resume from the
 *        last acknowledged offset)
 *   TEST --rsp, our hash pending--> next step; else FAILED ("downgrade forbidden")
 *   CONFIRM --rsp, our hash permanent or confirmed (or, without hash, rc 0)--> next step
 *   RESET --rsp or DISCONNECTED--> RESET until both, or the disconnect alone
 *         (Android ignores reset errors) --> SWAP_WAIT
 *   SWAP_WAIT --timer (swap_wait − time since the reset response; 0 without swap)-->
 *         next step, or DONE when the plan ends here
 *   any step --SMP error, timeout without retry, disconnect--> FAILED
 *   FAILED --attempts left: timer retry_delay--> CONNECT / first step (a new attempt)
 *   DONE, FAILED (no attempts left): the run is over; a response there is counted as
 *        unexpected, a stale timer is ignored, link events only update the link state
 *   DONE, FAILED --START--> a new run (session): attempt numbers continue, cfg.attempts
 *        attempts again; the device's upload state is whatever it kept (the first chunk
 *        carries the sha, so img_mgmt resumes a matching upload)
 *   any --CANCEL (the host left)--> FAILED: the attempt in progress ends now, outcome
 *        "failed", error "host left", no retry, nothing in flight, no timer armed; a
 *        pending retry is dropped; IDLE and DONE stay as they are (no record)
 *
 * Invariants (client_dfu_check() asserts them in debug builds):
 *   1. n_inflight <= window <= cfg.window <= CLIENT_DFU_MAX_WINDOW, and
 *      requests other than chunks are in flight only in their own step (one at a time).
 *   2. UPLOAD: next_off <= image size; every chunk in flight lies in [0, size) and has
 *      len > 0.
 *   3. The RSP timer is armed whenever a request is in flight (it also carries the
 *      CONNECT and RESET deadlines).
 *   4. DONE and FAILED have nothing in flight and no timer armed (FAILED may have the
 *      WAIT timer armed for the next attempt).
 */
#ifndef MODELS_CLIENT_DFU_H
#define MODELS_CLIENT_DFU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/recorder.h"
#include "sim/scenario/settings.h"

#define CLIENT_DFU_MS(x)        ((int64_t)(x)*1000000LL)
#define CLIENT_DFU_SHA_LEN      32
#define CLIENT_DFU_MAX_WINDOW   16
#define CLIENT_DFU_MAX_PLAN     16
#define CLIENT_DFU_MAX_PACKET   4096 /* largest request we build (header + CBOR); see below */
#define CLIENT_DFU_MAX_ATTEMPTS 64

enum client_dfu_kind {
    CLIENT_DFU_ANDROID,    /* NordicSemiconductor/Android-nRF-Connect-Device-Manager */
    CLIENT_DFU_IOS,        /* NordicSemiconductor/IOS-nRF-Connect-Device-Manager */
    CLIENT_DFU_MCUMGR_CLI, /* apache/mynewt-mcumgr-cli over apache/mynewt-newtmgr nmxact */
    CLIENT_DFU_SMPCLIENT,  /* intercreate/smpclient */
    CLIENT_DFU_KIND_COUNT
};

/* Upgrade modes (FirmwareUpgradeManager.java / FirmwareUpgradeMode.swift). */
enum client_dfu_mode {
    CLIENT_DFU_MODE_TEST_AND_CONFIRM, /* upload, test, reset, reconnect, confirm */
    CLIENT_DFU_MODE_CONFIRM_ONLY,     /* upload, confirm, reset */
    CLIENT_DFU_MODE_TEST_ONLY,        /* upload, test, reset */
    CLIENT_DFU_MODE_NONE,             /* upload, reset (iOS .uploadOnly) */
    CLIENT_DFU_MODE_UPLOAD_ONLY       /* upload and stop (smpclient's upload()) */
};

/* The steps of a plan, which are also the machine's states. */
enum client_dfu_state {
    CLIENT_DFU_IDLE,
    CLIENT_DFU_CONNECT,   /* waiting for the link (first connect or reconnect) */
    CLIENT_DFU_PARAMS,    /* os mcumgr params read (6) in flight */
    CLIENT_DFU_BOOTINFO,  /* os bootloader info (8), no query, in flight */
    CLIENT_DFU_BOOTMODE,  /* os bootloader info {"query": "mode"} in flight */
    CLIENT_DFU_LIST,      /* image state read (1/0) in flight */
    CLIENT_DFU_ERASE,     /* image erase (1/5) in flight, before the upload */
    CLIENT_DFU_UPLOAD,    /* image upload (1/1) chunks */
    CLIENT_DFU_TEST,      /* image state write {"hash", "confirm": false} */
    CLIENT_DFU_CONFIRM,   /* image state write {"confirm": true [, "hash"]} */
    CLIENT_DFU_RESET,     /* os reset (5) sent; waiting for the response and the drop */
    CLIENT_DFU_SWAP_WAIT, /* estimated swap time */
    CLIENT_DFU_DONE,
    CLIENT_DFU_FAILED,
    CLIENT_DFU_STATE_COUNT
};

enum client_dfu_input {
    CLIENT_DFU_IN_START,        /* arg NULL: begin the first attempt */
    CLIENT_DFU_IN_CONNECTED,    /* arg const struct client_dfu_conn * */
    CLIENT_DFU_IN_DISCONNECTED, /* arg NULL */
    CLIENT_DFU_IN_RX,           /* arg const struct client_dfu_rx *: one whole response */
    CLIENT_DFU_IN_TIMER,        /* arg const struct client_dfu_timer * */
    CLIENT_DFU_IN_CANCEL,       /* arg NULL: the host leaves; the run ends (see above) */
    CLIENT_DFU_INPUT_COUNT
};

enum client_dfu_timer_id {
    CLIENT_DFU_TIMER_RSP,  /* earliest response deadline, or the connect deadline */
    CLIENT_DFU_TIMER_WAIT, /* swap wait, busy back-off, delay before the next attempt */
    CLIENT_DFU_TIMER_COUNT
};

struct client_dfu_conn {
    uint16_t att_mtu; /* negotiated ATT MTU */
};

struct client_dfu_rx {
    const uint8_t *b; /* one SMP frame (header + CBOR), merged by header length as every
                         client's transport does; not owned, only read during the call */
    size_t n;
};

struct client_dfu_timer {
    int timer;    /* enum client_dfu_timer_id */
    uint32_t gen; /* what timer_arm returned; an older generation is stale and ignored */
};

/* How the chunk size is derived: Android transfer/Uploader.kt, iOS
 * McuMgrUploadPipeline.swift, newtmgr nmxact/xact/image.go, smpclient
 * src/smpclient/__init__.py (_maximize_upload_packet). */
enum client_dfu_sizing {
    CLIENT_DFU_SIZING_ANDROID,  /* Uploader.kt getMaxChunkSize: overhead by formula */
    CLIENT_DFU_SIZING_IOS,      /* McuMgrUploadPipeline: encode 1 data byte, + 5 */
    CLIENT_DFU_SIZING_NEWT,     /* image.go: min(512, left), shrink by the overflow */
    CLIENT_DFU_SIZING_SMPCLIENT /* _maximize_upload_packet: exact fit */
};

/* Upload request key order as each client's encoder emits it (derived; see dfu.c). */
enum client_dfu_keys {
    CLIENT_DFU_KEYS_ANDROID,  /* data, off, [image], [len, sha]  (LinkedHashMap) */
    CLIENT_DFU_KEYS_IOS,      /* data, off, [image, len, sha] */
    CLIENT_DFU_KEYS_NEWT,     /* image, off, [len, sha, upgrade], data (Go struct) */
    CLIENT_DFU_KEYS_SMPCLIENT /* off, data, [image, len, sha, upgrade] (pydantic) */
};

enum client_dfu_on_timeout {
    CLIENT_DFU_TIMEOUT_FAIL, /* the transfer fails (Android window 1, iOS, smpclient) */
    /* window > 1 runs Android's transfer/Uploader.kt: each write has its own timeout, a
     * timeout or an unexpected offset is a failure of the chunk concerned (max_failures
     * per chunk offset for the whole upload), the chunk is resent first and awaited
     * alone; window 1 fails as TIMEOUT_FAIL (ImageManager's stop-and-wait upload) */
    CLIENT_DFU_TIMEOUT_RESEND
};

/* What makes one client differ from another. Every value names its upstream source in
 * client_dfu_cfg_default(). */
struct client_dfu_profile {
    const char *name;    /* recorded as recorder_attempt.client */
    uint8_t hdr_version; /* 0 = SMP v1 (Go CLI), 1 = SMP v2 */
    enum client_dfu_sizing sizing;
    enum client_dfu_keys keys;
    enum client_dfu_on_timeout on_timeout;
    bool state_keys_confirm_first; /* Android's HashMap puts "confirm" before "hash" */
    bool test_sends_confirm;       /* test carries "confirm": false (not Android) */
    bool params;                   /* asks mcumgr params at connect */
    int16_t params_seq;            /* sequence number of that request; -1: the counter */
    bool bootinfo_name;            /* asks bootloader info without query first (Android) */
    bool bootmode;                 /* asks bootloader info "mode" */
    bool list_first;               /* image list before the upload (VALIDATE / `image list`) */
    bool list_after_reset;         /* image list again after the reset (Go CLI README, iOS) */
    bool auto_none_xip;            /* Direct-XIP without revert selects mode NONE (Android) */
    bool reset_before_upload;      /* slot pending or test boot: reset, validate again (Android) */
    bool reset_only_if_pending;    /* our image found: reset only when it is or gets pending;
                                      an active unconfirmed one is confirmed in place (Android) */
    bool reconnect_always;         /* reconnect after reset even with nothing left to do (iOS) */
    bool first_alone;              /* the offset-0 chunk is sent and awaited alone */
    bool window_adaptive;          /* window starts at window_start and grows to window_max */
    bool drain_on_mismatch;        /* unexpected offset: wait for all in flight first (iOS) */
    bool reopen_on_drop;           /* reconnect and resume after a drop mid-upload (Go CLI) */
    bool image_every_chunk;        /* "image" in every chunk (Go CLI) */
    bool image_if_nonzero;         /* "image" only when > 0 (Android); else always at offset 0 */
    bool sha_on_restart;           /* resend "sha" when the device forces offset 0 again */
    uint8_t upgrade_key;           /* "upgrade" at offset 0: 0 never, 1 only when true (Go
                                omitempty), 2 always (smpclient) */
    bool confirm_hash_after_reset; /* confirm after reset names the hash (false: Go CLI) */
    bool erase_first;              /* upstream sends image erase before the upload (Go CLI) */
    bool erase_slot_key;           /* image erase names "slot" 2i + 1 for image i > 0 */
    bool erase_error_ignored;      /* an erase error response does not stop the upload */
    uint8_t window_start, window_max; /* adaptive start; upstream default maximum (the
                                         default of cfg.window, which is what is used) */
    uint8_t max_failures;             /* failures of one chunk offset, over the whole upload, that
                             abort it */
    uint16_t att_mtu_request;         /* ATT MTU the client asks for (0: the phone decides) */
    uint32_t max_chunk;               /* upper bound on data per chunk (Go CLI 512), 0: none */
    uint32_t min_first_chunk; /* a smaller first chunk is recomputed without sha (Go CLI 32) */
    uint32_t packet_cap;      /* cap on buf_size from params (iOS 65535), 0: none */
    int64_t t_first;          /* response timeout of the offset-0 chunk, ns */
    int64_t t_chunk;          /* of other chunks */
    int64_t t_last;           /* of the last chunk when pipelined (0: t_chunk) */
    int64_t t_params, t_bootinfo, t_list, t_state, t_reset; /* of the other commands */
    int64_t t_erase;                                        /* of image erase */
    int64_t t_connect;                                      /* waiting for a (re)connection */
    int64_t busy_retry; /* rc EBUSY: resend after this, 0: busy is an error */
};

/* Settings of one client instance: the profile plus what a user or a scenario sets. */
struct client_dfu_cfg {
    struct client_dfu_profile p;
    enum client_dfu_mode mode;
    uint8_t window;      /* Android window capacity / iOS pipeline depth; Go: max */
    uint8_t alignment;   /* memory alignment of non-final chunks: 1, 2, 4, 8, 16 */
    uint8_t image;       /* target image number */
    bool upgrade;        /* "upgrade": true at offset 0 (refuse downgrades) */
    bool erase_first;    /* send image erase before the upload (default: p.erase_first) */
    int64_t swap_wait;   /* estimated swap time, ns */
    uint32_t attempts;   /* attempts before giving up (>= 1); each is recorded */
    int64_t retry_delay; /* between attempts, ns */
    uint32_t device_id;  /* copied into records */
    int64_t gateway_id;  /* copied into records, RECORDER_NONE if none */
    uint8_t first_seq;   /* first sequence number */
    /* The host between the link and the client (models/client/central.h): each response
     * reaches the state machine a latency drawn uniformly on [host_lo_ns, host_hi_ns] after
     * the link delivered it, in order (one host thread), from the stream (host_seed,
     * host_entity, SIM_RNG_CENTRAL); so the request it triggers leaves that much later.
     * 0 and 0: at once (the default of client_dfu_cfg_default). */
    int64_t host_lo_ns, host_hi_ns;
    uint64_t host_seed, host_entity;
};

/* Upstream defaults of kind, with the library's default mode (Android TEST_AND_CONFIRM
 * as in code, iOS confirmOnly, Go CLI the README's test-and-confirm sequence,
 * smpclient upload only). */
struct client_dfu_cfg client_dfu_cfg_default(enum client_dfu_kind kind);
/* The name a scenario gives kind (client.kind: "device-manager-android"), or "?". */
const char *client_dfu_kind_name(enum client_dfu_kind kind);
/* One line for `dfusim list clients`: the upstream client and its default behaviour. */
const char *client_dfu_kind_doc(enum client_dfu_kind kind);

/* The image to upload: shared, read-only, not owned. */
struct client_dfu_image {
    uint32_t size;
    uint8_t sha[CLIENT_DFU_SHA_LEN];  /* SHA-256 of the whole file: upload "sha" */
    uint8_t hash[CLIENT_DFU_SHA_LEN]; /* MCUboot image hash TLV: list, test, confirm */
    void *env;
    /* Copy n bytes at off into buf. Returns 0 or a negative sim_err. */
    int (*read)(void *env, uint32_t off, uint8_t *buf, size_t n);
};

/* One attempt, as emitted when it ends (DONE or FAILED). `attempt` is the recorder's
 * shape: start/end, upload start/end, reset (sent), confirm (answered); bytes = data bytes
 * sent, resends included; chunks = upload requests sent; retries = chunks sent again +
 * busy replies + reconnections mid-upload; outcome "updated" (the client's flow ran to
 * its end), "failed" (SMP error, drop, refusal) or "timeout"; error = why, NULL if none.
 * swap_start/end stay RECORDER_NONE: the device knows them. attempt_id counts attempts of
 * this client from 0; the device assembly may renumber. Times are ns, RECORDER_NONE when
 * the phase did not happen. */
struct client_dfu_record {
    struct recorder_attempt attempt;
    int64_t wait_start_ns, wait_end_ns; /* the client's swap wait */
    int64_t timeouts;                   /* requests that got no answer in time */
    int64_t unexpected;                 /* inputs the state did not expect (late, foreign) */
    uint32_t smp_group;                 /* group of the error that ended it (err.group), 0 */
    int32_t smp_rc;                     /* SMP rc or group rc that ended it, RECORDER_NONE */
    uint8_t window_max;                 /* most chunks in flight at once */
};

/* What the client acts through. */
struct client_dfu_ctx {
    void *env;
    /* Hand one SMP frame to the transport, which copies it (and splits it into ATT
     * writes). Returns 0 or a negative sim_err, which step() passes on. */
    int (*send)(void *env, const uint8_t *b, size_t n);
    /* Arm timer (enum client_dfu_timer_id) for absolute at_ns, replacing an earlier
     * arming; returns its generation, delivered back in struct client_dfu_timer. */
    uint32_t (*timer_arm)(void *env, int timer, int64_t at_ns);
    /* Ask the link to (re)connect; CONNECTED follows. */
    void (*connect)(void *env);
    /* One record per attempt. r and the strings it points to are valid during the call
     * only (the recorder copies them). */
    void (*emit)(void *env, const struct client_dfu_record *r);
    /* One per answered, timed-out or dropped chunk (seq = index of the chunk in the
     * attempt, rc = SMP rc or group rc, acked_ns/rc RECORDER_NONE without an answer);
     * NULL: not recorded. */
    void (*emit_chunk)(void *env, const struct recorder_chunk *c);
};

struct client_dfu; /* opaque: in-flight table, plan and timers must stay consistent */

/* Allocate a client for img (kept by pointer, not owned). Returns NULL on bad cfg
 * (window 0 or > CLIENT_DFU_MAX_WINDOW, alignment not a power of two, attempts 0)
 * or out of memory. */
struct client_dfu *client_dfu_new(const struct client_dfu_cfg *cfg,
                                  const struct client_dfu_image *img);
void client_dfu_free(struct client_dfu *c); /* accepts NULL */

/* Feed one input at now. Returns 0 (SMP errors, timeouts and drops are data: they go
 * into the record), SIM_EINVAL for a NULL or malformed arg, or a negative sim_err from
 * send() or the image read (the client is then FAILED). */
int client_dfu_step(struct client_dfu *c, enum client_dfu_input in, const void *arg, int64_t now,
                    const struct client_dfu_ctx *cx);

enum client_dfu_state client_dfu_state_get(const struct client_dfu *c);
const char *client_dfu_state_name(enum client_dfu_state s);
/* Requests (chunks or commands) waiting for a response. */
unsigned client_dfu_inflight_get(const struct client_dfu *c);
/* Current window capacity. */
unsigned client_dfu_window_get(const struct client_dfu *c);
/* Data bytes the next chunk at offset off would carry (for tests and the README). */
uint32_t client_dfu_chunk_len(const struct client_dfu *c, uint32_t off);
/* Failures counted against the chunk at off in the upload running now (the failure
 * directory; 0 when none, or outside an upload). For tests. */
unsigned client_dfu_failures_get(const struct client_dfu *c, uint32_t off);
/* The run is over: DONE, or FAILED with no attempt left (or cancelled). The outcome is
 * then client_dfu_record_get(c)->attempt.outcome. */
bool client_dfu_finished(const struct client_dfu *c);
/* The last record emitted (valid after DONE or FAILED). */
const struct client_dfu_record *client_dfu_record_get(const struct client_dfu *c);

/* Assert the invariants above (no-op with NDEBUG). */
void client_dfu_check(const struct client_dfu *c);

/* ---- settings: the `client` map, and a gateway's (table in dfu.c) ---- */

/* mode: what a scenario's "default" is, past the enum client_dfu_mode values. */
#define CLIENT_DFU_SETTINGS_MODE_DEFAULT  5
/* erase_first: false, true, or the client's own ("default"). */
#define CLIENT_DFU_SETTINGS_ERASE_DEFAULT 2

/* The DFU client a central runs, as a scenario gives it. 0 in window and alignment: the
 * client's upstream default. */
struct client_dfu_settings {
    int kind;        /* enum client_dfu_kind */
    int mode;        /* enum client_dfu_mode, or CLIENT_DFU_SETTINGS_MODE_DEFAULT */
    int erase_first; /* 0 false, 1 true, CLIENT_DFU_SETTINGS_ERASE_DEFAULT */
    uint8_t window, alignment;
    uint16_t packets_per_event;        /* the central's cap on packets per connection event; 0: the
                                   central profile's */
    int central;                       /* enum client_central, or CLIENT_CENTRAL_DEFAULT */
    int priority;                      /* enum client_central_priority */
    struct scenario_dist central_dist; /* central drawn per device ("choice(android @ 7, ...)") */
    struct scenario_pos central_at;
    uint32_t attempts;
    int64_t swap_wait, retry_delay, start; /* ns */
    struct scenario_dist start_dist;       /* start drawn per device */
    struct scenario_pos at;                /* the client map (or the file when absent) */
    struct scenario_pos kind_at, alignment_at;
};
extern const struct scenario_schema client_dfu_settings_schema;

/* The client's configuration: its kind's upstream defaults with what s sets. */
struct client_dfu_cfg client_dfu_cfg_from_settings(const struct client_dfu_settings *s);
/* What the table cannot say: an alignment that is not a power of two. key names the map
 * ("client", "gateways[0].client"). Returns 0 or SIM_EINVAL with a message at its position. */
int client_dfu_settings_check(const struct client_dfu_settings *s, const char *key,
                              struct sim_diag *d);

#endif /* MODELS_CLIENT_DFU_H */
