/**
 * End to end, as a user would, in VS Code 1.100 (VS Code server + headless Chromium): the
 * e2eservice fixture burns CPU on a host reached over ssh — this machine, through a private sshd on
 * 127.0.0.1 that takes a key made at test time, named by a Host alias in a test-owned ssh config
 * (support/privateSshd.ts: the extension host's `ssh` is the system ssh with `-F` that config).
 * F1 → "Go Perf Lens: Profile Go process" → "Remote host…" → type the alias → Enter: the list now
 * shows that host's Go processes, fetched over ssh, each with its CPU % measured there; type the fixture's PID → Enter → CPU sampling,
 * Enter. perf runs below a session of that sshd, heat appears above the hot func, and the status
 * bar's tooltip names the process, its PID and the host.
 * Needs root (perf, sshd as root) like the product does; the steps run in order, and a step fails
 * on its own when an earlier one did. after() stops the fixture, the sshd with its sessions and any
 * ssh client using its config, and removes the keys; /root/.ssh and /etc/ssh are never touched.
 */
import * as assert from 'node:assert/strict';
import { type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { descendsFrom, PRIVATE_SSHD_START_MS, startPrivateSshd, type PrivateSshd } from './support/privateSshd';
import { freshDir } from './support/runDir';
import { runningProcesses } from '../support/procScan';
import { type VsCodeServer } from './support/vscodeServer';
import { closeWorkbench, killProcessGroup, orderedSteps, profilingNotice, until } from './support/orderedSteps';
import { QUICK_INPUT, QUICK_INPUT_BOX, Workbench } from './support/workbench';
import { startGoService, workspaceWithFixture } from './support/goService';
import { openWorkbench, STARTUP_TIMEOUT_MS } from './support/startup';

const FIXTURE = 'e2eservice';
const HOT_FUNC = 'crunch';
const HOT_DECL = `func ${HOT_FUNC}(`;
const RECORD_SECONDS = 4;
const ALIAS = 'gpl-e2e-remote';

/** `perf record … -p PID` processes running below `sshdPid` (from /proc, independent of the extension). */
function perfRecordingUnder(sshdPid: number, pid: number): number[] {
  const out: number[] = [];
  for (const { pid: p, argv } of runningProcesses()) {
    if (!/^perf(_[\d.]+)?$/.test(path.basename(argv[0] ?? '')) || argv[1] !== 'record') continue;
    const at = argv.indexOf('-p');
    if (at < 0 || argv[at + 1] !== String(pid)) continue;
    if (descendsFrom(p, sshdPid)) out.push(p);
  }
  return out;
}

describe('end to end: Remote host… over ssh → heat [vscode, root, perf, sshd]', function () {
  this.timeout(150000);
  let ws: string;
  let service: ChildProcess | undefined;
  let sshd: PrivateSshd | undefined;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;
  let loginsBefore = 0;
  let shotNo = 0;

  const shot = async (name: string): Promise<void> => {
    if (wb) await wb.screenshot(`e2e-remote-${String(++shotNo).padStart(2, '0')}-${name}`).catch(() => undefined);
  };
  const quickTitle = (): Promise<string> => wb!.quickInputTitle();
  const quickValue = (): Promise<string> => wb!.quickInputValue();
  const quickPlaceholder = (): Promise<string> => wb!.quickInputPlaceholder();
  /** What ssh did so far, for failure messages. */
  const sshStory = (): string =>
    `ssh calls through the test's config: ${sshd?.sshCalls().length ?? 0}; sshd accepted ${sshd?.acceptedLogins() ?? 0} logins; sshd log tail:\n${(sshd?.log() ?? '').trim().split('\n').slice(-8).join('\n')}`;

  before(async function () {
    this.timeout(STARTUP_TIMEOUT_MS + PRIVATE_SSHD_START_MS);
    assert.equal(process.getuid?.(), 0, 'this test runs as root (perf, and sshd logging in as root)');
    // perf, not the default (the eBPF sampler where it runs): this test watches perf run below the sshd.
    // Built in the workspace, as the user would: the binary's DWARF names these very files (the
    // "remote" host is this machine, so they are where the binary says).
    let bin: string;
    ({ ws, bin } = workspaceWithFixture('e2e-remote-ws', FIXTURE, { 'goPerfLens.duration': RECORD_SECONDS, 'goPerfLens.sampler': 'perf' }));
    service = await startGoService(bin, ws);
    // Also checks that `ssh ALIAS` logs in as root there before any UI is involved.
    sshd = await startPrivateSshd(freshDir('e2e-remote-ssh'), ALIAS);
    loginsBefore = sshd.acceptedLogins();
    ({ server, wb } = await openWorkbench('e2e-remote', ws, { serverEnv: sshd.serverEnv }));
  });

  // A failed step also prints what ssh and sshd saw.
  const step = orderedSteps({
    workbench: () => wb,
    shotPrefix: 'e2e-remote',
    everyStepNeeded: true,
    onFailure: () => console.log(`    ${sshStory().replace(/\n/g, '\n    ')}`),
  });

  after(async function () {
    this.timeout(40000);
    await closeWorkbench(wb, server);
    if (sshd) await sshd.stop();
    await killProcessGroup(service);
  });

  step('"Go Perf Lens: Profile Go process" offers "Remote host…"; choosing it asks for an ssh destination', async () => {
    await wb!.runCommand('Go Perf Lens: Profile Go process');
    await wb!.waitForQuickPick(/Profile Go process/, 30000);
    // Filter the list as a user would; the row stays first and focused when the local process scan redraws the list.
    await wb!.typeInQuickInput('Remote host');
    await until('"Remote host…" to be the focused row', 20000, async () =>
      /Remote host/.test((await wb!.quickPickActive()) ?? '') ? true : undefined,
    );
    await shot('process-pick');
    await wb!.press('Enter');
    await until('an input box titled "Remote host"', 30000, async () =>
      /^Remote host/.test(await quickTitle()) && (await wb!.page.locator(QUICK_INPUT_BOX).isVisible()) ? true : undefined,
    );
    const prompt =
      (await wb!.page
        .locator(`${QUICK_INPUT} .quick-input-message`)
        .first()
        .textContent()
        .catch(() => '')) ?? '';
    assert.match(prompt, /ssh destination/, `the input box's prompt is "${prompt}"`);
  });

  step(`typing the Host alias "${ALIAS}" and Enter lists that host's Go processes, fetched over ssh`, async () => {
    const box = wb!.page.locator(QUICK_INPUT_BOX).first();
    await box.focus();
    await wb!.press('Control+a'); // replaces the goPerfLens.remoteHost default, if any
    await wb!.typeInQuickInput(ALIAS);
    await until(`the box to read "${ALIAS}"`, 5000, async () => ((await quickValue()) === ALIAS ? true : undefined));
    await shot('destination');
    await wb!.press('Enter');
    // The process pick comes back titled for the host, and fills in when the listing over ssh ends.
    await wb!.waitForQuickPick(new RegExp(`Profile Go process — ${ALIAS}`), 30000);
    const pid = String(service!.pid);
    let rows: string[] = [];
    await until(`a row with ${FIXTURE} and PID ${pid} in the list of ${ALIAS}`, 45000, async () => {
      rows = await wb!.quickPickItems();
      return rows.some((r) => r.includes(`PID ${pid}`) && r.includes(FIXTURE)) ? true : undefined;
    }).catch(async (e: Error) => {
      throw new Error(`${e.message}; rows: ${rows.join(' | ')}; placeholder: "${await quickPlaceholder()}"`);
    });
    await shot('remote-process-pick');
    assert.match(await quickTitle(), new RegExp(`Profile Go process — ${ALIAS}`));
    // Its CPU use, measured on that host by the helper: the fixture burns CPU, so more than none.
    const row = rows.find((r) => r.includes(`PID ${pid}`))!;
    const cpu = /(\d+(?:\.\d)?)% CPU/.exec(row);
    assert.ok(cpu && Number(cpu[1]) > 0, `the fixture's row shows no CPU %: "${row}"`);
    // The list came through ssh and this sshd, not from this machine directly: sshd logs the
    // extension's login (its log lines reach us through a pipe: give them a moment).
    await until('sshd to log a login by the extension', 5000, () => (sshd!.acceptedLogins() > loginsBefore ? true : undefined)).catch(
      (e: Error) => {
        throw new Error(`${e.message}; ${sshStory()}`);
      },
    );
  });

  step('typing the PID filters the list to the fixture; Enter picks it; "What to record" preselects CPU sampling', async () => {
    const pid = String(service!.pid);
    await wb!.typeInQuickInput(pid);
    let rows: string[] = [];
    await until(`the list filtered to PID ${pid}`, 10000, async () => {
      rows = (await wb!.quickPickItems()).filter((r) => !/Launch a binary|Remote host/.test(r));
      return rows.length >= 1 && rows.every((r) => r.includes(pid)) ? true : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; rows: ${rows.join(' | ')}`);
    });
    await wb!.press('Enter');
    await wb!.waitForQuickPick(/What to record/, 20000);
    const active = await wb!.quickPickActive();
    await shot('what-to-record');
    assert.match(active ?? '', /CPU sampling/, `the preselected item is ${active}`);
  });

  step('Enter records the fixture on that host: "Profiling PID …", with perf running below a session of its sshd', async () => {
    const pid = service!.pid!;
    // Watch /proc from before Enter: perf must run below the sshd (that is, over ssh), never beside it.
    let perfSeen: number[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching && perfSeen.length === 0) {
        perfSeen = perfRecordingUnder(sshd!.pid, pid);
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    try {
      await wb!.press('Enter');
      await profilingNotice(wb!, pid);
      await shot('recording');
      await until(`perf record -p ${pid} below sshd (PID ${sshd!.pid})`, RECORD_SECONDS * 1000 + 60000, () =>
        perfSeen.length ? true : undefined,
      );
    } finally {
      watching = false;
      await watcher;
    }
  });

  step('heat appears: a code lens with a percentage above the hot func', async () => {
    const lenses = await wb!.lensesAboveLines(RECORD_SECONDS * 1000 + 60000);
    await shot('heat');
    const hot = lenses.find((l) => l.lineText.startsWith(HOT_DECL));
    assert.ok(hot, `no code lens above "${HOT_DECL}"; lenses: ${JSON.stringify(lenses)}`);
    assert.match(hot.text, /\d+(\.\d+)?\s*%/, `the lens above ${HOT_FUNC} is "${hot.text}"`);
  });

  step(`the status bar's Go Perf Lens item, hovered, names the process, its PID and "${ALIAS}"`, async () => {
    // The item reads "CPU time · 1.3k samples · 4 s" (not the passing message "Go Perf Lens: 1269 samples of …").
    const item = wb!.page.locator('.statusbar-item', { hasText: /samples · / }).first();
    await item.waitFor({ state: 'visible', timeout: 20000 });
    const want = new RegExp(`${FIXTURE} \\(PID ${service!.pid} on ${ALIAS}\\)`);
    let last = '';
    await until('the status bar tooltip', 30000, async () => {
      await wb!.page.mouse.move(700, 300); // away, so the next hover opens anew
      await item.hover();
      const hover = wb!.page
        .locator('.workbench-hover, .monaco-hover:not(.hidden)')
        .filter({ hasText: /Go Perf Lens/ })
        .first();
      await hover.waitFor({ state: 'visible', timeout: 5000 }).catch(() => undefined);
      last = (await hover.innerText().catch(() => '')).replace(/\s+/g, ' ').trim();
      return want.test(last) ? true : undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; last tooltip: "${last}"`);
    });
    await shot('status-tooltip');
    assert.match(last, want);
  });
});
