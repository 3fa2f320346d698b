# Type=simple: no READY=1, no EXTEND_TIMEOUT_USEC.
# expect: warning: Type=simple: systemd neither waits for keycastd's READY=1
s/^Type=notify$/Type=simple/
