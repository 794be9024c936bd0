#!/bin/sh
# Takes $1 seconds, appending "start <pid>" and "end <pid>" to the file $2: for overlap and concurrency
# tests. Prints one Prometheus text line.
echo "start $$" >> "$2"
sleep "$1"
echo "end $$" >> "$2"
echo "slow_runs 1"
