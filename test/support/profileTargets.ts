/**
 * Real targets for the ingest tests and benchmarks: the example service (with its load
 * generator) and the hotline fixture, started as real processes and recorded with real perf.
 * Every process started here is tracked so an after() hook can stop it.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as path from 'node:path';
import { cachedGoBuild, FIXTURE_CACHE, GO_FIXTURES, type GoToolchain, hashSources } from './goToolchains';

/** Builds a package of a fixture module (e.g. exampleservice's ./cmd/load), cached by content. */
export function buildGoPackage(fixture: string, pkg: string, tc: GoToolchain, flags: string[] = []): string {
  const src = path.join(GO_FIXTURES, fixture);
  const h = createHash('sha256').update(tc.goBin).update(pkg).update(JSON.stringify(flags));
  const newest = hashSources(src, h, true);
  const out = path.join(FIXTURE_CACHE, `${fixture}-${path.basename(pkg)}-go${tc.version}-${h.digest('hex').slice(0, 16)}`);
  return cachedGoBuild(tc, src, out, flags, pkg, newest);
}

const started = new Set<ChildProcess>();

/** Stops every process these helpers started (call from after()). */
export function stopAllTargets(): void {
  for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  started.clear();
}

export function track(p: ChildProcess): ChildProcess {
  started.add(p);
  p.on('exit', () => started.delete(p));
  return p;
}

export interface RunningService {
  proc: ChildProcess;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

/** Starts the example service on a free loopback port and waits until it listens. */
export async function startService(binary: string, extraArgs: string[] = []): Promise<RunningService> {
  const proc = track(spawn(binary, ['-addr', '127.0.0.1:0', ...extraArgs], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const addr = await new Promise<string>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('the example service did not listen within 20 s')), 20_000);
    proc.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /listening on (\S+)/.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`the example service exited (${c})`));
    });
  });
  return {
    proc,
    pid: proc.pid!,
    url: `http://${addr}`,
    stop: () =>
      new Promise((r) => {
        if (proc.exitCode !== null || proc.signalCode !== null) r();
        else {
          proc.on('exit', () => r());
          proc.kill('SIGTERM');
        }
      }),
  };
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  rps: number;
}

/** Runs the load generator against url; resolves with its summary when it ends (or is stopped). */
export function startLoad(loadBin: string, url: string, seconds: number, workers = 2): { proc: ChildProcess; done: Promise<LoadResult> } {
  const proc = track(
    spawn(loadBin, ['-url', url, '-duration', `${seconds}s`, '-c', String(workers)], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<LoadResult>((resolve, reject) => {
    proc.on('exit', () => {
      try {
        resolve(JSON.parse(out.trim()) as LoadResult);
      } catch {
        reject(new Error(`load generator printed no summary: ${out}`));
      }
    });
  });
  return { proc, done };
}

/** `perf record -g --call-graph fp` of a running pid for `seconds` (as root). */
export function perfRecordPid(pid: number, seconds: number, out: string, freq = 999, event = 'cpu-clock'): void {
  execFileSync(
    'perf',
    [
      'record',
      '-q',
      '-g',
      '--call-graph',
      'fp',
      '-F',
      String(freq),
      '-e',
      event,
      '-p',
      String(pid),
      '-o',
      out,
      '--',
      'sleep',
      String(seconds),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

/** `perf record` of a command to its end. */
export function perfRecordCommand(cmd: string[], out: string, freq = 999): void {
  execFileSync('perf', ['record', '-q', '-g', '--call-graph', 'fp', '-F', String(freq), '-e', 'cpu-clock', '-o', out, '--', ...cmd], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

export interface ScriptFrame {
  addr: bigint;
  sym: string;
  dso: string;
}

/** `perf script -F pid,ip,sym,dso`: each sample's callchain as perf symbolizes it (ELF symbols). */
export function perfScriptSymbols(file: string): ScriptFrame[][] {
  const out = execFileSync('perf', ['script', '-i', file, '-F', 'pid,ip,sym,dso'], {
    maxBuffer: 1 << 30,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const samples: ScriptFrame[][] = [];
  let cur: ScriptFrame[] | undefined;
  for (const line of out.split('\n')) {
    if (/^\s*\d+\s*$/.test(line)) {
      cur = [];
      samples.push(cur);
      continue;
    }
    const m = /^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$/.exec(line);
    if (m && cur) cur.push({ addr: BigInt(`0x${m[1]}`), sym: m[2]!, dso: m[3]! });
  }
  return samples;
}

export function havePerfAndRoot(): boolean {
  try {
    execFileSync('perf', ['--version'], { stdio: 'ignore' });
    return process.getuid?.() === 0;
  } catch {
    return false;
  }
}
