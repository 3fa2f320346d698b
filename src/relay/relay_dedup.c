/*
 * relay_dedup.c - bounded id set: a ring of slots, chained by hash. An id
 * is kept as its 32 bytes, not its 64 hex digits: 40 bytes a slot.
 */
#include "relay/relay_dedup.h"

#include "nostr/hex.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define RELAY_DEDUP_NONE UINT32_MAX

/* One remembered id. */
struct relay_dedup_slot {
	uint8_t id[32];
	uint32_t next; /* next slot in the same bucket */
	bool used;
};

struct relay_dedup {
	struct relay_dedup_slot *slots;
	uint32_t *buckets;
	size_t capacity;
	size_t nbuckets; /* a power of two */
	size_t head;	 /* the slot to reuse next (the oldest) */
	size_t count;
};

static size_t relay_dedup_bucket(const struct relay_dedup *d, const uint8_t id[32]);
static bool relay_dedup_find(const struct relay_dedup *d, const uint8_t id[32]);
static void relay_dedup_unlink(struct relay_dedup *d, uint32_t slot);

/* A set remembering up to capacity ids. */
struct relay_dedup *relay_dedup_new(size_t capacity)
{
	struct relay_dedup *d = calloc(1, sizeof(*d));
	if (d == NULL || capacity == 0 || capacity >= RELAY_DEDUP_NONE / 2)
		goto fail;
	d->capacity = capacity;
	d->nbuckets = 1;
	while (d->nbuckets < capacity * 2)
		d->nbuckets <<= 1;
	d->slots = calloc(capacity, sizeof(*d->slots));
	d->buckets = malloc(d->nbuckets * sizeof(*d->buckets));
	if (d->slots == NULL || d->buckets == NULL)
		goto fail;
	memset(d->buckets, 0xff, d->nbuckets * sizeof(*d->buckets));
	return d;
fail:
	relay_dedup_free(d);
	return NULL;
}

/* Free the set. */
void relay_dedup_free(struct relay_dedup *d)
{
	if (d == NULL)
		return;
	free(d->slots);
	free(d->buckets);
	free(d);
}

/* FNV-1a over the id, masked to a bucket. */
static size_t relay_dedup_bucket(const struct relay_dedup *d, const uint8_t id[32])
{
	uint64_t h = 1469598103934665603ULL;
	for (int i = 0; i < 32; i++)
		h = (h ^ id[i]) * 1099511628211ULL;
	return (size_t)(h & (d->nbuckets - 1));
}

/* Whether the 32-byte id is remembered. */
static bool relay_dedup_find(const struct relay_dedup *d, const uint8_t id[32])
{
	uint32_t s = d->buckets[relay_dedup_bucket(d, id)];
	for (; s != RELAY_DEDUP_NONE; s = d->slots[s].next)
		if (memcmp(d->slots[s].id, id, 32) == 0)
			return true;
	return false;
}

/* Whether id (64 lowercase hex digits) is remembered. */
bool relay_dedup_has(const struct relay_dedup *d, const char *id)
{
	uint8_t b[32];

	return hex_decode(b, sizeof(b), id, strnlen(id, 65), HEX_LOWER) == 0 &&
	       relay_dedup_find(d, b);
}

/* Take a slot out of its bucket chain. */
static void relay_dedup_unlink(struct relay_dedup *d, uint32_t slot)
{
	uint32_t *pp = &d->buckets[relay_dedup_bucket(d, d->slots[slot].id)];
	while (*pp != RELAY_DEDUP_NONE && *pp != slot)
		pp = &d->slots[*pp].next;
	if (*pp == slot)
		*pp = d->slots[slot].next;
	d->slots[slot].used = false;
	d->count--;
}

/* Remember id; true if new. */
bool relay_dedup_add(struct relay_dedup *d, const char *id)
{
	uint32_t s = (uint32_t)d->head;
	uint8_t bin[32];
	size_t b;

	if (hex_decode(bin, sizeof(bin), id, strnlen(id, 65), HEX_LOWER) != 0 ||
	    relay_dedup_find(d, bin))
		return false;
	if (d->slots[s].used)
		relay_dedup_unlink(d, s);
	memcpy(d->slots[s].id, bin, 32);
	b = relay_dedup_bucket(d, bin);
	d->slots[s].next = d->buckets[b];
	d->slots[s].used = true;
	d->buckets[b] = s;
	d->head = (d->head + 1) % d->capacity;
	d->count++;
	return true;
}

/* The number of ids remembered. */
size_t relay_dedup_count(const struct relay_dedup *d)
{
	return d->count;
}
