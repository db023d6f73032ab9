#!/usr/bin/env node
// Reads a results file written by scripts/bench (JSON lines: one "meta"
// record, then one loadgen report per run) and prints the Markdown tables of
// bench/README.md: per scenario and server, the median over the runs that
// succeeded, and each figure's ratio to Node ws measured in the same file.
//
//   node bench/summarize.js bench/results/<file>.jsonl
'use strict';

const fs = require('node:fs');

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: summarize.js RESULTS.jsonl\n');
  process.exit(2);
}

const lines = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '');
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

const SCENARIOS = ['fan100', 'fan1000', 'chat', 'max', 'grpc-fan1000', 'route-rtt'];
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
           `${meta.quick ? ' — quick run (1 short run each, not for the record)' : `, ${meta.runs} runs each, medians`}.`);
  out.push(`sigd ${meta.sigd_commit || '?'}; Node ${meta.node}; ws ${meta.ws || 'not run'}; uWebSockets.js via npm uwebsockets ${meta.uws || 'not run'}.`);
  out.push('');
}

out.push('| scenario | server | server CPU µs/delivery | vs ws | deliveries/s | vs ws | p50 ms | p99 ms | p99.9 ms | lost | server CPU % |');
out.push('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
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
    out.push(`| ${scenario} | ${server}${failedNote} | ${fmt(cpu, 2)} | ${server === BASELINE ? '1' : ratio(cpu, baseCpu)} | ` +
             `${fmt(rate, 0)} | ${server === BASELINE ? '1' : ratio(rate, baseRate)} | ${fmt(lat('p50'), 2)} | ` +
             `${fmt(lat('p99'), 2)} | ${fmt(lat('p999'), 2)} | ${lost}${closed ? ` (${closed} closed)` : ''} | ${fmt(pct, 0)} |`);
  }
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
  out.push('');
  out.push('| idle | connections | server bytes/connection (VmRSS slope N/2→N) | vs ws | VmRSS at N, MiB |');
  out.push('|---|--:|--:|--:|--:|');
  out.push(...idleRows);
}
if (notes.length) {
  out.push('');
  out.push('Failed runs:');
  for (const n of notes) out.push(`- ${n}`);
}
process.stdout.write(out.join('\n') + '\n');
