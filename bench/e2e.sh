#!/bin/sh
# e2e.sh - keycastd end to end, measured: a local stack (a throwaway
# PostgreSQL, the test relay, `keycastd serve`), bench/loadgen at a series
# of offered rates, and the same load against a peer bunker on the same
# relay (NDK's NIP-46 backend, bench/peers/ndk-bunker.mjs).
#
# Per rate and bunker it records loadgen's counts and latency (p50, p90,
# p99, max from the relay's acceptance to the reply), the bunker's CPU
# seconds per 1000 answered requests (utime + stime of its process, every
# thread, from /proc/PID/stat over the run: independent of the relay's
# speed), the relay's and PostgreSQL's the same way, its RSS, and the load
# average. It finds the highest rate whose p99 stays under 100 ms with
# every request answered (a sweep up to the first miss, then a bisection),
# measures RSS idle and with --authz authorizations (made by
# bench/authz_bulk), runs the scale-down and rolling-restart scenarios of
# zeroloss.test longer and faster, prints a table, and writes:
#
#   OUT/e2e.tsv           one row per run (the columns are named in it)
#   OUT/e2e-summary.txt   the machine, the figures, the table
#   OUT/zeroloss.tsv      the longer zero-loss runs
#   OUT/signer_bench.txt  the pipeline against its crypto floor
#   OUT/logs/             every process's output, and where each bunker's
#                         resident memory is at each RSS figure (rss-*.txt,
#                         bench/rss-breakdown.sh)
#   PLOT                  latency (p50, p99) against offered rate, both bunkers
#
# The relay is tests/peers/relay.mjs, by default through
# bench/peers/relay-wasm.mjs (signatures checked by libsecp256k1 in wasm).
# Run it through `make e2e` in a build directory (E2E_ARGS='...' passes
# options); an optimized build without sanitizers measures what users run.
# It takes minutes and is never part of `make check`. Setup: installs
# gnuplot-nox (apt-get, as root) and the peer's npm packages (npm ci in
# bench/peers, pinned by its lock file) when they are missing.
usage() {
	cat <<'EOF'
usage: e2e.sh [--threads N] [--rates LIST] [--peer-rates LIST] [--duration S]
              [--peer-duration S] [--clients N] [--authz N] [--peer-served N]
              [--zeroloss-rate N] [--zeroloss-secs S] [--refine N]
              [--relay-verify wasm|noble] [--no-peer] [--no-zeroloss] [--no-big]
              [--memory] [--quick] [--out DIR] [--plot FILE]
  --threads N        signer_threads of keycastd (default: the daemon's own)
  --rates LIST       offered rates for keycastd, "100 200 ..." (ascending)
  --peer-rates LIST  offered rates for the peer bunker
  --duration S       seconds of load per rate (default 10)
  --peer-duration S  the same for the peer (default 20: it runs at low rates)
  --clients N        authorizations (client apps) sharing the load (default 64)
  --authz N          authorizations for the large-set RSS figure (default 10000)
  --peer-served N    of those, how many the peer serves (default 1000)
  --zeroloss-rate N  rate of the longer zero-loss runs (default: 80 % of the
                     highest rate keycastd sustained in the sweep)
  --zeroloss-secs S  the scale-down run's length (default 30)
  --refine N         bisection steps after the sweep (default 2)
  --relay-verify V   the relay checks signatures with libsecp256k1 in wasm
                     (default, bench/peers/relay-wasm.mjs) or with noble's
                     JS (the plain tests/peers/relay.mjs: ~6 x its CPU per event)
  --no-peer, --no-zeroloss, --no-big   leave that part out
  --memory           the RSS figures only (idle, many authorizations loaded,
                     served), both bunkers: no pipeline benchmark, no sweep,
                     no zero-loss runs
  --quick            a small run of every part (checks the script, not the
                     daemon; the plot stays in DIR unless --plot is given)
  --out DIR          where the results go (default ./e2e)
  --plot FILE        a copy of the latency plot (default doc/performance-latency.png)
EOF
}

KC_SRCDIR=${KC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
KC_BUILDDIR=${KC_BUILDDIR:-$(pwd)}
KC_BIN=${KC_BIN:-$KC_BUILDDIR/keycastd}
LOADGEN=$KC_BUILDDIR/bench/loadgen
SIGNER_BENCH=$KC_BUILDDIR/bench/signer_bench
AUTHZ_BULK=$KC_BUILDDIR/bench/authz_bulk
NODE=${NODE:-node}
RELAY_VERIFY=wasm
PEER_DIR=$KC_SRCDIR/bench/peers
PEER_JS=$PEER_DIR/ndk-bunker.mjs

THREADS=
RATES="100 200 300 400 600 800 1200 1600 2400"
PEER_RATES="5 10 15 20 30 40 60"
DURATION=10
PEER_DURATION=20
CLIENTS=64
AUTHZ=10000
PEER_SERVED=1000
ZL_RATE=
ZL_SECS=30
REFINE=2
DO_PEER=1
DO_ZL=1
DO_BIG=1
OUT=./e2e
PLOT=$KC_SRCDIR/doc/performance-latency.png
PLOT_SET=0
QUICK=0
MEMORY=0
P99_GOAL=100
SETUP_RETRY=5 # loadgen --setup-retry: the peer answers a burst of 64 in about 2 s

# need ARG: the option needs a value.
need() { [ -n "${1:-}" ] || { usage >&2; exit 2; }; }
while [ $# -gt 0 ]; do
	case $1 in
	--threads) need "${2:-}"; THREADS=$2; shift ;;
	--rates) need "${2:-}"; RATES=$2; shift ;;
	--peer-rates) need "${2:-}"; PEER_RATES=$2; shift ;;
	--duration) need "${2:-}"; DURATION=$2; shift ;;
	--peer-duration) need "${2:-}"; PEER_DURATION=$2; shift ;;
	--clients) need "${2:-}"; CLIENTS=$2; shift ;;
	--authz) need "${2:-}"; AUTHZ=$2; shift ;;
	--peer-served) need "${2:-}"; PEER_SERVED=$2; shift ;;
	--zeroloss-rate) need "${2:-}"; ZL_RATE=$2; shift ;;
	--zeroloss-secs) need "${2:-}"; ZL_SECS=$2; shift ;;
	--refine) need "${2:-}"; REFINE=$2; shift ;;
	--relay-verify) need "${2:-}"; RELAY_VERIFY=$2; shift ;;
	--no-peer) DO_PEER=0 ;;
	--no-zeroloss) DO_ZL=0 ;;
	--no-big) DO_BIG=0 ;;
	--memory) RATES= PEER_RATES= DO_ZL=0 MEMORY=1 ;;
	--quick)
		RATES="50 100" PEER_RATES="5 10" DURATION=3 PEER_DURATION=3 CLIENTS=16 AUTHZ=300
		PEER_SERVED=64 ZL_RATE=100 ZL_SECS=8 REFINE=0 QUICK=1
		;;
	--out) need "${2:-}"; OUT=$2; shift ;;
	--plot) need "${2:-}"; PLOT=$2; PLOT_SET=1; shift ;;
	-h | --help) usage; exit 0 ;;
	*) usage >&2; exit 2 ;;
	esac
	shift
done
for v in "$DURATION" "$PEER_DURATION" "$CLIENTS" "$AUTHZ" "$PEER_SERVED" "$ZL_SECS" "$REFINE" \
	${ZL_RATE:+"$ZL_RATE"} ${THREADS:+"$THREADS"}; do
	case $v in '' | *[!0-9]*) echo "e2e: not a whole number: $v" >&2; exit 2 ;; esac
done
[ "$QUICK" -eq 1 ] && [ "$PLOT_SET" -eq 0 ] && PLOT=
case $RELAY_VERIFY in
wasm) RELAY_JS=$PEER_DIR/relay-wasm.mjs ;;
noble) RELAY_JS=$KC_SRCDIR/tests/peers/relay.mjs ;;
*) usage >&2; exit 2 ;;
esac
if [ "$CLIENTS" -lt 4 ] || [ "$AUTHZ" -lt "$CLIENTS" ]; then
	echo "e2e: --clients must be at least 4 and at most --authz" >&2
	exit 2
fi

# shellcheck source=tests/integration/pg.sh
. "$KC_SRCDIR/tests/integration/pg.sh"
# shellcheck source=bench/e2e-lib.sh
. "$KC_SRCDIR/bench/e2e-lib.sh"

mkdir -p "$OUT/logs" || exit 1
OUT=$(cd "$OUT" && pwd)
LOGS=$OUT/logs
TSV=$OUT/e2e.tsv
SUMMARY=$OUT/e2e-summary.txt
relay_pid=
peer_pid=
lg_pid=
replicas=
trap 'e2e_cleanup' EXIT
trap 'exit 1' HUP INT TERM

e2e_setup || exit 1
: >"$SUMMARY"
say "keycastd end-to-end benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
machine | tee -a "$SUMMARY"
printf '%s\n' "$TSV_HEADER" >"$TSV"

# --- the pipeline against its crypto floor (one core, no I/O) ------------------------
say "== signer pipeline against its crypto floor (bench/signer_bench), load $(load1)"
if [ "$MEMORY" -eq 0 ] && [ -x "$SIGNER_BENCH" ]; then
	"$SIGNER_BENCH" >"$OUT/signer_bench.txt" 2>&1
	tee -a "$SUMMARY" <"$OUT/signer_bench.txt"
	FLOOR_US=$(awk '/^crypto floor/ { print $(NF - 1); exit }' "$OUT/signer_bench.txt")
	PIPE_US=$(awk '/^signer pipeline/ { print $(NF - 1); exit }' "$OUT/signer_bench.txt")
fi

# --- the stack, keycastd, the sweep -----------------------------------------------------
pg_start || { echo "e2e: PostgreSQL did not start" >&2; exit 1; }
MASTER_KEY=$(rand32)
DATABASE_URL=$KC_PG_URL
LOG_FORMAT=json
SHUTDOWN_PRE_DRAIN_SECS=1
SHUTDOWN_HTTP_DRAIN_SECS=1
SHUTDOWN_SIGNER_DRAIN_SECS=5
export DATABASE_URL MASTER_KEY LOG_FORMAT SHUTDOWN_PRE_DRAIN_SECS SHUTDOWN_HTTP_DRAIN_SECS \
	SHUTDOWN_SIGNER_DRAIN_SECS
if [ -n "$THREADS" ]; then
	if "$KC_BIN" serve --help 2>&1 | grep -q -- '--signer-threads'; then
		SIGNER_THREADS=$THREADS
		export SIGNER_THREADS
	else
		say "e2e: this keycastd has no signer_threads setting; --threads $THREADS ignored"
		THREADS=
	fi
fi
say "keycastd signer_threads: ${THREADS:-default}; relay: $(basename "$RELAY_JS") (signatures checked with $RELAY_VERIFY)"
start_relay || exit 1
if ! "$KC_BIN" db migrate >/dev/null 2>>"$LOGS/admin.err" ||
	! "$KC_BIN" key add alice >/dev/null 2>>"$LOGS/admin.err"; then
	echo "e2e: db migrate / key add failed (see $LOGS/admin.err)" >&2
	exit 1
fi
authz_create "$CLIENTS" "$OUT/clients" || exit 1
spawn a || exit 1
bind "$OUT/clients" a || exit 1
sleep 2
KC_RSS_IDLE=$(rss_kb "$(replica_pid a)")
say "keycastd idle: $(rss_split keycastd-idle "$(replica_pid a)")"
KC_IDLE_CPU=$(idle_cpu "$(replica_pid a)" 5)
say "keycastd: $CLIENTS authorizations bound; RSS idle ${KC_RSS_IDLE} kB; idle CPU ${KC_IDLE_CPU} ms/s (load $(load1))"
sweep keycastd "$(replica_pid a)" "$OUT/clients" "$RATES" "$DURATION"
KC_BEST=$best
KC_RSS_AFTER=$(rss_kb "$(replica_pid a)")

# --- the longer zero-loss runs: scale-down, rolling restart ------------------------------
if [ "$DO_ZL" -eq 1 ]; then
	zeroloss_runs || say "e2e: the zero-loss runs could not be completed"
fi
stop_replicas

# --- RSS with many authorizations --------------------------------------------------------
if [ "$DO_BIG" -eq 1 ]; then
	big_keycastd || say "e2e: the large-set run could not be completed"
fi

# --- the peer bunker: the same sweep, the same RSS figures -------------------------------
if [ "$DO_PEER" -eq 1 ]; then
	peer_runs || say "e2e: the peer runs could not be completed"
fi

report
