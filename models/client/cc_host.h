/* models/client/cc_host.h - the host end of the nRF Desktop config-channel DFU: the HID
 * configurator's `dfu` command (a PC talking to the device's config channel with HID
 * feature reports), driving the device's models/fw/cc_dfu.h with its start / data / sync
 * options. One run uploads one image (length and checksum given) into the secondary slot.
 *
 * Mirrors nrfconnect/sdk-nrf: scripts/hid_configurator/modules/dfu.py (dfu_transfer,
 * dfu_sync_wait_until_inactive, send_chunks, dfu_checkpoint, get_dfu_operation_offset)
 * over scripts/hid_configurator/NrfHidDevice.py (exchange_feature_report); device side in
 * nrfconnect/sdk-nrf: applications/nrf_desktop/src/modules/dfu.c (models/fw/cc_dfu.h).
 * Upstream constants:
 *   EVENT_DATA_LEN_MAX = REPORT_SIZE 30 - 6 = 24 B of data per feature report;
 *   one exchange = send the report, sleep POLL_INTERVAL_DEFAULT 20 ms, fetch the answer;
 *   DFU_SYNC_INTERVAL 1 s between syncs while the device is busy;
 *   a checkpoint (a sync every sync_buffer_size bytes) that finds the device STORING
 *   sleeps 0.3 s, doubled every 8th retry, at most DFU_SYNC_INTERVAL.
 * Timing: the device handles a report when the host sends it; the host acts on the
 * answer report_ns later (the poll interval), and sends its next report then.
 *
 *   IDLE --START / sync--> SYNC_INACTIVE actions below (the first exchange is at START)
 *   SYNC_INACTIVE --sync INACTIVE / offset: resume when the device's length, checksum
 *          match and its offset <= length, else 0--> START
 *   SYNC_INACTIVE --sync CLEANING, ACTIVE, STORING / wait 1 s--> SYNC_INACTIVE
 *   START --start(length, checksum, offset)--> STARTED
 *   STARTED --sync ACTIVE or STORING / checkpoint = offset + sync buffer--> DATA
 *   STARTED --sync other / (the tool loops)--> SYNC_INACTIVE
 *   DATA --data(min(24, checkpoint - offset)) / offset += n--> DATA, or CHECKPOINT when
 *          offset reaches the checkpoint
 *   CHECKPOINT --sync STORING / sleep (see above)--> CHECKPOINT
 *   CHECKPOINT --sync ok, offset < length / next checkpoint--> DATA
 *   CHECKPOINT --sync ok, offset = length--> FINAL
 *   CHECKPOINT --sync: other length or checksum, INACTIVE before the end ("DFU
 *          interrupted by device": its 5 s timeout), other offset--> ENDED (FAILED)
 *   FINAL --sync busy / wait 1 s--> FINAL;  --INACTIVE, offset = length--> ENDED (DONE)
 *   SYNC_INACTIVE, STARTED, CHECKPOINT --sync ACTIVE_OTHER--> ENDED (REFUSED)
 *   any running --the device does not answer (not running its application), or
 *          RESET (the device resets or loses power)--> ENDED (LOST)
 *   ENDED: terminal (one run per device); START, TIMER there are unexpected
 *
 * Differences from the tool, on purpose (README "Simplifications"): a sync answered
 * ACTIVE_OTHER (the DFU lock held by MCUmgr) ends the run as REFUSED, where the tool
 * keeps polling every second until the lock is free (the fault model's "the lock refuses
 * whichever comes second"); a lost device ends the run, no retries; no reboot after DFU.
 *
 *   IDLE, ENDED: no timer armed.  Other states: the timer is armed (the next exchange).
 *   always: off <= checkpoint <= cfg.img_length once DATA was reached.
 */
#ifndef MODELS_CLIENT_CC_HOST_H
#define MODELS_CLIENT_CC_HOST_H

#include <stdint.h>

#include "models/fw/cc_dfu.h"

enum client_cc_host_state {
    CLIENT_CC_HOST_IDLE,
    CLIENT_CC_HOST_SYNC_INACTIVE,
    CLIENT_CC_HOST_START,
    CLIENT_CC_HOST_STARTED,
    CLIENT_CC_HOST_DATA,
    CLIENT_CC_HOST_CHECKPOINT,
    CLIENT_CC_HOST_FINAL,
    CLIENT_CC_HOST_ENDED,
    CLIENT_CC_HOST_STATE_COUNT
};

enum client_cc_host_input {
    CLIENT_CC_HOST_IN_START, /* the host starts its run now */
    CLIENT_CC_HOST_IN_TIMER, /* the next exchange is due (the owner drops stale timers) */
    CLIENT_CC_HOST_IN_RESET, /* the device reset or lost power */
    CLIENT_CC_HOST_INPUT_COUNT
};

/* How a run ended. */
enum client_cc_host_end {
    CLIENT_CC_HOST_END_NONE,    /* not ended (or never started) */
    CLIENT_CC_HOST_END_DONE,    /* the device stored the whole image */
    CLIENT_CC_HOST_END_REFUSED, /* the device's DFU lock is held by another transport */
    CLIENT_CC_HOST_END_FAILED,  /* a checkpoint did not match (device timed out, ...) */
    CLIENT_CC_HOST_END_LOST     /* the device reset, or did not answer */
};

#define CLIENT_CC_HOST_UNEXPECTED 1 /* client_cc_host_step: input not expected in state */

/* Shared settings (per group; passed to every step, not kept). */
struct client_cc_host_cfg {
    uint32_t img_length;   /* bytes of the image the host uploads */
    uint32_t img_csum;     /* its checksum (dfu.py: zlib.crc32 of the file) */
    uint32_t payload;      /* data bytes per report: EVENT_DATA_LEN_MAX 24 */
    int64_t report_ns;     /* one feature-report exchange: POLL_INTERVAL_DEFAULT 20 ms */
    int64_t sync_wait_ns;  /* DFU_SYNC_INTERVAL 1 s */
    int64_t store_wait_ns; /* first sleep of a checkpoint that finds STORING: 0.3 s */
};

/* The upstream values above, img_length and img_csum 0. */
struct client_cc_host_cfg client_cc_host_cfg_default(void);

/* What the host acts through. Each exchange is handled by the device at once: it returns
 * 0 (sync: *out holds the answer), 1 when the device does not answer, or a negative
 * sim_err. */
struct client_cc_host_ctx {
    void *env;
    void (*timer_arm)(void *env, int64_t at_ns); /* the one timer, replacing an arming */
    void (*timer_cancel)(void *env);
    int (*sync)(void *env, struct fw_cc_dfu_sync_reply *out, int64_t now);
    int (*start)(void *env, const struct fw_cc_dfu_start *s, int64_t now);
    int (*data)(void *env, uint32_t n, int64_t now);
    void (*ended)(void *env, enum client_cc_host_end end, int64_t now); /* once */
};

/* Plain data, 16 bytes, one per device (zeroed = IDLE). */
struct client_cc_host {
    uint32_t off;        /* image bytes sent */
    uint32_t checkpoint; /* offset of the next checkpoint sync */
    uint16_t sync_buf;   /* the device's sync buffer size, bytes */
    uint16_t retries;    /* checkpoint syncs answered STORING */
    uint8_t state;       /* enum client_cc_host_state */
    uint8_t end;         /* enum client_cc_host_end */
};

/* One input at now. Returns 0, CLIENT_CC_HOST_UNEXPECTED (nothing changed; the owner
 * counts it), SIM_EINVAL (bad input or cfg), or a negative sim_err from the context. */
int client_cc_host_step(struct client_cc_host *h, const struct client_cc_host_cfg *cfg,
                        enum client_cc_host_input in, int64_t now,
                        const struct client_cc_host_ctx *cx);

const char *client_cc_host_end_name(enum client_cc_host_end e);

#endif /* MODELS_CLIENT_CC_HOST_H */
