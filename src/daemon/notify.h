/*
 * notify.h - the systemd notification protocol (sd_notify(3)), spoken
 * when NOTIFY_SOCKET is set (a Type=notify service), without libsystemd.
 *
 * One datagram per message, "KEY=VALUE" lines, to the AF_UNIX socket
 * NOTIFY_SOCKET names (a path, or "@name" in the abstract namespace). The
 * daemon says READY=1 once it serves, STOPPING=1 at the first shutdown
 * signal, a STATUS= line as each phase of the shutdown plan starts, with
 * EXTEND_TIMEOUT_USEC covering that phase (its budget, the abort waits that
 * may follow it, a second signal's abort wait and a second of slack), so
 * systemd's stop timeout follows the plan, and STATUS= with the final line.
 * Sends never block (a full socket loses the message) and a failed one is
 * logged once at debug level: systemd is an observer, never a dependency.
 * Every function takes NULL (NOTIFY_SOCKET unset) and then does nothing.
 */
#ifndef KC_NOTIFY_H
#define KC_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct notify;
struct plan;

/* The slack added to each phase's EXTEND_TIMEOUT_USEC, ms. */
#define NOTIFY_SLACK_MS 1000

/*
 * Open the socket that name (NOTIFY_SOCKET's value) names. NULL when name
 * is NULL or empty, or unusable (logged at warning level: a relative path,
 * a name too long for sockaddr_un, no socket). Free it with notify_free().
 */
struct notify *notify_open(const char *name);

/* Send one message (its lines, "KEY=VALUE\n..."). 0, or -1 (logged once). */
int notify_send(struct notify *n, const char *msg);

/* READY=1, STATUS=serving, MAINPID: the daemon serves. */
void notify_ready(struct notify *n);

/* STOPPING=1 and STATUS= naming sig: the shutdown plan starts. */
void notify_stopping(struct notify *n, const char *sig);

/* STATUS= and EXTEND_TIMEOUT_USEC for phase i of p, which starts now. */
void notify_phase(struct notify *n, const struct plan *p, size_t i);

/* STATUS= with how the shutdown ended (warning: not every phase completed). */
void notify_done(struct notify *n, bool warning);

/* Close and free n. NULL is ignored. */
void notify_free(struct notify *n);

/*
 * The longest phase i of p can take from its start before the next
 * message: its budget (the margin for a margin phase), one abort_wait when
 * it aborts on timeout, one more for a second signal's escalation, and
 * NOTIFY_SLACK_MS. Saturating.
 */
int64_t notify_phase_extend_ms(const struct plan *p, size_t i);

#endif /* KC_NOTIFY_H */
