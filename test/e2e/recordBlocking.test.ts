/**
 * End to end in VS Code 1.100 (VS Code server + headless Chromium): "Profile Go process" on a
 * running Go program whose goroutine waits on a channel, "What to record" → Blocking, and the
 * heat lands on the line that waits: a code lens above its func, and the line's hover shows its
 * wait time, the reason (chan receive) and the wait-time histogram. Needs root (BCC).
 */
import * as assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import { startGoService, workspaceWithFixture } from './support/goService';
import { type VsCodeServer } from './support/vscodeServer';
import { closeWorkbench, killProcessGroup, orderedSteps } from './support/orderedSteps';
import { Workbench } from './support/workbench';
import { openWorkbench, STARTUP_TIMEOUT_MS } from './support/startup';

const FIXTURE = 'e2ewaits';
const WAIT_LINE = 'got += <-ch // waits here';
const RECORD_SECONDS = 3;

describe('end to end: What to record → Blocking → heat and wait histogram on the waiting line [vscode, root, bcc]', function () {
  this.timeout(150000);
  let ws: string;
  let service: ChildProcess | undefined;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;

  before(async function () {
    this.timeout(STARTUP_TIMEOUT_MS);
    let bin: string;
    ({ ws, bin } = workspaceWithFixture('e2e-waits-ws', FIXTURE, { 'goPerfLens.duration': RECORD_SECONDS }));
    service = await startGoService(bin, ws);
    ({ server, wb } = await openWorkbench('e2e-waits', ws));
  });

  const step = orderedSteps({ workbench: () => wb, shotPrefix: 'e2e-waits', everyStepNeeded: true });

  after(async function () {
    this.timeout(40000);
    await closeWorkbench(wb, server);
    await killProcessGroup(service);
  });

  step('Profile Go process: the PID typed and picked, "What to record" offers Blocking; Enter records it', async () => {
    await wb!.runCommand('Go Perf Lens: Profile Go process');
    await wb!.waitForQuickPick(undefined, 30000);
    await wb!.typeInQuickInput(String(service!.pid));
    await wb!.page.waitForTimeout(500);
    await wb!.press('Enter');
    await wb!.waitForQuickPick(/What to record/, 20000);
    const items = await wb!.quickPickItems();
    assert.ok(
      items.some((i) => /Blocking · \d+ s/.test(i)) && items.some((i) => /Allocations · \d+ s/.test(i)),
      `rows: ${items.join(' | ')}`,
    );
    assert.ok(
      items.some((i) => /CPU sampling \+ blocking/.test(i)),
      `no CPU + blocking row: ${items.join(' | ')}`,
    );
    await wb!.typeInQuickInput('Blocking');
    await wb!.page.waitForTimeout(500);
    assert.match((await wb!.quickPickActive()) ?? '', /Blocking · \d+ s/);
    await wb!.press('Enter');
  });

  step('heat appears above the func that waits', async () => {
    const lenses = await wb!.lensesAboveLines(RECORD_SECONDS * 1000 + 60000);
    await wb!.screenshot('e2e-waits-heat').catch(() => undefined);
    const lens = lenses.find((l) => l.lineText.startsWith('func receive('));
    assert.ok(lens, `no code lens above func receive; lenses: ${JSON.stringify(lenses)}`);
  });

  step("the waiting line's hover shows its blocked time, the reason and the wait-time histogram", async () => {
    const deadline = Date.now() + 30000;
    let last = '';
    for (;;) {
      await wb!.page.mouse.move(10, 10);
      await wb!.page.waitForTimeout(500);
      const hover = await wb!
        .hoverText(WAIT_LINE, '<-ch', 10000)
        .catch((e: Error) => ({ text: `(no hover: ${e.message})`, images: [] as string[] }));
      last = `${hover.text} [images: ${hover.images.join(', ') || 'none'}]`;
      if (/Blocked here/.test(hover.text)) {
        await wb!.screenshot('e2e-waits-hover').catch(() => undefined);
        assert.match(hover.text, /Blocked here: [\d.]+ (s|ms) in \d+ waits? · mostly chan receive/, hover.text);
        assert.ok(
          hover.images.some((src) => /^data:image\/svg\+xml/.test(src)),
          `no histogram image: ${last}`,
        );
        return;
      }
      if (Date.now() > deadline) break;
    }
    assert.fail(`the hover over the waiting line shows no blocking figures; last hover: ${last}`);
  });
});
