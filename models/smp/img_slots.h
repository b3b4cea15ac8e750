/* models/smp/img_slots.h - what img_mgmt needs from the bootloader and the image slots.
 *
 * An interface (struct of function pointers) that the MCUboot model implements, plus a
 * small in-memory implementation (smp_img_slots_mem_*) for tests: slots are byte arrays,
 * image info is parsed from the MCUboot header and TLVs written into them, and the
 * bootloader's next-boot state is a plain field per image or slot.
 *
 * Slots are numbered as Zephyr's img_mgmt numbers them: image i owns slots 2i (primary)
 * and 2i + 1 (secondary). Functions that model a firmware outcome return an img_mgmt
 * group error (enum smp_img_slots_err, >= 0; data for the frame, not a C error).
 */
#ifndef MODELS_SMP_IMG_SLOTS_H
#define MODELS_SMP_IMG_SLOTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Image group errors (enum img_mgmt_err_code_t in zephyrproject-rtos/zephyr:
 * include/zephyr/mgmt/mcumgr/grp/img_mgmt/img_mgmt.h). */
enum smp_img_slots_err {
    SMP_IMG_SLOTS_ERR_OK = 0,
    SMP_IMG_SLOTS_ERR_UNKNOWN = 1,
    SMP_IMG_SLOTS_ERR_FLASH_CONFIG_QUERY_FAIL = 2,
    SMP_IMG_SLOTS_ERR_NO_IMAGE = 3,
    SMP_IMG_SLOTS_ERR_NO_TLVS = 4,
    SMP_IMG_SLOTS_ERR_INVALID_TLV = 5,
    SMP_IMG_SLOTS_ERR_TLV_MULTIPLE_HASHES_FOUND = 6,
    SMP_IMG_SLOTS_ERR_TLV_INVALID_SIZE = 7,
    SMP_IMG_SLOTS_ERR_HASH_NOT_FOUND = 8,
    SMP_IMG_SLOTS_ERR_NO_FREE_SLOT = 9,
    SMP_IMG_SLOTS_ERR_FLASH_OPEN_FAILED = 10,
    SMP_IMG_SLOTS_ERR_FLASH_READ_FAILED = 11,
    SMP_IMG_SLOTS_ERR_FLASH_WRITE_FAILED = 12,
    SMP_IMG_SLOTS_ERR_FLASH_ERASE_FAILED = 13,
    SMP_IMG_SLOTS_ERR_INVALID_SLOT = 14,
    SMP_IMG_SLOTS_ERR_NO_FREE_MEMORY = 15,
    SMP_IMG_SLOTS_ERR_FLASH_CONTEXT_ALREADY_SET = 16,
    SMP_IMG_SLOTS_ERR_FLASH_CONTEXT_NOT_SET = 17,
    SMP_IMG_SLOTS_ERR_FLASH_AREA_DEVICE_NULL = 18,
    SMP_IMG_SLOTS_ERR_INVALID_PAGE_OFFSET = 19,
    SMP_IMG_SLOTS_ERR_INVALID_OFFSET = 20,
    SMP_IMG_SLOTS_ERR_INVALID_LENGTH = 21,
    SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER = 22,
    SMP_IMG_SLOTS_ERR_INVALID_IMAGE_HEADER_MAGIC = 23,
    SMP_IMG_SLOTS_ERR_INVALID_HASH = 24,
    SMP_IMG_SLOTS_ERR_INVALID_FLASH_ADDRESS = 25,
    SMP_IMG_SLOTS_ERR_VERSION_GET_FAILED = 26,
    SMP_IMG_SLOTS_ERR_CURRENT_VERSION_IS_NEWER = 27,
    SMP_IMG_SLOTS_ERR_IMAGE_ALREADY_PENDING = 28,
    SMP_IMG_SLOTS_ERR_INVALID_IMAGE_VECTOR_TABLE = 29,
    SMP_IMG_SLOTS_ERR_INVALID_IMAGE_TOO_LARGE = 30,
    SMP_IMG_SLOTS_ERR_INVALID_IMAGE_DATA_OVERRUN = 31,
    SMP_IMG_SLOTS_ERR_IMAGE_CONFIRMATION_DENIED = 32,
    SMP_IMG_SLOTS_ERR_IMAGE_SETTING_TEST_TO_ACTIVE_DENIED = 33,
    SMP_IMG_SLOTS_ERR_ACTIVE_SLOT_NOT_KNOWN = 34
};

/* MCUboot image header facts img_mgmt uses (mcu-tools/mcuboot:
 * boot/bootutil/include/bootutil/image.h; mcu-tools/mcuboot: docs/design.md):
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       4     ih_magic, little-endian 0x96f3b83d
 *   4       4     ih_load_addr (with IMAGE_F_ROM_FIXED: the slot address it is linked for)
 *   8       2     ih_hdr_size (offset of the body)
 *   10      2     ih_protect_tlv_size
 *   12      4     ih_img_size (body bytes)
 *   16      4     ih_flags
 *   20      1     ih_ver.iv_major
 *   21      1     ih_ver.iv_minor
 *   22      2     ih_ver.iv_revision
 *   24      4     ih_ver.iv_build_num
 *   28      4     padding
 * Then [protected TLV info 0x6908 + TLVs] [TLV info 0x6907 + TLVs]; TLV info = magic u16 +
 * total u16 (info header included); TLV = type u16 + len u16 + value. */
#define SMP_IMG_SLOTS_HDR_SIZE       32
#define SMP_IMG_SLOTS_MAGIC          0x96f3b83du
#define SMP_IMG_SLOTS_TLV_INFO       0x6907u
#define SMP_IMG_SLOTS_TLV_PROT_INFO  0x6908u
#define SMP_IMG_SLOTS_TLV_SHA256     0x10u
#define SMP_IMG_SLOTS_F_NON_BOOTABLE 0x10u
#define SMP_IMG_SLOTS_F_ROM_FIXED    0x100u
#define SMP_IMG_SLOTS_HASH_LEN       32

struct smp_img_slots_version {
    uint32_t build;
    uint16_t revision;
    uint8_t major;
    uint8_t minor;
};

/* What img_mgmt_read_info() extracts from a slot. */
struct smp_img_slots_info {
    struct smp_img_slots_version ver;
    uint32_t flags; /* ih_flags */
    uint8_t hash[SMP_IMG_SLOTS_HASH_LEN];
};

/* MCUboot swap type of an image (BOOT_SWAP_TYPE_*, mcu-tools/mcuboot:
 * boot/bootutil/include/bootutil/bootutil_public.h). */
enum smp_img_slots_swap {
    SMP_IMG_SLOTS_SWAP_NONE = 1,
    SMP_IMG_SLOTS_SWAP_TEST = 2,
    SMP_IMG_SLOTS_SWAP_PERM = 3,
    SMP_IMG_SLOTS_SWAP_REVERT = 4,
    SMP_IMG_SLOTS_SWAP_FAIL = 5
};

/* Direct-XIP-with-revert trailer state of a slot, as Zephyr's read_directxip_state()
 * derives it from magic / image_ok / copy_done (img_mgmt_state.c). */
enum smp_img_slots_xip {
    SMP_IMG_SLOTS_XIP_UNSET = 0,  /* magic not good */
    SMP_IMG_SLOTS_XIP_ONCE = 1,   /* magic good, neither flag set: boot once */
    SMP_IMG_SLOTS_XIP_REVERT = 2, /* copy_done set, image_ok not: booted once, revert */
    SMP_IMG_SLOTS_XIP_FOREVER = 3 /* image_ok set */
};

/* The interface. env is the implementation's state. */
struct smp_img_slots_ops {
    /* Version, flags and SHA256 TLV of the image in slot: SMP_IMG_SLOTS_ERR_OK, NO_IMAGE (erased
     * header), INVALID_IMAGE_HEADER_MAGIC, NO_TLVS, INVALID_TLV, TLV_MULTIPLE_HASHES_FOUND,
     * TLV_INVALID_SIZE, HASH_NOT_FOUND, INVALID_SLOT, FLASH_READ_FAILED. */
    int (*read_info)(void *env, int slot, struct smp_img_slots_info *out);
    /* Slot the running image of `image` executes from (img_mgmt_active_slot). */
    int (*active_slot)(void *env, int image);
    /* mcuboot_swap_type_multi(image): enum smp_img_slots_swap (swap modes). */
    int (*swap_type)(void *env, int image);
    /* enum smp_img_slots_xip of a slot (Direct-XIP with revert). */
    int (*xip_state)(void *env, int slot);
    /* Size (fa_size) and flash address (fa_off) of a slot, bytes. */
    uint32_t (*slot_size)(void *env, int slot);
    uint32_t (*slot_addr)(void *env, int slot);
    /* *empty = every byte of the slot reads erased (img_mgmt_flash_check_empty): img error
     * (FLASH_READ_FAILED, ...). */
    int (*is_empty)(void *env, int slot, bool *empty);
    /* Erase the whole slot (flash_area_flatten): img error. */
    int (*erase_slot)(void *env, int slot);
    /* First-chunk erase (img_mgmt_erase_image_data): the pages covering [0, size) plus
     * the pages holding the trailer. img error (FLASH_ERASE_FAILED, ...). */
    int (*erase_upload)(void *env, int slot, uint32_t size);
    /* Buffered image write at off (flash_img_buffered_write; `last` flushes): img error. */
    int (*write)(void *env, int slot, uint32_t off, const uint8_t *p, size_t n, bool last);
    /* flash_img_check: 0 if SHA-256 of the first len bytes of the slot equals sha. */
    int (*check_sha)(void *env, int slot, uint32_t len, const uint8_t sha[SMP_IMG_SLOTS_HASH_LEN]);
    /* boot_set_next(slot, active, confirm): active && confirm writes image_ok; otherwise
     * requests a TEST (confirm false) or PERM (confirm true) boot of slot. img error. */
    int (*set_next)(void *env, int slot, bool active, bool confirm);
};

struct smp_img_slots {
    const struct smp_img_slots_ops *ops; /* not owned */
    void *env;                           /* not owned */
};

/* Parse the 32-byte MCUboot header at p. Shared by implementations. Never fails. */
void smp_img_slots_hdr_parse(const uint8_t *p, uint32_t *magic, uint32_t *load_addr,
                             struct smp_img_slots_version *ver, uint32_t *flags);

/* ---- in-memory implementation --------------------------------------------------- */

#define SMP_IMG_SLOTS_MEM_MAX 4 /* two images */

struct smp_img_slots_mem {
    size_t n_slots;     /* 2 or 4 */
    uint32_t slot_size; /* bytes per slot */
    uint32_t page_size; /* erase unit, bytes */
    uint32_t trailer;   /* bytes at the end of a slot erased with the first chunk */
    uint8_t *data[SMP_IMG_SLOTS_MEM_MAX];  /* owned; erased = 0xff */
    uint32_t addr[SMP_IMG_SLOTS_MEM_MAX];  /* flash address of each slot */
    int active[SMP_IMG_SLOTS_MEM_MAX / 2]; /* active slot per image */
    int swap[SMP_IMG_SLOTS_MEM_MAX / 2];   /* enum smp_img_slots_swap per image */
    int xip[SMP_IMG_SLOTS_MEM_MAX];        /* enum smp_img_slots_xip per slot */
    int fail_write;                        /* non-zero: write returns this img error */
    int fail_erase;                        /* non-zero: erase_upload and erase_slot return this */
    uint32_t n_erase_upload;               /* calls, for tests */
    uint32_t n_erase_slot;                 /* calls, for tests */
    uint32_t erased_upload_bytes;          /* bytes the last erase_upload erased */
};

/* Allocate n_slots (2 or 4) erased slots of slot_size bytes. Returns 0, SIM_EINVAL for
 * bad sizes, SIM_ENOMEM (nothing is left allocated). */
int smp_img_slots_mem_init(struct smp_img_slots_mem *m, size_t n_slots, uint32_t slot_size,
                           uint32_t page_size);
void smp_img_slots_mem_fini(struct smp_img_slots_mem *m);

/* The interface bound to m. */
struct smp_img_slots smp_img_slots_mem_bind(struct smp_img_slots_mem *m);

#endif /* MODELS_SMP_IMG_SLOTS_H */
