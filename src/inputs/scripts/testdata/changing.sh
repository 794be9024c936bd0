#!/bin/sh
# A CoScale script whose copy the tests edit while it is scheduled: the metric name below changes.
if [ "$1" = "-c" ]; then
  echo '{"metrics":[{"id":1,"name":"Version one","datatype":"DOUBLE","calctype":"Instant"}]}'
  exit 0
fi
echo "M1 1"
