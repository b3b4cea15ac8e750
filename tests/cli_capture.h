/* tests/cli_capture.h - run the dfusim program in-process, with its stdout and stderr
 * captured into the caller's buffers (each NUL-terminated, cut at its size). Shared by the
 * tests that drive the CLI; header-only because each test is its own executable. */
#ifndef TESTS_CLI_CAPTURE_H
#define TESTS_CLI_CAPTURE_H

#include "sim/cli/cli.h"

#include <stddef.h>
#include <stdio.h>

/* Returns cli_main's exit code. */
static inline int cli_capture(int argc, const char *const *argv, char *out_text, size_t out_n,
                              char *err_text, size_t err_n)
{
    FILE *out = fmemopen(out_text, out_n, "w");
    FILE *err = fmemopen(err_text, err_n, "w");
    int code = cli_main(argc, (char **)argv, out, err);
    fclose(out);
    fclose(err);
    return code;
}

#endif /* TESTS_CLI_CAPTURE_H */
