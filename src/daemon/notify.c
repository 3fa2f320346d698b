/*
 * notify.c - sd_notify(3) messages on NOTIFY_SOCKET (see notify.h).
 */
#include "daemon/notify.h"

#include "core/log.h"
#include "plan/plan.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* The socket and where it sends. */
struct notify {
	int fd;
	struct sockaddr_un addr;
	socklen_t addrlen;
	bool failed; /* a send has failed (logged once) */
};

static int notify_addr(struct notify *n, const char *name);

/* Fill n's address from name ("/path" or "@abstract"). 0, or -1 if unusable. */
static int notify_addr(struct notify *n, const char *name)
{
	size_t len = strlen(name);

	if ((name[0] != '/' && name[0] != '@') || len >= sizeof(n->addr.sun_path))
		return -1;
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, name, len);
	if (name[0] == '@')
		n->addr.sun_path[0] = '\0'; /* the abstract namespace: no trailing NUL counted */
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (name[0] == '/'));
	return 0;
}

/* Open the socket name names. */
struct notify *notify_open(const char *name)
{
	struct notify *n;

	if (name == NULL || name[0] == '\0')
		return NULL;
	n = calloc(1, sizeof(*n));
	if (n == NULL)
		goto fail;
	n->fd = -1;
	if (notify_addr(n, name) != 0) {
		log_warn("daemon",
			 "NOTIFY_SOCKET is not an absolute path or @name that fits a socket "
			 "address; systemd will not be notified",
			 log_str("notify_socket", name));
		goto fail;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		log_warn("daemon",
			 "cannot open a socket for NOTIFY_SOCKET; systemd will not be notified",
			 log_str("error", strerror(errno)));
		goto fail;
	}
	return n;
fail:
	notify_free(n);
	return NULL;
}

/* Send one message. */
int notify_send(struct notify *n, const char *msg)
{
	ssize_t w;

	if (n == NULL)
		return 0;
	w = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL, (const struct sockaddr *)&n->addr,
		   n->addrlen);
	if (w == (ssize_t)strlen(msg))
		return 0;
	if (!n->failed)
		log_debug("daemon", "systemd notification not sent",
			  log_str("error", w < 0 ? strerror(errno) : "short write"));
	n->failed = true;
	return -1;
}

/* READY=1: the daemon serves. */
void notify_ready(struct notify *n)
{
	char msg[128];

	if (n == NULL)
		return;
	snprintf(msg, sizeof(msg), "READY=1\nSTATUS=serving\nMAINPID=%ld\n", (long)getpid());
	(void)notify_send(n, msg);
}

/* STOPPING=1: the shutdown plan starts. */
void notify_stopping(struct notify *n, const char *sig)
{
	char msg[160];

	if (n == NULL)
		return;
	snprintf(msg, sizeof(msg),
		 "STOPPING=1\nSTATUS=shutting down (%s): running the shutdown plan\n", sig);
	(void)notify_send(n, msg);
}

/* The longest phase i may take before the next message. */
int64_t notify_phase_extend_ms(const struct plan *p, size_t i)
{
	int64_t ms = plan_add_ms(plan_phase_budget_ms(p, i), p->abort_wait_ms);

	if (p->phases[i].on_timeout == PLAN_TIMEOUT_ABORT)
		ms = plan_add_ms(ms, p->abort_wait_ms);
	return plan_add_ms(ms, NOTIFY_SLACK_MS);
}

/* STATUS= and EXTEND_TIMEOUT_USEC for phase i, which starts now. */
void notify_phase(struct notify *n, const struct plan *p, size_t i)
{
	char msg[384], b[32];
	int64_t ext;

	if (n == NULL || i >= p->nphases)
		return;
	ext = notify_phase_extend_ms(p, i);
	/* EXTEND first: a name too long to fit cuts the STATUS text, never the number. */
	snprintf(msg, sizeof(msg),
		 "EXTEND_TIMEOUT_USEC=%" PRId64 "\n"
		 "STATUS=shutting down: phase %zu/%zu %.200s (budget %s, on timeout %s)\n",
		 ext < INT64_MAX / 1000 ? ext * 1000 : INT64_MAX, i + 1, p->nphases,
		 p->phases[i].name, plan_duration_format(b, sizeof(b), plan_phase_budget_ms(p, i)),
		 plan_timeout_name(p->phases[i].on_timeout));
	(void)notify_send(n, msg);
}

/* STATUS= with how the shutdown ended. */
void notify_done(struct notify *n, bool warning)
{
	(void)notify_send(n, warning ? "STATUS=shutdown complete with warning (see the log)\n"
				     : "STATUS=shutdown complete\n");
}

/* Close and free n. */
void notify_free(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}
