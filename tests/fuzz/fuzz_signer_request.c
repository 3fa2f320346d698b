/*
 * fuzz_signer_request.c - the NIP-46 request path after decryption, on
 * arbitrary request text: parse the request, make its operation, run it
 * as a fixed user key (secret key 1; the third party of the seed corpus
 * is secret key 2, so NIP-44 vector payloads decrypt), and build the
 * reply JSON.
 *
 * Properties: a refusal always carries a message; a request without a
 * usable id gets no reply; every reply's id and result (or error) decode
 * back to exactly what went in; a signed event verifies and is the
 * user's.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nostr/event.h"
#include "nostr/wipe.h"
#include "signer/signer_op.h"
#include "signer/signer_request.h"

/* The relays switch_relays answers with. */
static const char *const fz_relays[] = {"wss://relay.example", "ws://127.0.0.1:7777"};

/* The user keypair (secret key 1), made on first use. */
static const struct nostr_keypair *fz_user(void)
{
	static struct nostr_keypair kp;
	static int ready;
	struct nostr_seckey sk = {{0}};

	if (!ready) {
		sk.b[31] = 1;
		if (nostr_keypair_from_seckey(&kp, &sk) != 0)
			abort();
		ready = 1;
	}
	return &kp;
}

/* Abort unless member key of json decodes to exactly s[0..n). */
static void fz_member_is(const char *json, size_t len, const char *key, const char *s, size_t n)
{
	const char *v;
	size_t vlen, dlen;
	char *d;

	if (nostr_json_object_member(&v, &vlen, json, len, key) != 0 ||
	    nostr_json_string(&d, &dlen, v, vlen, len) != 0)
		abort();
	if (dlen != n || memcmp(d, s, n) != 0)
		abort();
	wipe_free(d, dlen);
}

/* Build the reply and check it decodes back to id, result and error. */
static void fz_reply(const char *id, const char *result, size_t rlen, const char *error)
{
	char *json;
	size_t len;

	if (signer_reply_json(&json, &len, id, result, rlen, error) != 0)
		abort();
	fz_member_is(json, len, "id", id, strlen(id));
	if (error != NULL) {
		fz_member_is(json, len, "result", "", 0);
		fz_member_is(json, len, "error", error, strlen(error));
	} else {
		fz_member_is(json, len, "result", result, rlen);
	}
	wipe_free(json, len);
}

/* Abort unless a sign_event result is a valid event signed by the user. */
static void fz_check_signed(const struct signer_result *res)
{
	struct nostr_event ev;
	char err[256];

	if (nostr_event_parse(&ev, res->s, res->len, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)) !=
		    0 ||
	    nostr_event_verify(&ev, err, sizeof(err)) != 0 ||
	    !nostr_pubkey_equal(&ev.pubkey, &fz_user()->pub) || strlen(res->event_id) != 64)
		abort();
	nostr_event_clear(&ev);
}

/* Make and run the operation of a well-formed request; reply either way. */
static void fz_run(const struct signer_request *r)
{
	const struct signer_ctx ctx = {
		.user = fz_user(), .relays = fz_relays, .nrelays = 2, .now = 1700000000};
	struct signer_op op;
	struct signer_result res = {0};
	char err[512] = "";

	if (signer_op_parse(&op, r, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort();
		fz_reply(r->id, NULL, 0, err);
	} else if (signer_op_run(&res, &op, &ctx, err, sizeof(err)) != 0) {
		if (err[0] == '\0' || res.s != NULL)
			abort();
		fz_reply(r->id, NULL, 0, err);
	} else {
		if (op.method == SIGNER_SIGN_EVENT)
			fz_check_signed(&res);
		fz_reply(r->id, res.s, res.len, NULL);
	}
	signer_result_clear(&res);
	signer_op_clear(&op);
}

/* Run data as a decrypted request. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct signer_request r;
	char err[256] = "";

	switch (signer_request_parse(&r, (const char *)data, size, err, sizeof(err))) {
	case SIGNER_PARSE_OK:
		if (!r.has_id || !r.method_known)
			abort();
		fz_run(&r);
		break;
	case SIGNER_PARSE_BAD:
		if (!r.has_id || err[0] == '\0' || r.nparams != 0)
			abort();
		fz_reply(r.id, NULL, 0, err);
		break;
	case SIGNER_PARSE_NO_ID:
		if (r.has_id || r.nparams != 0)
			abort();
		break;
	default:
		abort();
	}
	signer_request_clear(&r);
	return 0;
}
