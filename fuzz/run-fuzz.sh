#!/bin/sh
# SPDX-License-Identifier: MIT
# fuzz/run-fuzz.sh: builds the libFuzzer target with clang (address and
# undefined-behaviour sanitizers, LeakSanitizer on) from the reader library
# and scales-export's core, then fuzzes for a bounded time, starting from
# the seed corpus test/data/corpus/. Prints TAP (a meson test, suite
# 'hardening'); exits 0 if nothing was found.
#
#   fuzz/run-fuzz.sh [SECONDS [WORKDIR]]
#
# SECONDS: $SCALES_FUZZ_SECONDS, else 60 when $CI is "true", else 15.
# WORKDIR: where the binary, the growing working corpus and any crash
# (crash-*, leak-*, timeout-*) go; default $SCALES_BUILD_ROOT/fuzz-clang,
# else build-fuzz/ at the top of the source tree. CLANG overrides the
# compiler. Without a clang that has libFuzzer (Debian: clang-14 and
# libclang-rt-14-dev), it reports a skip.
#
# A crash found here: copy the reported file into test/data/corpus/ (name
# it crash-<what>), fix the bug, and the normal suite replays it forever
# (meson test fuzz-corpus).
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${1:-}" ]; then
	secs=$1
elif [ -n "${SCALES_FUZZ_SECONDS:-}" ]; then
	secs=$SCALES_FUZZ_SECONDS
elif [ "${CI:-}" = true ]; then
	secs=60
else
	secs=15
fi
work=${2:-${SCALES_BUILD_ROOT:+$SCALES_BUILD_ROOT/fuzz-clang}}
work=${work:-$src/build-fuzz}
cc=${CLANG:-clang}
mkdir -p "$work/corpus" "$work/artifacts" || exit 1

echo "1..3"
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "ok 1 # SKIP $cc not found (apt-get install clang libclang-rt-14-dev)"
	echo "ok 2 # SKIP no fuzzer"
	echo "ok 3 # SKIP no fuzzer"
	exit 0
fi
printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n)\n{ (void)d; (void)n; return 0; }\n' >"$work/probe.c"
if ! "$cc" -fsanitize=fuzzer "$work/probe.c" -o "$work/probe" 2>"$work/probe.log"; then
	echo "ok 1 # SKIP $cc cannot link libFuzzer (apt-get install libclang-rt-14-dev)"
	echo "ok 2 # SKIP no fuzzer"
	echo "ok 3 # SKIP no fuzzer"
	exit 0
fi

# scales-export's renderer and what it needs (no file is optional: a
# missing one is a build failure, reported as such)
export_src=""
for f in format naming render rules pointbuf; do
	export_src="$export_src $src/tools/scales-export/$f.c"
done
export_def="-DFUZZ_EXPORT"

# shellcheck disable=SC2086
if "$cc" -g -O1 -std=gnu11 -D_GNU_SOURCE -fno-omit-frame-pointer \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	$export_def \
	-I"$src/reader/include" -I"$src/writer/include" -I"$src/shm" \
	-I"$src/tools/scales-export" -I"$src/test/hardening" \
	"$src"/reader/*.c "$src"/shm/*.c $export_src "$src/fuzz/fuzz_segment.c" -lm \
	-o "$work/fuzz-segment" 2>"$work/build.log"; then
	echo "ok 1 - clang builds the fuzz target${export_def:+ (with scales-export's renderer)}"
else
	echo "not ok 1 - clang builds the fuzz target"
	sed 's/^/# /' "$work/build.log" | head -40
	exit 1
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
seeds=$src/test/data/corpus
args="-max_len=262144 -timeout=20 -rss_limit_mb=2048 -artifact_prefix=$work/artifacts/"

# shellcheck disable=SC2086
if "$work/fuzz-segment" $args -runs=0 "$seeds" >"$work/replay.log" 2>&1; then
	echo "ok 2 - the seed corpus replays under the sanitizers ($(ls "$seeds" | wc -l) files)"
else
	echo "not ok 2 - the seed corpus replays under the sanitizers"
	grep -E 'ERROR|SUMMARY|check failed|runtime error' "$work/replay.log" | head -20 | sed 's/^/# /'
	exit 1
fi

before=$(ls "$work/artifacts" | wc -l)
# shellcheck disable=SC2086
"$work/fuzz-segment" $args -max_total_time="$secs" -print_final_stats=1 \
	"$work/corpus" "$seeds" >"$work/fuzz.log" 2>&1
rc=$?
after=$(ls "$work/artifacts" | wc -l)
stats=$(grep -E '^stat::number_of_executed_units|^stat::peak_rss_mb' "$work/fuzz.log" |
	sed -e 's/stat:://' -e 's/:  */: /' | tr '\n' ' ')
cov=$(grep -E '^#[0-9]+.*(DONE|pulse|NEW)' "$work/fuzz.log" | tail -1 |
	sed -E 's/.*(cov: [0-9]+ ft: [0-9]+).*/\1/')
if [ "$rc" = 0 ] && [ "$after" = "$before" ]; then
	echo "ok 3 - $secs s of fuzzing found nothing ($stats$cov; corpus $(ls "$work/corpus" | wc -l) inputs)"
else
	# the first line of the finding goes into the test's own line, so that
	# a summary that shows only "not ok" lines still says what was found
	why=$(grep -m1 -E 'ERROR|check failed|runtime error' "$work/fuzz.log" |
		tr -d '\r' | cut -c1-160)
	echo "not ok 3 - $secs s of fuzzing: libFuzzer exited $rc${why:+: $why}"
	grep -E 'ERROR|SUMMARY|check failed|runtime error|Test unit written' "$work/fuzz.log" | head -20 | sed 's/^/# /'
	echo "# full log: $work/fuzz.log; copy the crash file into test/data/corpus/ as a regression"
	exit 1
fi
