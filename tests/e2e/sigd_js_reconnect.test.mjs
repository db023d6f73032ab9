// /sigd.js in Chromium against a real sigd: the welcome id, signals and error
// frames sorted apart, and reconnecting after sigd restarts on the same port.
// One page loads it as a classic script (window.Sigd), one imports
// /sigd.mjs as an ES module.
//
// sigd serves /sigd.js and /sigd.mjs from its binary. A binary without them
// (or with a copy that differs from server/assets, i.e. not rebuilt) is
// tested with the files from server/assets served from the public folder
// under /local/ instead, and the test says so.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {
  assetsDir, kStartMs, launchBrowser, runSigctl, screenshot, signalClient, startSigd, tempDir,
  waitInPage,
} from './support/harness.mjs';

const kPath = '/live';

// Both pages record what the client reports in window.log and show it.
function pageHtml(title, loader) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="data:,">
<style>
  body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem; }
  .error { color: #b91c1c; } #status { font-weight: 600; }
</style>
</head>
<body>
<h1>${title}</h1>
<p>Status: <span id="status">loading</span> <span id="detail"></span></p>
<p>Client id: <code id="id"></code></p>
<div id="messages"></div>
<script>
  window.log = {signals: [], errors: [], statuses: []};
  window.start = (connect) => {
    const show = (text, className) => {
      const p = document.createElement('p');
      p.textContent = text;
      if (className) p.className = className;
      document.getElementById('messages').append(p);
    };
    const client = connect('${kPath}', {minDelayMs: 200, maxDelayMs: 1000});
    window.client = client;
    client.onStatus((status, detail) => {
      log.statuses.push({status, detail});
      document.getElementById('status').textContent = status;
      document.getElementById('detail').textContent = JSON.stringify(detail);
      document.getElementById('id').textContent = client.id || '';
    });
    client.onSignal((value, raw) => { log.signals.push({value, raw}); show(raw); });
    client.onError((error, raw) => { log.errors.push({error, raw}); show('error ' + raw, 'error'); });
  };
</script>
${loader}
</body>
</html>
`;
}

function waitOpen(page, notId = null) {
  return waitInPage(page, `client open with an id other than ${notId}`,
      (old) => window.client && client.status === 'open' && typeof client.id === 'string' &&
          client.id !== '' && client.id !== old,
      notId, kStartMs);
}

function waitForSignal(page, raw) {
  return waitInPage(page, `signal ${raw}`,
      (r) => window.log.signals.some((s) => s.raw === r), raw);
}

function waitForError(page, code) {
  return waitInPage(page, `error frame ${code}`,
      (c) => window.log.errors.some((e) => e.error && e.error.code === c), code);
}

describe('/sigd.js in Chromium', {timeout: 60000}, () => {
  let publicDir;
  let sigd;
  let browser;
  let classic;
  let module;
  // Where the pages load sigd.js from, and why (reported by the first test).
  let lib = {};

  // Where the pages load sigd.js from: sigd itself when it serves this
  // tree's file, else a copy in the public folder.
  async function chooseLibrary() {
    const source = fs.readFileSync(path.join(assetsDir, 'sigd.js'), 'utf8');
    const response = await fetch(`${sigd.httpUrl}/sigd.js`);
    const body = await response.text();
    if (response.ok) {
      assert.match(response.headers.get('content-type'), /^text\/javascript/);
      const mjs = await fetch(`${sigd.httpUrl}/sigd.mjs`);
      assert.equal(mjs.status, 200, 'sigd serves /sigd.js but not /sigd.mjs');
      assert.match(mjs.headers.get('content-type'), /^text\/javascript/);
      if (body === source) return {js: '/sigd.js', mjs: '/sigd.mjs', note: 'sigd serves /sigd.js'};
      lib.note = ('sigd serves a /sigd.js that differs from server/assets/sigd.js ' +
          '(binary not rebuilt?): testing the source copy');
    } else {
      lib.note = `sigd answers /sigd.js with ${response.status}: testing the source copy`;
    }
    fs.mkdirSync(path.join(publicDir, 'local'));
    for (const name of ['sigd.js', 'sigd.mjs']) {
      fs.copyFileSync(path.join(assetsDir, name), path.join(publicDir, 'local', name));
    }
    return {js: '/local/sigd.js', mjs: '/local/sigd.mjs', note: lib.note};
  }

  before(async () => {
    publicDir = tempDir('public');
    sigd = await startSigd({publicDir});
    lib = await chooseLibrary();
    fs.writeFileSync(path.join(publicDir, 'classic.html'), pageHtml('sigd.js, classic script',
        `<script src="${lib.js}"></script>\n<script>start(Sigd.connect);</script>`));
    fs.writeFileSync(path.join(publicDir, 'module.html'), pageHtml('sigd.mjs, ES module',
        `<script type="module">\n  import {connect} from '${lib.mjs}';\n  start(connect);\n</script>`));
    browser = await launchBrowser();
    classic = await browser.newPage(`${sigd.httpUrl}/classic.html`);
    module = await browser.newPage(`${sigd.httpUrl}/module.html`);
  });

  after(async () => {
    for (const [page, name] of [[classic, 'sigd-js-classic'], [module, 'sigd-js-module']]) {
      if (page) await screenshot(page, name).catch(() => {});
    }
    await browser?.close();
    await sigd?.stop();
    if (publicDir) fs.rmSync(publicDir, {recursive: true, force: true});
  });

  it('opens with the client id of the welcome frame', async (t) => {
    t.diagnostic(`sigd.js from ${lib.js}: ${lib.note}`);
    await Promise.all([waitOpen(classic), waitOpen(module)]);
    const ids = await Promise.all([classic, module].map((p) => p.evaluate(() => client.id)));
    const grpc = signalClient(sigd.grpcAddress);
    try {
      const listed = await grpc.call('ListClients', {path: kPath});
      assert.deepEqual(listed.clients.map((c) => c.id).sort(), [...ids].sort());
    } finally {
      grpc.close();
    }
    assert.equal(await classic.evaluate(() => window.Sigd.version), '1');
    assert.equal(await module.evaluate(() => typeof window.Sigd.connect), 'function',
        'importing sigd.mjs defines window.Sigd too');
    // The welcome frame is no signal.
    for (const page of [classic, module]) {
      assert.deepEqual(await page.evaluate(() => log.signals), []);
      assert.equal(await page.evaluate(() => client.url),
          `ws://127.0.0.1:${sigd.httpPort}${kPath}?welcome=1`);
    }

    // The id is the real one: a signal to it reaches that page only.
    const toClassic = await runSigctl(sigd.grpcAddress,
        ['send', '--client', ids[0], '--text', 'for the classic page']);
    assert.equal(toClassic.code, 0, toClassic.stderr);
    const all = await runSigctl(sigd.grpcAddress, ['send', '--json', '{"to":"all"}']);
    assert.equal(all.code, 0, all.stderr);
    await Promise.all([classic, module].map((p) => waitForSignal(p, '{"to":"all"}')));
    await waitForSignal(classic, 'for the classic page');
    const moduleRaw = await module.evaluate(() => log.signals.map((s) => s.raw));
    assert.deepEqual(moduleRaw, ['{"to":"all"}']);
    // JSON signals arrive parsed, text ones as text.
    assert.deepEqual(await classic.evaluate(() => log.signals.map((s) => s.value)),
        ['for the classic page', {to: 'all'}]);
  });

  it('sends error frames to onError, not onSignal', async () => {
    await classic.evaluate(() => {
      client.sendRaw('not json');
      client.send('to nobody', {clientId: 'no-such-client'});
    });
    await waitForError(classic, 'invalid_message');
    await waitForError(classic, 'unknown_client');
    // A direct message comes back after the errors: nothing else is pending.
    await classic.evaluate(() => client.send('after the errors', {direct: true}));
    await waitForSignal(classic, 'after the errors');
    const signals = await classic.evaluate(() => log.signals.map((s) => s.raw));
    assert.ok(signals.every((raw) => !raw.includes('"error"')), JSON.stringify(signals));
    assert.equal(await module.evaluate(() => log.errors.length), 0);
  });

  it('reconnects after sigd restarts on the same port', async () => {
    const oldIds = await Promise.all([classic, module].map((p) => p.evaluate(() => client.id)));
    const port = sigd.httpPort;
    const stopped = await sigd.stop();
    assert.equal(stopped.code, 0, sigd.output());

    // Each page saw sigd go away (1001, going away) and plans a retry.
    for (const page of [classic, module]) {
      await waitInPage(page, 'closed with 1001 and a retry delay',
          () => log.statuses.some((s) => s.status === 'closed' && s.detail.code === 1001 &&
              typeof s.detail.retryInMs === 'number'));
    }
    // Sent while down: queued, goes out (direct, back to this page) later.
    assert.equal(await classic.evaluate(() => client.send('queued while down', {direct: true})),
        false);

    sigd = await startSigd({publicDir, listen: `127.0.0.1:${port}`});
    assert.equal(sigd.httpPort, port);
    await Promise.all([waitOpen(classic, oldIds[0]), waitOpen(module, oldIds[1])]);
    await waitForSignal(classic, 'queued while down');

    const grpc = signalClient(sigd.grpcAddress);
    try {
      const sent = await grpc.call('SendSignal', {text: 'after the restart', path: kPath});
      assert.equal(sent.delivered, '2');
    } finally {
      grpc.close();
    }
    await Promise.all([classic, module].map((p) => waitForSignal(p, 'after the restart')));
    for (const page of [classic, module]) {
      const statuses = await page.evaluate(() => log.statuses.map((s) => s.status));
      assert.deepEqual(statuses.slice(0, 2), ['open', 'closed']);
      assert.equal(statuses.at(-1), 'open');
      assert.deepEqual(page.errors, []);
    }
    assert.equal(await module.evaluate(() => log.signals.some((s) => s.raw === 'queued while down')),
        false);
  });
});
