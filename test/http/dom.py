#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# test/http/dom.py FILE QUERY...: reads a DOM that Chromium dumped
# (--dump-dom, after the page's scripts ran) and prints one answer per
# query, one per line:
#   value PATH      data-value of the element with data-path="PATH"
#   text PATH       text of that element's value cell (class "v")
#   help PATH       text of that element's help span
#   rate PATH       text of that element's rate cell (class "r")
#   title           the document's <title> text
#   count TAG       how many elements named TAG there are
#   attr TAG NAME   attribute NAME of the first TAG element ("" if none)
#   status          text of the #status element
#   chart CLASS ATTR  attribute ATTR of the first <svg> with class CLASS
#   drawn CLASS NAME  of that chart's series NAME (data-series): its
#                   data-points and the points drawn (polyline points
#                   and dots), as "DECLARED DRAWN"
#   labels CLASS    that chart's <text> and <title> texts, joined by "|"
#   bars CLASS      that chart's <rect class="bar"> count and the sum of
#                   their data-count, as "BARS SUM"
#   marks CLASS     the texts of its quantile marks (g data-mark), by "|"
#   stat PATH NAME  text of the data-stat=NAME value (.hv) of that row
#   section CLS APP the data-pid of the <section class=CLS data-app=APP>
#   within CLS APP PATH  data-value of PATH in that section
import sys
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text()
                       for c in self.children)

    def walk(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.walk()


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def main():
    t = Tree()
    with open(sys.argv[1], encoding="utf-8") as f:
        t.feed(f.read())
    nodes = list(t.root.walk())
    args = sys.argv[2:]

    def by_path(p):
        for n in nodes:
            if n.attrs.get("data-path") == p:
                return n
        return None

    def cls(n, c):
        for x in n.walk():
            if c in (x.attrs.get("class") or "").split():
                return x
        return None

    out = []
    while args:
        q = args.pop(0)
        if q in ("value", "text", "help", "rate"):
            n = by_path(args.pop(0))
            if n is None:
                out.append("<missing>")
            elif q == "value":
                out.append(n.attrs.get("data-value", "<none>"))
            else:
                c = cls(n, {"text": "v", "rate": "r"}.get(q, "help"))
                out.append(c.text() if c else "<none>")
        elif q == "title":
            n = next((n for n in nodes if n.tag == "title"), None)
            out.append(n.text() if n else "<none>")
        elif q == "count":
            tag = args.pop(0)
            out.append(str(sum(1 for n in nodes if n.tag == tag)))
        elif q == "attr":
            tag, name = args.pop(0), args.pop(0)
            n = next((n for n in nodes if n.tag == tag), None)
            out.append((n.attrs.get(name) or "") if n else "")
        elif q == "status":
            n = next((n for n in nodes if n.attrs.get("id") == "status"),
                     None)
            out.append(n.text() if n else "<none>")
        elif q in ("section", "within"):
            c, app = args.pop(0), args.pop(0)
            sec = next((n for n in nodes if n.tag == "section" and
                        n.attrs.get("class") == c and
                        n.attrs.get("data-app") == app), None)
            if q == "section":
                out.append(sec.attrs.get("data-pid") if sec else
                           "<missing>")
            else:
                path = args.pop(0)
                e = None if sec is None else next(
                    (x for x in sec.walk()
                     if x.attrs.get("data-path") == path), None)
                out.append(e.attrs.get("data-value", "<none>") if e else
                           "<missing>")
        elif q == "stat":
            n, name = by_path(args.pop(0)), args.pop(0)
            e = None if n is None else next(
                (x for x in n.walk() if x.attrs.get("data-stat") == name),
                None)
            c = None if e is None else cls(e, "hv")
            out.append(c.text() if c else "<missing>")
        elif q in ("chart", "drawn", "labels", "bars", "marks"):
            c = args.pop(0)
            svg = next((n for n in nodes if n.tag == "svg" and c in
                        (n.attrs.get("class") or "").split()), None)
            if q == "chart":
                a = args.pop(0)
                out.append("<missing>" if svg is None else
                           svg.attrs.get(a, "<none>"))
            elif svg is None:
                args.pop(0) if q == "drawn" else None
                out.append("<missing>")
            elif q == "bars":
                rs = [n for n in svg.walk() if n.tag == "rect" and
                      "bar" in (n.attrs.get("class") or "").split()]
                out.append("%d %d" % (len(rs), sum(
                    int(n.attrs.get("data-count", "0")) for n in rs)))
            elif q == "marks":
                out.append("|".join(n.text() for n in svg.walk()
                                    if "data-mark" in n.attrs))
            elif q == "drawn":
                name = args.pop(0)
                g = None if svg is None else next(
                    (n for n in svg.walk()
                     if n.attrs.get("data-series") == name), None)
                if g is None:
                    out.append("<missing>")
                    continue
                drawn = 0
                for n in g.walk():
                    if n.tag == "polyline":
                        drawn += len(n.attrs.get("points", "").split())
                    elif n.tag == "circle":
                        drawn += 1
                out.append("%s %d" % (g.attrs.get("data-points"), drawn))
            else:
                out.append("<missing>" if svg is None else "|".join(
                    n.text() for n in svg.walk()
                    if n.tag in ("text", "title")))
        else:
            sys.exit("dom.py: unknown query " + q)
    for line in out:
        print(line.replace("\n", "\\n"))


main()
