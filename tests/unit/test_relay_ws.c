/*
 * test_relay_ws.c - the WebSocket client against a scripted loopback
 * server: the upgrade check (Sec-WebSocket-Accept, status), messages and
 * the close handshake, the message size limit, and (on a virtual clock)
 * the handshake timeout, keepalive detecting a silent peer, and our close
 * against a peer that answers and then goes silent, answers with half a
 * close frame, or never answers; a second close during the handshake;
 * URLs that could split the upgrade request, and the request we send; a
 * send whose flush fails reports the failure (-1) after on_closed; a peer
 * that floods pings and never reads stays within the output bound and is
 * dropped by the write timeout.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <wslay/wslay.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "core/clock.h"
#include "core/log.h"
#include "relay/ws.h"

/* What the scripted server does after reading the upgrade request. */
enum srv_mode {
	SRV_GOOD,	/* proper 101, one text frame, then a close frame 1000 */
	SRV_BAD_ACCEPT, /* 101 with a wrong Sec-WebSocket-Accept */
	SRV_FORBIDDEN,	/* 403 */
	SRV_SILENT,	/* never answers */
	SRV_MUTE,	/* proper 101, then silence (no pongs) */
	SRV_BIG,	/* proper 101, then a 100-byte text frame */
	SRV_REPLY,	/* proper 101; answers our close with close 1000, then silence */
	SRV_HALF,	/* proper 101, a text frame and 3 of the 4 bytes of a close frame */
	SRV_FLOOD,	/* proper 101, then 2 MiB of pings, and never reads again */
};

/* Pings the flooding server sends: 2 bytes each, a 6-byte masked pong each. */
#define FLOOD_BYTES (2u << 20)

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

/* The fixture: a server and a client on one event base. */
struct fx {
	struct event_base *base;
	struct clock *clk;
	struct evconnlistener *lis;
	struct bufferevent *srv;
	enum srv_mode mode;
	char url[64];
	struct ws_client *ws;
	int opened, closed, texts, code;
	char text[64], reason[128];
	size_t srv_got_close;	     /* bytes of the client's close frame seen */
	unsigned char srv_frame[16]; /* the first bytes the client sent after the upgrade */
	size_t srv_frame_len;
	int srv_replied;     /* SRV_REPLY: the close reply was sent */
	struct event *guard; /* real-time hang guard of RUN_UNTIL (never a timed assertion) */
	int stuck;	     /* the guard fired */
	char srv_req[1024];  /* the upgrade request the server read */
};

/* Server: answer the client's complete close frame (SRV_REPLY) and stay connected. */
static void srv_reply_close(struct fx *f, struct evbuffer *out)
{
	static const unsigned char close1000[] = {0x88, 2, 0x03, 0xe8};
	if (f->mode != SRV_REPLY || f->srv_replied || f->srv_frame_len < 8)
		return;
	evbuffer_add(out, close1000, sizeof(close1000));
	f->srv_replied = 1;
}

/* Server: answer the upgrade per mode. */
static void srv_read(struct bufferevent *bev, void *arg)
{
	struct fx *f = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (f->srv_got_close || f->mode == SRV_SILENT) {
		size_t n = evbuffer_get_length(in), room = sizeof(f->srv_frame) - f->srv_frame_len;
		if (f->mode != SRV_SILENT)
			f->srv_frame_len += (size_t)evbuffer_copyout(
				in, f->srv_frame + f->srv_frame_len, n < room ? n : room);
		f->srv_got_close += n;
		evbuffer_drain(in, n);
		srv_reply_close(f, bufferevent_get_output(bev));
		return;
	}
	struct evbuffer_ptr e = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	if (e.pos < 0)
		return;
	char *req = f->srv_req, key[128] = {0}, acc[64] = {0};
	evbuffer_remove(in, req,
			(size_t)e.pos + 4 < sizeof(f->srv_req) - 1 ? (size_t)e.pos + 4 : 1000);
	const char *k = strstr(req, "Sec-WebSocket-Key: ");
	assert_non_null(k);
	snprintf(key, sizeof(key), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
		 (int)strcspn(k + 19, "\r"), k + 19);
	unsigned char md[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)key, strlen(key), md);
	EVP_EncodeBlock((unsigned char *)acc, md, sizeof(md));
	if (f->mode == SRV_BAD_ACCEPT)
		acc[0] = acc[0] == 'A' ? 'B' : 'A';
	struct evbuffer *out = bufferevent_get_output(bev);
	if (f->mode == SRV_FORBIDDEN) {
		evbuffer_add_printf(out, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
		return;
	}
	evbuffer_add_printf(out,
			    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			    acc);
	f->srv_got_close = 1; /* from here on, record what the client sends */
	if (f->mode == SRV_GOOD) {
		static const unsigned char frames[] = {0x81, 5,	   'h', 'e',  'l', 'l',
						       'o',  0x88, 2,	0x03, 0xe8};
		evbuffer_add(out, frames, sizeof(frames));
	} else if (f->mode == SRV_BIG) {
		unsigned char big[102] = {0x81, 100};
		memset(big + 2, 'x', 100);
		evbuffer_add(out, big, sizeof(big));
	} else if (f->mode == SRV_HALF) {
		static const unsigned char half[] = {0x81, 2, 'h', 'i', 0x88, 2, 0x03};
		evbuffer_add(out, half, sizeof(half));
	} else if (f->mode == SRV_FLOOD) {
		unsigned char *pings = malloc(FLOOD_BYTES);
		assert_non_null(pings);
		for (size_t i = 0; i < FLOOD_BYTES; i += 2) {
			pings[i] = 0x89; /* FIN + ping, no payload */
			pings[i + 1] = 0;
		}
		evbuffer_add(out, pings, FLOOD_BYTES);
		free(pings);
		bufferevent_disable(bev, EV_READ); /* never reads the pongs */
	}
}

/* Server: a client connected. */
static void srv_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len,
		       void *arg)
{
	struct fx *f = arg;
	f->srv = bufferevent_socket_new(f->base, fd, BEV_OPT_CLOSE_ON_FREE);
	bufferevent_setcb(f->srv, srv_read, NULL, NULL, f);
	bufferevent_enable(f->srv, EV_READ | EV_WRITE);
}

/* The status code of the masked close frame the client sent, or -1. */
static int srv_close_code(const struct fx *f)
{
	const unsigned char *b = f->srv_frame;
	if (f->srv_frame_len < 8 || b[0] != 0x88 || b[1] != (0x80 | 2))
		return -1;
	return ((b[6] ^ b[2]) << 8) | (b[7] ^ b[3]);
}

/* Client callbacks. */
static void cl_open(void *arg)
{
	((struct fx *)arg)->opened++;
}

/* Client: a text message. */
static void cl_text(void *arg, const char *text, size_t len)
{
	struct fx *f = arg;
	f->texts++;
	snprintf(f->text, sizeof(f->text), "%.*s", (int)len, text);
}

/* Client: the end. */
static void cl_closed(void *arg, int code, const char *reason)
{
	struct fx *f = arg;
	f->closed++;
	f->code = code;
	snprintf(f->reason, sizeof(f->reason), "%s", reason);
}

static const struct ws_callbacks cl_cb = {
	.on_open = cl_open, .on_text = cl_text, .on_closed = cl_closed};

/* Set up the server and connect a client with small limits (and wc's, when given). */
static void start_cfg(struct fx *f, enum srv_mode mode, const struct ws_config *cfg)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001)};
	char err[128];
	f->mode = mode;
	f->lis = evconnlistener_new_bind(f->base, srv_accept, f,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, -1,
					 (struct sockaddr *)&sin, sizeof(sin));
	assert_non_null(f->lis);
	socklen_t sl = sizeof(sin);
	getsockname(evconnlistener_get_fd(f->lis), (struct sockaddr *)&sin, &sl);
	snprintf(f->url, sizeof(f->url), "ws://127.0.0.1:%u/path?q=1", ntohs(sin.sin_port));
	struct ws_config wc = {.base = f->base,
			       .clock = f->clk,
			       .ping_interval_ms = 1000,
			       .pong_timeout_ms = 500,
			       .max_message = 16};
	int small = 4096; /* accepted sockets inherit it: a peer that stops reading fills fast */
	assert_int_equal(setsockopt(evconnlistener_get_fd(f->lis), SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)),
			 0);
	if (cfg != NULL) {
		wc = *cfg;
		wc.base = f->base;
		wc.clock = f->clk;
	}
	assert_int_equal(ws_client_new(&f->ws, &wc, f->url, &cl_cb, f, err, sizeof(err)), 0);
}

/* Set up the server and connect a client with small limits. */
static void start(struct fx *f, enum srv_mode mode)
{
	start_cfg(f, mode, NULL);
}

/* The hang guard fired: stop RUN_UNTIL (its condition is then asserted false). */
static void guard_fired(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct fx *)arg)->stuck = 1;
}

/* Arm the hang guard: 30 s of real time, only so a broken client fails instead of hanging. */
static void guard_arm(struct fx *f)
{
	struct timeval tv = {.tv_sec = 30};
	f->stuck = 0;
	evtimer_add(f->guard, &tv);
}

/* Run the loop until cond holds (bounded by iterations and by the hang guard). */
#define RUN_UNTIL(f, cond)                                                                         \
	for (int i_ = (guard_arm(f), 0); i_ < 200 && !(cond) && !(f)->stuck; i_++)                 \
	event_base_loop((f)->base, EVLOOP_ONCE)

/* Fixture setup. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	fail_sends = false; /* a failed test may have left it set */
	f->base = event_base_new();
	f->clk = clock_new_virtual(0);
	f->guard = evtimer_new(f->base, guard_fired, f);
	*state = f;
	return 0;
}

/* Fixture teardown. */
static int teardown(void **state)
{
	struct fx *f = *state;
	ws_client_free(f->ws);
	if (f->srv)
		bufferevent_free(f->srv);
	if (f->lis)
		evconnlistener_free(f->lis);
	clock_free(f->clk);
	event_free(f->guard);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* A message arrives; the server's close 1000 is answered and reported. */
static void test_message_and_close(void **state)
{
	struct fx *f = *state;
	start(f, SRV_GOOD);
	RUN_UNTIL(f, f->closed);
	assert_int_equal(f->opened, 1);
	assert_int_equal(f->texts, 1);
	assert_string_equal(f->text, "hello");
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->code, 1000);
	RUN_UNTIL(f, f->srv_got_close >= 8);
	assert_true(f->srv_got_close >= 8); /* our masked close reply reached the server */
}

/* A wrong Sec-WebSocket-Accept is refused before anything opens. */
static void test_bad_accept(void **state)
{
	struct fx *f = *state;
	start(f, SRV_BAD_ACCEPT);
	RUN_UNTIL(f, f->closed);
	assert_int_equal(f->opened, 0);
	assert_string_equal(f->reason, "bad Sec-WebSocket-Accept");
}

/* A non-101 answer is refused with its status line. */
static void test_forbidden(void **state)
{
	struct fx *f = *state;
	start(f, SRV_FORBIDDEN);
	RUN_UNTIL(f, f->closed);
	assert_int_equal(f->opened, 0);
	assert_string_equal(f->reason, "upgrade refused: HTTP/1.1 403 Forbidden");
}

/* No answer to the upgrade: the connect deadline (virtual clock) ends it. */
static void test_handshake_timeout(void **state)
{
	struct fx *f = *state;
	start(f, SRV_SILENT);
	RUN_UNTIL(f, f->srv != NULL && f->srv_got_close > 0);
	clock_virtual_advance(f->clk, 9999);
	assert_int_equal(f->closed, 0);
	clock_virtual_advance(f->clk, 1);
	assert_int_equal(f->closed, 1);
	assert_string_equal(f->reason, "connect timed out");
}

/* A peer that stops answering is detected by the keepalive ping. */
static void test_keepalive(void **state)
{
	struct fx *f = *state;
	start(f, SRV_MUTE);
	RUN_UNTIL(f, f->opened);
	assert_int_equal(f->opened, 1);
	clock_virtual_advance(f->clk, 1000); /* ping sent */
	assert_int_equal(f->closed, 0);
	clock_virtual_advance(f->clk, 499);
	assert_int_equal(f->closed, 0);
	clock_virtual_advance(f->clk, 1);
	assert_int_equal(f->closed, 1);
	assert_string_equal(f->reason, "keepalive: no answer to ping");
}

/*
 * A peer that floods pings and never reads: the pongs queued for it stay
 * within max_pending_out (plus what one read of pings answers), reading
 * pauses, sends are refused, and once nothing has been written for
 * write_timeout_ms the connection ends ("write timeout").
 */
static void test_flood_bounded(void **state)
{
	struct fx *f = *state;
	const struct ws_config wc = {.ping_interval_ms = -1,
				     .max_message = 1024,
				     .max_pending_out = 64 * 1024,
				     .write_timeout_ms = 3000};
	size_t most = 0;
	start_cfg(f, SRV_FLOOD, &wc);
	RUN_UNTIL(f, f->opened);
	assert_int_equal(f->opened, 1);
	guard_arm(f); /* without the bound, the loop would block once the flood is read */
	for (int i = 0; i < 2000 && !ws_client_paused(f->ws) && !f->closed && !f->stuck; i++) {
		event_base_loop(f->base, EVLOOP_ONCE);
		if (ws_client_pending_out(f->ws) > most)
			most = ws_client_pending_out(f->ws);
	}
	assert_true(ws_client_paused(f->ws));
	for (int i = 0; i < 50; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	if (ws_client_pending_out(f->ws) > most)
		most = ws_client_pending_out(f->ws);
	print_message("# most queued for the flooding peer: %zu bytes\n", most);
	assert_true(most <= 64 * 1024 + 3 * 16384 + 4096); /* the cap + one read's pongs */
	assert_int_equal(ws_client_send_text(f->ws, "x", 1), -1);
	assert_int_equal(f->closed, 0);
	clock_virtual_advance(f->clk, 2999);
	assert_int_equal(f->closed, 0);
	clock_virtual_advance(f->clk, 1);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->code, 1006);
	assert_memory_equal(f->reason, "write timeout", 13);
}

/* A send whose flush fails ends the connection inside the call, and says so: -1, on_closed ran. */
static void test_send_fails_inside(void **state)
{
	struct fx *f = *state;
	start(f, SRV_MUTE);
	RUN_UNTIL(f, f->opened);
	assert_int_equal(f->opened, 1);
	assert_int_equal(ws_client_send_text(f->ws, "hi", 2), 0);
	fail_sends = true;
	assert_int_equal(ws_client_send_text(f->ws, "hi", 2), -1);
	fail_sends = false;
	assert_int_equal(f->closed, 1);
	assert_string_equal(f->reason, "WebSocket send failed");
	assert_int_equal(ws_client_send_text(f->ws, "hi", 2), -1); /* closed: refused */
}

/* A message over max_message is never delivered; we close with 1009. */
static void test_too_big(void **state)
{
	struct fx *f = *state;
	start(f, SRV_BIG);
	RUN_UNTIL(f, f->opened && f->srv_frame_len >= 8);
	assert_int_equal(f->texts, 0);
	assert_int_equal(srv_close_code(f), 1009);
	assert_false(ws_client_is_open(f->ws));
	assert_int_equal(ws_client_send_text(f->ws, "x", 1), -1);
}

/* Our close against a peer that never answers: 1001 sent, the wait is bounded. */
static void test_close_timeout(void **state)
{
	struct fx *f = *state;
	start(f, SRV_MUTE);
	RUN_UNTIL(f, f->opened);
	ws_client_close(f->ws, 1001);
	RUN_UNTIL(f, f->srv_frame_len >= 8);
	assert_int_equal(srv_close_code(f), 1001);
	assert_false(ws_client_is_open(f->ws));
	clock_virtual_advance(f->clk, 1999); /* close_timeout_ms default 2 000 */
	assert_int_equal(f->closed, 0);
	clock_virtual_advance(f->clk, 1);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->code, 1006);
	assert_string_equal(f->reason, "close handshake timed out");
}

/* Our close, answered by the peer's close and then silence (TCP kept open): done at once. */
static void test_close_reply_then_silent(void **state)
{
	struct fx *f = *state;
	start(f, SRV_REPLY);
	RUN_UNTIL(f, f->opened);
	ws_client_close(f->ws, 1001);
	RUN_UNTIL(f, f->closed);
	assert_int_equal(f->srv_replied, 1);
	assert_int_equal(srv_close_code(f), 1001);
	assert_int_equal(f->closed,
			 1); /* with no virtual time passed: the deadline played no part */
	assert_int_equal(f->code, 1000);
	assert_string_equal(f->reason, "closed");
	clock_virtual_advance(f->clk, 60000); /* the close deadline is gone: no second report */
	assert_int_equal(f->closed, 1);
	assert_string_equal(f->reason, "closed");
}

/* Half a close frame from the peer, then silence: our close wait is still bounded. */
static void test_close_half_frame(void **state)
{
	struct fx *f = *state;
	start(f, SRV_HALF);
	RUN_UNTIL(f, f->texts == 1);
	assert_string_equal(f->text, "hi");
	ws_client_close(f->ws, 1000);
	RUN_UNTIL(f, f->srv_frame_len >= 8);
	assert_int_equal(srv_close_code(f), 1000);
	clock_virtual_advance(f->clk, 1999);
	assert_int_equal(f->closed, 0);
	clock_virtual_advance(f->clk, 1);
	assert_int_equal(f->closed, 1);
	assert_int_equal(f->code, 1006);
	assert_string_equal(f->reason, "close handshake timed out");
}

/* URL parsing. */
static void test_url(void **state)
{
	(void)state;
	struct ws_url u;
	char err[128];
	assert_int_equal(ws_url_parse(&u, "wss://relay.example.com", err, sizeof(err)), 0);
	assert_true(u.tls);
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/");
	assert_int_equal(ws_url_parse(&u, "ws://[::1]:7777/a?b#frag", err, sizeof(err)), 0);
	assert_string_equal(u.host, "::1");
	assert_int_equal(u.port, 7777);
	assert_string_equal(u.path, "/a?b");
	assert_int_equal(ws_url_parse(&u, "ws://h?x=1", err, sizeof(err)), 0);
	assert_string_equal(u.path, "/?x=1");
	assert_int_equal(ws_url_parse(&u, "https://h", err, sizeof(err)), -1);
	assert_int_equal(ws_url_parse(&u, "ws://:80", err, sizeof(err)), -1);
}

/* URLs that could split the upgrade request or smuggle a header are refused. */
static void test_url_rejects(void **state)
{
	static const char *const bad[] = {
		"ws://h\r\nX-Injected: 1/",
		"ws://h/p\r\nX-Injected: 1",
		"ws://h/\nGET /",
		"ws://h /",
		"ws://h/a b",
		"ws://h/a\tb",
		"ws://h\x01/",
		"ws://h/\x1f",
		"ws://h/\x7f",
		"ws://h\x7f",
		"ws://h:80\r\n/",
		"ws://h: 80/",
		"ws://h:+80/",
		"ws://h:-1/",
		"ws://h:8x/",
		"ws://h:/",
		"ws://h:65536/",
		"ws://[::1]x/",
		"ws://h/?q=\r\n",
		"ws://h/#\r\nfrag",
		"wss://h\x0b/",
	};
	struct ws_url u;
	char err[128];
	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (ws_url_parse(&u, bad[i], err, sizeof(err)) != -1)
			fail_msg("accepted URL %zu (host \"%s\", path \"%s\")", i, u.host, u.path);
		assert_true(err[0] != '\0');
	}
	assert_int_equal(ws_url_parse(&u, "ws://h/a%20b?c=%0d%0a", err, sizeof(err)), 0);
	assert_string_equal(u.path, "/a%20b?c=%0d%0a"); /* percent-encoded stays inert */
	assert_int_equal(ws_url_parse(&u, "ws://[::1]:65535", err, sizeof(err)), 0);
	assert_int_equal(u.port, 65535);
}

/* The Host header carries the validated host and port, and the request line the path. */
static void test_upgrade_request(void **state)
{
	struct fx *f = *state;
	char host[64];
	const char *end;
	start(f, SRV_MUTE);
	RUN_UNTIL(f, f->opened);
	assert_int_equal(f->opened, 1);
	snprintf(host, sizeof(host), "\r\nHost: %.*s\r\n", (int)strcspn(f->url + 5, "/"),
		 f->url + 5); /* "127.0.0.1:port" */
	assert_true(strncmp(f->srv_req, "GET /path?q=1 HTTP/1.1\r\n", 24) == 0);
	assert_non_null(strstr(f->srv_req, host));
	end = strstr(f->srv_req, "\r\n\r\n");
	assert_non_null(end);
	assert_int_equal(end + 4 - f->srv_req, strlen(f->srv_req)); /* one header block */
}

/* A second close while the handshake runs changes nothing: the true end is reported. */
static void test_close_twice(void **state)
{
	struct fx *f = *state;
	start(f, SRV_REPLY);
	RUN_UNTIL(f, f->opened);
	ws_client_close(f->ws, 1001);
	ws_client_close(f->ws, 1000);
	assert_int_equal(f->closed, 0); /* not dropped as "closed before open" */
	RUN_UNTIL(f, f->closed);
	assert_int_equal(f->closed, 1);
	assert_int_equal(srv_close_code(f), 1001);
	assert_int_equal(f->code, 1000);
	assert_string_equal(f->reason, "closed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_message_and_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_accept, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forbidden, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keepalive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_fails_inside, setup, teardown),
		cmocka_unit_test_setup_teardown(test_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_reply_then_silent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_half_frame, setup, teardown),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_url_rejects),
		cmocka_unit_test_setup_teardown(test_upgrade_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flood_bounded, setup, teardown),
	};
	return cmocka_run_group_tests_name("relay_ws", tests, NULL, NULL);
}
