/**
 * Live heat, end to end in VS Code 1.100 (VS Code server + headless Chromium), as a user meets it:
 * Profile Go process → the service's PID → "CPU sampling · until I stop it", with the default
 * sampler (the eBPF sampler, where BCC runs as it does here). While it records, heat appears (a code lens with a share above the hot func, tinted lines) and refreshes as
 * samples stream in: a later refresh shows more samples and other figures, the lens and the
 * tints staying drawn through every refresh (replaced in place, never cleared in between).
 * Then Stop in the status bar ends it: the profile is kept ("stopped early — kept N s"), its heat
 * stays. Needs root and BCC like the product's default does (perf's live path: perfIngest's
 * integration test).
 */
import * as assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { startGoService, workspaceWithFixture } from './support/goService';
import { type VsCodeServer } from './support/vscodeServer';
import { closeWorkbench, killProcessGroup, orderedSteps, profilingNotice, until } from './support/orderedSteps';
import { Workbench } from './support/workbench';
import { openWorkbench, STARTUP_TIMEOUT_MS } from './support/startup';

const FIXTURE = 'e2eservice';
const HOT_DECL = 'func crunch(';

describe('end to end: live heat while recording until I stop it, then Stop keeps it [vscode, root, bcc]', function () {
  this.timeout(180000);
  let ws: string;
  let bin: string;
  let service: ChildProcess | undefined;
  let server: VsCodeServer | undefined;
  let wb: Workbench | undefined;
  /** The status bar's sample count when heat first appeared, and at the refresh seen after it. */
  let firstSamples = 0;
  let laterSamples = 0;

  before(async function () {
    this.timeout(STARTUP_TIMEOUT_MS);
    // goPerfLens.duration and goPerfLens.sampler stay at their defaults: the recording asked for
    // here has no end of its own, and its stacks come from the eBPF sampler once a second.
    ({ ws, bin } = workspaceWithFixture('live-ws', FIXTURE, {}));
    service = await startGoService(bin, ws);
    ({ server, wb } = await openWorkbench('live', ws));
  });

  const step = orderedSteps({ workbench: () => wb, shotPrefix: 'e2e-live', everyStepNeeded: true });

  after(async function () {
    this.timeout(40000);
    await closeWorkbench(wb, server);
    await killProcessGroup(service);
  });

  const stopItem = () => wb!.page.locator('.statusbar-item', { hasText: `Stop recording PID ${service!.pid}` }).first();
  /** The samples the status bar's profile item says ("… · 1.3k samples · 2.0 s"), as a number. */
  const statusSamples = async (): Promise<number | undefined> => {
    const texts = await wb!.page.locator('.statusbar-item', { hasText: / samples · / }).allInnerTexts();
    const m = texts.map((t) => /([\d.]+)(k|M)? samples · /.exec(t)).find(Boolean);
    return m ? Number(m[1]) * (m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : 1) : undefined;
  };
  /** The hot func's lens (with a share) and the tinted lines, as drawn right now. */
  const drawn = async (): Promise<{ lens: string | undefined; tinted: number; figures: string }> => {
    const lenses = await wb!.lensesWithLines().catch(() => []);
    const lens = lenses.find((l) => l.lineText.startsWith(HOT_DECL) && /\d\s*%/.test(l.text))?.text;
    const figures = [...(await wb!.afterLineTexts().catch(() => new Map<number, string>())).entries()]
      .map(([l, t]) => `${l}:${t}`)
      .join(' ');
    return { lens, tinted: (await wb!.lineBackgrounds().catch(() => new Map())).size, figures };
  };

  step('"What to record" offers "until I stop it"; picking it starts a recording that shows Stop in the status bar', async () => {
    await wb!.runCommand('Go Perf Lens: Profile Go process');
    await wb!.waitForQuickPick(/Profile Go process/, 30000);
    await wb!.typeInQuickInput(String(service!.pid));
    await until(`PID ${service!.pid} listed`, 30000, async () =>
      (await wb!.quickPickItems()).some((i) => i.includes(`PID ${service!.pid}`)) ? true : undefined,
    );
    await wb!.press('Enter');
    await wb!.waitForQuickPick(/What to record/, 30000);
    // The default sampler is named on the CPU row.
    await until('the CPU row naming the eBPF sampler', 20000, async () =>
      (await wb!.quickPickItems()).find((i) => /CPU sampling .*eBPF sampler/.test(i)),
    );
    await wb!.typeInQuickInput('until I stop it');
    const active = await until('the "until I stop it" row active', 20000, async () => {
      const a = await wb!.quickPickActive();
      return a && /CPU sampling .* · until I stop it/.test(a) ? a : undefined;
    });
    assert.match(active, /CPU sampling/);
    await wb!.press('Enter');
    await profilingNotice(wb!, service!.pid, 30000);
    await stopItem().waitFor({ state: 'visible', timeout: 30000 });
  });

  step('while it records, heat appears, then a later refresh shows more samples; lens and tints stay drawn throughout', async () => {
    // The sampler's compile takes seconds (more on a busy machine); then the first refresh comes within a second or so.
    const first = await until('heat while recording (a lens with a share above the hot func, tinted lines)', 90000, async () => {
      const d = await drawn();
      return d.lens && d.tinted > 0 ? d : undefined;
    });
    firstSamples = (await until('the sample count in the status bar', 20000, statusSamples)) ?? 0;
    assert.ok(firstSamples > 0, `samples: ${firstSamples}`);
    assert.ok(await stopItem().isVisible(), 'heat appeared only after the recording ended: it must appear while recording');
    await wb!.screenshot('e2e-live-01-first-heat').catch(() => undefined);
    // Every look until the refresh with more samples must still see the lens and the tints.
    let looks = 0;
    const later = await until('a refresh with more samples and other figures', 90000, async () => {
      const d = await drawn();
      looks++;
      assert.ok(d.lens && d.tinted > 0, `heat was cleared during a refresh (look ${looks}): lens ${d.lens}, ${d.tinted} tinted lines`);
      const n = (await statusSamples()) ?? 0;
      return n > firstSamples && d.figures !== first.figures ? { ...d, n } : undefined;
    });
    laterSamples = later.n;
    assert.ok(await stopItem().isVisible(), 'the refresh must come while recording');
    await wb!.screenshot('e2e-live-02-later-heat').catch(() => undefined);
  });

  step('Stop in the status bar ends the recording and keeps it; its heat stays', async () => {
    await stopItem().click();
    const kept = await until('"stopped early — kept"', 60000, async () =>
      (await wb!.notifications().catch(() => [])).find((n) =>
        new RegExp(`stopped early — kept [\\d.]+ (s|ms) of PID ${service!.pid}`).test(n),
      ),
    );
    const m = /kept [\d.]+ (?:s|ms) of PID \d+ \((\d+) samples/.exec(kept);
    assert.ok(m && Number(m[1]) >= laterSamples * 0.9, `kept ${kept}; the live view had shown about ${laterSamples} samples`);
    await until('the Stop item gone', 20000, async () => ((await stopItem().isVisible()) ? undefined : true));
    const d = await until('the kept profile drawn', 30000, async () => {
      const x = await drawn();
      return x.lens && x.tinted > 0 ? x : undefined;
    });
    assert.ok(d.lens);
    await wb!.screenshot('e2e-live-03-kept').catch(() => undefined);
  });
});
