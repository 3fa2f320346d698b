/*
 * test_http_server.c - the HTTP component over real loopback sockets on an
 * ephemeral port, with libevent's HTTP client and raw sockets: probes in
 * each state, 404/405/400/413, /metrics checked by promtool, drain with a
 * slow in-flight request, abort on a hung request, slowloris cut off, 40
 * kept-alive connections tracked once each and forgotten on close; and
 * the same server driven by the real plan interpreter on a virtual clock
 * (readiness 503 in pre-drain, phase metrics, abort within the budget).
 *
 * The loop is pumped until a condition holds, under a 10 s watchdog that
 * only stops a hung test (no timing is asserted).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/clock.h"
#include "core/component.h"
#include "core/config.h"
#include "core/diag.h"
#include "core/evlog.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http_plan.h"
#include "http/http_server.h"
#include "plan/plan.h"
#include "plan/plan_run.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <event2/listener.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define WATCHDOG_MS 10000
#define TURNS_MAX   500 /* loop turns a state change may take (the tick wakes every 20 ms) */

/* A fake "db" component whose readiness the test sets. */
struct fake_db {
	bool ready;
};

/* A fake "gate" component whose drain completes when the test says. */
struct gate {
	struct component *c;
	bool draining;
};

/* Everything one test needs. */
struct fx {
	struct event_base *base;
	struct event *tick; /* keeps EVLOOP_ONCE returning */
	struct clock *clk;
	struct component_registry *reg;
	struct http_server *srv;
	struct component *http;
	struct fake_db db;
	struct gate gate;
	struct http_exchange *held; /* the slow route's request */
	int cancels;
	bool got; /* the slow route was called */
	bool done[COMPONENT_OP_COUNT_];
	char scratch[8192]; /* request bodies sent */
};

/* One client response. */
struct resp {
	bool done;
	int code; /* 0 when the request failed */
	char body[65536];
	char connection[32];
};

/* Fake db readiness. */
static bool fake_db_ready(void *self, const char **why)
{
	*why = "database not connected";
	return ((struct fake_db *)self)->ready;
}

/* Gate: remember the drain; the test completes it. */
static void gate_drain(void *self, struct component *c)
{
	(void)c;
	((struct gate *)self)->draining = true;
}

static const struct component_ops fake_db_ops = {.ready = fake_db_ready};
static const struct component_ops gate_ops = {.drain = gate_drain};
static const struct component_desc http_desc = {.name = "http", .summary = "http"};
static const struct component_desc db_desc = {.name = "db", .summary = "db"};
static const struct component_desc gate_desc = {.name = "gate", .summary = "gate"};
static const struct component_desc *const plan_descs[] = {&http_desc, &db_desc, &gate_desc};

/* Tick: nothing; it only wakes the loop. */
static void tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd, (void)what, (void)arg;
}

/* Slow route: hold the exchange until the test answers it. */
static void slow_handler(void *arg, struct http_server *srv, struct http_exchange *x)
{
	(void)srv;
	((struct fx *)arg)->held = x;
	((struct fx *)arg)->got = true;
}

/* Slow route: the server dropped the held exchange. */
static void slow_cancel(void *arg, struct http_exchange *x)
{
	struct fx *fx = arg;

	assert_ptr_equal(fx->held, x);
	fx->held = NULL;
	fx->cancels++;
}

/* Build the fixture: server on 127.0.0.1:0, http and db components. */
static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	struct http_server_config cfg = http_server_config_default();
	struct timeval tv = {0, 20000};
	char err[256];

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	fx->base = event_base_new();
	fx->clk = clock_new_libevent(fx->base);
	fx->reg = component_registry_new(fx->clk);
	fx->tick = event_new(fx->base, -1, EV_PERSIST, tick, NULL);
	event_add(fx->tick, &tv);
	cfg.name = "probe"; /* the daemon's probe listener, with a test route */
	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	cfg.max_body_bytes = 4096;
	cfg.max_headers_bytes = 4096;
	cfg.timeout_ms = 300;
	cfg.components = fx->reg;
	if (http_server_new(&fx->srv, fx->base, fx->clk, &cfg, err, sizeof(err)) < 0)
		return -1;
	fx->http = component_register(fx->reg, &http_desc, &http_server_component_ops, fx->srv);
	fx->gate.c = component_register(fx->reg, &gate_desc, &gate_ops, &fx->gate);
	if (component_register(fx->reg, &db_desc, &fake_db_ops, &fx->db) == NULL ||
	    fx->gate.c == NULL)
		return -1;
	if (http_server_add_route(fx->srv, &(struct http_route){.path = "/test/slow",
								.methods = HTTP_METHOD_GET,
								.handler = slow_handler,
								.cancel = slow_cancel,
								.arg = fx}) < 0)
		return -1;
	*state = fx;
	return fx->http == NULL ? -1 : 0;
}

/* Free in dependency order. */
static int teardown(void **state)
{
	struct fx *fx = *state;

	http_server_free(fx->srv);
	component_registry_free(fx->reg);
	event_free(fx->tick);
	clock_free(fx->clk);
	event_base_free(fx->base);
	free(fx);
	return 0;
}

/* Pump the loop until *flag is true or the watchdog fires; returns *flag. */
static bool run_until(struct fx *fx, const bool *flag)
{
	int64_t end = clock_now_ms(fx->clk) + WATCHDOG_MS;

	while (!*flag && clock_now_ms(fx->clk) < end)
		event_base_loop(fx->base, EVLOOP_ONCE);
	return *flag;
}

/* Pump the loop for a few turns (lets pending work happen, if any). */
static void run_turns(struct fx *fx, int n)
{
	while (n-- > 0)
		event_base_loop(fx->base, EVLOOP_ONCE);
}

/* Client callback: keep code, body and Connection header. */
static void client_done(struct evhttp_request *req, void *arg)
{
	struct resp *r = arg;
	const char *conn;
	size_t n;

	r->done = true;
	if (req == NULL || evhttp_request_get_response_code(req) == 0)
		return;
	r->code = evhttp_request_get_response_code(req);
	n = evbuffer_copyout(evhttp_request_get_input_buffer(req), r->body, sizeof(r->body) - 1);
	r->body[n] = '\0';
	conn = evhttp_find_header(evhttp_request_get_input_headers(req), "Connection");
	snprintf(r->connection, sizeof(r->connection), "%s", conn != NULL ? conn : "");
}

/* Start a request; the caller frees the returned connection. */
static struct evhttp_connection *start(struct fx *fx, enum evhttp_cmd_type cmd, const char *path,
				       struct resp *r)
{
	struct evhttp_connection *evcon = evhttp_connection_base_new(
		fx->base, NULL, "127.0.0.1", (ev_uint16_t)http_server_port(fx->srv));
	struct evhttp_request *req = evhttp_request_new(client_done, r);

	memset(r, 0, sizeof(*r));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "localhost");
	assert_int_equal(evhttp_make_request(evcon, req, cmd, path), 0);
	return evcon;
}

/* One request, answered; returns the status. */
static int fetch(struct fx *fx, enum evhttp_cmd_type cmd, const char *path, struct resp *r)
{
	struct evhttp_connection *evcon = start(fx, cmd, path, r);

	assert_true(run_until(fx, &r->done));
	evhttp_connection_free(evcon);
	return r->code;
}

/* A blocking connect to the server's port; the fd, or -1 with errno. */
static int raw_connect(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Read what the server sends until it closes; the watchdog bounds the wait. */
static bool raw_read_eof(struct fx *fx, int fd, char *buf, size_t cap)
{
	int64_t end = clock_now_ms(fx->clk) + WATCHDOG_MS;
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while (clock_now_ms(fx->clk) < end) {
		event_base_loop(fx->base, EVLOOP_ONCE);
		n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno == ECONNRESET))
			return true;
		if (n > 0)
			buf[len += (size_t)n] = '\0';
	}
	return false;
}

/* Send raw bytes and return what came back before the server closed. */
static bool raw_exchange(struct fx *fx, const char *req, size_t len, char *buf, size_t cap)
{
	int fd = raw_connect(http_server_port(fx->srv));
	bool eof;

	assert_true(fd >= 0);
	assert_int_equal(send(fd, req, len, MSG_NOSIGNAL), (ssize_t)len);
	eof = raw_read_eof(fx, fd, buf, cap);
	close(fd);
	return eof;
}

/* Record a component completion. */
static void op_done(void *arg, struct component *c, enum component_op op)
{
	(void)c;
	((struct fx *)arg)->done[op] = true;
}

/* Probes: live always; startup after boot; ready only when all is. */
static void test_probes(void **state)
{
	struct fx *fx = *state;
	struct resp r;

	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 200);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/startup", &r), 503);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/ready", &r), 503);
	assert_non_null(strstr(r.body, "\"started\":false"));
	http_server_set_started(fx->srv, true);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/startup", &r), 200);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/ready", &r), 503);
	assert_non_null(
		strstr(r.body, "{\"component\":\"db\",\"reason\":\"database not connected\"}"));
	fx->db.ready = true;
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/ready", &r), 200);
	assert_non_null(strstr(r.body, "\"status\":\"ready\""));
	http_server_set_shutting_down(fx->srv); /* the plan's pre-drain */
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/ready", &r), 503);
	assert_non_null(strstr(r.body, "{\"component\":\"http\",\"reason\":\"shutting down\"}"));
	assert_string_equal(r.connection, "close");
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 200);
}

/* Unknown paths 404, wrong methods 405, HEAD answers without a body. */
static void test_routes(void **state)
{
	struct fx *fx = *state;
	struct resp r;

	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/nope", &r), 404);
	assert_int_equal(fetch(fx, EVHTTP_REQ_POST, "/healthz/live", &r), 405);
	assert_int_equal(fetch(fx, EVHTTP_REQ_HEAD, "/healthz/live", &r), 200);
	assert_string_equal(r.body, "");
	assert_int_equal(
		http_server_add_route(
			fx->srv, &(struct http_route){.path = "/metrics", .handler = slow_handler}),
		-1);
}

/* Malformed requests get 400, oversized bodies 413, oversized headers 400. */
static void test_bad_requests(void **state)
{
	struct fx *fx = *state;
	char buf[4096], big[8192];
	const char *body =
		"POST /healthz/live HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n";
	int n;

	assert_true(raw_exchange(fx, "GARBAGE\r\n\r\n", 11, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 400"));
	assert_true(raw_exchange(fx, body, strlen(body), buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
	/* no final CRLF: the server reads it all, so its close is not a reset */
	n = snprintf(big, sizeof(big), "GET /healthz/live HTTP/1.1\r\nHost: x\r\nX-Big: %05000d",
		     0);
	assert_true(raw_exchange(fx, big, (size_t)n, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 400")); /* libevent 2.1 cannot say 431 */
}

/*
 * HEAD: the headers of the GET answer, Content-Length included, and no body,
 * so a kept-alive client reads the next answer where it starts.
 */
static void test_head(void **state)
{
	struct fx *fx = *state;
	static const char req[] =
		"HEAD /healthz/live HTTP/1.1\r\nHost: x\r\n\r\n"
		"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\n"
		"GET /healthz/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char buf[4096];
	const char *second, *third;

	assert_true(raw_exchange(fx, req, sizeof(req) - 1, buf, sizeof(buf)));
	assert_int_equal(strncmp(buf, "HTTP/1.1 200 ", 13), 0);
	assert_non_null(strstr(buf, "Content-Length: 18\r\n")); /* {"status":"alive"} */
	second = strstr(buf, "\r\n\r\n");
	assert_non_null(second);
	second += 4;
	assert_int_equal(strncmp(second, "HTTP/1.1 404 ", 13), 0); /* no body in between */
	third = strstr(second, "\r\n\r\n");
	assert_non_null(third);
	assert_non_null(strstr(second, "Content-Length: 10\r\n")); /* "not found\n" */
	third += 4;
	assert_int_equal(strncmp(third, "HTTP/1.1 200 ", 13), 0);
	assert_non_null(strstr(third, "\r\n\r\n{\"status\":\"alive\"}"));
}

/* Body route: answers 200 with the body's length. */
static void body_handler(void *arg, struct http_server *srv, struct http_exchange *x)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%zu\n",
			 evbuffer_get_length(
				 evhttp_request_get_input_buffer(http_server_exchange_request(x))));

	(void)arg;
	http_server_reply(srv, x, 200, "text/plain", text, (size_t)n);
}

/*
 * Bodies: a route takes what its max_body says; a path that takes none
 * refuses one (413) even when another route's limit let it be read; a body
 * above every route's limit is refused from its headers, before it is sent.
 */
static void test_bodies(void **state)
{
	struct fx *fx = *state;
	char buf[4096];
	static const char ok[] = "POST /test/body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
				 "Connection: close\r\n\r\nhello";
	static const char none[] = "GET /healthz/live HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
				   "Connection: close\r\n\r\nhello";
	static const char big[] = "POST /test/body HTTP/1.1\r\nHost: x\r\n"
				  "Content-Length: 100000000\r\n\r\n"; /* the body never comes */

	assert_true(raw_exchange(fx, big, sizeof(big) - 1, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 413")); /* no route takes a body yet */
	assert_int_equal(
		http_server_add_route(fx->srv, &(struct http_route){.path = "/test/body",
								    .methods = HTTP_METHOD_POST,
								    .handler = body_handler,
								    .max_body = 8}),
		0);
	assert_true(raw_exchange(fx, ok, sizeof(ok) - 1, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 200"));
	assert_non_null(strstr(buf, "\r\n\r\n5\n"));
	assert_true(raw_exchange(fx, none, sizeof(none) - 1, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 413"));
	assert_non_null(strstr(buf, "this path takes no request body"));
	assert_true(raw_exchange(fx, big, sizeof(big) - 1, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 413")); /* above 8 bytes: from the headers */
}

/* A client that sends half a request is cut off by the read timeout. */
static void test_slowloris(void **state)
{
	struct fx *fx = *state;
	char buf[1024];
	const char *half = "GET /healthz/live HTTP/1.1\r\nHost: x\r\n";

	assert_true(raw_exchange(fx, half, strlen(half), buf, sizeof(buf)));
	assert_null(strstr(buf, "200 OK"));
}

/* Open a connection with half a request read by the server, then start the drain; the fd. */
static int half_request_then_drain(struct fx *fx)
{
	const char *half = "GET /healthz/live HTTP/1.1\r\nHost: x\r\n";
	int fd = raw_connect(http_server_port(fx->srv));

	assert_true(fd >= 0);
	assert_int_equal(send(fd, half, strlen(half), MSG_NOSIGNAL), (ssize_t)strlen(half));
	run_turns(fx, 5); /* accepted and read */
	assert_int_equal(component_stop_accepting(fx->http), 0);
	assert_int_equal(component_drain(fx->http, op_done, fx), 0);
	return fd;
}

/* A client trickling its headers cannot hold the drain; close cuts it off. */
static void test_slowloris_drain(void **state)
{
	struct fx *fx = *state;
	int fd = half_request_then_drain(fx);
	char buf[256];

	for (int i = 0; i < TURNS_MAX && !fx->done[COMPONENT_OP_DRAIN]; i++) {
		assert_int_equal(send(fd, "X", 1, MSG_NOSIGNAL), 1); /* one byte per turn */
		run_turns(fx, 1);
	}
	assert_true(fx->done[COMPONENT_OP_DRAIN]);
	assert_int_equal(component_close(fx->http, op_done, fx), 0);
	assert_true(run_until(fx, &fx->done[COMPONENT_OP_CLOSE]));
	assert_true(raw_read_eof(fx, fd, buf, sizeof(buf)));
	close(fd);
}

/* Pump the loop and read fd until buf holds needle (or the server closes). */
static bool raw_read_until(struct fx *fx, int fd, char *buf, size_t cap, const char *needle)
{
	int64_t end = clock_now_ms(fx->clk) + WATCHDOG_MS;
	size_t len = 0;
	ssize_t n;

	buf[0] = '\0';
	while (strstr(buf, needle) == NULL && clock_now_ms(fx->clk) < end) {
		event_base_loop(fx->base, EVLOOP_ONCE);
		n = recv(fd, buf + len, cap - 1 - len, MSG_DONTWAIT);
		if (n == 0)
			break;
		if (n > 0)
			buf[len += (size_t)n] = '\0';
	}
	return strstr(buf, needle) != NULL;
}

/* Drain closes a kept-alive connection that sits idle between requests. */
static void test_drain_closes_idle(void **state)
{
	struct fx *fx = *state;
	const char *get = "GET /healthz/live HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd = raw_connect(http_server_port(fx->srv));
	char buf[1024];

	assert_true(fd >= 0);
	assert_int_equal(send(fd, get, strlen(get), MSG_NOSIGNAL), (ssize_t)strlen(get));
	assert_true(raw_read_until(fx, fd, buf, sizeof(buf), "\"alive\""));
	assert_null(strstr(buf, "Connection: close")); /* kept alive */
	run_turns(fx, 2);
	assert_int_equal(http_server_connections(fx->srv), 1);
	assert_int_equal(component_stop_accepting(fx->http), 0);
	assert_int_equal(http_server_connections(fx->srv), 0); /* closed at once, not by timeout */
	assert_int_equal(component_drain(fx->http, op_done, fx), 0);
	assert_true(run_until(fx, &fx->done[COMPONENT_OP_DRAIN]));
	assert_true(raw_read_eof(fx, fd, buf, sizeof(buf)));
	assert_string_equal(buf, ""); /* closed without another answer */
	close(fd);
}

/* Turn the loop until the server tracks n connections (bounded); whether it does. */
static bool run_until_conns(struct fx *fx, size_t n)
{
	for (int i = 0; i < 2000 && http_server_connections(fx->srv) != n; i++)
		event_base_loop(fx->base, EVLOOP_ONCE);
	return http_server_connections(fx->srv) == n;
}

/* Many kept-alive connections are each tracked once, forgotten when they close, all cut at stop. */
static void test_many_connections(void **state)
{
	struct fx *fx = *state;
	const char *get = "GET /healthz/live HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd[40];
	char buf[1024];

	for (int round = 0; round < 2; round++)
		for (int i = round * 20; i < 40; i++) { /* round 1: again on the 20 kept */
			if (round == 0)
				fd[i] = raw_connect(http_server_port(fx->srv));
			assert_true(fd[i] >= 0);
			assert_int_equal(send(fd[i], get, strlen(get), MSG_NOSIGNAL),
					 (ssize_t)strlen(get));
			assert_true(raw_read_until(fx, fd[i], buf, sizeof(buf), "\"alive\""));
			if (round == 0 && i == 19) {
				assert_true(run_until_conns(fx, 20));
				for (int k = 0; k < 20; k++)
					close(fd[k]);
				assert_true(run_until_conns(fx, 0));
			}
		}
	assert_true(run_until_conns(fx, 20)); /* a second request found its connection's entry */
	assert_int_equal(component_stop_accepting(fx->http), 0);
	assert_int_equal(http_server_connections(fx->srv), 0);
	for (int i = 20; i < 40; i++)
		close(fd[i]);
}

/* A route that stops accepting from inside its own callback, then answers. */
static void stop_handler(void *arg, struct http_server *srv, struct http_exchange *x)
{
	struct fx *fx = arg;

	assert_int_equal(component_stop_accepting(fx->http), 0);
	assert_int_equal(http_server_connections(srv), 2); /* not freed under a callback */
	http_server_reply(srv, x, 200, "text/plain", "stopped\n", 8);
}

/* Stop-accepting from inside a callback closes the idle connection on a later turn. */
static void test_stop_in_callback(void **state)
{
	struct fx *fx = *state;
	const char *get = "GET /healthz/live HTTP/1.1\r\nHost: x\r\n\r\n";
	int fd = raw_connect(http_server_port(fx->srv));
	char buf[1024];
	struct resp r;

	assert_int_equal(
		http_server_add_route(fx->srv, &(struct http_route){.path = "/test/stop",
								    .methods = HTTP_METHOD_GET,
								    .handler = stop_handler,
								    .arg = fx}),
		0);
	assert_true(fd >= 0);
	assert_int_equal(send(fd, get, strlen(get), MSG_NOSIGNAL), (ssize_t)strlen(get));
	assert_true(raw_read_until(fx, fd, buf, sizeof(buf), "\"alive\""));
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/test/stop", &r), 200);
	assert_string_equal(r.connection, "close");
	/* closed by then (well before the 300 ms idle timeout), with nothing more sent */
	assert_int_equal(recv(fd, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(fd);
}

/* A request completed on an open connection after the drain: 503, then close. */
static void test_drain_late_request(void **state)
{
	struct fx *fx = *state;
	int fd = half_request_then_drain(fx);
	char buf[1024];

	assert_true(run_until(fx, &fx->done[COMPONENT_OP_DRAIN]));
	assert_int_equal(send(fd, "\r\n", 2, MSG_NOSIGNAL), 2);
	assert_true(raw_read_eof(fx, fd, buf, sizeof(buf)));
	assert_non_null(strstr(buf, "HTTP/1.1 503"));
	assert_non_null(strstr(buf, "Connection: close"));
	assert_non_null(strstr(buf, "\"reason\":\"shutting down\""));
	assert_int_equal(http_server_inflight(fx->srv), 0);
	assert_int_equal(component_state(fx->http), COMPONENT_DRAINED);
	close(fd);
}

/* Write the body to a file and check it with promtool (scripts/setup.sh installs it). */
static void promtool_check(const char *text)
{
	char path[] = "/tmp/kc-metrics-XXXXXX", cmd[256];
	int fd;

	if (system("command -v promtool >/dev/null 2>&1") != 0)
		fail_msg("promtool not found: install Debian's prometheus package "
			 "(scripts/setup.sh)");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s", path);
	assert_int_equal(system(cmd), 0);
	unlink(path);
}

/* /metrics has the request, state and build families and passes promtool. */
static void test_metrics(void **state)
{
	struct fx *fx = *state;
	struct resp r;

	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 200);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/nope", &r), 404);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/metrics", &r), 200);
	assert_non_null(strstr(
		r.body, "keycastd_http_requests_total{listener=\"probe\",route=\"/healthz/live\","
			"status=\"200\"} 1\n"));
	assert_non_null(strstr(r.body, "keycastd_http_requests_total{listener=\"probe\",route="
				       "\"unmatched\",status=\"404\"} 1"));
	assert_non_null(strstr(r.body, "keycastd_http_requests_in_flight{listener=\"probe\"} 1\n"));
	assert_non_null(strstr(r.body, "keycastd_http_request_duration_seconds_count{listener="
				       "\"probe\",route=\"/healthz/live\"} 1\n"));
	assert_non_null(strstr(
		r.body, "keycastd_component_state{component=\"http\",state=\"running\"} 1\n"));
	assert_non_null(
		strstr(r.body, "keycastd_component_state{component=\"db\",state=\"aborted\"} 0\n"));
	assert_non_null(strstr(r.body, "keycastd_build_info{version=\"" PACKAGE_VERSION "\"} 1\n"));
	promtool_check(r.body);
}

/* Drain: the slow request completes with Connection: close; new ones are refused. */
static void test_drain(void **state)
{
	struct fx *fx = *state;
	struct resp r;
	struct evhttp_connection *evcon = start(fx, EVHTTP_REQ_GET, "/test/slow", &r);
	int port = http_server_port(fx->srv);

	assert_true(run_until(fx, &fx->got));
	assert_non_null(fx->held);
	assert_int_equal(http_server_inflight(fx->srv), 1);
	assert_int_equal(component_stop_accepting(fx->http), 0);
	assert_int_equal(component_drain(fx->http, op_done, fx), 0);
	assert_int_equal(raw_connect(port), -1);
	assert_int_equal(errno, ECONNREFUSED);
	run_turns(fx, 5);
	assert_false(fx->done[COMPONENT_OP_DRAIN]);
	assert_false(r.done);
	http_server_reply(fx->srv, fx->held, 200, "text/plain", "slow\n", 5);
	fx->held = NULL;
	assert_true(run_until(fx, &r.done));
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "slow\n");
	assert_string_equal(r.connection, "close");
	assert_true(run_until(fx, &fx->done[COMPONENT_OP_DRAIN]));
	assert_int_equal(component_state(fx->http), COMPONENT_DRAINED);
	assert_int_equal(component_close(fx->http, op_done, fx), 0);
	assert_true(run_until(fx, &fx->done[COMPONENT_OP_CLOSE]));
	evhttp_connection_free(evcon);
}

/* Bind and listen on port (with SO_REUSEADDR, as a restarted server would). */
static int rebind(int port)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1, rc;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	rc = bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 && listen(fd, 1) == 0 ? 0 : -1;
	close(fd);
	return rc;
}

/* Abort on a hung request: confirmed, the request cancelled, the port free. */
static void test_abort(void **state)
{
	struct fx *fx = *state;
	struct resp r;
	struct evhttp_connection *evcon = start(fx, EVHTTP_REQ_GET, "/test/slow", &r);
	int port = http_server_port(fx->srv);

	assert_true(run_until(fx, &fx->got));
	assert_non_null(fx->held);
	assert_int_equal(rebind(port), -1); /* still listening */
	assert_int_equal(component_abort(fx->http, op_done, fx), 0);
	assert_true(run_until(fx, &fx->done[COMPONENT_OP_ABORT]));
	assert_int_equal(fx->cancels, 1);
	assert_null(fx->held);
	assert_int_equal(http_server_inflight(fx->srv), 0);
	assert_false(http_server_listening(fx->srv));
	assert_true(run_until(fx, &r.done));
	assert_int_equal(r.code, 0); /* the connection was closed under the client */
	assert_int_equal(rebind(port), 0);
	assert_int_equal(component_state(fx->http), COMPONENT_ABORTED);
	evhttp_connection_free(evcon);
}

/* A route that aborts the server from inside its own callback, then answers. */
static void abort_handler(void *arg, struct http_server *srv, struct http_exchange *x)
{
	struct fx *fx = arg;

	assert_int_equal(component_abort(fx->http, op_done, fx), 0);
	assert_false(http_server_listening(srv)); /* the listener closes at once */
	http_server_reply(srv, x, 200, "text/plain", "bye\n", 4);
}

/* Abort asked from inside an HTTP callback: evhttp is freed on a later turn. */
static void test_abort_in_callback(void **state)
{
	struct fx *fx = *state;
	struct resp r;
	struct evhttp_connection *evcon;
	int port = http_server_port(fx->srv);

	assert_int_equal(
		http_server_add_route(fx->srv, &(struct http_route){.path = "/test/abort",
								    .methods = HTTP_METHOD_GET,
								    .handler = abort_handler,
								    .arg = fx}),
		0);
	evcon = start(fx, EVHTTP_REQ_GET, "/test/abort", &r);
	assert_true(run_until(fx, &fx->done[COMPONENT_OP_ABORT]));
	assert_true(run_until(fx, &r.done));
	assert_int_equal(http_server_inflight(fx->srv), 0);
	assert_int_equal(rebind(port), 0);
	evhttp_connection_free(evcon);
}

/* A plan run over the fixture's components on a virtual clock. */
struct plan_rig {
	struct plan plan;
	struct clock *vclk;
	struct plan_run *run;
	struct http_plan *hp;
	struct fx *fx;
	bool done;
	int rebind_at_end;	   /* rebind() of the port when http-drain ended */
	enum plan_outcome drain_o; /* http-drain's outcome, seen by the hook */
};

/* Plan hook: the readiness step. */
static void rig_set_ready(void *arg, bool ready)
{
	struct plan_rig *g = arg;

	if (!ready)
		http_server_set_shutting_down(g->fx->srv);
}

static int rebind(int port);

/* Plan hook: when http-drain ends, the port must already be free. */
static void rig_phase_end(void *arg, const char *phase, enum plan_outcome o, int64_t ms)
{
	struct plan_rig *g = arg;

	(void)ms;
	if (strcmp(phase, "http-drain") != 0)
		return;
	g->drain_o = o;
	g->rebind_at_end = rebind(http_server_port(g->fx->srv));
}

/* Plan hook: the final line is written. */
static void rig_done(void *arg, bool warning)
{
	(void)warning;
	((struct plan_rig *)arg)->done = true;
}

/* Load and validate yaml, attach the phase metrics, start the run. */
static void rig_start(struct plan_rig *g, struct fx *fx, const char *yaml)
{
	struct diag d = {0};
	const struct plan_hooks hooks = {.set_ready = rig_set_ready,
					 .on_phase_end = rig_phase_end,
					 .on_done = rig_done,
					 .arg = g};

	memset(g, 0, sizeof(*g));
	g->fx = fx;
	g->rebind_at_end = 1;
	assert_int_equal(plan_load_string(&g->plan, "test.yaml", yaml, strlen(yaml), &d), 0);
	assert_int_equal(plan_validate(&g->plan, plan_descs, 3, &d), 0);
	diag_clear(&d);
	g->vclk = clock_new_virtual(0);
	g->run = plan_run_new(&g->plan, fx->reg, g->vclk, &hooks);
	assert_non_null(g->run);
	assert_int_equal(http_plan_new(&g->hp, fx->srv, &g->plan), 0);
	http_plan_attach(g->hp, g->run);
	plan_run_start(g->run);
}

/* Free the run, the metrics collector and the plan. */
static void rig_free(struct plan_rig *g)
{
	http_plan_free(g->hp);
	plan_run_free(g->run);
	clock_free(g->vclk);
	plan_free(&g->plan);
}

/* The registry rendered, checked by promtool; the caller frees it. */
static char *rig_metrics(struct fx *fx)
{
	char *text = metrics_render_string(http_server_metrics(fx->srv));

	assert_non_null(text);
	promtool_check(text);
	return text;
}

/* Pre-drain waits on the gate, so its readiness can be probed over HTTP. */
static const char plan_gated[] = "version: 1\nceiling: 1h\nteardown_margin: 10m\nabort_wait: 1m\n"
				 "phases:\n"
				 "  - name: pre-drain\n    budget: 10m\n"
				 "    steps: [{readiness: fail}, {drain: gate}]\n"
				 "    on_timeout: continue\n"
				 "  - name: http-drain\n    budget: 10m\n"
				 "    steps: [{stop-accepting: http}, {drain: http}]\n"
				 "    on_timeout: {abort: [http]}\n"
				 "  - name: cleanup\n    budget: teardown-margin\n"
				 "    steps: [{close: http}]\n    on_timeout: continue\n";

/* Pre-drain flips readiness to 503; http-drain completes a slow request. */
static void test_plan_drain(void **state)
{
	struct fx *fx = *state;
	struct plan_rig g;
	struct resp r, slow;
	struct evhttp_connection *evcon;
	char *text;

	http_server_set_started(fx->srv, true);
	fx->db.ready = true;
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/ready", &r), 200);
	rig_start(&g, fx, plan_gated);
	assert_true(run_until(fx, &fx->gate.draining)); /* pre-drain is running */
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/ready", &r), 503);
	assert_non_null(strstr(r.body, "{\"component\":\"http\",\"reason\":\"shutting down\"}"));
	assert_string_equal(r.connection, "close");
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/metrics", &r), 200);
	promtool_check(r.body);
	assert_non_null(strstr(r.body, "keycastd_shutdown_in_progress 1\n"));
	assert_non_null(strstr(r.body, "keycastd_shutdown_phase{phase=\"pre-drain\"} 1\n"));
	assert_non_null(strstr(r.body, "keycastd_shutdown_phase{phase=\"http-drain\"} 0\n"));
	assert_non_null(
		strstr(r.body, "keycastd_shutdown_phase_budget_seconds{phase=\"cleanup\"} 600\n"));
	assert_non_null(strstr(r.body, "keycastd_shutdown_phase_outcome{phase=\"pre-drain\","
				       "outcome=\"pending\"} 1\n"));
	evcon = start(fx, EVHTTP_REQ_GET, "/test/slow", &slow);
	assert_true(run_until(fx, &fx->got));
	clock_virtual_advance(g.vclk, 1500); /* pre-drain lasts 1.5 s of plan time */
	component_complete(fx->gate.c, COMPONENT_OP_DRAIN);
	for (int i = 0; i < TURNS_MAX && http_server_listening(fx->srv); i++)
		run_turns(fx, 1); /* until http-drain's stop-accepting */
	assert_false(http_server_listening(fx->srv));
	assert_int_equal(raw_connect(http_server_port(fx->srv)), -1);
	assert_int_equal(errno, ECONNREFUSED);
	text = rig_metrics(fx);
	assert_non_null(strstr(text, "keycastd_shutdown_phase{phase=\"http-drain\"} 1\n"));
	assert_non_null(strstr(
		text, "keycastd_shutdown_phase_duration_seconds{phase=\"pre-drain\"} 1.5\n"));
	assert_non_null(strstr(text, "keycastd_shutdown_phase_outcome{phase=\"pre-drain\","
				     "outcome=\"completed\"} 1\n"));
	assert_non_null(strstr(text, "keycastd_shutdown_phase_outcome{phase=\"pre-drain\","
				     "outcome=\"completed_with_drops\"} 0\n"));
	free(text);
	http_server_reply(fx->srv, fx->held, 200, "text/plain", "slow\n", 5);
	fx->held = NULL;
	assert_true(run_until(fx, &slow.done));
	assert_int_equal(slow.code, 200);
	assert_string_equal(slow.connection, "close");
	assert_true(run_until(fx, &g.done));
	assert_int_equal(plan_run_outcome(g.run, 1), PLAN_OUTCOME_COMPLETED);
	assert_false(plan_run_warning(g.run));
	text = rig_metrics(fx);
	assert_non_null(strstr(text, "keycastd_shutdown_in_progress 0\n"));
	assert_null(strstr(text, "keycastd_shutdown_phase{phase=\"cleanup\"} 1\n"));
	assert_non_null(strstr(text, "keycastd_shutdown_phase_outcome{phase=\"cleanup\","
				     "outcome=\"completed\"} 1\n"));
	free(text);
	evhttp_connection_free(evcon);
	rig_free(&g);
}

/* http-drain runs out of budget on a hung request: abort, confirmed in time. */
static void test_plan_abort(void **state)
{
	static const char yaml[] = "version: 1\nceiling: 1h\nteardown_margin: 10m\nabort_wait: 1m\n"
				   "phases:\n"
				   "  - name: pre-drain\n    budget: 0s\n"
				   "    steps: [{readiness: fail}]\n    on_timeout: continue\n"
				   "  - name: http-drain\n    budget: 30s\n"
				   "    steps: [{stop-accepting: http}, {drain: http}]\n"
				   "    on_timeout: {abort: [http]}\n"
				   "  - name: cleanup\n    budget: teardown-margin\n"
				   "    steps: [{close: http}]\n    on_timeout: continue\n";
	struct fx *fx = *state;
	struct plan_rig g;
	struct resp r;
	struct evhttp_connection *evcon = start(fx, EVHTTP_REQ_GET, "/test/slow", &r);
	char *text;

	assert_true(run_until(fx, &fx->got));
	rig_start(&g, fx, yaml);
	for (int i = 0; i < TURNS_MAX && component_state(fx->http) != COMPONENT_DRAINING; i++)
		run_turns(fx, 1);
	assert_int_equal(component_state(fx->http), COMPONENT_DRAINING);
	run_turns(fx, 5);
	assert_false(g.done); /* the hung request holds the drain */
	/* the budget warning at 80 %, then the budget timer */
	assert_int_equal(clock_virtual_advance(g.vclk, 30000), 2);
	assert_true(run_until(fx, &g.done));
	assert_int_equal(g.drain_o, PLAN_OUTCOME_TIMED_OUT_ABORTED); /* confirmed, not waited out */
	assert_int_equal(plan_run_duration_ms(g.run, 1), 30000);
	assert_int_equal(clock_now_ms(g.vclk), 30000); /* no abort_wait time went by */
	assert_int_equal(g.rebind_at_end, 0);	       /* port free before the plan went on */
	assert_int_equal(fx->cancels, 1);
	assert_true(run_until(fx, &r.done));
	assert_int_equal(r.code, 0);
	text = rig_metrics(fx);
	assert_non_null(strstr(text, "keycastd_shutdown_phase_outcome{phase=\"http-drain\","
				     "outcome=\"timed_out_aborted\"} 1\n"));
	assert_non_null(strstr(
		text, "keycastd_shutdown_phase_duration_seconds{phase=\"http-drain\"} 30\n"));
	assert_non_null(
		strstr(text, "keycastd_component_state{component=\"http\",state=\"closed\"} 1\n"));
	free(text);
	evhttp_connection_free(evcon);
	rig_free(&g);
}

/* Live hook: the watchdog has taken over. */
static bool dead(void *arg, const char **why)
{
	(void)arg;
	*why = "the watchdog has taken over the shutdown";
	return false;
}

/* A listener whose live hook says no answers /healthz/live 503 with the reason. */
static void test_live_hook(void **state)
{
	struct fx *fx = *state;
	struct http_server_config cfg = http_server_config_default();
	struct http_server *srv = fx->srv;
	struct resp r;
	char err[256];

	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	cfg.live = dead;
	assert_int_equal(http_server_new(&fx->srv, fx->base, fx->clk, &cfg, err, sizeof(err)), 0);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 503);
	assert_non_null(strstr(r.body, "\"status\":\"not alive\""));
	assert_non_null(strstr(r.body, "\"reason\":\"the watchdog has taken over the shutdown\""));
	http_server_free(fx->srv);
	fx->srv = srv;
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 200); /* no hook */
}

/*
 * The daemon's pair: a probe listener and an API listener (no probes) on
 * one registry. The API serves no probe (404); when it is drained and
 * aborted (the plan's http-drain timing out), the probe listener still
 * answers liveness 200 and /metrics, which counts both listeners apart.
 */
static void test_two_listeners(void **state)
{
	struct fx *fx = *state;
	struct http_server_config cfg = http_server_config_default();
	struct http_server *api, *probes = fx->srv;
	struct resp r, slow;
	struct evhttp_connection *evcon;
	char err[256];

	cfg.name = "api";
	cfg.probes = false;
	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	cfg.metrics = http_server_metrics(probes);
	assert_int_equal(http_server_new(&api, fx->base, fx->clk, &cfg, err, sizeof(err)), 0);
	assert_int_equal(http_server_add_route(api, &(struct http_route){.path = "/test/slow",
									 .methods = HTTP_METHOD_GET,
									 .handler = slow_handler,
									 .cancel = slow_cancel,
									 .arg = fx}),
			 0);
	fx->srv = api;
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 404);
	evcon = start(fx, EVHTTP_REQ_GET, "/test/slow", &slow);
	assert_true(run_until(fx, &fx->got));
	http_server_component_ops.drain(api, NULL);
	http_server_component_ops.abort(api, NULL);
	assert_true(run_until(fx, &slow.done)); /* cut by the abort */
	assert_false(http_server_listening(api));
	fx->srv = probes;
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 200);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/metrics", &r), 200);
	assert_non_null(strstr(r.body, "keycastd_http_requests_total{listener=\"api\",route="
				       "\"unmatched\",status=\"404\"} 1\n"));
	assert_non_null(strstr(r.body, "keycastd_http_requests_in_flight{listener=\"api\"} 0\n"));
	assert_non_null(strstr(r.body, "keycastd_http_requests_in_flight{listener=\"probe\"} 1\n"));
	promtool_check(r.body);
	evhttp_connection_free(evcon);
	http_server_free(api);
}

/* A server on 127.0.0.1:0 with cap open connections, slow ones evictable after evict_ms. */
static struct http_server *capped(struct fx *fx, size_t cap, int64_t evict_ms)
{
	struct http_server_config cfg = http_server_config_default();
	struct http_server *srv;
	char err[256];

	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	cfg.max_connections = cap;
	cfg.evict_after_ms = evict_ms;
	assert_int_equal(http_server_new(&srv, fx->base, fx->clk, &cfg, err, sizeof(err)), 0);
	return srv;
}

/* Whether fd has been closed by the server (EOF or reset), without waiting. */
static bool raw_closed(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, MSG_DONTWAIT);

	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/*
 * The cap: 4 connections at most. Three clients trickle a request line and
 * never finish it, one finished a request and idles (kept alive); a fifth
 * client's request is served once the oldest slow header sender is evicted
 * (the idle one, older still, is kept), and no more than 4 are ever open.
 */
static void test_cap_evicts_slowest(void **state)
{
	struct fx *fx = *state;
	struct http_server *srv = capped(fx, 4, 200), *keep = fx->srv;
	int idle, slow[3], max_open = 0;
	struct resp r;
	struct evhttp_connection *evcon;
	char buf[1024];

	fx->srv = srv;
	idle = raw_connect(http_server_port(srv));
	assert_int_equal(send(idle, "GET /healthz/live HTTP/1.1\r\nHost: x\r\n\r\n", 39, 0), 39);
	for (int i = 0; i < TURNS_MAX && http_server_connections(srv) != 1; i++)
		run_turns(fx, 1);
	for (int i = 0; i < 3; i++) {
		slow[i] = raw_connect(http_server_port(srv));
		assert_int_equal(send(slow[i], "GET /x HTTP/1.1\r\n", 17, 0), 17);
		run_turns(fx, 3);
	}
	evcon = start(fx, EVHTTP_REQ_GET, "/healthz/live", &r);
	while (!r.done) {
		run_turns(fx, 1);
		max_open = (int)http_server_open_connections(srv) > max_open
				   ? (int)http_server_open_connections(srv)
				   : max_open;
	}
	assert_int_equal(r.code, 200);
	assert_true(max_open <= 4);
	assert_true(http_server_evicted(srv) >= 1);
	assert_true(raw_closed(slow[0])); /* the oldest slow header sender went first */
	assert_false(raw_closed(idle));	  /* the idle kept-alive one was kept */
	assert_true(recv(idle, buf, sizeof(buf), MSG_DONTWAIT) > 0); /* its answer */
	evhttp_connection_free(evcon);
	for (int i = 0; i < 3; i++)
		close(slow[i]);
	close(idle);
	http_server_free(srv);
	fx->srv = keep;
}

/* libevent's hook for the test: count its lines. */
static void count_libevent(void *arg, enum log_level level, const char *component, const char *msg,
			   const struct log_field *fields, size_t n)
{
	(void)level, (void)fields, (void)n, (void)msg;
	if (strcmp(component, "libevent") == 0)
		(*(int *)arg)++;
}

/* A listener's accept: close what comes (the test's own raw listener). */
static void drop_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
			int len, void *arg)
{
	(void)lev, (void)sa, (void)len, (void)arg;
	close(fd);
}

/*
 * Out of descriptors: a bare libevent listener (no error callback) would
 * warn on every turn; through evlog those lines are JSON and rate-limited.
 * The server's own listener pauses instead (no line per turn), evicts, and
 * serves again once descriptors are back.
 */
static void test_accept_emfile(void **state)
{
	struct fx *fx = *state;
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct rlimit old, low;
	struct evconnlistener *bare;
	int lines = 0, fds[2], extra;
	struct resp r;
	socklen_t sl = sizeof(sin);

	evlog_install();
	log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	log_set_hook(count_libevent, &lines);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bare = evconnlistener_new_bind(fx->base, drop_accept, NULL, LEV_OPT_CLOSE_ON_FREE, 16,
				       (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(bare);
	getsockname(evconnlistener_get_fd(bare), (struct sockaddr *)&sin, &sl);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	fds[0] = raw_connect(ntohs(sin.sin_port));
	fds[1] = raw_connect(http_server_port(fx->srv));
	extra = dup(0); /* the highest descriptor in use, give or take */
	low = old;
	low.rlim_cur = (rlim_t)extra; /* every accept now fails with EMFILE */
	close(extra);
	extra = dup(0); /* takes the last free one below the limit */
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	run_turns(fx, 50);
	assert_true(lines >= 1);	       /* libevent's warning, as JSON */
	assert_true(lines <= EVLOG_BURST + 1); /* not one per turn */
	assert_true(evlog_suppressed() > 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	log_set_hook(NULL, NULL);
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	evconnlistener_free(bare);
	close(fds[0]);
	close(fds[1]);
	close(extra);
	assert_int_equal(fetch(fx, EVHTTP_REQ_GET, "/healthz/live", &r), 200); /* resumed */
}

/* A server on 127.0.0.1:0 taking bodies of 4096 bytes, 8192 in all, on /test/body and /test/held.
 */
static struct http_server *budgeted(struct fx *fx)
{
	struct http_server_config cfg = http_server_config_default();
	struct http_server *srv;
	char err[256];

	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	cfg.max_body_bytes = 4096;
	cfg.max_body_total_bytes = 8192;
	assert_int_equal(http_server_new(&srv, fx->base, fx->clk, &cfg, err, sizeof(err)), 0);
	assert_int_equal(
		http_server_add_route(srv, &(struct http_route){.path = "/test/body",
								.methods = HTTP_METHOD_POST,
								.handler = body_handler,
								.max_body = 4096}),
		0);
	assert_int_equal(
		http_server_add_route(srv, &(struct http_route){.path = "/test/held",
								.methods = HTTP_METHOD_POST,
								.handler = slow_handler,
								.cancel = slow_cancel,
								.arg = fx,
								.max_body = 4096}),
		0);
	return srv;
}

/* Connect and send the headers of a POST to path declaring clen bytes, then n of them. */
static int body_start(struct fx *fx, const char *path, size_t clen, size_t n)
{
	int fd = raw_connect(http_server_port(fx->srv));
	char head[128];
	int len =
		snprintf(head, sizeof(head),
			 "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %zu\r\n\r\n", path, clen);

	assert_true(fd >= 0 && len > 0 && (size_t)len < sizeof(head));
	assert_int_equal(send(fd, head, (size_t)len, MSG_NOSIGNAL), len);
	if (n > 0)
		assert_int_equal(send(fd, memset(fx->scratch, 'x', n), n, MSG_NOSIGNAL),
				 (ssize_t)n);
	run_turns(fx, 5); /* accepted and read */
	return fd;
}

/* Send n more body bytes on fd and let the server read them. */
static void body_more(struct fx *fx, int fd, size_t n)
{
	assert_int_equal(send(fd, memset(fx->scratch, 'y', n), n, MSG_NOSIGNAL), (ssize_t)n);
	run_turns(fx, 5);
}

/*
 * The body budget (8192 bytes, bodies of 4096 at most): a held request's
 * body counts until it is answered; a body that does not fit in what the
 * others leave is refused 413 from its headers, and one still arriving is
 * refused at the read that would pass the budget; a small one still goes
 * through; the count never passes the budget, and once every request is
 * answered or cut (client gone, held request orphaned) it is back to 0.
 */
static void test_body_budget(void **state)
{
	struct fx *fx = *state;
	struct http_server *srv = budgeted(fx), *keep = fx->srv;
	int held, b, c, e, f;
	char buf[1024];

	fx->srv = srv;
	held = body_start(fx, "/test/held", 4000, 4000);
	assert_true(run_until(fx, &fx->got));
	assert_int_equal(http_server_body_buffered(srv), 4000); /* its body, held */
	b = body_start(fx, "/test/body", 4000, 2000);		/* fits: admitted */
	assert_true(http_server_body_buffered(srv) <= 8192);
	c = body_start(fx, "/test/body", 3000, 100); /* 3000 > what is left: 413 at once */
	assert_true(raw_read_until(fx, c, buf, sizeof(buf), "HTTP/1.1 413"));
	assert_true(raw_read_eof(fx, c, buf, sizeof(buf)));
	assert_int_equal(http_server_body_refused(srv), 1);
	body_more(fx, b, 2000); /* b completes within the budget */
	assert_true(raw_read_until(fx, b, buf, sizeof(buf), "\r\n\r\n4000\n"));
	assert_true(http_server_body_buffered(srv) <= 8192);
	close(b);
	close(c);
	e = body_start(fx, "/test/body", 4000, 100); /* both fit now ... */
	f = body_start(fx, "/test/body", 4000, 100);
	body_more(fx, e, 3000); /* ... e takes the room first ... */
	assert_true(http_server_body_buffered(srv) <= 8192);
	body_more(fx, f, 3000); /* ... so f is cut at the read that would pass the budget */
	assert_true(raw_read_until(fx, f, buf, sizeof(buf), "HTTP/1.1 413"));
	assert_int_equal(http_server_body_refused(srv), 2);
	assert_true(http_server_body_buffered(srv) <= 8192);
	close(f);
	close(e); /* gone mid-body */
	for (int i = 0; i < TURNS_MAX && http_server_open_connections(srv) > 1; i++)
		run_turns(fx, 1);
	assert_int_equal(http_server_body_buffered(srv), 4000); /* the held body alone */
	close(held);						/* gone while its request is held */
	http_server_reply(srv, fx->held, 200, "text/plain", "late\n", 5);
	fx->held = NULL;
	for (int i = 0; i < TURNS_MAX && http_server_body_buffered(srv) > 0; i++)
		run_turns(fx, 1);
	assert_int_equal(http_server_body_buffered(srv), 0);
	c = body_start(fx, "/test/body", 4096, 4096); /* the largest body fits again */
	assert_true(raw_read_until(fx, c, buf, sizeof(buf), "\r\n\r\n4096\n"));
	close(c);
	for (int i = 0; i < TURNS_MAX && http_server_open_connections(srv) > 0; i++)
		run_turns(fx, 1);
	assert_int_equal(http_server_body_buffered(srv), 0);
	http_server_free(srv);
	fx->srv = keep;
}

/* The daemon's settings map onto the server's, defaults included. */
static void test_config_apply(void **state)
{
	struct http_server_config cfg = http_server_config_default();
	struct config c;
	struct diag d = {0};

	(void)state;
	assert_int_equal(config_init(&c), 0);
	assert_int_equal(config_set(&c, "port", "0", "test", 0, 0, &d), 0);
	http_server_config_apply(&cfg, &c);
	assert_string_equal(cfg.listen_addr, "0.0.0.0");
	assert_int_equal(cfg.port, 0);
	assert_int_equal(cfg.max_body_bytes, 65536);
	assert_int_equal(cfg.max_body_total_bytes, 4194304);
	assert_int_equal(cfg.timeout_ms, 10000);
	config_free(&c);
	diag_clear(&d);
}

/* Run the group. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_apply),
		cmocka_unit_test_setup_teardown(test_probes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_live_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_two_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap_evicts_slowest, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_emfile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_routes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bodies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_budget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slowloris, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slowloris_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_closes_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain_late_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stop_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_in_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_drain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_abort, setup, teardown),
	};

	return cmocka_run_group_tests_name("http_server", tests, NULL, NULL);
}
