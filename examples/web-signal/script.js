// Pode's "Full Example" (web-signal) for sigd, in plain JavaScript: every
// message submitted here is broadcast by sigd to every connected browser, and
// every frame received is appended to #messages.
'use strict';

(() => {
  // Reconnect backoff: doubles from kMinDelayMs up to kMaxDelayMs. The jitter
  // keeps a crowd of pages from reconnecting in lockstep after a restart.
  const kMinDelayMs = 500;
  const kMaxDelayMs = 10000;
  // Older messages are dropped so a long-lived tab does not grow without bound.
  const kMaxMessages = 1000;

  const form = document.getElementById('bc-form');
  const input = form.querySelector('input[name=message]');
  const submit = form.querySelector('input[type=submit]');
  const messages = document.getElementById('messages');
  const status = document.getElementById('status');
  const statusDetail = document.getElementById('status-detail');

  // The socket path comes from the page's query string, so the same page
  // works with a signal route: index.html?path=/messages. Default '/'.
  const socketPath = (() => {
    const path = new URLSearchParams(location.search).get('path');
    return path !== null && path.startsWith('/') ? path : '/';
  })();

  // Same host and port as the page; wss when the page came over https. The
  // path is set as a path (percent-encoded as needed), never parsed as a URL,
  // so '?path=//elsewhere' cannot point the socket at another host.
  const socketUrl = (() => {
    const url = new URL(location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.pathname = socketPath;
    url.search = '';
    url.hash = '';
    return url.href;
  })();

  let socket = null;
  let attempt = 0;
  let retryTimer = null;

  function setStatus(state, detail = '') {
    status.textContent = state;
    status.dataset.state = state;
    statusDetail.textContent = detail;
    submit.disabled = state !== 'connected';
  }

  // sigd's error frames are JSON objects whose only key is "error":
  // {"error":{"code":"...","message":"..."}}. Anything else is a signal.
  function asErrorFrame(text) {
    let value;
    try {
      value = JSON.parse(text);
    } catch {
      return null;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return null;
    }
    const keys = Object.keys(value);
    if (keys.length !== 1 || keys[0] !== 'error') return null;
    const error = value.error;
    if (error && typeof error === 'object' &&
        typeof error.code === 'string') {
      return typeof error.message === 'string' && error.message !== ''
          ? `${error.code}: ${error.message}`
          : error.code;
    }
    return JSON.stringify(error);
  }

  // Frames come from other people: they are shown as text, never as HTML.
  function appendMessage(text) {
    const p = document.createElement('p');
    const error = asErrorFrame(text);
    if (error === null) {
      p.textContent = text;
    } else {
      p.className = 'error';
      p.textContent = `error ${error}`;
    }
    // Keep the view pinned to the newest message only if it already was.
    const atBottom = messages.scrollHeight - messages.scrollTop -
        messages.clientHeight < 8;
    messages.append(p);
    while (messages.childElementCount > kMaxMessages) {
      messages.firstElementChild.remove();
    }
    if (atBottom) messages.scrollTop = messages.scrollHeight;
  }

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    setStatus('connecting');

    const ws = new WebSocket(socketUrl);
    socket = ws;

    // Handlers ignore events from a socket that has since been replaced.
    ws.addEventListener('open', () => {
      if (ws !== socket) return;
      attempt = 0;
      setStatus('connected', socketPath === '/' ? '' : `on ${socketPath}`);
    });

    ws.addEventListener('message', (event) => {
      if (ws !== socket) return;
      // Binary frames (raw relay paths) are not text; say so, do not guess.
      appendMessage(typeof event.data === 'string'
          ? event.data : '[binary frame]');
    });

    // 'error' is always followed by 'close'; reconnecting happens there.
    ws.addEventListener('close', () => {
      if (ws !== socket) return;
      socket = null;
      scheduleReconnect();
    });
  }

  function scheduleReconnect() {
    const ceiling = Math.min(kMaxDelayMs, kMinDelayMs * 2 ** attempt);
    // "Equal jitter": at least half the ceiling, so retries never bunch up
    // at zero, at most the ceiling.
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    attempt = Math.min(attempt + 1, 30);
    setStatus('disconnected',
        `(retrying in ${(delay / 1000).toFixed(1)} s)`);
    retryTimer = setTimeout(connect, delay);
  }

  // Coming back online or to the tab: retry now instead of waiting out the
  // backoff.
  function reconnectNow() {
    if (socket === null && retryTimer !== null) {
      attempt = 0;
      connect();
    }
  }
  window.addEventListener('online', reconnectNow);
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') reconnectNow();
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = input.value;
    if (value === '' || socket === null ||
        socket.readyState !== WebSocket.OPEN) {
      return;  // Keep the text so it can be sent once connected.
    }
    socket.send(JSON.stringify({message: value}));
    input.value = '';
    input.focus();
  });

  connect();
})();
