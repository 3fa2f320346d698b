/*
 * component.c - registry and checked wrappers of the component contract.
 *
 * Each component has one slot per operation (drain, abort, close) holding
 * the caller's callback and a zero-delay timer that delivers the
 * completion on the next loop turn.
 */
#include "core/component.h"

#include "core/clock.h"
#include "core/log.h"

#include <stdlib.h>
#include <string.h>

struct component;

/* A caller's pending operation and its deferred completion. */
struct component_slot {
	struct component *c;
	enum component_op op;
	component_done_fn done;
	void *arg;
	bool active;		   /* an operation is outstanding */
	struct clock_timer *timer; /* delivers the completion next turn */
};

struct component {
	const struct component_desc *desc;
	const struct component_ops *ops;
	void *self;
	enum component_state state;
	struct component_slot slot[COMPONENT_OP_COUNT_];
};

struct component_registry {
	struct clock *clk;
	struct component **items;
	size_t n;
};

static void component_set_state(struct component *c, enum component_state to);
static int component_begin(struct component *c, enum component_op op, component_done_fn done,
			   void *arg);
static void component_deliver(void *arg);
static void component_cancel(struct component *c, enum component_op op);
static void component_free(struct component *c);
static int component_illegal(struct component *c, const char *what);
static bool component_desc_depends_at(const struct component_desc *const *descs, size_t n,
				      const char *a, const char *b, size_t depth);

static const char *const component_state_names[] = {
	[COMPONENT_RUNNING] = "running", [COMPONENT_DRAINING] = "draining",
	[COMPONENT_DRAINED] = "drained", [COMPONENT_CLOSING] = "closing",
	[COMPONENT_CLOSED] = "closed",	 [COMPONENT_ABORTING] = "aborting",
	[COMPONENT_ABORTED] = "aborted",
};

/* A registry; completions are deferred through clk. NULL on ENOMEM. */
struct component_registry *component_registry_new(struct clock *clk)
{
	struct component_registry *reg = calloc(1, sizeof(*reg));

	if (reg != NULL)
		reg->clk = clk;
	return reg;
}

/* Free the registry and every component in it. NULL is ignored. */
void component_registry_free(struct component_registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->n; i++)
		component_free(reg->items[i]);
	free(reg->items);
	free(reg);
}

/* Free one component and its delivery timers. */
static void component_free(struct component *c)
{
	for (int op = 0; op < COMPONENT_OP_COUNT_; op++)
		clock_timer_free(c->slot[op].timer);
	free(c);
}

/* Register a component; NULL if the name is taken or memory runs out. */
struct component *component_register(struct component_registry *reg,
				     const struct component_desc *desc,
				     const struct component_ops *ops, void *self)
{
	struct component **items;
	struct component *c;

	if (component_find(reg, desc->name) != NULL)
		return NULL;
	items = realloc(reg->items, (reg->n + 1) * sizeof(*items));
	if (items == NULL)
		return NULL;
	reg->items = items;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	*c = (struct component){.desc = desc, .ops = ops, .self = self};
	for (int op = 0; op < COMPONENT_OP_COUNT_; op++) {
		c->slot[op].c = c;
		c->slot[op].op = (enum component_op)op;
		c->slot[op].timer = clock_timer_new(reg->clk, component_deliver, &c->slot[op]);
		if (c->slot[op].timer == NULL) {
			component_free(c);
			return NULL;
		}
	}
	reg->items[reg->n++] = c;
	return c;
}

/* The component registered under name, or NULL. */
struct component *component_find(struct component_registry *reg, const char *name)
{
	for (size_t i = 0; i < reg->n; i++)
		if (strcmp(reg->items[i]->desc->name, name) == 0)
			return reg->items[i];
	return NULL;
}

/* The number of registered components. */
size_t component_count(const struct component_registry *reg)
{
	return reg->n;
}

/* The i-th registered component (registration order). */
struct component *component_at(struct component_registry *reg, size_t i)
{
	return i < reg->n ? reg->items[i] : NULL;
}

/* The description named name in descs[0..n), or NULL. */
const struct component_desc *component_desc_find(const struct component_desc *const *descs,
						 size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(descs[i]->name, name) == 0)
			return descs[i];
	return NULL;
}

/* Search a's dependencies for b; a depth beyond n can only be a cycle, which ends it. */
static bool component_desc_depends_at(const struct component_desc *const *descs, size_t n,
				      const char *a, const char *b, size_t depth)
{
	const struct component_desc *d = component_desc_find(descs, n, a);

	if (d == NULL || d->depends == NULL || depth > n)
		return false;
	for (const char *const *dep = d->depends; *dep != NULL; dep++)
		if (strcmp(*dep, b) == 0 || component_desc_depends_at(descs, n, *dep, b, depth + 1))
			return true;
	return false;
}

/* Whether a depends on b (transitively) according to descs[0..n). */
bool component_desc_depends_on(const struct component_desc *const *descs, size_t n, const char *a,
			       const char *b)
{
	return component_desc_depends_at(descs, n, a, b, 0);
}

/*
 * Search the registered a's dependencies for b, without allocation. An
 * acyclic chain visits at most reg->n components, so a depth beyond that
 * can only be a cycle, which ends the search.
 */
static bool component_depends_at(const struct component_registry *reg, const char *a, const char *b,
				 size_t depth)
{
	const struct component_desc *d = NULL;

	for (size_t i = 0; i < reg->n && d == NULL; i++)
		if (strcmp(reg->items[i]->desc->name, a) == 0)
			d = reg->items[i]->desc;
	if (d == NULL || d->depends == NULL || depth > reg->n)
		return false;
	for (const char *const *dep = d->depends; *dep != NULL; dep++)
		if (strcmp(*dep, b) == 0 || component_depends_at(reg, *dep, b, depth + 1))
			return true;
	return false;
}

/* Whether a depends on b, directly or transitively, among every registered component. */
bool component_depends_on(const struct component_registry *reg, const char *a, const char *b)
{
	return component_depends_at(reg, a, b, 0);
}

/* The name of a component. */
const char *component_name(const struct component *c)
{
	return c->desc->name;
}

/* The state of a component. */
enum component_state component_state(const struct component *c)
{
	return c->state;
}

/* The lower-case name of a state, for logs and metrics. */
const char *component_state_name(enum component_state s)
{
	if ((unsigned)s >= sizeof(component_state_names) / sizeof(component_state_names[0]))
		return "unknown";
	return component_state_names[s];
}

/* Units of work in flight (0 when the operation is absent). */
size_t component_inflight(const struct component *c)
{
	return c->ops->inflight != NULL ? c->ops->inflight(c->self) : 0;
}

/* Whether the component is ready; *why names what is missing. */
bool component_ready(const struct component *c, const char **why)
{
	const char *dummy;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	if (c->state != COMPONENT_RUNNING) {
		*why = component_state_name(c->state);
		return false;
	}
	return c->ops->ready != NULL ? c->ops->ready(c->self, why) : true;
}

/* Move to state to and log the transition under the component's name. */
static void component_set_state(struct component *c, enum component_state to)
{
	if (c->state == to)
		return;
	log_info(c->desc->name, "component state changed",
		 log_str("from", component_state_name(c->state)),
		 log_str("to", component_state_name(to)),
		 log_uint("inflight", (uint64_t)component_inflight(c)));
	c->state = to;
}

/* Log and refuse an operation the current state does not allow. */
static int component_illegal(struct component *c, const char *what)
{
	log_error(c->desc->name, "illegal component operation", log_str("operation", what),
		  log_str("state", component_state_name(c->state)));
	return -1;
}

/* Record the caller of op; -1 if one is already outstanding. */
static int component_begin(struct component *c, enum component_op op, component_done_fn done,
			   void *arg)
{
	struct component_slot *s = &c->slot[op];

	if (s->active)
		return -1;
	s->done = done;
	s->arg = arg;
	s->active = true;
	return 0;
}

/* Forget an outstanding op without delivering its completion. */
static void component_cancel(struct component *c, enum component_op op)
{
	c->slot[op].active = false;
	clock_timer_stop(c->slot[op].timer);
}

/* Take no new work: running -> draining. Returns 0, or -1 if illegal. */
int component_stop_accepting(struct component *c)
{
	if (c->state == COMPONENT_DRAINING || c->state == COMPONENT_DRAINED)
		return 0;
	if (c->state != COMPONENT_RUNNING)
		return component_illegal(c, "stop_accepting");
	component_set_state(c, COMPONENT_DRAINING);
	if (c->ops->stop_accepting != NULL)
		c->ops->stop_accepting(c->self);
	return 0;
}

/* Drain; done(arg, c, DRAIN) follows. Returns 0, or -1 if illegal. */
int component_drain(struct component *c, component_done_fn done, void *arg)
{
	if (c->state == COMPONENT_RUNNING && component_stop_accepting(c) != 0)
		return -1;
	if (c->state != COMPONENT_DRAINING && c->state != COMPONENT_DRAINED)
		return component_illegal(c, "drain");
	if (component_begin(c, COMPONENT_OP_DRAIN, done, arg) != 0)
		return component_illegal(c, "drain (already draining)");
	if (c->state == COMPONENT_DRAINED || c->ops->drain == NULL)
		component_complete(c, COMPONENT_OP_DRAIN);
	else
		c->ops->drain(c->self, c);
	return 0;
}

/* Abort; done(arg, c, ABORT) follows. Returns 0, or -1 if illegal. */
int component_abort(struct component *c, component_done_fn done, void *arg)
{
	enum component_state was = c->state;

	if (was == COMPONENT_ABORTING)
		return component_illegal(c, "abort (already aborting)");
	if (component_begin(c, COMPONENT_OP_ABORT, done, arg) != 0)
		return component_illegal(c, "abort");
	if (was == COMPONENT_ABORTED || was == COMPONENT_CLOSED) {
		component_complete(c, COMPONENT_OP_ABORT);
		return 0;
	}
	component_cancel(c, COMPONENT_OP_DRAIN);
	component_cancel(c, COMPONENT_OP_CLOSE);
	component_set_state(c, COMPONENT_ABORTING);
	if (c->ops->abort == NULL)
		component_complete(c, COMPONENT_OP_ABORT);
	else
		c->ops->abort(c->self, c);
	return 0;
}

/* Close (idempotent); done(arg, c, CLOSE) follows. 0, or -1 if illegal. */
int component_close(struct component *c, component_done_fn done, void *arg)
{
	enum component_state was = c->state;

	if (was == COMPONENT_ABORTING || was == COMPONENT_CLOSING)
		return component_illegal(c, "close");
	if (component_begin(c, COMPONENT_OP_CLOSE, done, arg) != 0)
		return component_illegal(c, "close (already closing)");
	if (was == COMPONENT_CLOSED) {
		component_complete(c, COMPONENT_OP_CLOSE);
		return 0;
	}
	if (was == COMPONENT_DRAINING)
		component_cancel(c, COMPONENT_OP_DRAIN); /* a finished drain is still delivered */
	component_set_state(c, COMPONENT_CLOSING);
	if (c->ops->close == NULL)
		component_complete(c, COMPONENT_OP_CLOSE);
	else
		c->ops->close(c->self, c);
	return 0;
}

/* Called by an implementation when its operation op has finished. */
void component_complete(struct component *c, enum component_op op)
{
	static const enum component_state after[COMPONENT_OP_COUNT_] = {
		[COMPONENT_OP_DRAIN] = COMPONENT_DRAINED,
		[COMPONENT_OP_ABORT] = COMPONENT_ABORTED,
		[COMPONENT_OP_CLOSE] = COMPONENT_CLOSED,
	};
	static const enum component_state during[COMPONENT_OP_COUNT_] = {
		[COMPONENT_OP_DRAIN] = COMPONENT_DRAINING,
		[COMPONENT_OP_ABORT] = COMPONENT_ABORTING,
		[COMPONENT_OP_CLOSE] = COMPONENT_CLOSING,
	};
	struct component_slot *s = &c->slot[op];

	if (!s->active || clock_timer_pending(s->timer))
		return; /* superseded, or delivered already */
	if (c->state == during[op])
		component_set_state(c, after[op]);
	clock_timer_start(s->timer, 0);
}

/* Timer callback: hand a completion to the caller, on its own loop turn. */
static void component_deliver(void *arg)
{
	struct component_slot *s = arg;

	if (!s->active)
		return;
	s->active = false;
	if (s->done != NULL)
		s->done(s->arg, s->c, s->op);
}
