#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""/metrics label values read back as written (TAP).

Runs under /usr/bin/python3, which has the Debian prometheus_client.
A real writer (labels-writer) has dict keys with a tab, a quote, a
backslash, a newline, a carriage return, other control bytes and
non-ASCII, and a state value with a quote, a backslash and non-ASCII.
scales-export --once --textfile writes the /metrics text; the real
Prometheus parsers read it: Python's prometheus_client (from
/usr/bin/python3, the Debian package) must give back every key and the
state value byte for byte, and `promtool check metrics` must have nothing
to say. The text format escapes only \\, \" and \\n in a label value; any
other UTF-8 character stands as itself.

One name, one type (docs/http.md): the paths /x, /lat and /mode are a
counter, a histogram and a state in one writer and gauges in another, two
processes of one app (--per-process) or two apps (merged). No family name
may come twice (a counter's counted without _total, as prometheus_client
reads it), and the first type in the order counter, gauge, histogram keeps
the plain name while the others get the _p hash.

Environment: SCALES_EXPORT, LABELS_WRITER.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

from prometheus_client.parser import text_string_to_metric_families

X = os.environ["SCALES_EXPORT"]
WRITER = os.environ["LABELS_WRITER"]

# as in labels-writer.c: key i counts i + 1
KEYS = ["tab\there", "quote\"d", "back\\slash", "new\nline", "cr\rreturn",
        "ctl\x01\x1f\x7f", "caf\u00e9 \u65e5\u672c", "all\t\"\\\n\u00e9",
        "Mozilla/5.0 (X11; Linux)", "\\n not a newline"]
STATE = "idle \"q\" \\ caf\u00e9"

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


def start(env, *args):
    p = subprocess.Popen([WRITER, *args], stdout=subprocess.PIPE, env=env)
    line = p.stdout.readline()
    if line.strip() != b"ready":
        print("Bail out! labels-writer did not start")
        sys.exit(1)
    return p


def scrape(env, tmp, *args):
    """scales-export --once --textfile: the /metrics text, as bytes."""
    out = os.path.join(tmp, "out.prom")
    r = subprocess.run([X, "--once", "--textfile", out, *args], env=env,
                       capture_output=True)
    ok(r.returncode == 0, "--once --textfile %s: exit 0" % " ".join(args),
       r.stderr)
    with open(out, "rb") as f:
        return f.read()


def promtool_clean(raw, what):
    # promtool comes with `make deps` (Debian package prometheus)
    r = subprocess.run(["promtool", "check", "metrics"], input=raw,
                       capture_output=True)
    ok(r.returncode == 0 and not r.stdout and not r.stderr,
       "%s: promtool check metrics: exit 0, nothing to say" % what,
       "exit %d" % r.returncode, r.stdout.decode(), r.stderr.decode())


def awkward_labels(tmp, env):
    raw = scrape(env, tmp, "labels")
    keys, states = {}, {}
    for fam in text_string_to_metric_families(raw.decode("utf-8")):
        for s in fam.samples:
            if s.name == "scales_keys_total":
                keys[s.labels.get("key")] = s.value
            elif s.name == "scales_st":
                states[s.labels.get("state")] = s.value
    want = {k: float(i + 1) for i, k in enumerate(KEYS)}
    ok(keys == want, "every dict key reads back as written",
       "got:  %r" % sorted(keys.items()),
       "want: %r" % sorted(want.items()))
    ok(states == {STATE: 1.0}, "the state value reads back as written",
       "got: %r" % states)
    promtool_clean(raw, "awkward labels")


HASH = "_p[0-9a-f]{8}"
# (sample name, labels that must be there, value) for each path and type
# of labels-writer's "counter" and "gauge" processes
WANT_TYPES = [
    ("scales_x_total", {}, 5, "counter /x keeps its name"),
    ("scales_x" + HASH, {}, 7, "gauge /x gets the hash"),
    ("scales_lat", {}, 9, "gauge /lat keeps its name"),
    ("scales_lat" + HASH + "_count", {}, 1, "histogram /lat gets the hash"),
    ("scales_mode", {}, 11, "gauge /mode keeps its name"),
    ("scales_mode" + HASH, {"state": "on"}, 1,
     "state /mode gets the hash"),
]


def one_name_one_type(raw, what):
    promtool_clean(raw, what)
    fams = list(text_string_to_metric_families(raw.decode("utf-8")))
    names = [f.name for f in fams]
    twice = sorted({x for x in names if names.count(x) > 1})
    ok(not twice, "%s: each family name once, with one type" % what,
       "twice: %r" % twice,
       "families: %r" % [(f.name, f.type) for f in fams])
    samples = [s for f in fams for s in f.samples]
    missing = []
    for name, labels, value, say in WANT_TYPES:
        if not any(re.fullmatch(name, s.name) and s.value == value and
                   labels.items() <= s.labels.items() for s in samples):
            missing.append(say)
    ok(not missing, "%s: the first type (counter, gauge, histogram) keeps "
       "the name" % what, "not so: %r" % missing,
       "samples: %r" % [(s.name, s.labels, s.value) for s in samples
                        if not s.name.endswith("_bucket")])


def main():
    print("1..12")
    tmp = tempfile.mkdtemp(prefix="export-labels.")
    pids = []
    try:
        env = dict(os.environ, SCALES_DIR=os.path.join(tmp, "segs"))
        os.mkdir(env["SCALES_DIR"])
        pids.append(start(env))
        awkward_labels(tmp, env)

        # one app, two processes, the paths of different types
        env = dict(os.environ, SCALES_DIR=os.path.join(tmp, "mixed"),
                   SCALES_APP="mixed")
        os.mkdir(env["SCALES_DIR"])
        pids.append(start(env, "gauge"))
        pids.append(start(env, "counter"))
        one_name_one_type(scrape(env, tmp, "--per-process", "mixed"),
                          "per process")

        # two apps, merged
        env = dict(os.environ, SCALES_DIR=os.path.join(tmp, "apps"))
        os.mkdir(env["SCALES_DIR"])
        pids.append(start(dict(env, SCALES_APP="one"), "gauge"))
        pids.append(start(dict(env, SCALES_APP="two"), "counter"))
        one_name_one_type(scrape(env, tmp), "two apps")
    finally:
        for w in pids:
            w.terminate()
            w.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
