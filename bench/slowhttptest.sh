#!/usr/bin/env bash
# slowhttptest's four attacks (-H, -B, -X, -R) against HttpSysLite and Kestrel, with a normal client's
# /plaintext latency measured during each. See bench/README.md ("Slow clients: slowhttptest").
#   bench/slowhttptest.sh                      1,000 connections, 60 s per attack and server (about 10 minutes)
#   bench/slowhttptest.sh --seconds 20 --only -B
# Traffic goes only to 127.0.0.1; every attack is bounded by its length; only the processes this
# script starts are ended, by their own handles. Do not run it beside another benchmark.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v slowhttptest >/dev/null 2>&1 || need+=(slowhttptest)
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

# 1,000 attack connections, the probe's and the server's own: raise the soft limit to the hard one.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec python3 bench/slowhttptest.py --sample "$(pwd)/$out/MinimalApi.dll" "$@"
