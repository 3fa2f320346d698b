/*
 * http_bench.c - requests per second of /healthz/ready, measured by wrk.
 *
 * Starts the HTTP server on 127.0.0.1 (ephemeral port) in this process,
 * runs `wrk` against /healthz/ready as a child with its output on a pipe
 * watched by the same event loop, prints wrk's report and a one-line
 * summary, and exits when wrk does. Without wrk it says so and exits 0.
 * Settings: KC_BENCH_SECS (default 3), KC_BENCH_CONNS (default 16).
 */
#include "core/clock.h"
#include "core/log.h"
#include "http/http_server.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The bench's state: loop, server, wrk's pipe and what it printed. */
struct bench {
	struct event_base *base;
	struct event *pipe_ev;
	char out[8192];
	size_t len;
};

static pid_t bench_spawn_wrk(int port, int *fd_out);
static void bench_read(evutil_socket_t fd, short what, void *arg);
static void bench_summary(const char *out);

/* Read wrk's output until EOF, then stop the loop. */
static void bench_read(evutil_socket_t fd, short what, void *arg)
{
	struct bench *b = arg;
	ssize_t n = read(fd, b->out + b->len, sizeof(b->out) - 1 - b->len);

	(void)what;
	if (n > 0) {
		b->len += (size_t)n;
		b->out[b->len] = '\0';
		if (b->len < sizeof(b->out) - 1)
			return;
	}
	event_base_loopbreak(b->base);
}

/* Start wrk on port with stdout and stderr on a pipe; its pid, or -1. */
static pid_t bench_spawn_wrk(int port, int *fd_out)
{
	const char *secs = getenv("KC_BENCH_SECS"), *conns = getenv("KC_BENCH_CONNS");
	char url[64], dur[32], con[32];
	int p[2];
	pid_t pid;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/healthz/ready", port);
	snprintf(dur, sizeof(dur), "%ss", secs != NULL ? secs : "3");
	snprintf(con, sizeof(con), "%s", conns != NULL ? conns : "16");
	if (pipe(p) < 0 || (pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		close(p[0]);
		close(p[1]);
		execlp("wrk", "wrk", "-t1", "-c", con, "-d", dur, "--latency", url, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	*fd_out = p[0];
	return pid;
}

/* Print wrk's "Requests/sec" as the headline figure. */
static void bench_summary(const char *out)
{
	const char *rps = strstr(out, "Requests/sec:");
	double v;

	if (rps != NULL && sscanf(rps, "Requests/sec: %lf", &v) == 1)
		printf("http_bench: GET /healthz/ready %.0f requests/s (wrk)\n", v);
	else
		printf("http_bench: no figure from wrk\n");
}

/* Run the server and wrk against it. */
int main(void)
{
	struct bench b = {0};
	struct http_server_config cfg = http_server_config_default();
	struct http_server *srv = NULL;
	struct clock *clk;
	char err[256];
	int fd = -1, status = 0;
	pid_t pid;

	if (system("command -v wrk >/dev/null 2>&1") != 0) {
		printf("http_bench: wrk not installed (apt-get install wrk); skipped\n");
		return 0;
	}
	log_configure(LOG_LEVEL_WARN, LOG_FORMAT_TEXT);
	b.base = event_base_new();
	clk = clock_new_libevent(b.base);
	cfg.listen_addr = "127.0.0.1";
	cfg.port = 0;
	if (http_server_new(&srv, b.base, clk, &cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "http_bench: %s\n", err);
		return 1;
	}
	http_server_set_started(srv, true);
	pid = bench_spawn_wrk(http_server_port(srv), &fd);
	if (pid > 0) {
		b.pipe_ev = event_new(b.base, fd, EV_READ | EV_PERSIST, bench_read, &b);
		event_add(b.pipe_ev, NULL);
		event_base_dispatch(b.base);
		event_free(b.pipe_ev);
		close(fd);
		waitpid(pid, &status, 0);
		fputs(b.out, stdout);
		bench_summary(b.out);
	}
	http_server_free(srv);
	clock_free(clk);
	event_base_free(b.base);
	return pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
