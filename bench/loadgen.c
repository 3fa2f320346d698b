/*
 * loadgen.c - an open-loop NIP-46 load generator for keycastd.
 *
 *   loadgen [--connect] [--rate N] [--duration S | --count N] [--timeout S]
 *           [--publish-timeout S] [--setup-retry S] [--lost-file FILE] CLIENTS-FILE
 *
 * CLIENTS-FILE holds lines "bunker-URI client-secret-hex": each line is
 * one client app bound (or, with --connect, to be bound) to one
 * authorization. loadgen subscribes on the URIs' relays to the replies to
 * every client ({"kinds":[24133],"#p":[client pubkeys]}), sends connect
 * with the URI's secret when asked to and waits for "ack", learns each
 * authorization's user key (get_public_key), then sends sign_event
 * requests at a fixed rate, spread over the clients on a timer, never
 * waiting for a reply before the next (open loop). Every reply is
 * decrypted and checked: a signed event whose signature verifies, by the
 * user's key, with the kind, content, tags and created_at of the template
 * sent. After the last send it waits up to --timeout for late replies
 * (one more second once every request has one, for duplicates) and
 * prints a summary and one JSON line (loadgen_report.c).
 *
 * SIGUSR1 starts a new segment, counted apart (e.g. "sent after the relay
 * came back"); SIGTERM or SIGINT ends sending early. Progress goes to
 * stderr ("sending", relay connections, marks).
 *
 * Exit status: 0 after a run, whatever was lost (the caller judges); 1 if
 * the run could not be made (file, relays, clients never ready); 2 on a
 * usage error.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/log.h"
#include "loadgen.h"
#include "nostr/hex.h"
#include "relay/relay_pool.h"

static double lg_cpu_s(void);
static int lg_number(const char *s, double min, double max, double *out);
static void lg_usage(void);
static int lg_options_parse(struct lg_options *o, int argc, char **argv);
static void lg_on_eose(void *arg, const char *sub, const char *url);
static void lg_on_state(void *arg, const char *url, enum relay_state s);
static void lg_setup_tick(struct loadgen *lg, int64_t now);
static void lg_send_tick(struct loadgen *lg);
static void lg_wait_tick(struct loadgen *lg, int64_t now);
static void lg_on_tick(void *arg);
static void lg_on_signal(evutil_socket_t sig, short what, void *arg);
static int lg_start(struct loadgen *lg);
static int lg_finish(struct loadgen *lg);
static void lg_free(struct loadgen *lg);

/* Microseconds on the monotonic clock. */
int64_t lg_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* CPU seconds this process has used. */
static double lg_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Parse a number in [min, max] into *out; 0 or -1. */
static int lg_number(const char *s, double min, double max, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= min && v <= max))
		return -1;
	*out = v;
	return 0;
}

/* The usage text, on stderr. */
static void lg_usage(void)
{
	fprintf(stderr,
		"usage: loadgen [--connect] [--rate N] [--duration S | --count N] [--timeout S]\n"
		"               [--publish-timeout S] [--setup-retry S] [--lost-file FILE]\n"
		"               CLIENTS-FILE\n"
		"  CLIENTS-FILE  lines \"bunker-URI client-secret-hex\"\n"
		"  --connect     bind each client first (connect with the URI's secret)\n"
		"  --rate N      sign_event requests a second, open loop (default 100)\n"
		"  --duration S  send for S seconds (default 6)\n"
		"  --count N     send N requests instead (0: only set the clients up)\n"
		"  --timeout S   wait for late replies after the last send (default 10)\n"
		"  --publish-timeout S  a relay's OK must come within S (default 10)\n"
		"  --setup-retry S      resend a setup request unanswered for S (default 1)\n"
		"  --lost-file FILE     write the event ids of lost requests there\n");
}

/* Parse the command line into o; 0, or -1 (usage printed). */
static int lg_options_parse(struct lg_options *o, int argc, char **argv)
{
	static const struct option longopts[] = {{"connect", no_argument, NULL, 'c'},
						 {"rate", required_argument, NULL, 'r'},
						 {"duration", required_argument, NULL, 'd'},
						 {"count", required_argument, NULL, 'n'},
						 {"timeout", required_argument, NULL, 't'},
						 {"publish-timeout", required_argument, NULL, 'p'},
						 {"setup-retry", required_argument, NULL, 's'},
						 {"lost-file", required_argument, NULL, 'l'},
						 {NULL, 0, NULL, 0}};
	int ch, bad = 0;

	*o = (struct lg_options){.rate = 100,
				 .duration_s = 6,
				 .count = -1,
				 .timeout_s = 10,
				 .publish_timeout_s = 10,
				 .setup_retry_s = 1};
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'c')
			o->connect = true;
		else if (ch == 'l')
			o->lost_file = optarg;
		else if (ch == 'r')
			bad |= lg_number(optarg, 0.001, 1e6, &o->rate);
		else if (ch == 'd')
			bad |= lg_number(optarg, 0.001, 86400, &o->duration_s);
		else if (ch == 'n')
			bad |= lg_number(optarg, 0, LG_MAX_REQUESTS, &o->count);
		else if (ch == 't')
			bad |= lg_number(optarg, 0, 3600, &o->timeout_s);
		else if (ch == 'p')
			bad |= lg_number(optarg, 0.1, 600, &o->publish_timeout_s);
		else if (ch == 's')
			bad |= lg_number(optarg, 0.1, 60, &o->setup_retry_s);
		else
			bad = -1;
	}
	o->clients_file = optind == argc - 1 ? argv[optind] : NULL;
	if (bad || o->clients_file == NULL ||
	    (o->count < 0 && o->rate * o->duration_s > LG_MAX_REQUESTS)) {
		lg_usage();
		return -1;
	}
	return 0;
}

/* A chunk of the reply subscription is in place on a relay. */
static void lg_on_eose(void *arg, const char *sub, const char *url)
{
	struct loadgen *lg = arg;

	(void)sub, (void)url;
	lg->eose++;
}

/* A relay connected or went away: say so on stderr. */
static void lg_on_state(void *arg, const char *url, enum relay_state s)
{
	struct loadgen *lg = arg;
	size_t n = relay_pool_connected(lg->pool);

	if (n != lg->nconnected)
		fprintf(stderr, "loadgen: relay %s %s (%zu of %zu connected)\n", url,
			relay_state_name(s), n, lg->nrelays);
	lg->nconnected = n;
}

/* Setup: once subscribed, (re)send each unready client's request; then start sending. */
static void lg_setup_tick(struct loadgen *lg, int64_t now)
{
	size_t ready = 0, chunks = (lg->nclients + LG_P_PER_FILTER - 1) / LG_P_PER_FILTER;

	if (lg->eose < chunks * lg->nrelays && now - lg->setup_us < LG_SETUP_US)
		return;
	for (size_t k = 0; k < lg->nclients; k++) {
		struct lg_client *c = &lg->clients[k];
		ready += c->state == LG_CLIENT_READY;
		if (c->state != LG_CLIENT_READY &&
		    now - c->asked_us >= (int64_t)(lg->opt.setup_retry_s * 1e6))
			lg_setup_send(lg, k);
	}
	if (ready == lg->nclients) {
		fprintf(stderr, "loadgen: %zu clients ready; sending\n", ready);
		lg->phase = LG_PHASE_SEND;
		lg->t0_us = lg_now_us();
	} else if (now - lg->setup_us >= LG_SETUP_US || lg->stop) {
		fprintf(stderr,
			"loadgen: %zu of %zu clients ready before the %s (subscribed: %s)\n", ready,
			lg->nclients, lg->stop ? "signal" : "deadline", lg->eose ? "yes" : "no");
		lg->failed = true;
		event_base_loopexit(lg->base, NULL);
	}
}

/* Send: every request whose time has come, each on its schedule; then wait. */
static void lg_send_tick(struct loadgen *lg)
{
	int64_t now = lg_now_us(), due;

	while (lg->nsent < lg->nreqs && !lg->stop) {
		due = lg->t0_us + (int64_t)((double)lg->nsent * 1e6 / lg->opt.rate);
		if (due > now)
			break;
		if ((double)(now - due) / 1e3 > lg->lag_max_ms)
			lg->lag_max_ms = (double)(now - due) / 1e3;
		lg_send_one(lg);
		now = lg_now_us();
	}
	if (lg->nsent == lg->nreqs || lg->stop) {
		fprintf(stderr, "loadgen: %zu sent; waiting for late replies\n", lg->nsent);
		lg->phase = LG_PHASE_WAIT;
		lg->end_us = now;
		lg->stop = false;
	}
}

/* Wait: until every request has a reply (and a second more, for duplicates), or the timeout. */
static void lg_wait_tick(struct loadgen *lg, int64_t now)
{
	int64_t timeout = (int64_t)(lg->opt.timeout_s * 1e6);
	int64_t settle = timeout < LG_SETTLE_US ? timeout : LG_SETTLE_US;

	if (lg->open == 0 && lg->settle_us == 0)
		lg->settle_us = now;
	if ((lg->settle_us != 0 && (now - lg->settle_us >= settle || lg->nsent == 0)) ||
	    now - lg->end_us >= timeout || lg->stop)
		event_base_loopexit(lg->base, NULL);
}

/* The scheduler: one step of the current phase. */
static void lg_on_tick(void *arg)
{
	struct loadgen *lg = arg;
	int64_t now = lg_now_us();

	if (lg->phase == LG_PHASE_SETUP)
		lg_setup_tick(lg, now);
	else if (lg->phase == LG_PHASE_SEND)
		lg_send_tick(lg);
	else
		lg_wait_tick(lg, now);
	clock_timer_start(lg->tick, LG_TICK_MS);
}

/* SIGUSR1: a new segment; SIGTERM, SIGINT: stop sending (again: stop waiting). */
static void lg_on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct loadgen *lg = arg;

	(void)what;
	if (sig == SIGUSR1) {
		lg->segment++;
		fprintf(stderr, "loadgen: mark %u after %zu requests\n", lg->segment, lg->nsent);
	} else {
		lg->stop = true;
	}
}

/* The event loop, the pool on every relay, the reply subscription, timer and signals. */
static int lg_start(struct loadgen *lg)
{
	static const struct relay_pool_handlers h = {
		.on_event = lg_reply_on_event, .on_eose = lg_on_eose, .on_state = lg_on_state};
	static const int sigs[3] = {SIGUSR1, SIGTERM, SIGINT}, kinds[] = {24133};
	const char **p = calloc(lg->nclients, sizeof(*p));
	struct relay_pool_config cfg = {.publish_timeout_ms =
						(int64_t)(lg->opt.publish_timeout_s * 1000),
					.backoff_min_ms = 100,
					.backoff_max_ms = 1000,
					.ping_interval_ms = -1};
	struct relay_filter f = {.kinds = kinds, .nkinds = 1, .np_tags = lg->nclients, .limit = 0};
	char err[256] = "out of memory";
	int rc = -1;

	lg->base = event_base_new();
	lg->clock = lg->base ? clock_new_libevent(lg->base) : NULL;
	lg->tick = lg->clock ? clock_timer_new(lg->clock, lg_on_tick, lg) : NULL;
	if (p == NULL || lg->tick == NULL)
		goto fail;
	for (size_t k = 0; k < lg->nclients; k++)
		p[k] = lg->clients[k].pub_hex;
	f.p_tags = p;
	cfg.base = lg->base, cfg.clock = lg->clock;
	if (relay_pool_new(&lg->pool, &cfg, &h, lg, err, sizeof(err)) != 0 ||
	    relay_pool_subscribe(lg->pool, "replies", &f, err, sizeof(err)) != 0)
		goto fail;
	for (size_t i = 0; i < lg->nrelays; i++)
		if (relay_pool_add(lg->pool, lg->relays[i], err, sizeof(err)) != 0)
			goto fail;
	for (size_t i = 0; i < 3; i++)
		if ((lg->signals[i] = evsignal_new(lg->base, sigs[i], lg_on_signal, lg)) == NULL ||
		    event_add(lg->signals[i], NULL) != 0)
			goto fail;
	lg->setup_us = lg_now_us();
	clock_timer_start(lg->tick, 0);
	rc = 0;
fail:
	if (rc != 0)
		fprintf(stderr, "loadgen: %s\n", err);
	free(p);
	return rc;
}

/* Print the report (and the lost ids); the exit status. */
static int lg_finish(struct loadgen *lg)
{
	struct lg_results r = {
		.reqs = lg->reqs,
		.nsent = lg->nsent,
		.nsegments = lg->segment + 1,
		.nclients = lg->nclients,
		.rate = lg->opt.rate,
		.send_s = lg->nsent ? (double)(lg->end_us - lg->t0_us) / 1e6 : 0,
		.lag_max_ms = lg->lag_max_ms,
		.cpu_s = lg_cpu_s(),
		.errors = lg->errors,
		.nerrors = lg->nerrors,
		.invalid = lg->invalid,
		.foreign = lg->foreign,
	};

	if (lg_report(stdout, &r) != 0) {
		fprintf(stderr, "loadgen: the report could not be written\n");
		return 1;
	}
	if (lg->opt.lost_file != NULL && lg_report_lost(lg->opt.lost_file, &r) != 0) {
		perror(lg->opt.lost_file);
		return 1;
	}
	return 0;
}

/* Release everything; client keys and secrets are wiped. */
static void lg_free(struct loadgen *lg)
{
	relay_pool_free(lg->pool);
	clock_timer_free(lg->tick);
	for (size_t i = 0; i < 3; i++)
		if (lg->signals[i] != NULL)
			event_free(lg->signals[i]);
	clock_free(lg->clock);
	if (lg->base != NULL)
		event_base_free(lg->base);
	for (size_t k = 0; k < lg->nclients; k++) {
		nostr_keypair_wipe(&lg->clients[k].kp);
		nip44_key_wipe(&lg->clients[k].ck);
		secret_wipe(&lg->clients[k].secret);
	}
	free(lg->clients);
	for (size_t i = 0; i < lg->nrelays; i++)
		free(lg->relays[i]);
	for (size_t i = 0; i < lg->nerrors; i++)
		free(lg->errors[i].text);
	free(lg->reqs);
}

/* Run the load; see the top of the file. */
int main(int argc, char **argv)
{
	static struct loadgen lg;
	uint8_t rnd[4];
	int rc = 1;

	if (lg_options_parse(&lg.opt, argc, argv) != 0)
		return 2;
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	lg.nreqs = (size_t)(lg.opt.count >= 0 ? lg.opt.count : lg.opt.rate * lg.opt.duration_s);
	lg.reqs = calloc(lg.nreqs ? lg.nreqs : 1, sizeof(*lg.reqs));
	if (lg.reqs == NULL || nostr_random(rnd, sizeof(rnd)) != 0)
		goto out;
	hex_encode(lg.prefix, rnd, sizeof(rnd));
	if (lg_clients_read(&lg) != 0 || lg_start(&lg) != 0)
		goto out;
	event_base_dispatch(lg.base);
	rc = lg.failed ? 1 : lg_finish(&lg);
out:
	lg_free(&lg);
	return rc;
}
