/* sim/cli/mpi_stub.c - sim/cli/mpi.h in a build without MPI (-DDFUSIM_MPI=OFF): nothing to
 * carry messages, so `dfusim run --mpi` is refused before any of these is called; each
 * fails should it be called anyway. */
#include "sim/cli/mpi.h"

#include <stdio.h>

bool cli_mpi_built(void)
{
    return false;
}

int cli_mpi_init(int *rank, int *size, char *msg, size_t msg_n)
{
    *rank = 0;
    *size = 1;
    snprintf(msg, msg_n, "this dfusim was built without MPI");
    return -1;
}

void cli_mpi_finalize(void) {}

int cli_mpi_bcast_int(int *v)
{
    (void)v;
    return -1;
}

int cli_mpi_bcast_bytes(char **buf, size_t *len)
{
    (void)buf;
    (void)len;
    return -1;
}

int cli_mpi_report_send(const struct cli_mpi_report *r, const char *text, const char *file_path)
{
    (void)r;
    (void)text;
    (void)file_path;
    return -1;
}

int cli_mpi_control_wait(enum cli_mpi_control *what, int64_t *value)
{
    (void)what;
    (void)value;
    return -1;
}

int cli_mpi_control_poll(enum cli_mpi_control *what, int64_t *value)
{
    (void)what;
    (void)value;
    return -1;
}

int cli_mpi_report_poll(int *from, struct cli_mpi_report *r, char **text)
{
    (void)from;
    (void)r;
    (void)text;
    return -1;
}

int cli_mpi_report_file(int from, uint64_t file_size, const char *path)
{
    (void)from;
    (void)file_size;
    (void)path;
    return -1;
}

int cli_mpi_control_send(int to, enum cli_mpi_control what, int64_t value)
{
    (void)to;
    (void)what;
    (void)value;
    return -1;
}

void cli_mpi_idle(void) {}

int cli_mpi_allgather(const void *mine, size_t n, void *all)
{
    (void)mine;
    (void)n;
    (void)all;
    return -1;
}

int cli_mpi_allgatherv(const void *mine, const uint64_t *counts, void *all)
{
    (void)mine;
    (void)counts;
    (void)all;
    return -1;
}
