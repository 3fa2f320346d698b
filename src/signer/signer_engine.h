/*
 * signer_engine.h - what every way in does with a request once it is read:
 * the NIP-46 pipeline (signer_pipeline.c, after decryption) and the HTTP
 * API (signer_api.c) run the same checks, in the same order, with the
 * same words, and write the same audit entry.
 *
 *   signer_engine_live    the authorization is still served, not revoked,
 *                         not expired
 *   signer_engine_admit   its policy is readable; params -> operation
 *                         (signer_op_parse); policy (signer_policy_check);
 *                         rate (the authorization's token bucket)
 *   the method            signer_op_run, as the user's key (on a worker)
 *   signer_engine_audit   one entry, off the reply's path (signer_audit.h)
 *
 * A check that refuses fills a verdict: a status class (the HTTP API's
 * status; the NIP-46 path turns it into its outcome with
 * signer_status_outcome), a client-facing reason, and for 429 the wait
 * before the next token. The reason is the text both paths send back.
 *
 * Pure apart from the audit queue: no I/O, time passed in.
 */
#ifndef KC_SIGNER_ENGINE_H
#define KC_SIGNER_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "signer/signer_op.h"
#include "signer/signer_request.h"

struct signer_audit;
struct signer_authz;

/* The class of an answer, as an HTTP status. */
enum signer_status {
	SIGNER_STATUS_OK = 200,		  /* answered with a result */
	SIGNER_STATUS_BAD = 400,	  /* malformed request or params; the method failed */
	SIGNER_STATUS_UNAUTHORIZED = 401, /* no credential, or an unknown one */
	SIGNER_STATUS_FORBIDDEN = 403,	  /* policy, revoked, expired, removed, not connected */
	SIGNER_STATUS_RATE = 429,	  /* the authorization's rate limit */
	SIGNER_STATUS_UNAVAILABLE = 503,  /* database unavailable, shutting down, overloaded */
};

/* Why a request is refused. */
struct signer_verdict {
	enum signer_status status;
	int64_t retry_ms; /* 429: until the next token; 503: a suggested wait; else 0 */
	char why[256];	  /* client-facing reason */
};

/* What the audit records of one answered request. */
struct signer_engine_record {
	int64_t authz_id;
	const char *key_hex;	/* the user key */
	const char *client_hex; /* NIP-46: the client's pubkey; NULL for the API */
	const char *method;	/* wire name, or "unknown" */
	int kind;		/* sign_event's kind, else -1 */
	const char *event_id;	/* the signed event's id, or the request's; NULL: none */
	const char *outcome;	/* ok | error | refused | unavailable */
	const char *detail;	/* the reason, or NULL */
};

/* The NIP-46 outcome of a status: "ok", "error", "refused" or "unavailable". */
const char *signer_status_outcome(enum signer_status st);

/* Set v to status st with a formatted reason; returns false (a refusal), for tail calls. */
bool signer_verdict_set(struct signer_verdict *v, enum signer_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Whether authorization a (NULL: no longer served) may be used at now_s
 * (Unix seconds); false fills v (403: removed, revoked, expired).
 */
bool signer_engine_live(struct signer_verdict *v, const struct signer_authz *a, int64_t now_s)
	__attribute__((warn_unused_result));

/*
 * Make the operation of request rq under authorization a and admit it at
 * now_ms (monotonic): policy readable, params parsed into *op (always
 * initialised: the caller clears it), policy, then one token of the rate
 * limit. true to go on; false fills v (400 params, 403 policy, 429 rate).
 */
bool signer_engine_admit(struct signer_verdict *v, struct signer_op *op, struct signer_authz *a,
			 const struct signer_request *rq, int64_t now_ms)
	__attribute__((warn_unused_result));

/* Queue the audit entry of an answered request (au may be NULL: nothing). */
void signer_engine_audit(struct signer_audit *au, const struct signer_engine_record *r);

#endif /* KC_SIGNER_ENGINE_H */
