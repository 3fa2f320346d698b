/*
 * signer_engine.c - the checks and the audit both ways in share.
 */
#include "signer/signer_engine.h"

#include "db/db_store.h"
#include "signer/signer_audit.h"
#include "signer/signer_policy.h"
#include "signer/signer_serving.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The NIP-46 outcome of a status. */
const char *signer_status_outcome(enum signer_status st)
{
	switch (st) {
	case SIGNER_STATUS_OK:
		return "ok";
	case SIGNER_STATUS_BAD:
		return "error";
	case SIGNER_STATUS_UNAVAILABLE:
		return "unavailable";
	default:
		return "refused";
	}
}

/* Fill a verdict. */
bool signer_verdict_set(struct signer_verdict *v, enum signer_status st, const char *fmt, ...)
{
	va_list ap;

	v->status = st;
	v->retry_ms = 0;
	va_start(ap, fmt);
	if (vsnprintf(v->why, sizeof(v->why), fmt, ap) < 0)
		v->why[0] = '\0';
	va_end(ap);
	return false;
}

/* The authorization is served, not revoked, not expired. */
bool signer_engine_live(struct signer_verdict *v, const struct signer_authz *a, int64_t now_s)
{
	if (a == NULL)
		return signer_verdict_set(v, SIGNER_STATUS_FORBIDDEN,
					  "authorization not found: it was removed");
	if (a->row->revoked)
		return signer_verdict_set(v, SIGNER_STATUS_FORBIDDEN, "authorization revoked");
	if (a->row->expires_at > 0 && a->row->expires_at <= now_s)
		return signer_verdict_set(v, SIGNER_STATUS_FORBIDDEN, "authorization expired");
	return true;
}

/* Policy readable, params, policy, rate. */
bool signer_engine_admit(struct signer_verdict *v, struct signer_op *op, struct signer_authz *a,
			 const struct signer_request *rq, int64_t now_ms)
{
	int64_t retry = 0;

	memset(op, 0, sizeof(*op));
	nostr_event_init(&op->tmpl);
	op->kind = -1;
	if (!a->policy_ok)
		return signer_verdict_set(v, SIGNER_STATUS_FORBIDDEN,
					  "this authorization's policy is invalid");
	if (signer_op_parse(op, rq, v->why, sizeof(v->why)) != 0) {
		v->status = SIGNER_STATUS_BAD;
		v->retry_ms = 0;
		return false;
	}
	if (signer_policy_check(&a->policy, op->method, op->kind, op->size, v->why,
				sizeof(v->why)) != SIGNER_ALLOWED) {
		v->status = SIGNER_STATUS_FORBIDDEN;
		v->retry_ms = 0;
		return false;
	}
	if (!signer_bucket_take(&a->bucket, &a->policy, now_ms, &retry)) {
		signer_verdict_set(v, SIGNER_STATUS_RATE, "rate limit exceeded: retry in %lld ms",
				   (long long)retry);
		v->retry_ms = retry;
		return false;
	}
	return true;
}

/* Queue the audit entry. */
void signer_engine_audit(struct signer_audit *au, const struct signer_engine_record *r)
{
	const struct db_audit_entry e = {
		.authorization_id = r->authz_id,
		.key_pubkey = r->key_hex,
		.client_pubkey = r->client_hex,
		.method = r->method,
		.event_kind = r->kind,
		.event_id = r->event_id,
		.outcome = strcmp(r->outcome, "ok") == 0	? "ok"
			   : strcmp(r->outcome, "refused") == 0 ? "refused"
								: "error",
		.detail = r->detail,
	};

	if (au != NULL)
		signer_audit_add(au, &e);
}
