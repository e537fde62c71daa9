# SPDX-License-Identifier: MIT
"""compare-json.py PY.json TOP.json: the values docs/format.md's Python
reader computed (PY) against `scales-top -j` (TOP), exactly: the same
metric paths, and every key the Python reader gives equal to scales-top's
(numbers as the doubles or integers they parse to). Keys only scales-top
has must be null (rates and meters of a one-shot snapshot). Exit 0 if
they agree; else prints each difference."""
import json
import sys

py = json.load(open(sys.argv[1]))
top = json.load(open(sys.argv[2]))
procs = top["processes"]
diffs = []
if len(procs) != 1:
    diffs.append("scales-top shows %d processes" % len(procs))
else:
    p = procs[0]
    for k in ("pid", "app", "start_time"):
        if p[k] != py[k]:
            diffs.append("%s: python %r, scales-top %r" % (k, py[k], p[k]))
    mp, mt = py["metrics"], p["metrics"]
    for path in sorted(set(mp) | set(mt)):
        if path not in mt or path not in mp:
            diffs.append("%s: only in %s" %
                         (path, "python" if path in mp else "scales-top"))
            continue
        a, b = mp[path], mt[path]
        for k in sorted(set(a) | set(b)):
            if k not in a:
                if b[k] is not None:
                    diffs.append("%s %s: only scales-top: %r" % (path, k, b[k]))
            elif k not in b or a[k] != b[k] or type(a[k]) is bool \
                    or (a[k] is None) != (b.get(k) is None):
                diffs.append("%s %s: python %r, scales-top %r" %
                             (path, k, a[k], b.get(k)))
    print("# %d metrics compared" % len(mt))
for d in diffs:
    print("# " + d)
sys.exit(1 if diffs else 0)
