/* models/smp/callbacks.h - MCUmgr notification callbacks: registration and notify.
 *
 * Firmware modules register callbacks for events (command received, upload chunk, reset,
 * ...) and may veto the operation. Mirrors zephyrproject-rtos/zephyr:
 * include/zephyr/mgmt/mcumgr/mgmt/callbacks.h and subsys/mgmt/mcumgr/mgmt/src/mgmt.c.
 */
#ifndef MODELS_SMP_CALLBACKS_H
#define MODELS_SMP_CALLBACKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Event id = (event group << 16) | BIT(n) (callbacks.h MGMT_DEF_EVT_OP_ID). */
#define SMP_CALLBACKS_EVT(grp, bit)    (((uint32_t)(grp) << 16) | (1u << (bit)))
#define SMP_CALLBACKS_EVT_GRP_ALL(grp) (((uint32_t)(grp) << 16) | 0xffffu)
#define SMP_CALLBACKS_EVT_ALL          0xffffffffu /* MGMT_EVT_OP_ALL: every event */

/* Event groups (enum mgmt_cb_groups). */
enum smp_callbacks_group {
    SMP_CALLBACKS_GRP_ALL = 0,
    SMP_CALLBACKS_GRP_SMP = 1,
    SMP_CALLBACKS_GRP_OS = 2,
    SMP_CALLBACKS_GRP_IMG = 3
};

/* SMP command status hooks (CONFIG_MCUMGR_SMP_COMMAND_STATUS_HOOKS). */
#define SMP_CALLBACKS_EVT_CMD_RECV                     SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_SMP, 0)
#define SMP_CALLBACKS_EVT_CMD_STATUS                   SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_SMP, 1)
#define SMP_CALLBACKS_EVT_CMD_DONE                     SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_SMP, 2)
/* OS group. */
#define SMP_CALLBACKS_EVT_OS_RESET                     SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_OS, 0)
/* Image group (CONFIG_MCUMGR_GRP_IMG_UPLOAD_CHECK_HOOK / _STATUS_HOOKS). */
#define SMP_CALLBACKS_EVT_IMG_DFU_CHUNK                SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_IMG, 0)
#define SMP_CALLBACKS_EVT_IMG_DFU_STOPPED              SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_IMG, 1)
#define SMP_CALLBACKS_EVT_IMG_DFU_STARTED              SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_IMG, 2)
#define SMP_CALLBACKS_EVT_IMG_DFU_PENDING              SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_IMG, 3)
#define SMP_CALLBACKS_EVT_IMG_DFU_CONFIRMED            SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_IMG, 4)
#define SMP_CALLBACKS_EVT_IMG_DFU_CHUNK_WRITE_COMPLETE SMP_CALLBACKS_EVT(SMP_CALLBACKS_GRP_IMG, 5)
#define SMP_CALLBACKS_EVT_IMG_ALL                      SMP_CALLBACKS_EVT_GRP_ALL(SMP_CALLBACKS_GRP_IMG)

/* What a callback answers (enum mgmt_cb_return). */
enum smp_callbacks_status {
    SMP_CALLBACKS_OK = 0,       /* carry on */
    SMP_CALLBACKS_ERROR_RC = 1, /* reject; *rc is an SMP error sent as "rc" */
    SMP_CALLBACKS_ERROR_ERR = 2 /* reject; *group and *rc are sent as "err" */
};

/* Data of CMD_RECV (op valid), CMD_STATUS (status valid) and CMD_DONE (err valid)
 * (struct mgmt_evt_op_cmd_arg). */
struct smp_callbacks_cmd {
    int32_t err;    /* CMD_DONE: 0, or the SMP rc that ended the request */
    int32_t status; /* CMD_STATUS: e.g. SMP_IMG_MGMT_UPLOAD_STATUS_* */
    uint16_t group; /* request's group id */
    uint8_t id;     /* request's command id */
    uint8_t op;     /* CMD_RECV: request's op */
};

/* A callback. prev is the status decided by earlier callbacks (a later callback is still
 * called, as a notification, and must not overwrite rc/group when prev != OK). Setting
 * *abort_more stops the walk. now is simulated time in ns (our addition: Zephyr callbacks
 * read the kernel clock). data is owned by the notifier and valid during the call. */
typedef enum smp_callbacks_status (*smp_callbacks_fn)(void *env, uint32_t event,
                                                      enum smp_callbacks_status prev, int32_t *rc,
                                                      uint16_t *group, bool *abort_more,
                                                      const void *data, size_t size, int64_t now);

#define SMP_CALLBACKS_MAX 8

struct smp_callbacks_entry {
    uint32_t events; /* one event, a group's ..._GRP_ALL, or SMP_CALLBACKS_EVT_ALL */
    smp_callbacks_fn fn;
    void *env;
};

/* Registry, in registration order (Zephyr appends to a list). Plain data, caller storage. */
struct smp_callbacks {
    struct smp_callbacks_entry entries[SMP_CALLBACKS_MAX];
    size_t n_entries;
};

void smp_callbacks_init(struct smp_callbacks *c);
/* Forget every registration. */
void smp_callbacks_fini(struct smp_callbacks *c);

/* Append a callback. Returns 0, SIM_EINVAL if fn is NULL, SIM_ERANGE when full
 * (the registry is then unchanged). */
int smp_callbacks_register(struct smp_callbacks *c, uint32_t events, smp_callbacks_fn fn,
                           void *env);

/* Call every matching callback in order. The first callback that fails decides the
 * returned status and what is in *rc and *group (both zeroed first); later ones run as
 * notifications unless one sets abort_more. c may be NULL (hooks not configured):
 * returns SMP_CALLBACKS_OK. */
enum smp_callbacks_status smp_callbacks_notify(const struct smp_callbacks *c, uint32_t event,
                                               const void *data, size_t size, int64_t now,
                                               int32_t *rc, uint16_t *group);

#endif /* MODELS_SMP_CALLBACKS_H */
