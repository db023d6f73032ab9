#!/usr/bin/env bash
# Where route-rtt's round trip goes, segment by segment, from the kernel's
# scheduler events: runs route-rtt (10 clients, the generator as the backend)
# against sigd with one I/O thread, records every thread wake-up on the
# machine for a few seconds (`perf record -e sched:sched_waking -a`), and
# follows each round trip through the threads that hand it on (sigd and the
# generator name their threads for this):
#
#   A  lg-worker-N wakes sigd-io-0 (the client's frame) .. sigd-io-0 wakes
#      lg-backend (the event written to the backend's stream): sigd
#   B  .. lg-backend wakes sigd-grpc (SendSignal sent): the backend
#   C  .. sigd-grpc wakes sigd-io-0 (the answer handed to the client's I/O
#      thread): sigd
#   D  .. sigd-io-0 wakes lg-worker-N (the frame written to the client): sigd
#
# Each segment runs from one wake-up to the next, so it holds the woken
# thread's wait for a CPU as well as its work. A round trip is followed only
# if each hand-off woke a sleeping thread (one still awake leaves no wake-up
# to see); the report says how many were. What is left of the round trip is
# the client's own send before A and its wake-up and read after D.
# Needs perf and root (or perf_event_paranoid <= 1).
#
#   bench/route_timeline.sh [--rate 100] [--seconds 4]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
rate=100
seconds=4
while [ $# -gt 0 ]; do
  case "$1" in
    --rate) rate="$2"; shift ;;
    --seconds) seconds="$2"; shift ;;
    *) echo "usage: bench/route_timeline.sh [--rate N] [--seconds S]" >&2; exit 2 ;;
  esac
  shift
done
command -v perf >/dev/null || { echo "needs perf (Debian: linux-perf)" >&2; exit 1; }
# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_prepare bench/route_timeline.sh "$root/build/server/sigd" "$root/build/bench/sigd_loadgen"
start_bench_sigd "$root/build/server/sigd" "$tmp" --io-threads 1 || exit 1

warmup=2
"$root/build/bench/sigd_loadgen" --mode route-rtt --clients 10 --rate "$rate" \
  --port "$ws_port" --grpc "127.0.0.1:$grpc_port" --server-pid "$pid" --wait-ready \
  --warmup "$warmup" --duration $((seconds + 2)) >"$tmp/report" &
loadgen=$!
sleep "$warmup"  # the ramp and the first round trips; record the steady state
perf record -q -e sched:sched_waking -a -o "$tmp/perf.data" \
  -- sleep "$seconds" >/dev/null 2>&1
wait "$loadgen"
perf script -i "$tmp/perf.data" -F comm,tid,time,event,trace 2>/dev/null >"$tmp/events"

# shellcheck disable=SC2016  # JavaScript, not shell
node -e '
  const fs = require("fs");
  const [eventsFile, reportFile] = process.argv.slice(1);
  const report = JSON.parse(fs.readFileSync(reportFile, "utf8"));
  const line = /^\s*(\S+)\s+(\d+)\s+([\d.]+):\s+sched:(sched_waking):\s+(.*)$/;
  const rounds = [];  // the five instants of each round trip followed
  let chain = null;
  let started = 0;
  for (const text of fs.readFileSync(eventsFile, "utf8").split("\n")) {
    const m = line.exec(text);
    if (!m) continue;
    const [, comm, , time, , rest] = m;
    const t = Number(time) * 1e6;  // µs
    const woke = /comm=(\S+) pid=(\d+)/.exec(rest);
    if (!woke) continue;
    const target = woke[1];
    if (comm.startsWith("lg-worker-") && target === "sigd-io-0") {
      chain = { t: [t], worker: comm };
      ++started;
      continue;
    }
    if (!chain) continue;
    const step = chain.t.length;
    if ((step === 1 && comm === "sigd-io-0" && target === "lg-backend") ||
        (step === 2 && comm === "lg-backend" && target === "sigd-grpc") ||
        (step === 3 && comm === "sigd-grpc" && target === "sigd-io-0")) {
      chain.t.push(t);
    } else if (step === 4 && comm === "sigd-io-0" && target === chain.worker) {
      rounds.push([...chain.t, t]);
      chain = null;
    }
  }
  const pct = (values, p) => {
    if (values.length === 0) return NaN;
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
  };
  const rows = [
    ["A: client frame → event written to the backend (sigd I/O thread)", (r) => r[1] - r[0]],
    ["B: event → SendSignal sent (the generator\u2019s backend)", (r) => r[2] - r[1]],
    ["C: SendSignal → handed to the client\u2019s I/O thread (sigd gRPC thread)", (r) => r[3] - r[2]],
    ["D: → frame written to the client (sigd I/O thread)", (r) => r[4] - r[3]],
    ["sigd: A + C + D", (r) => r[1] - r[0] + r[4] - r[2]],
    ["all: A to D", (r) => r[4] - r[0]],
  ];
  console.log(`route-rtt at ${report.rate}/s: ${rounds.length} of ${started} round trips followed ` +
              `(the rest had a thread already awake at some hand-off)`);
  console.log(`the generator measured p50 ${(report.latency_us.p50 / 1000).toFixed(2)} ms, ` +
              `p99 ${(report.latency_us.p99 / 1000).toFixed(2)} ms over its whole window\n`);
  console.log("| segment | p50 µs | p90 µs | p99 µs |");
  console.log("|---|--:|--:|--:|");
  for (const [name, f] of rows) {
    const values = rounds.map(f);
    console.log(`| ${name} | ${pct(values, 50).toFixed(0)} | ${pct(values, 90).toFixed(0)} | ${pct(values, 99).toFixed(0)} |`);
  }
' "$tmp/events" "$tmp/report"
