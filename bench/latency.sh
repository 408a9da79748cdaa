#!/usr/bin/env bash
# Send buffering on a high-latency link (issue 8): a 16 MiB response written as 4 KiB awaited writes,
# timed from a client 100 ms (round trip) away: HttpSysLite unbuffered (the default), HttpSysLite with
# EnableKernelResponseBuffering, and Kestrel.
#   bench/latency.sh [--delay-ms 50] [--size 16777216] [--chunk 4096] [--runs 3]
# The unbuffered case takes about 100 s a run at 100 ms RTT (16 KiB per round trip).
# Two network namespaces joined by a link with a fixed delay each way (bench/netdelay.py: TUN devices
# and a relay, since this kernel has no netem). Only the namespaces' own addresses (10.99.0.0/24)
# are used; the namespaces, devices and processes are removed at the end, whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."

delay_ms=50
size=$((16 * 1024 * 1024))
chunk=4096
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --delay-ms) delay_ms="$2"; shift 2 ;;
    --size) size="$2"; shift 2 ;;
    --chunk) chunk="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$(id -u)" -ne 0 ]; then
  echo "latency.sh creates network namespaces: run it as root (or with sudo)." >&2
  exit 2
fi
need=()
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v ping >/dev/null 2>&1 || need+=(iputils-ping)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi

out="bench/.out/sample"
echo "Publishing the sample in Release to $out ..."
dotnet publish samples/MinimalApi -c Release -o "$out" --nologo -v quiet >/dev/null

srv=hsl-srv-$$
cli=hsl-cli-$$
relay_pid=""
server_pid=""
cleanup() {
  # Only what this script started, by its own PIDs and names.
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null || true
  ip netns del "$srv" 2>/dev/null || true
  ip netns del "$cli" 2>/dev/null || true
}
trap cleanup EXIT

for ns in "$srv" "$cli"; do
  ip netns add "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" tuntap add dev tun0 mode tun
done
ip -n "$srv" addr add 10.99.0.1/24 dev tun0
ip -n "$cli" addr add 10.99.0.2/24 dev tun0
ip -n "$srv" link set tun0 up
ip -n "$cli" link set tun0 up

python3 bench/netdelay.py --ns-a "$srv" --ns-b "$cli" --delay-ms "$delay_ms" --seconds 3600 > /dev/null &
relay_pid=$!
sleep 1
rtt=$(ip netns exec "$cli" ping -c 3 -q 10.99.0.1 | awk -F/ '/rtt|round-trip/ {print $5}')
echo "Link: ${delay_ms} ms each way, measured ping RTT ${rtt} ms. Body: ${size} bytes in ${chunk}-byte awaited writes."
echo

measure() { # title, file tag, server arguments...
  local name="$1" tag="$2"; shift 2
  ip netns exec "$srv" dotnet "$out/MinimalApi.dll" --Logging:LogLevel:Default=Warning "$@" > /dev/null 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do
    if ip netns exec "$cli" curl -s -m 2 -o /dev/null http://10.99.0.1:5000/plaintext; then break; fi
    sleep 0.5
  done
  local times=()
  for _ in $(seq 1 "$runs"); do
    times+=("$(ip netns exec "$cli" curl -s -m 900 -o /dev/null -w '%{time_total}' "http://10.99.0.1:5000/bytes/${size}?chunk=${chunk}")")
  done
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  printf '| %s | %s s | %s |\n' "$name" "$median" "${times[*]}"
  echo "$median" > "bench/.out/latency-$tag.txt"
}

mkdir -p bench/.out
echo "| server | median time | runs (s) |"
echo "|---|---:|---|"
measure "HttpSysLite, unbuffered (default)" unbuffered --urls "http://10.99.0.1:5000/"
measure "HttpSysLite, EnableKernelResponseBuffering" buffered --urls "http://10.99.0.1:5000/" --HttpSysLite:EnableKernelResponseBuffering=true
measure "Kestrel" kestrel --server kestrel --urls "http://10.99.0.1:5000"
echo
python3 - bench/.out/latency-unbuffered.txt bench/.out/latency-buffered.txt bench/.out/latency-kestrel.txt <<'PY'
import sys
unbuffered, buffered, kestrel = (float(open(p).read()) for p in sys.argv[1:])
print(f"buffered is {unbuffered / buffered:.1f}x faster than unbuffered (HttpSysLite)")
print(f"HttpSysLite buffered vs Kestrel, speed ratio {kestrel / buffered:.2f} (1.00 or more: HttpSysLite at least as fast)")
PY
