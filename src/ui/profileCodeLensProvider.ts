/**
 * A code lens above each `func` with data: "12.4% CPU (self 3.1%) · 83k calls/s · p50 1.2 µs ·
 * p99 4.1 ms" (the parts that have data). Clicking reveals the function in the tree; a second
 * lens traces the function's latency (or traces it again, for a chosen duration).
 */
import * as vscode from 'vscode';
import type { ConfigWatcher } from './config';
import { documentFunctions } from './documentFunctions';
import type { ProfileSession } from './profileSession';
import { codeLensTitle } from './summaryText';

export class ProfileCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.emitter.event;
  private readonly subs: vscode.Disposable[];

  constructor(
    private readonly session: ProfileSession,
    private readonly config: ConfigWatcher,
  ) {
    this.subs = [session.onDidChange(() => this.emitter.fire()), config.onDidChange(() => this.emitter.fire())];
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const view = this.session.view();
    if (!view || !this.config.value.codeLens || doc.uri.scheme !== 'file') return [];
    const lenses: vscode.CodeLens[] = [];
    for (const f of documentFunctions(view, doc)) {
      const title = codeLensTitle(view.profile, f.stat, f.latency, view.diff?.functions.get(f.name));
      if (!title) continue;
      const range = new vscode.Range(f.line1 - 1, 0, f.line1 - 1, 0);
      lenses.push(
        new vscode.CodeLens(range, {
          title,
          command: 'goPerfLens.revealFunction',
          arguments: [f.name],
          tooltip: `Reveal ${f.name} in Hot functions`,
        }),
      );
      // A second, quieter lens to measure the function's latency per call (eBPF), or to measure it
      // again for a chosen time. Not on the runtime's internals: they run on the scheduler's and the
      // GC's own stacks, millions of times a second, where calls cannot be paired by goroutine.
      if (view.kinds.kindOf(f.name) === 'runtime') continue;
      if (!f.latency)
        lenses.push(
          new vscode.CodeLens(range, {
            title: '$(watch) trace latency',
            command: 'goPerfLens.traceFunction',
            arguments: [f.name],
            tooltip: `Trace the latency of each call of ${f.name} (eBPF)`,
          }),
        );
      else
        lenses.push(
          new vscode.CodeLens(range, {
            title: '$(watch) trace again…',
            command: 'goPerfLens.traceAgain',
            arguments: [f.name],
            tooltip: `Trace the latency of ${f.name} again, for a duration you choose`,
          }),
        );
    }
    return lenses;
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.emitter.dispose();
  }
}
