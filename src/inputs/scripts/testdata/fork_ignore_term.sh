#!/bin/bash
# Ignores SIGTERM, forks grandchildren that inherit the ignored SIGTERM, one of them in a session of its
# own (setsid), prints their pids (also to $PIDFILE when set) and hangs: only SIGKILL of the group plus
# the /proc net can end it all.
trap '' TERM
sleep 60 &
pids="$!"
(trap '' TERM; sleep 60) &
pids="$pids $!"
setsid sleep 60 &
pids="$pids $! $$"
for pid in $pids; do echo "PID $pid"; done
if [ -n "$PIDFILE" ]; then echo "$pids" > "$PIDFILE"; fi
wait
