#!/bin/sh
# Writes 1 MiB to stderr, then one good line to stdout and exits 0: stderr is capped, the run not killed.
head -c 1048576 /dev/zero | tr '\0' 'e' >&2
echo "M1 1"
