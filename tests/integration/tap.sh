# tap.sh - tiny TAP helpers for the integration test scripts (sourced).
# Each script calls tap_plan N first, then ok/not_ok per check; tap_done
# exits non-zero if a check failed.
tap_n=0
tap_failed=0

# tap_plan N: announce N tests.
tap_plan() { echo "1..$1"; }

# tap_ok COND-EXIT-STATUS DESCRIPTION: report a check.
tap_check() {
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

# tap_diag TEXT...: a diagnostic line (shown in the log).
tap_diag() { printf '# %s\n' "$@"; }

# tap_done: exit with the failure count (capped).
tap_done() { [ "$tap_failed" -eq 0 ]; exit $?; }

# wait_for FILE PATTERN SECONDS: wait until FILE contains PATTERN.
wait_for() {
	i=0
	while [ $i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}
