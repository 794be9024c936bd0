#!/usr/bin/env python3
# Like CoScale's examples/python-example.py, web/check.py and web/certs.py: pretty-printed JSON
# (indent=4), keys in dict order, leading-zero values (strftime('%H') -> 09), negative values on
# failure, lines written from threads so their order is not fixed.
import json
import sys
import threading

def config():
    print(json.dumps({
        "maxruntime": 5000,
        "period": 3600,
        "metrics": [
            {"id": 0, "datatype": "DOUBLE", "name": "Server time", "description": "Hours",
             "groups": "Time", "unit": "h", "tags": "", "calctype": "Instant"},
            {"id": 1, "datatype": "DOUBLE", "name": "Server time", "description": "Minutes",
             "groups": "Time", "unit": "min", "tags": "", "calctype": "Instant"},
            {"id": 2, "datatype": "GAUGE", "name": "Certificate days left", "description": "",
             "groups": "Web,Security/TLS", "unit": "", "tags": "", "calctype": "Instant"},
        ],
    }, indent=4))

def data():
    lines = ["M2 -1", "M0 09", "M1 07"]
    threads = [threading.Thread(target=print, args=(line,)) for line in lines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

if "-c" in sys.argv:
    config()
elif "-d" in sys.argv:
    data()
