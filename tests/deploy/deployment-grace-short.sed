# The grace period is shorter than the preStop sleep and the plan need.
# expect: deployment\.yaml:[0-9]+:[0-9]+: error: the plan needs 80s \(preStop sleep 5s \+ phases 65s \+ teardown margin 10s\) but terminationGracePeriodSeconds is 60s
s/^\(      terminationGracePeriodSeconds:\) 100$/\1 60/
