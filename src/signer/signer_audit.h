/*
 * signer_audit.h - the audit log, written off the reply's path.
 *
 * signer_audit_add() copies an entry into a bounded queue and returns at
 * once; the queue is written in batches of up to DB_AUDIT_BATCH_MAX rows,
 * one statement each and one at a time, as soon as a batch is full or
 * SIGNER_AUDIT_FLUSH_MS after the first queued entry. A slow or
 * unavailable database therefore never delays a reply: at worst the queue
 * fills, and entries beyond its capacity are dropped and counted (a
 * warning says how many).
 */
#ifndef KC_SIGNER_AUDIT_H
#define KC_SIGNER_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct clock;
struct db_audit_entry;
struct db_store;
struct signer_audit;

/* How long an entry may wait for its batch to fill. */
#define SIGNER_AUDIT_FLUSH_MS 200
/* Entries queued at most; more are dropped and counted. */
#define SIGNER_AUDIT_QUEUE_MAX 8192

/* An audit writer on store and clk (both borrowed); NULL on ENOMEM. */
struct signer_audit *signer_audit_new(struct db_store *store, struct clock *clk);

/*
 * Free the writer. Queued entries are lost; a batch still being written
 * finishes (or fails) on its own and frees itself. NULL is ignored.
 */
void signer_audit_free(struct signer_audit *a);

/* Queue a copy of e (strings are copied; long ones are cut). */
void signer_audit_add(struct signer_audit *a, const struct db_audit_entry *e);

/* Write what is queued now, without waiting for the timer. */
void signer_audit_flush(struct signer_audit *a);

/* Whether nothing is queued or being written. */
bool signer_audit_idle(const struct signer_audit *a);

/* Call fn(arg) once the writer is idle (next flush completion), replacing any earlier one. */
void signer_audit_on_idle(struct signer_audit *a, void (*fn)(void *arg), void *arg);

/* Entries written, failed to be written, and dropped for want of room. */
void signer_audit_stats(const struct signer_audit *a, uint64_t *written, uint64_t *failed,
			uint64_t *dropped);

#endif /* KC_SIGNER_AUDIT_H */
