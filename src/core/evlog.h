/*
 * evlog.h - libevent's own log lines, through keycastd's logger.
 *
 * libevent writes its warnings ("Error from accept() call: Too many open
 * files", a failed bufferevent, a DNS error) to stderr as plain text, and
 * an accept loop that keeps failing writes one per turn of the loop.
 * evlog_install() routes every one of them through log.h instead: one
 * line "libevent message" (component "libevent") with its text, at the
 * matching level, rate-limited (EVLOG_BURST lines per EVLOG_WINDOW_MS; the
 * next line that passes carries how many were suppressed).
 */
#ifndef KC_EVLOG_H
#define KC_EVLOG_H

#include <stdint.h>

/* Lines passed per window, and the window. */
#define EVLOG_BURST	20
#define EVLOG_WINDOW_MS 10000

/* Route libevent's log through log.h from now on (process-wide; call once, early). */
void evlog_install(void);

/* libevent lines suppressed by the rate limit since evlog_install(). */
uint64_t evlog_suppressed(void);

#endif /* KC_EVLOG_H */
