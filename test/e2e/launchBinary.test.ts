/**
 * End to end, as a user would, in VS Code 1.100 (VS Code server + headless Chromium): with the
 * e2eservice fixture built in the workspace but NOT running, F1 → "Go Perf Lens: Profile Go
 * process" → "Launch a binary…" → paste the binary's absolute path into the open dialog (the
 * browser workbench's "simple file dialog", a quick input) → Enter → no arguments, Enter → CPU
 * sampling, Enter. The extension starts the binary and records it: the progress names the PID
 * of the process it started, and heat appears above the hot func. Reloading the window (which
 * deactivates the extension) ends the process it launched.
 * Needs root (perf) like the product does; the steps run in order, and a step fails on its own
 * when an earlier one did. Whatever happens, after() kills every process running the binary.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { type VsCodeServer } from './support/vscodeServer';
import { closeWorkbench, orderedSteps, profilingNotice, until } from './support/orderedSteps';
import { QUICK_INPUT_BOX, QUICK_ROWS, Workbench } from './support/workbench';
import { workspaceWithFixture } from './support/goService';
import { openWorkbench, STARTUP_TIMEOUT_MS } from './support/startup';

const FIXTURE = 'e2eservice';
const HOT_FUNC = 'crunch';
const HOT_DECL = `func ${HOT_FUNC}(`;
const RECORD_SECONDS = 4;

/** PIDs of the live processes whose executable is `bin` (from /proc, independent of the extension). */
function pidsRunning(bin: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let exe: string;
    try {
      exe = fs.readlinkSync(`/proc/${d}/exe`);
    } catch {
      continue;
    }
    if (exe !== bin) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // exited, not yet reaped
    } catch {
      continue;
    }
    out.push(Number(d));
  }
  return out;
}

describe('end to end: Launch a binary… → heat [vscode, root, perf]', function () {
  this.timeout(150000);
  let ws: string;
  let bin: string;
  let launchedPid: number | undefined;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;
  let shotNo = 0;

  const shot = async (name: string): Promise<void> => {
    if (wb) await wb.screenshot(`e2e-launch-${String(++shotNo).padStart(2, '0')}-${name}`).catch(() => undefined);
  };
  const quickTitle = (): Promise<string> => wb!.quickInputTitle();
  const quickValue = (): Promise<string> => wb!.quickInputValue();

  before(async function () {
    this.timeout(STARTUP_TIMEOUT_MS);
    // Built in the workspace, as the user would: the binary's DWARF names these very files.
    ({ ws, bin } = workspaceWithFixture('e2e-launch-ws', FIXTURE, { 'goPerfLens.duration': RECORD_SECONDS }));
    assert.deepEqual(pidsRunning(bin), [], `${bin} runs before the test launched it`);
    ({ server, wb } = await openWorkbench('e2e-launch', ws));
  });

  const step = orderedSteps({ workbench: () => wb, shotPrefix: 'e2e-launch', everyStepNeeded: true });

  after(async function () {
    this.timeout(40000);
    await closeWorkbench(wb, server);
    // Nothing running the fixture may outlive the test, whatever the extension did.
    if (!bin) return;
    const deadline = Date.now() + 10000;
    for (let left = pidsRunning(bin); left.length; left = pidsRunning(bin)) {
      for (const pid of left)
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      if (Date.now() > deadline) {
        console.log(`    could not end ${bin}: PIDs ${left.join(', ')}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  step('"Go Perf Lens: Profile Go process" offers "Launch a binary…"; choosing it opens a file dialog', async () => {
    await wb!.runCommand('Go Perf Lens: Profile Go process');
    await wb!.waitForQuickPick(/Profile Go process/, 30000);
    // Filter the list as a user would; the row stays first and focused when the process scan redraws the list.
    await wb!.typeInQuickInput('Launch a binary');
    await until('"Launch a binary…" to be the focused row', 20000, async () =>
      /Launch a binary/.test((await wb!.quickPickActive()) ?? '') ? true : undefined,
    );
    await shot('process-pick');
    await wb!.press('Enter');
    const title = await until('a quick input titled "Launch a Go binary to profile"', 30000, async () => {
      const t = await quickTitle();
      return /Launch a Go binary to profile/.test(t) && (await wb!.page.locator(QUICK_INPUT_BOX).isVisible()) ? t : undefined;
    });
    assert.match(title, /Launch a Go binary/);
  });

  step("pasting the binary's absolute path into the file dialog and Enter picks it; Enter with no arguments launches it", async () => {
    // The simple file dialog (a quick input) shows a folder: its path, ending in "/", in the box and its entries as rows.
    // Wait until it has drawn that, so it cannot overwrite what is typed next.
    await until('the file dialog to show a folder', 20000, async () =>
      (await quickValue()).endsWith('/') && (await wb!.page.locator(QUICK_ROWS).count()) > 0 ? true : undefined,
    );
    // Replace the folder with the binary's path, as a user pasting it would; paste again if the dialog rewrote it.
    const box = wb!.page.locator(QUICK_INPUT_BOX).first();
    let value = '';
    for (let attempt = 1; ; attempt++) {
      await box.focus();
      await wb!.press('Control+a');
      await wb!.page.keyboard.insertText(bin);
      const shown = await until(`the dialog to show ${bin}`, 5000, async () =>
        (value = await quickValue()) === bin ? true : undefined,
      ).catch(() => false);
      if (shown) break;
      if (attempt === 3) assert.fail(`the file dialog shows "${value}", not the path pasted into it (${bin})`);
    }
    await shot('file-dialog');
    await wb!.press('Enter');
    await until('the "Arguments for …" input', 30000, async () => (/Arguments for/.test(await quickTitle()) ? true : undefined));
    assert.match(await quickTitle(), new RegExp(`Arguments for ${bin.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    await wb!.press('Enter');
    const pids = await until(`a process running ${bin}`, 20000, () => {
      const p = pidsRunning(bin);
      return p.length ? p : undefined;
    });
    assert.equal(pids.length, 1, `more than one process runs ${bin}: ${pids.join(', ')}`);
    launchedPid = pids[0];
  });

  step('"What to record" preselects CPU sampling; Enter records the launched process', async () => {
    await wb!.waitForQuickPick(/What to record/, 20000);
    const active = await wb!.quickPickActive();
    await shot('what-to-record');
    assert.match(active ?? '', /CPU sampling/, `the preselected item is ${active}`);
    await wb!.press('Enter');
    // The progress notification names the PID it records: the one the extension launched.
    await profilingNotice(wb!, launchedPid);
  });

  step('heat appears: a code lens with a percentage above the hot func', async () => {
    const lenses = await wb!.lensesAboveLines(RECORD_SECONDS * 1000 + 60000);
    await shot('heat');
    const hot = lenses.find((l) => l.lineText.startsWith(HOT_DECL));
    assert.ok(hot, `no code lens above "${HOT_DECL}"; lenses: ${JSON.stringify(lenses)}`);
    assert.match(hot.text, /\d+(\.\d+)?\s*%/, `the lens above ${HOT_FUNC} is "${hot.text}"`);
    assert.deepEqual(pidsRunning(bin), [launchedPid], 'the launched process is still the one running the binary');
  });

  step('"Developer: Reload Window" deactivates the extension, which ends the process it launched', async () => {
    await wb!.runCommand('Developer: Reload Window');
    await until(`PID ${launchedPid} to exit`, 30000, () => (pidsRunning(bin).includes(launchedPid!) ? undefined : true));
  });
});
