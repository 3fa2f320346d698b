/*
 * fuzz_relay_msg.c - the NIP-01 relay message parser on arbitrary text: a
 * rejection carries a reason, an accepted message is well-formed (its
 * strings terminated, an EVENT's event span inside the input), and that
 * span goes on to the event parser as the relay client does.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nostr/event.h"
#include "relay/relay_msg.h"

/* Abort unless an accepted message's fields are terminated and in bounds. */
static void fz_check_msg(const struct relay_msg *m, const char *text, size_t len)
{
	struct nostr_event ev;
	char err[256];

	if (strnlen(m->sub_id, sizeof(m->sub_id)) == sizeof(m->sub_id) ||
	    strnlen(m->message, sizeof(m->message)) == sizeof(m->message) ||
	    strnlen(m->event_id, sizeof(m->event_id)) == sizeof(m->event_id))
		abort();
	if (m->type != RELAY_MSG_EVENT)
		return;
	if (m->event < text || m->event_len > len || m->event > text + len - m->event_len)
		abort();
	if (nostr_event_parse(&ev, m->event, m->event_len, NOSTR_EVENT_SIGNED, NULL, err,
			      sizeof(err)) == 0)
		nostr_event_clear(&ev);
	else if (err[0] == '\0')
		abort();
}

/* Parse data as one relay message. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct relay_msg m;
	char err[256] = "";

	if (relay_msg_parse(&m, (const char *)data, size, err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			abort(); /* a rejection must say why */
		return 0;
	}
	fz_check_msg(&m, (const char *)data, size);
	return 0;
}
