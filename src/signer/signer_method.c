/*
 * signer_method.c - the method name table.
 */
#include "signer/signer_method.h"

#include <string.h>

/* Wire names, indexed by enum signer_method. */
static const char *const signer_method_names[SIGNER_METHOD_COUNT_] = {
	[SIGNER_CONNECT] = "connect",
	[SIGNER_GET_PUBLIC_KEY] = "get_public_key",
	[SIGNER_SIGN_EVENT] = "sign_event",
	[SIGNER_PING] = "ping",
	[SIGNER_NIP44_ENCRYPT] = "nip44_encrypt",
	[SIGNER_NIP44_DECRYPT] = "nip44_decrypt",
	[SIGNER_NIP04_ENCRYPT] = "nip04_encrypt",
	[SIGNER_NIP04_DECRYPT] = "nip04_decrypt",
	[SIGNER_SWITCH_RELAYS] = "switch_relays",
	[SIGNER_LOGOUT] = "logout",
};

/* The wire name of m. */
const char *signer_method_name(enum signer_method m)
{
	return (unsigned)m < SIGNER_METHOD_COUNT_ ? signer_method_names[m] : "unknown";
}

/* The method named name[0..len). */
int signer_method_parse(enum signer_method *out, const char *name, size_t len)
{
	for (unsigned i = 0; i < SIGNER_METHOD_COUNT_; i++) {
		if (strlen(signer_method_names[i]) == len &&
		    memcmp(signer_method_names[i], name, len) == 0) {
			*out = (enum signer_method)i;
			return 0;
		}
	}
	return -1;
}

/* Whether m is a session method every authorization may call. */
bool signer_method_always_allowed(enum signer_method m)
{
	return m == SIGNER_CONNECT || m == SIGNER_PING || m == SIGNER_LOGOUT;
}
