/*
 * http_server.c - the evhttp server behind http_server.h: listener, route
 * dispatch, in-flight tracking, request metrics and the component
 * operations (stop accepting, drain, abort, close).
 *
 * Every dispatched request gets an exchange on the server's list; it stays
 * there until its reply has been written (evhttp's on-complete callback)
 * or its connection goes away (the connection's close callback). The
 * evhttp object is freed outside any HTTP callback: when an operation is
 * asked for from inside one, the teardown runs on the next loop turn.
 *
 * Every connection that has carried a request is on the server's
 * connection list until it closes (the table is http_conn.c's; accepting
 * and eviction are http_admit.c's, request bodies and their budget
 * http_body.c's). Once the server stops accepting, the
 * idle ones (no exchange) are closed, and a request that still arrives on
 * an open connection (pipelined, or sent before the close reached the
 * client) is answered 503 "shutting down" with Connection: close.
 */
#include "config.h"

#include "http/http_server.h"

#include "core/clock.h"
#include "core/config.h"
#include "core/log.h"
#include "core/metrics.h"
#include "http/http_probes.h"
#include "http/http_server_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static int http_server_listen(struct http_server *srv, const struct http_server_config *cfg,
			      char *err, size_t errlen);
static int http_server_metrics_init(struct http_server *srv, struct metrics *m);
static void http_server_dispatch(struct evhttp_request *req, void *arg);
static const struct http_route *http_server_route(struct http_server *srv, const char *path);
static unsigned http_server_method(enum evhttp_cmd_type cmd);
static void http_server_reply_405(struct http_server *srv, struct http_exchange *x);
static void http_server_refuse(struct http_server *srv, struct evhttp_request *req,
			       const struct http_route *route);
static void http_server_send(struct evhttp_request *req, int status, const char *body, size_t len);
static void http_server_close_idle(struct http_server *srv);
static void http_server_close_idle_now(void *arg);
static struct http_exchange *http_exchange_new(struct http_server *srv, struct evhttp_request *req,
					       const struct http_route *route);
static void http_exchange_finish(struct http_exchange *x);
static void http_exchange_drop(struct http_exchange *x);
static void http_server_sent(struct evhttp_request *req, void *arg);
static void http_server_count(struct http_server *srv, const struct http_route *route,
			      int64_t start_ms, int status);
static void http_server_stop_listening(struct http_server *srv);
static void http_server_teardown(struct http_server *srv);
static void http_server_teardown_now(void *arg);
static void http_server_cancel_all(struct http_server *srv);
static void http_server_check_drained(struct http_server *srv);
static void http_server_op_stop(void *self);
static void http_server_op_drain(void *self, struct component *c);
static void http_server_op_abort(void *self, struct component *c);
static void http_server_op_close(void *self, struct component *c);
static size_t http_server_op_inflight(void *self);
static bool http_server_op_ready(void *self, const char **why);

const struct component_ops http_server_component_ops = {
	.stop_accepting = http_server_op_stop,
	.drain = http_server_op_drain,
	.abort = http_server_op_abort,
	.close = http_server_op_close,
	.inflight = http_server_op_inflight,
	.ready = http_server_op_ready,
};

/* evhttp command -> route method bit. */
static const struct {
	enum evhttp_cmd_type cmd;
	unsigned bit;
} http_server_methods[] = {
	{EVHTTP_REQ_GET, HTTP_METHOD_GET},	 {EVHTTP_REQ_HEAD, HTTP_METHOD_HEAD},
	{EVHTTP_REQ_POST, HTTP_METHOD_POST},	 {EVHTTP_REQ_PUT, HTTP_METHOD_PUT},
	{EVHTTP_REQ_DELETE, HTTP_METHOD_DELETE},
};

/* Method bit -> name, for the Allow header. */
static const char *const http_server_method_names[] = {"GET", "HEAD", "POST", "PUT", "DELETE"};

/* Request duration buckets, in seconds. */
static const double http_server_buckets[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1,
					     0.25,  0.5,   1,	 2.5,	5,    10};

/* The defaults. */
struct http_server_config http_server_config_default(void)
{
	return (struct http_server_config){
		.name = "api",
		.probes = true,
		.listen_addr = "0.0.0.0",
		.port = 8080,
		.max_connections = 1024,
		.evict_after_ms = 1000,
		.max_body_bytes = 65536,
		.max_body_total_bytes = 4194304,
		.max_headers_bytes = 16384,
		.timeout_ms = 10000,
		.version = PACKAGE_VERSION,
	};
}

/* Take the daemon's HTTP settings; strings stay owned by c. */
void http_server_config_apply(struct http_server_config *cfg, const struct config *c)
{
	cfg->listen_addr = c->listen_addr;
	cfg->port = (int)c->port;
	cfg->max_body_bytes = (size_t)c->http_max_body_bytes;
	cfg->max_body_total_bytes = (size_t)c->http_max_body_total_bytes;
	cfg->timeout_ms = c->http_timeout_ms;
	cfg->max_connections = (size_t)c->http_max_connections;
	cfg->max_requests_per_conn = (uint64_t)c->http_max_conn_requests;
}

/* Create, configure and bind the server. */
int http_server_new(struct http_server **out, struct event_base *base, struct clock *clk,
		    const struct http_server_config *cfg, char *err, size_t errlen)
{
	struct http_server *srv = calloc(1, sizeof(*srv));
	struct timeval tv = {.tv_sec = cfg->timeout_ms / 1000,
			     .tv_usec = (cfg->timeout_ms % 1000) * 1000};

	*out = NULL;
	snprintf(err, errlen, "out of memory");
	if (srv == NULL)
		return -1;
	srv->base = base;
	srv->clk = clk;
	snprintf(srv->name, sizeof(srv->name), "%s", cfg->name != NULL ? cfg->name : "api");
	srv->live = cfg->live;
	srv->live_arg = cfg->live_arg;
	srv->components = cfg->components;
	srv->http = evhttp_new(base);
	srv->teardown_timer = clock_timer_new(clk, http_server_teardown_now, srv);
	srv->idle_timer = clock_timer_new(clk, http_server_close_idle_now, srv);
	srv->trim_timer = clock_timer_new(clk, http_conn_trim_now, srv);
	if (srv->http == NULL || srv->teardown_timer == NULL || srv->idle_timer == NULL ||
	    srv->trim_timer == NULL)
		goto fail;
	evhttp_set_max_headers_size(srv->http, (ev_ssize_t)cfg->max_headers_bytes);
	srv->max_body = cfg->max_body_bytes;
	srv->max_requests_per_conn = cfg->max_requests_per_conn;
	evhttp_set_max_body_size(srv->http, 0); /* until a route takes a body */
	evhttp_set_timeout_tv(srv->http, &tv);
	evhttp_set_gencb(srv->http, http_server_dispatch, srv);
	if (http_server_metrics_init(srv, cfg->metrics) < 0 || http_admit_init(srv, cfg) < 0 ||
	    http_body_init(srv, cfg) < 0 ||
	    (cfg->probes && http_probes_register(srv, cfg->version) < 0)) {
		snprintf(err, errlen, "cannot register HTTP metrics or routes");
		goto fail;
	}
	if (http_server_listen(srv, cfg, err, errlen) < 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	http_server_free(srv);
	return -1;
}

/* Bind the listener and learn the port. */
static int http_server_listen(struct http_server *srv, const struct http_server_config *cfg,
			      char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	int fd;

	srv->listener =
		evhttp_bind_socket_with_handle(srv->http, cfg->listen_addr, (ev_uint16_t)cfg->port);
	if (srv->listener == NULL) {
		snprintf(err, errlen, "cannot listen on %s:%d (%s listener): %s", cfg->listen_addr,
			 cfg->port, srv->name, strerror(errno));
		return -1;
	}
	srv->listened = true;
	http_admit_listening(srv);
	fd = evhttp_bound_socket_get_fd(srv->listener);
	if (getsockname(fd, (struct sockaddr *)&ss, &sslen) == 0)
		srv->port = ss.ss_family == AF_INET6
				    ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
				    : ntohs(((struct sockaddr_in *)&ss)->sin_port);
	log_info("http", "listening", log_str("listener", srv->name),
		 log_str("addr", cfg->listen_addr), log_int("port", srv->port));
	return 0;
}

/*
 * Register the request metrics in m, or in a registry of our own. Every
 * listener of one registry shares the families, told apart by the label
 * "listener": the first registers them, the others find them.
 */
static int http_server_metrics_init(struct http_server *srv, struct metrics *m)
{
	static const char *const route_status[] = {"listener", "route", "status", NULL};
	static const char *const route[] = {"listener", "route", NULL};
	static const char *const listener[] = {"listener", NULL};

	srv->own_metrics = m == NULL;
	srv->metrics = m != NULL ? m : metrics_new();
	if (srv->metrics == NULL)
		return -1;
	srv->m_requests = http_server_family(
		srv->metrics, METRICS_COUNTER, "keycastd_http_requests_total",
		"HTTP requests answered, by listener, route and status.", route_status);
	srv->m_inflight =
		http_server_family(srv->metrics, METRICS_GAUGE, "keycastd_http_requests_in_flight",
				   "HTTP requests being served now, by listener.", listener);
	srv->m_duration = http_server_family(
		srv->metrics, METRICS_HISTOGRAM, "keycastd_http_request_duration_seconds",
		"Time from dispatch to reply of HTTP requests, by listener and route.", route);
	if (srv->m_requests == NULL || srv->m_inflight == NULL || srv->m_duration == NULL)
		return -1;
	return metrics_gauge_set(srv->m_inflight, (const char *const[]){srv->name}, 0);
}

/* The family name of type in m, registered now if it is not yet; NULL on a clash or ENOMEM. */
struct metrics_family *http_server_family(struct metrics *m, enum metrics_type type,
					  const char *name, const char *help,
					  const char *const *labels)
{
	struct metrics_family *f = metrics_find(m, name);

	if (f != NULL)
		return metrics_family_type(f) == type ? f : NULL;
	if (type == METRICS_COUNTER)
		return metrics_counter(m, name, help, labels);
	if (type == METRICS_GAUGE)
		return metrics_gauge(m, name, help, labels);
	return metrics_histogram(m, name, help, labels, http_server_buckets,
				 sizeof(http_server_buckets) / sizeof(double));
}

/* Free everything; held exchanges are cancelled. */
void http_server_free(struct http_server *srv)
{
	if (srv == NULL)
		return;
	srv->dispatching = 0;
	http_server_teardown(srv);
	http_admit_free(srv);
	clock_timer_free(srv->teardown_timer);
	clock_timer_free(srv->idle_timer);
	clock_timer_free(srv->trim_timer);
	free(srv->htab);
	if (srv->metrics != NULL)
		http_probes_unregister(srv); /* nothing when it registered none */
	if (srv->own_metrics)
		metrics_free(srv->metrics);
	free(srv);
}

/* The bound port. */
int http_server_port(const struct http_server *srv)
{
	return srv->port;
}

/* Add a route unless the table is full or the path is taken. */
int http_server_add_route(struct http_server *srv, const struct http_route *route)
{
	if (srv->nroutes == HTTP_SERVER_MAX_ROUTES || route->handler == NULL ||
	    http_server_route(srv, route->path) != NULL)
		return -1;
	srv->routes[srv->nroutes++] = *route;
	http_body_routes(srv);
	return 0;
}

/* Set whether boot has finished. */
void http_server_set_started(struct http_server *srv, bool started)
{
	srv->started = started;
}

/* Begin failing readiness. */
void http_server_set_shutting_down(struct http_server *srv)
{
	if (!srv->shutting_down)
		log_info("http", "shutting down: answers carry Connection: close",
			 log_str("listener", srv->name));
	srv->shutting_down = true;
}

/* Whether boot has finished. */
bool http_server_started(const struct http_server *srv)
{
	return srv->started;
}

/* Whether the process is alive: the live hook, or true. */
bool http_server_live(const struct http_server *srv, const char **why)
{
	*why = NULL;
	return srv->live == NULL || srv->live(srv->live_arg, why);
}

/* The listener's name. */
const char *http_server_name(const struct http_server *srv)
{
	return srv->name;
}

/* Whether shutdown has begun. */
bool http_server_shutting_down(const struct http_server *srv)
{
	return srv->shutting_down;
}

/* The component registry. */
struct component_registry *http_server_components(const struct http_server *srv)
{
	return srv->components;
}

/* The metrics registry. */
struct metrics *http_server_metrics(const struct http_server *srv)
{
	return srv->metrics;
}

/* Requests in flight. */
size_t http_server_inflight(const struct http_server *srv)
{
	return srv->inflight;
}

/* Open connections that have carried a request. */
size_t http_server_connections(const struct http_server *srv)
{
	return srv->ncarried;
}

/* Every open connection. */
size_t http_server_open_connections(const struct http_server *srv)
{
	return srv->nconns;
}

/* Connections evicted so far. */
uint64_t http_server_evicted(const struct http_server *srv)
{
	return srv->admit.evicted;
}

/* Request bytes buffered now. */
size_t http_server_body_buffered(const struct http_server *srv)
{
	return srv->body.buffered;
}

/* Requests refused for want of body budget. */
uint64_t http_server_body_refused(const struct http_server *srv)
{
	return srv->body.refused;
}

/* Whether the listener is open. */
bool http_server_listening(const struct http_server *srv)
{
	return srv->listener != NULL;
}

/* The libevent request of an exchange. */
struct evhttp_request *http_server_exchange_request(struct http_exchange *x)
{
	return x->req;
}

/* evhttp's callback for every request: route, check method, hand over. */
static void http_server_dispatch(struct evhttp_request *req, void *arg)
{
	struct http_server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	const struct http_route *route = path != NULL ? http_server_route(srv, path) : NULL;
	struct http_exchange *x;

	if (srv->refusing) {
		http_server_refuse(srv, req, route);
		return;
	}
	x = http_exchange_new(srv, req, route);
	if (x == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	srv->dispatching++;
	if (path == NULL)
		http_server_reply(srv, x, HTTP_BADREQUEST, "text/plain", "bad request\n", 12);
	else if (route == NULL)
		http_server_reply(srv, x, HTTP_NOTFOUND, "text/plain", "not found\n", 10);
	else if ((route->methods & http_server_method(evhttp_request_get_command(req))) == 0)
		http_server_reply_405(srv, x);
	else if (!http_body_refused(srv, x))
		route->handler(route->arg, srv, x);
	srv->dispatching--;
}

/* A request after stop-accepting: 503 "shutting down", then the connection closes. */
static void http_server_refuse(struct http_server *srv, struct evhttp_request *req,
			       const struct http_route *route)
{
	static const char body[] = "{\"status\":\"unavailable\",\"reason\":\"shutting down\"}\n";
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	http_server_count(srv, route, clock_now_ms(srv->clk), HTTP_SERVUNAVAIL);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "Connection", "close");
	http_server_send(req, HTTP_SERVUNAVAIL, body, sizeof(body) - 1);
}

/*
 * Send status with body[0..len) (copied). A HEAD answer carries the
 * Content-Length of that body and no body (evhttp would send it).
 */
static void http_server_send(struct evhttp_request *req, int status, const char *body, size_t len)
{
	struct evbuffer *buf = evbuffer_new();
	char clen[32];

	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(clen, sizeof(clen), "%zu", len);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Length", clen);
	} else if (buf != NULL)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(req, status, NULL, buf); /* may free an orphan request */
	if (buf != NULL)
		evbuffer_free(buf);
}

/* The route for an exact path, or NULL. */
static const struct http_route *http_server_route(struct http_server *srv, const char *path)
{
	for (size_t i = 0; i < srv->nroutes; i++)
		if (strcmp(srv->routes[i].path, path) == 0)
			return &srv->routes[i];
	return NULL;
}

/* The method bit of an evhttp command (0 for the rest). */
static unsigned http_server_method(enum evhttp_cmd_type cmd)
{
	for (size_t i = 0; i < sizeof(http_server_methods) / sizeof(http_server_methods[0]); i++)
		if (http_server_methods[i].cmd == cmd)
			return http_server_methods[i].bit;
	return 0;
}

/* 405 with an Allow header listing the route's methods. */
static void http_server_reply_405(struct http_server *srv, struct http_exchange *x)
{
	char allow[64] = "";
	size_t len = 0;
	int n;

	for (size_t i = 0; i < sizeof(http_server_method_names) / sizeof(char *); i++) {
		if ((x->route->methods & (1u << i)) == 0)
			continue;
		n = snprintf(allow + len, sizeof(allow) - len, "%s%s", len > 0 ? ", " : "",
			     http_server_method_names[i]);
		if (n < 0 || (size_t)n >= sizeof(allow) - len)
			break; /* cannot happen with five short names; never overrun */
		len += (size_t)n;
	}
	evhttp_add_header(evhttp_request_get_output_headers(x->req), "Allow", allow);
	http_server_reply(srv, x, HTTP_BADMETHOD, "text/plain", "method not allowed\n", 19);
}

/* Track a new exchange and watch its connection. */
static struct http_exchange *http_exchange_new(struct http_server *srv, struct evhttp_request *req,
					       const struct http_route *route)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct http_exchange *x = calloc(1, sizeof(*x));
	struct http_conn *conn = x != NULL && evcon != NULL ? http_conn_track(srv, evcon) : NULL;

	if (x == NULL || (evcon != NULL && conn == NULL)) {
		free(x);
		return NULL;
	}
	if (conn != NULL && !conn->carried) {
		conn->carried = true;
		srv->ncarried++;
	}
	if (conn != NULL && ++conn->requests == srv->max_requests_per_conn)
		x->last = true;
	x->srv = srv;
	x->req = req;
	x->route = route;
	x->start_ms = clock_now_ms(srv->clk);
	http_body_dispatched(srv, conn, x);
	x->next = srv->exchanges;
	if (x->next != NULL)
		x->next->prev = x;
	srv->exchanges = x;
	srv->inflight++;
	(void)metrics_gauge_set(srv->m_inflight, (const char *const[]){srv->name},
				(double)srv->inflight);
	return x;
}

/* Forget an exchange; a drain may now be complete. */
static void http_exchange_finish(struct http_exchange *x)
{
	struct http_server *srv = x->srv;

	if (x->prev != NULL)
		x->prev->next = x->next;
	else
		srv->exchanges = x->next;
	if (x->next != NULL)
		x->next->prev = x->prev;
	http_body_finished(srv, x);
	free(x);
	srv->inflight--;
	(void)metrics_gauge_set(srv->m_inflight, (const char *const[]){srv->name},
				(double)srv->inflight);
	http_server_check_drained(srv);
}

/* Answer an exchange; it is finished once the reply is written. */
void http_server_reply(struct http_server *srv, struct http_exchange *x, int status,
		       const char *content_type, const char *body, size_t len)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(x->req);

	http_server_count(srv, x->route, x->start_ms, status);
	evhttp_add_header(h, "Content-Type", content_type);
	if (srv->draining || srv->shutting_down || x->last)
		evhttp_add_header(h, "Connection", "close");
	x->replied = true;
	if (evhttp_request_get_connection(x->req) == NULL) {
		http_server_send(x->req, status, body, len); /* frees the orphan request */
		http_exchange_finish(x);
	} else {
		evhttp_request_set_on_complete_cb(x->req, http_server_sent, x);
		http_server_send(x->req, status, body, len);
	}
}

/* Count an answer by route (NULL: unmatched) and status, and its duration. */
static void http_server_count(struct http_server *srv, const struct http_route *route,
			      int64_t start_ms, int status)
{
	char code[16];
	const char *path = route != NULL ? route->path : "unmatched";
	double secs = (double)(clock_now_ms(srv->clk) - start_ms) / 1000.0;

	snprintf(code, sizeof(code), "%d", status);
	(void)metrics_counter_add(srv->m_requests, (const char *const[]){srv->name, path, code}, 1);
	(void)metrics_observe(srv->m_duration, (const char *const[]){srv->name, path}, secs);
}

/* evhttp wrote the whole reply. */
static void http_server_sent(struct evhttp_request *req, void *arg)
{
	struct http_exchange *x = arg;
	struct http_server *srv = x->srv;

	(void)req;
	srv->dispatching++;
	http_exchange_finish(x);
	srv->dispatching--;
}

/* A connection is going away: drop its exchanges (cancel held ones). */
void http_server_conn_gone(struct http_server *srv, struct evhttp_connection *evcon)
{
	struct http_exchange *x, *next;

	for (x = srv->exchanges; x != NULL; x = next) {
		next = x->next;
		if (evhttp_request_get_connection(x->req) == evcon)
			http_exchange_drop(x); /* its request is freed after this callback */
	}
}

/* Close the idle kept-alive connections now, or on the next turn inside a callback. */
static void http_server_close_idle(struct http_server *srv)
{
	if (srv->dispatching > 0)
		clock_timer_start(srv->idle_timer, 0);
	else
		http_server_close_idle_now(srv);
}

/* Free every tracked connection that has no request in flight. */
static void http_server_close_idle_now(void *arg)
{
	struct http_server *srv = arg;
	struct http_conn *conn, *next;
	unsigned closed = 0;

	if (srv->http == NULL)
		return;
	for (conn = srv->conns; conn != NULL; conn = next) {
		next = conn->next;
		if (!conn->carried || http_conn_busy(conn))
			continue; /* one still sending its first request stays: it gets 503 */
		evhttp_connection_free(conn->evcon); /* runs http_server_conn_closed */
		closed++;
	}
	if (closed > 0)
		log_info("http", "idle connections closed", log_str("listener", srv->name),
			 log_uint("count", closed));
}

/* Drop an exchange whose request is gone, telling its holder if it was held. */
static void http_exchange_drop(struct http_exchange *x)
{
	if (!x->replied && x->route != NULL && x->route->cancel != NULL)
		x->route->cancel(x->route->arg, x);
	http_exchange_finish(x);
}

/* Close the listener: new connections are refused from now on. */
static void http_server_stop_listening(struct http_server *srv)
{
	if (srv->listener == NULL)
		return;
	http_admit_stop(srv);
	evhttp_del_accept_socket(srv->http, srv->listener);
	srv->listener = NULL;
	log_info("http", "listener closed", log_str("listener", srv->name),
		 log_int("port", srv->port));
}

/* Tear down now, or on the next loop turn when inside an HTTP callback. */
static void http_server_teardown(struct http_server *srv)
{
	http_server_stop_listening(srv);
	if (srv->dispatching > 0)
		clock_timer_start(srv->teardown_timer, 0);
	else
		http_server_teardown_now(srv);
}

/* Free evhttp (every connection), cancel what is left, confirm pending ops. */
static void http_server_teardown_now(void *arg)
{
	struct http_server *srv = arg;
	struct component *c;

	http_server_cancel_all(srv);
	if (srv->http != NULL) {
		evhttp_free(srv->http);
		srv->http = NULL;
		if (srv->listened) /* not a server that never started (its error says why) */
			log_info("http", "server stopped", log_str("listener", srv->name),
				 log_int("port", srv->port));
	}
	while (srv->conns != NULL) /* evhttp closed them all; nothing refers to these */
		http_conn_forget(srv->conns);
	while (srv->exchanges != NULL)
		http_exchange_drop(srv->exchanges);
	for (int op = 0; op < COMPONENT_OP_COUNT_; op++) {
		c = srv->teardown_c[op];
		srv->teardown_c[op] = NULL;
		if (c != NULL)
			component_complete(c, (enum component_op)op);
	}
}

/* Held exchanges whose connection is already gone: free their requests. */
static void http_server_cancel_all(struct http_server *srv)
{
	struct http_exchange *x, *next;

	for (x = srv->exchanges; x != NULL; x = next) {
		next = x->next;
		if (x->replied || evhttp_request_get_connection(x->req) != NULL)
			continue;
		evhttp_request_free(x->req);
		http_exchange_drop(x);
	}
}

/* Complete a pending drain once nothing is in flight. */
static void http_server_check_drained(struct http_server *srv)
{
	struct component *c = srv->drain_c;

	if (c == NULL || srv->inflight > 0)
		return;
	srv->drain_c = NULL;
	log_info("http", "drained", log_str("listener", srv->name));
	component_complete(c, COMPONENT_OP_DRAIN);
}

/* Component: stop accepting: close the listener and, the first time, idle connections. */
static void http_server_op_stop(void *self)
{
	struct http_server *srv = self;

	srv->shutting_down = true;
	http_server_stop_listening(srv);
	if (srv->refusing)
		return; /* drain after stop-accepting: idle ones are closed already */
	srv->refusing = true;
	http_server_close_idle(srv);
}

/* Component: drain (answers carry Connection: close from now on). */
static void http_server_op_drain(void *self, struct component *c)
{
	struct http_server *srv = self;

	http_server_op_stop(srv);
	srv->draining = true;
	srv->drain_c = c;
	log_info("http", "draining", log_str("listener", srv->name),
		 log_uint("inflight", srv->inflight));
	http_server_check_drained(srv);
}

/* Component: abort: close every connection, confirmed once evhttp is freed. */
static void http_server_op_abort(void *self, struct component *c)
{
	struct http_server *srv = self;

	srv->drain_c = NULL;
	srv->teardown_c[COMPONENT_OP_ABORT] = c;
	log_warn("http", "aborting", log_str("listener", srv->name),
		 log_uint("inflight", srv->inflight));
	http_server_teardown(srv);
}

/* Component: close: release whatever is left. */
static void http_server_op_close(void *self, struct component *c)
{
	struct http_server *srv = self;

	srv->teardown_c[COMPONENT_OP_CLOSE] = c;
	http_server_teardown(srv);
}

/* Component: requests in flight. */
static size_t http_server_op_inflight(void *self)
{
	return ((struct http_server *)self)->inflight;
}

/* Component: ready while listening and not shutting down. */
static bool http_server_op_ready(void *self, const char **why)
{
	struct http_server *srv = self;

	if (srv->shutting_down) {
		*why = "shutting down";
		return false;
	}
	if (srv->listener == NULL) {
		*why = "not listening";
		return false;
	}
	return true;
}
