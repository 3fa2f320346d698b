/*
 * relay_pool_subs.c - the relay pool's subscriptions: described once,
 * checked against what relays accept, kept on every relay, replaced in
 * place, closed. Shares relay_pool_int.h with relay_pool.c (publishes,
 * shutdown) and relay_conn.c (one connection).
 */
#include "relay/relay_pool.h"

#include "core/log.h"
#include "relay/relay_msg.h"
#include "relay/relay_pool_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void relay_pool_sub_swap(struct relay_sub *a, struct relay_sub *b);
static struct relay_sub *relay_pool_sub_find(struct relay_pool *p, const char *name);
static void relay_pool_send_close(struct relay_pool *p, const struct relay_sub *s);
static int relay_pool_sub_copy(struct relay_sub *s, const struct relay_filter *f);
static char **relay_pool_strv_dup(const char *const *v, size_t n);
static bool relay_pool_name_ok(const char *name);
static size_t relay_pool_chunks(const struct relay_pool *p, const struct relay_filter *f);
static int relay_pool_check_room(const struct relay_pool *p, const char *name, size_t reqs,
				 char *err, size_t errlen);
static int relay_pool_check_name(const struct relay_pool *p, const char *name, size_t *chunks,
				 char *err, size_t errlen);
static int relay_pool_check_filter(const struct relay_pool *p, const char *name,
				   const struct relay_filter *f, char *err, size_t errlen);

/* Unlink and free the subscriptions marked gone (only with no pool frame on the stack). */
void relay_pool_sweep_subs(struct relay_pool *p)
{
	struct relay_sub **pp = &p->subs;

	while (*pp != NULL) {
		struct relay_sub *s = *pp;

		if (!s->gone) {
			pp = &s->next;
			continue;
		}
		*pp = s->next;
		relay_pool_sub_free(s);
	}
}

/* Whether a subscription name is short and of [A-Za-z0-9_-]. */
static bool relay_pool_name_ok(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > RELAY_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '-' && name[i] != '_')
			return false;
	return true;
}

/* A copy of n strings; NULL on ENOMEM (or n == 0). */
static char **relay_pool_strv_dup(const char *const *v, size_t n)
{
	char **out;

	if (n == 0)
		return NULL;
	out = calloc(n, sizeof(*out));
	for (size_t i = 0; out && i < n; i++) {
		out[i] = strdup(v[i]);
		if (out[i] == NULL) {
			for (size_t j = 0; j < i; j++)
				free(out[j]);
			free(out);
			return NULL;
		}
	}
	return out;
}

/* Copy a filter's arrays into s; 0 or -1. */
static int relay_pool_sub_copy(struct relay_sub *s, const struct relay_filter *f)
{
	if (f->nkinds) {
		s->kinds = malloc(f->nkinds * sizeof(int));
		if (s->kinds == NULL)
			return -1;
		memcpy(s->kinds, f->kinds, f->nkinds * sizeof(int));
		s->nkinds = f->nkinds;
	}
	s->authors = relay_pool_strv_dup(f->authors, f->nauthors);
	s->nauthors = s->authors ? f->nauthors : 0;
	s->p_tags = relay_pool_strv_dup(f->p_tags, f->np_tags);
	s->np_tags = s->p_tags ? f->np_tags : 0;
	s->since = f->since;
	s->limit = f->limit;
	return (s->nauthors == f->nauthors && s->np_tags == f->np_tags) ? 0 : -1;
}

/* Exchange the filters (not the names or links) of two subscriptions. */
static void relay_pool_sub_swap(struct relay_sub *a, struct relay_sub *b)
{
	struct relay_sub t = *a;

	a->kinds = b->kinds, a->nkinds = b->nkinds;
	a->authors = b->authors, a->nauthors = b->nauthors;
	a->p_tags = b->p_tags, a->np_tags = b->np_tags;
	a->since = b->since, a->limit = b->limit;
	b->kinds = t.kinds, b->nkinds = t.nkinds;
	b->authors = t.authors, b->nauthors = t.nauthors;
	b->p_tags = t.p_tags, b->np_tags = t.np_tags;
}

/* Free a subscription. */
void relay_pool_sub_free(struct relay_sub *s)
{
	for (size_t i = 0; i < s->nauthors; i++)
		free(s->authors[i]);
	for (size_t i = 0; i < s->np_tags; i++)
		free(s->p_tags[i]);
	free(s->authors);
	free(s->p_tags);
	free(s->kinds);
	free(s);
}

/* The sub id of chunk k of s. */
void relay_pool_sub_id(const struct relay_sub *s, size_t k, char *buf, size_t len)
{
	if (s->nchunks <= 1)
		snprintf(buf, len, "%s", s->name);
	else
		snprintf(buf, len, "%s.%zu", s->name, k);
}

/* Check the name is valid and unused; the REQs the other subscriptions take in *chunks. */
static int relay_pool_check_name(const struct relay_pool *p, const char *name, size_t *chunks,
				 char *err, size_t errlen)
{
	*chunks = 0;
	if (p->closing) {
		snprintf(err, errlen, "subscription %.40s: the pool is closing", name);
		return -1;
	}
	if (!relay_pool_name_ok(name)) {
		snprintf(err, errlen,
			 "subscription name \"%.40s\": use 1 to %d letters, digits, '-' or '_'",
			 name, RELAY_NAME_MAX);
		return -1;
	}
	for (const struct relay_sub *s = p->subs; s; s = s->next) {
		if (s->gone)
			continue;
		if (strcmp(s->name, name) == 0) {
			snprintf(err, errlen, "subscription %s exists already", name);
			return -1;
		}
		*chunks += s->nchunks;
	}
	return 0;
}

/*
 * Check a filter against what relays accept (their validators refuse a REQ
 * past these limits): authors and kinds are not split, so more than the
 * limit is refused here rather than sent and rejected; #p is split.
 */
static int relay_pool_check_filter(const struct relay_pool *p, const char *name,
				   const struct relay_filter *f, char *err, size_t errlen)
{
	if (f->nauthors > p->cfg.max_authors_per_filter) {
		snprintf(err, errlen,
			 "subscription %s: %zu authors, more than the %zu a relay accepts", name,
			 f->nauthors, p->cfg.max_authors_per_filter);
		return -1;
	}
	if (f->nkinds > p->cfg.max_kinds_per_filter) {
		snprintf(err, errlen,
			 "subscription %s: %zu kinds, more than the %zu a relay accepts", name,
			 f->nkinds, p->cfg.max_kinds_per_filter);
		return -1;
	}
	for (size_t i = 0; i < f->nauthors; i++) {
		if (strlen(f->authors[i]) != 64 ||
		    strspn(f->authors[i], "0123456789abcdef") != 64) {
			snprintf(err, errlen,
				 "subscription %s: author %zu is not 64 lower-case hex", name,
				 i + 1);
			return -1;
		}
	}
	for (size_t i = 0; i < f->nkinds; i++) {
		if (f->kinds[i] < 0) {
			snprintf(err, errlen, "subscription %s: kind %d is negative", name,
				 f->kinds[i]);
			return -1;
		}
	}
	return 0;
}

/* The REQs per relay a filter takes: its #p values split by max_p_per_filter. */
static size_t relay_pool_chunks(const struct relay_pool *p, const struct relay_filter *f)
{
	size_t per = p->cfg.max_p_per_filter;

	return f->np_tags == 0 ? 1 : (f->np_tags + per - 1) / per;
}

/* Check that reqs REQs per relay fit what a relay keeps; 0, or -1 with a message. */
static int relay_pool_check_room(const struct relay_pool *p, const char *name, size_t reqs,
				 char *err, size_t errlen)
{
	if (reqs <= p->cfg.max_subs_per_relay)
		return 0;
	snprintf(err, errlen,
		 "subscription %s: %zu REQs per relay with the others, more than the %zu a relay "
		 "keeps",
		 name, reqs, p->cfg.max_subs_per_relay);
	return -1;
}

/* Describe a subscription once; it is kept on every relay. */
int relay_pool_subscribe(struct relay_pool *p, const char *name, const struct relay_filter *f,
			 char *err, size_t errlen)
{
	size_t total, chunks = relay_pool_chunks(p, f);
	struct relay_sub *s = NULL;

	if (relay_pool_check_name(p, name, &total, err, errlen) != 0 ||
	    relay_pool_check_filter(p, name, f, err, errlen) != 0)
		return -1;
	if (relay_pool_check_room(p, name, total + chunks, err, errlen) != 0)
		return -1;
	s = calloc(1, sizeof(*s));
	if (s == NULL || relay_pool_sub_copy(s, f) != 0) {
		snprintf(err, errlen, "subscription %s: out of memory", name);
		goto fail;
	}
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->nchunks = chunks;
	s->next = p->subs;
	p->subs = s;
	relay_pool_enter(p); /* a failed send reports a lost relay */
	for (size_t i = 0; i < p->nconns && p->subscribing && !s->gone; i++)
		if (p->conns[i]->state == RELAY_CONNECTED)
			relay_conn_send_sub(p->conns[i], s);
	relay_pool_leave(p);
	return 0;
fail:
	if (s != NULL)
		relay_pool_sub_free(s);
	return -1;
}

/* The live subscription called name, or NULL. */
static struct relay_sub *relay_pool_sub_find(struct relay_pool *p, const char *name)
{
	for (struct relay_sub *s = p->subs; s != NULL; s = s->next)
		if (!s->gone && strcmp(s->name, name) == 0)
			return s;
	return NULL;
}

/*
 * Swap the filter of s for a copy of f in place and send its REQs again.
 * With the same number of chunks the REQs reuse their ids, so each relay
 * replaces the subscription (NIP-01) without a gap; otherwise the old
 * chunks are closed first.
 */
static int relay_pool_sub_replace(struct relay_pool *p, struct relay_sub *s,
				  const struct relay_filter *f, size_t chunks)
{
	struct relay_sub *n = calloc(1, sizeof(*n));

	if (n == NULL || relay_pool_sub_copy(n, f) != 0) {
		if (n != NULL)
			relay_pool_sub_free(n);
		return -1;
	}
	relay_pool_enter(p); /* a failed send reports a lost relay */
	if (chunks != s->nchunks)
		relay_pool_send_close(p, s);
	relay_pool_sub_swap(s, n);
	s->nchunks = chunks;
	for (size_t i = 0; i < p->nconns && p->subscribing && !s->gone; i++)
		if (p->conns[i]->state == RELAY_CONNECTED)
			relay_conn_send_sub(p->conns[i], s);
	relay_pool_leave(p);
	relay_pool_sub_free(n);
	return 0;
}

/* Replace the filter of subscription name on every relay (or subscribe it when new). */
int relay_pool_resubscribe(struct relay_pool *p, const char *name, const struct relay_filter *f,
			   char *err, size_t errlen)
{
	size_t total = 0, chunks = relay_pool_chunks(p, f);
	struct relay_sub *s = relay_pool_sub_find(p, name);

	if (s == NULL)
		return relay_pool_subscribe(p, name, f, err, errlen);
	if (relay_pool_check_filter(p, name, f, err, errlen) != 0)
		return -1;
	for (const struct relay_sub *o = p->subs; o != NULL; o = o->next)
		total += o->gone || o == s ? 0 : o->nchunks;
	if (relay_pool_check_room(p, name, total + chunks, err, errlen) != 0)
		return -1;
	if (relay_pool_sub_replace(p, s, f, chunks) != 0) {
		snprintf(err, errlen, "subscription %s: out of memory", name);
		return -1;
	}
	return 0;
}

/* Send CLOSE for every chunk of s to every open relay. */
static void relay_pool_send_close(struct relay_pool *p, const struct relay_sub *s)
{
	for (size_t k = 0; k < s->nchunks; k++) {
		char id[RELAY_SUB_ID_MAX + 1], *msg;

		relay_pool_sub_id(s, k, id, sizeof(id));
		msg = relay_msg_close(id);
		for (size_t i = 0; msg && i < p->nconns; i++)
			(void)relay_conn_send(p->conns[i], msg, strlen(msg));
		free(msg);
	}
}

/* Close a subscription everywhere and forget it (freed when the outermost pool frame leaves). */
void relay_pool_unsubscribe(struct relay_pool *p, const char *name)
{
	for (struct relay_sub *s = p->subs; s != NULL; s = s->next) {
		if (s->gone || strcmp(s->name, name) != 0)
			continue;
		s->gone = true;
		relay_pool_enter(p);
		relay_pool_send_close(p, s);
		relay_pool_leave(p);
		return;
	}
}

/* Shutdown: close every subscription, stop resubscribing. */
void relay_pool_stop_subscribing(struct relay_pool *p)
{
	if (!p->subscribing)
		return;
	p->subscribing = false;
	relay_pool_enter(p);
	for (struct relay_sub *s = p->subs; s != NULL; s = s->next)
		if (!s->gone)
			relay_pool_send_close(p, s);
	relay_pool_leave(p);
	log_info("relay", "subscriptions closed");
}
