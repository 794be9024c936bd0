#!/bin/bash
# Like CoScale's services/restart.sh: events only (no "metrics" key), "{ }" attributes, unescaped JSON
# attributes, relative and absolute times, with and without the S/A suffix.
if [ "$1" == "-c" ]; then
  echo '{"maxruntime":1000,"period":60,"events":[{"id":1,"name":"Apache restarts","description":"","attributeDescriptions":[{"name":"Exit code","type":"integer","unit":""}]}]}'
else
  echo 'E1 0 0 "Apache restarted" "{ }" S'
  echo 'E1 -300 0 "The event triggered" "{"Exit code":137}"'
  echo 'E1 1458345600 1458345660 "Deploy" "{"Exit code":0}" A'
fi
