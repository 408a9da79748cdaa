#!/usr/bin/env bash
# HttpSysLite vs Kestrel, side by side, in one command. See bench/README.md.
#   bench/run.sh            full run (3 rounds, A B A B ...)
#   bench/run.sh --quick    smoke run, under 3 minutes
# Traffic goes only to 127.0.0.1; every run is bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v h2load >/dev/null 2>&1 || need+=(nghttp2-client)
command -v python3 >/dev/null 2>&1 || need+=(python3)
command -v taskset >/dev/null 2>&1 || need+=(util-linux)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
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
# The trace viewer, for the "tracing" section (EventSource enabled vs not).
dotnet publish tools/Trace -c Release -o bench/.out/trace --nologo -v quiet >/dev/null
# The driver as its own process and YARP in front of Kestrel, for the "driver" section.
dotnet publish tools/Driver -c Release -o bench/.out/driver --nologo -v quiet >/dev/null
dotnet publish bench/YarpProxy -c Release -o bench/.out/yarp --nologo -v quiet >/dev/null

# The https workloads' certificate, made here (never committed): one ECDSA P-256 key, for localhost.
tls="bench/.out/tls"
mkdir -p "$tls"
if [ ! -s "$tls/cert.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$tls/cert.pem" >/dev/null 2>&1; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
fi

# 10,000 idle connections need as many descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec python3 bench/bench.py --sample "$out/MinimalApi.dll" --tracer bench/.out/trace/HttpSysLite.Trace.dll \
  --cert "$(pwd)/$tls/cert.pem" --key "$(pwd)/$tls/key.pem" \
  --driver bench/.out/driver/HttpSysLite.Driver.dll --yarp bench/.out/yarp/YarpProxy.dll "$@"
