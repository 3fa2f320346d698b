#!/bin/sh
# gen-plan-configmap.sh - write deploy/plan-configmap.yaml from plans/default.yaml.
#
#   scripts/gen-plan-configmap.sh [PLAN [OUT]]
#
# The ConfigMap's data key plan.yaml is the plan file byte for byte (a
# literal block keeps every line, comment and the final newline), so the
# plan the pods run is the plan the repository reviews and `make check`
# tests. tests/integration/deploy.test fails when the two differ: after
# editing plans/default.yaml, run this and commit both.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
plan=${1:-$top/plans/default.yaml}
out=${2:-$top/deploy/plan-configmap.yaml}

# A literal block cannot hold a file without a final newline, with trailing
# blank lines, or with a tab-indented first line: refuse them, never change them.
if [ -n "$(tail -c 1 "$plan")" ] || [ -z "$(tail -n 1 "$plan")" ] ||
	head -n 1 "$plan" | grep -q '^[[:space:]]'; then
	echo "gen-plan-configmap: $plan must end with exactly one newline and start unindented" >&2
	exit 1
fi
{
	echo "# GENERATED from plans/default.yaml by scripts/gen-plan-configmap.sh: do not edit."
	echo "# The shutdown plan every replica runs (doc/shutdown-plan.md), mounted"
	echo "# at /etc/keycastd/plan/plan.yaml (deployment.yaml). To run another plan,"
	echo "# replace this ConfigMap in an overlay (doc/operations.md)."
	echo "apiVersion: v1"
	echo "kind: ConfigMap"
	echo "metadata:"
	echo "  name: keycastd-plan"
	echo "  labels: {app.kubernetes.io/name: keycastd}"
	echo "data:"
	echo "  plan.yaml: |"
	sed 's/^\(.\)/    \1/' "$plan"
} >"$out.tmp"
mv "$out.tmp" "$out"
