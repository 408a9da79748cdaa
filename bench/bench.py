#!/usr/bin/env python3
"""Runs each workload against the sample on HttpSysLite and on Kestrel, alternating (A B A B ...),
and prints one markdown table. Called by bench/run.sh, which installs the tools and builds the sample.

Ratios are HttpSysLite / Kestrel, the median of the per-round ratios, so a machine that drifts between
rounds affects both sides of each ratio alike. Absolute numbers are only for reading the ratios."""
import argparse
import datetime
import os
import signal
import re
import socket
import statistics
import subprocess
import sys
import time

FIRST_PORT = 5071
_runs = 0


def next_port():
    """A fresh port per server start: the last server's TIME_WAIT sockets would stop a server that
    does not set SO_REUSEADDR (Kestrel) from binding the same port."""
    global _runs
    _runs += 1
    return FIRST_PORT + _runs % 200
SERVERS = ("HttpSysLite", "Kestrel")
HERE = os.path.dirname(os.path.abspath(__file__))

PIPELINE_LUA = """
init = function(args)
  local r = {}
  for i = 1, 16 do r[i] = wrk.format(nil, "/plaintext") end
  req = table.concat(r)
end
request = function() return req end
"""

ECHO_LUA = """
wrk.method = "POST"
wrk.body = string.rep("a", 4096)
wrk.headers["Content-Type"] = "application/octet-stream"
"""

# name, connections, path, extra wrk arguments, lua script (or None)
WORKLOADS = [
    ("/plaintext keep-alive, 64 conns", 64, "/plaintext", [], None),
    ("/plaintext keep-alive, 256 conns", 256, "/plaintext", [], None),
    ("/plaintext pipelined x16, 64 conns", 64, "/plaintext", [], PIPELINE_LUA),
    ("/json, 64 conns", 64, "/json", [], None),
    ("/cached, 64 conns", 64, "/cached", [], None),
    ("Connection: close, 32 conns", 32, "/plaintext", ["-H", "Connection: close"], None),
    ("/bytes/65536, 64 conns", 64, "/bytes/65536", [], None),
    ("POST /echo 4 KiB, 64 conns", 64, "/echo", [], ECHO_LUA),
]


def cpus():
    return os.cpu_count() or 1


def pin(cpu):
    """taskset prefix: the server and the load generator get different CPUs where there are two."""
    return ["taskset", "-c", str(cpu)] if cpus() >= 2 else []


def server_environment():
    """
    Both servers run with tiered compilation's call-counting delay at 0. By default the runtime waits
    until no method has been jitted for 100 ms before it counts calls, and under full load on one core
    new methods keep appearing for 20-40 s, so a few seconds of warm-up measured the JIT's tiers
    rather than the servers (both still ran instrumented code). The setting changes when methods are
    promoted, not the optimized code they end up with; the steady state is reached in a few seconds.
    """
    env = dict(os.environ)
    env["DOTNET_TC_CallCountingDelayMs"] = "0"
    return env


def start_server(sample, kind, port, extra_args=()):
    args = ["dotnet", sample, "--urls", f"http://127.0.0.1:{port}", "--Logging:LogLevel:Default=Warning", *extra_args]
    if kind == "Kestrel":
        args += ["--server", "kestrel"]
    process = subprocess.Popen(pin(0) + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=server_environment())
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} exited: {process.stderr.read().decode(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                if b"Hello, World!" in s.recv(4096) + s.recv(4096):
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{kind} did not answer within 60 s")


def stop_server(process):
    # Only the process this script started, by its own handle.
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid):
    """utime + stime of a process, in seconds (fields 14 and 15 of /proc/PID/stat)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def to_ms(value):
    number, unit = re.match(r"([\d.]+)(\w+)", value).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(port, connections, path, extra, script, seconds):
    command = pin(1) + ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"] + extra
    script_path = None
    if script:
        script_path = os.path.join(HERE, ".out", f"script{abs(hash(script))}.lua")
        with open(script_path, "w") as f:
            f.write(script)
        command += ["-s", script_path]
    command.append(f"http://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    errors = bool(re.search(r"Non-2xx|Socket errors", output))
    return rps, (to_ms(p99.group(1)) if p99 else float("nan")), errors, requests


def measure(sample, kind, workload, seconds, warmup, server_args=(), tracer=None):
    name, connections, path, extra, script = workload
    port = next_port()
    process = start_server(sample, kind, port, server_args)
    trace = None
    trace_file = os.path.join(HERE, ".out", "trace.nettrace")
    try:
        if tracer:
            # An EventPipe session on the server, as a user would attach one: every keyword at
            # Informational, recorded raw (the viewer's cheapest mode) on the load generator's CPU.
            # It attaches before the warm-up, so the code paths it turns on are compiled and tiered
            # up before the measurement, as the untraced paths are.
            trace = subprocess.Popen(pin(1) + ["dotnet", tracer, "--pid", str(process.pid), "--level", "informational",
                                               "--format", "nettrace", "--output", trace_file], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     # The viewer stops on SIGINT; a bench started in the background of a
                                     # non-interactive shell would hand it SIGINT ignored.
                                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
            time.sleep(3)
        warm_requests = run_wrk(port, connections, path, extra, script, warmup)[3]
        cpu_before = cpu_seconds(process.pid)
        rps, p99, errors, requests = run_wrk(port, connections, path, extra, script, seconds)
        cpu = cpu_seconds(process.pid) - cpu_before
        result = {"rps": rps, "p99": p99, "errors": errors, "rss": rss_kib(process.pid),
                  "cpu_us": 1e6 * cpu / requests if requests else float("nan")}
        if trace:
            trace.send_signal(signal.SIGINT)
            try:
                # Stopping drains what the session still buffers: minutes at the busiest rates.
                trace.wait(timeout=300)
                # Count what was recorded, to show the source really was on.
                csv = subprocess.run(["dotnet", tracer, "--input", trace_file, "--format", "csv"], capture_output=True, text=True, timeout=300).stdout
                result["events"] = max(0, csv.count("\n") - 1)
                result["events_per_request"] = result["events"] / (requests + warm_requests + 1)
            except subprocess.TimeoutExpired:
                print(f"(the trace viewer did not stop within 5 minutes; event count not taken)", file=sys.stderr)
        return result
    finally:
        if trace and trace.poll() is None:
            trace.kill()
        stop_server(process)


def measure_idle(sample, kind, count, hold):
    port = next_port()
    process = start_server(sample, kind, port)
    try:
        time.sleep(1)
        before = rss_kib(process.pid)
        client = subprocess.Popen(pin(1) + [sys.executable, os.path.join(HERE, "idle_connections.py"), "--port", str(port),
                                            "--count", str(count), "--hold", str(hold)], stdout=subprocess.PIPE, text=True)
        line = client.stdout.readline()
        ready = re.match(r"ready (\d+) failed (\d+)", line or "")
        time.sleep(min(2.0, hold / 2))
        after = rss_kib(process.pid)
        client.wait(timeout=hold + 60)
        opened = int(ready.group(1)) if ready else 0
        return {"before": before, "after": after, "opened": opened,
                "per_conn": (after - before) / opened if opened else float("nan")}
    finally:
        stop_server(process)


def events_per_request(runs):
    counted = [r["events_per_request"] for r in runs if "events_per_request" in r]
    return f"{statistics.median(counted):.1f}" if counted else "n/a"


def median_ratio(a_runs, b_runs, key):
    return statistics.median(a[key] / b[key] for a, b in zip(a_runs, b_runs) if b[key])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", required=True)
    parser.add_argument("--tracer", help="the HttpSysLite.Trace.dll to attach for the tracing section")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=int)
    parser.add_argument("--only", help="run only workloads whose name contains one of these '|'-separated texts")
    args = parser.parse_args()

    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (3 if args.quick else 10)
    warmup = 2 if args.quick else 5
    idle_count = 2000 if args.quick else 10000
    os.makedirs(os.path.join(HERE, ".out"), exist_ok=True)
    only = [o for o in (args.only or "").split("|") if o]
    selected = lambda name: not only or any(o in name for o in only)
    workloads = [w for w in WORKLOADS if selected(w[0])]

    started = time.time()
    print(f"# HttpSysLite vs Kestrel — {datetime.date.today()}, {cpus()} cores, "
          f"{rounds} round(s) of {seconds} s, server on CPU 0 and wrk on CPU 1" if cpus() >= 2 else " (no pinning: 1 CPU)",
          flush=True)
    print(flush=True)
    print("| workload | HttpSysLite req/s | Kestrel req/s | ratio | p99 HttpSysLite | p99 Kestrel | CPU µs/req HttpSysLite | CPU µs/req Kestrel | CPU ratio | RSS HttpSysLite | RSS Kestrel |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for workload in workloads:
        runs = {kind: [] for kind in SERVERS}
        for _ in range(rounds):
            for kind in SERVERS:
                runs[kind].append(measure(args.sample, kind, workload, seconds, warmup))
        a, b = runs["HttpSysLite"], runs["Kestrel"]
        flag = " (errors!)" if any(r["errors"] for r in a + b) else ""
        print(f"| {workload[0]}{flag} | {statistics.median(r['rps'] for r in a):,.0f} | {statistics.median(r['rps'] for r in b):,.0f} "
              f"| **{median_ratio(a, b, 'rps'):.2f}** | {statistics.median(r['p99'] for r in a):.2f} ms | {statistics.median(r['p99'] for r in b):.2f} ms "
              f"| {statistics.median(r['cpu_us'] for r in a):.1f} | {statistics.median(r['cpu_us'] for r in b):.1f} | {median_ratio(a, b, 'cpu_us'):.2f} "
              f"| {statistics.median(r['rss'] for r in a) / 1024:.0f} MiB | {statistics.median(r['rss'] for r in b) / 1024:.0f} MiB |", flush=True)

    if selected("idle"):
        runs = {kind: [] for kind in SERVERS}
        for _ in range(rounds):
            for kind in SERVERS:
                runs[kind].append(measure_idle(args.sample, kind, idle_count, hold=4 if args.quick else 6))
        a, b = runs["HttpSysLite"], runs["Kestrel"]
        per_a = statistics.median(r["per_conn"] for r in a)
        per_b = statistics.median(r["per_conn"] for r in b)
        print(f"| {idle_count:,} idle keep-alive conns: RSS per conn (opened {min(r['opened'] for r in a + b):,}) "
              f"| {per_a:.1f} KiB | {per_b:.1f} KiB | **{per_a / per_b:.2f}** | | | | | "
              f"| {statistics.median(r['after'] for r in a) / 1024:.0f} MiB | {statistics.median(r['after'] for r in b) / 1024:.0f} MiB |", flush=True)

    if selected("routing"):
        # Routing cost: the same /plaintext on HttpSysLite with its one prefix, and with 1,000 more
        # registered on the same port (issue: under 5% of throughput).
        plaintext = WORKLOADS[0]
        one, many = [], []
        for _ in range(rounds):
            one.append(measure(args.sample, "HttpSysLite", plaintext, seconds, warmup))
            many.append(measure(args.sample, "HttpSysLite", plaintext, seconds, warmup, ["--extra-prefixes", "1000"]))
        print()
        print("| routing | 1 prefix req/s | 1,001 prefixes req/s | ratio | CPU µs/req, 1 | CPU µs/req, 1,001 | CPU ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        print(f"| /plaintext on HttpSysLite | {statistics.median(r['rps'] for r in one):,.0f} | {statistics.median(r['rps'] for r in many):,.0f} "
              f"| **{median_ratio(many, one, 'rps'):.2f}** | {statistics.median(r['cpu_us'] for r in one):.1f} "
              f"| {statistics.median(r['cpu_us'] for r in many):.1f} | {median_ratio(many, one, 'cpu_us'):.2f} |", flush=True)

    if selected("tracing") and args.tracer:
        # The EventSource's cost: /plaintext on HttpSysLite with no listener, and with an EventPipe
        # session enabling every keyword at Informational (issue: within 15% of throughput).
        plaintext = WORKLOADS[0]
        quiet, traced = [], []
        for _ in range(rounds):
            quiet.append(measure(args.sample, "HttpSysLite", plaintext, seconds, warmup))
            traced.append(measure(args.sample, "HttpSysLite", plaintext, seconds, warmup, tracer=args.tracer))
        print()
        print("| tracing | not traced req/s | traced req/s | ratio | CPU µs/req, not traced | CPU µs/req, traced | CPU ratio | events per request |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| /plaintext on HttpSysLite | {statistics.median(r['rps'] for r in quiet):,.0f} | {statistics.median(r['rps'] for r in traced):,.0f} "
              f"| **{median_ratio(traced, quiet, 'rps'):.2f}** | {statistics.median(r['cpu_us'] for r in quiet):.1f} "
              f"| {statistics.median(r['cpu_us'] for r in traced):.1f} | {median_ratio(traced, quiet, 'cpu_us'):.2f} "
              f"| {events_per_request(traced)} |", flush=True)

    print()
    print(f"ratio = median over rounds of HttpSysLite/Kestrel req/s (higher is better); CPU ratio = the same for server CPU time "
          f"per request (lower is better, and steadier than req/s on a shared machine); idle connections: RSS per connection (lower is better). "
          f"Took {time.time() - started:.0f} s.")


if __name__ == "__main__":
    main()
