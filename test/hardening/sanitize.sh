#!/bin/sh
# SPDX-License-Identifier: MIT
# test/hardening/sanitize.sh: reruns test suites under the sanitizers, in a
# build directory of their own, and reports each inner test as one TAP line.
#
#   sanitize.sh asan   AddressSanitizer + UndefinedBehaviorSanitizer +
#                      LeakSanitizer (-Db_sanitize=address,undefined): the
#                      whole suite, Criterion and scripts, tools included,
#                      but the 'sanitize' suite itself, the clang fuzz run
#                      (suite 'fuzz-clang', with sanitizers of its own) and
#                      the suites that compile programs outside meson
#                      without -fsanitize against the instrumented
#                      libscales.so ('install', 'docs': ASan must be the
#                      first library of a process, so they cannot run)
#   sanitize.sh tsan   ThreadSanitizer (-Db_sanitize=thread): the stress
#                      programs of test/tsan (suite 'tsan'); Criterion
#                      crashes at start under TSan, so its suites are built
#                      but not run
#
# It runs only when CI=true or SCALES_SANITIZE=1 (a full rebuild and rerun
# take minutes); otherwise it reports a skip. The build directory is
# $SCALES_BUILD_ROOT/sanitize-<mode> (meson's test environment sets
# SCALES_BUILD_ROOT and SCALES_SOURCE_ROOT); its logs are next to it:
# sanitize-<mode>.{setup,build,test}.log. The load test runs
# $SCALES_SANITIZE_LOAD_SECONDS (default 10) there.
set -u
mode=${1:?usage: sanitize.sh asan|tsan}
src=${SCALES_SOURCE_ROOT:?not run by meson test}
root=${SCALES_BUILD_ROOT:?not run by meson test}

if [ "${CI:-}" != true ] && [ "${SCALES_SANITIZE:-}" != 1 ]; then
	echo "1..0 # SKIP runs when CI=true or SCALES_SANITIZE=1"
	exit 0
fi

case $mode in
asan)
	opts="-Db_sanitize=address,undefined"
	set -- --no-suite sanitize --no-suite fuzz-clang --no-suite install \
		--no-suite docs
	;;
tsan)
	opts="-Db_sanitize=thread"
	set -- --suite tsan
	;;
*)
	echo "Bail out! unknown mode $mode"
	exit 1
	;;
esac

b=$root/sanitize-$mode
if [ -f "$b/meson-private/coredata.dat" ]; then
	setup="--reconfigure"
else
	setup=""
fi
# shellcheck disable=SC2086
if ! meson setup $setup "$b" "$src" $opts -Db_lundef=false \
	--buildtype=debugoptimized >"$b.setup.log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - $mode: meson setup (log: $b.setup.log)"
	tail -20 "$b.setup.log" | sed 's/^/# /'
	exit 1
fi
if ! ninja -C "$b" >"$b.build.log" 2>&1; then
	echo "1..1"
	echo "not ok 1 - $mode: build (log: $b.build.log)"
	grep -E 'error|FAILED' "$b.build.log" | head -20 | sed 's/^/# /'
	exit 1
fi

# halt_on_error: the first report fails the test; LeakSanitizer runs at
# every exit. The reader library installs its own SIGBUS handler (a segment
# truncated under a reader), so ASan must leave SIGBUS alone.
# verify_asan_link_order=0: the install and docs tests compile programs
# without -fsanitize against the instrumented libscales.so; they get the
# runtime through it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:handle_sigbus=0:allow_user_segv_handler=1:detect_stack_use_after_return=0:strict_string_checks=1:verify_asan_link_order=0}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$src/test/hardening/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export SCALES_LOAD_SECONDS=${SCALES_SANITIZE_LOAD_SECONDS:-10}
rm -f "$b/meson-logs/testlog.json"
meson test -C "$b" --no-rebuild --print-errorlogs "$@" >"$b.test.log" 2>&1

python3 - "$b/meson-logs/testlog.json" "$mode" "$b.test.log" \
	"$src/test/hardening/sanitize-known.txt" <<'EOF'
import json
import os
import re
import sys

log, mode, textlog, knownf = sys.argv[1:5]
known = {}
try:
    for line in open(knownf):
        f = line.split('#', 1)[0].split()
        if len(f) == 3 and f[0] == mode:
            known[f[1]] = f[2]
except OSError:
    pass
pending = os.environ.get('SCALES_HARD_PENDING', '')
try:
    tests = [json.loads(line) for line in open(log) if line.strip()]
except OSError:
    tests = []
if not tests:
    print("1..1")
    print("not ok 1 - %s: no test ran (log: %s)" % (mode, textlog))
    sys.exit(1)
SAN = re.compile(r'(ERROR: (Address|Leak)Sanitizer|runtime error:|'
                 r'WARNING: ThreadSanitizer|SUMMARY: \w+Sanitizer)')
print("1..%d" % len(tests))
failed = 0
for i, t in enumerate(tests, 1):
    res = t.get('result', '?')
    out = (t.get('stdout') or '') + (t.get('stderr') or '')
    cases = len(re.findall(r'^ok\b', out, re.M))
    bad = len(re.findall(r'^not ok\b(?!.*# TODO)', out, re.M))
    ok = res in ('OK', 'EXPECTEDFAIL', 'SKIP')
    name = t.get('name', '?')
    short = name.split(' / ')[-1]
    extra = " # SKIP inner test skipped" if res == 'SKIP' else ""
    bug = known.get(short)
    todo = (not ok and bug and pending != '1' and bug not in pending)
    if todo:
        extra = " # TODO %s: pending fix" % bug
    print("%sok %d - %s: %s (%s, %d cases passed)%s"
          % ("" if ok else "not ", i, mode, name, res, cases, extra))
    if not ok:
        if not todo:
            failed += 1
        shown = 0
        for line in out.splitlines():
            if SAN.search(line) or (line.startswith('not ok') and
                                    '# TODO' not in line):
                print("# " + line[:300])
                shown += 1
                if shown >= 12:
                    break
        if bad == 0 and shown == 0:
            for line in out.splitlines()[-8:]:
                print("# " + line[:300])
sys.exit(1 if failed else 0)
EOF
