#!/bin/sh
# Like services/restart.sh when the PID did not change and lvs-check.sh without thin volumes: valid
# definitions, no data at all.
if [ "$1" = "-c" ]; then
  echo '{"events":[{"id":1,"name":"Restarts","description":"","attributeDescriptions":[]}]}'
fi
