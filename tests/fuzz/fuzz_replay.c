/*
 * fuzz_replay.c - a standalone driver for a fuzz target: it calls
 * LLVMFuzzerTestOneInput once per file named on the command line, or per
 * file of each directory named, so make check replays the seed corpus
 * (and every crash once added to it) without libFuzzer.
 *
 * It prints how many inputs it ran and exits 0, or 1 if an argument could
 * not be read; a crash or a sanitizer report ends the process with
 * another status. tests/fuzz/replay.test turns that into TAP.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

/* Largest input replayed (the seed corpora are a few KB). */
#define FZ_REPLAY_MAX (1024 * 1024)

/* Read the file at path and run it through the target; 0, or -1 if unreadable. */
static int fz_run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL, *exact = NULL;
	size_t n;
	int rc = -1;

	if (f == NULL)
		goto fail;
	buf = malloc(FZ_REPLAY_MAX);
	if (buf == NULL)
		goto fail;
	n = fread(buf, 1, FZ_REPLAY_MAX, f);
	if (ferror(f) || !feof(f))
		goto fail; /* unreadable, or larger than any input we replay */
	/* A copy of exactly n bytes, so ASan sees a read past the input. */
	exact = malloc(n ? n : 1);
	if (exact == NULL)
		goto fail;
	memcpy(exact, buf, n);
	(void)LLVMFuzzerTestOneInput(exact, n);
	rc = 0;
fail:
	if (rc != 0)
		fprintf(stderr, "# %s: unreadable, or larger than %d bytes\n", path, FZ_REPLAY_MAX);
	free(exact);
	free(buf);
	if (f != NULL)
		fclose(f);
	return rc;
}

/* Run every regular file of directory dir (not recursive); the count, or -1. */
static long fz_run_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[4096];
	long count = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int n = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);

		if (n < 0 || (size_t)n >= sizeof(path) || stat(path, &st) != 0) {
			count = -1;
			break;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		if (fz_run_file(path) != 0) {
			count = -1;
			break;
		}
		count++;
	}
	closedir(d);
	return count;
}

/* Run one file or directory argument; the number of inputs, or -1. */
static long fz_run_arg(const char *arg)
{
	struct stat st;

	if (stat(arg, &st) != 0) {
		fprintf(stderr, "# %s: %s\n", arg, strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return fz_run_dir(arg);
	return fz_run_file(arg) == 0 ? 1 : -1;
}

/* Replay every input given; print how many ran. */
int main(int argc, char **argv)
{
	long total = 0;

	for (int i = 1; i < argc; i++) {
		long n = fz_run_arg(argv[i]);

		if (n < 0) {
			printf("cannot replay %s\n", argv[i]);
			return 1;
		}
		total += n;
	}
	printf("%ld inputs\n", total);
	return total > 0 ? 0 : 1;
}
