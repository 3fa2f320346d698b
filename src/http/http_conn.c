/*
 * http_conn.c - the open connections of one listener: a list (newest
 * first) and a hash table by evhttp connection, an entry per connection
 * from its accept (http_admit.c adopts it) or its first request until its
 * close callback, which drops its exchanges and forgets it.
 */
#include "http/http_server_int.h"

#include "core/clock.h"
#include "core/heap.h"

#include <event2/http.h>
#include <stdint.h>
#include <stdlib.h>

static struct http_conn *http_conn_find(struct http_server *srv, struct evhttp_connection *evcon);
static size_t http_conn_bucket(const struct evhttp_connection *evcon, size_t cap);
static void http_conn_hash_grow(struct http_server *srv);
static void http_conn_on_close(struct evhttp_connection *evcon, void *arg);
static void http_conn_trim(struct http_server *srv);

/*
 * After a crowd of connections (HTTP_CONN_TRIM_PEAK or more open at once)
 * has gone down to an eighth of its peak, the pages their buffers used are
 * given back to the kernel: memory goes back after a flood of slow clients.
 * The trim waits HTTP_CONN_TRIM_DELAY_MS: libevent frees a connection's
 * buffers after its close callback, and the stragglers of the crowd go too.
 */
#define HTTP_CONN_TRIM_PEAK	64
#define HTTP_CONN_TRIM_DELAY_MS 100

/* The entry of evcon, added (with its close callback) on first use; NULL: no memory. */
struct http_conn *http_conn_track(struct http_server *srv, struct evhttp_connection *evcon)
{
	struct http_conn *conn = http_conn_find(srv, evcon);
	size_t b;

	if (conn != NULL)
		return conn;
	if (srv->nconns >= srv->hcap)
		http_conn_hash_grow(srv);
	conn = srv->hcap > 0 ? calloc(1, sizeof(*conn)) : NULL;
	if (conn == NULL)
		return NULL;
	conn->srv = srv;
	conn->evcon = evcon;
	conn->since_ms = clock_now_ms(srv->clk);
	conn->next = srv->conns;
	if (conn->next != NULL)
		conn->next->prev = conn;
	srv->conns = conn;
	b = http_conn_bucket(evcon, srv->hcap);
	conn->hnext = srv->htab[b];
	srv->htab[b] = conn;
	srv->nconns++;
	if (srv->nconns > srv->conns_peak)
		srv->conns_peak = srv->nconns;
	evhttp_connection_set_closecb(evcon, http_conn_on_close, conn);
	http_body_watch(srv, conn);
	return conn;
}

/* The tracked entry of evcon, or NULL (one hash bucket is looked at). */
static struct http_conn *http_conn_find(struct http_server *srv, struct evhttp_connection *evcon)
{
	struct http_conn *conn =
		srv->hcap > 0 ? srv->htab[http_conn_bucket(evcon, srv->hcap)] : NULL;

	while (conn != NULL && conn->evcon != evcon)
		conn = conn->hnext;
	return conn;
}

/* The bucket of a connection pointer in a table of cap buckets (a power of two). */
static size_t http_conn_bucket(const struct evhttp_connection *evcon, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)evcon >> 4;

	return (size_t)((h * UINT64_C(0x9E3779B97F4A7C15)) >> 32) & (cap - 1);
}

/* Double the hash table (16 buckets at first) and rehash; on ENOMEM the old one stays. */
static void http_conn_hash_grow(struct http_server *srv)
{
	size_t cap = srv->hcap > 0 ? srv->hcap * 2 : 16;
	struct http_conn **t = calloc(cap, sizeof(*t));

	if (t == NULL)
		return;
	for (struct http_conn *conn = srv->conns; conn != NULL; conn = conn->next) {
		size_t b = http_conn_bucket(conn->evcon, cap);

		conn->hnext = t[b];
		t[b] = conn;
	}
	free(srv->htab);
	srv->htab = t;
	srv->hcap = cap;
}

/* Whether a request of conn is dispatched and not yet answered or written. */
bool http_conn_busy(const struct http_conn *conn)
{
	for (const struct http_exchange *x = conn->srv->exchanges; x != NULL; x = x->next)
		if (evhttp_request_get_connection(x->req) == conn->evcon)
			return true;
	return false;
}

/* A connection is going away: drop its exchanges (cancel held ones), forget it. */
static void http_conn_on_close(struct evhttp_connection *evcon, void *arg)
{
	struct http_conn *conn = arg;
	struct http_server *srv = conn->srv;

	srv->dispatching++;
	http_server_conn_gone(srv, evcon);
	evhttp_connection_set_closecb(evcon, NULL, NULL); /* conn is gone; never call twice */
	http_body_unwatch(srv, conn);
	http_conn_forget(conn);
	http_admit_closed(srv);
	srv->dispatching--;
}

/* Unlink and free a connection entry. */
void http_conn_forget(struct http_conn *conn)
{
	struct http_server *srv = conn->srv;
	struct http_conn **pp = &srv->htab[http_conn_bucket(conn->evcon, srv->hcap)];

	while (*pp != conn)
		pp = &(*pp)->hnext;
	*pp = conn->hnext;
	http_body_forget(srv, conn);
	srv->nconns--;
	srv->ncarried -= conn->carried;

	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		srv->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	free(conn);
	http_conn_trim(srv);
}

/* A crowd of connections has mostly gone: give the heap's free pages back soon. */
static void http_conn_trim(struct http_server *srv)
{
	if (srv->conns_peak < HTTP_CONN_TRIM_PEAK || srv->nconns > srv->conns_peak / 8 ||
	    clock_timer_pending(srv->trim_timer))
		return;
	clock_timer_start(srv->trim_timer, HTTP_CONN_TRIM_DELAY_MS);
}

/* Give the heap's free pages back; the next crowd is counted from what is open now. */
void http_conn_trim_now(void *arg)
{
	struct http_server *srv = arg;

	srv->conns_peak = srv->nconns;
	(void)heap_trim();
}
