# tap.sh - tiny TAP helpers for the integration test scripts (sourced),
# and the waiting and probing helpers they share.
# Each script calls tap_plan N first, then tap_check per check; tap_done
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

# poll SECS CMD...: run CMD every 0.1 s until it succeeds, at most SECS seconds.
poll() {
	_n=$(($1 * 10))
	shift
	while [ "$_n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# wait_exit PID SECS: wait for PID (a child) to exit, killing it after SECS; its status.
wait_exit() {
	(
		sleep "$2"
		kill -9 "$1"
	) >/dev/null 2>&1 &
	_wd=$!
	wait "$1"
	_rc=$?
	kill "$_wd" 2>/dev/null
	return $_rc
}

# http_status PORT PATH: the HTTP status of GET PATH on 127.0.0.1:PORT (000: no answer).
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$1$2"; }

# ready PORT: /healthz/ready on PORT answers 200.
ready() { [ "$(http_status "$1" /healthz/ready)" = 200 ]; }

# count FILE PATTERN: the number of lines of FILE matching PATTERN.
count() { grep -c "$2" "$1" 2>/dev/null || true; }

# more_than N FILE PATTERN: FILE has more than N lines matching PATTERN.
more_than() { [ "$(count "$2" "$3")" -gt "$1" ]; }

# logtail NAME...: the last lines of $tmp/NAME.log of each, as diagnostics.
logtail() {
	for _d in "$@"; do
		tap_diag "last lines of $_d.log:"
		tail -n 15 "$tmp/$_d.log" | sed 's/^/#   /'
	done
}
