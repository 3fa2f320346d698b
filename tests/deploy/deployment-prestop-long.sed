# A preStop sleep longer than the pre-drain's timing allows: 30 s of
# sleep + 75 s of plan > 100 s of grace, and the ceiling no longer fits.
# expect: error: the plan needs 105s \(preStop sleep 30s
s/^\(              sleep: {seconds:\) 5}$/\1 30}/
