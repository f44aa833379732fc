/**
 * The ingest worker's entry (bundled as dist/ingestWorkerMain.js): parse, symbolize and ingest
 * run here, on a thread of their own, so the extension host's thread never waits for them. It
 * does one job (ingestWorker.ts starts one worker per job) and answers with a profile or an
 * error; see ingestWorkerProtocol.ts for the messages.
 */
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { HelperOutputDecoder, type HelperOutputItem } from '../capture/helperOutput';
import { BpfProfileIngest, bpfTextRange } from '../ingest/fromBpfProfile';
import { ingestEndpointProfile } from '../ingest/fromEndpoint';
import { StreamedPerfIngest } from '../ingest/streamedPerf';
import type { Profile } from '../model/profile';
import { readProfileFile } from './readProfileFile';
import { openTargetBinary } from './targetBinary';
import { TraceTarget } from './traceTarget';
import { HeatTarget } from './heatTarget';
import { type FromWorker, toWire, type ToWorker } from './ingestWorkerProtocol';

const port = parentPort;
if (!port) throw new Error('ingestWorkerMain.ts runs as a worker thread (see ingestWorker.ts)');

const send = (m: FromWorker): void => port.postMessage(m);
/** The profile so far, for live heat: without its stack table (what the views draw has no need of it). */
const sendPartial = (profile: Profile): void => send({ op: 'partial', json: JSON.stringify({ ...profile, stacks: undefined }) });
let binaryAnswer: ((path: string | undefined) => void) | undefined;
let live: StreamedPerfIngest | undefined;
/** The eBPF sampler's stacks taken in so far; whether to send the profile so far after each batch; why a batch was refused. */
let bpf: { ingest: BpfProfileIngest; live: boolean; failed?: unknown } | undefined;
let traced: TraceTarget | undefined;
/** A helper's stdout being decoded here (helper-start until helper-end, a failure or helper-close). */
let helperOut: HelperOutputDecoder | undefined;
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
 * Sends the decoded items on; perf.data's bytes go into the streamed ingest instead (the host
 * never sees them). A decoding error ends the decoding (its files closed) and is told.
 */
function decodeHelperOutput(decode: (d: HelperOutputDecoder) => Iterable<HelperOutputItem>, ended: boolean): void {
  const decoder = helperOut;
  if (!decoder) return; // closed already: the host stopped reading
  const items: HelperOutputItem[] = [];
  try {
    for (const item of decode(decoder)) {
      if (item.type !== 'received-chunk') items.push(item);
      else if (item.name === 'perf.data') live?.push(item.data);
    }
  } catch (e) {
    decoder.close();
    helperOut = undefined;
    if (items.length) send({ op: 'helper-items', items });
    send({ op: 'helper-failed', error: toWire(e) });
    return;
  }
  if (items.length) send({ op: 'helper-items', items });
  if (ended) send({ op: 'helper-ended' });
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
      case 'helper-start':
        helperOut?.close();
        helperOut = new HelperOutputDecoder({ dir: m.dir, where: m.where });
        break;
      case 'helper-out': {
        const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
        decodeHelperOutput((d) => d.push(bytes), false);
        break;
      }
      case 'helper-end':
        decodeHelperOutput((d) => d.end(), true);
        break;
      case 'helper-close':
        helperOut?.close();
        helperOut = undefined;
        send({ op: 'helper-closed' });
        break;
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
        bpf = { ingest: new BpfProfileIngest(bin), live: m.live === true };
        send({
          op: 'opened',
          path: bin.path,
          bpf: { textLo: lo, textHi: hi, ...(goBuildId ? { goBuildId } : {}), ...(gnuBuildId ? { gnuBuildId } : {}) },
        });
        break;
      }
      case 'bpf-stacks': {
        if (!bpf || bpf.failed !== undefined) break;
        try {
          bpf.ingest.add(m.batch);
        } catch (e) {
          bpf.failed = e; // told at bpf-finish, the one message answered
          break;
        }
        // A backlog batch came after the recording ended: the whole profile follows at once.
        if (bpf.live && !m.batch.backlog && bpf.ingest.samples > 0) sendPartial(bpf.ingest.profile(m.batch));
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
