#!/bin/sh
# The gateway load test in full (docs/PERFORMANCE.md): latency next to a raw gRPC unary, then
# 64 subscribers and RATE intents/s (default 5,000) for SECONDS (default 60), once with each
# subscriber following one node group of 16 (the usual control-surface case) and once with
# every subscriber following every node (full fan-out: 64 events per intent). Bounded: each run
# sends for SECONDS at most (a machine that cannot keep the pace sends fewer and the run fails
# its rate check) and drains for at most 30 s more.
# Usage: bench/gateway_load.sh [BUILD_DIR] [SECONDS] [RATE]
set -u
build=${1:-build}
seconds=${2:-60}
rate=${3:-5000}
bench="$build/bench/bench_gateway"
[ -x "$bench" ] || { echo "gateway_load: $bench not built (ninja -C $build bench_gateway)" >&2; exit 2; }
status=0
uptime
"$bench" latency --samples 5000 || status=1
echo
"$bench" load --subscribers 64 --rate "$rate" --seconds "$seconds" --groups 16 --senders 32 \
  --slow 1 || status=1
echo
"$bench" load --subscribers 64 --rate "$rate" --seconds "$seconds" --groups 1 --senders 32 \
  --slow 1 || status=1
uptime
exit $status
