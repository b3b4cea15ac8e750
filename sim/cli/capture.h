/* sim/cli/capture.h - `dfusim run --pcap FILE [--pcap-devices LIST]` (docs/captures.md). */
#ifndef SIM_CLI_CAPTURE_H
#define SIM_CLI_CAPTURE_H

#include <stdbool.h>
#include <stdio.h>

struct fleet_world;
struct cli_capture;

/* Hook a capture to path on the devices of list ("0,2-4"; NULL: device 0) of a built
 * world, before the engine runs. All must share one transport (a pcap file has one link
 * type). Returns an exit code after a message on err (SIM_EXIT_USAGE for a bad list or an
 * unwritable path). */
int cli_capture_open(struct fleet_world *w, const char *path, const char *list,
                     struct cli_capture **out, FILE *err);

/* Unhook, then write the file (keep) or drop it. Call before the world is freed. Returns
 * an exit code after a message on err. Accepts NULL. */
int cli_capture_close(struct cli_capture *cc, bool keep, FILE *err);

#endif /* SIM_CLI_CAPTURE_H */
