/**
 * Profile benchmark / test (the code lens above `func BenchmarkX` / `func TestX`, and the editor's
 * context menu): runs it under a CPU recording (commands/profileGoTest) and shows the heat. Running
 * the same benchmark again compares with the previous run: it becomes the baseline (lines that got
 * hotter or cooler are marked) and the benchmark's ns/op, B/op, allocs/op before and after are shown.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { type BenchmarkResult, compareBenchmarks } from '../formats/goBenchOutput';
import type { LoadedProfile, ProfileSession } from '../ui/profileSession';
import { goTestFuncAt, scanGoTestFuncs } from '../ui/goTestFuncs';
import { UserError } from '../util/userError';
import { profileGoTest } from './profileGoTest';

interface PreviousRun {
  loaded: LoadedProfile;
  benchmarks: BenchmarkResult[];
}

export interface GoTestRunResult {
  label: string;
  /** "BenchmarkX: 18514 → 37028 ns/op (+100.0%), …", when there was a previous run. */
  comparison?: string;
  /** From click to heat, in milliseconds, and its parts. */
  totalMs: number;
  timings: { buildMs: number; runMs: number; ingestMs: number };
}

export class GoTestProfiler {
  /** The previous run of each benchmark or test, by package folder, kind and name. */
  private readonly previous = new Map<string, PreviousRun>();
  /** The last run's result (for the extension's test API and the log). */
  last: GoTestRunResult | undefined;

  constructor(
    private readonly session: ProfileSession,
    private readonly log: vscode.OutputChannel,
  ) {}

  /** From the lens (uri, kind, name) or the context menu (the func at the cursor). */
  async command(uri?: vscode.Uri, kind?: 'bench' | 'test', name?: string): Promise<void> {
    if (!uri || !kind || !name) {
      const editor = vscode.window.activeTextEditor;
      const doc = editor?.document;
      if (!doc || !doc.fileName.endsWith('_test.go'))
        throw new UserError('put the cursor in a benchmark or test of a _test.go file', undefined, 'no-test-here');
      const at = goTestFuncAt(scanGoTestFuncs(doc.getText()), editor.selection.active.line);
      if (!at)
        throw new UserError('the cursor is not in a func BenchmarkX(b *testing.B) or func TestX(t *testing.T)', undefined, 'no-test-here');
      ({ kind, name } = at);
      uri = doc.uri;
    }
    await this.run(uri, kind, name);
  }

  private async run(uri: vscode.Uri, kind: 'bench' | 'test', name: string): Promise<void> {
    const pkgDir = path.dirname(uri.fsPath);
    const key = `${pkgDir}\n${kind}\n${name}`;
    const started = Date.now();
    const r = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Go Perf Lens: ${name}`, cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          return await profileGoTest(
            { pkgDir, kind, pattern: `^${name}$` },
            {
              signal: abort.signal,
              onPhase: (p) =>
                progress.report({
                  message:
                    p === 'building'
                      ? 'building the test binary (go test -c)…'
                      : p === 'running'
                        ? `running ${name} under perf…`
                        : 'reading the recording…',
                }),
            },
          );
        } catch (e) {
          if (e instanceof UserError && e.code === 'cancelled') return undefined;
          throw e;
        } finally {
          sub.dispose();
        }
      },
    );
    if (!r) return;
    const b = r.benchmarks.find((x) => x.name === name) ?? r.benchmarks[0];
    const label = b ? `${name} · ${b.nsPerOp} ns/op` : name;
    const loaded: LoadedProfile = { profile: r.profile, label };
    const prev = this.previous.get(key);
    this.previous.set(key, { loaded, benchmarks: r.benchmarks });
    const comparison = prev && kind === 'bench' ? compareBenchmarks(prev.benchmarks, r.benchmarks) : undefined;
    if (prev) this.session.setBaseline({ profile: prev.loaded.profile, label: `previous run: ${prev.loaded.label}` });
    this.session.set(loaded);
    const totalMs = Date.now() - started;
    this.last = { label, ...(comparison ? { comparison } : {}), totalMs, timings: r.timings };
    this.log.appendLine(
      `[${new Date().toISOString()}] ${name}: heat after ${totalMs} ms (build ${r.timings.buildMs} ms, run under perf ${r.timings.runMs} ms, read ${r.timings.ingestMs} ms)${comparison ? `; compared with the previous run: ${comparison}` : ''}`,
    );
    if (comparison) {
      // Not awaited: the command ends with the heat shown, whatever the user does with the message.
      void vscode.window.showInformationMessage(`Compared with the previous run — ${comparison}`, 'Stop comparing').then((choice) => {
        if (choice) this.session.setBaseline(undefined);
      });
    } else if (b) {
      void vscode.window.showInformationMessage(
        `${name}: ${b.nsPerOp} ns/op${b.bytesPerOp !== undefined ? `, ${b.bytesPerOp} B/op, ${b.allocsPerOp} allocs/op` : ''} — run it again after a change to compare.`,
      );
    }
  }
}
