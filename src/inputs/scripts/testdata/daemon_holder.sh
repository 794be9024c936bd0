#!/bin/sh
# Starts a daemon the careless way: a new session with stdout still the run's pipe, so the run's output
# stays open after the script exits. Once the script is gone (reaped), the daemon writes its pid to
# $PIDFILE: from then on nothing links it to the script any more.
setsid sh -c 'while kill -0 "$1" 2>/dev/null; do sleep 0.02; done; echo $$ > "$PIDFILE"; exec sleep 30' daemon "$$" &
echo "M1 1"
exit 0
