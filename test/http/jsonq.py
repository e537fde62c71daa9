#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# test/http/jsonq.py [-r] [-e] FILE EXPR: evaluates the Python expression
# EXPR over the JSON document in FILE ("-": standard input) and prints the
# result as compact JSON (-r: a string as it is). -e: exit 1 if the result
# is false or null. Names bound in EXPR:
#   d        the document
#   P        d["processes"] (a scales-top --json document), or []
#   keys     every metric path of every process, in order
#   m(path, app=None)  the metric at path of the first process (of app)
import json
import sys


def main():
    args = sys.argv[1:]
    raw = check = False
    while args and args[0] in ("-r", "-e"):
        raw |= args[0] == "-r"
        check |= args[0] == "-e"
        args.pop(0)
    path, expr = args
    text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    d = json.loads(text)
    P = d.get("processes", []) if isinstance(d, dict) else []
    keys = [k for p in P for k in p.get("metrics", {})]

    def m(path, app=None):
        for p in P:
            if (app is None or p["app"] == app) and path in p["metrics"]:
                return p["metrics"][path]
        return None

    r = eval(expr, {"d": d, "P": P, "keys": keys, "m": m, "len": len,
                    "abs": abs, "sorted": sorted})
    if raw and isinstance(r, str):
        print(r)
    else:
        print(json.dumps(r, separators=(",", ":")))
    if check and not r:
        sys.exit(1)


main()
