/*
 * relay_conn.c - one relay of the pool: its WebSocket, reconnects with
 * backoff, the NIP-01 messages it sends us, and NIP-42 AUTH.
 */
#include "relay/relay_pool_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "core/clock.h"
#include "core/log.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "relay/relay_backoff.h"
#include "relay/relay_dedup.h"
#include "relay/relay_msg.h"

/* Handles one parsed relay message. */
typedef void (*relay_conn_msg_fn)(struct relay_conn *c, const struct relay_msg *m);

static void relay_conn_on_open(void *arg);
static void relay_conn_on_text(void *arg, const char *text, size_t len);
static void relay_conn_on_closed(void *arg, int code, const char *reason);
static void relay_conn_on_retry(void *arg);
static void relay_conn_schedule(struct relay_conn *c);
static void relay_conn_set_state(struct relay_conn *c, enum relay_state s);
static void relay_conn_announce(struct relay_conn *c);
static void relay_conn_msg_event(struct relay_conn *c, const struct relay_msg *m);
static int relay_conn_check_event(const struct relay_pool *p, const struct nostr_event *ev,
				  char *err, size_t errlen);
static void relay_conn_dedup_key(const struct relay_pool *p, const struct nostr_event *ev,
				 char key[65]);
static void relay_conn_msg_eose(struct relay_conn *c, const struct relay_msg *m);
static void relay_conn_msg_ok(struct relay_conn *c, const struct relay_msg *m);
static void relay_conn_msg_closed(struct relay_conn *c, const struct relay_msg *m);
static void relay_conn_msg_notice(struct relay_conn *c, const struct relay_msg *m);
static void relay_conn_msg_auth(struct relay_conn *c, const struct relay_msg *m);
static void relay_conn_sub_name(const char *sub_id, char *buf, size_t len);
static bool relay_conn_is_auth_id(struct relay_conn *c, const char *id);
static bool relay_conn_sub_known(const struct relay_pool *p, const char *name);
static void relay_conn_chunk(struct relay_conn *c, const struct relay_sub *s, size_t k,
			     struct relay_filter *f);

/* The WebSocket callbacks of a relay connection. */
static const struct ws_callbacks relay_conn_ws_callbacks = {
	.on_open = relay_conn_on_open,
	.on_text = relay_conn_on_text,
	.on_closed = relay_conn_on_closed,
};

/* Relay messages by type (indexed by enum relay_msg_type). */
static const relay_conn_msg_fn relay_conn_dispatch[] = {
	[RELAY_MSG_EVENT] = relay_conn_msg_event,   [RELAY_MSG_EOSE] = relay_conn_msg_eose,
	[RELAY_MSG_OK] = relay_conn_msg_ok,	    [RELAY_MSG_CLOSED] = relay_conn_msg_closed,
	[RELAY_MSG_NOTICE] = relay_conn_msg_notice, [RELAY_MSG_AUTH] = relay_conn_msg_auth,
};

/* A new connection object for url. */
struct relay_conn *relay_conn_new(struct relay_pool *p, const char *url, size_t index)
{
	struct relay_conn *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->pool = p;
	c->index = index;
	c->url = strdup(url);
	c->retry = clock_timer_new(p->cfg.clock, relay_conn_on_retry, c);
	if (c->url == NULL || c->retry == NULL) {
		relay_conn_free(c);
		return NULL;
	}
	c->stats.url = c->url;
	c->state = RELAY_DISCONNECTED;
	for (size_t k = 0; k < RELAY_LOG_KINDS; k++)
		ratelimit_init(&c->logrl[k], RELAY_LOG_BURST, RELAY_LOG_WINDOW_MS);
	return c;
}

/* Free a connection (dropping its socket). */
void relay_conn_free(struct relay_conn *c)
{
	if (c == NULL)
		return;
	ws_client_free(c->ws);
	clock_timer_free(c->retry);
	free(c->url);
	free(c);
}

/* Whether a line of kind k may be logged; first says how many were suppressed. */
bool relay_conn_log_ok(struct relay_conn *c, enum relay_log_kind k)
{
	static const char *const names[RELAY_LOG_KINDS] = {
		[RELAY_LOG_NOTICE] = "notice",	     [RELAY_LOG_INVALID] = "invalid event",
		[RELAY_LOG_MALFORMED] = "malformed", [RELAY_LOG_CLOSED] = "subscription",
		[RELAY_LOG_AUTH] = "auth",
	};
	uint64_t dropped;

	if (!ratelimit_allow(&c->logrl[k], clock_now_ms(c->pool->cfg.clock), &dropped)) {
		c->stats.log_suppressed++;
		return false;
	}
	if (dropped > 0)
		log_warn("relay", "relay log lines suppressed", log_str("relay", c->url),
			 log_str("kind", names[k]), log_uint("suppressed", dropped),
			 log_ms("window_ms", RELAY_LOG_WINDOW_MS),
			 log_uint("per_window", RELAY_LOG_BURST));
	return true;
}

/* Record and announce a state change. */
static void relay_conn_set_state(struct relay_conn *c, enum relay_state s)
{
	if (c->state == s)
		return;
	c->state = s;
	c->stats.state = s;
	relay_conn_announce(c);
}

/* Tell the owner the current state. */
static void relay_conn_announce(struct relay_conn *c)
{
	if (c->pool->h.on_state != NULL)
		c->pool->h.on_state(c->pool->arg, c->url, c->state);
}

/* Connect now; on an immediate failure, schedule a retry. */
void relay_conn_start(struct relay_conn *c)
{
	struct relay_pool *p = c->pool;
	struct ws_config wc = {
		.base = p->cfg.base,
		.clock = p->cfg.clock,
		.dns = p->cfg.dns,
		.ssl_ctx = p->ssl,
		.connect_timeout_ms = p->cfg.connect_timeout_ms,
		.ping_interval_ms = p->cfg.ping_interval_ms,
		.pong_timeout_ms = p->cfg.pong_timeout_ms,
		.close_timeout_ms = p->cfg.close_timeout_ms,
		.max_message = p->cfg.max_message,
		.max_pending_out = p->cfg.max_pending_out,
		.write_timeout_ms = p->cfg.write_timeout_ms,
	};
	char err[256];
	if (p->closing)
		return;
	relay_conn_set_state(c, RELAY_CONNECTING);
	if (ws_client_new(&c->ws, &wc, c->url, &relay_conn_ws_callbacks, c, err, sizeof(err)) !=
	    0) {
		log_warn("relay", "connect failed", log_str("relay", c->url),
			 log_str("error", err));
		c->stats.disconnects++;
		relay_conn_schedule(c);
	}
}

/* Wait out the backoff delay, then connect again. */
static void relay_conn_schedule(struct relay_conn *c)
{
	uint64_t rnd = 0;
	int64_t d;

	if (RAND_bytes((unsigned char *)&rnd, sizeof(rnd)) != 1)
		rnd = (uint64_t)clock_now_ms(c->pool->cfg.clock);
	d = relay_backoff_delay(c->attempt++, c->pool->cfg.backoff_min_ms,
				c->pool->cfg.backoff_max_ms, rnd);
	relay_conn_set_state(c, RELAY_DISCONNECTED);
	log_info("relay", "reconnect scheduled", log_str("relay", c->url), log_ms("delay_ms", d),
		 log_uint("attempt", c->attempt));
	clock_timer_start(c->retry, d);
}

/* The backoff delay is over. */
static void relay_conn_on_retry(void *arg)
{
	struct relay_conn *c = arg;
	struct relay_pool *p = c->pool;

	relay_pool_enter(p);
	if (!p->closing && c->ws == NULL)
		relay_conn_start(c);
	relay_pool_leave(p);
}

/*
 * The WebSocket is open: subscribe and resend what waits, then tell the
 * owner (so what the owner sends from on_state goes out once). The backoff
 * is not reset here: only a connection that stays open stable_ms is.
 */
static void relay_conn_on_open(void *arg)
{
	struct relay_conn *c = arg;
	struct relay_pool *p = c->pool;

	relay_pool_enter(p);
	c->opened_ms = clock_now_ms(p->cfg.clock);
	c->nauth_ids = 0;
	c->auth_pending = 0;
	c->authed = false;
	c->subs_refused = false;
	c->stats.connects++;
	c->state = c->stats.state = RELAY_CONNECTED;
	log_info("relay", "connected", log_str("relay", c->url), log_uint("attempt", c->attempt));
	relay_conn_send_subs(c);
	relay_pool_on_open(p, c);
	if (c->state == RELAY_CONNECTED)
		relay_conn_announce(c);
	relay_pool_leave(p);
}

/* The WebSocket ended: free it, then reconnect unless the pool is closing. */
static void relay_conn_on_closed(void *arg, int code, const char *reason)
{
	struct relay_conn *c = arg;
	struct relay_pool *p = c->pool;
	bool was_open = c->state == RELAY_CONNECTED || c->state == RELAY_CLOSING;

	relay_pool_enter(p);
	ws_client_free(c->ws);
	c->ws = NULL;
	if (was_open)
		c->lost_unix = (int64_t)time(NULL);
	if (was_open && clock_now_ms(p->cfg.clock) - c->opened_ms >= p->cfg.stable_ms)
		c->attempt = 0; /* it held: back off from the start */
	c->stats.disconnects++;
	log_info("relay", "disconnected", log_str("relay", c->url), log_int("code", code),
		 log_str("reason", reason));
	if (p->closing) {
		relay_conn_set_state(c, RELAY_CLOSED);
		relay_pool_on_lost(p, c);
	} else {
		relay_pool_on_lost(p, c);
		relay_conn_schedule(c);
	}
	relay_pool_leave(p);
}

/* A text message: parse, count, dispatch; malformed ones are logged and dropped. */
static void relay_conn_on_text(void *arg, const char *text, size_t len)
{
	struct relay_conn *c = arg;
	struct relay_pool *p = c->pool;
	struct relay_msg m;
	char err[128];

	if (relay_msg_parse(&m, text, len, err, sizeof(err)) != 0) {
		c->stats.malformed++;
		if (relay_conn_log_ok(c, RELAY_LOG_MALFORMED))
			log_warn("relay", "malformed relay message ignored",
				 log_str("relay", c->url), log_str("error", err));
		return;
	}
	relay_pool_enter(p);
	relay_conn_dispatch[m.type](c, &m);
	relay_pool_leave(p);
}

/* Send one text message if open. */
int relay_conn_send(struct relay_conn *c, const char *text, size_t len)
{
	if (c->state != RELAY_CONNECTED)
		return -1;
	return ws_client_send_text(c->ws, text, len);
}

/* Close with 1001 ("going away"). */
void relay_conn_close(struct relay_conn *c)
{
	clock_timer_stop(c->retry);
	if (c->ws == NULL) {
		relay_conn_set_state(c, RELAY_CLOSED);
		return;
	}
	relay_conn_set_state(c, RELAY_CLOSING);
	ws_client_close(c->ws, 1001);
}

/* Drop at once. */
void relay_conn_drop(struct relay_conn *c)
{
	clock_timer_stop(c->retry);
	ws_client_free(c->ws);
	c->ws = NULL;
	relay_conn_set_state(c, RELAY_CLOSED);
}

/* The subscription name of a sub id ("name" or "name.k"). */
static void relay_conn_sub_name(const char *sub_id, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", (int)strcspn(sub_id, "."), sub_id);
}

/*
 * EVENT: check (id and signature, or with defer_verify the id alone),
 * deduplicate, hand on.
 */
static void relay_conn_msg_event(struct relay_conn *c, const struct relay_msg *m)
{
	struct nostr_event ev;
	char err[128], key[65], name[RELAY_SUB_ID_MAX + 1];
	if (nostr_event_parse(&ev, m->event, m->event_len, NOSTR_EVENT_SIGNED, NULL, err,
			      sizeof(err)) != 0 ||
	    relay_conn_check_event(c->pool, &ev, err, sizeof(err)) != 0) {
		relay_conn_invalid(c, err);
		goto done;
	}
	c->stats.events_in++;
	relay_conn_dedup_key(c->pool, &ev, key);
	if (!relay_dedup_add(c->pool->dedup, key))
		goto done;
	relay_conn_sub_name(m->sub_id, name, sizeof(name));
	if (!relay_conn_sub_known(c->pool, name))
		goto done; /* closed by us (unsubscribe, stop subscribing): too late */
	if (c->pool->h.on_event != NULL)
		c->pool->h.on_event(c->pool->arg, name, &ev, m->event, m->event_len, c->url);
done:
	nostr_event_clear(&ev);
}

/* The checks made on receipt: id and signature, or the id alone (defer_verify). */
static int relay_conn_check_event(const struct relay_pool *p, const struct nostr_event *ev,
				  char *err, size_t errlen)
{
	if (p->cfg.defer_verify)
		return nostr_event_check_id(ev, err, errlen);
	return nostr_event_verify(ev, err, errlen);
}

/*
 * The key an event is deduplicated by: its id once the signature is
 * verified; with defer_verify, SHA-256 of id and signature together, so
 * that a copy of a genuine id under a bad signature (which anyone can
 * make) takes another key than the genuine event and cannot make it a
 * duplicate. Copies with the same signature are the same bytes the id
 * and the signature cover: they stand or fall together.
 */
static void relay_conn_dedup_key(const struct relay_pool *p, const struct nostr_event *ev,
				 char key[65])
{
	uint8_t buf[96], md[SHA256_DIGEST_LENGTH];

	if (!p->cfg.defer_verify) {
		hex_encode(key, ev->id, sizeof(ev->id));
		return;
	}
	memcpy(buf, ev->id, 32);
	memcpy(buf + 32, ev->sig, 64);
	SHA256(buf, sizeof(buf), md);
	hex_encode(key, md, sizeof(md));
}

/* An event failed its checks: count it, log it (rate-limited). */
void relay_conn_invalid(struct relay_conn *c, const char *error)
{
	c->stats.events_invalid++;
	if (relay_conn_log_ok(c, RELAY_LOG_INVALID))
		log_warn("relay", "invalid event dropped", log_str("relay", c->url),
			 log_str("error", error));
}

/* Whether name is a live subscription of the pool. */
static bool relay_conn_sub_known(const struct relay_pool *p, const char *name)
{
	for (const struct relay_sub *s = p->subs; s && p->subscribing; s = s->next)
		if (!s->gone && strcmp(s->name, name) == 0)
			return true;
	return false;
}

/* EOSE: pass on per subscription name. */
static void relay_conn_msg_eose(struct relay_conn *c, const struct relay_msg *m)
{
	char name[RELAY_SUB_ID_MAX + 1];
	relay_conn_sub_name(m->sub_id, name, sizeof(name));
	if (c->pool->h.on_eose != NULL)
		c->pool->h.on_eose(c->pool->arg, name, c->url);
}

/* OK: our AUTH, or one of our publishes. */
static void relay_conn_msg_ok(struct relay_conn *c, const struct relay_msg *m)
{
	if (!relay_conn_is_auth_id(c, m->event_id)) {
		relay_pool_on_ok(c->pool, c, m->event_id, m->accepted, m->message);
		return;
	}
	if (c->auth_pending > 0)
		c->auth_pending--;
	if (!m->accepted) {
		if (relay_conn_log_ok(c, RELAY_LOG_AUTH))
			log_warn("relay", "AUTH refused", log_str("relay", c->url),
				 log_str("reason", m->message));
		return;
	}
	c->stats.auths++;
	c->authed = true;
	if (relay_conn_log_ok(c, RELAY_LOG_AUTH))
		log_info("relay", "authenticated", log_str("relay", c->url));
	relay_pool_on_authed(c->pool, c);
}

/* CLOSED: the relay ended a subscription; auth-required ones come back after AUTH. */
static void relay_conn_msg_closed(struct relay_conn *c, const struct relay_msg *m)
{
	if (strncmp(m->message, "auth-required:", 14) == 0 && c->pool->h.auth != NULL &&
	    !relay_conn_auth_settled(c)) {
		c->subs_refused = true;
		if (relay_conn_log_ok(c, RELAY_LOG_CLOSED))
			log_info("relay", "subscription waits for AUTH", log_str("relay", c->url),
				 log_str("sub", m->sub_id));
		return;
	}
	if (relay_conn_log_ok(c, RELAY_LOG_CLOSED))
		log_warn("relay", "subscription closed by relay", log_str("relay", c->url),
			 log_str("sub", m->sub_id), log_str("reason", m->message));
}

/* Whether AUTH is over on this connection: accepted, and no answer still due. */
bool relay_conn_auth_settled(const struct relay_conn *c)
{
	return c->authed && c->auth_pending == 0;
}

/* NOTICE: log it. */
static void relay_conn_msg_notice(struct relay_conn *c, const struct relay_msg *m)
{
	c->stats.notices++;
	if (relay_conn_log_ok(c, RELAY_LOG_NOTICE))
		log_info("relay", "relay notice", log_str("relay", c->url),
			 log_str("notice", m->message));
}

/* AUTH: have the owner sign one kind-22242 event per key and send them. */
static void relay_conn_msg_auth(struct relay_conn *c, const struct relay_msg *m)
{
	struct relay_auth_event evs[RELAY_AUTH_MAX];
	struct relay_pool *p = c->pool;
	size_t n;

	if (p->h.auth == NULL)
		return;
	n = p->h.auth(p->arg, c->url, m->message, evs, RELAY_AUTH_MAX);
	if (n > RELAY_AUTH_MAX)
		n = RELAY_AUTH_MAX; /* the owner was told the maximum */
	c->nauth_ids = 0;
	c->authed = false;
	for (size_t i = 0; i < n; i++) {
		char *msg = relay_msg_wrap_event("AUTH", evs[i].json, strlen(evs[i].json));
		if (msg != NULL && relay_conn_send(c, msg, strlen(msg)) == 0)
			memcpy(c->auth_ids[c->nauth_ids++], evs[i].id, 65);
		free(msg);
		free(evs[i].json);
	}
	c->auth_pending = c->nauth_ids;
	if (relay_conn_log_ok(c, RELAY_LOG_AUTH))
		log_info("relay", "AUTH sent", log_str("relay", c->url),
			 log_uint("keys", c->nauth_ids));
}

/* Whether id is one of the AUTH events we sent on this connection. */
static bool relay_conn_is_auth_id(struct relay_conn *c, const char *id)
{
	for (size_t i = 0; i < c->nauth_ids; i++)
		if (strcmp(c->auth_ids[i], id) == 0)
			return true;
	return false;
}

/* Send every subscription (unless the pool stopped subscribing). */
void relay_conn_send_subs(struct relay_conn *c)
{
	for (struct relay_sub *s = c->pool->subs; s && c->pool->subscribing; s = s->next)
		if (!s->gone)
			relay_conn_send_sub(c, s);
}

/* The filter of chunk k of s; on a reconnect, since = lost - overlap and no limit. */
static void relay_conn_chunk(struct relay_conn *c, const struct relay_sub *s, size_t k,
			     struct relay_filter *f)
{
	size_t per = c->pool->cfg.max_p_per_filter, off = k * per;
	*f = (struct relay_filter){
		.kinds = s->kinds,
		.nkinds = s->nkinds,
		.authors = (const char *const *)s->authors,
		.nauthors = s->nauthors,
		.since = s->since,
		.limit = s->limit,
	};
	if (s->np_tags) {
		f->p_tags = (const char *const *)s->p_tags + off;
		f->np_tags = s->np_tags - off < per ? s->np_tags - off : per;
	}
	if (c->lost_unix > 0) {
		int64_t since = c->lost_unix - c->pool->cfg.since_overlap_s;
		f->since = since > f->since ? since : f->since;
		f->limit = -1;
	}
}

/* Send one subscription: a REQ per chunk. */
void relay_conn_send_sub(struct relay_conn *c, const struct relay_sub *s)
{
	for (size_t k = 0; k < s->nchunks; k++) {
		struct relay_filter f;
		char id[RELAY_SUB_ID_MAX + 1], *req;

		relay_conn_chunk(c, s, k, &f);
		relay_pool_sub_id(s, k, id, sizeof(id));
		req = relay_msg_req(id, &f, 1);
		if ((req == NULL || relay_conn_send(c, req, strlen(req)) != 0) &&
		    relay_conn_log_ok(c, RELAY_LOG_CLOSED))
			log_warn("relay", "REQ not sent", log_str("relay", c->url),
				 log_str("sub", id));
		free(req);
	}
}
