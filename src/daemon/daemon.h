/*
 * daemon.h - the running daemon: one event loop, its clock, its
 * components, and the signals that end it.
 *
 * daemon_plan_load() loads and validates the shutdown plan at boot (the
 * same code path as `keycastd plan check`); daemon_new() wires everything
 * from a validated configuration and plan; daemon_run() runs the loop
 * (the database boot included) until the plan has run to its final line.
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
 * Wire a daemon from cfg and plan (both borrowed for its lifetime) and
 * start booting it: the probe listener, then, with a database, its boot on
 * a thread of its own; the rest of the boot follows on the loop. NULL on
 * failure, logged, with serve's exit code in *code (cmd.h): CMD_FAIL (a
 * port in use, no memory, no thread).
 */
struct daemon *daemon_new(const struct config *cfg, const struct plan *plan, int *code);

/*
 * Run the event loop until shutdown completes, or the boot fails. Returns
 * the exit code: the plan's (cmd.h), or for a failed boot CMD_USAGE (the
 * master key missing, refused or not the database's; a DATABASE_URL that
 * does not parse) or CMD_FAIL (the database, a port in use). A shutdown
 * that ends while the database boot is still blocked does not return:
 * the process ends with _exit and the plan's code.
 */
int daemon_run(struct daemon *d) __attribute__((warn_unused_result));

/* Free the daemon and everything it owns. NULL is ignored. */
void daemon_free(struct daemon *d);

#endif /* KC_DAEMON_H */
