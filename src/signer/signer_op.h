/*
 * signer_op.h - a request's params made into a typed operation, and the
 * pure methods run on it.
 *
 *   signer_op_parse    params -> op (template parsed, peer pubkey checked,
 *                      the kind and size the policy needs)
 *   signer_policy_check(op.method, op.kind, op.size)   (signer_policy.h)
 *   signer_op_run      op -> result string (get_public_key, sign_event,
 *                      ping, nip44/nip04 encrypt/decrypt, switch_relays)
 *
 * connect and logout change the database: signer_op_parse validates their
 * params, and the caller (signer.c) carries them out; signer_op_run
 * refuses them.
 *
 * sign_event: params[0] is the template as a JSON string (or, from some
 * clients, the object itself); kind and content are required, tags
 * default to [], created_at defaults to ctx->now; any id, pubkey or sig
 * in it is ignored: the daemon sets pubkey to the user's key, computes the
 * id and signs.
 *
 * Return convention: 0, or -1 with a client-facing message in err[errlen].
 */
#ifndef KC_SIGNER_OP_H
#define KC_SIGNER_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nostr/event.h"
#include "nostr/keys.h"
#include "signer/signer_method.h"
#include "signer/signer_request.h"

struct nip44_cache;

/* A typed operation; borrows from the request it was parsed from. */
struct signer_op {
	enum signer_method method;
	int64_t kind;		      /* sign_event: the template's kind; else -1 */
	size_t size;		      /* bytes signed / encrypted / decrypted (for max_bytes) */
	struct nostr_event tmpl;      /* sign_event: the parsed template (owned) */
	struct nostr_pubkey peer;     /* nip04/nip44: the third party */
	const struct nostr_str *text; /* nip04/nip44: plaintext or ciphertext (borrowed) */
	const char *secret;	      /* connect: params[1], NULL if absent or empty (borrowed) */
	const char *perms;	      /* connect: params[2], NULL if absent or empty (borrowed) */
};

/* What a pure method needs. */
struct signer_ctx {
	const struct nostr_keypair *user; /* the user's key */
	const char *const *relays;	  /* switch_relays: the authorization's relays */
	size_t nrelays;
	struct nip44_cache *cache; /* optional */
	int64_t now;		   /* Unix seconds: a template's default created_at */
};

/* A method's result: a string that may hold NULs (owned, wiped on clear). */
struct signer_result {
	char *s;
	size_t len;
	char event_id[65]; /* sign_event: the signed event's id; else "" */
};

/* Parse r's params into *op for r->method (r must be SIGNER_PARSE_OK). */
int signer_op_parse(struct signer_op *op, const struct signer_request *r, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Free what op owns. */
void signer_op_clear(struct signer_op *op);

/* Run a pure method (not connect or logout) into *out (initialised by the call). */
int signer_op_run(struct signer_result *out, const struct signer_op *op,
		  const struct signer_ctx *ctx, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Wipe and free a result. */
void signer_result_clear(struct signer_result *res);

#endif /* KC_SIGNER_OP_H */
