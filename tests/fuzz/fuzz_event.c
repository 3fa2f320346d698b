/*
 * fuzz_event.c - the Nostr event parser on arbitrary JSON: a rejection
 * carries a message, and an accepted event re-serializes to JSON that
 * parses back to the same id, the same canonical form and the same JSON.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "nostr/event.h"

/* Abort unless ev's full JSON parses back to the same event. */
static void fz_round_trip(const struct nostr_event *ev)
{
	struct nostr_event back;
	char *j1 = NULL, *j2 = NULL, err[256];
	size_t n1, n2;
	uint8_t id1[32], id2[32];

	if (nostr_event_to_json(&j1, &n1, ev) != 0)
		abort();
	if (nostr_event_parse(&back, j1, n1, NOSTR_EVENT_SIGNED, NULL, err, sizeof(err)) != 0)
		abort(); /* what we print we must read */
	if (memcmp(back.id, ev->id, 32) != 0 || nostr_event_compute_id(id1, ev) != 0 ||
	    nostr_event_compute_id(id2, &back) != 0 || memcmp(id1, id2, 32) != 0)
		abort();
	if (nostr_event_to_json(&j2, &n2, &back) != 0 || n1 != n2 || memcmp(j1, j2, n1) != 0)
		abort();
	free(j1);
	free(j2);
	nostr_event_clear(&back);
}

/* Parse data as a signed event, then as a template. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nostr_event ev;
	char err[256] = "";

	if (nostr_event_parse(&ev, (const char *)data, size, NOSTR_EVENT_SIGNED, NULL, err,
			      sizeof(err)) == 0) {
		fz_round_trip(&ev);
		nostr_event_clear(&ev);
	} else if (err[0] == '\0') {
		abort();
	}
	err[0] = '\0';
	if (nostr_event_parse(&ev, (const char *)data, size, NOSTR_EVENT_TEMPLATE, NULL, err,
			      sizeof(err)) == 0)
		nostr_event_clear(&ev);
	else if (err[0] == '\0')
		abort();
	return 0;
}
