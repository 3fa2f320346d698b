/*
 * signer_policy.h - an authorization's policy: what its client may do.
 *
 * Pure: no I/O, no clock of its own (time is passed in). The same engine
 * serves the NIP-46 path and, later, the HTTP API.
 *
 * The policy is the authorization's `policy` JSON object. Every key is
 * optional; an empty object {} allows everything:
 *
 *   {
 *     "methods":   ["sign_event", "nip44_encrypt", ...],  allowed methods
 *                  (connect, ping and logout are always allowed)
 *     "kinds":     [1, 7, [30000, 39999]],   sign_event kinds: numbers and
 *                  inclusive [lo, hi] ranges, each in 0..65535
 *     "rate":      {"burst": 20, "per_minute": 60},   token bucket per
 *                  client: burst >= 1 tokens, refilled at per_minute >= 1
 *     "max_bytes": 65536   largest template (sign_event) or plaintext /
 *                  ciphertext (encrypt / decrypt), 1..16777216
 *   }
 *
 * An unknown key, a wrong type, an unknown method name or a value out of
 * range is refused with the JSON path of the mistake ("$.kinds[2][1]:
 * 70000 is not a kind (0..65535)").
 *
 * Return convention: 0, or -1 with a message in err[errlen].
 */
#ifndef KC_SIGNER_POLICY_H
#define KC_SIGNER_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer/signer_method.h"

/* An inclusive range of event kinds. */
struct signer_kind_range {
	uint32_t lo, hi;
};

/* A parsed policy. Zero-initialised = allow everything. */
struct signer_policy {
	uint32_t methods;		 /* bit (1u << m) per allowed method; see all_methods */
	bool all_methods;		 /* no "methods" key: every method allowed */
	struct signer_kind_range *kinds; /* owned; sorted, merged */
	size_t nkinds;
	bool all_kinds;	     /* no "kinds" key: every kind allowed */
	uint32_t rate_burst; /* 0 = no rate limit */
	uint32_t rate_per_minute;
	size_t max_bytes; /* 0 = no limit */
};

/* Why a request was refused by policy. */
enum signer_refusal {
	SIGNER_ALLOWED = 0,   /* not refused */
	SIGNER_REFUSE_METHOD, /* method not in "methods" */
	SIGNER_REFUSE_KIND,   /* sign_event kind not in "kinds" */
	SIGNER_REFUSE_SIZE,   /* over "max_bytes" */
	SIGNER_REFUSE_RATE,   /* token bucket empty */
	SIGNER_REFUSAL_COUNT_,
};

/* A client's token bucket; zero-initialised = full on first use. */
struct signer_bucket {
	double tokens;
	int64_t last_ms; /* when tokens was last updated */
	bool primed;	 /* false until the first take */
};

/*
 * Parse and validate policy JSON json[0..len) into *out (initialised by
 * the call; empty on -1). An empty string counts as {}.
 */
int signer_policy_parse(struct signer_policy *out, const char *json, size_t len, char *err,
			size_t errlen) __attribute__((warn_unused_result));

/* Free what p owns; p allows everything afterwards. */
void signer_policy_clear(struct signer_policy *p);

/*
 * Check a request against p: method m, kind (sign_event, else -1), size
 * in bytes of what is signed / encrypted / decrypted (0 when none).
 * SIGNER_ALLOWED, or the refusal with a client-facing reason in
 * why[whylen] ("kind 4 is not allowed by this authorization's policy").
 * Does not touch the rate limit.
 */
enum signer_refusal signer_policy_check(const struct signer_policy *p, enum signer_method m,
					int64_t kind, size_t size, char *why, size_t whylen);

/*
 * Take one token from b under p's rate at now_ms (monotonic). true if
 * allowed (always when p has no rate); false if empty, with the wait
 * until the next token in *retry_ms (may be NULL).
 */
bool signer_bucket_take(struct signer_bucket *b, const struct signer_policy *p, int64_t now_ms,
			int64_t *retry_ms);

/* Take one token from b for a fixed rate (burst, per_minute), as signer_bucket_take. */
bool signer_bucket_take_rate(struct signer_bucket *b, uint32_t burst, uint32_t per_minute,
			     int64_t now_ms, int64_t *retry_ms);

/* The name of a refusal ("method", "kind", "size", "rate"), for metrics and audit. */
const char *signer_refusal_name(enum signer_refusal r);

#endif /* KC_SIGNER_POLICY_H */
