/** `go-perf-lens pprof INPUT [--binary PATH] -o out.pb.gz`: any input we read → gzipped profile.proto. */
import { gzipPprof } from '../formats/pprof';
import { toPprof } from '../ingest/toPprof';
import { UserError } from '../util/userError';
import { openInput } from './openInput';
import { checkOutputPath, writeOutputFile } from './outputFile';
import { parseArgs } from './parseArgs';

const USAGE =
  'usage: go-perf-lens pprof INPUT [--binary PATH] -o out.pb.gz   (INPUT: perf.data, pprof, session, - for standard input, or a pprof endpoint URL)';

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const args = parseArgs(argv, { values: ['binary', 'output'], aliases: { '-o': 'output' } }, USAGE);
  const [input, ...extra] = args.positionals;
  if (!input || extra.length)
    throw new UserError(input ? `unexpected argument "${extra[0]}"` : 'pprof needs an INPUT file or URL', USAGE, 'usage');
  const out = args.values.get('output');
  if (!out) throw new UserError('pprof needs -o out.pb.gz', USAGE, 'usage');
  checkOutputPath(out, 'profile.pb.gz');
  const binary = args.values.get('binary');
  const profile = await openInput(input, binary);
  writeOutputFile(out, gzipPprof(toPprof(profile)));
  for (const w of profile.warnings ?? []) process.stderr.write(`warning: ${w}\n`);
  process.stderr.write(`wrote ${out}: ${profile.totalSamples} samples, ${profile.functions.length} functions (${profile.event.name})\n`);
  return 0;
}
