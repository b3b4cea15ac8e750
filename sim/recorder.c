/* sim/recorder.c - SQLite schema, prepared statements and batched transactions.
 *
 * Invariants:
 *  1. The runs row of the current run is committed with status 'running' before any
 *     record of it is written; only recorder_run_end() sets another status.
 *  2. Records are written inside one open transaction that is committed every
 *     RECORDER_BATCH rows and at the end of the run, so a cut-short run keeps what was
 *     committed and says 'running', 'interrupted' or 'failed', never 'complete'.
 */
#include "sim/recorder.h"

#include "sim/outfile.h"

#include <assert.h>
#include <openssl/evp.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RECORDER_BATCH 65536 /* rows per transaction: large enough that commits are rare */

/* Schema version 4 (4: goodput from dfu_attempts.image_bytes, bytes -> bytes_sent plus
 * bytes_resent; devices.first_start_ns, bytes_sent, downtime_ns; the outages table; swaps
 * and lock_changes name the attempt they belong to (NULL before the first); views v_devices
 * and goodput_kBps. 3: runs.sweep_point; views v_attempts, v_mode_summary,
 * v_fleet_progress. 2: gateways, sessions, device_wear; waves keyed by decision time;
 * flash_wear only at `chunks`). Times are INTEGER ns of simulated time; wall-clock columns
 * are ISO 8601 UTC text and are the only columns that differ between two identical runs.
 * runs.sweep_point and runs.replication count from 1, as every output does. Every metric
 * is defined once in docs (README "Metrics") and computed by report/summary.c; the views
 * below give the same per-row figures for people who query the database. */
static const char schema_sql[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);\n"
    "CREATE TABLE runs (\n"
    "  run_id INTEGER PRIMARY KEY,\n"
    "  scenario_name TEXT NOT NULL, scenario_path TEXT, scenario_text TEXT NOT NULL,\n"
    "  scenario_sha256 TEXT NOT NULL, dfusim_version TEXT NOT NULL,\n"
    "  schema_version INTEGER NOT NULL, model TEXT NOT NULL,\n"
    "  seed TEXT NOT NULL, replication INTEGER NOT NULL, sweep_point INTEGER NOT NULL,\n"
    "  record_level TEXT NOT NULL,\n"
    "  started_at TEXT NOT NULL, ended_at TEXT,\n"
    "  status TEXT NOT NULL CHECK (status IN ('running','complete','interrupted','failed')),\n"
    "  status_detail TEXT, sim_end_ns INTEGER, events INTEGER);\n"
    "CREATE TABLE run_params (run_id INTEGER NOT NULL REFERENCES runs, key TEXT NOT NULL,\n"
    "  value TEXT NOT NULL, PRIMARY KEY (run_id, key));\n"
    "CREATE TABLE device_groups (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  group_id INTEGER NOT NULL, name TEXT NOT NULL, count INTEGER NOT NULL,\n"
    "  board TEXT NOT NULL, bootloader TEXT NOT NULL, PRIMARY KEY (run_id, group_id));\n"
    "CREATE TABLE gateways (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  gateway_id INTEGER NOT NULL, name TEXT NOT NULL, links INTEGER NOT NULL,\n"
    "  availability TEXT NOT NULL, devices INTEGER NOT NULL, sessions INTEGER NOT NULL,\n"
    "  served INTEGER NOT NULL, leaves INTEGER NOT NULL, max_active INTEGER NOT NULL,\n"
    "  PRIMARY KEY (run_id, gateway_id));\n"
    "CREATE TABLE sessions (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  gateway_id INTEGER NOT NULL, session INTEGER NOT NULL, start_ns INTEGER NOT NULL,\n"
    "  end_ns INTEGER NOT NULL, connected INTEGER NOT NULL, served INTEGER NOT NULL,\n"
    "  left_early INTEGER NOT NULL, PRIMARY KEY (run_id, gateway_id, session));\n"
    "CREATE TABLE devices (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  device_id INTEGER NOT NULL, group_id INTEGER NOT NULL, gateway_id INTEGER,\n"
    "  state TEXT NOT NULL, attempts INTEGER NOT NULL, first_start_ns INTEGER,\n"
    "  updated_ns INTEGER, bytes_sent INTEGER NOT NULL, downtime_ns INTEGER NOT NULL,\n"
    "  refusal TEXT, PRIMARY KEY (run_id, device_id));\n"
    "CREATE TABLE dfu_attempts (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  attempt_id INTEGER NOT NULL, device_id INTEGER NOT NULL, gateway_id INTEGER,\n"
    "  client TEXT, start_ns INTEGER NOT NULL, connect_ns INTEGER, validate_ns INTEGER,\n"
    "  upload_start_ns INTEGER, upload_end_ns INTEGER, test_ns INTEGER, reset_ns INTEGER,\n"
    "  swap_start_ns INTEGER, swap_end_ns INTEGER, reconnect_ns INTEGER, confirm_ns INTEGER,\n"
    "  end_ns INTEGER NOT NULL, bytes_sent INTEGER, bytes_resent INTEGER,\n"
    "  image_bytes INTEGER, chunks INTEGER, retries INTEGER, retransmissions INTEGER,\n"
    "  outcome TEXT NOT NULL, error TEXT, PRIMARY KEY (run_id, attempt_id));\n"
    "CREATE TABLE chunks (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  attempt_id INTEGER NOT NULL, device_id INTEGER NOT NULL, seq INTEGER NOT NULL,\n"
    "  offset INTEGER NOT NULL, len INTEGER NOT NULL, sent_ns INTEGER NOT NULL,\n"
    "  acked_ns INTEGER, rc INTEGER);\n"
    "CREATE TABLE swaps (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  attempt_id INTEGER, device_id INTEGER NOT NULL, mode TEXT NOT NULL,\n"
    "  start_ns INTEGER NOT NULL, end_ns INTEGER, sectors_erased INTEGER NOT NULL,\n"
    "  sector_writes INTEGER NOT NULL, power_loss INTEGER NOT NULL, outcome TEXT NOT NULL);\n"
    "CREATE TABLE outages (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  attempt_id INTEGER, device_id INTEGER NOT NULL, cause TEXT NOT NULL,\n"
    "  down_ns INTEGER NOT NULL, up_ns INTEGER);\n"
    "CREATE TABLE lock_changes (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  attempt_id INTEGER, device_id INTEGER NOT NULL, at_ns INTEGER NOT NULL, owner TEXT);\n"
    "CREATE TABLE waves (run_id INTEGER NOT NULL REFERENCES runs, wave INTEGER NOT NULL,\n"
    "  start_ns INTEGER NOT NULL, end_ns INTEGER, target INTEGER NOT NULL,\n"
    "  succeeded INTEGER NOT NULL, failed INTEGER NOT NULL, action TEXT,\n"
    "  PRIMARY KEY (run_id, wave, end_ns));\n"
    "CREATE TABLE device_wear (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  device_id INTEGER NOT NULL, area TEXT NOT NULL, erases INTEGER NOT NULL,\n"
    "  writes INTEGER NOT NULL, max_erases INTEGER NOT NULL,\n"
    "  PRIMARY KEY (run_id, device_id, area));\n"
    "CREATE TABLE flash_wear (run_id INTEGER NOT NULL REFERENCES runs,\n"
    "  device_id INTEGER NOT NULL, area TEXT NOT NULL, sector INTEGER NOT NULL,\n"
    "  erases INTEGER NOT NULL, writes INTEGER NOT NULL);\n"
    /* Views for the common questions (README "Result database"); kB = 1000 bytes, s = 1e9 ns.
     * They read only the tables above, so they work at every record level (the attempt
     * columns are NULL at `summary`). */
    "CREATE VIEW v_attempts AS SELECT a.*, d.group_id, g.name AS group_name, g.board,\n"
    "  g.bootloader,\n"
    "  CASE WHEN a.image_bytes > 0 AND a.upload_end_ns > a.upload_start_ns\n"
    "    THEN (a.image_bytes / 1000.0) / ((a.upload_end_ns - a.upload_start_ns) / 1e9) END\n"
    "    AS goodput_kBps,\n"
    "  (a.end_ns - a.start_ns) / 1e9 AS attempt_s\n"
    "  FROM dfu_attempts a\n"
    "  JOIN devices d ON d.run_id = a.run_id AND d.device_id = a.device_id\n"
    "  JOIN device_groups g ON g.run_id = d.run_id AND g.group_id = d.group_id;\n"
    "CREATE VIEW v_devices AS SELECT d.*, g.name AS group_name, g.board, g.bootloader,\n"
    "  (d.updated_ns - d.first_start_ns) / 1e9 AS time_to_updated_s,\n"
    "  d.downtime_ns / 1e9 AS downtime_s\n"
    "  FROM devices d\n"
    "  JOIN device_groups g ON g.run_id = d.run_id AND g.group_id = d.group_id;\n"
    "CREATE VIEW v_mode_summary AS SELECT g.run_id, g.name AS group_name, g.board,\n"
    "  g.bootloader,\n"
    "  (SELECT count(*) FROM devices d WHERE d.run_id = g.run_id AND d.group_id = g.group_id)\n"
    "    AS devices,\n"
    "  (SELECT count(*) FROM devices d WHERE d.run_id = g.run_id AND d.group_id = g.group_id\n"
    "    AND d.state = 'updated') AS updated,\n"
    "  (SELECT count(*) FROM devices d WHERE d.run_id = g.run_id AND d.group_id = g.group_id\n"
    "    AND d.state = 'failed') AS failed,\n"
    "  (SELECT count(*) FROM devices d WHERE d.run_id = g.run_id AND d.group_id = g.group_id\n"
    "    AND d.state = 'reverted') AS reverted,\n"
    "  (SELECT avg(v.time_to_updated_s) FROM v_devices v WHERE v.run_id = g.run_id\n"
    "    AND v.group_id = g.group_id AND v.state = 'updated') AS time_to_updated_s_mean,\n"
    "  (SELECT avg(a.goodput_kBps) FROM v_attempts a WHERE a.run_id = g.run_id\n"
    "    AND a.group_id = g.group_id) AS goodput_kBps_mean,\n"
    "  (SELECT avg((s.end_ns - s.start_ns) / 1e9) FROM swaps s JOIN devices d\n"
    "    ON d.run_id = s.run_id AND d.device_id = s.device_id WHERE s.run_id = g.run_id\n"
    "    AND d.group_id = g.group_id AND s.end_ns IS NOT NULL) AS swap_s_mean\n"
    "  FROM device_groups g;\n"
    "CREATE VIEW v_fleet_progress AS SELECT d.run_id, g.name AS group_name, d.device_id,\n"
    "  d.updated_ns, d.updated_ns / 1e9 AS updated_s,\n"
    "  100.0 * row_number() OVER (PARTITION BY d.run_id, d.group_id ORDER BY d.updated_ns,\n"
    "    d.device_id) / g.count AS percent_updated\n"
    "  FROM devices d\n"
    "  JOIN device_groups g ON g.run_id = d.run_id AND g.group_id = d.group_id\n"
    "  WHERE d.updated_ns IS NOT NULL;\n";

enum stmt {
    ST_PARAM,
    ST_GROUP,
    ST_DEVICE,
    ST_ATTEMPT,
    ST_CHUNK,
    ST_SWAP,
    ST_LOCK,
    ST_OUTAGE,
    ST_WAVE,
    ST_GATEWAY,
    ST_DEVICE_WEAR,
    ST_SESSION,
    ST_WEAR,
    ST_COUNT
};

/* Column lists after "INSERT INTO"; every statement starts with run_id. The level is
 * the least record level at which the table is written. */
static const struct {
    const char *sql;
    enum recorder_level level;
} stmt_defs[ST_COUNT] = {
    [ST_PARAM] = {"run_params (run_id, key, value) VALUES (?,?,?)", RECORDER_SUMMARY},
    [ST_GROUP] = {"device_groups (run_id, group_id, name, count, board, bootloader)"
                  " VALUES (?,?,?,?,?,?)",
                  RECORDER_SUMMARY},
    [ST_DEVICE] = {"devices (run_id, device_id, group_id, gateway_id, state, attempts,"
                   " first_start_ns, updated_ns, bytes_sent, downtime_ns, refusal)"
                   " VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                   RECORDER_SUMMARY},
    [ST_ATTEMPT] = {"dfu_attempts (run_id, attempt_id, device_id, gateway_id, client,"
                    " start_ns, connect_ns, validate_ns, upload_start_ns, upload_end_ns,"
                    " test_ns, reset_ns, swap_start_ns, swap_end_ns, reconnect_ns, confirm_ns,"
                    " end_ns, bytes_sent, bytes_resent, image_bytes, chunks, retries,"
                    " retransmissions, outcome, error)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    RECORDER_ATTEMPTS},
    [ST_CHUNK] = {"chunks (run_id, attempt_id, device_id, seq, offset, len, sent_ns,"
                  " acked_ns, rc) VALUES (?,?,?,?,?,?,?,?,?)",
                  RECORDER_CHUNKS},
    [ST_SWAP] = {"swaps (run_id, attempt_id, device_id, mode, start_ns, end_ns,"
                 " sectors_erased, sector_writes, power_loss, outcome)"
                 " VALUES (?,?,?,?,?,?,?,?,?,?)",
                 RECORDER_ATTEMPTS},
    [ST_LOCK] = {"lock_changes (run_id, attempt_id, device_id, at_ns, owner)"
                 " VALUES (?,?,?,?,?)",
                 RECORDER_ATTEMPTS},
    [ST_OUTAGE] = {"outages (run_id, attempt_id, device_id, cause, down_ns, up_ns)"
                   " VALUES (?,?,?,?,?,?)",
                   RECORDER_ATTEMPTS},
    [ST_WAVE] = {"waves (run_id, wave, start_ns, end_ns, target, succeeded, failed, action)"
                 " VALUES (?,?,?,?,?,?,?,?)",
                 RECORDER_SUMMARY},
    [ST_GATEWAY] = {"gateways (run_id, gateway_id, name, links, availability, devices,"
                    " sessions, served, leaves, max_active) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    RECORDER_SUMMARY},
    [ST_SESSION] = {"sessions (run_id, gateway_id, session, start_ns, end_ns, connected,"
                    " served, left_early) VALUES (?,?,?,?,?,?,?,?)",
                    RECORDER_ATTEMPTS},
    [ST_DEVICE_WEAR] = {"device_wear (run_id, device_id, area, erases, writes, max_erases)"
                        " VALUES (?,?,?,?,?,?)",
                        RECORDER_SUMMARY},
    /* One row per sector: at 100,000 devices, 19 M rows; only at `chunks`. */
    [ST_WEAR] = {"flash_wear (run_id, device_id, area, sector, erases, writes)"
                 " VALUES (?,?,?,?,?,?)",
                 RECORDER_CHUNKS},
};

struct recorder {
    sqlite3 *db;
    sqlite3_stmt *stmts[ST_COUNT];
    int64_t run_id;            /* 0 when no run is open */
    enum recorder_level level; /* of the open run */
    uint64_t rows_in_txn;      /* 0 when no transaction is open */
};

static int exec(struct recorder *rec, const char *sql)
{
    return sqlite3_exec(rec->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : SIM_EIO;
}

static void wall_clock_now(char *buf, size_t n)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void sha256_hex(const char *data, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) != 1 || md_len != 32) {
        strcpy(out, "unavailable");
        return;
    }
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void remove_database_files(const char *path)
{
    static const char *const suffixes[] = {"", "-journal", "-wal", "-shm"};
    char name[4096];
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        if (snprintf(name, sizeof(name), "%s%s", path, suffixes[i]) < (int)sizeof(name))
            (void)unlink(name);
    }
}

int recorder_open(const char *path, struct recorder **out, struct sim_diag *diag)
{
    *out = NULL;
    struct recorder *rec = calloc(1, sizeof(*rec));
    if (rec == NULL)
        return SIM_ENOMEM;
    /* Never delete what is not ours: only an empty file or a results database. */
    struct stat st;
    char why[160];
    if (stat(path, &st) == 0 &&
        (!S_ISREG(st.st_mode) ||
         (st.st_size > 0 && !outfile_is_results_db(path, why, sizeof(why))))) {
        sim_diag_add(diag, "%s: refusing to replace it: %s", path,
                     S_ISREG(st.st_mode) ? why : "not a regular file");
        free(rec);
        return SIM_EINVAL;
    }
    remove_database_files(path);
    if (sqlite3_open_v2(path, &rec->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        sim_diag_add(diag,
                     "%s: cannot create the results database: %s (does the folder exist "
                     "and is it writable?)",
                     path, rec->db ? sqlite3_errmsg(rec->db) : "out of memory");
        goto fail;
    }
    /* WAL with synchronous=NORMAL: a crash loses at most the open batch, never the file. */
    /* 64 MiB of page cache keeps the indexes of a large run in memory while it records. */
    if (exec(rec, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                  " PRAGMA cache_size=-65536;") != 0 ||
        exec(rec, schema_sql) != 0)
        goto sql_fail;
    char meta[256];
    snprintf(meta, sizeof(meta),
             "INSERT INTO meta VALUES ('schema_version','%d'), ('created_by','dfusim %s');",
             RECORDER_SCHEMA_VERSION, DFUSIM_VERSION);
    if (exec(rec, meta) != 0)
        goto sql_fail;
    for (int i = 0; i < ST_COUNT; i++) {
        char sql[512];
        snprintf(sql, sizeof(sql), "INSERT INTO %s", stmt_defs[i].sql);
        if (sqlite3_prepare_v3(rec->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &rec->stmts[i], NULL) !=
            SQLITE_OK)
            goto sql_fail;
    }
    *out = rec;
    return 0;
sql_fail:
    sim_diag_add(diag, "%s: cannot set up the results database: %s", path, sqlite3_errmsg(rec->db));
fail:
    recorder_close(rec);
    return SIM_EIO;
}

void recorder_close(struct recorder *rec)
{
    if (rec == NULL)
        return;
    if (rec->run_id != 0)
        (void)recorder_run_end(rec, RECORDER_FAILED, "closed before the run ended", 0, 0);
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(rec->stmts[i]);
    if (rec->db != NULL) {
        /* Back to a single self-contained file, as OMNeT++'s writer does on close. */
        (void)exec(rec, "PRAGMA journal_mode=DELETE;");
        sqlite3_close(rec->db);
    }
    free(rec);
}

int recorder_run_begin(struct recorder *rec, const struct recorder_run *run, int64_t *run_id)
{
    static const char *const level_names[] = {"summary", "attempts", "chunks"};
    if (rec->run_id != 0)
        return SIM_EINVAL;
    char sha[65], started[32], seed[24];
    sha256_hex(run->scenario_text, run->scenario_len, sha);
    wall_clock_now(started, sizeof(started));
    snprintf(seed, sizeof(seed), "%llu", (unsigned long long)run->seed);

    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO runs (scenario_name, scenario_path, scenario_text,"
                      " scenario_sha256, dfusim_version, schema_version, model, seed,"
                      " replication, sweep_point, record_level, started_at, status)"
                      " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,'running')";
    if (sqlite3_prepare_v2(rec->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SIM_EIO;
    sqlite3_bind_text(st, 1, run->scenario_name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, run->scenario_path, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, run->scenario_text, (int)run->scenario_len, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, sha, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, DFUSIM_VERSION, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 6, RECORDER_SCHEMA_VERSION);
    sqlite3_bind_text(st, 7, run->model, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, seed, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, run->replication);
    sqlite3_bind_int64(st, 10, run->sweep_point);
    sqlite3_bind_text(st, 11, level_names[run->level], -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 12, started, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) /* autocommit: the 'running' row is durable before any record */
        return SIM_EIO;
    rec->run_id = sqlite3_last_insert_rowid(rec->db);
    rec->level = run->level;
    if (run_id != NULL)
        *run_id = rec->run_id;
    return 0;
}

static int commit_batch(struct recorder *rec)
{
    if (rec->rows_in_txn == 0)
        return 0;
    rec->rows_in_txn = 0;
    return exec(rec, "COMMIT");
}

int recorder_run_end(struct recorder *rec, enum recorder_status status, const char *detail,
                     int64_t sim_end_ns, uint64_t events)
{
    if (rec->run_id == 0)
        return SIM_EINVAL;
    int err = commit_batch(rec);
    if (err != 0) {
        (void)exec(rec, "ROLLBACK");
        status = RECORDER_FAILED;
        detail = "could not commit the last records";
    }
    char ended[32];
    wall_clock_now(ended, sizeof(ended));
    sqlite3_stmt *st = NULL;
    const char *sql = "UPDATE runs SET status = ?, status_detail = ?, ended_at = ?,"
                      " sim_end_ns = ?, events = ? WHERE run_id = ?";
    if (sqlite3_prepare_v2(rec->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SIM_EIO;
    sqlite3_bind_text(st, 1, recorder_status_name(status), -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, detail, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, ended, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, sim_end_ns);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)events);
    sqlite3_bind_int64(st, 6, rec->run_id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    rec->run_id = 0;
    if (rc != SQLITE_DONE)
        return SIM_EIO;
    return err;
}

/* Bind helpers: column 1 is always run_id; RECORDER_NONE and NULL strings become NULL. */
static void bind_opt_i64(sqlite3_stmt *st, int col, int64_t v)
{
    if (v == RECORDER_NONE)
        sqlite3_bind_null(st, col);
    else
        sqlite3_bind_int64(st, col, v);
}

static void bind_text(sqlite3_stmt *st, int col, const char *s)
{
    sqlite3_bind_text(st, col, s, -1, SQLITE_STATIC); /* NULL binds NULL */
}

/* Returns the statement to bind, or NULL when the record is below the run's level.
 * Emitting outside a run is a caller bug, not bad input. */
static sqlite3_stmt *row_begin(struct recorder *rec, enum stmt which)
{
    assert(rec->run_id != 0);
    if (rec->level < stmt_defs[which].level)
        return NULL;
    sqlite3_stmt *st = rec->stmts[which];
    sqlite3_bind_int64(st, 1, rec->run_id);
    return st;
}

static int row_end(struct recorder *rec, sqlite3_stmt *st)
{
    if (rec->rows_in_txn == 0 && exec(rec, "BEGIN") != 0)
        return SIM_EIO;
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return SIM_EIO;
    if (++rec->rows_in_txn >= RECORDER_BATCH)
        return commit_batch(rec);
    return 0;
}

int recorder_param(struct recorder *rec, const char *key, const char *value)
{
    sqlite3_stmt *st = row_begin(rec, ST_PARAM);
    if (st == NULL)
        return 0;
    bind_text(st, 2, key);
    bind_text(st, 3, value);
    return row_end(rec, st);
}

int recorder_group_emit(struct recorder *rec, const struct recorder_group *g)
{
    sqlite3_stmt *st = row_begin(rec, ST_GROUP);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, g->group_id);
    bind_text(st, 3, g->name);
    sqlite3_bind_int64(st, 4, g->count);
    bind_text(st, 5, g->board);
    bind_text(st, 6, g->bootloader);
    return row_end(rec, st);
}

int recorder_device_emit(struct recorder *rec, const struct recorder_device *d)
{
    sqlite3_stmt *st = row_begin(rec, ST_DEVICE);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, d->device_id);
    sqlite3_bind_int64(st, 3, d->group_id);
    bind_opt_i64(st, 4, d->gateway_id);
    bind_text(st, 5, d->state);
    sqlite3_bind_int64(st, 6, d->attempts);
    bind_opt_i64(st, 7, d->first_start_ns);
    bind_opt_i64(st, 8, d->updated_ns);
    sqlite3_bind_int64(st, 9, d->bytes_sent);
    sqlite3_bind_int64(st, 10, d->downtime_ns);
    bind_text(st, 11, d->refusal);
    return row_end(rec, st);
}

int recorder_attempt_emit(struct recorder *rec, const struct recorder_attempt *a)
{
    sqlite3_stmt *st = row_begin(rec, ST_ATTEMPT);
    if (st == NULL)
        return 0;
    /* Columns 6.. in table order; RECORDER_NONE becomes NULL. */
    const int64_t cols[] = {a->start_ns,      a->connect_ns,     a->validate_ns, a->upload_start_ns,
                            a->upload_end_ns, a->test_ns,        a->reset_ns,    a->swap_start_ns,
                            a->swap_end_ns,   a->reconnect_ns,   a->confirm_ns,  a->end_ns,
                            a->bytes_sent,    a->bytes_resent,   a->image_bytes, a->chunks,
                            a->retries,       a->retransmissions};
    const int n = (int)(sizeof(cols) / sizeof(cols[0]));
    sqlite3_bind_int64(st, 2, a->attempt_id);
    sqlite3_bind_int64(st, 3, a->device_id);
    bind_opt_i64(st, 4, a->gateway_id);
    bind_text(st, 5, a->client);
    for (int i = 0; i < n; i++)
        bind_opt_i64(st, 6 + i, cols[i]);
    bind_text(st, 6 + n, a->outcome);
    bind_text(st, 7 + n, a->error);
    return row_end(rec, st);
}

int recorder_chunk_emit(struct recorder *rec, const struct recorder_chunk *c)
{
    sqlite3_stmt *st = row_begin(rec, ST_CHUNK);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, c->attempt_id);
    sqlite3_bind_int64(st, 3, c->device_id);
    sqlite3_bind_int64(st, 4, c->seq);
    sqlite3_bind_int64(st, 5, c->offset);
    sqlite3_bind_int64(st, 6, c->len);
    sqlite3_bind_int64(st, 7, c->sent_ns);
    bind_opt_i64(st, 8, c->acked_ns);
    bind_opt_i64(st, 9, c->rc);
    return row_end(rec, st);
}

int recorder_swap_emit(struct recorder *rec, const struct recorder_swap *s)
{
    sqlite3_stmt *st = row_begin(rec, ST_SWAP);
    if (st == NULL)
        return 0;
    bind_opt_i64(st, 2, s->attempt_id);
    sqlite3_bind_int64(st, 3, s->device_id);
    bind_text(st, 4, s->mode);
    sqlite3_bind_int64(st, 5, s->start_ns);
    bind_opt_i64(st, 6, s->end_ns);
    sqlite3_bind_int64(st, 7, s->sectors_erased);
    sqlite3_bind_int64(st, 8, s->sector_writes);
    sqlite3_bind_int(st, 9, s->power_loss);
    bind_text(st, 10, s->outcome);
    return row_end(rec, st);
}

int recorder_lock_emit(struct recorder *rec, const struct recorder_lock *l)
{
    sqlite3_stmt *st = row_begin(rec, ST_LOCK);
    if (st == NULL)
        return 0;
    bind_opt_i64(st, 2, l->attempt_id);
    sqlite3_bind_int64(st, 3, l->device_id);
    sqlite3_bind_int64(st, 4, l->at_ns);
    bind_text(st, 5, l->owner);
    return row_end(rec, st);
}

int recorder_outage_emit(struct recorder *rec, const struct recorder_outage *o)
{
    sqlite3_stmt *st = row_begin(rec, ST_OUTAGE);
    if (st == NULL)
        return 0;
    bind_opt_i64(st, 2, o->attempt_id);
    sqlite3_bind_int64(st, 3, o->device_id);
    bind_text(st, 4, o->cause);
    sqlite3_bind_int64(st, 5, o->down_ns);
    bind_opt_i64(st, 6, o->up_ns);
    return row_end(rec, st);
}

int recorder_wave_emit(struct recorder *rec, const struct recorder_wave *w)
{
    sqlite3_stmt *st = row_begin(rec, ST_WAVE);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, w->wave);
    sqlite3_bind_int64(st, 3, w->start_ns);
    bind_opt_i64(st, 4, w->end_ns);
    sqlite3_bind_int64(st, 5, w->target);
    sqlite3_bind_int64(st, 6, w->succeeded);
    sqlite3_bind_int64(st, 7, w->failed);
    bind_text(st, 8, w->action);
    return row_end(rec, st);
}

int recorder_device_wear_emit(struct recorder *rec, const struct recorder_device_wear *w)
{
    sqlite3_stmt *st = row_begin(rec, ST_DEVICE_WEAR);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, w->device_id);
    bind_text(st, 3, w->area);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)w->erases);
    sqlite3_bind_int64(st, 5, (sqlite3_int64)w->writes);
    sqlite3_bind_int64(st, 6, w->max_erases);
    return row_end(rec, st);
}

int recorder_gateway_emit(struct recorder *rec, const struct recorder_gateway *g)
{
    sqlite3_stmt *st = row_begin(rec, ST_GATEWAY);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, g->gateway_id);
    bind_text(st, 3, g->name);
    sqlite3_bind_int64(st, 4, g->links);
    bind_text(st, 5, g->availability);
    sqlite3_bind_int64(st, 6, g->devices);
    sqlite3_bind_int64(st, 7, g->sessions);
    sqlite3_bind_int64(st, 8, g->served);
    sqlite3_bind_int64(st, 9, g->leaves);
    sqlite3_bind_int64(st, 10, g->max_active);
    return row_end(rec, st);
}

int recorder_session_emit(struct recorder *rec, const struct recorder_session *s)
{
    sqlite3_stmt *st = row_begin(rec, ST_SESSION);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, s->gateway_id);
    sqlite3_bind_int64(st, 3, s->session);
    sqlite3_bind_int64(st, 4, s->start_ns);
    sqlite3_bind_int64(st, 5, s->end_ns);
    sqlite3_bind_int64(st, 6, s->connected);
    sqlite3_bind_int64(st, 7, s->served);
    sqlite3_bind_int64(st, 8, s->left);
    return row_end(rec, st);
}

int recorder_wear_emit(struct recorder *rec, const struct recorder_wear *w)
{
    sqlite3_stmt *st = row_begin(rec, ST_WEAR);
    if (st == NULL)
        return 0;
    sqlite3_bind_int64(st, 2, w->device_id);
    bind_text(st, 3, w->area);
    sqlite3_bind_int64(st, 4, w->sector);
    sqlite3_bind_int64(st, 5, w->erases);
    sqlite3_bind_int64(st, 6, w->writes);
    return row_end(rec, st);
}

/* Tables with rows per run, every one keyed by its first column run_id. */
static const char *const run_tables[] = {
    "run_params",   "device_groups", "gateways",  "sessions", "devices",
    "dfu_attempts", "chunks",        "swaps",     "outages",  "waves",
    "lock_changes", "device_wear",   "flash_wear"};

/* "a, b, c": the columns of main.table after run_id. Returns 0 or SIM_EIO. */
static int columns_after_run_id(struct recorder *rec, const char *table, char *buf, size_t n)
{
    char sql[128];
    snprintf(sql, sizeof(sql), "SELECT name FROM pragma_table_info('%s') ORDER BY cid", table);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rec->db, sql, -1, &st, NULL) != SQLITE_OK)
        return SIM_EIO;
    size_t o = 0;
    buf[0] = '\0';
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(st, 0);
        if (strcmp(name, "run_id") != 0 && o < n)
            o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "", name);
    }
    sqlite3_finalize(st);
    return o > 0 && o < n ? 0 : SIM_EIO;
}

/* Copy run `old` of src as run `new_id` of main. */
static int import_run(struct recorder *rec, int64_t old, int64_t new_id)
{
    char cols[1024], sql[2600];
    int rc = columns_after_run_id(rec, "runs", cols, sizeof(cols));
    if (rc != 0)
        return rc;
    snprintf(sql, sizeof(sql),
             "INSERT INTO main.runs (run_id, %s) SELECT %lld, %s FROM src.runs WHERE run_id = %lld",
             cols, (long long)new_id, cols, (long long)old);
    if (exec(rec, sql) != 0)
        return SIM_EIO;
    for (size_t t = 0; t < sizeof(run_tables) / sizeof(run_tables[0]); t++) {
        rc = columns_after_run_id(rec, run_tables[t], cols, sizeof(cols));
        if (rc != 0)
            return rc;
        /* rowid order: the order the child wrote them, as -j 1 would have */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO main.%s (run_id, %s) SELECT %lld, %s FROM src.%s"
                 " WHERE run_id = %lld ORDER BY rowid",
                 run_tables[t], cols, (long long)new_id, cols, run_tables[t], (long long)old);
        if (exec(rec, sql) != 0)
            return SIM_EIO;
    }
    return 0;
}

/* ATTACH the database at path as "src" (detached by the caller). */
static int attach_src(struct recorder *rec, const char *path)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rec->db, "ATTACH DATABASE ? AS src", -1, &st, NULL) != SQLITE_OK)
        return SIM_EIO;
    sqlite3_bind_text(st, 1, path, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : SIM_EIO;
    sqlite3_finalize(st);
    return rc;
}

/* End the transaction on src's rows: COMMIT after rc == 0, else ROLLBACK; then DETACH.
 * Returns rc, or the COMMIT's error. */
static int detach_src(struct recorder *rec, int rc)
{
    if (rc == 0)
        rc = exec(rec, "COMMIT");
    if (rc != 0)
        (void)exec(rec, "ROLLBACK");
    (void)exec(rec, "DETACH DATABASE src");
    return rc;
}

int recorder_import(struct recorder *rec, const char *path)
{
    if (rec->run_id != 0)
        return SIM_EINVAL;
    int rc = attach_src(rec, path);
    if (rc != 0)
        return rc;
    sqlite3_stmt *st = NULL;
    rc = exec(rec, "BEGIN");
    if (rc == 0 && sqlite3_prepare_v2(rec->db,
                                      "SELECT run_id, (SELECT coalesce(max(run_id), 0) FROM"
                                      " main.runs) FROM src.runs ORDER BY run_id",
                                      -1, &st, NULL) != SQLITE_OK)
        rc = SIM_EIO;
    int64_t next = 0; /* main's next run_id, read with the first row */
    while (rc == 0 && st != NULL && sqlite3_step(st) == SQLITE_ROW) {
        if (next == 0)
            next = sqlite3_column_int64(st, 1) + 1;
        rc = import_run(rec, sqlite3_column_int64(st, 0), next++);
    }
    sqlite3_finalize(st);
    return detach_src(rec, rc);
}

/* The tables whose rows belong to one device or one gateway, and that key. */
static const struct {
    const char *table, *key;
} part_tables[] = {
    {"devices", "device_id"},     {"dfu_attempts", "device_id"}, {"chunks", "device_id"},
    {"swaps", "device_id"},       {"outages", "device_id"},      {"lock_changes", "device_id"},
    {"device_wear", "device_id"}, {"flash_wear", "device_id"},   {"gateways", "gateway_id"},
    {"sessions", "gateway_id"},
};
#define N_PART_TABLES (sizeof(part_tables) / sizeof(part_tables[0]))

int recorder_run_merge_part(struct recorder *rec, const char *path)
{
    if (rec->run_id == 0 || commit_batch(rec) != 0)
        return SIM_EIO;
    int rc = attach_src(rec, path);
    if (rc != 0)
        return rc;
    rc = exec(rec, "BEGIN");
    for (size_t t = 0; t < N_PART_TABLES && rc == 0; t++) {
        char cols[1024], sql[2600];
        rc = columns_after_run_id(rec, part_tables[t].table, cols, sizeof(cols));
        if (rc != 0)
            break;
        /* the part holds one run; its rows in the order it wrote them */
        snprintf(sql, sizeof(sql),
                 "INSERT INTO main.%s (run_id, %s) SELECT %lld, %s FROM src.%s ORDER BY rowid",
                 part_tables[t].table, cols, (long long)rec->run_id, cols, part_tables[t].table);
        rc = exec(rec, sql);
    }
    return detach_src(rec, rc);
}

int recorder_run_canonical(struct recorder *rec)
{
    if (rec->run_id == 0 || commit_batch(rec) != 0)
        return SIM_EIO;
    int rc = exec(rec, "BEGIN");
    for (size_t t = 0; t < N_PART_TABLES && rc == 0; t++) {
        char sql[512];
        const char *tb = part_tables[t].table;
        long long run = (long long)rec->run_id;
        /* CREATE TABLE AS SELECT inserts in the SELECT's order, so the copy's rowids
         * follow (key, rowid); the rows go back in that order */
        snprintf(sql, sizeof(sql),
                 "CREATE TEMP TABLE canon AS SELECT * FROM main.%s WHERE run_id = %lld"
                 " ORDER BY %s, rowid; DELETE FROM main.%s WHERE run_id = %lld;"
                 " INSERT INTO main.%s SELECT * FROM temp.canon ORDER BY rowid;"
                 " DROP TABLE temp.canon;",
                 tb, run, part_tables[t].key, tb, run, tb);
        rc = exec(rec, sql);
    }
    if (rc == 0)
        rc = exec(rec, "COMMIT");
    if (rc != 0)
        (void)exec(rec, "ROLLBACK");
    return rc;
}

const char *recorder_path(const struct recorder *rec)
{
    return sqlite3_db_filename(rec->db, "main");
}

const char *recorder_error(const struct recorder *rec)
{
    /* sqlite3_errmsg() says "not an error" when the last call succeeded: no text then. */
    if (rec == NULL || rec->db == NULL || sqlite3_errcode(rec->db) == SQLITE_OK)
        return "";
    return sqlite3_errmsg(rec->db);
}

int recorder_meta_set(struct recorder *rec, const char *key, const char *value)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(rec->db, "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", -1,
                           &st, NULL) != SQLITE_OK)
        return SIM_EIO;
    sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : SIM_EIO;
}

const char *recorder_status_name(enum recorder_status s)
{
    switch (s) {
    case RECORDER_RUNNING:
        return "running";
    case RECORDER_COMPLETE:
        return "complete";
    case RECORDER_INTERRUPTED:
        return "interrupted";
    case RECORDER_FAILED:
        return "failed";
    }
    return "failed";
}
