#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Unit test of .ci/count-tests: feeds it hand-written meson test logs and
# checks the closing line and exit status. Prints TAP.
set -u
count=${1:?usage: count-tests-test.sh PATH/TO/count-tests}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

n=0
fails=0
# check NAME EXPECTED_LAST_LINE EXPECTED_STATUS JSONL...
check() {
	local name=$1 want=$2 want_rc=$3
	shift 3
	n=$((n + 1))
	printf '%s\n' "$@" >"$tmp/log$n.json"
	local out rc last
	out=$(python3 "$count" "$tmp/log$n.json" 2>&1)
	rc=$?
	last=$(printf '%s\n' "$out" | tail -n 1)
	if [ "$last" = "$want" ] && [ "$rc" = "$want_rc" ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		echo "# want '$want' (exit $want_rc), got '$last' (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/#   /'
		fails=$((fails + 1))
	fi
}

tap_ok2='TAP version 13\n1..2\n# Criterion v2.4.1\n#\n# Running 2 tests from s\nok - s::b  (0.00s)\nok - s::a  (0.00s)\n'
echo "1..9"

check "criterion, two passing cases" "2 passed, 0 failed" 0 \
	"{\"name\": \"a\", \"stdout\": \"$tap_ok2\", \"result\": \"OK\", \"returncode\": 0}"

check "criterion, one failing case" "1 passed, 1 failed" 1 \
	'{"name": "a", "stdout": "TAP version 13\n1..2\nnot ok - s::c unexpected signal after t.c:6\nok - s::a  (0.00s)\n", "result": "FAIL", "returncode": 1}'

check "fewer results than the plan" "3 passed, 2 failed" 1 \
	'{"name": "a", "stdout": "1..5\nok 1\nok 2\nok 3\n", "result": "ERROR", "returncode": 0}'

check "killed before any output (timeout)" "0 passed, 1 failed" 1 \
	'{"name": "a", "stdout": "", "result": "TIMEOUT", "returncode": -15}'

check "all cases pass but exit status 1" "2 passed, 1 failed" 1 \
	"{\"name\": \"a\", \"stdout\": \"$tap_ok2\", \"result\": \"FAIL\", \"returncode\": 1}"

check "skip directives and a script test" "2 passed, 0 failed" 0 \
	'{"name": "a", "stdout": "1..2\nok - s::e  # SKIP nope\nok - s::a  (0.00s)\n", "result": "OK", "returncode": 0}' \
	'{"name": "b", "stdout": "hello\n", "result": "OK", "returncode": 0}'

check "failing script test counts as one" "1 passed, 1 failed" 1 \
	'{"name": "a", "stdout": "hello\n", "result": "OK", "returncode": 0}' \
	'{"name": "b", "stdout": "", "result": "FAIL", "returncode": 2}'

check "bail out" "1 passed, 2 failed" 1 \
	'{"name": "a", "stdout": "1..3\nok 1\nBail out! no server\n", "result": "ERROR", "returncode": 1}'

check "nothing ran is a failure" "0 passed, 0 failed" 1 \
	'{"name": "a", "stdout": "", "result": "SKIP", "returncode": 77}'

[ "$fails" = 0 ]
