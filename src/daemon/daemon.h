/*
 * daemon.h - the running daemon: one event loop, its clock, its
 * components, and the signals that end it.
 *
 * daemon_plan_load() loads and validates the shutdown plan at boot (the
 * same code path as `keycastd plan check`); daemon_new() wires everything
 * from a validated configuration and plan; daemon_run() runs the loop
 * until the plan has run to its final line.
 */
#ifndef KC_DAEMON_H
#define KC_DAEMON_H

struct config;
struct daemon;
struct plan;

/*
 * Load cfg->plan (empty: the built-in default plan), layer the process
 * env, validate it against the component catalogue and log every finding.
 * Returns 0 when it can run, -1 otherwise (plan_free *p either way).
 */
int daemon_plan_load(struct plan *p, const struct config *cfg) __attribute__((warn_unused_result));

/*
 * Wire a daemon from cfg and plan (both borrowed for its lifetime). NULL
 * on failure, logged, with serve's exit code in *code (cmd.h): CMD_USAGE
 * for a configuration error (the master key missing, refused or not the
 * database's), CMD_FAIL for a runtime one (a port in use, the database).
 */
struct daemon *daemon_new(const struct config *cfg, const struct plan *plan, int *code);

/* Run the event loop until shutdown completes. Returns the exit code. */
int daemon_run(struct daemon *d) __attribute__((warn_unused_result));

/* Free the daemon and everything it owns. NULL is ignored. */
void daemon_free(struct daemon *d);

#endif /* KC_DAEMON_H */
