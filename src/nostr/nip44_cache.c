/*
 * nip44_cache.c - a bounded cache of NIP-44 conversation keys.
 *
 * Set-associative: NIP44_CACHE_WAYS entries per bucket, the bucket chosen
 * by SipHash-2-4 (OpenSSL's EVP_MAC "SIPHASH") over the full 64 bytes of
 * (own pubkey, peer pubkey) under a random key made with the cache, so a
 * peer cannot grind pubkeys that land in one bucket to evict others'
 * keys; least recently used way evicted. Lookups are O(1); capacity is
 * rounded up to a power-of-two number of buckets. Evicted and freed keys
 * are wiped. Should the MAC ever fail, the key is computed and not cached.
 *
 * Thread-safe: one mutex guards the table, the MAC context and the
 * counters; it is held for a lookup or an insert (a SipHash and four
 * compares), never for the ECDH of a miss, so threads sharing the cache
 * wait on each other for well under a microsecond. Two threads missing on
 * the same pair at once both compute it; the second insert finds the
 * first and keeps it.
 */
#include "nostr/nip44.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#define NIP44_CACHE_WAYS     4
#define NIP44_CACHE_SIPKEY   16 /* SipHash key bytes */
#define NIP44_CACHE_SIPBYTES 16 /* SipHash-2-4 output bytes (OpenSSL's default) */

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
	size_t nbuckets;    /* a power of two */
	EVP_MAC_CTX *mac;   /* SipHash-2-4 keyed at creation; re-initialised per lookup */
	pthread_mutex_t mu; /* guards everything here */
	uint64_t tick;
	uint64_t hits;
	uint64_t misses;
};

static int nip44_cache_mac_new(struct nip44_cache *c);
static int nip44_cache_bucket(struct nip44_cache *c, size_t *bucket, const struct nostr_pubkey *own,
			      const struct nostr_pubkey *peer);
static struct nip44_cache_entry *nip44_cache_find(struct nip44_cache *c,
						  const struct nostr_pubkey *own,
						  const struct nostr_pubkey *peer, int *hit);
static int nip44_cache_lookup(struct nip44_cache *c, struct nip44_key *out,
			      const struct nostr_pubkey *own, const struct nostr_pubkey *peer);
static void nip44_cache_insert(struct nip44_cache *c, const struct nip44_key *key,
			       const struct nostr_pubkey *own, const struct nostr_pubkey *peer);

/* A cache of at most capacity entries. */
int nip44_cache_new(struct nip44_cache **out, size_t capacity)
{
	struct nip44_cache *c = calloc(1, sizeof(*c));
	size_t nb = 1;

	*out = NULL;
	if (c == NULL)
		return -1;
	pthread_mutex_init(&c->mu, NULL);
	while (nb * NIP44_CACHE_WAYS < capacity)
		nb <<= 1;
	c->nbuckets = nb;
	c->e = calloc(nb * NIP44_CACHE_WAYS, sizeof(*c->e));
	if (c->e == NULL || nip44_cache_mac_new(c) != 0)
		goto fail;
	*out = c;
	return 0;
fail:
	nip44_cache_free(&c);
	return -1;
}

/* Key the cache's SipHash with 16 fresh random bytes (wiped once set); 0 or -1. */
static int nip44_cache_mac_new(struct nip44_cache *c)
{
	uint8_t key[NIP44_CACHE_SIPKEY];
	EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_SIPHASH, NULL);
	int rc = -1;

	if (mac == NULL)
		return -1;
	c->mac = EVP_MAC_CTX_new(mac);
	if (c->mac != NULL && nostr_random(key, sizeof(key)) == 0 &&
	    EVP_MAC_init(c->mac, key, sizeof(key), NULL) == 1)
		rc = 0;
	OPENSSL_cleanse(key, sizeof(key));
	EVP_MAC_free(mac);
	return rc;
}

/* Free the cache, wiping the keys. */
void nip44_cache_free(struct nip44_cache **c)
{
	if (*c == NULL)
		return;
	if ((*c)->e != NULL)
		OPENSSL_cleanse((*c)->e, (*c)->nbuckets * NIP44_CACHE_WAYS * sizeof(*(*c)->e));
	free((*c)->e);
	EVP_MAC_CTX_free((*c)->mac);
	pthread_mutex_destroy(&(*c)->mu);
	free(*c);
	*c = NULL;
}

/* The bucket of a key pair: SipHash-2-4 of own || peer under the cache's key; 0 or -1. */
static int nip44_cache_bucket(struct nip44_cache *c, size_t *bucket, const struct nostr_pubkey *own,
			      const struct nostr_pubkey *peer)
{
	unsigned char h[NIP44_CACHE_SIPBYTES];
	size_t n = 0;
	uint64_t v;

	if (EVP_MAC_init(c->mac, NULL, 0, NULL) != 1 || /* back to the keyed state */
	    EVP_MAC_update(c->mac, own->b, sizeof(own->b)) != 1 ||
	    EVP_MAC_update(c->mac, peer->b, sizeof(peer->b)) != 1 ||
	    EVP_MAC_final(c->mac, h, &n, sizeof(h)) != 1 || n < sizeof(v))
		return -1;
	memcpy(&v, h, sizeof(v));
	*bucket = (size_t)(v & (c->nbuckets - 1));
	return 0;
}

/* The entry for (own, peer): a hit (*hit = 1), the way to fill (LRU), or NULL if the MAC failed. */
static struct nip44_cache_entry *nip44_cache_find(struct nip44_cache *c,
						  const struct nostr_pubkey *own,
						  const struct nostr_pubkey *peer, int *hit)
{
	struct nip44_cache_entry *set, *victim;
	size_t b;

	*hit = 0;
	if (nip44_cache_bucket(c, &b, own, peer) != 0)
		return NULL;
	set = c->e + b * NIP44_CACHE_WAYS;
	victim = set;
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

/* The conversation key, from the cache or computed (outside the lock) and stored. */
enum nip44_err nip44_cache_get(struct nip44_cache *c, struct nip44_key *out,
			       const struct nostr_keypair *kp, const struct nostr_pubkey *peer)
{
	struct nostr_seckey sk;
	enum nip44_err rc;

	if (nip44_cache_lookup(c, out, &kp->pub, peer))
		return NIP44_OK;
	nostr_keypair_seckey(&sk, kp);
	rc = nip44_conversation_key(out, &sk, peer);
	nostr_seckey_wipe(&sk);
	if (rc == NIP44_OK)
		nip44_cache_insert(c, out, &kp->pub, peer);
	return rc;
}

/* Under the lock: copy the cached key of (own, peer) into *out (1), or count a miss (0). */
static int nip44_cache_lookup(struct nip44_cache *c, struct nip44_key *out,
			      const struct nostr_pubkey *own, const struct nostr_pubkey *peer)
{
	int hit;
	struct nip44_cache_entry *e;

	pthread_mutex_lock(&c->mu);
	e = nip44_cache_find(c, own, peer, &hit);
	if (hit) {
		c->hits++;
		e->used = ++c->tick;
		*out = e->key;
	} else {
		c->misses++;
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

/* Under the lock: store key for (own, peer) unless there already (or the MAC failed). */
static void nip44_cache_insert(struct nip44_cache *c, const struct nip44_key *key,
			       const struct nostr_pubkey *own, const struct nostr_pubkey *peer)
{
	int hit;
	struct nip44_cache_entry *e;

	pthread_mutex_lock(&c->mu);
	e = nip44_cache_find(c, own, peer, &hit);
	if (e != NULL) { /* NULL: no bucket (MAC failure), served uncached */
		e->own = *own;
		e->peer = *peer;
		e->key = *key;
		e->used = ++c->tick;
	}
	pthread_mutex_unlock(&c->mu);
}

/* Hit and miss counters. */
void nip44_cache_stats(const struct nip44_cache *c, uint64_t *hits, uint64_t *misses)
{
	pthread_mutex_t *mu = (pthread_mutex_t *)&c->mu; /* the counters are read, not changed */

	pthread_mutex_lock(mu);
	*hits = c->hits;
	*misses = c->misses;
	pthread_mutex_unlock(mu);
}
