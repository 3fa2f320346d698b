# TimeoutStopSec shorter than the plan: systemd would SIGKILL mid-shutdown.
# expect: keycastd\.service:[0-9]+:[0-9]+: error: the plan needs 75s \(phases 65s \+ teardown margin 10s\) but TimeoutStopSec is 60s
s/^TimeoutStopSec=95$/TimeoutStopSec=1min/
