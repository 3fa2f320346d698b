/*
 * signer_serving.c - the serving set made ready to answer.
 */
#include "signer/signer_serving.h"

#include "core/heap.h"
#include "core/log.h"
#include "db/db_store.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int signer_serving_keys(struct signer_serving *sv, char *err, size_t errlen);
static int signer_serving_authz(struct signer_serving *sv, char *err, size_t errlen);
static int signer_serving_one(struct signer_serving *sv, struct signer_authz *a,
			      const struct db_serving_authz *row, char *err, size_t errlen);
static int signer_authz_cmp_bunker(const void *a, const void *b);
static int signer_authz_cmp_id(const void *a, const void *b, void *arg);
static void signer_serving_sort_ids(struct signer_serving *sv);
static int signer_serving_tokens(struct signer_serving *sv, char *err, size_t errlen);
static int signer_token_cmp(const void *a, const void *b);

/* Build the serving set from set (taken). */
int signer_serving_new(struct signer_serving **out, struct db_serving *set, char *err,
		       size_t errlen)
{
	struct signer_serving *sv = calloc(1, sizeof(*sv));

	*out = NULL;
	if (sv == NULL) {
		db_serving_free(set);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sv->set = set;
	if (signer_serving_keys(sv, err, errlen) != 0 ||
	    signer_serving_authz(sv, err, errlen) != 0 ||
	    signer_serving_tokens(sv, err, errlen) != 0) {
		signer_serving_free(sv);
		return -1;
	}
	qsort(sv->authz, sv->nauthz, sizeof(*sv->authz), signer_authz_cmp_bunker);
	signer_serving_sort_ids(sv);
	*out = sv;
	(void)heap_trim(); /* the query result the set was read from is freed by now */
	return 0;
}

/* Make a keypair of every user key. */
static int signer_serving_keys(struct signer_serving *sv, char *err, size_t errlen)
{
	sv->keys = calloc(sv->set->nkeys ? sv->set->nkeys : 1, sizeof(*sv->keys));
	if (sv->keys == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < sv->set->nkeys; i++) {
		if (nostr_keypair_from_seckey(&sv->keys[i].kp, &sv->set->keys[i].secret) != 0) {
			snprintf(err, errlen, "key %lld is not a valid secret key",
				 (long long)sv->set->keys[i].id);
			return -1;
		}
		sv->nkeys++;
	}
	return 0;
}

/* Make every authorization ready: keypair, policy, bound client. */
static int signer_serving_authz(struct signer_serving *sv, char *err, size_t errlen)
{
	size_t n = sv->set->nauthz;

	sv->authz = calloc(n ? n : 1, sizeof(*sv->authz));
	sv->by_id = calloc(n ? n : 1, sizeof(*sv->by_id));
	if (sv->authz == NULL || sv->by_id == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if (signer_serving_one(sv, &sv->authz[i], &sv->set->authz[i], err, errlen) != 0)
			return -1;
		sv->nauthz++;
	}
	return 0;
}

/* Make one authorization ready. */
static int signer_serving_one(struct signer_serving *sv, struct signer_authz *a,
			      const struct db_serving_authz *row, char *err, size_t errlen)
{
	char why[256];
	const char *policy = row->policy_json != NULL ? row->policy_json : "";

	a->row = row;
	a->key = &sv->keys[row->key];
	if (nostr_keypair_from_seckey(&a->bunker, &row->bunker_secret) != 0) {
		snprintf(err, errlen, "authorization %lld: the bunker key is not valid",
			 (long long)row->id);
		return -1;
	}
	a->policy_ok =
		signer_policy_parse(&a->policy, policy, strlen(policy), why, sizeof(why)) == 0;
	if (!a->policy_ok) {
		sv->bad_policies++;
		log_warn("signer", "authorization policy is invalid: its requests are refused",
			 log_int("authz", row->id), log_str("error", why));
	}
	a->bound = row->client_pubkey[0] != '\0' &&
		   nostr_pubkey_from_hex(&a->client, row->client_pubkey, 64) == 0;
	return 0;
}

/* Order authorizations by bunker pubkey. */
static int signer_authz_cmp_bunker(const void *a, const void *b)
{
	const struct signer_authz *x = a, *y = b;

	return memcmp(x->bunker.pub.b, y->bunker.pub.b, 32);
}

/* Order indices into an authorization array (arg) by authorization id. */
static int signer_authz_cmp_id(const void *a, const void *b, void *arg)
{
	const struct signer_authz *v = arg;
	int64_t x = v[*(const size_t *)a].row->id, y = v[*(const size_t *)b].row->id;

	return (x > y) - (x < y);
}

/* Fill by_id with the indices of authz sorted by authorization id. */
static void signer_serving_sort_ids(struct signer_serving *sv)
{
	for (size_t i = 0; i < sv->nauthz; i++)
		sv->by_id[i] = i;
	qsort_r(sv->by_id, sv->nauthz, sizeof(*sv->by_id), signer_authz_cmp_id, sv->authz);
}

/* Index the API tokens by hash. */
static int signer_serving_tokens(struct signer_serving *sv, char *err, size_t errlen)
{
	size_t n = sv->set->ntokens;

	sv->tokens = calloc(n ? n : 1, sizeof(*sv->tokens));
	if (sv->tokens == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		sv->tokens[i].row = &sv->set->tokens[i];
	sv->ntokens = n;
	qsort(sv->tokens, n, sizeof(*sv->tokens), signer_token_cmp);
	return 0;
}

/* Order tokens by hash. */
static int signer_token_cmp(const void *a, const void *b)
{
	const struct signer_token *x = a, *y = b;

	return memcmp(x->row->hash, y->row->hash, DB_HASH_LEN);
}

/*
 * The token whose hash is hash. The search compares hashes of the
 * presented token, which tell nothing of a stored token; the match is
 * confirmed with CRYPTO_memcmp over the whole hash.
 */
const struct signer_token *signer_serving_by_token(const struct signer_serving *sv,
						   const unsigned char hash[32])
{
	size_t lo = 0, hi = sv->ntokens;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(sv->tokens[mid].row->hash, hash, DB_HASH_LEN);

		if (c == 0)
			return CRYPTO_memcmp(sv->tokens[mid].row->hash, hash, DB_HASH_LEN) == 0
				       ? &sv->tokens[mid]
				       : NULL;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/*
 * Free sv, wiping every key. A set and the query result it was read from
 * are the largest blocks the daemon allocates; the pages they leave free
 * in the heap are given back, or a replica that reloads often would keep
 * one or two sets' worth of free pages resident.
 */
void signer_serving_free(struct signer_serving *sv)
{
	if (sv == NULL)
		return;
	for (size_t i = 0; i < sv->nkeys; i++)
		nostr_keypair_wipe(&sv->keys[i].kp);
	for (size_t i = 0; i < sv->nauthz; i++) {
		nostr_keypair_wipe(&sv->authz[i].bunker);
		signer_policy_clear(&sv->authz[i].policy);
	}
	free(sv->keys);
	free(sv->authz);
	free(sv->by_id);
	free(sv->tokens);
	db_serving_free(sv->set);
	free(sv);
	(void)heap_trim();
}

/* The authorization whose bunker pubkey is pk, or NULL. */
struct signer_authz *signer_serving_by_bunker(const struct signer_serving *sv,
					      const struct nostr_pubkey *pk)
{
	size_t lo = 0, hi = sv->nauthz;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = memcmp(sv->authz[mid].bunker.pub.b, pk->b, 32);

		if (c == 0)
			return &sv->authz[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The authorization with id, or NULL. */
struct signer_authz *signer_serving_by_id(const struct signer_serving *sv, int64_t id)
{
	size_t lo = 0, hi = sv->nauthz;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct signer_authz *a = &sv->authz[sv->by_id[mid]];

		if (a->row->id == id)
			return a;
		if (a->row->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Move the rate buckets of authorizations present in both sets. */
void signer_serving_carry(struct signer_serving *to, const struct signer_serving *from)
{
	for (size_t i = 0; from != NULL && i < to->nauthz; i++) {
		const struct signer_authz *old = signer_serving_by_id(from, to->authz[i].row->id);

		if (old == NULL)
			continue;
		to->authz[i].bucket = old->bucket;
		to->authz[i].strangers = old->strangers;
	}
}

/* The bunker pubkeys (hex) of sv, sorted. */
int signer_serving_bunkers(const char ***out, size_t *n, const struct signer_serving *sv)
{
	*n = 0;
	*out = calloc(sv->nauthz ? sv->nauthz : 1, sizeof(**out));
	if (*out == NULL)
		return -1;
	for (size_t i = 0; i < sv->nauthz; i++)
		(*out)[(*n)++] = sv->authz[i].row->bunker_pubkey;
	return 0;
}
