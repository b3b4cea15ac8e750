/* sim/recorder.h - typed simulation records -> SQLite, in batched transactions.
 *
 * Models emit records (a device, a DFU attempt, a chunk, a swap, a lock change, a wave,
 * flash wear); the recorder writes them with prepared statements inside large
 * transactions (CONTRIBUTING.md rule 8). A run row is committed with status 'running' before
 * any record, and only recorder_run_end() changes it, so a run cut short by SIGINT, an
 * error or a crash never looks complete. Schema: README "Result database".
 */
#ifndef SIM_RECORDER_H
#define SIM_RECORDER_H

#include "sim/error.h"

#include <stdbool.h>
#include <stdint.h>

#define RECORDER_SCHEMA_VERSION 5
#define RECORDER_NONE           (-1) /* an optional time or id column that is NULL */

/* What gets written, from least to most (scenario key `record`). */
enum recorder_level { RECORDER_SUMMARY, RECORDER_ATTEMPTS, RECORDER_CHUNKS };

enum recorder_status { RECORDER_RUNNING, RECORDER_COMPLETE, RECORDER_INTERRUPTED, RECORDER_FAILED };

/* Identity of one run (one scenario, sweep point and replication). Strings are
 * copied by SQLite during the call. */
struct recorder_run {
    const char *scenario_name;
    const char *scenario_path;
    const char *scenario_text; /* the whole file, stored with its SHA-256 */
    size_t scenario_len;
    const char *model;    /* which world model ran, e.g. "dfu" */
    uint64_t seed;        /* the replication's own seed (scenario_replication_seed) */
    uint32_t replication; /* from 1 */
    uint32_t sweep_point; /* from 1; 1 without a sweep */
    enum recorder_level level;
};

/* Records. Times are ns of simulated time; RECORDER_NONE marks NULL. */
struct recorder_group {
    uint32_t group_id;
    const char *name, *board, *bootloader;
    uint32_t count;
};

struct recorder_device {
    uint32_t device_id, group_id;
    int64_t gateway_id; /* RECORDER_NONE if none */
    const char *state;  /* final state: "updated", "failed", "pending", ... */
    uint32_t attempts;
    int64_t first_start_ns; /* its first attempt began, or RECORDER_NONE */
    int64_t updated_ns;     /* the new image first ran for good (confirmed), or RECORDER_NONE */
    int64_t bytes_sent;     /* upload data bytes its clients sent, resends included */
    int64_t downtime_ns;    /* sum of its ended outages (application not running) */
    const char *refusal;    /* MCUboot's reason for the last image its boot refused, or NULL */
};

struct recorder_attempt {
    int64_t attempt_id; /* unique in the run: device_id x 2^32 + the device's attempt number */
    uint32_t device_id;
    int64_t gateway_id;  /* RECORDER_NONE if none */
    const char *client;  /* client model, NULL if none */
    int64_t start_ns;    /* the attempt began (client started) */
    int64_t connect_ns;  /* link up */
    int64_t validate_ns; /* first command before the upload (bootloader info, list) */
    int64_t upload_start_ns, upload_end_ns;
    int64_t test_ns;                    /* test (or confirm before the reset) answered */
    int64_t reset_ns;                   /* reset answered */
    int64_t swap_start_ns, swap_end_ns; /* the bootloader's work after that reset */
    int64_t reconnect_ns;               /* link up again after the reset */
    int64_t confirm_ns, end_ns;
    int64_t bytes_sent;   /* upload data bytes sent, resends included */
    int64_t bytes_resent; /* of them, in chunks sent again (an offset sent before) */
    int64_t image_bytes;  /* image bytes the device wrote to its slot in this attempt */
    int64_t chunks;
    int64_t retries;         /* attempts of the same offset again (client-level) */
    int64_t retransmissions; /* chunks sent again: lost, timed out or busy */
    const char *outcome;     /* "updated", "failed", "reverted", "timeout", "cancelled" */
    const char *error;       /* NULL, or why it failed */
};

struct recorder_chunk {
    int64_t attempt_id;
    uint32_t device_id, seq;
    uint32_t offset, len;
    int64_t sent_ns, acked_ns;
    int32_t rc; /* SMP rc of the response, RECORDER_NONE if none */
};

/* Records that happen on a device carry the attempt they belong to (attempt_id, or
 * RECORDER_NONE before the device's first attempt): the attempt in progress when it
 * happened, or else the device's last attempt (whose reset or upload led to it). */
struct recorder_swap {
    int64_t attempt_id;
    uint32_t device_id;
    const char *mode; /* bootloader mode */
    int64_t start_ns, end_ns;
    uint32_t sectors_erased; /* sector erases the bootloader did in this swap */
    uint32_t sector_writes;  /* write operations per sector (copies, status, trailer) */
    bool power_loss;
    const char *outcome;
};

struct recorder_lock {
    int64_t attempt_id;
    uint32_t device_id;
    int64_t at_ns;
    const char *owner; /* new owner, NULL when released */
};

/* One outage of a device's application: from the moment it stops (a reset, a power loss,
 * a crash) until the application runs again (MCUboot's work and app_start included). */
struct recorder_outage {
    int64_t attempt_id;
    uint32_t device_id;
    const char *cause; /* "reset", "power-loss", "crash", "fault-reset" */
    int64_t down_ns;
    int64_t up_ns; /* RECORDER_NONE: not running again when the run ended */
};

struct recorder_wave {
    uint32_t wave;
    int64_t start_ns, end_ns;
    uint32_t target, succeeded, failed;
    const char *action; /* "next", "pause", "cancel", "rollback" */
};

/* One gateway or phone, written at the end of the run. */
struct recorder_gateway {
    uint32_t gateway_id;
    const char *name;         /* its kind's name in the scenario */
    const char *availability; /* "always" or "sessions" */
    uint32_t links, devices;  /* most concurrent links; devices assigned to it */
    uint32_t sessions, max_active;
    uint64_t served, leaves; /* clients that finished; clients stopped by a departure */
};

/* One session of a phone (written at its departure). */
struct recorder_session {
    uint32_t gateway_id, session;
    int64_t start_ns, end_ns;
    uint32_t connected, served, left; /* clients started, finished, stopped at departure */
};

/* Flash wear of one area of a device: sums over its sectors, and the most-erased one. */
struct recorder_device_wear {
    uint32_t device_id;
    const char *area; /* "primary", "secondary", "scratch" */
    uint64_t erases, writes;
    uint32_t max_erases;
};

struct recorder_wear {
    uint32_t device_id;
    const char *area; /* "primary", "secondary", "scratch" */
    uint32_t sector, erases, writes;
};

struct recorder; /* opaque: owns the connection and prepared statements */

/* Create a new database at path with the schema. A file already there is replaced only
 * when it is empty or a results database (sim/outfile.h); anything else is SIM_EINVAL.
 * The CLI passes a fresh temporary file (outfile_db_begin). Returns 0 and *out, or
 * SIM_EIO / SIM_EINVAL with a message in diag. */
int recorder_open(const char *path, struct recorder **out, struct sim_diag *diag);
/* Close. A run still open is marked 'failed' ("closed before the run ended").
 * Accepts NULL. */
void recorder_close(struct recorder *rec);

/* Start a run: inserts and commits its row with status 'running'. One run at a time. */
int recorder_run_begin(struct recorder *rec, const struct recorder_run *run, int64_t *run_id);
/* Commit pending records and set the final status, wall-clock end and what the engine
 * reached. detail may be NULL. */
int recorder_run_end(struct recorder *rec, enum recorder_status status, const char *detail,
                     int64_t sim_end_ns, uint64_t events);

/* Copy every run of the database at `path` (written by another recorder, closed) into
 * rec, in run_id order, each under the next run_id of rec, with all its rows: what
 * `dfusim run -j` does with the database of each child process. Statuses are copied as
 * they are. No run may be open in rec. Returns 0, or SIM_EIO (rec then holds no part of
 * the imported runs: one transaction) with the message in recorder_error(). */
int recorder_import(struct recorder *rec, const char *path);

/* One run in parts (a fleet split over processes, docs/mpi.md): copy into the open run the
 * rows of the per-device tables (devices, dfu_attempts, chunks, swaps, outages,
 * lock_changes, device_wear, flash_wear) and the per-gateway ones (gateways, sessions) of
 * the one run in the database at path, which another process wrote for the other devices
 * and gateways of the same run; runs, run_params, device_groups and waves are the open
 * run's own. Returns 0, or SIM_EIO (nothing copied). */
int recorder_run_merge_part(struct recorder *rec, const char *path);
/* Put the open run's rows in an order that does not depend on how the devices' events
 * interleaved: the per-device tables by device_id, the per-gateway ones by gateway_id, each
 * device's (gateway's) rows in the order they were emitted; the other tables as they are.
 * A run split in parts and merged (recorder_run_merge_part) then has the rows of the same
 * run in one part, row for row. Call before recorder_run_end. Returns 0 or SIM_EIO. */
int recorder_run_canonical(struct recorder *rec);

/* Emitters: 0, or SIM_EIO (message in the recorder's diag, see recorder_error()).
 * Records below the run's level are accepted and skipped. */
int recorder_param(struct recorder *rec, const char *key, const char *value);
int recorder_group_emit(struct recorder *rec, const struct recorder_group *g);
int recorder_device_emit(struct recorder *rec, const struct recorder_device *d);
int recorder_attempt_emit(struct recorder *rec, const struct recorder_attempt *a);
int recorder_chunk_emit(struct recorder *rec, const struct recorder_chunk *c);
int recorder_swap_emit(struct recorder *rec, const struct recorder_swap *s);
int recorder_lock_emit(struct recorder *rec, const struct recorder_lock *l);
int recorder_outage_emit(struct recorder *rec, const struct recorder_outage *o);
int recorder_wave_emit(struct recorder *rec, const struct recorder_wave *w);
int recorder_wear_emit(struct recorder *rec, const struct recorder_wear *w);
int recorder_device_wear_emit(struct recorder *rec, const struct recorder_device_wear *w);
int recorder_gateway_emit(struct recorder *rec, const struct recorder_gateway *g);
int recorder_session_emit(struct recorder *rec, const struct recorder_session *s);

/* The file the recorder writes (for reading it back while it is open). */
const char *recorder_path(const struct recorder *rec);

/* The last SQLite error text ("" if none), for the caller's diagnostic. */
const char *recorder_error(const struct recorder *rec);

/* Set one row of the meta table (INSERT OR REPLACE; committed unless a run's batch is
 * open). Keys written by dfusim run: README "Result database", table meta. 0 or SIM_EIO. */
int recorder_meta_set(struct recorder *rec, const char *key, const char *value);

const char *recorder_status_name(enum recorder_status s);

#endif /* SIM_RECORDER_H */
