/**
 * `go-perf-lens record --pid PID --duration S [--freq 999] [--event auto|cycles|cpu-clock]
 * [--host user@host[:port]] -o session.json`: copies the process's executable (cached by build
 * id), records it with perf through the helper, ingests, and writes a session.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Target } from '../capture/target';
import { recordCpuProfile } from '../commands/recordCpuProfile';
import { makeSession, saveSession } from '../model/session';
import { UserError } from '../util/userError';
import { intOption, parseArgs } from './parseArgs';

const USAGE = 'usage: go-perf-lens record --pid PID --duration S [--freq 999] [--event auto|cycles|cpu-clock] [--sampler perf|bpf] [--host user@host[:port]] -o session.json';

/** "user@host:port" → an ssh target (validated by capture). */
export function parseHost(spec: string): Target {
  const m = /^(?:([^@]+)@)?([^:@]+)(?::(\d+))?$/.exec(spec);
  if (!m) throw new UserError(`--host "${spec}" is not of the form [user@]host[:port]`, USAGE, 'usage');
  const t: Target = { kind: 'ssh', host: m[2]! };
  if (m[1]) t.user = m[1];
  if (m[3]) t.port = Number(m[3]);
  return t;
}

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) { process.stdout.write(`${USAGE}\n`); return 0; }
  const args = parseArgs(argv, { values: ['pid', 'duration', 'freq', 'event', 'host', 'output', 'sampler'], aliases: { '-o': 'output' } }, USAGE);
  if (args.positionals.length) throw new UserError(`unexpected argument "${args.positionals[0]}"`, USAGE, 'usage');
  const pid = intOption(args, 'pid', undefined, 1, 2 ** 22, USAGE);
  if (pid === undefined) throw new UserError('record needs --pid PID', USAGE, 'usage');
  const durationRaw = args.values.get('duration');
  if (durationRaw === undefined) throw new UserError('record needs --duration SECONDS', USAGE, 'usage');
  const durationSec = Number(durationRaw);
  if (!/^\d+(\.\d+)?$/.test(durationRaw) || !(durationSec > 0) || durationSec > 3600) {
    throw new UserError(`--duration must be a number of seconds above 0 and at most 3600 (got "${durationRaw}")`, USAGE, 'usage');
  }
  const freqHz = intOption(args, 'freq', 999, 1, 100_000, USAGE)!;
  const event = args.values.get('event') ?? 'auto';
  if (event !== 'auto' && event !== 'cycles' && event !== 'cpu-clock') throw new UserError(`--event must be auto, cycles or cpu-clock (got "${event}")`, USAGE, 'usage');
  // --sampler bpf: the eBPF sampler (src/commands/recordBpfProfile.ts), which puts back the
  // callers that perf's frame-pointer stacks skip at frameless points.
  const sampler = args.values.get('sampler') ?? 'perf';
  if (sampler !== 'perf' && sampler !== 'bpf') throw new UserError(`--sampler must be perf or bpf (got "${sampler}")`, USAGE, 'usage');
  const out = args.values.get('output');
  if (!out) throw new UserError('record needs -o session.json', USAGE, 'usage');
  const host = args.values.get('host');
  const target: Target = host ? parseHost(host) : { kind: 'local' };

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const where = target.kind === 'ssh' ? ` on ${target.host}` : '';
    process.stderr.write(`recording pid ${pid}${where} for ${durationSec} s at ${freqHz} Hz with ${sampler === 'bpf' ? 'the eBPF sampler' : 'perf'}…\n`);
    const profile = await recordCpuProfile(target, { pid, durationSec, freqHz, event, sampler }, { signal: controller.signal });
    fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
    saveSession(out, makeSession(profile, 'go-perf-lens record'));
    for (const w of profile.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    process.stderr.write(`recorded ${profile.totalSamples} samples of pid ${pid} (${profile.event.name}${profile.event.fallbackReason ? `: ${profile.event.fallbackReason}` : ''}) → ${out}\n`);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
