/**
 * Options shared by the eBPF subcommands (trace, sched, syscalls), and how they run: the
 * `attached` line on stderr once the probes are live, and Ctrl-C as a graceful early stop
 * (the results so far are still printed; a second Ctrl-C cancels).
 */
import type { HelperProcess } from '../capture';
import type { TracingOptions } from '../commands/goTracing';
import { UserError } from '../util/userError';

export interface EbpfCliOptions {
  pid: number;
  durationSec: number;
  json: boolean;
  /** Repeatable options (e.g. --func), in order. */
  multi: Map<string, string[]>;
  flags: Set<string>;
  python?: string;
}

/**
 * Parses `--pid N --duration S [--json] [--python PATH]` plus the subcommand's own options:
 * `multiNames` take a value and may repeat; `flagNames` take none.
 */
export function parseEbpfArgs(argv: string[], usage: string, multiNames: string[] = [], flagNames: string[] = []): EbpfCliOptions | 'help' {
  const o: EbpfCliOptions = { pid: 0, durationSec: 10, json: false, multi: new Map(), flags: new Set() };
  let pidSeen = false;
  const value = (i: number, name: string): string => {
    const v = argv[i];
    if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new UserError(`--${name} needs a value`, usage.trimEnd(), 'usage');
    return v;
  };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    let inline: string | undefined;
    if (a.startsWith('--') && a.includes('=')) {
      inline = a.slice(a.indexOf('=') + 1);
      a = a.slice(0, a.indexOf('='));
    }
    const take = (name: string): string => (inline !== undefined ? inline : value(++i, name));
    if (a === '--help' || a === '-h') return 'help';
    if (a === '--pid') {
      const v = take('pid');
      if (!/^[1-9][0-9]{0,9}$/.test(v)) throw new UserError(`--pid must be a positive whole number, got "${v}"`, usage.trimEnd(), 'usage');
      o.pid = Number(v);
      pidSeen = true;
    } else if (a === '--duration') {
      const v = take('duration');
      if (!/^[0-9]+(\.[0-9]+)?$/.test(v) || Number(v) < 1 || Number(v) > 86400)
        throw new UserError(`--duration must be a number of seconds from 1 to 86400, got "${v}"`, usage.trimEnd(), 'usage');
      o.durationSec = Math.round(Number(v));
    } else if (a === '--json') {
      o.json = true;
    } else if (a === '--python') {
      o.python = take('python');
    } else if (multiNames.includes(a.slice(2)) && a.startsWith('--')) {
      const name = a.slice(2);
      const list = o.multi.get(name) ?? [];
      list.push(take(name));
      o.multi.set(name, list);
    } else if (flagNames.includes(a.slice(2)) && a.startsWith('--')) {
      o.flags.add(a.slice(2));
    } else {
      throw new UserError(`unknown option "${argv[i]}"`, usage.trimEnd(), 'usage');
    }
  }
  if (!pidSeen) throw new UserError('--pid PID is required', usage.trimEnd(), 'usage');
  return o;
}

/** The last value of a whole-number option in [lo, hi] (undefined when not given); a usage error otherwise. */
export function intOption(o: EbpfCliOptions, name: string, lo: number, hi: number, usage: string): number | undefined {
  const v = o.multi.get(name)?.at(-1);
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,9}$/.test(v) || Number(v) < lo || Number(v) > hi)
    throw new UserError(`--${name} must be a whole number from ${lo} to ${hi}, got "${v}"`, usage.trimEnd(), 'usage');
  return Number(v);
}

/** TracingOptions for a local run, wired to the terminal: `attached` on stderr, Ctrl-C stops. */
export function terminalTracing(o: EbpfCliOptions, what: string): { opts: TracingOptions; dispose: () => void } {
  const t0 = Date.now();
  const abort = new AbortController();
  let client: HelperProcess | undefined;
  let interrupts = 0;
  const onSigint = (): void => {
    interrupts++;
    if (interrupts === 1 && client) {
      process.stderr.write('stopping (Ctrl-C again to cancel)...\n');
      client.stop();
    } else {
      abort.abort();
    }
  };
  process.on('SIGINT', onSigint);
  const target = o.python ? { kind: 'local' as const, python: o.python } : { kind: 'local' as const };
  const opts: TracingOptions = {
    target,
    pid: o.pid,
    durationSec: o.durationSec,
    signal: abort.signal,
    onStart: (c) => {
      client = c;
    },
    onAttached: (info) => {
      process.stderr.write(
        `attached ${info.probes} probe(s) to PID ${o.pid} in ${Date.now() - t0} ms (BPF compile ${info.compileMs} ms); ${what} for ${o.durationSec} s, Ctrl-C to stop early\n`,
      );
    },
  };
  return {
    opts,
    dispose: () => {
      process.off('SIGINT', onSigint);
    },
  };
}
