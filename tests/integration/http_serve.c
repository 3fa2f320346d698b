/*
 * http_serve.c - the HTTP component under the real plan interpreter, for
 * tests/integration/http.test.
 *
 * Usage: http_serve PLAN.yaml. Listens on 127.0.0.1 (ephemeral port),
 * prints "port N" on stdout and serves until the plan has run: SIGTERM
 * starts the plan (a second one escalates), SIGUSR1 completes the drain of
 * a "gate" component (so a test can hold a phase open), SIGUSR2 answers
 * the request held by GET /test/slow. A fake "db" component is ready, the
 * server is started, /metrics carries the plan's phases.
 */
#include "core/clock.h"
#include "core/component.h"
#include "core/diag.h"
#include "core/log.h"
#include "http/http_plan.h"
#include "http/http_server.h"
#include "plan/plan.h"
#include "plan/plan_run.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* The helper's state. */
struct serve {
	struct event_base *base;
	struct clock *clk;
	struct component_registry *reg;
	struct http_server *srv;
	struct component *gate;
	struct http_exchange *held; /* the /test/slow request, or NULL */
	struct plan plan;
	struct plan_run *run;
	struct http_plan *hp;
	bool started; /* the plan runs */
	struct event *sig[3];
};

static bool serve_db_ready(void *self, const char **why);
static void serve_gate_drain(void *self, struct component *c);
static void serve_slow(void *arg, struct http_server *srv, struct http_exchange *x);
static void serve_slow_cancel(void *arg, struct http_exchange *x);
static void serve_on_signal(evutil_socket_t sig, short what, void *arg);
static void serve_set_ready(void *arg, bool ready);
static void serve_done(void *arg, bool warning);
static int serve_setup(struct serve *s, const char *plan_file);
static int serve_plan(struct serve *s, const char *plan_file);
static void serve_free(struct serve *s);

static const struct component_ops serve_db_ops = {.ready = serve_db_ready};
static const struct component_ops serve_gate_ops = {.drain = serve_gate_drain};
static const struct component_desc serve_http_desc = {.name = "http", .summary = "HTTP"};
static const struct component_desc serve_db_desc = {.name = "db", .summary = "fake db"};
static const struct component_desc serve_gate_desc = {.name = "gate", .summary = "SIGUSR1"};
static const struct component_desc *const serve_descs[] = {&serve_http_desc, &serve_db_desc,
							   &serve_gate_desc};
static const int serve_signals[] = {SIGTERM, SIGUSR1, SIGUSR2};

/* The fake database is always ready. */
static bool serve_db_ready(void *self, const char **why)
{
	(void)self, (void)why;
	return true;
}

/* The gate drains when SIGUSR1 arrives. */
static void serve_gate_drain(void *self, struct component *c)
{
	(void)self, (void)c;
}

/* GET /test/slow: hold the request until SIGUSR2. */
static void serve_slow(void *arg, struct http_server *srv, struct http_exchange *x)
{
	struct serve *s = arg;

	(void)srv;
	if (s->held != NULL)
		http_server_reply(srv, x, 409, "text/plain", "busy\n", 5);
	else
		s->held = x;
}

/* The held request was dropped (abort). */
static void serve_slow_cancel(void *arg, struct http_exchange *x)
{
	(void)x;
	((struct serve *)arg)->held = NULL;
}

/* SIGTERM: start or escalate the plan; SIGUSR1: open the gate; SIGUSR2: answer. */
static void serve_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct serve *s = arg;

	(void)what;
	if (sig == SIGTERM && !s->started) {
		s->started = true;
		http_plan_attach(s->hp, s->run);
		plan_run_start(s->run);
	} else if (sig == SIGTERM) {
		plan_run_signal(s->run);
	} else if (sig == SIGUSR1 && component_state(s->gate) == COMPONENT_DRAINING) {
		component_complete(s->gate, COMPONENT_OP_DRAIN);
	} else if (sig == SIGUSR2 && s->held != NULL) {
		http_server_reply(s->srv, s->held, 200, "text/plain", "slow\n", 5);
		s->held = NULL;
	}
}

/* Plan hook: readiness fails from the pre-drain on. */
static void serve_set_ready(void *arg, bool ready)
{
	if (!ready)
		http_server_set_shutting_down(((struct serve *)arg)->srv);
}

/* Plan hook: the final line is written; leave the loop. */
static void serve_done(void *arg, bool warning)
{
	(void)warning;
	event_base_loopexit(((struct serve *)arg)->base, NULL);
}

/* Load and validate the plan, make its runner and its metrics. 0, or -1. */
static int serve_plan(struct serve *s, const char *plan_file)
{
	const struct plan_hooks hooks = {
		.set_ready = serve_set_ready, .on_done = serve_done, .arg = s};
	struct diag d = {0};
	int rc = plan_load_file(&s->plan, plan_file, &d);

	if (plan_validate(&s->plan, serve_descs, 3, &d) != 0)
		rc = -1;
	diag_print(&d, stderr);
	diag_clear(&d);
	if (rc != 0)
		return -1;
	s->run = plan_run_new(&s->plan, s->reg, s->clk, &hooks);
	if (s->run == NULL || http_plan_new(&s->hp, s->srv, &s->plan) != 0)
		return -1;
	return 0;
}

/* Loop, server, components, plan and signals. 0, or -1 with a message. */
static int serve_setup(struct serve *s, const char *plan_file)
{
	struct http_server_config cfg = http_server_config_default();
	const struct http_route slow = {.path = "/test/slow",
					.methods = HTTP_METHOD_GET,
					.handler = serve_slow,
					.cancel = serve_slow_cancel,
					.arg = s};
	char err[256] = "cannot set up";

	s->base = event_base_new();
	s->clk = clock_new_libevent(s->base);
	s->reg = component_registry_new(s->clk);
	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	cfg.timeout_ms = 2000;
	cfg.components = s->reg;
	if (s->reg == NULL ||
	    http_server_new(&s->srv, s->base, s->clk, &cfg, err, sizeof(err)) < 0 ||
	    http_server_add_route(s->srv, &slow) < 0 ||
	    component_register(s->reg, &serve_http_desc, &http_server_component_ops, s->srv) ==
		    NULL ||
	    component_register(s->reg, &serve_db_desc, &serve_db_ops, NULL) == NULL ||
	    (s->gate = component_register(s->reg, &serve_gate_desc, &serve_gate_ops, s)) == NULL ||
	    serve_plan(s, plan_file) < 0)
		goto fail;
	for (size_t i = 0; i < 3; i++) {
		s->sig[i] = evsignal_new(s->base, serve_signals[i], serve_on_signal, s);
		if (s->sig[i] == NULL || event_add(s->sig[i], NULL) < 0)
			goto fail;
	}
	http_server_set_started(s->srv, true);
	return 0;
fail:
	fprintf(stderr, "http_serve: %s\n", err);
	return -1;
}

/* Free everything serve_setup made (the collector before the server). */
static void serve_free(struct serve *s)
{
	for (size_t i = 0; i < 3; i++)
		if (s->sig[i] != NULL)
			event_free(s->sig[i]);
	http_plan_free(s->hp);
	plan_run_free(s->run);
	http_server_free(s->srv);
	component_registry_free(s->reg);
	plan_free(&s->plan);
	clock_free(s->clk);
	if (s->base != NULL)
		event_base_free(s->base);
}

/* Serve until the plan has run. */
int main(int argc, char **argv)
{
	struct serve s = {0};
	int rc = 1;

	if (argc != 2) {
		fprintf(stderr, "usage: http_serve PLAN.yaml\n");
		return 2;
	}
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
	if (serve_setup(&s, argv[1]) == 0) {
		printf("port %d\n", http_server_port(s.srv));
		fflush(stdout);
		rc = event_base_dispatch(s.base) == 0 && plan_run_done(s.run) ? 0 : 1;
	}
	serve_free(&s);
	return rc;
}
