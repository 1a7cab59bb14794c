// Starts a real comfyd binary on a free port with a fresh base directory.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

let binary;
function build(dir) {
  if (!binary) {
    binary = path.join(dir, 'comfyd');
    execFileSync('go', ['build', '-o', binary, './cmd/comfyd'], { cwd: repo, stdio: 'inherit' });
  }
  return binary;
}

export async function startComfyd(extraArgs = []) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'comfyd-compat-'));
  const bin = build(dir);
  const port = await freePort();
  const base = path.join(dir, 'base');
  const proc = spawn(bin, ['--base-directory', base, '--port', String(port), ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout.on('data', (d) => (log += d));
  proc.stderr.on('data', (d) => (log += d));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      const r = await fetch(`http://${host}/system_stats`);
      if (r.ok) break;
    } catch {}
    if (proc.exitCode !== null || Date.now() > deadline) {
      throw new Error(`comfyd did not start:\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return {
    host,
    url: `http://${host}`,
    base,
    dir,
    log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
    },
  };
}
