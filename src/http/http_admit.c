/*
 * http_admit.c - connection admission of one listener: a cap on open
 * connections, pauses of accept(2) instead of a busy loop, and eviction of
 * the slowest clients to make room.
 *
 * Every accepted connection is tracked from its accept: evhttp asks our
 * bufferevent callback for each new connection's bufferevent, and an event
 * made active there (it runs in the same loop turn, after the accept and
 * before any I/O of the connection) finds the evhttp connection that owns
 * it (the bufferevent's callback argument) and tracks it with a close
 * callback, so the count is exact.
 *
 * At the cap the listener stops accepting (at once: the accept loop sees
 * it disabled), and the next turn looks for a connection to evict: the
 * oldest that is not being answered and is older than evict_after_ms, one
 * still sending its first request (the slowest header sender: it has sent
 * for the longest without completing one) before an idle kept-alive one.
 * Evicting one resumes accepting; with none it looks again after
 * evict_after_ms. A connection that closes resumes accepting at once. An accept error (EMFILE,
 * ENFILE, ENOBUFS) evicts one connection to free its descriptor and pauses accepting,
 * HTTP_ADMIT_PAUSE_MIN_MS doubling to HTTP_ADMIT_PAUSE_MAX_MS while the
 * errors go on. Every line is rate-limited.
 */
#include "http/http_server_int.h"

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>

/* The first pause after an accept error, and the longest. */
#define HTTP_ADMIT_PAUSE_MIN_MS 100
#define HTTP_ADMIT_PAUSE_MAX_MS 1000

/* The most servers whose listeners report accept errors (the daemon has two). */
#define HTTP_ADMIT_MAX_SERVERS 16

/* Admission log lines passed per window, and the window. */
#define HTTP_ADMIT_LOG_BURST	 5
#define HTTP_ADMIT_LOG_WINDOW_MS 10000

static struct bufferevent *http_admit_bev(struct event_base *base, void *arg);
static void http_admit_on_adopt(evutil_socket_t fd, short what, void *arg);
static void http_admit_adopt(struct http_server *srv);
static void http_admit_enforce(struct http_server *srv);
static bool http_admit_evict(struct http_server *srv, const char *why);
static struct http_conn *http_admit_victim(struct http_server *srv);
static void http_admit_pause(struct http_server *srv, const char *why, int64_t ms);
static void http_admit_on_resume(void *arg);
static void http_admit_on_error(struct evconnlistener *lev, void *arg);
static struct evconnlistener *http_admit_listener(struct http_server *srv);
static bool http_admit_log_ok(struct http_server *srv);
static void http_admit_gauge(struct http_server *srv);
static int http_admit_metrics(struct http_server *srv);
static struct http_server *http_admit_owner(const void *http);

/*
 * The servers whose listeners may report accept errors: libevent hands the
 * error callback the listener's argument, which evhttp set to its evhttp.
 * Event-loop thread only.
 */
static struct http_server *http_admit_servers[HTTP_ADMIT_MAX_SERVERS];

/* Set up admission: the cap, the adopting event, the resume timer, the metrics. */
int http_admit_init(struct http_server *srv, const struct http_server_config *cfg)
{
	struct http_admit *a = &srv->admit;

	a->max_conns = cfg->max_connections > 0 ? cfg->max_connections : 1;
	a->evict_after_ms = cfg->evict_after_ms > 0 ? cfg->evict_after_ms : 0;
	a->pause_ms = HTTP_ADMIT_PAUSE_MIN_MS;
	ratelimit_init(&a->rl, HTTP_ADMIT_LOG_BURST, HTTP_ADMIT_LOG_WINDOW_MS);
	a->adopt_ev = event_new(srv->base, -1, 0, http_admit_on_adopt, srv);
	a->resume = clock_timer_new(srv->clk, http_admit_on_resume, srv);
	if (a->adopt_ev == NULL || a->resume == NULL)
		return -1;
	evhttp_set_bevcb(srv->http, http_admit_bev, srv);
	return http_admit_metrics(srv);
}

/* The connection families (shared by the listeners of one registry). */
static int http_admit_metrics(struct http_server *srv)
{
	static const char *const listener[] = {"listener", NULL};
	struct metrics *m = srv->metrics;

	srv->admit.m_conns = http_server_family(m, METRICS_GAUGE, "keycastd_http_connections",
						"Open HTTP connections, by listener.", listener);
	srv->admit.m_evicted = http_server_family(
		m, METRICS_COUNTER, "keycastd_http_connections_evicted_total",
		"HTTP connections closed to make room: over the cap or after an accept error, "
		"by listener.",
		listener);
	if (srv->admit.m_conns == NULL || srv->admit.m_evicted == NULL)
		return -1;
	(void)metrics_counter_add(srv->admit.m_evicted, (const char *const[]){srv->name}, 0);
	http_admit_gauge(srv);
	return 0;
}

/* The listener is bound: its accept errors come to us (libevent would only warn). */
void http_admit_listening(struct http_server *srv)
{
	struct evconnlistener *lev = http_admit_listener(srv);

	for (size_t i = 0; lev != NULL && i < HTTP_ADMIT_MAX_SERVERS; i++) {
		if (http_admit_servers[i] != NULL)
			continue;
		http_admit_servers[i] = srv;
		evconnlistener_set_error_cb(lev, http_admit_on_error);
		return;
	}
}

/* The server whose evhttp is http, or NULL. */
static struct http_server *http_admit_owner(const void *http)
{
	for (size_t i = 0; i < HTTP_ADMIT_MAX_SERVERS; i++)
		if (http_admit_servers[i] != NULL &&
		    (const void *)http_admit_servers[i]->http == http)
			return http_admit_servers[i];
	return NULL;
}

/* The evconnlistener under the bound socket, or NULL. */
static struct evconnlistener *http_admit_listener(struct http_server *srv)
{
	return srv->listener != NULL ? evhttp_bound_socket_get_listener(srv->listener) : NULL;
}

/*
 * evhttp wants a bufferevent for a connection it accepted: a socket one
 * (evhttp sets its descriptor), remembered for the adopting event.
 */
static struct bufferevent *http_admit_bev(struct event_base *base, void *arg)
{
	struct http_server *srv = arg;
	struct http_admit *a = &srv->admit;
	struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	struct bufferevent **fresh;

	if (bev == NULL)
		return NULL; /* evhttp makes its own; this one goes uncounted */
	if (a->nfresh == a->freshcap) {
		fresh = realloc(a->fresh, (a->freshcap * 2 + 8) * sizeof(*fresh));
		if (fresh == NULL)
			return bev;
		a->fresh = fresh;
		a->freshcap = a->freshcap * 2 + 8;
	}
	a->fresh[a->nfresh++] = bev;
	event_active(a->adopt_ev, EV_READ, 0);
	if (srv->nconns + a->nfresh >= a->max_conns && http_admit_listener(srv) != NULL) {
		evconnlistener_disable(http_admit_listener(srv)); /* ends this accept loop */
		a->paused = true;
	}
	return bev;
}

/* The adopting event: this turn's accepted connections, then the cap. */
static void http_admit_on_adopt(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *srv = arg;

	(void)fd;
	(void)what;
	http_admit_adopt(srv);
	http_admit_enforce(srv);
}

/* Track every fresh connection (its evhttp connection is its bufferevent's callback arg). */
static void http_admit_adopt(struct http_server *srv)
{
	struct http_admit *a = &srv->admit;

	for (size_t i = 0; i < a->nfresh && srv->http != NULL; i++) {
		void *evcon = NULL;

		bufferevent_getcb(a->fresh[i], NULL, NULL, NULL, &evcon);
		if (evcon != NULL)
			(void)http_conn_track(srv, evcon); /* ENOMEM: untracked, not counted */
	}
	if (a->nfresh > 0)
		a->pause_ms = HTTP_ADMIT_PAUSE_MIN_MS; /* accepting works again */
	a->nfresh = 0;
	http_admit_gauge(srv);
}

/* At the cap: paused; the next turn evicts one to make room, or looks again later. */
static void http_admit_enforce(struct http_server *srv)
{
	if (srv->nconns >= srv->admit.max_conns)
		http_admit_pause(srv, "connection cap", 0);
}

/* Close the connection http_admit_victim picks; false if there is none. */
static bool http_admit_evict(struct http_server *srv, const char *why)
{
	struct http_conn *victim = http_admit_victim(srv);
	int64_t age;
	bool carried;

	if (victim == NULL || srv->http == NULL)
		return false;
	age = clock_now_ms(srv->clk) - victim->since_ms;
	carried = victim->carried;
	srv->admit.evicted++;
	(void)metrics_counter_add(srv->admit.m_evicted, (const char *const[]){srv->name}, 1);
	evhttp_connection_free(victim->evcon); /* its close callback forgets it */
	if (http_admit_log_ok(srv))
		log_warn("http", "connection evicted", log_str("listener", srv->name),
			 log_str("reason", why), log_ms("age_ms", age),
			 log_str("was", carried ? "idle between requests" : "sending its request"),
			 log_uint("open", srv->nconns),
			 log_uint("evicted_total", srv->admit.evicted));
	return true;
}

/*
 * The oldest connection old enough and not being answered: one still
 * sending its first request before any idle kept-alive one. NULL if none.
 */
static struct http_conn *http_admit_victim(struct http_server *srv)
{
	int64_t now = clock_now_ms(srv->clk);
	struct http_conn *victim = NULL;

	for (struct http_conn *c = srv->conns; c != NULL; c = c->next) { /* newest first */
		bool busy = false;

		if (now - c->since_ms < srv->admit.evict_after_ms ||
		    (victim != NULL && c->carried && !victim->carried))
			continue;
		for (const struct http_exchange *x = srv->exchanges; x != NULL && !busy;
		     x = x->next)
			busy = evhttp_request_get_connection(x->req) == c->evcon;
		if (!busy)
			victim = c;
	}
	return victim;
}

/* Stop accepting for ms (the kernel's backlog holds new connections meanwhile). */
static void http_admit_pause(struct http_server *srv, const char *why, int64_t ms)
{
	struct evconnlistener *lev = http_admit_listener(srv);

	if (lev == NULL)
		return;
	if (!srv->admit.logged_pause && http_admit_log_ok(srv))
		log_warn("http", "accepting paused", log_str("listener", srv->name),
			 log_str("reason", why), log_uint("open", srv->nconns),
			 log_uint("max_connections", srv->admit.max_conns),
			 log_ms("retry_in_ms", ms));
	evconnlistener_disable(lev);
	srv->admit.paused = true;
	srv->admit.logged_pause = true;
	clock_timer_start(srv->admit.resume, ms);
}

/* The pause is over: at the cap evict one first (none: look again later); accept again. */
static void http_admit_on_resume(void *arg)
{
	struct http_server *srv = arg;
	struct evconnlistener *lev = http_admit_listener(srv);
	int64_t again = srv->admit.evict_after_ms > 0 ? srv->admit.evict_after_ms : 1;

	if (!srv->admit.paused || lev == NULL)
		return;
	if (srv->nconns >= srv->admit.max_conns && !http_admit_evict(srv, "connection cap")) {
		clock_timer_start(srv->admit.resume, again);
		return;
	}
	srv->admit.paused = false;
	srv->admit.logged_pause = false;
	evconnlistener_enable(lev);
}

/* A connection closed: under the cap a pause for it ends now. */
void http_admit_closed(struct http_server *srv)
{
	http_admit_gauge(srv);
	if (srv->admit.paused && srv->nconns < srv->admit.max_conns &&
	    srv->admit.pause_ms == HTTP_ADMIT_PAUSE_MIN_MS) {
		clock_timer_stop(srv->admit.resume);
		http_admit_on_resume(srv);
	}
}

/*
 * accept(2) failed for want of descriptors or memory: free one descriptor
 * (evict), pause, and back off while it goes on. Nothing spins.
 */
static void http_admit_on_error(struct evconnlistener *lev, void *arg)
{
	struct http_server *srv = http_admit_owner(arg); /* arg: the listener's evhttp */
	int err = EVUTIL_SOCKET_ERROR();
	struct http_admit *a;
	int64_t ms;

	if (srv == NULL) {
		evconnlistener_disable(lev); /* cannot happen; never spin on it */
		return;
	}
	a = &srv->admit;
	ms = a->pause_ms;
	if (http_admit_log_ok(srv))
		log_warn("http", "accept failed", log_str("listener", srv->name),
			 log_str("error", strerror(err)), log_uint("open", srv->nconns),
			 log_ms("retry_in_ms", ms));
	(void)http_admit_evict(srv, "accept failed");
	a->pause_ms = ms * 2 < HTTP_ADMIT_PAUSE_MAX_MS ? ms * 2 : HTTP_ADMIT_PAUSE_MAX_MS;
	http_admit_pause(srv, "accept failed", ms);
}

/* Whether an admission line may be written now; a count of suppressed ones goes first. */
static bool http_admit_log_ok(struct http_server *srv)
{
	uint64_t suppressed = 0;

	if (!ratelimit_allow(&srv->admit.rl, clock_now_ms(srv->clk), &suppressed))
		return false;
	if (suppressed > 0)
		log_warn("http", "admission lines suppressed", log_str("listener", srv->name),
			 log_uint("suppressed", suppressed));
	return true;
}

/* keycastd_http_connections{listener} = the open connections. */
static void http_admit_gauge(struct http_server *srv)
{
	(void)metrics_gauge_set(srv->admit.m_conns, (const char *const[]){srv->name},
				(double)srv->nconns);
}

/* The listener closes for good: adopt what was accepted this turn, cancel any pause. */
void http_admit_stop(struct http_server *srv)
{
	for (size_t i = 0; i < HTTP_ADMIT_MAX_SERVERS; i++)
		if (http_admit_servers[i] == srv)
			http_admit_servers[i] = NULL;
	http_admit_adopt(srv);
	clock_timer_stop(srv->admit.resume);
	srv->admit.paused = false;
	srv->admit.logged_pause = false;
}

/* Free the adopting event, the resume timer and the list. */
void http_admit_free(struct http_server *srv)
{
	struct http_admit *a = &srv->admit;

	for (size_t i = 0; i < HTTP_ADMIT_MAX_SERVERS; i++)
		if (http_admit_servers[i] == srv)
			http_admit_servers[i] = NULL;
	if (a->adopt_ev != NULL)
		event_free(a->adopt_ev);
	clock_timer_free(a->resume);
	free(a->fresh);
	*a = (struct http_admit){0};
}
