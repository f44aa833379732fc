/**
 * The shape every end-to-end test here shares: steps that build on each other, run in order;
 * after a step the rest need fails, they fail at once instead of waiting out their timeouts, and
 * the failed step leaves a screenshot and the notifications on screen. Call inside describe().
 * Beside it, what several of those tests do alike: until(), closeWorkbench(), profilingNotice(),
 * killProcessGroup().
 */
import type { ChildProcess } from 'node:child_process';
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
      await fn().catch((e: unknown) => {
        throw shortError(e);
      });
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

/** Waits for the progress notification "Profiling PID <pid>" the extension shows while it records. */
export async function profilingNotice(wb: Workbench, pid: number | undefined, timeoutMs = 20000): Promise<string> {
  let seen: string[] = [];
  const note = await until(`a notification "Profiling PID ${pid}"`, timeoutMs, async () => {
    seen = await wb.notifications().catch(() => []);
    return seen.find((n) => /Profiling PID \d+/.test(n));
  }).catch((e: Error) => {
    throw new Error(`${e.message} (notifications: ${JSON.stringify(seen)})`);
  });
  // The one it records: the PID the test chose.
  if (!new RegExp(`Profiling PID ${pid}\\b`).test(note)) throw new Error(`the notification names another process: ${note}`);
  return note;
}

/** Kills a fixture started with `detached: true` (its whole process group) and reaps it (≤ 5 s). */
export async function killProcessGroup(child: ChildProcess | undefined): Promise<void> {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
}
