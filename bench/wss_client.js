// The wss side of bench/wss.sh: Node `ws` clients (from bench/peers/node-ws)
// against one server process over TLS, on loopback, one JSON line out.
//
//   node wss_client.js idle PORT PID N
//     opens N idle wss connections, N/2 then N, and reports the server's
//     VmRSS slope between the two: bytes per idle connection;
//   node wss_client.js fan PORT PID N PUBLISHERS RATE SECONDS
//     N clients; PUBLISHERS of them send RATE messages/s in all for SECONDS,
//     each broadcast to every client; reports the server's CPU time
//     (/proc/PID/stat) per delivered frame, from the first send until every
//     frame has arrived (or 20 s more have passed: then `got` < `expected`).
//
// Certificates are not checked: the server's is made for the run.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const WebSocket = require(path.join(__dirname, 'peers/node-ws/node_modules/ws'));

const [mode, ...rest] = process.argv.slice(2);
const [port, pid, n, publishers = 4, rate = 500, seconds = 5] = rest.map(Number);

function rssBytes() {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}

// utime + stime of the whole process, in µs (clock ticks of 10 ms).
function cpuMicros() {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10000;
}

function open() {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/bench`, {
      rejectUnauthorized: false,
      perMessageDeflate: false,
    });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

// Opens `count` more clients, 50 handshakes at a time.
async function openMany(clients, count) {
  for (let i = 0; i < count; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(count, i + 50); ++j) batch.push(open());
    clients.push(...(await Promise.all(batch)));
  }
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function idle() {
  const clients = [];
  await openMany(clients, n / 2);
  await pause(1500);
  const half = rssBytes();
  await openMany(clients, n / 2);
  await pause(1500);
  const full = rssBytes();
  return { mode, connections: n, bytes_per_connection: Math.round((full - half) / (n / 2)) };
}

async function fan() {
  const clients = [];
  await openMany(clients, n);
  const total = rate * seconds;
  const expected = total * n;
  let got = 0;
  let allArrived;
  const arrived = new Promise((resolve) => (allArrived = resolve));
  for (const client of clients) {
    client.on('message', () => {
      if (++got === expected) allArrived();
    });
  }
  await pause(500);
  const cpu0 = cpuMicros();
  const t0 = Date.now();
  let sent = 0;
  const pad = 'x'.repeat(40);
  const pacer = setInterval(() => {
    const due = Math.min(total, Math.floor(((Date.now() - t0) / 1000) * rate));
    for (; sent < due; ++sent) clients[sent % publishers].send(JSON.stringify({ message: pad + sent }));
    if (sent >= total) clearInterval(pacer);
  }, 5);
  await Promise.race([arrived, pause((seconds + 20) * 1000)]);
  const cpu = cpuMicros() - cpu0;
  return {
    mode, clients: n, publishers, rate, seconds, got, expected,
    server_cpu_us_per_frame: Number((cpu / Math.max(got, 1)).toFixed(3)),
  };
}

(mode === 'idle' ? idle() : fan())
  .then((report) => {
    console.log(JSON.stringify(report));
    process.exit(0);
  })
  .catch((error) => {
    console.error(`wss_client: ${error.message}`);
    process.exit(1);
  });
