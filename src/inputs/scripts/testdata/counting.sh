#!/bin/sh
# A CoScale script with a running total (calctype Difference) that grows by 5 per run, a gauge and an
# event: its state lives in the file $STATE.
if [ "$1" = "-c" ]; then
  echo '{"period":60,"metrics":[{"id":1,"name":"Bytes in","unit":"b","datatype":"COUNTER","calctype":"Difference","dimensions":[{"id":1,"name":"Interface"}]},{"id":2,"name":"Load","datatype":"DOUBLE","calctype":"Instant"}],"events":[{"id":1,"name":"Counted","attributeDescriptions":[]}]}'
  exit 0
fi
total=$(cat "$STATE" 2>/dev/null || echo 100)
total=$((total + 5))
echo "$total" > "$STATE"
echo "M1 \"1:eth0\" $total"
echo "M2 0.5"
echo "E1 0 0 \"run $total\" \"{}\" S"
