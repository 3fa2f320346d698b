/*
 * relay_pool.h - many Nostr relays at once: subscriptions kept on every
 * relay, verified and deduplicated events, acknowledged publishing,
 * reconnects with backoff, NIP-42 AUTH, and the shutdown operations.
 *
 * Reconnects back off exponentially (relay_backoff.h); the delay starts
 * over only once a connection has stayed open stable_ms, so a relay that
 * breaks the protocol right after every upgrade is not hit a few times a
 * second forever. A relay that does not read what is queued for it within
 * write_timeout_ms is dropped and retried (ws.h bounds its queue).
 * Lines logged about one relay (NOTICEs, invalid events, malformed
 * messages...) are rate-limited per relay and per kind of line; a summary
 * line says how many were suppressed.
 *
 * Subscriptions are described once (relay_pool_subscribe) and the pool
 * keeps them on every relay: chunked so no filter holds more than
 * max_p_per_filter #p values, re-sent after every reconnect with `since`
 * set back to when the relay was lost (minus a small overlap) and without
 * `limit`, so stored events published during the gap are delivered. A
 * filter with more authors or kinds than a relay's validator accepts
 * (max_authors_per_filter, max_kinds_per_filter) is refused with a message
 * at relay_pool_subscribe, never sent to be rejected.
 *
 * Every incoming event is parsed and verified (id and signature) by the
 * nostr core before on_event sees it, and handed on once per id however
 * many relays send it. A pool made with defer_verify checks the id on
 * receipt and leaves the signature (the costly half) to its owner, off
 * the loop: see the setting.
 *
 * Publishing sends an event to every connected relay and reports each
 * relay's answer: accepted (OK true), rejected (OK false + reason) or timed
 * out. on_out fires at the first acceptance ("safely out"); on_done once
 * every relay has answered or timed out.
 *
 * All timers run on the injected clock; sockets on the event_base.
 * Callbacks may call any pool function, relay_pool_abort and
 * relay_pool_free included: a pool freed inside a callback makes no more
 * callbacks and is released when the callback returns.
 */
#ifndef KC_RELAY_POOL_H
#define KC_RELAY_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "relay/relay_msg.h"

struct event_base;
struct evdns_base;
struct clock;
struct relay_pool;
struct nostr_event;

/* Settings; zero values take the defaults named per field. */
struct relay_pool_config {
	struct event_base *base;       /* required */
	struct clock *clock;	       /* required */
	struct evdns_base *dns;	       /* optional */
	const char *ca_file;	       /* optional extra trusted CAs (PEM) for wss:// */
	int64_t publish_timeout_ms;    /* per relay, default 5 000 */
	int64_t backoff_min_ms;	       /* first reconnect delay, default 500 */
	int64_t backoff_max_ms;	       /* cap, default 60 000 */
	int64_t connect_timeout_ms;    /* default 10 000 */
	int64_t ping_interval_ms;      /* default 30 000; <0 off */
	int64_t pong_timeout_ms;       /* default 10 000 */
	int64_t close_timeout_ms;      /* default 2 000 */
	size_t max_message;	       /* default 1 MiB */
	size_t max_pending_out;	       /* bytes queued per relay, default 4 x max_message */
	int64_t write_timeout_ms;      /* queued bytes stuck this long drop it, default 10 000 */
	int64_t stable_ms;	       /* open this long: the next loss backs off anew, 10 000 */
	size_t max_p_per_filter;       /* default 256 */
	size_t max_subs_per_relay;     /* default 20 */
	size_t max_authors_per_filter; /* default 1000: more is refused, not split */
	size_t max_kinds_per_filter;   /* default 20: more is refused, not split */
	size_t dedup_capacity;	       /* ids remembered, default 16 384 */
	int64_t since_overlap_s;       /* resubscribe since = lost - overlap, default 10 */
	/*
	 * false (default): every event is verified on receipt, on the loop.
	 * true: events are handed on with their id checked (the hash of what
	 * they say) but not their signature. The owner checks it
	 * (nostr_sig_verify, on any thread) before it trusts or records
	 * anything of the event, and reports a bad one with
	 * relay_pool_reject_event. Deduplication then keys on the id and the
	 * signature together: a copy of a genuine event under a bad signature
	 * (anyone can make one) never makes the genuine one a duplicate.
	 */
	bool defer_verify;
};

/* Where one relay connection is. */
enum relay_state {
	RELAY_DISCONNECTED, /* waiting to (re)connect */
	RELAY_CONNECTING,   /* TCP / TLS / upgrade in progress */
	RELAY_CONNECTED,    /* open: subscriptions and publishes flow */
	RELAY_CLOSING,	    /* close handshake in progress */
	RELAY_CLOSED,	    /* closed for good (pool closing or aborted) */
};

/* Per-relay counters (for metrics). */
struct relay_stats {
	const char *url;
	enum relay_state state;
	uint64_t connects;	 /* successful opens */
	uint64_t disconnects;	 /* connections lost or failed */
	uint64_t events_in;	 /* events passing the checks on receipt (before dedup) */
	uint64_t events_invalid; /* events failing parse, id or signature (defer_verify: owner's) */
	uint64_t malformed;	 /* relay messages that did not parse */
	uint64_t notices;
	uint64_t published_ok;
	uint64_t published_rejected;
	uint64_t published_timeout;
	uint64_t auths;		 /* AUTH events accepted */
	uint64_t log_suppressed; /* log lines about this relay dropped by the rate limit */
	size_t pending_out;	 /* bytes queued for the relay now, not yet written */
};

/* A signed NIP-42 auth event made by the owner for one key. */
struct relay_auth_event {
	char *json;  /* serialized kind-22242 event, malloc'd; the pool frees it */
	char id[65]; /* its id */
};

/* What the pool tells its owner. arg is the pointer given to relay_pool_new. */
struct relay_pool_handlers {
	/*
	 * A not-yet-seen event for subscription `sub` (json is its raw text):
	 * verified, or with defer_verify its id checked and its signature not.
	 */
	void (*on_event)(void *arg, const char *sub, const struct nostr_event *ev, const char *json,
			 size_t len, const char *relay_url);
	/* A relay finished sending stored events for `sub` (optional). */
	void (*on_eose)(void *arg, const char *sub, const char *relay_url);
	/* A relay's state changed (optional). */
	void (*on_state)(void *arg, const char *relay_url, enum relay_state state);
	/*
	 * A relay asked for NIP-42 AUTH: fill *out with up to max signed kind-22242
	 * events (one per key the daemon serves) and return how many (optional).
	 */
	size_t (*auth)(void *arg, const char *relay_url, const char *challenge,
		       struct relay_auth_event *out, size_t max);
};

/* How one relay answered a publish. */
enum relay_outcome {
	RELAY_PUB_PENDING,  /* not answered yet */
	RELAY_PUB_ACCEPTED, /* OK true */
	RELAY_PUB_REJECTED, /* OK false (reason given) */
	RELAY_PUB_TIMEOUT,  /* no answer within the timeout */
	RELAY_PUB_FAILED,   /* not connected, connection lost, or aborted */
};

/* One relay's answer to a publish. */
struct relay_pub_answer {
	const char *url;
	enum relay_outcome outcome;
	const char *reason; /* the relay's message, or why it failed */
};

/* The report of one publish; it and its strings live only during the callback. */
struct relay_pub_report {
	const char *event_id;
	size_t accepted, rejected, timed_out, failed;
	const struct relay_pub_answer *answers;
	size_t nanswers;
};

/* Publish callbacks (either may be NULL). */
struct relay_pub_handlers {
	void (*on_out)(void *arg, const struct relay_pub_report *r);  /* first OK true */
	void (*on_done)(void *arg, const struct relay_pub_report *r); /* every relay answered */
};

/* Called when a shutdown operation has completed. */
typedef void (*relay_pool_done_cb)(void *arg);

/* A new pool with no relays; 0, or -1 with a message in err. */
int relay_pool_new(struct relay_pool **out, const struct relay_pool_config *cfg,
		   const struct relay_pool_handlers *h, void *arg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Add a relay and start connecting to it; 0, or -1 with a message in err. */
int relay_pool_add(struct relay_pool *p, const char *url, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Describe a subscription once under name (letters, digits, '-' and '_',
 * at most 40): the pool sends it to every relay, now and after every
 * reconnect. A filter's p_tags longer than max_p_per_filter is split.
 * Returns 0, or -1 with a message in err: bad or duplicate name, pool
 * closing, more authors or kinds than a relay accepts, an author that is
 * not 64 lower-case hex, a negative kind, more REQs per relay than
 * max_subs_per_relay, out of memory.
 */
int relay_pool_subscribe(struct relay_pool *p, const char *name, const struct relay_filter *f,
			 char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Replace the filter of subscription name (or subscribe it, when there is
 * none). With as many chunks as before the REQs keep their ids, so every
 * relay swaps the filter in place (NIP-01: a REQ with a live id replaces
 * it) and no event falls into a gap; other subscriptions are untouched.
 * 0, or -1 with a message in err (as relay_pool_subscribe).
 */
int relay_pool_resubscribe(struct relay_pool *p, const char *name, const struct relay_filter *f,
			   char *err, size_t errlen) __attribute__((warn_unused_result));

/* Close a subscription on every relay and forget it. */
void relay_pool_unsubscribe(struct relay_pool *p, const char *name);

/*
 * Publish a serialized, signed event (id: its hex id) to every connected
 * relay. The callbacks fire later, never inside this call. 0, or -1 if
 * the pool is closing or out of memory.
 */
int relay_pool_publish(struct relay_pool *p, const char *json, size_t len, const char *id,
		       const struct relay_pub_handlers *h, void *arg)
	__attribute__((warn_unused_result));

/*
 * defer_verify: the owner found the signature of an event that relay_url
 * handed on bad (error: why). It is counted in that relay's
 * events_invalid and logged, rate-limited per relay, as an event failing
 * the checks on receipt is. An unknown relay_url is ignored.
 */
void relay_pool_reject_event(struct relay_pool *p, const char *relay_url, const char *error);

/* Publishes not yet done. */
size_t relay_pool_inflight(const struct relay_pool *p);

/* Relays currently connected. */
size_t relay_pool_connected(const struct relay_pool *p);

/* Number of relays, and the counters of relay i (< count). */
size_t relay_pool_count(const struct relay_pool *p);
void relay_pool_stats(const struct relay_pool *p, size_t i, struct relay_stats *out);

/* Shutdown: close every subscription on every relay and stop resubscribing. */
void relay_pool_stop_subscribing(struct relay_pool *p);

/* Shutdown: call done once no publish is in flight (next loop turn if none). */
void relay_pool_drain(struct relay_pool *p, relay_pool_done_cb done, void *arg);

/*
 * Shutdown: stop reconnecting, close every connection with close code 1001
 * and call done once all are closed (each bounded by close_timeout_ms).
 * Publishes still in flight fail.
 */
void relay_pool_close(struct relay_pool *p, relay_pool_done_cb done, void *arg);

/* Shutdown: drop every connection at once, fail in-flight publishes, then done. */
void relay_pool_abort(struct relay_pool *p, relay_pool_done_cb done, void *arg);

/*
 * Free the pool (connections are dropped, no callbacks). NULL is ignored.
 * Inside one of the pool's callbacks the release waits for it to return.
 */
void relay_pool_free(struct relay_pool *p);

/* The name of a relay state. */
const char *relay_state_name(enum relay_state s);

/* The name of a publish outcome. */
const char *relay_outcome_name(enum relay_outcome o);

#endif /* KC_RELAY_POOL_H */
