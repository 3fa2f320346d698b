/*
 * http_serve.c - the HTTP component alone, for tests/integration/http.test.
 *
 * Listens on 127.0.0.1 (ephemeral port), prints "port N" on stdout, and
 * serves until a signal: SIGUSR1 fails readiness (the plan's pre-drain),
 * SIGTERM stops accepting, drains, closes and exits 0. A fake "db"
 * component is registered and ready, the server is started.
 */
#include "core/clock.h"
#include "core/component.h"
#include "core/log.h"
#include "http/http_server.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

/* The helper's state. */
struct serve {
	struct event_base *base;
	struct http_server *srv;
	struct component *http;
	int status;
};

static bool serve_db_ready(void *self, const char **why);
static void serve_on_usr1(evutil_socket_t fd, short what, void *arg);
static void serve_on_term(evutil_socket_t fd, short what, void *arg);
static void serve_done(void *arg, struct component *c, enum component_op op);

static const struct component_ops serve_db_ops = {.ready = serve_db_ready};
static const struct component_desc serve_http_desc = {.name = "http", .summary = "HTTP"};
static const struct component_desc serve_db_desc = {.name = "db", .summary = "fake db"};

/* The fake database is always ready. */
static bool serve_db_ready(void *self, const char **why)
{
	(void)self, (void)why;
	return true;
}

/* SIGUSR1: readiness fails from now on. */
static void serve_on_usr1(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what;
	http_server_set_shutting_down(((struct serve *)arg)->srv);
}

/* SIGTERM: stop accepting and drain. */
static void serve_on_term(evutil_socket_t fd, short what, void *arg)
{
	struct serve *s = arg;

	(void)fd, (void)what;
	if (component_stop_accepting(s->http) < 0 || component_drain(s->http, serve_done, s) < 0)
		event_base_loopbreak(s->base);
}

/* Drained: close; closed: leave the loop. */
static void serve_done(void *arg, struct component *c, enum component_op op)
{
	struct serve *s = arg;

	if (op == COMPONENT_OP_DRAIN && component_close(c, serve_done, s) == 0)
		return;
	s->status = op == COMPONENT_OP_CLOSE ? 0 : 1;
	event_base_loopbreak(s->base);
}

/* Serve until SIGTERM has drained the server. */
int main(void)
{
	struct serve s = {.status = 1};
	struct http_server_config cfg = http_server_config_default();
	struct clock *clk;
	struct component_registry *reg;
	struct event *usr1, *term;
	char err[256];

	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
	s.base = event_base_new();
	clk = clock_new_libevent(s.base);
	reg = component_registry_new(clk);
	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	cfg.timeout_ms = 500;
	cfg.components = reg;
	if (http_server_new(&s.srv, s.base, clk, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "http_serve: %s\n", err);
		return 1;
	}
	s.http = component_register(reg, &serve_http_desc, &http_server_component_ops, s.srv);
	if (s.http == NULL || component_register(reg, &serve_db_desc, &serve_db_ops, NULL) == NULL)
		return 1;
	http_server_set_started(s.srv, true);
	usr1 = evsignal_new(s.base, SIGUSR1, serve_on_usr1, &s);
	term = evsignal_new(s.base, SIGTERM, serve_on_term, &s);
	event_add(usr1, NULL);
	event_add(term, NULL);
	printf("port %d\n", http_server_port(s.srv));
	fflush(stdout);
	event_base_dispatch(s.base);
	event_free(usr1);
	event_free(term);
	http_server_free(s.srv);
	component_registry_free(reg);
	clock_free(clk);
	event_base_free(s.base);
	return s.status;
}
