#!/usr/bin/env bash
# route-rtt by offered load: the round trip of route-rtt (a client message to a
# HANDLE route, the backend answering with SendSignal) against sigd with one
# I/O thread, at several rates, each followed by the bare-socket floor
# (bench/relay_floor.cc) at the same rate. Shows how the round trip and its
# CPU change when the machine is mostly idle (bench/README.md, "route-rtt by
# load"). Needs the build of scripts/bench (run `scripts/bench --quick` once).
#
#   bench/route_load.sh [--rates "10 25 50 100 200"] [--rounds 2]
#   bench/route_load.sh --table bench/results/<file>-route-load.jsonl  (table only)
#
# Each point takes at least 500 round trips (50 s at 10/s). Loopback only;
# sigd is started fresh per point on ports it picks and stopped afterwards.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
sigd="$root/build/server/sigd"
loadgen="$root/build/bench/sigd_loadgen"
relay_floor="$root/build/bench/sigd_relay_floor"
rates="10 25 50 100 200"
rounds=2
table_only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --rates) rates="$2"; shift ;;
    --rounds) rounds="$2"; shift ;;
    --table) table_only="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench/route_load.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

# One row per rate, each figure as "round 1 / round 2 / ...": with a handful
# of rounds on a VM whose scheduling changes from minute to minute, the
# spread says more than a median.
table() {
  node -e '
  const fs = require("fs");
  const rows = fs.readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
  const ms = (us) => (us == null ? "–" : (us / 1000).toFixed(2));
  const each = (rs, f, fmt) => rs.sort((a, b) => a.run - b.run).map((r) => fmt(f(r))).join(" / ");
  const rates = [...new Set(rows.map((r) => r.rate))].sort((a, b) => a - b);
  console.log("| rate/s | sigd CPU µs/round trip | p50 ms | p99 ms | first leg p50 ms | first leg p99 ms | floor `posted` p50 ms | p99 ms | floor `single` p50 ms | p99 ms |");
  console.log("|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
  for (const rate of rates) {
    const sigd = rows.filter((r) => r.mode === "route-rtt" && r.rate === rate && r.ok);
    const floor = (shape) => rows.filter((r) => r.scenario === "route-floor" && r.shape === shape &&
                                                r.rate === rate && r.ok);
    const cells = [
      each(sigd, (r) => r.server_cpu_us_per_delivery, Math.round),
      each(sigd, (r) => r.latency_us.p50, ms), each(sigd, (r) => r.latency_us.p99, ms),
      each(sigd, (r) => r.route_event_latency_us.p50, ms),
      each(sigd, (r) => r.route_event_latency_us.p99, ms),
      each(floor("posted"), (r) => r.rtt_us.p50, ms), each(floor("posted"), (r) => r.rtt_us.p99, ms),
      each(floor("single"), (r) => r.rtt_us.p50, ms), each(floor("single"), (r) => r.rtt_us.p99, ms),
    ];
    console.log(`| ${rate} | ${cells.join(" | ")} |`);
  }' "$1"
}
if [ -n "$table_only" ]; then
  table "$table_only"
  exit 0
fi

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_prepare bench/route_load.sh "$sigd" "$loadgen" "$relay_floor"
mkdir -p "$root/bench/results"
results="$root/bench/results/$(date -u +%Y-%m-%d-%H%M%S)-route-load.jsonl"

for round in $(seq "$rounds"); do
  for rate in $rates; do
    duration=$(( 500 / rate > 5 ? 500 / rate : 5 ))
    if ! start_bench_sigd "$sigd" "$tmp" --io-threads 1; then
      echo "bench/route_load.sh: no route-rtt at $rate/s" >&2
    elif timeout $((duration + 60)) "$loadgen" --mode route-rtt --clients 10 --rate "$rate" \
         --port "$ws_port" --grpc "127.0.0.1:$grpc_port" --server-pid "$pid" --wait-ready \
         --warmup 1 --duration "$duration" >"$tmp/report"; then
      node -e 'const r = JSON.parse(process.argv[1]); r.run = +process.argv[2]; r.server = "sigd-1t";
               console.log(JSON.stringify(r))' "$(cat "$tmp/report")" "$round" >>"$results"
    else
      echo "bench/route_load.sh: route-rtt at $rate/s failed" >&2
    fi
    kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""
    timeout 300 "$relay_floor" --rate "$rate" --count 500 --run "$round" >>"$results" ||
      echo "bench/route_load.sh: the floor at $rate/s failed" >&2
    echo "[route_load] round $round, $rate/s done" >&2
  done
done

table "$results"
echo
echo "Data: ${results#"$root"/}"
