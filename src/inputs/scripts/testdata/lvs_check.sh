#!/bin/bash
# Like CoScale's filesystem/lvs-check.sh: two dimensions, byte-sized integers, maxruntime 50000 (the old
# maximum), config keys in an unusual order (like docker/docker-check.sh).
if [ "$1" == "-c" ]; then
  echo '{"metrics":[{"unit":"b","groups":"Storage/LVM","calctype":"Instant","datatype":"DOUBLE","description":"","name":"Thin pool size","id":0,"dimensions":[{"id":1,"name":"Volume Group"},{"id":2,"name":"Logical Volume"}]},{"name":"Thin pool data","id":1,"datatype":"DOUBLE","calctype":"Instant","unit":"%","groups":"Storage/LVM","dimensions":[{"name":"Volume Group","id":1},{"name":"Logical Volume","id":2}]}],"period":60,"maxruntime":50000}'
else
  echo 'M0 "1:vg0,2:thinpool" 107374182400'
  echo 'M1 "1:vg0,2:thinpool" 12.45'
fi
