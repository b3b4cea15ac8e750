/* bench/make_bench_image.c - write an MCUboot image file laid out as imgtool writes it, for
 * the benchmarks that need a real image of a given size (there is no imgtool on the build
 * machines; tests/image_builder.h is the tests' imgtool-layout builder).
 *
 * Usage: make_bench_image OUT TOTAL_KIB [MAJOR.MINOR.REV]
 * OUT holds a 0x200-byte header, a pseudo-random body and a SHA256 TLV, TOTAL_KIB KiB in all
 * (the body is sized so that header + body + TLVs is exactly that), version 2.0.0 unless
 * given. Exit 0, 2 on bad arguments, 3 if it cannot be written. */
#include "tests/image_builder.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    unsigned maj = 2, min = 0, rev = 0;
    unsigned long kib = argc > 2 ? strtoul(argv[2], NULL, 10) : 0;
    if (argc < 3 || argc > 4 || kib < 1 || kib > 16384 ||
        (argc == 4 && sscanf(argv[3], "%u.%u.%u", &maj, &min, &rev) != 3) || maj > 255 ||
        min > 255 || rev > 65535) {
        fprintf(stderr, "usage: make_bench_image OUT TOTAL_KIB [MAJOR.MINOR.REV]\n");
        return 2;
    }
    const uint32_t tlvs = 4 + 4 + 32; /* TLV info + SHA256 TLV */
    static const struct ib_op ops[] = {IB_OP_HASH};
    struct ib_spec spec = {.body_len = (uint32_t)(kib * 1024u - 0x200u - tlvs),
                           .body_seed = 1,
                           .version = {(uint8_t)maj, (uint8_t)min, (uint16_t)rev, 0},
                           .ops = ops,
                           .n_ops = 1};
    uint8_t *buf = NULL;
    size_t len = 0;
    if (ib_build(&spec, &buf, &len) != 0)
        return 3;
    FILE *f = fopen(argv[1], "wb");
    int ok = f != NULL && fwrite(buf, 1, len, f) == len;
    if (f != NULL && fclose(f) != 0)
        ok = 0;
    free(buf);
    if (!ok) {
        perror(argv[1]);
        return 3;
    }
    printf("%s: %zu bytes, version %u.%u.%u\n", argv[1], len, maj, min, rev);
    return 0;
}
