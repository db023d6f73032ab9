#!/usr/bin/python3
"""Pode's signal-route example as a sigd backend, in Python.

A client on /messages that sends {"message": "[date]"} gets the current date
and time; any other message is sent back as it is. Either way the answer goes
to every client on the sender's path, like Pode's

    Add-PodeSignalRoute -Path '/messages' -ScriptBlock { ... Send-PodeSignal -Value $msg }

Usage:

    ./date_route.py [--server HOST:PORT] [--route /messages] [--group NAME]

It prints "ready" once sigd has registered the route, reconnects with backoff
when the stream breaks (sigd restarting), and exits 0 on SIGINT or SIGTERM.
The gRPC stubs are generated from proto/signal.proto on first use.
"""

import argparse
import datetime
import hashlib
import importlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import grpc

DEFAULT_PROTO = Path(__file__).resolve().parents[3] / "proto" / "signal.proto"
PROTOC_PLUGIN = "/usr/bin/grpc_python_plugin"  # Debian's protobuf-compiler-grpc
WELL_KNOWN_TYPES = "/usr/include"  # google/protobuf/*.proto, from libprotobuf-dev

log = logging.getLogger("date_route")


def load_stubs(proto):
    """Returns the (messages, services) modules generated from `proto`.

    They are cached under $XDG_CACHE_HOME/sigd/python/, in a folder named after
    the proto's content: an edited proto gets fresh stubs, and runs starting at
    the same time never import half-written files (each generates into its own
    folder and renames it into place).
    """
    digest = hashlib.sha256(proto.read_bytes()).hexdigest()[:16]
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    out = cache_root / "sigd" / "python" / digest
    name = proto.stem
    if not (out / f"{name}_pb2_grpc.py").exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=".gen-"))
        command = [
            "protoc", f"--python_out={tmp}", f"--grpc_out={tmp}",
            f"--plugin=protoc-gen-grpc={PROTOC_PLUGIN}",
            f"-I{proto.parent}", f"-I{WELL_KNOWN_TYPES}", proto.name,
        ]
        try:
            subprocess.run(command, check=True, cwd=proto.parent)
        except (OSError, subprocess.CalledProcessError) as error:
            shutil.rmtree(tmp, ignore_errors=True)
            sys.exit(f"date_route: cannot generate stubs from {proto} ({error}); "
                     "scripts/deps installs protoc and grpc_python_plugin")
        try:
            tmp.rename(out)
        except OSError:  # another run got there first; its stubs are the same
            shutil.rmtree(tmp, ignore_errors=True)
    sys.path.insert(0, str(out))
    return (importlib.import_module(f"{name}_pb2"),
            importlib.import_module(f"{name}_pb2_grpc"))


def now_text():
    """The current local date and time, human readable (Pode: [datetime]::Now)."""
    return datetime.datetime.now().strftime("%Y-%m-%d %H:%M:%S")


def answer(pb, event):
    """The route's logic: the SendSignal request that answers one MESSAGE event."""
    message = json.loads(event.data.message_json)
    if isinstance(message, str):
        if message.casefold() == "[date]":  # Pode compares with -ieq
            message = now_text()
        return pb.SendSignalRequest(text=message, path=event.path)
    return pb.SendSignalRequest(json=event.data.message_json, path=event.path)


class Backoff:
    """Exponential backoff with jitter, reset once a stream is live again."""

    def __init__(self, first=0.2, longest=5.0):
        self.first, self.longest = first, longest
        self.reset()

    def reset(self):
        self.delay = self.first

    def next(self):
        delay = self.delay
        self.delay = min(self.delay * 2, self.longest)
        return delay * random.uniform(0.8, 1.2)


def serve(pb, stub, args, backoff):
    """Holds the route for as long as the stream lives, answering each message."""
    request = pb.SubscribeSignalsRequest(
        routes=[args.route], mode=pb.SubscribeSignalsRequest.HANDLE, group=args.group)
    for event in stub.SubscribeSignals(request, metadata=args.metadata):
        if event.kind == pb.SUBSCRIBED:
            backoff.reset()
            log.info("holding %s on %s", args.route, args.server)
            print("ready", flush=True)
        elif event.kind == pb.MESSAGE:
            try:
                stub.SendSignal(answer(pb, event), timeout=5, metadata=args.metadata)
            except ValueError:  # sigd validates messages; never let one stop the route
                log.warning("ignored a message that is not JSON: %.80r", event.data.message_json)
            except grpc.RpcError as error:
                # The answer is lost, but the route stays up for the next one.
                log.warning("SendSignal to %s failed: %s", event.path, error.code().name)


def run(args):
    pb, pb_grpc = load_stubs(args.proto)
    # gRPC's own reconnect backoff grows to 2 minutes by default; cap it so a
    # restarted sigd is found again within seconds.
    options = [("grpc.initial_reconnect_backoff_ms", 200),
               ("grpc.min_reconnect_backoff_ms", 200),
               ("grpc.max_reconnect_backoff_ms", 5000)]
    backoff = Backoff()
    with grpc.insecure_channel(args.server, options=options) as channel:
        stub = pb_grpc.SignalServiceStub(channel)
        while True:
            try:
                serve(pb, stub, args, backoff)
                log.warning("sigd ended the stream")
            except grpc.RpcError as error:
                log.warning("stream to %s broke: %s", args.server, error.code().name)
            delay = backoff.next()
            log.info("reconnecting in %.1fs", delay)
            time.sleep(delay)


def stop(signum, frame):
    raise KeyboardInterrupt  # unwinds whatever blocks (stream, SendSignal, sleep)


def main():
    parser = argparse.ArgumentParser(description="Answers [date] on a sigd signal route.")
    parser.add_argument("--server", default=os.environ.get("SIGD_SERVER", "127.0.0.1:50051"),
                        help="sigd's gRPC address (default: $SIGD_SERVER or 127.0.0.1:50051)")
    parser.add_argument("--route", default="/messages", help="route to handle (default: /messages)")
    parser.add_argument("--group", default="",
                        help="share the route's messages with other backends of this group")
    parser.add_argument("--token", default=os.environ.get("SIGD_TOKEN", ""),
                        help="bearer token, for a sigd with --control-token-file "
                             "(default: $SIGD_TOKEN)")
    parser.add_argument("--proto", type=Path, default=DEFAULT_PROTO, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # A sigd started with --control-token-file wants the token on every call.
    args.metadata = [("authorization", f"Bearer {args.token}")] if args.token else []

    logging.basicConfig(level=logging.INFO, format="date_route: %(message)s")
    signal.signal(signal.SIGTERM, stop)  # SIGINT raises KeyboardInterrupt already
    try:
        run(args)
    except KeyboardInterrupt:
        log.info("stopping")
    return 0


if __name__ == "__main__":
    sys.exit(main())
