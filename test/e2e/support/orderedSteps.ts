/**
 * The shape every end-to-end test here shares: steps that build on each other, run in order;
 * after a step the rest need fails, they fail at once instead of waiting out their timeouts, and
 * the failed step leaves a screenshot and the notifications on screen. Call inside describe().
 */
import type { VsCodeServer } from './vscodeServer';
import { type Workbench, shortError } from './workbench';

export interface OrderedStepsOptions {
  /** The workbench, once open (read at failure time). */
  workbench: () => Workbench | undefined;
  /** Screenshot names start with this, e.g. "e2e-launch". */
  shotPrefix: string;
  /** true: any failed step stops the rest; false: only steps declared `needed`. */
  everyStepNeeded: boolean;
  /** More to print when a step fails (after the notifications). */
  onFailure?: () => void;
}

/** Registers the afterEach hook and returns `step(title, fn, needed?)`, which declares an it(). */
export function orderedSteps(opts: OrderedStepsOptions): (title: string, fn: () => Promise<void>, needed?: boolean) => void {
  let brokenAt: string | undefined;
  const needed = new Set<string>();
  afterEach(async function () {
    const t = this.currentTest;
    if (t?.state !== 'failed') return;
    const first = !brokenAt;
    if (first && (opts.everyStepNeeded || needed.has(t.title))) brokenAt = t.title;
    const wb = opts.workbench();
    if (wb && (first || !opts.everyStepNeeded)) {
      await wb.screenshot(`${opts.shotPrefix}-failed-${t.title.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
      const notes = await wb.notifications().catch(() => []);
      if (notes.length) console.log(`    notifications: ${notes.join(' | ')}`);
    }
    if (first) opts.onFailure?.();
  });
  return (title, fn, isNeeded = false) => {
    if (isNeeded) needed.add(title);
    it(title, async () => {
      if (brokenAt) throw new Error(`not run: the earlier step "${brokenAt}" failed`);
      await fn().catch((e: unknown) => { throw shortError(e); });
    });
  };
}

/** Polls `probe` every 250 ms until it gives a value; throws "WHAT: not within N s" after timeoutMs. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Prints the extension's errors from the workbench console, closes it, and stops the server. */
export async function closeWorkbench(wb: Workbench | undefined, server: VsCodeServer | undefined): Promise<void> {
  if (wb) {
    const errors = wb.console.filter((l) => /go-perf-lens|goPerfLens|Go Perf Lens/i.test(l) && /error|fail/i.test(l));
    if (errors.length) console.log(`    workbench console:\n      ${errors.slice(-15).join('\n      ')}`);
    await wb.close();
  }
  if (server) await server.stop();
}
