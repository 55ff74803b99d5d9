#!/bin/sh
# Generates the Python stubs of studiograph.v1 into OUT with Debian's protoc and
# grpc_python_plugin (packages protobuf-compiler, protobuf-compiler-grpc).
# Usage: gen_stubs.sh PROTO_DIR OUT
set -eu
proto=$1
out=$2
plugin=$(command -v grpc_python_plugin || true)
if [ -z "$plugin" ]; then
  echo "gen_stubs: grpc_python_plugin not found (package protobuf-compiler-grpc)" >&2
  exit 77
fi
mkdir -p "$out"
protoc -I "$proto" --python_out="$out" --grpc_python_out="$out" \
  --plugin=protoc-gen-grpc_python="$plugin" "$proto"/studiograph/v1/*.proto
