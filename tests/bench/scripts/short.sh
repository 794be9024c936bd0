#!/bin/sh
# A short CoScale script, the bulk of the benchmark's load: a gauge and a running total with a dimension,
# done in a few milliseconds.
if [ "$1" = "-c" ]; then
  echo '{"period":60,"maxruntime":5000,"metrics":[{"id":1,"name":"Load","datatype":"DOUBLE","calctype":"Instant"},{"id":2,"name":"Bytes in","unit":"b","datatype":"COUNTER","calctype":"Difference","dimensions":[{"id":1,"name":"Interface"}]}]}'
  exit 0
fi
echo "M1 0.5"
echo "M2 \"1:eth0\" $$"
