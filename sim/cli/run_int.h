/* sim/cli/run_int.h - what `dfusim run`'s schedulers share: run.c (one process, -j children)
 * and run_ranks.c (--mpi ranks). Internal to sim/cli. */
#ifndef SIM_CLI_RUN_INT_H
#define SIM_CLI_RUN_INT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/scenario.h"

struct recorder;

struct run_options {
    const char *scenario_path;
    const char *output;
    const char *json; /* --json FILE: the per-group summary as JSON, "-" for stdout */
    const char *pcap; /* --pcap FILE: a capture of pcap_devices (sim/cli/capture.h) */
    const char *pcap_devices;
    const char **overrides;
    size_t n_overrides;
    char seed_override[64];
    unsigned jobs; /* runs at once, 1..CLI_RUN_MAX_JOBS */
    bool jobs_given;
    bool mpi; /* --mpi: the runs spread over MPI ranks (run_mpi) */
    bool quiet;
    bool kconfig_verbose;
};

/* Where a command's runs go and how many of them finished: the database keeps
 * meta.runs_planned and meta.runs_finished up to date after every run (README "Result
 * database"), so that report, compare and check can tell a cut-short sweep. */
struct sweep {
    struct recorder *rec;
    const char *db_path;   /* for messages: where the results will be */
    const char *part_base; /* the temporary database; -j parts are PART_BASE.runK.part */
    size_t planned, started, finished;
};

/* Called while a run simulates, every 2^16 events: --mpi answers the other ranks there. */
struct run_hook {
    void (*fn)(void *ctx);
    void *ctx;
};

/* The signal that stops the command (SIGINT, SIGTERM, SIGHUP), 0 while none came. */
extern volatile sig_atomic_t run_interrupt_flag;

/* Worse of two exit codes: interrupted > internal > usage > ok. */
int run_worse(int a, int b);
/* The scenario of every sweep point, each checked for the world: all or nothing before
 * the first run. Returns 0 or an exit code after printing why. */
int run_load_points(const struct scenario *s0, const struct run_options *o,
                    struct scenario **points, FILE *err);
/* Run k of the sweep (replication r of its point s) in this process, into rec; its
 * one-line summary goes to line; hook may be NULL. Returns an exit code. */
int run_one(struct scenario *s, uint32_t r, size_t k, size_t n_runs, struct recorder *rec,
            const char *db_path, const struct run_options *o, char *line, size_t line_len,
            const struct run_hook *hook, FILE *out, FILE *err);
/* One run ended with code: count it and record the count. */
int run_counted(struct sweep *sw, int code);

/* One run split over processes (--mpi with a rollout epoch, run_ranks.c; docs/mpi.md): this
 * process's part of the fleet, the collective that carries the rollout's epochs between the
 * parts, and at the end the merge of the other parts' rows (rank 0 only). */
struct fleet_world_sync;
struct fleet_world_stats;
struct run_part {
    uint32_t part, n_parts;
    const struct fleet_world_sync *sync;
    /* collective: ok is whether this part built its world; returns whether every part did */
    bool (*agree)(void *ctx, bool ok);
    /* rank 0: copy the other parts' rows into rec's open run; NULL on the others. Returns 0
     * or an exit code, with the reason printed to err. */
    int (*merge)(void *ctx, struct recorder *rec, FILE *err);
    /* collective, right after the run: the whole fleet's totals (and engine events) from
     * each part's */
    void (*sum)(void *ctx, struct fleet_world_stats *st, uint64_t *events);
    void *ctx;
};
/* This process's part of the one run of s into rec (the full summary on rank 0). Returns an
 * exit code. */
int run_fleet_part(struct scenario *s, struct recorder *rec, const char *db_path,
                   const struct run_options *o, const struct run_part *part, FILE *out, FILE *err);

/* ---- --mpi (run_ranks.c; docs/mpi.md) ---- */

struct mpi_job {
    bool on; /* MPI_Init done */
    int rank, n_ranks;
    bool verdict_sent; /* rank 0: the workers know whether there is work */
};

/* The verdict rank 0 broadcasts when it starts the runs or gives up: RUN_MPI_GO (then the
 * scenario text and the output path follow), RUN_MPI_IDLE (one run, or nothing to do), or an
 * exit code. */
#define RUN_MPI_GO    0
#define RUN_MPI_IDLE  (-1)
#define RUN_MPI_FLEET (-2) /* one run, its fleet split over the ranks (rollout.epoch > 0) */

/* Rank 0 broadcasts the verdict (RUN_MPI_GO, RUN_MPI_IDLE or an exit code). */
int run_mpi_verdict(struct mpi_job *mj, int verdict);
/* Rank 0: every run of the sweep over the ranks, imported in run order into sw. Returns
 * the worst exit code. */
int run_mpi(struct scenario *points, uint32_t reps, struct sweep *sw, const struct run_options *o,
            struct mpi_job *mj, FILE *out, FILE *err);
/* Rank 0: the one run of s with its fleet split over every rank (docs/mpi.md "One fleet
 * across ranks"); the other ranks' rows are merged into rec's run. Returns an exit code. */
int run_mpi_fleet(struct scenario *s, struct recorder *rec, const char *db_path,
                  const char *part_base, const struct run_options *o, struct mpi_job *mj, FILE *out,
                  FILE *err);
/* Whether the one run of s can be split over ranks: it has a rollout with an epoch. */
bool run_mpi_fleet_splits(const struct scenario *s);
/* A worker rank: the runs rank 0 hands out, until it says stop. */
int run_mpi_worker(const struct run_options *o, FILE *sink);
/* The launcher's rank of this process before MPI_Init (0 when none). */
int run_mpi_launcher_rank(void);
/* The command line asks for --mpi. */
bool run_mpi_asked(int argc, char **argv);
/* MPI_Init; a worker's output goes to the sink. Returns 0 or an exit code. */
int run_mpi_begin(struct mpi_job *mj, FILE **out, FILE **err, FILE **sink);
/* Every rank at the end: rank 0's exit code for all, then MPI_Finalize. */
int run_mpi_end(struct mpi_job *mj, int code);

#endif /* SIM_CLI_RUN_INT_H */
