/* tests/fuzz/fuzz_serial.c - libFuzzer target: the SMP over serial (console) decoder,
 * smp_serial_rx_frame(), on any bytes a UART could deliver.
 *
 * The input is split into lines at 0x0a and fed, line by line, to one decoder with a small
 * net_buf pool (3 buffers of 256 bytes, so that "no buffer" and "packet longer than a
 * buffer" happen); the worker is run whenever a packet is queued. A finding: a crash, a
 * sanitizer report, an abort() below (a processed packet longer than a buffer, a decoder
 * error code, a buffer lost from the pool after smp_serial_fini()). Seeds: frames of the
 * packets in tests/fuzz/seeds/fuzz_serial (encoded SMP requests). Build and run:
 * ./setup.sh fuzz [SECONDS] (see tests/fuzz/README.md).
 */
#include "models/smp/netbuf.h"
#include "models/smp/serial.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_SIZE  256
#define BUF_COUNT 3

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct env {
    int64_t armed_at;
};

static int on_arm(void *e, int64_t at)
{
    ((struct env *)e)->armed_at = at;
    return 0;
}

static int on_process(void *e, const uint8_t *p, size_t n, uint8_t *rsp, size_t cap, int64_t now)
{
    (void)e;
    (void)now;
    if (n > BUF_SIZE || (p == NULL && n > 0))
        abort(); /* a packet larger than the buffer it came in */
    if (rsp != NULL && cap > 0)
        rsp[0] = n > 0 ? p[0] : 0; /* touch both: ASan checks the ranges */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct smp_netbuf_cfg cfg = {
        .buf_size = BUF_SIZE, .buf_count = BUF_COUNT, .cpu_per_request = 1};
    struct smp_netbuf *pool = smp_netbuf_new(&cfg);
    if (pool == NULL)
        abort();
    struct env env = {0};
    struct smp_netbuf_ctx cx = {&env, on_arm, NULL, on_process};
    struct smp_serial s;
    smp_serial_init(&s, pool, 0);
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != 0x0a)
            continue;
        size_t n = i - start + (i < size); /* the newline belongs to the line */
        enum smp_serial_rx rx;
        if (n > 0 && smp_serial_rx_frame(&s, data + start, n, 0, &cx, &rx) != 0)
            abort(); /* the context never fails: neither may the decoder */
        while (smp_netbuf_busy(pool))
            if (smp_netbuf_timer(pool, env.armed_at, &cx) != 0)
                abort();
        smp_netbuf_check(pool);
        start = i + 1;
    }
    smp_serial_fini(&s);
    if (smp_netbuf_n_free(pool) != BUF_COUNT)
        abort(); /* a buffer leaked by the decoder */
    smp_netbuf_free(pool);
    return 0;
}
