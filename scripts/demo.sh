#!/bin/sh
# The main job on a fresh machine: install what is needed, build, and run a
# local keycastd: check the shutdown plan, start the daemon, probe it, send
# SIGTERM and show the plan running to its final line.
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
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT

echo
echo "== keycastd plan check plans/default.yaml"
"$bin" plan check "$top/plans/default.yaml" || true

echo
echo "== keycastd serve (plan: plans/dev.yaml), then SIGTERM"
LOG_FORMAT=text "$bin" serve --port 0 --plan "$top/plans/dev.yaml" 2>"$work/log" &
pid=$!
i=0
until grep -q "keycastd started" "$work/log" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
port=$(sed -n 's/.*http: listening.* port=\([0-9]*\).*/\1/p' "$work/log" | head -1)
if [ -n "$port" ] && command -v curl >/dev/null; then
	for path in /healthz/live /healthz/startup /healthz/ready; do
		printf '%-18s ' "$path"
		curl -s -o /dev/null -w '%{http_code}\n' "http://127.0.0.1:$port$path" || true
	done
fi
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
pid=
cat "$work/log"
echo
echo "keycastd exited with status $rc"
exit "$rc"
