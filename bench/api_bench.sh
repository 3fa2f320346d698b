#!/bin/sh
# api_bench.sh - requests per second and latency of the HTTP signing API
# (POST /api/nostr, sign_event) next to the crypto floor of one request.
#
#   make bench-api                 (from the build directory)
#   make bench-api API_BENCH_ARGS='-d 20 -c 64 -t 2'
#
# Starts a throwaway PostgreSQL (tests/integration/pg.sh), migrates it,
# adds a key, an authorization (no policy: no rate limit) and a token,
# runs `keycastd serve` on free ports and drives the route with wrk
# (Debian package wrk) and a Lua script that sets the bearer token and
# the body. Prints wrk's report, the requests/s and latency percentiles
# in one line, and bench/signer_bench's crypto floor of the same run as
# the ceiling one core could reach. Never run by make check; figures
# only, nothing asserted. An optimized build without --enable-asan
# measures what users run.
#
# Options (wrk's): -d SECS (10), -c CONNECTIONS (32), -t THREADS (1).
set -u

KC_SRCDIR=${KC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
KC_BUILDDIR=${KC_BUILDDIR:-$(pwd)}
KC_BIN=${KC_BIN:-$KC_BUILDDIR/keycastd}
SIGNER_BENCH=$KC_BUILDDIR/bench/signer_bench
DURATION=10
CONNS=32
THREADS=1
while getopts d:c:t:h opt; do
	case $opt in
	d) DURATION=$OPTARG ;;
	c) CONNS=$OPTARG ;;
	t) THREADS=$OPTARG ;;
	*) sed -n '2,18s/^# \{0,1\}//p' "$0"; exit 2 ;;
	esac
done

command -v wrk >/dev/null || { echo "api_bench: wrk not found (apt-get install wrk)" >&2; exit 1; }
[ -x "$KC_BIN" ] || { echo "api_bench: $KC_BIN not built" >&2; exit 1; }
. "$KC_SRCDIR/tests/integration/pg.sh"
pg_available || { echo "api_bench: PostgreSQL server binaries not found" >&2; exit 1; }

tmp=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid"; pg_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

# wait_log PATTERN SECS: until the daemon's log holds PATTERN.
wait_log() {
	_n=$(($2 * 10))
	while [ "$_n" -gt 0 ]; do
		grep -q "$1" "$tmp/log" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# port NAME: the port listener NAME logged.
port() {
	grep '"msg":"listening"' "$tmp/log" | grep "\"listener\":\"$1\"" |
		sed 's/.*"port":\([0-9]*\).*/\1/'
}

# --- the crypto floor first, on a quiet machine
if [ -x "$SIGNER_BENCH" ]; then
	"$SIGNER_BENCH" >"$tmp/signer_bench.txt" 2>&1
	FLOOR_US=$(awk '/^crypto floor/ { print $(NF - 1); exit }' "$tmp/signer_bench.txt")
else
	FLOOR_US=
fi

# --- the stack
pg_start >/dev/null || { echo "api_bench: PostgreSQL did not start" >&2; exit 1; }
DATABASE_URL=$KC_PG_URL
MASTER_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
LOG_FORMAT=json
LOG_LEVEL=warn
SHUTDOWN_PRE_DRAIN_SECS=0
export DATABASE_URL MASTER_KEY LOG_FORMAT LOG_LEVEL SHUTDOWN_PRE_DRAIN_SECS
"$KC_BIN" db migrate >/dev/null 2>"$tmp/admin.err" &&
	"$KC_BIN" key add alice >/dev/null 2>>"$tmp/admin.err" &&
	"$KC_BIN" authz create alice --relay ws://127.0.0.1:9 >/dev/null 2>>"$tmp/admin.err" &&
	token=$("$KC_BIN" authz token create 1 --label bench 2>>"$tmp/admin.err" | tail -n 1)
case ${token:-} in
kct_*) ;;
*) echo "api_bench: setup failed:" >&2; cat "$tmp/admin.err" >&2; exit 1 ;;
esac
LOG_LEVEL=info "$KC_BIN" serve --port 0 --probe-port 0 --listen-addr 127.0.0.1 2>"$tmp/log" &
pid=$!
wait_log '"msg":"serving set loaded"' 60 || { echo "api_bench: serve did not start" >&2; tail "$tmp/log" >&2; exit 1; }
url="http://127.0.0.1:$(port api)/api/nostr"

# --- the load
cat >"$tmp/sign.lua" <<LUA
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer $token"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"method":"sign_event","params":[{"kind":1,"content":"hello from wrk","tags":[]}]}'
non200 = 0
response = function(status, headers, body)
	if status ~= 200 then non200 = non200 + 1 end
end
done = function(summary, latency, requests)
	io.write(string.format("summary %.1f %.3f %.3f %.3f %.3f %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(90) / 1000,
		latency:percentile(99) / 1000, latency.max / 1000,
		summary.errors.status + summary.errors.connect + summary.errors.read +
		summary.errors.write + summary.errors.timeout))
end
LUA
curl -s -o "$tmp/one" -w '%{http_code}' -X POST -H "Authorization: Bearer $token" \
	--data-binary '{"method":"sign_event","params":[{"kind":1,"content":"x","tags":[]}]}' "$url" >"$tmp/code"
[ "$(cat "$tmp/code")" = 200 ] || { echo "api_bench: a first request failed: $(cat "$tmp/one")" >&2; exit 1; }
echo "== POST /api/nostr sign_event: wrk -t $THREADS -c $CONNS -d ${DURATION}s, load $(cut -d' ' -f1 /proc/loadavg 2>/dev/null)"
wrk -t "$THREADS" -c "$CONNS" -d "${DURATION}s" --latency -s "$tmp/sign.lua" "$url" | tee "$tmp/wrk.txt"
set -- $(sed -n 's/^summary //p' "$tmp/wrk.txt")
[ $# -eq 6 ] || { echo "api_bench: no summary from wrk" >&2; exit 1; }
echo
printf '%-36s %10s %9s %9s %9s %9s %7s\n' "" "req/s" "p50 ms" "p90 ms" "p99 ms" "max ms" "errors"
printf '%-36s %10s %9s %9s %9s %9s %7s\n' "HTTP API sign_event ($CONNS conns)" "$1" "$2" "$3" "$4" "$5" "$6"
if [ -n "$FLOOR_US" ]; then
	awk -v f="$FLOOR_US" -v r="$1" 'BEGIN {
		printf "%-36s %10.1f %9.3f   (bench/signer_bench, one core)\n", "crypto floor of one NIP-46 request", 1e6 / f, f / 1000
		printf "API requests/s vs that floor: %.2fx (the API signs once, NIP-46 signs twice)\n", r * f / 1e6
	}'
fi
