#!/usr/bin/env python3
"""
What one idle connection holds, type by type, measured with a heap dump (issue 22). Called by
bench/idle_gcdump.sh, which installs dotnet-gcdump and publishes the sample.

Starts the sample (HttpSysLite, or Kestrel with --server Kestrel) on 127.0.0.1, warms it up, takes a
gcdump and the RSS, opens --count idle connections (bench/idle_connections.py: one request each, or
a WebSocket upgrade with --websocket), waits, takes a second gcdump and RSS, and prints the
difference per type divided by the connections: live managed objects per connection, and the rest
of the RSS growth (native socket state, the runtime's own, GC heap beyond live objects). A gcdump
forces a full GC first, so the live figures are what is reachable, not what awaits collection.
Ends only the processes it started.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (start_server, stop_server, rss_kib, probe)

HERE = os.path.dirname(os.path.abspath(__file__))
ROW = re.compile(r"^\s*([\d,]+)\s+([\d,]+)\s+(.+?)\s*$")


def gcdump(tool, pid, path):
    subprocess.run([tool, "collect", "-p", str(pid), "-o", path], check=True, capture_output=True, timeout=300)
    return gcdump_report(tool, path)


def gcdump_report(tool, path):
    report = subprocess.run([tool, "report", path], check=True, capture_output=True, text=True, timeout=300).stdout
    types = {}
    for line in report.splitlines():
        match = ROW.match(line)
        if match:
            size, count, name = int(match.group(1).replace(",", "")), int(match.group(2).replace(",", "")), match.group(3)
            # heapstat's first column is one object's size (the objects of a row are alike): the row holds
            # size x count bytes. A type's rows (by size class, "Bytes > 1K") add up; the assembly in
            # brackets is dropped.
            size *= count
            name = re.sub(r"\s+\(Bytes > [\dKM]+\)", "", name)
            name = re.sub(r"\s+\[[^\]]*\]$", "", name)
            old = types.get(name, (0, 0))
            types[name] = (old[0] + size, old[1] + count)
    return types


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", required=True)
    parser.add_argument("--gcdump", required=True, help="the dotnet-gcdump command")
    parser.add_argument("--server", default="HttpSysLite", choices=["HttpSysLite", "Kestrel"])
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--websocket", action="store_true")
    parser.add_argument("--tls", action="store_true", help="https, with --cert and --key (the idle connections do a handshake each)")
    parser.add_argument("--cert", help="PEM certificate for --tls")
    parser.add_argument("--key", help="its PEM private key")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--per-address", type=int, default=10000)
    parser.add_argument("--reuse", help="a directory with before.gcdump and after.gcdump to report again, with --opened and --rss-before/--rss-after")
    parser.add_argument("--opened", type=int)
    parser.add_argument("--rss-before", type=int)
    parser.add_argument("--rss-after", type=int)
    args = parser.parse_args()
    if args.reuse:
        report(gcdump_report(args.gcdump, os.path.join(args.reuse, "before.gcdump")), gcdump_report(args.gcdump, os.path.join(args.reuse, "after.gcdump")),
               args.rss_before, args.rss_after, args.rss_after, args.opened, args.count, args)
        return

    if args.tls:
        if not (args.cert and args.key):
            raise SystemExit("--tls needs --cert and --key")
        bench.TLS["cert"], bench.TLS["key"] = os.path.abspath(args.cert), os.path.abspath(args.key)
    port = bench.next_port() + 300
    server = bench.start_server(args.sample, args.server, port, tls=args.tls)
    client = None
    work = tempfile.mkdtemp(prefix="gcdump-", dir=os.path.join(HERE, ".out"))
    try:
        for _ in range(200):
            bench.probe(port, args.tls)  # the request path jitted and its pools warm before the baseline
        time.sleep(2)
        before_types = gcdump(args.gcdump, server.pid, os.path.join(work, "before.gcdump"))
        before_rss = bench.rss_kib(server.pid)
        client = subprocess.Popen([sys.executable, os.path.join(HERE, "idle_connections.py"), "--port", str(port), "--count", str(args.count),
                                   "--hold", "600", "--per-address", str(args.per_address)] + (["--websocket"] if args.websocket else []) + (["--tls"] if args.tls else []),
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = client.stdout.readline()
        ready = re.match(r"ready (\d+) failed (\d+)", line or "")
        opened = int(ready.group(1)) if ready else 0
        if not opened:
            raise RuntimeError(f"no connection opened: {line!r}")
        time.sleep(bench.IDLE_SETTLE)
        after_rss = bench.rss_kib(server.pid)
        after_types = gcdump(args.gcdump, server.pid, os.path.join(work, "after.gcdump"))
        after_rss_gc = bench.rss_kib(server.pid)
    finally:
        if client is not None:
            client.stdin.close()  # the client closes its connections and exits
            try:
                client.wait(timeout=120)
            except subprocess.TimeoutExpired:
                client.kill()
        bench.stop_server(server)
    print(f"(dumps in {work})")
    report(before_types, after_types, before_rss, after_rss, after_rss_gc, opened, args.count, args)


def report(before_types, after_types, before_rss, after_rss, after_rss_gc, opened, asked, args):
    rows = []
    for name in set(before_types) | set(after_types):
        b = before_types.get(name, (0, 0))
        a = after_types.get(name, (0, 0))
        rows.append((a[0] - b[0], a[1] - b[1], name))
    rows.sort(reverse=True)
    live = sum(r[0] for r in rows)
    rss = (after_rss - before_rss) * 1024
    kind = ("idle WebSocket" if args.websocket else "idle keep-alive") + (" TLS" if args.tls else "")
    print(f"## {args.server}: {opened:,} {kind} connections (asked {asked:,})")
    print()
    print(f"RSS {before_rss / 1024:.1f} MiB before, {after_rss / 1024:.1f} MiB with them open ({after_rss_gc / 1024:.1f} MiB after the dump's GC): "
          f"**{rss / opened / 1024:.2f} KiB per connection**; live managed objects {live / opened:,.0f} B per connection; "
          f"the rest (native, runtime, GC heap beyond live objects) {(rss - live) / opened:,.0f} B per connection.")
    print()
    print("| type | bytes per connection | objects per connection |")
    print("|---|---:|---:|")
    for size, count, name in rows[:args.top]:
        if abs(size) / opened < 1:
            break
        print(f"| `{name}` | {size / opened:,.1f} | {count / opened:.2f} |")
    print(f"| **all live objects** | **{live / opened:,.1f}** | {sum(r[1] for r in rows) / opened:.2f} |")


if __name__ == "__main__":
    main()
