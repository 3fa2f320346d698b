/*
 * signer_method.h - the NIP-46 methods keycastd answers, by name.
 *
 * One table maps each method's wire name to its enum value, so the
 * request parser, the policy engine, metrics and the audit log all speak
 * of methods the same way.
 */
#ifndef KC_SIGNER_METHOD_H
#define KC_SIGNER_METHOD_H

#include <stdbool.h>
#include <stddef.h>

/* The NIP-46 methods. */
enum signer_method {
	SIGNER_CONNECT,	       /* bind a client: [bunker_pubkey, secret?, perms?, metadata?] */
	SIGNER_GET_PUBLIC_KEY, /* the user's public key */
	SIGNER_SIGN_EVENT,     /* sign an event template: [template_json] */
	SIGNER_PING,	       /* "pong" */
	SIGNER_NIP44_ENCRYPT,  /* [third_party_pubkey, plaintext] */
	SIGNER_NIP44_DECRYPT,  /* [third_party_pubkey, ciphertext] */
	SIGNER_NIP04_ENCRYPT,  /* [third_party_pubkey, plaintext] */
	SIGNER_NIP04_DECRYPT,  /* [third_party_pubkey, ciphertext] */
	SIGNER_SWITCH_RELAYS,  /* the authorization's relays, as a JSON string */
	SIGNER_LOGOUT,	       /* unbind the client */
	SIGNER_METHOD_COUNT_,
};

/* The wire name of m ("sign_event"), or "unknown" for an out-of-range value. */
const char *signer_method_name(enum signer_method m);

/* The method whose wire name is name[0..len) (exact, case-sensitive); 0, or -1 if unknown. */
int signer_method_parse(enum signer_method *out, const char *name, size_t len)
	__attribute__((warn_unused_result));

/* Whether m is a session method every authorization may call (connect, ping, logout). */
bool signer_method_always_allowed(enum signer_method m);

#endif /* KC_SIGNER_METHOD_H */
