/*
 * signer_pipeline.c - one NIP-46 request, from event to acknowledged reply.
 *
 * Read top to bottom, the steps are:
 *
 *   event     served bunker? inside the time window? still accepting? room?
 *             (the relay pool checked its id, not its signature)
 *   verify    the BIP-340 signature; a bad one is dropped, counted and
 *             logged for its relay as on receipt, and never claimed: a
 *             forged copy cannot take a genuine request's claim
 *   decrypt   NIP-44, or NIP-04 when NIP-04 shaped (the reply uses the same)
 *   parse     {"id","method","params"}
 *             (verify, decrypt and parse are one job on the worker pool)
 *   claim     INSERT ... ON CONFLICT DO NOTHING: the winner answers, the
 *             others drop it quietly; the winner also learns whether the
 *             client is bound now; a failed claim answers "database
 *             unavailable"; the winner drops what did not decrypt or has
 *             no id (cannot be answered, counted)
 *   authorize authorization still there, not revoked, not expired; the
 *             client bound (as the claim read it from the database: a
 *             connect or logout through another replica counts at once),
 *             else connect; policy; rate
 *   run       connect / logout in the database, the rest pure (signer_op.h)
 *   reply     JSON, encrypted, signed by the bunker key (one job on the
 *             worker pool, with the pure method before it), published
 *   settle    when a relay acknowledges it (or every relay refused it):
 *             counted, audited off the reply's path, drain checked
 *
 * A request whose job is on a worker is "working": it still counts in
 * flight (a drain waits for it); an abort drops it, and its job's result
 * is wiped and discarded when it comes back. Jobs come back in the order
 * they were handed out (core/workq.h), so the pool reorders nothing.
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
#include "relay/relay_pool.h"
#include "signer/signer_audit.h"
#include "signer/signer_engine.h"
#include "signer/signer_int.h"
#include "signer/signer_op.h"
#include "signer/signer_policy.h"
#include "signer/signer_serving.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct signer_authz *signer_req_target(struct signer *s, const struct nostr_event *ev);
static enum signer_ignore signer_req_screen(const struct signer *s, const struct nostr_event *ev,
					    const struct signer_authz *a);
static struct signer_req *signer_req_new(struct signer *s, const struct nostr_event *ev,
					 const struct signer_authz *a, const char *relay_url);
static void signer_req_claim(struct signer_req *r);
static void signer_req_on_claim(void *arg, int result, const char *error);
static struct signer_req *signer_req_of(struct workq_job *j);
static bool signer_req_back(struct signer_req *r, bool cancelled);
static void signer_req_open(struct signer_req *r);
static void signer_req_open_run(struct workq_job *j);
static void signer_req_on_open(struct workq_job *j, bool cancelled);
static void signer_req_opened(struct signer_req *r);
static void signer_req_authorize(struct signer_req *r);
static void signer_req_run(struct signer_req *r, struct signer_authz *a);
static void signer_req_connect(struct signer_req *r, struct signer_authz *a,
			       const struct signer_op *op);
static void signer_req_on_connect(void *arg, int result, const char *error);
static void signer_req_logout(struct signer_req *r, struct signer_authz *a);
static void signer_req_on_logout(void *arg, int result, const char *error);
static void signer_req_exec(struct signer_req *r, struct signer_authz *a, struct signer_op *op);
static void signer_req_exec_here(struct signer_req *r, struct signer_authz *a,
				 const struct signer_op *op);
static void signer_req_stranger(struct signer_req *r, struct signer_authz *a, const char *why);
static void signer_req_answer(struct signer_req *r, const char *outcome, const char *error);
static void signer_req_reply(struct signer_req *r, const char *outcome, const char *result,
			     size_t rlen, const char *error);
static void signer_req_reply_init(struct signer_req *r, const char *outcome);
static void signer_req_reply_submit(struct signer_req *r);
static void signer_req_reply_run(struct workq_job *j);
static void signer_req_on_reply(struct workq_job *j, bool cancelled);
static void signer_req_publish(struct signer_req *r);
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
	[SIGNER_IGN_OVERLOADED] = "signer_max_inflight reached and the backlog (signer_backlog) "
				  "off or out of memory: request left to other replicas",
};

/* A request event: screen it (kept in the backlog while full), then open it on a worker. */
void signer_pipeline_event(struct signer *s, const struct nostr_event *ev, const char *json,
			   size_t len, const char *relay_url)
{
	struct signer_authz *a = signer_req_target(s, ev);
	enum signer_ignore why = signer_req_screen(s, ev, a);
	struct signer_req *r;

	if (why == SIGNER_IGN_OVERLOADED && signer_backlog_push(s, json, len, relay_url)) {
		if (signer_log_due(s, &ev->pubkey))
			log_warn("signer",
				 "signer_max_inflight reached: request kept in the backlog",
				 log_uint("inflight", s->inflight),
				 log_uint("backlog", s->nbacklog));
		return;
	}
	if (why != SIGNER_IGN_COUNT_) {
		signer_ignore(s, why);
		if (why == SIGNER_IGN_OVERLOADED && signer_log_due(s, &ev->pubkey))
			log_warn("signer", signer_req_ignore_msg[why],
				 log_uint("inflight", s->inflight));
		return;
	}
	r = signer_req_new(s, ev, a, relay_url);
	if (r == NULL) {
		log_error("signer", "out of memory: request not claimed");
		return;
	}
	signer_req_open(r);
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
					 const struct signer_authz *a, const char *relay_url)
{
	struct signer_req *r = calloc(1, sizeof(*r));

	if (r == NULL || (r->content = malloc(ev->content.len + 1)) == NULL ||
	    (r->relay = strdup(relay_url)) == NULL) {
		if (r != NULL)
			free(r->content);
		free(r);
		return NULL;
	}
	memcpy(r->content, ev->content.s, ev->content.len + 1);
	r->content_len = ev->content.len;
	r->scheme = signer_scheme_of(r->content, r->content_len);
	r->s = s;
	hex_encode(r->event_id, ev->id, 32);
	memcpy(r->id, ev->id, sizeof(r->id));
	memcpy(r->sig, ev->sig, sizeof(r->sig));
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

/* Claim the verified request in the database (exactly one replica wins it). */
static void signer_req_claim(struct signer_req *r)
{
	r->waiting = true;
	if (db_store_claim(r->s->cfg.store, r->event_id, r->authz_id, r->client_hex,
			   signer_req_on_claim, r) != 0)
		signer_req_on_claim(r, -1, "database pool closed or full");
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
	signer_req_opened(r);
}

/* The request that owns job j. */
static struct signer_req *signer_req_of(struct workq_job *j)
{
	return (struct signer_req *)((char *)j - offsetof(struct signer_req, job));
}

/* A job is back: true (r freed, or left for its publish) when nothing more is done for r. */
static bool signer_req_back(struct signer_req *r, bool cancelled)
{
	r->working = false;
	if (signer_req_gone(r))
		return true;
	if (!cancelled)
		return false;
	signer_req_settle(r, NULL); /* the pool went first: not answered */
	signer_req_free(r);
	return true;
}

/* Hand the verification, decryption and parsing of the request to the worker pool. */
static void signer_req_open(struct signer_req *r)
{
	r->open = (struct signer_work_open){
		.scheme = r->scheme,
		.bunker = &r->bunker,
		.client = &r->client,
		.id = r->id,
		.sig = r->sig,
		.content = r->content,
		.content_len = r->content_len,
		.cache = r->s->cache,
	};
	r->working = true;
	workq_submit(r->s->workq, &r->job, signer_req_open_run, signer_req_on_open);
}

/* Worker: verify, decrypt and parse. */
static void signer_req_open_run(struct workq_job *j)
{
	signer_work_open_run(&signer_req_of(j)->open);
}

/*
 * Loop: the request is verified, decrypted and parsed (or not). A bad
 * signature is the relay's doing: told to the pool (counted, logged), the
 * request dropped unclaimed and uncounted here. Else claim it (even if the
 * replica stopped claiming meanwhile: it was screened before, it counts in
 * flight, and a drain waits for it as for one claimed then).
 */
static void signer_req_on_open(struct workq_job *j, bool cancelled)
{
	struct signer_req *r = signer_req_of(j);

	if (signer_req_back(r, cancelled))
		return;
	if (r->open.verified) {
		signer_req_claim(r);
		return;
	}
	relay_pool_reject_event(r->s->pool, r->relay, r->open.err);
	signer_req_settle(r, NULL);
	signer_req_free(r);
}

/* Loop: the claim is won (or failed): go on with what the open job found. */
static void signer_req_opened(struct signer_req *r)
{
	struct signer_work_open *w = &r->open;

	if (!w->decrypted) {
		signer_req_drop(r, SIGNER_IGN_UNDECRYPTABLE, w->err);
		return;
	}
	r->rq = w->rq; /* moved: r owns it now */
	memset(&w->rq, 0, sizeof(w->rq));
	if (w->parsed == SIGNER_PARSE_NO_ID)
		signer_req_drop(r, SIGNER_IGN_NO_ID, w->err);
	else if (w->parsed == SIGNER_PARSE_BAD)
		signer_req_answer(r, "error", w->err);
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

	struct signer_verdict v;

	if (!signer_engine_live(&v, a, signer_unix_now()))
		signer_req_answer(r, signer_status_outcome(v.status), v.why);
	else if (!bound && r->rq.method != SIGNER_CONNECT && r->db_down)
		signer_req_answer(r, "unavailable", "database unavailable, try again shortly");
	else if (!bound && r->rq.method != SIGNER_CONNECT)
		signer_req_stranger(r, a, "not connected: send connect with the secret first");
	else if (r->db_down)
		signer_req_answer(r, "unavailable", "database unavailable, try again shortly");
	else
		signer_req_run(r, a);
}

/* Policy, params, rate (the engine, shared with the HTTP API); then the method. */
static void signer_req_run(struct signer_req *r, struct signer_authz *a)
{
	struct signer_op op;
	struct signer_verdict v;
	bool ok = signer_engine_admit(&v, &op, a, &r->rq, clock_now_ms(r->s->cfg.clock));

	r->kind = (int)op.kind;
	if (!ok) {
		signer_req_answer(r, signer_status_outcome(v.status), v.why);
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

/* A pure method, as the user's key: on a worker with the reply, unless it reads loop state. */
static void signer_req_exec(struct signer_req *r, struct signer_authz *a, struct signer_op *op)
{
	if (signer_work_on_loop(op->method)) {
		signer_req_exec_here(r, a, op);
		return;
	}
	signer_req_reply_init(r, "ok");
	signer_work_reply_set_op(&r->reply, op, &a->key->kp);
	signer_req_reply_submit(r);
}

/* A pure method run here, on the loop (it reads the authorization), then the reply. */
static void signer_req_exec_here(struct signer_req *r, struct signer_authz *a,
				 const struct signer_op *op)
{
	const struct signer_ctx ctx = {
		.user = &a->key->kp,
		.relays = (const char *const *)a->row->relays,
		.nrelays = a->row->nrelays,
		.now = signer_unix_now(),
	};
	struct signer_result res;
	char err[256];

	if (signer_op_run(&res, op, &ctx, err, sizeof(err)) != 0) {
		signer_req_answer(r, "error", err);
		return;
	}
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

/* Reply with result (or error when not NULL): made on a worker, then published. */
static void signer_req_reply(struct signer_req *r, const char *outcome, const char *result,
			     size_t rlen, const char *error)
{
	signer_req_reply_init(r, outcome);
	if (signer_work_reply_set(&r->reply, result, rlen, error) != 0) {
		log_error("signer", "reply not sent", log_str("request", r->event_id),
			  log_str("error", "out of memory"));
		signer_req_settle(r, "failed");
		signer_req_free(r);
		return;
	}
	signer_req_reply_submit(r);
}

/* The reply's work, to the client in the request's scheme; outcome once it is made. */
static void signer_req_reply_init(struct signer_req *r, const char *outcome)
{
	r->reply_outcome = outcome;
	r->reply = (struct signer_work_reply){
		.scheme = r->scheme,
		.bunker = &r->bunker,
		.client = &r->client,
		.cache = r->s->cache,
		.id = r->rq.id,
		.now = signer_unix_now(),
	};
}

/* Hand the reply's work to the worker pool. */
static void signer_req_reply_submit(struct signer_req *r)
{
	r->working = true;
	workq_submit(r->s->workq, &r->job, signer_req_reply_run, signer_req_on_reply);
}

/* Worker: run the method (if any), make the reply event. */
static void signer_req_reply_run(struct workq_job *j)
{
	signer_work_reply_run(&signer_req_of(j)->reply);
}

/* Loop: the reply is made (or not): count it, publish it. */
static void signer_req_on_reply(struct workq_job *j, bool cancelled)
{
	struct signer_req *r = signer_req_of(j);
	struct signer_work_reply *w = &r->reply;

	if (signer_req_back(r, cancelled))
		return;
	r->outcome = w->op_failed ? "error" : r->reply_outcome;
	if (w->error[0] != '\0')
		snprintf(r->detail, sizeof(r->detail), "%.*s", (int)sizeof(r->detail) - 1,
			 w->error); /* the audit keeps the first 199 bytes */
	memcpy(r->signed_id, w->signed_id, sizeof(r->signed_id));
	signer_metrics_request(&r->s->metrics, signer_req_method(r), r->outcome);
	signer_req_publish(r);
}

/* Publish the reply event; a reply not made or not sent has failed for good. */
static void signer_req_publish(struct signer_req *r)
{
	const struct relay_pub_handlers h = {.on_out = signer_req_on_out,
					     .on_done = signer_req_on_done};
	struct signer_work_reply *w = &r->reply;

	if (w->event != NULL &&
	    relay_pool_publish(r->s->pool, w->event, w->event_len, w->event_id, &h, r) == 0) {
		r->publishing = true;
		log_debug("signer", "reply published", log_str("method", signer_req_method(r)),
			  log_str("outcome", r->outcome), log_str("request", r->event_id),
			  log_str("reply", w->event_id));
		return;
	}
	log_error("signer", "reply not sent", log_str("request", r->event_id),
		  log_str("error",
			  w->event == NULL ? w->err : "relay pool closing or out of memory"));
	signer_req_settle(r, "failed");
	signer_req_free(r);
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
	signer_backlog_room(s);
	signer_check_drained(s);
}

/* Queue the audit entry of an answered request (the engine's, shared with the HTTP API). */
static void signer_req_audit(struct signer_req *r)
{
	const struct signer_engine_record e = {
		.authz_id = r->authz_id,
		.key_hex = r->key_hex,
		.client_hex = r->client_hex,
		.method = signer_req_method(r),
		.kind = r->kind,
		.event_id = r->signed_id[0] ? r->signed_id : r->event_id,
		.outcome = r->outcome,
		.detail = r->detail[0] ? r->detail : NULL,
	};

	signer_engine_audit(r->s->audit, &e);
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
	signer_work_open_clear(&r->open);
	signer_work_reply_clear(&r->reply);
	free(r->content);
	free(r->relay);
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
		if (!r->waiting && !r->working && !r->publishing)
			signer_req_free(r);
	}
	return n;
}

/*
 * Free every request; those a store callback or a worker job is due for
 * are orphaned and free themselves (free the worker pool next: it hands
 * its jobs back).
 */
void signer_pipeline_free_all(struct signer *s)
{
	struct signer_req *r = s->reqs, *next;

	for (; r != NULL; r = next) {
		next = r->next;
		r->s = NULL;
		r->publishing = false; /* the pool is freed next: no callback comes */
		if (!r->waiting && !r->working)
			signer_req_free(r);
	}
	s->reqs = NULL;
}
