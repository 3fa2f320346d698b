/*
 * relay_bench.c - events per second through one relay connection.
 *
 * Starts the test relay (tests/peers/relay.mjs, needs node and the npm
 * peers from scripts/setup.sh; $NODE or `node` from PATH), then through a
 * single WebSocket: publishes N pre-signed events pipelined and waits for
 * every OK (publish figure), and subscribes to them and receives them all
 * up to EOSE, each parsed and verified (receive figure). Also prints the
 * in-memory floor: relay message parse + event verify, no network.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "core/clock.h"
#include "core/log.h"
#include "nostr/event.h"
#include "nostr/hex.h"
#include "nostr/keys.h"
#include "relay/relay_msg.h"
#include "relay/relay_pool.h"

#define N_EVENTS 2000

/* The bench's state. */
struct bench {
	struct event_base *base;
	struct clock *clk;
	struct relay_pool *pool;
	struct nostr_keypair kp;
	char pub_hex[65];
	char *json[N_EVENTS];
	char id[N_EVENTS][65];
	int oks, received, eose, phase;
	double t0;
};

/* Seconds on the monotonic clock. */
static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds this process (not the relay) has used. */
static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
	       ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

/* Start the relay; its URL into url. Returns the pid, or -1. */
static pid_t start_relay(char *url, size_t len)
{
	int fd[2];
	const char *node = getenv("NODE") && *getenv("NODE") ? getenv("NODE") : "node";
	if (pipe(fd) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		execlp(node, node, KC_SRCDIR "/tests/peers/relay.mjs", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	FILE *f = fdopen(fd[0], "r");
	if (!f || !fgets(url, (int)len, f)) {
		if (f)
			fclose(f);
		kill(pid, SIGTERM);
		waitpid(pid, NULL, 0);
		return -1;
	}
	url[strcspn(url, "\n")] = '\0';
	fclose(f);
	return pid;
}

/* Sign N kind-1 events with distinct content. */
static int sign_all(struct bench *b)
{
	char err[128], content[64];
	for (int i = 0; i < N_EVENTS; i++) {
		struct nostr_event ev;
		size_t len;
		nostr_event_init(&ev);
		ev.kind = 1;
		ev.created_at = (int64_t)time(NULL);
		ev.has_created_at = 1;
		int n = snprintf(content, sizeof(content), "bench event %d", i);
		int rc = nostr_event_set_content(&ev, content, (size_t)n) ||
			 nostr_event_sign(&ev, &b->kp, err, sizeof(err)) ||
			 nostr_event_to_json(&b->json[i], &len, &ev);
		hex_encode(b->id[i], ev.id, 32);
		nostr_event_clear(&ev);
		if (rc)
			return -1;
	}
	return 0;
}

/* In-memory floor: parse the relay message and verify the event. */
static void bench_floor(struct bench *b)
{
	double t0 = now_s();
	int ok = 0;
	for (int i = 0; i < N_EVENTS; i++) {
		size_t n = strlen(b->json[i]) + 32;
		char *msg = malloc(n);
		if (msg && snprintf(msg, n, "[\"EVENT\",\"bench\",%s]", b->json[i]) >= (int)n) {
			free(msg);
			msg = NULL;
		}
		struct relay_msg m;
		struct nostr_event ev;
		char err[128];
		if (msg && relay_msg_parse(&m, msg, strlen(msg), err, sizeof(err)) == 0 &&
		    nostr_event_parse(&ev, m.event, m.event_len, NOSTR_EVENT_SIGNED, NULL, err,
				      sizeof(err)) == 0) {
			ok += nostr_event_verify(&ev, err, sizeof(err)) == 0;
			nostr_event_clear(&ev);
		}
		free(msg);
	}
	double dt = now_s() - t0;
	printf("relay: parse+verify floor (no network): %d events in %.3f s = %.0f events/s\n", ok,
	       dt, ok / dt);
}

/* A verified event came back. */
static void on_event(void *arg, const char *sub, const struct nostr_event *ev, const char *json,
		     size_t len, const char *url)
{
	struct bench *b = arg;
	b->received++;
}

/* End of stored events. */
static void on_eose(void *arg, const char *sub, const char *url)
{
	struct bench *b = arg;
	b->eose = 1;
	event_base_loopexit(b->base, NULL);
}

/* One OK. */
static void on_done(void *arg, const struct relay_pub_report *r)
{
	struct bench *b = arg;
	if (r->accepted && ++b->oks == N_EVENTS)
		event_base_loopexit(b->base, NULL);
}

/* Once connected: publish everything (phase 0). */
static void on_state(void *arg, const char *url, enum relay_state s)
{
	static const struct relay_pub_handlers h = {.on_done = on_done};
	struct bench *b = arg;
	if (s != RELAY_CONNECTED || b->phase != 0)
		return;
	b->phase = 1;
	b->t0 = now_s();
	for (int i = 0; i < N_EVENTS; i++)
		if (relay_pool_publish(b->pool, b->json[i], strlen(b->json[i]), b->id[i], &h, b) !=
		    0)
			event_base_loopexit(b->base, NULL);
}

static const struct relay_pool_handlers handlers = {
	.on_event = on_event, .on_eose = on_eose, .on_state = on_state};

/* The two network phases. */
static int bench_network(struct bench *b, const char *url)
{
	char err[256];
	struct relay_pool_config cfg = {
		.base = b->base, .clock = b->clk, .publish_timeout_ms = 60000};
	if (relay_pool_new(&b->pool, &cfg, &handlers, b, err, sizeof(err)) != 0 ||
	    relay_pool_add(b->pool, url, err, sizeof(err)) != 0) {
		fprintf(stderr, "relay_bench: %s\n", err);
		return -1;
	}
	double c0 = cpu_s();
	event_base_dispatch(b->base);
	double dt = now_s() - b->t0;
	printf("relay: publish + OK through one connection: %d events in %.3f s = %.0f events/s "
	       "(CPU in this client %.3f s)\n",
	       b->oks, dt, b->oks / dt, cpu_s() - c0);
	const char *authors[] = {b->pub_hex};
	int kinds[] = {1};
	struct relay_filter f = {
		.kinds = kinds, .nkinds = 1, .authors = authors, .nauthors = 1, .limit = N_EVENTS};
	b->t0 = now_s();
	if (relay_pool_subscribe(b->pool, "bench", &f, err, sizeof(err)) != 0) {
		fprintf(stderr, "relay_bench: %s\n", err);
		return -1;
	}
	event_base_dispatch(b->base);
	dt = now_s() - b->t0;
	printf("relay: receive + verify through one connection: %d events in %.3f s = %.0f "
	       "events/s\n",
	       b->received, dt, b->received / dt);
	return b->oks == N_EVENTS && b->received == N_EVENTS ? 0 : -1;
}

/* Run the bench. */
int main(void)
{
	static struct bench b;
	char url[256];
	int rc = 1;
	log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	if (nostr_keypair_generate(&b.kp) != 0 || sign_all(&b) != 0)
		return 1;
	nostr_pubkey_to_hex(b.pub_hex, &b.kp.pub);
	bench_floor(&b);
	pid_t pid = start_relay(url, sizeof(url));
	if (pid < 0) {
		printf("relay: network figures skipped: cannot start the test relay "
		       "(node + tests/peers: run scripts/setup.sh)\n");
		rc = 0;
		goto out;
	}
	b.base = event_base_new();
	b.clk = clock_new_libevent(b.base);
	rc = bench_network(&b, url) == 0 ? 0 : 1;
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	relay_pool_free(b.pool);
	clock_free(b.clk);
	event_base_free(b.base);
out:
	for (int i = 0; i < N_EVENTS; i++)
		free(b.json[i]);
	nostr_keypair_wipe(&b.kp);
	return rc;
}
