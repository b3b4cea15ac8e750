/* sim/cli/mpi.h - the messages of `dfusim run --mpi` (docs/mpi.md): rank 0 hands runs to
 * the other ranks, which send back each run's database. Open MPI in a build with DFUSIM_MPI
 * (mpi_run.c), else a stub without any (mpi_stub.c) whose cli_mpi_built() is false and whose
 * other functions fail. run.c schedules the runs; this module only carries them.
 *
 * Messages (all in MPI_COMM_WORLD, between rank 0 and one worker rank W):
 *   collective  verdict (int), then with verdict 0 the scenario text and the output path
 *   W -> 0      report: struct cli_mpi_report, then text_len bytes of text (the run's line
 *               and its messages, or why the scenario did not load on W), then file_size
 *               bytes of the run's database in chunks
 *   0 -> W      control: CLI_MPI_ASSIGN run, CLI_MPI_STOP, CLI_MPI_INTERRUPT signal
 *   collective  the command's exit code, then MPI_Finalize
 * Every report gets exactly one ASSIGN or STOP back; an INTERRUPT can come at any time
 * between them. Waits sleep between tests (a waiting rank leaves its core to the others).
 * An MPI error aborts every rank (MPI's default error handler). */
#ifndef SIM_CLI_MPI_H
#define SIM_CLI_MPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cli_mpi_report_kind {
    CLI_MPI_READY,       /* the scenario loaded: give me a run */
    CLI_MPI_RESULT,      /* run `run` ended with exit code `code`; its database follows */
    CLI_MPI_LOAD_FAILED, /* the scenario did not load here: text says why; code is the exit */
};

/* Fixed size, sent as bytes: the ranks run the same binary on machines of one kind. */
struct cli_mpi_report {
    int32_t kind;      /* enum cli_mpi_report_kind */
    int32_t code;      /* exit code of the run (sim/error.h, 130 interrupted) */
    int32_t sig;       /* RESULT: the stop signal the worker saw, 0 for none */
    uint32_t line_len; /* RESULT: the text starts with the run's summary line, this long */
    uint32_t text_len;
    uint32_t reserved;  /* 0: no padding goes over the wire */
    int64_t run;        /* RESULT: index in run order */
    uint64_t file_size; /* RESULT: bytes of the run's database */
};

enum cli_mpi_control { CLI_MPI_ASSIGN, CLI_MPI_STOP, CLI_MPI_INTERRUPT };

/* True when this dfusim was built with MPI. */
bool cli_mpi_built(void);

/* MPI_Init (once per process). Returns 0 with this process's rank and the number of ranks,
 * or -1 with a message in msg. */
int cli_mpi_init(int *rank, int *size, char *msg, size_t msg_n);
/* MPI_Finalize. */
void cli_mpi_finalize(void);

/* Broadcast *v from rank 0 to every rank. Returns 0 or -1. */
int cli_mpi_bcast_int(int *v);
/* Broadcast bytes from rank 0: on rank 0 *buf and *len are read; on the others *buf is
 * allocated (len + 1 bytes, NUL-terminated; the caller frees it). Returns 0 or -1. */
int cli_mpi_bcast_bytes(char **buf, size_t *len);

/* Worker: send a report with text (text_len bytes) and, for a RESULT, the bytes of file_path
 * (its size replaces r->file_size). Returns 0, or -1 when file_path cannot be read: the
 * report then goes with code SIM_EXIT_INTERNAL and no bytes (or, when reading fails half
 * way, zeros for the rest, which rank 0's import refuses), so rank 0 still hears of the run.
 */
int cli_mpi_report_send(const struct cli_mpi_report *r, const char *text, const char *file_path);
/* Worker: wait for the next control message from rank 0. Returns 0 or -1. */
int cli_mpi_control_wait(enum cli_mpi_control *what, int64_t *value);
/* Worker: a control message from rank 0 when one has arrived (returns 1), else 0 at once. */
int cli_mpi_control_poll(enum cli_mpi_control *what, int64_t *value);

/* Rank 0: a report from any worker when one has arrived (returns 1, with *from, *r and *text,
 * text_len bytes NUL-terminated, freed by the caller; then the file bytes must be received
 * with cli_mpi_report_file before anything else from that worker), else 0 at once; -1 when
 * out of memory. */
int cli_mpi_report_poll(int *from, struct cli_mpi_report *r, char **text);
/* Rank 0: receive the file_size bytes of the report just polled from `from` into path
 * (created or truncated). Returns 0, or -1 when path cannot be written (the bytes are still
 * received, so the messages stay in step). */
int cli_mpi_report_file(int from, uint64_t file_size, const char *path);
/* Rank 0: send a control message to worker `to`. Returns 0 or -1. */
int cli_mpi_control_send(int to, enum cli_mpi_control what, int64_t value);

/* Every rank, collectively (one fleet split over the ranks, run_ranks.c): gather n bytes
 * from each rank into all (n_ranks * n bytes, rank order). Returns 0 or -1. */
int cli_mpi_allgather(const void *mine, size_t n, void *all);
/* Every rank, collectively: gather counts[r] bytes from each rank r (counts the same on every
 * rank, each below 2 GiB) into all (their sum, rank order). Returns 0 or -1. */
int cli_mpi_allgatherv(const void *mine, const uint64_t *counts, void *all);

/* Sleep about a millisecond: the pause between two polls of an idle rank. */
void cli_mpi_idle(void);

#endif /* SIM_CLI_MPI_H */
