/*
 * ws.c - WebSocket client: bufferevent transport, our upgrade handshake,
 * wslay framing, keepalive, bounded close. See ws.h.
 */
#include "relay/ws.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <wslay/wslay.h>

#include "core/clock.h"
#include "core/log.h"

#define WS_GUID	      "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_MAX_HEADER 8192

/* Where a connection is in its life. */
enum ws_state {
	WS_CONNECTING, /* TCP (and TLS) connect in progress */
	WS_HANDSHAKE,  /* upgrade request sent, waiting for 101 */
	WS_OPEN,       /* messages flow */
	WS_CLOSING,    /* close frame sent or received, waiting for the other */
	WS_CLOSED,     /* on_closed has been called */
};

/* Which wait the keepalive timer is in. */
enum ws_ka_phase {
	WS_KA_IDLE,	/* next fire sends a ping */
	WS_KA_AWAIT_RX, /* next fire checks that something came back */
};

struct ws_client {
	struct ws_config cfg;
	struct ws_callbacks cb;
	void *arg;
	struct ws_url url;
	enum ws_state state;
	struct bufferevent *bev;
	wslay_event_context_ptr ctx;
	char key[32];		      /* our Sec-WebSocket-Key (base64) */
	struct clock_timer *deadline; /* connect/handshake, then close wait */
	struct clock_timer *keepalive;
	struct clock_timer *stall;	 /* write timeout: queued bytes that do not move */
	struct evbuffer_cb_entry *watch; /* on the output buffer: progress and the stall timer */
	int64_t progress_ms;		 /* when the output last moved (or started to wait) */
	bool paused;			 /* reading paused: too much queued for the peer */
	enum ws_ka_phase ka_phase;
	bool rx_since_ping; /* bytes arrived since the last keepalive ping */
	int busy;	    /* callbacks on the stack */
	bool doomed;	    /* freed while busy: release when the stack unwinds */
};

static void ws_apply_defaults(struct ws_config *c);
static int ws_open_socket(struct ws_client *ws, char *err, size_t errlen);
static struct bufferevent *ws_tls_bev(struct ws_client *ws);
static int ws_tls_ctx_ready(SSL_CTX *ctx);

/* SSL_CTX ex_data index: non-NULL once the system's CA store is loaded into the context. */
static int ws_tls_store_idx = -1;
static void ws_on_read(struct bufferevent *bev, void *arg);
static void ws_on_write(struct bufferevent *bev, void *arg);
static void ws_on_event(struct bufferevent *bev, short what, void *arg);
static void ws_send_upgrade(struct ws_client *ws);
static void ws_read_handshake(struct ws_client *ws);
static int ws_check_upgrade(struct ws_client *ws, const char *hdr, char *why, size_t len);
static const char *ws_header(const char *hdr, const char *name, char *val, size_t len);
static void ws_accept_for(const char *key, char *out, size_t len);
static int ws_start_framing(struct ws_client *ws);
static void ws_recv_frames(struct ws_client *ws);
static void ws_flush(struct ws_client *ws);
static void ws_finish(struct ws_client *ws, int code, const char *reason);
static void ws_on_deadline(void *arg);
static void ws_on_keepalive(void *arg);
static void ws_on_stall(void *arg);
static void ws_on_out_change(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg);
static void ws_check_pending(struct ws_client *ws);
static void ws_error_text(struct ws_client *ws, char *buf, size_t len);
static void ws_enter(struct ws_client *ws);
static void ws_leave(struct ws_client *ws);
static void ws_destroy(struct ws_client *ws);
static ssize_t ws_wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			     void *user);
static ssize_t ws_wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
			     int flags, void *user);
static int ws_wslay_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user);
static void ws_wslay_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
			 void *user);

/* wslay's callbacks, fed from and into the bufferevent. */
static const struct wslay_event_callbacks ws_wslay_callbacks = {
	.recv_callback = ws_wslay_recv,
	.send_callback = ws_wslay_send,
	.genmask_callback = ws_wslay_genmask,
	.on_msg_recv_callback = ws_wslay_msg,
};

/*
 * Refuse a URL holding a space, a control byte or DEL anywhere: host and
 * path are copied into the upgrade request, where such a byte would split
 * it or inject a header.
 */
static int ws_url_check_bytes(const char *url, char *err, size_t errlen)
{
	for (size_t i = 0; url[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)url[i];
		if (ch <= 0x20 || ch == 0x7f) {
			snprintf(err, errlen,
				 "relay URL has a space or control character (0x%02x) at byte %zu",
				 ch, i + 1);
			return -1;
		}
	}
	return 0;
}

/* Parse the decimal port of s[0, n): digits only, 1 to 65535; 0 or -1. */
static int ws_url_port(struct ws_url *u, const char *s, size_t n)
{
	unsigned long p = 0;
	if (n == 0 || n > 5 || strspn(s, "0123456789") < n)
		return -1;
	for (size_t i = 0; i < n; i++)
		p = p * 10 + (unsigned long)(s[i] - '0');
	if (p == 0 || p > 65535)
		return -1;
	u->port = (uint16_t)p;
	return 0;
}

/* Parse the host[:port] part of a URL (IPv6 literals in brackets). */
static int ws_url_authority(struct ws_url *u, const char *s, size_t n, char *err, size_t errlen)
{
	const char *colon = NULL, *host = s;
	size_t hlen = n;

	if (n > 0 && s[0] == '[') {
		const char *rb = memchr(s, ']', n);
		if (rb == NULL || (rb + 1 < s + n && rb[1] != ':'))
			goto bad;
		host = s + 1;
		hlen = (size_t)(rb - host);
		colon = (rb + 1 < s + n) ? rb + 1 : NULL;
	} else {
		colon = memchr(s, ':', n);
		hlen = colon != NULL ? (size_t)(colon - s) : n;
	}
	if (hlen == 0 || hlen >= sizeof(u->host))
		goto bad;
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	if (colon != NULL && ws_url_port(u, colon + 1, (size_t)(s + n - colon - 1)) != 0)
		goto bad;
	return 0;
bad:
	snprintf(err, errlen, "bad host or port in relay URL");
	return -1;
}

/* Parse a ws:// or wss:// URL. */
int ws_url_parse(struct ws_url *out, const char *url, char *err, size_t errlen)
{
	const char *rest, *path;
	size_t alen, plen;
	int n;

	memset(out, 0, sizeof(*out));
	if (ws_url_check_bytes(url, err, errlen) != 0)
		return -1;
	if (strncasecmp(url, "ws://", 5) == 0) {
		rest = url + 5;
		out->port = 80;
	} else if (strncasecmp(url, "wss://", 6) == 0) {
		rest = url + 6;
		out->tls = true;
		out->port = 443;
	} else {
		snprintf(err, errlen, "relay URL must start with ws:// or wss://");
		return -1;
	}
	alen = strcspn(rest, "/?#");
	if (ws_url_authority(out, rest, alen, err, errlen) != 0)
		return -1;
	path = rest + alen;
	plen = strcspn(path, "#");
	n = snprintf(out->path, sizeof(out->path), "%s%.*s", (*path == '/') ? "" : "/", (int)plen,
		     path);
	if (n < 0 || (size_t)n >= sizeof(out->path)) {
		snprintf(err, errlen, "relay URL path too long");
		return -1;
	}
	return 0;
}

/*
 * A TLS client context on the system store plus an optional CA file. The
 * CA file is read now (a bad one fails the start); the system store, a
 * bundle of some 150 certificates (about 1 MB resident once parsed), is
 * read at the first wss:// connection, so a replica whose relays are all
 * ws:// never holds it.
 */
SSL_CTX *ws_tls_ctx_new(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ws_tls_store_idx < 0)
		ws_tls_store_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	if (ws_tls_store_idx < 0)
		goto fail;
	if (ca_file != NULL && *ca_file && SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
		goto fail;
	return ctx;
fail:
	snprintf(err, errlen, "TLS context: %s", ERR_reason_error_string(ERR_get_error()));
	SSL_CTX_free(ctx);
	return NULL;
}

/* Fill in the defaults for zero fields. */
static void ws_apply_defaults(struct ws_config *c)
{
	if (c->connect_timeout_ms <= 0)
		c->connect_timeout_ms = 10000;
	if (c->ping_interval_ms == 0)
		c->ping_interval_ms = 30000;
	if (c->pong_timeout_ms <= 0)
		c->pong_timeout_ms = 10000;
	if (c->close_timeout_ms <= 0)
		c->close_timeout_ms = 2000;
	if (c->max_message == 0)
		c->max_message = 1024 * 1024;
	if (c->max_pending_out == 0)
		c->max_pending_out = 4 * c->max_message;
	if (c->write_timeout_ms <= 0)
		c->write_timeout_ms = 10000;
}

/* Start connecting to url. */
int ws_client_new(struct ws_client **out, const struct ws_config *cfg, const char *url,
		  const struct ws_callbacks *cb, void *arg, char *err, size_t errlen)
{
	struct ws_client *ws = calloc(1, sizeof(*ws));

	*out = NULL;
	if (ws == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ws->cfg = *cfg;
	ws_apply_defaults(&ws->cfg);
	ws->cb = *cb;
	ws->arg = arg;
	if (ws_url_parse(&ws->url, url, err, errlen) != 0)
		goto fail;
	ws->deadline = clock_timer_new(cfg->clock, ws_on_deadline, ws);
	ws->keepalive = clock_timer_new(cfg->clock, ws_on_keepalive, ws);
	ws->stall = clock_timer_new(cfg->clock, ws_on_stall, ws);
	if (ws->deadline == NULL || ws->keepalive == NULL || ws->stall == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (ws_open_socket(ws, err, errlen) != 0)
		goto fail;
	clock_timer_start(ws->deadline, ws->cfg.connect_timeout_ms);
	*out = ws;
	return 0;
fail:
	ws_destroy(ws);
	return -1;
}

/*
 * A TLS bufferevent for the URL's host: peer verification, hostname (or IP
 * address) check, SNI for names only (RFC 6066 forbids IP literals). NULL
 * on failure.
 */
static struct bufferevent *ws_tls_bev(struct ws_client *ws)
{
	SSL *ssl;
	X509_VERIFY_PARAM *vp;
	struct bufferevent *bev;

	if (ws_tls_ctx_ready(ws->cfg.ssl_ctx) != 0 || (ssl = SSL_new(ws->cfg.ssl_ctx)) == NULL)
		return NULL;
	vp = SSL_get0_param(ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, ws->url.host) != 1 &&
	    (SSL_set_tlsext_host_name(ssl, ws->url.host) != 1 ||
	     SSL_set1_host(ssl, ws->url.host) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
	bev = bufferevent_openssl_socket_new(ws->cfg.base, -1, ssl, BUFFEREVENT_SSL_CONNECTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

/* Load the system's CA store into ctx unless done already (ws_tls_ctx_new); 0 or -1. */
static int ws_tls_ctx_ready(SSL_CTX *ctx)
{
	if (SSL_CTX_get_ex_data(ctx, ws_tls_store_idx) != NULL)
		return 0;
	if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		const char *why = ERR_reason_error_string(ERR_get_error());

		log_error("relay", "cannot load the system's CA store",
			  log_str("error", why != NULL ? why : "unknown"));
		return -1;
	}
	return SSL_CTX_set_ex_data(ctx, ws_tls_store_idx, ctx) == 1 ? 0 : -1;
}

/* Create the (TLS) bufferevent and start the TCP connect. */
static int ws_open_socket(struct ws_client *ws, char *err, size_t errlen)
{
	if (ws->url.tls && ws->cfg.ssl_ctx == NULL) {
		snprintf(err, errlen, "wss:// needs a TLS context");
		return -1;
	}
	if (ws->url.tls)
		ws->bev = ws_tls_bev(ws);
	else
		ws->bev = bufferevent_socket_new(ws->cfg.base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (ws->bev == NULL) {
		snprintf(err, errlen, "cannot set up the connection to %s", ws->url.host);
		return -1;
	}
	ws->watch = evbuffer_add_cb(bufferevent_get_output(ws->bev), ws_on_out_change, ws);
	if (ws->watch == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	bufferevent_setcb(ws->bev, ws_on_read, ws_on_write, ws_on_event, ws);
	bufferevent_enable(ws->bev, EV_READ | EV_WRITE);
	ws->state = WS_CONNECTING;
	if (bufferevent_socket_connect_hostname(ws->bev, ws->cfg.dns, AF_UNSPEC, ws->url.host,
						ws->url.port) != 0) {
		snprintf(err, errlen, "cannot connect to %s:%u", ws->url.host, ws->url.port);
		return -1;
	}
	return 0;
}

/* Mark a callback frame entered. */
static void ws_enter(struct ws_client *ws)
{
	ws->busy++;
}

/* Leave a callback frame; release a client freed inside it. */
static void ws_leave(struct ws_client *ws)
{
	if (--ws->busy == 0 && ws->doomed)
		ws_destroy(ws);
}

/* Bytes arrived: the upgrade response, then frames. */
static void ws_on_read(struct bufferevent *bev, void *arg)
{
	struct ws_client *ws = arg;
	(void)bev;
	ws_enter(ws);
	ws->rx_since_ping = true;
	if (ws->state == WS_HANDSHAKE)
		ws_read_handshake(ws);
	if (!ws->doomed && (ws->state == WS_OPEN || ws->state == WS_CLOSING))
		ws_recv_frames(ws);
	ws_leave(ws);
}

/* The output buffer drained: resume reading, finish a completed close handshake. */
static void ws_on_write(struct bufferevent *bev, void *arg)
{
	struct ws_client *ws = arg;
	(void)bev;
	ws_enter(ws);
	if (ws->paused && (ws->state == WS_OPEN || ws->state == WS_CLOSING)) {
		ws->paused = false;
		bufferevent_enable(ws->bev, EV_READ);
	}
	if (ws->state == WS_CLOSING && ws->ctx != NULL && wslay_event_get_close_received(ws->ctx) &&
	    wslay_event_get_close_sent(ws->ctx))
		ws_finish(ws, wslay_event_get_status_code_received(ws->ctx), "closed");
	ws_leave(ws);
}

/* Connected, EOF or error on the socket. */
static void ws_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct ws_client *ws = arg;
	char why[256];

	(void)bev;
	ws_enter(ws);
	if (what & BEV_EVENT_CONNECTED) {
		ws_send_upgrade(ws);
	} else if (what & BEV_EVENT_ERROR) {
		ws_error_text(ws, why, sizeof(why));
		ws_finish(ws, 1006, why);
	} else if (what & BEV_EVENT_EOF) {
		int code = 1006;
		if (ws->ctx != NULL && wslay_event_get_close_received(ws->ctx))
			code = wslay_event_get_status_code_received(ws->ctx);
		ws_finish(ws, code, "connection closed by peer");
	}
	ws_leave(ws);
}

/* Describe a DNS, socket or TLS failure. */
static void ws_error_text(struct ws_client *ws, char *buf, size_t len)
{
	unsigned long e = bufferevent_get_openssl_error(ws->bev);
	SSL *ssl = bufferevent_openssl_get_ssl(ws->bev);
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;
	int dns = bufferevent_socket_get_dns_error(ws->bev);
	if (dns)
		snprintf(buf, len, "cannot resolve %.160s: %s", ws->url.host,
			 evutil_gai_strerror(dns));
	else if (ssl != NULL && vr != X509_V_OK)
		snprintf(buf, len, "TLS: certificate verify failed: %s",
			 X509_verify_cert_error_string(vr));
	else if (e)
		snprintf(buf, len, "TLS: %s", ERR_reason_error_string(e));
	else
		snprintf(buf, len, "connect failed: %s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	while (bufferevent_get_openssl_error(ws->bev))
		;
}

/* Send the HTTP upgrade request with a fresh random key. */
static void ws_send_upgrade(struct ws_client *ws)
{
	unsigned char nonce[16];
	bool v6 = strchr(ws->url.host, ':') != NULL;
	bool dflt = ws->url.port == (ws->url.tls ? 443 : 80);
	char port[8] = "";

	if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
		ws_finish(ws, 1006, "no randomness for the WebSocket key");
		return;
	}
	EVP_EncodeBlock((unsigned char *)ws->key, nonce, sizeof(nonce));
	if (!dflt)
		snprintf(port, sizeof(port), ":%u", ws->url.port);
	/* host and path passed ws_url_parse: no space, control byte or DEL */
	evbuffer_add_printf(bufferevent_get_output(ws->bev),
			    "GET %s HTTP/1.1\r\nHost: %s%s%s%s\r\nUpgrade: websocket\r\n"
			    "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
			    "Sec-WebSocket-Version: 13\r\nUser-Agent: keycastd\r\n\r\n",
			    ws->url.path, v6 ? "[" : "", ws->url.host, v6 ? "]" : "", port,
			    ws->key);
	ws->state = WS_HANDSHAKE;
}

/* Read the upgrade response once its header block is complete. */
static void ws_read_handshake(struct ws_client *ws)
{
	struct evbuffer *in = bufferevent_get_input(ws->bev);
	struct evbuffer_ptr end = evbuffer_search(in, "\r\n\r\n", 4, NULL);
	char why[160], *hdr;
	size_t n;

	if (end.pos < 0) {
		if (evbuffer_get_length(in) > WS_MAX_HEADER)
			ws_finish(ws, 1006, "upgrade response header too large");
		return;
	}
	n = (size_t)end.pos + 4;
	hdr = malloc(n + 1);
	if (hdr == NULL) {
		ws_finish(ws, 1006, "out of memory");
		return;
	}
	evbuffer_remove(in, hdr, n);
	hdr[n] = '\0';
	if (ws_check_upgrade(ws, hdr, why, sizeof(why)) != 0)
		ws_finish(ws, 1006, why);
	else if (ws_start_framing(ws) != 0)
		ws_finish(ws, 1006, "out of memory");
	free(hdr);
}

/* Check status 101, Upgrade, Connection and Sec-WebSocket-Accept. */
static int ws_check_upgrade(struct ws_client *ws, const char *hdr, char *why, size_t len)
{
	char val[256], want[64];
	if (strncmp(hdr, "HTTP/1.1 101", 12) != 0) {
		snprintf(why, len, "upgrade refused: %.*s", (int)strcspn(hdr, "\r\n"), hdr);
		return -1;
	}
	if (ws_header(hdr, "upgrade", val, sizeof(val)) == NULL ||
	    strcasecmp(val, "websocket") != 0) {
		snprintf(why, len, "upgrade response lacks Upgrade: websocket");
		return -1;
	}
	if (ws_header(hdr, "connection", val, sizeof(val)) == NULL ||
	    strcasestr(val, "upgrade") == NULL) {
		snprintf(why, len, "upgrade response lacks Connection: upgrade");
		return -1;
	}
	ws_accept_for(ws->key, want, sizeof(want));
	if (ws_header(hdr, "sec-websocket-accept", val, sizeof(val)) == NULL ||
	    strcmp(val, want) != 0) {
		snprintf(why, len, "bad Sec-WebSocket-Accept");
		return -1;
	}
	return 0;
}

/* The trimmed value of header name (case-insensitive) into val, or NULL. */
static const char *ws_header(const char *hdr, const char *name, char *val, size_t len)
{
	size_t nl = strlen(name);
	for (const char *l = strstr(hdr, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
		const char *p = l + 2;
		size_t vl;

		if (strncasecmp(p, name, nl) != 0 || p[nl] != ':')
			continue;
		p += nl + 1;
		p += strspn(p, " \t");
		vl = strcspn(p, "\r\n");
		while (vl > 0 && isspace((unsigned char)p[vl - 1]))
			vl--;
		if (vl >= len)
			return NULL;
		memcpy(val, p, vl);
		val[vl] = '\0';
		return val;
	}
	return NULL;
}

/* base64(SHA-1(key + GUID)): the accept value the server must send. */
static void ws_accept_for(const char *key, char *out, size_t len)
{
	char buf[128];
	unsigned char md[SHA_DIGEST_LENGTH];
	int n = snprintf(buf, sizeof(buf), "%s%s", key, WS_GUID);
	SHA1((const unsigned char *)buf, (size_t)n, md);
	if (len >= 32)
		EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

/* The upgrade is done: start wslay, the keepalive, and tell the owner. */
static int ws_start_framing(struct ws_client *ws)
{
	if (wslay_event_context_client_init(&ws->ctx, &ws_wslay_callbacks, ws) != 0)
		return -1;
	wslay_event_config_set_max_recv_msg_length(ws->ctx, ws->cfg.max_message);
	ws->state = WS_OPEN;
	clock_timer_stop(ws->deadline);
	ws->ka_phase = WS_KA_IDLE;
	if (ws->cfg.ping_interval_ms > 0)
		clock_timer_start(ws->keepalive, ws->cfg.ping_interval_ms);
	if (ws->cb.on_open != NULL)
		ws->cb.on_open(ws->arg);
	return 0;
}

/* Feed buffered bytes to wslay, then send what it queued (pongs, close replies, 1009). */
static void ws_recv_frames(struct ws_client *ws)
{
	if (wslay_event_recv(ws->ctx) != 0) {
		ws_finish(ws, 1006, "WebSocket protocol error");
		return;
	}
	if (ws->doomed || ws->state == WS_CLOSED)
		return;
	ws_flush(ws);
	if (ws->doomed || ws->state != WS_OPEN)
		return;
	if (wslay_event_get_close_received(ws->ctx) || wslay_event_get_close_sent(ws->ctx)) {
		ws->state = WS_CLOSING;
		clock_timer_start(ws->deadline, ws->cfg.close_timeout_ms);
		if (evbuffer_get_length(bufferevent_get_output(ws->bev)) == 0)
			ws_on_write(ws->bev, ws);
	}
}

/* Move wslay's queued frames into the bufferevent; pause reading if too much waits. */
static void ws_flush(struct ws_client *ws)
{
	if (wslay_event_send(ws->ctx) != 0) {
		ws_finish(ws, 1006, "WebSocket send failed");
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(ws->bev)) == 0)
		ws_on_write(ws->bev, ws);
	else
		ws_check_pending(ws);
}

/*
 * More than max_pending_out queued for the peer: stop reading, so that a
 * peer flooding pings gets no more pongs queued; ws_on_write resumes once
 * the queue is written out, and the stall timer drops a peer that never
 * reads.
 */
static void ws_check_pending(struct ws_client *ws)
{
	if (ws->paused || ws->state == WS_CLOSED ||
	    ws_client_pending_out(ws) <= ws->cfg.max_pending_out)
		return;
	ws->paused = true;
	bufferevent_disable(ws->bev, EV_READ);
}

/*
 * The output buffer changed: bytes leaving it are progress; bytes waiting
 * arm the stall timer, an empty buffer stops it. Runs inside libevent's
 * buffer operations: it only records and sets timers.
 */
static void ws_on_out_change(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct ws_client *ws = arg;

	if (info->n_deleted > 0 || info->orig_size == 0)
		ws->progress_ms = clock_now_ms(ws->cfg.clock);
	if (evbuffer_get_length(buf) == 0)
		clock_timer_stop(ws->stall);
	else if (!clock_timer_pending(ws->stall) && ws->state != WS_CLOSED)
		clock_timer_start(ws->stall, ws->cfg.write_timeout_ms);
}

/* The stall timer: queued bytes that did not move for write_timeout_ms end the connection. */
static void ws_on_stall(void *arg)
{
	struct ws_client *ws = arg;
	int64_t idle = clock_now_ms(ws->cfg.clock) - ws->progress_ms;
	char why[96];

	if (ws->state == WS_CLOSED || ws_client_pending_out(ws) == 0)
		return;
	if (idle < ws->cfg.write_timeout_ms) {
		clock_timer_start(ws->stall, ws->cfg.write_timeout_ms - idle);
		return;
	}
	ws_enter(ws);
	snprintf(why, sizeof(why), "write timeout: %zu bytes queued, none written for %lld ms",
		 ws_client_pending_out(ws), (long long)idle);
	ws_finish(ws, 1006, why);
	ws_leave(ws);
}

/* End the connection once: stop timers and I/O, call on_closed. */
static void ws_finish(struct ws_client *ws, int code, const char *reason)
{
	if (ws->state == WS_CLOSED)
		return;
	ws->state = WS_CLOSED;
	clock_timer_stop(ws->deadline);
	clock_timer_stop(ws->keepalive);
	clock_timer_stop(ws->stall);
	if (ws->bev != NULL)
		bufferevent_disable(ws->bev, EV_READ | EV_WRITE);
	if (ws->cb.on_closed != NULL && !ws->doomed)
		ws->cb.on_closed(ws->arg, code, reason);
}

/* The connect/handshake deadline or the close wait ran out. */
static void ws_on_deadline(void *arg)
{
	struct ws_client *ws = arg;
	ws_enter(ws);
	if (ws->state == WS_CLOSING)
		ws_finish(ws, 1006, "close handshake timed out");
	else
		ws_finish(ws, 1006, "connect timed out");
	ws_leave(ws);
}

/* Keepalive: send a ping, and on the next fire check the peer answered. */
static void ws_on_keepalive(void *arg)
{
	struct ws_client *ws = arg;
	if (ws->state != WS_OPEN)
		return;
	ws_enter(ws);
	if (ws->ka_phase == WS_KA_AWAIT_RX && !ws->rx_since_ping) {
		ws_finish(ws, 1006, "keepalive: no answer to ping");
	} else if (ws->ka_phase == WS_KA_AWAIT_RX) {
		ws->ka_phase = WS_KA_IDLE;
		clock_timer_start(ws->keepalive, ws->cfg.ping_interval_ms);
	} else {
		struct wslay_event_msg m = {.opcode = WSLAY_PING, .msg = NULL, .msg_length = 0};
		ws->rx_since_ping = false;
		ws->ka_phase = WS_KA_AWAIT_RX;
		if (wslay_event_queue_msg(ws->ctx, &m) == 0)
			ws_flush(ws);
		if (ws->state == WS_OPEN)
			clock_timer_start(ws->keepalive, ws->cfg.pong_timeout_ms);
	}
	ws_leave(ws);
}

/* Queue one text message and flush it; -1 also when the connection ended inside the flush. */
int ws_client_send_text(struct ws_client *ws, const char *text, size_t len)
{
	struct wslay_event_msg m = {
		.opcode = WSLAY_TEXT_FRAME, .msg = (const uint8_t *)text, .msg_length = len};
	int rc;

	if (ws == NULL || ws->state != WS_OPEN ||
	    ws_client_pending_out(ws) > ws->cfg.max_pending_out)
		return -1; /* closed, or the peer is not reading: refuse rather than grow */
	if (wslay_event_queue_msg(ws->ctx, &m) != 0)
		return -1;
	ws_enter(ws);
	ws_flush(ws);
	rc = ws->state == WS_CLOSED || ws->doomed ? -1 : 0; /* ended inside the flush */
	ws_leave(ws);
	return rc;
}

/* Start the close handshake. */
void ws_client_close(struct ws_client *ws, uint16_t code)
{
	if (ws == NULL || ws->state == WS_CLOSED || ws->state == WS_CLOSING)
		return; /* closed, or the handshake is under way: let it end on its own */
	ws_enter(ws);
	if (ws->state != WS_OPEN) {
		ws_finish(ws, 1006, "closed before open");
	} else {
		ws->state = WS_CLOSING;
		clock_timer_start(ws->deadline, ws->cfg.close_timeout_ms);
		if (wslay_event_queue_close(ws->ctx, code, NULL, 0) != 0)
			ws_finish(ws, 1006, "close failed");
		else
			ws_flush(ws);
	}
	ws_leave(ws);
}

/* Whether messages can be sent. */
bool ws_client_is_open(const struct ws_client *ws)
{
	return ws && ws->state == WS_OPEN;
}

/* Bytes queued for the peer. */
size_t ws_client_pending_out(const struct ws_client *ws)
{
	if (ws == NULL || ws->bev == NULL)
		return 0;
	return evbuffer_get_length(bufferevent_get_output(ws->bev));
}

/* Whether reading is paused for a peer that does not read. */
bool ws_client_paused(const struct ws_client *ws)
{
	return ws != NULL && ws->paused;
}

/* Free now, or when the callback on the stack returns. */
void ws_client_free(struct ws_client *ws)
{
	if (ws == NULL)
		return;
	if (ws->busy > 0) {
		ws->doomed = true;
		ws->state = WS_CLOSED;
		if (ws->bev != NULL)
			bufferevent_disable(ws->bev, EV_READ | EV_WRITE);
		return;
	}
	ws_destroy(ws);
}

/* Release everything. */
static void ws_destroy(struct ws_client *ws)
{
	if (ws->ctx != NULL)
		wslay_event_context_free(ws->ctx);
	if (ws->watch != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_output(ws->bev), ws->watch);
	if (ws->bev != NULL)
		bufferevent_free(ws->bev);
	clock_timer_free(ws->deadline);
	clock_timer_free(ws->keepalive);
	clock_timer_free(ws->stall);
	free(ws);
}

/* wslay wants bytes: hand it what the bufferevent holds. */
static ssize_t ws_wslay_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags,
			     void *user)
{
	struct ws_client *ws = user;
	int n = evbuffer_remove(bufferevent_get_input(ws->bev), buf, len);

	(void)flags;
	if (n <= 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	return n;
}

/* wslay has a frame: append it to the bufferevent's output. */
static ssize_t ws_wslay_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len,
			     int flags, void *user)
{
	struct ws_client *ws = user;
	(void)flags;
	if (evbuffer_add(bufferevent_get_output(ws->bev), data, len) != 0) {
		wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
		return -1;
	}
	return (ssize_t)len;
}

/* Masking keys for client frames. */
static int ws_wslay_genmask(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, void *user)
{
	(void)ctx;
	(void)user;
	return RAND_bytes(buf, (int)len) == 1 ? 0 : -1;
}

/* A complete message: hand text up; close and pong are wslay's business. */
static void ws_wslay_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *a,
			 void *user)
{
	struct ws_client *ws = user;
	(void)ctx;
	if (ws->doomed || ws->state != WS_OPEN)
		return;
	if (a->opcode == WSLAY_TEXT_FRAME && ws->cb.on_text != NULL)
		ws->cb.on_text(ws->arg, (const char *)a->msg, a->msg_length);
}
