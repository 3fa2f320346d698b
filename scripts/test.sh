#!/bin/sh
# Install what is needed, build with -Werror and ASan/UBSan, and run every
# test (`make check`: unit and integration). Ends with the TAP summary and
# a "N passed, N failed" line. Exit status is make check's.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${KC_BUILD_DIR:-$top/build-check}

"$top/scripts/setup.sh"
[ -x "$top/configure" ] && [ "$top/configure" -nt "$top/configure.ac" ] || "$top/autogen.sh"
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" --enable-werror --enable-asan
status=0
rm -f test-suite.log # never report a previous run's figures
make -j"$(nproc)" check || status=$?
if [ -f test-suite.log ]; then
	pass=$(sed -n 's/^# PASS: *//p' test-suite.log | head -1)
	fail=$(sed -n 's/^# FAIL: *//p' test-suite.log | head -1)
	err=$(sed -n 's/^# ERROR: *//p' test-suite.log | head -1)
	[ "$status" -eq 0 ] || grep -h -B2 -A30 '^\(FAIL\|ERROR\)' tests/*/*.log 2>/dev/null | head -200 || true
	echo "${pass:-0} passed, $(( ${fail:-0} + ${err:-0} )) failed"
	[ "$status" -eq 0 ] || [ $(( ${fail:-0} + ${err:-0} )) -gt 0 ] ||
		echo "make check failed outside the test programs (e.g. check-headers): see above"
else
	echo "0 passed, 0 failed: no test ran (the build failed, see above)"
fi
exit "$status"
