# pg.sh - a throwaway PostgreSQL server for tests (sourced, POSIX sh).
#
#   . "$KC_SRCDIR/tests/integration/pg.sh"
#   pg_available || { echo "1..0 # SKIP PostgreSQL binaries not found"; exit 0; }
#   trap 'pg_stop' EXIT
#   trap 'exit 1' HUP INT TERM  # so that a signal (make's timeout) runs the EXIT trap too
#   pg_start || exit 1
#   url=$(pg_url)               # postgresql://postgres@127.0.0.1:PORT/keycastd_test
#   pg_kill; pg_restart         # simulate an outage (stop -m immediate, start again)
#
# pg_start initdb's a fresh directory (mktemp -d, owned by postgres when run
# as root: PostgreSQL refuses to run as root), trust auth, no fsync, listens
# on 127.0.0.1 on a free port with its socket in the same directory, and
# creates the database keycastd_test. Its state is exported as PG_DIR,
# PG_PORT and KC_PG_URL, so child processes (C tests) can call pg_kill and
# pg_restart through `sh -c '. pg.sh; pg_kill'` as well.

PG_BINDIR=${PG_BINDIR:-}
if [ -z "$PG_BINDIR" ]; then
	for d in /usr/lib/postgresql/*/bin; do
		[ -x "$d/pg_ctl" ] && PG_BINDIR=$d
	done
fi

# pg_available: whether the PostgreSQL server binaries exist.
pg_available() { [ -n "$PG_BINDIR" ] && [ -x "$PG_BINDIR/pg_ctl" ] && [ -x "$PG_BINDIR/initdb" ]; }

# pg_as CMD...: run a server command as postgres when we are root.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

# pg_ctl_start: start the server of $PG_DIR on $PG_PORT; 0 when it accepts connections.
pg_ctl_start() {
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w -t 30 -o \
		"-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1
}

# pg_start: initdb, start on a free port, create keycastd_test; 0 on success.
pg_start() {
	pg_available || return 1
	PG_DIR=$(mktemp -d /tmp/kc-pg.XXXXXX) || return 1
	export PG_DIR
	[ "$(id -u)" -eq 0 ] && chown postgres "$PG_DIR"
	chmod 0700 "$PG_DIR"
	pg_as "$PG_BINDIR/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 --locale=C \
		--no-sync >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	for _try in 1 2 3 4 5 6 7 8; do
		PG_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 40000))
		export PG_PORT
		pg_ctl_start && break
		PG_PORT=
	done
	[ -n "$PG_PORT" ] || { cat "$PG_DIR/log" >&2; return 1; }
	KC_PG_URL="postgresql://postgres@127.0.0.1:$PG_PORT/keycastd_test"
	export KC_PG_URL
	"$PG_BINDIR/psql" -q -h "$PG_DIR" -p "$PG_PORT" -U postgres -d postgres \
		-c "CREATE DATABASE keycastd_test" >/dev/null
}

# pg_url: the libpq URL of the test database.
pg_url() { echo "$KC_PG_URL"; }

# pg_psql ARGS...: psql on the test database (quiet, stop on error).
pg_psql() {
	"$PG_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_DIR" -p "$PG_PORT" -U postgres \
		-d keycastd_test "$@"
}

# pg_kill: stop the server abruptly (-m immediate), as an outage would.
pg_kill() { pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1; }

# pg_restart: start the server again on the same directory and port.
pg_restart() { pg_ctl_start; }

# pg_stop: stop the server and remove its directory (for trap ... EXIT).
pg_stop() {
	[ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR" ] || return 0
	pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$PG_DIR"
	PG_DIR=
}
