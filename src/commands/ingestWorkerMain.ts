/**
 * The ingest worker's entry (bundled as dist/ingestWorkerMain.js): parse, symbolize and ingest
 * run here, on a thread of their own, so the extension host's thread never waits for them. It
 * does one job (ingestWorker.ts starts one worker per job) and answers with a profile or an
 * error; see ingestWorkerProtocol.ts for the messages.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parentPort } from 'node:worker_threads';
import { cancelledError, HelperClient } from '../capture/helperClient';
import type { HelperMessage } from '../capture/helperProtocol';
import { BpfProfileIngest, bpfTextRange, type WireBpfBatch } from '../ingest/fromBpfProfile';
import { ingestEndpointProfile } from '../ingest/fromEndpoint';
import { StreamedPerfIngest } from '../ingest/streamedPerf';
import type { Profile } from '../model/profile';
import { readProfileFile } from './readProfileFile';
import { openTargetBinary } from './targetBinary';
import { TraceTarget } from './traceTarget';
import { HeatTarget } from './heatTarget';
import { type FromWorker, toWire, type ToWorker } from './ingestWorkerProtocol';

/** Nice +10: a CPU shared with a nice-0 thread goes ~90% to it. */
const WORKER_NICE = 10;

const port = parentPort;
if (!port) throw new Error('ingestWorkerMain.ts runs as a worker thread (see ingestWorker.ts)');

yieldToOtherThreads();

const send = (m: FromWorker): void => port.postMessage(m);
/** The profile so far, for live heat: without its stack table (what the views draw has no need of it). */
const sendPartial = (profile: Profile): void => send({ op: 'partial', json: JSON.stringify({ ...profile, stacks: undefined }) });
let binaryAnswer: ((path: string | undefined) => void) | undefined;
let live: StreamedPerfIngest | undefined;
/**
 * The eBPF sampler's stacks taken in so far; whether to send the profile so far after each batch
 * and to pass the stacks on to the host too; why a batch was refused.
 */
let bpf: { ingest: BpfProfileIngest; live: boolean; keepStacks: boolean; failed?: unknown } | undefined;
let traced: TraceTarget | undefined;
/** The helper runs asked for (helper-run), by id, until their process has exited; they run one after the other. */
const helperRuns = new Map<number, { client?: HelperClient; cancelled?: boolean }>();
let helperQueue: Promise<void> = Promise.resolve();
let heat: HeatTarget | undefined;

function tracedTarget(): TraceTarget {
  if (!traced) throw new Error("a tracer's question before trace-open");
  return traced;
}

function heatTarget(): HeatTarget {
  if (!heat) throw new Error('an allocation or blocking question before heat-open');
  return heat;
}

function fail(e: unknown): void {
  send({ op: 'error', error: toWire(e) });
}

/**
 * Runs the helper here to its end: its messages go to the host as they come, perf.data's bytes
 * into the streamed ingest instead (the host never sees them); then how it ended, and once its
 * process has exited (after a failure, HelperClient's stop, SIGTERM and SIGKILL run here), that.
 */
async function runHelperHere(m: Extract<ToWorker, { op: 'helper-run' }>): Promise<void> {
  const { id } = m;
  const run = helperRuns.get(id)!;
  let client: HelperClient;
  try {
    if (run.cancelled) throw cancelledError();
    client = new HelperClient(m.plan, m.envelope, { tempDir: m.dir });
  } catch (e) {
    helperRuns.delete(id);
    send({ op: 'helper-failed', id, error: toWire(e) });
    send({ op: 'helper-exited', id, code: null, signal: null });
    return;
  }
  run.client = client;
  send({ op: 'helper-started', id, pid: client.pid });
  try {
    for await (const item of client.messages()) {
      if (item.type === 'received-chunk') {
        if (item.name === 'perf.data') live?.push(item.data);
      } else send({ op: 'helper-items', id, items: [bpf ? takeStacks(item) : item] });
    }
  } catch (e) {
    send({ op: 'helper-failed', id, error: toWire(e) });
  }
  const exit = await client.exit();
  helperRuns.delete(id);
  send({ op: 'helper-exited', id, ...exit });
}

/**
 * A sampler's partial: its stacks are taken into the eBPF ingest here (and the profile so far
 * sent, when live); what goes on to the host is the partial without them (its counts stay), unless
 * the caller keeps the stacks.
 */
function takeStacks(item: HelperMessage): HelperMessage {
  const batch = item.type === 'partial' ? (item.data as WireBpfBatch | null) : null;
  if (!bpf || item.type !== 'partial' || !batch || !Array.isArray(batch.stacks)) return item;
  addBpfBatch(batch);
  if (bpf.keepStacks) return item;
  const { stacks: _taken, ...counts } = batch;
  return { ...item, data: counts };
}

/** A partial's stacks into the eBPF ingest (then the profile so far, when live); a bad batch is told at bpf-finish. */
function addBpfBatch(batch: WireBpfBatch): void {
  if (!bpf || bpf.failed !== undefined) return;
  try {
    bpf.ingest.add(batch);
  } catch (e) {
    bpf.failed = e; // told at bpf-finish, the one message answered
    return;
  }
  // A backlog batch came after the recording ended: the whole profile follows at once.
  if (bpf.live && !batch.backlog && bpf.ingest.samples > 0) sendPartial(bpf.ingest.profile(batch));
}

port.on('message', (m: ToWorker) => {
  try {
    switch (m.op) {
      case 'read':
        readProfileFile(m.file, (recorded) => {
          send({ op: 'need-binary', recorded });
          return new Promise((resolve) => {
            binaryAnswer = resolve;
          });
        }).then(({ profile, label }) => send({ op: 'done', profile, label }), fail);
        break;
      case 'binary':
        binaryAnswer?.(m.path);
        break;
      case 'stream-open': {
        const bin = openTargetBinary(m.bytes, m.path, m.pid);
        live = new StreamedPerfIngest(bin, { pid: m.pid }, m.live ? sendPartial : undefined);
        send({ op: 'opened', path: bin.path });
        break;
      }
      case 'helper-run':
        helperRuns.set(m.id, {});
        helperQueue = helperQueue.then(() => runHelperHere(m));
        break;
      case 'helper-stop':
        helperRuns.get(m.id)?.client?.stop();
        break;
      case 'helper-cancel': {
        const run = helperRuns.get(m.id);
        if (run) run.cancelled = true;
        run?.client?.cancel();
        break;
      }
      case 'stream-finish': {
        if (!live) throw new Error('stream-finish before stream-open');
        const file = m.perfDataPath;
        const profile = live.finish({ size: fs.statSync(file).size, read: () => fs.readFileSync(file) }, m.opts);
        send({ op: 'done', profile });
        break;
      }
      case 'bpf-open': {
        const bin = openTargetBinary(m.bytes, m.path, m.pid);
        const { lo, hi } = bpfTextRange(bin);
        const { goBuildId, gnuBuildId } = bin.elf;
        bpf = { ingest: new BpfProfileIngest(bin), live: m.live === true, keepStacks: m.keepStacks === true };
        send({
          op: 'opened',
          path: bin.path,
          bpf: { textLo: lo, textHi: hi, ...(goBuildId ? { goBuildId } : {}), ...(gnuBuildId ? { gnuBuildId } : {}) },
        });
        break;
      }
      case 'bpf-finish':
        if (!bpf) throw new Error('bpf-finish before bpf-open');
        if (bpf.failed !== undefined) throw bpf.failed;
        bpf.ingest.add(m.result);
        send({ op: 'done', profile: bpf.ingest.profile(m.result, m.opts) });
        break;
      case 'endpoint':
        send({ op: 'done', profile: ingestEndpointProfile(m.bytes, m.source, m.opts) });
        break;
      case 'trace-open':
        traced = new TraceTarget(m.bytes, m.pid);
        send({ op: 'opened', path: m.path, buildIds: traced.buildIds() });
        break;
      case 'trace-plan':
        send({ op: 'trace-plan', plan: tracedTarget().plan(m.functions) });
        break;
      case 'sched-probes':
        send({ op: 'sched-probes', probes: tracedTarget().schedProbes() });
        break;
      case 'sched-finish':
        send({ op: 'sched', sched: tracedTarget().schedLatency(m.result) });
        break;
      case 'syscalls-finish':
        send({ op: 'syscalls', syscalls: tracedTarget().syscallStats(m.result) });
        break;
      case 'heat-open':
        heat = new HeatTarget(m.bytes, m.path, m.pid);
        send({ op: 'opened', path: m.path, buildIds: heat.buildIds() });
        break;
      case 'alloc-probes':
        send({ op: 'alloc-probes', probes: heatTarget().allocProbes() });
        break;
      case 'blocking-probes':
        send({ op: 'blocking-probes', probes: heatTarget().blockingProbes() });
        break;
      case 'allocs-finish':
        send({ op: 'alloc-heat', heat: heatTarget().allocHeat(m.result, m.warnings) });
        break;
      case 'blocking-finish':
        send({ op: 'block-heat', heat: heatTarget().blockHeat(m.result, m.warnings) });
        break;
      case 'heat-profile':
        send({ op: 'done', profile: heatTarget().profile(m.opts) });
        break;
    }
  } catch (e) {
    fail(e);
  }
});

/**
 * Lowers this thread's scheduling priority (nice +10, Linux): the work is here so that the
 * extension host's thread never waits for it, and on a machine whose CPUs are busy (the target,
 * the recorder) it would otherwise take a CPU the host's thread is waiting for.
 */
function yieldToOtherThreads(): void {
  try {
    const tid = Number(path.basename(fs.readlinkSync('/proc/thread-self')));
    if (os.getPriority(tid) < WORKER_NICE) os.setPriority(tid, WORKER_NICE);
  } catch {
    // Not Linux, or not allowed: the work runs at the priority it has.
  }
}
