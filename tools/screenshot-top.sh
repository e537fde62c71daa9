#!/bin/bash
# SPDX-License-Identifier: MIT
# tools/screenshot-top.sh [BUILD_DIR]: makes docs/scales-top.png, the live
# view of scales-top over the seed tour and a busy top-writer: a tmux
# capture with its colours (capture-pane -e), turned into HTML by
# tools/ansi2html.py and rendered by headless Chromium. Not a test.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$src/build}" && pwd)
work=$(mktemp -d /tmp/scales-shot.XXXXXX)
export SCALES_DIR=$work/seg
mkdir -m 0700 "$SCALES_DIR"
"$B/examples/seed-tour" >"$work/seed.log" 2>&1 &
seed=$!
"$B/test/top/top-writer" --app top-writer --count 1234567 \
	--when 1796417134 --busy >"$work/w.log" 2>&1 &
w=$!
sleep 1.5
S=$work/tmux.sock
tmux -S "$S" -f /dev/null new-session -d -s top -x 132 -y 42 \
	"env SCALES_DIR=$SCALES_DIR LANG=C.UTF-8 TERM=xterm-256color $B/tools/scales-top/scales-top"
sleep 7 # a few samples, so that rates show
tmux -S "$S" capture-pane -e -p -t top >"$work/cap.txt"
tmux -S "$S" kill-server
kill "$seed" "$w"
wait "$seed" "$w" 2>/dev/null || true
python3 "$src/tools/ansi2html.py" "$work/cap.txt" >"$work/cap.html"
chromium --headless --no-sandbox --disable-gpu --no-first-run \
	--disable-background-networking --user-data-dir="$work/profile" \
	--hide-scrollbars --window-size=1090,735 \
	--screenshot="$src/docs/scales-top.png" "file://$work/cap.html"
rm -rf "$work"
