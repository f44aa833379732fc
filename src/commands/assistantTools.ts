/**
 * The tools Go Perf Lens offers an AI assistant, once for both front ends: `go-perf-lens mcp`
 * (src/cli/mcp.ts, a Model Context Protocol server) and VS Code's agent mode
 * (languageModelTools.ts; package.json's `languageModelTools` declares the same names and
 * schemas, and a unit test holds the two together). Each tool takes validated arguments, runs
 * the same flows as the CLI and the editor (recordCpuProfile, traceFunctions, the profile
 * readers) and answers in compact text (assistantText.ts). Failures are text too: the
 * UserError's message and what to do, never a stack. No vscode import.
 */
import * as fs from 'node:fs';
import { type PasswordPrompt, type Target, listGoProcesses } from '../capture';
import { FormatError } from '../util/byteReader';
import type { Profile } from '../model/profile';
import { UserError } from '../util/userError';
import { type SortBy, hotLinesText, hottestLinesText, latencyText, processesText, profileSummary, topFunctionsText } from './assistantText';
import { traceFunctions } from './goTracing';
import { measureCpu, orderProcesses } from './processList';
import { MAX_SAMPLING_HZ, recordCpuProfile } from './recordCpuProfile';

/** One argument of a tool, as JSON Schema says it (the subset the tools use). */
export type ToolParam =
  | { type: 'integer'; description: string; minimum: number; maximum: number; default?: number }
  | { type: 'string'; description: string; enum?: string[]; default?: string };

export interface ToolSpec {
  name: string;
  /** A short title for people (VS Code's displayName, MCP's title). */
  title: string;
  /** What a language model reads to decide when and how to call it. */
  description: string;
  params: Record<string, ToolParam>;
  required: string[];
  /**
   * Set for a tool that starts the privileged helper against a process (perf, eBPF probes): what
   * the user is asked before it runs, and what is shown while it does. VS Code asks; an MCP
   * client asks by its own rules (the tool is marked as not read-only), and the helper refuses
   * what the caller may not touch.
   */
  privileged?: (a: ToolInput) => { title: string; message: string; running: string };
}

/** What a front end supplies: where the current profile lives and how to open a file or URL. */
export interface AssistantHost {
  /** Where processes are listed, recorded and traced. */
  target: Target;
  askPassword?: PasswordPrompt;
  binaryCacheDir?: string;
  /** The profile a tool answers from when none is named. */
  current(): { profile: Profile; label: string } | undefined;
  /** A recording or an opened profile becomes the current one (in the editor: its heat). */
  setCurrent(profile: Profile, label: string): void;
  /** Reads a profile file (perf.data, pprof, session) or fetches a pprof endpoint URL. */
  open(source: string, binary: string | undefined, signal: AbortSignal | undefined): Promise<{ profile: Profile; label: string }>;
  /** The local path of a recorded source file (the editor's path mappings); default: as recorded. */
  localPath?(recorded: string): string;
}

/** How a call is run: cancelled by `signal`; `progress` hears what a long tool is doing (recording, probes attached). */
export interface CallOptions {
  signal?: AbortSignal;
  progress?: (message: string) => void;
}

export interface ToolAnswer {
  text: string;
  isError: boolean;
}

const PID: ToolParam = {
  type: 'integer',
  description: 'Process ID of a running Go program (see goPerfLens_listProcesses).',
  minimum: 1,
  maximum: 4194304,
};
const SECONDS = (what: string, def: number): ToolParam => ({
  type: 'integer',
  description: `How long to ${what}, in seconds (default ${def}).`,
  minimum: 1,
  maximum: 60,
  default: def,
});
const PROFILE: ToolParam = {
  type: 'string',
  description:
    'A saved profile to read instead of the current one: a perf.data, pprof (.pb.gz) or session (.json) file path, or a pprof endpoint URL. Omit to use the profile recorded or opened last.',
};

export const ASSISTANT_TOOLS: readonly ToolSpec[] = [
  {
    name: 'goPerfLens_listProcesses',
    title: 'List Go processes',
    description:
      'Lists the Go programs running on this machine: PID, name, Go version, CPU use, executable, module and arguments. Use it to find the PID to record or trace.',
    params: {},
    required: [],
  },
  {
    name: 'goPerfLens_recordCpu',
    title: 'Record CPU profile',
    description:
      "Records where a running Go process spends its CPU (perf sampling through Go Perf Lens's privileged helper) for some seconds, makes it the current profile and answers with its top functions and hottest lines (function, file:line, share of samples). Run it while the process does the slow work.",
    params: {
      pid: PID,
      seconds: SECONDS('record', 5),
      frequencyHz: {
        type: 'integer',
        description: 'Samples per second (default 999).',
        minimum: 1,
        maximum: MAX_SAMPLING_HZ,
        default: 999,
      },
    },
    required: ['pid'],
    privileged: (a) => ({
      title: `Record the CPU of PID ${a.pid}?`,
      message: `Go Perf Lens will record process ${a.pid} with perf for ${a.seconds} s at ${a.frequencyHz} Hz, through its helper (as root unless you may profile that process yourself).`,
      running: `Recording the CPU of PID ${a.pid} for ${a.seconds} s…`,
    }),
  },
  {
    name: 'goPerfLens_topFunctions',
    title: 'Top functions of a profile',
    description:
      'The functions with the most CPU samples in the current profile (or a saved one): self share (in their own code) and cumulative share (with what they call), sample counts, and where each is declared (file:line).',
    params: {
      profile: PROFILE,
      count: { type: 'integer', description: 'How many functions (default 15).', minimum: 1, maximum: 200, default: 15 },
      sortBy: {
        type: 'string',
        description: 'Order by self share (default) or cumulative share.',
        enum: ['self', 'cumulative'],
        default: 'self',
      },
    },
    required: [],
  },
  {
    name: 'goPerfLens_hotLines',
    title: 'Hot lines of a file',
    description:
      "The hottest lines of one Go source file in the current profile (or a saved one): file:line, the function, cumulative and self share with sample counts, and the line's code.",
    params: {
      file: { type: 'string', description: 'The source file: a full path, or its end such as "server/handler.go".' },
      profile: PROFILE,
      count: { type: 'integer', description: 'How many lines (default 10).', minimum: 1, maximum: 200, default: 10 },
    },
    required: ['file'],
  },
  {
    name: 'goPerfLens_traceLatency',
    title: 'Trace latency of a function',
    description:
      "Measures how long each call of a Go function takes in a running process (eBPF uprobes through Go Perf Lens's privileged helper): calls, calls per second, average, p50, p90, p99 and a histogram of wall-clock time per call, with the calls that could not be timed.",
    params: {
      pid: PID,
      function: {
        type: 'string',
        description:
          'The function as Go names it: main.handle, main.(*Server).handle, net/http.(*conn).serve, main.Map[...] (every instantiation).',
      },
      seconds: SECONDS('trace', 5),
    },
    required: ['pid', 'function'],
    privileged: (a) => ({
      title: `Trace ${a.function} in PID ${a.pid}?`,
      message: `Go Perf Lens will attach eBPF probes to ${a.function} in process ${a.pid} for ${a.seconds} s, through its privileged helper (as root); they are removed afterwards.`,
      running: `Tracing ${a.function} in PID ${a.pid} for ${a.seconds} s…`,
    }),
  },
  {
    name: 'goPerfLens_openProfile',
    title: 'Open a profile',
    description:
      "Opens a profile file (perf.data, pprof .pb.gz, or a Go Perf Lens session .json) or fetches a Go program's pprof endpoint (http://HOST:PORT/debug/pprof/profile?seconds=10, /heap, /allocs, /block, /mutex, /goroutine), makes it the current profile and answers with its top functions.",
    params: {
      source: { type: 'string', description: 'A file path or a pprof endpoint URL.' },
      binary: { type: 'string', description: 'The Go binary a perf.data recorded, when it is no longer where perf saw it.' },
    },
    required: ['source'],
  },
];

/** The JSON Schema of a tool's input (MCP's inputSchema, package.json's languageModelTools inputSchema). */
export function inputSchema(spec: ToolSpec): { type: 'object'; properties: Record<string, ToolParam>; required?: string[] } {
  return { type: 'object', properties: spec.params, ...(spec.required.length ? { required: spec.required } : {}) };
}

export function findTool(name: string): ToolSpec | undefined {
  return ASSISTANT_TOOLS.find((t) => t.name === name);
}

export type ToolInput = Record<string, string | number>;

/** Checks a tool's arguments against its spec; defaults filled in. Errors say which argument and what it takes. */
export function validateInput(spec: ToolSpec, raw: unknown): ToolInput {
  const usage = `${spec.name} takes ${
    Object.keys(spec.params).length
      ? Object.entries(spec.params)
          .map(([k, p]) => `${k} (${p.type}${spec.required.includes(k) ? ', required' : ''})`)
          .join(', ')
      : 'no arguments'
  }`;
  if (raw !== undefined && raw !== null && (typeof raw !== 'object' || Array.isArray(raw)))
    throw new UserError(`the arguments of ${spec.name} must be an object`, usage, 'bad-arguments');
  const given = (raw ?? {}) as Record<string, unknown>;
  const out: ToolInput = {};
  for (const key of Object.keys(given)) {
    if (!(key in spec.params)) throw new UserError(`${spec.name} has no argument "${key}"`, usage, 'bad-arguments');
  }
  for (const [key, p] of Object.entries(spec.params)) {
    const v = given[key];
    if (v === undefined || v === null) {
      if (spec.required.includes(key)) throw new UserError(`${spec.name} needs "${key}": ${p.description}`, usage, 'bad-arguments');
      if (p.default !== undefined) out[key] = p.default;
      continue;
    }
    if (p.type === 'integer') {
      // A model sometimes quotes a number ("5"): take digits as the number they spell.
      const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n) || n < p.minimum || n > p.maximum)
        throw new UserError(
          `"${key}" must be a whole number from ${p.minimum} to ${p.maximum} (got ${JSON.stringify(v)})`,
          usage,
          'bad-arguments',
        );
      out[key] = n;
    } else {
      if (typeof v !== 'string' || v.trim() === '')
        throw new UserError(`"${key}" must be a non-empty string (got ${JSON.stringify(v)})`, usage, 'bad-arguments');
      if (p.enum && !p.enum.includes(v))
        throw new UserError(`"${key}" must be one of ${p.enum.join(', ')} (got ${JSON.stringify(v)})`, usage, 'bad-arguments');
      out[key] = v.trim();
    }
  }
  return out;
}

/** An error as the text an assistant reads: what happened and what to do; a bug says so without a stack. */
export function errorText(e: unknown): string {
  if (e instanceof UserError) return `Error: ${e.message}${e.hint ? `\nWhat to do: ${e.hint}` : ''}`;
  if (e instanceof FormatError) return `Error: cannot read the input: ${e.message}`;
  const msg = e instanceof Error ? e.message : String(e);
  return `Error: go-perf-lens failed unexpectedly (please report it): ${msg}`;
}

/** The tools run against one host; it keeps the last profile read from a file, so asking twice reads it once. */
export class AssistantTools {
  private cached?: { source: string; stamp: string; profile: Profile; label: string };

  constructor(private readonly host: AssistantHost) {}

  /** Runs a tool by name with raw arguments; every failure comes back as an error answer. */
  async call(name: string, raw: unknown, how: CallOptions = {}): Promise<ToolAnswer> {
    try {
      const spec = findTool(name);
      if (!spec)
        throw new UserError(
          `there is no tool "${name}"`,
          `the tools are ${ASSISTANT_TOOLS.map((t) => t.name).join(', ')}`,
          'bad-arguments',
        );
      const text = await this.run(spec.name, validateInput(spec, raw), how);
      return { text, isError: false };
    } catch (e) {
      return { text: errorText(e), isError: true };
    }
  }

  private local = (recorded: string): string => this.host.localPath?.(recorded) ?? recorded;

  private async run(name: string, a: ToolInput, how: CallOptions): Promise<string> {
    const h = this.host;
    const { signal, progress } = how;
    const opts = { signal, askPassword: h.askPassword, binaryCacheDir: h.binaryCacheDir };
    switch (name) {
      case 'goPerfLens_listProcesses': {
        const procs = await listGoProcesses(h.target, opts);
        const cpu = h.target.kind === 'local' ? await measureCpu(procs.map((p) => p.pid)) : new Map<number, number>();
        const listed = orderProcesses(procs.map((p) => ({ process: p, ownBuild: false, cpuPercent: cpu.get(p.pid) })));
        return processesText(listed).join('\n');
      }
      case 'goPerfLens_recordCpu': {
        const pid = a.pid as number;
        const profile = await recordCpuProfile(
          h.target,
          { pid, durationSec: a.seconds as number, freqHz: a.frequencyHz as number, event: 'auto', sampler: 'perf' },
          { ...opts, onProgress: (p) => progress?.(p.message) },
        );
        const name = profile.target?.cmdline?.split('/').pop();
        const label = `PID ${pid}${name ? ` ${name}` : ''}`;
        h.setCurrent(profile, label);
        return this.overview(profile, label);
      }
      case 'goPerfLens_topFunctions': {
        const { profile, label } = await this.profileFor(a.profile as string | undefined, signal);
        return [
          ...profileSummary(profile, label),
          '',
          ...topFunctionsText(profile, a.count as number, a.sortBy as SortBy, this.local),
        ].join('\n');
      }
      case 'goPerfLens_hotLines': {
        const { profile, label } = await this.profileFor(a.profile as string | undefined, signal);
        return [...profileSummary(profile, label), '', ...hotLinesText(profile, a.file as string, a.count as number, this.local)].join(
          '\n',
        );
      }
      case 'goPerfLens_traceLatency': {
        const fn = a.function as string;
        const r = await traceFunctions({
          ...opts,
          target: h.target,
          pid: a.pid as number,
          durationSec: a.seconds as number,
          functions: [fn],
          onAttached: (info) => progress?.(`attached ${info.probes} probe(s) to PID ${a.pid}; tracing ${fn} for ${a.seconds} s`),
        });
        const out = [`Latency of ${fn} in PID ${a.pid} (eBPF uprobes at entry and at every return, paired by goroutine):`];
        r.latency.forEach((f, i) => {
          const exits = r.plan.functions.find((p) => p.name === f.function)?.exitJumps.length ?? 0;
          out.push(...latencyText(f, r.wire.elapsedSec, r.wire.functions[i]?.returnsWithoutEntry ?? 0, exits > 0));
        });
        if (r.wire.endedBy === 'target-exited') out.push(`PID ${a.pid} exited during the trace: the figures cover the time until then.`);
        return out.join('\n');
      }
      case 'goPerfLens_openProfile': {
        const { profile, label } = await this.read(a.source as string, a.binary as string | undefined, signal);
        h.setCurrent(profile, label);
        return this.overview(profile, label);
      }
      default:
        throw new Error(`tool ${name} has no implementation`);
    }
  }

  /** Summary, top functions and the hottest lines: the first answer after recording or opening. */
  private overview(profile: Profile, label: string): string {
    const hot = hottestLinesText(profile, 5, this.local);
    return [
      ...profileSummary(profile, label),
      '',
      ...topFunctionsText(profile, 10, 'self', this.local),
      ...(hot.length ? ['', ...hot] : []),
    ].join('\n');
  }

  private async profileFor(source: string | undefined, signal: AbortSignal | undefined): Promise<{ profile: Profile; label: string }> {
    if (source !== undefined) return this.read(source, undefined, signal);
    const cur = this.host.current();
    if (!cur)
      throw new UserError(
        'there is no current profile',
        'record one with goPerfLens_recordCpu, open one with goPerfLens_openProfile, or name a profile file in "profile"',
        'no-profile',
      );
    return cur;
  }

  /** Opens a file (reusing the last one read while it is unchanged) or fetches a URL (always anew). */
  private async read(
    source: string,
    binary: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ profile: Profile; label: string }> {
    const stamp = fileStamp(source, binary);
    if (stamp !== undefined && this.cached?.source === source && this.cached.stamp === stamp) return this.cached;
    const read = await this.host.open(source, binary, signal);
    if (stamp !== undefined) this.cached = { source, stamp, ...read };
    return read;
  }
}

/** A file's identity for the cache (size and mtime, and the binary named); undefined for URLs and missing files. */
function fileStamp(source: string, binary: string | undefined): string | undefined {
  if (/^[a-z]+:\/\//i.test(source)) return undefined;
  try {
    const st = fs.statSync(source);
    return `${st.size}:${st.mtimeMs}:${binary ?? ''}`;
  } catch {
    return undefined;
  }
}
