#!/bin/sh
# Prints an endless stream of valid CoScale lines.
exec yes "M1 1"
