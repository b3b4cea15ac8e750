/* sim/cli/capture.h - `dfusim run|serve --pcap FILE [--pcap-devices LIST]` (docs/captures.md). */
#ifndef SIM_CLI_CAPTURE_H
#define SIM_CLI_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct fleet_world;
struct cli_capture;
struct sockaddr;

/* Hook a capture to path on the devices of list ("0,2-4"; NULL: device 0) of a built
 * world, before the engine runs. All must share one transport (a pcap file has one link
 * type). With udp (dfusim serve --direct) the file is a UDP capture fed by
 * cli_capture_datagram instead of the links. cmd ("run", "serve") names the command in
 * messages. Returns an exit code after a message on err (SIM_EXIT_USAGE for a bad list or
 * an unwritable path). */
int cli_capture_open(struct fleet_world *w, const char *cmd, const char *path, const char *list,
                     bool udp, struct cli_capture **out, FILE *err);

/* A UDP capture: one datagram between a real client (peer) and device dev (local: its
 * socket's address), at simulated time at_ns; ignored for devices not chosen. */
void cli_capture_datagram(struct cli_capture *cc, uint32_t dev, bool to_device,
                          const struct sockaddr *local, const struct sockaddr *peer,
                          const uint8_t *p, size_t n, int64_t at_ns);

/* Unhook, then write the file (keep) or drop it. Call before the world is freed. Returns
 * an exit code after a message on err. Accepts NULL. */
int cli_capture_close(struct cli_capture *cc, bool keep, FILE *err);

#endif /* SIM_CLI_CAPTURE_H */
