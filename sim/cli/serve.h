/* sim/cli/serve.h - `dfusim serve`: the hook a capture writer attaches to.
 *
 * Every datagram that crosses a served device's socket is handed to the capture, if one
 * is attached (cli_serve's struct serve_capture pointer; NULL: none), once: a request when
 * it is read from the socket (to_device true, at the simulated time it is handed to the
 * device), a response when it is sent (to_device false, at the simulated time the device's
 * model let it leave). local is the device's socket address, peer the client's; both of
 * the same family. A lost request (the device does not answer) is still handed over.
 */
#ifndef SIM_CLI_SERVE_H
#define SIM_CLI_SERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct serve_capture {
    void *env;
    void (*datagram)(void *env, uint32_t dev, bool to_device, const struct sockaddr *local,
                     const struct sockaddr *peer, socklen_t addr_len, const uint8_t *p, size_t n,
                     int64_t at_ns);
};

#endif /* SIM_CLI_SERVE_H */
