/**
 * A small, strict option parser for the profile subcommands: `--name VALUE`, `--name=VALUE`,
 * `-o VALUE`, boolean flags, positionals; unknown options are usage errors.
 */
import { UserError } from '../util/userError';

export interface ArgSpec {
  /** Options taking a value, by long name (without "--"); aliases map short forms to them. */
  values: string[];
  flags?: string[];
  aliases?: Record<string, string>;
}

export interface ParsedArgs {
  values: Map<string, string>;
  flags: Set<string>;
  positionals: string[];
}

export function parseArgs(argv: string[], spec: ArgSpec, usage: string): ParsedArgs {
  const out: ParsedArgs = { values: new Map(), flags: new Set(), positionals: [] };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i]!;
    if (a === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      out.positionals.push(a);
      continue;
    }
    let inline: string | undefined;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0) {
      inline = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const name = spec.aliases?.[a] ?? (a.startsWith('--') ? a.slice(2) : a);
    if (spec.flags?.includes(name)) {
      if (inline !== undefined) throw new UserError(`${a} takes no value`, usage, 'usage');
      out.flags.add(name);
    } else if (spec.values.includes(name)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UserError(`${a} needs a value`, usage, 'usage');
      out.values.set(name, v);
    } else {
      throw new UserError(`unknown option "${a}"`, usage, 'usage');
    }
  }
  return out;
}

/** A positive integer option (or its default), bounded. */
export function intOption(
  args: ParsedArgs,
  name: string,
  def: number | undefined,
  min: number,
  max: number,
  usage: string,
): number | undefined {
  const v = args.values.get(name);
  if (v === undefined) return def;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new UserError(`--${name} must be a whole number from ${min} to ${max} (got "${v}")`, usage, 'usage');
  return Number(v);
}
