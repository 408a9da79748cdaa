#!/usr/bin/env bash
# testssl.sh against the sample's TLS port on loopback: protocols, ciphers, and the known
# vulnerabilities. Prints testssl's findings and a summary of what is not OK. Bounded in time; it
# ends only the sample it started, by PID.
# Usage: bench/testssl.sh [--server kestrel] [--platform-defaults]
# The server runs with deploy/openssl-aead.cnf as its OpenSSL policy (no TLS 1.2 CBC suites), as
# README's HTTPS section recommends; --platform-defaults runs it with the system's OpenSSL policy.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v testssl >/dev/null 2>&1 || need+=(testssl.sh)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing ${need[*]} from Debian..."
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

out="bench/.out"
mkdir -p "$out/tls"
dotnet publish samples/MinimalApi -c Release -o "$out/sample" --nologo -v quiet >/dev/null
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 -subj /CN=localhost \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$out/tls/key.pem" -out "$out/tls/cert.pem" 2>/dev/null

port=5443
server_args=(--urls "https://127.0.0.1:$port" --Logging:LogLevel:Default=Warning)
kestrel=0
policy="$PWD/deploy/openssl-aead.cnf"
while [ $# -gt 0 ]; do
  case "$1" in
    --server) [ "${2:-}" = "kestrel" ] && kestrel=1; shift 2 ;;
    --platform-defaults) policy=""; shift ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
echo "OpenSSL policy: ${policy:-system defaults}"
if [ "$kestrel" = 1 ]; then
  server_args+=(--server kestrel --Kestrel:Certificates:Default:Path="$out/tls/cert.pem" --Kestrel:Certificates:Default:KeyPath="$out/tls/key.pem")
else
  server_args+=(--HttpSysLite:SslCertificates:0:IpPort="0.0.0.0:$port" --HttpSysLite:SslCertificates:0:Path="$out/tls/cert.pem"
    --HttpSysLite:SslCertificates:0:KeyPath="$out/tls/key.pem")
fi
if [ -n "$policy" ]; then export OPENSSL_CONF="$policy"; fi
dotnet "$out/sample/MinimalApi.dll" "${server_args[@]}" >"$out/testssl-server.log" 2>&1 &
unset OPENSSL_CONF # testssl's own openssl keeps its defaults
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  if curl -ks "https://127.0.0.1:$port/plaintext" >/dev/null 2>&1; then break; fi
  sleep 0.5
done

rm -f "$out/testssl.json" # testssl appends to an existing file
# -p protocols, -s cipher categories, -U vulnerabilities, -S server defaults; no DNS, loopback only.
timeout 900 testssl --quiet --color 0 --warnings off --nodns none -p -s -U -S --jsonfile-pretty "$out/testssl.json" \
  "127.0.0.1:$port" | tee "$out/testssl.txt" || true

echo
echo "== Summary (findings whose severity is above OK/INFO):"
python3 - "$out/testssl.json" <<'PY'
import json, sys
data = json.load(open(sys.argv[1]))
findings = [f for scan in data.get("scanResult", []) for key, value in scan.items() if isinstance(value, list) for f in value]
bad = [f for f in findings if f.get("severity") not in ("OK", "INFO", "DEBUG", None)]
protocols = {f["id"]: f["finding"] for f in findings if f.get("id") in ("SSLv2", "SSLv3", "TLS1", "TLS1_1", "TLS1_2", "TLS1_3")}
print("protocols:", ", ".join(f"{k}: {v}" for k, v in protocols.items()))
for f in bad:
    print(f"{f.get('severity')}: {f.get('id')}: {f.get('finding')}")
print(f"{len(bad)} finding(s) above OK/INFO of {len(findings)}")
PY
