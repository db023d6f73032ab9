// server/assets/sigd.js on its own, without a browser or a server: the file
// runs in a vm context with a scripted WebSocket, fake timers and a fixed
// Math.random, so URL building, welcome handling, frame sorting, queueing and
// backoff are pinned down exactly.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {describe, it} from 'node:test';
import vm from 'node:vm';

import {assetsDir} from './support/harness.mjs';

const kSource = fs.readFileSync(path.join(assetsDir, 'sigd.js'), 'utf8');

// Loads sigd.js into a fresh global with `href` as the page's location.
function load({href = 'http://example.test:8091/app/index.html', random = 0.5} = {}) {
  const sockets = [];
  const timers = new Map();
  let nextTimer = 1;
  const reported = [];
  const warnings = [];

  class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      this.sent = [];
      this.closedWith = null;
      sockets.push(this);
    }
    send(data) {
      if (this.readyState !== 1) throw new Error(`send in readyState ${this.readyState}`);
      this.sent.push(data);
    }
    close(code, reason) {
      // As browsers do: only 1000 and 3000-4999 may be sent.
      if (code !== undefined && code !== 1000 && !(code >= 3000 && code <= 4999)) {
        throw new Error('InvalidAccessError');
      }
      this.readyState = 2;
      this.closedWith = {code, reason};
    }
    // Test side: what the browser would do.
    serverOpen() {
      this.readyState = 1;
      this.onopen({});
    }
    serverFrame(data) {
      this.onmessage({data});
    }
    serverClose(code = 1006, reason = '') {
      this.readyState = 3;
      this.onclose({code, reason, wasClean: code !== 1006});
    }
  }

  const context = vm.createContext({
    URL,
    WebSocket: FakeWebSocket,
    location: {href},
    console: {warn: (...args) => warnings.push(args.join(' '))},
    reportError: (error) => reported.push(error),
    setTimeout: (fn, ms) => {
      const id = nextTimer++;
      timers.set(id, {fn, ms});
      return id;
    },
    clearTimeout: (id) => { timers.delete(id); },
    addEventListener: () => {},
    removeEventListener: () => {},
  });
  vm.runInContext(`Math.random = () => ${random};`, context);
  vm.runInContext(kSource, context, {filename: 'sigd.js'});
  return {
    context,
    Sigd: context.Sigd,
    sockets,
    timers,
    reported,
    warnings,
    last: () => sockets[sockets.length - 1],
    // Runs the only pending timer and returns its delay.
    fireTimer() {
      assert.equal(timers.size, 1, `one pending timer expected, have ${timers.size}`);
      const [[id, {fn, ms}]] = timers;
      timers.delete(id);
      fn();
      return ms;
    },
  };
}

// Connects and completes the handshake with a welcome frame.
function connected(env, options, id = 'id-1') {
  const client = env.Sigd.connect('/chat', options);
  env.last().serverOpen();
  env.last().serverFrame(JSON.stringify({welcome: {clientId: id}}));
  return client;
}

// Records everything a client reports, as plain data.
function record(client) {
  const seen = {signals: [], errors: [], statuses: []};
  client.onSignal((value, raw) => seen.signals.push([JSON.stringify(value), raw]));
  client.onError((error, raw) => seen.errors.push([JSON.stringify(error), raw]));
  client.onStatus((status, detail) => seen.statuses.push([status, JSON.stringify(detail)]));
  return seen;
}

describe('sigd.js URL', () => {
  it('uses the page host, ws for http and asks for the welcome frame', () => {
    const env = load();
    const client = env.Sigd.connect('/chat');
    assert.equal(client.url, 'ws://example.test:8091/chat?welcome=1');
    assert.equal(env.last().url, client.url);
  });

  it('uses wss for https pages and keeps the path query', () => {
    const env = load({href: 'https://example.test/x/y.html?a=1#frag'});
    assert.equal(env.Sigd.connect('/chat%20room?room=a%20b').url,
        'wss://example.test/chat%20room?room=a%20b&welcome=1');
  });

  it('defaults to / and leaves the query alone without welcome', () => {
    const env = load();
    assert.equal(env.Sigd.connect(undefined, {welcome: false}).url, 'ws://example.test:8091/');
  });

  it('keeps a //path on the page host', () => {
    const env = load();
    assert.equal(env.Sigd.connect('//evil.test/x', {welcome: false}).url,
        'ws://example.test:8091//evil.test/x');
  });

  it('takes a url option, turning http into ws', () => {
    const env = load();
    assert.equal(env.Sigd.connect('/ignored', {url: 'http://other.test:1/x?welcome=1'}).url,
        'ws://other.test:1/x?welcome=1');
    assert.equal(env.Sigd.connect('/', {url: 'wss://other.test/y'}).url,
        'wss://other.test/y?welcome=1');
  });

  it('rejects a path without a leading slash and bad options', () => {
    const env = load();
    assert.throws(() => env.Sigd.connect('chat'), {name: 'TypeError'});
    assert.throws(() => env.Sigd.connect('/', {minDelayMs: -1}), {name: 'TypeError'});
    assert.throws(() => env.Sigd.connect('/', {url: 'ftp://x/'}), {name: 'TypeError'});
    assert.equal(env.sockets.length, 0);
  });
});

describe('sigd.js token', () => {
  it('appends a string token to the socket URL but never to client.url', () => {
    const env = load();
    const client = env.Sigd.connect('/chat?room=a%20b', {token: 'h.p.s+/='});
    assert.equal(client.url, 'ws://example.test:8091/chat?room=a%20b&welcome=1');
    assert.equal(env.last().url,
        'ws://example.test:8091/chat?room=a%20b&welcome=1&token=h.p.s%2B%2F%3D');
  });

  it('calls a token function before every attempt', () => {
    const env = load();
    let n = 0;
    env.Sigd.connect('/chat', {welcome: false, token: () => `t${++n}`});
    assert.equal(env.last().url, 'ws://example.test:8091/chat?token=t1');
    env.last().serverClose(1008, 'token expired');
    env.fireTimer();
    assert.equal(env.last().url, 'ws://example.test:8091/chat?token=t2');
  });

  it('waits for a token promise, and a rejection counts as a failed attempt', async () => {
    const env = load();
    let fail = true;
    const client = env.Sigd.connect('/chat', {
      welcome: false,
      token: () => (fail ? Promise.reject(new Error('no session')) : Promise.resolve('fresh')),
    });
    const seen = record(client);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(env.sockets.length, 0);
    assert.equal(client.status, 'closed');
    assert.match(seen.statuses[0][1], /no session/);
    fail = false;
    env.fireTimer();
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(env.last().url, 'ws://example.test:8091/chat?token=fresh');
  });

  it('opens nothing when closed while the token is being fetched', async () => {
    const env = load();
    let resolveToken;
    const client = env.Sigd.connect('/chat', {token: () => new Promise((r) => { resolveToken = r; })});
    client.close();
    resolveToken('late');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(env.sockets.length, 0);
    assert.equal(client.status, 'closed');
  });

  it('rejects a token that is neither a string nor a function', () => {
    const env = load();
    assert.throws(() => env.Sigd.connect('/', {token: 42}), {name: 'TypeError'});
  });
});

describe('sigd.js frames', () => {
  it('is open with the id from the welcome frame, which is no signal', () => {
    const env = load();
    const client = env.Sigd.connect('/chat');
    const seen = record(client);
    assert.equal(client.status, 'connecting');
    env.last().serverOpen();
    assert.equal(client.status, 'connecting', 'waits for the welcome frame');
    env.last().serverFrame('{"welcome":{"clientId":"abc"}}');
    assert.equal(client.status, 'open');
    assert.equal(client.id, 'abc');
    assert.deepEqual(seen.signals, []);
    assert.deepEqual(seen.statuses, [['open', '{"id":"abc"}']]);
  });

  it('treats a later welcome-shaped frame as a signal', () => {
    const env = load();
    const client = connected(env);
    const seen = record(client);
    env.last().serverFrame('{"welcome":{"clientId":"spoof"}}');
    assert.equal(client.id, 'id-1');
    assert.deepEqual(seen.signals,
        [['{"welcome":{"clientId":"spoof"}}', '{"welcome":{"clientId":"spoof"}}']]);
  });

  it('opens on the first frame when it is not a welcome frame', () => {
    const env = load();
    const client = env.Sigd.connect('/');
    const seen = record(client);
    env.last().serverOpen();
    env.last().serverFrame('hi');
    assert.equal(client.status, 'open');
    assert.equal(client.id, null);
    assert.deepEqual(seen.signals, [['"hi"', 'hi']]);
  });

  it('opens without a welcome frame after a while', () => {
    const env = load();
    const client = env.Sigd.connect('/');
    env.last().serverOpen();
    env.fireTimer();
    assert.equal(client.status, 'open');
  });

  it('is open at once without welcome', () => {
    const env = load();
    const client = env.Sigd.connect('/', {welcome: false});
    env.last().serverOpen();
    assert.equal(client.status, 'open');
    assert.deepEqual([...env.timers.values()].map((t) => t.ms), [5000],
                     'no welcome timer; only the one that resets the backoff');
  });

  it('parses JSON signals and passes other text raw', () => {
    const env = load();
    const client = connected(env);
    const seen = record(client);
    for (const frame of ['{"a":[1,2]}', 'plain text', '42', 'null', '{"error":1,"x":2}']) {
      env.last().serverFrame(frame);
    }
    assert.deepEqual(seen.signals, [
      ['{"a":[1,2]}', '{"a":[1,2]}'],
      ['"plain text"', 'plain text'],
      ['42', '42'],
      ['null', 'null'],
      ['{"error":1,"x":2}', '{"error":1,"x":2}'],
    ]);
    assert.deepEqual(seen.errors, []);
  });

  it('sends error frames to onError only', () => {
    const env = load();
    const client = connected(env);
    const seen = record(client);
    const frame = '{"error":{"code":"invalid_message","message":"not JSON"}}';
    env.last().serverFrame(frame);
    assert.deepEqual(seen.signals, []);
    assert.deepEqual(seen.errors, [['{"code":"invalid_message","message":"not JSON"}', frame]]);
    assert.deepEqual(env.warnings, []);
  });

  it('warns about error frames nobody listens to', () => {
    const env = load();
    connected(env);
    env.last().serverFrame('{"error":{"code":"x"}}');
    assert.equal(env.warnings.length, 1);
  });

  it('passes binary frames as they are', () => {
    const env = load();
    const client = connected(env);
    const got = [];
    client.onSignal((value, raw) => got.push([value, raw]));
    const buffer = new ArrayBuffer(3);
    env.last().serverFrame(buffer);
    assert.equal(got.length, 1);
    assert.equal(got[0][0], buffer);
    assert.equal(got[0][1], buffer);
  });

  it('keeps going when a listener throws, and removes listeners', () => {
    const env = load();
    const client = connected(env);
    const got = [];
    client.onSignal(() => { throw new Error('boom'); });
    const off = client.onSignal((value) => got.push(value));
    env.last().serverFrame('1');
    off();
    env.last().serverFrame('2');
    assert.deepEqual(got, [1]);
    assert.equal(env.reported.length, 2);
  });
});

describe('sigd.js send', () => {
  it('sends the message with only the given options', () => {
    const env = load();
    const client = connected(env);
    assert.equal(client.send('hi'), true);
    assert.equal(client.send({a: 1}, {path: '/x', clientId: 'c', direct: false}), true);
    assert.equal(client.send(null, {direct: true}), true);
    assert.deepEqual(env.last().sent, [
      '{"message":"hi"}',
      '{"message":{"a":1},"path":"/x","clientId":"c","direct":false}',
      '{"message":null,"direct":true}',
    ]);
    client.sendRaw('not json');
    assert.equal(env.last().sent[3], 'not json');
  });

  it('rejects a missing message and wrongly typed options', () => {
    const env = load();
    const client = connected(env);
    assert.throws(() => client.send(), {name: 'TypeError'});
    assert.throws(() => client.send('x', {path: 1}), {name: 'TypeError'});
    assert.throws(() => client.send('x', {clientId: {}}), {name: 'TypeError'});
    assert.throws(() => client.send('x', {direct: 'yes'}), {name: 'TypeError'});
    assert.deepEqual(env.last().sent, []);
  });

  it('queues until open, in order, and bounds the queue', () => {
    const env = load();
    const client = env.Sigd.connect('/', {maxQueue: 2});
    assert.equal(client.send('one'), false);
    assert.equal(client.sendRaw('two'), false);
    assert.throws(() => client.send('three'), {name: 'SigdQueueFullError'});
    assert.equal(client.queued, 2);
    env.last().serverOpen();
    assert.deepEqual(env.last().sent, [], 'still waiting for the welcome frame');
    env.last().serverFrame('{"welcome":{"clientId":"a"}}');
    assert.deepEqual(env.last().sent, ['{"message":"one"}', 'two']);
    assert.equal(client.queued, 0);
  });

  it('sends what was queued before what an open listener sends', () => {
    const env = load();
    const client = env.Sigd.connect('/');
    client.onStatus((status) => { if (status === 'open') client.send('join'); });
    client.send('one');
    client.send('two');
    env.last().serverOpen();
    env.last().serverFrame('{"welcome":{"clientId":"a"}}');
    assert.deepEqual(env.last().sent,
                     ['{"message":"one"}', '{"message":"two"}', '{"message":"join"}']);
  });

  it('queues across a reconnect', () => {
    const env = load();
    const client = connected(env);
    env.last().serverClose(1001);
    assert.equal(client.send('later'), false);
    env.fireTimer();
    env.last().serverOpen();
    env.last().serverFrame('{"welcome":{"clientId":"b"}}');
    assert.equal(client.id, 'b');
    assert.deepEqual(env.last().sent, ['{"message":"later"}']);
  });

  it('throws after close()', () => {
    const env = load();
    const client = connected(env);
    client.close();
    assert.throws(() => client.send('x'), /closed/);
  });
});

describe('sigd.js reconnect', () => {
  it('backs off exponentially with full jitter and resets once a connection lasts', () => {
    const env = load({random: 0.999999});
    const client = env.Sigd.connect('/', {minDelayMs: 500, maxDelayMs: 4000});
    const seen = record(client);
    const delays = [];
    for (let i = 0; i < 5; i++) {
      env.last().serverClose(1006);
      delays.push(env.fireTimer());
    }
    assert.deepEqual(delays, [499, 999, 1999, 3999, 3999]);
    const closed = seen.statuses.filter(([s]) => s === 'closed').map(([, d]) => JSON.parse(d));
    assert.deepEqual(closed.map((d) => d.retryInMs), delays);
    assert.deepEqual(closed[0], {code: 1006, reason: '', wasClean: false, retryInMs: 499});
    const connecting = seen.statuses.filter(([s]) => s === 'connecting');
    assert.deepEqual(connecting.map(([, d]) => JSON.parse(d).attempt), [1, 2, 3, 4, 5]);

    env.last().serverOpen();
    env.last().serverFrame('{"welcome":{"clientId":"x"}}');
    assert.equal(client.status, 'open');
    assert.equal(env.fireTimer(), 5000, 'the connection has lasted 5 s');
    env.last().serverClose(1001);
    assert.equal(client.id, null, 'an id lives as long as its connection');
    assert.equal(env.fireTimer(), 499, 'backoff starts over after a lasting connection');
  });

  it('keeps backing off when the server closes each connection at once', () => {
    const env = load({random: 0.999999});
    env.Sigd.connect('/', {minDelayMs: 500, maxDelayMs: 4000});
    const delays = [];
    for (let i = 0; i < 4; i++) {
      env.last().serverOpen();
      env.last().serverFrame('{"welcome":{"clientId":"x"}}');
      env.last().serverClose(4003, 'banned');  // e.g. DisconnectClient on every CONNECT
      delays.push(env.fireTimer());
    }
    assert.deepEqual(delays, [499, 999, 1999, 3999]);
  });

  it('draws the delay from the whole range', () => {
    const env = load({random: 0});
    env.Sigd.connect('/');
    env.last().serverClose(1006);
    assert.equal(env.fireTimer(), 0);
  });

  it('does not reconnect with reconnect off', () => {
    const env = load();
    const client = connected(env, {reconnect: false});
    const seen = record(client);
    env.last().serverClose(1001);
    assert.equal(client.status, 'closed');
    assert.equal(env.timers.size, 0);
    assert.equal(JSON.parse(seen.statuses[0][1]).retryInMs, null);
    assert.throws(() => client.send('x'), /closed/);
  });

  it('stops for good on close()', () => {
    const env = load();
    const client = connected(env);
    const socket = env.last();
    const seen = record(client);
    client.close(4000, 'bye');
    assert.deepEqual(socket.closedWith, {code: 4000, reason: 'bye'});
    assert.equal(client.status, 'closed');
    assert.equal(client.id, null);
    socket.serverClose(4000, 'bye');  // late event from the old socket: ignored
    assert.equal(env.timers.size, 0);
    assert.equal(env.sockets.length, 1);
    assert.deepEqual(seen.statuses,
        [['closed', '{"code":4000,"reason":"bye","wasClean":true,"retryInMs":null}']]);
  });

  it('reports the close it really sent when the browser refuses the code', () => {
    const env = load();
    const client = connected(env);
    const seen = record(client);
    client.close(1001, 'going');
    assert.deepEqual(env.last().closedWith, {code: undefined, reason: undefined});
    assert.deepEqual(seen.statuses,
        [['closed', '{"code":1005,"reason":"","wasClean":true,"retryInMs":null}']]);
  });

  it('cancels a pending retry on close()', () => {
    const env = load();
    const client = connected(env);
    env.last().serverClose(1006);
    assert.equal(env.timers.size, 1);
    client.close();
    assert.equal(env.timers.size, 0);
    assert.equal(client.status, 'closed');
  });
});

describe('sigd.js loading', () => {
  it('defines a frozen Sigd once, and keeps the first on a second load', () => {
    const env = load();
    const first = env.Sigd;
    assert.ok(Object.isFrozen(first));
    assert.equal(first.version, '1');
    assert.equal(typeof first.connect, 'function');
    assert.equal(typeof first.Client, 'function');
    vm.runInContext(kSource, env.context);
    assert.equal(env.context.Sigd, first);
  });

  it('has an ES module wrapper that re-exports it', () => {
    const mjs = fs.readFileSync(path.join(assetsDir, 'sigd.mjs'), 'utf8');
    assert.match(mjs, /^import '\.\/sigd\.js';$/m);
    assert.match(mjs, /export const \{connect, Client, version\} = Sigd;/);
  });
});
