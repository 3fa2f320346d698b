/*
 * daemon.c - event loop, components and signals of `keycastd serve`.
 *
 * The probe listener (probes, /metrics) listens first; it is no component
 * and answers until the final line. The database boot's blocking half
 * (master key, migrations, key check: db_boot.h) then runs on a thread of
 * its own while the loop turns, so the startup probe answers 503
 * "starting" and a SIGTERM runs the plan during a boot stuck on a
 * database that does not answer. When that half ends, the rest of the
 * boot runs on the loop (daemon_db_booted): the components are registered
 * under the catalogue's names, so the plan drives them: "db" (when
 * database_url is set: pool, store), then "http" (the API listener), then
 * "relay-signer" (with a database: the NIP-46 signer and its relay pool);
 * then the probes say started and "keycastd started" is logged. A boot
 * that fails ends the loop with serve's exit code (cmd.h); one that ends
 * after the shutdown began starts nothing. A plan that reaches its final
 * line while the boot's thread is still blocked ends the process with
 * _exit (daemon_end_abandoned says why).
 * Signals are libevent events: the handler runs on the loop like any
 * other callback and only changes state. The first SIGTERM/SIGINT starts
 * the shutdown plan (plan/plan_run.h); a repeated one escalates as the
 * plan says. The watchdog thread starts idle
 * at boot, and a handler chained in front of libevent's arms it at the
 * first signal itself, so its deadline holds even if the loop is stuck;
 * the plan counts its budgets from that same instant, the loop beats while
 * the plan runs (so the watchdog can tell a stuck loop from a late plan),
 * and the final line is claimed once, by the plan or by the watchdog.
 * SIGPIPE is ignored: a peer that resets mid-write is an EPIPE, not a kill
 * that skips the plan. The loop ends when the plan has written its final
 * line; the exit code tells how the shutdown ended (cmd.h).
 */
#include "daemon/daemon.h"

#include "core/clock.h"
#include "core/component.h"
#include "core/config.h"
#include "core/diag.h"
#include "core/env.h"
#include "core/evlog.h"
#include "core/log.h"
#include "daemon/catalog.h"
#include "daemon/cmd.h"
#include "daemon/daemon_api.h"
#include "daemon/notify.h"
#include "db/db_boot.h"
#include "db/db_component.h"
#include "db/db_metrics.h"
#include "http/http_api.h"
#include "http/http_plan.h"
#include "http/http_server.h"
#include "plan/plan.h"
#include "plan/plan_run.h"
#include "plan/plan_watchdog.h"
#include "signer/signer.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

/* Exit code when the watchdog has to end a stuck shutdown. */
#define DAEMON_WATCHDOG_EXIT CMD_WATCHDOG

/* Open connections of the probe listener at most (a few probers and scrapers). */
#define DAEMON_PROBE_MAX_CONNECTIONS 64
/* Descriptors kept out of the API's connection cap besides the probes' and the pool's. */
#define DAEMON_FD_RESERVE 64

struct daemon {
	const struct config *cfg;
	const struct plan *plan;
	struct event_base *base;
	struct clock *clk;
	struct component_registry *reg;
	struct plan_run *run;
	struct plan_watchdog *watchdog;
	struct http_server *probes;  /* the probe listener: probes, /metrics (no component) */
	struct http_server *http;    /* the API listener, the "http" component's self */
	struct http_plan *http_plan; /* the plan's phases in /metrics */
	struct db_boot *boot;	     /* the database boot (NULL: no database_url) */
	struct db_handle db;	     /* the "db" component's self is db.pool (NULL: none) */
	struct signer *signer;	     /* the "relay-signer" component's self (NULL: no db) */
	struct http_api *api;	     /* POST /api/nostr on the API listener (NULL: no db) */
	struct event *sigterm;
	struct event *sigint;
	struct event *beat;    /* tells the watchdog the loop turns, while the plan runs */
	struct notify *notify; /* systemd's NOTIFY_SOCKET (NULL: not set) */
	unsigned signals;      /* shutdown signals received */
	bool ready;	       /* what readiness should report (the plan flips it) */
	bool started;	       /* boot finished: every component started */
	bool failed;	       /* boot failed on the loop: it ends with exit_code */
	int exit_code;
};

static void daemon_on_signal(evutil_socket_t sig, short what, void *arg);
static void daemon_set_ready(void *arg, bool ready);
static void daemon_plan_done(void *arg, bool warning);
static void daemon_phase_start(void *arg, size_t i);
static int daemon_exit_code(void *arg, bool warning);
static bool daemon_claim_final(void *arg);
static uint64_t daemon_dropped(void *arg, const char *component);
static void daemon_on_beat(evutil_socket_t fd, short what, void *arg);
static int daemon_db_start(struct daemon *d);
static void daemon_db_booted(void *arg);
static int daemon_db_finish(struct daemon *d);
static int daemon_start_rest(struct daemon *d);
static void daemon_end_abandoned(struct daemon *d);
static int daemon_probes_start(struct daemon *d);
static bool daemon_live(void *arg, const char **why);
static size_t daemon_http_cap(const struct config *c);
static int daemon_http_start(struct daemon *d);
static int daemon_signer_start(struct daemon *d);
static int daemon_signals_start(struct daemon *d);

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

/* Wire a daemon from cfg and plan. NULL on failure, logged, with its exit code in *code. */
struct daemon *daemon_new(const struct config *cfg, const struct plan *plan, int *code)
{
	struct daemon *d = calloc(1, sizeof(*d));

	*code = CMD_FAIL;
	if (d == NULL)
		goto fail;
	d->cfg = cfg;
	d->plan = plan;
	d->ready = true;
	evlog_install(); /* libevent's own warnings as rate-limited JSON lines */
	d->notify = notify_open(getenv("NOTIFY_SOCKET"));
	d->base = event_base_new();
	if (d->base == NULL)
		goto fail;
	d->clk = clock_new_libevent(d->base);
	d->reg = d->clk ? component_registry_new(d->clk) : NULL;
	d->sigterm = evsignal_new(d->base, SIGTERM, daemon_on_signal, d);
	d->sigint = evsignal_new(d->base, SIGINT, daemon_on_signal, d);
	d->beat = event_new(d->base, -1, EV_PERSIST, daemon_on_beat, d);
	if (d->reg == NULL || d->sigterm == NULL || d->sigint == NULL || d->beat == NULL ||
	    evsignal_add(d->sigterm, NULL) != 0 || evsignal_add(d->sigint, NULL) != 0) {
		log_error("daemon", "cannot set up the event loop");
		goto fail;
	}
	if (daemon_signals_start(d) != 0)
		goto fail; /* logged */
	if (daemon_probes_start(d) != 0)
		goto fail; /* logged */
	if (d->cfg->database_url[0] == '\0') {
		log_info("daemon", "no database_url: the db component is not registered");
		*code = daemon_start_rest(d);
	} else /* the rest of the boot follows in daemon_db_booted */
		*code = daemon_db_start(d) == 0 ? CMD_OK : CMD_FAIL;
	if (*code != CMD_OK)
		goto fail; /* logged */
	return d;
fail:
	daemon_free(d);
	return NULL;
}

/* Ignore SIGPIPE, start the idle watchdog and chain it in front of libevent's handlers. */
static int daemon_signals_start(struct daemon *d)
{
	struct sigaction ign;

	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (sigaction(SIGPIPE, &ign, NULL) != 0) {
		log_error("daemon", "cannot ignore SIGPIPE");
		return -1;
	}
	d->watchdog = plan_watchdog_start(plan_watchdog_plan_deadline_ms(d->plan), NULL, NULL,
					  DAEMON_WATCHDOG_EXIT);
	if (d->watchdog == NULL)
		return -1; /* logged */
	if (plan_watchdog_chain(d->watchdog, SIGTERM) != 0 ||
	    plan_watchdog_chain(d->watchdog, SIGINT) != 0) {
		log_error("daemon", "cannot chain the watchdog to the shutdown signals");
		return -1;
	}
	return 0;
}

/* The budget of the phase that closes component name, else the teardown margin. */
static int64_t daemon_close_budget_ms(const struct plan *p, const char *name)
{
	for (size_t i = 0; i < p->nphases; i++)
		for (size_t j = 0; j < p->phases[i].nsteps; j++)
			if (p->phases[i].steps[j].kind == PLAN_STEP_CLOSE &&
			    p->phases[i].steps[j].arg != NULL &&
			    strcmp(p->phases[i].steps[j].arg, name) == 0)
				return plan_phase_budget_ms(p, i);
	return p->margin.ms;
}

/*
 * Start the database boot's blocking half on its thread (db_boot.h); the
 * loop goes on, and daemon_db_booted runs when it ends. 0, or -1 (logged).
 */
static int daemon_db_start(struct daemon *d)
{
	char err[256];
	struct env env;
	int rc;

	log_info("db", "database boot started: master key, migrations, master key check",
		 log_ms("connect_timeout_ms", d->cfg->db_connect_timeout_ms),
		 log_ms("statement_timeout_ms", d->cfg->db_statement_timeout_ms),
		 log_ms("migrate_lock_timeout_ms", d->cfg->db_migrate_lock_ms));
	env_init(&env, 1);
	rc = db_boot_start(&d->boot, d->base, d->cfg, &env, daemon_db_booted, d, err, sizeof(err));
	env_clear(&env);
	if (rc != 0)
		log_error("db", "cannot start the database", log_str("error", err));
	return rc;
}

/*
 * The database boot's blocking half has ended (on the loop): unless the
 * shutdown began meanwhile, register "db" and start the rest; a failure
 * ends the loop with serve's exit code.
 */
static void daemon_db_booted(void *arg)
{
	struct daemon *d = arg;
	int code;

	if (d->run != NULL) {
		log_info("daemon", "database boot ended after shutdown began: nothing more starts");
		return; /* db_boot wipes the master key it loaded */
	}
	code = daemon_db_finish(d);
	if (code == CMD_OK)
		code = daemon_start_rest(d);
	if (code == CMD_OK)
		return;
	d->failed = true;
	d->exit_code = code;
	event_base_loopexit(d->base, NULL);
}

/*
 * Pool and store from the boot's result; register "db". CMD_OK, CMD_USAGE
 * for a configuration the boot refused (a master key missing, refused or
 * not the database's; a DATABASE_URL that does not parse), CMD_FAIL for
 * the rest. Logged.
 */
static int daemon_db_finish(struct daemon *d)
{
	int64_t close_ms = db_boot_close_timeout(daemon_close_budget_ms(d->plan, catalog_db.name));
	char err[512];
	int rc = db_boot_finish(d->boot, &d->db, d->base, d->clk, d->cfg, close_ms, err,
				sizeof(err));

	if (rc == DB_BOOT_CONFIG) {
		log_error("config", "cannot start: the configuration is refused",
			  log_str("error", err));
		return CMD_USAGE;
	}
	if (rc != 0) {
		log_error("db", "cannot start the database", log_str("error", err));
		return CMD_FAIL;
	}
	if (component_register(d->reg, &catalog_db, &db_component_ops, d->db.pool) == NULL) {
		log_error("daemon", "cannot register the db component");
		return CMD_FAIL;
	}
	return CMD_OK;
}

/*
 * The boot after the database: the API listener, the signer, then the
 * probes say started, "keycastd started" is logged and systemd told.
 * CMD_OK, or CMD_FAIL (logged).
 */
static int daemon_start_rest(struct daemon *d)
{
	if (daemon_http_start(d) != 0 || daemon_signer_start(d) != 0)
		return CMD_FAIL; /* logged */
	http_server_set_started(d->probes, true);
	http_server_set_started(d->http, true);
	d->started = true;
	log_info("daemon", "keycastd started", log_str("version", PACKAGE_VERSION),
		 log_int("pid", (int64_t)getpid()), log_str("plan", d->plan->file));
	notify_ready(d->notify);
	return CMD_OK;
}

/*
 * Start the probe listener (probes, /metrics, on probe_port) before
 * anything else boots; it owns the metrics registry every layer uses.
 */
static int daemon_probes_start(struct daemon *d)
{
	struct http_server_config hc = http_server_config_default();
	char err[256];

	http_server_config_apply(&hc, d->cfg);
	hc.name = "probe";
	hc.port = (int)d->cfg->probe_port;
	hc.max_connections = DAEMON_PROBE_MAX_CONNECTIONS;
	hc.max_body_bytes = 0; /* no probe takes a body: 413 as soon as one is announced */
	hc.version = PACKAGE_VERSION;
	hc.components = d->reg;
	hc.live = daemon_live;
	hc.live_arg = d;
	if (http_server_new(&d->probes, d->base, d->clk, &hc, err, sizeof(err)) != 0) {
		log_error("http", "cannot start the probe listener", log_str("error", err));
		return -1;
	}
	if (http_plan_new(&d->http_plan, d->probes, d->plan) != 0) {
		log_error("http", "cannot register the shutdown metrics");
		return -1;
	}
	return 0;
}

/* Probe hook: alive unless the watchdog has taken over the shutdown. */
static bool daemon_live(void *arg, const char **why)
{
	struct daemon *d = arg;

	if (!plan_watchdog_fired(d->watchdog))
		return true;
	*why = "the watchdog has taken over the shutdown";
	return false;
}

/*
 * The API listener's connection cap: http_max_connections, lowered (with
 * a warning) so that it, the probe listener's, the pool's and a reserve
 * fit in the open-file limit read now.
 */
static size_t daemon_http_cap(const struct config *c)
{
	uint64_t reserve =
		DAEMON_PROBE_MAX_CONNECTIONS + DAEMON_FD_RESERVE + (uint64_t)c->db_pool_size;
	uint64_t want = (uint64_t)c->http_max_connections, room;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
		return (size_t)want;
	room = rl.rlim_cur > reserve + 16 ? rl.rlim_cur - reserve : 16;
	if (want <= room)
		return (size_t)want;
	log_warn("http", "http_max_connections lowered to fit the open-file limit",
		 log_uint("http_max_connections", want), log_uint("lowered_to", room),
		 log_uint("fd_limit", rl.rlim_cur), log_uint("reserved", reserve));
	return (size_t)room;
}

/* Start the API listener (port) and register it as "http". */
static int daemon_http_start(struct daemon *d)
{
	struct http_server_config hc = http_server_config_default();
	char err[256];

	http_server_config_apply(&hc, d->cfg);
	hc.name = "api";
	hc.probes = false;
	hc.max_connections = daemon_http_cap(d->cfg);
	hc.metrics = http_server_metrics(d->probes);
	hc.components = d->reg;
	if (http_server_new(&d->http, d->base, d->clk, &hc, err, sizeof(err)) != 0) {
		log_error("http", "cannot start the API listener", log_str("error", err));
		return -1;
	}
	if (component_register(d->reg, &catalog_http, &http_server_component_ops, d->http) ==
	    NULL) {
		log_error("daemon", "cannot register the http component");
		return -1;
	}
	if (d->db.pool != NULL &&
	    db_metrics_register(http_server_metrics(d->probes), d->db.pool) != 0) {
		log_error("db", "cannot register the database metrics");
		return -1;
	}
	return 0;
}

/* Start the NIP-46 signer and register "relay-signer"; skipped without a database. */
static int daemon_signer_start(struct daemon *d)
{
	const struct config *c = d->cfg;
	const struct signer_config sc = {
		.base = d->base,
		.clock = d->clk,
		.store = d->db.store,
		.metrics = http_server_metrics(d->probes),
		.relays = (const char *const *)c->bunker_relays.v,
		.nrelays = c->bunker_relays.n,
		.ca_file = c->relay_ca_file[0] != '\0' ? c->relay_ca_file : NULL,
		.max_inflight = (size_t)c->signer_max_inflight,
		.backlog = (size_t)c->signer_backlog,
		.reload_ms = c->signer_reload_ms,
		.publish_timeout_ms = c->relay_publish_timeout_ms,
		.write_timeout_ms = c->relay_write_timeout_ms,
		.max_pending_out = (size_t)c->relay_max_pending_bytes,
		.stranger_burst = (uint32_t)c->signer_unbound_burst,
		.stranger_per_minute = (uint32_t)c->signer_unbound_per_minute,
		.threads = (unsigned)c->signer_threads,
	};
	char err[256];

	if (d->db.store == NULL) {
		log_info("daemon", "no database: the relay-signer component is not registered");
		return 0;
	}
	if (signer_new(&d->signer, &sc, err, sizeof(err)) != 0) {
		log_error("signer", "cannot start the signer", log_str("error", err));
		return -1;
	}
	if (component_register(d->reg, &catalog_relay_signer, &signer_component_ops, d->signer) ==
	    NULL) {
		log_error("daemon", "cannot register the relay-signer component");
		return -1;
	}
	return daemon_api_start(&d->api, d->http, d->signer, c, d->clk,
				http_server_metrics(d->probes));
}

/* Start the plan: the runner, then the first phase, as of the signal that armed the watchdog. */
static void daemon_start_plan(struct daemon *d)
{
	const struct plan_hooks hooks = {
		.set_ready = daemon_set_ready,
		.on_done = daemon_plan_done,
		.on_phase_start = daemon_phase_start,
		.claim_final = daemon_claim_final,
		.dropped = daemon_dropped,
		.exit_code = daemon_exit_code,
		.arg = d,
	};
	const struct timeval beat = {0, PLAN_WATCHDOG_BEAT_MS * 1000};
	int64_t t0;

	plan_watchdog_arm(d->watchdog); /* armed by the signal already; this only makes sure */
	plan_watchdog_beat(d->watchdog);
	(void)event_add(d->beat, &beat); /* without beats the watchdog only calls it stuck */
	d->run = plan_run_new(d->plan, d->reg, d->clk, &hooks);
	if (d->run == NULL) {
		if (plan_watchdog_claim_final(d->watchdog))
			log_final(LOG_LEVEL_ERROR, "plan",
				  "shutdown complete with warning: out of memory, plan not run",
				  log_int("exit_code", CMD_PLAN_REFUSED));
		d->exit_code = CMD_PLAN_REFUSED;
		event_base_loopexit(d->base, NULL);
		return;
	}
	http_plan_attach(d->http_plan, d->run);
	t0 = plan_watchdog_armed_ms(d->watchdog); /* the clock's base: CLOCK_MONOTONIC ms */
	plan_run_start_at(d->run, t0 >= 0 ? t0 : clock_now_ms(d->clk));
}

/* The loop turns: tell the watchdog. */
static void daemon_on_beat(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	(void)fd;
	(void)what;
	plan_watchdog_beat(d->watchdog);
}

/* Plan hook: the work a component has dropped so far (signer requests, db queries). */
static uint64_t daemon_dropped(void *arg, const char *component)
{
	struct daemon *d = arg;

	if (d->signer != NULL && strcmp(component, catalog_relay_signer.name) == 0)
		return signer_dropped(d->signer);
	if (d->db.pool != NULL && strcmp(component, catalog_db.name) == 0)
		return db_component_dropped(d->db.pool);
	if (d->api != NULL && strcmp(component, catalog_http.name) == 0)
		return http_api_dropped(d->api);
	return 0;
}

/* Plan hook: the plan may write the final line unless the watchdog has claimed it. */
static bool daemon_claim_final(void *arg)
{
	struct daemon *d = arg;

	return plan_watchdog_claim_final(d->watchdog);
}

/* A shutdown signal: begin the plan, or escalate a repeated one. */
static void daemon_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	(void)what;
	if (d->failed)
		return; /* the boot failed: the loop is ending with its exit code */
	d->signals++;
	log_info("daemon", "shutdown signal received",
		 log_str("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"),
		 log_uint("count", d->signals));
	if (d->run == NULL && !d->started)
		log_warn("daemon",
			 "shutdown signal during boot: what has not started will not start",
			 log_bool("database_booting", d->boot != NULL && db_boot_running(d->boot)));
	if (d->run == NULL) {
		notify_stopping(d->notify, sig == SIGTERM ? "SIGTERM" : "SIGINT");
		daemon_start_plan(d);
	} else
		plan_run_signal(d->run);
}

/* Plan hook: phase i starts; systemd's stop timeout is extended to cover it. */
static void daemon_phase_start(void *arg, size_t i)
{
	struct daemon *d = arg;

	notify_phase(d->notify, d->plan, i);
}

/* Plan hook: readiness fails (/healthz/ready answers 503 from now on). */
static void daemon_set_ready(void *arg, bool ready)
{
	struct daemon *d = arg;

	if (ready && !d->ready)
		log_warn("daemon", "readiness cannot pass again once shutdown has begun");
	if (!ready && d->ready) {
		log_info("http", "readiness now fails: shutting down");
		http_server_set_shutting_down(d->probes);
		if (d->http != NULL) /* NULL: the shutdown began during boot */
			http_server_set_shutting_down(d->http);
	}
	d->ready = d->ready && ready;
}

/* Plan hook: the exit code a plan that ran to its final line gives: 0, or 3 with a warning. */
static int daemon_exit_code(void *arg, bool warning)
{
	(void)arg;
	return warning ? CMD_SHUTDOWN_WARN : CMD_OK;
}

/* Plan hook: the final line is written; leave the loop with its exit code. */
static void daemon_plan_done(void *arg, bool warning)
{
	struct daemon *d = arg;

	d->exit_code = daemon_exit_code(d, warning);
	notify_done(d->notify, warning);
	event_base_loopexit(d->base, NULL);
}

/* Run the event loop until shutdown completes (or the boot fails). Returns the exit code. */
int daemon_run(struct daemon *d)
{
	if (event_base_dispatch(d->base) < 0) {
		log_error("daemon", "event loop failed");
		d->exit_code = CMD_FAIL;
	} else {
		if (plan_watchdog_stop(d->watchdog))
			d->exit_code = DAEMON_WATCHDOG_EXIT;
		d->watchdog = NULL;
	}
	if (d->boot != NULL && db_boot_running(d->boot))
		daemon_end_abandoned(d); /* does not return */
	return d->exit_code;
}

/*
 * The loop has ended (the plan wrote its final line) while the database
 * boot's thread is still blocked in libpq, on a server that accepts and
 * never answers. That thread cannot be stopped safely: libpq offers no
 * way to interrupt a blocking connection attempt (PQcancel needs an
 * established one), pthread_cancel inside libpq or OpenSSL would leave
 * their state (and locks) half-changed, and exit() would run the atexit
 * handlers (OpenSSL's cleanup among them) under it. So end the process
 * here with _exit, the exit code unchanged: nothing was started, nothing
 * is lost; the master key in the thread's memory goes with the process;
 * PostgreSQL rolls back a migration cut short and releases its lock with
 * the session. The log is unbuffered: every line is out already.
 */
static void daemon_end_abandoned(struct daemon *d)
{
	(void)plan_watchdog_stop(d->watchdog);
	d->watchdog = NULL;
	fflush(stdout);
	fflush(stderr);
	_exit(d->exit_code);
}

/* Free the daemon and everything it owns. NULL is ignored. */
void daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	(void)plan_watchdog_stop(d->watchdog);
	plan_run_free(d->run);
	notify_free(d->notify);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->beat != NULL)
		event_free(d->beat);
	if (d->probes != NULL && d->db.pool != NULL)
		db_metrics_unregister(http_server_metrics(d->probes), d->db.pool);
	http_plan_free(d->http_plan);
	http_server_free(d->http); /* first: it cancels the API calls still held */
	http_api_free(d->api);
	db_handle_free(&d->db); /* before the signer: pending store callbacks reach it alive */
	db_boot_free(d->boot);	/* a thread still running frees it when it ends */
	signer_free(d->signer);
	http_server_free(d->probes); /* last: it owns the metrics registry */
	component_registry_free(d->reg);
	clock_free(d->clk);
	if (d->base != NULL)
		event_base_free(d->base);
	free(d);
}
