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

Environment: SCALES_EXPORT, LABELS_WRITER.
"""
import os
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


def start(env):
    p = subprocess.Popen([WRITER], stdout=subprocess.PIPE, env=env)
    line = p.stdout.readline()
    if line.strip() != b"ready":
        print("Bail out! labels-writer did not start")
        sys.exit(1)
    return p


def main():
    print("1..4")
    tmp = tempfile.mkdtemp(prefix="export-labels.")
    env = dict(os.environ, SCALES_DIR=os.path.join(tmp, "segs"))
    os.mkdir(env["SCALES_DIR"])
    w = start(env)
    try:
        out = os.path.join(tmp, "labels.prom")
        r = subprocess.run([X, "--once", "--textfile", out, "labels"],
                           env=env, capture_output=True)
        ok(r.returncode == 0, "--once --textfile: exit 0", r.stderr)
        with open(out, "rb") as f:
            raw = f.read()
        text = raw.decode("utf-8")
        keys, states = {}, {}
        for fam in text_string_to_metric_families(text):
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
        # promtool comes with `make deps` (Debian package prometheus)
        r = subprocess.run(["promtool", "check", "metrics"], input=raw,
                           capture_output=True)
        ok(r.returncode == 0 and not r.stdout and not r.stderr,
           "promtool check metrics: exit 0, nothing to say",
           "exit %d" % r.returncode, r.stdout.decode(), r.stderr.decode())
    finally:
        w.terminate()
        w.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
