/* models/smp/img_mgmt.h - MCUmgr image group (1): state read/write, upload, erase.
 *
 * Mirrors zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/src/img_mgmt.c,
 * img_mgmt_state.c and zephyr_img_mgmt.c. Flash and bootloader state are reached through
 * struct smp_img_slots (models/smp/img_slots.h); firmware modules hook in through
 * struct smp_callbacks (upload check, DFU_STARTED / CHUNK_WRITE_COMPLETE / PENDING /
 * STOPPED / CONFIRMED, CMD_STATUS).
 *
 * Upload state machine (struct smp_img_mgmt_upload, RAM only, lost on reboot):
 *
 *   IDLE --first chunk passes inspect (off 0) / DFU_STARTED, erase per cfg.erase-->
 *        UPLOADING
 *   UPLOADING --chunk at up.off / write, CHUNK_WRITE_COMPLETE--> UPLOADING
 *   UPLOADING --chunk at another offset / reply {"off": up.off}--> UPLOADING
 *   UPLOADING --first chunk with the same sha / reply {"off": up.off} (resume)--> UPLOADING
 *   UPLOADING --last chunk written / DFU_PENDING, "match"--> IDLE
 *   any --inspect error, hook rc veto, erase or write failure / DFU_STOPPED--> IDLE
 *   any --image erase command--> IDLE
 *   IDLE --first chunk whose sha matches the slot (image check) / "match": true--> IDLE
 *
 *   IDLE:      up.slot == -1, every other field 0
 *   UPLOADING: up.slot is the target slot, up.off bytes written, up.off < up.size (except
 *              after a first chunk announcing len 0: upstream does not check it)
 */
#ifndef MODELS_SMP_IMG_MGMT_H
#define MODELS_SMP_IMG_MGMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/smp/callbacks.h"
#include "models/smp/img_slots.h"
#include "models/smp/server.h"

/* Command ids (zephyrproject-rtos/zephyr: include/zephyr/mgmt/mcumgr/grp/img_mgmt/img_mgmt.h). */
enum smp_img_mgmt_id {
    SMP_IMG_MGMT_ID_STATE = 0,
    SMP_IMG_MGMT_ID_UPLOAD = 1,
    SMP_IMG_MGMT_ID_FILE = 2,
    SMP_IMG_MGMT_ID_CORELIST = 3,
    SMP_IMG_MGMT_ID_CORELOAD = 4,
    SMP_IMG_MGMT_ID_ERASE = 5,
    SMP_IMG_MGMT_ID_SLOT_INFO = 6,
    SMP_IMG_MGMT_ID_COUNT
};

/* CMD_STATUS values for uploads (IMG_MGMT_ID_UPLOAD_STATUS_*). */
enum smp_img_mgmt_upload_status {
    SMP_IMG_MGMT_UPLOAD_STATUS_START = 0,
    SMP_IMG_MGMT_UPLOAD_STATUS_ONGOING = 1,
    SMP_IMG_MGMT_UPLOAD_STATUS_COMPLETE = 2
};

/* Which MCUboot mode the firmware was built for: it changes next-boot logic and the
 * handler table (CONFIG_MCUBOOT_BOOTLOADER_MODE_*). */
enum smp_img_mgmt_mode {
    SMP_IMG_MGMT_MODE_SWAP,             /* swap-scratch/move/offset, overwrite-only */
    SMP_IMG_MGMT_MODE_DIRECT_XIP,       /* version decides; no state write handler */
    SMP_IMG_MGMT_MODE_DIRECT_XIP_REVERT /* trailer states decide; state write allowed */
};

/* When the first chunk (offset 0) of a new upload erases the target slot, before it
 * writes and answers:
 *
 *   AS_NEEDED   Zephyr's img_mgmt since the mcumgr snapshot of 2020-02-26
 *               (zephyrproject-rtos/mcumgr 0a71499, from apache/mynewt-mcumgr ae4659b4),
 *               and today's zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/grp/img_mgmt/
 *               src/img_mgmt.c: without CONFIG_IMG_ERASE_PROGRESSIVELY, if the slot is not
 *               empty, erase `len` bytes rounded up to whole pages plus the trailer
 *               (img_mgmt_erase_image_data(0, req.size)); with it, nothing here (the flash
 *               stream erases each page as the writes enter it).
 *   WHOLE_SLOT  mcumgr before that (zephyrproject-rtos/mcumgr up to c27cf45, 2018-11-02:
 *               cmd/img_mgmt/src/img_mgmt.c img_mgmt_upload_first_chunk() calls
 *               img_mgmt_impl_erase_slot(), which in cmd/img_mgmt/port/zephyr/src/
 *               zephyr_img_mgmt.c reads the slot for a programmed byte and erases the whole
 *               slot unless it is empty): every page of the slot, whatever the image size.
 *               Writes still go through flash_img, so CONFIG_IMG_ERASE_PROGRESSIVELY, if
 *               set, erases each page again as it is written (as it would have there).
 * The rest of the upload (inspect, resume by sha, responses) is today's in both. */
enum smp_img_mgmt_erase {
    SMP_IMG_MGMT_ERASE_AS_NEEDED,
    SMP_IMG_MGMT_ERASE_WHOLE_SLOT,
    SMP_IMG_MGMT_ERASE_COUNT
};

/* Firmware options (Kconfig in Zephyr). */
struct smp_img_mgmt_cfg {
    int n_images; /* CONFIG_MCUMGR_GRP_IMG_UPDATABLE_IMAGE_NUMBER (1 or 2) */
    enum smp_img_mgmt_mode mode;
    enum smp_img_mgmt_erase erase; /* first-chunk erase (above), default AS_NEEDED */
    bool erase_progressively;      /* CONFIG_IMG_ERASE_PROGRESSIVELY, default n */
    bool image_check;              /* CONFIG_IMG_ENABLE_IMAGE_CHECK: resume-by-match, "match" */
    bool allow_erase_pending;      /* CONFIG_MCUMGR_GRP_IMG_ALLOW_ERASE_PENDING, default y */
    bool confirm_other_image_secondary; /* ..._ALLOW_CONFIRM_NON_ACTIVE_IMAGE_SECONDARY, y */
    bool confirm_other_image_any;       /* ..._ALLOW_CONFIRM_NON_ACTIVE_IMAGE_ANY, n */
    bool confirm_non_active_slot;       /* ..._ALLOW_CONFIRM_NON_ACTIVE_SLOT (Zephyr >= 4.3), y */
    bool reject_xip_mismatched_slot;    /* ..._REJECT_DIRECT_XIP_MISMATCHED_SLOT, default n */
    bool version_cmp_build;             /* ..._VERSION_CMP_USE_BUILD_NUMBER, default n */
    bool frugal_list;                   /* CONFIG_MCUMGR_GRP_IMG_FRUGAL_LIST, default n */
    bool slot_info; /* CONFIG_MCUMGR_GRP_IMG_SLOT_INFO, default y only with several images */
};

struct smp_img_mgmt_cfg smp_img_mgmt_cfg_default(void);

/* struct img_mgmt_state. */
struct smp_img_mgmt_upload {
    int32_t slot;  /* target slot; -1: no upload in progress (area_id == -1) */
    uint32_t off;  /* next expected offset */
    uint32_t size; /* image length announced by the first chunk */
    uint8_t sha_len;
    uint8_t sha[SMP_IMG_SLOTS_HASH_LEN]; /* zero-padded */
};

/* A decoded upload request (struct img_mgmt_upload_req). Pointers are into the frame. */
struct smp_img_mgmt_upload_req {
    const uint8_t *data;
    const uint8_t *sha;
    size_t data_len;
    size_t sha_len;
    uint32_t image;
    uint32_t off;  /* valid if has_off */
    uint32_t size; /* "len"; valid if has_len */
    bool has_off;
    bool has_len;
    bool upgrade;
};

/* What inspect decided (struct img_mgmt_upload_action). */
struct smp_img_mgmt_upload_action {
    uint32_t size;        /* image size */
    uint32_t write_bytes; /* bytes of this chunk to write */
    int32_t slot;         /* target slot */
    bool proceed;         /* false: just report the expected offset */
    bool erase;           /* first chunk must erase (the slot is not empty) */
};

/* Data of SMP_CALLBACKS_EVT_IMG_DFU_CHUNK (struct img_mgmt_upload_check). */
struct smp_img_mgmt_upload_check {
    const struct smp_img_mgmt_upload_req *req;
    const struct smp_img_mgmt_upload_action *action;
};

/* One per device, caller storage. */
struct smp_img_mgmt {
    struct smp_img_mgmt_cfg cfg;
    struct smp_img_slots slots;            /* by value; ops and env not owned */
    const struct smp_callbacks *callbacks; /* not owned; NULL = no hooks */
    struct smp_img_mgmt_upload up;
    struct smp_server_handler handlers[SMP_IMG_MGMT_ID_COUNT]; /* built from cfg */
};

/* Build the handler table from cfg (no state write in Direct-XIP without revert, slot
 * info only when configured). Allocates nothing. */
void smp_img_mgmt_init(struct smp_img_mgmt *m, const struct smp_img_mgmt_cfg *cfg,
                       struct smp_img_slots slots, const struct smp_callbacks *callbacks);

/* The group record to pass to smp_server_group_add(). */
/* Forget the upload in progress (RAM state, lost when the device goes away). */
void smp_img_mgmt_fini(struct smp_img_mgmt *m);

struct smp_server_group smp_img_mgmt_group(struct smp_img_mgmt *m);

/* Forget the upload in progress (img_mgmt_reset_upload; public with
 * CONFIG_MCUMGR_GRP_IMG_MUTEX, which nRF Desktop's dfu_lock uses). */
void smp_img_mgmt_reset_upload(struct smp_img_mgmt *m);

/* Assert the upload-state invariants listed above (no-op with NDEBUG). The offset may
 * pass the size after a first chunk that announced len 0, as upstream allows. */
void smp_img_mgmt_check(const struct smp_img_mgmt *m);

/* Image group error -> v1 rc (img_mgmt_translate_error_code). */
int smp_img_mgmt_translate(uint16_t group_rc);

/* "x.y.z" or "x.y.z.b" (img_mgmt_ver_str), NUL-terminated in out[0..cap). */
void smp_img_mgmt_ver_str(const struct smp_img_slots_version *v, char *out, size_t cap);

#endif /* MODELS_SMP_IMG_MGMT_H */
