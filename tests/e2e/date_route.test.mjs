// Pode's signal-route example end to end: the Python backend
// (examples/date-route/python/date_route.py) holds /messages over gRPC, and
// the web-signal page opened with ?path=/messages gets a date back for
// "[date]". A page on / sees none of it: the route answers on the sender's
// path.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, describe, it} from 'node:test';

import {
  kStartMs, launchBrowser, repoRoot, runSigctl, screenshot, signalClient, startProcess, startSigd,
  waitInPage,
} from './support/harness.mjs';

const kScript = path.join(repoRoot, 'examples/date-route/python/date_route.py');
const kPython = '/usr/bin/python3';

function messages(page) {
  return page.$$eval('#messages p', (ps) => ps.map((p) => p.textContent));
}

function waitForMessage(page, text) {
  return waitInPage(page, `a <p> "${text}" under #messages`,
      (t) => [...document.querySelectorAll('#messages p')].some((p) => p.textContent === t),
      text);
}

// A <p> holding a date as a person reads it (a time in it, and Date.parse
// within two days of now, whatever the time zone), not "[date]".
function waitForDate(page) {
  return waitInPage(page, 'a <p> holding the current date',
      () => [...document.querySelectorAll('#messages p')].some((p) => {
        const text = p.textContent;
        const when = Date.parse(text);
        return text !== '[date]' && /\d{1,2}:\d{2}/.test(text) && !Number.isNaN(when) &&
            Math.abs(when - Date.now()) < 2 * 24 * 3600 * 1000;
      }));
}

function waitConnected(page) {
  return waitInPage(page, '#status connected',
      () => document.getElementById('status').dataset.state === 'connected');
}

async function submit(page, text) {
  await page.bringToFront();
  await page.fill('#bc-form input[name=message]', text);
  await page.click('#bc-form input[type=submit]');
}

describe('date route (Python) with the web-signal page', {timeout: 60000}, () => {
  let sigd;
  let route;
  let browser;
  let onMessages;
  let onRoot;

  before(async () => {
    assert.ok(fs.existsSync(kScript), `${kScript} is missing`);
    sigd = await startSigd();
    route = startProcess('date_route.py', kPython, [kScript, '--server', sigd.grpcAddress],
        {env: {...process.env, PYTHONUNBUFFERED: '1'}});
    await route.waitForLine('stdout', /^ready$/, kStartMs);
    browser = await launchBrowser();
    onMessages = await browser.newPage(`${sigd.httpUrl}/?path=/messages`);
    onRoot = await browser.newPage(`${sigd.httpUrl}/`);
    await Promise.all([waitConnected(onMessages), waitConnected(onRoot)]);
  });

  after(async () => {
    if (onMessages) await screenshot(onMessages, 'date-route-messages').catch(() => {});
    if (onRoot) await screenshot(onRoot, 'date-route-root').catch(() => {});
    await browser?.close();
    await route?.stop();
    await sigd?.stop();
  });

  it('(d) answers [date] with the date on the sender\'s path', async () => {
    // The page took its socket path from ?path=.
    const grpc = signalClient(sigd.grpcAddress);
    try {
      const listed = await grpc.call('ListClients', {path: '/messages'});
      assert.equal(listed.total, '1', JSON.stringify(listed));
    } finally {
      grpc.close();
    }

    await submit(onMessages, '[date]');
    await waitForDate(onMessages);
    const list = await messages(onMessages);
    assert.ok(!list.includes('[date]'), `the route answers instead of broadcasting: ${list}`);

    // Other messages come back as they are.
    await submit(onMessages, 'just text');
    await waitForMessage(onMessages, 'just text');

    // Frames reach a client in order: once this broadcast is on the / page,
    // anything the route had sent there would be too.
    const marker = await runSigctl(sigd.grpcAddress, ['send', '--text', 'marker for all']);
    assert.equal(marker.code, 0, marker.stderr);
    await waitForMessage(onRoot, 'marker for all');
    assert.deepEqual(await messages(onRoot), ['marker for all']);
    for (const page of [onMessages, onRoot]) assert.deepEqual(page.errors, []);
  });
});
