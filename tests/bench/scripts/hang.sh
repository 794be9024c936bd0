#!/bin/bash
# A CoScale script whose data run never ends: it ignores SIGTERM, forks grandchildren that ignore it too
# (one of them in a session of its own, out of the group's reach), writes their pids and its own to
# $PIDFILE when set, prints one value and waits. Only the sandbox's SIGKILL of the group plus its /proc
# sweep can end it all.
if [ "$1" = "-c" ]; then
  echo '{"metrics":[{"id":1,"name":"Hung","datatype":"DOUBLE","calctype":"Instant"}]}'
  exit 0
fi
trap '' TERM
sleep 600 &
pids="$!"
(trap '' TERM; sleep 600) &
pids="$pids $!"
setsid sleep 600 &
pids="$pids $! $$"
if [ -n "$PIDFILE" ]; then echo "$pids" > "$PIDFILE"; fi
echo "M1 1"
wait
