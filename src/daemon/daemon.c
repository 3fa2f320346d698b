/*
 * daemon.c - event loop, components and signals of `keycastd serve`.
 *
 * Signals are libevent events: the handler runs on the loop like any other
 * callback and only changes state; a repeated signal escalates.
 */
#include "daemon/daemon.h"

#include "core/clock.h"
#include "core/component.h"
#include "core/config.h"
#include "core/log.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "config.h"

struct daemon {
	const struct config *cfg;
	struct event_base *base;
	struct clock *clk;
	struct component_registry *reg;
	struct event *sigterm;
	struct event *sigint;
	unsigned signals; /* shutdown signals received */
	int exit_code;
};

static void daemon_on_signal(evutil_socket_t sig, short what, void *arg);

/* Wire a daemon from cfg (borrowed for its lifetime). NULL on failure, logged. */
struct daemon *daemon_new(const struct config *cfg)
{
	struct daemon *d = calloc(1, sizeof(*d));

	if (d == NULL)
		goto fail;
	d->cfg = cfg;
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

/* A shutdown signal: begin the shutdown, or escalate a repeated one. */
static void daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	d->signals++;
	log_info("daemon", "shutdown signal received", log_str("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
		 log_uint("count", d->signals));
	event_base_loopexit(d->base, NULL);
}

/* Run the event loop until shutdown completes. Returns the exit code. */
int daemon_run(struct daemon *d)
{
	log_info("daemon", "keycastd started", log_str("version", PACKAGE_VERSION),
		 log_int("pid", (int64_t)getpid()));
	if (event_base_dispatch(d->base) < 0) {
		log_error("daemon", "event loop failed");
		return 1;
	}
	log_info("daemon", "shutdown complete");
	return d->exit_code;
}

/* Free the daemon and everything it owns. NULL is ignored. */
void daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
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
