/*
 * evlog.c - libevent's log callback behind evlog.h.
 */
#include "core/evlog.h"

#include "core/log.h"
#include "core/ratelimit.h"

#include <event2/event.h>
#include <pthread.h>
#include <time.h>

static void evlog_cb(int severity, const char *msg);
static int64_t evlog_now_ms(void);

static pthread_mutex_t evlog_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ratelimit evlog_rl; /* under evlog_mu */

/* Route libevent's log lines through log.h, rate-limited. */
void evlog_install(void)
{
	pthread_mutex_lock(&evlog_mu);
	ratelimit_init(&evlog_rl, EVLOG_BURST, EVLOG_WINDOW_MS);
	pthread_mutex_unlock(&evlog_mu);
	event_set_log_callback(evlog_cb);
}

/* Lines suppressed so far. */
uint64_t evlog_suppressed(void)
{
	uint64_t n;

	pthread_mutex_lock(&evlog_mu);
	n = evlog_rl.suppressed_total;
	pthread_mutex_unlock(&evlog_mu);
	return n;
}

/* CLOCK_MONOTONIC in ms: libevent may log from any thread, outside any loop's clock. */
static int64_t evlog_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libevent's callback: one JSON line per message that the limit lets pass. */
static void evlog_cb(int severity, const char *msg)
{
	enum log_level level = severity == EVENT_LOG_DEBUG  ? LOG_LEVEL_DEBUG
			       : severity == EVENT_LOG_MSG  ? LOG_LEVEL_INFO
			       : severity == EVENT_LOG_WARN ? LOG_LEVEL_WARN
							    : LOG_LEVEL_ERROR;
	uint64_t suppressed = 0;
	bool pass;

	pthread_mutex_lock(&evlog_mu);
	pass = ratelimit_allow(&evlog_rl, evlog_now_ms(), &suppressed);
	pthread_mutex_unlock(&evlog_mu);
	if (!pass)
		return;
	if (suppressed > 0)
		log_warn("libevent", "libevent messages suppressed",
			 log_uint("suppressed", suppressed), log_ms("window_ms", EVLOG_WINDOW_MS));
	log_at(level, "libevent", "libevent message", log_str("text", msg != NULL ? msg : ""));
}
