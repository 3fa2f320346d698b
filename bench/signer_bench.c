/*
 * signer_bench.c - the NIP-46 signer pipeline of one sign_event request,
 * without I/O, against its crypto floor.
 *
 * Pipeline, per request: verify the request event, decrypt its NIP-44
 * content (signer_decrypt with a conversation-key cache, as the daemon
 * does), parse the request, make the operation, sign the user's event,
 * build the reply JSON, encrypt it, build and sign the reply event.
 *
 * Floor, per request: the same crypto calls alone on precomputed inputs:
 * SHA-256 of the request's serialization and its BIP-340 verification,
 * NIP-44 decrypt and encrypt under the cached conversation key, and two
 * BIP-340 signatures (the user's event and the reply), each with the
 * SHA-256 of its serialization and 32 bytes of CSPRNG aux randomness.
 *
 * Both are measured in KC_BENCH_ROUNDS alternating rounds (default 5) of
 * KC_BENCH_MS / rounds milliseconds each (default 3000 in all) of this
 * thread's CPU time; the best round of each counts, so that another
 * process on a shared machine skews the ratio less. The goal is a floor
 * of 80 % of the pipeline or more.
 *
 * Worker threads: the same requests as the daemon runs them, on an event
 * loop with the signer's worker pool (core/workq.h, signer_work.h): the
 * id checked on the loop (the relay pool does it there, defer_verify),
 * open (verify the signature, decrypt, parse) on a worker, the operation
 * parsed on the loop, the reply (sign the user's event, reply JSON,
 * encrypt, sign the reply) on a worker, KC_BENCH_WINDOW requests in
 * flight (default 256). Measured in wall-clock time over KC_BENCH_REQS
 * requests (default 2000) for signer_threads 1 (inline, on the loop
 * thread) and 2 (two workers), in alternating rounds, best round each;
 * printed with the process's CPU time per request and the loop thread's
 * (what one event loop spends per request: its ceiling). Figures only:
 * nothing is asserted of them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <openssl/sha.h>
#include <secp256k1_schnorrsig.h>

#include "core/workq.h"
#include "nostr/event.h"
#include "nostr/keys.h"
#include "nostr/nip44.h"
#include "nostr/wipe.h"
#include "signer/signer_op.h"
#include "signer/signer_request.h"
#include "signer/signer_work.h"

/* One request in flight in the threaded run. */
struct sbt_req {
	struct workq_job job;
	struct sbt *t;
	struct signer_work_open open;
	struct signer_work_reply reply;
	struct signer_request rq;
};

/* The threaded run: a window of request slots, those free to reuse, the counts. */
struct sbt {
	struct sb *b;
	struct workq *q;
	struct sbt_req *slots;
	struct sbt_req **free_slots;
	size_t nfree;
	long sent, done, total;
	int failed;
};

/* A threaded run's figures. */
struct sbt_figures {
	double wall_us, cpu_us; /* per request */
	double loop_us;		/* the loop thread's CPU time per request */
};

/* Everything the pipeline and the floor share. */
struct sb {
	struct nostr_keypair client, bunker, user;
	struct nip44_cache *cache;
	struct nip44_key ck;	    /* client <-> bunker, for the floor */
	struct nostr_event request; /* kind 24133 from the client */
	int64_t now;
	/* the floor's precomputed inputs */
	char *req_ser, *user_ser, *reply_ser, *reply;
	size_t req_ser_len, user_ser_len, reply_ser_len, reply_len;
};

static double sb_now_us(void);
static int sb_request(struct sb *b);
static int sb_setup(struct sb *b);
static int sb_reply_check(struct sb *b, const char *json, size_t len);
static int sb_pipeline_run(struct sb *b, char **reply, size_t *reply_len, char **event,
			   size_t *event_len);
static int sb_pipeline(struct sb *b);
static int sb_sign_floor(const char *ser, size_t len, const struct nostr_keypair *kp);
static int sb_floor(struct sb *b);
static double sb_measure(struct sb *b, int (*run)(struct sb *b), long ms);
static void sb_free(struct sb *b);
static double sbt_clock_us(clockid_t clk);
static void sbt_start(struct sbt *t, struct sbt_req *r);
static void sbt_open_run(struct workq_job *j);
static void sbt_open_done(struct workq_job *j, bool cancelled);
static void sbt_reply_run(struct workq_job *j);
static void sbt_reply_done(struct workq_job *j, bool cancelled);
static void sbt_finish(struct sbt_req *r, bool ok);
static int sbt_measure(struct sb *b, unsigned threads, long total, size_t window,
		       struct sbt_figures *out);
static int sbt_table(struct sb *b, long rounds);
static long sb_env(const char *name, long def);

/* This thread's CPU time in microseconds. */
static double sb_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The client's request event: a typical sign_event request, NIP-44 to the bunker. */
static int sb_request(struct sb *b)
{
	static const char plain[] =
		"{\"id\":\"3f1c9a0e6b2d4e5f\",\"method\":\"sign_event\",\"params\":[\"{"
		"\\\"kind\\\":1,"
		"\\\"created_at\\\":1700000000,\\\"tags\\\":[[\\\"t\\\",\\\"nostr\\\"]],"
		"\\\"content\\\":\\\"hello from a typical note, about a hundred bytes long, which "
		"is what most sign_event requests carry.\\\"}\"]}";
	char hex[65], *ct = NULL;
	const char *const ptag[] = {"p", hex};
	size_t clen;
	int rc = -1;

	nostr_event_init(&b->request);
	b->request.kind = SIGNER_KIND;
	b->request.created_at = b->now;
	b->request.has_created_at = 1;
	nostr_pubkey_to_hex(hex, &b->bunker.pub);
	if (nip44_encrypt(&ct, &clen, &b->ck, (const uint8_t *)plain, sizeof(plain) - 1) !=
		    NIP44_OK ||
	    nostr_event_set_content(&b->request, ct, clen) != 0 ||
	    nostr_event_add_tag(&b->request, ptag, 2) != 0 ||
	    nostr_event_sign(&b->request, &b->client, NULL, 0) != 0 ||
	    nostr_event_serialize(&b->req_ser, &b->req_ser_len, &b->request) != 0)
		goto fail;
	rc = 0;
fail:
	free(ct);
	return rc;
}

/* Keys, cache, the request; one pipeline run checked end to end and kept for the floor. */
static int sb_setup(struct sb *b)
{
	struct nostr_seckey sk;
	char *event = NULL;
	size_t event_len;
	enum nip44_err e;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	b->now = 1700000000;
	if (nostr_keypair_generate(&b->client) != 0 || nostr_keypair_generate(&b->bunker) != 0 ||
	    nostr_keypair_generate(&b->user) != 0 || nip44_cache_new(&b->cache, 1024) != 0)
		return -1;
	nostr_keypair_seckey(&sk, &b->client);
	e = nip44_conversation_key(&b->ck, &sk, &b->bunker.pub);
	nostr_seckey_wipe(&sk);
	if (e != NIP44_OK || sb_request(b) != 0)
		return -1;
	if (sb_pipeline_run(b, &b->reply, &b->reply_len, &event, &event_len) != 0 ||
	    sb_reply_check(b, event, event_len) != 0)
		goto fail;
	rc = 0;
fail:
	free(event);
	return rc;
}

/* Check the reply event verifies and decrypts to the reply, whose result verifies as the user's. */
static int sb_reply_check(struct sb *b, const char *json, size_t len)
{
	struct nostr_event ev, signed_ev;
	const char *v;
	size_t vlen, ptlen = 0, slen = 0;
	uint8_t *pt = NULL;
	char *s = NULL;
	int rc = -1;

	nostr_event_init(&signed_ev);
	if (nostr_event_parse(&ev, json, len, NOSTR_EVENT_SIGNED, NULL, NULL, 0) != 0)
		return -1;
	if (nostr_event_verify(&ev, NULL, 0) != 0 ||
	    nip44_decrypt(&pt, &ptlen, &b->ck, ev.content.s, ev.content.len) != NIP44_OK ||
	    ptlen != b->reply_len || memcmp(pt, b->reply, ptlen) != 0 ||
	    nostr_json_object_member(&v, &vlen, (const char *)pt, ptlen, "result") != 0 ||
	    nostr_json_string(&s, &slen, v, vlen, ptlen) != 0 ||
	    nostr_event_parse(&signed_ev, s, slen, NOSTR_EVENT_SIGNED, NULL, NULL, 0) != 0 ||
	    nostr_event_verify(&signed_ev, NULL, 0) != 0 ||
	    !nostr_pubkey_equal(&signed_ev.pubkey, &b->user.pub) ||
	    nostr_event_serialize(&b->user_ser, &b->user_ser_len, &signed_ev) != 0 ||
	    nostr_event_serialize(&b->reply_ser, &b->reply_ser_len, &ev) != 0)
		goto fail;
	rc = 0;
fail:
	wipe_free(pt, ptlen);
	wipe_free(s, slen);
	nostr_event_clear(&signed_ev);
	nostr_event_clear(&ev);
	return rc;
}

/*
 * One request through the pipeline; the reply JSON (plaintext) and the
 * reply event's JSON in *reply and *event when wanted (caller frees), else
 * dropped. 0 or -1.
 */
static int sb_pipeline_run(struct sb *b, char **reply, size_t *reply_len, char **event,
			   size_t *event_len)
{
	const struct signer_ctx ctx = {.user = &b->user, .cache = b->cache, .now = b->now};
	const struct nostr_event *req = &b->request;
	enum signer_scheme scheme = signer_scheme_of(req->content.s, req->content.len);
	struct signer_request r = {0};
	struct signer_op op = {0};
	struct signer_result res = {0};
	char *json = NULL, *ct = NULL, *ev = NULL, id_hex[65];
	uint8_t *pt = NULL;
	size_t ptlen = 0, jlen = 0, clen, evlen;
	int rc = -1;

	if (nostr_event_verify(req, NULL, 0) != 0 ||
	    signer_decrypt(&pt, &ptlen, scheme, &b->bunker, &req->pubkey, req->content.s,
			   req->content.len, b->cache, NULL, 0) != 0 ||
	    signer_request_parse(&r, (const char *)pt, ptlen, NULL, 0) != SIGNER_PARSE_OK ||
	    signer_op_parse(&op, &r, NULL, 0) != 0 ||
	    signer_op_run(&res, &op, &ctx, NULL, 0) != 0 ||
	    signer_reply_json(&json, &jlen, r.id, res.s, res.len, NULL) != 0 ||
	    signer_encrypt(&ct, &clen, scheme, &b->bunker, &req->pubkey, (const uint8_t *)json,
			   jlen, b->cache, NULL, 0) != 0 ||
	    signer_reply_event(&ev, &evlen, id_hex, &b->bunker, &req->pubkey, ct, clen, b->now,
			       NULL, 0) != 0)
		goto fail;
	if (reply != NULL) {
		*reply = json;
		*reply_len = jlen;
		json = NULL;
	}
	if (event != NULL) {
		*event = ev;
		*event_len = evlen;
		ev = NULL;
	}
	rc = 0;
fail:
	free(ev);
	free(ct);
	wipe_free(json, jlen);
	signer_result_clear(&res);
	signer_op_clear(&op);
	signer_request_clear(&r);
	wipe_free(pt, ptlen);
	return rc;
}

/* One request through the pipeline. */
static int sb_pipeline(struct sb *b)
{
	return sb_pipeline_run(b, NULL, NULL, NULL, NULL);
}

/* SHA-256 of a serialization, fresh aux randomness, BIP-340 sign; 0 or -1. */
static int sb_sign_floor(const char *ser, size_t len, const struct nostr_keypair *kp)
{
	uint8_t id[32], aux[32], sig[64];

	SHA256((const unsigned char *)ser, len, id);
	if (nostr_random(aux, sizeof(aux)) != 0 ||
	    !secp256k1_schnorrsig_sign32(nostr_secp(), sig, id, &kp->kp, aux))
		return -1;
	return 0;
}

/* The crypto floor of one request. */
static int sb_floor(struct sb *b)
{
	secp256k1_xonly_pubkey pk;
	uint8_t id[32], *pt;
	char *out;
	size_t len, olen;

	SHA256((const unsigned char *)b->req_ser, b->req_ser_len, id);
	if (!secp256k1_xonly_pubkey_parse(nostr_secp(), &pk, b->request.pubkey.b) ||
	    !secp256k1_schnorrsig_verify(nostr_secp(), b->request.sig, id, 32, &pk))
		return -1;
	if (nip44_decrypt(&pt, &len, &b->ck, b->request.content.s, b->request.content.len) !=
	    NIP44_OK)
		return -1;
	free(pt);
	if (sb_sign_floor(b->user_ser, b->user_ser_len, &b->user) != 0 ||
	    nip44_encrypt(&out, &olen, &b->ck, (const uint8_t *)b->reply, b->reply_len) != NIP44_OK)
		return -1;
	free(out);
	return sb_sign_floor(b->reply_ser, b->reply_ser_len, &b->bunker);
}

/* Run for about ms milliseconds of CPU time; µs per request, or -1 on failure. */
static double sb_measure(struct sb *b, int (*run)(struct sb *b), long ms)
{
	double start = sb_now_us(), now = start;
	long n = 0;

	while (now - start < (double)ms * 1000.0) {
		for (int i = 0; i < 8; i++, n++)
			if (run(b) != 0)
				return -1;
		now = sb_now_us();
	}
	return (now - start) / (double)n;
}

/* Free and wipe everything. */
static void sb_free(struct sb *b)
{
	nostr_event_clear(&b->request);
	nip44_cache_free(&b->cache);
	nip44_key_wipe(&b->ck);
	free(b->req_ser);
	free(b->user_ser);
	free(b->reply_ser);
	wipe_free(b->reply, b->reply_len);
	nostr_keypair_wipe(&b->client);
	nostr_keypair_wipe(&b->bunker);
	nostr_keypair_wipe(&b->user);
}

/* The time of clk in microseconds. */
static double sbt_clock_us(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* Loop: check the request's id as the relay pool does, then hand its opening to the pool. */
static void sbt_start(struct sbt *t, struct sbt_req *r)
{
	const struct nostr_event *req = &t->b->request;

	t->sent++;
	*r = (struct sbt_req){.t = t};
	if (nostr_event_check_id(req, NULL, 0) != 0) {
		sbt_finish(r, false);
		return;
	}
	r->open = (struct signer_work_open){
		.scheme = signer_scheme_of(req->content.s, req->content.len),
		.bunker = &t->b->bunker,
		.client = &req->pubkey,
		.id = req->id,
		.sig = req->sig,
		.content = req->content.s,
		.content_len = req->content.len,
		.cache = t->b->cache,
	};
	workq_submit(t->q, &r->job, sbt_open_run, sbt_open_done);
}

/* Worker: verify, decrypt and parse. */
static void sbt_open_run(struct workq_job *j)
{
	signer_work_open_run(&((struct sbt_req *)j)->open);
}

/* Loop: the operation, then the reply to a worker. */
static void sbt_open_done(struct workq_job *j, bool cancelled)
{
	struct sbt_req *r = (struct sbt_req *)j;
	struct signer_op op;

	if (cancelled || !r->open.verified || !r->open.decrypted ||
	    r->open.parsed != SIGNER_PARSE_OK) {
		sbt_finish(r, false);
		return;
	}
	r->rq = r->open.rq;
	memset(&r->open.rq, 0, sizeof(r->open.rq));
	if (signer_op_parse(&op, &r->rq, NULL, 0) != 0) {
		signer_op_clear(&op);
		sbt_finish(r, false);
		return;
	}
	r->reply = (struct signer_work_reply){
		.scheme = r->open.scheme,
		.bunker = &r->t->b->bunker,
		.client = &r->t->b->request.pubkey,
		.cache = r->t->b->cache,
		.id = r->rq.id,
		.now = r->t->b->now,
	};
	signer_work_reply_set_op(&r->reply, &op, &r->t->b->user);
	workq_submit(r->t->q, &r->job, sbt_reply_run, sbt_reply_done);
}

/* Worker: sign the user's event, make the reply event. */
static void sbt_reply_run(struct workq_job *j)
{
	signer_work_reply_run(&((struct sbt_req *)j)->reply);
}

/* Loop: the reply is made. */
static void sbt_reply_done(struct workq_job *j, bool cancelled)
{
	struct sbt_req *r = (struct sbt_req *)j;

	sbt_finish(r, !cancelled && !r->reply.op_failed && r->reply.event != NULL);
}

/* Loop: a request is through (ok or not): free it, give its slot back. */
static void sbt_finish(struct sbt_req *r, bool ok)
{
	struct sbt *t = r->t;

	t->failed += !ok;
	t->done++;
	signer_work_open_clear(&r->open);
	signer_work_reply_clear(&r->reply);
	signer_request_clear(&r->rq);
	t->free_slots[t->nfree++] = r;
}

/* total requests, window in flight, on a pool of threads workers (0: inline); 0 or -1. */
static int sbt_measure(struct sb *b, unsigned threads, long total, size_t window,
		       struct sbt_figures *out)
{
	struct event_base *base = event_base_new();
	struct sbt t = {.b = b, .total = total};
	double wall0 = sbt_clock_us(CLOCK_MONOTONIC), cpu0 = sbt_clock_us(CLOCK_PROCESS_CPUTIME_ID);
	double loop0 = sbt_clock_us(CLOCK_THREAD_CPUTIME_ID);
	char err[128];
	int rc = -1;

	t.slots = calloc(window, sizeof(*t.slots));
	t.free_slots = calloc(window, sizeof(*t.free_slots));
	if (base == NULL || t.slots == NULL || t.free_slots == NULL ||
	    workq_new(&t.q, base, threads, err, sizeof(err)) != 0)
		goto fail;
	for (size_t i = 0; i < window; i++)
		t.free_slots[t.nfree++] = &t.slots[i];
	while (t.done < total) {
		while (t.nfree > 0 && t.sent < total)
			sbt_start(&t, t.free_slots[--t.nfree]);
		if (workq_pending(t.q) > 0)
			event_base_loop(base, EVLOOP_ONCE);
	}
	out->wall_us = (sbt_clock_us(CLOCK_MONOTONIC) - wall0) / (double)total;
	out->cpu_us = (sbt_clock_us(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / (double)total;
	out->loop_us = (sbt_clock_us(CLOCK_THREAD_CPUTIME_ID) - loop0) / (double)total;
	rc = t.failed == 0 ? 0 : -1;
fail:
	workq_free(t.q);
	free(t.slots);
	free(t.free_slots);
	if (base != NULL)
		event_base_free(base);
	return rc;
}

/* The worker-thread table: signer_threads 1 and 2, best of rounds each; 0 or -1. */
static int sbt_table(struct sb *b, long rounds)
{
	static const unsigned threads[] = {0, 2}; /* signer_threads 1 and 2 */
	static const char *const names[] = {"signer_threads=1 (inline, loop thread)",
					    "signer_threads=2 (two worker threads)"};
	long total = sb_env("KC_BENCH_REQS", 2000);
	size_t window = (size_t)sb_env("KC_BENCH_WINDOW", 256);
	struct sbt_figures best[2] = {{0}}, f;

	for (long i = 0; i < rounds; i++)
		for (int k = 0; k < 2; k++) {
			if (sbt_measure(b, threads[k], total, window, &f) != 0)
				return -1;
			if (i == 0 || f.wall_us < best[k].wall_us)
				best[k] = f;
		}
	printf("\n%-44s %12s %14s %12s %12s\n", "sign_event requests, worker threads",
	       "wall us/req", "req/s", "CPU us/req", "loop us/req");
	for (int k = 0; k < 2; k++)
		printf("%-44s %12.2f %14.0f %12.2f %12.2f\n", names[k], best[k].wall_us,
		       1e6 / best[k].wall_us, best[k].cpu_us, best[k].loop_us);
	printf("2 threads vs 1: %.2fx the requests/s (%ld requests, %zu in flight, %u CPUs, "
	       "best of %ld rounds)\n",
	       best[0].wall_us / best[1].wall_us, total, window, workq_cpus(), rounds);
	return 0;
}

/* A positive number from the environment, else def. */
static long sb_env(const char *name, long def)
{
	const char *v = getenv(name);
	long n = v != NULL ? strtol(v, NULL, 10) : 0;

	return n > 0 ? n : def;
}

/* Measure, print the table and the ratio. */
int main(void)
{
	const char *env_ms = getenv("KC_BENCH_MS"), *env_rounds = getenv("KC_BENCH_ROUNDS");
	long ms = env_ms ? strtol(env_ms, NULL, 10) : 3000;
	long rounds = env_rounds ? strtol(env_rounds, NULL, 10) : 5;
	double pipe = 0, floor_us = 0;
	struct sb b;

	ms = ms > 0 ? ms : 3000;
	rounds = rounds > 0 ? rounds : 5;
	if (sb_setup(&b) != 0) {
		fprintf(stderr, "signer_bench: setup failed\n");
		sb_free(&b);
		return 1;
	}
	for (long i = 0; i < rounds; i++) {
		double p = sb_measure(&b, sb_pipeline, ms / 2 / rounds);
		double f = sb_measure(&b, sb_floor, ms / 2 / rounds);

		if (p < 0 || f < 0) {
			fprintf(stderr, "signer_bench: a request failed\n");
			sb_free(&b);
			return 1;
		}
		pipe = (i == 0 || p < pipe) ? p : pipe;
		floor_us = (i == 0 || f < floor_us) ? f : floor_us;
	}
	printf("%-44s %12s %14s\n", "one sign_event request (one core)", "CPU us/req", "req/s");
	printf("%-44s %12.2f %14.0f\n", "signer pipeline (no I/O)", pipe, 1e6 / pipe);
	printf("%-44s %12.2f %14.0f\n", "crypto floor (secp256k1, ChaCha20, HMAC, SHA)", floor_us,
	       1e6 / floor_us);
	printf("floor / pipeline: %.1f %% (goal >= 80 %%), best of %ld rounds\n",
	       100.0 * floor_us / pipe, rounds);
	if (sbt_table(&b, rounds) != 0) {
		fprintf(stderr, "signer_bench: a request failed on the worker pool\n");
		sb_free(&b);
		return 1;
	}
	sb_free(&b);
	return 0;
}
