#!/bin/sh
# End-to-end test of the Python example (ctest python.example): generates the stubs, starts
# the real `studiograph run` with an access token on a free loopback port, sets a value from
# Python and waits for its echo, then stops the server.
# Usage: run_test.sh STUDIOGRAPH SOURCE_DIR WORK_DIR   (exit 77: skipped)
set -eu
studiograph=$1
src=$2
work=$3
python=/usr/bin/python3
[ -x "$python" ] || python=python3
if ! "$python" -c 'import grpc, google.protobuf' 2>/dev/null; then
  reason="python3-grpcio / python3-protobuf are not installed"
  if [ "${CI:-}" = true ]; then
    echo "python.example: CI=true requires it: $reason" >&2
    exit 1
  fi
  [ -n "${SG_SKIP_LOG:-}" ] && echo "python.example [missing]: $reason" >> "$SG_SKIP_LOG"
  echo "python.example: skipped: $reason"
  exit 77
fi
rm -rf "$work"
mkdir -p "$work"
sh "$src/examples/python/gen_stubs.sh" "$src/proto" "$work/stubs"

umask 077
printf 'control python-example-token-0123456789\n' > "$work/tokens"
"$studiograph" run "$src/examples/hello.yaml" --listen 127.0.0.1:0 --state none \
  --token-file "$work/tokens" --duration 60 > "$work/server.out" 2> "$work/server.err" &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
addr=
for _ in $(seq 1 250); do
  addr=$(sed -n 's/.*gRPC on \([0-9.]*:[0-9]*\).*/\1/p' "$work/server.out" | head -n 1)
  [ -n "$addr" ] && break
  sleep 0.02
done
if [ -z "$addr" ]; then
  echo "python.example: the server did not start" >&2
  cat "$work/server.err" >&2
  exit 1
fi

cd "$work/stubs"
PYTHONPATH="$work/stubs" "$python" "$src/examples/python/set_and_watch.py" --addr "$addr" \
  --token-file "$work/tokens" osc.frequency 220 | tee "$work/client.out"
grep -q '^echo osc.frequency = 220 node_rev=1 ' "$work/client.out"

# Without the token the server refuses, and the example says so.
if PYTHONPATH="$work/stubs" "$python" "$src/examples/python/set_and_watch.py" --addr "$addr" \
     osc.frequency 330 2> "$work/denied.err"; then
  echo "python.example: a call without a token was accepted" >&2
  exit 1
fi
grep -q UNAUTHENTICATED "$work/denied.err"
echo "python.example: ok"
