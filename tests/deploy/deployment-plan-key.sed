# --plan names a file the plan ConfigMap does not have.
# expect: error: the container runs the plan /etc/keycastd/plan/default\.yaml, mounted from ConfigMap keycastd-plan, which has no key 'default\.yaml'
s|"/etc/keycastd/plan/plan.yaml"|"/etc/keycastd/plan/default.yaml"|
