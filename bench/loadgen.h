/*
 * loadgen.h - the load generator's modules and the state they share:
 * loadgen.c (options, the run's phases, main), loadgen_client.c (the
 * clients file and what the clients send), loadgen_reply.c (decrypting,
 * checking and filing replies), loadgen_report.c (the report).
 */
#ifndef KC_BENCH_LOADGEN_H
#define KC_BENCH_LOADGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/secret.h"
#include "nostr/keys.h"
#include "nostr/nip44.h"

struct clock;
struct clock_timer;
struct event;
struct event_base;
struct loadgen;
struct nostr_event;
struct relay_pool;

#define LG_TICK_MS	 2	      /* the scheduler's period */
#define LG_SETUP_US	 30000000     /* clients not ready by then: the run fails */
#define LG_SETTLE_US	 1000000      /* wait for duplicates once every request has a reply */
#define LG_MAX_RELAYS	 16	      /* distinct relays over all URIs */
#define LG_MAX_ERRORS	 32	      /* distinct error texts kept */
#define LG_MAX_REPLY	 (256 * 1024) /* longest reply field decoded */
#define LG_P_PER_FILTER	 256	      /* the pool's default #p chunk */
#define LG_MAX_REQUESTS	 10000000     /* rate x duration at most */
#define LG_TEMPLATE_KIND 1	      /* the kind of every template */

/* Where a request's publish stands. */
enum lg_pub {
	LG_PUB_PENDING,	 /* no relay has answered yet */
	LG_PUB_ACCEPTED, /* a relay said OK true */
	LG_PUB_REFUSED,	 /* every relay refused, timed out or was not connected */
};

/* One sign_event request and what became of it. */
struct lg_req {
	struct loadgen *lg; /* the run (the publish callbacks get the request) */
	uint32_t client;    /* index of the client that sent it */
	uint32_t segment;   /* marks (SIGUSR1) received before it was sent */
	int64_t created_at; /* its template's created_at */
	int64_t sent_us;    /* when it was published */
	int64_t out_us;	    /* when a relay accepted it; 0: never */
	int64_t reply_us;   /* when its first reply came; 0: none */
	enum lg_pub pub;    /* what the relays said */
	uint16_t ok;	    /* replies carrying the signed event asked for */
	uint16_t errors;    /* error replies */
	uint16_t invalid;   /* replies failing verification */
	uint8_t closed;	    /* nothing more awaited (replied, or not accepted) */
	char event_id[65];  /* the request event's id */
};

/* One error text and the replies that carried it. */
struct lg_error {
	char *text;	/* malloc'd */
	uint64_t count; /* replies */
};

/* Everything the report is made of. */
struct lg_results {
	const struct lg_req *reqs;
	size_t nsent;	   /* reqs[0..nsent) were sent */
	size_t nsegments;  /* marks + 1 */
	size_t nclients;   /* client keypairs */
	double rate;	   /* requests a second asked for */
	double send_s;	   /* from the first send to the last */
	double lag_max_ms; /* worst lateness of a send against the schedule */
	double cpu_s;	   /* CPU time of this process */
	const struct lg_error *errors;
	size_t nerrors;
	uint64_t invalid; /* replies failing verification, matched to a request or not */
	uint64_t foreign; /* replies to requests of another run */
};

/* Where one client stands before the load. */
enum lg_client_state {
	LG_CLIENT_CONNECT, /* sending connect with the URI's secret */
	LG_CLIENT_KEY,	   /* asking get_public_key */
	LG_CLIENT_READY,   /* its authorization's user key is known */
};

/* One client app: its keypair, its authorization's bunker key and user key. */
struct lg_client {
	struct nostr_keypair kp;    /* the client's key (secret) */
	struct nip44_key ck;	    /* conversation key with the bunker (secret) */
	struct secret secret;	    /* the URI's connect secret */
	struct nostr_pubkey bunker; /* the authorization's bunker key */
	struct nostr_pubkey user;   /* the user's key, from get_public_key */
	char pub_hex[65];	    /* the client's pubkey */
	char bunker_hex[65];	    /* the bunker pubkey */
	enum lg_client_state state; /* setup progress */
	int64_t asked_us;	    /* when the current setup request was sent; 0: not yet */
	bool told;		    /* a setup error was printed */
};

/* The run's phases. */
enum lg_phase {
	LG_PHASE_SETUP, /* subscribing, connecting clients, learning user keys */
	LG_PHASE_SEND,	/* sending at the rate */
	LG_PHASE_WAIT,	/* waiting for late replies */
};

/* Command-line options. */
struct lg_options {
	double rate;		  /* requests a second */
	double duration_s;	  /* how long to send (when count < 0) */
	double count;		  /* requests to send; < 0: rate x duration */
	double timeout_s;	  /* how long to wait for late replies */
	double publish_timeout_s; /* how long a relay has to accept a request */
	double setup_retry_s;	  /* a setup request unanswered this long is sent again */
	bool connect;		  /* bind each client with connect first */
	const char *lost_file;	  /* where to write the lost requests' ids */
	const char *clients_file; /* the URI and key of each client */
};

/* The whole run. */
struct loadgen {
	struct lg_options opt;
	struct event_base *base;
	struct clock *clock;
	struct relay_pool *pool;
	struct clock_timer *tick;
	struct event *signals[3];
	struct lg_client *clients;
	size_t nclients;
	char *relays[LG_MAX_RELAYS];
	size_t nrelays, nconnected, eose;
	struct lg_req *reqs;
	size_t nreqs, nsent, open; /* open: sent and still awaited */
	char prefix[9];		   /* this run's request ids start with it */
	enum lg_phase phase;
	int64_t setup_us, t0_us, end_us, settle_us;
	double lag_max_ms;
	uint32_t segment;
	struct lg_error errors[LG_MAX_ERRORS];
	size_t nerrors;
	uint64_t invalid, foreign;
	bool stop, failed, told_invalid;
};

/* Microseconds on the monotonic clock (loadgen.c). */
int64_t lg_now_us(void);

/* Read every client of the clients file into lg; 0 or -1 (message printed). */
int lg_clients_read(struct loadgen *lg) __attribute__((warn_unused_result));

/* Send client k's current setup request: connect (with the secret) or get_public_key. */
void lg_setup_send(struct loadgen *lg, size_t k);

/* Send the next sign_event request, from the next client in turn. */
void lg_send_one(struct loadgen *lg);

/* The content of request i's template into buf; its length. */
size_t lg_content(const struct loadgen *lg, size_t i, char *buf, size_t len);

/* Nothing more is awaited for q: a reply came, or no relay accepted it. */
void lg_req_close(struct lg_req *q);

/* The pool's on_event: a reply to one of the clients, decrypted, checked and filed. */
void lg_reply_on_event(void *arg, const char *sub, const struct nostr_event *ev, const char *json,
		       size_t len, const char *url);

/* Print the text summary, then one line "loadgen: " + a JSON object, to out. 0 or -1. */
int lg_report(FILE *out, const struct lg_results *r) __attribute__((warn_unused_result));

/* Write the event ids of the lost requests to path, one a line. 0 or -1. */
int lg_report_lost(const char *path, const struct lg_results *r)
	__attribute__((warn_unused_result));

#endif /* KC_BENCH_LOADGEN_H */
