/*
 * fuzz_plan.c - the plan loader on arbitrary text: no crash, no leak, and
 * every finding names the plan and carries a line and a column.
 */
#include <stdlib.h>
#include <string.h>

#include "core/diag.h"
#include "fuzz.h"
#include "plan/plan.h"

/* Load data as a plan; abort if a finding has no position or no message. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan p;
	struct diag d = {0};
	int rc;

	rc = plan_load_string(&p, "fuzz.yaml", (const char *)data, size, &d);
	if (rc != 0 && diag_count(&d, DIAG_ERROR) == 0)
		abort(); /* a refused plan must say why */
	for (size_t i = 0; i < d.n; i++) {
		const struct diag_item *it = &d.items[i];

		if (strcmp(it->file, "fuzz.yaml") != 0 || it->line == 0 || it->col == 0 ||
		    it->message[0] == '\0')
			abort();
	}
	plan_free(&p);
	diag_clear(&d);
	return 0;
}
