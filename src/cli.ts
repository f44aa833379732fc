/**
 * go-perf-lens: the command-line front end over the same layers as the extension.
 * Each subcommand lives in src/cli/<name>.ts and exports `run(argv): Promise<number>`.
 */
import { FormatError } from './util/byteReader';
import { UserError } from './util/userError';

type Subcommand = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const SUBCOMMANDS: Record<string, Subcommand> = {
  symbolize: { summary: 'symbolize --binary PATH < addresses: one JSON line of frames per address', load: () => import('./cli/symbolize') },
  info: { summary: 'info --binary PATH: build id, Go version, module, VCS, debug info present', load: () => import('./cli/info') },
  record: { summary: 'record --pid PID --duration S [--freq 999] [--event auto|cycles|cpu-clock] [--host user@host] -o session.json', load: () => import('./cli/record') },
  report: { summary: 'report INPUT [--binary PATH] [--top N] [--json]: top functions and lines of a perf.data, pprof or session', load: () => import('./cli/report') },
  pprof: { summary: 'pprof INPUT [--binary PATH] -o out.pb.gz: export to pprof (profile.proto, gzip)', load: () => import('./cli/pprof') },
  trace: { summary: 'trace --pid PID --func NAME [--func NAME ...] --duration S [--json]: per-call latency (eBPF)', load: () => import('./cli/trace') },
  sched: { summary: 'sched --pid PID --duration S [--json]: goroutine run-queue latency (eBPF)', load: () => import('./cli/sched') },
  syscalls: { summary: 'syscalls --pid PID --duration S [--stacks] [--json]: syscall counts and latency (eBPF)', load: () => import('./cli/syscalls') },
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

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (err: unknown) => {
    if (err instanceof UserError) {
      process.stderr.write(`go-perf-lens: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
      process.exitCode = 1;
    } else if (err instanceof FormatError) {
      process.stderr.write(`go-perf-lens: cannot read the input: ${err.message}\n`);
      process.exitCode = 1;
    } else {
      const e = err as Error;
      process.stderr.write(`go-perf-lens: internal error (please report): ${e?.stack ?? String(err)}\n`);
      process.exitCode = 70;
    }
  },
);
