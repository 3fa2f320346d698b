# A stop signal that does not start the plan.
# expect: error: KillSignal=SIGQUIT: keycastd runs its shutdown plan on SIGTERM or SIGINT only
s/^KillMode=mixed$/KillMode=mixed\nKillSignal=SIGQUIT/
