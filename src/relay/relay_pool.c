/*
 * relay_pool.c - the relay pool: relays, acknowledged publishing, and the
 * shutdown operations. Subscriptions live in relay_pool_subs.c, one
 * relay's connection in relay_conn.c.
 */
#include "relay/relay_pool.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "core/clock.h"
#include "core/log.h"
#include "relay/relay_dedup.h"
#include "relay/relay_pool_int.h"

static void relay_pool_defaults(struct relay_pool_config *c);
static void relay_pool_on_notify(void *arg);
static void relay_pub_on_timer(void *arg);
static void relay_pub_answer(struct relay_pub *pub, size_t slot, enum relay_outcome o,
			     const char *reason);
static void relay_pub_report(const struct relay_pub *pub, struct relay_pub_report *r);
static void relay_pub_check(struct relay_pub *pub);
static void relay_pub_finish(struct relay_pub *pub);
static void relay_pub_free(struct relay_pub *pub);
static bool relay_pool_all_closed(const struct relay_pool *p);
static void relay_pool_doom(struct relay_pool *p);
static void relay_pool_destroy(struct relay_pool *p);

/* Fill in the defaults for zero fields. */
static void relay_pool_defaults(struct relay_pool_config *c)
{
	if (c->publish_timeout_ms <= 0)
		c->publish_timeout_ms = 5000;
	if (c->backoff_min_ms <= 0)
		c->backoff_min_ms = 500;
	if (c->backoff_max_ms <= 0)
		c->backoff_max_ms = 60000;
	if (c->max_p_per_filter == 0)
		c->max_p_per_filter = 256;
	if (c->max_subs_per_relay == 0)
		c->max_subs_per_relay = 20;
	if (c->max_authors_per_filter == 0)
		c->max_authors_per_filter = 1000;
	if (c->max_kinds_per_filter == 0)
		c->max_kinds_per_filter = 20;
	if (c->dedup_capacity == 0)
		c->dedup_capacity = 16384;
	if (c->since_overlap_s <= 0)
		c->since_overlap_s = 10;
	if (c->stable_ms <= 0)
		c->stable_ms = 10000;
}

/* A new pool with no relays. */
int relay_pool_new(struct relay_pool **out, const struct relay_pool_config *cfg,
		   const struct relay_pool_handlers *h, void *arg, char *err, size_t errlen)
{
	struct relay_pool *p = calloc(1, sizeof(*p));

	*out = NULL;
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p->cfg = *cfg;
	p->cfg.ca_file = NULL; /* only used here */
	relay_pool_defaults(&p->cfg);
	p->h = *h;
	p->arg = arg;
	p->subscribing = true;
	p->ssl = ws_tls_ctx_new(cfg->ca_file, err, errlen);
	if (p->ssl == NULL)
		goto fail;
	p->dedup = relay_dedup_new(p->cfg.dedup_capacity);
	p->notify = clock_timer_new(p->cfg.clock, relay_pool_on_notify, p);
	if (p->dedup == NULL || p->notify == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	*out = p;
	return 0;
fail:
	relay_pool_free(p);
	return -1;
}

/* Add a relay and start connecting. */
int relay_pool_add(struct relay_pool *p, const char *url, char *err, size_t errlen)
{
	struct ws_url u;
	struct relay_conn **v;
	struct relay_conn *c;

	if (ws_url_parse(&u, url, err, errlen) != 0)
		return -1;
	v = realloc(p->conns, (p->nconns + 1) * sizeof(*v));
	if (v == NULL)
		goto oom;
	p->conns = v;
	c = relay_conn_new(p, url, p->nconns);
	if (c == NULL)
		goto oom;
	p->conns[p->nconns++] = c;
	relay_pool_enter(p);
	relay_conn_start(c);
	relay_pool_leave(p);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* Enter a pool frame (see relay_pool_int.h). */
void relay_pool_enter(struct relay_pool *p)
{
	p->busy++;
}

/* Leave a pool frame: the outermost frees finished publishes, gone subscriptions, a doomed pool. */
void relay_pool_leave(struct relay_pool *p)
{
	if (--p->busy > 0)
		return;
	while (p->dead != NULL) {
		struct relay_pub *next = p->dead->next;
		relay_pub_free(p->dead);
		p->dead = next;
	}
	relay_pool_sweep_subs(p);
	if (p->doomed)
		relay_pool_destroy(p);
}

/* Free the pool now, or, from inside one of its callbacks, when that callback returns. */
void relay_pool_free(struct relay_pool *p)
{
	if (p == NULL)
		return;
	if (p->busy > 0)
		relay_pool_doom(p);
	else
		relay_pool_destroy(p);
}

/*
 * Freed while busy: forget every owner callback, stop every timer and drop
 * every connection at once, so nothing more happens; the memory stays
 * until relay_pool_leave.
 */
static void relay_pool_doom(struct relay_pool *p)
{
	p->doomed = true;
	p->closing = true;
	p->subscribing = false;
	memset(&p->h, 0, sizeof(p->h));
	p->drain_cb = p->close_cb = p->abort_cb = NULL;
	clock_timer_stop(p->notify);
	for (struct relay_pub *pub = p->pubs; pub != NULL; pub = pub->next) {
		memset(&pub->h, 0, sizeof(pub->h));
		clock_timer_stop(pub->timer);
	}
	for (size_t i = 0; i < p->nconns; i++)
		relay_conn_drop(p->conns[i]);
}

/* Release everything the pool owns. */
static void relay_pool_destroy(struct relay_pool *p)
{
	struct relay_pub *lists[2] = {p->pubs, p->dead};
	for (size_t k = 0; k < 2; k++)
		while (lists[k] != NULL) {
			struct relay_pub *next = lists[k]->next;
			relay_pub_free(lists[k]);
			lists[k] = next;
		}
	for (size_t i = 0; i < p->nconns; i++)
		relay_conn_free(p->conns[i]);
	free(p->conns);
	while (p->subs) {
		struct relay_sub *next = p->subs->next;
		relay_pool_sub_free(p->subs);
		p->subs = next;
	}
	relay_dedup_free(p->dedup);
	clock_timer_free(p->notify);
	SSL_CTX_free(p->ssl);
	free(p);
}

/* Publish a signed event to every connected relay. */
int relay_pool_publish(struct relay_pool *p, const char *json, size_t len, const char *id,
		       const struct relay_pub_handlers *h, void *arg)
{
	struct relay_pub *pub;

	if (p->closing || strlen(id) != 64)
		return -1;
	pub = calloc(1, sizeof(*pub));
	if (pub == NULL)
		return -1;
	pub->pool = p;
	memcpy(pub->id, id, 65);
	pub->msg = relay_msg_wrap_event("EVENT", json, len);
	pub->answers = calloc(p->nconns ? p->nconns : 1, sizeof(*pub->answers));
	pub->await_auth = calloc(p->nconns ? p->nconns : 1, sizeof(*pub->await_auth));
	pub->timer = clock_timer_new(p->cfg.clock, relay_pub_on_timer, pub);
	if (pub->msg == NULL || pub->answers == NULL || pub->await_auth == NULL ||
	    pub->timer == NULL) {
		relay_pub_free(pub);
		return -1;
	}
	pub->msglen = strlen(pub->msg);
	pub->h = *h;
	pub->arg = arg;
	pub->nslots = p->nconns;
	pub->next = p->pubs;
	p->pubs = pub;
	relay_pool_enter(p); /* a failed send reports a lost relay */
	for (size_t i = 0; i < p->nconns; i++)
		pub->answers[i].url = p->conns[i]->url;
	for (size_t i = 0; i < p->nconns; i++)
		if (relay_conn_send(p->conns[i], pub->msg, pub->msglen) != 0)
			relay_pub_answer(pub, i, RELAY_PUB_FAILED, "not connected");
	if (!pub->finished)
		clock_timer_start(pub->timer, p->cfg.publish_timeout_ms);
	relay_pub_check(pub);
	relay_pool_leave(p);
	return 0;
}

/* Record one relay's answer (first answer wins). */
static void relay_pub_answer(struct relay_pub *pub, size_t slot, enum relay_outcome o,
			     const char *reason)
{
	struct relay_pub_answer *a = &pub->answers[slot];
	struct relay_stats *st = &pub->pool->conns[slot]->stats;

	if (a->outcome != RELAY_PUB_PENDING)
		return;
	a->outcome = o;
	a->reason = reason != NULL ? strdup(reason) : NULL;
	pub->await_auth[slot] = false;
	if (o == RELAY_PUB_ACCEPTED)
		st->published_ok++;
	else if (o == RELAY_PUB_REJECTED)
		st->published_rejected++;
	else if (o == RELAY_PUB_TIMEOUT)
		st->published_timeout++;
}

/* Summarise a publish. */
static void relay_pub_report(const struct relay_pub *pub, struct relay_pub_report *r)
{
	static struct relay_pub_answer none;
	memset(r, 0, sizeof(*r));
	r->event_id = pub->id;
	r->nanswers = pub->nslots;
	r->answers = pub->nslots ? pub->answers : &none;
	for (size_t i = 0; i < pub->nslots; i++) {
		enum relay_outcome o = pub->answers[i].outcome;
		r->accepted += o == RELAY_PUB_ACCEPTED;
		r->rejected += o == RELAY_PUB_REJECTED;
		r->timed_out += o == RELAY_PUB_TIMEOUT;
		r->failed += o == RELAY_PUB_FAILED;
	}
}

/* If every relay answered, report on the next turn (the timer at 0). */
static void relay_pub_check(struct relay_pub *pub)
{
	if (pub->finished)
		return;
	for (size_t i = 0; i < pub->nslots; i++)
		if (pub->answers[i].outcome == RELAY_PUB_PENDING)
			return;
	clock_timer_start(pub->timer, 0);
}

/* Timeout (or done): time out what is pending, report, free. */
static void relay_pub_on_timer(void *arg)
{
	struct relay_pub *pub = arg;
	struct relay_pool *p = pub->pool;

	relay_pool_enter(p);
	for (size_t i = 0; i < pub->nslots; i++)
		if (pub->await_auth[i])
			relay_pub_answer(pub, i, RELAY_PUB_REJECTED,
					 "auth-required: AUTH not accepted");
		else
			relay_pub_answer(pub, i, RELAY_PUB_TIMEOUT, "no OK before the timeout");
	relay_pub_finish(pub);
	relay_pool_leave(p);
}

/*
 * Report the end of a publish and move it to the dead list (freed when the
 * outermost pool frame leaves); completes a drain. Runs inside a pool frame.
 */
static void relay_pub_finish(struct relay_pub *pub)
{
	struct relay_pool *p = pub->pool;
	struct relay_pub_report r;

	for (struct relay_pub **pp = &p->pubs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == pub) {
			*pp = pub->next;
			break;
		}
	pub->finished = true;
	clock_timer_stop(pub->timer);
	pub->next = p->dead;
	p->dead = pub;
	relay_pub_report(pub, &r);
	if (!pub->out_reported && r.accepted > 0 && pub->h.on_out != NULL)
		pub->h.on_out(pub->arg, &r);
	if (r.accepted == 0)
		log_warn("relay", "publish failed", log_str("id", pub->id),
			 log_uint("rejected", r.rejected), log_uint("timed_out", r.timed_out),
			 log_uint("failed", r.failed));
	if (pub->h.on_done != NULL)
		pub->h.on_done(pub->arg, &r);
	if (p->pubs == NULL && p->drain_cb != NULL)
		clock_timer_start(p->notify, 0);
}

/* Free a publish. */
static void relay_pub_free(struct relay_pub *pub)
{
	for (size_t i = 0; pub->answers && i < pub->nslots; i++)
		free((char *)pub->answers[i].reason);
	free(pub->answers);
	free(pub->await_auth);
	free(pub->msg);
	clock_timer_free(pub->timer);
	free(pub);
}

/* A relay answered OK for id. */
void relay_pool_on_ok(struct relay_pool *p, struct relay_conn *c, const char *id, bool accepted,
		      const char *reason)
{
	struct relay_pub *pub = p->pubs;
	while (pub && strcmp(pub->id, id) != 0)
		pub = pub->next;
	if (pub == NULL || c->index >= pub->nslots)
		return;
	if (!accepted && strncmp(reason, "auth-required:", 14) == 0 && p->h.auth != NULL &&
	    !relay_conn_auth_settled(c)) {
		pub->await_auth[c->index] = true;
		log_info("relay", "publish waits for AUTH", log_str("relay", c->url),
			 log_str("id", id));
		return;
	}
	relay_pub_answer(pub, c->index, accepted ? RELAY_PUB_ACCEPTED : RELAY_PUB_REJECTED, reason);
	relay_pub_check(pub);
	if (accepted && !pub->out_reported && pub->h.on_out != NULL) {
		struct relay_pub_report r;
		relay_pub_report(pub, &r);
		pub->out_reported = true;
		pub->h.on_out(pub->arg, &r); /* last: it may abort or free the pool */
	}
}

/* A relay opened: resend every publish still waiting for it. */
void relay_pool_on_open(struct relay_pool *p, struct relay_conn *c)
{
	for (struct relay_pub *pub = p->pubs; pub; pub = pub->next)
		if (c->index < pub->nslots && pub->answers[c->index].outcome == RELAY_PUB_PENDING)
			(void)relay_conn_send(c, pub->msg, pub->msglen);
}

/* A relay accepted AUTH: resend the publishes and subscriptions it refused. */
void relay_pool_on_authed(struct relay_pool *p, struct relay_conn *c)
{
	for (struct relay_pub *pub = p->pubs; pub; pub = pub->next)
		if (c->index < pub->nslots && pub->await_auth[c->index]) {
			pub->await_auth[c->index] = false;
			(void)relay_conn_send(c, pub->msg, pub->msglen);
		}
	if (c->subs_refused) {
		c->subs_refused = false;
		relay_conn_send_subs(c);
	}
}

/* A relay was lost: when closing, its pending publishes fail; completes a close. */
void relay_pool_on_lost(struct relay_pool *p, struct relay_conn *c)
{
	if (!p->closing)
		return;
	for (struct relay_pub *pub = p->pubs, *next; pub; pub = next) {
		next = pub->next;
		if (c->index < pub->nslots) {
			relay_pub_answer(pub, c->index, RELAY_PUB_FAILED, "connection closed");
			relay_pub_check(pub);
		}
	}
	if (p->close_cb != NULL && relay_pool_all_closed(p))
		clock_timer_start(p->notify, 0);
}

/* Whether every relay is closed for good. */
static bool relay_pool_all_closed(const struct relay_pool *p)
{
	for (size_t i = 0; i < p->nconns; i++)
		if (p->conns[i]->state != RELAY_CLOSED)
			return false;
	return true;
}

/* Shutdown: done once no publish is in flight. */
void relay_pool_drain(struct relay_pool *p, relay_pool_done_cb done, void *arg)
{
	p->drain_cb = done;
	p->drain_arg = arg;
	if (p->pubs == NULL)
		clock_timer_start(p->notify, 0);
}

/* Shutdown: close every connection with 1001, done once all are closed. */
void relay_pool_close(struct relay_pool *p, relay_pool_done_cb done, void *arg)
{
	relay_pool_enter(p);
	p->closing = true;
	p->close_cb = done;
	p->close_arg = arg;
	log_info("relay", "closing relay connections", log_uint("relays", p->nconns));
	for (size_t i = 0; i < p->nconns; i++)
		relay_conn_close(p->conns[i]);
	for (size_t i = 0; i < p->nconns; i++)
		if (p->conns[i]->state == RELAY_CLOSED)
			relay_pool_on_lost(p, p->conns[i]);
	if (relay_pool_all_closed(p))
		clock_timer_start(p->notify, 0);
	relay_pool_leave(p);
}

/* Shutdown: drop everything at once, fail in-flight publishes, then done. */
void relay_pool_abort(struct relay_pool *p, relay_pool_done_cb done, void *arg)
{
	relay_pool_enter(p);
	p->closing = true;
	p->abort_cb = done;
	p->abort_arg = arg;
	log_warn("relay", "aborting relay connections", log_uint("relays", p->nconns),
		 log_uint("inflight", relay_pool_inflight(p)));
	for (size_t i = 0; i < p->nconns; i++)
		relay_conn_drop(p->conns[i]);
	while (p->pubs) {
		struct relay_pub *pub = p->pubs;
		for (size_t i = 0; i < pub->nslots; i++)
			relay_pub_answer(pub, i, RELAY_PUB_FAILED, "aborted");
		relay_pub_finish(pub);
	}
	clock_timer_start(p->notify, 0);
	relay_pool_leave(p);
}

/* A later loop turn: complete the drain, close or abort that is due. */
static void relay_pool_on_notify(void *arg)
{
	struct relay_pool *p = arg;
	relay_pool_done_cb cb;

	relay_pool_enter(p);
	if (p->abort_cb != NULL) {
		cb = p->abort_cb;
		p->abort_cb = NULL;
		p->close_cb = NULL;
		cb(p->abort_arg);
		goto out;
	}
	if (p->drain_cb != NULL && p->pubs == NULL) {
		cb = p->drain_cb;
		p->drain_cb = NULL;
		cb(p->drain_arg);
	}
	if (p->close_cb != NULL && relay_pool_all_closed(p)) {
		cb = p->close_cb;
		p->close_cb = NULL;
		cb(p->close_arg);
	}
out:
	relay_pool_leave(p);
}

/* The owner found an event's signature bad: count and log it for its relay. */
void relay_pool_reject_event(struct relay_pool *p, const char *relay_url, const char *error)
{
	for (size_t i = 0; i < p->nconns; i++) {
		if (strcmp(p->conns[i]->url, relay_url) == 0) {
			relay_conn_invalid(p->conns[i], error);
			return;
		}
	}
}

/* Publishes not yet done. */
size_t relay_pool_inflight(const struct relay_pool *p)
{
	size_t n = 0;
	for (const struct relay_pub *pub = p->pubs; pub; pub = pub->next)
		n++;
	return n;
}

/* Relays currently connected. */
size_t relay_pool_connected(const struct relay_pool *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->nconns; i++)
		n += p->conns[i]->state == RELAY_CONNECTED;
	return n;
}

/* Number of relays. */
size_t relay_pool_count(const struct relay_pool *p)
{
	return p->nconns;
}

/* The counters of relay i. */
void relay_pool_stats(const struct relay_pool *p, size_t i, struct relay_stats *out)
{
	*out = p->conns[i]->stats;
	out->state = p->conns[i]->state;
	out->pending_out = ws_client_pending_out(p->conns[i]->ws);
}

/* The name of a relay state. */
const char *relay_state_name(enum relay_state s)
{
	static const char *const names[] = {
		[RELAY_DISCONNECTED] = "disconnected",
		[RELAY_CONNECTING] = "connecting",
		[RELAY_CONNECTED] = "connected",
		[RELAY_CLOSING] = "closing",
		[RELAY_CLOSED] = "closed",
	};
	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

/* The name of a publish outcome. */
const char *relay_outcome_name(enum relay_outcome o)
{
	static const char *const names[] = {
		[RELAY_PUB_PENDING] = "pending",   [RELAY_PUB_ACCEPTED] = "accepted",
		[RELAY_PUB_REJECTED] = "rejected", [RELAY_PUB_TIMEOUT] = "timeout",
		[RELAY_PUB_FAILED] = "failed",
	};
	return (unsigned)o < sizeof(names) / sizeof(names[0]) ? names[o] : "?";
}
