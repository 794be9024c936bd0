#!/usr/bin/env python3
# Like CoScale's web/dropwizard.py: prints good lines, then crashes (a TypeError), exiting 1.
import sys

if "-c" in sys.argv:
    print('{"period": 60, "metrics": [{"id": 1, "name": "Healthy", "datatype": "DOUBLE", '
          '"calctype": "Instant", "dimensions": [{"id": 1, "name": "Healthcheck"}]}]}')
else:
    print('M1 "1:database" 1', flush=True)
    print('M1 "1:deadlocks" 1', flush=True)
    print("%s %s" % ("only one",))
