/**
 * Drives the VS Code web workbench (served by the VS Code server) in headless Chromium the way a
 * user would: trust dialog, F1 command palette, quick picks, code lenses, hovers, tree rows,
 * screenshots. Selectors are VS Code 1.100's DOM (ENVIRONMENT.md lists the verified ones).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { CHROMIUM, CHROMIUM_ARGS, playwright, type BrowserContext, type Locator, type Page } from './playwright';
import { RESULTS_DIR } from './runDir';
import type { VsCodeServer } from './vscodeServer';

export interface OpenWorkbenchOptions {
  server: VsCodeServer;
  /** The workspace folder to open. */
  folder: string;
  /** A file to open in an editor. */
  file?: string;
  /** The extension under development (the repo root: dist/extension.js runs). */
  extensionDevelopmentPath?: string;
  /** A test module whose run() the extension host calls (extension-host tests). */
  extensionTestsPath?: string;
  /** A fresh Chromium profile folder. */
  userDataDir: string;
  viewport?: { width: number; height: number };
  /** Time to wait for the workbench to appear. */
  timeoutMs?: number;
}

/** Workbench.open's deadlines: Chromium launched, the page loaded, the workbench drawn. */
const CHROMIUM_LAUNCH_MS = 70000;
const PAGE_LOAD_MS = 60000;
const WORKBENCH_DRAWN_MS = 60000;
/** What Workbench.open may take at most (without a timeoutMs of its own). */
export const WORKBENCH_OPEN_MS = CHROMIUM_LAUNCH_MS + PAGE_LOAD_MS + WORKBENCH_DRAWN_MS;

export const QUICK_INPUT = '.quick-input-widget';
export const QUICK_INPUT_BOX = `${QUICK_INPUT} .quick-input-box input`;
export const QUICK_ROWS = `${QUICK_INPUT} .quick-input-list .monaco-list-row`;

/** The workbench URL: folder plus a payload of development/test/file entries. */
export function workbenchUrl(o: Omit<OpenWorkbenchOptions, 'userDataDir'>): string {
  const payload: [string, string][] = [];
  if (o.extensionDevelopmentPath) payload.push(['extensionDevelopmentPath', o.server.remoteUri(o.extensionDevelopmentPath)]);
  if (o.extensionTestsPath) payload.push(['extensionTestsPath', o.server.remoteUri(o.extensionTestsPath)]);
  if (o.file) payload.push(['openFile', o.server.remoteUri(o.file)]);
  let url = `${o.server.origin}/?folder=${encodeURIComponent(path.resolve(o.folder))}`;
  if (payload.length) url += `&payload=${encodeURIComponent(JSON.stringify(payload))}`;
  return url;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms);
    }),
  ]);
}

/** Playwright errors carry a long "Call log"; keep the message and the first lines of it. */
export function shortError(e: unknown): Error {
  if (!(e instanceof Error)) return new Error(String(e));
  const at = e.message.indexOf('Call log:');
  if (at < 0) return e;
  const log = e.message.slice(at).split('\n').slice(0, 4).join('\n');
  const short = new Error(`${e.message.slice(0, at).trim()}\n${stripVTControlCharacters(log)}`);
  short.stack = `${short.message}\n${(e.stack ?? '')
    .split('\n')
    .filter((l) => /^\s+at /.test(l))
    .slice(0, 4)
    .join('\n')}`;
  return short;
}

export class Workbench {
  /** Everything the page printed to its console (extension host output is forwarded there). */
  readonly console: string[] = [];

  private constructor(
    readonly page: Page,
    private readonly context: BrowserContext,
  ) {
    page.on('console', (m) => {
      this.console.push(`[${m.type()}] ${m.text()}`);
    });
    page.on('pageerror', (e) => {
      this.console.push(`[pageerror] ${e.message}`);
    });
  }

  /** Launches Chromium with a fresh profile and loads the workbench; waits until it is drawn (WORKBENCH_OPEN_MS at most). */
  static async open(o: OpenWorkbenchOptions): Promise<Workbench> {
    const viewport = o.viewport ?? { width: 1400, height: 900 };
    const context = await withTimeout(
      playwright().chromium.launchPersistentContext(o.userDataDir, {
        executablePath: CHROMIUM,
        args: CHROMIUM_ARGS,
        headless: true,
        timeout: CHROMIUM_LAUNCH_MS - 10000,
        viewport,
      }),
      CHROMIUM_LAUNCH_MS,
      'launching Chromium',
    );
    try {
      const page = context.pages()[0] ?? (await context.newPage());
      page.setDefaultTimeout(20000);
      const wb = new Workbench(page, context);
      await page.goto(workbenchUrl(o), { timeout: PAGE_LOAD_MS, waitUntil: 'domcontentloaded' });
      await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: o.timeoutMs ?? WORKBENCH_DRAWN_MS });
      return wb;
    } catch (e) {
      await withTimeout(context.close(), 10000, 'closing Chromium').catch(() => undefined);
      throw e;
    }
  }

  /**
   * Makes the workspace trusted as a user would, the way VS Code offers it: 'dialog' — "Yes, I
   * trust the authors" in the startup dialog (a workbench opened with an extension under
   * development); 'status-bar' — where no dialog comes (extension test runs skip it), the
   * "Restricted Mode" status bar item, then "Trust" in the Workspace Trust editor. Waits for what
   * it clicks (on a loaded machine the dialog can take a minute) and returns once the dialog and
   * the item are gone; throws after timeoutMs, saying what still shows.
   */
  async grantTrust(way: 'dialog' | 'status-bar' = 'dialog', timeoutMs = 120000): Promise<void> {
    const dialog = this.page.getByRole('button', { name: /Yes, I trust the authors/ }).first();
    const restricted = this.page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first();
    const trust = this.page.locator('.workspace-trust-editor .monaco-button', { hasText: /^Trust$/ }).first();
    // A click can time out on a loaded machine although it landed: what shows afterwards decides.
    const tryClick = (l: Locator): Promise<void> => l.click({ timeout: 10000 }).catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    let clicked = false;
    for (;;) {
      const dialogShown = await dialog.isVisible();
      const restrictedShown = await restricted.isVisible();
      if (clicked && !dialogShown && !restrictedShown) return;
      if (way === 'dialog') {
        // The Restricted Mode item can show before the dialog: wait for the dialog itself.
        if (dialogShown) {
          clicked = true;
          await tryClick(dialog);
        }
      } else if (restrictedShown && (await trust.isVisible())) {
        clicked = true;
        await tryClick(trust);
      } else if (restrictedShown) {
        await tryClick(restricted);
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the workspace was not trusted through the ${way} within ${timeoutMs / 1000} s (${clicked ? 'trust clicked' : 'never offered'}; ` +
            `dialog ${dialogShown ? 'shown' : 'not shown'}, Restricted Mode item ${restrictedShown ? 'shown' : 'not shown'})`,
        );
      }
      await this.page.waitForTimeout(250);
    }
  }

  /** The active editor's text area (visible lines). */
  editorLines(): Locator {
    return this.page.locator('.editor-group-container.active .monaco-editor .view-lines').first();
  }

  /** Waits for an editor showing a file whose tab label is `name`. */
  async waitForEditor(name: string, timeoutMs = 30000): Promise<void> {
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).first().waitFor({ state: 'visible', timeout: timeoutMs });
    await this.editorLines().waitFor({ state: 'visible', timeout: timeoutMs });
  }

  /** Focuses the active editor (keeping its cursor) or, without one, the workbench. */
  async focus(): Promise<void> {
    // Focus the editor's input without a click: a click would move the cursor.
    const input = this.page.locator('.editor-group-container.active .monaco-editor textarea').first();
    if ((await input.count()) > 0) await input.focus();
    else await this.page.locator('.monaco-workbench').click({ position: { x: 700, y: 300 } });
  }

  /**
   * F1, type the command title, click it once listed. Ctrl+Shift+P does not open the palette
   * headless. Retries for a while: an extension's commands appear once its host has started.
   */
  async runCommand(title: string, timeoutMs = 40000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await this.focus();
      await this.page.keyboard.press('F1');
      const box = this.page.locator(QUICK_INPUT_BOX);
      await box.waitFor({ state: 'visible' });
      await box.fill(`>${title}`);
      const row = this.page.locator(QUICK_ROWS).filter({ hasText: title }).first();
      try {
        await row.waitFor({ state: 'visible', timeout: 5000 });
        await row.click();
        await this.page.mouse.move(1000, 52); // off the list, so no tooltip lingers over what comes next
        return;
      } catch {
        const listed = await this.quickPickItems();
        await this.page.keyboard.press('Escape');
        if (Date.now() > deadline) {
          throw new Error(`command "${title}" is not in the command palette (it lists: ${listed.slice(0, 10).join(' | ') || 'nothing'})`);
        }
        await this.page.waitForTimeout(2000);
      }
    }
  }

  /** Commands the palette lists for a filter (e.g. "Go Perf Lens:"), then closes it. */
  async paletteCommands(filter: string): Promise<string[]> {
    await this.focus();
    await this.page.keyboard.press('F1');
    const box = this.page.locator(QUICK_INPUT_BOX);
    await box.waitFor({ state: 'visible' });
    await box.fill(`>${filter}`);
    await this.page.waitForTimeout(1000);
    const items = await this.quickPickItems();
    await this.page.keyboard.press('Escape');
    return items;
  }

  /** Waits for a quick pick (the quick input showing rows); optional text its title/placeholder has. */
  async waitForQuickPick(titleOrPlaceholder?: RegExp, timeoutMs = 30000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const visible = await this.page.locator(QUICK_INPUT).isVisible();
      if (visible) {
        const title =
          (await this.page
            .locator(`${QUICK_INPUT} .quick-input-title`)
            .first()
            .textContent()
            .catch(() => '')) ?? '';
        const placeholder =
          (await this.page
            .locator(QUICK_INPUT_BOX)
            .getAttribute('placeholder')
            .catch(() => '')) ?? '';
        const rows = await this.page.locator(QUICK_ROWS).count();
        if (rows > 0 && (!titleOrPlaceholder || titleOrPlaceholder.test(title) || titleOrPlaceholder.test(placeholder))) return;
      }
      if (Date.now() > deadline) {
        throw new Error(`no quick pick${titleOrPlaceholder ? ` matching ${titleOrPlaceholder}` : ''} within ${timeoutMs / 1000} s`);
      }
      await this.page.waitForTimeout(250);
    }
  }

  /** The text (label, description, detail) of the rows the open quick pick shows, top first. */
  async quickPickItems(): Promise<string[]> {
    // One read of all rows at once: the list can re-render (fewer rows) between a count and a
    // per-row read, which then waits for a row that is gone.
    const texts = await this.page.locator(QUICK_ROWS).allInnerTexts();
    return texts.map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /** The label of the focused (preselected) row of the open quick pick. */
  async quickPickActive(): Promise<string | undefined> {
    const row = this.page.locator(`${QUICK_ROWS}.focused`).first();
    if ((await row.count()) === 0) return undefined;
    return (await row.innerText()).replace(/\s+/g, ' ').trim();
  }

  /** The open quick input's title, its text box's value and placeholder ('' when absent). */
  async quickInputTitle(): Promise<string> {
    return (
      (await this.page
        .locator(`${QUICK_INPUT} .quick-input-title`)
        .first()
        .textContent()
        .catch(() => '')) ?? ''
    ).trim();
  }
  async quickInputValue(): Promise<string> {
    return this.page
      .locator(QUICK_INPUT_BOX)
      .first()
      .evaluate((el: never) => (el as { value: string }).value)
      .catch(() => '');
  }
  async quickInputPlaceholder(): Promise<string> {
    return (
      (await this.page
        .locator(QUICK_INPUT_BOX)
        .first()
        .getAttribute('placeholder')
        .catch(() => '')) ?? ''
    );
  }

  /** Types into the quick input as a user would (character by character). */
  async typeInQuickInput(text: string): Promise<void> {
    const box = this.page.locator(QUICK_INPUT_BOX);
    await box.waitFor({ state: 'visible' });
    await box.focus();
    await this.page.keyboard.type(text, { delay: 30 });
  }

  async press(key: string): Promise<void> {
    await this.page.keyboard.press(key);
  }

  /** Texts of the code lenses in the active editor. */
  async codeLenses(): Promise<string[]> {
    return this.page.locator('.editor-group-container.active .monaco-editor .codelens-decoration').allInnerTexts();
  }

  /** Waits until some code lens text matches re; returns it. */
  async waitForCodeLens(re: RegExp, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = (await this.codeLenses()).find((t) => re.test(t));
      if (found) return found;
      if (Date.now() > deadline)
        throw new Error(`no code lens matching ${re} within ${timeoutMs / 1000} s (lenses: ${JSON.stringify(await this.codeLenses())})`);
      await this.page.waitForTimeout(500);
    }
  }

  /** Every code lens of the active editor as drawn now, with the text of the line right below it (the line it belongs to). */
  async lensesWithLines(): Promise<{ text: string; lineText: string }[]> {
    const script = `(() => {
      const ed = document.querySelector('.editor-group-container.active .monaco-editor');
      if (!ed) return [];
      const lines = Array.from(ed.querySelectorAll('.view-lines .view-line')).map((l) => [l.getBoundingClientRect().top, (l.textContent || '').replace(/\\u00a0/g, ' ')]);
      const out = [];
      for (const lens of ed.querySelectorAll('.codelens-decoration')) {
        const bottom = lens.getBoundingClientRect().bottom;
        let best = null;
        for (const [top, text] of lines) if (top >= bottom - 4 && (!best || top < best[0])) best = [top, text];
        out.push({ text: lens.textContent || '', lineText: best ? best[1].trim() : '' });
      }
      return out;
    })()`;
    return this.page.evaluate<{ text: string; lineText: string }[]>(script);
  }

  /**
   * Waits until the active editor shows code lenses with some figure (a percentage) and returns
   * every lens with the text of the line right below it (the line it belongs to).
   */
  async lensesAboveLines(timeoutMs: number): Promise<{ text: string; lineText: string }[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lenses = await this.lensesWithLines();
      if (lenses.some((l) => /\d\s*%/.test(l.text))) return lenses;
      if (Date.now() > deadline) {
        const notes = await this.notifications().catch(() => []);
        throw new Error(
          `no code lens with a percentage within ${timeoutMs / 1000} s (lenses: ${JSON.stringify(lenses)}; notifications: ${JSON.stringify(notes)})`,
        );
      }
      await this.page.waitForTimeout(1000);
    }
  }

  /**
   * Where on screen a text occurs in the active editor's rendered lines: the centre of the
   * `occurrence`-th match of `text` on the first line containing `lineText`.
   */
  async textPosition(lineText: string, text: string): Promise<{ x: number; y: number; line1: number }> {
    const script = `(() => {
      const lineText = ${JSON.stringify(lineText)}, text = ${JSON.stringify(text)};
      const ed = document.querySelector('.editor-group-container.active .monaco-editor');
      if (!ed) return null;
      const lines = Array.from(ed.querySelectorAll('.view-lines .view-line'));
      lines.sort((a, b) => a.getBoundingClientRect().top - b.getBoundingClientRect().top);
      for (const line of lines) {
        const content = (line.textContent || '').replace(/\\u00a0/g, ' ');
        if (!content.includes(lineText)) continue;
        const at = content.indexOf(text, content.indexOf(lineText));
        if (at < 0) return null;
        const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
        let offset = 0, node;
        while ((node = walker.nextNode())) {
          const len = node.textContent.length;
          if (at < offset + len) {
            const range = document.createRange();
            range.setStart(node, at - offset);
            range.setEnd(node, Math.min(len, at - offset + Math.max(1, Math.min(text.length, len - (at - offset)))));
            const r = range.getBoundingClientRect();
            return { x: r.left + r.width / 2, y: r.top + r.height / 2, top: line.getBoundingClientRect().top };
          }
          offset += len;
        }
      }
      return null;
    })()`;
    const pos = await this.page.evaluate<{ x: number; y: number; top: number } | null>(script);
    if (!pos) throw new Error(`"${text}" on a line with "${lineText}" is not visible in the active editor`);
    return { x: pos.x, y: pos.y, line1: await this.lineNumberAt(pos.top) };
  }

  /** The 1-based line number shown in the gutter at a vertical position (top of a view line). */
  private async lineNumberAt(top: number): Promise<number> {
    const script = `(() => {
      const ed = document.querySelector('.editor-group-container.active .monaco-editor');
      for (const n of ed.querySelectorAll('.margin-view-overlays .line-numbers')) {
        const r = n.getBoundingClientRect();
        if (Math.abs(r.top - ${top}) < 3) return Number(n.textContent);
      }
      return 0;
    })()`;
    return this.page.evaluate<number>(script);
  }

  /** Moves the mouse over a text in the editor; returns the hover's text and its images' sources (start of). */
  async hoverText(lineText: string, text: string, timeoutMs = 15000): Promise<{ text: string; images: string[] }> {
    const pos = await this.textPosition(lineText, text);
    await this.page.mouse.move(pos.x - 30, pos.y + 40);
    await this.page.mouse.move(pos.x, pos.y, { steps: 4 });
    const hover = this.page.locator('.monaco-hover:not(.hidden)').filter({ hasText: /\S/ }).first();
    await hover.waitFor({ state: 'visible', timeout: timeoutMs });
    await this.page.waitForTimeout(500); // images and late providers fill in
    const imgs = hover.locator('img');
    const images: string[] = [];
    for (let i = 0, n = await imgs.count(); i < n; i++) images.push(((await imgs.nth(i).getAttribute('src')) ?? '').slice(0, 120));
    return { text: await hover.innerText(), images };
  }

  /**
   * Background colours of the editor's whole-line decorations, by 1-based line number (lines with
   * no such decoration are absent). Extension line decorations (isWholeLine) render as
   * `.view-overlays > div > .cdr` elements with an inline background.
   */
  async lineBackgrounds(): Promise<Map<number, string>> {
    const script = `(() => {
      const ed = document.querySelector('.editor-group-container.active .monaco-editor');
      if (!ed) return [];
      const numbers = Array.from(ed.querySelectorAll('.margin-view-overlays .line-numbers')).map((n) => [n.getBoundingClientRect().top, Number(n.textContent)]);
      const out = [];
      for (const row of ed.querySelectorAll('.view-overlays > div')) {
        const top = row.getBoundingClientRect().top;
        const hit = numbers.find(([t]) => Math.abs(t - top) < 3);
        if (!hit) continue;
        for (const d of row.querySelectorAll('.cdr')) {
          const bg = getComputedStyle(d).backgroundColor;
          if (bg && bg !== 'rgba(0, 0, 0, 0)' && bg !== 'transparent') out.push([hit[1], bg]);
        }
      }
      return out;
    })()`;
    return new Map(await this.page.evaluate<[number, string][]>(script));
  }

  /** Texts drawn after line ends by decorations (`after` content), by 1-based line number. */
  async afterLineTexts(): Promise<Map<number, string>> {
    const script = `(() => {
      const ed = document.querySelector('.editor-group-container.active .monaco-editor');
      if (!ed) return [];
      const numbers = Array.from(ed.querySelectorAll('.margin-view-overlays .line-numbers')).map((n) => [n.getBoundingClientRect().top, Number(n.textContent)]);
      const out = [];
      for (const line of ed.querySelectorAll('.view-lines .view-line')) {
        const top = line.getBoundingClientRect().top;
        const hit = numbers.find(([t]) => Math.abs(t - top) < 3);
        if (!hit) continue;
        let text = '';
        for (const span of line.querySelectorAll('span[class*="ced-"]')) {
          const c = getComputedStyle(span, '::after').content;
          if (c && c !== 'none' && c !== 'normal') text += c.replace(/^"|"$/g, '');
        }
        if (text) out.push([hit[1], text]);
      }
      return out;
    })()`;
    return new Map(await this.page.evaluate<[number, string][]>(script));
  }

  /** Opens a view by its name through the palette's generated "Focus on NAME View" command. */
  async focusView(name: string): Promise<void> {
    await this.runCommand(`Focus on ${name} View`);
  }

  /** Row labels of the tree in the view titled `name` (top first, as shown). */
  async treeItems(name: string): Promise<string[]> {
    const pane = this.page.locator('.pane', { has: this.page.locator('.pane-header', { hasText: name }) }).first();
    const rows = pane.locator('.pane-body .monaco-list-row');
    await rows.first().waitFor({ state: 'visible', timeout: 20000 });
    const n = await rows.count();
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push((await rows.nth(i).getAttribute('aria-label')) ?? (await rows.nth(i).innerText()));
    return out;
  }

  /** Texts of the notification toasts currently shown. */
  async notifications(): Promise<string[]> {
    return this.page.locator('.notifications-toasts .notification-toast').allInnerTexts();
  }

  /** Saves a screenshot of the whole window to test-results/NAME.png and returns its path. */
  async screenshot(name: string): Promise<string> {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${name}.png`);
    await this.page.screenshot({ path: file, timeout: 20000 });
    return file;
  }

  async close(): Promise<void> {
    await withTimeout(this.context.close(), 15000, 'closing Chromium').catch(() => undefined);
  }
}
