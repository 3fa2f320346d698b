/*
 * signer_pipeline.c - one NIP-46 request, from event to acknowledged reply.
 *
 * Read top to bottom, the steps are:
 *
 *   event     served bunker? inside the time window? still accepting? room?
 *   claim     INSERT ... ON CONFLICT DO NOTHING: the winner answers, the
 *             others drop it quietly; the winner also learns whether the
 *             client is bound now; a failed claim answers "database
 *             unavailable"
 *   decrypt   NIP-44, or NIP-04 when NIP-04 shaped (the reply uses the same)
 *   parse     {"id","method","params"}; no id: cannot be answered, counted
 *   authorize authorization still there, not revoked, not expired; the
 *             client bound (as the claim read it from the database: a
 *             connect or logout through another replica counts at once),
 *             else connect; policy; rate
 *   run       connect / logout in the database, the rest pure (signer_op.h)
 *   reply     JSON, encrypted, signed by the bunker key, published
 *   settle    when a relay acknowledges it (or every relay refused it):
 *             counted, audited off the reply's path, drain checked
 *
 * Every step that can answer answers: an error reply names the reason.
 * Error replies to clients that are not bound are rate-limited per bunker
 * key, so a stranger cannot make the daemon sign and publish without limit.
 */
#include "core/clock.h"
#include "core/log.h"
#include "db/db_store.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "nostr/wipe.h"
#include "relay/relay_pool.h"
#include "signer/signer_audit.h"
#include "signer/signer_int.h"
#include "signer/signer_op.h"
#include "signer/signer_policy.h"
#include "signer/signer_serving.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct signer_authz *signer_req_target(struct signer *s, const struct nostr_event *ev);
static enum signer_ignore signer_req_screen(const struct signer *s, const struct nostr_event *ev,
					    const struct signer_authz *a);
static struct signer_req *signer_req_new(struct signer *s, const struct nostr_event *ev,
					 const struct signer_authz *a);
static void signer_req_on_claim(void *arg, int result, const char *error);
static void signer_req_process(struct signer_req *r);
static void signer_req_authorize(struct signer_req *r);
static void signer_req_run(struct signer_req *r, struct signer_authz *a);
static void signer_req_connect(struct signer_req *r, struct signer_authz *a,
			       const struct signer_op *op);
static void signer_req_on_connect(void *arg, int result, const char *error);
static void signer_req_logout(struct signer_req *r, struct signer_authz *a);
static void signer_req_on_logout(void *arg, int result, const char *error);
static void signer_req_exec(struct signer_req *r, struct signer_authz *a,
			    const struct signer_op *op);
static void signer_req_stranger(struct signer_req *r, struct signer_authz *a, const char *why);
static void signer_req_answer(struct signer_req *r, const char *outcome, const char *error);
static void signer_req_reply(struct signer_req *r, const char *outcome, const char *result,
			     size_t rlen, const char *error);
static void signer_req_on_out(void *arg, const struct relay_pub_report *rep);
static void signer_req_on_done(void *arg, const struct relay_pub_report *rep);
static void signer_req_drop(struct signer_req *r, enum signer_ignore why, const char *error);
static void signer_req_settle(struct signer_req *r, const char *reply_result);
static void signer_req_audit(struct signer_req *r);
static const char *signer_req_method(const struct signer_req *r);
static bool signer_req_gone(struct signer_req *r);
static void signer_req_free(struct signer_req *r);

/* The unanswerable reasons, for the rate-limited log line. */
static const char *const signer_req_ignore_msg[SIGNER_IGN_COUNT_] = {
	[SIGNER_IGN_UNDECRYPTABLE] = "request not decrypted: not answered",
	[SIGNER_IGN_NO_ID] = "request without a usable id: not answered",
	[SIGNER_IGN_STRANGER_LIMIT] = "error replies to an unbound client over their limit",
	[SIGNER_IGN_OVERLOADED] = "signer_max_inflight reached: request left to other replicas",
};

/* A verified request event: screen it, then claim it. */
void signer_pipeline_event(struct signer *s, const struct nostr_event *ev)
{
	struct signer_authz *a = signer_req_target(s, ev);
	enum signer_ignore why = signer_req_screen(s, ev, a);
	struct signer_req *r;

	if (why != SIGNER_IGN_COUNT_) {
		signer_ignore(s, why);
		if (why == SIGNER_IGN_OVERLOADED && signer_log_due(s, &ev->pubkey))
			log_warn("signer", signer_req_ignore_msg[why],
				 log_uint("inflight", s->inflight));
		return;
	}
	r = signer_req_new(s, ev, a);
	if (r == NULL) {
		log_error("signer", "out of memory: request not claimed");
		return;
	}
	r->waiting = true;
	if (db_store_claim(s->cfg.store, r->event_id, r->authz_id, r->client_hex,
			   signer_req_on_claim, r) != 0)
		signer_req_on_claim(r, -1, "database pool closed or full");
}

/* Why ev (for authorization a, NULL if none) is not taken, or SIGNER_IGN_COUNT_ when it is. */
static enum signer_ignore signer_req_screen(const struct signer *s, const struct nostr_event *ev,
					    const struct signer_authz *a)
{
	int64_t now = signer_unix_now();

	if (ev->kind != SIGNER_KIND || a == NULL)
		return SIGNER_IGN_UNKNOWN;
	if (ev->created_at < now - s->cfg.max_age_s)
		return SIGNER_IGN_STALE;
	if (ev->created_at > now + s->cfg.max_future_s)
		return SIGNER_IGN_FUTURE;
	if (!s->accepting)
		return SIGNER_IGN_DRAINING;
	if (s->inflight >= s->cfg.max_inflight)
		return SIGNER_IGN_OVERLOADED;
	return SIGNER_IGN_COUNT_;
}

/* The served authorization of the first p tag naming one, or NULL. */
static struct signer_authz *signer_req_target(struct signer *s, const struct nostr_event *ev)
{
	for (size_t i = 0; s->serving != NULL && i < ev->ntags; i++) {
		const struct nostr_tag *t = &ev->tags[i];
		struct nostr_pubkey pk;
		struct signer_authz *a;

		if (t->n < 2 || strcmp(t->items[0].s, "p") != 0 ||
		    nostr_pubkey_from_hex(&pk, t->items[1].s, t->items[1].len) != 0)
			continue;
		if ((a = signer_serving_by_bunker(s->serving, &pk)) != NULL)
			return a;
	}
	return NULL;
}

/* A request for a (linked, counted in flight), with copies of what it needs. */
static struct signer_req *signer_req_new(struct signer *s, const struct nostr_event *ev,
					 const struct signer_authz *a)
{
	struct signer_req *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->content = malloc(ev->content.len + 1)) == NULL) {
		free(r);
		return NULL;
	}
	memcpy(r->content, ev->content.s, ev->content.len + 1);
	r->content_len = ev->content.len;
	r->scheme = signer_scheme_of(r->content, r->content_len);
	r->s = s;
	hex_encode(r->event_id, ev->id, 32);
	r->client = ev->pubkey;
	nostr_pubkey_to_hex(r->client_hex, &ev->pubkey);
	r->bunker = a->bunker;
	nostr_pubkey_to_hex(r->key_hex, &a->key->kp.pub);
	r->authz_id = a->row->id;
	r->seen_ms = clock_now_ms(s->cfg.clock);
	r->kind = -1;
	r->next = s->reqs;
	if (s->reqs != NULL)
		s->reqs->prev = r;
	s->reqs = r;
	s->inflight++;
	return r;
}

/* The claim is settled: the winner goes on; a failed claim still answers. */
static void signer_req_on_claim(void *arg, int result, const char *error)
{
	struct signer_req *r = arg;

	r->waiting = false;
	if (signer_req_gone(r))
		return;
	if (result == 0) {
		signer_metrics_count(r->s->metrics.claims, "lost");
		signer_req_settle(r, NULL);
		signer_req_free(r);
		return;
	}
	signer_metrics_count(r->s->metrics.claims, result > 0 ? "won" : "error");
	r->bound_known = result > 0;
	r->bound_db = result == 2;
	if (result < 0) {
		r->db_down = true;
		if (signer_log_due(r->s, &r->client))
			log_warn("signer",
				 "request not claimed: answering \"database unavailable\"",
				 log_str("event", r->event_id),
				 log_str("error", error != NULL ? error : "unknown"));
	}
	signer_req_process(r);
}

/* Decrypt and parse the request, then authorize it. */
static void signer_req_process(struct signer_req *r)
{
	struct signer *s = r->s;
	uint8_t *pt = NULL;
	size_t ptlen = 0;
	char err[256];
	enum signer_parse parsed;

	if (signer_decrypt(&pt, &ptlen, r->scheme, &r->bunker, &r->client, r->content,
			   r->content_len, s->cache, err, sizeof(err)) != 0) {
		signer_req_drop(r, SIGNER_IGN_UNDECRYPTABLE, err);
		return;
	}
	parsed = signer_request_parse(&r->rq, (const char *)pt, ptlen, err, sizeof(err));
	wipe_free(pt, ptlen);
	if (parsed == SIGNER_PARSE_NO_ID)
		signer_req_drop(r, SIGNER_IGN_NO_ID, err);
	else if (parsed == SIGNER_PARSE_BAD)
		signer_req_answer(r, "error", err);
	else
		signer_req_authorize(r);
}

/* Authorization still there and live, client bound (or connecting), database up. */
static void signer_req_authorize(struct signer_req *r)
{
	struct signer *s = r->s;
	struct signer_authz *a = s->serving ? signer_serving_by_id(s->serving, r->authz_id) : NULL;
	bool bound = a != NULL && a->bound && nostr_pubkey_equal(&a->client, &r->client);

	if (a != NULL && r->bound_known && r->bound_db != bound) {
		signer_bind(s, r->authz_id, r->bound_db,
			    &r->client); /* another replica changed it */
		bound = r->bound_db;
	}

	if (a == NULL)
		signer_req_answer(r, "refused", "authorization not found: it was removed");
	else if (a->row->revoked)
		signer_req_answer(r, "refused", "authorization revoked");
	else if (a->row->expires_at > 0 && a->row->expires_at <= signer_unix_now())
		signer_req_answer(r, "refused", "authorization expired");
	else if (!bound && r->rq.method != SIGNER_CONNECT && r->db_down)
		signer_req_answer(r, "unavailable", "database unavailable, try again shortly");
	else if (!bound && r->rq.method != SIGNER_CONNECT)
		signer_req_stranger(r, a, "not connected: send connect with the secret first");
	else if (r->db_down)
		signer_req_answer(r, "unavailable", "database unavailable, try again shortly");
	else if (!a->policy_ok)
		signer_req_answer(r, "refused", "this authorization's policy is invalid");
	else
		signer_req_run(r, a);
}

/* Params, policy, rate; then the method. */
static void signer_req_run(struct signer_req *r, struct signer_authz *a)
{
	struct signer_op op;
	char why[256];
	int64_t retry = 0;

	if (signer_op_parse(&op, &r->rq, why, sizeof(why)) != 0) {
		signer_req_answer(r, "error", why);
		return;
	}
	r->kind = (int)op.kind;
	if (signer_policy_check(&a->policy, op.method, op.kind, op.size, why, sizeof(why)) !=
	    SIGNER_ALLOWED) {
		signer_req_answer(r, "refused", why);
	} else if (!signer_bucket_take(&a->bucket, &a->policy, clock_now_ms(r->s->cfg.clock),
				       &retry)) {
		snprintf(why, sizeof(why), "rate limit exceeded: retry in %lld ms",
			 (long long)retry);
		signer_req_answer(r, "refused", why);
	} else if (op.method == SIGNER_CONNECT) {
		signer_req_connect(r, a, &op);
	} else if (op.method == SIGNER_LOGOUT) {
		signer_req_logout(r, a);
	} else {
		signer_req_exec(r, a, &op);
	}
	signer_op_clear(&op);
}

/* connect: the bound client again, or the single-use secret spent in the database. */
static void signer_req_connect(struct signer_req *r, struct signer_authz *a,
			       const struct signer_op *op)
{
	struct signer *s = r->s;

	snprintf(r->detail, sizeof(r->detail), "perms: %s", op->perms ? op->perms : "");
	if (a->bound && nostr_pubkey_equal(&a->client, &r->client)) {
		signer_req_reply(r, "ok", "ack", 3, NULL);
	} else if (op->secret == NULL) {
		signer_req_stranger(r, a, "connect: the secret is missing");
	} else if (!db_secret_matches(a->row->secret_hash, op->secret)) {
		signer_req_stranger(r, a, "connect: invalid secret");
	} else if (a->row->secret_used || a->bound) {
		signer_req_stranger(r, a, "connect: this secret was used already");
	} else {
		r->waiting = true;
		if (db_store_consume_secret(s->cfg.store, a->row->id, op->secret, r->client_hex,
					    signer_req_on_connect, r) != 0)
			signer_req_on_connect(r, -1, "database pool closed or full");
	}
}

/* The secret is spent (result 1), was spent by another (0), or the database failed. */
static void signer_req_on_connect(void *arg, int result, const char *error)
{
	struct signer_req *r = arg;

	r->waiting = false;
	if (signer_req_gone(r))
		return;
	if (result == 1) {
		signer_bind(r->s, r->authz_id, true, &r->client);
		log_info("signer", "client connected", log_int("authz", r->authz_id),
			 log_str("client", r->client_hex));
		signer_req_reply(r, "ok", "ack", 3, NULL);
	} else if (result == 0) {
		signer_req_answer(r, "refused", "connect: this secret was used already");
	} else {
		log_warn("signer", "connect not recorded",
			 log_str("error", error ? error : "unknown"));
		signer_req_answer(r, "unavailable", "database unavailable, try again shortly");
	}
}

/* logout: unbind the client in the database; its later requests are refused. */
static void signer_req_logout(struct signer_req *r, struct signer_authz *a)
{
	r->waiting = true;
	if (db_store_unbind_client(r->s->cfg.store, a->row->id, r->client_hex, signer_req_on_logout,
				   r) != 0)
		signer_req_on_logout(r, -1, "database pool closed or full");
}

/* The client is unbound (or the database failed). */
static void signer_req_on_logout(void *arg, int result, const char *error)
{
	struct signer_req *r = arg;

	r->waiting = false;
	if (signer_req_gone(r))
		return;
	if (result < 0) {
		log_warn("signer", "logout not recorded",
			 log_str("error", error ? error : "unknown"));
		signer_req_answer(r, "unavailable", "database unavailable, try again shortly");
		return;
	}
	signer_bind(r->s, r->authz_id, false, &r->client);
	log_info("signer", "client logged out", log_int("authz", r->authz_id),
		 log_str("client", r->client_hex));
	signer_req_reply(r, "ok", "ack", 3, NULL);
}

/* A pure method, as the user's key. */
static void signer_req_exec(struct signer_req *r, struct signer_authz *a,
			    const struct signer_op *op)
{
	const struct signer_ctx ctx = {
		.user = &a->key->kp,
		.relays = (const char *const *)a->row->relays,
		.nrelays = a->row->nrelays,
		.cache = r->s->cache,
		.now = signer_unix_now(),
	};
	struct signer_result res;
	char err[256];

	if (signer_op_run(&res, op, &ctx, err, sizeof(err)) != 0) {
		signer_req_answer(r, "error", err);
		return;
	}
	memcpy(r->signed_id, res.event_id, sizeof(r->signed_id));
	signer_req_reply(r, "ok", res.s, res.len, NULL);
	signer_result_clear(&res);
}

/* Refuse a client that is not bound, within the bunker key's limit on such replies. */
static void signer_req_stranger(struct signer_req *r, struct signer_authz *a, const char *why)
{
	struct signer *s = r->s;

	if (signer_bucket_take_rate(&a->strangers, s->cfg.stranger_burst,
				    s->cfg.stranger_per_minute, clock_now_ms(s->cfg.clock), NULL)) {
		signer_req_answer(r, "refused", why);
		return;
	}
	signer_req_drop(r, SIGNER_IGN_STRANGER_LIMIT, why);
}

/* Answer with an error reply. */
static void signer_req_answer(struct signer_req *r, const char *outcome, const char *error)
{
	signer_req_reply(r, outcome, "", 0, error);
}

/* Build, encrypt, sign and publish the reply (result, or error when not NULL). */
static void signer_req_reply(struct signer_req *r, const char *outcome, const char *result,
			     size_t rlen, const char *error)
{
	const struct relay_pub_handlers h = {.on_out = signer_req_on_out,
					     .on_done = signer_req_on_done};
	struct signer *s = r->s;
	char err[256] = "out of memory", idhex[65], *json = NULL, *enc = NULL, *ev = NULL;
	size_t jlen = 0, elen = 0, evlen = 0;

	r->outcome = outcome;
	if (error != NULL)
		snprintf(r->detail, sizeof(r->detail), "%s", error);
	signer_metrics_request(&s->metrics, signer_req_method(r), outcome);
	if (signer_reply_json(&json, &jlen, r->rq.id, result, rlen, error) == 0 &&
	    signer_encrypt(&enc, &elen, r->scheme, &r->bunker, &r->client, (const uint8_t *)json,
			   jlen, s->cache, err, sizeof(err)) == 0 &&
	    signer_reply_event(&ev, &evlen, idhex, &r->bunker, &r->client, enc, elen,
			       signer_unix_now(), err, sizeof(err)) == 0 &&
	    relay_pool_publish(s->pool, ev, evlen, idhex, &h, r) == 0) {
		r->publishing = true;
		log_debug("signer", "reply published", log_str("method", signer_req_method(r)),
			  log_str("outcome", outcome), log_str("request", r->event_id),
			  log_str("reply", idhex));
	} else {
		log_error("signer", "reply not sent", log_str("request", r->event_id),
			  log_str("error", err));
		signer_req_settle(r, "failed");
		signer_req_free(r);
	}
	wipe_free(json, jlen);
	free(enc);
	free(ev);
}

/* A relay accepted the reply: the request is done. */
static void signer_req_on_out(void *arg, const struct relay_pub_report *rep)
{
	struct signer_req *r = arg;

	(void)rep;
	if (r->dropped || r->s == NULL)
		return;
	signer_metrics_latency(&r->s->metrics,
			       (double)(clock_now_ms(r->s->cfg.clock) - r->seen_ms) / 1000.0);
	signer_req_settle(r, "acknowledged");
}

/* Every relay answered: a reply no relay accepted has failed for good. */
static void signer_req_on_done(void *arg, const struct relay_pub_report *rep)
{
	struct signer_req *r = arg;

	r->publishing = false;
	if (!r->settled && !r->dropped && r->s != NULL) {
		log_warn("signer", "reply not accepted by any relay",
			 log_str("request", r->event_id), log_uint("rejected", rep->rejected),
			 log_uint("timed_out", rep->timed_out), log_uint("failed", rep->failed),
			 log_str("reason", rep->nanswers && rep->answers[0].reason
						   ? rep->answers[0].reason
						   : ""));
		signer_req_settle(r, "failed");
	}
	signer_req_free(r);
}

/* Not answered (why); logged at most once a minute per client. */
static void signer_req_drop(struct signer_req *r, enum signer_ignore why, const char *error)
{
	signer_ignore(r->s, why);
	if (signer_log_due(r->s, &r->client))
		log_warn("signer", signer_req_ignore_msg[why], log_str("client", r->client_hex),
			 log_str("request", r->event_id), log_str("error", error));
	signer_req_settle(r, NULL);
	signer_req_free(r);
}

/* The request no longer counts as in flight: count, audit, check a waiting drain. */
static void signer_req_settle(struct signer_req *r, const char *reply_result)
{
	struct signer *s = r->s;

	if (r->settled)
		return;
	r->settled = true;
	s->inflight--;
	if (reply_result != NULL)
		signer_metrics_count(s->metrics.replies, reply_result);
	if (r->outcome != NULL)
		signer_req_audit(r);
	signer_check_drained(s);
}

/* Queue the audit entry of an answered request. */
static void signer_req_audit(struct signer_req *r)
{
	const struct db_audit_entry e = {
		.authorization_id = r->authz_id,
		.key_pubkey = r->key_hex,
		.client_pubkey = r->client_hex,
		.method = signer_req_method(r),
		.event_kind = r->kind,
		.event_id = r->signed_id[0] ? r->signed_id : r->event_id,
		.outcome = strcmp(r->outcome, "ok") == 0	? "ok"
			   : strcmp(r->outcome, "refused") == 0 ? "refused"
								: "error",
		.detail = r->detail[0] ? r->detail : NULL,
	};

	signer_audit_add(r->s->audit, &e);
}

/* The method's name for metrics and the audit ("unknown" when not parsed). */
static const char *signer_req_method(const struct signer_req *r)
{
	return r->rq.method_known ? signer_method_name(r->rq.method) : "unknown";
}

/* After a callback: free r if its signer is gone or it was aborted; true if so. */
static bool signer_req_gone(struct signer_req *r)
{
	if (r->s != NULL && !r->dropped)
		return false;
	if (!r->publishing)
		signer_req_free(r);
	return true;
}

/* Unlink (unless orphaned) and free r, wiping its secrets. */
static void signer_req_free(struct signer_req *r)
{
	struct signer *s = r->s;

	if (s != NULL) {
		if (r->prev != NULL)
			r->prev->next = r->next;
		else
			s->reqs = r->next;
		if (r->next != NULL)
			r->next->prev = r->prev;
	}
	nostr_keypair_wipe(&r->bunker);
	signer_request_clear(&r->rq);
	free(r->content);
	free(r);
}

/* Abort: drop every live request; the count of those in flight. */
size_t signer_pipeline_abort(struct signer *s)
{
	size_t n = 0;
	struct signer_req *r = s->reqs, *next;

	for (; r != NULL; r = next) {
		next = r->next;
		n += !r->settled;
		signer_req_settle(r, NULL);
		r->dropped = true;
		if (!r->waiting && !r->publishing)
			signer_req_free(r);
	}
	return n;
}

/* Free every request; those a store callback is due for are orphaned and free themselves. */
void signer_pipeline_free_all(struct signer *s)
{
	struct signer_req *r = s->reqs, *next;

	for (; r != NULL; r = next) {
		next = r->next;
		r->s = NULL;
		r->publishing = false; /* the pool is freed next: no callback comes */
		if (!r->waiting)
			signer_req_free(r);
	}
	s->reqs = NULL;
}
