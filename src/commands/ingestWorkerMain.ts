/**
 * The ingest worker's entry (bundled as dist/ingestWorkerMain.js): parse, symbolize and ingest
 * run here, on a thread of their own, so the extension host's thread never waits for them. It
 * does one job (ingestWorker.ts starts one worker per job) and answers with a profile or an
 * error; see ingestWorkerProtocol.ts for the messages.
 */
import * as fs from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { bpfTextRange, ingestBpfProfile } from '../ingest/fromBpfProfile';
import { ingestEndpointProfile } from '../ingest/fromEndpoint';
import type { LoadedBinary } from '../ingest/loadBinary';
import { StreamedPerfIngest } from '../ingest/streamedPerf';
import type { Profile } from '../model/profile';
import { readProfileFile } from './readProfileFile';
import { openTargetBinary } from './targetBinary';
import { type FromWorker, toWire, type ToWorker } from './ingestWorkerProtocol';

const port = parentPort;
if (!port) throw new Error('ingestWorkerMain.ts runs as a worker thread (see ingestWorker.ts)');

const send = (m: FromWorker): void => port.postMessage(m);
let binaryAnswer: ((path: string | undefined) => void) | undefined;
let live: StreamedPerfIngest | undefined;
let bpfBinary: LoadedBinary | undefined;

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
        const onSnapshot = m.live
          ? (profile: Profile): void => send({ op: 'partial', json: JSON.stringify({ ...profile, stacks: undefined }) })
          : undefined;
        live = new StreamedPerfIngest(bin, { pid: m.pid }, onSnapshot);
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
        bpfBinary = bin;
        send({
          op: 'opened',
          path: bin.path,
          bpf: { textLo: lo, textHi: hi, ...(goBuildId ? { goBuildId } : {}), ...(gnuBuildId ? { gnuBuildId } : {}) },
        });
        break;
      }
      case 'bpf-finish':
        if (!bpfBinary) throw new Error('bpf-finish before bpf-open');
        send({ op: 'done', profile: ingestBpfProfile(m.result, bpfBinary, m.opts) });
        break;
      case 'endpoint':
        send({ op: 'done', profile: ingestEndpointProfile(m.bytes, m.source, m.opts) });
        break;
    }
  } catch (e) {
    fail(e);
  }
});
