#!/bin/sh
# Like CoScale's powershell-example.ps1 and docker/docker-running.ps1: pretty-printed JSON and data
# lines with CRLF ends, a Difference metric per dimension tuple, a dimension value with '/', and the
# datatype typo GUAGE from the CoScale docs.
if [ "$1" = "-c" ]; then
  printf '{\r\n'
  printf '  "period": 60,\r\n'
  printf '  "metrics": [\r\n'
  printf '    {"id": 1, "name": "Container restarts", "datatype": "GUAGE", "calctype": "Difference",\r\n'
  printf '     "unit": "", "groups": "Docker", "description": "",\r\n'
  printf '     "dimensions": [{"id": 1, "name": "Image name"}]}\r\n'
  printf '  ]\r\n'
  printf '}\r\n'
else
  printf 'M1 "1:microsoft/dotnet-samples" 7\r\n'
  printf 'M1 "1:data center 1" 3\r\n'
fi
