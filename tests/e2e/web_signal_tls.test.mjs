// The web-signal example page over https and wss: two Chromium tabs against
// a sigd with a certificate made for the test. The browser's TLS is the real
// thing (BoringSSL, TLS 1.3), against sigd's own TLS channel: broadcasts
// between the pages, a large signal and a burst from gRPC, all in order.

import assert from 'node:assert/strict';
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {
  launchBrowser, screenshot, signalClient, startSigd, tempDir,
} from './support/harness.mjs';
import {count, messages, submit, waitConnected, waitForMessage} from './support/web_signal_page.mjs';

// A self-signed certificate for 127.0.0.1, valid for a day.
function makeCertificate() {
  const dir = tempDir('tls');
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
  ], {stdio: 'pipe'});
  return {dir, cert, key};
}

describe('web-signal page over https and wss', {timeout: 60000}, () => {
  let sigd;
  let browser;
  let grpc;
  let pages = [];
  let certDir;

  before(async () => {
    const {dir, cert, key} = makeCertificate();
    certDir = dir;
    sigd = await startSigd({
      args: ['--tls-cert', cert, '--tls-key', key, '--max-message-bytes', '1048576'],
    });
    browser = await launchBrowser({ignoreHTTPSErrors: true});
    grpc = signalClient(sigd.grpcAddress);
    const url = `https://127.0.0.1:${sigd.httpPort}/`;
    pages = [await browser.newPage(url), await browser.newPage(url)];
    await Promise.all(pages.map(waitConnected));
  });

  after(async () => {
    for (const [i, page] of pages.entries()) {
      await screenshot(page, `web-signal-tls-page${i + 1}`).catch(() => {});
    }
    grpc?.close();
    await browser?.close();
    const result = await sigd?.stop();
    if (certDir !== undefined) fs.rmSync(certDir, {recursive: true, force: true});
    if (result !== undefined) assert.equal(result.code, 0, sigd.output());
  });

  it('connects with wss and shows each page\'s broadcast in both pages', async () => {
    const clients = await grpc.call('ListClients', {path: '/'});
    assert.equal(clients.total, '2');
    assert.ok(clients.clients.every((c) => c.protocol === 'WSS'), JSON.stringify(clients));
    await submit(pages[0], 'hello over wss');
    await Promise.all(pages.map((p) => waitForMessage(p, 'hello over wss')));
    await submit(pages[1], 'and back');
    await Promise.all(pages.map((p) => waitForMessage(p, 'and back')));
  });

  it('delivers a large signal and a burst from gRPC whole and in order', async () => {
    // Several TLS records, sealed in more than one piece.
    const big = 'big:' + 'abcdefghijklmnopqrstuvwxyz'.repeat(4000);
    const burst = Array.from({length: 50}, (_, i) => `burst ${i}`);
    for (const text of ['before', big, ...burst]) {
      const sent = await grpc.call('SendSignal', {text});
      assert.equal(sent.delivered, '2');
    }
    await Promise.all(pages.map((p) => waitForMessage(p, 'burst 49')));
    for (const page of pages) {
      const list = await messages(page);
      const from = list.indexOf('before');
      assert.ok(from >= 0, 'the first signal is missing');
      assert.equal(list[from + 1].length, big.length, 'the large signal arrived cut or late');
      assert.equal(list[from + 1], big);
      assert.deepEqual(list.slice(from + 2, from + 52), burst);
      assert.equal(count(list, 'burst 0'), 1);
      assert.deepEqual(page.errors, []);
    }
  });
});
