#!/bin/bash
# Like CoScale's php-example.php, filesystem/nfs-check.sh and kidk's generic.py: ids 0-2 defined, M1-M3
# printed. M3 is unknown and skipped; the others are kept.
if [ "$1" == "-c" ]; then
  echo '{"period":60,"metrics":[{"id":0,"name":"A","datatype":"DOUBLE","calctype":"Instant"},{"id":1,"name":"B","datatype":"DOUBLE","calctype":"Instant"},{"id":2,"name":"C","datatype":"DOUBLE","calctype":"Instant"}]}'
else
  echo "M1 1"
  echo "M2 2"
  echo "M3 3"
fi
