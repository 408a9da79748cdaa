#!/usr/bin/env python3
"""A user-space link with a fixed one-way delay between two network namespaces.

This machine's kernel has no qdisc modules (no `tc netem`), so the link is a TUN device in each
namespace and this relay between them: every IP packet read from one side is written to the other
side DELAY ms later, in order. TCP runs end to end between the namespaces and sees the full round
trip. Only the two namespaces' own addresses are involved; nothing reaches the host's network.

    netdelay.py --ns-a hsl-srv --ns-b hsl-cli --delay-ms 50 [--seconds N]
"""
import argparse
import collections
import ctypes
import fcntl
import os
import select
import struct
import time

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000

libc = ctypes.CDLL(None, use_errno=True)


def open_tun(namespace, name):
    """Opens the persistent TUN device `name` that lives in `namespace` (made by `ip tuntap add`)."""
    with open(f"/var/run/netns/{namespace}") as ns:
        if libc.setns(ns.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {namespace}")
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--ns-a", required=True)
    parser.add_argument("--ns-b", required=True)
    parser.add_argument("--tun", default="tun0")
    parser.add_argument("--delay-ms", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=3600.0, help="stop by itself after this long")
    args = parser.parse_args()

    a = open_tun(args.ns_a, args.tun)
    b = open_tun(args.ns_b, args.tun)
    delay = args.delay_ms / 1000.0
    # One FIFO per direction: a constant delay keeps packets in order.
    pending = {a: collections.deque(), b: collections.deque()}  # packets due to be written to the key
    peer = {a: b, b: a}
    stop_at = time.monotonic() + args.seconds
    print("ready", flush=True)
    while time.monotonic() < stop_at:
        now = time.monotonic()
        for fd, queue in pending.items():
            while queue and queue[0][0] <= now:
                _, packet = queue.popleft()
                try:
                    os.write(fd, packet)
                except BlockingIOError:
                    pass  # the device queue is full: the packet is lost, as on a congested link
        due = [q[0][0] for q in pending.values() if q]
        timeout = max(0.0, min(due) - time.monotonic()) if due else 0.5
        readable, _, _ = select.select([a, b], [], [], timeout)
        arrived = time.monotonic()
        for fd in readable:
            for _ in range(256):
                try:
                    packet = os.read(fd, 65535)
                except BlockingIOError:
                    break
                pending[peer[fd]].append((arrived + delay, packet))


if __name__ == "__main__":
    main()
