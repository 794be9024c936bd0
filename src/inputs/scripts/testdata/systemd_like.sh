#!/bin/bash
# Like CoScale's uptime/systemd.sh and uptime/service_check.py: two-digit ids, '@' and '.' in dimension
# values, nested groups, an empty dimension list (dropwizard.py), a stray banner line caught by nc, and
# a value padded with spaces by BSD wc -l.
if [ "$1" == "-c" ]; then
  echo -n '{"maxruntime":5000,"period":60,"metrics":['
  for id in 1 4 10 11; do
    [ "$id" != 1 ] && echo -n ','
    echo -n "{\"id\":$id,\"name\":\"Service state $id\",\"groups\":\"SystemD/State\",\"unit\":\"\",\"datatype\":\"DOUBLE\",\"calctype\":\"Instant\",\"dimensions\":[{\"id\":1,\"name\":\"Service\"}]}"
  done
  echo ']}'
else
  echo 'SSH-2.0-OpenSSH_8.4p1 Debian-5'
  echo 'M1 "1:ssh.service" 1'
  echo 'M4 "1:getty@.service"        0'
  echo 'M10 "1:cron.service" 1'
  echo 'M11 "" 5'
fi
