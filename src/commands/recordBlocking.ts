/**
 * Blocking heat end to end (no vscode here): find the probe points of runtime.gopark and
 * runtime.execute (after their stack checks) in the target's binary, run the helper's
 * `blocking` (bpf/go_block_heat.c), and turn the paired waits into blocked time per function,
 * line and wait reason.
 */
import { buildIdArgs, runHelper } from '../capture';
import { type BlockHeat, ingestBlocking, type WireBlockingResult } from '../ingest/blockHeat';
import { GoBinaryIndex } from '../symbolize/goTracePlan';
import { waitReasonNames } from '../symbolize/goWaitReasons';
import type { LoadedBinary } from '../ingest/loadBinary';
import type { TracingOptions } from './goTracing';
import { loadTargetBinary } from './targetBinary';

export interface BlockingRecording {
  /** The target's binary, as the recording was symbolized with. */
  bin: LoadedBinary;
  heat: BlockHeat;
  wire: WireBlockingResult;
}

export async function recordBlocking(opts: TracingOptions & { maxHitsPerSec?: number }): Promise<BlockingRecording> {
  const bin = await loadTargetBinary(opts.target, opts.pid, opts);
  const idx = new GoBinaryIndex(bin.elf);
  const entry = (name: string): number => Number(idx.probesOf(idx.resolve(name)[0]!).entry);
  const args: Record<string, unknown> = {
    pid: opts.pid,
    duration: opts.durationSec,
    gopark: entry('runtime.gopark'),
    execute: entry('runtime.execute'),
    ...buildIdArgs(bin.elf),
  };
  if (opts.maxHitsPerSec !== undefined) args.maxHitsPerSec = opts.maxHitsPerSec;
  const run = await runHelper<WireBlockingResult>(opts.target, 'blocking', args, {
    signal: opts.signal,
    askPassword: opts.askPassword,
    onStart: opts.onStart,
    onMessage: (m) => {
      if (m.type === 'progress' && m.phase === 'attached')
        opts.onAttached?.({ probes: Number(m.probes), attachMs: Number(m.attachMs), compileMs: Number(m.compileMs) });
      opts.onMessage?.(m);
    },
  });
  const heat = ingestBlocking(run.result, bin, waitReasonNames(idx.goVersion));
  heat.warnings.unshift(...run.warnings);
  return { bin, heat, wire: run.result };
}
