import * as assert from 'node:assert/strict';
import type { GoProcess } from '../../../src/capture';
import { cpuTicks, isOwnBuild, measureCpu, orderProcesses, typedPid } from '../../../src/commands/processList';

const proc = (pid: number, over: Partial<GoProcess> = {}): GoProcess => ({
  pid,
  exe: `/usr/bin/p${pid}`,
  exeSize: 1,
  comm: `p${pid}`,
  cmdline: [`p${pid}`],
  uid: 0,
  user: 'root',
  uptimeSec: 100,
  goVersion: 'go1.22.1',
  modulePath: null,
  goBuildId: null,
  gnuBuildId: null,
  ...over,
});

describe('commands: the process picker’s list', () => {
  it('a process built from the workspace: its main module is one of the workspace’s, or its executable is inside a folder', () => {
    assert.ok(isOwnBuild(proc(1, { modulePath: 'example.com/svc' }), ['example.com/svc'], ['/w']));
    assert.ok(isOwnBuild(proc(2, { exe: '/w/bin/svc (deleted)' }), [], ['/w']));
    assert.ok(!isOwnBuild(proc(3, { exe: '/work/other' }), ['example.com/svc'], ['/w']));
    assert.ok(!isOwnBuild(proc(4, { modulePath: 'example.com/svc/tools' }), ['example.com/svc'], ['/w']));
  });

  it('workspace builds first, then by CPU use, then the youngest', () => {
    const order = orderProcesses([
      { process: proc(10, { uptimeSec: 5 }), ownBuild: false, cpuPercent: 1 },
      { process: proc(11), ownBuild: false, cpuPercent: 80 },
      { process: proc(12, { uptimeSec: 9000 }), ownBuild: true, cpuPercent: 0 },
      { process: proc(13, { uptimeSec: 1 }), ownBuild: false, cpuPercent: 1 },
    ]).map((l) => l.process.pid);
    assert.deepEqual(order, [12, 11, 13, 10]);
  });

  it('a typed PID is digits only: "1" is PID 1, "go1.22" and "0" are not PIDs', () => {
    assert.equal(typedPid(' 1 '), 1);
    assert.equal(typedPid('4711'), 4711);
    assert.equal(typedPid('go1.22'), undefined);
    assert.equal(typedPid('0'), undefined);
    assert.equal(typedPid(''), undefined);
  });

  it('CPU ticks from /proc agree with what Node says it used (clock ticks of 10 ms)', async () => {
    const end = Date.now() + 300;
    while (Date.now() < end); // burn some CPU
    const ticks = await cpuTicks(process.pid);
    const u = process.cpuUsage();
    const fromNode = (u.user + u.system) / 10_000;
    assert.ok(ticks !== undefined && Math.abs(ticks - fromNode) <= 5, `/proc: ${ticks} ticks, Node: ${fromNode.toFixed(1)}`);
    assert.equal(await cpuTicks(2 ** 30), undefined);
    const busy = await measureCpu([process.pid], 300);
    assert.ok(busy.has(process.pid));
  });
});
