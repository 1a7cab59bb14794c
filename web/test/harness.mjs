// Test harness: builds and starts the real comfyd binary on a free port with a fresh base
// directory, and launches Debian's Chromium through playwright-core with a fresh profile.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../..');
export const artifacts = path.join(here, 'artifacts');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CI = process.env.CI === 'true' || process.env.CI === '1';

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** why the browser tests cannot run here, or null. Under CI a reason is an error, not a skip. */
export function missingPrerequisite() {
  if (!fs.existsSync(CHROMIUM)) return `${CHROMIUM} not found (apt-get install -y chromium)`;
  if (!process.env.COMFYD_BIN && !fs.existsSync(path.join(repoRoot, 'cmd', 'comfyd'))) return 'cmd/comfyd does not exist yet';
  return null;
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** buildComfyd compiles cmd/comfyd into a temp dir (or uses $COMFYD_BIN) and returns the path. */
export function buildComfyd(tmp) {
  if (process.env.COMFYD_BIN) return process.env.COMFYD_BIN;
  const bin = path.join(tmp, 'comfyd');
  execFileSync('go', ['build', '-o', bin, './cmd/comfyd'], { cwd: repoRoot, stdio: ['ignore', 'inherit', 'inherit'] });
  return bin;
}

async function waitHTTP(url, deadlineMs, proc) {
  const end = Date.now() + deadlineMs;
  let last;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`comfyd exited with ${proc.exitCode}`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
      last = new Error(`HTTP ${r.status}`);
    } catch (err) { last = err; }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`comfyd did not answer ${url}: ${last?.message}`);
}

/**
 * startComfyd runs the binary with --base-directory <tmp>/base --port <free> and waits until
 * /api/object_info answers. Returns {url, base, proc, log, stop()}.
 */
export async function startComfyd(bin, tmp) {
  const base = path.join(tmp, 'base');
  fs.mkdirSync(base, { recursive: true });
  const port = await freePort();
  const logPath = path.join(tmp, 'comfyd.log');
  const log = fs.openSync(logPath, 'w');
  const proc = spawn(bin, ['--base-directory', base, '--port', String(port), '--listen', '127.0.0.1'], {
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHTTP(`${url}/api/object_info`, 60000, proc);
  } catch (err) {
    proc.kill('SIGKILL');
    throw new Error(`${err.message}\n--- comfyd log ---\n${fs.readFileSync(logPath, 'utf8').slice(-4000)}`);
  }
  return {
    url, base, proc, logPath,
    async stop() {
      if (proc.exitCode !== null) return;
      proc.kill('SIGTERM');
      await new Promise((r) => { const t = setTimeout(() => { proc.kill('SIGKILL'); r(); }, 5000); proc.once('exit', () => { clearTimeout(t); r(); }); });
    },
  };
}

/** launchBrowser starts Chromium with a fresh --user-data-dir (a persistent context in tmp). */
export async function launchBrowser(tmp) {
  const { chromium } = await import('playwright-core');
  const profile = fs.mkdtempSync(path.join(tmp, 'profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 768 },
    acceptDownloads: true,
  });
  return context;
}

export function tmpDir(prefix = 'comfyd-web-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function shot(name) {
  fs.mkdirSync(artifacts, { recursive: true });
  return path.join(artifacts, `${name}.png`);
}
