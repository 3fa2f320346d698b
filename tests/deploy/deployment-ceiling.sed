# The ceiling is left at the plan's 120 s: the watchdog would fire after
# Kubernetes' SIGKILL.
# expect: error: the plan's ceiling is 120s \(env\) but terminationGracePeriodSeconds 100s minus the preStop sleep 5s leaves 95s
s/^\(            - {name: SHUTDOWN_GRACE_PERIOD_CEILING_SECS, value:\) "90"}$/\1 "120"}/
