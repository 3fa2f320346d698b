/*
 * relay_pool_int.h - the relay pool's internals, shared by relay_pool.c
 * (publishes, shutdown), relay_pool_subs.c (subscriptions) and
 * relay_conn.c (one relay's connection, messages, AUTH and reconnects).
 * Not for other layers.
 */
#ifndef KC_RELAY_POOL_INT_H
#define KC_RELAY_POOL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/ratelimit.h"
#include "relay/relay_pool.h"
#include "relay/ws.h"

#define RELAY_NAME_MAX 40
#define RELAY_AUTH_MAX 16

/* Lines logged about one relay per kind and window, and the window. */
#define RELAY_LOG_BURST	    10
#define RELAY_LOG_WINDOW_MS 60000

/* Kinds of line a relay can provoke at will, each rate-limited on its own. */
enum relay_log_kind {
	RELAY_LOG_NOTICE,    /* NOTICE messages */
	RELAY_LOG_INVALID,   /* events failing parse, id or signature */
	RELAY_LOG_MALFORMED, /* messages that do not parse */
	RELAY_LOG_CLOSED,    /* CLOSED for a subscription, and REQs not sent */
	RELAY_LOG_AUTH,	     /* AUTH requests, answers and refusals */
	RELAY_LOG_KINDS,     /* how many kinds there are */
};

/* A subscription as described once by the owner (all arrays owned). */
struct relay_sub {
	char name[RELAY_NAME_MAX + 1];
	int *kinds;
	size_t nkinds;
	char **authors;
	size_t nauthors;
	char **p_tags;
	size_t np_tags;
	int64_t since;
	int limit;
	size_t nchunks; /* REQs per relay (p_tags split by max_p_per_filter) */
	bool gone;	/* unsubscribed: skipped, freed by the last relay_pool_leave */
	struct relay_sub *next;
};

/* A publish in flight. */
struct relay_pub {
	struct relay_pool *pool;
	char id[65];
	char *msg; /* ["EVENT", ...] */
	size_t msglen;
	struct relay_pub_handlers h;
	void *arg;
	struct relay_pub_answer *answers; /* one per relay at publish time; reasons owned */
	bool *await_auth;		  /* per relay: refused auth-required:, resend after AUTH */
	size_t nslots;
	struct clock_timer *timer; /* timeout, or 0 to report a done publish */
	bool out_reported;
	bool finished; /* reported and unlinked: on the pool's dead list */
	struct relay_pub *next;
};

/* One relay. */
struct relay_conn {
	struct relay_pool *pool;
	size_t index;
	char *url;
	struct ws_client *ws;
	enum relay_state state;
	struct clock_timer *retry;
	unsigned attempt;		   /* connects since the last stable connection */
	int64_t opened_ms;		   /* when the current connection opened */
	int64_t lost_unix;		   /* when the last open connection was lost; 0 never */
	char auth_ids[RELAY_AUTH_MAX][65]; /* AUTH events sent on this connection */
	size_t nauth_ids;
	size_t auth_pending; /* of those, not answered yet */
	bool authed;	     /* the relay accepted at least one of them */
	bool subs_refused;   /* a REQ got CLOSED auth-required: resend after AUTH */
	struct ratelimit logrl[RELAY_LOG_KINDS]; /* per kind of line */
	struct relay_stats stats;
};

struct relay_pool {
	struct relay_pool_config cfg;
	struct relay_pool_handlers h;
	void *arg;
	struct ssl_ctx_st *ssl;
	struct relay_conn **conns;
	size_t nconns;
	struct relay_sub *subs;
	struct relay_pub *pubs;
	struct relay_dedup *dedup;
	bool subscribing;	    /* false after relay_pool_stop_subscribing */
	bool closing;		    /* close or abort started: no reconnects */
	struct clock_timer *notify; /* completes drain / close / abort on a later turn */
	relay_pool_done_cb drain_cb, close_cb, abort_cb;
	void *drain_arg, *close_arg, *abort_arg;
	int busy;		/* pool frames on the stack (relay_pool_enter) */
	bool doomed;		/* freed while busy: released by the last relay_pool_leave */
	struct relay_pub *dead; /* finished publishes, freed by the last relay_pool_leave */
};

/*
 * The reentrancy guard. Every way into the pool that can reach an owner
 * callback (WebSocket callbacks, timers, the public calls that report)
 * runs between relay_pool_enter() and relay_pool_leave(). A callback may
 * then abort, close or free the pool, or unsubscribe: finished publishes,
 * unsubscribed subscriptions (marked gone, skipped by every loop) and a
 * freed pool are only released when the outermost frame leaves, so the
 * code that called back never touches freed memory.
 */
void relay_pool_enter(struct relay_pool *p);

/* Leave a pool frame; the outermost one releases what was freed meanwhile. */
void relay_pool_leave(struct relay_pool *p);

/* relay_conn.c: a new connection object (not started); NULL on ENOMEM. */
struct relay_conn *relay_conn_new(struct relay_pool *p, const char *url, size_t index);

/* Connect now (or schedule a retry on immediate failure). */
void relay_conn_start(struct relay_conn *c);

/* Send one text message if open; 0 or -1. */
int relay_conn_send(struct relay_conn *c, const char *text, size_t len);

/* Send every subscription (REQ per chunk) on an open connection. */
void relay_conn_send_subs(struct relay_conn *c);

/* Send one subscription (REQ per chunk) on an open connection. */
void relay_conn_send_sub(struct relay_conn *c, const struct relay_sub *s);

/* Whether this connection's AUTH is over: accepted, and no answer still due. */
bool relay_conn_auth_settled(const struct relay_conn *c);

/* Close with code 1001 (no reconnect). */
void relay_conn_close(struct relay_conn *c);

/* Drop at once (no reconnect, no callbacks). */
void relay_conn_drop(struct relay_conn *c);

/* Free a connection. */
void relay_conn_free(struct relay_conn *c);

/*
 * Whether a line of kind k about c may be logged now (rate limit per relay
 * and kind); when it may and lines were suppressed before it, a line
 * saying how many is logged first.
 */
bool relay_conn_log_ok(struct relay_conn *c, enum relay_log_kind k);

/* An event from c failed its checks (on receipt, or its owner's): counted, logged rate-limited. */
void relay_conn_invalid(struct relay_conn *c, const char *error);

/* relay_pool.c: a relay answered OK for id. */
void relay_pool_on_ok(struct relay_pool *p, struct relay_conn *c, const char *id, bool accepted,
		      const char *reason);

/* relay_pool.c: a relay opened (resend what waits for it). */
void relay_pool_on_open(struct relay_pool *p, struct relay_conn *c);

/* relay_pool.c: a relay closed or was lost. */
void relay_pool_on_lost(struct relay_pool *p, struct relay_conn *c);

/* relay_pool.c: a relay accepted our AUTH: resend what it refused. */
void relay_pool_on_authed(struct relay_pool *p, struct relay_conn *c);

/* relay_pool_subs.c: unlink and free the subscriptions marked gone (no pool frame on the stack). */
void relay_pool_sweep_subs(struct relay_pool *p);

/* relay_pool_subs.c: free a subscription. */
void relay_pool_sub_free(struct relay_sub *s);

/* relay_pool_subs.c: the sub id of chunk k of s into buf. */
void relay_pool_sub_id(const struct relay_sub *s, size_t k, char *buf, size_t len);

#endif /* KC_RELAY_POOL_INT_H */
