/*
 * test_plan_fake.c - fake components and a log recorder for the plan tests.
 */
#include "test_plan_fake.h"

#include "core/clock.h"
#include "core/component.h"

#include <stdio.h>
#include <string.h>

#define REC_MAX 512

static struct rec_line rec_lines[REC_MAX];
static size_t rec_n;

static void fake_fire(void *arg);

static const char *const fake_signer_deps[] = {"db", NULL};
static const struct component_desc fake_http = {"http", NULL, "http"};
static const struct component_desc fake_signer = {"relay-signer", fake_signer_deps, "signer"};
static const struct component_desc fake_db = {"db", NULL, "db"};
static const struct component_desc *const fake_all[] = {&fake_http, &fake_signer, &fake_db};

/* The catalogue used by the tests. */
const struct component_desc *const *fake_descs(size_t *n)
{
	*n = 3;
	return fake_all;
}

/* Which operation the fake's timer completes. */
static enum component_op fake_pending_op(const struct fake *f)
{
	return component_state(f->c) == COMPONENT_CLOSING ? COMPONENT_OP_CLOSE : COMPONENT_OP_DRAIN;
}

/* Timer: complete the pending drain or close. */
static void fake_fire(void *arg)
{
	struct fake *f = arg;
	enum component_op op = fake_pending_op(f);

	if (op == COMPONENT_OP_DRAIN)
		f->drain_done_at = clock_now_ms(f->clk);
	else
		f->alive = false;
	component_complete(f->c, op);
}

/* stop_accepting: record when. */
static void fake_stop(void *self)
{
	struct fake *f = self;

	f->stops++;
	f->stop_at = clock_now_ms(f->clk);
}

/* drain: complete after drain_ms. */
static void fake_drain(void *self, struct component *c)
{
	struct fake *f = self;

	(void)c;
	f->drains++;
	if (f->drain_ms != FAKE_HANG)
		clock_timer_start(f->timer, f->drain_ms);
}

/* abort: stop everything, confirm at once (unless it hangs). */
static void fake_abort(void *self, struct component *c)
{
	struct fake *f = self;

	f->aborts++;
	f->abort_at = clock_now_ms(f->clk);
	clock_timer_stop(f->timer);
	if (f->abort_hangs)
		return;
	f->alive = false;
	component_complete(c, COMPONENT_OP_ABORT);
}

/* close: complete after close_ms. */
static void fake_close(void *self, struct component *c)
{
	struct fake *f = self;

	(void)c;
	f->closes++;
	clock_timer_stop(f->timer);
	if (f->close_ms != FAKE_HANG)
		clock_timer_start(f->timer, f->close_ms);
}

/* Work in flight: what the test set. */
static size_t fake_inflight(void *self)
{
	return ((struct fake *)self)->inflight;
}

static const struct component_ops fake_ops = {
	.stop_accepting = fake_stop,
	.drain = fake_drain,
	.abort = fake_abort,
	.close = fake_close,
	.inflight = fake_inflight,
};

/* Register a fake under the catalogue desc named name. */
void fake_register(struct fake *f, struct component_registry *reg, struct clock *clk,
		   const char *name)
{
	size_t n;
	const struct component_desc *const *descs = fake_descs(&n);

	f->clk = clk;
	f->alive = true;
	f->stop_at = f->drain_done_at = f->abort_at = -1;
	f->timer = clock_timer_new(clk, fake_fire, f);
	f->c = component_register(reg, component_desc_find(descs, n, name), &fake_ops, f);
}

/* Free the fake's timer. */
void fake_release(struct fake *f)
{
	clock_timer_free(f->timer);
	f->timer = NULL;
}

/* Append one field as " key=value" to l->fields (truncated if full). */
static void rec_field(struct rec_line *l, const struct log_field *f)
{
	size_t off = strlen(l->fields), left = sizeof(l->fields) - off;

	switch (f->type) {
	case LOG_FIELD_STR:
		snprintf(l->fields + off, left, " %s=%s", f->key, f->v.s ? f->v.s : "null");
		break;
	case LOG_FIELD_INT:
		snprintf(l->fields + off, left, " %s=%lld", f->key, (long long)f->v.i);
		break;
	case LOG_FIELD_UINT:
		snprintf(l->fields + off, left, " %s=%llu", f->key, (unsigned long long)f->v.u);
		break;
	case LOG_FIELD_BOOL:
		snprintf(l->fields + off, left, " %s=%s", f->key, f->v.b ? "true" : "false");
		break;
	default:
		break;
	}
}

/* Log hook: keep the message, the phase and the outcome fields, and every field. */
static void rec_hook(void *arg, enum log_level level, const char *component, const char *msg,
		     const struct log_field *fields, size_t nfields)
{
	struct rec_line *l;

	(void)arg;
	(void)component;
	if (rec_n >= REC_MAX)
		return;
	l = &rec_lines[rec_n++];
	memset(l, 0, sizeof(*l));
	l->level = level;
	snprintf(l->msg, sizeof(l->msg), "%s", msg);
	for (size_t i = 0; i < nfields; i++) {
		if (fields[i].key != NULL)
			rec_field(l, &fields[i]);
		if (fields[i].key == NULL || fields[i].type != LOG_FIELD_STR || !fields[i].v.s)
			continue;
		if (strcmp(fields[i].key, "phase") == 0)
			snprintf(l->phase, sizeof(l->phase), "%s", fields[i].v.s);
		if (strcmp(fields[i].key, "outcome") == 0)
			snprintf(l->outcome, sizeof(l->outcome), "%s", fields[i].v.s);
	}
}

/* Start recording. */
void rec_start(void)
{
	rec_n = 0;
	log_configure(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON);
	log_set_hook(rec_hook, NULL);
}

/* Stop recording. */
void rec_stop(void)
{
	log_set_hook(NULL, NULL);
}

/* The number of recorded lines. */
size_t rec_count(void)
{
	return rec_n;
}

/* The i-th line. */
const struct rec_line *rec_at(size_t i)
{
	return i < rec_n ? &rec_lines[i] : NULL;
}

/* The number of lines whose message is msg exactly. */
size_t rec_count_msg(const char *msg)
{
	size_t n = 0;

	for (size_t i = 0; i < rec_n; i++)
		n += strcmp(rec_lines[i].msg, msg) == 0;
	return n;
}

/* The last line whose message starts with prefix, or NULL. */
const struct rec_line *rec_find(const char *prefix)
{
	for (size_t i = rec_n; i-- > 0;)
		if (strncmp(rec_lines[i].msg, prefix, strlen(prefix)) == 0)
			return &rec_lines[i];
	return NULL;
}
