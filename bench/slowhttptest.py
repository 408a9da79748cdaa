#!/usr/bin/env python3
"""
slowhttptest's four attacks against HttpSysLite and Kestrel, one at a time, while a normal client
measures /plaintext. Run through bench/slowhttptest.sh, which installs slowhttptest and publishes the
sample. Traffic goes only to 127.0.0.1; each attack is bounded by its length, and only the processes
started here are ended, by their own handles.

Per attack and server it reports the normal client's latency (p50, p99, worst, and failures: a
request that got no whole response within 10 s, each on a new connection) and how slowhttptest's
connections ended: its final closed / pending / connected / error counts, and whether its own probe
found the service available at the end.
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import threading
import time

# (mode, label, path, extra slowhttptest arguments). -i 10 is slowhttptest's default follow-up
# interval, well inside both servers' gap timers, so only their other defences can cut a connection.
ATTACKS = [
    ("-H", "slow headers (slowloris)", "/plaintext", ["-i", "10"]),
    ("-B", "slow body (R-U-Dead-Yet)", "/echo", ["-i", "10", "-s", "8192"]),
    ("-X", "slow read", "/bytes/1048576", ["-k", "3", "-n", "5", "-w", "512", "-y", "1024", "-z", "32"]),
    ("-R", "range (Apache killer)", "/bytes/65536", []),
]
SERVERS = ["HttpSysLite", "Kestrel"]
PROBE_TIMEOUT = 10.0
PROBE_INTERVAL = 0.05  # about 20 requests a second, each on a new connection


def pin(cpu):
    return ["taskset", "-c", str(cpu)] if (os.cpu_count() or 1) >= 2 else []


def plaintext(port, timeout):
    """One GET /plaintext on a new connection; True when the whole response came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.settimeout(timeout)
        s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        data = b""
        while b"Hello, World!" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return b"Hello, World!" in data


def start_server(sample, kind, port):
    args = ["dotnet", sample, "--urls", f"http://127.0.0.1:{port}", "--Logging:LogLevel:Default=Warning"]
    if kind == "Kestrel":
        args += ["--server", "kestrel"]
    process = subprocess.Popen(pin(0) + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} exited with {process.returncode}")
        try:
            if plaintext(port, 1):
                return process
        except OSError:
            time.sleep(0.2)
    stop(process)
    raise RuntimeError(f"{kind} did not answer within 60 s")


def stop(process):
    # Only a process this script started, by its own handle.
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


class Probe(threading.Thread):
    """The normal client: /plaintext on a new connection every PROBE_INTERVAL until stopped."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port = port
        self.latencies = []
        self.failures = 0
        self.done = threading.Event()

    def run(self):
        while not self.done.is_set():
            start = time.perf_counter()
            try:
                ok = plaintext(self.port, PROBE_TIMEOUT)
            except OSError:
                ok = False
            took = time.perf_counter() - start
            if ok:
                self.latencies.append(took * 1000)
            else:
                self.failures += 1
            self.done.wait(max(0.0, PROBE_INTERVAL - took))

    def summary(self):
        values = sorted(self.latencies)
        if not values:
            return {"count": 0, "p50": None, "p99": None, "worst": None, "failures": self.failures}

        def at(q):
            return values[min(len(values) - 1, int(q * len(values)))]

        return {"count": len(values), "p50": at(0.50), "p99": at(0.99), "worst": values[-1], "failures": self.failures}


ANSI = re.compile(r"\x1b\[[0-9;]*m")


def final_status(output):
    """slowhttptest's last status block: closed, pending, connected, error, service available."""
    text = ANSI.sub("", output)
    blocks = text.split("slow HTTP test status on")
    last = blocks[-1] if len(blocks) > 1 else ""
    status = {}
    for key in ("initializing", "pending", "connected", "error", "closed"):
        match = re.search(rf"{key}:\s+(\d+)", last)
        status[key] = int(match.group(1)) if match else None
    match = re.search(r"service available:\s+(\w+)", last)
    status["available"] = match.group(1) if match else "?"
    match = re.search(r"Exit status:\s*(.+)", text)
    status["exit"] = match.group(1).strip() if match else "?"
    return status


def csv_rows(path):
    """slowhttptest's per-second CSV (-g -o): Seconds, Closed, Pending, Connected, Service Available."""
    rows = []
    try:
        with open(path) as csv:
            for line in csv.read().splitlines()[1:]:
                fields = line.split(",")
                if len(fields) >= 4 and fields[0].isdigit():
                    rows.append([int(f) if f.isdigit() else f for f in fields])
    except OSError:
        pass
    return rows


def attack(port, mode, path, extra, connections, seconds, rate):
    prefix = f"/tmp/httpsyslite-slowhttptest-{os.getpid()}-{port}"
    command = pin(1) + ["slowhttptest", mode, "-c", str(connections), "-r", str(rate), "-l", str(seconds),
                        "-u", f"http://127.0.0.1:{port}{path}", "-p", "5", "-g", "-o", prefix, *extra]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=seconds + 60,
                              cwd="/tmp", text=True, errors="replace")
        status = final_status(done.stdout)
    except subprocess.TimeoutExpired as timeout:
        output = timeout.stdout.decode(errors="replace") if isinstance(timeout.stdout, bytes) else (timeout.stdout or "")
        status = final_status(output)
        status["exit"] = "killed after its length + 60 s"
    rows = csv_rows(prefix + ".csv")
    for suffix in (".csv", ".html"):
        try:
            os.remove(prefix + suffix)
        except OSError:
            pass
    if rows:
        last = rows[-1]
        status["closed"], status["pending"], status["connected"] = last[1], last[2], last[3]
        status["peak"] = max(r[3] for r in rows)
        status["ended_at"] = last[0]
    if status["exit"].startswith("No open connections left"):
        # The per-second samples stop short of the end: by then the server had closed every connection.
        status["closed"] = connections - (status["error"] or 0)
        status["pending"] = status["connected"] = 0
    return status


def fmt(value):
    return "-" if value is None else (f"{value:.1f}" if isinstance(value, float) else str(value))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", required=True)
    parser.add_argument("--connections", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rate", type=int, default=200, help="attack connections opened per second")
    parser.add_argument("--only", help="run only attacks whose mode or label contains one of these '|'-separated texts")
    args = parser.parse_args()

    attacks = ATTACKS
    if args.only:
        wanted = args.only.split("|")
        attacks = [a for a in ATTACKS if any(w in a[0] or w in a[1] for w in wanted)]
    rows = []
    port = 5700
    for mode, label, path, extra in attacks:
        for kind in SERVERS:
            port += 1
            server = start_server(args.sample, kind, port)
            try:
                probe = Probe(port)
                probe.start()
                started = time.time()
                status = attack(port, mode, path, extra, args.connections, args.seconds, args.rate)
                probe.done.set()
                probe.join()
                alive = server.poll() is None
                rows.append((label, mode, kind, probe.summary(), status, alive, time.time() - started))
                latency = probe.summary()
                print(f"{mode} {kind}: p99 {fmt(latency['p99'])} ms, worst {fmt(latency['worst'])} ms, "
                      f"{latency['failures']} failed; attack ended closed {fmt(status['closed'])}, "
                      f"pending {fmt(status['pending'])}, connected {fmt(status['connected'])}, error {fmt(status['error'])}",
                      file=sys.stderr, flush=True)
            finally:
                stop(server)

    print(f"\n{args.connections} attack connections, {args.seconds} s each, opened at {args.rate}/s; "
          f"the normal client: GET /plaintext on a new connection about every {int(PROBE_INTERVAL * 1000)} ms, 10 s timeout.\n")
    print("| attack | server | normal client p50 ms | p99 ms | worst ms | failed | attack conns: peak connected | at the end: closed | pending | connected | error | slowhttptest's exit |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for label, mode, kind, latency, status, alive, _ in rows:
        exit_status = status["exit"] + (f", at {status['ended_at']} s" if status.get("ended_at") is not None else "")
        if not alive:
            exit_status += "; THE SERVER DIED"
        print(f"| {label} (`{mode}`) | {kind} | {fmt(latency['p50'])} | {fmt(latency['p99'])} | {fmt(latency['worst'])} | "
              f"{latency['failures']} of {latency['count'] + latency['failures']} | {fmt(status.get('peak'))} | {fmt(status['closed'])} | "
              f"{fmt(status['pending'])} | {fmt(status['connected'])} | {fmt(status['error'])} | {exit_status} |")


if __name__ == "__main__":
    main()
