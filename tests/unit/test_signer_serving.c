/*
 * test_signer_serving.c - the serving set made ready: lookups by bunker
 * pubkey and by id (whatever order the rows came in), policies parsed
 * (a bad one refuses, counted), bound clients, rate state carried across
 * a reload by authorization id, the sorted bunker list, and a set with an
 * invalid key refused and freed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db_store.h"
#include "signer/signer_serving.h"

/* A fresh random secret key and its pubkey hex. */
static void fresh_key(struct nostr_seckey *sk, char hex[65])
{
	struct nostr_pubkey pk;

	assert_int_equal(nostr_seckey_generate(sk), 0);
	assert_int_equal(nostr_seckey_pubkey(&pk, sk), 0);
	nostr_pubkey_to_hex(hex, &pk);
}

/* A serving set of 2 keys and n authorizations with the given ids and policies. */
static struct db_serving *make_set(const int64_t *ids, const char *const *policies, size_t n)
{
	struct db_serving *set = calloc(1, sizeof(*set));

	set->keys = calloc(3, sizeof(*set->keys));
	set->authz = calloc(n + 1, sizeof(*set->authz));
	set->nkeys = 2;
	set->nauthz = n;
	for (size_t i = 0; i < 2; i++) {
		set->keys[i].id = (int64_t)i + 1;
		fresh_key(&set->keys[i].secret, set->keys[i].pubkey);
	}
	for (size_t i = 0; i < n; i++) {
		struct db_serving_authz *a = &set->authz[i];

		a->id = ids[i];
		a->key = i % 2;
		fresh_key(&a->bunker_secret, a->bunker_pubkey);
		a->policy_json = policies[i] != NULL ? strdup(policies[i]) : NULL;
		a->relays = calloc(1, sizeof(char *));
		a->relays[0] = strdup("ws://127.0.0.1:1");
		a->nrelays = 1;
	}
	return set;
}

/* Lookups, policies and bound clients. */
static void test_lookups(void **state)
{
	const int64_t ids[] = {30, 10, 20};
	const char *const policies[] = {"{\"kinds\":[1]}", "{\"frob\":1}", NULL};
	struct db_serving *set = make_set(ids, policies, 3);
	struct signer_serving *sv;
	struct nostr_pubkey pk;
	char err[256];

	(void)state;
	snprintf(set->authz[2].client_pubkey, 65, "%s", set->keys[0].pubkey);
	assert_int_equal(signer_serving_new(&sv, set, err, sizeof(err)), 0);
	assert_int_equal(sv->nauthz, 3);
	assert_int_equal(sv->bad_policies, 1);
	for (size_t i = 0; i < 3; i++) {
		const struct signer_authz *by_id = signer_serving_by_id(sv, ids[i]);

		assert_non_null(by_id);
		assert_int_equal(by_id->row->id, ids[i]);
		assert_int_equal(nostr_pubkey_from_hex(&pk, by_id->row->bunker_pubkey, 64), 0);
		assert_ptr_equal(signer_serving_by_bunker(sv, &pk), by_id);
		assert_memory_equal(by_id->bunker.pub.b, pk.b, 32);
		assert_ptr_equal(by_id->key, &sv->keys[by_id->row->key]);
	}
	assert_null(signer_serving_by_id(sv, 11));
	memset(pk.b, 0xee, 32);
	assert_null(signer_serving_by_bunker(sv, &pk));
	assert_true(signer_serving_by_id(sv, 30)->policy_ok);
	assert_false(signer_serving_by_id(sv, 10)->policy_ok);
	assert_true(signer_serving_by_id(sv, 20)->policy_ok); /* no policy: allow all */
	assert_true(signer_serving_by_id(sv, 20)->bound);
	assert_false(signer_serving_by_id(sv, 30)->bound);
	signer_serving_free(sv);
}

/* Rate state moves to the authorizations still there; new ones start fresh. */
static void test_carry(void **state)
{
	const int64_t old_ids[] = {10, 20}, new_ids[] = {40, 10};
	const char *const policies[] = {NULL, NULL};
	struct signer_serving *old, *cur;
	char err[256];

	(void)state;
	assert_int_equal(signer_serving_new(&old, make_set(old_ids, policies, 2), err, sizeof(err)),
			 0);
	assert_int_equal(signer_serving_new(&cur, make_set(new_ids, policies, 2), err, sizeof(err)),
			 0);
	signer_serving_by_id(old, 10)->bucket =
		(struct signer_bucket){.tokens = 2.5, .primed = true};
	signer_serving_by_id(old, 10)->strangers.tokens = 7;
	signer_serving_carry(cur, old);
	assert_true(signer_serving_by_id(cur, 10)->bucket.primed);
	assert_true(signer_serving_by_id(cur, 10)->bucket.tokens == 2.5);
	assert_true(signer_serving_by_id(cur, 10)->strangers.tokens == 7);
	assert_false(signer_serving_by_id(cur, 40)->bucket.primed);
	signer_serving_carry(cur, NULL); /* the first load: nothing to carry */
	signer_serving_free(old);
	signer_serving_free(cur);
}

/* The bunker pubkeys come out sorted. */
static void test_bunkers_sorted(void **state)
{
	const int64_t ids[] = {1, 2, 3, 4, 5};
	const char *const policies[] = {NULL, NULL, NULL, NULL, NULL};
	struct signer_serving *sv;
	const char **keys;
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(signer_serving_new(&sv, make_set(ids, policies, 5), err, sizeof(err)), 0);
	assert_int_equal(signer_serving_bunkers(&keys, &n, sv), 0);
	assert_int_equal(n, 5);
	for (size_t i = 1; i < n; i++)
		assert_true(strcmp(keys[i - 1], keys[i]) < 0);
	free(keys);
	signer_serving_free(sv);
}

/* A bunker secret that is not a valid key: the set is refused and freed. */
static void test_invalid_key(void **state)
{
	const int64_t ids[] = {1};
	const char *const policies[] = {NULL};
	struct db_serving *set = make_set(ids, policies, 1);
	struct signer_serving *sv = (struct signer_serving *)1;
	char err[256];

	(void)state;
	memset(set->authz[0].bunker_secret.b, 0, 32);
	assert_int_equal(signer_serving_new(&sv, set, err, sizeof(err)), -1);
	assert_null(sv);
	assert_string_equal(err, "authorization 1: the bunker key is not valid");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookups),
		cmocka_unit_test(test_carry),
		cmocka_unit_test(test_bunkers_sorted),
		cmocka_unit_test(test_invalid_key),
	};
	return cmocka_run_group_tests_name("signer_serving", tests, NULL, NULL);
}
