#!/usr/bin/env node
// Reads a results file written by scripts/bench (JSON lines: one "meta"
// record, then one loadgen report per run) and prints the Markdown tables of
// bench/README.md: per scenario and server, the median over the runs that
// succeeded, and each figure's ratio to Node ws measured in the same file; the
// `cluster` scenario gets a table of its own (3 nodes against one, the extra
// CPU per delivery the cluster costs). Given several files (invocations on
// the same machine), it pools their runs: the medians are over all of them,
// and the machine line is the first file's.
//
//   node bench/summarize.js bench/results/<file>.jsonl [more.jsonl ...]
'use strict';

const fs = require('node:fs');

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: summarize.js RESULTS.jsonl [MORE.jsonl ...]\n');
  process.exit(2);
}

const lines = files
  .flatMap((file) => fs.readFileSync(file, 'utf8').split('\n'))
  .filter((l) => l.trim() !== '');
const records = [];
for (const line of lines) {
  try {
    records.push(JSON.parse(line));
  } catch {
    // a truncated last line of an interrupted run
  }
}
const meta = records.find((r) => r.meta) || {};
const runs = records.filter((r) => !r.meta);

const SCENARIOS = ['fan100', 'fan1000', 'chat', 'large', 'max', 'grpc-fan1000', 'route-rtt'];
const SERVERS = ['sigd-1t', 'sigd-2t', 'uws', 'node-ws'];
const BASELINE = 'node-ws';

function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function group(scenario, server) {
  const all = runs.filter((r) => r.scenario === scenario && r.label === server);
  return { ok: all.filter((r) => r.ok), failed: all.filter((r) => !r.ok) };
}

function fmt(value, digits) {
  if (value === null || value === undefined) return '–';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(value, base, digits = 2) {
  if (value === null || base === null || base === 0) return '–';
  return `${fmt(value / base, digits)}×`;
}

const out = [];
if (meta.meta) {
  out.push(`Machine: ${meta.nproc} cores (${meta.cpu}), kernel ${meta.kernel}, ${meta.date}` +
           `${meta.quick ? ' — quick run (1 short run each, not for the record)' : `, ${meta.runs} runs each, medians`}` +
           `${files.length > 1 ? ` (${files.length} invocations pooled: a scenario in k of them has k × ${meta.runs} runs)` : ''}.`);
  out.push(`sigd ${meta.sigd_commit || '?'}; Node ${meta.node}; ws ${meta.ws || 'not run'}; uWebSockets.js via npm uwebsockets ${meta.uws || 'not run'}.`);
  out.push('');
}

// A blank line before a table, unless there is one already.
function separate() {
  if (out.length && out[out.length - 1] !== '') out.push('');
}

const mainRows = [];
const notes = [];
for (const scenario of SCENARIOS) {
  const base = group(scenario, BASELINE).ok;
  const baseCpu = median(base.map((r) => r.server_cpu_us_per_delivery));
  const baseRate = median(base.map((r) => r.deliveries_per_sec));
  for (const server of SERVERS) {
    const { ok, failed } = group(scenario, server);
    if (ok.length === 0 && failed.length === 0) continue;
    for (const f of failed) notes.push(`${scenario} on ${server}, run ${f.run ?? '?'}: ${f.error}`);
    const cpu = median(ok.map((r) => r.server_cpu_us_per_delivery));
    const rate = median(ok.map((r) => r.deliveries_per_sec));
    const lat = (key) => median(ok.map((r) => (r.latency_us ? r.latency_us[key] / 1000 : null)));
    const lost = ok.reduce((sum, r) => sum + (r.lost || 0), 0);
    const closed = ok.reduce((sum, r) => sum + (r.closed || 0), 0);
    const pct = median(ok.map((r) => r.server_cpu_pct));
    const failedNote = failed.length ? ` (${failed.length} failed)` : '';
    mainRows.push(`| ${scenario} | ${server}${failedNote} | ${fmt(cpu, 2)} | ${server === BASELINE ? '1' : ratio(cpu, baseCpu)} | ` +
             `${fmt(rate, 0)} | ${server === BASELINE ? '1' : ratio(rate, baseRate)} | ${fmt(lat('p50'), 2)} | ` +
             `${fmt(lat('p99'), 2)} | ${fmt(lat('p999'), 2)} | ${lost}${closed ? ` (${closed} closed)` : ''} | ${fmt(pct, 0)} |`);
  }
}

if (mainRows.length) {
  out.push('| scenario | server | server CPU µs/delivery | vs ws | deliveries/s | vs ws | p50 ms | p99 ms | p99.9 ms | lost | server CPU % |');
  out.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  out.push(...mainRows);
}

const idleRows = [];
const idleBase = median(group('idle', BASELINE).ok.map((r) => r.bytes_per_connection));
for (const server of SERVERS) {
  const { ok, failed } = group('idle', server);
  if (ok.length === 0 && failed.length === 0) continue;
  for (const f of failed) notes.push(`idle on ${server}, run ${f.run ?? '?'}: ${f.error}`);
  const bytes = median(ok.map((r) => r.bytes_per_connection));
  const rss = median(ok.map((r) => r.server_rss_full_bytes));
  const clients = ok.length ? ok[0].clients : '?';
  idleRows.push(`| ${server}${failed.length ? ` (${failed.length} failed)` : ''} | ${clients} | ${fmt(bytes, 0)} | ` +
                `${server === BASELINE ? '1' : ratio(bytes, idleBase)} | ${fmt(rss === null ? null : rss / 1048576, 1)} |`);
}
if (idleRows.length) {
  separate();
  out.push('| idle | connections | server bytes/connection (VmRSS slope N/2→N) | vs ws | VmRSS at N, MiB |');
  out.push('|---|--:|--:|--:|--:|');
  out.push(...idleRows);
}
// cluster: the same gRPC fan-out against one node and against three, in the
// same file; the extra server CPU per delivery is the difference of medians.
const clusterRows = [];
for (const scenario of ['cluster', 'cluster3k']) {
  const single = group(scenario, 'sigd-1t');
  const nodes3 = group(scenario, 'sigd-3n');
  if (single.ok.length || nodes3.ok.length || single.failed.length || nodes3.failed.length) {
    const singleCpu = median(single.ok.map((r) => r.server_cpu_us_per_delivery));
    for (const [server, what, g] of [['sigd-1t', 'one node', single], ['sigd-3n', '3 nodes + NATS', nodes3]]) {
      for (const f of g.failed) notes.push(`${scenario} on ${server}, run ${f.run ?? '?'}: ${f.error}`);
      const ok = g.ok;
      const cpu = median(ok.map((r) => r.server_cpu_us_per_delivery));
      const nats = median(ok.map((r) => r.extra_cpu_us_per_delivery));
      const total = nats === null ? cpu : median(ok.map((r) => r.server_cpu_us_per_delivery + r.extra_cpu_us_per_delivery));
      // Each node's share, medians per position (node 1 receives the SendSignal).
      const perNode = [];
      for (let i = 0; ok.length && ok[0].server_processes && i < ok[0].server_processes.length; ++i) {
        perNode.push(fmt(median(ok.map((r) => r.server_processes?.[i]?.cpu_us_per_delivery)), 2));
      }
      const lat = (key) => median(ok.map((r) => (r.latency_us ? r.latency_us[key] / 1000 : null)));
      const lost = ok.reduce((sum, r) => sum + (r.lost || 0), 0);
      const reordered = ok.reduce((sum, r) => sum + (r.reordered || 0), 0);
      const extra = server === 'sigd-1t' || cpu === null || singleCpu === null ? null : cpu - singleCpu;
      const extraTotal = server === 'sigd-1t' || total === null || singleCpu === null ? null : total - singleCpu;
      const load = ok.length ? `${ok[0].clients.toLocaleString('en-US')} clients, ${ok[0].rate}/s` : '';
      clusterRows.push(`| ${scenario} | ${load} | ${server} (${what})${g.failed.length ? ` (${g.failed.length} failed)` : ''} | ` +
                       `${fmt(cpu, 2)} | ${perNode.length ? perNode.join(' / ') : '–'} | ${fmt(nats, 2)} | ` +
                       `${server === 'sigd-1t' ? '–' : `${extra === null ? '–' : `${extra >= 0 ? '+' : ''}${fmt(extra, 2)}`} (${ratio(cpu, singleCpu)})`} | ` +
                       `${server === 'sigd-1t' ? '–' : `${extraTotal === null ? '–' : `${extraTotal >= 0 ? '+' : ''}${fmt(extraTotal, 2)}`} (${ratio(total, singleCpu)})`} | ` +
                       `${fmt(median(ok.map((r) => r.deliveries_per_sec)), 0)} | ${fmt(lat('p50'), 2)} | ${fmt(lat('p99'), 2)} | ${lost} | ${reordered} |`);
    }
  }
}
if (clusterRows.length) {
  separate();
  out.push('| scenario | SendSignal to | server | sigd CPU µs/delivery (all nodes) | per node | NATS µs/delivery | extra sigd CPU vs one node | extra incl. NATS | deliveries/s | p50 ms | p99 ms | lost | reordered |');
  out.push('|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  out.push(...clusterRows);
}
// route-floor: route-rtt's path from bare sockets (bench/relay_floor.cc),
// the round trip the machine allows with no work done along it.
const floorRows = [];
for (const shape of ['pingpong', 'posted', 'direct', 'single']) {
  const ok = runs.filter((r) => r.scenario === 'route-floor' && r.shape === shape && r.ok);
  if (ok.length === 0) continue;
  const at = (q) => fmt(median(ok.map((r) => r.rtt_us[q] / 1000)), 2);
  floorRows.push(`| route-floor | ${shape} | ${ok.length} | ${at('p50')} | ${at('p90')} | ${at('p99')} | ${at('p999')} |`);
}
if (floorRows.length) {
  separate();
  out.push('| scenario | shape (bare sockets, no work) | runs | p50 ms | p90 ms | p99 ms | p99.9 ms |');
  out.push('|---|---|--:|--:|--:|--:|--:|');
  out.push(...floorRows);
}
if (notes.length) {
  out.push('');
  out.push('Failed runs:');
  for (const n of notes) out.push(`- ${n}`);
}
process.stdout.write(out.join('\n') + '\n');
