/**
 * A host named by a file is not connected to without asking, end to end in VS Code 1.100 (VS Code
 * server + headless Chromium). A session file says its profile was recorded on an ssh host (here a
 * Host alias of a private sshd on 127.0.0.1, support/privateSshd.ts). The user opens it ("Open
 * profile…") and asks to trace the function at the cursor: a modal dialog names the host and asks
 * before connecting. Cancel: nothing connects — no ssh is run, the sshd accepts no login. Connect:
 * the extension goes to that host (the sshd logs its login) and checks the profile's PID there; that
 * process has exited, so the picker says so. Needs root (sshd logging in as root) like remoteHost.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { ingestPprof } from '../../src/ingest/fromPprof';
import { makeSession, saveSession } from '../../src/model/session';
import { goFunction, lineLocation, pprofProfile, pprofSample } from '../support/pprofBuilder';
import { runningProcesses } from '../support/procScan';
import { PRIVATE_SSHD_START_MS, startPrivateSshd, type PrivateSshd } from './support/privateSshd';
import { freshDir, makeWorkspace } from './support/runDir';
import { closeWorkbench, orderedSteps, until } from './support/orderedSteps';
import { OPEN_TIMEOUT_MS, openWorkbench } from './support/startup';
import { type VsCodeServer } from './support/vscodeServer';
import { QUICK_INPUT_BOX, QUICK_ROWS, Workbench } from './support/workbench';

const ALIAS = 'gpl-e2e-filehost';
const MAIN_GO = [
  'package main',
  '',
  'func work(n int) int {',
  '\ts := 0',
  '\tfor i := 0; i < n; i++ {',
  '\t\ts += i',
  '\t}',
  '\treturn s',
  '}',
  '',
  'func main() { println(work(10)) }',
  '',
];
const WORK_DECL = 'func work(';
const DIALOG = '.monaco-dialog-box';

/** Live ssh client processes whose arguments name `host` (from /proc, independent of the extension): "PID args". */
function sshProcessesTo(host: string): string[] {
  return runningProcesses()
    .filter(({ argv }) => path.basename(argv[0] ?? '') === 'ssh' && argv.includes(host))
    .map(({ pid, argv }) => `${pid} ${argv.join(' ').slice(0, 200)}`);
}

describe('end to end: tracing from a profile recorded on an ssh host asks before connecting [vscode, root, sshd]', function () {
  this.timeout(150000);
  let ws: string;
  let sessionFile: string;
  let gonePid: number;
  let sshd: PrivateSshd | undefined;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;
  /** What startPrivateSshd's own check (an `ssh ALIAS` before any UI) left in the count. */
  let loginsBefore = 0;
  /** ssh processes to ALIAS seen by the watcher (sshWatch), from the test's start. */
  const sshSeen = new Set<string>();
  let watching = true;
  let watcher: Promise<void> | undefined;

  const sshStory = (): string =>
    `ssh processes to ${ALIAS} seen: ${[...sshSeen].join(' | ') || 'none'}; sshd accepted ${sshd?.acceptedLogins() ?? 0} logins (${loginsBefore} before the UI)`;

  before(async function () {
    this.timeout(OPEN_TIMEOUT_MS + PRIVATE_SSHD_START_MS);
    assert.equal(process.getuid?.(), 0, 'this test runs as root (sshd logging in as root)');
    ws = makeWorkspace('e2e-filehost-ws', { 'go.mod': 'module example.com/filehost\n\ngo 1.19\n', 'main.go': MAIN_GO.join('\n') });
    // The profile's process: one that has exited (its PID is checked on the host after connecting).
    gonePid = spawnSync('true').pid;
    assert.ok(gonePid > 0);
    // A session file as Save profile writes it, of a CPU profile with heat on work's loop, whose
    // target says it was recorded on the host ALIAS.
    const mainGo = path.join(ws, 'main.go');
    const profile = ingestPprof(
      pprofProfile({
        sampleTypes: [{ type: 'samples', unit: 'count' }],
        samples: [pprofSample([1, 2], [90]), pprofSample([2], [10])],
        locations: [lineLocation(1, 1, 6), lineLocation(2, 2, 11)],
        functions: [goFunction(1, 'main.work', mainGo, 3), goFunction(2, 'main.main', mainGo, 11)],
      }),
    );
    profile.target = { pid: gonePid, host: ALIAS };
    sessionFile = path.join(freshDir('e2e-filehost-session'), 'from-a-colleague.json');
    saveSession(sessionFile, makeSession(profile));

    sshd = await startPrivateSshd(freshDir('e2e-filehost-ssh'), ALIAS);
    loginsBefore = sshd.acceptedLogins();
    // From here on, every ssh process naming the alias is noted (one lives at least for its handshake).
    watcher = (async () => {
      while (watching) {
        for (const p of sshProcessesTo(ALIAS)) sshSeen.add(p);
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    ({ server, wb } = await openWorkbench('e2e-filehost', ws, { serverEnv: sshd.serverEnv }));
  });

  const step = orderedSteps({
    workbench: () => wb,
    shotPrefix: 'e2e-filehost',
    everyStepNeeded: true,
    onFailure: () => console.log(`    ${sshStory()}`),
  });

  after(async function () {
    this.timeout(40000);
    watching = false;
    await watcher;
    await closeWorkbench(wb, server);
    if (sshd) await sshd.stop();
  });

  /** Runs "Trace latency of this function" with the cursor in work's body; resolves with the dialog's text. */
  async function traceWorkAndSeeDialog(): Promise<string> {
    const at = await wb!.textPosition('s += i', 's');
    await wb!.page.mouse.click(at.x, at.y);
    await wb!.runCommand('Go Perf Lens: Trace latency of this function');
    const dialog = wb!.page.locator(DIALOG).first();
    await dialog.waitFor({ state: 'visible', timeout: 30000 });
    return ((await dialog.innerText()) ?? '').replace(/\s+/g, ' ');
  }

  async function clickInDialog(name: RegExp): Promise<void> {
    await wb!.page.locator(`${DIALOG} .dialog-buttons .monaco-button`, { hasText: name }).first().click();
    await wb!.page.locator(DIALOG).first().waitFor({ state: 'hidden', timeout: 10000 });
  }

  step('"Open profile…" reads the session file: heat above work', async () => {
    await wb!.runCommand('Go Perf Lens: Open profile…');
    await until('the file dialog to show a folder', 30000, async () =>
      (await wb!.quickInputValue()).endsWith('/') && (await wb!.page.locator(QUICK_ROWS).count()) > 0 ? true : undefined,
    );
    const box = wb!.page.locator(QUICK_INPUT_BOX).first();
    let value = '';
    for (let attempt = 1; ; attempt++) {
      await box.focus();
      await wb!.press('Control+a');
      await wb!.page.keyboard.insertText(sessionFile);
      const shown = await until(`the dialog to show ${sessionFile}`, 5000, async () =>
        (value = await wb!.quickInputValue()) === sessionFile ? true : undefined,
      ).catch(() => false);
      if (shown) break;
      if (attempt === 3) assert.fail(`the file dialog shows "${value}", not the path pasted into it (${sessionFile})`);
    }
    // Enter opens it; on a loaded machine the dialog may still be taking in the pasted path: again then.
    for (let attempt = 1; ; attempt++) {
      await wb!.press('Enter');
      const closed = await until('the file dialog to close', 5000, async () => ((await box.isVisible()) ? undefined : true)).catch(
        () => false,
      );
      if (closed) break;
      if (attempt === 3) assert.fail(`the file dialog stays open with "${await wb!.quickInputValue()}" after Enter`);
    }
    const lenses = await wb!.lensesAboveLines(60000);
    assert.ok(
      lenses.some((l) => l.lineText.startsWith(WORK_DECL) && /\d+(\.\d+)?\s*%/.test(l.text)),
      `no heat above ${WORK_DECL}: ${JSON.stringify(lenses)}`,
    );
    assert.equal(sshSeen.size, 0, `opening a file ran ssh: ${sshStory()}`);
    assert.equal(sshd!.acceptedLogins(), loginsBefore, `opening a file logged in: ${sshStory()}`);
  });

  step(`"Trace latency of this function" asks first, in a modal dialog naming ${ALIAS}; Cancel connects to nothing`, async () => {
    const text = await traceWorkAndSeeDialog();
    assert.match(text, new RegExp(`the loaded profile was recorded on "${ALIAS}"`), text);
    assert.match(text, new RegExp(`Connect to ${ALIAS} over ssh to trace its process\\?`), text);
    assert.match(text, /comes from the profile file, not from you or your settings/, text);
    assert.equal(sshSeen.size, 0, `ssh ran before the user answered: ${sshStory()}`);
    await clickInDialog(/^Cancel$/);
  });

  step(`asked again, Connect goes to ${ALIAS}; the profile's PID has exited there, so the picker says so`, async () => {
    // The second dialog comes once the first command has returned: Cancel ran no ssh and reached no sshd.
    const text = await traceWorkAndSeeDialog();
    assert.equal(sshSeen.size, 0, `Cancel still ran ssh: ${sshStory()}`);
    assert.equal(sshd!.acceptedLogins(), loginsBefore, `Cancel still logged in: ${sshStory()}`);
    assert.match(text, new RegExp(`recorded on "${ALIAS}"`), text);
    await clickInDialog(new RegExp(`^Connect to ${ALIAS}$`));
    await until('sshd to log a login by the extension', 60000, () => (sshd!.acceptedLogins() > loginsBefore ? true : undefined)).catch(
      (e: Error) => {
        throw new Error(`${e.message}; ${sshStory()}`);
      },
    );
    assert.ok(sshSeen.size > 0, `the watcher saw no ssh, so it proves nothing: ${sshStory()}`);
    const placeholder = await until('the process picker saying why it asks', 60000, async () => {
      const p = await wb!.quickInputPlaceholder();
      return p.includes('of the loaded profile has exited') ? p : undefined;
    });
    assert.match(placeholder, new RegExp(`^PID ${gonePid} on ${ALIAS} of the loaded profile has exited: pick the process to trace`));
    await wb!.press('Escape');
  });
});
