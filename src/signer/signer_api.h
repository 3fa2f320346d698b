/*
 * signer_api.h - the HTTP signing API's requests, answered by the signer.
 *
 * One call: a bearer token and a body {"method": ..., "params": [...]}.
 *
 *   token     its SHA-256 in the serving set (constant-time compare):
 *             none or unknown 401; revoked 403
 *   body      parsed (400 with the reason); connect, logout and
 *             switch_relays are NIP-46 session methods: 400
 *   database  the token and its authorization are live now (one indexed
 *             read: a revocation through any replica counts at once);
 *             database unavailable 503, revoked meanwhile 403
 *   engine    the same checks as NIP-46 (signer_engine.h): authorization
 *             live, policy, params, rate (429 with the wait)
 *   method    signer_op_run as the user's key, on the signer's worker pool
 *   answer    {"result": ...} (sign_event: the signed event object; the
 *             others: a string) or {"error": "reason"}; audited
 *
 * The caller (the HTTP route) gets exactly one answer through done, at
 * once or later, unless it cancels first (its client went away): then
 * none. Calls still waiting when the signer is freed are orphaned and
 * free themselves when their database callback or worker job returns.
 */
#ifndef KC_SIGNER_API_H
#define KC_SIGNER_API_H

#include <stddef.h>
#include <stdint.h>

struct signer;
struct signer_api_call;

/* An answer: the status, Retry-After (seconds, 0: none), the method for metrics, the body. */
struct signer_api_answer {
	int status;	       /* 200, 400, 401, 403, 429, 503 */
	int64_t retry_after_s; /* 429, 503 */
	const char *method;    /* wire name, or "unknown" (not a method) */
	const char *body;      /* JSON; valid during the callback only */
	size_t len;
};

/* Receives the answer of a call. */
typedef void (*signer_api_done_fn)(void *arg, const struct signer_api_answer *a);

/*
 * Start a call: token[0..toklen) as sent after "Bearer " (NULL: no
 * Authorization header), body[0..len) (copied as needed). done(arg, ...)
 * comes exactly once unless cancelled. Returns the call while its answer
 * is due, or NULL when done has run already (before the return).
 */
struct signer_api_call *signer_api_start(struct signer *s, const char *token, size_t toklen,
					 const char *body, size_t len, signer_api_done_fn done,
					 void *arg);

/* The answer is no longer wanted: done will not run. c must be a call whose answer is due. */
void signer_api_cancel(struct signer_api_call *c);

#endif /* KC_SIGNER_API_H */
