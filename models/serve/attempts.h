/* models/serve/attempts.h - a device's DFU attempts as its side of the wire shows them
 * (dfusim serve: the client is outside the simulator, so its attempts are read from the
 * SMP requests it sends and the responses the device gives).
 *
 * Requests are remembered by their SMP sequence number until the response with that
 * number leaves; only answered requests count, and a response with "rc" != 0 or a v2
 * "err" is a refusal. Definitions (each field of struct recorder_attempt):
 *
 *   begins        when the device accepts an upload chunk at offset 0 (image upload,
 *                 group 1 command 1) and no attempt's upload is under way, or its upload
 *                 has gone past its first chunk: an attempt still open then ends
 *                 "failed" ("a new upload began"). A second chunk at offset 0 before any
 *                 other chunk is a resend within the attempt.
 *   start_ns      the first request answered since the last attempt ended (else the
 *                 chunk's); connect_ns the same (UDP has no connection)
 *   validate_ns   the first image list (state read) or bootloader info answered in that
 *                 window before the upload, else RECORDER_NONE
 *   upload_start_ns / upload_end_ns  the first chunk's request arrives / the response
 *                 whose "off" reaches the image length leaves
 *   bytes_sent, chunks   data bytes and chunks of the upload requests answered;
 *                 bytes_resent / retransmissions: of them, chunks at an offset below the
 *                 highest already reached
 *   test_ns       an image state write answered after the upload, before the reset
 *   reset_ns      an OS reset answered after the upload
 *   reconnect_ns  the first request answered after the device rebooted from that reset
 *   confirm_ns    an image state write with confirm answered after that reboot
 *   ends          at a request answered after the reboot: "updated" when the device runs
 *                 the update confirmed, "reverted" when it ran it and is back on the old
 *                 image, "failed" ("the new image did not run after the reset") when it
 *                 never ran it; while it runs it unconfirmed the attempt stays open. At
 *                 the end of the session an open attempt ends "updated" (if the device
 *                 runs the update confirmed) or "cancelled" ("the serve session ended").
 * Chunks: one per upload response, with its request's arrival and its own departure.
 */
#ifndef MODELS_SERVE_ATTEMPTS_H
#define MODELS_SERVE_ATTEMPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/recorder.h"

/* What the device is doing (read when a response leaves). */
struct serve_attempts_dev {
    uint32_t n_boots; /* MCUboot runs so far */
    bool runs_update; /* the application runs the update image */
    bool confirmed;   /* the running image is confirmed */
    bool ran_update;  /* the update image ran at least once */
};

struct serve_attempts_ctx {
    void *env;
    void (*begin)(void *env, int64_t now);
    void (*end)(void *env, const struct recorder_attempt *a);
    void (*chunk)(void *env, const struct recorder_chunk *c);
    void (*device)(void *env, struct serve_attempts_dev *out);
};

struct serve_attempts_req {
    int64_t at;
    uint32_t off, len, data_len;
    uint16_t group;
    uint8_t id, op;
    bool valid, confirm;
};

/* One per served device; plain data (about 6 KiB). */
struct serve_attempts {
    struct serve_attempts_req req[256]; /* by sequence number */
    struct recorder_attempt a;          /* the open attempt */
    bool open, upload_done, reset_seen;
    uint32_t boots_at_reset;
    uint32_t max_off, image_len, chunk_seq;
    int64_t window_ns;   /* first request answered since the last attempt, RECORDER_NONE */
    int64_t validate_ns; /* first list or bootloader info in that window, RECORDER_NONE */
};

void serve_attempts_init(struct serve_attempts *t);
/* A request datagram reached the device at now (anything: malformed ones are ignored). */
void serve_attempts_request(struct serve_attempts *t, const uint8_t *p, size_t n, int64_t now);
/* A response datagram left the device at now. */
void serve_attempts_response(struct serve_attempts *t, const uint8_t *p, size_t n, int64_t now,
                             const struct serve_attempts_ctx *cx);
/* The session ends at now: an open attempt ends (see above). */
void serve_attempts_finish(struct serve_attempts *t, int64_t now,
                           const struct serve_attempts_ctx *cx);

#endif /* MODELS_SERVE_ATTEMPTS_H */
