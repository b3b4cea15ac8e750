/* sim/outfile.c - temporary file + rename for results databases; same-file checks. */
#include "sim/outfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_TAG ".dfusim-" /* DEST.dfusim-PID.tmp */

static const char *const db_side_files[] = {"", "-journal", "-wal", "-shm"};

void outfile_remove_db(const char *path)
{
    char name[OUTFILE_PATH_MAX + 16];
    for (size_t i = 0; i < sizeof(db_side_files) / sizeof(db_side_files[0]); i++) {
        if (snprintf(name, sizeof(name), "%s%s", path, db_side_files[i]) < (int)sizeof(name))
            (void)unlink(name);
    }
}

bool outfile_same(const char *a, const char *b)
{
    struct stat sa, sb;
    if (a == NULL || b == NULL || stat(a, &sa) != 0 || stat(b, &sb) != 0)
        return false;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void set_why(char *why, size_t n, const char *text)
{
    if (why != NULL && n > 0)
        snprintf(why, n, "%s", text);
}

bool outfile_is_results_db(const char *path, char *why, size_t why_len)
{
    static const char magic[16] = "SQLite format 3"; /* with its NUL: the file header */
    char head[16];
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        set_why(why, why_len, strerror(errno));
        return false;
    }
    size_t got = fread(head, 1, sizeof(head), f);
    fclose(f);
    if (got != sizeof(head) || memcmp(head, magic, sizeof(magic)) != 0) {
        set_why(why, why_len, "not a SQLite database");
        return false;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    bool ok = false;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &st,
                           NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        ok = true;
    sqlite3_finalize(st);
    sqlite3_close(db);
    if (!ok)
        set_why(why, why_len, "a SQLite database without dfusim's meta.schema_version");
    return ok;
}

/* Whether name is BASE.dfusim-PID.tmp... of a process that no longer exists. */
static bool stale_tmp(const char *name, const char *base)
{
    size_t bl = strlen(base), tl = strlen(TMP_TAG);
    if (strncmp(name, base, bl) != 0 || strncmp(name + bl, TMP_TAG, tl) != 0)
        return false;
    const char *p = name + bl + tl;
    char *end;
    errno = 0;
    long pid = strtol(p, &end, 10);
    if (end == p || errno != 0 || pid <= 0 || strncmp(end, ".tmp", 4) != 0)
        return false;
    if ((pid_t)pid == getpid())
        return false;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* Temporary files (and -j part files) left by dfusim processes killed while writing dest:
 * only regular files of this user whose PID is gone, so never another live writer's. */
static void remove_stale(const char *dest)
{
    char dir[OUTFILE_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", dest);
    char *slash = strrchr(dir, '/');
    const char *base = dest;
    if (slash == NULL) {
        snprintf(dir, sizeof(dir), ".");
    } else {
        base = dest + (slash - dir) + 1;
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    char path[2 * OUTFILE_PATH_MAX];
    while ((e = readdir(d)) != NULL) {
        if (!stale_tmp(e->d_name, base))
            continue;
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid())
            (void)unlink(path);
    }
    closedir(d);
}

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISCHR(m) || S_ISBLK(m))
        return "a device";
    if (S_ISFIFO(m))
        return "a FIFO";
    if (S_ISSOCK(m))
        return "a socket";
    return "not a regular file";
}

int outfile_db_begin(struct outfile *o, const char *path, struct sim_diag *d)
{
    memset(o, 0, sizeof(*o));
    if (snprintf(o->dest, sizeof(o->dest), "%s", path) >= (int)sizeof(o->dest)) {
        sim_diag_add(d, "%s: path too long", path);
        return SIM_EINVAL;
    }
    struct stat ls, st;
    if (lstat(path, &ls) == 0) {
        bool link = S_ISLNK(ls.st_mode);
        if (stat(path, &st) != 0) {
            sim_diag_add(d, "%s: refusing to write there: a symbolic link to nothing (%s)", path,
                         strerror(errno));
            return SIM_EINVAL;
        }
        if (!S_ISREG(st.st_mode)) {
            sim_diag_add(d, "%s: refusing to replace it: %s%s, not a results database", path,
                         link ? "a symbolic link to " : "", kind_of(st.st_mode));
            return SIM_EINVAL;
        }
        char why[160];
        if (st.st_size > 0 && !outfile_is_results_db(path, why, sizeof(why))) {
            sim_diag_add(d,
                         "%s: refusing to replace it: %s (dfusim run only replaces a results "
                         "database it wrote; choose another -o FILE)",
                         path, why);
            return SIM_EINVAL;
        }
        o->existed = st.st_size > 0;
        if (link) { /* replace the file the link points to, not the link */
            char *real = realpath(path, NULL);
            if (real == NULL || strlen(real) >= sizeof(o->dest)) {
                sim_diag_add(d, "%s: cannot resolve the symbolic link", path);
                free(real);
                return SIM_EINVAL;
            }
            snprintf(o->dest, sizeof(o->dest), "%s", real);
            free(real);
        }
    } else if (errno != ENOENT) {
        sim_diag_add(d, "%s: cannot write there: %s", path, strerror(errno));
        return SIM_EIO;
    }
    remove_stale(o->dest);
    if (snprintf(o->tmp, sizeof(o->tmp), "%s" TMP_TAG "%ld.tmp", o->dest, (long)getpid()) >=
        (int)sizeof(o->tmp)) {
        sim_diag_add(d, "%s: path too long", path);
        return SIM_EINVAL;
    }
    /* A file of this name can only be a leftover of this PID: replace it. */
    outfile_remove_db(o->tmp);
    int fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0) {
        sim_diag_add(d,
                     "%s: cannot create the results database next to it (%s): does the folder "
                     "exist and is it writable?",
                     path, strerror(errno));
        return SIM_EIO;
    }
    close(fd);
    o->active = true;
    return 0;
}

int outfile_commit(struct outfile *o, const char *to, struct sim_diag *d)
{
    if (!o->active)
        return SIM_EINVAL;
    int fd = open(o->tmp, O_RDONLY);
    int rc = fd >= 0 && fsync(fd) == 0 ? 0 : SIM_EIO;
    if (fd >= 0)
        close(fd);
    if (rc == 0 && rename(o->tmp, to) != 0)
        rc = SIM_EIO;
    if (rc != 0) {
        sim_diag_add(d, "%s: cannot write the results database: %s", to, strerror(errno));
        outfile_discard(o);
        return rc;
    }
    o->active = false;
    outfile_remove_db(o->tmp); /* side files, if SQLite left any */
    /* The rename itself reaches the disk with its folder (best effort). */
    char dir[OUTFILE_PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", to);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        slash[slash == dir] = '\0';
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    return 0;
}

void outfile_discard(struct outfile *o)
{
    if (!o->active)
        return;
    outfile_remove_db(o->tmp);
    o->active = false;
}
