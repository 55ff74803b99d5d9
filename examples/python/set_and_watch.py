#!/usr/bin/env python3
"""Sets one parameter of a running studiograph and waits for the authority's echo.

A small client in another language than the server, using stubs generated from
proto/studiograph/v1 by Debian's protoc and grpc_python_plugin (see README.md):

  1. subscribes to the node's ParamChanged events (the first event is a Snapshot),
  2. sends SetParam with its own origin (client_id, client_rev),
  3. waits for the ParamChanged whose origin is its own (the echo, docs/STATE_MODEL.md)
     and prints it with the round-trip time.

Exit codes: 0 echo received, 1 usage, 2 the server refused the value, 3 no echo in time,
4 cannot reach the server.
"""

import argparse
import os
import queue
import sys
import threading
import time

import grpc

from studiograph.v1 import control_pb2, events_pb2, service_pb2_grpc, values_pb2


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--addr", default="127.0.0.1:50051", help="gateway HOST:PORT")
    p.add_argument("--token-file", help="file with the access token (TOKEN or 'ROLE TOKEN')")
    p.add_argument("--tls-ca", help="PEM CA to verify a TLS gateway")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds to wait for the echo")
    p.add_argument("target", metavar="NODE.PARAM")
    p.add_argument("value", type=float, metavar="VALUE")
    return p.parse_args()


def read_token(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            words = line.split()
            if words and not words[0].startswith("#"):
                return words[-1]
    raise SystemExit(f"set_and_watch: token file '{path}' holds no token")


def open_channel(args):
    if args.tls_ca:
        with open(args.tls_ca, "rb") as f:
            return grpc.secure_channel(args.addr, grpc.ssl_channel_credentials(f.read()))
    return grpc.insecure_channel(args.addr)


def main():
    args = parse_args()
    node, dot, param = args.target.rpartition(".")
    if not dot or not node or not param:
        print(f"set_and_watch: expected NODE.PARAM, got '{args.target}'", file=sys.stderr)
        return 1
    metadata = []
    if args.token_file:
        metadata.append(("authorization", "Bearer " + read_token(args.token_file)))
    client_id = f"python-example-{os.getpid()}"

    channel = open_channel(args)
    events = service_pb2_grpc.EventServiceStub(channel)
    nodes = service_pb2_grpc.NodeServiceStub(channel)

    request = control_pb2.SubscribeRequest(
        nodes=[node], kinds=[events_pb2.EVENT_KIND_PARAM_CHANGED])
    stream = events.Subscribe(request, metadata=metadata)
    inbox = queue.Queue()

    def pump():
        try:
            for ev in stream:
                inbox.put(ev)
        except grpc.RpcError as e:
            inbox.put(e)

    threading.Thread(target=pump, daemon=True).start()
    try:
        first = inbox.get(timeout=args.timeout)
    except queue.Empty:
        print("set_and_watch: no snapshot from the server", file=sys.stderr)
        return 4
    if isinstance(first, grpc.RpcError):
        print(f"set_and_watch: {first.code().name}: {first.details()}", file=sys.stderr)
        return 4
    snapshot = first.snapshot
    print(f"snapshot graph={snapshot.graph_name} nodes={len(snapshot.nodes)} seq={first.seq}")

    intent = control_pb2.SetParamRequest(
        node=node, param=param, value=values_pb2.Value(double_value=args.value),
        origin=values_pb2.Origin(client_id=client_id, client_rev=1))
    sent = time.monotonic()
    try:
        reply = nodes.SetParam(intent, metadata=metadata, timeout=args.timeout)
    except grpc.RpcError as e:
        print(f"set_and_watch: {e.code().name}: {e.details()}", file=sys.stderr)
        stream.cancel()
        return 2 if e.code() in (grpc.StatusCode.INVALID_ARGUMENT,
                                 grpc.StatusCode.FAILED_PRECONDITION,
                                 grpc.StatusCode.NOT_FOUND) else 4
    acked = time.monotonic()
    print(f"ack {node}.{param} node_rev={reply.applied.node_rev} "
          f"in {(acked - sent) * 1000:.2f} ms")

    deadline = sent + args.timeout
    while True:
        try:
            ev = inbox.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            print("set_and_watch: no echo in time", file=sys.stderr)
            stream.cancel()
            return 3
        if isinstance(ev, grpc.RpcError):
            print(f"set_and_watch: stream ended: {ev.code().name}", file=sys.stderr)
            return 3
        change = ev.param_changed
        if (ev.HasField("param_changed") and change.origin.client_id == client_id
                and change.origin.client_rev == 1):
            echoed = time.monotonic()
            print(f"echo {change.node}.{change.param} = {change.value.double_value:g} "
                  f"node_rev={change.node_rev} seq={ev.seq} "
                  f"in {(echoed - sent) * 1000:.2f} ms")
            stream.cancel()
            return 0


if __name__ == "__main__":
    sys.exit(main())
