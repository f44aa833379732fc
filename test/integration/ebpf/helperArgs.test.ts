/**
 * The helper's own checks on what it is asked to probe (it runs as root: a uprobe in the middle
 * of an instruction would corrupt the target), through the real capture path.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import { runHelper } from '../../../src/capture';
import { parseElf } from '../../../src/formats/elf';
import { GoBinaryIndex } from '../../../src/symbolize/goTracePlan';
import { UserError } from '../../../src/util/userError';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { killAll, startTracee } from './goProcess';

async function helperError(args: Record<string, unknown>, sub = 'trace'): Promise<UserError> {
  try {
    await runHelper({ kind: 'local' }, sub, args);
  } catch (e) {
    assert.ok(e instanceof UserError, String(e));
    return e;
  }
  assert.fail('the helper accepted it');
}

describe('eBPF helper argument checks [root, bcc]', function () {
  this.timeout(120000);
  after(killAll);

  it('refuses addresses outside the executable code, a changed binary and malformed function lists', async () => {
    const bin = buildGoFixture('tracee', newestGo());
    const t = await startTracee(bin, ['calls', '1', '0']);
    try {
      const elf = parseElf(fs.readFileSync(bin));
      const index = new GoBinaryIndex(elf);
      const f = index.plan(['main.busyWork']).functions[0]!;
      const good = { name: f.name, entry: Number(f.entry), rets: f.rets.map(Number) };
      const base = { pid: t.pid, duration: 1, goBuildId: elf.goBuildId! };

      let e = await helperError({ ...base, functions: [{ ...good, entry: 0x10 }] });
      assert.equal(e.code, 'bad-argument');
      assert.match(e.message, /not in an executable segment/);

      e = await helperError({ ...base, functions: [{ ...good, rets: [] }] });
      assert.equal(e.code, 'bad-argument');

      e = await helperError({ ...base, functions: [] });
      assert.match(e.message, /--functions must list 1 to 32 functions/);

      // A same-size rebuild has another build id: refused by id, whatever the size.
      e = await helperError({ ...base, goBuildId: elf.goBuildId!.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')), functions: [good] });
      assert.equal(e.code, 'binary-changed');
      e = await helperError({ pid: t.pid, duration: 1, functions: [good] });
      assert.match(e.message, /--goBuildId or --gnuBuildId .* is required/);

      // Addresses that are in the code but not where the instruction they claim starts.
      e = await helperError({ ...base, functions: [{ ...good, rets: [good.rets[0]! - 1] }] });
      assert.equal(e.code, 'bad-probe');
      assert.match(e.message, /is not a RET instruction|outside its function|is not where an instruction starts/);
      const other = index.plan(['main.main']).functions[0]!;
      e = await helperError({ ...base, functions: [{ ...good, entry: Number(other.entry) }] });
      assert.equal(e.code, 'bad-probe');
      assert.match(e.message, /is in main\.main, not in main\.busyWork/);
      e = await helperError({ ...base, functions: [{ ...good, rets: [Number(other.rets[0])] }] });
      assert.equal(e.code, 'bad-probe');
      assert.match(e.message, /outside its function/);

      e = await helperError({ ...base, duration: 0, functions: [good] });
      assert.equal(e.code, 'bad-argument');

      e = await helperError({ pid: t.pid, duration: 1, casgstatus: 'x', goidOffset: 152 }, 'sched');
      assert.equal(e.code, 'bad-argument');

      e = await helperError({ ...base, functions: [good], extra: 1 });
      assert.match(e.message, /unknown argument/);
    } finally {
      t.proc.kill('SIGKILL');
      await t.exited;
    }
  });
});
