// The web-signal example page (examples/web-signal) as the browser tests
// drive it: its messages, its connection state and its broadcast form.

import {waitInPage} from './harness.mjs';

// The page's paragraphs under #messages, one per frame received.
export function messages(page) {
  return page.$$eval('#messages p', (ps) => ps.map((p) => p.textContent));
}

export function waitForMessage(page, text) {
  return waitInPage(page, `a <p> "${text}" under #messages`,
      (t) => [...document.querySelectorAll('#messages p')].some((p) => p.textContent === t),
      text);
}

export function waitConnected(page) {
  return waitInPage(page, '#status connected',
      () => document.getElementById('status').dataset.state === 'connected');
}

export async function submit(page, text) {
  // A background tab gets no animation frames, which a click waits for.
  await page.bringToFront();
  await page.fill('#bc-form input[name=message]', text);
  await page.click('#bc-form input[type=submit]');
}

export function count(list, text) {
  return list.filter((t) => t === text).length;
}
