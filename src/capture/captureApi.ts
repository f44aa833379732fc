/**
 * What the CLI and the extension call: probe a target, list its Go processes, copy a process's
 * executable (cached by build id), record with perf.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/userError';
import { BinaryResult, GoProcess, ProbeResult, ProcessesResult, ProgressMessage, RecordResult } from './helperProtocol';
import { PasswordPrompt, RunHelperOptions, runHelper } from './runHelper';
import { Target } from './target';

export interface CaptureOptions {
  signal?: AbortSignal;
  askPassword?: PasswordPrompt;
}

export async function probeTarget(target: Target, opts: CaptureOptions & { pid?: number } = {}): Promise<ProbeResult> {
  const args: Record<string, unknown> = {};
  if (opts.pid !== undefined) args.pid = opts.pid;
  return (await runHelper<ProbeResult>(target, 'probe', args, opts)).result;
}

/**
 * The target's Go processes. With `cpuSampleMs` the helper also measures each one's CPU use over
 * that long, where the processes run (a remote host's /proc is out of this machine's reach).
 */
export async function listGoProcesses(target: Target, opts: CaptureOptions & { cpuSampleMs?: number } = {}): Promise<GoProcess[]> {
  const args = opts.cpuSampleMs ? { cpuSampleMs: opts.cpuSampleMs } : {};
  return (await runHelper<ProcessesResult>(target, 'processes', args, opts)).result.processes;
}

export interface FetchedBinary {
  /** The local copy (inside cacheDir). */
  path: string;
  /** true when it came from the cache without a transfer. */
  cached: boolean;
  info: BinaryResult;
}

function cacheKey(info: BinaryResult): string {
  const id = info.goBuildId ?? info.gnuBuildId ?? info.sha256;
  return id.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 200);
}

/**
 * What the helper reads of a process where it runs, without copying its executable: the
 * executable's path, size, sha256 and build ids, and the process's start time.
 */
export async function binaryInfo(target: Target, pid: number, opts: CaptureOptions = {}): Promise<BinaryResult> {
  return (await runHelper<BinaryResult>(target, 'binary', { pid, infoOnly: true }, opts)).result;
}

/**
 * Copies /proc/PID/exe from the target into cacheDir/<build id>/<name>, unless an identical copy
 * (same build id and sha256) is there already.
 */
export async function fetchBinary(target: Target, pid: number, cacheDir: string, opts: CaptureOptions = {}): Promise<FetchedBinary> {
  const info = await binaryInfo(target, pid, opts);
  const dir = path.join(cacheDir, cacheKey(info));
  const name =
    path
      .basename(info.exe ?? `pid${pid}.exe`)
      .replace(/ \(deleted\)$/, '')
      .replace(/[^A-Za-z0-9._-]/g, '_') || 'exe';
  const dest = path.join(dir, name);
  const meta = path.join(dir, 'meta.json');
  try {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as BinaryResult & { file: string };
    if (m.sha256 === info.sha256 && fs.existsSync(path.join(dir, m.file)) && fs.statSync(path.join(dir, m.file)).size === info.size) {
      return { path: path.join(dir, m.file), cached: true, info };
    }
  } catch {
    /* not cached */
  }
  const run = await runHelper<BinaryResult>(target, 'binary', { pid }, opts);
  try {
    const f = run.files.find((x) => x.name === 'exe');
    if (!f) throw new UserError('the helper sent no executable', 'this is a bug in go-perf-lens', 'helper-protocol');
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(f.path, `${dest}.tmp`);
    fs.chmodSync(`${dest}.tmp`, 0o755);
    fs.renameSync(`${dest}.tmp`, dest);
    fs.writeFileSync(meta, JSON.stringify({ ...run.result, file: name }, null, 1));
    return { path: dest, cached: false, info: run.result };
  } finally {
    if (run.tempDir) fs.rmSync(run.tempDir, { recursive: true, force: true });
  }
}

export interface RecordRequest {
  pid: number;
  durationSec: number;
  /** Default 999. */
  freqHz?: number;
  /** Default 'auto' (cycles:u where the PMU has it, else cpu-clock). */
  event?: 'auto' | 'cycles' | 'cpu-clock';
  /**
   * Send perf.data while perf records (perf's pipe mode), for RecordOptions.onData; the file is
   * then a pipe-mode perf.data and RecordResult.samples is null. Default false.
   */
  stream?: boolean;
  /** The process's start time as the caller saw it: the helper refuses (pid-reused) if the PID names another process now. */
  startTicks?: number;
}

export interface RecordOptions extends CaptureOptions {
  onProgress?: (p: ProgressMessage) => void;
  onStart?: RunHelperOptions['onStart'];
  /**
   * perf.data's bytes, in order, as they arrive (each chunk once it is in perfDataPath too):
   * with `stream`, during the recording; without, all at its end. The concatenation is the
   * whole perf.data. An exception thrown here cancels the recording and rejects with it.
   */
  onData?: (chunk: Buffer) => void;
  /**
   * Start and read the helper on another thread instead (the ingest worker: perf.data's chunks
   * are decoded, checked, written and used there); onData is not called then.
   */
  runElsewhere?: RunHelperOptions['runElsewhere'];
}

export interface PerfRecording {
  /** The perf.data, inside tempDir. */
  perfDataPath: string;
  /** The event recorded: 'cycles:u' or 'cpu-clock'. */
  event: string;
  fallbackReason?: string;
  warnings: string[];
  /** A private directory the caller owns and removes (fs.rmSync(tempDir, {recursive: true})). */
  tempDir: string;
  result: RecordResult;
  /** Which way perf ran: as the user (their own process, perf_event_paranoid ≤ 2: no helper, no password) or as root. */
  recordedAs: RecordedAs;
}

export type RecordedAs = 'user' | 'root';

/** One line for the CLI and the UI: which way a recording was made. */
export function recordedAsText(how: RecordedAs): string {
  return how === 'user'
    ? 'recorded as you, without root (your own process; perf_event_paranoid allows it)'
    : 'recorded as root, through the go-perf-lens helper';
}

export async function recordPerf(target: Target, req: RecordRequest, opts: RecordOptions = {}): Promise<PerfRecording> {
  const args: Record<string, unknown> = { pid: req.pid, duration: req.durationSec, freq: req.freqHz ?? 999, event: req.event ?? 'auto' };
  if (req.stream !== undefined) args.stream = req.stream;
  if (req.startTicks !== undefined) args.startTicks = req.startTicks;
  const run = await runHelper<RecordResult>(target, 'record', args, {
    signal: opts.signal,
    askPassword: opts.askPassword,
    onStart: opts.onStart,
    runElsewhere: opts.runElsewhere,
    onMessage: (m) => {
      if (m.type === 'progress') opts.onProgress?.(m);
      else if (m.type === 'received-chunk' && m.name === 'perf.data') opts.onData?.(m.data);
    },
  });
  const f = run.files.find((x) => x.name === 'perf.data');
  if (!f || !run.tempDir) {
    if (run.tempDir) fs.rmSync(run.tempDir, { recursive: true, force: true });
    throw new UserError('the helper sent no perf.data', 'this is a bug in go-perf-lens', 'helper-protocol');
  }
  const r = run.result;
  return {
    perfDataPath: f.path,
    event: r.event,
    fallbackReason: r.fallbackReason ?? undefined,
    warnings: [...run.warnings, ...r.warnings],
    tempDir: run.tempDir,
    result: r,
    recordedAs: run.hello.caller?.via === 'user' || !run.hello.root ? 'user' : 'root',
  };
}
