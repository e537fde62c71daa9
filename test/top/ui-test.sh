#!/bin/bash
# SPDX-License-Identifier: MIT
# ui-test.sh: the live curses scales-top driven through tmux (send-keys,
# capture-pane) against running writers (examples/seed-tour, top-writer):
# it starts and shows known values, the filter (several, exclusions) and
# its prompt (Ctrl-U, Ctrl-W, Esc), search, g/G, z, the sort menu, reverse
# and marker, F-keys, the flat
# table, the process list (a SIGKILLed writer shown dead with its last
# values, picking processes), the merged view of two processes of one app,
# sort, pause, interval, help, resize, and the terminal restored with the
# right exit status on q, SIGINT, SIGTERM and SIGSEGV. Prints TAP.
#
# No timing assertions: every wait polls the screen for up to 20 s.

. "$(dirname "$0")/lib.sh"

NTESTS=49
plan $NTESTS

if ! command -v tmux >/dev/null; then
	for i in $(seq $NTESTS); do
		echo "ok $i - # SKIP tmux is not installed"
	done
	exit 0
fi
if [ -z "$SEED" ]; then
	for i in $(seq $NTESTS); do
		echo "ok $i - # SKIP examples/seed-tour is not built"
	done
	exit 0
fi

TMUX_SOCK=$WORK/tmux.sock
pane=$WORK/pane
status_file=$WORK/status
pid_file=$WORK/top.pid

tm() { tmux -S "$TMUX_SOCK" "$@"; }

# capture: the screen in $pane.
capture() { tm capture-pane -p -t top >"$pane" 2>/dev/null; }

# screen_has REGEX: the screen has a line matching the extended REGEX.
screen_has() { capture && grep -Eq -- "$1" "$pane"; }

# wait_screen REGEX: waits (up to 20 s) until the screen shows REGEX.
wait_screen() {
	wait_until 200 screen_has "$1" && return 0
	diag "the screen never showed: $1" "$(cat "$pane")"
	return 1
}

# wait_gone REGEX: waits until the screen no longer shows REGEX.
wait_gone() {
	local tries=200
	while [ $tries -gt 0 ]; do
		screen_has "$1" || return 0
		tries=$((tries - 1))
		sleep 0.1
	done
	diag "the screen still shows: $1" "$(cat "$pane")"
	return 1
}

keys() { tm send-keys -t top "$@"; }

alt_on() { [ "$(tm display -p -t top '#{alternate_on}')" = 1 ]; }

# start_top ARGS...: runs scales-top ARGS in the pane's shell; its pid goes
# to $pid_file and, when it ends, its status to $status_file.
start_top() {
	rm -f "$status_file" "$pid_file"
	# the wrapper traps SIGINT so that it (and the shell) outlive a
	# Ctrl-C that ends scales-top; scales-top gets the default handler
	{
		echo "trap : INT"
		printf 'sh -c %q' 'echo $$ >"$0"; exec "$@"'
		printf ' %q' "$pid_file" "$TOP" "$@"
		echo
		echo "st=\$?; echo \$st >'$status_file'; echo EXIT=\$st"
	} >"$WORK/run.sh"
	keys "clear; bash $WORK/run.sh" Enter
	wait_until 200 test -s "$pid_file" && wait_until 200 alt_on
}

# ended STATUS: scales-top ended with STATUS, the alternate screen is off
# and the shell prints again.
ended() {
	wait_until 200 test -s "$status_file" || {
		diag "scales-top did not end"
		return 1
	}
	local st
	st=$(cat "$status_file")
	[ "$st" = "$1" ] || {
		diag "exit status $st, expected $1"
		return 1
	}
	wait_screen "^EXIT=$1\$" && ! alt_on
}

# The terminal is sane after scales-top: echo and canonical mode back.
tty_sane() {
	rm -f "$WORK/stty"
	keys "stty -a >$WORK/stty" Enter
	wait_until 100 test -s "$WORK/stty" &&
		grep -Eq '(^| )echo( |$)' "$WORK/stty" &&
		grep -Eq '(^| )icanon( |$)' "$WORK/stty"
}

start_writer seed "$SEED" || exit 1
start_writer victim "$WRITER" --app victim --count 9 || exit 1

tm -f /dev/null new-session -d -s top -x 160 -y 45 \
	-e "SCALES_DIR=$SCALES_DIR" -e LANG=C.UTF-8 -e PS1='$ ' sh
tm set-option -t top remain-on-exit on >/dev/null

# --------------------------------------------------------------- starts
start_top
ok $? "starts in the alternate screen"

wait_screen "seed-tour $seed \\[alive\\]" &&
	wait_screen "victim $victim \\[alive\\]" &&
	wait_screen "^scales-top .* 2 processes \\(2 alive\\)"
ok $? "shows both processes, alive"

wait_screen '^ +[^ ]* ?errors +7( |$)' &&
	wait_screen '^ +[^ ]* ?success +1000( |$)' &&
	wait_screen '^ +[^ ]* ?finished +60( |$)' &&
	wait_screen '^ +[^ ]* ?waitingForTask +2( |$)' &&
	wait_screen '^ +[^ ]* ?count +9( |$)'
ok $? "shows known metrics with their values (errors 7, success 1000, finished 60)"

wait_screen '^ +[^ ]* ?latency +100 .* 49\.8 ms +99\.6 ms +99\.6 ms +100 ms *$' &&
	wait_screen '^ +. last [0-9.]+ [mu]?s +0 +0/s( |$)'
ok $? "a histogram: count, p50, p99, p99.9, max in human units, and its last interval"

wait_screen 'RATE +1m +5m +15m +MEAN +P50 +P99 +P99.9 +MAX'
ok $? "the columns: value, rate, meters, histogram statistics"

# a point in time (unit seconds, 1e9 to 1e10) is a UTC date, as on the
# stats page, not "1796417134s"
wait_screen ' currentTime +20[0-9]{2}-[01][0-9]-[0-3][0-9] [0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z *$'
ok $? "a timestamp is shown as a date (UTC), as the stats page shows it"

# a counter in bytes: IEC units, and its rate too (0 B a second)
wait_screen '^ +[^ ]* ?sent +1\.5 KiB +0 B/s( |$)'
ok $? "a counter in bytes shows KiB, its rate the unit"

# the status line: unit and help of the highlighted metric
keys Home Down Down Down
wait_screen '^/handler/latency +histogram, unit seconds: time to handle a request'
ok $? "the status line shows the highlighted metric's kind, unit and help"

# ---------------------------------------------------------------- filter
# \ (or F4): several filters, "^" excludes
keys -l '\'
wait_screen '^filter:' && keys '/web/* ^*/errors' Enter
wait_screen 'filter: /web/\* \^\*/errors' && wait_gone 'latency' &&
	wait_gone 'thread-0' && wait_gone ' count ' &&
	screen_has '^ +[^ ]* ?success +1000( |$)' && ! screen_has ' errors ' &&
	screen_has 'currentTime'
ok $? "\\ with a glob and an exclusion: /web without its errors"

# the prompt offers the old text selected: typing replaces it
keys -l '\'
wait_screen '^filter: /web/\* \^\*/errors' && keys 'thread-1' Enter
wait_screen 'filter: thread-1  ' && wait_gone 'success' &&
	screen_has '^ +[^ ]* ?finished +20( |$)' && ! screen_has 'thread-0'
ok $? "the prompt opens with the old text selected; typing replaces it (a plain text matches anywhere)"

keys F4
wait_screen '^filter: thread-1' && keys C-u 'abc def' C-w &&
	wait_screen '^filter: abc *$' && keys Escape &&
	wait_gone '^filter:' && screen_has 'filter: thread-1  ' &&
	screen_has '^ +[^ ]* ?finished +20( |$)'
ok $? "F4 opens the filter; Ctrl-U erases, Ctrl-W erases a word, Esc cancels"

keys -l '\'
keys C-u Enter
wait_screen '^ +[^ ]* ?errors +7( |$)' && wait_screen 'latency' &&
	! screen_has 'filter:'
ok $? "an empty filter shows everything again"

# ---------------------------------------------------------------- search
keys Home F3
wait_screen '^search:' && keys 'thread-2' &&
	wait_screen '^search: thread-2' && keys Enter &&
	wait_screen '^/processor/thread-2/ *$'
ok $? "F3 searches: the highlight goes to the first path containing the text"
keys n
wait_screen '^/processor/thread-2/finished +counter'
ok $? "n goes to the next match"
keys / C-u 'currentT'
wait_screen '^search: currentT' && keys Escape &&
	wait_screen '^/processor/thread-2/finished +counter'
ok $? "/ searches too; Esc goes back where the search began"

# --------------------------------------------------------- g, G, z, sort
keys G
wait_screen '^/test/ticks +counter'
ok $? "G goes to the last row"
keys g
wait_screen "^seed-tour $seed: alive"
ok $? "g goes to the first row"

wait_screen '^ +[^ ]* ?ticks +0( |$)' && keys z &&
	wait_screen 'no zeros' && wait_gone ' ticks ' &&
	screen_has '^ +[^ ]* ?count +9( |$)' && keys z &&
	wait_screen '^ +[^ ]* ?ticks +0( |$)' && ! screen_has 'no zeros'
ok $? "z hides the metrics whose value is 0, and shows them again"

# the order of /web's children in the pane: currentTime, errors, success
web_order() {
	capture &&
		grep -oE ' (currentTime|errors|success) ' "$pane" | tr -d ' \n'
}
order_is() { [ "$(web_order)" = "$1" ]; }

keys F6
wait_screen 'sort by \(Up' && keys Down Enter &&
	wait_screen 'sort: value  ' && wait_screen 'VALUE' &&
	wait_until 200 order_is currentTimesuccesserrors &&
	screen_has '^NAME +▼VALUE '
ok $? "F6 opens the sort menu; value sorts largest first, marked ▼VALUE"
keys I
wait_screen 'sort: value reversed' &&
	wait_until 200 order_is errorssuccesscurrentTime &&
	screen_has '^NAME +▲VALUE '
ok $? "I reverses the sort (▲VALUE)"
keys '>'
wait_screen 'sort by \(Up' && keys Down Down Down Down Down Down Down Enter &&
	wait_screen 'sort: p99 reversed' && wait_screen ' ▲P99 '
ok $? "> opens the menu too; any column: p99, marked"
keys F6
wait_screen 'sort by \(Up' && keys Up Up Up Up Up Up Up Up Enter && keys I &&
	wait_screen 'sort: name  ' && wait_screen '^NAME▲ ' &&
	wait_until 200 order_is currentTimeerrorssuccess
ok $? "back to the name sort"

# ------------------------------------------------------------- tree, flat
keys Home Down
wait_screen '^/handler/ *$' && keys Enter &&
	wait_gone '^ +[^ ]* ?requests +100( |$)' && screen_has 'handler'
ok $? "Enter collapses a node"
keys Enter
wait_screen '^ +[^ ]* ?requests +100( |$)'
ok $? "Enter expands it again"

keys F5
wait_screen '^ +. /web/errors +7( |$)' &&
	wait_screen '^ +. /processor/thread-1/finished +20( |$)' &&
	wait_screen '^PATH(▲)? +VALUE'
ok $? "F5 switches to the flat table of full paths"
keys t
wait_screen '^NAME(▲)? +VALUE' && wait_gone '/web/errors'
ok $? "t switches back to the tree"

# ------------------------------------------------- sort, pause, interval
keys s
wait_screen 'sort: value'
ok $? "s cycles the sort (value)"
keys s
wait_screen 'sort: rate' && keys s && wait_screen 'sort: m1' &&
	keys s s s s s s s s && wait_screen 'sort: name'
ok $? "s cycles the sort (rate, m1, ... max, name)"

keys p
wait_screen 'PAUSED' && keys p && wait_gone 'PAUSED'
ok $? "p pauses and resumes"

keys +
wait_screen 'every 2 s' && keys - - &&
	wait_screen 'every 500 ms' && keys + && wait_screen 'every 1 s'
ok $? "+ and - change the refresh interval"

keys '?'
wait_screen 'scales-top keys' && wait_screen 'sort by the next column' &&
	keys x && wait_gone 'scales-top keys'
ok $? "? shows the key bindings; any key closes them"
keys F1
wait_screen 'scales-top keys' && wait_screen '^ +F6, > +choose the sort' &&
	screen_has '^ +Ctrl-W +in a prompt' && screen_has '^ +F10, q +quit' &&
	keys x && wait_gone 'scales-top keys'
ok $? "F1 shows the key bindings too"

# ----------------------------------------------------------------- resize
tm resize-window -t top -x 90 -y 30
wait_screen '^NAME(▲)? +VALUE +RATE .*P50 +P99' && ! screen_has ' 15m( |$)' &&
	screen_has '^ +[^ ]* ?errors +7( |$)'
ok $? "a resize redraws with the columns that fit"
tm resize-window -t top -x 160 -y 45
wait_screen ' 15m( |$)'
ok $? "and back"

# ---------------------------------------------- a SIGKILLed writer: dead
stop_writer "$victim" KILL
wait_screen "victim $victim \\[dead\\]" &&
	screen_has '^ +[^ ]* ?count +9( |$)'
ok $? "a SIGKILLed writer is shown dead, with its last values"

keys l
wait_screen '^ +APP +PID +STATE +UPTIME +METRICS +REFUSED +UID +SIZE +SEGMENT' &&
	wait_screen "victim +$victim +dead +- +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ [KMG]iB" &&
	wait_screen "seed-tour +$seed +alive +[0-9.]+ (s|min|h) "
ok $? "the process list shows the SIGKILLed writer as dead"

# pick the dead one alone (seed-tour sorts first: the victim is second)
keys Home Down Space Enter
wait_screen "victim $victim \\[dead\\]" && wait_gone "seed-tour $seed" &&
	screen_has '^ +[^ ]* ?count +9( |$)' &&
	screen_has '^ +[^ ]* ?gauge +-5( |$)'
ok $? "picking it in the process list shows only its last values"

keys a
wait_screen "seed-tour $seed \\[alive\\]" && wait_screen "victim $victim"
ok $? "a shows every process again"

# -------------------------------------------------------------- merged
start_writer seed2 "$SEED"
keys Home
wait_screen "seed-tour $seed2 \\[alive\\]" &&
	wait_screen "^scales-top .* 3 processes \\(2 alive\\)"
ok $? "a new process appears"

keys m
wait_screen "seed-tour \\(2 merged: ($seed $seed2|$seed2 $seed)\\) \\[alive\\]" &&
	wait_screen '^ +[^ ]* ?errors +14( |$)' &&
	wait_screen '^ +[^ ]* ?success +2000( |$)' &&
	wait_screen '^ +[^ ]* ?finished +120( |$)' &&
	wait_screen '^ +[^ ]* ?waitingForTask +4( |$)' &&
	wait_screen '^ +[^ ]* ?latency +200 ' &&
	! screen_has "seed-tour $seed \\["
ok $? "m merges the two seed tours: summed values (errors 14, finished 120)"
keys m
wait_screen "seed-tour $seed \\[alive\\]" &&
	wait_screen "seed-tour $seed2 \\[alive\\]" && wait_gone 'merged'
ok $? "m again shows them apart"

# ------------------------------------------------------------------- quit
keys q
ended 0
ok $? "q quits with status 0 and leaves the alternate screen"
tty_sane
ok $? "the terminal is restored (echo, canonical mode)"

# --merge and -f on the command line
start_top --merge -f '/web/*'
wait_screen "seed-tour \\(2 merged" && wait_screen '^ +[^ ]* ?errors +14( |$)' &&
	! screen_has 'latency'
ok $? "--merge and -f on the command line"

# --------------------------------------------------------------- signals
kill -TERM "$(cat "$pid_file")"
ended 143 && tty_sane
ok $? "SIGTERM: terminal restored, ended by SIGTERM (143)"

start_top
wait_screen 'errors' && keys C-c
ended 130 && tty_sane
ok $? "SIGINT (Ctrl-C): terminal restored, ended by SIGINT (130)"

# under AddressSanitizer, its SIGSEGV handler (chained to) reports and
# exits with 1
segv_status=139
if ldd "$TOP" 2>/dev/null | grep -q libasan; then
	segv_status=1
fi
start_top
wait_screen 'errors' && kill -SEGV "$(cat "$pid_file")"
ended $segv_status && tty_sane
ok $? "SIGSEGV: terminal restored, re-raised as a crash ($segv_status)"

start_top --refreshes 3 -i 0.1
ended 0
ok $? "--refreshes N ends by itself with status 0"

start_top -f '^/processor/*' -f '^/web/*'
wait_screen '^ +[^ ]* ?requests +100( |$)' && ! screen_has 'errors' &&
	! screen_has 'thread-' && keys F10
ended 0
ok $? "-f with ^ excludes; F10 quits with status 0"

finish $NTESTS
