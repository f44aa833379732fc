/**
 * `go-perf-lens info --binary PATH`: what a binary says about itself, as one JSON object:
 * buildId, goVersion, modulePath, vcsRevision, vcsModified, hasDwarf, hasPclntab,
 * dwarfVersion (null where the binary does not record it), plus goBuildId and the backend the
 * symbolizer would use.
 */
import { UserError } from '../util/userError';
import { FormatError } from '../util/byteReader';
import { parseElf } from '../formats/elf';
import { binaryInfo } from '../symbolize/openSymbolizer';
import { readBinary } from './readBinary';

const USAGE = 'usage: go-perf-lens info --binary PATH\n';

export async function run(argv: string[]): Promise<number> {
  let binary: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      process.stdout.write(USAGE);
      return 0;
    }
    if (a === '--binary') {
      binary = argv[++i];
      if (binary === undefined) throw new UserError('--binary needs a value', USAGE.trimEnd(), 'usage');
    } else if (a.startsWith('--binary=')) binary = a.slice('--binary='.length);
    else throw new UserError(`unknown option "${a}"`, USAGE.trimEnd(), 'usage');
  }
  if (!binary) throw new UserError('info needs --binary PATH', USAGE.trimEnd(), 'usage');
  const bytes = readBinary(binary);
  let elf;
  try {
    elf = parseElf(bytes);
  } catch (e) {
    if (e instanceof FormatError && e.section === 'ELF header' && e.offset <= 5) {
      throw new UserError(
        `${binary} is not a 64-bit little-endian ELF file (${e.message})`,
        "pass the Go program's executable (for a running process: /proc/PID/exe)",
        'not-elf',
      );
    }
    throw e;
  }
  const info = binaryInfo(elf);
  if (!info.hasDwarf && !info.hasPclntab) {
    const what = info.pclntabProblem
      ? `no DWARF debug information, and ${info.pclntabProblem}`
      : 'neither DWARF debug information nor a Go .gopclntab';
    throw new UserError(
      `${binary} has ${what}`,
      'build it without stripping debug information, or pass the unstripped binary',
      'no-debug-info',
    );
  }
  const out = {
    buildId: info.buildId ?? null,
    goVersion: info.goVersion ?? null,
    modulePath: info.modulePath ?? null,
    vcsRevision: info.vcsRevision ?? null,
    vcsModified: info.vcsModified ?? null,
    hasDwarf: info.hasDwarf,
    hasPclntab: info.hasPclntab,
    pclntabProblem: info.pclntabProblem ?? null,
    dwarfVersion: info.dwarfVersion ?? null,
    goBuildId: info.goBuildId ?? null,
    backend: info.hasPclntab ? 'gopclntab' : 'dwarf',
  };
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return 0;
}
