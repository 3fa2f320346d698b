/*
 * signer_request.h - the pure steps around a NIP-46 request: which
 * encryption scheme its content uses, decrypting it, parsing the JSON-RPC
 * request inside, building the reply and the signed kind-24133 event that
 * carries it.
 *
 *   request event content --decrypt--> {"id","method","params":[...]}
 *   reply {"id","result"} or {"id","result":"","error"} --encrypt-->
 *   kind 24133 event, p-tagged to the client, signed by the bunker key
 *
 * Strings are carried at full length (they may hold NUL bytes: a
 * nip44_decrypt result, a template's content): never through cJSON's
 * valuestring. Plaintexts are secret: every buffer that held one is wiped
 * before it is freed.
 *
 * Return convention: 0, or -1 with a message in err[errlen] (may be NULL).
 */
#ifndef KC_SIGNER_REQUEST_H
#define KC_SIGNER_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nostr/event.h"
#include "nostr/keys.h"
#include "signer/signer_method.h"

struct nip44_cache;

/* The NIP-46 kind. */
#define SIGNER_KIND 24133

/* Longest request id accepted (bytes, as decoded); a longer one cannot be answered. */
#define SIGNER_ID_MAX 128
/* Longest method name kept (for the error reply and logs). */
#define SIGNER_METHOD_NAME_MAX 32
/* Most params accepted. */
#define SIGNER_PARAMS_MAX 8

/* How a request's content is encrypted; the reply uses the same. */
enum signer_scheme {
	SIGNER_NIP44, /* NIP-44 v2 (the default) */
	SIGNER_NIP04, /* legacy NIP-04: "base64?iv=base64" */
};

/* A parsed request. params are decoded strings (a non-string param is kept as its raw JSON). */
struct signer_request {
	char id[SIGNER_ID_MAX + 1];
	bool has_id;
	enum signer_method method;
	bool method_known;
	char method_name[SIGNER_METHOD_NAME_MAX + 1]; /* as sent, truncated */
	struct nostr_str params[SIGNER_PARAMS_MAX];   /* owned, wiped on clear */
	size_t nparams;
};

/* The outcome of parsing a request. */
enum signer_parse {
	SIGNER_PARSE_OK,    /* well-formed, method known */
	SIGNER_PARSE_BAD,   /* has an id but is otherwise wrong: answer with err */
	SIGNER_PARSE_NO_ID, /* no usable id: cannot be answered */
};

/* The scheme of content[0..len): NIP-04 when it is NIP-04 shaped ("...?iv=..."), else NIP-44. */
enum signer_scheme signer_scheme_of(const char *content, size_t len);

/* The name of a scheme ("nip44", "nip04"). */
const char *signer_scheme_name(enum signer_scheme s);

/*
 * Decrypt content[0..len) from client to bunker under scheme: *out
 * malloc'd, NUL-terminated (may hold NULs), length *outlen; the caller
 * wipes and frees it (wipe_free). cache (optional) holds NIP-44
 * conversation keys.
 */
int signer_decrypt(uint8_t **out, size_t *outlen, enum signer_scheme scheme,
		   const struct nostr_keypair *bunker, const struct nostr_pubkey *client,
		   const char *content, size_t len, struct nip44_cache *cache, char *err,
		   size_t errlen) __attribute__((warn_unused_result));

/* Encrypt pt[0..len) from bunker to client under scheme: *out malloc'd (caller frees). */
int signer_encrypt(char **out, size_t *outlen, enum signer_scheme scheme,
		   const struct nostr_keypair *bunker, const struct nostr_pubkey *client,
		   const uint8_t *pt, size_t len, struct nip44_cache *cache, char *err,
		   size_t errlen) __attribute__((warn_unused_result));

/*
 * Parse the decrypted request json[0..len) into *r (initialised by the
 * call). On SIGNER_PARSE_BAD, r->id is set and err says what is wrong
 * (client-facing: "unknown method \"frob\"", "params must be an array").
 */
enum signer_parse signer_request_parse(struct signer_request *r, const char *json, size_t len,
				       char *err, size_t errlen);

/*
 * Parse a call of the HTTP API, json[0..len): {"method": ..., "params":
 * [...]}, an "id" optional (kept when it is a usable one). SIGNER_PARSE_OK,
 * or SIGNER_PARSE_BAD with a client-facing reason in err ("the body must
 * be one JSON object", "unknown method ...", "params must be an array").
 */
enum signer_parse signer_request_parse_call(struct signer_request *r, const char *json, size_t len,
					    char *err, size_t errlen);

/* Wipe and free what r owns. */
void signer_request_clear(struct signer_request *r);

/*
 * The reply JSON: {"id":id,"result":result} on success (error NULL), or
 * {"id":id,"result":"","error":error}. result[0..rlen) may hold NULs.
 * *out malloc'd; it may hold a plaintext, so the caller wipes and frees
 * it (wipe_free). 0 or -1 (out of memory).
 */
int signer_reply_json(char **out, size_t *outlen, const char *id, const char *result, size_t rlen,
		      const char *error) __attribute__((warn_unused_result));

/*
 * The signed reply event: kind 24133, created_at now, tags [["p", client]],
 * content the encrypted reply, signed by bunker. Its JSON in *json
 * (malloc'd, caller frees) and its id in id_hex.
 */
int signer_reply_event(char **json, size_t *jsonlen, char id_hex[65],
		       const struct nostr_keypair *bunker, const struct nostr_pubkey *client,
		       const char *content, size_t clen, int64_t now, char *err, size_t errlen)
	__attribute__((warn_unused_result));

#endif /* KC_SIGNER_REQUEST_H */
