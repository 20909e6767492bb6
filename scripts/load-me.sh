#!/usr/bin/env bash
# Load test: authenticated GET /api/auth/me against the real server binary,
# from wrk in a second process. Prints wrk's summary with latency percentiles.
#   scripts/load-me.sh [connections] [seconds]
# Needs wrk (apt-get install wrk), curl and python3.
set -euo pipefail
conns=${1:-32}
secs=${2:-10}
port=${PORT:-18099}
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true; rm -rf "$work"' EXIT
root=$(cd "$(dirname "$0")/.." && pwd)
CGO_ENABLED=0 go build -C "$root" -o "$work/socratic" ./cmd/socratic
(cd "$work" && HOST=127.0.0.1 PORT=$port exec "$work/socratic" serve >"$work/server.log" 2>&1) &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/api/health/ready" >/dev/null && break; sleep 0.05; done
base="http://127.0.0.1:$port"
curl -sf -XPOST "$base/api/auth/register" -H 'Content-Type: application/json' \
  -d '{"email":"load@example.edu","username":"load","password":"load test passphrase"}' >/dev/null
token=$(curl -sf -XPOST "$base/api/auth/login" -H 'Content-Type: application/json' \
  -d '{"username":"load","password":"load test passphrase"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
wrk -t2 -c"$conns" -d3s -H "Authorization: Bearer $token" "$base/api/auth/me" >/dev/null # warm up
wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $token" "$base/api/auth/me"
