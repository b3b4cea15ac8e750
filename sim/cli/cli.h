/* sim/cli/cli.h - the dfusim program: verbs, options, exit codes.
 *
 * The CLI is the composition root: the only place that ties the scenario, the models,
 * the recorder and the reports together. Output goes to the given streams so that tests
 * can run verbs in-process. Exit codes: sim/error.h enum sim_exit, plus 130 after SIGINT.
 */
#ifndef SIM_CLI_CLI_H
#define SIM_CLI_CLI_H

#include <stdio.h>

#define CLI_EXIT_INTERRUPTED 130 /* 128 + SIGINT, the shell convention */

/* Run one dfusim command line (argv[0] is the program name). Returns the exit code. */
int cli_main(int argc, char **argv, FILE *out, FILE *err);

#endif /* SIM_CLI_CLI_H */
