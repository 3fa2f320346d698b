/*
 * test_signer_subs.c - request subscriptions in slots: the first update
 * sends every slot, an unchanged set sends none, a removed or added pubkey
 * re-sends only its slot, an emptied slot is closed, and the relay's
 * limit on subscriptions is reported.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "core/clock.h"
#include "relay/relay_pool.h"
#include "signer/signer_subs.h"

/* A pool with no relays (subscriptions are kept, nothing is sent) and slots of 2. */
struct fx {
	struct event_base *base;
	struct clock *clk;
	struct relay_pool *pool;
	struct signer_subs *subs;
	char keys[16][65];
	const char *v[16];
};

static const struct relay_pool_handlers no_handlers = {0};

/* Set up the fixture: 16 sorted hex pubkeys. */
static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];
	struct relay_pool_config cfg = {0};

	f->base = event_base_new();
	f->clk = clock_new_virtual(0);
	cfg.base = f->base;
	cfg.clock = f->clk;
	cfg.max_subs_per_relay = 4;
	if (relay_pool_new(&f->pool, &cfg, &no_handlers, f, err, sizeof(err)) != 0)
		return -1;
	f->subs = signer_subs_new(f->pool, 2);
	for (int i = 0; i < 16; i++) {
		memset(f->keys[i], 'a' + i, 64);
		f->v[i] = f->keys[i];
	}
	*state = f;
	return 0;
}

/* Tear the fixture down. */
static int teardown(void **state)
{
	struct fx *f = *state;

	signer_subs_free(f->subs);
	relay_pool_free(f->pool);
	clock_free(f->clk);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Only the slots that change are sent again. */
static void test_only_changed_slots(void **state)
{
	struct fx *f = *state;
	char err[256];
	const char *without_b[] = {f->v[0], f->v[2], f->v[3], f->v[4]};
	const char *with_f[] = {f->v[0], f->v[2], f->v[3], f->v[4], f->v[5]};

	assert_int_equal(signer_subs_update(f->subs, f->v, 5, 0, err, sizeof(err)), 3);
	assert_int_equal(signer_subs_count(f->subs), 3);
	assert_int_equal(signer_subs_update(f->subs, f->v, 5, 0, err, sizeof(err)), 0);
	assert_int_equal(signer_subs_update(f->subs, without_b, 4, 0, err, sizeof(err)), 1);
	assert_int_equal(signer_subs_count(f->subs), 3);
	/* f fills the slot b left: still one slot sent, no new one */
	assert_int_equal(signer_subs_update(f->subs, with_f, 5, 0, err, sizeof(err)), 1);
	assert_int_equal(signer_subs_count(f->subs), 3);
}

/* Confirmed once a relay sent EOSE for every slot; a slot sent again needs its own. */
static void test_confirmed(void **state)
{
	struct fx *f = *state;
	char err[256];
	const char *without_b[] = {f->v[0], f->v[2], f->v[3], f->v[4]};

	assert_true(signer_subs_confirmed(f->subs)); /* no key: nothing to wait for */
	assert_int_equal(signer_subs_update(f->subs, f->v, 5, 0, err, sizeof(err)), 3);
	assert_false(signer_subs_confirmed(f->subs));
	signer_subs_eose(f->subs, "nip46-0");
	signer_subs_eose(f->subs, "nip46-1");
	signer_subs_eose(f->subs, "nip46-");
	signer_subs_eose(f->subs, "nip46-2x");
	signer_subs_eose(f->subs, "nip46-9");
	signer_subs_eose(f->subs, "other-2");
	assert_false(signer_subs_confirmed(f->subs));
	signer_subs_eose(f->subs, "nip46-2");
	assert_true(signer_subs_confirmed(f->subs));
	assert_int_equal(signer_subs_update(f->subs, without_b, 4, 0, err, sizeof(err)), 1);
	assert_false(signer_subs_confirmed(f->subs));
	signer_subs_eose(f->subs, "nip46-0");
	assert_true(signer_subs_confirmed(f->subs));
}

/* A slot emptied is closed; the others stay. */
static void test_empty_slot_closed(void **state)
{
	struct fx *f = *state;
	char err[256];

	assert_int_equal(signer_subs_update(f->subs, f->v, 4, 0, err, sizeof(err)), 2);
	assert_int_equal(signer_subs_update(f->subs, f->v, 2, 0, err, sizeof(err)), 1);
	assert_int_equal(signer_subs_count(f->subs), 1);
	assert_int_equal(signer_subs_update(f->subs, NULL, 0, 0, err, sizeof(err)), 1);
	assert_int_equal(signer_subs_count(f->subs), 0);
	assert_int_equal(signer_subs_update(f->subs, f->v, 3, 0, err, sizeof(err)), 2);
	assert_int_equal(signer_subs_count(f->subs), 2);
}

/* More slots than the relays keep: reported, and the slots that fit are sent. */
static void test_relay_limit(void **state)
{
	struct fx *f = *state;
	char err[256] = "";

	assert_int_equal(signer_subs_update(f->subs, f->v, 10, 0, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "more than the 4 a relay keeps"));
	assert_int_equal(signer_subs_count(f->subs), 4);
	/* the slot that did not fit is tried again at every update */
	assert_int_equal(signer_subs_update(f->subs, f->v, 10, 0, err, sizeof(err)), -1);
	assert_int_equal(signer_subs_update(f->subs, f->v, 8, 0, err, sizeof(err)),
			 0); /* the 5th slot was never sent */
	assert_int_equal(signer_subs_count(f->subs), 4);
	/* readiness waits for the slots sent, not for one the limit keeps out */
	assert_int_equal(signer_subs_update(f->subs, f->v, 10, 0, err, sizeof(err)), -1);
	for (int i = 0; i < 4; i++) {
		char name[16];

		assert_false(signer_subs_confirmed(f->subs));
		snprintf(name, sizeof(name), "nip46-%d", i);
		signer_subs_eose(f->subs, name);
	}
	assert_true(signer_subs_confirmed(f->subs));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_only_changed_slots, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_slot_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_confirmed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_relay_limit, setup, teardown),
	};
	return cmocka_run_group_tests_name("signer_subs", tests, NULL, NULL);
}
