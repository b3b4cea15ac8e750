/* models/smp/server.h - SMP server: splits a packet into requests, routes each through
 * one handler table, and builds the response frames with the v1/v2 error semantics.
 *
 * Mirrors zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/smp/src/smp.c
 * (smp_process_request_packet, smp_handle_single_req, smp_handle_single_payload,
 * smp_build_err_rsp) and subsys/mgmt/mcumgr/mgmt/src/mgmt.c (group registry). The server
 * never sees a transport: it sends each response through the function pointer in
 * struct smp_server_ctx, which the transport supplies.
 */
#ifndef MODELS_SMP_SERVER_H
#define MODELS_SMP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/smp/callbacks.h"
#include "models/smp/frame.h"

/* One request as a handler sees it. The server has already written the response map
 * start and writes its end: a handler only puts key/value pairs into *w. */
struct smp_server_req {
    struct smp_frame_hdr hdr;   /* request header */
    const uint8_t *payload;     /* hdr.len bytes of request CBOR; not owned */
    struct smp_frame_writer *w; /* response map body */
    int64_t now;                /* simulated time, ns */
    uint16_t err_group;         /* set by smp_server_req_err() */
    uint16_t err_rc;            /* 0: no group error */
};

/* A command handler. Returns an SMP rc (enum smp_mgmt_err, >= 0: data, not a C error):
 * 0 sends the map the handler built, anything else replaces it with {"rc": rc}. Returns
 * a negative sim_err only when the simulator itself failed; the server stops and passes
 * it on. state is the group's state given at registration. */
typedef int (*smp_server_handler_fn)(void *state, struct smp_server_req *rq);

/* Read and write handlers of one command id; NULL = op not supported (ENOTSUP). */
struct smp_server_handler {
    smp_server_handler_fn read;
    smp_server_handler_fn write;
};

/* Group error -> SMP v1 rc (e.g. img_mgmt_translate_error_code). */
typedef int (*smp_server_translate_fn)(uint16_t group_rc);

struct smp_server_group {
    const struct smp_server_handler *handlers; /* indexed by command id; not owned */
    size_t n_handlers;
    smp_server_translate_fn translate; /* NULL: v1 group errors become EUNKNOWN */
    void *state;                       /* passed to handlers; not owned */
    uint16_t id;                       /* enum smp_mgmt_group */
};

/* Firmware options of the SMP layer (Kconfig in Zephyr, runtime fields here). */
struct smp_server_cfg {
    /* CONFIG_MCUMGR_SMP_SUPPORT_ORIGINAL_PROTOCOL (default y): accept v1 requests;
     * off -> MGMT_ERR_UNSUPPORTED_TOO_OLD. */
    bool support_original_protocol;
};

/* Defaults as Zephyr's Kconfig sets them. */
struct smp_server_cfg smp_server_cfg_default(void);

#define SMP_SERVER_MAX_GROUPS 8

/* Plain data: one per device, in caller storage. */
struct smp_server {
    struct smp_server_cfg cfg;
    const struct smp_callbacks *callbacks; /* CMD_RECV / CMD_DONE hooks; NULL = none */
    struct smp_server_group groups[SMP_SERVER_MAX_GROUPS];
    size_t n_groups;
};

/* What the server acts through. */
struct smp_server_ctx {
    void *env;
    /* Hand one response frame (header + CBOR) to the transport, which copies it.
     * Returns 0 or a negative sim_err (then processing stops and the error is returned). */
    int (*send)(void *env, const uint8_t *frame, size_t n);
};

/* Counts for the caller (the netbuf model charges CPU time per request). */
struct smp_server_stats {
    size_t n_requests;  /* headers read whose body was complete */
    size_t n_responses; /* frames handed to send() */
    int stop_rc;        /* SMP rc that ended processing early (0: none) */
};

/* callbacks may be NULL. Allocates nothing. */
void smp_server_init(struct smp_server *s, const struct smp_server_cfg *cfg,
                     const struct smp_callbacks *callbacks);
/* Forget the registered groups (their state is the caller's). */
void smp_server_fini(struct smp_server *s);

/* Register a group (copied). Returns 0, SIM_EINVAL if the id is already registered or
 * handlers is NULL, SIM_ERANGE when the table is full (unchanged on failure). */
int smp_server_group_add(struct smp_server *s, const struct smp_server_group *g);

/* Process one received packet pkt[0..n), which may hold several requests back to back
 * (smp.c loop):
 *   - fewer than 8 bytes left for a header: stop, no response;
 *   - fewer than hdr.len bytes after it: {"rc": ECORRUPT}, stop;
 *   - op not READ/WRITE: {"rc": ENOTSUP} with op WRITE_RSP, stop;
 *   - v1 with support_original_protocol off: UNSUPPORTED_TOO_OLD; version > 1:
 *     UNSUPPORTED_TOO_NEW (response version 1); unknown group/command/op: ENOTSUP;
 *   - a handler's rc != 0, or a v1 request that got a group error (translated): {"rc"},
 *     stop. A v2 group error is a normal response carrying "err" and processing goes on.
 * Each response is built in rsp[0..rsp_cap) (the response net_buf) and sent separately;
 * a response that does not fit becomes {"rc": EMSGSIZE}. rsp == NULL models an empty
 * buffer pool: the request is answered {"rc": ENOMEM}. now is ns. stats may be NULL.
 * Returns 0 (SMP errors are data and go into frames), or a negative sim_err from send()
 * or a handler. */
int smp_server_process(const struct smp_server *s, const uint8_t *pkt, size_t n, uint8_t *rsp,
                       size_t rsp_cap, int64_t now, const struct smp_server_ctx *cx,
                       struct smp_server_stats *stats);

/* For handlers: record a group error and put "err": {"group": g, "rc": rc} into the
 * response (smp_add_cmd_err). rc == 0 does nothing. */
void smp_server_req_err(struct smp_server_req *rq, uint16_t group, uint16_t rc);

#endif /* MODELS_SMP_SERVER_H */
