#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""doc-links.py SRCROOT: every relative link of README.md and docs/*.md
points to a file that exists and, with a #fragment, to a heading of that
file (GitHub's anchor rules). Prints TAP, one test point per Markdown file.
Links to the pages other helpers have yet to write (PENDING) are reported
as a TODO note instead of a failure while those pages do not exist."""
import glob
import os
import re
import sys

PENDING = {"docs/graphite.md", "docs/performance.md", "docs/reliability.md"}

LINK = re.compile(r"\]\(([^)\s]+)\)")


def strip_code(text):
    out, fence = [], False
    for line in text.splitlines():
        if re.match(r"^\s*(```|~~~)", line):
            fence = not fence
            out.append("")
            continue
        out.append("" if fence else re.sub(r"`[^`]*`", "", line))
    return out


def anchors(path):
    result, seen = set(), {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    fence = False
    for line in lines:
        if re.match(r"^\s*(```|~~~)", line):
            fence = not fence
            continue
        m = None if fence else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        a = m.group(1).strip().lower()
        a = re.sub(r"[^\w\- ]", "", a)  # keeps letters, digits, _ and -
        a = a.replace(" ", "-")
        n = seen.get(a, 0)
        seen[a] = n + 1
        result.add(a if n == 0 else "%s-%d" % (a, n))
    return result


def main():
    src = sys.argv[1]
    files = [os.path.join(src, "README.md")] + sorted(
        glob.glob(os.path.join(src, "docs", "*.md")))
    files = [f for f in files if os.path.isfile(f)]
    print("1..%d" % len(files))
    failed = False
    for i, md in enumerate(files, 1):
        rel = os.path.relpath(md, src)
        with open(md, encoding="utf-8") as f:
            lines = strip_code(f.read())
        bad, todo = [], set()
        for ln, line in enumerate(lines, 1):
            for target in LINK.findall(line):
                if re.match(r"^[a-z]+:", target):
                    continue  # http:, https:, mailto:, man:
                path, _, frag = target.partition("#")
                dest = md if not path else os.path.normpath(
                    os.path.join(os.path.dirname(md), path))
                drel = os.path.relpath(dest, src)
                if not os.path.exists(dest):
                    if drel in PENDING:
                        todo.add(drel)
                    else:
                        bad.append("%d: %s: no such file" % (ln, target))
                    continue
                if frag and dest.endswith(".md") and frag not in anchors(dest):
                    bad.append("%d: %s: no such heading" % (ln, target))
        if bad:
            failed = True
            print("not ok %d - %s: broken links" % (i, rel))
            for b in bad:
                print("# %s:%s" % (rel, b))
        else:
            note = ""
            if todo:
                note = " (pages not written yet: %s)" % ", ".join(sorted(todo))
            print("ok %d - %s: links resolve%s" % (i, rel, note))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
