#!/bin/bash
# SPDX-License-Identifier: MIT
# state-time-test.sh: time in state (format 1.4) in every output: two
# stt-writers of one app with known times (a = 1.5 s and 0.5 s, b = 0.25 s
# each, end = 0: see stt-writer.c); scales-top -1, -j and -j -m (merged
# processes add up), scales-export --stdout (Graphite), --textfile
# (/metrics, promtool-clean if promtool is installed) and the HTML page.
# The live view (through tmux, if installed). Prints TAP.

. "$(dirname "$0")/lib.sh"

EXPORT=${SCALES_EXPORT:?SCALES_EXPORT is not set}
STT=${STT_WRITER:?STT_WRITER is not set}

plan 8

out=$WORK/out
start_writer a "$STT" --app stt --a 1.5 || exit 1
start_writer b "$STT" --app stt --a 0.5 || exit 1

"$TOP" -j "$a" >"$out" 2>"$WORK/err"
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["processes"][0]["metrics"]["/w/state"]
print("# got", m)
sys.exit(0 if m["seconds"] == {"a": 1.5, "b": 0.25, "end": 0} and
         m["value"] == "end" else 1)
' "$out"
ok $? "scales-top -j: seconds per value, exactly"

"$TOP" -j -m stt >"$out" 2>"$WORK/err"
python3 -c '
import json, sys
m = json.load(open(sys.argv[1]))["processes"][0]["metrics"]["/w/state"]
print("# got", m["seconds"])
sys.exit(0 if m["seconds"] == {"a": 2, "b": 0.5, "end": 0} else 1)
' "$out"
ok $? "scales-top -j -m: two processes add up"

"$TOP" -1 "$a" >"$out" 2>"$WORK/err"
diag "$(grep /w/state "$out")"
grep -Eq '^/w/state +end a=1\.5 s b=250 ms end=0 s$' "$out"
ok $? "scales-top -1: seconds per value"

"$TOP" -1 -m -i 0.2 stt >"$out" 2>"$WORK/err"
diag "$(grep /w/state "$out")"
grep -Eq '^/w/state .* a=2 s \(0 s/s\) b=500 ms \(0 s/s\)' "$out"
ok $? "scales-top -1 -i: rates of them (nothing runs: 0 s/s)"

"$EXPORT" --once --stdout --prefix "" stt >"$out" 2>"$WORK/err"
diag "$(grep state "$out")"
grep -Eq '^stt\.w\.state\.~a\.seconds 2 ' "$out" &&
	grep -Eq '^stt\.w\.state\.~b\.seconds 0\.5 ' "$out" &&
	grep -Eq '^stt\.w\.state\.~end\.seconds 0 ' "$out"
ok $? "scales-export --stdout: one Graphite series per value"

"$EXPORT" --once --textfile "$WORK/t.prom" stt >/dev/null 2>"$WORK/err"
diag "$(grep state "$WORK/t.prom")"
grep -Eq '^# TYPE scales_w_state_seconds_total counter$' "$WORK/t.prom" &&
	grep -Eq '^scales_w_state_seconds_total\{app="stt",state="a"\} 2$' \
		"$WORK/t.prom" &&
	grep -Eq '^scales_w_state_seconds_total\{app="stt",state="b"\} 0\.5$' \
		"$WORK/t.prom" &&
	{ ! command -v promtool >/dev/null ||
		promtool check metrics <"$WORK/t.prom"; }
ok $? "/metrics: a seconds counter with a label state"

if "$EXPORT" --help | grep -q -- '--http '; then
	"$EXPORT" --http 127.0.0.1:0 stt >/dev/null 2>"$WORK/http.err" &
	epid=$!
	pids="$pids $epid"
	u=
	for _ in $(seq 300); do
		u=$(sed -n 's/.*serving \(http:[^ ]*\)\/$/\1/p' "$WORK/http.err" |
			head -n 1)
		[ -n "$u" ] && break
		sleep 0.1
	done
	ok=1
	for _ in $(seq 100); do
		curl -sS --max-time 30 "$u/" >"$out" 2>"$WORK/err"
		grep -q 'a: 2 s, b: 500 ms, end: 0 s' "$out" && { ok=0; break; }
		sleep 0.1
	done
	diag "$(grep -o '<span class="states">[^<]*' "$out")"
	ok $ok "the HTML page: seconds per value"
else
	echo "ok $((tap_n += 1)) - HTML page # SKIP built without --http"
fi
if command -v tmux >/dev/null && "$TOP" --help 2>&1 | grep -q -- '-i'; then
	TMUX_SOCK=$WORK/tmux.sock
	tmux -S "$TMUX_SOCK" new-session -d -x 150 -y 20 \
		"SCALES_DIR=$SCALES_DIR $TOP -i 1 $a"
	ok=1
	for _ in $(seq 100); do
		tmux -S "$TMUX_SOCK" capture-pane -p >"$out" 2>/dev/null
		grep -q 'seconds  *a 1.5 s (0 s/s)  b 250 ms (0 s/s)  end 0 s' \
			"$out" && { ok=0; break; }
		sleep 0.1
	done
	diag "$(grep -A1 state "$out")"
	ok $ok "the live view: a line of seconds (and rates) per value"
else
	echo "ok $((tap_n += 1)) - live view # SKIP needs tmux"
fi
finish 8
