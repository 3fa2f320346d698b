/*
 * test_relay_verify.c - where the relay pool checks an incoming event's
 * signature, against two loopback fake relays (A and B) sending EVENTs:
 *
 *   default       verified on receipt: a forged event (a genuine id under
 *                 a bad signature) is dropped and counted invalid, the
 *                 genuine one handed on once however many relays send it;
 *   defer_verify  the id checked on receipt (a tampered content is still
 *                 dropped there), the signature left to the owner, who
 *                 reports a bad one with relay_pool_reject_event: counted
 *                 for the relay that sent it, logged at a bounded rate;
 *   the attack    relay A sends a forged copy of a request first, relay B
 *                 the genuine one: the genuine one is still handed on
 *                 (dedup by id alone would drop it as a duplicate and
 *                 lose the request); identical copies are deduplicated.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/clock.h"
#include "core/log.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "nostr/keys.h"
#include "relay/relay_pool.h"

#define NSRV 2

/* One fake relay: a listener and the pool's connection to it. */
struct srv {
	struct evconnlistener *lis;
	struct bufferevent *bev;
	bool open; /* the upgrade was answered */
	char url[64];
};

/* The pool, the fake relays, what the owner saw. */
struct fx {
	struct event_base *base;
	struct clock *clk;
	struct relay_pool *pool;
	bool defer;
	struct srv srv[NSRV];
	int handed;		/* on_event calls */
	int accepted;		/* of those, with a good signature */
	int rejected;		/* of those, reported bad (defer_verify) */
	char accepted_from[64]; /* the relay of the last accepted event */
	int invalid_lines;	/* "invalid event dropped" lines logged */
	/* the events the relays send */
	char *genuine, *forged, *forged2, *tampered;
};

static void srv_read(struct bufferevent *bev, void *arg);
static void srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		       void *arg);
static void on_event(void *arg, const char *sub, const struct nostr_event *ev, const char *json,
		     size_t len, const char *relay_url);
static void srv_send(struct fx *f, int i, const char *json);
static struct relay_stats stats(struct fx *f, int i);
static void send_wait(struct fx *f, int i, const char *json);
static void count_lines(void *arg, enum log_level level, const char *component, const char *msg,
			const struct log_field *fields, size_t nfields);
static char *to_json(const struct nostr_event *ev);
static void fx_events(struct fx *f);
static void fx_start(struct fx *f, bool defer);

/* Fake relay: answer the WebSocket upgrade; ignore what the client sends after it. */
static void srv_read(struct bufferevent *bev, void *arg)
{
	struct srv *s = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr e;
	char req[2048] = {0}, key[128], acc[64] = {0};
	unsigned char md[SHA_DIGEST_LENGTH];
	const char *k;

	if (s->open) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (e.pos < 0 || (size_t)e.pos + 4 >= sizeof(req))
		return;
	evbuffer_remove(in, req, (size_t)e.pos + 4);
	k = strstr(req, "Sec-WebSocket-Key: ");
	assert_non_null(k);
	snprintf(key, sizeof(key), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		 (int)strcspn(k + 19, "\r"), k + 19);
	SHA1((const unsigned char *)key, strlen(key), md);
	EVP_EncodeBlock((unsigned char *)acc, md, sizeof(md));
	evbuffer_add_printf(bufferevent_get_output(bev),
			    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			    acc);
	s->open = true;
}

/* Fake relay: a client connected. */
static void srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		       void *arg)
{
	struct srv *s = arg;

	(void)l, (void)sa, (void)len;
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	s->open = false;
	s->bev = bufferevent_socket_new(evconnlistener_get_base(l), fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(s->bev, srv_read, NULL, NULL, s);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
}

/* Fake relay i sends ["EVENT","req",json] in one unmasked text frame. */
static void srv_send(struct fx *f, int i, const char *json)
{
	struct evbuffer *out = bufferevent_get_output(f->srv[i].bev);
	char msg[4096];
	int n = snprintf(msg, sizeof(msg), "[\"EVENT\",\"req\",%s]", json);
	unsigned char hdr[4] = {0x81, 126, (unsigned char)(n >> 8), (unsigned char)n};

	assert_true(n > 125 && (size_t)n < sizeof(msg));
	evbuffer_add(out, hdr, sizeof(hdr));
	evbuffer_add(out, msg, (size_t)n);
}

/* Relay i's counters. */
static struct relay_stats stats(struct fx *f, int i)
{
	struct relay_stats st;

	relay_pool_stats(f->pool, (size_t)i, &st);
	return st;
}

/* Send json from relay i and run the loop until the pool has counted it. */
static void send_wait(struct fx *f, int i, const char *json)
{
	struct relay_stats st = stats(f, i);
	uint64_t seen = st.events_in + st.events_invalid;

	srv_send(f, i, json);
	for (int n = 0; n < 200; n++) {
		st = stats(f, i);
		if (st.events_in + st.events_invalid > seen)
			return;
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	fail_msg("the event never arrived");
}

/* The owner: trusts a verified event; with defer_verify checks the signature first. */
static void on_event(void *arg, const char *sub, const struct nostr_event *ev, const char *json,
		     size_t len, const char *relay_url)
{
	struct fx *f = arg;
	char err[128];

	(void)json, (void)len;
	assert_string_equal(sub, "req");
	f->handed++;
	if (f->defer && nostr_sig_verify(ev->id, &ev->pubkey, ev->sig, err, sizeof(err)) != 0) {
		f->rejected++;
		relay_pool_reject_event(f->pool, relay_url, err);
		return;
	}
	assert_int_equal(nostr_event_verify(ev, err, sizeof(err)), 0);
	f->accepted++;
	snprintf(f->accepted_from, sizeof(f->accepted_from), "%s", relay_url);
}

/* Log hook: count the invalid-event lines. */
static void count_lines(void *arg, enum log_level level, const char *component, const char *msg,
			const struct log_field *fields, size_t nfields)
{
	struct fx *f = arg;

	(void)level, (void)component, (void)fields, (void)nfields;
	if (strcmp(msg, "invalid event dropped") == 0)
		f->invalid_lines++;
}

/* json of ev (malloc'd). */
static char *to_json(const struct nostr_event *ev)
{
	char *json = NULL;
	size_t len;

	assert_int_equal(nostr_event_to_json(&json, &len, ev), 0);
	return json;
}

/* A genuine request event, two forged copies (bad signatures) and a tampered one. */
static void fx_events(struct fx *f)
{
	const char *p[] = {"p", "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e"};
	struct nostr_keypair kp;
	struct nostr_event ev;
	char err[128];

	assert_int_equal(nostr_keypair_generate(&kp), 0);
	nostr_event_init(&ev);
	ev.kind = 24133;
	ev.created_at = 1700000000;
	ev.has_created_at = 1;
	assert_int_equal(nostr_event_set_content(&ev, "ciphertext", 10), 0);
	assert_int_equal(nostr_event_add_tag(&ev, p, 2), 0);
	assert_int_equal(nostr_event_sign(&ev, &kp, err, sizeof(err)), 0);
	f->genuine = to_json(&ev);
	ev.sig[5] ^= 0x40; /* the genuine id, a signature that does not verify */
	f->forged = to_json(&ev);
	ev.sig[40] ^= 0x01;
	f->forged2 = to_json(&ev);
	ev.sig[5] ^= 0x40, ev.sig[40] ^= 0x01;
	assert_int_equal(nostr_event_set_content(&ev, "tampered!!", 10), 0);
	f->tampered = to_json(&ev); /* the genuine id and signature over other content */
	nostr_event_clear(&ev);
	nostr_keypair_wipe(&kp);
}

/* A fixture: keys and events only; each test starts its pool with fx_start. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	f->base = event_base_new();
	f->clk = clock_new_virtual(0);
	fx_events(f);
	*state = f;
	return 0;
}

/* Tear it down. */
static int teardown(void **state)
{
	struct fx *f = *state;

	log_set_hook(NULL, NULL);
	relay_pool_free(f->pool);
	for (int i = 0; i < NSRV; i++) {
		if (f->srv[i].bev != NULL)
			bufferevent_free(f->srv[i].bev);
		if (f->srv[i].lis != NULL)
			evconnlistener_free(f->srv[i].lis);
	}
	clock_free(f->clk);
	event_base_free(f->base);
	free(f->genuine);
	free(f->forged);
	free(f->forged2);
	free(f->tampered);
	free(f);
	return 0;
}

/* A pool (defer_verify as asked) subscribed as "req", connected to both fake relays. */
static void fx_start(struct fx *f, bool defer)
{
	const struct relay_pool_config cfg = {
		.base = f->base, .clock = f->clk, .ping_interval_ms = -1, .defer_verify = defer};
	const struct relay_pool_handlers h = {.on_event = on_event};
	const int kinds[] = {24133};
	const struct relay_filter flt = {.kinds = kinds, .nkinds = 1};
	char err[128];

	f->defer = defer;
	assert_int_equal(relay_pool_new(&f->pool, &cfg, &h, f, err, sizeof(err)), 0);
	assert_int_equal(relay_pool_subscribe(f->pool, "req", &flt, err, sizeof(err)), 0);
	for (int i = 0; i < NSRV; i++) {
		struct sockaddr_in sin = {.sin_family = AF_INET,
					  .sin_addr.s_addr = htonl(0x7f000001)};
		socklen_t sl = sizeof(sin);

		f->srv[i].lis = evconnlistener_new_bind(f->base, srv_accept, &f->srv[i],
							LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE,
							-1, (struct sockaddr *)&sin, sizeof(sin));
		assert_non_null(f->srv[i].lis);
		getsockname(evconnlistener_get_fd(f->srv[i].lis), (struct sockaddr *)&sin, &sl);
		snprintf(f->srv[i].url, sizeof(f->srv[i].url), "ws://127.0.0.1:%u/",
			 ntohs(sin.sin_port));
		assert_int_equal(relay_pool_add(f->pool, f->srv[i].url, err, sizeof(err)), 0);
	}
	for (int n = 0; n < 400 && relay_pool_connected(f->pool) < NSRV; n++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(relay_pool_connected(f->pool), NSRV);
	assert_true(f->srv[0].open && f->srv[1].open);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	log_set_hook(count_lines, f);
}

/* Default: verified on receipt; forged and tampered dropped there; one hand-on per id. */
static void test_verify_on_receipt(void **state)
{
	struct fx *f = *state;

	fx_start(f, false);
	send_wait(f, 0, f->forged);
	send_wait(f, 0, f->tampered);
	assert_int_equal(f->handed, 0);
	assert_int_equal(stats(f, 0).events_invalid, 2);
	assert_int_equal(f->invalid_lines, 2);
	send_wait(f, 1, f->genuine);
	send_wait(f, 0, f->genuine);
	assert_int_equal(f->handed, 1);
	assert_int_equal(f->accepted, 1);
	assert_string_equal(f->accepted_from, f->srv[1].url);
	assert_int_equal(stats(f, 0).events_in, 1);
	assert_int_equal(stats(f, 1).events_in, 1);
	assert_int_equal(stats(f, 1).events_invalid, 0);
}

/*
 * defer_verify: a tampered content fails the id check on receipt; a bad
 * signature reaches the owner, whose report counts and logs it for the
 * relay that sent it (not for the other, not for an unknown URL).
 */
static void test_deferred_owner_rejects(void **state)
{
	struct fx *f = *state;

	fx_start(f, true);
	send_wait(f, 0, f->tampered);
	assert_int_equal(f->handed, 0);
	assert_int_equal(stats(f, 0).events_invalid, 1);
	send_wait(f, 0, f->forged);
	assert_int_equal(f->handed, 1);
	assert_int_equal(f->rejected, 1);
	assert_int_equal(stats(f, 0).events_invalid, 2);
	assert_int_equal(stats(f, 1).events_invalid, 0);
	assert_int_equal(f->invalid_lines, 2);
	relay_pool_reject_event(f->pool, "ws://nowhere.invalid/", "event verify: bad signature");
	assert_int_equal(stats(f, 0).events_invalid + stats(f, 1).events_invalid, 2);
}

/*
 * The loss attack: relay A sends a forged copy of a genuine request (its
 * id, a bad signature) before relay B sends the genuine one. The forged
 * copy is refused by the owner and the genuine one is still handed on and
 * accepted: it is not a duplicate of what was refused. Identical copies
 * (the genuine one from A, the same forged copy again from B) are
 * deduplicated; another forged signature is handed on and refused again.
 */
static void test_deferred_forged_copy_first(void **state)
{
	struct fx *f = *state;

	fx_start(f, true);
	send_wait(f, 0, f->forged);
	assert_int_equal(f->rejected, 1);
	assert_int_equal(f->accepted, 0);
	send_wait(f, 1, f->genuine);
	assert_int_equal(f->accepted, 1); /* not lost */
	assert_string_equal(f->accepted_from, f->srv[1].url);
	send_wait(f, 0, f->genuine);
	send_wait(f, 1, f->forged);
	assert_int_equal(f->handed, 2);
	send_wait(f, 1, f->forged2);
	assert_int_equal(f->handed, 3);
	assert_int_equal(f->rejected, 2);
	assert_int_equal(f->accepted, 1);
	assert_int_equal(stats(f, 0).events_invalid, 1);
	assert_int_equal(stats(f, 1).events_invalid, 1);
}

/* A flood of forged copies: every one counted, 10 lines a minute logged per relay. */
static void test_deferred_reject_rate_limited(void **state)
{
	struct fx *f = *state;

	fx_start(f, true);
	for (int i = 0; i < 25; i++)
		relay_pool_reject_event(f->pool, f->srv[0].url, "event verify: bad signature");
	assert_int_equal(stats(f, 0).events_invalid, 25);
	assert_int_equal(f->invalid_lines, 10);
	assert_int_equal(stats(f, 0).log_suppressed, 15);
}

/* The tests. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_verify_on_receipt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_owner_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_forged_copy_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_deferred_reject_rate_limited, setup, teardown),
	};
	return cmocka_run_group_tests_name("relay_verify", tests, NULL, NULL);
}
