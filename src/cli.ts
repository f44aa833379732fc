/**
 * go-perf-lens: the command-line front end over the same layers as the extension.
 * Each subcommand lives in src/cli/<name>.ts and exports `run(argv): Promise<number>`.
 */
import { FormatError } from './util/byteReader';
import { UserError } from './util/userError';

type Subcommand = {
  summary: string;
  load: () => Promise<{ run(argv: string[]): Promise<number> }>;
  /**
   * Reads and writes files only (no helper, no child process): it leaves as soon as its output
   * is written. A natural exit also waits for V8's background work (optimizing compiles still
   * running), 10–30 ms of every command here.
   */
  offline?: true;
};

const SUBCOMMANDS: Record<string, Subcommand> = {
  symbolize: {
    summary: 'symbolize --binary PATH < addresses: one JSON line of frames per address',
    load: () => import('./cli/symbolize'),
    offline: true,
  },
  info: {
    summary: 'info --binary PATH: build id, Go version, module, VCS, debug info present',
    load: () => import('./cli/info'),
    offline: true,
  },
  record: {
    summary: 'record --pid PID --duration S [--freq 999] [--event auto|cycles|cpu-clock] [--host user@host] -o session.json',
    load: () => import('./cli/record'),
  },
  report: {
    summary:
      'report INPUT [--binary PATH] [--top N] [--json]: top functions and lines of a perf.data, pprof, session or pprof endpoint URL',
    load: () => import('./cli/report'),
    offline: true,
  },
  pprof: {
    summary: 'pprof INPUT [--binary PATH] -o out.pb.gz: export to pprof (profile.proto, gzip); INPUT may be a pprof endpoint URL',
    load: () => import('./cli/pprof'),
    offline: true,
  },
  bench: {
    summary: 'bench --pkg DIR --bench REGEX [--benchtime 2s] [--json] [-o session.json]: profile Go benchmarks (go test -c, perf)',
    load: () => import('./cli/bench'),
  },
  trace: {
    summary: 'trace --pid PID --func NAME [--func NAME ...] --duration S [--json]: per-call latency (eBPF)',
    load: () => import('./cli/trace'),
  },
  sched: { summary: 'sched --pid PID --duration S [--json]: goroutine run-queue latency (eBPF)', load: () => import('./cli/sched') },
  allocs: {
    summary: 'allocs --pid PID --duration S [--json]: estimated bytes and objects allocated per function and line (eBPF)',
    load: () => import('./cli/allocs'),
  },
  blocking: {
    summary: 'blocking --pid PID --duration S [--json]: where goroutines wait and for how long, per function, line and reason (eBPF)',
    load: () => import('./cli/blocking'),
  },
  syscalls: {
    summary: 'syscalls --pid PID --duration S [--stacks] [--json]: syscall counts and latency (eBPF)',
    load: () => import('./cli/syscalls'),
  },
  mcp: {
    summary: 'mcp: a Model Context Protocol server on stdio, for AI assistants (record, trace, top functions, hot lines, open profiles)',
    load: () => import('./cli/mcp'),
  },
  'install-helper': {
    summary:
      'install-helper [--group go-perf-lens] [--admin-group NAME] [--host USER@HOST [--yes]]: as root, install the helper and its sudoers drop-in (or on HOST over ssh, one sudo prompt there)',
    load: () => import('./cli/installHelper'),
  },
  'uninstall-helper': {
    summary:
      'uninstall-helper [--host USER@HOST [--yes]]: as root, remove the helper, its sudoers drop-in and its group (or on HOST over ssh)',
    load: async () => ({ run: (await import('./cli/installHelper')).runUninstall }),
  },
};

function usage(): string {
  const lines = Object.entries(SUBCOMMANDS).map(([name, s]) => `  ${name.padEnd(10)} ${s.summary}`);
  return `usage: go-perf-lens <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const sub = SUBCOMMANDS[name];
  if (!sub) {
    process.stderr.write(`go-perf-lens: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return (await sub.load()).run(rest);
}

const args = process.argv.slice(2);

/** Sets the exit code; an offline subcommand then leaves once stdout and stderr are written. */
function finish(code: number): void {
  process.exitCode = code;
  if (!SUBCOMMANDS[args[0] ?? '']?.offline) return;
  let pending = 2;
  const flushed = (): void => {
    if (--pending === 0) process.exit();
  };
  process.stdout.write('', flushed);
  process.stderr.write('', flushed);
}

main(args).then(
  (code) => finish(code),
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`go-perf-lens: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
      finish(1);
    } else if (err instanceof FormatError) {
      process.stderr.write(`go-perf-lens: cannot read the input: ${err.message}\n`);
      finish(1);
    } else {
      const e = err as Error;
      process.stderr.write(`go-perf-lens: internal error (please report): ${e?.stack ?? String(err)}\n`);
      finish(70);
    }
  },
);
