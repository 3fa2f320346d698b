/*
 * signer_api.c - one HTTP API call, from token to answer (signer_api.h).
 */
#include "signer/signer_api.h"

#include "core/clock.h"
#include "core/log.h"
#include "db/db_store.h"
#include "db/db_token.h"
#include "nostr/hex.h"
#include "nostr/jstr.h"
#include "nostr/wipe.h"
#include "signer/signer_engine.h"
#include "signer/signer_int.h"
#include "signer/signer_serving.h"

#include <openssl/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Seconds a client is told to wait before retrying after a 503. */
#define SIGNER_API_RETRY_S 1

/* One call whose answer is due. */
struct signer_api_call {
	struct signer *s; /* NULL once orphaned */
	struct signer_api_call *prev, *next;
	signer_api_done_fn done;
	void *arg;
	bool cancelled; /* the answer is no longer wanted */
	bool waiting;	/* the database check's callback is due */
	bool working;	/* the worker job's done is due */
	int64_t token_id, authz_id;
	char key_hex[65];
	struct signer_request rq;
	struct workq_job job;
	/* the method's work: in */
	struct signer_op op;
	struct nostr_keypair user; /* a copy (secret): wiped once the method has run */
	struct nip44_cache *cache;
	int64_t now;
	/* out */
	struct signer_result res;
	bool failed;
	char err[256];
};

static struct signer_api_call *signer_api_new(struct signer *s, signer_api_done_fn done, void *arg);
static bool signer_api_token(struct signer_api_call *c, struct signer_verdict *v, const char *token,
			     size_t toklen);
static bool signer_api_parse(struct signer_api_call *c, struct signer_verdict *v, const char *body,
			     size_t len);
static void signer_api_on_live(void *arg, int result, const char *error);
static void signer_api_admit(struct signer_api_call *c);
static void signer_api_run(struct workq_job *j);
static void signer_api_on_run(struct workq_job *j, bool cancelled);
static void signer_api_refuse(struct signer_api_call *c, const struct signer_verdict *v);
static void signer_api_result(struct signer_api_call *c);
static void signer_api_answer(struct signer_api_call *c, int status, int64_t retry_s,
			      const char *body, size_t len);
static void signer_api_audit(struct signer_api_call *c, const char *outcome, const char *detail);
static const char *signer_api_method(const struct signer_api_call *c);
static void signer_api_free(struct signer_api_call *c);

/* Start a call: the checks that need no database, then the database's. */
struct signer_api_call *signer_api_start(struct signer *s, const char *token, size_t toklen,
					 const char *body, size_t len, signer_api_done_fn done,
					 void *arg)
{
	struct signer_api_call *c = signer_api_new(s, done, arg);
	struct signer_verdict v;

	if (c == NULL) {
		const struct signer_api_answer a = {.status = 503,
						    .retry_after_s = SIGNER_API_RETRY_S,
						    .method = "unknown",
						    .body = "{\"error\":\"out of memory\"}",
						    .len = 25};

		done(arg, &a);
		return NULL;
	}
	if (!signer_api_token(c, &v, token, toklen) || !signer_api_parse(c, &v, body, len)) {
		signer_api_refuse(c, &v);
		return NULL;
	}
	c->waiting = true;
	if (db_store_token_live(s->cfg.store, c->token_id, signer_api_on_live, c) == 0)
		return c;
	c->waiting = false;
	signer_verdict_set(&v, SIGNER_STATUS_UNAVAILABLE,
			   "database unavailable, try again shortly");
	v.retry_ms = SIGNER_API_RETRY_S * 1000;
	signer_api_refuse(c, &v);
	return NULL;
}

/* A call, linked to the signer. NULL on ENOMEM. */
static struct signer_api_call *signer_api_new(struct signer *s, signer_api_done_fn done, void *arg)
{
	struct signer_api_call *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->s = s;
	c->done = done;
	c->arg = arg;
	c->rq.method = SIGNER_METHOD_COUNT_;
	nostr_event_init(&c->op.tmpl);
	c->op.kind = -1;
	c->next = s->api_calls;
	if (c->next != NULL)
		c->next->prev = c;
	s->api_calls = c;
	return c;
}

/* The token: well-formed, known, not revoked; its authorization served. */
static bool signer_api_token(struct signer_api_call *c, struct signer_verdict *v, const char *token,
			     size_t toklen)
{
	const struct signer_serving *sv = c->s->serving;
	const struct signer_token *t;
	const struct signer_authz *a;
	unsigned char hash[DB_HASH_LEN];

	if (token == NULL)
		return signer_verdict_set(
			v, SIGNER_STATUS_UNAUTHORIZED,
			"missing bearer token: send Authorization: Bearer <token>");
	if (sv == NULL) {
		signer_verdict_set(v, SIGNER_STATUS_UNAVAILABLE,
				   "not ready: the authorizations are not loaded yet");
		v->retry_ms = SIGNER_API_RETRY_S * 1000;
		return false;
	}
	db_token_hash(hash, token, toklen);
	t = db_token_well_formed(token, toklen) ? signer_serving_by_token(sv, hash) : NULL;
	OPENSSL_cleanse(hash, sizeof(hash));
	if (t == NULL)
		return signer_verdict_set(v, SIGNER_STATUS_UNAUTHORIZED, "unknown token");
	c->token_id = t->row->id;
	c->authz_id = t->row->authz_id;
	if ((a = signer_serving_by_id(sv, c->authz_id)) != NULL)
		nostr_pubkey_to_hex(c->key_hex, &a->key->kp.pub);
	if (t->row->revoked)
		return signer_verdict_set(v, SIGNER_STATUS_FORBIDDEN, "token revoked");
	return true;
}

/* The body: a call of a method the API offers. */
static bool signer_api_parse(struct signer_api_call *c, struct signer_verdict *v, const char *body,
			     size_t len)
{
	enum signer_method m;

	if (signer_request_parse_call(&c->rq, body, len, v->why, sizeof(v->why)) !=
	    SIGNER_PARSE_OK) {
		v->status = SIGNER_STATUS_BAD;
		v->retry_ms = 0;
		return false;
	}
	m = c->rq.method;
	if (m == SIGNER_CONNECT || m == SIGNER_LOGOUT || m == SIGNER_SWITCH_RELAYS)
		return signer_verdict_set(v, SIGNER_STATUS_BAD,
					  "method \"%s\" is a NIP-46 session method, not offered "
					  "over HTTP",
					  signer_method_name(m));
	return true;
}

/* The database says whether the token and its authorization are live now. */
static void signer_api_on_live(void *arg, int result, const char *error)
{
	struct signer_api_call *c = arg;
	struct signer_verdict v;

	c->waiting = false;
	if (c->s == NULL || c->cancelled) {
		signer_api_free(c);
		return;
	}
	if (result < 0) {
		log_warn("api", "token not checked: answering 503",
			 log_str("error", error != NULL ? error : "unknown"));
		signer_verdict_set(&v, SIGNER_STATUS_UNAVAILABLE,
				   "database unavailable, try again shortly");
		v.retry_ms = SIGNER_API_RETRY_S * 1000;
		signer_api_refuse(c, &v);
	} else if (result == 0) {
		signer_verdict_set(&v, SIGNER_STATUS_FORBIDDEN,
				   "token revoked, or its authorization revoked or expired");
		signer_api_refuse(c, &v);
	} else
		signer_api_admit(c);
}

/* The engine's checks on the authorization as served now; then the method on a worker. */
static void signer_api_admit(struct signer_api_call *c)
{
	struct signer *s = c->s;
	struct signer_authz *a = s->serving ? signer_serving_by_id(s->serving, c->authz_id) : NULL;
	struct signer_verdict v;

	if (a != NULL)
		nostr_pubkey_to_hex(c->key_hex, &a->key->kp.pub);
	if (!signer_engine_live(&v, a, signer_unix_now()) ||
	    !signer_engine_admit(&v, &c->op, a, &c->rq, clock_now_ms(s->cfg.clock))) {
		signer_api_refuse(c, &v);
		return;
	}
	c->user = a->key->kp;
	c->cache = s->cache;
	c->now = signer_unix_now();
	c->working = true;
	workq_submit(s->workq, &c->job, signer_api_run, signer_api_on_run);
}

/* Worker: run the method as the user's key. */
static void signer_api_run(struct workq_job *j)
{
	struct signer_api_call *c =
		(struct signer_api_call *)((char *)j - offsetof(struct signer_api_call, job));
	const struct signer_ctx ctx = {.user = &c->user, .cache = c->cache, .now = c->now};

	c->failed = signer_op_run(&c->res, &c->op, &ctx, c->err, sizeof(c->err)) != 0;
	nostr_keypair_wipe(&c->user);
}

/* Loop: the method has run (or the pool went first): answer. */
static void signer_api_on_run(struct workq_job *j, bool cancelled)
{
	struct signer_api_call *c =
		(struct signer_api_call *)((char *)j - offsetof(struct signer_api_call, job));
	struct signer_verdict v;

	c->working = false;
	if (c->s == NULL || cancelled) {
		signer_api_free(c);
		return;
	}
	if (!c->failed) {
		signer_api_result(c);
		return;
	}
	signer_verdict_set(&v, SIGNER_STATUS_BAD, "%s", c->err);
	signer_api_refuse(c, &v);
}

/* Answer {"error": reason} with v's status, audit, free. */
static void signer_api_refuse(struct signer_api_call *c, const struct signer_verdict *v)
{
	struct jstr_buf b = {0};
	char *json = NULL;
	size_t len = 0;
	int64_t retry_s = v->retry_ms > 0 ? (v->retry_ms + 999) / 1000 : 0;

	if (c->authz_id > 0 && v->status != SIGNER_STATUS_UNAUTHORIZED)
		signer_api_audit(c, signer_status_outcome(v->status), v->why);
	jstr_buf_puts(&b, "{\"error\":");
	jstr_buf_string(&b, v->why, strlen(v->why));
	jstr_buf_puts(&b, "}");
	if (jstr_buf_finish(&b, &json, &len) != 0)
		signer_api_answer(c, 503, SIGNER_API_RETRY_S, "{\"error\":\"out of memory\"}", 25);
	else
		signer_api_answer(c, (int)v->status, retry_s, json, len);
	free(json);
}

/* Answer {"result": ...}: sign_event's event as an object, other results as a string. */
static void signer_api_result(struct signer_api_call *c)
{
	struct jstr_buf b = {0};
	char *json = NULL;
	size_t len = 0;

	signer_api_audit(c, "ok", NULL);
	jstr_buf_puts(&b, "{\"result\":");
	if (c->op.method == SIGNER_SIGN_EVENT)
		jstr_buf_put(&b, c->res.s, c->res.len); /* our own canonical event JSON */
	else
		jstr_buf_string(&b, c->res.s, c->res.len);
	jstr_buf_puts(&b, "}");
	if (jstr_buf_finish(&b, &json, &len) != 0)
		signer_api_answer(c, 503, SIGNER_API_RETRY_S, "{\"error\":\"out of memory\"}", 25);
	else
		signer_api_answer(c, 200, 0, json, len);
	wipe_free(json, len); /* may hold a plaintext */
}

/* Hand the answer over (unless cancelled) and free the call. */
static void signer_api_answer(struct signer_api_call *c, int status, int64_t retry_s,
			      const char *body, size_t len)
{
	const struct signer_api_answer a = {.status = status,
					    .retry_after_s = retry_s,
					    .method = signer_api_method(c),
					    .body = body,
					    .len = len};

	if (!c->cancelled)
		c->done(c->arg, &a);
	signer_api_free(c);
}

/* Queue the call's audit entry (the engine's, as for NIP-46). */
static void signer_api_audit(struct signer_api_call *c, const char *outcome, const char *detail)
{
	char via[64];
	const struct signer_engine_record e = {
		.authz_id = c->authz_id,
		.key_hex = c->key_hex[0] != '\0' ? c->key_hex : "",
		.client_hex = NULL,
		.method = signer_api_method(c),
		.kind = (int)c->op.kind,
		.event_id = c->res.event_id[0] != '\0' ? c->res.event_id : NULL,
		.outcome = outcome,
		.detail = detail != NULL ? detail : via,
	};

	snprintf(via, sizeof(via), "http api token %lld", (long long)c->token_id);
	signer_engine_audit(c->s->audit, &e);
}

/* The method's name for metrics and the audit ("unknown" when not parsed). */
static const char *signer_api_method(const struct signer_api_call *c)
{
	return c->rq.method_known ? signer_method_name(c->rq.method) : "unknown";
}

/* The answer is no longer wanted. */
void signer_api_cancel(struct signer_api_call *c)
{
	c->cancelled = true;
}

/* Unlink (unless orphaned) and free a call, wiping what it holds. */
static void signer_api_free(struct signer_api_call *c)
{
	struct signer *s = c->s;

	if (s != NULL) {
		if (c->prev != NULL)
			c->prev->next = c->next;
		else
			s->api_calls = c->next;
		if (c->next != NULL)
			c->next->prev = c->prev;
	}
	signer_op_clear(&c->op);
	signer_request_clear(&c->rq);
	signer_result_clear(&c->res);
	nostr_keypair_wipe(&c->user);
	free(c);
}

/* Free every call; those a database callback or a worker job is due for are orphaned. */
void signer_api_free_all(struct signer *s)
{
	struct signer_api_call *c = s->api_calls, *next;

	for (; c != NULL; c = next) {
		next = c->next;
		c->s = NULL;
		if (!c->waiting && !c->working)
			signer_api_free(c);
	}
	s->api_calls = NULL;
}
