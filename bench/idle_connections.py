#!/usr/bin/env python3
"""Opens N keep-alive connections to 127.0.0.1:PORT, sends one request on each, reads its response,
then holds them all idle. With --websocket each connection is upgraded at /ws instead, sends one
message, reads its echo, and then stays silent. Prints 'ready N failed F' when all are idle; exits
after --hold seconds, or at once when its standard input closes (so a caller can end it early).

A loopback client has about 28,000 ephemeral ports per (source address, destination) pair, and a
process may hold only as many descriptors as its limit, so beyond a few thousand connections the
client spreads them: each socket is bound to a source address 127.0.0.2, 127.0.0.3, ... before it
connects (every 127/8 address is loopback on Linux), --per-address connections each, and
--processes child processes share the count. Traffic goes only to 127.0.0.x."""
import argparse
import asyncio
import base64
import multiprocessing
import os
import resource
import select
import socket
import ssl
import stat
import sys
import time


def source_address(index, per_address):
    """127.0.0.2 upwards, then 127.0.1.0 ...: per_address connections per address."""
    n = 2 + index // per_address
    return f"127.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


async def open_one(port, context, source):
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setblocking(False)
    try:
        raw.bind((source, 0))
        await asyncio.get_running_loop().sock_connect(raw, ("127.0.0.1", port))
    except BaseException:
        raw.close()
        raise
    return await asyncio.open_connection(sock=raw, ssl=context, server_hostname="localhost" if context else None)


async def read_until(reader, marker):
    data = b""
    while marker not in data:
        chunk = await reader.read(4096)
        if not chunk:
            raise ConnectionError("closed before the response")
        data += chunk
    return data


async def one(port, gate, held, context, source, websocket):
    async with gate:
        reader, writer = await open_one(port, context, source)
        if websocket:
            key = base64.b64encode(os.urandom(16)).decode()
            writer.write((f"GET /ws HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
            await writer.drain()
            head = await read_until(reader, b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 101"):
                raise ConnectionError("not upgraded: " + head.split(b"\r\n", 1)[0].decode(errors="replace"))
            # One masked text frame "hi" (RFC 6455 section 5.2), then its echo, unmasked, from the server.
            mask = os.urandom(4)
            writer.write(bytes([0x81, 0x80 | 2]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(b"hi")))
            await writer.drain()
            await read_until(reader, b"hi")
        else:
            writer.write(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\n\r\n")
            await writer.drain()
            await read_until(reader, b"Hello, World!")
    held.append(writer)


async def hold_until(stop, seconds):
    """
    Sleeps up to seconds, or until the parent sets stop (its standard input reached its end). A child
    cannot watch standard input itself: multiprocessing replaces a child's stdin with /dev/null, which
    epoll refuses, so a child that tried held for the whole time and its caller's close waited that long.
    """
    await asyncio.get_running_loop().run_in_executor(None, stop.wait, seconds)


async def run(port, count, first_index, per_address, tls, websocket, hold, stop, report):
    context = None
    if tls:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    gate = asyncio.Semaphore(200)
    held = []
    results = await asyncio.wait_for(
        asyncio.gather(*(one(port, gate, held, context, source_address(first_index + i, per_address), websocket)
                         for i in range(count)), return_exceptions=True), timeout=300)
    failures = [r for r in results if isinstance(r, BaseException)]
    report(len(held), len(failures), str(failures[0]) if failures else "")
    await hold_until(stop, hold)
    for writer in held:
        writer.close()


def child(args, index, count, first_index, queue, stop):
    try:
        asyncio.run(run(args.port, count, first_index, args.per_address, args.tls, args.websocket, args.hold, stop,
                        lambda held, failed, why: queue.put((held, failed, why))))
    except BaseException as error:
        queue.put((0, count, repr(error)))


def wait_for_end_of_input(seconds):
    """Returns when standard input (a pipe or a terminal) reaches its end, or after seconds; a file or
    /dev/null as standard input holds for the whole time."""
    deadline = time.monotonic() + seconds
    mode = os.fstat(sys.stdin.fileno()).st_mode
    if not (stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(sys.stdin.fileno())):
        time.sleep(seconds)
        return
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return
        readable, _, _ = select.select([sys.stdin], [], [], left)
        if readable and not os.read(sys.stdin.fileno(), 4096):
            return


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--hold", type=float, default=10.0)
    parser.add_argument("--tls", action="store_true", help="connect with TLS (the certificate is not checked)")
    parser.add_argument("--websocket", action="store_true", help="upgrade each connection at /ws, echo one message, then stay silent")
    parser.add_argument("--per-address", type=int, default=10000, help="connections per 127.0.0.x source address")
    parser.add_argument("--processes", type=int, default=0, help="client processes (default: enough for the descriptor limit)")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    processes = args.processes or max(1, -(-args.count // max(1, hard - 200)))
    # Each child takes a contiguous range of connection indexes, so of source addresses.
    share = -(-args.count // processes)
    queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    children = []
    for p in range(processes):
        count = min(share, args.count - p * share)
        if count <= 0:
            break
        # A child started by fork shares this process's standard input: its end reaches every child.
        children.append(multiprocessing.Process(target=child, args=(args, p, count, p * share, queue, stop), daemon=True))
    for c in children:
        c.start()
    held = failed = 0
    why = ""
    for _ in children:
        h, f, w = queue.get()
        held, failed, why = held + h, failed + f, why or w
    print(f"ready {held} failed {failed}" + (f" first error: {why}" if why else ""), flush=True)
    wait_for_end_of_input(args.hold)
    stop.set()
    for c in children:
        c.join(timeout=60)
    for c in children:
        if c.is_alive():
            c.kill()  # only the children this script started


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    main()
    sys.exit(0)
