/*
 * db_cancel.c - query cancels from a detached thread, behind db_cancel.h.
 */
#include "db/db_cancel.h"

#include <pthread.h>
#include <signal.h>
#include <stddef.h>

static void *db_cancel_thread(void *arg);

/* Start a detached, all-signals-blocked thread that cancels pg's query. 0 or -1. */
int db_cancel_send(PGconn *pg)
{
	PGcancel *cn = PQgetCancel(pg);
	pthread_attr_t attr;
	sigset_t all, old;
	pthread_t t;
	int rc = -1;

	if (cn == NULL || pthread_attr_init(&attr) != 0)
		goto fail;
	sigfillset(&all);
	if (pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0 &&
	    pthread_sigmask(SIG_SETMASK, &all, &old) == 0) {
		rc = pthread_create(&t, &attr, db_cancel_thread, cn);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	}
	pthread_attr_destroy(&attr);
	if (rc == 0)
		return 0;
fail:
	PQfreeCancel(cn);
	return -1;
}

/* Cancel thread: deliver the cancel, free it (it owns cn), end. */
static void *db_cancel_thread(void *arg)
{
	PGcancel *cn = arg;
	char buf[256];

	(void)PQcancel(cn, buf, sizeof(buf));
	PQfreeCancel(cn);
	return NULL;
}
