#!/bin/sh
# The main job on a fresh machine: install what is needed, build, and run a
# local keycastd stack: a throwaway PostgreSQL, a Nostr relay on loopback,
# a master key, a user's key and an authorization (its bunker:// URI);
# keycastd serve; a real NIP-46 client (nostr-tools' BunkerSigner) through
# connect, get_public_key and sign_event; then SIGTERM while requests are
# in flight, and the shutdown plan answering them before its final line.
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
node=$(command -v node)
work=$(mktemp -d)
pid= relay=
. "$top/tests/integration/pg.sh"
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; [ -n "$relay" ] && kill "$relay" 2>/dev/null; pg_stop; rm -rf "$work"' EXIT
trap 'exit 1' HUP INT TERM

# wait_line FILE PATTERN: wait up to 10 s for PATTERN in FILE.
wait_line() {
	i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		[ $i -ge 100 ] && { echo "demo: timed out waiting for \"$2\" in $1" >&2; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}

echo
echo "== keycastd plan check plans/dev.yaml"
"$bin" plan check "$top/plans/dev.yaml"

echo
echo "== a throwaway PostgreSQL and a Nostr relay on loopback"
pg_start
# The relay acknowledges events a second late, as a distant one may: the
# replies are then still unacknowledged, in flight, when the shutdown begins.
RELAY_OK_DELAY_MS=1000 "$node" "$top/tests/peers/relay.mjs" >"$work/relay.url" 2>"$work/relay.log" &
relay=$!
wait_line "$work/relay.url" ws
relay_url=$(head -n 1 "$work/relay.url")
echo "PostgreSQL: $(pg_url)"
echo "relay:      $relay_url"

echo
echo "== a master key, a user's key and an authorization"
export DATABASE_URL="$(pg_url)" MASTER_KEY_PATH="$work/master.key" LOG_FORMAT=text
export BUNKER_RELAYS="$relay_url"
"$bin" key generate-master "$MASTER_KEY_PATH"
"$bin" db migrate
"$bin" key add alice
"$bin" authz create alice --label demo >"$work/authz"
cat "$work/authz"
uri=$(grep -o 'bunker://[^ ]*' "$work/authz" | head -n 1)

echo
echo "== keycastd serve (plan: plans/dev.yaml)"
"$bin" serve --port 0 --probe-port 0 --listen-addr 127.0.0.1 --plan "$top/plans/dev.yaml" 2>"$work/log" &
pid=$!
wait_line "$work/log" "serving set loaded"
port=$(sed -n 's/.*http: listening listener=probe.* port=\([0-9]*\).*/\1/p' "$work/log" | head -1)
echo "serving on $relay_url; probes and metrics on http://127.0.0.1:$port"

echo
echo "== a NIP-46 client: connect, get_public_key, sign_event"
DEMO_CLIENT_KEY=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export DEMO_CLIENT_KEY # the same client again below: bound by its first connect
"$node" "$top/tests/peers/demo.mjs" round-trip "$uri"
curl -s "http://127.0.0.1:$port/metrics" | grep -E '^keycastd_signer_(requests_total|claims_total|replies_total)' || true

echo
echo "== SIGTERM while sign_event requests are in flight (their replies not yet acknowledged)"
"$node" "$top/tests/peers/demo.mjs" in-flight "$uri" >"$work/client" 2>&1 &
client=$!
wait_line "$work/client" "sent"
kill -TERM "$pid"
wait "$pid" && rc=0 || rc=$?
pid=
wait "$client" && crc=0 || crc=$?
cat "$work/client"
echo
echo "== the daemon's log from SIGTERM on"
sed -n '/shutdown signal received/,$p' "$work/log"
echo
echo "keycastd exited with status $rc; the client's requests were all answered: $([ $crc -eq 0 ] && echo yes || echo NO)"
[ "$rc" -eq 0 ] && [ "$crc" -eq 0 ]
