// Pode's web-signal example page (examples/web-signal, plain WebSocket) in
// two Chromium tabs against one sigd: broadcasts between the pages, from
// sigctl, and from a Node gRPC client.

import assert from 'node:assert/strict';
import {after, before, describe, it} from 'node:test';

import {
  launchBrowser, runSigctl, screenshot, signalClient, startSigd,
} from './support/harness.mjs';
import {count, messages, submit, waitConnected, waitForMessage} from './support/web_signal_page.mjs';

describe('web-signal page', {timeout: 60000}, () => {
  let sigd;
  let browser;
  let grpc;
  let pages = [];

  before(async () => {
    sigd = await startSigd();
    browser = await launchBrowser();
    grpc = signalClient(sigd.grpcAddress);
    pages = [await browser.newPage(`${sigd.httpUrl}/`), await browser.newPage(`${sigd.httpUrl}/`)];
    await Promise.all(pages.map(waitConnected));
  });

  after(async () => {
    for (const [i, page] of pages.entries()) {
      await screenshot(page, `web-signal-page${i + 1}`).catch(() => {});
    }
    grpc?.close();
    await browser?.close();
    const result = await sigd?.stop();
    if (result !== undefined) assert.equal(result.code, 0, sigd.output());
  });

  it('(a) shows each page\'s broadcast in both pages, once', async () => {
    const [one, two] = pages;
    await submit(one, 'hello from page 1');
    await Promise.all(pages.map((p) => waitForMessage(p, 'hello from page 1')));
    // Enter submits the form as well.
    await two.bringToFront();
    await two.fill('#bc-form input[name=message]', 'hello from page 2');
    await two.press('#bc-form input[name=message]', 'Enter');
    await Promise.all(pages.map((p) => waitForMessage(p, 'hello from page 2')));
    // Frames reach a client in order, so once the second is there the first
    // has arrived as often as it ever will.
    for (const page of pages) {
      const list = await messages(page);
      assert.equal(count(list, 'hello from page 1'), 1, JSON.stringify(list));
      assert.equal(count(list, 'hello from page 2'), 1, JSON.stringify(list));
      assert.equal(await page.inputValue('#bc-form input[name=message]'), '');
    }
  });

  it('(b) shows a sigctl send --text in both pages', async () => {
    const result = await runSigctl(sigd.grpcAddress, ['send', '--text', 'from sigctl <b>']);
    assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
    // Shown as text, never as HTML.
    await Promise.all(pages.map((p) => waitForMessage(p, 'from sigctl <b>')));
  });

  it('(c) shows a Node gRPC SendSignal in both pages', async () => {
    const clients = await grpc.call('ListClients', {path: '/'});
    assert.equal(clients.total, '2');
    assert.deepEqual(clients.clients.map((c) => c.path), ['/', '/']);
    assert.ok(clients.clients.every((c) => /Chrome/.test(c.userAgent)), JSON.stringify(clients));

    const elsewhere = await grpc.call('SendSignal', {text: 'not for these pages', path: '/other'});
    assert.equal(elsewhere.delivered, '0');
    const sent = await grpc.call('SendSignal', {json: JSON.stringify({from: 'node', n: 3})});
    assert.equal(sent.delivered, '2');
    await Promise.all(pages.map((p) => waitForMessage(p, '{"from":"node","n":3}')));
    const raw = await grpc.call('SendSignal', {json: '"a JSON string goes out raw"'});
    assert.equal(raw.delivered, '2');
    await Promise.all(pages.map((p) => waitForMessage(p, 'a JSON string goes out raw')));
    for (const page of pages) {
      assert.equal(count(await messages(page), 'not for these pages'), 0);
      assert.deepEqual(page.errors, []);
    }
  });
});
