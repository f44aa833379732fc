/**
 * `go-perf-lens record --pid PID --duration S [--freq 999] [--event auto|cycles|cpu-clock]
 * [--host user@host[:port]] -o session.json`: copies the process's executable (cached by build
 * id), records it with perf through the helper, ingests, and writes a session. The output path is
 * checked before recording; Ctrl-C or SIGTERM stops early and still writes (a second one discards).
 */
import { recordedAsText } from '../capture/captureApi';
import type { Target } from '../capture/target';
import { MAX_SAMPLING_HZ, recordCpuProfile } from '../commands/recordCpuProfile';
import type { Profile } from '../model/profile';
import { stacksText } from '../model/stacksText';
import { makeSession, serializeSession } from '../model/session';
import { UserError } from '../util/userError';
import { checkOutputPath, writeOutputFile } from './outputFile';
import { intOption, parseArgs } from './parseArgs';
import { StopOnSignal } from './stopOnSignal';

const USAGE =
  'usage: go-perf-lens record --pid PID --duration S [--freq 999] [--event auto|cycles|cpu-clock] [--sampler auto|perf|bpf] [--host user@host[:port]] -o session.json';

const SAMPLER_WORDS = {
  auto: 'the eBPF sampler where it runs, else perf',
  bpf: 'the eBPF sampler',
  perf: 'perf',
} as const;

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
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const args = parseArgs(
    argv,
    { values: ['pid', 'duration', 'freq', 'event', 'host', 'output', 'sampler'], aliases: { '-o': 'output' } },
    USAGE,
  );
  if (args.positionals.length) throw new UserError(`unexpected argument "${args.positionals[0]}"`, USAGE, 'usage');
  const pid = intOption(args, 'pid', undefined, 1, 2 ** 22, USAGE);
  if (pid === undefined) throw new UserError('record needs --pid PID', USAGE, 'usage');
  const durationRaw = args.values.get('duration');
  if (durationRaw === undefined) throw new UserError('record needs --duration SECONDS', USAGE, 'usage');
  const durationSec = Number(durationRaw);
  if (!/^\d+(\.\d+)?$/.test(durationRaw) || !(durationSec > 0) || durationSec > 3600) {
    throw new UserError(`--duration must be a number of seconds above 0 and at most 3600 (got "${durationRaw}")`, USAGE, 'usage');
  }
  const freqHz = intOption(args, 'freq', 999, 1, MAX_SAMPLING_HZ, USAGE)!;
  const event = args.values.get('event') ?? 'auto';
  if (event !== 'auto' && event !== 'cycles' && event !== 'cpu-clock')
    throw new UserError(`--event must be auto, cycles or cpu-clock (got "${event}")`, USAGE, 'usage');
  // --sampler bpf: the eBPF sampler (src/commands/recordBpfProfile.ts), which puts back the
  // callers that perf's frame-pointer stacks skip at frameless points; auto (the default): that
  // sampler where it can run, else perf (recordCpuProfile says which in the profile).
  const sampler = args.values.get('sampler') ?? 'auto';
  if (sampler !== 'auto' && sampler !== 'perf' && sampler !== 'bpf')
    throw new UserError(`--sampler must be auto, perf or bpf (got "${sampler}")`, USAGE, 'usage');
  const out = args.values.get('output');
  if (!out) throw new UserError('record needs -o session.json', USAGE, 'usage');
  const host = args.values.get('host');
  const target: Target = host ? parseHost(host) : { kind: 'local' };

  checkOutputPath(out, 'session.json');

  const signals = new StopOnSignal();
  try {
    const where = target.kind === 'ssh' ? ` on ${target.host}` : '';
    process.stderr.write(`starting to record pid ${pid}${where} with ${SAMPLER_WORDS[sampler]}…\n`);
    // Said once samples are really being taken: the eBPF sampler's compile can take seconds.
    const onRecording = (): void => {
      process.stderr.write(
        `recording pid ${pid}${where} for ${durationSec} s at ${freqHz} Hz (Ctrl-C stops early and keeps the recording)…\n`,
      );
    };
    let profile;
    try {
      profile = await recordCpuProfile(
        target,
        { pid, durationSec, freqHz, event, sampler },
        { signal: signals.signal, onStart: signals.onStart, onRecording },
      );
    } catch (e) {
      if (e instanceof UserError && e.code === 'cancelled') {
        const why = signals.stopRequested ? 'stopped before anything was recorded' : 'cancelled';
        throw new UserError(`${why}: nothing was written to ${out}`, undefined, 'cancelled');
      }
      throw e;
    }
    // A second signal while the helper was winding down: discard, as promised.
    if (signals.signal.aborted) throw new UserError(`cancelled: nothing was written to ${out}`, undefined, 'cancelled');
    for (const w of profile.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
    writeOutputFile(out, serializeSession(makeSession(profile, 'go-perf-lens record')));
    process.stderr.write(
      `recorded ${profile.totalSamples} samples of pid ${pid} over ${coveredText(profile)} (${profile.event.name}${profile.event.fallbackReason ? `: ${profile.event.fallbackReason}` : ''}) → ${out}\n`,
    );
    const stacks = stacksText(profile);
    if (stacks) process.stderr.write(`stacks: ${stacks}\n`);
    if (profile.target?.recordedAs) process.stderr.write(`${recordedAsText(profile.target.recordedAs)}\n`);
    return 0;
  } finally {
    signals.dispose();
  }
}

/** "3.0 s", or "2.1 s of the 3600 s asked for (stopped early)". */
function coveredText(p: Profile): string {
  const sec = `${(p.durationNanos / 1e9).toFixed(1)} s`;
  if (!p.ended || p.ended.by === 'duration') return sec;
  const how =
    p.ended.by === 'stop'
      ? 'stopped early'
      : p.ended.by === 'target-exited'
        ? `PID ${p.target?.pid} exited: partial profile`
        : 'perf ended early';
  return `${sec} of the ${p.ended.requestedSec} s asked for (${how})`;
}
