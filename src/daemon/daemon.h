/*
 * daemon.h - the running daemon: one event loop, its clock, its
 * components, and the signals that end it.
 *
 * daemon_new() wires everything from a validated configuration;
 * daemon_run() runs the loop until the shutdown has finished.
 */
#ifndef KC_DAEMON_H
#define KC_DAEMON_H

struct config;
struct daemon;

/* Wire a daemon from cfg (borrowed for its lifetime). NULL on failure, logged. */
struct daemon *daemon_new(const struct config *cfg);

/* Run the event loop until shutdown completes. Returns the exit code. */
int daemon_run(struct daemon *d) __attribute__((warn_unused_result));

/* Free the daemon and everything it owns. NULL is ignored. */
void daemon_free(struct daemon *d);

#endif /* KC_DAEMON_H */
