/*
 * relay_msg.h - NIP-01 relay messages: parse what a relay sends, build what
 * a client sends.
 *
 * Parsing validates the shape of EVENT / EOSE / OK / CLOSED / NOTICE / AUTH
 * and returns the raw text of an EVENT's event object (a span inside the
 * input, never re-serialized), so the nostr core parses and verifies the
 * exact bytes the relay sent.
 */
#ifndef KC_RELAY_MSG_H
#define KC_RELAY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The message kinds a relay sends. */
enum relay_msg_type {
	RELAY_MSG_EVENT,  /* ["EVENT", sub_id, event] */
	RELAY_MSG_EOSE,	  /* ["EOSE", sub_id] */
	RELAY_MSG_OK,	  /* ["OK", event_id, accepted, message] */
	RELAY_MSG_CLOSED, /* ["CLOSED", sub_id, message] */
	RELAY_MSG_NOTICE, /* ["NOTICE", message] */
	RELAY_MSG_AUTH,	  /* ["AUTH", challenge] */
};

/* Subscription ids we use and accept are at most this long. */
#define RELAY_SUB_ID_MAX 64

/* One parsed relay message; event points into the parsed text. */
struct relay_msg {
	enum relay_msg_type type;
	char sub_id[RELAY_SUB_ID_MAX + 1]; /* EVENT, EOSE, CLOSED */
	const char *event;		   /* EVENT: raw JSON object (not NUL-terminated) */
	size_t event_len;
	char event_id[65]; /* OK: lower-case hex */
	bool accepted;	   /* OK */
	char message[512]; /* OK / CLOSED / NOTICE text (truncated); AUTH challenge */
};

/* A subscription filter; arrays are borrowed. */
struct relay_filter {
	const int *kinds;
	size_t nkinds;
	const char *const *authors; /* hex pubkeys */
	size_t nauthors;
	const char *const *p_tags; /* values of #p */
	size_t np_tags;
	int64_t since; /* unix seconds, 0 for none */
	int limit;     /* <0 for none */
};

/* Parse one relay message; 0, or -1 with the reason in err. */
int relay_msg_parse(struct relay_msg *out, const char *text, size_t len, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* The name of a message type ("EVENT", ...). */
const char *relay_msg_type_name(enum relay_msg_type t);

/* ["REQ", sub_id, filter...] as a new string (caller frees); NULL on ENOMEM. */
char *relay_msg_req(const char *sub_id, const struct relay_filter *filters, size_t nfilters)
	__attribute__((warn_unused_result));

/* ["CLOSE", sub_id] as a new string (caller frees); NULL on ENOMEM. */
char *relay_msg_close(const char *sub_id) __attribute__((warn_unused_result));

/* [verb, <event_json>] (verb "EVENT" or "AUTH") as a new string; NULL on ENOMEM. */
char *relay_msg_wrap_event(const char *verb, const char *event_json, size_t len)
	__attribute__((warn_unused_result));

/* The end of the JSON value starting at p (after whitespace), or NULL if malformed. */
const char *relay_msg_skip_value(const char *p, const char *end);

#endif /* KC_RELAY_MSG_H */
