# The plan ConfigMap is not mounted where --plan points.
# expect: warning: the container runs the plan /etc/keycastd/plan/plan\.yaml, but no volumeMount covers that path
s|mountPath: /etc/keycastd/plan,|mountPath: /etc/keycastd/plans,|
