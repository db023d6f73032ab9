#!/usr/bin/env node
// Pode's signal-route example as a sigd backend, in Node.
//
// A client on /messages that sends {"message": "[date]"} gets the current date
// and time; any other message is sent back as it is. Either way the answer
// goes to every client on the sender's path, like Pode's
//
//   Add-PodeSignalRoute -Path '/messages' -ScriptBlock { ... Send-PodeSignal -Value $msg }
//
// Usage: node date_route.js [--server HOST:PORT] [--route /messages] [--group NAME]
//
// It prints "ready" once sigd has registered the route, reconnects with
// backoff when the stream breaks (sigd restarting), and exits 0 on SIGINT or
// SIGTERM.
'use strict';

const path = require('node:path');
const { parseArgs } = require('node:util');

let grpc;
let protoLoader;
try {
  grpc = require('@grpc/grpc-js');
  protoLoader = require('@grpc/proto-loader');
} catch (error) {
  console.error(`date_route: ${error.message}`);
  console.error(`date_route: run "npm ci" in ${__dirname} (scripts/deps does it)`);
  process.exit(1);
}

const DEFAULT_PROTO = path.resolve(__dirname, '../../../proto/signal.proto');

// gRPC's own reconnect backoff grows to 2 minutes by default; cap it so a
// restarted sigd is found again within seconds.
const CHANNEL_OPTIONS = {
  'grpc.initial_reconnect_backoff_ms': 200,
  'grpc.max_reconnect_backoff_ms': 5000,
};

const log = (text) => console.error(`date_route: ${text}`);

function parseFlags() {
  const { values } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.SIGD_SERVER || '127.0.0.1:50051' },
      route: { type: 'string', default: '/messages' },
      group: { type: 'string', default: '' },
      token: { type: 'string', default: process.env.SIGD_TOKEN || '' },
      proto: { type: 'string', default: DEFAULT_PROTO },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: date_route.js [--server HOST:PORT] [--route /messages] [--group NAME]\n' +
                '  --server  sigd\'s gRPC address (default: $SIGD_SERVER or 127.0.0.1:50051)\n' +
                '  --token   bearer token, for a sigd with --control-token-file (default: $SIGD_TOKEN)\n' +
                '  --route   route to handle (default: /messages)\n' +
                '  --group   share the route\'s messages with other backends of this group');
    process.exit(0);
  }
  return values;
}

function loadSignalService(protoPath) {
  // The well-known types signal.proto imports come with protobufjs.
  const definition = protoLoader.loadSync(protoPath, {
    enums: String, // event.kind === 'MESSAGE'
    longs: String,
    defaults: true,
    oneofs: true,
  });
  return grpc.loadPackageDefinition(definition).sigd.v1.SignalService;
}

const pad = (n) => String(n).padStart(2, '0');

// The current local date and time, human readable (Pode: [datetime]::Now).
function nowText(d = new Date()) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
         `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The route's logic: the SendSignal request that answers one MESSAGE event.
function answer(event) {
  const message = JSON.parse(event.data.messageJson);
  if (typeof message === 'string') {
    const isDate = message.toLowerCase() === '[date]'; // Pode compares with -ieq
    return { text: isDate ? nowText() : message, path: event.path };
  }
  return { json: event.data.messageJson, path: event.path };
}

// Exponential backoff with jitter, reset once a stream is live again.
class Backoff {
  constructor(firstMs = 200, longestMs = 5000) {
    this.firstMs = firstMs;
    this.longestMs = longestMs;
    this.reset();
  }

  reset() {
    this.delayMs = this.firstMs;
  }

  next() {
    const delay = this.delayMs;
    this.delayMs = Math.min(this.delayMs * 2, this.longestMs);
    return delay * (0.8 + 0.4 * Math.random());
  }
}

function main() {
  const flags = parseFlags();
  const SignalService = loadSignalService(flags.proto);
  const client = new SignalService(flags.server, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
  // A sigd started with --control-token-file wants the token on every call.
  const metadata = new grpc.Metadata();
  if (flags.token) metadata.add('authorization', `Bearer ${flags.token}`);
  const backoff = new Backoff();
  let call = null;
  let retryTimer = null;
  let stopping = false;

  function reply(event) {
    let request;
    try {
      request = answer(event);
    } catch (error) { // sigd validates messages; never let one stop the route
      log(`ignored a message that is not JSON: ${event.data.messageJson.slice(0, 80)}`);
      return;
    }
    client.SendSignal(request, metadata, { deadline: Date.now() + 5000 }, (error) => {
      // The answer is lost, but the route stays up for the next one.
      if (error) log(`SendSignal to ${event.path} failed: ${grpc.status[error.code]}`);
    });
  }

  // Holds the route for as long as the stream lives; resubscribes when it ends.
  function subscribe() {
    call = client.SubscribeSignals({ routes: [flags.route], mode: 'HANDLE', group: flags.group },
                                   metadata);
    call.on('data', (event) => {
      if (event.kind === 'SUBSCRIBED') {
        backoff.reset();
        log(`holding ${flags.route} on ${flags.server}`);
        process.stdout.write('ready\n');
      } else if (event.kind === 'MESSAGE') {
        reply(event);
      }
    });
    call.on('error', () => {}); // reported with the status below
    call.on('status', (status) => {
      if (stopping) return;
      log(status.code === grpc.status.OK
        ? 'sigd ended the stream'
        : `stream to ${flags.server} broke: ${grpc.status[status.code]}`);
      const delay = backoff.next();
      log(`reconnecting in ${(delay / 1000).toFixed(1)}s`);
      retryTimer = setTimeout(subscribe, delay);
    });
  }

  function stop() {
    log('stopping');
    stopping = true;
    clearTimeout(retryTimer);
    call.cancel();
    client.close(); // nothing else holds the event loop: node exits with 0
  }

  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  subscribe();
}

main();
