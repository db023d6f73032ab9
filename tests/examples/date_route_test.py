#!/usr/bin/python3
"""Runs the date-route example backends (examples/date-route/) against a real sigd.

Each test starts sigd on free loopback ports, starts one backend against it,
waits for the backend's "ready" line and talks to sigd as browsers do, over
WebSocket. Pinned down: Pode's signal-route example ("[date]" on /messages is
answered with the date, anything else is echoed to the sender's path, other
paths see nothing) and that a backend survives sigd restarting.

    SIGD_BIN=build/server/sigd tests/examples/date_route_test.py -v [PythonBackendTest]

Needs Debian's python3-grpcio and protoc (scripts/deps), and for the Node
backend its node_modules (scripts/deps runs npm ci).
"""

import base64
import contextlib
import datetime
import hashlib
import importlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

import grpc

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "date-route"
PROTO = ROOT / "proto" / "signal.proto"
TIMEOUT = 15.0  # seconds any one awaited condition may take
SIGD_READY = re.compile(r"sigd ready: http/ws on 127\.0\.0\.1:(\d+), grpc on 127\.0\.0\.1:(\d+)")
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"  # what both examples print for "[date]"

pb = None  # generated signal_pb2, set by setUpModule
pb_grpc = None


def setUpModule():
    global pb, pb_grpc
    out = Path(tempfile.mkdtemp(prefix="sigd-stubs-"))
    unittest.addModuleCleanup(shutil.rmtree, out, ignore_errors=True)
    subprocess.run(
        ["protoc", f"--python_out={out}", f"--grpc_out={out}",
         "--plugin=protoc-gen-grpc=/usr/bin/grpc_python_plugin",
         f"-I{PROTO.parent}", "-I/usr/include", PROTO.name],
        check=True, cwd=PROTO.parent)
    sys.path.insert(0, str(out))
    pb = importlib.import_module("signal_pb2")
    pb_grpc = importlib.import_module("signal_pb2_grpc")


class ChildProcess:
    """A child whose stdout and stderr lines are collected by reader threads."""

    def __init__(self, name, argv, env=None):
        self.name = name
        self.lines = {"stdout": [], "stderr": []}
        self._closed = set()
        self._changed = threading.Condition()
        self.popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True, errors="replace")
        self._readers = [threading.Thread(target=self._read, args=(stream, pipe), daemon=True)
                         for stream, pipe in (("stdout", self.popen.stdout),
                                              ("stderr", self.popen.stderr))]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, pipe):
        for line in pipe:
            with self._changed:
                self.lines[stream].append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._closed.add(stream)
            self._changed.notify_all()

    def wait_for_line(self, stream, pattern, start=0):
        """Returns (index, match) of the first line from `start` on matching `pattern`."""
        deadline = time.monotonic() + TIMEOUT
        with self._changed:
            while True:
                lines = self.lines[stream]
                for index in range(start, len(lines)):
                    match = re.search(pattern, lines[index])
                    if match:
                        return index, match
                start = len(lines)
                if stream in self._closed:
                    raise AssertionError(f"{self.name} closed its {stream} without printing {pattern!r}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"{self.name} printed no {pattern!r} on {stream} "
                                         f"within {TIMEOUT:.0f}s")
                self._changed.wait(remaining)

    def stop(self):
        """SIGTERM, then SIGKILL if it lingers; returns the exit status."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()
        for reader in self._readers:
            reader.join()
        self.popen.stdout.close()
        self.popen.stderr.close()
        return self.popen.returncode

    def output(self):
        with self._changed:
            return "\n".join([f"--- {self.name} stdout ---", *self.lines["stdout"],
                              f"--- {self.name} stderr ---", *self.lines["stderr"]])


class WebSocketClient:
    """Just enough RFC 6455 for these tests: masked text frames out, whole frames in."""

    GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    def __init__(self, port, path):
        self.path = path
        self._buffer = b""
        self._socket = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        self._socket.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode())
        deadline = time.monotonic() + TIMEOUT
        while b"\r\n\r\n" not in self._buffer:
            self._fill(len(self._buffer) + 1, deadline)
        head, self._buffer = self._buffer.split(b"\r\n\r\n", 1)
        status, *fields = head.decode("latin-1").split("\r\n")
        headers = {name.strip().lower(): value.strip()
                   for name, _, value in (field.partition(":") for field in fields)}
        accept = base64.b64encode(hashlib.sha1((key + self.GUID).encode()).digest()).decode()
        if not status.startswith("HTTP/1.1 101") or headers.get("sec-websocket-accept") != accept:
            raise AssertionError(f"upgrade on {path} refused: {status}")

    def close(self):
        self._socket.close()

    def send_json(self, value):
        self._send_frame(0x1, json.dumps(value).encode())

    def receive(self):
        """The next text message; answers pings, fails on close, binary or timeout."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            self._fill(2, deadline)
            first, second = self._buffer[0], self._buffer[1]
            length, offset = second & 0x7F, 2
            if length == 126:
                self._fill(4, deadline)
                length, offset = struct.unpack_from("!H", self._buffer, 2)[0], 4
            elif length == 127:
                self._fill(10, deadline)
                length, offset = struct.unpack_from("!Q", self._buffer, 2)[0], 10
            if second & 0x80 or not first & 0x80:
                raise AssertionError(f"{self.path}: masked or fragmented frame from the server")
            self._fill(offset + length, deadline)
            payload = self._buffer[offset:offset + length]
            self._buffer = self._buffer[offset + length:]
            opcode = first & 0x0F
            if opcode == 0x1:
                return payload.decode()
            if opcode == 0x9:
                self._send_frame(0xA, payload)
            elif opcode == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                raise AssertionError(f"{self.path}: server closed the connection ({code})")
            elif opcode != 0xA:
                raise AssertionError(f"{self.path}: unexpected opcode {opcode:#x}")

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        size = len(payload)
        if size < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | size)
        elif size < 1 << 16:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, size)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, size)
        masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))
        self._socket.sendall(header + mask + masked)

    def _fill(self, size, deadline):
        while len(self._buffer) < size:
            self._socket.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                chunk = self._socket.recv(65536)
            except socket.timeout:
                raise AssertionError(f"{self.path}: nothing received within {TIMEOUT:.0f}s") from None
            if not chunk:
                raise AssertionError(f"{self.path}: connection closed by the server")
            self._buffer += chunk


class DateRouteContract:
    """The behaviour every date-route backend must have; mixed into one TestCase per language."""

    def backend_command(self):
        raise NotImplementedError

    def setUp(self):
        self.sigd_bin = os.environ.get("SIGD_BIN") or str(ROOT / "build" / "server" / "sigd")
        if not os.access(self.sigd_bin, os.X_OK):
            self.fail(f"no sigd at {self.sigd_bin}: build it, or set SIGD_BIN (ctest does)")
        self.tmp = Path(tempfile.mkdtemp(prefix="sigd-date-route-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        (self.tmp / "public").mkdir()
        self.processes = []

    def start_sigd(self, ws_port=0, grpc_port=0, *flags):
        """Starts sigd and returns (process, ws_port, grpc_port) once it is ready."""
        sigd = self.spawn("sigd", [self.sigd_bin, "--listen", f"127.0.0.1:{ws_port}",
                                   "--grpc-listen", f"127.0.0.1:{grpc_port}",
                                   "--public", str(self.tmp / "public"), *flags])
        _, ready = sigd.wait_for_line("stderr", SIGD_READY)
        return sigd, int(ready[1]), int(ready[2])

    def start_backend(self, grpc_port, *flags, token=None):
        env = dict(os.environ, XDG_CACHE_HOME=str(self.tmp / "cache"))
        env.pop("SIGD_SERVER", None)
        env.pop("SIGD_TOKEN", None)
        if token is not None:
            env["SIGD_TOKEN"] = token
        backend = self.spawn("backend", [*self.backend_command(),
                                         "--server", f"127.0.0.1:{grpc_port}", *flags], env)
        backend.wait_for_line("stdout", r"^ready$")
        return backend

    def spawn(self, name, argv, env=None):
        process = ChildProcess(name, argv, env)
        self.processes.append(process)
        self.addCleanup(process.stop)
        return process

    def connect(self, ws_port, path):
        client = WebSocketClient(ws_port, path)
        self.addCleanup(client.close)
        return client

    @contextlib.contextmanager
    def logs_on_failure(self):
        try:
            yield
        except BaseException:
            for process in self.processes:
                print(process.output(), file=sys.stderr)
            raise

    def assert_current_date(self, text):
        try:
            sent = datetime.datetime.strptime(text, DATE_FORMAT)
        except ValueError:
            self.fail(f"{text!r} does not look like a date ({DATE_FORMAT})")
        drift = abs(datetime.datetime.now() - sent)
        self.assertLess(drift, datetime.timedelta(minutes=5), f"{text!r} is not the current date")

    def test_answers_date_and_echoes_on_the_senders_path(self):
        with self.logs_on_failure():
            _, ws_port, grpc_port = self.start_sigd()
            self.start_backend(grpc_port)
            first = self.connect(ws_port, "/messages")
            second = self.connect(ws_port, "/messages")
            elsewhere = self.connect(ws_port, "/")

            first.send_json({"message": "[date]"})
            self.assert_current_date(first.receive())
            self.assert_current_date(second.receive())

            second.send_json({"message": "[DaTe]"})  # Pode compares with -ieq
            self.assert_current_date(first.receive())
            self.assert_current_date(second.receive())

            first.send_json({"message": "hello"})
            self.assertEqual(first.receive(), "hello")
            self.assertEqual(second.receive(), "hello")

            first.send_json({"message": {"price": 42, "tags": ["a", "b"]}})
            for client in (first, second):
                self.assertEqual(json.loads(client.receive()), {"price": 42, "tags": ["a", "b"]})

            # Everyone gets the marker next: "/" saw none of the above and
            # /messages got each answer exactly once.
            with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
                stub = pb_grpc.SignalServiceStub(channel)
                sent = stub.SendSignal(pb.SendSignalRequest(text="marker"), timeout=TIMEOUT)
            self.assertEqual(sent.delivered, 3)
            for client in (elsewhere, first, second):
                self.assertEqual(client.receive(), "marker", client.path)

    def test_sends_the_token_of_a_sigd_that_requires_one(self):
        with self.logs_on_failure():
            tokens = self.tmp / "tokens"
            tokens.write_text("s3cret-token\n")
            _, ws_port, grpc_port = self.start_sigd(0, 0, "--control-token-file", str(tokens))
            self.start_backend(grpc_port, token="s3cret-token")  # from $SIGD_TOKEN
            client = self.connect(ws_port, "/messages")
            client.send_json({"message": "[date]"})
            self.assert_current_date(client.receive())

    def test_keeps_working_after_sigd_restarts(self):
        with self.logs_on_failure():
            sigd, ws_port, grpc_port = self.start_sigd()
            backend = self.start_backend(grpc_port, "--group", "dates")
            first_ready, _ = backend.wait_for_line("stdout", r"^ready$")

            self.assertEqual(sigd.stop(), 0)
            self.start_sigd(ws_port, grpc_port)
            backend.wait_for_line("stdout", r"^ready$", start=first_ready + 1)

            client = self.connect(ws_port, "/messages")
            client.send_json({"message": "[date]"})
            self.assert_current_date(client.receive())
            client.send_json({"message": "still here"})
            self.assertEqual(client.receive(), "still here")

            self.assertEqual(backend.stop(), 0, "the backend should exit 0 on SIGTERM")


class PythonBackendTest(DateRouteContract, unittest.TestCase):
    def backend_command(self):
        return [str(EXAMPLE / "python" / "date_route.py")]  # runs through its shebang


class NodeBackendTest(DateRouteContract, unittest.TestCase):
    def backend_command(self):
        folder = EXAMPLE / "node"
        if not (folder / "node_modules" / "@grpc" / "grpc-js").is_dir():
            self.fail(f"{folder}/node_modules is missing: run scripts/deps (it runs npm ci there)")
        node = os.environ.get("NODE") or shutil.which("node")
        if not node:
            self.fail("node is not installed: run scripts/deps")
        return [node, str(folder / "date_route.js")]


if __name__ == "__main__":
    unittest.main()
