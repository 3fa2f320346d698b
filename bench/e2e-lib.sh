# e2e-lib.sh - the functions of bench/e2e.sh (sourced, POSIX sh): the
# stack's processes, one measured load run, the sweep, the zero-loss runs,
# the large-set runs, the peer, the report. They read e2e.sh's settings.

TSV_HEADER="bunker	phase	rate	secs	clients	sent	accepted	answered	lost	dup	invalid	error_only	p50_ms	p90_ms	p99_ms	max_ms	lag_ms	cpu_s	cpu_s_per_1000	relay_s_per_1000	pg_s_per_1000	loadgen_cpu_s	rss_kb	load1"
CLK_TCK=$(getconf CLK_TCK)

# say TEXT: a line on stdout and in the summary.
say() { printf '%s\n' "$*" | tee -a "$SUMMARY"; }

# rand32: 32 random bytes in hex (a key).
rand32() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }

# load1: the one-minute load average.
load1() { cut -d' ' -f1 /proc/loadavg; }

# now_ms: wall-clock milliseconds.
now_ms() { date +%s%3N; }

# machine: what the figures were measured on.
machine() {
	echo "machine: $(nproc) CPUs online, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)"
	echo "memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo), kernel $(uname -r)"
	echo "uptime: $(uptime)"
	echo "keycastd: $("$KC_BIN" version 2>/dev/null | head -n 1), $(cd "$KC_SRCDIR" && git describe --always --dirty 2>/dev/null)"
	echo "node: $("$NODE" --version)"
}

# wait_for FILE PATTERN SECONDS: wait until FILE contains PATTERN.
wait_for() {
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# wait_exit PID SECS: wait for PID (a child) at most SECS seconds (then kill -9); its status.
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

# e2e_setup: check the binaries and peers; install gnuplot and the peer's packages if missing.
e2e_setup() {
	for _b in "$KC_BIN" "$LOADGEN" "$AUTHZ_BULK"; do
		[ -x "$_b" ] || { echo "e2e: $_b not built (make e2e builds it)" >&2; return 1; }
	done
	pg_available || { echo "e2e: PostgreSQL server binaries not found (scripts/setup.sh)" >&2; return 1; }
	[ -d "$KC_SRCDIR/tests/peers/node_modules/@nostr-relay" ] ||
		{ echo "e2e: the test relay's packages are missing: run scripts/setup.sh" >&2; return 1; }
	if ! command -v gnuplot >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
		echo "e2e: installing gnuplot-nox"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			gnuplot-nox >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				--no-install-recommends gnuplot-nox >/dev/null 2>&1; }
	fi
	command -v gnuplot >/dev/null 2>&1 || echo "e2e: no gnuplot: the plot is left out" >&2
	[ "$RELAY_VERIFY" = noble ] || [ -d "$KC_SRCDIR/tests/peers/node_modules/nostr-wasm" ] ||
		{ echo "e2e: nostr-wasm missing from tests/peers: run scripts/setup.sh" >&2; return 1; }
	# the peer's packages, pinned by its lock file; the marker holds the lock's hash
	_lock=$(sha256sum "$PEER_DIR/package-lock.json" | cut -d' ' -f1)
	if [ "$DO_PEER" -eq 1 ] && [ "$(cat "$PEER_DIR/node_modules/.keycastd-ok" 2>/dev/null)" != "$_lock" ]; then
		echo "e2e: installing the peer bunker's npm packages (bench/peers)"
		(cd "$PEER_DIR" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
			{ echo "e2e: npm ci in $PEER_DIR failed" >&2; return 1; }
		echo "$_lock" >"$PEER_DIR/node_modules/.keycastd-ok"
	fi
	return 0
}

# e2e_cleanup: stop everything this run started (for trap ... EXIT).
e2e_cleanup() {
	for _n in $replicas; do
		_p=$(replica_pid "$_n")
		[ -n "$_p" ] && kill -9 "$_p" 2>/dev/null
	done
	for _p in $peer_pid $lg_pid $relay_pid; do
		kill -9 "$_p" 2>/dev/null
	done
	pg_stop
}

# start_relay: the test relay (RELAY_JS) on a free port; sets relay_pid and url.
start_relay() {
	: >"$LOGS/relay.url"
	"$NODE" "$RELAY_JS" >"$LOGS/relay.url" 2>>"$LOGS/relay.err" &
	relay_pid=$!
	wait_for "$LOGS/relay.url" "ws://" 20 || { echo "e2e: the relay did not start" >&2; return 1; }
	url=$(head -n 1 "$LOGS/relay.url")
}

# authz_create N FILE: N authorizations of alice (bench/authz_bulk), FILE lines "URI CLIENT-SECRET".
authz_create() {
	_t0=$(now_ms)
	"$AUTHZ_BULK" alice "$url" "$1" >"$2" 2>>"$LOGS/admin.err"
	_got=$(grep -c '^bunker://' "$2")
	say "e2e: $_got authorizations created in $((($(now_ms) - _t0) / 1000)) s"
	[ "$_got" -eq "$1" ] || { say "e2e: $1 were asked for (see $LOGS/admin.err)"; return 1; }
}

# replica_pid NAME: the pid of replica NAME (empty when stopped).
replica_pid() { eval "echo \${pid_$1:-}"; }

# spawn NAME [ENV=VALUE...]: start `keycastd serve` as NAME and wait until it
# serves and /healthz/ready says 200 (unless NO_READY=1: then it only serves).
spawn() {
	_n=$1
	shift
	env "$@" "$KC_BIN" serve --port 0 --probe-port 0 --listen-addr 127.0.0.1 --instance-id "$_n" \
		>"$LOGS/$_n.out" 2>"$LOGS/$_n.log" &
	eval "pid_$_n=$!"
	replicas="$replicas $_n"
	if ! wait_for "$LOGS/$_n.log" '"msg":"serving set loaded"' "${UP_SECS:-60}" ||
		! wait_for "$LOGS/$_n.log" '"msg":"connected","component":"relay"' 30; then
		say "e2e: replica $_n did not come up (see $LOGS/$_n.log)"
		return 1
	fi
	eval "port_$_n=$(sed -n 's/.*"msg":"listening","component":"http","listener":"probe".*"port":\([0-9]*\).*/\1/p' \
		"$LOGS/$_n.log" | head -n 1)"
	# ready as an orchestrator sees it (subscriptions held, database up)
	_i=0
	[ "${NO_READY:-0}" -eq 1 ] && return 0
	until curl -sf --max-time 5 -o /dev/null "http://127.0.0.1:$(eval "echo \$port_$_n")/healthz/ready"; do
		_i=$((_i + 1))
		[ $_i -lt 300 ] || { say "e2e: replica $_n never ready (see $LOGS/$_n.log)"; return 1; }
		sleep 0.1
	done
}

# stop_replica NAME: SIGTERM, wait (bounded); its exit status; STOP_MS how long it took.
stop_replica() {
	_p=$(replica_pid "$1")
	[ -n "$_p" ] || return 0
	_t0=$(now_ms)
	kill -TERM "$_p"
	wait_exit "$_p" 60
	_rc=$?
	STOP_MS=$(($(now_ms) - _t0))
	eval "pid_$1="
	return $_rc
}

# stop_replicas: stop every running replica.
stop_replicas() {
	for _n in $replicas; do
		stop_replica "$_n"
	done
	replicas=
}

# metric NAME SERIES: a value of replica NAME's /metrics.
metric() {
	curl -s --max-time 10 "http://127.0.0.1:$(eval "echo \$port_$1")/metrics" |
		awk -v s="$2" '$1 == s { print $2; exit }'
}

# bind FILE: loadgen --connect --count 0: every client of FILE bound and ready.
bind() {
	timeout -k 5 300 "$LOADGEN" --connect --count 0 --setup-retry "$SETUP_RETRY" "$1" \
		>"$LOGS/bind.lg" 2>"$LOGS/bind.lgerr"
	grep -q "clients ready; sending" "$LOGS/bind.lgerr" ||
		{ say "e2e: clients of $1 not bound (see $LOGS/bind.lgerr)"; return 1; }
}

# cpu_ticks PID: utime + stime of the process (all its threads), in clock ticks.
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{ print $12 + $13 }'; }

# pg_ticks: utime + stime of the postmaster and its children, in clock ticks.
pg_ticks() {
	_pm=$(head -n 1 "$PG_DIR/data/postmaster.pid" 2>/dev/null)
	[ -n "$_pm" ] || { echo 0; return; }
	cat /proc/[0-9]*/stat 2>/dev/null | sed 's/.*) //' |
		awk -v pm="$_pm" '$2 == pm { t += $12 + $13 } END { print t + 0 }' |
		awk -v self="$(cpu_ticks "$_pm")" '{ print $1 + self }'
}

# rss_split NAME PID: where PID's resident memory is, into LOGS/rss-NAME.txt
# (bench/rss-breakdown.sh); prints its first line (file-backed, anonymous).
rss_split() {
	"$KC_SRCDIR/bench/rss-breakdown.sh" "$2" >"$LOGS/rss-$1.txt" 2>&1
	head -n 1 "$LOGS/rss-$1.txt"
}

# rss_kb PID: resident memory; hwm_kb PID: its peak.
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
hwm_kb() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null; }

# settle PID: wait (30 s at most) until the process is idle: under 5 % of a
# CPU over half a second, so that no backlog of a previous run is measured.
settle() {
	_i=0
	while [ $_i -lt 60 ]; do
		_a=$(cpu_ticks "$1")
		sleep 0.5
		[ $(($(cpu_ticks "$1") - _a)) -le $((CLK_TCK / 40)) ] && return 0
		_i=$((_i + 1))
	done
	say "e2e: pid $1 still busy after 30 s"
}

# idle_cpu PID SECS: the process's CPU milliseconds per second over SECS idle seconds.
idle_cpu() {
	_a=$(cpu_ticks "$1")
	sleep "$2"
	echo "$_a $(cpu_ticks "$1")" | awk -v hz="$CLK_TCK" -v s="$2" '{ printf "%.1f", ($2 - $1) * 1000 / hz / s }'
}

# jtot JSON FIELD: a total of a loadgen JSON line (0 when absent).
jtot() {
	_v=$(echo "$1" | sed -n "s/,\"latency_ms\".*//; s/.*[{,]\"$2\":\([0-9.]*\).*/\1/p")
	echo "${_v:-0}"
}

# jlat JSON FIELD: a latency figure of a loadgen JSON line (ms; "-" when absent).
jlat() {
	_v=$(echo "$1" | sed -n "s/.*\"latency_ms\":{\([^}]*\)}.*/\1/; s/.*\"$2\":\([0-9.]*\).*/\1/p")
	echo "${_v:--}"
}

# wait_sending FILE PID: wait until loadgen PID says it sends (0), or has exited (1).
wait_sending() {
	while ! grep -q 'sending$' "$1" 2>/dev/null; do
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.01
	done
}

# run_load BUNKER PHASE PID RATE SECS FILE [LOADGEN-ARGS...]: one measured run,
# one row of e2e.tsv; sets R_OK (1: all answered, p99 under the goal), R_P99, R_JSON.
run_load() {
	_bk=$1 _ph=$2 _pid=$3 _rate=$4 _secs=$5 _file=$6
	shift 6
	_name=$_bk-$_ph-$_rate
	settle "$_pid"
	_ld=$(load1)
	R_OK=0
	"$LOADGEN" --rate "$_rate" --duration "$_secs" --timeout 30 --setup-retry "$SETUP_RETRY" \
		"$@" "$_file" \
		>"$LOGS/$_name.lg" 2>"$LOGS/$_name.lgerr" &
	lg_pid=$!
	if ! wait_sending "$LOGS/$_name.lgerr" "$lg_pid"; then
		wait "$lg_pid"
		lg_pid=
		say "e2e: $_name: loadgen did not start sending (see $LOGS/$_name.lgerr)"
		return 1
	fi
	_c0=$(cpu_ticks "$_pid") _r0=$(cpu_ticks "$relay_pid") _p0=$(pg_ticks)
	wait "$lg_pid"
	lg_pid=
	_c1=$(cpu_ticks "$_pid") _r1=$(cpu_ticks "$relay_pid") _p1=$(pg_ticks)
	R_JSON=$(sed -n 's/^loadgen: {/{/p' "$LOGS/$_name.lg")
	[ -n "$R_JSON" ] || { say "e2e: $_name: no report (see $LOGS/$_name.lgerr)"; return 1; }
	_rss=$(rss_kb "$_pid")
	_cl=$(jtot "$R_JSON" clients) _sent=$(jtot "$R_JSON" sent)
	_acc=$(jtot "$R_JSON" accepted) _ans=$(jtot "$R_JSON" answered)
	_lost=$(jtot "$R_JSON" lost) _dup=$(jtot "$R_JSON" duplicated)
	_inv=$(jtot "$R_JSON" invalid) _eo=$(jtot "$R_JSON" error_only)
	_lag=$(jtot "$R_JSON" send_lag_ms_max) _lgc=$(jtot "$R_JSON" cpu_s)
	R_P99=$(jlat "$R_JSON" p99)
	echo "$_bk $_ph $_rate $_secs $_cl $_sent $_acc $_ans $_lost $_dup $_inv $_eo" \
		"$(jlat "$R_JSON" p50) $(jlat "$R_JSON" p90) $R_P99 $(jlat "$R_JSON" max) $_lag" \
		"$_c0 $_c1 $_r0 $_r1 $_p0 $_p1 $_lgc ${_rss:-0} $_ld" |
		awk -v hz="$CLK_TCK" 'function per(a, b) { return $8 > 0 ? sprintf("%.3f", (b - a) / hz / $8 * 1000) : "-" }
		{ printf "%s", $1; for (i = 2; i <= 17; i++) printf "\t%s", $i
		  printf "\t%.2f\t%s\t%s\t%s\t%s\t%s\t%s\n", ($19 - $18) / hz, per($18, $19),
			per($20, $21), per($22, $23), $24, $25, $26 }' >>"$TSV"
	tail -n 1 "$TSV" | awk -F'\t' '{ printf "%-8s %-7s %6s/s: p50 %7s  p99 %7s  max %7s ms; answered %s of %s, lost %s; %s CPU s/1000 (relay %s); RSS %d kB; load %s\n",
		$1, $2, $3, $13, $15, $16, $8, $6, $9, $19, $20, $23, $24 }' | tee -a "$SUMMARY"
	[ "$_sent" -gt 0 ] && [ "$_acc" -eq "$_sent" ] && [ "$_ans" -eq "$_acc" ] &&
		[ "$_dup" -eq 0 ] && [ "$_inv" -eq 0 ] &&
		awk -v p="$R_P99" -v g="$P99_GOAL" 'BEGIN { exit !(p != "-" && p + 0 < g + 0) }' && R_OK=1
	return 0
}

# sweep BUNKER PID FILE RATES SECS: runs of SECS seconds at each rate until
# two in a row miss the goal (one miss can be noise: a pause of the machine)
# or one saturates (a loss, or p99 over 10 x the goal); then bisects REFINE
# times between the highest rate that met the goal and the next one up.
# Sets best (0: no rate met it).
sweep() {
	best=0
	_bad=
	_miss=0
	for _r in $4; do
		run_load "$1" sweep "$2" "$_r" "$5" "$3" || break
		sleep 2
		if [ "$R_OK" -eq 1 ]; then
			best=$_r _bad= _miss=0
			continue
		fi
		[ -n "$_bad" ] || _bad=$_r
		_miss=$((_miss + 1))
		[ $_miss -lt 2 ] || break
		[ "$(jtot "$R_JSON" lost)" -eq 0 ] || break
		awk -v p="$R_P99" -v g="$P99_GOAL" 'BEGIN { exit !(p == "-" || p + 0 > 10 * g) }' && break
	done
	_k=0
	while [ -n "$_bad" ] && [ $_k -lt "$REFINE" ]; do
		_mid=$(((best + _bad) / 2))
		[ $((_bad - best)) -gt $((best / 10 + 1)) ] || break
		run_load "$1" refine "$2" "$_mid" "$5" "$3" || break
		sleep 2
		if [ "$R_OK" -eq 1 ]; then best=$_mid; else _bad=$_mid; fi
		_k=$((_k + 1))
	done
	say "$1: highest rate with p99 under $P99_GOAL ms (all answered): $best/s"
}

# zl_row SCENARIO NOTE: one row of zeroloss.tsv from the last loadgen run ($R_JSON).
zl_row() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$ZL_RATE" \
		"$(jtot "$R_JSON" sent)" "$(jtot "$R_JSON" accepted)" "$(jtot "$R_JSON" answered)" \
		"$(jtot "$R_JSON" lost)" "$(jtot "$R_JSON" duplicated)" "$(jtot "$R_JSON" invalid)" \
		"$(jlat "$R_JSON" p50)" "$(jlat "$R_JSON" p99)" "$(jlat "$R_JSON" max)" "$(load1)" "$2" \
		>>"$OUT/zeroloss.tsv"
	tail -n 1 "$OUT/zeroloss.tsv" | awk -F'\t' '{ printf "zeroloss %-16s %s/s: sent %s, accepted %s, answered %s, lost %s, duplicated %s, invalid %s; p99 %s ms; %s\n",
		$1, $2, $3, $4, $5, $6, $7, $8, $10, $13 }' | tee -a "$SUMMARY"
}

# zl_load NAME SECS: loadgen at ZL_RATE in the background; returns once it sends.
zl_load() {
	_marks0=$(overload_marks)
	"$LOADGEN" --rate "$ZL_RATE" --duration "$2" --timeout 30 --lost-file "$LOGS/$1.lost" \
		--setup-retry "$SETUP_RETRY" "$OUT/clients" >"$LOGS/$1.lg" 2>"$LOGS/$1.lgerr" &
	lg_pid=$!
	wait_sending "$LOGS/$1.lgerr" "$lg_pid"
}

# overload_marks: "A B": the replicas' log lines so far saying a request was
# left unclaimed at signer_max_inflight (A), a reply not acknowledged (B).
overload_marks() {
	cat "$LOGS"/[ab]*.log 2>/dev/null | awk '/"msg":"signer_max_inflight reached/ { a++ }
		/"msg":"reply not accepted by any relay"/ { b++ } END { print a + 0, b + 0 }'
}

# zl_end NAME: wait for the background loadgen; sets R_JSON and LOST_BY (who
# had claimed the lost requests: "instance:count ...", "none" for unclaimed,
# and how often the replicas were saturated meanwhile).
zl_end() {
	wait_exit "$lg_pid" 300
	lg_pid=
	R_JSON=$(sed -n 's/^loadgen: {/{/p' "$LOGS/$1.lg")
	_marks1=$(overload_marks)
	LOST_BY=
	if [ -s "$LOGS/$1.lost" ]; then
		_ids=$(sed "s/.*/'&'/" "$LOGS/$1.lost" | paste -sd, -)
		_claimed=$(pg_psql -tAc "SELECT instance_id || ':' || count(*) FROM request_claims
			WHERE event_id IN ($_ids) GROUP BY instance_id ORDER BY 1" 2>>"$LOGS/admin.err" |
			paste -sd' ' -)
		LOST_BY="; lost requests claimed by: ${_claimed:-none}"
	fi
	echo "$_marks0 $_marks1" | awk '$3 > $1 || $4 > $2 { printf "; left unclaimed at signer_max_inflight: %d, replies unacknowledged: %d\n", $3 - $1, $4 - $2 }' >"$LOGS/$1.marks"
	LOST_BY="$LOST_BY$(cat "$LOGS/$1.marks")"
	[ -n "$R_JSON" ]
}

# zeroloss_runs: scale-down (SIGTERM a mid-run) and a rolling restart, longer and faster.
zeroloss_runs() {
	printf 'scenario\trate\tsent\taccepted\tanswered\tlost\tdup\tinvalid\tp50_ms\tp99_ms\tmax_ms\tload1\tnote\n' \
		>"$OUT/zeroloss.tsv"
	# by default at 80 % of the highest rate this stack sustained (p99 < goal)
	if [ -z "$ZL_RATE" ]; then
		ZL_RATE=$((${KC_BEST:-0} * 8 / 100 * 10))
		[ "$ZL_RATE" -ge 50 ] || ZL_RATE=50
	fi
	spawn b || return 1
	zl_load zl-down "$ZL_SECS" || return 1
	sleep $((ZL_SECS / 3))
	stop_replica a
	_rc=$?
	_note="a exit $_rc after ${STOP_MS} ms"
	zl_end zl-down || return 1
	zl_row scale-down "$_note$LOST_BY"
	spawn a2 || return 1
	zl_load zl-rolling $((ZL_SECS * 3)) || return 1
	sleep 2
	stop_replica a2
	_note="a2 exit $? (${STOP_MS} ms)"
	spawn a3 || return 1
	stop_replica b
	_note="$_note, b exit $? (${STOP_MS} ms)"
	spawn b2 || return 1
	grep -q 'waiting for late replies' "$LOGS/zl-rolling.lgerr" && _note="$_note; the load ended first"
	sleep $((ZL_SECS / 3))
	kill -TERM "$lg_pid"
	zl_end zl-rolling || return 1
	zl_row rolling-restart "$_note$LOST_BY"
}

# serve_chunks BUNKER PID FILE SIZE RATE [LOADGEN-ARGS...]: serve every client of
# FILE once, SIZE clients a loadgen run; sets SERVED, SERVE_LOST, SERVE_FAILED.
serve_chunks() {
	_bk=$1 _pid=$2 _f=$3 _sz=$4 _rt=$5
	shift 5
	SERVED=0 SERVE_LOST=0 SERVE_FAILED=0
	rm -f "$_f".chunk*
	split -l "$_sz" -d -a 4 "$_f" "$_f.chunk"
	for _ch in "$_f".chunk*; do
		_nl=$(grep -c . "$_ch")
		if run_load "$_bk" "big${_ch##*.chunk}" "$_pid" "$_rt" 1 "$_ch" --count "$_nl" "$@"; then
			SERVED=$((SERVED + $(jtot "$R_JSON" answered)))
			SERVE_LOST=$((SERVE_LOST + $(jtot "$R_JSON" lost)))
		else
			SERVE_FAILED=$((SERVE_FAILED + _nl))
		fi
	done
	rm -f "$_f".chunk*
}

# big_keycastd: AUTHZ authorizations loaded by a fresh replica, RSS, then each
# one it subscribes to served once (connect, get_public_key, sign_event), RSS.
big_keycastd() {
	authz_create $((AUTHZ - CLIENTS)) "$OUT/clients.big" || return 1
	NO_READY=1 UP_SECS=600
	spawn big
	_rc=$?
	NO_READY=0 UP_SECS=60
	[ $_rc -eq 0 ] || return 1
	sleep 3
	_pid=$(replica_pid big)
	KC_BIG_READY=$(curl -s --max-time 5 "http://127.0.0.1:$port_big/healthz/ready")
	KC_BIG_AUTHZ=$(metric big keycastd_signer_authorizations)
	KC_BIG_SUBS=$(metric big keycastd_signer_subscriptions)
	KC_RSS_BIG_LOADED=$(rss_kb "$_pid")
	say "keycastd loaded: $(rss_split keycastd-loaded "$_pid")"
	# The serving set fills its subscriptions (256 bunker keys each) in
	# bunker-key order; the keys past the last one never reach this replica.
	_reach=$((${KC_BIG_SUBS:-0} * 256))
	[ "$_reach" -gt "$AUTHZ" ] && _reach=$AUTHZ
	_cut=$(cat "$OUT/clients" "$OUT/clients.big" | sed 's|^bunker://\([0-9a-f]*\).*|\1|' |
		LC_ALL=C sort | sed -n "${_reach}p")
	awk -v cut="$_cut" '{ k = substr($1, 10, 64) } k <= cut' "$OUT/clients.big" >"$OUT/clients.reach"
	KC_BIG_REACH=$(grep -c . "$OUT/clients.reach")
	say "keycastd: $KC_BIG_AUTHZ authorizations loaded, $KC_BIG_SUBS subscriptions (up to $_reach bunker keys); RSS ${KC_RSS_BIG_LOADED} kB; serving the $KC_BIG_REACH new ones it subscribes to"
	say "keycastd: /healthz/ready with $KC_BIG_AUTHZ authorizations: ${KC_BIG_READY:-no answer}"
	grep '"level":"\(warn\|error\)"' "$LOGS/big.log" | sed 's/^{"time":"[^"]*",//' | sort | uniq -c |
		sort -rn | head -n 3 | sed 's/^/keycastd: logged: /' | tee -a "$SUMMARY"
	serve_chunks keycastd "$_pid" "$OUT/clients.reach" 128 300 --connect
	KC_BIG_SERVED=$SERVED KC_BIG_LOST=$SERVE_LOST KC_BIG_FAILED=$SERVE_FAILED
	sleep 2
	KC_RSS_BIG_SERVED=$(rss_kb "$_pid") KC_HWM_BIG=$(hwm_kb "$_pid")
	say "keycastd served: $(rss_split keycastd-served "$_pid")"
	say "keycastd: $KC_BIG_SERVED authorizations served once (lost $KC_BIG_LOST, clients never ready $KC_BIG_FAILED); RSS ${KC_RSS_BIG_SERVED} kB, peak ${KC_HWM_BIG} kB"
	stop_replicas
}

# start_peer N FILE [--bound]: the NDK bunker with N client apps written to FILE; sets peer_pid.
start_peer() {
	: >"$LOGS/peer.out"
	"$NODE" "$PEER_JS" ${3:+"$3"} "$url" "$2" "$1" >"$LOGS/peer.out" 2>>"$LOGS/peer.err" &
	peer_pid=$!
	wait_for "$LOGS/peer.out" '^ready' 60 ||
		{ say "e2e: the peer bunker did not start (see $LOGS/peer.err)"; return 1; }
}

# stop_peer: SIGTERM the peer bunker and wait for it.
stop_peer() {
	kill -TERM "$peer_pid" 2>/dev/null
	wait_exit "$peer_pid" 20
	peer_pid=
}

# peer_runs: the peer bunker through the same sweep, idle RSS, and RSS with AUTHZ client apps.
peer_runs() {
	start_peer "$CLIENTS" "$OUT/peer-clients" || return 1
	bind "$OUT/peer-clients" || return 1
	sleep 2
	PEER_RSS_IDLE=$(rss_kb "$peer_pid")
	say "ndk idle: $(rss_split ndk-idle "$peer_pid")"
	PEER_IDLE_CPU=$(idle_cpu "$peer_pid" 5)
	say "ndk: $CLIENTS client apps bound; RSS idle ${PEER_RSS_IDLE} kB; idle CPU ${PEER_IDLE_CPU} ms/s (load $(load1))"
	sweep ndk "$peer_pid" "$OUT/peer-clients" "$PEER_RATES" "$PEER_DURATION"
	PEER_BEST=$best
	PEER_RSS_AFTER=$(rss_kb "$peer_pid")
	stop_peer
	[ "$DO_BIG" -eq 1 ] || return 0
	start_peer "$AUTHZ" "$OUT/peer-clients.big" --bound || return 1
	sleep 3
	PEER_RSS_BIG_LOADED=$(rss_kb "$peer_pid")
	say "ndk loaded: $(rss_split ndk-loaded "$peer_pid")"
	head -n "$PEER_SERVED" "$OUT/peer-clients.big" >"$OUT/peer-clients.served"
	say "ndk: $AUTHZ client apps permitted; RSS ${PEER_RSS_BIG_LOADED} kB; serving $PEER_SERVED of them"
	serve_chunks ndk "$peer_pid" "$OUT/peer-clients.served" 32 30
	PEER_BIG_SERVED=$SERVED
	sleep 2
	PEER_RSS_BIG_SERVED=$(rss_kb "$peer_pid") PEER_HWM_BIG=$(hwm_kb "$peer_pid")
	say "ndk served: $(rss_split ndk-served "$peer_pid")"
	say "ndk: $PEER_BIG_SERVED client apps served once (lost $SERVE_LOST, never ready $SERVE_FAILED); RSS ${PEER_RSS_BIG_SERVED} kB, peak ${PEER_HWM_BIG} kB"
	stop_peer
}

# ratio A B: A / B with one decimal, or "-".
ratio() { awk -v a="${1:-}" -v b="${2:-}" 'BEGIN { if (a == "" || b == "" || b + 0 == 0 || a == "-" || b == "-") print "-"; else printf "%.1f", a / b }'; }

# cpu_med BUNKER: the median CPU seconds per 1000 requests of the bunker's
# sweep runs in which every request was answered ("-" when none was).
cpu_med() {
	awk -F'\t' -v b="$1" '$1 == b && ($2 == "sweep" || $2 == "refine") && $6 > 0 && $8 == $6 { print $19 }' \
		"$TSV" | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# plot: latency (p50, p99) against offered rate for both bunkers, with gnuplot.
plot() {
	command -v gnuplot >/dev/null 2>&1 || return 0
	for _b in keycastd ndk; do
		awk -F'\t' -v b="$_b" '$1 == b && ($2 == "sweep" || $2 == "refine") { print $3, $13, $15 }' \
			"$TSV" | sort -n >"$OUT/$_b.dat"
	done
	_sub="$(nproc) CPUs, $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1); keycastd signer_threads ${THREADS:-default}"
	[ -s "$OUT/keycastd.dat" ] || { say "e2e: no keycastd run to plot"; return 0; }
	_peer=
	[ -s "$OUT/ndk.dat" ] && _peer=$OUT/ndk.dat
	gnuplot -e "kc='$OUT/keycastd.dat'; peer='$_peer'; out='$OUT/latency.png'; sub='$_sub'" \
		"$KC_SRCDIR/bench/e2e.gnuplot" 2>"$LOGS/gnuplot.err" ||
		{ say "e2e: gnuplot failed (see $LOGS/gnuplot.err)"; return 0; }
	say "plot: $OUT/latency.png"
	if [ -n "$PLOT" ]; then
		cp "$OUT/latency.png" "$PLOT" && say "plot: $PLOT"
	fi
}

# report: the table of every sweep run, the figures and ratios, the plot.
report() {
	say ""
	say "== table (sweep and bisection runs; CPU s per 1000 answered requests)"
	awk -F'\t' 'NR == 1 || $2 == "sweep" || $2 == "refine" {
		printf "%-8s %6s %8s %8s %8s %8s %6s %8s %8s %8s %6s\n", $1, $3, $13, $14, $15, $16, $9, $19, $20, $23, $24 }' \
		"$TSV" | sed '1s/rss_kb/ RSS kB/' | tee -a "$SUMMARY"
	_floor_s=$(awk -v u="${FLOOR_US:-}" 'BEGIN { if (u != "") printf "%.3f", u / 1000; else print "-" }')
	_pipe_s=$(awk -v u="${PIPE_US:-}" 'BEGIN { if (u != "") printf "%.3f", u / 1000; else print "-" }')
	_kc_cpu=$(cpu_med keycastd)
	_peer_cpu=$(cpu_med ndk)
	say ""
	say "== figures (load average now: $(load1))"
	say "crypto floor: $_floor_s CPU s per 1000 requests; pipeline (no I/O): $_pipe_s"
	say "keycastd: highest rate with p99 < $P99_GOAL ms: ${KC_BEST:-0}/s; CPU s per 1000 requests (median of the runs all answered): $_kc_cpu ($(ratio "$_kc_cpu" "$_floor_s") x the floor)"
	say "keycastd: RSS idle ${KC_RSS_IDLE:-?} kB ($CLIENTS authorizations), after the sweep ${KC_RSS_AFTER:-?} kB"
	[ -n "${KC_RSS_BIG_LOADED:-}" ] &&
		say "keycastd: RSS with ${KC_BIG_AUTHZ:-?} authorizations loaded ${KC_RSS_BIG_LOADED} kB, after serving ${KC_BIG_SERVED:-?} of them ${KC_RSS_BIG_SERVED:-?} kB"
	if [ "$DO_PEER" -eq 1 ]; then
		say "ndk: highest rate with p99 < $P99_GOAL ms: ${PEER_BEST:-0}/s; CPU s per 1000 requests (median of the runs all answered): $_peer_cpu"
		say "ndk: RSS idle ${PEER_RSS_IDLE:-?} kB ($CLIENTS client apps); with $AUTHZ permitted ${PEER_RSS_BIG_LOADED:-?} kB, after serving ${PEER_BIG_SERVED:-?} of them ${PEER_RSS_BIG_SERVED:-?} kB"
		say "peer / keycastd: CPU per request $(ratio "$_peer_cpu" "$_kc_cpu") x; RSS idle $(ratio "${PEER_RSS_IDLE:-}" "${KC_RSS_IDLE:-}") x; RSS with many authorizations served $(ratio "${PEER_RSS_BIG_SERVED:-}" "${KC_RSS_BIG_SERVED:-}") x (goal: 10 x each)"
	fi
	plot
	say "data: $TSV"
}
