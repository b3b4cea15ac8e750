/* models/smp/mgmt.h - MCUmgr management constants: header size, ops, groups, error codes.
 *
 * Plain protocol numbers shared by the codec, the server and the groups; no code.
 * Source of every value: zephyrproject-rtos/zephyr: include/zephyr/mgmt/mcumgr/mgmt/mgmt_defines.h
 * unless a comment names another file.
 */
#ifndef MODELS_SMP_MGMT_H
#define MODELS_SMP_MGMT_H

/* Bytes of the SMP header in front of every CBOR payload (MGMT_HDR_SIZE). */
#define SMP_MGMT_HDR_SIZE 8

/* Header version field (zephyrproject-rtos/zephyr: include/zephyr/mgmt/mcumgr/smp/smp.h). */
enum smp_mgmt_version {
    SMP_MGMT_VERSION_1 = 0, /* original ("legacy") protocol: errors as a bare rc */
    SMP_MGMT_VERSION_2 = 1  /* group errors as err {group, rc} */
};

/* Operation, header byte 0 bits 2..0 (enum mcumgr_op_t). */
enum smp_mgmt_op {
    SMP_MGMT_OP_READ = 0,
    SMP_MGMT_OP_READ_RSP = 1,
    SMP_MGMT_OP_WRITE = 2,
    SMP_MGMT_OP_WRITE_RSP = 3
};

/* Group ids (enum mcumgr_group_t). */
enum smp_mgmt_group {
    SMP_MGMT_GROUP_OS = 0,
    SMP_MGMT_GROUP_IMAGE = 1,
    SMP_MGMT_GROUP_STAT = 2,
    SMP_MGMT_GROUP_SETTINGS = 3,
    SMP_MGMT_GROUP_LOG = 4,
    SMP_MGMT_GROUP_CRASH = 5,
    SMP_MGMT_GROUP_SPLIT = 6,
    SMP_MGMT_GROUP_RUN = 7,
    SMP_MGMT_GROUP_FS = 8,
    SMP_MGMT_GROUP_SHELL = 9,
    SMP_MGMT_GROUP_ENUM = 10,
    SMP_MGMT_GROUP_ZEPHYR_BASIC = 63,
    SMP_MGMT_GROUP_PERUSER = 64
};

/* SMP-level result codes (enum mcumgr_err_t). These travel in frames as data ("rc");
 * they are never returned as C errors. */
enum smp_mgmt_err {
    SMP_MGMT_ERR_EOK = 0,
    SMP_MGMT_ERR_EUNKNOWN = 1,
    SMP_MGMT_ERR_ENOMEM = 2,
    SMP_MGMT_ERR_EINVAL = 3,
    SMP_MGMT_ERR_ETIMEOUT = 4,
    SMP_MGMT_ERR_ENOENT = 5,
    SMP_MGMT_ERR_EBADSTATE = 6,
    SMP_MGMT_ERR_EMSGSIZE = 7,
    SMP_MGMT_ERR_ENOTSUP = 8,
    SMP_MGMT_ERR_ECORRUPT = 9,
    SMP_MGMT_ERR_EBUSY = 10,
    SMP_MGMT_ERR_EACCESSDENIED = 11,
    SMP_MGMT_ERR_UNSUPPORTED_TOO_OLD = 12,
    SMP_MGMT_ERR_UNSUPPORTED_TOO_NEW = 13,
    SMP_MGMT_ERR_EPERUSER = 256
};

#endif /* MODELS_SMP_MGMT_H */
