/*
 * plan_bench.c - how long `keycastd plan check` takes: the in-process work
 * (load plans/default.yaml, layer env, validate, load and check a manifest)
 * and the whole command as CI runs it (fork + exec ./keycastd). Prints the
 * time per run; the goal is "a few ms" so it can run on every commit.
 */
#include "core/diag.h"
#include "core/env.h"
#include "core/log.h"
#include "daemon/catalog.h"
#include "plan/plan.h"
#include "plan/plan_manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BENCH_PLAN     KC_SRCDIR "/plans/default.yaml"
#define BENCH_MANIFEST KC_SRCDIR "/tests/manifests/ok.yaml"

/* Monotonic time in microseconds. */
static double bench_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* One in-process check; returns the number of errors. */
static size_t bench_once(void)
{
	size_t n, errors = 0;
	const struct component_desc *const *descs = catalog_descs(&n);
	struct plan p;
	struct plan_manifest m;
	struct diag d = {0};
	struct env e;

	env_init(&e, 1);
	if (plan_manifest_load(&m, BENCH_MANIFEST, &d) != 0)
		errors++;
	for (size_t i = 0; i < m.nenv; i++)
		errors += env_put(&e, m.env[i]) != 0;
	if (plan_load_file(&p, BENCH_PLAN, &d) == 0) {
		plan_apply_env(&p, &e, &d);
		errors += plan_validate(&p, descs, n, &d);
		plan_manifest_check(&m, &p, &d);
	}
	errors += diag_count(&d, DIAG_ERROR);
	plan_free(&p);
	plan_manifest_free(&m);
	diag_clear(&d);
	env_clear(&e);
	return errors;
}

/* One run of the real command; returns its exit status. */
static int bench_exec(void)
{
	pid_t pid;
	int status = -1;

	fflush(stdout); /* the child must not inherit buffered output */
	pid = fork();

	if (pid == 0) {
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(127);
		execl("./keycastd", "keycastd", "plan", "check", BENCH_PLAN, "--manifest",
		      BENCH_MANIFEST, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Run both measurements. */
int main(void)
{
	const int n_in = 2000, n_exec = 50;
	double t0;
	size_t errors = 0;
	int bad = 0;

	log_configure(LOG_LEVEL_ERROR, LOG_FORMAT_JSON);
	t0 = bench_now_us();
	for (int i = 0; i < n_in; i++)
		errors += bench_once();
	printf("plan check (in-process: load + env + validate + manifest): %.1f us/run (%d runs)\n",
	       (bench_now_us() - t0) / n_in, n_in);
	t0 = bench_now_us();
	for (int i = 0; i < n_exec; i++)
		bad += bench_exec() != 0;
	printf("keycastd plan check PLAN --manifest FILE (fork+exec): %.2f ms/run (%d runs)\n",
	       (bench_now_us() - t0) / n_exec / 1000.0, n_exec);
	if (errors != 0 || bad != 0) {
		fprintf(stderr, "plan_bench: %zu errors, %d failed runs\n", errors, bad);
		return 1;
	}
	return 0;
}
