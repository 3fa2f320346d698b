/*
 * signer_subs.h - the relay subscriptions that bring the signer its
 * requests: {"kinds":[24133], "#p":[bunker pubkeys]}, split into slots of
 * at most per_slot pubkeys, one named subscription each.
 *
 * When the serving set changes, signer_subs_update() moves the slots to
 * the new set of pubkeys: a removed pubkey leaves its slot, a new one
 * fills a slot with room, and only the slots that changed are sent again
 * (relay_pool_resubscribe: same subscription id, replaced in place). A
 * slot whose pubkeys did not change is never touched, so its requests
 * keep flowing through a reload.
 */
#ifndef KC_SIGNER_SUBS_H
#define KC_SIGNER_SUBS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct relay_pool;
struct signer_subs;

/* Subscriptions on pool (borrowed) with at most per_slot pubkeys each; NULL on ENOMEM. */
struct signer_subs *signer_subs_new(struct relay_pool *pool, size_t per_slot);

/* Free the slots (the pool's subscriptions stay as they are). NULL is ignored. */
void signer_subs_free(struct signer_subs *ss);

/*
 * Cover exactly the sorted, distinct hex pubkeys[0..n), sending only the
 * slots that change, each with since (Unix seconds). Returns the number of
 * slots sent or closed, or -1 with a message in err: the slots that could
 * be sent were, the others are tried again at the next update.
 */
int signer_subs_update(struct signer_subs *ss, const char *const *pubkeys, size_t n, int64_t since,
		       char *err, size_t errlen);

/* A relay sent EOSE for subscription sub (other names are ignored). */
void signer_subs_eose(struct signer_subs *ss, const char *sub);

/*
 * Whether at least one relay has confirmed (EOSE) every subscription sent,
 * since it was last sent: requests for every key subscribed now reach the
 * signer. Slots the relays' limits kept from being sent at all do not
 * count (signer_subs_update reported them, and keeps trying): a replica
 * past the limit serves what it can rather than never becoming ready.
 * True when there is no key at all.
 */
bool signer_subs_confirmed(const struct signer_subs *ss);

/* The number of live subscriptions (slots holding pubkeys). */
size_t signer_subs_count(const struct signer_subs *ss);

#endif /* KC_SIGNER_SUBS_H */
