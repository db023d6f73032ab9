// Peer server for sigd's benchmark on uWebSockets.js (npm `uwebsockets`), the
// fastest widely known WebSocket server for Node. Same default protocol as
// sigd (and Pode): a client sends {"message": <any JSON>, "path"?,
// "clientId"?, "direct"?}; the message goes out as one text frame (a JSON
// string raw, any other value as compact JSON) to the sender alone (direct),
// to one client (clientId), to every client on a path (path), or by default
// to every client. Broadcasts use uWS's own pub/sub, as its users would.
//
//   node server.js [PORT]     listens on 127.0.0.1 (PORT 0: any), prints "ready <port>"
'use strict';

const crypto = require('node:crypto');
const uWS = require('uwebsockets');

const port = Number(process.argv[2] || 0);
const byId = new Map();
const decoder = new TextDecoder('utf-8', { fatal: true });

function errorFrame(ws, code, message) {
  ws.send(JSON.stringify({ error: { code, message } }), false);
}

// Keys match case-insensitively, as in sigd and Pode.
function field(object, name) {
  for (const key of Object.keys(object)) {
    if (key.toLowerCase() === name) return object[key];
  }
  return undefined;
}

function decodePath(url) {
  try {
    return decodeURIComponent(url);
  } catch {
    return url;
  }
}

// TLS_CERT and TLS_KEY (PEM files) make it serve wss instead (bench/wss.sh).
const app = process.env.TLS_CERT
  ? uWS.SSLApp({ cert_file_name: process.env.TLS_CERT, key_file_name: process.env.TLS_KEY })
  : uWS.App();
app.ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 1024 * 1024,  // as sigd is started for the benchmark (`large`)
  // Queue rather than drop: the benchmark reports losses, and sigd's own
  // per-client queue is raised alike for it.
  maxBackpressure: 64 * 1024 * 1024,
  closeOnBackpressureLimit: false,
  idleTimeout: 60,
  upgrade: (res, req, context) => {
    res.upgrade(
      { path: decodePath(req.getUrl()), id: crypto.randomBytes(16).toString('hex') },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open: (ws) => {
    const data = ws.getUserData();
    byId.set(data.id, ws);
    ws.subscribe('all');
    ws.subscribe('path:' + data.path);
  },
  close: (ws) => {
    byId.delete(ws.getUserData().id);
  },
  message: (ws, message, isBinary) => {
    let inbound;
    try {
      inbound = isBinary ? undefined : JSON.parse(decoder.decode(message));
    } catch {
      inbound = undefined;
    }
    if (inbound === null || typeof inbound !== 'object' || Array.isArray(inbound)) {
      return errorFrame(ws, 'invalid_message', 'expected a JSON object');
    }
    const value = field(inbound, 'message');
    if (value === undefined) return errorFrame(ws, 'invalid_message', 'missing "message"');
    const path = field(inbound, 'path');
    const clientId = field(inbound, 'clientid');
    const direct = field(inbound, 'direct');
    const frame = typeof value === 'string' ? value : JSON.stringify(value);
    if (direct === true) return ws.send(frame, false);
    if (typeof clientId === 'string' && clientId !== '') {
      const target = byId.get(clientId);
      if (!target) return errorFrame(ws, 'unknown_client', `no client ${clientId}`);
      return target.send(frame, false);
    }
    if (typeof path === 'string' && path !== '') return app.publish('path:' + path, frame, false);
    app.publish('all', frame, false);
  },
});

app.listen('127.0.0.1', port, (token) => {
  if (!token) {
    process.stderr.write(`cannot listen on 127.0.0.1:${port}\n`);
    process.exit(1);
  }
  process.stdout.write(`ready ${uWS.us_socket_local_port(token)}\n`);
});

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => process.exit(0));
}
