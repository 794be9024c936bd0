#!/bin/sh
# Exits at once, leaving a background child that no longer holds the pipes: it must not outlive the run.
sleep 60 >/dev/null 2>&1 &
echo "PID $!"
exit 0
