/*
 * signer_serving.h - the serving set as the signer reads it: every
 * authorization with its keypairs made once, its parsed policy, and the
 * state that must outlive a reload (rate buckets).
 *
 * Built from a struct db_serving (taken over) each time the database's
 * serving generation moves; lookups by bunker pubkey and by authorization
 * id are binary searches. signer_serving_carry() moves the per-client
 * state of authorizations that are still there from the old set to the
 * new one, so a reload never refills a rate limiter.
 *
 * The set also holds the HTTP API's tokens (their SHA-256, never the
 * tokens), sorted by hash: signer_serving_by_token() finds the one a
 * presented token hashes to, confirming it with a constant-time compare.
 */
#ifndef KC_SIGNER_SERVING_H
#define KC_SIGNER_SERVING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nostr/keys.h"
#include "signer/signer_policy.h"

struct db_serving;
struct db_serving_authz;

/* One user key, ready to sign. */
struct signer_key {
	struct nostr_keypair kp; /* secret: wiped on free */
};

/* One authorization, ready to answer. */
struct signer_authz {
	const struct db_serving_authz *row; /* borrowed from the set: id, relays, expiry, ... */
	struct signer_key *key;		    /* the user key it signs with */
	struct nostr_keypair bunker;	    /* secret: wiped on free */
	struct signer_policy policy;
	bool policy_ok;			/* false: the stored policy does not parse; refuse all */
	struct nostr_pubkey client;	/* the bound client, when bound */
	bool bound;			/* a client is bound */
	struct signer_bucket bucket;	/* the client's rate limit (policy "rate") */
	struct signer_bucket strangers; /* error replies to clients that are not bound */
};

/* One API token: it acts for authorization row->authz_id (signer_serving_by_id). */
struct signer_token {
	const struct db_serving_token *row; /* borrowed from the set: id, hash, prefix, revoked */
};

/* The serving set. */
struct signer_serving {
	struct db_serving *set; /* owned */
	struct signer_key *keys;
	size_t nkeys;
	struct signer_authz *authz; /* sorted by bunker pubkey */
	size_t nauthz;
	size_t *by_id;		     /* indices into authz, sorted by authorization id */
	struct signer_token *tokens; /* sorted by hash */
	size_t ntokens;
	size_t bad_policies;
};

/*
 * Build the serving set from set (taken: freed with the result, or on
 * failure). 0, or -1 with a message in err (out of memory, a key that
 * does not make a keypair).
 */
int signer_serving_new(struct signer_serving **out, struct db_serving *set, char *err,
		       size_t errlen) __attribute__((warn_unused_result));

/* Free sv, wiping every key. NULL is ignored. */
void signer_serving_free(struct signer_serving *sv);

/* The authorization whose bunker pubkey is pk, or NULL. */
struct signer_authz *signer_serving_by_bunker(const struct signer_serving *sv,
					      const struct nostr_pubkey *pk);

/* The authorization with id, or NULL. */
struct signer_authz *signer_serving_by_id(const struct signer_serving *sv, int64_t id);

/* The token whose SHA-256 is hash, or NULL (the final compare is constant-time). */
const struct signer_token *signer_serving_by_token(const struct signer_serving *sv,
						   const unsigned char hash[32]);

/* Move the rate buckets of authorizations present in both from old to new. */
void signer_serving_carry(struct signer_serving *to, const struct signer_serving *from);

/* The distinct bunker pubkeys (hex) of sv, sorted, in *out (malloc'd array of pointers into sv). */
int signer_serving_bunkers(const char ***out, size_t *n, const struct signer_serving *sv)
	__attribute__((warn_unused_result));

#endif /* KC_SIGNER_SERVING_H */
