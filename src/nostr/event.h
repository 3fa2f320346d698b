/*
 * event.h - Nostr events (NIP-01): parse, serialize, id, sign, verify.
 *
 * Strings are carried at full length (struct nostr_str: pointer + length,
 * NUL-terminated for convenience but possibly holding NUL bytes), so an
 * escaped "\u0000" survives parse -> serialize -> id. Never parse an event
 * through cJSON's valuestring for signing: cJSON 1.7.15 cuts strings at
 * an escaped NUL. Parse the raw JSON text with nostr_event_parse(); a relay
 * message's element can be sliced out with nostr_json_array_element().
 *
 * Parsing is strict: id and pubkey 64 lower-case hex, sig 128 lower-case
 * hex, kind an integer in 0..65535, created_at an integer in
 * 0..2^53-1, tags an array of arrays of strings, content a string,
 * no duplicate keys, valid UTF-8 and escapes, limits enforced. Unknown
 * keys are skipped.
 *
 * Return convention: 0 on success, -1 with a message in err[errlen]
 * (err may be NULL). Ownership: a struct nostr_event owns its strings;
 * nostr_event_clear() frees them and leaves an empty event.
 */
#ifndef KC_NOSTR_EVENT_H
#define KC_NOSTR_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "nostr/keys.h"

struct cJSON;

/* A string with its length; s[len] == '\0', s may contain NUL bytes. */
struct nostr_str {
	char *s;
	size_t len;
};

/* One tag: an array of strings. */
struct nostr_tag {
	struct nostr_str *items;
	size_t n;
};

/* Which fields a parse requires. */
enum nostr_event_mode {
	NOSTR_EVENT_SIGNED,   /* id, pubkey, created_at, kind, tags, content, sig */
	NOSTR_EVENT_TEMPLATE, /* kind, content required; tags default []; created_at
				 optional; id, pubkey, sig skipped unread (never trusted) */
};

/* Size limits; exceeding one is a clear parse error. 0 = the default. */
struct nostr_event_limits {
	size_t max_json;	 /* bytes of input JSON (default 256 KiB) */
	size_t max_content;	 /* bytes of decoded content (default 128 KiB) */
	size_t max_tags;	 /* number of tags (default 2000) */
	size_t max_tag_items;	 /* strings per tag (default 100) */
	size_t max_tag_item_len; /* bytes per decoded tag string (default 4096) */
};

/* An event; fields with has_* are present only when the flag is set. */
struct nostr_event {
	uint8_t id[32];
	struct nostr_pubkey pubkey;
	uint8_t sig[64];
	int64_t created_at;
	uint32_t kind;
	struct nostr_tag *tags;
	size_t ntags;
	struct nostr_str content;
	unsigned has_id : 1;
	unsigned has_pubkey : 1;
	unsigned has_sig : 1;
	unsigned has_created_at : 1;
};

/* The default limits. */
struct nostr_event_limits nostr_event_limits_default(void);

/* An empty event (no tags, empty content, no optional fields). */
void nostr_event_init(struct nostr_event *ev);

/* Wipe and free what ev owns; ev is empty afterwards (as after nostr_event_init). */
void nostr_event_clear(struct nostr_event *ev);

/*
 * Parse one JSON object json[0..len) into ev (initialised by the call;
 * clear it even on failure is unnecessary: on -1 ev is empty). limits NULL
 * = defaults.
 */
int nostr_event_parse(struct nostr_event *ev, const char *json, size_t len,
		      enum nostr_event_mode mode, const struct nostr_event_limits *limits,
		      char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Parse an event from a cJSON object, for VERIFYING ONLY: cJSON may have
 * cut a string at "\u0000", in which case the id no longer matches and
 * verification fails (safe, never a false accept). Do not sign from it.
 */
int nostr_event_from_cjson(struct nostr_event *ev, const struct cJSON *obj,
			   enum nostr_event_mode mode, const struct nostr_event_limits *limits,
			   char *err, size_t errlen) __attribute__((warn_unused_result));

/*
 * Slice element index of the JSON array json[0..len) (e.g. the event of
 * ["EVENT", subid, {...}]) without decoding it: *start and *elen point
 * into json. 0, or -1 if json is not a well-formed array or too short.
 */
int nostr_json_array_element(const char **start, size_t *elen, const char *json, size_t len,
			     size_t index) __attribute__((warn_unused_result));

/*
 * Slice the value of member key (NUL-terminated, compared after decoding)
 * of the JSON object json[0..len) without decoding it (e.g. "params" of a
 * NIP-46 request). 0, or -1 if absent or json is not a well-formed object.
 */
int nostr_json_object_member(const char **start, size_t *vlen, const char *json, size_t len,
			     const char *key) __attribute__((warn_unused_result));

/*
 * Decode the JSON string token json[0..len) (quotes included, nothing
 * after it but whitespace) at full length: *out malloc'd, NUL-terminated,
 * may hold NUL bytes, length in *outlen; at most max bytes. E.g. the
 * event-JSON string of a sign_event request's params, before
 * nostr_event_parse(). 0, or -1 if not a strict JSON string.
 */
int nostr_json_string(char **out, size_t *outlen, const char *json, size_t len, size_t max)
	__attribute__((warn_unused_result));

/* Replace the content with a copy of s[0..len); 0 or -1 (out of memory). */
int nostr_event_set_content(struct nostr_event *ev, const char *s, size_t len)
	__attribute__((warn_unused_result));

/* Append a tag of n NUL-terminated strings (copied); 0 or -1. */
int nostr_event_add_tag(struct nostr_event *ev, const char *const *items, size_t n)
	__attribute__((warn_unused_result));

/* The first tag whose first item equals name (NUL-terminated), or NULL. */
const struct nostr_tag *nostr_event_find_tag(const struct nostr_event *ev, const char *name);

/*
 * The canonical NIP-01 serialization [0,pubkey,created_at,kind,tags,content]
 * (requires pubkey and created_at) in *out (malloc'd, NUL-terminated,
 * caller frees) with its length in *outlen. 0 or -1.
 */
int nostr_event_serialize(char **out, size_t *outlen, const struct nostr_event *ev)
	__attribute__((warn_unused_result));

/* SHA-256 of the canonical serialization into id; 0 or -1. */
int nostr_event_compute_id(uint8_t id[32], const struct nostr_event *ev)
	__attribute__((warn_unused_result));

/*
 * The full event JSON {"id","pubkey","created_at","kind","tags","content",
 * "sig"} (requires id, pubkey, created_at, sig) in *out (malloc'd,
 * caller frees). 0 or -1.
 */
int nostr_event_to_json(char **out, size_t *outlen, const struct nostr_event *ev)
	__attribute__((warn_unused_result));

/*
 * Sign ev with kp: sets pubkey, id and sig (created_at must be set; any
 * id/pubkey/sig given before are overwritten, never trusted). BIP-340 with
 * 32 bytes of fresh aux randomness from the OS CSPRNG.
 */
int nostr_event_sign(struct nostr_event *ev, const struct nostr_keypair *kp, char *err,
		     size_t errlen) __attribute__((warn_unused_result));

/* As nostr_event_sign with the given aux_rand (tests and vectors only). */
int nostr_event_sign_aux(struct nostr_event *ev, const struct nostr_keypair *kp,
			 const uint8_t aux[32], char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Verify: all fields present, id recomputed and equal, BIP-340 sig valid. */
int nostr_event_verify(const struct nostr_event *ev, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * The two halves of nostr_event_verify, for a caller that checks the cheap
 * one at once and the signature later (on another thread): all fields
 * present and the id recomputed and equal; then the BIP-340 signature sig
 * of id by pubkey. Each 0, or -1 with the message nostr_event_verify gives.
 */
int nostr_event_check_id(const struct nostr_event *ev, char *err, size_t errlen)
	__attribute__((warn_unused_result));
int nostr_sig_verify(const uint8_t id[32], const struct nostr_pubkey *pubkey, const uint8_t sig[64],
		     char *err, size_t errlen) __attribute__((warn_unused_result));

#endif /* KC_NOSTR_EVENT_H */
