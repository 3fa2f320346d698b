/*
 * test_relay_pool.c - the relay pool's logic on a virtual clock: backoff
 * delays and reconnect timing against a refused port, the bounded dedup
 * set, subscription naming and chunk limits, publish reports that never
 * fire inside the call, drain and abort confirmations, and (against a
 * loopback fake relay that answers OK) owner callbacks that abort or free
 * the pool from inside a WebSocket or timer callback, and an on_state that
 * unsubscribes while a loop over the subscriptions sends (run under ASan);
 * a relay that drops every connection at once keeps backing off, and a
 * NOTICE flood is logged at a bounded rate with a count of the rest.
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
#include <dlfcn.h>
#include <netinet/in.h>
#include <wslay/wslay.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/metrics.h"
#include "relay/relay_backoff.h"
#include "relay/relay_dedup.h"
#include "relay/relay_metrics.h"
#include "relay/relay_pool.h"

/* What a publish callback does to the pool from inside the callback. */
enum reenter {
	REENTER_NONE,	       /* nothing */
	REENTER_ABORT_ON_OUT,  /* relay_pool_abort in on_out */
	REENTER_FREE_ON_OUT,   /* relay_pool_free in on_out */
	REENTER_FREE_ON_DONE,  /* relay_pool_free in on_done */
	REENTER_ABORT_ON_DONE, /* relay_pool_abort in on_done */
};

/* What the fake relay does once the upgrade is answered. */
enum srv_mode {
	SRV_ACK,    /* answer every EVENT with OK true */
	SRV_DROP,   /* drop the connection at once (a relay that breaks right after connecting) */
	SRV_NOTICE, /* send 25 NOTICEs, then behave as SRV_ACK */
};

/* A pool on a virtual clock and a real (idle) event base. */
struct fx {
	struct event_base *base;
	struct clock *clk;
	struct relay_pool *pool;
	int done, out, drained, aborted;
	struct relay_pub_report last; /* answers not kept: valid only in the callback */
	enum relay_outcome first;
	struct evconnlistener *lis; /* the fake relay (test_reentry_*) */
	struct bufferevent *srv;
	bool srv_open; /* the upgrade was answered */
	uint16_t srv_port;
	enum reenter reenter; /* what the publish callbacks do to the pool */
	enum srv_mode srv_mode;
	int notice_lines;	/* "relay notice" lines logged */
	int summary_lines;	/* "relay log lines suppressed" lines logged */
	uint64_t summary_count; /* the suppressed count of the last one */
};

static const struct relay_pool_handlers no_handlers = {0};

static void srv_after_upgrade(struct fx *f, struct bufferevent *bev);

/* While set, every WebSocket send fails (a connection that broke under the sender). */
static bool fail_sends;

/* wslay_event_send, interposed: fails while fail_sends is set, else the library's own. */
int wslay_event_send(wslay_event_context_ptr ctx)
{
	int (*real)(wslay_event_context_ptr);

	if (fail_sends)
		return WSLAY_ERR_CALLBACK_FAILURE;
	*(void **)&real = dlsym(RTLD_NEXT, "wslay_event_send");
	return real != NULL ? real(ctx) : WSLAY_ERR_CALLBACK_FAILURE;
}

/* A 64-hex id made of one repeated digit. */
static void id_of(char id[65], char c)
{
	memset(id, c, 64);
	id[64] = '\0';
}

/* Build the fixture. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[128];
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	fail_sends = false; /* a failed test may have left it set */
	f->base = event_base_new();
	f->clk = clock_new_virtual(0);
	struct relay_pool_config cfg = {.base = f->base,
					.clock = f->clk,
					.backoff_min_ms = 1000,
					.backoff_max_ms = 8000,
					.max_p_per_filter = 2,
					.max_subs_per_relay = 4,
					.publish_timeout_ms = 5000};
	if (relay_pool_new(&f->pool, &cfg, &no_handlers, f, err, sizeof(err)) != 0)
		return -1;
	*state = f;
	return 0;
}

/* Tear the fixture down. */
static int teardown(void **state)
{
	struct fx *f = *state;
	relay_pool_free(f->pool);
	if (f->srv != NULL)
		bufferevent_free(f->srv);
	if (f->lis != NULL)
		evconnlistener_free(f->lis);
	clock_free(f->clk);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Run the event base until relay 0 has failed `n` connects. */
static void wait_disconnects(struct fx *f, uint64_t n)
{
	struct relay_stats st;
	for (int i = 0; i < 200; i++) {
		relay_pool_stats(f->pool, 0, &st);
		if (st.disconnects >= n)
			return;
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	fail_msg("connect to a refused port never failed");
}

/* Backoff: exponential, capped, jittered within [base/2, base]. */
static void test_backoff(void **state)
{
	(void)state;
	assert_int_equal(relay_backoff_delay(0, 500, 60000, 0), 250);
	assert_int_equal(relay_backoff_delay(0, 500, 60000, 250), 500);
	assert_int_equal(relay_backoff_delay(3, 500, 60000, 0), 2000);
	assert_int_equal(relay_backoff_delay(30, 500, 60000, 0), 30000);
	assert_int_equal(relay_backoff_delay(30, 500, 60000, 30000), 60000);
	int64_t lo = INT64_MAX, hi = 0;
	for (uint64_t r = 0; r < 1000; r++) {
		int64_t d = relay_backoff_delay(2, 500, 60000, r * 7919);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
	}
	assert_true(lo >= 1000 && hi <= 2000 && hi - lo > 500); /* spread: no storm */
}

/* Dedup: remembers the last capacity ids, forgets the oldest. */
static void test_dedup(void **state)
{
	(void)state;
	struct relay_dedup *d = relay_dedup_new(4);
	char id[65];
	assert_non_null(d);
	for (char c = 'a'; c <= 'd'; c++) {
		id_of(id, c);
		assert_true(relay_dedup_add(d, id));
		assert_false(relay_dedup_add(d, id));
	}
	id_of(id, 'e');
	assert_true(relay_dedup_add(d, id));
	assert_int_equal(relay_dedup_count(d), 4);
	id_of(id, 'a');
	assert_false(relay_dedup_has(d, id));
	id_of(id, 'b');
	assert_true(relay_dedup_has(d, id));
	assert_false(relay_dedup_add(d, "short"));
	id_of(id, 'g'); /* not hex: refused, never remembered */
	assert_false(relay_dedup_add(d, id));
	assert_false(relay_dedup_has(d, id));
	relay_dedup_free(d);
}

/* Dedup memory is bounded: a long stream of ids never grows the set. */
static void test_dedup_bounded(void **state)
{
	(void)state;
	struct relay_dedup *d = relay_dedup_new(100);
	char id[65];
	assert_non_null(d);
	for (unsigned i = 0; i < 100000; i++) {
		snprintf(id, sizeof(id), "%064x", i);
		assert_true(relay_dedup_add(d, id));
		assert_true(relay_dedup_count(d) <= 100);
	}
	assert_int_equal(relay_dedup_count(d), 100);
	snprintf(id, sizeof(id), "%064x", 99999u - 99); /* the oldest still remembered */
	assert_true(relay_dedup_has(d, id));
	assert_false(relay_dedup_add(d, id));
	snprintf(id, sizeof(id), "%064x", 99999u - 100); /* just forgotten */
	assert_false(relay_dedup_has(d, id));
	relay_dedup_free(d);
}

/* A refused relay: reconnects are paced by the virtual clock with backoff. */
static void test_reconnect_backoff(void **state)
{
	struct fx *f = *state;
	struct relay_stats st;
	char err[128];
	assert_int_equal(relay_pool_add(f->pool, "ws://127.0.0.1:1", err, sizeof(err)), 0);
	wait_disconnects(f, 1);
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(st.state, RELAY_DISCONNECTED);
	clock_virtual_advance(f->clk, 499); /* first delay is in [500, 1000] */
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(st.state, RELAY_DISCONNECTED);
	clock_virtual_advance(f->clk, 501);
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(st.state, RELAY_CONNECTING);
	wait_disconnects(f, 2);
	clock_virtual_advance(f->clk, 999); /* second delay is in [1000, 2000] */
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(st.state, RELAY_DISCONNECTED);
	clock_virtual_advance(f->clk, 1001);
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(st.state, RELAY_CONNECTING);
	assert_int_equal(st.connects, 0);
}

/* Subscriptions: names checked, duplicates and chunk overflows refused with a message. */
static void test_subscribe_limits(void **state)
{
	struct fx *f = *state;
	const char *p[] = {"a", "b", "c", "d", "e"};
	int kinds[] = {24133};
	char err[256];
	struct relay_filter flt = {
		.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = 5, .limit = 0};
	assert_int_equal(relay_pool_subscribe(f->pool, "", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription name \"\": use 1 to 40 letters, digits, '-' or '_'");
	assert_int_equal(relay_pool_subscribe(f->pool, "a.b", &flt, err, sizeof(err)), -1);
	assert_int_equal(relay_pool_subscribe(f->pool, "bunker", &flt, err, sizeof(err)), 0);
	assert_int_equal(relay_pool_subscribe(f->pool, "bunker", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription bunker exists already");
	flt.np_tags = 3; /* 2 more chunks: 5 > 4 per relay */
	assert_int_equal(relay_pool_subscribe(f->pool, "more", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription more: 5 REQs per relay with the others, more than "
				 "the 4 a relay keeps");
	flt.np_tags = 1;
	assert_int_equal(relay_pool_subscribe(f->pool, "more", &flt, err, sizeof(err)), 0);
	relay_pool_unsubscribe(f->pool, "bunker");
	flt.np_tags = 5;
	assert_int_equal(relay_pool_subscribe(f->pool, "bunker", &flt, err, sizeof(err)), 0);
}

/* Resubscribe: replaces in place, subscribes a new name, and counts only the others' REQs. */
static void test_resubscribe_limits(void **state)
{
	struct fx *f = *state;
	const char *p[] = {"a", "b", "c", "d", "e", "f", "g"};
	int kinds[] = {24133};
	char err[256];
	struct relay_filter flt = {
		.kinds = kinds, .nkinds = 1, .p_tags = p, .np_tags = 4, .limit = 0};
	assert_int_equal(relay_pool_resubscribe(f->pool, "x", &flt, err, sizeof(err)), 0);
	assert_int_equal(relay_pool_subscribe(f->pool, "x", &flt, err, sizeof(err)), -1);
	flt.np_tags = 7; /* 4 chunks for x alone fit: its own 2 do not count twice */
	assert_int_equal(relay_pool_resubscribe(f->pool, "x", &flt, err, sizeof(err)), 0);
	flt.np_tags = 1;
	assert_int_equal(relay_pool_subscribe(f->pool, "y", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription y: 5 REQs per relay with the others, more than "
				 "the 4 a relay keeps");
	flt.np_tags = 2; /* x back to 1 chunk: room for y */
	assert_int_equal(relay_pool_resubscribe(f->pool, "x", &flt, err, sizeof(err)), 0);
	flt.np_tags = 6;
	assert_int_equal(relay_pool_resubscribe(f->pool, "y", &flt, err, sizeof(err)), 0);
	assert_int_equal(relay_pool_resubscribe(f->pool, "x", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription x: 6 REQs per relay with the others, more than "
				 "the 4 a relay keeps");
	flt.nkinds = 21;
	assert_int_equal(relay_pool_resubscribe(f->pool, "x", &flt, err, sizeof(err)), -1);
	relay_pool_unsubscribe(f->pool, "y");
	flt.nkinds = 1;
	assert_int_equal(relay_pool_resubscribe(f->pool, "x", &flt, err, sizeof(err)), 0);
}

/* Authors and kinds past the relay validator's limits are refused, not sent; the name stays free.
 */
static void test_subscribe_filter_limits(void **state)
{
	struct fx *f = *state;
	static char hex[1001][65];
	static const char *authors[1001];
	int kinds[21];
	char err[256];
	for (size_t i = 0; i < 1001; i++) {
		snprintf(hex[i], sizeof(hex[i]), "%064zx", i + 1);
		authors[i] = hex[i];
	}
	for (int i = 0; i < 21; i++)
		kinds[i] = i;
	struct relay_filter flt = {
		.kinds = kinds, .nkinds = 20, .authors = authors, .nauthors = 1001};
	assert_int_equal(relay_pool_subscribe(f->pool, "wide", &flt, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "subscription wide: 1001 authors, more than the 1000 a relay accepts");
	flt.nauthors = 1000;
	flt.nkinds = 21;
	assert_int_equal(relay_pool_subscribe(f->pool, "wide", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription wide: 21 kinds, more than the 20 a relay accepts");
	flt.nkinds = 20;
	hex[999][0] = 'A';
	assert_int_equal(relay_pool_subscribe(f->pool, "wide", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription wide: author 1000 is not 64 lower-case hex");
	hex[999][0] = '0';
	kinds[19] = -1;
	assert_int_equal(relay_pool_subscribe(f->pool, "wide", &flt, err, sizeof(err)), -1);
	assert_string_equal(err, "subscription wide: kind -1 is negative");
	kinds[19] = 19;
	assert_int_equal(relay_pool_subscribe(f->pool, "wide", &flt, err, sizeof(err)), 0);
}

/* Publish report callback. */
static void on_done(void *arg, const struct relay_pub_report *r)
{
	struct fx *f = arg;
	f->done++;
	f->last = *r;
	f->first = r->nanswers ? r->answers[0].outcome : RELAY_PUB_PENDING;
}

/* Drain / abort confirmations. */
static void on_drained(void *arg)
{
	((struct fx *)arg)->drained++;
}

/* Abort confirmation. */
static void on_aborted(void *arg)
{
	((struct fx *)arg)->aborted++;
}

/* Publishing with no relay connected fails, reported on a later turn. */
static void test_publish_unconnected(void **state)
{
	struct fx *f = *state;
	static const struct relay_pub_handlers h = {.on_done = on_done};
	char id[65], err[128];
	id_of(id, 'f');
	assert_int_equal(relay_pool_add(f->pool, "ws://127.0.0.1:1", err, sizeof(err)), 0);
	assert_int_equal(relay_pool_publish(f->pool, "{}", 2, id, &h, f), 0);
	assert_int_equal(f->done, 0); /* never inside the call */
	assert_int_equal(relay_pool_inflight(f->pool), 1);
	relay_pool_drain(f->pool, on_drained, f);
	clock_virtual_run_due(f->clk);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->last.failed, 1);
	assert_int_equal(f->last.accepted, 0);
	assert_int_equal(f->first, RELAY_PUB_FAILED);
	assert_int_equal(relay_pool_inflight(f->pool), 0);
	clock_virtual_run_due(f->clk);
	assert_int_equal(f->drained, 1);
	assert_int_equal(relay_pool_publish(f->pool, "{}", 2, "short", &h, f), -1);
}

/* Abort: confirmed on a later turn; nothing reconnects or publishes after. */
static void test_abort(void **state)
{
	struct fx *f = *state;
	static const struct relay_pub_handlers h = {.on_done = on_done};
	char id[65], err[128];
	id_of(id, '1');
	assert_int_equal(relay_pool_add(f->pool, "ws://127.0.0.1:1", err, sizeof(err)), 0);
	wait_disconnects(f, 1);
	relay_pool_abort(f->pool, on_aborted, f);
	assert_int_equal(f->aborted, 0);
	clock_virtual_run_due(f->clk);
	assert_int_equal(f->aborted, 1);
	clock_virtual_advance(f->clk, 60000);
	struct relay_stats st;
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(st.state, RELAY_CLOSED);
	assert_int_equal(relay_pool_publish(f->pool, "{}", 2, id, &h, f), -1);
	assert_int_equal(clock_virtual_pending(f->clk), 0);
}

/* Fake relay: answer the WebSocket upgrade. */
static void srv_upgrade(struct fx *f, struct evbuffer *in, struct evbuffer *out)
{
	struct evbuffer_ptr e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char req[2048] = {0}, key[128], acc[64] = {0};
	unsigned char md[SHA_DIGEST_LENGTH];
	const char *k;
	if (e.pos < 0 || (size_t)e.pos + 4 >= sizeof(req))
		return;
	evbuffer_remove(in, req, (size_t)e.pos + 4);
	k = strstr(req, "Sec-WebSocket-Key: ");
	assert_non_null(k);
	snprintf(key, sizeof(key), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		 (int)strcspn(k + 19, "\r"), k + 19);
	SHA1((const unsigned char *)key, strlen(key), md);
	EVP_EncodeBlock((unsigned char *)acc, md, sizeof(md));
	evbuffer_add_printf(out,
			    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			    acc);
	f->srv_open = true;
}

/* Fake relay: take one masked client frame off in, payload unmasked into buf; its opcode or -1. */
static int srv_frame(struct evbuffer *in, char *buf, size_t cap)
{
	unsigned char h[8], mask[4];
	size_t have = evbuffer_get_length(in), len, hl = 6;
	int opcode;
	if (have < 2 || evbuffer_copyout(in, h, have < 8 ? have : 8) < 2)
		return -1;
	opcode = h[0] & 0x0f;
	len = h[1] & 0x7f;
	if (len == 126) {
		hl = 8;
		len = (size_t)h[2] << 8 | h[3];
	}
	if (have < hl || len >= cap || have < hl + len)
		return -1;
	evbuffer_drain(in, hl - 4);
	evbuffer_remove(in, mask, 4);
	evbuffer_remove(in, buf, len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(buf[i] ^ mask[i % 4]);
	buf[len] = '\0';
	return opcode;
}

/* Fake relay: accept every EVENT with an OK (the id is the 64 hex after "id":"). */
static void srv_read(struct bufferevent *bev, void *arg)
{
	struct fx *f = arg;
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(bev);
	char msg[4096], ok[128];
	const char *id;
	int opcode, n;
	if (!f->srv_open) {
		srv_upgrade(f, in, out);
		srv_after_upgrade(f, bev);
	}
	while (f->srv_open && f->srv != NULL && (opcode = srv_frame(in, msg, sizeof(msg))) >= 0) {
		id = strstr(msg, "\"id\":\"");
		if (opcode != 1 || strncmp(msg, "[\"EVENT\",", 9) != 0 || id == NULL)
			continue;
		n = snprintf(ok + 2, sizeof(ok) - 2, "[\"OK\",\"%.64s\",true,\"\"]", id + 6);
		ok[0] = (char)0x81; /* unmasked text frame, short length */
		ok[1] = (char)n;
		evbuffer_add(out, ok, (size_t)n + 2);
	}
}

/* Fake relay: the 101 is written out; drop the connection (SRV_DROP). */
static void srv_drop_written(struct bufferevent *bev, void *arg)
{
	struct fx *f = arg;
	if (!f->srv_open)
		return;
	bufferevent_free(bev);
	f->srv = NULL;
	f->srv_open = false;
}

/* Fake relay: one unmasked NOTICE frame. */
static void srv_notice(struct bufferevent *bev)
{
	static const char msg[] = "[\"NOTICE\",\"spam\"]";
	unsigned char hdr[2] = {0x81, sizeof(msg) - 1};
	evbuffer_add(bufferevent_get_output(bev), hdr, sizeof(hdr));
	evbuffer_add(bufferevent_get_output(bev), msg, sizeof(msg) - 1);
}

/* Fake relay: what the mode does once the upgrade is answered. */
static void srv_after_upgrade(struct fx *f, struct bufferevent *bev)
{
	if (!f->srv_open)
		return;
	if (f->srv_mode == SRV_DROP)
		bufferevent_setcb(bev, srv_read, srv_drop_written, NULL, f);
	for (int i = 0; f->srv_mode == SRV_NOTICE && i < 25; i++)
		srv_notice(bev);
}

/* Fake relay: a client connected. */
static void srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		       void *arg)
{
	struct fx *f = arg;
	(void)l;
	(void)sa;
	(void)len;
	if (f->srv != NULL)
		bufferevent_free(f->srv); /* a reconnect: the old one is gone */
	f->srv_open = false;
	f->srv = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(f->srv, srv_read, NULL, NULL, f);
	bufferevent_enable(f->srv, EV_READ | EV_WRITE);
}

/* Start the fake relay and add it to the pool. */
static void srv_start(struct fx *f)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	socklen_t sl = sizeof(sin);
	char url[64], err[128];
	f->lis = evconnlistener_new_bind(f->base, srv_accept, f,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
					 (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(f->lis);
	getsockname(evconnlistener_get_fd(f->lis), (struct sockaddr *)&sin, &sl);
	snprintf(url, sizeof(url), "ws://127.0.0.1:%u/", ntohs(sin.sin_port));
	assert_int_equal(relay_pool_add(f->pool, url, err, sizeof(err)), 0);
}

/* Start the fake relay, add it to the pool and run the loop until it is connected. */
static void srv_connect(struct fx *f)
{
	srv_start(f);
	for (int i = 0; i < 200 && relay_pool_connected(f->pool) == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(relay_pool_connected(f->pool), 1);
}

/* Do to the pool, from inside a publish callback, what the test asked for. */
static void reenter(struct fx *f, enum reenter abort_at, enum reenter free_at)
{
	if (f->reenter == abort_at) {
		relay_pool_abort(f->pool, on_aborted, f);
	} else if (f->reenter == free_at) {
		relay_pool_free(f->pool);
		f->pool = NULL;
	}
}

/* on_out that re-enters the pool. */
static void reenter_out(void *arg, const struct relay_pub_report *r)
{
	struct fx *f = arg;
	f->out++;
	assert_int_equal(r->accepted, 1);
	reenter(f, REENTER_ABORT_ON_OUT, REENTER_FREE_ON_OUT);
}

/* on_done that re-enters the pool. */
static void reenter_done(void *arg, const struct relay_pub_report *r)
{
	struct fx *f = arg;
	f->done++;
	f->first = r->nanswers > 0 ? r->answers[0].outcome : RELAY_PUB_PENDING;
	reenter(f, REENTER_ABORT_ON_DONE, REENTER_FREE_ON_DONE);
}

/* Publish one event to the fake relay with callbacks that do `what` to the pool. */
static void reentry_run(struct fx *f, enum reenter what)
{
	static const struct relay_pub_handlers h = {.on_out = reenter_out, .on_done = reenter_done};
	char id[65], json[128];
	id_of(id, 'a');
	snprintf(json, sizeof(json), "{\"id\":\"%s\"}", id);
	f->reenter = what;
	srv_connect(f);
	assert_int_equal(relay_pool_publish(f->pool, json, strlen(json), id, &h, f), 0);
	for (int i = 0; i < 200 && f->out == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE); /* the OK arrives: on_out inside ws's read */
	assert_int_equal(f->out, 1);
	clock_virtual_run_due(f->clk); /* the publish's report and the pool's notifications */
	clock_virtual_run_due(f->clk);
	for (int i = 0; i < 5; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
}

/* on_out aborts the pool inside the WebSocket read: the publish ends once, abort is confirmed. */
static void test_reentry_abort_on_out(void **state)
{
	struct fx *f = *state;
	reentry_run(f, REENTER_ABORT_ON_OUT);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->first, RELAY_PUB_ACCEPTED);
	assert_int_equal(f->aborted, 1);
	assert_int_equal(relay_pool_inflight(f->pool), 0);
	assert_int_equal(relay_pool_connected(f->pool), 0);
	assert_int_equal(clock_virtual_pending(f->clk), 0);
}

/* on_out frees the pool: released after the callback, on_done never comes. */
static void test_reentry_free_on_out(void **state)
{
	struct fx *f = *state;
	reentry_run(f, REENTER_FREE_ON_OUT);
	assert_null(f->pool);
	assert_int_equal(f->done, 0);
	assert_int_equal(clock_virtual_pending(f->clk), 0);
}

/* on_done (on the publish's own timer) frees the pool. */
static void test_reentry_free_on_done(void **state)
{
	struct fx *f = *state;
	reentry_run(f, REENTER_FREE_ON_DONE);
	assert_null(f->pool);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->first, RELAY_PUB_ACCEPTED);
	assert_int_equal(clock_virtual_pending(f->clk), 0);
}

/* on_done aborts the pool from the publish's own timer. */
static void test_reentry_abort_on_done(void **state)
{
	struct fx *f = *state;
	reentry_run(f, REENTER_ABORT_ON_DONE);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->aborted, 1);
	assert_int_equal(relay_pool_connected(f->pool), 0);
	assert_int_equal(clock_virtual_pending(f->clk), 0);
}

/* on_state that frees the pool when the relay is reported lost. */
static void free_on_lost(void *arg, const char *url, enum relay_state st)
{
	struct fx *f = arg;
	(void)url;
	if (st != RELAY_DISCONNECTED)
		return;
	f->done++;
	relay_pool_free(f->pool);
	f->pool = NULL;
}

/* on_state frees the pool inside the WebSocket's on_closed: released after it, no timer left. */
static void test_reentry_free_on_state(void **state)
{
	static const struct relay_pool_handlers h = {.on_state = free_on_lost};
	struct fx *f = *state;
	struct relay_pool_config cfg = {.base = f->base, .clock = f->clk};
	char err[128];

	relay_pool_free(f->pool);
	assert_int_equal(relay_pool_new(&f->pool, &cfg, &h, f, err, sizeof(err)), 0);
	assert_int_equal(relay_pool_add(f->pool, "ws://127.0.0.1:1", err, sizeof(err)), 0);
	for (int i = 0; i < 200 && f->pool != NULL; i++)
		event_base_loop(f->base, EVLOOP_ONCE); /* the refused connect reports the loss */
	assert_null(f->pool);
	assert_int_equal(f->done, 1);
	assert_int_equal(clock_virtual_pending(f->clk), 0); /* no reconnect left armed */
}

/* on_state that unsubscribes every subscription when the relay is reported lost. */
static void unsubscribe_on_lost(void *arg, const char *url, enum relay_state st)
{
	struct fx *f = arg;
	(void)url;
	if (st != RELAY_DISCONNECTED)
		return;
	f->done++;
	relay_pool_unsubscribe(f->pool, "a");
	relay_pool_unsubscribe(f->pool, "b");
}

/*
 * A send that fails inside a loop over the subscriptions reports the lost
 * relay at once; an on_state that unsubscribes then (the one being sent
 * included) frees nothing the loop still walks (ASan would see it).
 */
static void test_unsubscribe_on_state_in_send_loop(void **state)
{
	static const struct relay_pool_handlers h = {.on_state = unsubscribe_on_lost};
	struct fx *f = *state;
	struct relay_pool_config cfg = {.base = f->base,
					.clock = f->clk,
					.backoff_min_ms = 1000,
					.backoff_max_ms = 8000,
					.max_p_per_filter = 2,
					.max_subs_per_relay = 4,
					.publish_timeout_ms = 5000};
	int kinds[] = {24133};
	struct relay_filter flt = {.kinds = kinds, .nkinds = 1};
	char err[128];

	relay_pool_free(f->pool);
	assert_int_equal(relay_pool_new(&f->pool, &cfg, &h, f, err, sizeof(err)), 0);
	srv_connect(f);
	assert_int_equal(relay_pool_subscribe(f->pool, "a", &flt, err, sizeof(err)), 0);
	assert_int_equal(relay_pool_subscribe(f->pool, "b", &flt, err, sizeof(err)), 0);
	fail_sends = true;
	relay_pool_stop_subscribing(f->pool); /* CLOSE "b" fails: lost, both unsubscribed */
	fail_sends = false;
	assert_int_equal(f->done, 1);
	assert_int_equal(relay_pool_connected(f->pool), 0);
	assert_int_equal(relay_pool_subscribe(f->pool, "a", &flt, err, sizeof(err)), 0);
	assert_int_equal(relay_pool_subscribe(f->pool, "b", &flt, err, sizeof(err)), 0);
}

/* The state of relay 0. */
static enum relay_state state0(struct fx *f)
{
	struct relay_stats st;
	relay_pool_stats(f->pool, 0, &st);
	return st.state;
}

/*
 * A relay that drops every connection right after the upgrade: the
 * backoff keeps growing (an open alone does not reset it); a connection
 * that stays open stable_ms (10 s by default) does.
 */
static void test_backoff_needs_stable(void **state)
{
	struct fx *f = *state;
	f->srv_mode = SRV_DROP;
	srv_start(f);
	wait_disconnects(f, 1); /* opened, dropped: next delay in [500, 1000] */
	clock_virtual_advance(f->clk, 1000);
	wait_disconnects(f, 2); /* in [1000, 2000] */
	clock_virtual_advance(f->clk, 2000);
	wait_disconnects(f, 3); /* in [2000, 4000]: had the open reset it, [500, 1000] */
	struct relay_stats st;
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(st.connects, 3);
	clock_virtual_advance(f->clk, 1999);
	assert_int_equal(state0(f), RELAY_DISCONNECTED);
	f->srv_mode = SRV_ACK; /* the relay behaves again */
	clock_virtual_advance(f->clk, 2001);
	for (int i = 0; i < 200 && relay_pool_connected(f->pool) == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(relay_pool_connected(f->pool), 1);
	clock_virtual_advance(f->clk, 10000); /* stable */
	bufferevent_free(f->srv);
	f->srv = NULL;
	wait_disconnects(f, 4); /* lost after a stable connection: back to [500, 1000] */
	clock_virtual_advance(f->clk, 1000);
	assert_int_equal(state0(f), RELAY_CONNECTING);
}

/* Log hook: count the notice lines and the suppression summaries. */
static void count_lines(void *arg, enum log_level level, const char *component, const char *msg,
			const struct log_field *fields, size_t nfields)
{
	struct fx *f = arg;
	(void)level;
	(void)component;
	if (strcmp(msg, "relay notice") == 0)
		f->notice_lines++;
	if (strcmp(msg, "relay log lines suppressed") != 0)
		return;
	f->summary_lines++;
	for (size_t i = 0; i < nfields; i++)
		if (fields[i].key != NULL && strcmp(fields[i].key, "suppressed") == 0)
			f->summary_count = fields[i].v.u;
}

/* Run the loop until relay 0 has counted n notices. */
static void wait_notices(struct fx *f, uint64_t n)
{
	struct relay_stats st;
	for (int i = 0; i < 200; i++) {
		relay_pool_stats(f->pool, 0, &st);
		if (st.notices >= n)
			return;
		event_base_loop(f->base, EVLOOP_ONCE);
	}
	fail_msg("notices never arrived");
}

/*
 * A NOTICE flood: every notice is counted, 10 a minute are logged, the
 * rest suppressed; the next line logged in a later window is preceded by
 * one saying how many were suppressed.
 */
static void test_notice_flood_rate_limited(void **state)
{
	struct fx *f = *state;
	struct relay_stats st;
	struct relay_pool_config cfg = {.base = f->base, .clock = f->clk, .ping_interval_ms = -1};
	char err[128];
	relay_pool_free(f->pool); /* no keepalive: the fake relay answers no ping */
	assert_int_equal(relay_pool_new(&f->pool, &cfg, &no_handlers, f, err, sizeof(err)), 0);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	log_set_hook(count_lines, f);
	f->srv_mode = SRV_NOTICE;
	srv_connect(f);
	wait_notices(f, 25);
	relay_pool_stats(f->pool, 0, &st);
	assert_int_equal(f->notice_lines, 10);
	assert_int_equal(st.log_suppressed, 15);
	assert_int_equal(f->summary_lines, 0);
	clock_virtual_advance(f->clk, 60000);
	srv_notice(f->srv);
	wait_notices(f, 26);
	log_set_hook(NULL, NULL);
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	assert_int_equal(f->summary_lines, 1);
	assert_int_equal(f->summary_count, 15);
	assert_int_equal(f->notice_lines, 11);
}

/* Bad relay URLs are refused. */
static void test_bad_urls(void **state)
{
	struct fx *f = *state;
	char err[128];
	static const char *const bad[] = {"http://x",	     "ws://",	  "ws://h:0",
					  "ws://h:99999",    "ws://[::1", "wss://h:x/",
					  "ws://h/\r\nX: y", "ws://h x/"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(relay_pool_add(f->pool, bad[i], err, sizeof(err)), -1);
	assert_int_equal(relay_pool_count(f->pool), 0);
}

/* Metrics: per-relay counters and state rendered at scrape time. */
static void test_metrics(void **state)
{
	struct fx *f = *state;
	struct metrics *m = metrics_new();
	char err[128];
	assert_non_null(m);
	assert_int_equal(relay_metrics_register(m, f->pool), 0);
	assert_int_equal(relay_metrics_register(m, f->pool), -1); /* names taken */
	assert_int_equal(relay_pool_add(f->pool, "ws://127.0.0.1:1", err, sizeof(err)), 0);
	wait_disconnects(f, 1);
	char *text = metrics_render_string(m);
	assert_non_null(text);
	assert_non_null(
		strstr(text, "keycastd_relay_disconnects_total{relay=\"ws://127.0.0.1:1\"} 1\n"));
	assert_non_null(strstr(text, "keycastd_relay_connected{relay=\"ws://127.0.0.1:1\"} 0\n"));
	assert_non_null(strstr(text, "keycastd_relay_publish_inflight 0\n"));
	free(text);
	relay_metrics_unregister(m, f->pool);
	metrics_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_dedup),
		cmocka_unit_test(test_dedup_bounded),
		cmocka_unit_test_setup_teardown(test_reconnect_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resubscribe_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscribe_filter_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_unconnected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_urls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_backoff_needs_stable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notice_flood_rate_limited, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentry_abort_on_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentry_free_on_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentry_free_on_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentry_abort_on_done, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reentry_free_on_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribe_on_state_in_send_loop, setup,
						teardown),
	};
	return cmocka_run_group_tests_name("relay_pool", tests, NULL, NULL);
}
