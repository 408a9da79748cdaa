#!/usr/bin/env bash
# Bytes allocated per request, by type, for the sample under load (see bench/README.md).
#   bench/allocations.sh [httpsyslite|kestrel] [path] [connections]
# Traffic goes only to 127.0.0.1; the run takes about 20 s and ends the server it started.
set -euo pipefail
cd "$(dirname "$0")/.."
server="${1:-httpsyslite}"; path="${2:-/plaintext}"; connections="${3:-64}"
command -v wrk >/dev/null 2>&1 || { sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"; $sudo apt-get update -qq; $sudo apt-get install -y -qq wrk >/dev/null; }
dotnet publish samples/MinimalApi -c Release -o bench/.out/sample --nologo -v quiet >/dev/null
dotnet build bench/AllocationSampler -c Release -o bench/.out/sampler --nologo -v quiet >/dev/null
port=5097; out=bench/.out/allocations.txt; rm -f "$out"
extra=(); [ "$server" = kestrel ] && extra=(--server kestrel)
pin0=(); pin1=(); [ "$(nproc)" -ge 2 ] && { pin0=(taskset -c 0); pin1=(taskset -c 1); }
DOTNET_STARTUP_HOOKS="$PWD/bench/.out/sampler/AllocationSampler.dll" ALLOCATION_SAMPLER_START=9000 ALLOCATION_SAMPLER_SECONDS=6 \
ALLOCATION_SAMPLER_OUTPUT="$out" DOTNET_TC_CallCountingDelayMs=0 "${pin0[@]}" dotnet bench/.out/sample/MinimalApi.dll \
  --urls "http://127.0.0.1:$port" --Logging:LogLevel:Default=Warning "${extra[@]}" >/dev/null 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$port/plaintext" && break; sleep 0.3; done
# The sampler counts from 9 s after start for 6 s: wrk runs across that whole window.
"${pin1[@]}" wrk -t1 -c"$connections" -d17s "http://127.0.0.1:$port$path" > bench/.out/allocations-wrk.txt
sleep 1
rps=$(awk '/Requests\/sec/ {print $2}' bench/.out/allocations-wrk.txt)
python3 - "$out" "$rps" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
requests = float(sys.argv[2]) * 6
print(f"{int(lines[0].split()[1]) / requests:.0f} bytes allocated per request; by type (sampled):")
for line in lines[1:16]:
    amount, name = line.split(None, 1)
    print(f"  {int(amount) / requests:8.0f}  {name}")
PY
