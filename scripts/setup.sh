#!/bin/sh
# Install every Debian package keycastd's build, tests and local stack need,
# and the npm test peers (a Nostr relay, NIP-46 client libraries).
# Idempotent, and quick when everything is present. Run as root.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential autoconf automake libtool pkg-config git ca-certificates curl \
libevent-dev libyaml-dev libsecp256k1-dev libpq-dev libcjson-dev libssl-dev \
libwslay-dev libcmocka-dev postgresql postgresql-contrib prometheus wrk libxml2-utils nodejs npm"

missing=""
for p in $PACKAGES; do
	# nodejs/npm may come from elsewhere on the machine: a working node is enough.
	case $p in nodejs|npm) command -v "$p" >/dev/null 2>&1 && command -v node >/dev/null 2>&1 && continue ;; esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "setup: installing:$missing"
	[ "$(id -u)" -eq 0 ] || { echo "setup: run as root to install packages" >&2; exit 1; }
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# npm peers for the tests, pinned by the lock file. The marker holds the
# lock file's hash: a changed lock installs again, an unchanged one never
# reaches the network (so a machine set up once runs the tests offline).
if [ -f tests/peers/package-lock.json ]; then
	lock=$(sha256sum tests/peers/package-lock.json | cut -d' ' -f1)
	if [ "$(cat tests/peers/node_modules/.keycastd-ok 2>/dev/null)" != "$lock" ]; then
		echo "setup: installing npm test peers"
		(cd tests/peers && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
		echo "$lock" >tests/peers/node_modules/.keycastd-ok
	fi
fi
echo "setup: all dependencies present"
