/**
 * The eBPF sampler's stacks streamed while it records (live heat with the default CPU recording),
 * on a real Go process with real BCC: each second's partial carries the stacks received since the
 * last one and the worker takes them in as they come, handing over the profile so far; the final
 * profile is exactly what one ingest of all the stacks gives (the batches merged, on a fresh copy
 * of the binary), and every sample the kernel took is accounted for: in a stack, or counted lost.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type { HelperProcess } from '../../../src/capture';
import { isStacksPartial, recordBpfProfile } from '../../../src/commands/recordBpfProfile';
import { ingestBpfProfile, type WireBpfBatch } from '../../../src/ingest/fromBpfProfile';
import { loadBinaryBytes } from '../../../src/ingest/loadBinary';
import type { Profile } from '../../../src/model/profile';
import { mergeStacks } from '../../support/bpfWire';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { killAll, startTracee } from '../ebpf/goProcess';

describe('eBPF sampler, live: stacks streamed once a second and taken in as they come [root, bcc]', function () {
  this.timeout(300000);
  after(() => killAll());

  it('hands over a growing profile while it records; Stop keeps it all, equal to one ingest of every stack, nothing unaccounted', async () => {
    const bin = buildGoFixture('frameless', newestGo());
    const t = await startTracee(bin, ['frameless']);
    const batches: WireBpfBatch[] = [];
    const warnings: string[] = [];
    const sofar: Profile[] = [];
    let client: HelperProcess | undefined;
    let resolved = false;
    let deadline: NodeJS.Timeout | undefined;
    let rec;
    try {
      rec = await recordBpfProfile(
        { kind: 'local' },
        { pid: t.pid, durationSec: 600 },
        {
          onStart: (c) => (client = c),
          keepStacks: true,
          onMessage: (m) => {
            // A deadline, not a timing: without three profiles so far in two minutes, stop and let the assertions say why.
            if (m.type === 'progress' && m.phase === 'attached') deadline = setTimeout(() => client?.stop(), 120000);
            if (isStacksPartial(m)) batches.push(m.data);
            else if (m.type === 'warning') warnings.push(m.message);
          },
          onPartial: (p) => {
            assert.ok(!resolved, 'a profile so far came after the recording was returned');
            sofar.push(p);
            // Three profiles so far (three seconds of stacks, whatever the machine's load): then Stop.
            if (sofar.length === 3) client?.stop();
          },
        },
      );
      resolved = true;
    } finally {
      clearTimeout(deadline);
      t.proc.kill('SIGKILL');
      await t.exited;
    }
    const { profile: p, wire } = rec;
    assert.equal(p.ended?.by, 'stop');
    assert.ok(sofar.length >= 3, `${sofar.length} profiles so far`);

    // The profiles so far grow, never past the whole, and show the hot function from the first one.
    for (let i = 0; i < sofar.length; i++) {
      const s = sofar[i]!;
      assert.ok(s.totalSamples > 0 && s.totalSamples <= p.totalSamples, `profile so far ${i}: ${s.totalSamples} of ${p.totalSamples}`);
      if (i > 0) assert.ok(s.totalSamples >= sofar[i - 1]!.totalSamples, 'a profile so far shrank');
      assert.equal(s.source, 'bpf');
      assert.equal(s.target?.pid, t.pid);
      assert.ok(
        s.functions.some((f) => f.name === 'main.crunch' && f.selfSamples > 0),
        `profile so far ${i} lacks main.crunch`,
      );
    }
    assert.ok(sofar[sofar.length - 1]!.totalSamples > sofar[0]!.totalSamples, 'the profiles so far never grew');

    // Partials carried stacks while it recorded; the result carries only what came after the last one.
    const live = batches.filter((b) => !b.backlog);
    assert.ok(live.filter((b) => b.stacks.length > 0).length >= 3, `${live.length} partials`);
    const all = [...batches.flatMap((b) => b.stacks), ...wire.stacks];
    const sent = all.reduce((n, s) => n + s.count, 0);
    assert.ok(wire.stacks.reduce((n, s) => n + s.count, 0) < sent, 'the result carried every stack: nothing was taken in live');

    // Every sample the kernel took: a record received and sent exactly once, or counted lost.
    assert.equal(sent, wire.received, 'stacks sent ≠ records received');
    assert.equal(wire.stats.samples, wire.received + wire.stats.ringFull + wire.unreceived);
    assert.equal(p.totalSamples, sent);
    assert.equal(p.lostSamples, wire.stats.ringFull + wire.unreceived);

    // One ingest of every stack (merged as one message would carry them), on a fresh copy of the binary.
    const once = ingestBpfProfile({ ...wire, stacks: mergeStacks(all) }, loadBinaryBytes(fs.readFileSync(bin), p.binary!.path), {
      target: p.target,
      ...(p.startTimeMs !== undefined ? { startTimeMs: p.startTimeMs } : {}),
      warnings,
    });
    assert.deepEqual({ ...p, ended: undefined }, { ...once, ended: undefined });
    assert.ok(p.functions.find((f) => f.name === 'main.crunch')!.selfSamples >= 0.8 * p.totalSamples);
  });
});
