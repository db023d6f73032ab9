#!/usr/bin/env bash
# bench/wss.sh [--runs N] [--servers "sigd uws"]: sigd (one I/O thread)
# against uWebSockets.js over wss, with a P-256 certificate made for the run:
#   idle  bytes per idle wss connection (VmRSS slope from 2,000 to 4,000);
#   fan   server CPU µs per delivered frame, 100 clients, 4 publishers,
#         500 messages/s of 64 bytes for 5 s (250,000 frames).
# Each server runs in a fresh process per measurement; runs alternate the
# servers. One JSON line per measurement on stdout. Needs the peers from
# `scripts/bench` (bench/peers/*/node_modules) and a built sigd.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bench="$root/bench"
. "$bench/lib.sh"
runs=3
servers="sigd uws"
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --servers) servers="$2"; shift 2 ;;
    *) echo "usage: bench/wss.sh [--runs N] [--servers \"sigd uws\"]" >&2; exit 2 ;;
  esac
done
sigd="$root/build/server/sigd"
bench_prepare wss "$sigd"
for dir in node-ws uws; do
  [ -d "$bench/peers/$dir/node_modules" ] || { echo "wss: run scripts/bench --quick first (npm peers)" >&2; exit 1; }
done
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=127.0.0.1 \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" 2>/dev/null

# start SERVER: sets pid and port.
start() {
  case "$1" in
    sigd)
      start_bench_sigd "$sigd" "$tmp" --io-threads 1 --tls-cert "$tmp/cert.pem" --tls-key "$tmp/key.pem"
      port="$ws_port" ;;
    uws)
      TLS_CERT="$tmp/cert.pem" TLS_KEY="$tmp/key.pem" node "$bench/peers/uws/server.js" 0 >"$tmp/uws.out" 2>&1 &
      pid=$!
      wait_peer_port "$tmp/uws.out" "$pid" || { echo "uws did not start" >&2; return 1; }
      port="$ws_port" ;;
  esac
}

stop() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

for run in $(seq "$runs"); do
  for scenario in idle fan; do
    for server in $servers; do
      start "$server"
      if [ "$scenario" = idle ]; then
        report=$(node "$bench/wss_client.js" idle "$port" "$pid" 4000)
      else
        report=$(node "$bench/wss_client.js" fan "$port" "$pid" 100 4 500 5)
      fi
      stop
      echo "{\"server\":\"$server\",\"run\":$run,${report#\{}"
    done
  done
done
