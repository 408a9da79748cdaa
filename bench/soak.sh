#!/usr/bin/env bash
# A mixed soak against the sample on loopback: plaintext, json, cached, echo, bytes, WebSocket and 1%
# garbage requests, reporting errors, descriptors, RSS and first-chance exceptions over time.
# See bench/README.md ("Soak").
#   bench/soak.sh                          10 minutes against HttpSysLite
#   bench/soak.sh --minutes 2 --server Kestrel
# Traffic goes only to 127.0.0.1; the run is bounded by --minutes; only the server this script
# starts is ended, by its own handle. Do not run it beside another benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} from Debian..."
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

out="bench/.out/sample"
echo "Publishing the sample in Release to $out ..."
dotnet publish samples/MinimalApi -c Release -o "$out" --nologo -v quiet >/dev/null

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# The clients on the second CPU; the server pins itself to the first.
pin=()
[ "$(nproc)" -ge 2 ] && pin=(taskset -c 1)
exec "${pin[@]}" python3 bench/soak.py --sample "$(pwd)/$out/MinimalApi.dll" "$@"
