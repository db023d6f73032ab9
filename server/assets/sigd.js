/*
 * sigd.js: the browser client for sigd WebSocket signals. sigd serves it at
 * /sigd.js (and the ES module wrapper at /sigd.mjs). Vanilla JavaScript, no
 * build step, no dependencies.
 *
 * Loading
 *   Classic script:  <script src="/sigd.js"></script>  defines window.Sigd
 *   ES module:       import { connect, Client } from '/sigd.mjs';
 *   (sigd.mjs imports this file, so it defines window.Sigd as well; loading
 *   both is harmless: the second load keeps the first Sigd.)
 *
 * Connecting
 *   const client = Sigd.connect(path = '/', options = {});
 *
 *   path     the signal path, with an optional query ('/chat?room=a'). It must
 *            start with '/'. The socket goes to the page's own host and port,
 *            ws: from an http: page, wss: from an https: page.
 *   options
 *     url          full socket URL instead of path and location (http: and
 *                  https: URLs are turned into ws: and wss:)
 *     welcome      true: ask for ?welcome=1 so sigd tells the connection's id
 *                  in a first frame {"welcome":{"clientId":"..."}}; that frame
 *                  sets client.id and is not passed to onSignal. Default true.
 *     reconnect    true: reconnect after the connection drops. Default true.
 *     minDelayMs   first backoff ceiling, default 500
 *     maxDelayMs   largest backoff ceiling, default 10000
 *                  Retry n (from 0) waits a random time in
 *                  [0, min(maxDelayMs, minDelayMs * 2^n)] ("full jitter"), so a
 *                  crowd of pages does not come back in lockstep after a
 *                  restart. n goes back to 0 once a connection has stayed
 *                  open for 5 s: a server that closes each connection at once
 *                  (DisconnectClient on every connect) is retried with the
 *                  growing delay, not every few hundred milliseconds.
 *     maxQueue     messages kept while not connected, default 1000 (see send)
 *     token        a JWT for a sigd that requires one (--jwt-*): a string, or a
 *                  function returning a string or a Promise of one, called
 *                  before every connection attempt (so a reconnect can fetch a
 *                  fresh token). Sent as ?token=...; sigd removes it before
 *                  anything records the query. client.url never shows it. A
 *                  function that throws or rejects counts as a failed attempt
 *                  (status 'closed' with code 1006, then the usual backoff).
 *
 * Status
 *   client.status   'connecting' | 'open' | 'closed'
 *                   With welcome on, 'open' comes once the welcome frame has
 *                   arrived, so client.id is always set while 'open'. (A server
 *                   that sends no welcome frame: 'open' comes with its first
 *                   frame, or 3 s after the socket opened, with id null.)
 *   client.id       this connection's client id, or null. A reconnect gets a
 *                   new id (sigd ids live as long as their connection).
 *   client.url      the socket URL
 *   client.queued   how many messages wait for the connection
 *
 * Events (each on*() returns a function that removes the listener)
 *   client.onSignal(fn)  fn(value, rawText) for each signal. value is the
 *                        frame parsed as JSON when it is JSON, else the raw
 *                        text: sigd sends a JSON string as its raw text, so a
 *                        string signal "hi" arrives as value 'hi'. (A string
 *                        that looks like JSON, "42", arrives as the number 42;
 *                        rawText is always the frame's text.) Binary frames
 *                        (raw relay paths, binary signals) come as
 *                        (ArrayBuffer, ArrayBuffer).
 *   client.onError(fn)   fn(error, rawText) for sigd error frames, the JSON
 *                        objects whose only key is "error":
 *                        {"error":{"code":"unknown_client","message":"..."}}.
 *                        They are not passed to onSignal. Without any onError
 *                        listener they are logged with console.warn.
 *   client.onStatus(fn)  fn(status, detail) on each change:
 *                          'connecting' {attempt}       attempt 0, 1, 2, ...
 *                          'open'       {id}
 *                          'closed'     {code, reason, wasClean, retryInMs}
 *                        retryInMs is the delay before the next attempt, or
 *                        null when the client will not reconnect (reconnect
 *                        off, or close() called). Listeners see the changes
 *                        after they are added; read client.status for the
 *                        current one.
 *
 * Sending
 *   client.send(message, {path, clientId, direct} = {})
 *       sends JSON.stringify({message, path, clientId, direct}), leaving out
 *       the options that are undefined. message is any JSON value (null too,
 *       undefined is a TypeError); path and clientId are strings, direct a
 *       boolean. Returns true when handed to the open socket, false when
 *       queued. While not open, messages queue (up to maxQueue) and go out in
 *       order once the connection opens; a full queue throws an Error named
 *       'SigdQueueFullError' and the message is not kept. After close(), or
 *       once a client with reconnect off has closed, send throws.
 *       Delivery is at most once, as in sigd: a message handed to a socket
 *       that then drops is lost.
 *   client.sendRaw(data)
 *       sends data (a string, ArrayBuffer, typed array or Blob) as it is, with
 *       the same queueing: for raw relay paths, or to send hand-made frames.
 *   client.close(code = 1000, reason = '')
 *       closes the connection for good: no reconnect, the queue is dropped.
 *
 * Example
 *   const client = Sigd.connect('/chat');
 *   client.onStatus((status) => { statusEl.textContent = status; });
 *   client.onSignal((value) => { log(value); });
 *   client.onError((error) => { console.warn(error.code, error.message); });
 *   client.send('hello');                        // everyone (sigd default)
 *   client.send('hi', {path: '/chat'});          // everyone on /chat
 *   client.send('psst', {clientId: someId});     // one client
 *
 *   // With JWT authentication: a fresh token for every (re)connect.
 *   Sigd.connect('/chat', {token: () => fetch('/token').then((r) => r.text())});
 *
 * Plain `new WebSocket(...)` keeps working against sigd without this file.
 */
(function (root) {
  'use strict';

  const kVersion = '1';
  // Loaded both as a classic script and through sigd.mjs: keep the first.
  if (root.Sigd && root.Sigd.version === kVersion) return;

  const kDefaults = Object.freeze({
    url: undefined,
    welcome: true,
    reconnect: true,
    minDelayMs: 500,
    maxDelayMs: 10000,
    maxQueue: 1000,
    token: undefined,
  });
  // How long an open socket waits for the welcome frame before the client
  // counts as open anyway (a server that does not send one).
  const kWelcomeTimeoutMs = 3000;
  // Caps the exponent so the ceiling arithmetic stays finite.
  const kMaxAttemptExponent = 30;
  // How long a connection must last before the backoff starts over.
  const kStableMs = 5000;
  const kMaxTimerMs = 2147483647;
  const kOpen = 1;  // WebSocket.OPEN, without relying on the global's statics

  function isObject(value) {
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  }

  // sigd's control frames are JSON objects with exactly one known key.
  function onlyKey(value, key) {
    if (!isObject(value)) return false;
    const keys = Object.keys(value);
    return keys.length === 1 && keys[0] === key;
  }

  function reportListenerError(error) {
    // A throwing listener must not stop the others nor the client; surface
    // it the way an uncaught error in an event handler would be.
    if (typeof root.reportError === 'function') {
      root.reportError(error);
    } else {
      root.setTimeout(() => { throw error; }, 0);
    }
  }

  function nonNegative(name, value) {
    if (typeof value !== 'number' || !(value >= 0)) {
      throw new TypeError(`sigd: option ${name} must be a number >= 0`);
    }
    return value;
  }

  function readOptions(options) {
    if (options !== undefined && !isObject(options)) {
      throw new TypeError('sigd: options must be an object');
    }
    const o = Object.assign({}, kDefaults, options);
    o.welcome = Boolean(o.welcome);
    o.reconnect = Boolean(o.reconnect);
    o.minDelayMs = nonNegative('minDelayMs', o.minDelayMs);
    o.maxDelayMs = Math.max(o.minDelayMs, nonNegative('maxDelayMs', o.maxDelayMs));
    // setTimeout treats anything past 2^31-1 ms as 0.
    o.minDelayMs = Math.min(o.minDelayMs, kMaxTimerMs);
    o.maxDelayMs = Math.min(o.maxDelayMs, kMaxTimerMs);
    o.maxQueue = Math.floor(nonNegative('maxQueue', o.maxQueue));
    if (o.token !== undefined && typeof o.token !== 'string' && typeof o.token !== 'function') {
      throw new TypeError('sigd: token must be a string or a function');
    }
    return o;
  }

  function socketUrl(path, options) {
    const here = root.location ? root.location.href : undefined;
    let url;
    if (options.url !== undefined) {
      url = new URL(String(options.url), here);
    } else {
      if (typeof path !== 'string' || !path.startsWith('/')) {
        throw new TypeError(`sigd: path must start with '/': ${String(path)}`);
      }
      if (here === undefined) {
        throw new TypeError('sigd: no location to connect to; pass options.url');
      }
      url = new URL(here);
      // Set as parts, so '//x' stays a path on this host, not a host.
      const q = path.indexOf('?');
      url.pathname = q < 0 ? path : path.slice(0, q);
      url.search = q < 0 ? '' : path.slice(q);
    }
    if (url.protocol === 'http:') url.protocol = 'ws:';
    else if (url.protocol === 'https:') url.protocol = 'wss:';
    if (url.protocol !== 'ws:' && url.protocol !== 'wss:') {
      throw new TypeError(`sigd: not a WebSocket URL: ${url.href}`);
    }
    url.hash = '';
    // Appended by hand: rewriting searchParams would re-encode the rest of
    // the query ('%20' becomes '+').
    if (options.welcome && !url.searchParams.has('welcome')) {
      url.search = url.search.length > 1 ? `${url.search}&welcome=1` : '?welcome=1';
    }
    return url.href;
  }

  // The socket URL with ?token= added (by hand, like welcome=1).
  function withToken(url, token) {
    if (typeof token !== 'string' || token === '') return url;
    const u = new URL(url);
    const param = `token=${encodeURIComponent(token)}`;
    u.search = u.search.length > 1 ? `${u.search}&${param}` : `?${param}`;
    return u.href;
  }

  class Client {
    #options;
    #attemptId = 0;  // tells a token that arrives late from the current attempt
    #url;
    #status = 'connecting';
    #id = null;
    #socket = null;
    #attempt = 0;
    #retryTimer = null;
    #welcomeTimer = null;
    #stableTimer = null;
    #awaitingWelcome = false;
    #closedForGood = false;
    #queue = [];
    #listeners = {signal: new Set(), error: new Set(), status: new Set()};
    #onOnline = () => this.#reconnectNow();

    constructor(path = '/', options = undefined) {
      this.#options = readOptions(options);
      this.#url = socketUrl(path, this.#options);
      if (typeof root.addEventListener === 'function') {
        root.addEventListener('online', this.#onOnline);
      }
      this.#connect();
    }

    get status() { return this.#status; }
    get id() { return this.#id; }
    get url() { return this.#url; }
    get queued() { return this.#queue.length; }

    onSignal(fn) { return this.#listen('signal', fn); }
    onError(fn) { return this.#listen('error', fn); }
    onStatus(fn) { return this.#listen('status', fn); }

    send(message, {path, clientId, direct} = {}) {
      if (message === undefined) {
        throw new TypeError('sigd: send needs a message (null is a valid one)');
      }
      const frame = {message};
      if (path !== undefined) {
        if (typeof path !== 'string') throw new TypeError('sigd: path must be a string');
        frame.path = path;
      }
      if (clientId !== undefined) {
        if (typeof clientId !== 'string') throw new TypeError('sigd: clientId must be a string');
        frame.clientId = clientId;
      }
      if (direct !== undefined) {
        if (typeof direct !== 'boolean') throw new TypeError('sigd: direct must be a boolean');
        frame.direct = direct;
      }
      return this.#transmit(JSON.stringify(frame));
    }

    sendRaw(data) {
      return this.#transmit(data);
    }

    close(code = 1000, reason = '') {
      if (this.#closedForGood && this.#socket === null) return;
      ++this.#attemptId;  // a token still being fetched opens nothing
      this.#stopForGood();
      const socket = this.#socket;
      this.#socket = null;
      this.#id = null;
      let sent = {code, reason};
      if (socket !== null) {
        try {
          socket.close(code, reason);
        } catch {
          // A code the browser refuses (it sends only 1000 and 3000-4999):
          // a close frame without one, which the server reads as 1005.
          socket.close();
          sent = {code: 1005, reason: ''};
        }
      }
      this.#setStatus('closed', {...sent, wasClean: true, retryInMs: null});
    }

    #listen(kind, fn) {
      if (typeof fn !== 'function') throw new TypeError('sigd: listener must be a function');
      const set = this.#listeners[kind];
      set.add(fn);
      return () => { set.delete(fn); };
    }

    #emit(kind, ...args) {
      for (const fn of [...this.#listeners[kind]]) {
        try {
          fn(...args);
        } catch (error) {
          reportListenerError(error);
        }
      }
    }

    #setStatus(status, detail) {
      this.#status = status;
      this.#emit('status', status, detail);
    }

    #stopForGood() {
      this.#closedForGood = true;
      this.#clearTimers();
      this.#queue.length = 0;
      if (typeof root.removeEventListener === 'function') {
        root.removeEventListener('online', this.#onOnline);
      }
    }

    #clearTimers() {
      root.clearTimeout(this.#retryTimer);
      root.clearTimeout(this.#welcomeTimer);
      root.clearTimeout(this.#stableTimer);
      this.#retryTimer = null;
      this.#welcomeTimer = null;
      this.#stableTimer = null;
    }

    #transmit(data) {
      if (this.#closedForGood) {
        throw new Error('sigd: the client is closed and will not reconnect');
      }
      const socket = this.#socket;
      if (this.#status === 'open' && socket !== null && socket.readyState === kOpen) {
        socket.send(data);
        return true;
      }
      if (this.#queue.length >= this.#options.maxQueue) {
        const error = new Error(
            `sigd: send queue full (${this.#options.maxQueue} messages wait for the connection)`);
        error.name = 'SigdQueueFullError';
        throw error;
      }
      this.#queue.push(data);
      return false;
    }

    #connect() {
      this.#retryTimer = null;
      this.#setStatus('connecting', {attempt: this.#attempt});
      if (this.#closedForGood) return;  // a status listener called close()
      const token = this.#options.token;
      if (typeof token !== 'function') {
        this.#open(token);
        return;
      }
      const attemptId = ++this.#attemptId;
      const failed = (error) => {
        if (attemptId !== this.#attemptId || this.#closedForGood) return;
        const message = error instanceof Error ? error.message : String(error);
        this.#onClose({code: 1006, reason: `sigd: token: ${message}`, wasClean: false});
      };
      let value;
      try {
        value = token();
      } catch (error) {
        failed(error);
        return;
      }
      if (value !== null && typeof value === 'object' && typeof value.then === 'function') {
        value.then((t) => {
          if (attemptId !== this.#attemptId || this.#closedForGood) return;
          this.#open(t);
        }, failed);
        return;
      }
      this.#open(value);
    }

    #open(token) {
      const socket = new root.WebSocket(withToken(this.#url, token));
      socket.binaryType = 'arraybuffer';
      this.#socket = socket;
      this.#awaitingWelcome = this.#options.welcome;
      // Every handler first checks that its socket is still the current one:
      // a replaced or closed socket may still deliver late events.
      socket.onopen = () => {
        if (socket !== this.#socket) return;
        if (this.#awaitingWelcome) {
          this.#welcomeTimer = root.setTimeout(() => {
            if (socket !== this.#socket || !this.#awaitingWelcome) return;
            this.#awaitingWelcome = false;
            this.#becomeOpen();
          }, kWelcomeTimeoutMs);
        } else {
          this.#becomeOpen();
        }
      };
      socket.onmessage = (event) => {
        if (socket !== this.#socket) return;
        this.#onFrame(event.data);
      };
      socket.onclose = (event) => {
        if (socket !== this.#socket) return;
        this.#onClose(event);
      };
      // 'error' is always followed by 'close', which does the work.
    }

    #becomeOpen() {
      root.clearTimeout(this.#welcomeTimer);
      this.#welcomeTimer = null;
      this.#stableTimer = root.setTimeout(() => {
        this.#stableTimer = null;
        this.#attempt = 0;
      }, kStableMs);
      // Flush before the listeners hear of it, so that what they send on
      // 'open' goes after what was queued earlier.
      const socket = this.#socket;
      while (this.#queue.length > 0 && socket.readyState === kOpen) {
        socket.send(this.#queue.shift());
      }
      this.#setStatus('open', {id: this.#id});
    }

    #onFrame(data) {
      if (typeof data !== 'string') {  // binary frame (raw path or binary signal)
        if (this.#awaitingWelcome) {
          const socket = this.#socket;
          this.#awaitingWelcome = false;
          this.#becomeOpen();
          if (socket !== this.#socket) return;
        }
        this.#emit('signal', data, data);
        return;
      }
      let value = data;
      let isJson = false;
      try {
        value = JSON.parse(data);
        isJson = true;
      } catch {
        value = data;
      }
      if (this.#awaitingWelcome) {
        // Only the first frame of a connection can be the welcome: a later
        // signal of the same shape (anyone can send one) is just a signal.
        this.#awaitingWelcome = false;
        if (isJson && onlyKey(value, 'welcome') && isObject(value.welcome) &&
            typeof value.welcome.clientId === 'string') {
          this.#id = value.welcome.clientId;
          this.#becomeOpen();
          return;
        }
        const socket = this.#socket;
        this.#becomeOpen();
        if (socket !== this.#socket) return;  // a status listener closed it
      }
      if (isJson && onlyKey(value, 'error')) {
        if (this.#listeners.error.size === 0 && root.console) {
          root.console.warn('sigd error frame:', data);
        }
        this.#emit('error', value.error, data);
        return;
      }
      this.#emit('signal', value, data);
    }

    #onClose(event) {
      this.#socket = null;
      this.#id = null;
      this.#awaitingWelcome = false;
      this.#clearTimers();
      let retryInMs = null;
      if (this.#options.reconnect) {
        retryInMs = this.#nextDelay();
        this.#retryTimer = root.setTimeout(() => this.#connect(), retryInMs);
      } else {
        this.#stopForGood();
      }
      this.#setStatus('closed', {
        code: event.code,
        reason: event.reason,
        wasClean: event.wasClean,
        retryInMs,
      });
    }

    #nextDelay() {
      const {minDelayMs, maxDelayMs} = this.#options;
      const ceiling = Math.min(maxDelayMs, minDelayMs * 2 ** this.#attempt);
      this.#attempt = Math.min(this.#attempt + 1, kMaxAttemptExponent);
      return Math.floor(Math.random() * ceiling);
    }

    // Back online: retry now instead of waiting out the backoff.
    #reconnectNow() {
      if (this.#retryTimer === null || this.#closedForGood) return;
      root.clearTimeout(this.#retryTimer);
      this.#connect();
    }
  }

  function connect(path = '/', options = undefined) {
    return new Client(path, options);
  }

  root.Sigd = Object.freeze({version: kVersion, connect, Client});
})(typeof globalThis !== 'undefined' ? globalThis : this);
