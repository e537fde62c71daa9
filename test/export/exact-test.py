#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Exact doubles for machines (issue 14 item 6). TAP.

A real writer (exact-writer) holds awkward values: tiny, subnormal and huge
doubles, a power of two whose shortest form is the decimal above, float
noise, -0, NaN and the infinities, integers past 2^53, histograms in
seconds (nanoseconds / 1e9) and without a unit. exact-oracle prints every
value as the reader library computes it, in C's exact hexadecimal (%a): no
decimal formatting. Then every number that Graphite (--once --stdout),
JSON (--once --json-file), /metrics (--http) and the textfile (--once
--textfile) print for the process is
parsed and compared bit for bit with the oracle, and its significant
digits with Python's repr(), an independent shortest round-trip
formatter: no more digits than needed. The histograms in seconds are also
checked against the exact decimals from the raw nanoseconds the writer
recorded (Fraction(raw, 10**9), correctly rounded): 110794 ns is
0.000110794, not 0.00011079400000000001. Non-finite values are spelled as
each format requires: no Graphite line, JSON null, Prometheus NaN, +Inf,
-Inf.

Environment: SCALES_EXPORT, EXACT_WRITER, EXACT_ORACLE.
"""
import json
import math
import os
import re
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
from fractions import Fraction

X = os.environ["SCALES_EXPORT"]
WRITER = os.environ["EXACT_WRITER"]
ORACLE = os.environ["EXACT_ORACLE"]

# what exact-writer.c records, in raw units
NS = {"/h/latency": [110794, 3, 999, 1234567891, 70000000001, 5],
      "/h/one": [110794]}

n = 0
failed = 0


def ok(cond, name, *diag):
    global n, failed
    n += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n, name))
    if not cond:
        failed += 1
        for d in diag:
            print("# " + str(d).replace("\n", "\n# "))
    sys.stdout.flush()
    return cond


def bits(x):
    return struct.pack("<d", x)


def sig(s):
    """Significant digits of a decimal: no sign, point, exponent, leading
    or trailing zeros."""
    m = re.split("[eE]", s)[0].lstrip("+-").replace(".", "")
    return len(m.strip("0"))


class Checker:
    """Compares printed numbers with the oracle's values."""

    def __init__(self, fmt):
        self.fmt = fmt
        self.bad = []
        self.count = 0

    def double(self, what, tok, want):
        self.count += 1
        try:
            got = float(tok)
        except ValueError:
            self.bad.append("%s: %r is not a number" % (what, tok))
            return
        if math.isnan(want):
            if not math.isnan(got):
                self.bad.append("%s: %s, want NaN" % (what, tok))
            return
        if bits(got) != bits(want):
            self.bad.append("%s: %s reads back as %r (%s), want %r (%s)" %
                            (what, tok, got, got.hex(), want, want.hex()))
        elif math.isfinite(got) and sig(tok) != sig(repr(got)):
            self.bad.append("%s: %s has %d significant digits, %s has %d" %
                            (what, tok, sig(tok), repr(got), sig(repr(got))))

    def integer(self, what, tok, want):
        self.count += 1
        if tok != str(want):
            self.bad.append("%s: %s, want %s" % (what, tok, want))

    def value(self, what, tok, want):
        if isinstance(want, int):
            self.integer(what, tok, want)
        else:
            self.double(what, tok, want)


def main():
    tmp = tempfile.mkdtemp(prefix="export-exact.")
    env = dict(os.environ, SCALES_DIR=os.path.join(tmp, "segs"))
    os.mkdir(env["SCALES_DIR"])
    procs = []
    try:
        run(tmp, env, procs)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
        shutil.rmtree(tmp)
    print("1..%d" % n)
    return 1 if failed else 0


def start(env, procs, argv, **kw):
    p = subprocess.Popen(argv, env=env, **kw)
    procs.append(p)
    return p


def readline_within(f, secs):
    """A line from f, or "" after secs (a deadline for a hung process)."""
    r, _, _ = select.select([f], [], [], secs)
    return f.readline() if r else ""


def run(tmp, env, procs):
    w = start(env, procs, [WRITER], stdout=subprocess.PIPE, text=True)
    if not ok(readline_within(w.stdout, 60).strip() == "ready",
              "exact-writer is ready"):
        return
    oracle = {}
    out = subprocess.run([ORACLE, str(w.pid)], env=env, check=True,
                         capture_output=True, text=True).stdout
    for line in out.splitlines():
        path, field, v = line.split("\t")
        oracle[(path, field)] = float.fromhex(v) if "x" in v or v in (
            "nan", "inf", "-inf") else int(v)
    ok(len(oracle) > 40, "the oracle read %d values" % len(oracle))

    # the seconds histograms against the exact decimals of their raw values
    c = Checker("decimal")
    for path, raw in NS.items():
        for field, r in (("sum", sum(raw)), ("min", min(raw)),
                         ("max", max(raw))):
            want = float(Fraction(r, 10**9))
            if bits(oracle[(path, field)]) != bits(want):
                c.bad.append("%s %s: %r, want %r (%d ns / 1e9)" %
                             (path, field, oracle[(path, field)], want, r))
    ok(not c.bad, "the reader's seconds are the nearest doubles to the "
       "decimal values (110794 ns is 0.000110794)", *c.bad)

    graphite(env, oracle)
    jsonfile(tmp, env, oracle)
    metrics(env, procs, oracle)
    textfile(tmp, env, oracle)


def graphite(env, oracle):
    out = subprocess.run([X, "--once", "--stdout", "--prefix", "t",
                          "exact"], env=env, capture_output=True,
                         text=True)
    ok(out.returncode == 0, "scales-export --once --stdout", out.stderr)
    got = {}
    for line in out.stdout.splitlines():
        name, v, _ = line.split(" ")
        got[name] = v
    c = Checker("graphite")
    seen = set()
    for (path, field), want in oracle.items():
        name = "t.exact" + path.replace("/", ".")
        if field != "value":
            name += "." + field
        if isinstance(want, float) and not math.isfinite(want):
            if name in got:
                c.bad.append("%s: %s sent; carbon cannot store it" %
                             (name, got[name]))
            continue
        if name not in got:
            c.bad.append("%s: missing" % name)
            continue
        seen.add(name)
        c.value(name, got[name], want)
    # every line printed for the process was compared (total_count is the
    # all-time count, which --once makes the count)
    for name, v in got.items():
        if name.endswith(".total_count"):
            c.integer(name, v, oracle[(name[len("t.exact"):-12].replace(
                ".", "/"), "count")])
        elif name not in seen:
            c.bad.append("%s %s: not compared" % (name, v))
    ok(not c.bad and c.count > 40,
       "Graphite: %d values bit-exact and shortest" % c.count, *c.bad)


def jsonfile(tmp, env, oracle):
    f = os.path.join(tmp, "out.json")
    out = subprocess.run([X, "--once", "--json-file", f, "exact"], env=env,
                         capture_output=True, text=True)
    ok(out.returncode == 0, "scales-export --once --json-file", out.stderr)
    # numbers kept as printed
    with open(f) as fh:
        doc = json.load(fh, parse_float=str, parse_int=str,
                        parse_constant=lambda s: "bad:" + s)
    procs = [p for p in doc["processes"] if p["app"] == "exact"]
    if not ok(len(procs) == 1, "JSON: one process of app exact"):
        return
    metrics = procs[0]["metrics"]
    c = Checker("json")
    for (path, field), want in oracle.items():
        tok = metrics.get(path, {}).get(field, "missing")
        if isinstance(want, float) and not math.isfinite(want):
            if tok is not None:
                c.bad.append("%s %s: %r, want null" % (path, field, tok))
            continue
        if not isinstance(tok, str):
            c.bad.append("%s %s: %r" % (path, field, tok))
            continue
        c.value("%s %s" % (path, field), tok, want)
    # every other number the document holds (times, rates) is shortest too
    def walk(x, where):
        if isinstance(x, dict):
            for k, v in x.items():
                walk(v, where + "." + k)
        elif isinstance(x, list):
            for i, v in enumerate(x):
                walk(v, "%s[%d]" % (where, i))
        elif isinstance(x, str) and re.fullmatch(r"-?[0-9.]+([eE][-+]?[0-9]+)?",
                                                 x) and re.search("[.eE]", x):
            c.double(where, x, float(x))
    walk(doc, "")
    ok(not c.bad and c.count > 40,
       "JSON: %d values bit-exact and shortest" % c.count, *c.bad)


def metrics(env, procs, oracle):
    e = start(env, procs, [X, "--http", "127.0.0.1:0", "exact"],
              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = None
    deadline = time.monotonic() + 60
    while url is None and time.monotonic() < deadline:
        line = readline_within(e.stderr, 60)
        if not line:
            break
        m = re.search(r"serving (http://\S+)/$", line.strip())
        if m:
            url = m.group(1)
    if not ok(url is not None, "scales-export --http serves"):
        return
    with urllib.request.urlopen(url + "/metrics", timeout=60) as r:
        text = r.read().decode()
    check_prometheus("/metrics", text, oracle)


def textfile(tmp, env, oracle):
    f = os.path.join(tmp, "exact.prom")
    out = subprocess.run([X, "--once", "--textfile", f, "exact"], env=env,
                         capture_output=True, text=True)
    if ok(out.returncode == 0, "scales-export --once --textfile",
          out.stderr):
        with open(f) as fh:
            check_prometheus("textfile", fh.read(), oracle)


def check_prometheus(what, text, oracle):
    fam = {}  # family -> path, from "# HELP name scales KIND PATH"
    for line in text.splitlines():
        m = re.match(r"# HELP (\S+) scales \S+ (/\S+)$", line)
        if m:
            fam[m.group(1)] = m.group(2)
    samples = []
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$', line)
        if not m:
            continue
        samples.append((m.group(1), m.group(2), m.group(3)))
    c = Checker("prometheus")
    spell = {"inf": "+Inf", "-inf": "-Inf", "nan": "NaN"}
    for name, labels, v in samples:
        base = re.sub("_(bucket|sum|count|total)$", "", name)
        path = fam.get(name) or fam.get(base)
        if path is None or 'app="exact"' not in labels:
            continue
        suffix = name[len(base):] if name not in fam else ""
        kind = "value"
        if suffix in ("_sum", "_count"):
            kind = suffix[1:]
        if suffix == "_bucket":
            le = re.search(r'le="([^"]*)"', labels).group(1)
            if le == "+Inf" or path not in NS:
                continue
            # an octave's last value, (2^k - 1) ns, as the double nearest
            # the decimal seconds
            edges = [float(Fraction(2**k - 1, 10**9)) for k in range(65)]
            match = [x for x in edges if bits(x) == bits(float(le))]
            if not match:
                c.bad.append("%s le=%s: no (2^k - 1) ns" % (name, le))
                continue
            c.double("%s le" % name, le, match[0])
            continue
        want = oracle.get((path, kind))
        if want is None:
            c.bad.append("%s (%s %s): not in the oracle" % (name, path, kind))
            continue
        if isinstance(want, float) and not math.isfinite(want):
            key = "nan" if math.isnan(want) else ("inf" if want > 0 else
                                                  "-inf")
            c.count += 1
            if v != spell[key]:
                c.bad.append("%s: %s, want %s" % (name, v, spell[key]))
            continue
        c.value(name, v, want)
    ok(not c.bad and c.count > 40,
       "%s: %d values bit-exact and shortest" % (what, c.count), *c.bad)


sys.exit(main())
