/*
 * daemon.c - event loop, components and signals of `keycastd serve`.
 *
 * Signals are libevent events: the handler runs on the loop like any other
 * callback and only changes state. The first SIGTERM/SIGINT starts the
 * shutdown plan (plan/plan_run.h) and arms the watchdog; a repeated one
 * escalates as the plan says. The loop ends when the plan has written its
 * final line.
 */
#include "daemon/daemon.h"

#include "core/clock.h"
#include "core/component.h"
#include "core/config.h"
#include "core/diag.h"
#include "core/env.h"
#include "core/log.h"
#include "daemon/catalog.h"
#include "plan/plan.h"
#include "plan/plan_run.h"
#include "plan/plan_watchdog.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

/* Exit code when the watchdog has to end a stuck shutdown. */
#define DAEMON_WATCHDOG_EXIT 1

struct daemon {
	const struct config *cfg;
	const struct plan *plan;
	struct event_base *base;
	struct clock *clk;
	struct component_registry *reg;
	struct plan_run *run;
	struct plan_watchdog *watchdog;
	struct event *sigterm;
	struct event *sigint;
	unsigned signals; /* shutdown signals received */
	bool ready;	  /* what readiness should report (the plan flips it) */
	int exit_code;
};

static void daemon_on_signal(evutil_socket_t sig, short what, void *arg);
static void daemon_set_ready(void *arg, bool ready);
static void daemon_plan_done(void *arg, bool warning);

/* Log every finding of d at its severity, under component "plan". */
static void daemon_log_findings(const struct diag *d)
{
	for (size_t i = 0; i < d->n; i++) {
		char loc[256];

		diag_location(&d->items[i], loc, sizeof(loc));
		log_at(d->items[i].severity == DIAG_ERROR     ? LOG_LEVEL_ERROR
		       : d->items[i].severity == DIAG_WARNING ? LOG_LEVEL_WARN
							      : LOG_LEVEL_INFO,
		       "plan", "plan finding", log_str("at", loc),
		       log_str("severity", diag_severity_name(d->items[i].severity)),
		       log_str("message", d->items[i].message));
	}
}

/* Load, layer the process env, validate and log the boot plan. */
int daemon_plan_load(struct plan *p, const struct config *cfg)
{
	const struct component_desc *const *descs;
	struct diag d = {0};
	struct env env;
	size_t n;
	int rc;

	descs = catalog_descs(&n);
	env_init(&env, 1);
	if (cfg->plan != NULL && cfg->plan[0] != '\0')
		rc = plan_load_file(p, cfg->plan, &d);
	else
		rc = plan_load_default(p, &d);
	plan_apply_env(p, &env, &d); /* validated even after load errors: report them all */
	if (plan_validate(p, descs, n, &d) != 0)
		rc = -1;
	daemon_log_findings(&d);
	if (rc != 0)
		log_error("plan",
			  "the shutdown plan cannot run; check it with `keycastd plan check`",
			  log_str("file", p->file), log_uint("errors", diag_count(&d, DIAG_ERROR)));
	diag_clear(&d);
	env_clear(&env);
	return rc;
}

/* Wire a daemon from cfg and plan. NULL on failure, logged. */
struct daemon *daemon_new(const struct config *cfg, const struct plan *plan)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (d == NULL)
		goto fail;
	d->cfg = cfg;
	d->plan = plan;
	d->ready = true;
	d->base = event_base_new();
	if (d->base == NULL)
		goto fail;
	d->clk = clock_new_libevent(d->base);
	d->reg = d->clk ? component_registry_new(d->clk) : NULL;
	d->sigterm = evsignal_new(d->base, SIGTERM, daemon_on_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, daemon_on_signal, d);
	if (d->reg == NULL || d->sigterm == NULL || d->sigint == NULL ||
	    evsignal_add(d->sigterm, NULL) != 0 || evsignal_add(d->sigint, NULL) != 0)
		goto fail;
	return d;
fail:
	log_error("daemon", "cannot set up the event loop");
	daemon_free(d);
	return NULL;
}

/* Start the plan: the runner, then the watchdog, then the first phase. */
static void daemon_start_plan(struct daemon *d)
{
	const struct plan_hooks hooks = {
		.set_ready = daemon_set_ready,
		.on_done = daemon_plan_done,
		.arg = d,
	};

	d->run = plan_run_new(d->plan, d->reg, d->clk, &hooks);
	if (d->run == NULL) {
		log_error("plan", "shutdown complete with warning: out of memory, plan not run");
		d->exit_code = 1;
		event_base_loopexit(d->base, NULL);
		return;
	}
	d->watchdog = plan_watchdog_start(plan_watchdog_deadline_ms(d->plan->ceiling.ms), NULL,
					  NULL, DAEMON_WATCHDOG_EXIT);
	plan_run_start(d->run);
}

/* A shutdown signal: begin the plan, or escalate a repeated one. */
static void daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	d->signals++;
	log_info("daemon", "shutdown signal received",
		 log_str("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
		 log_uint("count", d->signals));
	if (d->run == NULL)
		daemon_start_plan(d);
	else
		plan_run_signal(d->run);
}

/* Plan hook: readiness flips (the HTTP probes read d->ready once wired). */
static void daemon_set_ready(void *arg, bool ready)
{
	struct daemon *d = arg;

	d->ready = ready;
}

/* Plan hook: the final line is written; leave the loop. */
static void daemon_plan_done(void *arg, bool warning)
{
	struct daemon *d = arg;

	(void)warning; /* the final line says it; a finished plan exits 0 */
	event_base_loopexit(d->base, NULL);
}

/* Run the event loop until shutdown completes. Returns the exit code. */
int daemon_run(struct daemon *d)
{
	log_info("daemon", "keycastd started", log_str("version", PACKAGE_VERSION),
		 log_int("pid", (int64_t)getpid()), log_str("plan", d->plan->file));
	if (event_base_dispatch(d->base) < 0) {
		log_error("daemon", "event loop failed");
		return 1;
	}
	if (plan_watchdog_stop(d->watchdog))
		d->exit_code = DAEMON_WATCHDOG_EXIT;
	d->watchdog = NULL;
	return d->exit_code;
}

/* Free the daemon and everything it owns. NULL is ignored. */
void daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	(void)plan_watchdog_stop(d->watchdog);
	plan_run_free(d->run);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	component_registry_free(d->reg);
	clock_free(d->clk);
	if (d->base != NULL)
		event_base_free(d->base);
	free(d);
}
