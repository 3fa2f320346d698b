#!/bin/sh
# The main job on a fresh machine: install what is needed, build, and run a
# local keycastd stack: a throwaway PostgreSQL, a master key, a user's key
# and an authorization (its bunker:// URI), the shutdown plan checked, the
# daemon started against the database and probed, then SIGTERM and the
# plan running to its final line.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KC_BUILD_DIR:-$top/build}

"$top/scripts/setup.sh"
[ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] || "$top/autogen.sh"
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure"
make -j"$(nproc)"
bin="$build/keycastd"
work=$(mktemp -d)
pid=
. "$top/tests/integration/pg.sh"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; pg_stop; rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

echo
echo "== keycastd plan check plans/default.yaml"
"$bin" plan check "$top/plans/default.yaml"

echo
echo "== a throwaway PostgreSQL, a master key, a key and an authorization"
pg_start
export DATABASE_URL="$(pg_url)" MASTER_KEY_PATH="$work/master.key" LOG_FORMAT=text
export BUNKER_RELAYS=ws://127.0.0.1:7777
"$bin" key generate-master "$MASTER_KEY_PATH"
"$bin" db migrate
"$bin" key add alice
"$bin" authz create alice --label demo
"$bin" authz list

echo
echo "== keycastd serve (plan: plans/dev.yaml), probes, then SIGTERM"
"$bin" serve --port 0 --listen-addr 127.0.0.1 --plan "$top/plans/dev.yaml" 2>"$work/log" &
pid=$!
i=0
until grep -q "keycastd started" "$work/log" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*http: listening.* port=\([0-9]*\).*/\1/p' "$work/log" | head -1)
for path in /healthz/live /healthz/startup /healthz/ready; do
	# readiness waits for the pool's first connection
	j=0
	while :; do
		code=$(curl -s -o "$work/body" -w '%{http_code}' "http://127.0.0.1:$port$path" || true)
		[ "$code" = 200 ] || [ $j -ge 50 ] && break
		sleep 0.1; j=$((j + 1))
	done
	printf '%-18s %s %s\n' "$path" "$code" "$(head -c 120 "$work/body")"
done
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^keycastd_(build_info|db_connections|shutdown_in_progress)' || true
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
pid=
cat "$work/log"
echo
echo "keycastd exited with status $rc"
exit "$rc"
