/* models/smp/frame.h - SMP frame codec: the 8-byte header and the CBOR payload.
 *
 * Encodes and decodes the header, writes CBOR the way Zephyr's zcbor encoder does
 * (indefinite-length maps and lists, shortest integers) and decodes request maps the
 * way Zephyr's zcbor_map_decode_bulk() does. Uses libcbor's streaming API: no malloc.
 */
#ifndef MODELS_SMP_FRAME_H
#define MODELS_SMP_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "models/smp/mgmt.h"

/* SMP header, 8 bytes on the wire, multi-byte fields big-endian.
 * Source: zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/transport/include/mgmt/mcumgr/
 * transport/smp_internal.h (struct smp_hdr); doc/services/device_mgmt/smp_protocol.rst.
 *
 *   OFFSET  SIZE  DESCRIPTION
 *   0       1     bits 2..0 op (enum smp_mgmt_op), bits 4..3 version (0 = SMP v1,
 *                 1 = SMP v2, 2 and 3 reserved), bits 7..5 reserved (sent 0, ignored)
 *   1       1     flags (none defined; sent 0)
 *   2       2     data length: bytes of CBOR after the header (header not counted)
 *   4       2     group id (enum smp_mgmt_group)
 *   6       1     sequence number (the response copies the request's)
 *   7       1     command id within the group
 *   8       len   CBOR map (absent when the length is 0)
 */
struct smp_frame_hdr {
    uint16_t len;    /* CBOR payload bytes */
    uint16_t group;  /* enum smp_mgmt_group or a user group */
    uint8_t op;      /* 0..7; enum smp_mgmt_op */
    uint8_t version; /* 0..3; enum smp_mgmt_version */
    uint8_t flags;
    uint8_t seq;
    uint8_t id;
};

/* Write h into out[0..7]. op and version are masked to their bit widths. Never fails. */
void smp_frame_hdr_encode(const struct smp_frame_hdr *h, uint8_t out[SMP_MGMT_HDR_SIZE]);

/* Read a header from the first 8 of n bytes. Reserved bits are ignored, as Zephyr's
 * bit-field struct ignores them. Returns 0, or SIM_EFORMAT if n < 8 (h unchanged). */
int smp_frame_hdr_decode(struct smp_frame_hdr *h, const uint8_t *b, size_t n);

/* ---- CBOR writer ------------------------------------------------------------------
 * Appends items to a caller-owned buffer. The first item that does not fit sets
 * `overflow` and every later put is ignored, so a handler can put a whole response and
 * check once (zcbor's encoder behaves the same way: the response fails with EMSGSIZE).
 * Integers use the shortest form (RFC 8949 preferred serialization, as zcbor does). */
struct smp_frame_writer {
    uint8_t *buf;  /* not owned */
    size_t cap;    /* bytes available in buf */
    size_t len;    /* bytes written */
    bool overflow; /* an item did not fit; len stops at the last whole item */
};

#define SMP_FRAME_INDEF SIZE_MAX /* count for an indefinite-length map or list */

void smp_frame_writer_init(struct smp_frame_writer *w, uint8_t *buf, size_t cap);
/* Forget everything written; keeps buf and cap. */
void smp_frame_writer_reset(struct smp_frame_writer *w);

/* Map or list start: n pairs/items, or SMP_FRAME_INDEF for 0xBF / 0x9F, which is what
 * Zephyr servers emit (CONFIG_ZCBOR_CANONICAL off). Clients send definite maps. */
void smp_frame_put_map(struct smp_frame_writer *w, size_t n);
void smp_frame_put_list(struct smp_frame_writer *w, size_t n);
/* Break (0xFF) that closes an indefinite map or list. */
void smp_frame_put_end(struct smp_frame_writer *w);
void smp_frame_put_uint(struct smp_frame_writer *w, uint64_t v);
void smp_frame_put_int(struct smp_frame_writer *w, int64_t v);
void smp_frame_put_bool(struct smp_frame_writer *w, bool v);
/* Text string from a NUL-terminated C string, or from n bytes. */
void smp_frame_put_text(struct smp_frame_writer *w, const char *s);
void smp_frame_put_textn(struct smp_frame_writer *w, const char *s, size_t n);
void smp_frame_put_bstr(struct smp_frame_writer *w, const uint8_t *p, size_t n);
/* A byte string of n bytes whose content the caller writes afterwards (a chunk read straight
 * from the image into the frame): writes its head and returns where the n bytes go, or NULL
 * on overflow (then nothing is written). */
uint8_t *smp_frame_put_bstr_space(struct smp_frame_writer *w, size_t n);

/* ---- Map decoder ------------------------------------------------------------------
 * One map, decoded against a table of wanted keys, with the rules of Zephyr's
 * zcbor_map_decode_bulk() (zephyrproject-rtos/zephyr: subsys/mgmt/mcumgr/util/src/
 * zcbor_bulk.c):
 *   1. the payload must begin with a map, definite (0xA0..) or indefinite (0xBF);
 *   2. every key must be a definite-length text string;
 *   3. a wanted key whose value has another type fails the decode;
 *   4. a wanted key that appears twice fails the decode;
 *   5. other keys are skipped whatever their value (nested up to SMP_FRAME_MAX_DEPTH);
 *   6. the map must end inside the payload; bytes after it are ignored.
 * Missing keys are not an error: the caller checks `found`. A handler answers a failed
 * decode with SMP_MGMT_ERR_EINVAL, as Zephyr's handlers do. */
enum smp_frame_type {
    SMP_FRAME_T_U32,  /* unsigned integer <= UINT32_MAX (zcbor_uint32_decode) */
    SMP_FRAME_T_BOOL, /* true or false */
    SMP_FRAME_T_TEXT, /* definite text string; str/str_len point into the payload */
    SMP_FRAME_T_BSTR, /* definite byte string; str/str_len point into the payload */
    SMP_FRAME_T_ANY   /* any one item; str/str_len is its whole encoding (nested decode) */
};

/* Nesting limit for skipped values. Zephyr bounds it with its zcbor state count
 * (CONFIG_MCUMGR_SMP_CBOR_MAX_DECODING_LEVELS); ours only protects the C stack. */
#define SMP_FRAME_MAX_DEPTH 16

struct smp_frame_field {
    const char *key;          /* in: NUL-terminated key */
    enum smp_frame_type type; /* in */
    bool found;               /* out */
    bool b;                   /* out: SMP_FRAME_T_BOOL */
    uint32_t u32;             /* out: SMP_FRAME_T_U32 */
    const uint8_t *str;       /* out: TEXT, BSTR, ANY; points into the payload */
    size_t str_len;           /* out: bytes at str */
};

/* Decode the map at p[0..n) into fields (found flags are cleared first). Returns 0, or
 * SIM_EFORMAT when a rule above is broken; fields are then partly filled. Never reads
 * outside p[0..n). */
int smp_frame_map_decode(const uint8_t *p, size_t n, struct smp_frame_field *fields,
                         size_t n_fields);

/* Bytes of the first complete CBOR item at p[0..n), in *item_len. Returns 0, or
 * SIM_EFORMAT if there is none (malformed, truncated or nested too deep). */
int smp_frame_item_len(const uint8_t *p, size_t n, size_t *item_len);

#endif /* MODELS_SMP_FRAME_H */
