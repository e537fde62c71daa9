#!/bin/bash
# SPDX-License-Identifier: MIT
# test/http/promtool.sh: /metrics passes `promtool check metrics` (the
# Debian prometheus package's promtool) with exit status 0 and no
# complaint at all, for the seed tour, the script-tag writer, a writer of
# awkward names, and two processes of one app, merged and per process.

. "$(dirname "$0")/lib.sh"

echo "1..9"

command -v promtool >/dev/null || bail "promtool not found (Debian package prometheus)"

# lint URL NAME: promtool's exit status and everything it printed
lint() {
	local st
	st=$(fetch "$1/metrics")
	if [ "$st" != 200 ]; then
		not_ok "$2: /metrics gave $st"
		return
	fi
	cp "$tmp/body" "$tmp/$2.prom"
	promtool check metrics <"$tmp/body" >"$tmp/$2.lint" 2>&1
	local rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$tmp/$2.lint" ]; then
		ok "$2: promtool check metrics: exit 0, nothing to say"
	else
		not_ok "$2: promtool check metrics: exit $rc"
		diag "$(cat "$tmp/$2.lint")"
	fi
}

start_seed_tour seed
start_writer xss "$SCALES_XSS_WRITER"
start_writer names "$SCALES_NAMES_WRITER"
start_server srv
lint "$srv_url" all
p=$tmp/all.prom

check "the seed tour's numbers are there" \
	bash -c 'grep -qx "scales_web_errors_total{app=\"seed-tour\"} 7" "$1" &&
		grep -qx "scales_web_success_total{app=\"seed-tour\"} 1000" "$1" &&
		grep -qx "scales_processor_finished_total{app=\"seed-tour\"} 60" "$1" &&
		grep -qx "scales_processor_state{app=\"seed-tour\",state=\"waitingForTask\"} 2" "$1" &&
		grep -qx "scales_handler_latency_seconds_count{app=\"seed-tour\"} 100" "$1" &&
		grep -qx "scales_handler_latency_seconds_bucket{app=\"seed-tour\",le=\"+Inf\"} 100" "$1"' _ "$p"
check "# HELP and # TYPE for every family, once" \
	bash -c '[ "$(grep -c "^# TYPE " "$1")" = "$(grep -c "^# HELP " "$1")" ] &&
		[ -z "$(grep "^# TYPE " "$1" | cut -d" " -f3 | sort | uniq -d)" ]' _ "$p"
check "counters end in _total, histograms have _bucket, _sum and _count" \
	bash -c '! grep "^# TYPE .* counter$" "$1" | grep -vq "_total counter$" &&
		grep -q "^scales_lat_seconds_p[0-9a-f]*_sum{" "$1" &&
		grep -q "^scales_sizes_bytes_bucket{app=\"names\",le=\"+Inf\"} " "$1"' _ "$p"
check "a dict is one family with a key label" \
	bash -c 'grep -qx "scales_codes_total{app=\"names\",key=\"200\"} 10" "$1" &&
		grep -qx "scales_codes_total{app=\"names\",key=\"500\"} 1" "$1"' _ "$p"
check "label values are escaped (quote, backslash; script tags kept as text)" \
	bash -c 'grep -qF "scales_workers_state{app=\"names\",state=\"idle \\\"quoted\\\" \\\\ back\"} 1" "$1" &&
		grep -qF "scales_evil_state{app=\"xss\",state=\"<script>alert(1)</script>\"} 1" "$1"' _ "$p"
check "colliding paths: the plain spelling keeps its name, others get a hash" \
	bash -c 'grep -qx "scales_x_y_total{app=\"names\"} 1" "$1" &&
		grep -qx "scales_foo_bar_total{app=\"names\"} 4" "$1" &&
		grep -Eq "^scales_x_y_p[0-9a-f]{8}_total\{app=\"names\"\} 2$" "$1" &&
		grep -Eq "^scales_foo_bar_p[0-9a-f]{8}_total\{app=\"names\"\} 3$" "$1"' _ "$p"

mkdir -p "$tmp/two"
SCALES_DIR=$tmp/two start_seed_tour seed2a
SCALES_DIR=$tmp/two start_seed_tour seed2b
start_server merged -d "$tmp/two"
lint "$merged_url" merged
start_server perproc -d "$tmp/two" --per-process
lint "$perproc_url" per-process

exit $((tap_failed > 0))
