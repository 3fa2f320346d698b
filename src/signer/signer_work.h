/*
 * signer_work.h - the pure crypto of one NIP-46 request, in two jobs that
 * run off the event loop (on the worker pool, core/workq.h, or inline):
 *
 *   open    verify the request event's signature (the relay pool checked
 *           its id on the loop and left this to us: relay_pool.h,
 *           defer_verify), decrypt the request content (NIP-44 or NIP-04,
 *           the conversation key from the shared cache) and parse the
 *           JSON-RPC request
 *   reply   run the method when it is given (sign_event, nip04/nip44
 *           encrypt/decrypt, get_public_key, ping, as the user's key),
 *           then the reply JSON, encrypted to the client, in a kind-24133
 *           event signed by the bunker key
 *
 * Everything between them (claims, authorization, policy, rate, the
 * database, publishing, settling) stays on the loop (signer_pipeline.c).
 *
 * Contract: the loop fills the "in" fields, hands the job off and does
 * not touch the struct, nor what it borrows, until the job is back; the
 * run fills the "out" fields and touches nothing else. Secrets: the run
 * wipes every intermediate (plaintexts, conversation keys) and the user's
 * keypair copy as soon as the method has run; clear wipes the rest.
 */
#ifndef KC_SIGNER_WORK_H
#define KC_SIGNER_WORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nostr/keys.h"
#include "signer/signer_op.h"
#include "signer/signer_request.h"

struct nip44_cache;

/* Opening a request: verify, decrypt, then parse. */
struct signer_work_open {
	/* in (borrowed) */
	enum signer_scheme scheme;
	const struct nostr_keypair *bunker;
	const struct nostr_pubkey *client; /* the event's author */
	const uint8_t *id, *sig;	   /* optional: the event's id and signature, to verify */
	const char *content;
	size_t content_len;
	struct nip44_cache *cache; /* optional; thread-safe */
	/* out */
	bool verified;		  /* the signature is good (or none given); false: err says why */
	bool decrypted;		  /* false: not decrypted (or not verified), err says why */
	enum signer_parse parsed; /* when decrypted */
	struct signer_request rq; /* when decrypted (owned until moved out) */
	char err[256];
};

/* Making a reply: the method's result (or a given one), the reply JSON, encrypted, signed. */
struct signer_work_reply {
	/* in */
	enum signer_scheme scheme;
	const struct nostr_keypair *bunker; /* borrowed */
	const struct nostr_pubkey *client;  /* borrowed */
	struct nip44_cache *cache;	    /* optional; thread-safe */
	const char *id;			    /* the request id (borrowed) */
	int64_t now;			    /* Unix seconds: created_at of the events */
	bool has_op;			    /* run op as user; else reply with result / error */
	struct signer_op op;		    /* owned (it borrows the request's params) */
	struct nostr_keypair user;	    /* a copy (secret): wiped after the method runs */
	char *result;			    /* owned, may hold NULs; NULL = "" */
	size_t rlen;
	char error[256]; /* "" = no error */
	/* out */
	bool op_failed;	    /* the method failed: the reply carries error */
	char signed_id[65]; /* sign_event: the user's signed event's id, else "" */
	char *event;	    /* the reply event's JSON (owned), NULL if not made */
	size_t event_len;   /* of event */
	char event_id[65];  /* its id */
	char err[256];	    /* why the reply event was not made */
};

/* Open the request (on any thread): nothing is decrypted unless the signature is good. */
void signer_work_open_run(struct signer_work_open *w);

/* Wipe and free what w owns (the parsed request unless moved out). */
void signer_work_open_clear(struct signer_work_open *w);

/* Set op (taken over: the caller no longer clears it) and a copy of user: run it. */
void signer_work_reply_set_op(struct signer_work_reply *w, struct signer_op *op,
			      const struct nostr_keypair *user);

/* Set the result to reply with (copied) and the error (NULL: none); 0 or -1 (out of memory). */
int signer_work_reply_set(struct signer_work_reply *w, const char *result, size_t rlen,
			  const char *error) __attribute__((warn_unused_result));

/* Make the reply (on any thread). */
void signer_work_reply_run(struct signer_work_reply *w);

/* Wipe and free what w owns. */
void signer_work_reply_clear(struct signer_work_reply *w);

/* Whether method m runs on the loop: it reads loop state (switch_relays: the relays). */
bool signer_work_on_loop(enum signer_method m);

#endif /* KC_SIGNER_WORK_H */
