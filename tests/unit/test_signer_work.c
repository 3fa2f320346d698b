/*
 * test_signer_work.c - the request crypto as worker jobs: opening a
 * request (its signature verified first: a forged one is not decrypted;
 * NIP-44 and NIP-04, undecryptable content), making a reply
 * (sign_event as the user, a failing method, a given result or error),
 * the user's keypair copy wiped once the method ran, and many requests
 * run on the worker pool with 1 thread (inline) and with 2 and 4 threads
 * sharing one conversation-key cache, each reply checked by its client,
 * and every fourth request forged (a bad signature) and refused there.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/workq.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "nostr/nip44.h"
#include "nostr/wipe.h"
#include "signer/signer_work.h"

#define NCLIENTS 8
#define NREQS	 64

/* A sign_event request, as its client sends it (before encryption). */
static const char tw_sign_req[] =
	"{\"id\":\"req-1\",\"method\":\"sign_event\",\"params\":[\"{\\\"kind\\\":1,"
	"\\\"created_at\\\":1700000000,\\\"tags\\\":[],\\\"content\\\":\\\"hello\\\"}\"]}";

/* The keys of a test: a bunker, a user, clients. */
static struct {
	struct nostr_keypair bunker, user, client[NCLIENTS];
	struct nip44_cache *cache;
} k;

/* The pool of tw_pool_run, for the dones that submit the reply. */
static struct workq *tw_q;

/* One request through both jobs on a pool. */
struct tw_req {
	struct workq_job job;
	int client;
	char *content; /* encrypted request */
	size_t content_len;
	struct signer_work_open open;
	struct signer_work_reply reply;
	struct signer_request rq;
	uint8_t id[32], sig[64]; /* of the request event */
	bool forged;		 /* sig is not the client's signature of id */
	bool replied;		 /* the reply job came back and checked out */
	bool rejected;		 /* the open job refused the signature */
};

static int tw_setup(void **state);
static int tw_teardown(void **state);
static char *tw_encrypt(size_t *len, enum signer_scheme s, int client, const char *json);
static void tw_open(struct signer_work_open *w, enum signer_scheme s, int client,
		    const char *content, size_t len);
static char *tw_reply_json(const struct signer_work_reply *w, enum signer_scheme s, int client,
			   size_t *len);
static char *tw_member(const char *json, size_t len, const char *name);
static bool tw_is_zero(const void *p, size_t n);
static void tw_sign(uint8_t id[32], uint8_t sig[64], int client, const char *content);
static void tw_open_run(struct workq_job *j);
static void tw_open_done(struct workq_job *j, bool cancelled);
static void tw_reply_run(struct workq_job *j);
static void tw_reply_done(struct workq_job *j, bool cancelled);

/* Fresh keys and a cache. */
static int tw_setup(void **state)
{
	(void)state;
	if (nostr_keypair_generate(&k.bunker) != 0 || nostr_keypair_generate(&k.user) != 0 ||
	    nip44_cache_new(&k.cache, 64) != 0)
		return -1;
	for (int i = 0; i < NCLIENTS; i++)
		if (nostr_keypair_generate(&k.client[i]) != 0)
			return -1;
	return 0;
}

/* Free the cache. */
static int tw_teardown(void **state)
{
	(void)state;
	nip44_cache_free(&k.cache);
	return 0;
}

/* json encrypted by client to the bunker under s (malloc'd). */
static char *tw_encrypt(size_t *len, enum signer_scheme s, int client, const char *json)
{
	char *ct = NULL, err[128];

	assert_int_equal(signer_encrypt(&ct, len, s, &k.client[client], &k.bunker.pub,
					(const uint8_t *)json, strlen(json), NULL, err,
					sizeof(err)),
			 0);
	return ct;
}

/* An open job for content from client. */
static void tw_open(struct signer_work_open *w, enum signer_scheme s, int client,
		    const char *content, size_t len)
{
	*w = (struct signer_work_open){
		.scheme = s,
		.bunker = &k.bunker,
		.client = &k.client[client].pub,
		.content = content,
		.content_len = len,
		.cache = k.cache,
	};
}

/* The reply event's content as client reads it: checked signed by the bunker, p-tagged. */
static char *tw_reply_json(const struct signer_work_reply *w, enum signer_scheme s, int client,
			   size_t *len)
{
	struct nostr_event ev;
	uint8_t *pt = NULL;
	char err[128], id[65];

	assert_non_null(w->event);
	assert_int_equal(
		nostr_event_parse(&ev, w->event, w->event_len, NOSTR_EVENT_SIGNED, NULL, err, 128),
		0);
	assert_int_equal(nostr_event_verify(&ev, err, sizeof(err)), 0);
	assert_int_equal(ev.kind, SIGNER_KIND);
	assert_true(nostr_pubkey_equal(&ev.pubkey, &k.bunker.pub));
	hex_encode(id, ev.id, 32);
	assert_string_equal(id, w->event_id);
	assert_int_equal(signer_scheme_of(ev.content.s, ev.content.len), s);
	assert_int_equal(signer_decrypt(&pt, len, s, &k.client[client], &k.bunker.pub, ev.content.s,
					ev.content.len, NULL, err, sizeof(err)),
			 0);
	nostr_event_clear(&ev);
	return (char *)pt;
}

/* The string member name of json (malloc'd), or NULL. */
static char *tw_member(const char *json, size_t len, const char *name)
{
	const char *v;
	size_t vlen, n;
	char *s;

	if (nostr_json_object_member(&v, &vlen, json, len, name) != 0 ||
	    nostr_json_string(&s, &n, v, vlen, len) != 0)
		return NULL;
	return s;
}

/* Whether n bytes at p are all zero. */
static bool tw_is_zero(const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* The request event of content signed by client: its id and signature. */
static void tw_sign(uint8_t id[32], uint8_t sig[64], int client, const char *content)
{
	const char *p[] = {"p", "00"};
	char bunker[65], err[128];
	struct nostr_event ev;

	nostr_pubkey_to_hex(bunker, &k.bunker.pub);
	p[1] = bunker;
	nostr_event_init(&ev);
	ev.kind = SIGNER_KIND;
	ev.created_at = 1700000000;
	ev.has_created_at = 1;
	assert_int_equal(nostr_event_set_content(&ev, content, strlen(content)), 0);
	assert_int_equal(nostr_event_add_tag(&ev, p, 2), 0);
	assert_int_equal(nostr_event_sign(&ev, &k.client[client], err, sizeof(err)), 0);
	memcpy(id, ev.id, 32);
	memcpy(sig, ev.sig, 64);
	nostr_event_clear(&ev);
}

/*
 * The signature is checked first: a good one opens; a flipped bit, or
 * the right signature under another client's pubkey, is refused with
 * nothing decrypted or parsed.
 */
static void test_open_signature(void **state)
{
	struct signer_work_open w;
	uint8_t id[32], sig[64];
	size_t len;
	char *ct = tw_encrypt(&len, SIGNER_NIP44, 0, tw_sign_req);

	(void)state;
	tw_sign(id, sig, 0, ct);
	tw_open(&w, SIGNER_NIP44, 0, ct, len);
	w.id = id, w.sig = sig;
	signer_work_open_run(&w);
	assert_true(w.verified);
	assert_true(w.decrypted);
	assert_string_equal(w.rq.id, "req-1");
	signer_work_open_clear(&w);
	sig[17] ^= 0x01;
	tw_open(&w, SIGNER_NIP44, 0, ct, len);
	w.id = id, w.sig = sig;
	signer_work_open_run(&w);
	assert_false(w.verified);
	assert_false(w.decrypted);
	assert_string_equal(w.err, "event verify: bad signature");
	assert_int_equal(w.rq.nparams, 0);
	assert_false(w.rq.has_id);
	sig[17] ^= 0x01;
	tw_open(&w, SIGNER_NIP44, 1, ct, len); /* client 0's signature, client 1's pubkey */
	w.id = id, w.sig = sig;
	signer_work_open_run(&w);
	assert_false(w.verified);
	assert_false(w.decrypted);
	signer_work_open_clear(&w);
	free(ct);
}

/* A request opens under both schemes; the parsed request is the client's. */
static void test_open(void **state)
{
	static const enum signer_scheme schemes[] = {SIGNER_NIP44, SIGNER_NIP04};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct signer_work_open w;
		size_t len;
		char *ct = tw_encrypt(&len, schemes[i], 0, tw_sign_req);

		tw_open(&w, schemes[i], 0, ct, len);
		signer_work_open_run(&w);
		assert_true(w.decrypted);
		assert_int_equal(w.parsed, SIGNER_PARSE_OK);
		assert_string_equal(w.rq.id, "req-1");
		assert_int_equal(w.rq.method, SIGNER_SIGN_EVENT);
		assert_int_equal(w.rq.nparams, 1);
		signer_work_open_clear(&w);
		assert_int_equal(w.rq.nparams, 0);
		free(ct);
	}
}

/* Content that does not decrypt is reported, nothing parsed. */
static void test_open_undecryptable(void **state)
{
	static const char junk[] =
		"AgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	struct signer_work_open w;

	(void)state;
	tw_open(&w, SIGNER_NIP44, 1, junk, sizeof(junk) - 1);
	signer_work_open_run(&w);
	assert_false(w.decrypted);
	assert_non_null(strstr(w.err, "nip44"));
	assert_int_equal(w.rq.nparams, 0);
	signer_work_open_clear(&w);
}

/* sign_event: the reply carries the event signed as the user; the user's key copy is wiped. */
static void test_reply_sign_event(void **state)
{
	struct signer_work_reply w = {.scheme = SIGNER_NIP44,
				      .bunker = &k.bunker,
				      .client = &k.client[2].pub,
				      .cache = k.cache,
				      .id = "req-1",
				      .now = 1700000001};
	struct signer_request rq;
	struct signer_op op;
	struct nostr_event signed_ev;
	char err[128], *json, *result, id[65];
	size_t jlen;

	(void)state;
	assert_int_equal(signer_request_parse(&rq, tw_sign_req, strlen(tw_sign_req), err, 128),
			 SIGNER_PARSE_OK);
	assert_int_equal(signer_op_parse(&op, &rq, err, sizeof(err)), 0);
	signer_work_reply_set_op(&w, &op, &k.user);
	signer_op_clear(&op); /* taken over: clearing the caller's op is harmless */
	signer_work_reply_run(&w);
	assert_false(w.op_failed);
	assert_true(tw_is_zero(&w.user, sizeof(w.user)));
	json = tw_reply_json(&w, SIGNER_NIP44, 2, &jlen);
	result = tw_member(json, jlen, "result");
	assert_non_null(result);
	assert_null(tw_member(json, jlen, "error"));
	assert_int_equal(nostr_event_parse(&signed_ev, result, strlen(result), NOSTR_EVENT_SIGNED,
					   NULL, err, sizeof(err)),
			 0);
	assert_int_equal(nostr_event_verify(&signed_ev, err, sizeof(err)), 0);
	assert_true(nostr_pubkey_equal(&signed_ev.pubkey, &k.user.pub));
	hex_encode(id, signed_ev.id, 32);
	assert_string_equal(id, w.signed_id);
	nostr_event_clear(&signed_ev);
	free(result);
	wipe_free(json, jlen);
	signer_work_reply_clear(&w);
	signer_request_clear(&rq);
}

/* A method that fails makes an error reply naming why. */
static void test_reply_op_fails(void **state)
{
	static const char req[] =
		"{\"id\":\"req-2\",\"method\":\"nip44_decrypt\",\"params\":[\"%s\",\"AgAA\"]}";
	char json_req[256], hex[65], err[128], *json, *error;
	struct signer_work_reply w = {.scheme = SIGNER_NIP04,
				      .bunker = &k.bunker,
				      .client = &k.client[3].pub,
				      .id = "req-2",
				      .now = 1700000001};
	struct signer_request rq;
	struct signer_op op;
	size_t jlen;

	(void)state;
	nostr_pubkey_to_hex(hex, &k.client[4].pub);
	snprintf(json_req, sizeof(json_req), req, hex);
	assert_int_equal(signer_request_parse(&rq, json_req, strlen(json_req), err, 128),
			 SIGNER_PARSE_OK);
	assert_int_equal(signer_op_parse(&op, &rq, err, sizeof(err)), 0);
	signer_work_reply_set_op(&w, &op, &k.user);
	signer_work_reply_run(&w);
	assert_true(w.op_failed);
	assert_string_equal(w.signed_id, "");
	json = tw_reply_json(&w, SIGNER_NIP04, 3, &jlen);
	error = tw_member(json, jlen, "error");
	assert_non_null(error);
	assert_non_null(strstr(error, "nip44_decrypt"));
	free(error);
	wipe_free(json, jlen);
	signer_work_reply_clear(&w);
	signer_request_clear(&rq);
}

/* A given result ("ack") or a given error goes out as it is. */
static void test_reply_given(void **state)
{
	struct signer_work_reply w = {.scheme = SIGNER_NIP44,
				      .bunker = &k.bunker,
				      .client = &k.client[5].pub,
				      .id = "c1",
				      .now = 1700000002};
	char *json, *s;
	size_t jlen;

	(void)state;
	assert_int_equal(signer_work_reply_set(&w, "ack", 3, NULL), 0);
	signer_work_reply_run(&w);
	json = tw_reply_json(&w, SIGNER_NIP44, 5, &jlen);
	assert_non_null(s = tw_member(json, jlen, "result"));
	assert_string_equal(s, "ack");
	free(s);
	wipe_free(json, jlen);
	signer_work_reply_clear(&w);

	w = (struct signer_work_reply){.scheme = SIGNER_NIP44,
				       .bunker = &k.bunker,
				       .client = &k.client[5].pub,
				       .id = "c2"};
	assert_int_equal(signer_work_reply_set(&w, "", 0, "authorization revoked"), 0);
	signer_work_reply_run(&w);
	assert_false(w.op_failed);
	json = tw_reply_json(&w, SIGNER_NIP44, 5, &jlen);
	assert_non_null(s = tw_member(json, jlen, "error"));
	assert_string_equal(s, "authorization revoked");
	free(s);
	wipe_free(json, jlen);
	signer_work_reply_clear(&w);
	assert_true(signer_work_on_loop(SIGNER_SWITCH_RELAYS));
	assert_false(signer_work_on_loop(SIGNER_SIGN_EVENT));
}

/* Worker: open the request. */
static void tw_open_run(struct workq_job *j)
{
	signer_work_open_run(&((struct tw_req *)j)->open);
}

/*
 * Loop: a forged request is refused, nothing of it decrypted; of a good
 * one, take the parsed request, make the sign_event operation, hand out
 * the reply.
 */
static void tw_open_done(struct workq_job *j, bool cancelled)
{
	struct tw_req *r = (struct tw_req *)j;
	struct signer_op op;
	char err[128];

	assert_false(cancelled);
	assert_int_equal(r->open.verified, !r->forged);
	if (r->forged) {
		assert_false(r->open.decrypted);
		assert_false(r->open.rq.has_id);
		r->rejected = true;
		return;
	}
	assert_true(r->open.decrypted);
	r->rq = r->open.rq;
	memset(&r->open.rq, 0, sizeof(r->open.rq));
	assert_int_equal(signer_op_parse(&op, &r->rq, err, sizeof(err)), 0);
	r->reply = (struct signer_work_reply){.scheme = SIGNER_NIP44,
					      .bunker = &k.bunker,
					      .client = &k.client[r->client].pub,
					      .cache = k.cache,
					      .id = r->rq.id,
					      .now = 1700000003};
	signer_work_reply_set_op(&r->reply, &op, &k.user);
	workq_submit(tw_q, &r->job, tw_reply_run, tw_reply_done);
}

/* Worker: make the reply. */
static void tw_reply_run(struct workq_job *j)
{
	signer_work_reply_run(&((struct tw_req *)j)->reply);
}

/* Loop: the client reads the reply; it holds an event signed by the user. */
static void tw_reply_done(struct workq_job *j, bool cancelled)
{
	struct tw_req *r = (struct tw_req *)j;
	size_t jlen;
	char *json, *id;

	assert_false(cancelled);
	assert_false(r->reply.op_failed);
	json = tw_reply_json(&r->reply, SIGNER_NIP44, r->client, &jlen);
	id = tw_member(json, jlen, "id");
	assert_non_null(id);
	assert_string_equal(id, "req-1");
	assert_int_equal(strlen(r->reply.signed_id), 64);
	r->replied = true;
	free(id);
	wipe_free(json, jlen);
}

/* NREQS requests from NCLIENTS clients through a pool of threads workers (0: inline). */
static void tw_pool_run(unsigned threads)
{
	struct event_base *base = event_base_new();
	struct tw_req *reqs = calloc(NREQS, sizeof(*reqs));
	struct workq *q = NULL;
	const struct timeval limit = {60, 0};
	uint64_t hits0, misses0, hits, misses;
	char err[128];
	size_t n = 0, refused = 0;

	assert_non_null(base);
	assert_non_null(reqs);
	assert_int_equal(workq_new(&q, base, threads, err, sizeof(err)), 0);
	tw_q = q;
	nip44_cache_stats(k.cache, &hits0, &misses0);
	for (int i = 0; i < NREQS; i++) {
		reqs[i].client = i % NCLIENTS;
		reqs[i].content =
			tw_encrypt(&reqs[i].content_len, SIGNER_NIP44, reqs[i].client, tw_sign_req);
		tw_open(&reqs[i].open, SIGNER_NIP44, reqs[i].client, reqs[i].content,
			reqs[i].content_len);
		tw_sign(reqs[i].id, reqs[i].sig, reqs[i].client, reqs[i].content);
		reqs[i].forged = i % 4 == 3;
		reqs[i].sig[63] ^= reqs[i].forged ? 0x80 : 0;
		reqs[i].open.id = reqs[i].id;
		reqs[i].open.sig = reqs[i].sig;
	}
	for (int i = 0; i < NREQS; i++)
		workq_submit(q, &reqs[i].job, tw_open_run, tw_open_done);
	event_base_loopexit(base, &limit);
	while (workq_pending(q) > 0 && !event_base_got_exit(base))
		event_base_loop(base, EVLOOP_ONCE);
	for (int i = 0; i < NREQS; i++) {
		n += reqs[i].replied;
		refused += reqs[i].rejected;
		signer_work_open_clear(&reqs[i].open);
		signer_work_reply_clear(&reqs[i].reply);
		signer_request_clear(&reqs[i].rq);
		free(reqs[i].content);
	}
	assert_int_equal(n, NREQS - NREQS / 4);
	assert_int_equal(refused, NREQS / 4);
	nip44_cache_stats(k.cache, &hits, &misses);
	/* a decrypt and an encrypt for each good request; nothing for the forged */
	assert_int_equal(hits + misses - hits0 - misses0, 2 * n);
	assert_true(misses - misses0 <= 2 * n);
	workq_free(q);
	free(reqs);
	event_base_free(base);
}

/* signer_threads = 1: the jobs run inline. */
static void test_pool_inline(void **state)
{
	(void)state;
	tw_pool_run(0);
}

/* signer_threads = 2 and 4: workers share the cache; every reply checks out. */
static void test_pool_threads(void **state)
{
	(void)state;
	tw_pool_run(2);
	tw_pool_run(4);
}

/* The tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open),
		cmocka_unit_test(test_open_signature),
		cmocka_unit_test(test_open_undecryptable),
		cmocka_unit_test(test_reply_sign_event),
		cmocka_unit_test(test_reply_op_fails),
		cmocka_unit_test(test_reply_given),
		cmocka_unit_test(test_pool_inline),
		cmocka_unit_test(test_pool_threads),
	};

	return cmocka_run_group_tests(tests, tw_setup, tw_teardown);
}
