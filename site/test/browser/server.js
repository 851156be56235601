// server.js: builds and starts the native edge server (site/worker, the
// server of `make serve`) on a free loopback port, serving the site built
// into site/worker/dist.
import { spawn, execFile } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** freePort returns a loopback port nothing listens on now. */
function freePort() {
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

/**
 * startServer builds site/worker from root and runs it; it resolves to
 * {origin, stop} once the server prints its address.
 */
export async function startServer(root) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'conjure-server-'));
  const bin = path.join(dir, 'worker');
  await run('go', ['build', '-o', bin, './site/worker'], { cwd: root });
  const port = await freePort();
  const child = spawn(bin, [], { env: { ...process.env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const origin = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`site/worker printed no address in 30 s:\n${log}`)), 30_000);
    const onData = (d) => {
      log += d;
      const m = /serving on (http:\/\/[^\s/]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`site/worker exited with ${code}:\n${log}`));
    });
  });
  return {
    origin,
    stop() {
      child.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
