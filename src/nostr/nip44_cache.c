/*
 * nip44_cache.c - a bounded cache of NIP-44 conversation keys.
 *
 * Set-associative: NIP44_CACHE_WAYS entries per bucket, the bucket chosen
 * by a keyed hash of (own pubkey, peer pubkey) with a random per-cache
 * seed (so a peer cannot aim at one bucket), least recently used way
 * evicted. Lookups are O(1); capacity is rounded up to a power-of-two
 * number of buckets. Evicted and freed keys are wiped.
 */
#include "nostr/nip44.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#define NIP44_CACHE_WAYS 4

/* One cached conversation key. */
struct nip44_cache_entry {
	struct nostr_pubkey own;
	struct nostr_pubkey peer;
	struct nip44_key key;
	uint64_t used; /* tick of last use; 0 = empty */
};

/* The cache. */
struct nip44_cache {
	struct nip44_cache_entry *e;
	size_t nbuckets; /* a power of two */
	uint64_t seed;
	uint64_t tick;
	uint64_t hits;
	uint64_t misses;
};

static size_t nip44_cache_bucket(const struct nip44_cache *c, const struct nostr_pubkey *own,
				 const struct nostr_pubkey *peer);
static struct nip44_cache_entry *nip44_cache_find(struct nip44_cache *c,
						  const struct nostr_pubkey *own,
						  const struct nostr_pubkey *peer, int *hit);

/* A cache of at most capacity entries. */
int nip44_cache_new(struct nip44_cache **out, size_t capacity)
{
	struct nip44_cache *c = calloc(1, sizeof(*c));
	size_t nb = 1;

	*out = NULL;
	while (c != NULL && nb * NIP44_CACHE_WAYS < capacity)
		nb <<= 1;
	if (c == NULL || nostr_random((uint8_t *)&c->seed, sizeof(c->seed)) != 0 ||
	    (c->e = calloc(nb * NIP44_CACHE_WAYS, sizeof(*c->e))) == NULL) {
		free(c);
		return -1;
	}
	c->nbuckets = nb;
	*out = c;
	return 0;
}

/* Free the cache, wiping the keys. */
void nip44_cache_free(struct nip44_cache **c)
{
	if (*c == NULL)
		return;
	OPENSSL_cleanse((*c)->e, (*c)->nbuckets * NIP44_CACHE_WAYS * sizeof(*(*c)->e));
	free((*c)->e);
	free(*c);
	*c = NULL;
}

/* The bucket of a key pair (a seeded multiply-xorshift mix of 16 bytes). */
static size_t nip44_cache_bucket(const struct nip44_cache *c, const struct nostr_pubkey *own,
				 const struct nostr_pubkey *peer)
{
	uint64_t a, b, h;

	memcpy(&a, own->b, 8);
	memcpy(&b, peer->b, 8);
	h = (a ^ c->seed) * 0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	h = (h ^ b) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)(h & (c->nbuckets - 1));
}

/* The entry for (own, peer): a hit (*hit = 1) or the way to fill (LRU). */
static struct nip44_cache_entry *nip44_cache_find(struct nip44_cache *c,
						  const struct nostr_pubkey *own,
						  const struct nostr_pubkey *peer, int *hit)
{
	struct nip44_cache_entry *set = c->e + nip44_cache_bucket(c, own, peer) * NIP44_CACHE_WAYS;
	struct nip44_cache_entry *victim = set;

	*hit = 0;
	for (size_t i = 0; i < NIP44_CACHE_WAYS; i++) {
		if (set[i].used != 0 && nostr_pubkey_equal(&set[i].own, own) &&
		    nostr_pubkey_equal(&set[i].peer, peer)) {
			*hit = 1;
			return &set[i];
		}
		if (set[i].used < victim->used)
			victim = &set[i];
	}
	return victim;
}

/* The conversation key, from the cache or computed and stored. */
enum nip44_err nip44_cache_get(struct nip44_cache *c, struct nip44_key *out,
			       const struct nostr_keypair *kp, const struct nostr_pubkey *peer)
{
	int hit;
	struct nip44_cache_entry *e = nip44_cache_find(c, &kp->pub, peer, &hit);
	struct nostr_seckey sk;
	enum nip44_err rc;

	if (hit) {
		c->hits++;
		e->used = ++c->tick;
		*out = e->key;
		return NIP44_OK;
	}
	c->misses++;
	nostr_keypair_seckey(&sk, kp);
	rc = nip44_conversation_key(out, &sk, peer);
	nostr_seckey_wipe(&sk);
	if (rc != NIP44_OK)
		return rc;
	e->own = kp->pub;
	e->peer = *peer;
	e->key = *out;
	e->used = ++c->tick;
	return NIP44_OK;
}

/* Hit and miss counters. */
void nip44_cache_stats(const struct nip44_cache *c, uint64_t *hits, uint64_t *misses)
{
	*hits = c->hits;
	*misses = c->misses;
}
