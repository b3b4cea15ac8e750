/* sim/cli/cli_int.h - shared inside sim/cli only: the verbs and their helpers. */
#ifndef SIM_CLI_CLI_INT_H
#define SIM_CLI_CLI_INT_H

#include "sim/engine.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Each verb gets argv with argv[0] = the verb's name; returns an exit code. */
int cli_run(int argc, char **argv, FILE *out, FILE *err);
int cli_validate(int argc, char **argv, FILE *out, FILE *err);
int cli_explain(int argc, char **argv, FILE *out, FILE *err);
int cli_report(int argc, char **argv, FILE *out, FILE *err);
int cli_compare(int argc, char **argv, FILE *out, FILE *err);
int cli_check(int argc, char **argv, FILE *out, FILE *err);
int cli_calibration(int argc, char **argv, FILE *out, FILE *err);
/* `dfusim run -q PATH -o DB` with each of sets as a --set, its output discarded and its
 * messages on err (check and calibration run scenarios this way). Returns run's exit code. */
int cli_run_quiet(const char *path, const char *db, const char *const *sets, size_t n_sets,
                  FILE *err);
int cli_export(int argc, char **argv, FILE *out, FILE *err);
/* An output named on the command line: "-" is out, else the file opened for writing; NULL
 * after a message naming verb and path when it cannot be opened. */
FILE *cli_output_open(const char *verb, const char *path, FILE *out, FILE *err);
/* Closes f (flushes it when it is out): SIM_EXIT_OK, or SIM_EXIT_USAGE after "write failed"
 * when rc (the writer's result) is not 0 or closing fails. */
int cli_output_close(const char *verb, const char *path, FILE *f, FILE *out, int rc, FILE *err);
int cli_keys(int argc, char **argv, FILE *out, FILE *err);
int cli_list(int argc, char **argv, FILE *out, FILE *err);
int cli_serve(int argc, char **argv, FILE *out, FILE *err);

/* The settings and the groups of s into rec's open run (what run records before the
 * world runs; serve records the same). Returns 0 or the recorder's error. */
struct recorder;
struct scenario;
int cli_record_setup(struct recorder *rec, const struct scenario *s);

/* Report what getopt_long() returned for a bad option (':' missing value, '?' unknown) of
 * `verb`, from argv[optind - 1]. Returns SIM_EXIT_USAGE. */
int cli_option_error(FILE *err, const char *verb, int c, char **argv);

/* SIM_EXIT_USAGE, after saying why on err, when output (given with option opt) is the same
 * file (device and inode, so also through a link) as one of inputs or as input_dir or a
 * file in it (either may be NULL/0); else SIM_EXIT_OK. A missing output is never an input. */
int cli_refuse_input_as_output(const char *verb, const char *opt, const char *output,
                               const char *const *inputs, size_t n_inputs, const char *input_dir,
                               FILE *err);

/* check.tolerances[].metric names a metric dfusim check knows (check.c); validate runs it
 * too. SIM_EXIT_OK, or SIM_EXIT_USAGE after one FILE:LINE:COL message per unknown name. */
struct scenario;
int cli_check_tolerance_metrics(const struct scenario *s, FILE *err);

/* validate and run: what each group's firmware.kconfig and mcuboot.kconfig set
 * (fleet_kconfig_describe), printed to out under "PATH: Kconfig:"; nothing without them.
 * verbose: also each option the simulator does not model. */
void cli_kconfig_notes(const struct scenario *s, bool verbose, FILE *out);

/* Simulated time as H:MM:SS.mmm (or D days H:MM:SS.mmm). */
void cli_format_time(char *buf, size_t n, int64_t ns);

/* Progress line on a terminal: simulated time reached, events/s, ETA. */
struct cli_progress {
    FILE *stream;
    const char *name;
    int64_t until; /* ns of simulated time */
    double wall_start, wall_last;
    uint64_t events_last;
    bool shown; /* a line is on screen and needs a newline at the end */
};

/* enabled = false makes every call a no-op. */
void cli_progress_init(struct cli_progress *p, FILE *stream, const char *name, int64_t until,
                       bool enabled);
void cli_progress_update(void *ctx, const struct sim_engine *e); /* a sim_progress_fn */
void cli_progress_done(struct cli_progress *p);

double cli_wall_seconds(void); /* monotonic */

#endif /* SIM_CLI_CLI_INT_H */
