/*
 * test_log.c - structured logging: JSON lines parse and carry typed
 * fields; the threshold filters; levels and formats parse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/log.h"
#include "core/secret.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Run fn with stderr redirected to a file; return what it wrote. */
static char *capture_stderr(void (*fn)(void))
{
	char path[] = "/tmp/kc-log-XXXXXX";
	int fd = mkstemp(path);
	int saved = dup(STDERR_FILENO);
	char *buf = calloc(1, 65536);
	FILE *f;

	fflush(stderr);
	dup2(fd, STDERR_FILENO);
	fn();
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	if (fread(buf, 1, 65535, f) == 0)
		buf[0] = '\0';
	fclose(f);
	unlink(path);
	return buf;
}

/* Emit a few events in JSON. */
static void emit_json(void)
{
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
	log_debug("plan", "hidden");
	log_info("plan", "phase \"started\"\n", log_str("phase", "pre-drain"),
		 log_ms("budget_ms", 10000), log_bool("ok", true), log_str("nothing", NULL));
	log_warn("db", "no fields");
}

/* JSON lines are valid JSON with time, level, msg, component and fields. */
static void test_json_lines(void **state)
{
	char *out = capture_stderr(emit_json);
	char *nl = strchr(out, '\n');
	cJSON *o;

	(void)state;
	assert_non_null(nl);
	*nl = '\0';
	o = cJSON_Parse(out);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "level")->valuestring, "info");
	assert_string_equal(cJSON_GetObjectItem(o, "msg")->valuestring, "phase \"started\"\n");
	assert_string_equal(cJSON_GetObjectItem(o, "component")->valuestring, "plan");
	assert_string_equal(cJSON_GetObjectItem(o, "phase")->valuestring, "pre-drain");
	assert_int_equal(cJSON_GetObjectItem(o, "budget_ms")->valueint, 10000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o, "ok")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "nothing")));
	assert_non_null(cJSON_GetObjectItem(o, "time"));
	cJSON_Delete(o);
	assert_non_null(strstr(nl + 1, "\"level\":\"warn\""));
	assert_null(strstr(nl + 1, "hidden"));
	free(out);
}

/* Emit one event as text. */
static void emit_text(void)
{
	log_configure(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT);
	log_debug("http", "listening", log_str("addr", "127.0.0.1"), log_int("port", 8080),
		  log_str("note", "two words"));
}

/* Text lines carry level, component, message and k=v fields. */
static void test_text_line(void **state)
{
	char *out = capture_stderr(emit_text);

	(void)state;
	assert_non_null(strstr(out, "debug http: listening addr=127.0.0.1 port=8080"));
	assert_non_null(strstr(out, "note=\"two words\""));
	free(out);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
}

/* Emit an event whose strings hold newlines and quotes, as text. */
static void emit_text_odd(void)
{
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	log_warn("db", "query failed\n", log_str("error", "ERROR:  relation \"x\"\nLINE 1"),
		 log_str("tab", "a\tb"));
}

/* A text event stays on one line: controls and quotes are escaped. */
static void test_text_escapes(void **state)
{
	char *out = capture_stderr(emit_text_odd);

	(void)state;
	assert_non_null(strchr(out, '\n'));
	assert_string_equal(strchr(out, '\n'), "\n"); /* the only newline ends the line */
	assert_non_null(
		strstr(out, "db: query failed\\n error=\"ERROR:  relation \\\"x\\\"\\nLINE 1\""));
	assert_non_null(strstr(out, "tab=\"a\\tb\""));
	free(out);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
}

/* Emit a secret's field in both formats. */
static void emit_secret(void)
{
	struct secret s = {0};

	if (secret_set(&s, "hunter2", 7) != 0)
		return;
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
	log_info("authz", "connect", log_secret("secret", &s));
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	log_info("authz", "connect", log_secret("secret", &s));
	secret_wipe(&s);
}

/* A struct secret is printed as "[redacted]" in JSON and text alike. */
static void test_secret_redacted(void **state)
{
	char *out = capture_stderr(emit_secret);

	(void)state;
	assert_null(strstr(out, "hunter2"));
	assert_non_null(strstr(out, "\"secret\":\"[redacted]\""));
	assert_non_null(strstr(out, " secret=[redacted]"));
	free(out);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
}

/* Levels and formats parse; unknown names are refused. */
static void test_parse(void **state)
{
	enum log_level l;
	enum log_format f;

	(void)state;
	assert_int_equal(log_level_parse(&l, "warn"), 0);
	assert_int_equal(l, LOG_LEVEL_WARN);
	assert_int_equal(log_level_parse(&l, "warning"), 0);
	assert_int_equal(log_level_parse(&l, "loud"), -1);
	assert_int_equal(log_format_parse(&f, "text"), 0);
	assert_int_equal(f, LOG_FORMAT_TEXT);
	assert_int_equal(log_format_parse(&f, "xml"), -1);
}

/* Under LOG_LEVEL=error: an info event is filtered, final and prepared lines are not. */
static void emit_final(void)
{
	struct log_prepared p;

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	log_info("plan", "filtered");
	log_final(LOG_LEVEL_INFO, "plan", "shutdown complete", log_ms("duration_ms", 5));
	if (log_prepare_at(&p, LOG_LEVEL_WARN, "plan", "prepared \"line\"", log_int("n", 7)) == 0)
		log_prepared_write(&p);
	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_TEXT);
	if (log_prepare_at(&p, LOG_LEVEL_WARN, "plan", "text line", log_int("n", 8)) == 0)
		log_prepared_write(&p);
}

/* log_final and prepared lines ignore the threshold; a prepared line gets a real time. */
static void test_final_and_prepared(void **state)
{
	char *out = capture_stderr(emit_final);
	cJSON *o;
	char *nl;

	(void)state;
	assert_null(strstr(out, "filtered"));
	assert_non_null(strstr(out, "\"msg\":\"shutdown complete\",\"component\":\"plan\","
				    "\"duration_ms\":5}\n"));
	nl = strstr(out, "{\"time\":\"2"); /* stamped: not the 0000- placeholder */
	assert_non_null(nl = strstr(nl + 1, "{\"time\":\"2"));
	*strchr(nl, '\n') = '\0';
	o = cJSON_Parse(nl);
	assert_non_null(o);
	assert_string_equal(cJSON_GetObjectItem(o, "msg")->valuestring, "prepared \"line\"");
	assert_string_equal(cJSON_GetObjectItem(o, "level")->valuestring, "warn");
	assert_int_equal(cJSON_GetObjectItem(o, "n")->valueint, 7);
	assert_int_equal(strlen(cJSON_GetObjectItem(o, "time")->valuestring), 24);
	cJSON_Delete(o);
	nl += strlen(nl) + 1;
	assert_true(nl[0] == '2' && nl[4] == '-' && nl[10] == 'T' && nl[23] == 'Z');
	assert_non_null(strstr(nl, " warn  plan: text line n=8\n"));
	free(out);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
}

/* A line too long for the prepared buffer is refused, not cut silently. */
static void test_prepared_too_long(void **state)
{
	static char big[2048];
	struct log_prepared p;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
	assert_int_equal(log_prepare_at(&p, LOG_LEVEL_WARN, "plan", big), -1);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_TEXT);
	assert_int_equal(log_prepare_at(&p, LOG_LEVEL_WARN, "plan", big), -1);
	log_configure(LOG_LEVEL_INFO, LOG_FORMAT_JSON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_lines),
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_text_escapes),
		cmocka_unit_test(test_secret_redacted),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_final_and_prepared),
		cmocka_unit_test(test_prepared_too_long),
	};
	return cmocka_run_group_tests_name("log", tests, NULL, NULL);
}
