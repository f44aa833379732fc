/**
 * The everyday views, end to end in VS Code 1.100 (VS Code server + headless Chromium), as a user
 * works with them: the process picker takes a typed PID that its list does not show (the service
 * starts after the list was read), checks it is a Go program and names it in "What to record";
 * after the recording, the offer to go to the hottest line of my code; the tree says its mode in
 * words; the flame graph zooms on a click without leaving the graph, keeps zoom and search across
 * tab switches, and Ctrl+click opens the source in the other editor group; a second recording
 * against a pinned baseline shows "before → after" in the code lens and a diff flame graph; a
 * syscall recording's panel has tabs and its call sites open the line in rest() that writes. Screenshots of each view go
 * to test-results/ (the README shows them). Needs root (perf), like the product does.
 */
import * as assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from './support/playwright';
import { type VsCodeServer } from './support/vscodeServer';
import { closeWorkbench, killProcessGroup, orderedSteps, until } from './support/orderedSteps';
import { Workbench } from './support/workbench';
import { startGoService, workspaceWithFixture } from './support/goService';
import { openWorkbench, STARTUP_TIMEOUT_MS } from './support/startup';

const FIXTURE = 'e2eservice';
const RECORD_SECONDS = 3;
const ROW = 18; // the flame graph's row height (flameGraphMain.ts)

describe('end to end: the everyday views — picker, hottest line, tree, flame graph, diff, syscalls [vscode, root, perf, bcc]', function () {
  this.timeout(180000);
  let ws: string;
  let bin: string;
  let service: ChildProcess | undefined;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;
  let shotNo = 0;

  const shot = async (name: string): Promise<void> => {
    if (wb) await wb.screenshot(`views-${String(++shotNo).padStart(2, '0')}-${name}`).catch(() => undefined);
  };

  before(async function () {
    this.timeout(STARTUP_TIMEOUT_MS);
    ({ ws, bin } = workspaceWithFixture('views-ws', FIXTURE, { 'goPerfLens.duration': RECORD_SECONDS }));
    ({ server, wb } = await openWorkbench('views', ws));
  });

  const step = orderedSteps({ workbench: () => wb, shotPrefix: 'views', everyStepNeeded: true });

  after(async function () {
    this.timeout(40000);
    await closeWorkbench(wb, server);
    await killProcessGroup(service);
  });

  /** Profile Go process → type the PID → Enter → (What to record) Enter. */
  const profileByTypedPid = async (startAfterListing: boolean): Promise<void> => {
    await wb!.runCommand('Go Perf Lens: Profile Go process');
    await wb!.waitForQuickPick(undefined, 30000);
    if (startAfterListing) {
      // The list is read once, when the picker opens; the service starts after that.
      const deadline = Date.now() + 30000;
      while (
        (await wb!.page
          .locator('.quick-input-widget .quick-input-progress-bar .progress-bit')
          .isVisible()
          .catch(() => false)) &&
        Date.now() < deadline
      )
        await wb!.page.waitForTimeout(300);
      await wb!.page.waitForTimeout(1500);
      service = await startGoService(bin, ws);
    }
    await wb!.typeInQuickInput(String(service!.pid));
    await wb!.page.waitForTimeout(700);
  };

  step('a typed PID that the list does not show is offered and active; Enter checks it and names it in "What to record"', async () => {
    await profileByTypedPid(true);
    // The list redraws after each keystroke: wait for the typed PID's row rather than a fixed time.
    let items: string[] = [];
    let active: string | undefined;
    await until(`the row of PID ${service!.pid} to be active`, 20000, async () => {
      items = await wb!.quickPickItems();
      active = await wb!.quickPickActive();
      return new RegExp(`^PID ${service!.pid}(?!\\d)`).test(active ?? '') ? true : undefined;
    }).catch(() => undefined); // the assertions below say what was seen
    await shot('typed-pid');
    assert.match(active ?? '', new RegExp(`^PID ${service!.pid}(?!\\d)`), `active row: ${active}; rows: ${items.join(' | ')}`);
    assert.ok(!items.some((i) => /Launch a binary/.test(i) && i === active));
    await wb!.press('Enter');
    await wb!.waitForQuickPick(/What to record/, 30000);
    const title = await wb!.quickInputTitle();
    assert.match(title, new RegExp(`What to record — ${FIXTURE} \\(PID ${service!.pid}\\)`));
    const rows = await wb!.quickPickItems();
    await shot('what-to-record');
    assert.match((await wb!.quickPickActive()) ?? '', new RegExp(`CPU sampling .* · ${RECORD_SECONDS} s`));
    for (const sec of [5, 10, 30])
      assert.ok(
        rows.some((r) => r.includes(`CPU sampling`) && r.includes(`· ${sec} s`)),
        `no ${sec} s choice: ${rows.join(' | ')}`,
      );
    assert.ok(
      rows.some((r) => r.includes('CPU sampling') && r.includes('until I stop it')),
      `no "until I stop it" choice: ${rows.join(' | ')}`,
    );
    await wb!.press('Enter');
  });

  step('after the recording, heat and the offer to go to the hottest line of my code', async () => {
    await wb!.lensesAboveLines(RECORD_SECONDS * 1000 + 60000);
    const deadline = Date.now() + 20000;
    let notes: string[] = [];
    while (!notes.some((n) => n.includes('Hottest line of your code')) && Date.now() < deadline) {
      await wb!.page.waitForTimeout(500);
      notes = await wb!.notifications();
    }
    await shot('hottest-line-offer');
    const offer = notes.find((n) => n.includes('Hottest line of your code'));
    assert.ok(offer, `no offer; notifications: ${notes.join(' | ')}`);
    assert.match(offer, /main\.go:\d+ in main\.(crunch|main)/);
  });

  step('the tree says its mode and sort in words; the hot function is among the first rows', async () => {
    await wb!.focusView('Hot functions');
    const items = await wb!.treeItems('Hot functions');
    const description = await wb!.page.locator('.pane-header', { hasText: 'Hot functions' }).first().innerText();
    await shot('tree');
    assert.match(description, /callees \(what each calls\) · by cumulative/);
    assert.ok(
      items.slice(0, 4).some((i) => /main\.crunch/.test(i)),
      `first rows: ${items.slice(0, 5).join(' | ')}`,
    );
    // My code: main's functions, then the standard library and the runtime folded into one row each.
    await wb!.runCommand('Go Perf Lens: Show my code (fold standard library and runtime)');
    await wb!.page.waitForTimeout(800);
    const mine = await wb!.treeItems('Hot functions');
    await shot('tree-my-code');
    assert.match(await wb!.page.locator('.pane-header', { hasText: 'Hot functions' }).first().innerText(), /my code/);
    assert.ok(
      mine.some((i) => /^Go runtime/.test(i)) && mine.every((i) => /^(main\.|Go runtime|Standard library|Other modules)/.test(i)),
      mine.join(' | '),
    );
    await wb!.runCommand('Go Perf Lens: Show all code');
  });

  /** The flame graph's page (the webview's inner frame). */
  const flameFrame = async (): Promise<Frame> => {
    const deadline = Date.now() + 30000;
    for (;;) {
      for (const f of wb!.page.frames()) {
        if (
          await f
            .locator('#flame')
            .count()
            .catch(() => 0)
        ) {
          const frames = await f
            .locator('body')
            .getAttribute('data-frames')
            .catch(() => null);
          if (frames && Number(frames) > 0) return f;
        }
      }
      if (Date.now() > deadline) throw new Error('no flame graph page with frames');
      await wb!.page.waitForTimeout(300);
    }
  };
  const activeTab = (): Promise<string> => wb!.page.locator('.editor-group-container.active .tab.active').first().innerText();
  const groups = (): Promise<number> => wb!.page.locator('.editor-group-container').count();

  step('the flame graph opens in the editor area; a click zooms without leaving the graph', async () => {
    await wb!.runCommand('Go Perf Lens: Show flame graph');
    const f = await flameFrame();
    assert.equal(await groups(), 1, 'the flame graph opened a second editor group');
    const canvas = f.locator('#flame');
    const box = (await canvas.boundingBox())!;
    // Row 2 (runtime.main → main.main → crunch): the middle of the graph.
    await canvas.click({ position: { x: box.width / 2, y: 2 * ROW + ROW / 2 } });
    await wb!.page.waitForTimeout(500);
    const zoomed = await f.locator('body').getAttribute('data-zoomed');
    await shot('flame-zoomed');
    assert.ok(zoomed, 'the click did not zoom');
    assert.match(await activeTab(), /Flame graph/, 'a click left the flame graph');
    assert.equal(await groups(), 1, 'a click opened an editor');
  });

  /**
   * The canvas pixel at the middle of the zoomed frame (row 2), its size, the page's theme class,
   * and whether the page saw a resize since `watchResize` (the graph must follow a theme change
   * by itself, not on the next resize).
   */
  interface FlamePixel {
    lightness: number;
    width: number;
    height: number;
    dark: boolean;
    resized: boolean;
  }
  const flamePixel = (f: Frame): Promise<FlamePixel> =>
    f.evaluate<FlamePixel>(`(() => {
      const c = document.getElementById('flame');
      const dpr = window.devicePixelRatio || 1;
      const [r, g, b] = c.getContext('2d').getImageData(Math.floor((c.clientWidth / 2) * dpr), Math.floor(${2 * ROW + ROW / 2} * dpr), 1, 1).data;
      const max = Math.max(r, g, b) / 255, min = Math.min(r, g, b) / 255;
      return { lightness: Math.round(((max + min) / 2) * 100), width: c.width, height: c.height,
        dark: document.body.classList.contains('vscode-dark'), resized: window.__gplResized === true };
    })()`);
  const pickTheme = async (name: string): Promise<void> => {
    await wb!.runCommand('Preferences: Color Theme');
    await wb!.waitForQuickPick(/theme/i, 20000);
    await wb!.typeInQuickInput(name);
    await until(`"${name}" to be the focused theme`, 15000, async () => ((await wb!.quickPickActive())?.includes(name) ? true : undefined));
    await wb!.press('Enter');
  };

  step('the flame graph follows a colour theme change at once, without a resize', async () => {
    const f = await flameFrame();
    await f.evaluate(
      `(() => { window.__gplResized = false; window.addEventListener('resize', () => { window.__gplResized = true; }); })()`,
    );
    const before = await flamePixel(f);
    // Dark frames are drawn at 21–39% lightness, light ones at 72–84%.
    const looksDark = (p: FlamePixel): boolean => p.dark && p.lightness < 50;
    const looksLight = (p: FlamePixel): boolean => !p.dark && p.lightness > 60;
    assert.ok(looksDark(before) || looksLight(before), `the frame before: ${JSON.stringify(before)}`);
    const [other, back] = before.dark ? ['Light Modern', 'Dark Modern'] : ['Dark Modern', 'Light Modern'];
    let now = before;
    try {
      await pickTheme(other);
      await until(`the frame to be redrawn for ${other}`, 20000, async () => {
        now = await flamePixel(f);
        return (before.dark ? looksLight(now) : looksDark(now)) ? true : undefined;
      });
      await shot('flame-other-theme');
      assert.equal(now.resized, false, 'the page was resized');
      assert.deepEqual([now.width, now.height], [before.width, before.height]);
    } catch (e) {
      throw new Error(`${(e as Error).message}; before: ${JSON.stringify(before)}, now: ${JSON.stringify(now)}`);
    } finally {
      // Back to a theme of the first kind, for the steps that follow.
      await pickTheme(back);
    }
    await until(`the frame to be redrawn for ${back}`, 20000, async () => {
      now = await flamePixel(f);
      return (before.dark ? looksDark(now) : looksLight(now)) ? true : undefined;
    });
    assert.equal(now.resized, false, 'the page was resized');
  });

  step('zoom and search survive switching to another tab and back', async () => {
    const f = await flameFrame();
    const zoomed = await f.locator('body').getAttribute('data-zoomed');
    await f.locator('#search').fill('crunch');
    await wb!.page.waitForTimeout(400);
    await wb!.page.locator('.editor-group-container.active .tab', { hasText: 'main.go' }).first().click();
    await wb!.page.waitForTimeout(800);
    await wb!.page.locator('.editor-group-container.active .tab', { hasText: 'Flame graph' }).first().click();
    await wb!.page.waitForTimeout(800);
    const g = await flameFrame();
    assert.equal(await g.locator('body').getAttribute('data-zoomed'), zoomed);
    assert.equal(await g.locator('#search').inputValue(), 'crunch');
  });

  step('Ctrl+click opens the frame’s source in the other editor group, the graph stays', async () => {
    const f = await flameFrame();
    const canvas = f.locator('#flame');
    const box = (await canvas.boundingBox())!;
    await canvas.click({ position: { x: box.width / 2, y: 2 * ROW + ROW / 2 }, modifiers: ['Control'] });
    const deadline = Date.now() + 15000;
    while ((await groups()) < 2 && Date.now() < deadline) await wb!.page.waitForTimeout(300);
    await shot('flame-open-source');
    assert.equal(await groups(), 2, 'no second editor group with the source');
    const tabs = await wb!.page.locator('.tab').allInnerTexts();
    assert.ok(tabs.some((t) => /Flame graph/.test(t)) && tabs.some((t) => /main\.go/.test(t)), tabs.join(' | '));
  });

  step('a second recording against a pinned baseline: the lens shows before → after', async () => {
    await wb!.runCommand('Go Perf Lens: Pin current profile as baseline');
    await wb!.page.locator('.editor-group-container .tab', { hasText: 'main.go' }).first().click();
    await profileByTypedPid(false);
    await wb!.press('Enter');
    await wb!.waitForQuickPick(/What to record/, 30000);
    await wb!.press('Enter');
    const lens = await wb!.waitForCodeLens(/% → [\d.<]+% CPU/, RECORD_SECONDS * 1000 + 60000);
    await shot('diff');
    assert.match(lens, /^[<\d.]+% → [<\d.]+% CPU/);
  });

  step('the diff flame graph colours frames by their change against the baseline', async () => {
    await wb!.runCommand('Go Perf Lens: Show flame graph');
    const f = await flameFrame();
    const deadline = Date.now() + 15000;
    while ((await f.locator('#colorBy').inputValue()) !== 'diff' && Date.now() < deadline) await wb!.page.waitForTimeout(300);
    await shot('flame-diff');
    assert.equal(await f.locator('#colorBy').inputValue(), 'diff');
    assert.match(await f.locator('#legend').innerText(), /hotter than the baseline/);
  });

  /** The latency panel's page. */
  const panelFrame = async (timeoutMs: number): Promise<Frame> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const f of wb!.page.frames())
        if (
          await f
            .locator('#panel-syscalls table')
            .count()
            .catch(() => 0)
        )
          return f;
      if (Date.now() > deadline) throw new Error('no latency panel with a syscalls table');
      await wb!.page.waitForTimeout(500);
    }
  };

  step('syscalls: the panel has tabs, the write in rest() is charged to its line, and the site is a link that opens it', async () => {
    await wb!.page.locator('.editor-group-container .tab', { hasText: 'main.go' }).first().click();
    await profileByTypedPid(false);
    await wb!.press('Enter');
    await wb!.waitForQuickPick(/What to record/, 30000);
    await wb!.typeInQuickInput('Syscalls');
    await wb!.page.waitForTimeout(400);
    await wb!.press('Enter');
    const f = await panelFrame(RECORD_SECONDS * 1000 + 90000);
    await shot('latency-panel');
    await f.locator('label[for="tab-syscalls"]').click();
    await wb!.page.waitForTimeout(300);
    await shot('syscalls');
    const link = f.locator('#panel-syscalls a:visible', { hasText: 'main.rest' }).first();
    assert.equal(
      await link.count(),
      1,
      `no visible site in main.rest; sites: ${(await f.locator('#panel-syscalls .site').allInnerTexts()).join(' | ')}`,
    );
    // The runtime's idle waits (futex, nanosleep…) are hidden until asked for.
    assert.ok(
      !(await f
        .locator('tr.idle')
        .first()
        .isVisible()
        .catch(() => false)),
      'an idle wait row is visible by default',
    );
    await link.click();
    const want =
      fs
        .readFileSync(path.join(ws, 'main.go'), 'utf8')
        .split('\n')
        .findIndex((l) => l.includes('devNull.Write(')) + 1;
    const deadline = Date.now() + 15000;
    let where = '';
    while (Date.now() < deadline) {
      where = await wb!.page
        .locator('.statusbar-item', { hasText: /^Ln \d+, Col \d+/ })
        .first()
        .innerText()
        .catch(() => '');
      if ((await activeTab()).includes('main.go') && where.startsWith(`Ln ${want},`)) break;
      await wb!.page.waitForTimeout(300);
    }
    await shot('syscall-site-opened');
    assert.match(await activeTab(), /main\.go/);
    assert.match(where, new RegExp(`^Ln ${want},`), `the cursor is at "${where}", not on line ${want} (the devNull.Write call)`);
  });
});
