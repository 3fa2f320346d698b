/*
 * plan_unit.h - what a systemd service unit tells `plan check --unit`.
 *
 * Reads a unit file's [Service] section (Type, TimeoutStopSec and
 * TimeoutSec, KillSignal, SendSIGKILL, Environment, EnvironmentFile,
 * ExecStart) as systemd does (later assignments win, an empty one resets,
 * `\` continues a line), then checks a plan against what systemd will do
 * when it stops the service: the plan and its ceiling must fit
 * TimeoutStopSec, the stop signal must start the plan, and Type=notify
 * lets keycastd extend the stop timeout phase by phase (daemon/notify.h).
 */
#ifndef KC_PLAN_UNIT_H
#define KC_PLAN_UNIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "plan/plan.h"

struct diag;

/* TimeoutStopSec=infinity. */
#define PLAN_UNIT_INFINITY INT64_MAX
/* systemd's DefaultTimeoutStopSec when the unit sets none. */
#define PLAN_UNIT_DEFAULT_STOP_MS ((int64_t)90000)

/* The facts of one unit file. Strings owned. */
struct plan_unit {
	char *file;
	bool has_service; /* a [Service] section was found */
	char *type;	  /* Type= (NULL: simple) */
	struct plan_pos type_pos;
	int64_t stop_ms; /* TimeoutStopSec (PLAN_UNIT_DEFAULT_STOP_MS when unset) */
	bool stop_set;
	struct plan_pos stop_pos;
	char *kill_signal; /* KillSignal= (NULL: SIGTERM) */
	struct plan_pos kill_pos;
	bool no_sigkill; /* SendSIGKILL=no */
	bool env_files;	 /* EnvironmentFile= is used (not read) */
	char **env;	 /* "NAME=VALUE" from Environment= */
	size_t nenv;
	char *plan_path; /* --plan of ExecStart, else SHUTDOWN_PLAN, or NULL */
	struct plan_pos service_pos;
};

/* Load path. Returns 0, or -1 with findings in d. *u is always initialised. */
int plan_unit_load(struct plan_unit *u, const char *path, struct diag *d)
	__attribute__((warn_unused_result));

/* Release a unit. */
void plan_unit_free(struct plan_unit *u);

/* Check p against the unit: stop timeout, ceiling, stop signal, notify type. */
void plan_unit_check(const struct plan_unit *u, const struct plan *p, struct diag *d);

/*
 * Parse a systemd time span ("90", "90s", "1min 30s", "500ms", "infinity")
 * into ms (PLAN_UNIT_INFINITY for infinity; a bare number is seconds).
 * 0, or -1 if s is not one or is above PLAN_SANITY_MS.
 */
int plan_unit_duration_parse(int64_t *ms, const char *s) __attribute__((warn_unused_result));

#endif /* KC_PLAN_UNIT_H */
