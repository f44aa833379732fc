/**
 * Starts and stops the VS Code 1.100 server that code-server ships (scripts/setup.sh installs it
 * into GPL_TOOLS), and installs .vsix files into an extensions folder with its CLI. Every child
 * runs in its own process group so stop() also ends the extension hosts it forked.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { TOOLS_DIR } from './playwright';

export const VSCODE_DIR = path.join(TOOLS_DIR, 'node_modules', 'code-server', 'lib', 'vscode');
export const SERVER_MAIN = path.join(VSCODE_DIR, 'out', 'server-main.js');

export function vscodeVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(VSCODE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
}

function requireServer(): void {
  if (!fs.existsSync(SERVER_MAIN))
    throw new Error(`VS Code server not found at ${SERVER_MAIN}: run scripts/setup.sh (GPL_TOOLS=${TOOLS_DIR})`);
}

export interface ServerOptions {
  /** --server-data-dir: user settings, logs, and the default extensions folder. */
  dataDir: string;
  /** --extensions-dir, for a server that should load installed .vsix files. */
  extensionsDir?: string;
  /** Extra environment for the server and the extension hosts it starts. */
  env?: Record<string, string>;
  startTimeoutMs?: number;
}

export interface VsCodeServer {
  readonly port: number;
  /** http://127.0.0.1:PORT */
  readonly origin: string;
  readonly pid: number;
  /** vscode-remote:// URI of an absolute path on this machine, as the workbench payload wants it. */
  remoteUri(absPath: string): string;
  /** The last lines the server printed (for failure messages). */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

/** Sends SIGTERM to a process group, then SIGKILL if it is still there after graceMs. */
export async function killGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), graceMs).unref());
  if ((await Promise.race([exited, timer])) === 'timeout') {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
  }
}

function httpOk(url: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve(false);
    });
    req.on('error', () => resolve(false));
  });
}

export async function startServer(opts: ServerOptions): Promise<VsCodeServer> {
  requireServer();
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const args = [
    SERVER_MAIN,
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--without-connection-token',
    '--accept-server-license-terms',
    '--telemetry-level',
    'off',
    '--server-data-dir',
    opts.dataDir,
  ];
  if (opts.extensionsDir) args.push('--extensions-dir', opts.extensionsDir);
  const child = spawn(process.execPath, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...opts.env },
  });
  const lines: string[] = [];
  const onData = (b: Buffer): void => {
    for (const l of b.toString('utf8').split('\n')) if (l.trim()) lines.push(l);
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const logTail = (n = 40): string => lines.slice(-n).join('\n');

  const timeoutMs = opts.startTimeoutMs ?? 30000;
  let port: number;
  try {
    port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`VS Code server did not report a port within ${timeoutMs / 1000} s`)), timeoutMs);
      const check = (): void => {
        const m = /Extension host agent listening on (\d+)/.exec(lines.join('\n'));
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      child.stdout!.on('data', check);
      child.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`VS Code server exited early (${code ?? sig})`));
      });
    });
    const origin = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + 15000;
    while (!(await httpOk(`${origin}/`, 3000))) {
      if (Date.now() > deadline) throw new Error(`VS Code server on ${origin} does not answer HTTP`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (e) {
    await killGroup(child);
    throw new Error(`${(e as Error).message}\n--- server output ---\n${logTail()}`);
  }
  const origin = `http://127.0.0.1:${port}`;
  return {
    port,
    origin,
    pid: child.pid!,
    remoteUri: (p) => `vscode-remote://127.0.0.1:${port}${encodeURI(path.resolve(p))}`,
    logTail,
    stop: () => killGroup(child),
  };
}

/** `server-main.js --install-extension VSIX --extensions-dir DIR`; resolves with its output. */
export function installExtension(vsix: string, extensionsDir: string, dataDir: string, timeoutMs = 90000): Promise<string> {
  requireServer();
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        SERVER_MAIN,
        '--accept-server-license-terms',
        '--server-data-dir',
        dataDir,
        '--extensions-dir',
        extensionsDir,
        '--install-extension',
        vsix,
        '--force',
      ],
      { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 8 << 20 },
      (err, stdout, stderr) => {
        const out = `${stdout}${stderr}`;
        if (err) reject(new Error(`installing ${vsix} failed: ${err.message}\n${out}`));
        else resolve(out);
      },
    );
  });
}

/** `server-main.js --list-extensions --show-versions --extensions-dir DIR`. */
export function listExtensions(extensionsDir: string, dataDir: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        SERVER_MAIN,
        '--accept-server-license-terms',
        '--server-data-dir',
        dataDir,
        '--extensions-dir',
        extensionsDir,
        '--list-extensions',
        '--show-versions',
      ],
      { timeout: 60000, killSignal: 'SIGKILL' },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`listing extensions failed: ${err.message}\n${stdout}${stderr}`));
        else
          resolve(
            stdout
              .split('\n')
              .map((l) => l.trim())
              .filter((l) => /^[\w-]+\.[\w-]+@/.test(l)),
          );
      },
    );
  });
}
