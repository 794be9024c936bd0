#!/bin/sh
# Hangs in config mode, ignoring SIGTERM, with a child; writes "<own pid> <child pid>" to $PIDFILE when
# set. Data mode would print one line.
if [ "$1" = "-c" ]; then
  trap '' TERM
  sleep 60 &
  if [ -n "$PIDFILE" ]; then echo "$$ $!" > "$PIDFILE"; fi
  wait
  exit 0
fi
echo "M1 1"
