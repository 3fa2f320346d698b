/*
 * test_config.c - the schema-driven configuration: defaults, file, env,
 * flags, and errors that name file:line:col or the variable.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/diag.h"
#include "core/env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Write text to a temporary file; returns its malloc'd path. */
static char *write_temp(const char *text)
{
	char *path = strdup("/tmp/kc-config-XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
	return path;
}

/* Defaults come from the table. */
static void test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(cfg.port, 8080);
	assert_string_equal(cfg.log_level, "info");
	assert_string_equal(cfg.plan, "");
	assert_int_equal(cfg.bunker_relays.n, 0);
	config_free(&cfg);
}

/* A good file sets values, including a list as a YAML sequence. */
static void test_file_ok(void **state)
{
	struct config cfg;
	struct diag d = {0};
	char *path =
		write_temp("port: 9000\nlog_level: debug\n"
			   "bunker_relays:\n  - ws://127.0.0.1:7777\n  - wss://relay.example\n");

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_load_file(&cfg, path, &d), 0);
	assert_int_equal(cfg.port, 9000);
	assert_string_equal(cfg.log_level, "debug");
	assert_int_equal(cfg.bunker_relays.n, 2);
	assert_string_equal(cfg.bunker_relays.v[1], "wss://relay.example");
	unlink(path);
	free(path);
	diag_clear(&d);
	config_free(&cfg);
}

/* Wrong type, out of range and unknown key: each reported at line:col. */
static void test_file_errors(void **state)
{
	struct config cfg;
	struct diag d = {0};
	char *path = write_temp("port: 70000\nlog_level: loud\nfrobnicate: 1\ndb_pool_size: [1]\n");

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_load_file(&cfg, path, &d), 4);
	assert_int_equal(d.n, 4);
	assert_int_equal(d.items[0].line, 1);
	assert_int_equal(d.items[0].col, 7);
	assert_non_null(strstr(d.items[0].message, "out of range"));
	assert_int_equal(d.items[1].line, 2);
	assert_int_equal(d.items[2].line, 3);
	assert_int_equal(d.items[2].col, 1);
	assert_non_null(strstr(d.items[2].message, "frobnicate"));
	assert_int_equal(d.items[3].line, 4);
	assert_int_equal(d.items[3].col, 15);
	assert_int_equal(cfg.port, 8080); /* left at the default */
	unlink(path);
	free(path);
	diag_clear(&d);
	config_free(&cfg);
}

/* A setting given twice, or a second document, is an error, not a silent drop. */
static void test_file_duplicate(void **state)
{
	struct config cfg;
	struct diag d = {0};
	char *path = write_temp("port: 9000\nlog_level: warn\nport: 9001\n---\nport: 1\n");

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_load_file(&cfg, path, &d), 2);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.items[0].line, 5);
	assert_non_null(strstr(d.items[0].message, "one YAML document"));
	assert_int_equal(d.items[1].line, 3);
	assert_int_equal(d.items[1].col, 1);
	assert_non_null(strstr(d.items[1].message, "port: set twice (first at line 1)"));
	assert_int_equal(cfg.port, 9000);
	unlink(path);
	free(path);
	diag_clear(&d);
	config_free(&cfg);
}

/* A YAML syntax error names its position. */
static void test_file_syntax(void **state)
{
	struct config cfg;
	struct diag d = {0};
	char *path = write_temp("port: 1\n  bad: [\n");

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_load_file(&cfg, path, &d), 1);
	assert_int_equal(d.items[0].severity, DIAG_ERROR);
	assert_true(d.items[0].line >= 2);
	assert_non_null(strstr(d.items[0].message, "YAML"));
	unlink(path);
	free(path);
	diag_clear(&d);
	config_free(&cfg);
}

/* Env values override, lists split on commas; a bad one names the variable. */
static void test_env(void **state)
{
	struct config cfg;
	struct diag d = {0};
	struct env e;

	(void)state;
	env_init(&e, 0);
	assert_int_equal(env_put(&e, "PORT=abc"), 0);
	assert_int_equal(env_put(&e, "BUNKER_RELAYS= ws://a , ,wss://b"), 0);
	assert_int_equal(env_put(&e, "DATABASE_URL=postgres://u:pw@h/db"), 0);
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_apply_env(&cfg, &e, &d), 1);
	assert_string_equal(d.items[0].file, "env PORT");
	assert_int_equal(cfg.bunker_relays.n, 2);
	assert_string_equal(cfg.bunker_relays.v[0], "ws://a");
	assert_string_equal(cfg.database_url, "postgres://u:pw@h/db");
	env_clear(&e);
	diag_clear(&d);
	config_free(&cfg);
}

/* Flags accept dashes; the secret is redacted when shown. */
static void test_set_and_show(void **state)
{
	struct config cfg;
	struct diag d = {0};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_set(&cfg, "db-pool-size", "4", "--db-pool-size", 0, 0, &d), 0);
	assert_int_equal(
		config_set(&cfg, "database_url", "postgres://u:hunter2@h/db", "x", 0, 0, &d), 0);
	assert_int_equal(config_set(&cfg, "nope", "1", "--nope", 0, 0, &d), -1);
	assert_int_equal(cfg.db_pool_size, 4);
	config_print(&cfg, out);
	fclose(out);
	assert_null(strstr(buf, "hunter2"));
	assert_non_null(strstr(buf, "database_url = (set, redacted)"));
	free(buf);
	diag_clear(&d);
	config_free(&cfg);
}

/* A fake checker: refuses values that start with "bad". */
static const char *fake_check(const struct config_entry *e, const char *value)
{
	(void)e;
	return strncmp(value, "bad", 3) == 0 ? "is bad" : NULL;
}

/* Checked list items are refused with the item's file:line:col. */
static void test_check_file(void **state)
{
	struct config cfg;
	struct diag d = {0};
	char *seq = write_temp("bunker_relays:\n  - ok\n  - bad1\n");
	char *scalar = write_temp("port: 1\nbunker_relays: ok, bad2\n");

	(void)state;
	assert_int_equal(config_init(&cfg), 0);
	cfg.check = fake_check;
	assert_int_equal(config_load_file(&cfg, seq, &d), 1);
	assert_int_equal(config_load_file(&cfg, scalar, &d), 1);
	assert_int_equal(d.n, 2);
	assert_string_equal(d.items[0].file, seq);
	assert_int_equal(d.items[0].line, 3);
	assert_int_equal(d.items[0].col, 5);
	assert_non_null(strstr(d.items[0].message, "bunker_relays: 'bad1' is bad"));
	assert_string_equal(d.items[1].file, scalar);
	assert_int_equal(d.items[1].line, 2);
	assert_non_null(strstr(d.items[1].message, "'bad2' is bad"));
	unlink(seq);
	unlink(scalar);
	free(seq);
	free(scalar);
	diag_clear(&d);
	config_free(&cfg);
}

/* Checked values from the environment name the variable; unchecked rows pass. */
static void test_check_env(void **state)
{
	struct config cfg;
	struct diag d = {0};
	struct env e;

	(void)state;
	env_init(&e, 0);
	assert_int_equal(env_put(&e, "BUNKER_RELAYS=ok,bad3"), 0);
	assert_int_equal(env_put(&e, "INSTANCE_ID=bad-but-unchecked"), 0);
	assert_int_equal(config_init(&cfg), 0);
	cfg.check = fake_check;
	assert_int_equal(config_apply_env(&cfg, &e, &d), 1);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.items[0].file, "env BUNKER_RELAYS");
	assert_non_null(strstr(d.items[0].message, "'bad3' is bad"));
	assert_string_equal(cfg.instance_id, "bad-but-unchecked");
	env_clear(&e);
	diag_clear(&d);
	config_free(&cfg);
}

/* MASTER_KEY is read from the environment only and never shown. */
static void test_master_key(void **state)
{
	struct config cfg;
	struct diag d = {0};
	struct env e;
	char *path = write_temp("master_key: 00\n"), *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	env_init(&e, 0);
	assert_int_equal(env_put(&e, "MASTER_KEY=c0ffee00c0ffee"), 0);
	assert_int_equal(config_init(&cfg), 0);
	assert_int_equal(config_apply_env(&cfg, &e, &d), 0);
	assert_int_equal(config_set(&cfg, "master-key", "00", "--master-key", 0, 0, &d), -1);
	assert_int_equal(config_load_file(&cfg, path, &d), 1);
	assert_int_equal(d.n, 2);
	assert_non_null(
		strstr(d.items[0].message, "only be set by the environment variable MASTER_KEY"));
	assert_string_equal(d.items[1].file, path);
	assert_string_equal(cfg.master_key, "c0ffee00c0ffee");
	config_print(&cfg, out);
	fclose(out);
	assert_null(strstr(buf, "c0ffee"));
	assert_non_null(strstr(buf, "master_key = (set, redacted)"));
	unlink(path);
	free(path);
	free(buf);
	env_clear(&e);
	diag_clear(&d);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),       cmocka_unit_test(test_file_ok),
		cmocka_unit_test(test_file_errors),    cmocka_unit_test(test_file_syntax),
		cmocka_unit_test(test_file_duplicate), cmocka_unit_test(test_env),
		cmocka_unit_test(test_set_and_show),   cmocka_unit_test(test_check_file),
		cmocka_unit_test(test_check_env),      cmocka_unit_test(test_master_key),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
