// Peer server for sigd's benchmark on npm `ws`: the same default protocol as
// sigd (and Pode). A client sends {"message": <any JSON>, "path"?, "clientId"?,
// "direct"?}; the message goes out as one text frame (a JSON string raw, any
// other value as compact JSON) to the sender alone (direct), to one client
// (clientId), to every client on a path (path), or by default to every client.
//
//   node server.js [PORT]     listens on 127.0.0.1 (PORT 0: any), prints "ready <port>"
'use strict';

const crypto = require('node:crypto');
const { WebSocketServer, WebSocket } = require('ws');

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: false,
  maxPayload: 1024 * 1024,  // as sigd is started for the benchmark (`large`)
  clientTracking: true,
});

const byId = new Map();

function send(client, frame) {
  if (client.readyState === WebSocket.OPEN) client.send(frame, { binary: false });
}

function errorFrame(ws, code, message) {
  send(ws, Buffer.from(JSON.stringify({ error: { code, message } })));
}

// Keys match case-insensitively, as in sigd and Pode.
function field(object, name) {
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() === name) return object[key];
  }
  return undefined;
}

wss.on('connection', (ws, request) => {
  const url = new URL(request.url, 'http://localhost');
  ws.path = decodeURIComponent(url.pathname);
  ws.id = crypto.randomBytes(16).toString('hex');
  byId.set(ws.id, ws);
  ws.on('close', () => byId.delete(ws.id));
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    let inbound;
    try {
      inbound = isBinary ? undefined : JSON.parse(data.toString('utf8'));
    } catch {
      inbound = undefined;
    }
    if (inbound === null || typeof inbound !== 'object' || Array.isArray(inbound)) {
      return errorFrame(ws, 'invalid_message', 'expected a JSON object');
    }
    const message = field(inbound, 'message');
    if (message === undefined) return errorFrame(ws, 'invalid_message', 'missing "message"');
    const path = field(inbound, 'path');
    const clientId = field(inbound, 'clientid');
    const direct = field(inbound, 'direct');
    // Serialise once; every recipient gets the same buffer.
    const frame = Buffer.from(typeof message === 'string' ? message : JSON.stringify(message));
    if (direct === true) return send(ws, frame);
    if (typeof clientId === 'string' && clientId !== '') {
      const target = byId.get(clientId);
      if (!target) return errorFrame(ws, 'unknown_client', `no client ${clientId}`);
      return send(target, frame);
    }
    const onPath = typeof path === 'string' && path !== '' ? path : null;
    for (const client of wss.clients) {
      if (onPath === null || client.path === onPath) send(client, frame);
    }
  });
});

wss.on('listening', () => {
  process.stdout.write(`ready ${wss.address().port}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
