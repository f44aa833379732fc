/**
 * End to end, as a new user would, in VS Code 1.100 (VS Code server + headless Chromium): open a
 * running Go service's main.go, F1 → "Go Perf Lens: Profile Go process", type its PID, Enter,
 * Enter — then heat appears (a code lens with a percentage above the hot func, tinted lines in
 * its body, the hot function first in the tree); "Trace latency of this function" on it, and
 * the hover over its name shows the latency histogram. Screenshots go to test-results/.
 * Needs root (perf, BCC) like the product does; the steps run in order, and a step fails on its
 * own when an earlier one did.
 */
import * as assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './support/runDir';
import { type VsCodeServer } from './support/vscodeServer';
import { closeWorkbench, killProcessGroup, orderedSteps } from './support/orderedSteps';
import { Workbench } from './support/workbench';
import { startGoService, workspaceWithFixture } from './support/goService';
import { openWorkbench, STARTUP_TIMEOUT_MS } from './support/startup';

const FIXTURE = 'e2eservice';
const HOT_FUNC = 'crunch';
const HOT_DECL = `func ${HOT_FUNC}(`;
const RECORD_SECONDS = 3;

/** 1-based line range of `func NAME(` … its closing `}` in Go source text. */
function funcBody(source: string, decl: string): { first: number; last: number } {
  const lines = source.split('\n');
  const first = lines.findIndex((l) => l.startsWith(decl)) + 1;
  assert.ok(first > 0, `${decl} not found in the fixture`);
  const last = lines.findIndex((l, i) => i >= first && l.startsWith('}')) + 1;
  return { first, last };
}

describe('end to end: Profile Go process → heat, tree, latency hover [vscode, root, perf, bcc]', function () {
  this.timeout(150000);
  let mainGo: string;
  let service: ChildProcess | undefined;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;
  let shotNo = 0;

  const shot = async (name: string): Promise<void> => {
    if (wb) await wb.screenshot(`e2e-${String(++shotNo).padStart(2, '0')}-${name}`).catch(() => undefined);
  };

  before(async function () {
    this.timeout(STARTUP_TIMEOUT_MS);
    // Built in the workspace, as the user would: the binary's DWARF names these very files.
    const { ws, bin } = workspaceWithFixture('e2e-ws', FIXTURE, { 'goPerfLens.duration': RECORD_SECONDS });
    mainGo = path.join(ws, 'main.go');
    service = await startGoService(bin, ws);
    ({ server, wb } = await openWorkbench('e2e', ws));
    await shot('opened');
  });

  // `needed` marks the steps later ones cannot do without (picking and starting the recording).
  const step = orderedSteps({ workbench: () => wb, shotPrefix: 'e2e', everyStepNeeded: false });

  after(async function () {
    this.timeout(40000);
    await closeWorkbench(wb, server);
    await killProcessGroup(service);
  });

  step(
    'offers "Go Perf Lens: Profile Go process" in the command palette, listing the running service',
    async () => {
      await wb!.runCommand('Go Perf Lens: Profile Go process');
      await wb!.waitForQuickPick(undefined, 30000);
      // The list fills in when the process scan ends; wait for our service to appear.
      const deadline = Date.now() + 20000;
      let items = await wb!.quickPickItems();
      while (!items.some((i) => i.includes(String(service!.pid))) && Date.now() < deadline) {
        await wb!.page.waitForTimeout(500);
        items = await wb!.quickPickItems();
      }
      await shot('process-pick');
      assert.ok(
        items.some((i) => i.includes(String(service!.pid)) && i.includes(FIXTURE)),
        `no row with ${FIXTURE} and PID ${service!.pid}; rows: ${items.join(' | ')}`,
      );
    },
    true,
  );

  step(
    'typing the PID filters the list to the service; Enter picks it',
    async () => {
      await wb!.typeInQuickInput(String(service!.pid));
      await wb!.page.waitForTimeout(500);
      const items = (await wb!.quickPickItems()).filter((i) => !/Launch a binary|Remote host/.test(i));
      assert.ok(items.length >= 1 && items.every((i) => i.includes(String(service!.pid))), `rows after filtering: ${items.join(' | ')}`);
      await wb!.press('Enter');
    },
    true,
  );

  step(
    '"What to record" preselects CPU sampling; Enter starts recording',
    async () => {
      await wb!.waitForQuickPick(/What to record/, 20000);
      const active = await wb!.quickPickActive();
      await shot('what-to-record');
      assert.match(active ?? '', /CPU sampling/, `the preselected item is ${active}`);
      await wb!.press('Enter');
    },
    true,
  );

  step('heat appears: a code lens with a percentage above the hot func', async () => {
    // Recording takes RECORD_SECONDS; symbolizing and the first draw follow.
    const lenses = await wb!.lensesAboveLines(RECORD_SECONDS * 1000 + 60000);
    await shot('heat');
    const hot = lenses.find((l) => l.lineText.startsWith(HOT_DECL));
    assert.ok(hot, `no code lens above "${HOT_DECL}"; lenses: ${JSON.stringify(lenses)}`);
    assert.match(hot.text, /\d+(\.\d+)?\s*%/, `the lens above ${HOT_FUNC} is "${hot.text}"`);
  });

  step("tints lines in the hot func's body", async () => {
    const body = funcBody(fs.readFileSync(mainGo, 'utf8'), HOT_DECL);
    const tinted = await wb!.lineBackgrounds();
    const inBody = [...tinted.keys()].filter((l) => l > body.first && l < body.last);
    assert.ok(
      inBody.length > 0,
      `no tinted line in ${HOT_FUNC}'s body (lines ${body.first}–${body.last}); tinted: ${JSON.stringify([...tinted])}`,
    );
  });

  step(
    'the hot functions tree lists the hot function among the first rows (by cumulative share: its callers runtime.main and main.main come first)',
    async () => {
      const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
        contributes?: { views?: Record<string, { id: string; name: string }[]> };
      };
      const view = Object.values(pkg.contributes?.views ?? {})
        .flat()
        .find((v) => v.id === 'goPerfLens.hotFunctions');
      assert.ok(view, 'package.json contributes no goPerfLens.hotFunctions view');
      await wb!.focusView(view.name);
      const items = await wb!.treeItems(view.name);
      await shot('tree');
      assert.ok(items.length > 0, 'the tree is empty');
      assert.ok(
        items.slice(0, 3).some((i) => new RegExp(`\\bmain\\.${HOT_FUNC}\\b`).test(i)),
        `no ${HOT_FUNC} in the first three rows: ${items.slice(0, 5).join(' | ')}`,
      );
    },
  );

  step('"Trace latency of this function" on the hot func, then its hover shows the latency histogram', async () => {
    await wb!.page.locator('.editor-group-container.active .tab.active').first().click();
    const pos = await wb!.textPosition(HOT_DECL, HOT_FUNC);
    await wb!.page.mouse.click(pos.x, pos.y); // the cursor into the func's name
    await wb!.runCommand('Go Perf Lens: Trace latency of this function');
    const deadline = Date.now() + RECORD_SECONDS * 1000 + 90000;
    let last = '';
    for (;;) {
      await wb!.page.mouse.move(10, 10); // leave, so the next hover asks the providers again
      await wb!.page.waitForTimeout(1000);
      const hover = await wb!
        .hoverText(HOT_DECL, HOT_FUNC, 10000)
        .catch((e: Error) => ({ text: `(no hover: ${e.message})`, images: [] as string[] }));
      last = `${hover.text} [images: ${hover.images.join(', ') || 'none'}]`;
      if (hover.images.some((src) => /^data:image\/svg\+xml|\.svg\b/.test(src))) {
        await shot('latency-hover');
        assert.match(hover.text, /p50|p99|calls/i, `hover text: ${hover.text}`);
        return;
      }
      if (Date.now() > deadline) break;
    }
    await shot('latency-hover-missing');
    assert.fail(`the hover over ${HOT_FUNC} shows no histogram image after tracing; last hover: ${last}`);
  });
});
