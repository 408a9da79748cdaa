#!/usr/bin/env python3
"""Runs each workload against the sample on HttpSysLite and on Kestrel, alternating (A B, B A, A B ...),
and prints one markdown table. Called by bench/run.sh, which installs the tools and builds the sample.

Ratios are HttpSysLite / Kestrel, the median of the ratios of windows measured back to back, so a
machine that drifts affects both sides of each ratio alike. Absolute numbers are only for reading the ratios."""
import argparse
import datetime
import hashlib
import math
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
# The certificate both servers present over TLS (made by run.sh with openssl, never committed).
TLS = {"cert": None, "key": None}
# The driver as its own process and the YARP proxy, for the "driver" section (run.sh publishes them).
TOOLS = {"driver": None, "yarp": None}
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

# name, connections, path, extra wrk arguments, lua script (or None)[, True for https]
WORKLOADS = [
    ("/plaintext keep-alive, 64 conns", 64, "/plaintext", [], None),
    ("/plaintext keep-alive, 256 conns", 256, "/plaintext", [], None),
    ("/plaintext pipelined x16, 64 conns", 64, "/plaintext", [], PIPELINE_LUA),
    ("/json, 64 conns", 64, "/json", [], None),
    ("/cached, 64 conns", 64, "/cached", [], None),
    ("Connection: close, 32 conns", 32, "/plaintext", ["-H", "Connection: close"], None),
    ("/bytes/65536, 64 conns", 64, "/bytes/65536", [], None),
    ("POST /echo 4 KiB, 64 conns", 64, "/echo", [], ECHO_LUA),
    ("https /plaintext keep-alive, 64 conns", 64, "/plaintext", [], None, True),
    ("https /cached, 64 conns", 64, "/cached", [], None, True),
    ("https Connection: close (a handshake per request), 32 conns", 32, "/plaintext", ["-H", "Connection: close"], None, True),
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


def tls_args(kind, port):
    """The same certificate for both servers, each in its own configuration's words."""
    if kind == "Kestrel":
        return [f"--Kestrel:Certificates:Default:Path={TLS['cert']}", f"--Kestrel:Certificates:Default:KeyPath={TLS['key']}"]
    return [f"--HttpSysLite:SslCertificates:0:IpPort=0.0.0.0:{port}", f"--HttpSysLite:SslCertificates:0:Path={TLS['cert']}",
            f"--HttpSysLite:SslCertificates:0:KeyPath={TLS['key']}"]


def probe(port, tls):
    """One GET /plaintext with Connection: close; the bytes that came back."""
    with socket.create_connection(("127.0.0.1", port), timeout=1) as raw:
        s = raw
        if tls:
            import ssl
            context = ssl.create_default_context()
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            s = context.wrap_socket(raw, server_hostname="localhost")
        s.sendall(b"GET /plaintext HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        data = b""
        while b"Hello, World!" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


class Group:
    """
    The processes one side of a pair runs as: the sample alone, or the driver and the sample attached
    to it, or YARP and the Kestrel sample behind it. CPU and RSS are the group's; pid is the one
    that answers requests first (what a trace attaches to).
    """

    def __init__(self, processes):
        self.processes = processes
        self.pid = processes[0].pid


def cpu_of(server):
    return sum(cpu_seconds(p.pid) for p in getattr(server, "processes", [server]))


def rss_of(server):
    return sum(rss_kib(p.pid) for p in getattr(server, "processes", [server]))


def wait_for_file(path, process, what):
    deadline = time.time() + 60
    while not os.path.exists(path):
        if process.poll() is not None or time.time() > deadline:
            raise RuntimeError(f"{what} did not start: {process.stderr.read().decode(errors='replace') if process.poll() is not None else 'timed out'}")
        time.sleep(0.1)


def start_group(sample, kind, port, extra_args):
    """
    "Driver": httpsyslite serve, then the sample attached with --driver; "Yarp": the Kestrel sample on
    a port of its own, then YARP on the measured port forwarding to it. Both processes of a group are
    on the server CPU, so the crossing's cost shows in the same core's budget.
    """
    if kind == "Driver":
        socket_path = os.path.join(HERE, ".out", f"driver-{port}.sock")
        if os.path.exists(socket_path):
            os.remove(socket_path)
        driver = subprocess.Popen(pin(0) + ["dotnet", TOOLS["driver"], "serve", "--socket", socket_path, "--Logging:LogLevel:Default=Warning"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=server_environment())
        wait_for_file(socket_path, driver, "the driver")
        app = start_server(sample, "HttpSysLite", port, [*extra_args, "--driver", socket_path])
        return Group([driver, app])
    backend_port = next_port()
    backend = start_server(sample, "Kestrel", backend_port, extra_args)
    proxy = subprocess.Popen(pin(0) + ["dotnet", TOOLS["yarp"], "--urls", f"http://127.0.0.1:{port}", "--destination", f"http://127.0.0.1:{backend_port}/"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=server_environment())
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if b"Hello, World!" in probe(port, False):
                return Group([proxy, backend])
        except OSError:
            time.sleep(0.2)
    proxy.kill()
    stop_server(backend)
    raise RuntimeError("YARP did not answer within 60 s")


def start_server(sample, kind, port, extra_args=(), tls=False):
    if kind in ("Driver", "Yarp"):
        return start_group(sample, kind, port, extra_args)
    scheme = "https" if tls else "http"
    args = ["dotnet", sample, "--urls", f"{scheme}://127.0.0.1:{port}", "--Logging:LogLevel:Default=Warning", *extra_args]
    if tls:
        args += tls_args(kind, port)
    if kind == "Kestrel":
        args += ["--server", "kestrel"]
    process = subprocess.Popen(pin(0) + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=server_environment())
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{kind} exited: {process.stderr.read().decode(errors='replace')}")
        try:
            if b"Hello, World!" in probe(port, tls):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"{kind} did not answer within 60 s")


def stop_server(process):
    # Only the processes this script started, by their own handles (an app before its driver).
    if isinstance(process, Group):
        for member in reversed(process.processes):
            stop_server(member)
        return
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


def run_wrk(port, connections, path, extra, script, seconds, tls=False):
    command = pin(1) + ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"] + extra
    script_path = None
    if script:
        script_path = os.path.join(HERE, ".out", f"script-{hashlib.sha1(script.encode()).hexdigest()[:12]}.lua")
        with open(script_path, "w") as f:
            f.write(script)
        command += ["-s", script_path]
    command.append(f"{'https' if tls else 'http'}://127.0.0.1:{port}{path}")
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    errors = bool(re.search(r"Non-2xx|Socket errors", output))
    # wrk sometimes prints a 99th percentile of 0.00us for pipelined runs (its histogram, not a
    # latency): counted as missing, not as the fastest window.
    p99_ms = to_ms(p99.group(1)) if p99 else 0.0
    return rps, (p99_ms if p99_ms > 0 else float("nan")), errors, requests


class Side:
    """One server of a pair: which server, its extra arguments, and whether a trace session is attached."""

    def __init__(self, kind, server_args=(), tracer=None):
        self.kind, self.server_args, self.tracer = kind, tuple(server_args), tracer


def start_trace(tracer, pid):
    """
    An EventPipe session on the server, as a user would attach one: every keyword at Informational,
    recorded raw (the viewer's cheapest mode) on the load generator's CPU. It attaches before the
    warm-up, so the code paths it turns on are compiled and tiered up before the measurement, as the
    untraced paths are.
    """
    trace_file = os.path.join(HERE, ".out", "trace.nettrace")
    trace = subprocess.Popen(pin(1) + ["dotnet", tracer, "--pid", str(pid), "--level", "informational",
                                       "--format", "nettrace", "--output", trace_file], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             # The viewer stops on SIGINT; a bench started in the background of a
                             # non-interactive shell would hand it SIGINT ignored.
                             preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(3)
    return trace, trace_file


def count_trace_events(tracer, trace, trace_file):
    """Stops the session and counts what it recorded (to show the source really was on), or None."""
    trace.send_signal(signal.SIGINT)
    try:
        # Stopping drains what the session still buffers: minutes at the busiest rates.
        trace.wait(timeout=300)
        csv = subprocess.run(["dotnet", tracer, "--input", trace_file, "--format", "csv"], capture_output=True, text=True, timeout=300).stdout
        return max(0, csv.count("\n") - 1)
    except subprocess.TimeoutExpired:
        print("(the trace viewer did not stop within 5 minutes; event count not taken)", file=sys.stderr)
        return None


def measure_pair(sample, sides, workload, seconds, warmup, windows):
    """
    One round of a workload: both servers are started (fresh processes, both on the server CPU, each
    on its own port) and warmed up, then measured in alternating windows, A B, B A, A B ..., each
    window seconds/windows long. The machine's speed drifts from second to second (we saw one server's
    rate move by a third between two 10 s runs); two windows measured back to back see nearly the same
    machine, and swapping which goes first cancels a steady drift. An idle server costs the other
    nothing measurable (a timer tick a second). Returns, per side, one result per window.
    """
    name, connections, path, extra, script = workload[:5]
    tls = len(workload) > 5 and workload[5]
    length = max(1, seconds // windows)
    ports = [next_port() for _ in sides]
    processes = []
    traces = [None] * len(sides)
    results = [[] for _ in sides]
    try:
        for side, port in zip(sides, ports):
            processes.append(start_server(sample, side.kind, port, side.server_args, tls))
        for i, side in enumerate(sides):
            if side.tracer:
                traces[i] = start_trace(side.tracer, processes[i].pid)
        warm_requests = [run_wrk(port, connections, path, extra, script, warmup, tls)[3] for port in ports]
        for window in range(windows):
            order = range(len(sides)) if window % 2 == 0 else reversed(range(len(sides)))
            for i in order:
                cpu_before = cpu_of(processes[i])
                rps, p99, errors, requests = run_wrk(ports[i], connections, path, extra, script, length, tls)
                cpu = cpu_of(processes[i]) - cpu_before
                results[i].append({"rps": rps, "p99": p99, "errors": errors, "requests": requests,
                                   "cpu_us": 1e6 * cpu / requests if requests else float("nan")})
        for i, side in enumerate(sides):
            rss = rss_of(processes[i])
            for result in results[i]:
                result["rss"] = rss
            if traces[i]:
                events = count_trace_events(side.tracer, *traces[i])
                if events is not None:
                    measured = sum(r["requests"] for r in results[i]) + warm_requests[i] + 1
                    for result in results[i]:
                        result["events_per_request"] = events / measured
        return results
    finally:
        for trace in traces:
            if trace and trace[0].poll() is None:
                trace[0].kill()
        for process in processes:
            stop_server(process)


def measure_rounds(sample, sides, workload, rounds, seconds, warmup, windows):
    """Every window of every round, per side (pairs line up by index: window i of A with window i of B)."""
    runs = [[] for _ in sides]
    for _ in range(rounds):
        for i, windows_of_side in enumerate(measure_pair(sample, sides, workload, seconds, warmup, windows)):
            runs[i].extend(windows_of_side)
    return runs


def run_stime(port, seconds, reuse):
    """openssl s_time: TLS connections, each one GET; connections per second and how many."""
    command = pin(1) + ["openssl", "s_time", "-connect", f"127.0.0.1:{port}", "-www", "/plaintext", "-time", str(seconds),
                        "-tls1_2", "-reuse" if reuse else "-new"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    match = re.search(r"(\d+) connections in ([\d.]+)s", output) or re.search(r"(\d+) connections in (\d+) real seconds", output)
    count = int(match.group(1)) if match else 0
    elapsed = float(match.group(2)) if match else float(seconds)
    return count / elapsed if elapsed else 0.0, count


def measure_rounds_stime(sample, rounds, seconds, windows, reuse):
    """Both servers over TLS, s_time windows alternating as measure_pair alternates wrk's."""
    runs = [[], []]
    length = max(1, seconds // windows)
    for _ in range(rounds):
        ports = [next_port() for _ in SERVERS]
        processes = []
        try:
            for kind, port in zip(SERVERS, ports):
                processes.append(start_server(sample, kind, port, tls=True))
            for port in ports:
                run_stime(port, 2, reuse)  # warm-up: the handshake path jitted
            for window in range(windows):
                order = (0, 1) if window % 2 == 0 else (1, 0)
                for i in order:
                    cpu_before = cpu_seconds(processes[i].pid)
                    rate, count = run_stime(ports[i], length, reuse)
                    cpu = cpu_seconds(processes[i].pid) - cpu_before
                    runs[i].append({"rps": rate, "cpu_us": 1e6 * cpu / count if count else float("nan")})
        finally:
            for process in processes:
                stop_server(process)
    return runs


def descriptor_room():
    """
    Connections one server can hold: HttpSysLite's default MaxConnections keeps a tenth of the
    descriptor limit for the runtime (DescriptorLimit), and a margin more for what it has open already.
    """
    import resource
    return int(resource.getrlimit(resource.RLIMIT_NOFILE)[0] * 0.9) - 200


def open_idle(port, count, hold, tls=False, websocket=False):
    """Starts bench/idle_connections.py (on the load generator's CPU) and waits until its connections are
    idle; returns the client (close its stdin to end it early) and how many it holds."""
    client = subprocess.Popen(pin(1) + [sys.executable, os.path.join(HERE, "idle_connections.py"), "--port", str(port),
                                        "--count", str(count), "--hold", str(hold)]
                              + (["--tls"] if tls else []) + (["--websocket"] if websocket else []),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = client.stdout.readline()
    ready = re.match(r"ready (\d+) failed (\d+)", line or "")
    if not ready or int(ready.group(2)):
        print(f"(idle client: {line.strip() or 'no report'})", file=sys.stderr)
    return client, int(ready.group(1)) if ready else 0


def close_idle(client, hold):
    client.stdin.close()
    try:
        client.wait(timeout=hold + 120)
    except subprocess.TimeoutExpired:
        client.kill()  # the client this script started
        client.wait()


def normal_client_p99(port, seconds=5):
    """A normal client's /plaintext latency while the idle connections are held: wrk, 4 connections."""
    command = pin(1) + ["wrk", "-t1", "-c4", f"-d{seconds}s", "--latency", "--timeout", "5s", f"http://127.0.0.1:{port}/plaintext"]
    output = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60).stdout
    p99 = re.search(r"99%\s+([\d.]+\w+)", output)
    return to_ms(p99.group(1)) if p99 else float("nan")


# Seconds from the last idle connection's open to the RSS reading: connections held idle, not the
# moment after their requests. HttpSysLite suspends a connection silent for a second (docs/design.md
# section 12), and what the suspensions dropped is collected at the driver's next trim (10 s); both
# servers are read at the same point.
IDLE_SETTLE = 25


def measure_idle(sample, kind, count, hold, tls=False, websocket=False, probe_seconds=0):
    """
    RSS growth per idle connection (each served one request, or upgraded to a WebSocket that echoed one
    message, then silent). With probe_seconds, also the server's CPU while only the idle connections
    are open (the heartbeat's cost) over that many seconds, and a normal client's p99 meanwhile.
    """
    port = next_port()
    process = start_server(sample, kind, port, tls=tls)
    try:
        # The request path jitted and its pools warm before the baseline (as bench/idle_gcdump.py does),
        # so the growth is what the connections hold, not the first requests' one-time costs.
        for _ in range(200):
            probe(port, tls)
        time.sleep(2)
        before = rss_kib(process.pid)
        client, opened = open_idle(port, count, hold, tls, websocket)
        time.sleep(IDLE_SETTLE)
        after = rss_kib(process.pid)
        result = {"before": before, "after": after, "opened": opened,
                  "per_conn": (after - before) / opened if opened else float("nan")}
        if probe_seconds and opened:
            cpu_before = cpu_seconds(process.pid)
            time.sleep(probe_seconds)
            result["idle_cpu"] = 100 * (cpu_seconds(process.pid) - cpu_before) / probe_seconds
            result["p99"] = normal_client_p99(port)
        close_idle(client, hold)
        return result
    finally:
        stop_server(process)


def measure_release(sample, count, minutes):
    """
    Does memory go back? Both servers up at once, each on its own port: RSS before, with count idle
    connections open, at their close, and `minutes` later (nothing else runs on the servers).
    """
    ports = [next_port() for _ in SERVERS]
    processes = []
    try:
        for kind, port in zip(SERVERS, ports):
            processes.append(start_server(sample, kind, port))
        time.sleep(2)
        before = [rss_kib(p.pid) for p in processes]
        clients = [open_idle(port, count, 600) for port in ports]
        time.sleep(2)
        held = [rss_kib(p.pid) for p in processes]
        for client, _ in clients:
            close_idle(client, 600)
        time.sleep(2)
        closed = [rss_kib(p.pid) for p in processes]
        time.sleep(60 * minutes)
        later = [rss_kib(p.pid) for p in processes]
        return [{"before": before[i], "held": held[i], "closed": closed[i], "later": later[i], "opened": clients[i][1]}
                for i in range(len(SERVERS))]
    finally:
        for process in processes:
            stop_server(process)


def median_of(runs, key):
    """The median of what was measured (a missing p99 is left out)."""
    values = [r[key] for r in runs if not math.isnan(r[key])]
    return statistics.median(values) if values else float("nan")


def events_per_request(runs):
    counted = [r["events_per_request"] for r in runs if "events_per_request" in r]
    return f"{statistics.median(counted):.1f}" if counted else "n/a"


def median_ratio(a_runs, b_runs, key):
    return statistics.median(ratios(a_runs, b_runs, key))


def ratios(a_runs, b_runs, key):
    return [a[key] / b[key] for a, b in zip(a_runs, b_runs) if b[key]]


def spread(a_runs, b_runs, key):
    """The middle half of the pairwise ratios (first to third quartile): how far one pair can mislead."""
    values = ratios(a_runs, b_runs, key)
    if len(values) < 4:
        return ""
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f" ({q1:.2f}–{q3:.2f})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--sample", required=True)
    parser.add_argument("--tracer", help="the HttpSysLite.Trace.dll to attach for the tracing section")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--seconds", type=int, help="measured seconds per server per round")
    parser.add_argument("--windows", type=int, help="alternating windows those seconds are split into")
    parser.add_argument("--only", help="run only workloads whose name contains one of these '|'-separated texts")
    parser.add_argument("--cert", help="PEM certificate for the https workloads (run.sh makes one)")
    parser.add_argument("--key", help="its PEM private key")
    parser.add_argument("--driver", help="the published HttpSysLite.Driver.dll, for the driver section")
    parser.add_argument("--yarp", help="the published YarpProxy.dll, for the driver section")
    args = parser.parse_args()

    TLS["cert"], TLS["key"] = args.cert, args.key
    TOOLS["driver"], TOOLS["yarp"] = args.driver, args.yarp
    rounds = args.rounds or (1 if args.quick else 3)
    seconds = args.seconds or (3 if args.quick else 10)
    windows = max(1, min(args.windows or (3 if args.quick else 5), seconds))
    warmup = 1 if args.quick else 5  # a smoke run: enough for the first requests to have been jitted
    idle_count = 2000 if args.quick else 10000
    os.makedirs(os.path.join(HERE, ".out"), exist_ok=True)
    only = [o for o in (args.only or "").split("|") if o]
    selected = lambda name: not only or any(o in name for o in only)
    workloads = [w for w in WORKLOADS if selected(w[0]) and (len(w) < 6 or TLS["cert"])]
    measured = lambda sides, workload: measure_rounds(args.sample, sides, workload, rounds, seconds, warmup, windows)

    started = time.time()
    pinning = "server on CPU 0 and wrk on CPU 1" if cpus() >= 2 else "no pinning: 1 CPU"
    print(f"# HttpSysLite vs Kestrel — {datetime.date.today()}, {cpus()} cores, {rounds} round(s), "
          f"each {windows} alternating window(s) of {max(1, seconds // windows)} s per server after a {warmup} s warm-up, {pinning}",
          flush=True)
    print(flush=True)
    print("| workload | HttpSysLite req/s | Kestrel req/s | ratio | p99 HttpSysLite | p99 Kestrel | CPU µs/req HttpSysLite | CPU µs/req Kestrel | CPU ratio | RSS HttpSysLite | RSS Kestrel |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)
    for workload in workloads:
        a, b = measured([Side(kind) for kind in SERVERS], workload)
        flag = " (errors!)" if any(r["errors"] for r in a + b) else ""
        print(f"| {workload[0]}{flag} | {statistics.median(r['rps'] for r in a):,.0f} | {statistics.median(r['rps'] for r in b):,.0f} "
              f"| **{median_ratio(a, b, 'rps'):.2f}**{spread(a, b, 'rps')} | {median_of(a, 'p99'):.2f} ms | {median_of(b, 'p99'):.2f} ms "
              f"| {statistics.median(r['cpu_us'] for r in a):.1f} | {statistics.median(r['cpu_us'] for r in b):.1f} | {median_ratio(a, b, 'cpu_us'):.2f} "
              f"| {statistics.median(r['rss'] for r in a) / 1024:.0f} MiB | {statistics.median(r['rss'] for r in b) / 1024:.0f} MiB |", flush=True)

    def idle_row(label, count, tls=False, websocket=False, probe=False):
        room = descriptor_room()
        if count > room:
            import resource
            print(f"| {count:,} {label}: not measured, the descriptor limit is {resource.getrlimit(resource.RLIMIT_NOFILE)[0]:,} "
                  f"(ulimit -Hn; raising it needs CAP_SYS_RESOURCE); measured at {room:,} below | | | | | | | | | | |", flush=True)
            count = room
        runs = {kind: [] for kind in SERVERS}
        for _ in range(rounds):
            for kind in SERVERS:
                runs[kind].append(measure_idle(args.sample, kind, count, hold=600, tls=tls, websocket=websocket,
                                               probe_seconds=(5 if args.quick else 20) if probe else 0))
        a, b = runs["HttpSysLite"], runs["Kestrel"]
        per_a = statistics.median(r["per_conn"] for r in a)
        per_b = statistics.median(r["per_conn"] for r in b)
        extra = ""
        if probe:
            extra = (f" (server CPU while idle: {statistics.median(r['idle_cpu'] for r in a):.2f}% / {statistics.median(r['idle_cpu'] for r in b):.2f}% of a core)")
        print(f"| {count:,} {label}: RSS per conn (opened {min(r['opened'] for r in a + b):,}){extra} "
              f"| {per_a:.2f} KiB | {per_b:.2f} KiB | **{per_a / per_b:.2f}** "
              + (f"| {statistics.median(r['p99'] for r in a):.2f} ms | {statistics.median(r['p99'] for r in b):.2f} ms " if probe else "| | ")
              + f"| | | | {statistics.median(r['after'] for r in a) / 1024:.0f} MiB | {statistics.median(r['after'] for r in b) / 1024:.0f} MiB |", flush=True)

    if selected("idle"):
        # p99 here: a normal client's (wrk, 4 connections, 5 s) while the idle connections are held.
        idle_row("idle keep-alive conns", idle_count, probe=True)
        if not args.quick:
            idle_row("idle keep-alive conns", 100_000, probe=True)
        idle_row("idle WebSocket conns", idle_count, websocket=True)
        if TLS["cert"]:
            # A TLS handshake each: fewer, so the client's setup stays bounded.
            idle_row("idle TLS keep-alive conns", idle_count // 2, tls=True)

    if selected("release"):
        # Issue 22: ten minutes after the connections close, RSS near where it started.
        count = min(100_000, descriptor_room())
        minutes = 1 if args.quick else 10
        runs = measure_release(args.sample, count, minutes)
        print()
        print(f"| memory given back ({count:,} idle connections, then closed) | RSS before | with them open | at their close | {minutes} min later | later / before |")
        print("|---|---:|---:|---:|---:|---:|")
        for kind, r in zip(SERVERS, runs):
            print(f"| {kind} (opened {r['opened']:,}) | {r['before'] / 1024:.1f} MiB | {r['held'] / 1024:.1f} MiB | {r['closed'] / 1024:.1f} MiB "
                  f"| {r['later'] / 1024:.1f} MiB | **{r['later'] / r['before']:.2f}** |", flush=True)


    if selected("resumption") and TLS["cert"]:
        # A new TLS connection per request, with a full handshake each time and with session
        # resumption, by openssl s_time (sequential, HTTP/1.0, one request per connection).
        print()
        print("| TLS connections (openssl s_time) | HttpSysLite conn/s | Kestrel conn/s | ratio | CPU µs/conn HttpSysLite | CPU µs/conn Kestrel | CPU ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        # TLS 1.2 for both rows: s_time resumes TLS 1.2 sessions, but with TLS 1.3 it reconnects before
        # the server's session ticket has arrived (against either server), so 1.3 would never resume.
        for label, reuse in (("TLS 1.2, new handshake each", False), ("TLS 1.2, resumed sessions", True)):
            a, b = measure_rounds_stime(args.sample, rounds, seconds, windows, reuse)
            print(f"| {label} | {statistics.median(r['rps'] for r in a):,.0f} | {statistics.median(r['rps'] for r in b):,.0f} "
                  f"| **{median_ratio(a, b, 'rps'):.2f}**{spread(a, b, 'rps')} | {statistics.median(r['cpu_us'] for r in a):.0f} "
                  f"| {statistics.median(r['cpu_us'] for r in b):.0f} | {median_ratio(a, b, 'cpu_us'):.2f} |", flush=True)

    if selected("routing"):
        # Routing cost: the same /plaintext on HttpSysLite with its one prefix, and with 1,000 more
        # registered on the same port (issue: under 5% of throughput).
        plaintext = WORKLOADS[0]
        one, many = measured([Side("HttpSysLite"), Side("HttpSysLite", ["--extra-prefixes", "1000"])], plaintext)
        print()
        print("| routing | 1 prefix req/s | 1,001 prefixes req/s | ratio | CPU µs/req, 1 | CPU µs/req, 1,001 | CPU ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        print(f"| /plaintext on HttpSysLite | {statistics.median(r['rps'] for r in one):,.0f} | {statistics.median(r['rps'] for r in many):,.0f} "
              f"| **{median_ratio(many, one, 'rps'):.2f}**{spread(many, one, 'rps')} | {statistics.median(r['cpu_us'] for r in one):.1f} "
              f"| {statistics.median(r['cpu_us'] for r in many):.1f} | {median_ratio(many, one, 'cpu_us'):.2f} |", flush=True)

    if selected("tracing") and args.tracer:
        # The EventSource's cost: /plaintext on HttpSysLite with no listener, and with an EventPipe
        # session enabling every keyword at Informational (issue: within 15% of throughput).
        plaintext = WORKLOADS[0]
        quiet, traced = measured([Side("HttpSysLite"), Side("HttpSysLite", tracer=args.tracer)], plaintext)
        print()
        print("| tracing | not traced req/s | traced req/s | ratio | CPU µs/req, not traced | CPU µs/req, traced | CPU ratio | events per request |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        print(f"| /plaintext on HttpSysLite | {statistics.median(r['rps'] for r in quiet):,.0f} | {statistics.median(r['rps'] for r in traced):,.0f} "
              f"| **{median_ratio(traced, quiet, 'rps'):.2f}**{spread(traced, quiet, 'rps')} | {statistics.median(r['cpu_us'] for r in quiet):.1f} "
              f"| {statistics.median(r['cpu_us'] for r in traced):.1f} | {median_ratio(traced, quiet, 'cpu_us'):.2f} "
              f"| {events_per_request(traced)} |", flush=True)

    if selected("inline"):
        # HttpSys's UnsafePreferInlineScheduling: the app on the connection's loop thread, no hop to the
        # thread pool. Default, inline and Kestrel measured together, in alternating windows.
        print()
        print("| inline scheduling | HttpSysLite req/s | inline req/s | Kestrel req/s | inline / default | inline / Kestrel | default / Kestrel "
              "| CPU µs/req default | CPU µs/req inline | CPU µs/req Kestrel |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for workload in (WORKLOADS[0], WORKLOADS[3]):
            default, inline, kestrel = measured([Side("HttpSysLite"), Side("HttpSysLite", ["--HttpSysLite:UnsafePreferInlineScheduling=true"]),
                                                 Side("Kestrel")], workload)
            print(f"| {workload[0]} | {statistics.median(r['rps'] for r in default):,.0f} | {statistics.median(r['rps'] for r in inline):,.0f} "
                  f"| {statistics.median(r['rps'] for r in kestrel):,.0f} | **{median_ratio(inline, default, 'rps'):.2f}**{spread(inline, default, 'rps')} "
                  f"| **{median_ratio(inline, kestrel, 'rps'):.2f}** | {median_ratio(default, kestrel, 'rps'):.2f} "
                  f"| {statistics.median(r['cpu_us'] for r in default):.1f} | {statistics.median(r['cpu_us'] for r in inline):.1f} "
                  f"| {statistics.median(r['cpu_us'] for r in kestrel):.1f} |", flush=True)

    if selected("driver") and TOOLS["driver"] and TOOLS["yarp"]:
        # The driver as its own process (issue 20): the app attached over the Unix socket, against the
        # in-process server and against YARP in front of Kestrel. Each side's processes share the
        # server CPU; CPU per request is the group's.
        print()
        print("| shared driver | in-process req/s | driver + app req/s | YARP + Kestrel req/s | driver / in-process | driver / YARP "
              "| CPU µs/req in-process | CPU µs/req driver + app | CPU µs/req YARP + Kestrel | µs/req the crossing adds |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for workload in (WORKLOADS[0], WORKLOADS[4]):
            inproc, driver, yarp = measured([Side("HttpSysLite"), Side("Driver"), Side("Yarp")], workload)
            flag = " (errors!)" if any(r["errors"] for r in inproc + driver + yarp) else ""
            cpu_in, cpu_driver = statistics.median(r['cpu_us'] for r in inproc), statistics.median(r['cpu_us'] for r in driver)
            print(f"| {workload[0]}{flag} | {statistics.median(r['rps'] for r in inproc):,.0f} | {statistics.median(r['rps'] for r in driver):,.0f} "
                  f"| {statistics.median(r['rps'] for r in yarp):,.0f} | **{median_ratio(driver, inproc, 'rps'):.2f}**{spread(driver, inproc, 'rps')} "
                  f"| **{median_ratio(driver, yarp, 'rps'):.2f}**{spread(driver, yarp, 'rps')} | {cpu_in:.1f} | {cpu_driver:.1f} "
                  f"| {statistics.median(r['cpu_us'] for r in yarp):.1f} | {cpu_driver - cpu_in:.1f} |", flush=True)

    print()
    print(f"ratio = median over every pair of windows measured back to back ({rounds} round(s) x {windows}) of HttpSysLite/Kestrel req/s "
          f"(higher is better), in brackets the middle half of those pairwise ratios; CPU ratio = the same for server CPU time per request "
          f"(lower is better); idle connections: RSS per connection (lower is better). "
          f"Took {time.time() - started:.0f} s.")


if __name__ == "__main__":
    main()
