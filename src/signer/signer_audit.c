/*
 * signer_audit.c - a bounded queue of audit entries, written in batches.
 */
#include "signer/signer_audit.h"

#include "core/clock.h"
#include "core/log.h"
#include "db/db_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One queued entry, with its own copies of the strings. */
struct signer_audit_row {
	int64_t authz_id;
	int kind;
	char key_pubkey[65];
	char client_pubkey[65];
	char method[33];
	char event_id[65];
	char outcome[16];
	char detail[200];
};

/* A batch being written: it outlives the writer if the writer is freed meanwhile. */
struct signer_audit_batch {
	struct signer_audit *owner; /* NULL once the writer is gone */
	size_t n;
	struct signer_audit_row rows[];
};

struct signer_audit {
	struct db_store *store;
	struct clock_timer *timer;
	struct signer_audit_row *queue; /* ring of SIGNER_AUDIT_QUEUE_MAX */
	size_t head, count;
	struct signer_audit_batch *writing;
	uint64_t written, failed, dropped, dropped_logged;
	bool failing; /* the last batch failed (logged once per streak) */
	void (*idle_fn)(void *arg);
	void *idle_arg;
};

static void signer_audit_on_timer(void *arg);
static void signer_audit_on_written(void *arg, int result, const char *error);
static void signer_audit_copy(char *dst, size_t len, const char *src);
static void signer_audit_check_idle(struct signer_audit *a);
static struct db_audit_entry signer_audit_entry(const struct signer_audit_row *r);
static struct signer_audit_batch *signer_audit_take(struct signer_audit *a);
static void signer_audit_count(struct signer_audit *a, size_t n, int result, const char *error);

/* An audit writer on store and clk. */
struct signer_audit *signer_audit_new(struct db_store *store, struct clock *clk)
{
	struct signer_audit *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->store = store;
	a->queue = calloc(SIGNER_AUDIT_QUEUE_MAX, sizeof(*a->queue));
	a->timer = clock_timer_new(clk, signer_audit_on_timer, a);
	if (a->queue == NULL || a->timer == NULL) {
		signer_audit_free(a);
		return NULL;
	}
	return a;
}

/* Free the writer; a batch in flight frees itself. */
void signer_audit_free(struct signer_audit *a)
{
	if (a == NULL)
		return;
	if (a->count > 0)
		log_warn("signer", "audit entries not written at exit",
			 log_uint("entries", a->count));
	if (a->writing != NULL)
		a->writing->owner = NULL;
	clock_timer_free(a->timer);
	free(a->queue);
	free(a);
}

/* Copy a string, cut to fit; NULL becomes "". */
static void signer_audit_copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

/* Queue a copy of e. */
void signer_audit_add(struct signer_audit *a, const struct db_audit_entry *e)
{
	struct signer_audit_row *r;

	if (a->count == SIGNER_AUDIT_QUEUE_MAX) {
		a->dropped++;
		return;
	}
	r = &a->queue[(a->head + a->count++) % SIGNER_AUDIT_QUEUE_MAX];
	r->authz_id = e->authorization_id;
	r->kind = e->event_kind;
	signer_audit_copy(r->key_pubkey, sizeof(r->key_pubkey), e->key_pubkey);
	signer_audit_copy(r->client_pubkey, sizeof(r->client_pubkey), e->client_pubkey);
	signer_audit_copy(r->method, sizeof(r->method), e->method);
	signer_audit_copy(r->event_id, sizeof(r->event_id), e->event_id);
	signer_audit_copy(r->outcome, sizeof(r->outcome), e->outcome);
	signer_audit_copy(r->detail, sizeof(r->detail), e->detail);
	if (a->count >= DB_AUDIT_BATCH_MAX)
		signer_audit_flush(a);
	else if (!clock_timer_pending(a->timer))
		clock_timer_start(a->timer, SIGNER_AUDIT_FLUSH_MS);
}

/* The flush timer. */
static void signer_audit_on_timer(void *arg)
{
	signer_audit_flush(arg);
}

/* The store entry of queued row r. */
static struct db_audit_entry signer_audit_entry(const struct signer_audit_row *r)
{
	return (struct db_audit_entry){
		.authorization_id = r->authz_id,
		.key_pubkey = r->key_pubkey,
		.client_pubkey = r->client_pubkey[0] ? r->client_pubkey : NULL,
		.method = r->method,
		.event_kind = r->kind,
		.event_id = r->event_id[0] ? r->event_id : NULL,
		.outcome = r->outcome,
		.detail = r->detail[0] ? r->detail : NULL,
	};
}

/* Move up to one batch of queued rows into a new batch; NULL on ENOMEM. */
static struct signer_audit_batch *signer_audit_take(struct signer_audit *a)
{
	size_t n = a->count < DB_AUDIT_BATCH_MAX ? a->count : DB_AUDIT_BATCH_MAX;
	struct signer_audit_batch *b = malloc(sizeof(*b) + n * sizeof(b->rows[0]));

	if (b == NULL)
		return NULL;
	b->owner = a;
	b->n = n;
	for (size_t i = 0; i < n; i++)
		b->rows[i] = a->queue[(a->head + i) % SIGNER_AUDIT_QUEUE_MAX];
	a->head = (a->head + n) % SIGNER_AUDIT_QUEUE_MAX;
	a->count -= n;
	if (a->count == 0)
		a->head = 0; /* start over: only the ring's first pages are ever touched */
	return b;
}

/* Hand batches to the store until one is accepted (one in flight at a time). */
void signer_audit_flush(struct signer_audit *a)
{
	clock_timer_stop(a->timer);
	while (a->writing == NULL && a->count > 0) {
		struct db_audit_entry e[DB_AUDIT_BATCH_MAX];
		struct signer_audit_batch *b = signer_audit_take(a);

		if (b == NULL)
			return; /* out of memory: the timer or the next entry tries again */
		for (size_t i = 0; i < b->n; i++)
			e[i] = signer_audit_entry(&b->rows[i]);
		if (db_store_audit_batch(a->store, e, b->n, signer_audit_on_written, b) == 0) {
			a->writing = b;
			return;
		}
		signer_audit_count(a, b->n, -1, "database pool closed or full");
		free(b);
	}
}

/* Count a batch's outcome; say once when writing starts failing and when it recovers. */
static void signer_audit_count(struct signer_audit *a, size_t n, int result, const char *error)
{
	if (result >= 0) {
		a->written += n;
		if (a->failing)
			log_info("signer", "audit entries written again");
		a->failing = false;
	} else {
		a->failed += n;
		if (!a->failing)
			log_warn("signer", "audit entries not written (said once until they are)",
				 log_uint("entries", n),
				 log_str("error", error ? error : "unknown"));
		a->failing = true;
	}
	if (a->dropped > a->dropped_logged) {
		log_warn("signer", "audit queue full: entries dropped",
			 log_uint("dropped", a->dropped - a->dropped_logged));
		a->dropped_logged = a->dropped;
	}
}

/* A batch was written (or failed); go on with the next. */
static void signer_audit_on_written(void *arg, int result, const char *error)
{
	struct signer_audit_batch *b = arg;
	struct signer_audit *a = b->owner;
	size_t n = b->n;

	free(b);
	if (a == NULL)
		return;
	a->writing = NULL;
	signer_audit_count(a, n, result, error);
	if (a->count >= DB_AUDIT_BATCH_MAX || (a->count > 0 && a->idle_fn != NULL))
		signer_audit_flush(a);
	else if (a->count > 0)
		clock_timer_start(a->timer, SIGNER_AUDIT_FLUSH_MS);
	signer_audit_check_idle(a);
}

/* Call the idle callback once nothing is queued or being written. */
static void signer_audit_check_idle(struct signer_audit *a)
{
	void (*fn)(void *) = a->idle_fn;

	if (fn == NULL || !signer_audit_idle(a))
		return;
	a->idle_fn = NULL;
	fn(a->idle_arg);
}

/* Whether nothing is queued or being written. */
bool signer_audit_idle(const struct signer_audit *a)
{
	return a->count == 0 && a->writing == NULL;
}

/* Call fn(arg) once the writer is idle. */
void signer_audit_on_idle(struct signer_audit *a, void (*fn)(void *arg), void *arg)
{
	a->idle_fn = fn;
	a->idle_arg = arg;
	signer_audit_flush(a);
	signer_audit_check_idle(a);
}

/* Entries written, failed and dropped. */
void signer_audit_stats(const struct signer_audit *a, uint64_t *written, uint64_t *failed,
			uint64_t *dropped)
{
	*written = a->written;
	*failed = a->failed;
	*dropped = a->dropped;
}
