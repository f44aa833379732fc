/**
 * Hovers: on a function name, its latency histogram (SVG image), count, rate, percentiles and
 * unmatched calls — or its CPU share when it was not traced; on a hot line, samples, share
 * and the inline chain, and, when the profile shows blocked time or waits, the wait-time
 * histogram of that line and its wait reasons.
 */
import * as vscode from 'vscode';
import type { Freshness } from './freshness';
import { documentFunctions } from './documentFunctions';
import { parseGoFuncName } from './funcDecl';
import type { ProfileSession } from './profileSession';
import { codeLensTitle, latencyHoverMarkdown, lineHoverMarkdown } from './summaryText';
import { shownMetric } from '../model/metrics';
import { waitHoverMarkdown, waitsAt } from './waitHover';

export class ProfileHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly session: ProfileSession,
    private readonly freshness: Freshness,
  ) {}

  provideHover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const view = this.session.view();
    if (!view || doc.uri.scheme !== 'file') return undefined;
    const parts: string[] = [];
    const word = doc.getWordRangeAtPosition(pos);
    const wordText = word ? doc.getText(word) : undefined;
    if (wordText) {
      const fns = documentFunctions(view, doc);
      // The name on its func line, or a call of it in the same file ("crunch(" after the word).
      const after = doc.getText(new vscode.Range(word!.end, word!.end.translate(0, 1)));
      const onDecl =
        fns.find((f) => f.line1 === pos.line + 1 && parseGoFuncName(f.name).name === wordText) ??
        (after === '(' ? fns.find((f) => parseGoFuncName(f.name).name === wordText && !parseGoFuncName(f.name).receiver) : undefined);
      if (onDecl?.latency)
        parts.push(
          latencyHoverMarkdown(
            onDecl.latency,
            onDecl.stat
              ? codeLensTitle(view.profile, onDecl.stat, undefined, view.diff?.functions.get(onDecl.name)) || undefined
              : undefined,
          ),
        );
      else if (onDecl?.stat)
        parts.push(`**Go Perf Lens** — ${codeLensTitle(view.profile, onDecl.stat, undefined, view.diff?.functions.get(onDecl.name))}`);
    }
    const lines = view.heat.linesOf(doc.uri.fsPath);
    const counts = lines?.get(pos.line + 1);
    const diff = view.lineDiffs(doc.uri.fsPath)?.get(pos.line + 1);
    if ((counts && (counts.selfSamples > 0 || counts.cumSamples > 0)) || diff) {
      parts.push(
        lineHoverMarkdown(
          view.profile,
          counts ?? { selfSamples: 0, cumSamples: 0, stats: [] },
          this.freshness.fileProblem(doc.uri.fsPath),
          diff,
        ),
      );
      const measures = shownMetric(view.profile).measures;
      const waits = counts && (measures === 'blocked-time' || measures === 'waits') ? waitsAt(view.profile, counts.stats) : undefined;
      if (waits) parts.push(waitHoverMarkdown(waits));
    }
    if (!parts.length) return undefined;
    const md = new vscode.MarkdownString(parts.join('\n\n---\n\n'), true);
    // Data URIs for the histogram image; no command links, so no trust needed.
    md.supportHtml = false;
    return new vscode.Hover(md);
  }
}
