/*
 * nostr_bench.c - per-operation cost of the nostr core on this machine,
 * and the crypto floor of one NIP-46 sign_event request.
 *
 * Each operation runs for about KC_BENCH_MS milliseconds (default 300) of
 * this thread's CPU time; the figures are CPU µs per operation and
 * operations per second per core (CPU time, so that other processes on a
 * shared machine inflate them less than wall time would). The floor is
 * the pure crypto of one sign_event request: verify the request event,
 * NIP-44 decrypt its content with a cached conversation key, sign the
 * user's event, NIP-44 encrypt the response, sign the response event.
 * Later benchmarks compare the signer to it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nostr/event.h"
#include "nostr/keys.h"
#include "nostr/nip44.h"

/* Everything the operations share. */
struct nb {
	struct nostr_keypair client, signer, user;
	struct nip44_cache *cache;
	struct nip44_key ck;
	struct nostr_event request;  /* kind 24133 from the client, NIP-44 content */
	struct nostr_event template; /* the user's kind-1 event to sign */
	char plain[301];	     /* a typical 300-byte NIP-46 request */
	char *payload;
	size_t payload_len;
};

/* One benchmarked operation; returns 0, or -1 on failure. */
struct nb_op {
	const char *name;
	int (*run)(struct nb *b);
};

static double nb_now_us(void);
static int nb_setup(struct nb *b);
static int nb_event(struct nostr_event *ev, uint32_t kind, const char *content,
		    const struct nostr_keypair *kp);
static int nb_verify(struct nb *b);
static int nb_sign(struct nb *b);
static int nb_ecdh(struct nb *b);
static int nb_encrypt(struct nb *b);
static int nb_decrypt(struct nb *b);
static int nb_event_id(struct nb *b);
static int nb_floor(struct nb *b);
static double nb_measure(struct nb *b, const struct nb_op *op, long ms);

/* The operations, in print order. */
static const struct nb_op nb_ops[] = {
	{.name = "event verify (id + BIP-340)", .run = nb_verify},
	{.name = "event sign (id + BIP-340)", .run = nb_sign},
	{.name = "ECDH conversation key", .run = nb_ecdh},
	{.name = "NIP-44 encrypt 300 B", .run = nb_encrypt},
	{.name = "NIP-44 decrypt 300 B", .run = nb_decrypt},
	{.name = "event id (serialize + SHA-256)", .run = nb_event_id},
	{.name = "FLOOR: one sign_event request", .run = nb_floor},
};

/* This thread's CPU time in microseconds (steadier than wall time on a shared machine). */
static double nb_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* A signed event of kind with content, by kp. */
static int nb_event(struct nostr_event *ev, uint32_t kind, const char *content,
		    const struct nostr_keypair *kp)
{
	char hex[65];
	const char *const ptag[] = {"p", hex};

	nostr_event_init(ev);
	ev->kind = kind;
	ev->created_at = 1700000000;
	ev->has_created_at = 1;
	nostr_pubkey_to_hex(hex, &kp->pub);
	if (nostr_event_set_content(ev, content, strlen(content)) != 0 ||
	    nostr_event_add_tag(ev, ptag, 2) != 0)
		return -1;
	return nostr_event_sign(ev, kp, NULL, 0);
}

/* Keys, the cached conversation key, the request and the template. */
static int nb_setup(struct nb *b)
{
	static const char head[] = "{\"id\":\"1\",\"method\":\"sign_event\",\"params\":[\"";

	memset(b->plain, 'x', 300);
	memcpy(b->plain, head, sizeof(head) - 1);
	b->plain[300] = '\0';
	if (nostr_keypair_generate(&b->client) != 0 || nostr_keypair_generate(&b->signer) != 0 ||
	    nostr_keypair_generate(&b->user) != 0 || nip44_cache_new(&b->cache, 1024) != 0 ||
	    nip44_cache_get(b->cache, &b->ck, &b->signer, &b->client.pub) != NIP44_OK ||
	    nip44_encrypt(&b->payload, &b->payload_len, &b->ck, (const uint8_t *)b->plain, 300) !=
		    NIP44_OK)
		return -1;
	if (nb_event(&b->request, 24133, b->payload, &b->client) != 0 ||
	    nb_event(&b->template, 1,
		     "hello from a typical note, about a hundred bytes long, "
		     "which is what most sign_event requests carry.",
		     &b->user) != 0)
		return -1;
	return 0;
}

/* Verify the request event. */
static int nb_verify(struct nb *b)
{
	return nostr_event_verify(&b->request, NULL, 0);
}

/* Sign the user's event. */
static int nb_sign(struct nb *b)
{
	return nostr_event_sign(&b->template, &b->user, NULL, 0);
}

/* One uncached ECDH + HKDF-extract. */
static int nb_ecdh(struct nb *b)
{
	struct nostr_seckey sk;
	struct nip44_key k;
	enum nip44_err rc;

	nostr_keypair_seckey(&sk, &b->signer);
	rc = nip44_conversation_key(&k, &sk, &b->client.pub);
	nostr_seckey_wipe(&sk);
	nip44_key_wipe(&k);
	return rc == NIP44_OK ? 0 : -1;
}

/* Encrypt 300 bytes. */
static int nb_encrypt(struct nb *b)
{
	char *out;
	size_t len;

	if (nip44_encrypt(&out, &len, &b->ck, (const uint8_t *)b->plain, 300) != NIP44_OK)
		return -1;
	free(out);
	return 0;
}

/* Decrypt the 300-byte payload. */
static int nb_decrypt(struct nb *b)
{
	uint8_t *out;
	size_t len;

	if (nip44_decrypt(&out, &len, &b->ck, b->payload, b->payload_len) != NIP44_OK)
		return -1;
	free(out);
	return 0;
}

/* Compute the request's id. */
static int nb_event_id(struct nb *b)
{
	uint8_t id[32];

	return nostr_event_compute_id(id, &b->request);
}

/* The crypto floor of one sign_event request. */
static int nb_floor(struct nb *b)
{
	struct nostr_event resp;
	struct nip44_key ck;
	uint8_t *pt;
	char *out;
	size_t len, olen;
	int rc = -1;

	if (nostr_event_verify(&b->request, NULL, 0) != 0 ||
	    nip44_cache_get(b->cache, &ck, &b->signer, &b->request.pubkey) != NIP44_OK ||
	    nip44_decrypt(&pt, &len, &ck, b->request.content.s, b->request.content.len) != NIP44_OK)
		return -1;
	free(pt);
	if (nostr_event_sign(&b->template, &b->user, NULL, 0) != 0 ||
	    nip44_encrypt(&out, &olen, &ck, (const uint8_t *)b->plain, 300) != NIP44_OK)
		return -1;
	if (nb_event(&resp, 24133, out, &b->signer) == 0)
		rc = 0;
	nostr_event_clear(&resp);
	free(out);
	nip44_key_wipe(&ck);
	return rc;
}

/* Run op for about ms milliseconds; µs per operation, or -1 on failure. */
static double nb_measure(struct nb *b, const struct nb_op *op, long ms)
{
	double start = nb_now_us(), now = start;
	long n = 0;

	while (now - start < (double)ms * 1000.0) {
		for (int i = 0; i < 16; i++, n++)
			if (op->run(b) != 0)
				return -1;
		now = nb_now_us();
	}
	return (now - start) / (double)n;
}

/* Print the table. */
int main(void)
{
	const char *env = getenv("KC_BENCH_MS");
	long ms = env ? strtol(env, NULL, 10) : 300;
	struct nb b;
	double us, floor_us = 0;

	if (ms <= 0)
		ms = 300;
	if (nb_setup(&b) != 0) {
		fprintf(stderr, "nostr_bench: setup failed\n");
		return 1;
	}
	printf("%-34s %12s %14s\n", "operation (one core)", "CPU us/op", "ops/s");
	for (size_t i = 0; i < sizeof(nb_ops) / sizeof(nb_ops[0]); i++) {
		us = nb_measure(&b, &nb_ops[i], ms);
		if (us < 0) {
			fprintf(stderr, "nostr_bench: %s failed\n", nb_ops[i].name);
			return 1;
		}
		printf("%-34s %12.2f %14.0f\n", nb_ops[i].name, us, 1e6 / us);
		if (nb_ops[i].run == nb_floor)
			floor_us = us;
	}
	printf("crypto floor of one sign_event request: %.1f us, %.0f requests/s per core\n",
	       floor_us, 1e6 / floor_us);
	nostr_event_clear(&b.request);
	nostr_event_clear(&b.template);
	nip44_cache_free(&b.cache);
	free(b.payload);
	nostr_keypair_wipe(&b.client);
	nostr_keypair_wipe(&b.signer);
	nostr_keypair_wipe(&b.user);
	return 0;
}
