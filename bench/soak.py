#!/usr/bin/env python3
"""
A mixed soak against the sample on loopback, run through bench/soak.sh. Keep-alive clients ask
/plaintext, /json, /cached, POST /echo and /bytes; others open a WebSocket on /ws, echo a message
and close it by the handshake; 1% of the operations are garbage requests on a connection of their
own, which must get a 4xx (or 505) and a close. Every response is checked.

Every 10 s it samples the server process: its open descriptors (/proc/PID/fd), its RSS, and the
sample's own count of first-chance exceptions (SAMPLE_EXCEPTION_REPORT, see
samples/MinimalApi/FirstChanceExceptionReport.cs). At the end: a table by minute, and a summary with
errors, the descriptor range, the RSS trend over the second half (after warm-up) and first-chance
exceptions per 1,000 operations. Traffic goes only to 127.0.0.1; the run is bounded by --minutes,
and only the server this script started is ended, by its own handle.
"""
import argparse
import asyncio
import base64
import os
import random
import re
import subprocess
import sys
import threading
import time

SAMPLE_PERIOD = 10  # seconds between samples of the server
REPORT_PERIOD = 5   # the sample's exception report period, seconds
WEIGHTS = [("plaintext", 30), ("json", 20), ("cached", 15), ("echo", 15), ("bytes", 10), ("ws", 9), ("garbage", 1)]
FILLER = bytes(ord("a") + i % 26 for i in range(16 * 1024))
# Garbage in the head, which the server answers itself (400, 505). Garbage inside a body is left out:
# it reaches the app, whose read must fail with an exception, so it is no normal path to count.
GARBAGE = [
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 12x\r\n\r\n",
    b"GET /plaintext HTTP/9.9\r\nHost: 127.0.0.1\r\n\r\n",
    b"G\x00T / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
    b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n",
    b"GET /\x7f HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
]


class Failure(Exception):
    pass


class Stats:
    def __init__(self):
        self.ops = {name: 0 for name, _ in WEIGHTS}
        self.errors = 0
        self.error_samples = []

    @property
    def total(self):
        return sum(self.ops.values())

    def error(self, what):
        self.errors += 1
        if len(self.error_samples) < 10:
            self.error_samples.append(what)


async def read_response(reader, head_only=False):
    """One response: (status, headers, body). Content-Length framing (the sample's endpoints), else to the close."""
    line = await reader.readline()
    if not line:
        raise Failure("closed before a response")
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        field = await reader.readline()
        if field in (b"\r\n", b"\n", b""):
            break
        name, _, value = field.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    if head_only or status == 101 or status == 204 or status == 304:
        return status, headers, b""
    if "content-length" in headers:
        return status, headers, await reader.readexactly(int(headers["content-length"]))
    if "chunked" in headers.get("transfer-encoding", ""):
        body = b""
        while True:
            size = int((await reader.readline()).split(b";")[0], 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b""):
                    pass
                return status, headers, body
            body += await reader.readexactly(size)
            await reader.readline()
    return status, headers, await reader.read()


async def keep_alive_client(port, stats, deadline, rng):
    reader = writer = None
    names = [n for n, _ in WEIGHTS]
    weights = [w for _, w in WEIGHTS]
    while time.monotonic() < deadline:
        op = rng.choices(names, weights)[0]
        try:
            if op == "ws":
                await websocket_session(port, rng)
            elif op == "garbage":
                await garbage_request(port, rng)
            else:
                if writer is None:
                    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
                await asyncio.wait_for(http_request(reader, writer, op, rng), 30)
            stats.ops[op] += 1
        except (Failure, OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ValueError, IndexError) as e:
            stats.error(f"{op}: {type(e).__name__}: {e}")
            if writer is not None:
                writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def http_request(reader, writer, op, rng):
    if op == "plaintext":
        writer.write(b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        status, _, body = await read_response(reader)
        if status != 200 or body != b"Hello, World!":
            raise Failure(f"/plaintext: {status} {body[:40]!r}")
    elif op == "json":
        writer.write(b"GET /json HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        status, _, body = await read_response(reader)
        if status != 200 or b"Hello, World!" not in body:
            raise Failure(f"/json: {status} {body[:40]!r}")
    elif op == "cached":
        writer.write(b"GET /cached HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        await writer.drain()
        status, _, body = await read_response(reader)
        if status != 200 or not body.startswith(b"cached response"):
            raise Failure(f"/cached: {status} {body[:40]!r}")
    elif op == "echo":
        payload = rng.randbytes(rng.randint(1, 8192))
        writer.write(b"POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: "
                     + str(len(payload)).encode() + b"\r\n\r\n" + payload)
        await writer.drain()
        status, _, body = await read_response(reader)
        if status != 200 or body != payload:
            raise Failure(f"/echo: {status}, {len(body)} of {len(payload)} bytes")
    elif op == "bytes":
        n = rng.choice([1, 1000, 16384, 65536, 200000])
        writer.write(f"GET /bytes/{n} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await writer.drain()
        status, _, body = await read_response(reader)
        if status != 200 or len(body) != n or body[:26] != FILLER[:min(26, n)]:
            raise Failure(f"/bytes/{n}: {status}, {len(body)} bytes")


async def websocket_session(port, rng):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    try:
        key = base64.b64encode(rng.randbytes(16))
        writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        await writer.drain()
        status, _, _ = await asyncio.wait_for(read_response(reader), 10)
        if status != 101:
            raise Failure(f"/ws: {status}")
        message = b"soak " + str(rng.random()).encode()
        writer.write(frame(0x1, message, rng))
        await writer.drain()
        opcode, payload = await asyncio.wait_for(read_frame(reader), 10)
        if opcode != 0x1 or payload != message:
            raise Failure(f"/ws echo: opcode {opcode}, {payload[:40]!r}")
        writer.write(frame(0x8, b"\x03\xe8done", rng))  # 1000, normal closure (RFC 6455 section 7.4.1)
        await writer.drain()
        opcode, _ = await asyncio.wait_for(read_frame(reader), 10)
        if opcode != 0x8:
            raise Failure(f"/ws close: opcode {opcode}")
        # The server closes the TCP connection first after the close handshake (RFC 6455 section 7.1.1).
        if await asyncio.wait_for(reader.read(1), 10) != b"":
            raise Failure("/ws: bytes after the close frame")
    finally:
        writer.close()


def frame(opcode, payload, rng):
    """A masked client frame (RFC 6455 section 5.2); payloads here are under 126 bytes."""
    mask = rng.randbytes(4)
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def read_frame(reader):
    first = await reader.readexactly(2)
    length = first[1] & 0x7F
    if length == 126:
        length = int.from_bytes(await reader.readexactly(2), "big")
    elif length == 127:
        length = int.from_bytes(await reader.readexactly(8), "big")
    return first[0] & 0x0F, await reader.readexactly(length)


async def garbage_request(port, rng):
    reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)
    try:
        garbage = rng.choice(GARBAGE)
        writer.write(garbage)
        await writer.drain()
        status, headers, _ = await asyncio.wait_for(read_response(reader), 10)
        if not (400 <= status < 500 or status == 505):
            raise Failure(f"garbage {garbage[:30]!r}: {status}")
        if "close" in headers.get("connection", "").lower() and await asyncio.wait_for(reader.read(1), 10) != b"":
            raise Failure(f"garbage {garbage[:30]!r}: bytes after a response with Connection: close")
    finally:
        writer.close()


def descriptors(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def rss_mib(pid):
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


class ExceptionReports(threading.Thread):
    """Reads the sample's standard output for its exception report lines (and keeps each type's first stack)."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream = stream
        self.total = 0
        self.by_type = ""
        self.first_stacks = []

    def run(self):
        stack = None
        for raw in self.stream:
            line = raw.decode(errors="replace").rstrip("\n")
            match = re.match(r"first-chance exceptions: (\d+) \((.*)\)", line)
            if match:
                self.total, self.by_type = int(match.group(1)), match.group(2)
                stack = None
            elif line.startswith("first-chance exception "):
                stack = [line]
                self.first_stacks.append(stack)
            elif stack is not None and len(stack) < 40:
                stack.append(line)


def start_server(sample, kind, port):
    env = dict(os.environ)
    env["SAMPLE_EXCEPTION_REPORT"] = str(REPORT_PERIOD)
    args = ["dotnet", sample, "--urls", f"http://127.0.0.1:{port}", "--Logging:LogLevel:Default=Warning"]
    if kind == "Kestrel":
        args += ["--server", "kestrel"]
    pin = ["taskset", "-c", "0"] if (os.cpu_count() or 1) >= 2 else []
    return subprocess.Popen(pin + args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)


async def wait_ready(port):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), 5)
            writer.close()
            if b"Hello, World!" in data:
                return
        except OSError:
            await asyncio.sleep(0.2)
    raise RuntimeError("the server did not answer within 60 s")


def slope_per_minute(points):
    """Least-squares slope of (seconds, value) points, per minute."""
    n = len(points)
    if n < 2:
        return 0.0
    mean_t = sum(t for t, _ in points) / n
    mean_v = sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if var == 0 else 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / var


async def soak(args):
    port = args.port
    server = start_server(args.sample, args.server, port)
    reports = ExceptionReports(server.stdout)
    reports.start()
    try:
        await wait_ready(port)
        await asyncio.sleep(REPORT_PERIOD + 1)
        stats = Stats()
        start = time.monotonic()
        deadline = start + args.minutes * 60
        rng = random.Random(23)
        clients = [asyncio.create_task(keep_alive_client(port, stats, deadline, random.Random(rng.random())))
                   for _ in range(args.clients)]
        samples = []
        exceptions_at_start = reports.total
        while time.monotonic() < deadline:
            await asyncio.sleep(min(SAMPLE_PERIOD, max(0.0, deadline - time.monotonic())))
            samples.append((time.monotonic() - start, stats.total, stats.errors, descriptors(server.pid), rss_mib(server.pid),
                            reports.total - exceptions_at_start))
        await asyncio.gather(*clients)
        elapsed = time.monotonic() - start
        await asyncio.sleep(REPORT_PERIOD + 1)  # the last closes, and the report after them
        final_exceptions = reports.total - exceptions_at_start
        alive = server.poll() is None
        final_fds = descriptors(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()

    print(f"\n{args.server}, {args.minutes} min, {args.clients} clients on 127.0.0.1: {stats.total:,} operations "
          f"({stats.total / elapsed:,.0f}/s; a WebSocket session or a garbage request counts as one)\n")
    print("| minute | operations | errors | descriptors | RSS MiB | first-chance exceptions |")
    print("|---|---|---|---|---|---|")
    per_minute = max(1, 60 // SAMPLE_PERIOD)
    for i, (t, ops, errors, fds, rss, exc) in enumerate(samples):
        if (i + 1) % per_minute == 0 or i == len(samples) - 1:
            print(f"| {t / 60:.0f} | {ops:,} | {errors} | {fds} | {rss:.0f} | {exc} |")
    fds = [s[3] for s in samples if s[3] is not None]
    second_half = [(s[0], s[4]) for s in samples[len(samples) // 2:] if s[4] is not None]
    fd_half = [(s[0], s[3]) for s in samples[len(samples) // 2:] if s[3] is not None]
    mix = ", ".join(f"{name} {count:,}" for name, count in stats.ops.items())
    print(f"\n- operations: {mix}")
    print(f"- errors: {stats.errors}" + ("".join(f"\n  - {e}" for e in stats.error_samples)))
    print(f"- descriptors while running: {min(fds)} to {max(fds)}, {slope_per_minute(fd_half):+.2f}/min over the second half; "
          f"{final_fds} after the clients left")
    print(f"- RSS: {samples[0][4]:.0f} MiB at the first sample, {samples[-1][4]:.0f} MiB at the last, "
          f"{slope_per_minute(second_half):+.2f} MiB/min over the second half")
    print(f"- first-chance exceptions: {final_exceptions} ({final_exceptions * 1000 / max(1, stats.total):.3f} per 1,000 operations)"
          + (f"; by type: {reports.by_type}" if reports.by_type else ""))
    print(f"- server alive at the end: {'yes' if alive else 'NO'}")
    for stack in reports.first_stacks[:5]:
        print("\n    " + "\n    ".join(stack[:25]), file=sys.stderr)
    return 0 if stats.errors == 0 and alive else 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients, each a keep-alive connection")
    parser.add_argument("--server", choices=["HttpSysLite", "Kestrel"], default="HttpSysLite")
    parser.add_argument("--port", type=int, default=5790)
    args = parser.parse_args()
    sys.exit(asyncio.run(soak(args)))


if __name__ == "__main__":
    main()
