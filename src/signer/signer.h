/*
 * signer.h - the relay-signer component: keycastd's NIP-46 bunker.
 *
 * It keeps a relay pool subscribed to kind-24133 requests for every bunker
 * pubkey of the serving set, and runs each request through the pipeline
 * (signer_pipeline.c): window check, claim in PostgreSQL (exactly one
 * replica answers), decrypt (NIP-44 or NIP-04, the reply uses the same),
 * parse, authorize (bound client, expiry, revocation, policy, rate),
 * execute, encrypt, sign with the bunker key, publish, and count it done
 * when a relay acknowledges the reply. Every request that can be answered
 * is answered, with a result or an error.
 *
 * The crypto of a request (decrypting and parsing it; running a method
 * that needs the user's key; encrypting and signing the reply) runs on a
 * pool of worker threads (threads); the loop keeps the I/O, the state,
 * the database calls and the claim/settle logic, and gets the results
 * back in the order it handed the work out (signer_work.h, core/workq.h).
 *
 * The serving set follows the database: the generation is polled every
 * reload_ms and the set reloaded when it moves; subscriptions change slot
 * by slot (signer_subs.h).
 *
 * Under the shutdown plan (signer_component_ops, registered as
 * "relay-signer"): stop_accepting stops claiming and closes the
 * subscriptions, so other replicas take every new request; drain completes
 * once every claimed request is acknowledged or has failed for good (and
 * the audit queue is written); abort drops what is left and says how
 * many; close closes the relay connections with 1001.
 */
#ifndef KC_SIGNER_H
#define KC_SIGNER_H

#include <stddef.h>
#include <stdint.h>

#include "core/component.h"

struct clock;
struct db_store;
struct event_base;
struct metrics;
struct signer;

/* Settings; zero values take the defaults named per field. */
struct signer_config {
	struct event_base *base;   /* required */
	struct clock *clock;	   /* required */
	struct db_store *store;	   /* required */
	struct metrics *metrics;   /* optional: the keycastd_signer_* families */
	const char *const *relays; /* relays always listened on (bunker_relays) */
	size_t nrelays;
	const char *ca_file;	      /* optional extra CAs for wss:// */
	size_t max_inflight;	      /* claimed, unfinished requests at most; default 1024 */
	size_t backlog;		      /* request events kept (FIFO) while max_inflight is reached;
					 0 (not a default): none, they are left to other replicas */
	int64_t reload_ms;	      /* serving generation poll; default 1000 */
	int64_t publish_timeout_ms;   /* per relay; default 5000 */
	int64_t write_timeout_ms;     /* a relay not reading is dropped after; 0: the pool's */
	size_t max_pending_out;	      /* bytes queued per relay at most; 0: the pool's */
	int64_t max_age_s;	      /* older requests are ignored; default 3600 */
	int64_t max_future_s;	      /* requests from further ahead are ignored; default 60 */
	uint32_t stranger_burst;      /* error replies to unbound clients, per bunker key; 10 */
	uint32_t stranger_per_minute; /* their refill; default 60 */
	unsigned threads; /* request crypto: 1 = on the loop thread, N = N worker threads;
			     default (0) the CPUs this process may run on */
};

/* Create the signer and start loading the serving set. 0, or -1 with a message in err. */
int signer_new(struct signer **out, const struct signer_config *cfg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Free the signer. Requests still waiting on the database are orphaned
 * and freed by their callbacks (free the store's pool afterwards).
 * NULL is ignored.
 */
void signer_free(struct signer *s);

/* Claimed requests not finished yet. */
size_t signer_inflight(const struct signer *s);

/* Claimed requests dropped unanswered by an abort, since start. */
uint64_t signer_dropped(const struct signer *s);

/* The operations of the relay-signer component; self is a struct signer. */
extern const struct component_ops signer_component_ops;

#endif /* KC_SIGNER_H */
