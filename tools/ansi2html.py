# SPDX-License-Identifier: MIT
# tools/ansi2html.py CAPTURE: a tmux capture-pane -e (SGR colours and
# attributes) as an HTML page, for tools/screenshot-top.sh.
import html, re, sys
C = ["#1d1f21", "#cc342b", "#198844", "#b58900", "#3971ed", "#a36ac7", "#2aa198", "#c5c8c6"]
FG, BG = "#d8dee9", "#1b2229"
out = []
st = {"b": 0, "d": 0, "u": 0, "r": 0, "fg": None, "bg": None}
def span(t):
    fg = C[st["fg"]] if st["fg"] is not None else FG
    bg = C[st["bg"]] if st["bg"] is not None else None
    if st["r"]:
        fg, bg = (bg or BG), fg
    css = "color:%s;" % fg
    if bg: css += "background:%s;" % bg
    if st["b"]: css += "font-weight:bold;"
    if st["d"]: css += "opacity:.6;"
    if st["u"]: css += "text-decoration:underline;"
    return '<span style="%s">%s</span>' % (css, html.escape(t))
for line in open(sys.argv[1], encoding="utf-8"):
    line = line.rstrip("\n")
    parts = re.split(r"\x1b\[([0-9;]*)m", line)
    row = []
    for i, p in enumerate(parts):
        if i % 2 == 0:
            if p: row.append(span(p))
            continue
        for c in (p or "0").split(";"):
            c = int(c or 0)
            if c == 0: st.update(b=0, d=0, u=0, r=0, fg=None, bg=None)
            elif c == 1: st["b"] = 1
            elif c == 2: st["d"] = 1
            elif c == 4: st["u"] = 1
            elif c == 7: st["r"] = 1
            elif 30 <= c <= 37: st["fg"] = c - 30
            elif c == 39: st["fg"] = None
            elif 40 <= c <= 47: st["bg"] = c - 40
            elif c == 49: st["bg"] = None
    out.append("".join(row))
print('<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:%s}pre{margin:0;padding:10px;font:13px/1.3 "DejaVu Sans Mono",monospace;color:%s}</style></head><body><pre>%s</pre></body></html>' % (BG, FG, "\n".join(out)))
