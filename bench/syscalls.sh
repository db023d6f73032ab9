#!/usr/bin/env bash
# Where a server's CPU goes, per delivered frame: runs fan1000 (or another
# rate scenario) against one server and attaches `perf stat` (task-clock,
# context switches, every system call entry) to it for the measured window,
# then prints each count per delivery. With --strace, also a `strace -c -f`
# breakdown by system call (strace slows the server; its counts stay
# meaningful at the low rate of fan1000, its times do not).
#
#   bench/syscalls.sh sigd-1t|sigd-2t|node-ws|uws [--strace] [loadgen flags...]
#
# With MALLOC=1 it also counts libc malloc calls per delivery (a uprobe:
# `perf probe -x <libc> malloc` once, as root).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
server="${1:?server: sigd-1t, sigd-2t, node-ws or uws}"; shift
use_strace=0
if [ "${1:-}" = --strace ]; then use_strace=1; shift; fi
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(--clients 1000 --publishers 1 --rate 50)
warmup=1.5
duration=5
command -v perf >/dev/null || { echo "needs perf (Debian: linux-perf)" >&2; exit 1; }

# shellcheck source=bench/lib.sh
. "$root/bench/lib.sh"
bench_prepare bench/syscalls.sh "$root/build/server/sigd" "$root/build/bench/sigd_loadgen"
case "$server" in
  sigd-*)
    threads="${server#sigd-}"; threads="${threads%t}"
    start_bench_sigd "$root/build/server/sigd" "$tmp" --io-threads "$threads" || exit 1
    port=$ws_port
    ;;
  node-ws|uws)
    node "$root/bench/peers/$server/server.js" 0 >"$tmp/log" &
    pid=$!
    for _ in $(seq 100); do grep -q '^ready' "$tmp/log" && break; sleep 0.05; done
    port=$(awk '/^ready/{print $2; exit}' "$tmp/log")
    ;;
  *) echo "unknown server $server" >&2; exit 2 ;;
esac

"$root/build/bench/sigd_loadgen" --port "$port" --server-pid "$pid" --wait-ready \
  --warmup "$warmup" --duration "$duration" "${args[@]}" >"$tmp/report" &
loadgen=$!
# The ramp and the readiness probe take well under the warm-up; attach for
# the measured window.
sleep "$warmup"
events=task-clock,context-switches,raw_syscalls:sys_enter
[ "${MALLOC:-0}" = 1 ] && events="$events,probe_libc:malloc"
perf stat -x, -e "$events" -p "$pid" \
  -o "$tmp/perf" -- sleep "$duration" &
perf_pid=$!
if [ "$use_strace" = 1 ]; then
  timeout "$duration" strace -c -f -p "$pid" -o "$tmp/strace" 2>/dev/null || true
fi
wait "$perf_pid"
wait "$loadgen"
node -e '
  const fs = require("fs");
  const [reportFile, perfFile, seconds, server] = process.argv.slice(1);
  const r = JSON.parse(fs.readFileSync(reportFile, "utf8"));
  const deliveries = r.deliveries_per_sec * Number(seconds);
  const out = { server, deliveries_per_sec: r.deliveries_per_sec,
                cpu_us_per_delivery: r.server_cpu_us_per_delivery, lost: r.lost };
  for (const line of fs.readFileSync(perfFile, "utf8").split("\n")) {
    const f = line.split(",");
    if (f.length < 3 || !f[2]) continue;
    const value = Number(f[0]);
    if (f[2] === "task-clock") out.task_clock_us_per_delivery = +(value * 1000 / deliveries).toFixed(3);
    if (f[2] === "context-switches") out.context_switches_per_delivery = +(value / deliveries).toFixed(4);
    if (f[2] === "probe_libc:malloc") out.mallocs_per_delivery = +(value / deliveries).toFixed(4);
    if (f[2] === "raw_syscalls:sys_enter") out.syscalls_per_delivery = +(value / deliveries).toFixed(4);
  }
  console.log(JSON.stringify(out));' "$tmp/report" "$tmp/perf" "$duration" "$server"
if [ "$use_strace" = 1 ] && [ -s "$tmp/strace" ]; then
  echo "strace -c -f (counts over ${duration}s):"
  head -20 "$tmp/strace"
fi
