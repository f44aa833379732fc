/**
 * The ingest worker's entry (bundled as dist/ingestWorkerMain.js): parse, symbolize and ingest
 * run here, on a thread of their own, so the extension host's thread never waits for them. It
 * does one job (ingestWorker.ts starts one worker per job) and answers with a profile or an
 * error; see ingestWorkerProtocol.ts for the messages.
 */
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { BpfProfileIngest, bpfTextRange } from '../ingest/fromBpfProfile';
import { ingestEndpointProfile } from '../ingest/fromEndpoint';
import { StreamedPerfIngest } from '../ingest/streamedPerf';
import type { Profile } from '../model/profile';
import { readProfileFile } from './readProfileFile';
import { openTargetBinary } from './targetBinary';
import { TraceTarget } from './traceTarget';
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

function tracedTarget(): TraceTarget {
  if (!traced) throw new Error("a tracer's question before trace-open");
  return traced;
}

function fail(e: unknown): void {
  send({ op: 'error', error: toWire(e) });
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
      case 'stream-data':
        live?.push(m.bytes);
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
    }
  } catch (e) {
    fail(e);
  }
});
