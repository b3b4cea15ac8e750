/* models/smp/frame.c - SMP header codec and zcbor-compatible CBOR helpers over libcbor.
 *
 * Decoding walks the payload one token at a time with cbor_stream_decode(), so strings
 * are returned as pointers into the caller's bytes and nothing is allocated.
 */
#include "models/smp/frame.h"

#include <cbor.h>
#include <string.h>

#include "sim/error.h"

void smp_frame_hdr_encode(const struct smp_frame_hdr *h, uint8_t out[SMP_MGMT_HDR_SIZE])
{
    out[0] = (uint8_t)((h->op & 0x7u) | ((h->version & 0x3u) << 3));
    out[1] = h->flags;
    out[2] = (uint8_t)(h->len >> 8);
    out[3] = (uint8_t)(h->len & 0xffu);
    out[4] = (uint8_t)(h->group >> 8);
    out[5] = (uint8_t)(h->group & 0xffu);
    out[6] = h->seq;
    out[7] = h->id;
}

int smp_frame_hdr_decode(struct smp_frame_hdr *h, const uint8_t *b, size_t n)
{
    if (b == NULL || n < SMP_MGMT_HDR_SIZE)
        return SIM_EFORMAT;
    h->op = b[0] & 0x7u;
    h->version = (b[0] >> 3) & 0x3u;
    h->flags = b[1];
    h->len = (uint16_t)((b[2] << 8) | b[3]);
    h->group = (uint16_t)((b[4] << 8) | b[5]);
    h->seq = b[6];
    h->id = b[7];
    return 0;
}

/* ---- writer ---------------------------------------------------------------------- */

void smp_frame_writer_init(struct smp_frame_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = buf ? cap : 0;
    w->len = 0;
    w->overflow = false;
}

void smp_frame_writer_reset(struct smp_frame_writer *w)
{
    w->len = 0;
    w->overflow = false;
}

/* Account for one libcbor encode call that wrote `got` bytes (0 = did not fit). */
static void wrote(struct smp_frame_writer *w, size_t got)
{
    if (got == 0)
        w->overflow = true;
    else
        w->len += got;
}

static unsigned char *tail(struct smp_frame_writer *w)
{
    return w->buf ? w->buf + w->len : NULL;
}

static size_t room(const struct smp_frame_writer *w)
{
    return w->cap - w->len;
}

void smp_frame_put_map(struct smp_frame_writer *w, size_t n)
{
    if (w->overflow)
        return;
    if (n == SMP_FRAME_INDEF)
        wrote(w, cbor_encode_indef_map_start(tail(w), room(w)));
    else
        wrote(w, cbor_encode_map_start(n, tail(w), room(w)));
}

void smp_frame_put_list(struct smp_frame_writer *w, size_t n)
{
    if (w->overflow)
        return;
    if (n == SMP_FRAME_INDEF)
        wrote(w, cbor_encode_indef_array_start(tail(w), room(w)));
    else
        wrote(w, cbor_encode_array_start(n, tail(w), room(w)));
}

void smp_frame_put_end(struct smp_frame_writer *w)
{
    if (!w->overflow)
        wrote(w, cbor_encode_break(tail(w), room(w)));
}

void smp_frame_put_uint(struct smp_frame_writer *w, uint64_t v)
{
    if (!w->overflow)
        wrote(w, cbor_encode_uint(v, tail(w), room(w)));
}

void smp_frame_put_int(struct smp_frame_writer *w, int64_t v)
{
    if (v >= 0) {
        smp_frame_put_uint(w, (uint64_t)v);
        return;
    }
    /* CBOR major type 1 carries -1 - v; computed without overflowing INT64_MIN. */
    if (!w->overflow)
        wrote(w, cbor_encode_negint((uint64_t)(-(v + 1)), tail(w), room(w)));
}

void smp_frame_put_bool(struct smp_frame_writer *w, bool v)
{
    if (!w->overflow)
        wrote(w, cbor_encode_bool(v, tail(w), room(w)));
}

/* A string is a head plus its bytes; both fit or neither is written. Returns where its n
 * bytes go, or NULL. */
static uint8_t *string_space(struct smp_frame_writer *w, bool text, size_t n)
{
    if (w->overflow)
        return NULL;
    size_t head = text ? cbor_encode_string_start(n, tail(w), room(w))
                       : cbor_encode_bytestring_start(n, tail(w), room(w));
    if (head == 0 || room(w) - head < n) {
        w->overflow = true;
        return NULL;
    }
    uint8_t *at = w->buf + w->len + head;
    w->len += head + n;
    return at;
}

static void put_string(struct smp_frame_writer *w, bool text, const void *p, size_t n)
{
    uint8_t *at = string_space(w, text, n);
    if (at != NULL && n > 0)
        memcpy(at, p, n);
}

uint8_t *smp_frame_put_bstr_space(struct smp_frame_writer *w, size_t n)
{
    return string_space(w, false, n);
}

void smp_frame_put_text(struct smp_frame_writer *w, const char *s)
{
    put_string(w, true, s, strlen(s));
}

void smp_frame_put_textn(struct smp_frame_writer *w, const char *s, size_t n)
{
    put_string(w, true, s, n);
}

void smp_frame_put_bstr(struct smp_frame_writer *w, const uint8_t *p, size_t n)
{
    put_string(w, false, p, n);
}

/* ---- token reader ---------------------------------------------------------------- */

enum tok_kind {
    TOK_UINT,
    TOK_NEGINT,
    TOK_BSTR,
    TOK_TEXT,
    TOK_STRING_START, /* indefinite byte or text string; chunks follow until a break */
    TOK_ARRAY,
    TOK_MAP,
    TOK_TAG,
    TOK_BOOL,
    TOK_SIMPLE, /* null, undefined, floats */
    TOK_BREAK
};

struct tok {
    enum tok_kind kind;
    bool indef;         /* TOK_ARRAY, TOK_MAP */
    uint64_t u;         /* TOK_UINT value, TOK_NEGINT raw value, counts, TOK_BOOL */
    const uint8_t *str; /* TOK_BSTR, TOK_TEXT */
    size_t str_len;
};

static void cb_u8(void *c, uint8_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_UINT, .u = v};
}
static void cb_u16(void *c, uint16_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_UINT, .u = v};
}
static void cb_u32(void *c, uint32_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_UINT, .u = v};
}
static void cb_u64(void *c, uint64_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_UINT, .u = v};
}
static void cb_n8(void *c, uint8_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_NEGINT, .u = v};
}
static void cb_n16(void *c, uint16_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_NEGINT, .u = v};
}
static void cb_n32(void *c, uint32_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_NEGINT, .u = v};
}
static void cb_n64(void *c, uint64_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_NEGINT, .u = v};
}
static void cb_bstr(void *c, cbor_data p, size_t n)
{
    *(struct tok *)c = (struct tok){.kind = TOK_BSTR, .str = p, .str_len = n};
}
static void cb_text(void *c, cbor_data p, size_t n)
{
    *(struct tok *)c = (struct tok){.kind = TOK_TEXT, .str = p, .str_len = n};
}
static void cb_str_start(void *c)
{
    *(struct tok *)c = (struct tok){.kind = TOK_STRING_START};
}
static void cb_array(void *c, size_t n)
{
    *(struct tok *)c = (struct tok){.kind = TOK_ARRAY, .u = n};
}
static void cb_indef_array(void *c)
{
    *(struct tok *)c = (struct tok){.kind = TOK_ARRAY, .indef = true};
}
static void cb_map(void *c, size_t n)
{
    *(struct tok *)c = (struct tok){.kind = TOK_MAP, .u = n};
}
static void cb_indef_map(void *c)
{
    *(struct tok *)c = (struct tok){.kind = TOK_MAP, .indef = true};
}
static void cb_tag(void *c, uint64_t v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_TAG, .u = v};
}
static void cb_float(void *c, float v)
{
    (void)v;
    *(struct tok *)c = (struct tok){.kind = TOK_SIMPLE};
}
static void cb_double(void *c, double v)
{
    (void)v;
    *(struct tok *)c = (struct tok){.kind = TOK_SIMPLE};
}
static void cb_simple(void *c)
{
    *(struct tok *)c = (struct tok){.kind = TOK_SIMPLE};
}
static void cb_bool(void *c, bool v)
{
    *(struct tok *)c = (struct tok){.kind = TOK_BOOL, .u = v};
}
static void cb_break(void *c)
{
    *(struct tok *)c = (struct tok){.kind = TOK_BREAK};
}

static const struct cbor_callbacks tok_callbacks = {
    .uint8 = cb_u8,
    .uint16 = cb_u16,
    .uint32 = cb_u32,
    .uint64 = cb_u64,
    .negint8 = cb_n8,
    .negint16 = cb_n16,
    .negint32 = cb_n32,
    .negint64 = cb_n64,
    .byte_string_start = cb_str_start,
    .byte_string = cb_bstr,
    .string = cb_text,
    .string_start = cb_str_start,
    .indef_array_start = cb_indef_array,
    .array_start = cb_array,
    .indef_map_start = cb_indef_map,
    .map_start = cb_map,
    .tag = cb_tag,
    .float2 = cb_float,
    .float4 = cb_float,
    .float8 = cb_double,
    .undefined = cb_simple,
    .null = cb_simple,
    .boolean = cb_bool,
    .indef_break = cb_break,
};

struct reader {
    const uint8_t *p;
    size_t n;
    size_t off;
};

/* Read one token; the reader advances past it. */
static int next(struct reader *r, struct tok *t)
{
    if (r->off >= r->n)
        return SIM_EFORMAT;
    struct cbor_decoder_result res =
        cbor_stream_decode(r->p + r->off, r->n - r->off, &tok_callbacks, t);
    if (res.status != CBOR_DECODER_FINISHED || res.read == 0)
        return SIM_EFORMAT;
    r->off += res.read;
    return 0;
}

static int skip_value(struct reader *r, int depth);

/* Skip the rest of a container (or string chunks) opened by t. */
static int skip_body(struct reader *r, const struct tok *t, int depth)
{
    if (t->kind == TOK_STRING_START) {
        for (;;) {
            struct tok c;
            if (next(r, &c) != 0)
                return SIM_EFORMAT;
            if (c.kind == TOK_BREAK)
                return 0;
            if (c.kind != TOK_BSTR && c.kind != TOK_TEXT)
                return SIM_EFORMAT;
        }
    }
    if (t->kind == TOK_TAG)
        return skip_value(r, depth + 1);
    if (t->kind != TOK_ARRAY && t->kind != TOK_MAP)
        return 0;
    if (!t->indef) {
        /* A map of n pairs holds 2n items. Counts beyond the payload fail on the
         * first missing item, so a huge declared count costs nothing. */
        uint64_t items = t->kind == TOK_MAP ? t->u * 2 : t->u;
        if (t->kind == TOK_MAP && t->u > UINT64_MAX / 2)
            return SIM_EFORMAT;
        for (uint64_t i = 0; i < items; i++)
            if (skip_value(r, depth + 1) != 0)
                return SIM_EFORMAT;
        return 0;
    }
    size_t items = 0;
    for (;;) {
        size_t at = r->off;
        struct tok c;
        if (next(r, &c) != 0)
            return SIM_EFORMAT;
        if (c.kind == TOK_BREAK)
            return (t->kind == TOK_MAP && items % 2 != 0) ? SIM_EFORMAT : 0;
        r->off = at;
        if (skip_value(r, depth + 1) != 0)
            return SIM_EFORMAT;
        items++;
    }
}

/* Skip one complete item. A bare break is not an item. */
static int skip_value(struct reader *r, int depth)
{
    if (depth > SMP_FRAME_MAX_DEPTH)
        return SIM_EFORMAT;
    struct tok t;
    if (next(r, &t) != 0 || t.kind == TOK_BREAK)
        return SIM_EFORMAT;
    return skip_body(r, &t, depth);
}

int smp_frame_item_len(const uint8_t *p, size_t n, size_t *item_len)
{
    struct reader r = {.p = p, .n = p ? n : 0, .off = 0};
    if (skip_value(&r, 0) != 0)
        return SIM_EFORMAT;
    *item_len = r.off;
    return 0;
}

static struct smp_frame_field *find_field(struct smp_frame_field *fields, size_t n_fields,
                                          const uint8_t *key, size_t key_len)
{
    for (size_t i = 0; i < n_fields; i++) {
        if (strlen(fields[i].key) == key_len && memcmp(fields[i].key, key, key_len) == 0)
            return &fields[i];
    }
    return NULL;
}

/* Decode the value of a wanted key into f (rules 3 and 5 of the header). */
static int decode_field(struct reader *r, struct smp_frame_field *f)
{
    size_t at = r->off;
    if (f->type == SMP_FRAME_T_ANY) {
        if (skip_value(r, 1) != 0)
            return SIM_EFORMAT;
        f->str = r->p + at;
        f->str_len = r->off - at;
        return 0;
    }
    struct tok t;
    if (next(r, &t) != 0)
        return SIM_EFORMAT;
    switch (f->type) {
    case SMP_FRAME_T_U32:
        if (t.kind != TOK_UINT || t.u > UINT32_MAX)
            return SIM_EFORMAT;
        f->u32 = (uint32_t)t.u;
        return 0;
    case SMP_FRAME_T_BOOL:
        if (t.kind != TOK_BOOL)
            return SIM_EFORMAT;
        f->b = t.u != 0;
        return 0;
    case SMP_FRAME_T_TEXT:
    case SMP_FRAME_T_BSTR:
        if (t.kind != (f->type == SMP_FRAME_T_TEXT ? TOK_TEXT : TOK_BSTR))
            return SIM_EFORMAT;
        f->str = t.str;
        f->str_len = t.str_len;
        return 0;
    case SMP_FRAME_T_ANY:
        break;
    }
    return SIM_EFORMAT;
}

/* True at the end of the map: count exhausted, or a break consumed for indefinite maps. */
static int at_map_end(struct reader *r, const struct tok *map, uint64_t pairs_done, bool *end)
{
    if (!map->indef) {
        *end = pairs_done >= map->u;
        return 0;
    }
    size_t at = r->off;
    struct tok t;
    if (next(r, &t) != 0)
        return SIM_EFORMAT;
    *end = t.kind == TOK_BREAK;
    if (!*end)
        r->off = at;
    return 0;
}

int smp_frame_map_decode(const uint8_t *p, size_t n, struct smp_frame_field *fields,
                         size_t n_fields)
{
    for (size_t i = 0; i < n_fields; i++)
        fields[i].found = false;
    struct reader r = {.p = p, .n = p ? n : 0, .off = 0};
    struct tok map;
    if (next(&r, &map) != 0 || map.kind != TOK_MAP)
        return SIM_EFORMAT;
    for (uint64_t pairs = 0;; pairs++) {
        bool end;
        if (at_map_end(&r, &map, pairs, &end) != 0)
            return SIM_EFORMAT;
        if (end)
            return 0;
        struct tok key;
        if (next(&r, &key) != 0 || key.kind != TOK_TEXT)
            return SIM_EFORMAT;
        struct smp_frame_field *f = find_field(fields, n_fields, key.str, key.str_len);
        if (f == NULL) {
            if (skip_value(&r, 1) != 0)
                return SIM_EFORMAT;
            continue;
        }
        if (f->found || decode_field(&r, f) != 0)
            return SIM_EFORMAT;
        f->found = true;
    }
}
