/*
 * signer_subs.c - request subscriptions in slots, changed slot by slot.
 */
#include "signer/signer_subs.h"

#include "relay/relay_pool.h"
#include "signer/signer_request.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One subscription: up to per_slot pubkeys. */
struct signer_slot {
	char (*keys)[65];
	size_t n;
	bool dirty;	/* changed since last sent */
	bool live;	/* subscribed on the pool */
	bool confirmed; /* a relay sent EOSE for it since it was last sent */
};

struct signer_subs {
	struct relay_pool *pool;
	size_t per_slot;
	struct signer_slot *slots;
	size_t nslots;
};

static bool signer_subs_has(const char *const *v, size_t n, const char *key);
static void signer_subs_remove_gone(struct signer_subs *ss, const char *const *v, size_t n);
static int signer_subs_add(struct signer_subs *ss, const char *key);
static int signer_subs_send(struct signer_subs *ss, size_t i, int64_t since, char *err,
			    size_t errlen);
static int signer_subs_cmp(const void *a, const void *b);

/* Subscriptions on pool with at most per_slot pubkeys each. */
struct signer_subs *signer_subs_new(struct relay_pool *pool, size_t per_slot)
{
	struct signer_subs *ss = calloc(1, sizeof(*ss));

	if (ss == NULL)
		return NULL;
	ss->pool = pool;
	ss->per_slot = per_slot > 0 ? per_slot : 256;
	return ss;
}

/* Free the slots. */
void signer_subs_free(struct signer_subs *ss)
{
	if (ss == NULL)
		return;
	for (size_t i = 0; i < ss->nslots; i++)
		free(ss->slots[i].keys);
	free(ss->slots);
	free(ss);
}

/* Order two C strings (for bsearch over an array of pointers). */
static int signer_subs_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether the sorted v[0..n) holds key. */
static bool signer_subs_has(const char *const *v, size_t n, const char *key)
{
	return n > 0 && bsearch(&key, v, n, sizeof(*v), signer_subs_cmp) != NULL;
}

/* Take every pubkey that is not in v[0..n) out of its slot. */
static void signer_subs_remove_gone(struct signer_subs *ss, const char *const *v, size_t n)
{
	for (size_t i = 0; i < ss->nslots; i++) {
		struct signer_slot *sl = &ss->slots[i];

		for (size_t k = 0; k < sl->n;) {
			if (signer_subs_has(v, n, sl->keys[k])) {
				k++;
				continue;
			}
			memcpy(sl->keys[k], sl->keys[--sl->n], 65);
			sl->dirty = true;
		}
	}
}

/* Put key into the first slot with room, or a new slot. 0 or -1 (ENOMEM). */
static int signer_subs_add(struct signer_subs *ss, const char *key)
{
	struct signer_slot *sl = NULL;

	for (size_t i = 0; i < ss->nslots && sl == NULL; i++)
		if (ss->slots[i].n < ss->per_slot)
			sl = &ss->slots[i];
	if (sl == NULL) {
		struct signer_slot *v = realloc(ss->slots, (ss->nslots + 1) * sizeof(*v));

		if (v == NULL)
			return -1;
		ss->slots = v;
		sl = &ss->slots[ss->nslots];
		memset(sl, 0, sizeof(*sl));
		sl->keys = calloc(ss->per_slot, sizeof(*sl->keys));
		if (sl->keys == NULL)
			return -1;
		ss->nslots++;
	}
	snprintf(sl->keys[sl->n++], 65, "%s", key);
	sl->dirty = true;
	return 0;
}

/* Send slot i (or close it when empty): 1 if sent, 0 if there was nothing to send, -1. */
static int signer_subs_send(struct signer_subs *ss, size_t i, int64_t since, char *err,
			    size_t errlen)
{
	struct signer_slot *sl = &ss->slots[i];
	static const int kinds[] = {SIGNER_KIND};
	const char **p = NULL;
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "nip46-%zu", i);
	if (sl->n == 0) {
		bool was = sl->live;

		if (was)
			relay_pool_unsubscribe(ss->pool, name);
		sl->live = sl->dirty = false;
		return was;
	}
	p = calloc(sl->n, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t k = 0; k < sl->n; k++)
		p[k] = sl->keys[k];
	rc = relay_pool_resubscribe(ss->pool, name,
				    &(struct relay_filter){.kinds = kinds,
							   .nkinds = 1,
							   .p_tags = p,
							   .np_tags = sl->n,
							   .since = since,
							   .limit = -1},
				    err, errlen);
	free(p);
	if (rc != 0)
		return -1; /* still dirty: tried again at the next update */
	sl->live = true;
	sl->dirty = false;
	sl->confirmed = false;
	return 1;
}

/* Cover exactly pubkeys[0..n), sending only the slots that change. */
int signer_subs_update(struct signer_subs *ss, const char *const *pubkeys, size_t n, int64_t since,
		       char *err, size_t errlen)
{
	const char **have = NULL;
	size_t nhave = 0, total = 0;
	int sent = 0, rc = 0;

	signer_subs_remove_gone(ss, pubkeys, n);
	for (size_t i = 0; i < ss->nslots; i++)
		total += ss->slots[i].n;
	have = calloc(total ? total : 1, sizeof(*have));
	if (have == NULL)
		goto nomem;
	for (size_t i = 0; i < ss->nslots; i++)
		for (size_t k = 0; k < ss->slots[i].n; k++)
			have[nhave++] = ss->slots[i].keys[k];
	qsort(have, nhave, sizeof(*have), signer_subs_cmp);
	for (size_t i = 0; i < n; i++)
		if (!signer_subs_has(have, nhave, pubkeys[i]) &&
		    signer_subs_add(ss, pubkeys[i]) != 0)
			goto nomem;
	free(have);
	for (size_t i = 0; i < ss->nslots; i++) {
		int one = ss->slots[i].dirty ? signer_subs_send(ss, i, since, err, errlen) : 0;

		if (one < 0)
			rc = -1;
		else
			sent += one;
	}
	return rc == 0 ? sent : -1;
nomem:
	free(have);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* A relay sent EOSE for subscription sub: mark its slot confirmed. */
void signer_subs_eose(struct signer_subs *ss, const char *sub)
{
	char *end = NULL;
	unsigned long i;

	if (strncmp(sub, "nip46-", 6) != 0)
		return;
	i = strtoul(sub + 6, &end, 10);
	if (end != sub + 6 && *end == '\0' && i < ss->nslots && ss->slots[i].live)
		ss->slots[i].confirmed = true;
}

/* Whether a relay has confirmed every subscription sent (slots never sent do not count). */
bool signer_subs_confirmed(const struct signer_subs *ss)
{
	for (size_t i = 0; i < ss->nslots; i++)
		if (ss->slots[i].live && !ss->slots[i].confirmed)
			return false;
	return true;
}

/* The number of live subscriptions. */
size_t signer_subs_count(const struct signer_subs *ss)
{
	size_t n = 0;

	for (size_t i = 0; i < ss->nslots; i++)
		n += ss->slots[i].live;
	return n;
}
