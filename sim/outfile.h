/* sim/outfile.h - output files that never cost the user a file.
 *
 * A results database is written to a temporary file next to its destination,
 * DEST.dfusim-PID.tmp, and renamed over DEST only when the caller commits; a run that
 * fails or is killed leaves DEST exactly as it was. Before that, the destination is
 * checked: only a missing path, an empty regular file or a dfusim results database (SQLite
 * with a meta table that has schema_version), directly or through a symbolic link, may be
 * replaced. Temporary files of dfusim processes that no longer exist (killed before they
 * could clean up) are removed when the next writer of the same destination starts.
 *
 * outfile_same() tells whether two paths name the same file (device and inode), so that
 * the readers (report, compare, check) can refuse to write over their own input.
 */
#ifndef SIM_OUTFILE_H
#define SIM_OUTFILE_H

#include "sim/error.h"

#include <stdbool.h>

#define OUTFILE_PATH_MAX 4096

struct outfile {
    char dest[OUTFILE_PATH_MAX]; /* where the result goes (a symbolic link resolved) */
    char tmp[OUTFILE_PATH_MAX];  /* DEST.dfusim-PID.tmp, in the same folder */
    bool existed;                /* dest held a database when outfile_db_begin() ran */
    bool active;                 /* tmp exists and is ours */
};

/* Check that path may be replaced by a results database, remove stale temporary files of
 * dead dfusim processes for it, and create the (empty) temporary file o->tmp. Returns 0;
 * SIM_EINVAL when path must not be replaced (a message names it and says why); SIM_EIO
 * when the temporary file cannot be created (folder missing or not writable). */
int outfile_db_begin(struct outfile *o, const char *path, struct sim_diag *d);

/* Flush o->tmp to disk and rename it over to (o->dest, or another path such as
 * DEST.interrupted). Returns 0 or SIM_EIO (message in d; o->tmp is then removed). */
int outfile_commit(struct outfile *o, const char *to, struct sim_diag *d);

/* Remove o->tmp and its SQLite side files (-journal, -wal, -shm). Safe to call twice. */
void outfile_discard(struct outfile *o);

/* Remove a SQLite database file and its side files (-journal, -wal, -shm). */
void outfile_remove_db(const char *path);

/* Whether a and b name the same existing file (same st_dev and st_ino after following
 * symbolic links; so also through a hard link). A path that does not exist is the same
 * as nothing. */
bool outfile_same(const char *a, const char *b);

/* Whether path is a dfusim results database (SQLite header and meta.schema_version).
 * why (may be NULL) gets a short reason when it is not. */
bool outfile_is_results_db(const char *path, char *why, size_t why_len);

#endif /* SIM_OUTFILE_H */
