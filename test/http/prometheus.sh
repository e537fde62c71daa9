#!/bin/bash
# SPDX-License-Identifier: MIT
# test/http/prometheus.sh: a real Prometheus server (Debian package
# prometheus), configured in a temporary directory, scrapes scales-http's
# /metrics on loopback every second while the seed tour runs; queries
# through its HTTP API return the seed tour's values, and, for demo-server
# under demo-load, `sum by (endpoint) (rate(..._count[1m]))` is one series
# per labelled endpoint (issue 14, item 3). Prometheus listens
# on a free loopback port, keeps its storage in the temporary directory
# and is stopped by its pid.

. "$(dirname "$0")/lib.sh"

echo "1..8"

prometheus=${PROMETHEUS:-$(command -v prometheus)}
[ -x "$prometheus" ] || bail "prometheus not found (Debian package prometheus)"

start_seed_tour seed
[ -x "${SCALES_DEMO_SERVER:-}" ] && [ -x "${SCALES_DEMO_LOAD:-}" ] ||
	bail "SCALES_DEMO_SERVER and SCALES_DEMO_LOAD are not built"
start_writer demo "$SCALES_DEMO_SERVER" -p 0 -w 2
demo_port=$(sed -n 's/^listening //p' "$tmp/demo.out")
# 2 connections, at most 50 requests per second each, until stopped
"$SCALES_DEMO_LOAD" -p "$demo_port" -c 2 -r 50 -d 0 \
	>"$tmp/load.out" 2>"$tmp/load.err" &
started+=("$!")
start_server srv
target=${srv_url#http://}

# a free loopback port for Prometheus's own web server (retried below if
# someone takes it first)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mkdir -p "$tmp/prom/data"
cat >"$tmp/prom/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: scales
    metrics_path: /metrics
    static_configs:
      - targets: ['$target']
YML

ppid_=
for attempt in 1 2 3; do
	wport=$(free_port)
	"$prometheus" --config.file="$tmp/prom/prometheus.yml" \
		--storage.tsdb.path="$tmp/prom/data" \
		--web.listen-address="127.0.0.1:$wport" \
		--log.level=warn >"$tmp/prom/log" 2>&1 &
	ppid_=$!
	started+=("$ppid_")
	# ready, or gone (port taken: try another)
	for _ in $(seq 1 1200); do
		curl -sf "http://127.0.0.1:$wport/-/ready" >/dev/null && break
		kill -0 "$ppid_" 2>/dev/null || break
		sleep 0.05
	done
	kill -0 "$ppid_" 2>/dev/null && break
	diag "prometheus attempt $attempt failed: $(tail -n 3 "$tmp/prom/log")"
	ppid_=
done
papi=http://127.0.0.1:$wport/api/v1
check "prometheus is up and ready on 127.0.0.1:$wport" \
	bash -c '[ -n "$1" ] && curl -sf "$2/-/ready" >/dev/null' _ "$ppid_" "http://127.0.0.1:$wport"

# query EXPR: the first result's value ("" if none yet)
query() {
	curl -sS --max-time 10 "$papi/query" --data-urlencode "query=$1" |
		jq_ -r - 'd["data"]["result"][0]["value"][1] if d["data"]["result"] else ""'
}

# wait_value EXPR: polls until EXPR has a value (deadline 120 s: a hung
# server, not a timing assertion); prints it
wait_value() {
	local v=
	for _ in $(seq 1 600); do
		v=$(query "$1")
		[ -n "$v" ] && break
		sleep 0.2
	done
	printf '%s' "$v"
}

v=$(wait_value 'scales_web_errors_total{app="seed-tour"}')
check "query scales_web_errors_total{app=\"seed-tour\"} = 7 ($v)" test "$v" = 7
v=$(curl -sS "$papi/targets" | jq_ -r - 'd["data"]["activeTargets"][0]["health"] + " " + d["data"]["activeTargets"][0]["lastError"]')
check "the scrape target is healthy ($v)" test "$v" = "up "
v=$(wait_value 'scales_web_success_total{app="seed-tour"} + scales_processor_finished_total{app="seed-tour"}')
check "success + finished = 1060 ($v)" test "$v" = 1060
v=$(wait_value 'scales_handler_latency_seconds_count{app="seed-tour"}')
check "the latency histogram's count is 100 ($v)" test "$v" = 100
v=$(wait_value 'histogram_quantile(0.5, scales_handler_latency_seconds_bucket{app="seed-tour"})')
check "histogram_quantile(0.5) lies in the octave of 50 ms ($v)" \
	python3 -c 'import sys; v = float(sys.argv[1]); sys.exit(not 0.0335 < v <= 0.0672)' "$v"

# The writer declared the endpoint label (scales_scope_labelled()): one
# series per endpoint demo-server registers, each rate positive and below
# what demo-load can send (2 x 50 per second). rate() needs two scrapes
# in the window:
# polled until every endpoint has a positive rate (deadline 120 s).
q='sum by (endpoint) (rate(scales_endpoint_latency_seconds_count{app="demo-server"}[1m]))'
res=
deadline=$((SECONDS + 120))
while [ "$SECONDS" -lt "$deadline" ]; do
	res=$(curl -sS --max-time 10 "$papi/query" --data-urlencode "query=$q" |
		jq_ -r - '" ".join(sorted(r["metric"].get("endpoint", "-") + "=" + r["value"][1] for r in d["data"]["result"]))')
	python3 -c 'import sys; v = dict(x.split("=") for x in sys.argv[1:]); sys.exit(not (len(v) == 4 and all(float(x) > 0 for x in v.values())))' $res 2>/dev/null && break
	sleep 0.2
done
check "sum by (endpoint) (rate(..._count[1m])): one series per endpoint ($res)" \
	python3 -c 'import sys; v = dict(x.split("=") for x in sys.argv[1:]); sys.exit(sorted(v) != ["error", "home", "search", "slow"])' $res
check "each endpoint's rate is plausible: 0 < rate, sum <= 100/s ($res)" \
	python3 -c 'import sys; v = {k: float(x) for k, x in (a.split("=") for a in sys.argv[1:])}; sys.exit(not (v and all(x > 0 for x in v.values()) and sum(v.values()) <= 100))' $res

stop_pid "$ppid_"
exit $((tap_failed > 0))
