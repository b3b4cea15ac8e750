/* sim/cli/mpi_run.c - the messages of `dfusim run --mpi` over MPI (sim/cli/mpi.h). Built
 * only with -DDFUSIM_MPI=ON; mpi_stub.c stands in otherwise. */
#include "sim/cli/mpi.h"
#include "sim/error.h"

#include <mpi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    TAG_REPORT = 1, /* worker -> 0: struct cli_mpi_report */
    TAG_TEXT,       /* worker -> 0: its text */
    TAG_DATA,       /* worker -> 0: database bytes, CHUNK at most per message */
    TAG_CONTROL,    /* 0 -> worker: int64_t[2] {enum cli_mpi_control, value} */
};

#define CHUNK (8u << 20) /* bytes per data message: well under MPI's int count */

bool cli_mpi_built(void)
{
    return true;
}

int cli_mpi_init(int *rank, int *size, char *msg, size_t msg_n)
{
    int done = 0;
    MPI_Initialized(&done);
    if (!done && MPI_Init(NULL, NULL) != MPI_SUCCESS) {
        snprintf(msg, msg_n, "MPI_Init failed");
        return -1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, size);
    return 0;
}

void cli_mpi_finalize(void)
{
    int done = 0;
    MPI_Finalized(&done);
    if (!done)
        MPI_Finalize();
}

void cli_mpi_idle(void)
{
    const struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
}

/* Wait for req without spinning: Open MPI's blocking calls poll a core at 100 %, which on a
 * machine with fewer cores than ranks takes it from a rank that simulates. */
static int wait_politely(MPI_Request *req)
{
    for (;;) {
        int flag = 0;
        if (MPI_Test(req, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (flag)
            return 0;
        cli_mpi_idle();
    }
}

int cli_mpi_bcast_int(int *v)
{
    MPI_Request req;
    if (MPI_Ibcast(v, 1, MPI_INT, 0, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    return wait_politely(&req);
}

int cli_mpi_bcast_bytes(char **buf, size_t *len)
{
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    uint64_t n = rank == 0 ? (uint64_t)*len : 0;
    MPI_Request req;
    if (MPI_Ibcast(&n, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &req) != MPI_SUCCESS ||
        wait_politely(&req) != 0 || n > INT32_MAX)
        return -1;
    if (rank != 0) {
        *buf = malloc((size_t)n + 1);
        if (*buf == NULL)
            MPI_Abort(MPI_COMM_WORLD, SIM_EXIT_INTERNAL); /* the others wait in this bcast */
        (*buf)[n] = '\0';
        *len = (size_t)n;
    }
    if (MPI_Ibcast(*buf, (int)n, MPI_CHAR, 0, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    return wait_politely(&req);
}

static int send_politely(const void *buf, int count, MPI_Datatype type, int to, int tag)
{
    MPI_Request req;
    if (MPI_Isend(buf, count, type, to, tag, MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    return wait_politely(&req);
}

/* Send the n bytes of f in chunks; zeros for what cannot be read. Returns 0 or -1. */
static int send_file(FILE *f, uint64_t n, char *chunk)
{
    int rc = 0;
    while (n > 0) {
        size_t want = n < CHUNK ? (size_t)n : CHUNK;
        size_t got = f != NULL ? fread(chunk, 1, want, f) : 0;
        if (got < want) {
            memset(chunk + got, 0, want - got);
            rc = -1;
        }
        if (send_politely(chunk, (int)want, MPI_BYTE, 0, TAG_DATA) != 0)
            return -1;
        n -= want;
    }
    return rc;
}

int cli_mpi_report_send(const struct cli_mpi_report *r, const char *text, const char *file_path)
{
    struct cli_mpi_report head = *r;
    FILE *f = NULL;
    int rc = 0;
    head.file_size = 0;
    if (r->kind == CLI_MPI_RESULT && file_path != NULL) {
        f = fopen(file_path, "rb");
        long size = -1;
        if (f != NULL && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
            fseek(f, 0, SEEK_SET) == 0) {
            head.file_size = (uint64_t)size;
        } else {
            head.code = SIM_EXIT_INTERNAL;
            rc = -1;
        }
    }
    char *chunk = head.file_size > 0 ? malloc(CHUNK) : NULL;
    if (head.file_size > 0 && chunk == NULL) {
        head.file_size = 0;
        head.code = SIM_EXIT_INTERNAL;
        rc = -1;
    }
    if (send_politely(&head, (int)sizeof(head), MPI_BYTE, 0, TAG_REPORT) != 0 ||
        (head.text_len > 0 &&
         send_politely(text, (int)head.text_len, MPI_CHAR, 0, TAG_TEXT) != 0) ||
        send_file(f, head.file_size, chunk) != 0)
        rc = -1;
    free(chunk);
    if (f != NULL)
        fclose(f);
    return rc;
}

static int control_recv(enum cli_mpi_control *what, int64_t *value, bool wait)
{
    int64_t msg[2];
    MPI_Request req;
    if (!wait) {
        int flag = 0;
        if (MPI_Iprobe(0, TAG_CONTROL, MPI_COMM_WORLD, &flag, MPI_STATUS_IGNORE) != MPI_SUCCESS)
            return -1;
        if (!flag)
            return 0;
    }
    if (MPI_Irecv(msg, 2, MPI_INT64_T, 0, TAG_CONTROL, MPI_COMM_WORLD, &req) != MPI_SUCCESS ||
        wait_politely(&req) != 0)
        return -1;
    *what = (enum cli_mpi_control)msg[0];
    *value = msg[1];
    return 1;
}

int cli_mpi_control_wait(enum cli_mpi_control *what, int64_t *value)
{
    return control_recv(what, value, true) == 1 ? 0 : -1;
}

int cli_mpi_control_poll(enum cli_mpi_control *what, int64_t *value)
{
    return control_recv(what, value, false);
}

int cli_mpi_control_send(int to, enum cli_mpi_control what, int64_t value)
{
    const int64_t msg[2] = {what, value};
    return send_politely(msg, 2, MPI_INT64_T, to, TAG_CONTROL);
}

int cli_mpi_report_poll(int *from, struct cli_mpi_report *r, char **text)
{
    int flag = 0;
    MPI_Status st;
    if (MPI_Iprobe(MPI_ANY_SOURCE, TAG_REPORT, MPI_COMM_WORLD, &flag, &st) != MPI_SUCCESS)
        return -1;
    if (!flag)
        return 0;
    *from = st.MPI_SOURCE;
    MPI_Request req;
    if (MPI_Irecv(r, (int)sizeof(*r), MPI_BYTE, *from, TAG_REPORT, MPI_COMM_WORLD, &req) !=
            MPI_SUCCESS ||
        wait_politely(&req) != 0)
        return -1;
    *text = malloc((size_t)r->text_len + 1);
    if (*text == NULL)
        return -1;
    (*text)[r->text_len] = '\0';
    if (r->text_len > 0 && (MPI_Irecv(*text, (int)r->text_len, MPI_CHAR, *from, TAG_TEXT,
                                      MPI_COMM_WORLD, &req) != MPI_SUCCESS ||
                            wait_politely(&req) != 0)) {
        free(*text);
        *text = NULL;
        return -1;
    }
    return 1;
}

int cli_mpi_report_file(int from, uint64_t file_size, const char *path)
{
    FILE *f = fopen(path, "wb");
    int rc = f == NULL ? -1 : 0;
    char *chunk = file_size > 0 ? malloc(CHUNK) : NULL;
    if (file_size > 0 && chunk == NULL)
        MPI_Abort(MPI_COMM_WORLD, SIM_EXIT_INTERNAL); /* the worker waits to send them */
    while (file_size > 0) {
        size_t want = file_size < CHUNK ? (size_t)file_size : CHUNK;
        MPI_Request req;
        if (MPI_Irecv(chunk, (int)want, MPI_BYTE, from, TAG_DATA, MPI_COMM_WORLD, &req) !=
                MPI_SUCCESS ||
            wait_politely(&req) != 0) {
            rc = -1;
            break;
        }
        if (f != NULL && fwrite(chunk, 1, want, f) != want)
            rc = -1;
        file_size -= want;
    }
    free(chunk);
    if (f != NULL && fclose(f) != 0)
        rc = -1;
    return rc;
}

int cli_mpi_allgather(const void *mine, size_t n, void *all)
{
    MPI_Request req;
    if (n > (size_t)INT32_MAX || MPI_Iallgather(mine, (int)n, MPI_BYTE, all, (int)n, MPI_BYTE,
                                                MPI_COMM_WORLD, &req) != MPI_SUCCESS)
        return -1;
    return wait_politely(&req);
}

int cli_mpi_allgatherv(const void *mine, const uint64_t *counts, void *all)
{
    int size = 0, rank = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int *cnt = malloc(2 * (size_t)size * sizeof(*cnt));
    if (cnt == NULL)
        return -1;
    int *displ = cnt + size;
    uint64_t at = 0;
    for (int r = 0; r < size; r++) {
        if (counts[r] > (uint64_t)INT32_MAX || at > (uint64_t)INT32_MAX) {
            free(cnt);
            return -1;
        }
        cnt[r] = (int)counts[r];
        displ[r] = (int)at;
        at += counts[r];
    }
    MPI_Request req;
    int rc = MPI_Iallgatherv(mine, cnt[rank], MPI_BYTE, all, cnt, displ, MPI_BYTE, MPI_COMM_WORLD,
                             &req) == MPI_SUCCESS
                 ? wait_politely(&req)
                 : -1;
    free(cnt);
    return rc;
}
