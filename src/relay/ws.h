/*
 * ws.h - a WebSocket client (RFC 6455) on a libevent bufferevent.
 *
 * Framing is wslay's; the HTTP upgrade (and its Sec-WebSocket-Accept check),
 * TLS for wss:// (system CA store, optional extra CA file, hostname check,
 * SNI), the connect/handshake deadline, keepalive pings that detect a dead
 * peer, the bounded close handshake and the bounded output are ours. Every
 * timer runs on the injected struct clock.
 *
 * Output is bounded: everything queued for the peer (our messages, the
 * pongs wslay answers its pings with, close frames) counts against
 * max_pending_out. Past it, reading pauses (a peer that floods pings gets
 * no more pongs queued) and ws_client_send_text refuses; reading resumes
 * once the queue is written out. Queued bytes that make no progress for
 * write_timeout_ms end the connection ("write timeout"): a peer that does
 * not read its socket is dropped, and its owner reconnects with backoff.
 *
 * Lifecycle: ws_client_new() starts connecting; on_open fires once the
 * upgrade is checked; on_text for each complete text message; on_closed
 * exactly once at the end (clean close, failure or timeout), after which
 * the owner calls ws_client_free(). ws_client_free() is safe inside any of
 * the callbacks (the object is released when the callback returns) and
 * drops the connection at once without calling back.
 */
#ifndef KC_RELAY_WS_H
#define KC_RELAY_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evdns_base;
struct clock;
struct ws_client;
typedef struct ssl_ctx_st SSL_CTX;

/* The parts of a ws:// or wss:// URL. */
struct ws_url {
	bool tls;	 /* wss:// */
	char host[256];	 /* host name or IP literal, without brackets */
	uint16_t port;	 /* explicit or 80 / 443 */
	char path[1024]; /* path and query, "/" when absent */
};

/* Connection settings; zero values take the defaults named per field. */
struct ws_config {
	struct event_base *base;    /* required */
	struct clock *clock;	    /* required: every timer */
	struct evdns_base *dns;	    /* optional: NULL resolves with getaddrinfo */
	SSL_CTX *ssl_ctx;	    /* required for wss:// (see ws_tls_ctx_new) */
	int64_t connect_timeout_ms; /* TCP + TLS + upgrade, default 10 000 */
	int64_t ping_interval_ms;   /* keepalive ping period, default 30 000; <0 off */
	int64_t pong_timeout_ms;    /* silence after a ping = dead, default 10 000 */
	int64_t close_timeout_ms;   /* wait for the peer's close, default 2 000 */
	size_t max_message;	    /* largest message accepted, default 1 MiB */
	size_t max_pending_out;	    /* bytes queued for the peer, default 4 x max_message */
	int64_t write_timeout_ms;   /* queued bytes stuck this long = dead, default 10 000 */
};

/* The owner's callbacks; arg is the pointer given to ws_client_new. */
struct ws_callbacks {
	void (*on_open)(void *arg);
	void (*on_text)(void *arg, const char *text, size_t len);
	/* code: the peer's close code, 1006 when the connection was lost. */
	void (*on_closed)(void *arg, int code, const char *reason);
};

/*
 * Parse a ws:// or wss:// URL; 0, or -1 with a message in err. A URL with
 * a space, a control byte or DEL anywhere, or a port that is not plain
 * digits, is refused: host and path go into the upgrade request verbatim
 * (Host header, request line, TLS SNI and hostname check).
 */
int ws_url_parse(struct ws_url *out, const char *url, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * A TLS client context verifying peers against the system store and, when
 * ca_file is not NULL, the CAs in that PEM file too (read now; the system
 * store is read at the context's first wss:// connection). NULL with a
 * message on failure. The caller owns it (SSL_CTX_free).
 */
SSL_CTX *ws_tls_ctx_new(const char *ca_file, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/* Start connecting to url; 0, or -1 with a message in err. */
int ws_client_new(struct ws_client **out, const struct ws_config *cfg, const char *url,
		  const struct ws_callbacks *cb, void *arg, char *err, size_t errlen)
	__attribute__((warn_unused_result));

/*
 * Queue one text message and flush; 0, or -1 if not open, if more than
 * max_pending_out bytes are already queued, or if the connection ended
 * inside the call (the flush failed: on_closed has run).
 */
int ws_client_send_text(struct ws_client *ws, const char *text, size_t len)
	__attribute__((warn_unused_result));

/*
 * Start the close handshake with code; on_closed follows within the close
 * timeout. Before the upgrade it drops the connection ("closed before
 * open"); while a close handshake is already under way it does nothing.
 */
void ws_client_close(struct ws_client *ws, uint16_t code);

/* Whether the upgrade is done and no close has started. */
bool ws_client_is_open(const struct ws_client *ws);

/* Bytes queued for the peer and not yet written to the socket. */
size_t ws_client_pending_out(const struct ws_client *ws);

/* Whether reading is paused because more than max_pending_out bytes wait for the peer. */
bool ws_client_paused(const struct ws_client *ws);

/* Drop the connection at once, without callbacks, and free. NULL is ignored. */
void ws_client_free(struct ws_client *ws);

#endif /* KC_RELAY_WS_H */
