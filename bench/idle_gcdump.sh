#!/usr/bin/env bash
# What one idle connection holds, type by type (issue 22): a gcdump before and after N idle connections.
#   bench/idle_gcdump.sh                         HttpSysLite, 10,000 idle keep-alive connections
#   bench/idle_gcdump.sh --server Kestrel        the same on Kestrel
#   bench/idle_gcdump.sh --websocket --count 5000
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

# As many descriptors as the hard limit allows, for the server and for each client process.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

exec python3 bench/idle_gcdump.py --sample "$out/MinimalApi.dll" --gcdump "$tool" "$@"
