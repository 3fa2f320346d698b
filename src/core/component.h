/*
 * component.h - the component contract the shutdown plan drives.
 *
 * A component (http, relay-signer, db) is registered under a stable name
 * with a const operations table and the names of the components it depends
 * on. Nobody calls the operations directly: the component_* wrappers below
 * check for NULL entries, enforce the legal state transitions
 *
 *     running -> draining -> drained -> closing -> closed
 *     any live state -> aborting -> aborted (-> closing -> closed)
 *     running or draining -> closing (close without a drain first)
 *
 * log every transition with the component's name, and deliver completions
 * on the next loop turn (never inside the caller's own call), so a caller
 * may free or re-plan from its callback.
 *
 * Implementing an operation: drain/abort/close receive the component and
 * call component_complete(c, op) once the work is really done (for abort:
 * nothing of the component runs any more). A NULL operation completes at
 * once. abort supersedes a pending drain or close: their completion is
 * then dropped, and only the abort completion is delivered. close likewise
 * supersedes a drain still in progress; a drain that finished before the
 * close is still delivered.
 */
#ifndef KC_COMPONENT_H
#define KC_COMPONENT_H

#include <stdbool.h>
#include <stddef.h>

struct clock;
struct component;
struct component_registry;

/* Lifecycle state of a component. */
enum component_state {
	COMPONENT_RUNNING,  /* taking new work */
	COMPONENT_DRAINING, /* no new work; in-flight work finishing */
	COMPONENT_DRAINED,  /* no work in flight */
	COMPONENT_CLOSING,  /* releasing resources */
	COMPONENT_CLOSED,   /* resources released; terminal */
	COMPONENT_ABORTING, /* cancelling in-flight work */
	COMPONENT_ABORTED,  /* nothing of it runs any more */
};

/* Which operation a completion belongs to. */
enum component_op {
	COMPONENT_OP_DRAIN, /* drain() finished */
	COMPONENT_OP_ABORT, /* abort() confirmed */
	COMPONENT_OP_CLOSE, /* close() finished */
	COMPONENT_OP_COUNT_,
};

/* The operations a component implements; any entry may be NULL. */
struct component_ops {
	/* Take no new work (close listeners, stop claiming requests). */
	void (*stop_accepting)(void *self);
	/* Finish in-flight work, then component_complete(c). */
	void (*drain)(void *self, struct component *c);
	/* Cancel in-flight work, then component_complete(c) once it is gone. */
	void (*abort)(void *self, struct component *c);
	/* Release resources, then component_complete(c). */
	void (*close)(void *self, struct component *c);
	/* Units of work in flight now. */
	size_t (*inflight)(void *self);
	/* Ready for work? On false, *why says what is missing (static text). */
	bool (*ready)(void *self, const char **why);
};

/* What a caller learns when an operation completes. */
typedef void (*component_done_fn)(void *arg, struct component *c, enum component_op op);

/* Static description of a component kind: its name and dependencies. */
struct component_desc {
	const char *name;	    /* stable name used by plans */
	const char *const *depends; /* NULL-terminated names, or NULL */
	const char *summary;	    /* one line for docs and plan check */
};

/* A registry; completions are deferred through clk. NULL on ENOMEM. */
struct component_registry *component_registry_new(struct clock *clk);

/* Free the registry and every component in it. NULL is ignored. */
void component_registry_free(struct component_registry *reg);

/*
 * Register a component described by desc (borrowed, must outlive the
 * registry) with its operations and self pointer. Returns the component,
 * or NULL if the name is taken or memory runs out.
 */
struct component *component_register(struct component_registry *reg,
				     const struct component_desc *desc,
				     const struct component_ops *ops, void *self);

/* The component registered under name, or NULL. */
struct component *component_find(struct component_registry *reg, const char *name);

/* The number of registered components. */
size_t component_count(const struct component_registry *reg);

/* The i-th registered component (registration order). */
struct component *component_at(struct component_registry *reg, size_t i);

/* Whether a depends on b, directly or transitively. */
bool component_depends_on(const struct component_registry *reg, const char *a, const char *b);

/* The name of a component. */
const char *component_name(const struct component *c);

/* The state of a component. */
enum component_state component_state(const struct component *c);

/* The lower-case name of a state, for logs and metrics. */
const char *component_state_name(enum component_state s);

/* Units of work in flight (0 when the operation is absent). */
size_t component_inflight(const struct component *c);

/* Whether the component is ready; *why names what is missing. */
bool component_ready(const struct component *c, const char **why);

/* Take no new work: running -> draining. Returns 0, or -1 if illegal. */
int component_stop_accepting(struct component *c) __attribute__((warn_unused_result));

/* Drain; done(arg, c, DRAIN) follows. Returns 0, or -1 if illegal. */
int component_drain(struct component *c, component_done_fn done, void *arg)
	__attribute__((warn_unused_result));

/* Abort; done(arg, c, ABORT) follows. Returns 0, or -1 if illegal. */
int component_abort(struct component *c, component_done_fn done, void *arg)
	__attribute__((warn_unused_result));

/* Close (idempotent); done(arg, c, CLOSE) follows. 0, or -1 if illegal. */
int component_close(struct component *c, component_done_fn done, void *arg)
	__attribute__((warn_unused_result));

/*
 * Called by an implementation when its operation op has finished. A
 * completion that was superseded (a drain overtaken by an abort) is
 * dropped, so implementations need not track it.
 */
void component_complete(struct component *c, enum component_op op);

/* The description named name in descs[0..n), or NULL. */
const struct component_desc *component_desc_find(const struct component_desc *const *descs,
						 size_t n, const char *name);

/* Whether a depends on b (transitively) according to descs[0..n). */
bool component_desc_depends_on(const struct component_desc *const *descs, size_t n, const char *a,
			       const char *b);

#endif /* KC_COMPONENT_H */
