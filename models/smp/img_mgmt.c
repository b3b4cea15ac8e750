/* models/smp/img_mgmt.c - MCUmgr image group handlers.
 * Sources: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c
 * (upload, erase, translation), img_mgmt_state.c (next boot, slot in use, state read and
 * write) and zephyr_img_mgmt.c (upload inspect). */
#include "models/smp/img_mgmt.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "sim/error.h"

/* Next-boot type (enum img_mgmt_next_boot_type). */
enum next_boot { NB_NORMAL, NB_TEST, NB_REVERT };

/* State-read flags per slot (REPORT_SLOT_*). */
enum { F_ACTIVE = 1, F_PENDING = 2, F_CONFIRMED = 4, F_PERMANENT = 8 };

/* The running application is image 0 (NUMBER_OF_ACTIVE_IMAGE for slot0_partition). */
#define ACTIVE_IMAGE 0

struct smp_img_mgmt_cfg smp_img_mgmt_cfg_default(void)
{
    return (struct smp_img_mgmt_cfg){
        .n_images = 1,
        .mode = SMP_IMG_MGMT_MODE_SWAP,
        .image_check = true,
        .allow_erase_pending = true,
        .confirm_other_image_secondary = true,
        .confirm_non_active_slot = true,
    };
}

void smp_img_mgmt_reset_upload(struct smp_img_mgmt *m)
{
    memset(&m->up, 0, sizeof(m->up));
    m->up.slot = -1;
}

static void notify(const struct smp_img_mgmt *m, uint32_t event, const void *data, size_t size,
                   int64_t now)
{
    int32_t rc;
    uint16_t group;
    (void)smp_callbacks_notify(m->callbacks, event, data, size, now, &rc, &group);
}

/* ---- slots and next boot ---------------------------------------------------------- */

static int n_slots(const struct smp_img_mgmt *m)
{
    return 2 * m->cfg.n_images;
}

static int read_info(const struct smp_img_mgmt *m, int slot, struct smp_img_slots_info *info)
{
    if (slot < 0 || slot >= n_slots(m))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    return m->slots.ops->read_info(m->slots.env, slot, info);
}

static int active_slot(const struct smp_img_mgmt *m, int image)
{
    return m->slots.ops->active_slot(m->slots.env, image);
}

/* img_mgmt_get_opposite_slot: the other slot of the same image. */
static int opposite(int slot)
{
    return slot ^ 1;
}

/* img_mgmt_vercmp: major, minor, revision, then build only if configured. */
static int vercmp(const struct smp_img_mgmt *m, const struct smp_img_slots_version *a,
                  const struct smp_img_slots_version *b)
{
    if (a->major != b->major)
        return a->major < b->major ? -1 : 1;
    if (a->minor != b->minor)
        return a->minor < b->minor ? -1 : 1;
    if (a->revision != b->revision)
        return a->revision < b->revision ? -1 : 1;
    if (m->cfg.version_cmp_build && a->build != b->build)
        return a->build < b->build ? -1 : 1;
    return 0;
}

/* Swap modes: the slot booted next and how, from MCUboot's swap type. */
static int next_boot_swap(const struct smp_img_mgmt *m, int image, enum next_boot *type)
{
    int a = active_slot(m, image);
    *type = NB_NORMAL;
    switch (m->slots.ops->swap_type(m->slots.env, image)) {
    case SMP_IMG_SLOTS_SWAP_NONE:
        return a;
    case SMP_IMG_SLOTS_SWAP_PERM:
        return opposite(a);
    case SMP_IMG_SLOTS_SWAP_REVERT:
        *type = NB_REVERT;
        return opposite(a);
    case SMP_IMG_SLOTS_SWAP_TEST:
        *type = NB_TEST;
        return opposite(a);
    default:
        return -1; /* "should never happen" upstream */
    }
}

/* Direct-XIP with revert: from the trailer states of both slots and their versions. */
static int next_boot_xip_revert(const struct smp_img_mgmt *m, int a, int o,
                                const struct smp_img_slots_info *ai, int rca,
                                const struct smp_img_slots_info *oi, int rco, enum next_boot *type)
{
    if (rca != 0 || (rco != 0 && rco != SMP_IMG_SLOTS_ERR_NO_IMAGE))
        return a;
    int as = m->slots.ops->xip_state(m->slots.env, a);
    int os = m->slots.ops->xip_state(m->slots.env, o);
    if (as < 0 || os < 0 || rco == SMP_IMG_SLOTS_ERR_NO_IMAGE)
        return a;
    if (as == SMP_IMG_SLOTS_XIP_REVERT) {
        *type = NB_REVERT;
        return o;
    }
    if (os == SMP_IMG_SLOTS_XIP_UNSET) {
        if (as == SMP_IMG_SLOTS_XIP_ONCE)
            *type = NB_TEST;
        return a;
    }
    if (vercmp(m, &ai->ver, &oi->ver) < 0) {
        if (os == SMP_IMG_SLOTS_XIP_FOREVER)
            return o;
        if (os == SMP_IMG_SLOTS_XIP_ONCE) {
            *type = NB_TEST;
            return o;
        }
    }
    return a;
}

/* img_mgmt_get_next_boot_slot. */
static int next_boot(const struct smp_img_mgmt *m, int image, enum next_boot *type)
{
    if (m->cfg.mode == SMP_IMG_MGMT_MODE_SWAP)
        return next_boot_swap(m, image, type);
    *type = NB_NORMAL;
    int a = active_slot(m, image), o = opposite(a);
    struct smp_img_slots_info ai, oi;
    int rca = read_info(m, a, &ai), rco = read_info(m, o, &oi);
    if (m->cfg.mode == SMP_IMG_MGMT_MODE_DIRECT_XIP_REVERT)
        return next_boot_xip_revert(m, a, o, &ai, rca, &oi, rco, type);
    return (rca == 0 && rco == 0 && vercmp(m, &ai.ver, &oi.ver) < 0) ? o : a;
}

/* img_mgmt_slot_in_use: active, marked for revert, or (without ALLOW_ERASE_PENDING)
 * pending. */
static bool slot_in_use(const struct smp_img_mgmt *m, int slot)
{
    int a = active_slot(m, slot / 2);
    if (m->cfg.mode != SMP_IMG_MGMT_MODE_DIRECT_XIP) {
        enum next_boot type;
        int nbs = next_boot(m, slot / 2, &type);
        if (slot == nbs && type == NB_REVERT)
            return true;
        bool pending = (slot == nbs && type == NB_TEST) || (a != nbs && type == NB_NORMAL);
        if (pending && !m->cfg.allow_erase_pending)
            return true;
    }
    return a == slot;
}

/* img_mgmt_get_unused_slot_area_id: single image -> first unused of slots 0/1;
 * several images -> the slot opposite the image's active one, if unused. */
static int unused_slot(const struct smp_img_mgmt *m, uint32_t image)
{
    if (m->cfg.n_images == 1) {
        for (int slot = 0; slot < 2; slot++)
            if (!slot_in_use(m, slot))
                return slot;
        return -1;
    }
    if (image >= (uint32_t)m->cfg.n_images)
        return -1;
    int slot = opposite(active_slot(m, (int)image));
    return slot_in_use(m, slot) ? -1 : slot;
}

/* ---- upload ----------------------------------------------------------------------- */

/* Checks of the first chunk (rows 2a..2i of the decision table). */
static int inspect_first(struct smp_img_mgmt *m, const struct smp_img_mgmt_upload_req *req,
                         struct smp_img_mgmt_upload_action *act)
{
    if (req->data_len < SMP_IMG_SLOTS_HDR_SIZE)
        return SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER;
    if (!req->has_len)
        return SMP_IMG_SLOTS_ERR_INVALID_LENGTH;
    act->size = req->size;
    uint32_t magic, load, flags;
    struct smp_img_slots_version ver;
    smp_img_slots_hdr_parse(req->data, &magic, &load, &ver, &flags);
    if (magic != SMP_IMG_SLOTS_MAGIC)
        return SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC;
    if (req->sha_len > SMP_IMG_SLOTS_HASH_LEN)
        return SMP_IMG_SLOTS_ERR_INVALID_HASH;
    if (req->sha_len > 0 && m->up.slot != -1 && m->up.sha_len == req->sha_len &&
        memcmp(m->up.sha, req->sha, req->sha_len) == 0)
        return 0; /* resume: proceed stays false */
    act->slot = unused_slot(m, req->image);
    if (act->slot < 0)
        return SMP_IMG_SLOTS_ERR_NO_FREE_SLOT;
    const struct smp_img_slots_ops *ops = m->slots.ops;
    if (req->size > ops->slot_size(m->slots.env, act->slot))
        return SMP_IMG_SLOTS_ERR_INVALID_IMAGE_TOO_LARGE;
    if (m->cfg.reject_xip_mismatched_slot && (flags & SMP_IMG_SLOTS_F_ROM_FIXED) &&
        ops->slot_addr(m->slots.env, act->slot) != load)
        return SMP_IMG_SLOTS_ERR_INVALID_FLASH_ADDRESS;
    if (req->upgrade) {
        struct smp_img_slots_info cur;
        if (read_info(m, active_slot(m, ACTIVE_IMAGE), &cur) != 0)
            return SMP_IMG_SLOTS_ERR_VERSION_GET_FAILED;
        if (vercmp(m, &cur.ver, &ver) >= 0)
            return SMP_IMG_SLOTS_ERR_CURRENT_VERSION_IS_NEWER;
    }
    if (!m->cfg.erase_progressively || m->cfg.erase == SMP_IMG_MGMT_ERASE_WHOLE_SLOT) {
        bool empty = false;
        int rc = ops->is_empty(m->slots.env, act->slot, &empty);
        if (rc != 0)
            return rc;
        act->erase = !empty;
    }
    act->write_bytes = (uint32_t)req->data_len;
    act->proceed = true;
    return 0;
}

/* img_mgmt_upload_inspect: an img error, or 0 with act->proceed saying whether to write. */
static int inspect(struct smp_img_mgmt *m, const struct smp_img_mgmt_upload_req *req,
                   struct smp_img_mgmt_upload_action *act)
{
    memset(act, 0, sizeof(*act));
    act->slot = -1;
    if (!req->has_off)
        return SMP_IMG_SLOTS_ERR_INVALID_OFFSET;
    if (req->off == 0)
        return inspect_first(m, req, act);
    act->slot = m->up.slot;
    act->size = m->up.size;
    if (req->off != m->up.off)
        return 0; /* wrong offset: drop the data, report the expected one */
    if ((uint64_t)req->off + req->data_len > act->size)
        return SMP_IMG_SLOTS_ERR_INVALID_IMAGE_DATA_OVERRUN;
    act->write_bytes = (uint32_t)req->data_len;
    act->proceed = true;
    return 0;
}

enum { U_IMAGE, U_DATA, U_LEN, U_OFF, U_SHA, U_UPGRADE, U_COUNT };

static int decode_upload(const struct smp_server_req *rq, struct smp_img_mgmt_upload_req *req)
{
    struct smp_frame_field f[U_COUNT] = {
        [U_IMAGE] = {.key = "image", .type = SMP_FRAME_T_U32},
        [U_DATA] = {.key = "data", .type = SMP_FRAME_T_BSTR},
        [U_LEN] = {.key = "len", .type = SMP_FRAME_T_U32},
        [U_OFF] = {.key = "off", .type = SMP_FRAME_T_U32},
        [U_SHA] = {.key = "sha", .type = SMP_FRAME_T_BSTR},
        [U_UPGRADE] = {.key = "upgrade", .type = SMP_FRAME_T_BOOL},
    };
    if (smp_frame_map_decode(rq->payload, rq->hdr.len, f, U_COUNT) != 0)
        return SMP_MGMT_ERR_EINVAL;
    *req = (struct smp_img_mgmt_upload_req){
        .data = f[U_DATA].found ? f[U_DATA].str : NULL,
        .data_len = f[U_DATA].found ? f[U_DATA].str_len : 0,
        .sha = f[U_SHA].found ? f[U_SHA].str : NULL,
        .sha_len = f[U_SHA].found ? f[U_SHA].str_len : 0,
        .image = f[U_IMAGE].found ? f[U_IMAGE].u32 : 0,
        .off = f[U_OFF].u32,
        .size = f[U_LEN].u32,
        .has_off = f[U_OFF].found,
        .has_len = f[U_LEN].found,
        .upgrade = f[U_UPGRADE].found && f[U_UPGRADE].b,
    };
    return 0;
}

/* Where an upload request ends up; collected so that one exit path builds the reply. */
struct upload_run {
    int rc;         /* img error or hook rc: the upload is stopped and reset */
    bool last;      /* the image is complete: "match" goes in the reply */
    bool reset;     /* forget the upload after a good reply */
    bool match;     /* data matches the sha the client sent */
    int32_t status; /* CMD_STATUS value */
};

/* Upload-check hook (MGMT_EVT_OP_IMG_MGMT_DFU_CHUNK). Returns true if vetoed. */
static bool upload_check(struct smp_img_mgmt *m, struct smp_server_req *rq,
                         const struct smp_img_mgmt_upload_req *req,
                         const struct smp_img_mgmt_upload_action *act, struct upload_run *run)
{
    struct smp_img_mgmt_upload_check data = {.req = req, .action = act};
    int32_t rc;
    uint16_t group;
    enum smp_callbacks_status st = smp_callbacks_notify(
        m->callbacks, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK, &data, sizeof(data), rq->now, &rc, &group);
    if (st == SMP_CALLBACKS_OK)
        return false;
    if (st == SMP_CALLBACKS_ERROR_RC) {
        /* The handler itself puts "rc" into its map (not an SMP-level error response),
         * then the upload is stopped: {"rc": 11} for nRF Desktop. */
        run->rc = rc;
        smp_frame_put_text(rq->w, "rc");
        smp_frame_put_int(rq->w, rc);
    } else {
        smp_server_req_err(rq, group, (uint16_t)rc); /* upload state kept, "off" follows */
    }
    return true;
}

/* First chunk after inspect: start the upload, maybe skip it by hash, maybe erase. Returns
 * true if the request is finished (skip or failure). */
static bool upload_start(struct smp_img_mgmt *m, struct smp_server_req *rq,
                         const struct smp_img_mgmt_upload_req *req, struct upload_run *run)
{
    const struct smp_img_slots_ops *ops = m->slots.ops;
    m->up.off = 0;
    notify(m, SMP_CALLBACKS_EVT_IMG_DFU_STARTED, NULL, 0, rq->now);
    run->status = SMP_IMG_MGMT_UPLOAD_STATUS_START;
    /* A sha of any length up to 32 is kept for resume; it is up to the client. */
    m->up.sha_len = (uint8_t)req->sha_len;
    memset(m->up.sha, 0, sizeof(m->up.sha));
    if (req->sha_len > 0)
        memcpy(m->up.sha, req->sha, req->sha_len);
    if (m->cfg.image_check && m->up.sha_len == SMP_IMG_SLOTS_HASH_LEN &&
        ops->check_sha(m->slots.env, m->up.slot, m->up.size, m->up.sha) == 0) {
        m->up.off = m->up.size; /* already there: tell the client it is done */
        run->reset = run->last = run->match = true;
        run->status = SMP_IMG_MGMT_UPLOAD_STATUS_COMPLETE;
        return true;
    }
    return false;
}

/* Write the chunk; on the last one check the hash and raise DFU_PENDING. */
static void upload_write(struct smp_img_mgmt *m, struct smp_server_req *rq,
                         const struct smp_img_mgmt_upload_req *req,
                         const struct smp_img_mgmt_upload_action *act, struct upload_run *run)
{
    const struct smp_img_slots_ops *ops = m->slots.ops;
    if (req->data_len == 0)
        return;
    run->last = (uint64_t)m->up.off + req->data_len == m->up.size;
    int rc = ops->write(m->slots.env, m->up.slot, req->off, req->data, act->write_bytes, run->last);
    if (rc != 0) { /* not recoverable upstream either */
        run->status = SMP_IMG_MGMT_UPLOAD_STATUS_COMPLETE;
        run->reset = true;
        run->rc = rc;
        smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, (uint16_t)rc);
        return;
    }
    m->up.off += act->write_bytes;
    if (m->up.off != m->up.size) {
        notify(m, SMP_CALLBACKS_EVT_IMG_DFU_CHUNK_WRITE_COMPLETE, NULL, 0, rq->now);
        return;
    }
    run->reset = true;
    if (m->cfg.image_check)
        run->match = ops->check_sha(m->slots.env, m->up.slot, m->up.size, m->up.sha) == 0;
    notify(m, SMP_CALLBACKS_EVT_IMG_DFU_PENDING, NULL, 0, rq->now);
}

/* The first chunk's erase, when the slot is not empty (act->erase): today's `len` bytes
 * and the trailer unless progressive, or older mcumgr's whole slot (enum
 * smp_img_mgmt_erase). Returns an img error. */
static int first_erase(struct smp_img_mgmt *m, const struct smp_img_mgmt_upload_req *req,
                       const struct smp_img_mgmt_upload_action *act)
{
    if (!act->erase)
        return 0;
    if (m->cfg.erase == SMP_IMG_MGMT_ERASE_WHOLE_SLOT)
        return m->slots.ops->erase_slot(m->slots.env, m->up.slot);
    if (m->cfg.erase_progressively)
        return 0;
    return m->slots.ops->erase_upload(m->slots.env, m->up.slot, req->size);
}

static void put_off(struct smp_img_mgmt *m, struct smp_server_req *rq)
{
    smp_frame_put_text(rq->w, "off");
    smp_frame_put_uint(rq->w, m->up.off);
}

/* Upload (WRITE), the sequence of img_mgmt_upload(). */
static int upload(void *state, struct smp_server_req *rq)
{
    struct smp_img_mgmt *m = state;
    struct smp_img_mgmt_upload_req req;
    if (decode_upload(rq, &req) != 0)
        return SMP_MGMT_ERR_EINVAL;
    struct smp_img_mgmt_upload_action act;
    struct upload_run run = {.status = SMP_IMG_MGMT_UPLOAD_STATUS_START};
    run.rc = inspect(m, &req, &act);
    if (run.rc != 0) {
        notify(m, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED, NULL, 0, rq->now);
        smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, (uint16_t)run.rc);
        goto end;
    }
    if (!act.proceed) {
        put_off(m, rq);
        return 0;
    }
    if (upload_check(m, rq, &req, &act, &run))
        goto end;
    m->up.slot = act.slot;
    m->up.size = act.size;
    if (req.off == 0) {
        if (upload_start(m, rq, &req, &run))
            goto end;
        run.rc = first_erase(m, &req, &act);
        if (run.rc != 0) {
            smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, (uint16_t)run.rc);
            goto end;
        }
    } else {
        run.status = SMP_IMG_MGMT_UPLOAD_STATUS_ONGOING;
    }
    upload_write(m, rq, &req, &act, &run);
end:;
    struct smp_callbacks_cmd st = {
        .group = SMP_MGMT_GROUP_IMAGE, .id = SMP_IMG_MGMT_ID_UPLOAD, .status = run.status};
    notify(m, SMP_CALLBACKS_EVT_CMD_STATUS, &st, sizeof(st), rq->now);
    if (run.rc != 0) {
        notify(m, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED, NULL, 0, rq->now);
        smp_img_mgmt_reset_upload(m);
        return 0;
    }
    put_off(m, rq);
    if (run.last && m->cfg.image_check) {
        smp_frame_put_text(rq->w, "match");
        smp_frame_put_bool(rq->w, run.match);
    }
    if (run.reset)
        smp_img_mgmt_reset_upload(m);
    smp_img_mgmt_check(m);
    return 0;
}

/* ---- state ------------------------------------------------------------------------ */

void smp_img_mgmt_ver_str(const struct smp_img_slots_version *v, char *out, size_t cap)
{
    if (v->build != 0)
        snprintf(out, cap, "%u.%u.%u.%u", v->major, v->minor, v->revision, v->build);
    else
        snprintf(out, cap, "%u.%u.%u", v->major, v->minor, v->revision);
}

static void put_flag(struct smp_img_mgmt *m, struct smp_server_req *rq, const char *key, bool v)
{
    if (m->cfg.frugal_list && !v)
        return;
    smp_frame_put_text(rq->w, key);
    smp_frame_put_bool(rq->w, v);
}

/* One entry of "images"; slots without a readable image are left out. */
static void put_slot(struct smp_img_mgmt *m, struct smp_server_req *rq, int slot, int flags)
{
    struct smp_img_slots_info info;
    if (read_info(m, slot, &info) != 0)
        return;
    char ver[32];
    smp_img_mgmt_ver_str(&info.ver, ver, sizeof(ver));
    smp_frame_put_map(rq->w, SMP_FRAME_INDEF);
    if (m->cfg.n_images > 1) {
        smp_frame_put_text(rq->w, "image");
        smp_frame_put_uint(rq->w, (uint64_t)slot >> 1);
    }
    smp_frame_put_text(rq->w, "slot");
    smp_frame_put_uint(rq->w, (uint64_t)slot % 2);
    smp_frame_put_text(rq->w, "version");
    smp_frame_put_text(rq->w, ver);
    smp_frame_put_text(rq->w, "hash");
    smp_frame_put_bstr(rq->w, info.hash, sizeof(info.hash));
    put_flag(m, rq, "bootable", !(info.flags & SMP_IMG_SLOTS_F_NON_BOOTABLE));
    put_flag(m, rq, "pending", flags & F_PENDING);
    put_flag(m, rq, "confirmed", flags & F_CONFIRMED);
    put_flag(m, rq, "active", flags & F_ACTIVE);
    put_flag(m, rq, "permanent", flags & F_PERMANENT);
    smp_frame_put_end(rq->w);
}

/* State read (READ): {"images": [...], "splitStatus": 0}. */
static int state_read(void *state, struct smp_server_req *rq)
{
    struct smp_img_mgmt *m = state;
    smp_frame_put_text(rq->w, "images");
    smp_frame_put_list(rq->w, SMP_FRAME_INDEF);
    for (int image = 0; image < m->cfg.n_images; image++) {
        enum next_boot type;
        int nbs = next_boot(m, image, &type);
        int a = active_slot(m, image), o = opposite(a);
        int fa = F_ACTIVE | (type != NB_REVERT ? F_CONFIRMED : 0), fo = 0;
        if (nbs != a)
            fo = type == NB_NORMAL   ? F_PENDING | F_PERMANENT
                 : type == NB_REVERT ? F_CONFIRMED
                                     : F_PENDING;
        put_slot(m, rq, a < o ? a : o, a < o ? fa : fo);
        put_slot(m, rq, a < o ? o : a, a < o ? fo : fa);
    }
    smp_frame_put_end(rq->w);
    if (!m->cfg.frugal_list) {
        smp_frame_put_text(rq->w, "splitStatus");
        smp_frame_put_uint(rq->w, 0);
    }
    return 0;
}

/* boot_set_next, then DFU_CONFIRMED when the running image got confirmed. */
static int set_next_common(struct smp_img_mgmt *m, int slot, int a, bool confirm, int64_t now)
{
    int rc = m->slots.ops->set_next(m->slots.env, slot, slot == a, confirm);
    if (rc == 0 && slot == a && confirm)
        notify(m, SMP_CALLBACKS_EVT_IMG_DFU_CONFIRMED, NULL, 0, now);
    return rc;
}

/* img_mgmt_set_next_boot_slot, swap modes: the rejection table of image state write. */
static int set_next_boot_slot(struct smp_img_mgmt *m, int slot, bool confirm, int64_t now)
{
    int image = slot / 2;
    int a = active_slot(m, image);
    if (m->cfg.mode == SMP_IMG_MGMT_MODE_DIRECT_XIP_REVERT) {
        if (slot == a && !confirm)
            return SMP_IMG_SLOTS_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED;
        return set_next_common(m, slot, a, confirm, now);
    }
    enum next_boot type;
    int nbs = next_boot(m, image, &type);
    if (!m->cfg.confirm_other_image_any && confirm && image != ACTIVE_IMAGE &&
        (!m->cfg.confirm_other_image_secondary || slot == a))
        return SMP_IMG_SLOTS_ERR_IMAGE_CONFIRMATION_DENIED;
    if (!m->cfg.confirm_non_active_slot && confirm && slot != a)
        return SMP_IMG_SLOTS_ERR_IMAGE_CONFIRMATION_DENIED;
    if (!confirm && slot == a)
        return SMP_IMG_SLOTS_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED;
    switch (type) {
    case NB_TEST:
        return (!confirm && slot == nbs) ? 0 : SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING;
    case NB_NORMAL:
        if (confirm && slot == nbs)
            return 0;
        if ((slot == a && a != nbs) || (!confirm && slot != a && slot == nbs))
            return SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING;
        break;
    case NB_REVERT:
        if (confirm && slot == nbs)
            return 0;
        if (!confirm)
            return SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING;
        break;
    }
    return set_next_common(m, slot, a, confirm, now);
}

static int find_by_hash(const struct smp_img_mgmt *m, const uint8_t *hash)
{
    for (int slot = 0; slot < n_slots(m); slot++) {
        struct smp_img_slots_info info;
        if (read_info(m, slot, &info) == 0 && memcmp(info.hash, hash, sizeof(info.hash)) == 0)
            return slot;
    }
    return -1;
}

/* State write (WRITE): {"hash": bstr32, "confirm": bool}; answers the new state. */
static int state_write(void *state, struct smp_server_req *rq)
{
    struct smp_img_mgmt *m = state;
    struct smp_frame_field f[] = {{.key = "hash", .type = SMP_FRAME_T_BSTR},
                                  {.key = "confirm", .type = SMP_FRAME_T_BOOL}};
    if (smp_frame_map_decode(rq->payload, rq->hdr.len, f, 2) != 0)
        return SMP_MGMT_ERR_EINVAL;
    bool confirm = f[1].found && f[1].b;
    size_t hash_len = f[0].found ? f[0].str_len : 0;
    int slot;
    if (hash_len == 0) {
        if (!confirm) { /* a test needs a hash */
            smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, SMP_IMG_SLOTS_ERR_INVALID_HASH);
            return 0;
        }
        slot = active_slot(m, ACTIVE_IMAGE);
    } else if (hash_len != SMP_IMG_SLOTS_HASH_LEN) {
        smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, SMP_IMG_SLOTS_ERR_INVALID_HASH);
        return 0;
    } else {
        slot = find_by_hash(m, f[0].str);
        if (slot < 0) {
            smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, SMP_IMG_SLOTS_ERR_HASH_NOT_FOUND);
            return 0;
        }
    }
    int rc = set_next_boot_slot(m, slot, confirm, rq->now);
    if (rc != 0) {
        smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, (uint16_t)rc);
        return 0;
    }
    return state_read(m, rq);
}

/* ---- erase ------------------------------------------------------------------------ */

/* img_mgmt_erase_slot: nothing to do if the slot already reads erased. */
static int erase_slot(struct smp_img_mgmt *m, int slot)
{
    if (slot < 0 || slot >= n_slots(m))
        return SMP_IMG_SLOTS_ERR_INVALID_SLOT;
    bool empty = false;
    int rc = m->slots.ops->is_empty(m->slots.env, slot, &empty);
    if (rc != 0 || empty)
        return rc;
    return m->slots.ops->erase_slot(m->slots.env, slot);
}

/* Erase (WRITE): {"slot": n}, default the slot that is not running. */
static int erase(void *state, struct smp_server_req *rq)
{
    struct smp_img_mgmt *m = state;
    struct smp_frame_field f = {.key = "slot", .type = SMP_FRAME_T_U32};
    if (smp_frame_map_decode(rq->payload, rq->hdr.len, &f, 1) != 0)
        return SMP_MGMT_ERR_EINVAL;
    /* img_mgmt_get_other_slot: 0 when running from slot 1, else 1. */
    int slot = active_slot(m, ACTIVE_IMAGE) == 1 ? 0 : 1;
    if (f.found)
        slot = f.u32 > (uint32_t)n_slots(m) ? n_slots(m) : (int)f.u32;
    struct smp_img_slots_info info;
    if (read_info(m, slot, &info) == 0 && slot_in_use(m, slot)) {
        smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, SMP_IMG_SLOTS_ERR_NO_FREE_SLOT);
        return 0;
    }
    int rc = erase_slot(m, slot);
    smp_img_mgmt_reset_upload(m);
    if (rc != 0) {
        notify(m, SMP_CALLBACKS_EVT_IMG_DFU_STOPPED, NULL, 0, rq->now);
        smp_server_req_err(rq, SMP_MGMT_GROUP_IMAGE, (uint16_t)rc);
    }
    return 0;
}

/* ---- slot info ------------------------------------------------------------------------ */

/* Slot info (READ): {"images": [{"image": i, "slots": [{"slot": s, "size": n
 * [, "upload_image_id": i]}, ...]}, ...]}; a slot that is not running takes uploads for
 * its image (without CONFIG_MCUMGR_GRP_IMG_DIRECT_UPLOAD). The too-large "max_image_size"
 * and the SLOT_INFO hooks are not modelled. */
static int slot_info(void *state, struct smp_server_req *rq)
{
    struct smp_img_mgmt *m = state;
    smp_frame_put_text(rq->w, "images");
    smp_frame_put_list(rq->w, SMP_FRAME_INDEF);
    for (int image = 0; image < m->cfg.n_images; image++) {
        smp_frame_put_map(rq->w, SMP_FRAME_INDEF);
        smp_frame_put_text(rq->w, "image");
        smp_frame_put_uint(rq->w, (uint64_t)image);
        smp_frame_put_text(rq->w, "slots");
        smp_frame_put_list(rq->w, SMP_FRAME_INDEF);
        for (int slot = 2 * image; slot < 2 * image + 2; slot++) {
            smp_frame_put_map(rq->w, SMP_FRAME_INDEF);
            smp_frame_put_text(rq->w, "slot");
            smp_frame_put_uint(rq->w, (uint64_t)slot % 2);
            smp_frame_put_text(rq->w, "size");
            smp_frame_put_uint(rq->w, m->slots.ops->slot_size(m->slots.env, slot));
            if (active_slot(m, image) != slot) {
                smp_frame_put_text(rq->w, "upload_image_id");
                smp_frame_put_uint(rq->w, (uint64_t)image);
            }
            smp_frame_put_end(rq->w);
        }
        smp_frame_put_end(rq->w);
        smp_frame_put_end(rq->w);
    }
    smp_frame_put_end(rq->w);
    return 0;
}

/* ---- group ------------------------------------------------------------------------ */

void smp_img_mgmt_init(struct smp_img_mgmt *m, const struct smp_img_mgmt_cfg *cfg,
                       struct smp_img_slots slots, const struct smp_callbacks *callbacks)
{
    memset(m, 0, sizeof(*m));
    m->cfg = *cfg;
    m->slots = slots;
    m->callbacks = callbacks;
    smp_img_mgmt_reset_upload(m);
    m->handlers[SMP_IMG_MGMT_ID_STATE].read = state_read;
    if (cfg->mode != SMP_IMG_MGMT_MODE_DIRECT_XIP)
        m->handlers[SMP_IMG_MGMT_ID_STATE].write = state_write;
    m->handlers[SMP_IMG_MGMT_ID_UPLOAD].write = upload;
    m->handlers[SMP_IMG_MGMT_ID_ERASE].write = erase;
    if (cfg->slot_info)
        m->handlers[SMP_IMG_MGMT_ID_SLOT_INFO].read = slot_info;
}

void smp_img_mgmt_check(const struct smp_img_mgmt *m)
{
#ifndef NDEBUG
    const struct smp_img_mgmt_upload *u = &m->up;
    assert(u->sha_len <= SMP_IMG_SLOTS_HASH_LEN);
    if (u->slot == -1)
        assert(u->off == 0 && u->size == 0 && u->sha_len == 0);
    else
        assert(u->slot >= 0 && u->slot < n_slots(m));
#else
    (void)m;
#endif
}

void smp_img_mgmt_fini(struct smp_img_mgmt *m)
{
    smp_img_mgmt_reset_upload(m);
}

struct smp_server_group smp_img_mgmt_group(struct smp_img_mgmt *m)
{
    return (struct smp_server_group){.handlers = m->handlers,
                                     .n_handlers = SMP_IMG_MGMT_ID_COUNT,
                                     .translate = smp_img_mgmt_translate,
                                     .state = m,
                                     .id = SMP_MGMT_GROUP_IMAGE};
}

int smp_img_mgmt_translate(uint16_t group_rc)
{
    switch (group_rc) {
    case SMP_IMG_SLOTS_ERR_NO_IMAGE:
    case SMP_IMG_SLOTS_ERR_NO_TLVS:
        return SMP_MGMT_ERR_ENOENT;
    case SMP_IMG_SLOTS_ERR_NO_FREE_SLOT:
    case SMP_IMG_SLOTS_ERR_CURRENT_VERSION_IS_NEWER:
    case SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING:
        return SMP_MGMT_ERR_EBADSTATE;
    case SMP_IMG_SLOTS_ERR_NO_FREE_MEMORY:
        return SMP_MGMT_ERR_ENOMEM;
    case SMP_IMG_SLOTS_ERR_INVALID_SLOT:
    case SMP_IMG_SLOTS_ERR_INVALID_PAGE_OFFSET:
    case SMP_IMG_SLOTS_ERR_INVALID_OFFSET:
    case SMP_IMG_SLOTS_ERR_INVALID_LENGTH:
    case SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER:
    case SMP_IMG_SLOTS_ERR_INVALID_HASH:
    case SMP_IMG_SLOTS_ERR_INVALID_FLASH_ADDRESS:
        return SMP_MGMT_ERR_EINVAL;
    default:
        return SMP_MGMT_ERR_EUNKNOWN;
    }
}
