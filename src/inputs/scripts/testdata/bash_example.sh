#!/bin/bash
# Like CoScale's examples/bash-example.sh and mailservers/postfix.sh: single-line JSON built with echo -n,
# maxruntime 1000 ms, loops over "$@", and an empty value when a command fails (the failed ping).
config() {
  echo -n '{"maxruntime":1000,"period":60,"metrics":['
  echo -n '{"id":1,"datatype":"DOUBLE","name":"Ping time","description":"Ping to the gateway","groups":"Network","unit":"ms","tags":"","calctype":"Instant"},'
  echo -n '{"id":2,"datatype":"DOUBLE","name":"Port open","description":"nc exit code","groups":"Network","unit":"","tags":"","calctype":"Instant"}'
  echo ']}'
}
data() {
  ping_ms=""            # the ping failed: nothing to print
  echo "M1 $ping_ms"
  echo "M2 0"
}
for arg in "$@"; do
  case "$arg" in
    -c) config ;;
    -d) data ;;
  esac
done
