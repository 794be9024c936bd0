#!/bin/sh
# A CoScale script that declares maxruntime 20000 ms (above tally's default 5 s limit) and then hangs in
# data mode: for the message that names both the declared value and tally's own limit.
if [ "$1" = "-c" ]; then
  echo '{"maxruntime":20000,"period":60,"metrics":[{"id":1,"name":"Slow","description":"","groups":"Test","unit":"","datatype":"DOUBLE","calctype":"Instant"}]}'
  exit 0
fi
sleep 5
echo "M1 1"
