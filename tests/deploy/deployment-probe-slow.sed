# A readiness probe too slow to notice the pre-drain: 10 s x 3 = 30 s,
# more than the 10 s pre-drain + the 5 s preStop sleep.
# expect: warning: the pre-drain waits 10s after readiness fails \(after a preStop sleep of 5s\), but the readiness probe needs 30s
/readinessProbe:/,/failureThreshold/s/^\(            periodSeconds:\) 3$/\1 10/
