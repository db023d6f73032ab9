// Shared pieces of the end-to-end tests: sigd and helper processes on port 0,
// Debian's Chromium through playwright-core, sigctl, a Node gRPC client, and
// waits with deadlines (never fixed sleeps).
//
//   const sigd = await startSigd({publicDir});
//   const browser = await launchBrowser();
//   const page = await browser.newPage(`${sigd.httpUrl}/`);
//   ...
//   await browser.close(); await sigd.stop();

import {spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {fileURLToPath} from 'node:url';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';
import {chromium} from 'playwright-core';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const webSignalDir = path.join(repoRoot, 'examples/web-signal');
export const assetsDir = path.join(repoRoot, 'server/assets');

// CMake sets SIGD_BIN and SIGCTL_BIN; the defaults serve `npm test` after a
// plain `cmake -B build` build.
export const sigdBin = process.env.SIGD_BIN || path.join(repoRoot, 'build/server/sigd');
export const sigctlBin = process.env.SIGCTL_BIN || path.join(repoRoot, 'build/client-cli/sigctl');

// Deadlines. Generous next to what the steps take (milliseconds), so a slow
// machine does not flake, yet a hang fails well inside the ctest TIMEOUT.
export const kStartMs = 15000;
export const kWaitMs = 10000;
const kStopMs = 10000;

const kChromium = '/usr/bin/chromium';
const kChromiumArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function outputDir() {
  const dir = process.env.E2E_OUTPUT_DIR || path.join(process.cwd(), 'e2e-output');
  fs.mkdirSync(dir, {recursive: true});
  return dir;
}

export function tempDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `sigd-e2e-${prefix}-`));
}

// Children still running when the test process exits (a failed assertion
// skipped the cleanup) are killed rather than left behind.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// A child process whose output is kept (for failure messages) and can be
// waited on line by line.
class Child {
  constructor(name, command, args, options = {}) {
    if (!fs.existsSync(command)) {
      throw new Error(`${name}: ${command} does not exist (build it, or set the env variable)`);
    }
    this.name = name;
    this.lines = {stdout: [], stderr: []};
    this.waiters = [];
    this.proc = spawn(command, args, {stdio: ['ignore', 'pipe', 'pipe'], ...options});
    children.add(this.proc);
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        children.delete(this.proc);
        resolve({code, signal});
      });
    });
    this.proc.on('error', (error) => this.#fail(error));
    this.exitCode = undefined;
    this.exited.then(({code, signal}) => {
      this.exitCode = code ?? signal;
      this.#fail(new Error(`${this.name} exited (${code ?? signal}) before the expected line`));
    });
    for (const stream of ['stdout', 'stderr']) {
      readline.createInterface({input: this.proc[stream]}).on('line', (line) => {
        this.lines[stream].push(line);
        for (const waiter of [...this.waiters]) {
          if (waiter.stream !== stream) continue;
          const match = waiter.regex.exec(line);
          if (match) {
            this.#removeWaiter(waiter);
            waiter.resolve(match);
          }
        }
      });
    }
  }

  output() {
    return `--- ${this.name} stdout ---\n${this.lines.stdout.join('\n')}\n` +
        `--- ${this.name} stderr ---\n${this.lines.stderr.join('\n')}`;
  }

  // Resolves with the match of the first line (from now on) matching regex.
  waitForLine(stream, regex, timeoutMs = kStartMs) {
    return new Promise((resolve, reject) => {
      const waiter = {stream, regex, resolve, reject};
      waiter.timer = setTimeout(() => {
        this.#removeWaiter(waiter);
        reject(new Error(`${this.name}: no ${stream} line matching ${regex} within ` +
            `${timeoutMs} ms\n${this.output()}`));
      }, timeoutMs);
      waiter.resolve = (match) => { clearTimeout(waiter.timer); resolve(match); };
      waiter.reject = (error) => { clearTimeout(waiter.timer); reject(error); };
      if (this.exitCode !== undefined) {
        waiter.reject(new Error(`${this.name} already exited (${this.exitCode})\n${this.output()}`));
        return;
      }
      this.waiters.push(waiter);
    });
  }

  // SIGTERM, then SIGKILL if it has not exited by the deadline.
  async stop(signal = 'SIGTERM') {
    if (this.exitCode !== undefined) return this.exited;
    this.proc.kill(signal);
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), kStopMs);
    const result = await this.exited;
    clearTimeout(timer);
    return result;
  }

  #removeWaiter(waiter) {
    this.waiters = this.waiters.filter((w) => w !== waiter);
  }

  #fail(error) {
    for (const waiter of [...this.waiters]) {
      this.#removeWaiter(waiter);
      waiter.reject(new Error(`${error.message}\n${this.output()}`));
    }
  }
}

export function startProcess(name, command, args, options) {
  return new Child(name, command, args, options);
}

// Starts sigd and resolves once it logged its ports:
// "sigd ready: http/ws on 127.0.0.1:PORT, grpc on 127.0.0.1:PORT".
export async function startSigd({publicDir = webSignalDir, listen = '127.0.0.1:0',
                                 grpcListen = '127.0.0.1:0', args = []} = {}) {
  const child = new Child('sigd', sigdBin, [
    '--listen', listen, '--grpc-listen', grpcListen, '--public', publicDir, ...args,
  ]);
  const match = await child.waitForLine(
      'stderr', /sigd ready: http\/ws on (\S+):(\d+), grpc on (\S+):(\d+)/);
  const [, httpHost, httpPort, grpcHost, grpcPort] = match;
  return Object.assign(child, {
    httpPort: Number(httpPort),
    grpcPort: Number(grpcPort),
    httpUrl: `http://${httpHost}:${httpPort}`,
    grpcAddress: `${grpcHost}:${grpcPort}`,
  });
}

// Runs sigctl against a sigd; resolves with {code, stdout, stderr}.
export function runSigctl(grpcAddress, args, timeoutMs = kWaitMs) {
  return new Promise((resolve, reject) => {
    const proc = spawn(sigctlBin, ['--server', grpcAddress, ...args],
        {stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL'});
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => { stdout += d; });
    proc.stderr.on('data', (d) => { stderr += d; });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => resolve({code: code ?? signal, stdout, stderr}));
  });
}

// A sigd.v1.SignalService client from proto/signal.proto; methods return
// promises: await client.call('SendSignal', {...}).
let signalPackage = null;
export function signalClient(grpcAddress) {
  if (signalPackage === null) {
    const definition = protoLoader.loadSync(path.join(repoRoot, 'proto/signal.proto'), {
      longs: String, enums: String, defaults: true, oneofs: true,
    });
    signalPackage = grpc.loadPackageDefinition(definition).sigd.v1;
  }
  const stub = new signalPackage.SignalService(grpcAddress, grpc.credentials.createInsecure());
  return {
    call(method, request, timeoutMs = kWaitMs) {
      return new Promise((resolve, reject) => {
        stub[method](request, {deadline: Date.now() + timeoutMs}, (error, response) => {
          if (error) reject(error); else resolve(response);
        });
      });
    },
    close() { stub.close(); },
  };
}

// Debian's Chromium, headless, with a fresh profile per launch. Each page
// records its uncaught errors (page.errors) so a test can assert none.
// ignoreHTTPSErrors: accept the self-signed certificate of a test's sigd.
export async function launchBrowser({ignoreHTTPSErrors = false} = {}) {
  const userDataDir = tempDir('chromium');
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: kChromium,
    headless: true,
    args: kChromiumArgs,
    viewport: {width: 900, height: 700},
    ignoreHTTPSErrors,
  });
  context.setDefaultTimeout(kWaitMs);
  // The persistent context opens with one blank tab; new pages get their own.
  const pages = [];
  return {
    context,
    async newPage(url) {
      const page = await context.newPage();
      page.errors = [];
      page.on('pageerror', (error) => page.errors.push(String(error)));
      pages.push(page);
      if (url !== undefined) await page.goto(url);
      return page;
    },
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, {recursive: true, force: true});
    },
  };
}

export async function screenshot(page, name) {
  const file = path.join(outputDir(), `${name}.png`);
  await page.screenshot({path: file, fullPage: true});
  return file;
}

// page.waitForFunction with a failure message that says what was awaited
// and what the page showed instead.
export async function waitInPage(page, what, fn, arg, timeoutMs = kWaitMs) {
  try {
    await page.waitForFunction(fn, arg, {timeout: timeoutMs, polling: 50});
  } catch (error) {
    let state = '';
    try {
      state = await page.evaluate(() => document.body.innerText);
    } catch {
      // The page itself is gone; the original error says why.
    }
    throw new Error(`${page.url()}: ${what}: ${error.message}\npage text:\n${state}\n` +
        `page errors: ${JSON.stringify(page.errors)}`);
  }
}

// Polls a Node-side condition until it holds or the deadline passes.
export async function waitUntil(what, fn, timeoutMs = kWaitMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${timeoutMs} ms (last: ${last})`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
