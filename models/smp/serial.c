/* models/smp/serial.c - SMP console framing: base64 frames, length, CRC16. */
#include "models/smp/serial.h"

#include <string.h>

#include "sim/error.h"

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

uint16_t smp_serial_crc16(uint16_t crc, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
    }
    return crc;
}

static size_t b64_len(size_t raw)
{
    return (raw + 2) / 3 * 4;
}

size_t smp_serial_encoded_len(size_t n)
{
    size_t raw = n + 4, frames = (raw + SMP_SERIAL_RAW_PER_FRAME - 1) / SMP_SERIAL_RAW_PER_FRAME;
    return frames * 3 + b64_len(raw % SMP_SERIAL_RAW_PER_FRAME) +
           (raw / SMP_SERIAL_RAW_PER_FRAME) * b64_len(SMP_SERIAL_RAW_PER_FRAME);
}

static void b64_encode(const uint8_t *in, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        *out++ = (uint8_t)b64[(v >> 18) & 63];
        *out++ = (uint8_t)b64[(v >> 12) & 63];
        *out++ = i + 1 < n ? (uint8_t)b64[(v >> 6) & 63] : '=';
        *out++ = i + 2 < n ? (uint8_t)b64[v & 63] : '=';
    }
}

/* Byte k of the raw stream [length][packet][crc]. */
static uint8_t raw_at(const uint8_t *p, size_t n, uint16_t crc, size_t k)
{
    if (k < 2)
        return (uint8_t)((n + 2) >> (k == 0 ? 8 : 0));
    if (k < n + 2)
        return p[k - 2];
    return (uint8_t)(crc >> (k == n + 2 ? 8 : 0));
}

int smp_serial_encode(const uint8_t *p, size_t n, uint8_t *out, size_t cap, size_t *out_len)
{
    if (n > 65533)
        return SIM_EINVAL;
    size_t need = smp_serial_encoded_len(n);
    if (need > cap)
        return SIM_ERANGE;
    uint16_t crc = smp_serial_crc16(0, p, n);
    size_t raw = n + 4, o = 0;
    for (size_t k = 0; k < raw; k += SMP_SERIAL_RAW_PER_FRAME) {
        out[o++] = k == 0 ? 0x06 : 0x04;
        out[o++] = k == 0 ? 0x09 : 0x14;
        size_t m = raw - k < SMP_SERIAL_RAW_PER_FRAME ? raw - k : SMP_SERIAL_RAW_PER_FRAME;
        uint8_t piece[SMP_SERIAL_RAW_PER_FRAME];
        for (size_t i = 0; i < m; i++)
            piece[i] = raw_at(p, n, crc, k + i);
        b64_encode(piece, m, out + o);
        o += b64_len(m);
        out[o++] = 0x0a;
    }
    *out_len = o;
    return 0;
}

int64_t smp_serial_wire_ns(size_t bytes, uint32_t baud)
{
    if (baud == 0)
        return 0;
    return (int64_t)((uint64_t)bytes * 10u * 1000000000u / baud);
}

static int b64_val(uint8_t c)
{
    const char *at = c ? strchr(b64, c) : NULL;
    return at ? (int)(at - b64) : -1;
}

/* Decode base64 text (length a multiple of 4, '=' padding only at the end) into out.
 * Returns bytes written, or -1 if the text is invalid or does not fit in cap. */
static long b64_decode(const uint8_t *in, size_t n, uint8_t *out, size_t cap)
{
    if (n % 4 != 0)
        return -1;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4];
        int pad = 0;
        if (i + 4 == n && in[i + 3] == '=')
            pad = in[i + 2] == '=' ? 2 : 1;
        for (int j = 0; j < 4; j++) {
            v[j] = j >= 4 - pad ? 0 : b64_val(in[i + j]);
            if (v[j] < 0)
                return -1;
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | v[3];
        size_t m = 3 - (size_t)pad;
        if (o + m > cap)
            return -1;
        for (size_t j = 0; j < m; j++)
            out[o++] = (uint8_t)(w >> (16 - 8 * j));
    }
    return (long)o;
}

void smp_serial_init(struct smp_serial *s, struct smp_netbuf *pool, uint32_t baud)
{
    memset(s, 0, sizeof(*s));
    s->pool = pool;
    s->buf = -1;
    s->baud = baud ? baud : 115200;
}

static void drop(struct smp_serial *s)
{
    if (s->buf >= 0)
        smp_netbuf_release(s->pool, s->buf);
    s->buf = -1;
    s->pkt_len = 0;
}

void smp_serial_fini(struct smp_serial *s)
{
    drop(s);
}

/* Decode a frame's text into the current buffer; the start frame's length is taken off
 * the front. Returns false on bad text or overflow. */
static bool append(struct smp_serial *s, const uint8_t *text, size_t n, bool start)
{
    size_t *len;
    uint8_t *d = smp_netbuf_data(s->pool, s->buf, &len);
    size_t cap = smp_netbuf_buf_size(s->pool);
    uint8_t tmp[SMP_SERIAL_MAX_FRAME];
    long got = b64_decode(text, n, tmp, sizeof(tmp));
    if (got < 0)
        return false;
    size_t skip = 0;
    if (start) {
        if (got < 2)
            return false;
        s->pkt_len = (uint32_t)(tmp[0] << 8 | tmp[1]);
        skip = 2;
        if (s->pkt_len < 2 || s->pkt_len > cap)
            return false;
    }
    size_t m = (size_t)got - skip;
    if (*len + m > cap)
        return false;
    memcpy(d + *len, tmp + skip, m);
    *len += m;
    return true;
}

int smp_serial_rx_frame(struct smp_serial *s, const uint8_t *line, size_t n, int64_t now,
                        const struct smp_netbuf_ctx *ncx, enum smp_serial_rx *rx)
{
    if (n > 0 && line[n - 1] == 0x0a)
        n--;
    bool start = n >= 2 && line[0] == 0x06 && line[1] == 0x09;
    bool cont = n >= 2 && line[0] == 0x04 && line[1] == 0x14;
    *rx = SMP_SERIAL_RX_IGNORED;
    if (!start && !(cont && s->buf >= 0))
        return 0;
    if (start) {
        drop(s);
        s->buf = smp_netbuf_alloc(s->pool);
        if (s->buf < 0) {
            *rx = SMP_SERIAL_RX_ENOMEM;
            return 0;
        }
    }
    if (!append(s, line + 2, n - 2, start)) {
        drop(s);
        *rx = SMP_SERIAL_RX_BAD;
        return 0;
    }
    size_t *len;
    uint8_t *d = smp_netbuf_data(s->pool, s->buf, &len);
    if (*len < s->pkt_len) {
        *rx = SMP_SERIAL_RX_PARTIAL;
        return 0;
    }
    /* CRC over packet and CRC is 0 when they match; more bytes than announced fail too. */
    if (*len != s->pkt_len || smp_serial_crc16(0, d, *len) != 0) {
        drop(s);
        *rx = SMP_SERIAL_RX_CRC;
        return 0;
    }
    *len -= 2;
    int buf = s->buf;
    s->buf = -1;
    s->pkt_len = 0;
    *rx = SMP_SERIAL_RX_QUEUED;
    return smp_netbuf_enqueue(s->pool, buf, s->conn, now, ncx);
}
