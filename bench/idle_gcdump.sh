#!/usr/bin/env bash
# What one idle connection holds, type by type (issue 22): a gcdump before and after N idle connections.
#   bench/idle_gcdump.sh                         HttpSysLite, 10,000 idle keep-alive connections
#   bench/idle_gcdump.sh --server Kestrel        the same on Kestrel
#   bench/idle_gcdump.sh --websocket --count 5000
#   bench/idle_gcdump.sh --tls --count 5000      https, the certificate bench/run.sh makes
# Installs dotnet-gcdump (a .NET global tool, from NuGet) if missing. Traffic only to 127.0.0.x.
set -euo pipefail
cd "$(dirname "$0")/.."

GCDUMP_VERSION=10.0.750501
tool="$HOME/.dotnet/tools/dotnet-gcdump"
if [ ! -x "$tool" ]; then
  echo "Installing dotnet-gcdump $GCDUMP_VERSION ..."
  dotnet tool install -g dotnet-gcdump --version "$GCDUMP_VERSION" >/dev/null
fi
command -v python3 >/dev/null 2>&1 || { echo "python3 is needed"; exit 1; }

out="bench/.out/sample-gcdump"
echo "Publishing the sample in Release to $out ..."
dotnet publish samples/MinimalApi -c Release -o "$out" --nologo -v quiet >/dev/null

# The certificate of the https workloads, made as bench/run.sh makes it (never committed).
tls="bench/.out/tls"
mkdir -p "$tls"
if [ ! -s "$tls/cert.pem" ] || ! openssl x509 -checkend 86400 -noout -in "$tls/cert.pem" >/dev/null 2>&1; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$tls/key.pem" -out "$tls/cert.pem" 2>/dev/null
fi

# As many descriptors as the hard limit allows, for the server and for each client process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec python3 bench/idle_gcdump.py --sample "$out/MinimalApi.dll" --gcdump "$tool" --cert "$tls/cert.pem" --key "$tls/key.pem" "$@"
