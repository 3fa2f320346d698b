/*
 * signer_int.h - the signer's internals, shared by signer.c (lifecycle,
 * serving set, relays, the component) and signer_pipeline.c (one request
 * from event to acknowledged reply). Not for other layers.
 */
#ifndef KC_SIGNER_INT_H
#define KC_SIGNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/workq.h"
#include "nostr/keys.h"
#include "signer/signer.h"
#include "signer/signer_metrics.h"
#include "signer/signer_request.h"
#include "signer/signer_work.h"

struct nip44_cache;
struct nostr_event;
struct relay_pool;
struct signer_ack;
struct signer_api_call;
struct signer_audit;
struct signer_authz;
struct signer_queued;
struct signer_serving;
struct signer_subs;

/* Why a request was seen and not answered. */
enum signer_ignore {
	SIGNER_IGN_STALE,	   /* created_at older than max_age_s */
	SIGNER_IGN_FUTURE,	   /* created_at more than max_future_s ahead */
	SIGNER_IGN_UNKNOWN,	   /* no served bunker pubkey in its p tags */
	SIGNER_IGN_DRAINING,	   /* shutting down: other replicas take it */
	SIGNER_IGN_OVERLOADED,	   /* max_inflight reached: other replicas take it */
	SIGNER_IGN_UNDECRYPTABLE,  /* content does not decrypt */
	SIGNER_IGN_NO_ID,	   /* no usable request id: cannot be answered */
	SIGNER_IGN_STRANGER_LIMIT, /* error replies to unbound clients over their limit */
	SIGNER_IGN_COUNT_,
};

/* A change to a binding made here, laid over serving sets loaded before it committed. */
struct signer_binding {
	int64_t authz_id;
	bool bound;
	struct nostr_pubkey client;
	uint64_t until_load; /* sets from loads numbered >= this reflect it */
};

/* Remembers when a client was last logged about, to log it once a minute. */
#define SIGNER_LOGGED_SLOTS 64

/* One request, from event to acknowledged reply. */
struct signer_req {
	struct signer *s; /* NULL once orphaned: the signer was freed */
	struct signer_req *prev, *next;
	char event_id[65];
	uint8_t id[32], sig[64]; /* the event's, for the open job to verify */
	char *relay;		 /* the URL of the relay that brought it (invalid: told) */
	struct nostr_pubkey client;
	char client_hex[65];
	struct nostr_keypair bunker; /* a copy (secret): wiped on free */
	char key_hex[65];	     /* the user key, for the audit */
	int64_t authz_id;
	char *content; /* the encrypted request */
	size_t content_len;
	enum signer_scheme scheme;
	int64_t seen_ms;
	struct signer_request rq;
	bool db_down;	  /* the claim failed: answer "database unavailable" */
	bool bound_known; /* the claim read the binding: bound_db holds it */
	bool bound_db;	  /* the client is bound to the authorization in the database */
	bool waiting;	  /* a store call's callback is due */
	bool working;	  /* a worker job's done is due (open or reply) */
	bool publishing;  /* a publish's on_done is due */
	bool settled;	  /* counted as finished (inflight no longer counts it) */
	bool dropped;	  /* aborted: nothing more is done for it */
	int kind;	  /* sign_event's kind for the audit, else -1 */
	char signed_id[65];
	const char *outcome; /* ok | error | refused | unavailable; set once the reply is made */
	const char *reply_outcome; /* the outcome of the reply being made */
	char detail[200];
	struct workq_job job;		/* the worker job in flight (working) */
	struct signer_work_open open;	/* its work when opening the request */
	struct signer_work_reply reply; /* its work when making the reply */
};

struct signer {
	struct signer_config cfg;
	struct component *component; /* set at the first operation */
	struct relay_pool *pool;
	struct signer_subs *subs;
	struct signer_audit *audit;
	struct nip44_cache *cache; /* shared with the workers (it locks) */
	struct workq *workq;	   /* the request crypto: workers, or inline */
	struct signer_metrics metrics;
	struct clock_timer *reload;
	struct signer_serving *serving; /* NULL until the first load */
	int64_t generation;		/* of serving */
	uint64_t loads_started;		/* numbers the loads */
	bool loading;			/* a generation read or a load is in flight */
	bool reload_failing;		/* the last reload failed (logged once) */
	bool subscribed;		/* every key's subscription was confirmed once */
	struct signer_binding *bindings;
	size_t nbindings;
	char **relay_urls; /* added to the pool */
	size_t nrelay_urls;
	struct signer_ack **acks; /* nostrconnect replies being sent */
	size_t nacks;
	struct signer_req *reqs;	   /* every live request */
	struct signer_api_call *api_calls; /* every HTTP API call whose answer is due */
	size_t inflight;
	struct signer_queued *backlog_head, *backlog_tail; /* events waiting for room */
	size_t nbacklog;
	struct clock_timer *replay; /* replays the backlog once a request settled */
	uint64_t dropped;	    /* by aborts */
	bool accepting;
	struct component *draining; /* a drain waits for inflight == 0 */
	struct {
		struct nostr_pubkey who;
		int64_t at_ms;
	} logged[SIGNER_LOGGED_SLOTS];
};

/*
 * signer_pipeline.c: a request event for the signer from relay_url, its id
 * checked and its signature not yet (json: its text, kept if full).
 */
void signer_pipeline_event(struct signer *s, const struct nostr_event *ev, const char *json,
			   size_t len, const char *relay_url);

/* signer_pipeline.c: drop every live request (abort); returns how many were in flight. */
size_t signer_pipeline_abort(struct signer *s);

/* signer_pipeline.c: free every request, orphaning those a store callback is due for. */
void signer_pipeline_free_all(struct signer *s);

/* signer_backlog.c: keep an event (and its relay) while full; false if not kept (none, ENOMEM). */
bool signer_backlog_push(struct signer *s, const char *json, size_t len, const char *relay_url);

/* signer_backlog.c: a request settled: replay waiting events (from a timer) if there is room. */
void signer_backlog_room(struct signer *s);

/* signer_backlog.c: the replay timer: waiting events through the pipeline while there is room. */
void signer_backlog_on_timer(void *arg);

/* signer_backlog.c: drop every waiting event, counted (stopping); returns how many. */
size_t signer_backlog_discard(struct signer *s);

/* signer_backlog.c: free every waiting event, uncounted, metrics untouched. */
void signer_backlog_free(struct signer *s);

/* signer.c: a request finished (settled); complete a waiting drain if none is left. */
void signer_check_drained(struct signer *s);

/* signer.c: record a binding change made by a connect or logout that committed. */
void signer_bind(struct signer *s, int64_t authz_id, bool bound, const struct nostr_pubkey *client);

/* signer.c: count an ignored request. */
void signer_ignore(struct signer *s, enum signer_ignore why);

/* signer.c: whether to log about client now (at most once a minute per client). */
bool signer_log_due(struct signer *s, const struct nostr_pubkey *client);

/* signer_api.c: free every API call, orphaning those a callback or job is due for. */
void signer_api_free_all(struct signer *s);

/* signer_nostrconnect.c: send the connect replies nostrconnect:// clients wait for. */
void signer_send_acks(struct signer *s);

/* signer_nostrconnect.c: free every reply being sent, orphaning those a store callback is due for.
 */
void signer_acks_free_all(struct signer *s);

/* Unix time now, in seconds. */
int64_t signer_unix_now(void);

#endif /* KC_SIGNER_INT_H */
