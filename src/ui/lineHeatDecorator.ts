/**
 * Line heat in the editor: a tint per line scaled to its share of the samples, the figure
 * after the line ("4.2% · 1.3k"), and overview-ruler marks. Only visible editors are drawn,
 * each file's heat is computed once per profile and settings (HeatIndex caches it), and
 * redraws are debounced. With a baseline to compare with, lines show red (hotter) / green
 * (cooler), tinted by the size of the change, "before → after" beside them; changes within
 * sampling noise are left out (profileDiff).
 */
import * as vscode from 'vscode';
import type { ConfigWatcher } from './config';
import { formatShareChange } from './format';
import type { Freshness } from './freshness';
import { HEAT_LEVELS, type HeatOptions, type LineHeat } from './heatIndex';
import { diffLevel } from './profileDiff';
import type { ProfileSession } from './profileSession';

/** What the tests read back: exactly what was last drawn in an editor. */
export interface DrawnLine {
  line1: number;
  /** 1..5 heat, or "stale", "slower", "faster". */
  kind: string;
  /** For "slower"/"faster": 1..3, how strong the tint (scaled with the size of the change). */
  level?: number;
  figure: string;
}

const DEBOUNCE_MS = 80;

export class LineHeatDecorator implements vscode.Disposable {
  private readonly heatTypes: vscode.TextEditorDecorationType[] = [];
  private readonly staleType: vscode.TextEditorDecorationType;
  /** By diff level 1..3. */
  private readonly slowerTypes: vscode.TextEditorDecorationType[];
  private readonly fasterTypes: vscode.TextEditorDecorationType[];
  private readonly subs: vscode.Disposable[] = [];
  private readonly drawn = new Map<string, DrawnLine[]>();
  private timer: NodeJS.Timeout | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  /** Fires after a redraw (the tests wait on it). */
  readonly onDidDraw = this.emitter.event;

  constructor(
    private readonly session: ProfileSession,
    private readonly config: ConfigWatcher,
    private readonly freshness: Freshness,
  ) {
    const after = { color: new vscode.ThemeColor('goPerfLens.lineFigureForeground'), margin: '0 0 0 2.5em', fontStyle: 'normal' };
    const make = (color: string, ruler: boolean): vscode.TextEditorDecorationType =>
      vscode.window.createTextEditorDecorationType({
        isWholeLine: true,
        backgroundColor: new vscode.ThemeColor(color),
        after,
        rangeBehavior: vscode.DecorationRangeBehavior.ClosedClosed,
        ...(ruler
          ? { overviewRulerColor: new vscode.ThemeColor('goPerfLens.overviewRuler'), overviewRulerLane: vscode.OverviewRulerLane.Right }
          : {}),
      });
    for (let level = 1; level <= HEAT_LEVELS; level++) this.heatTypes.push(make(`goPerfLens.heat${level}`, level >= 3));
    this.staleType = make('goPerfLens.staleHeat', false);
    this.slowerTypes = ['goPerfLens.diffSlowerWeak', 'goPerfLens.diffSlower', 'goPerfLens.diffSlowerStrong'].map((c) => make(c, true));
    this.fasterTypes = ['goPerfLens.diffFasterWeak', 'goPerfLens.diffFaster', 'goPerfLens.diffFasterStrong'].map((c) => make(c, true));
    this.subs.push(
      session.onDidChange(() => this.schedule()),
      config.onDidChange(() => this.schedule()),
      freshness.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeVisibleTextEditors(() => this.schedule()),
      // Saving a file after the build dims it; typing only needs the figures to stay put.
      vscode.workspace.onDidSaveTextDocument(() => this.schedule()),
    );
    this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.redrawAll(), DEBOUNCE_MS);
  }

  /** Redraws every visible editor now (the debounced path ends here). */
  redrawAll(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.drawn.clear();
    for (const editor of vscode.window.visibleTextEditors) this.draw(editor);
    this.emitter.fire();
  }

  heatOptions(): HeatOptions {
    const c = this.config.value;
    return {
      basis: c.lineFigure === 'self' ? 'self' : 'cumulative',
      showFigure: c.lineFigure !== 'off',
      amount: c.lineFigureAmount,
      threshold: c.heatThreshold,
    };
  }

  private draw(editor: vscode.TextEditor): void {
    const buckets: vscode.DecorationOptions[][] = this.heatTypes.map(() => []);
    const stale: vscode.DecorationOptions[] = [];
    const slower: vscode.DecorationOptions[][] = this.slowerTypes.map(() => []);
    const faster: vscode.DecorationOptions[][] = this.fasterTypes.map(() => []);
    const drawn: DrawnLine[] = [];
    const view = this.session.view();
    const doc = editor.document;
    if (view && doc.uri.scheme === 'file') {
      const lineCount = doc.lineCount;
      const deco = (line1: number, figure: string): vscode.DecorationOptions => ({
        range: new vscode.Range(line1 - 1, 0, line1 - 1, 0),
        ...(figure ? { renderOptions: { after: { contentText: figure } } } : {}),
      });
      if (view.diff) {
        const basis = this.heatOptions().basis === 'self' ? 'self' : 'cum';
        const showFigure = this.config.value.lineFigure !== 'off';
        const max = view.diff.maxLineDelta[basis];
        for (const [line1, both] of view.lineDiffs(doc.uri.fsPath) ?? []) {
          const d = both[basis];
          if (line1 < 1 || line1 > lineCount || !d.significant || Math.abs(d.delta) < this.config.value.heatThreshold) continue;
          const figure = showFigure ? formatShareChange(d.baseline, d.current) : '';
          const level = diffLevel(Math.abs(d.delta), max);
          (d.delta > 0 ? slower : faster)[level - 1]!.push(deco(line1, figure));
          drawn.push({ line1, kind: d.delta > 0 ? 'slower' : 'faster', level, figure });
        }
      } else {
        const heat: LineHeat[] = view.heat.heatFor(doc.uri.fsPath, this.heatOptions());
        const dim = heat.length > 0 && this.freshness.fileProblem(doc.uri.fsPath) !== undefined;
        for (const h of heat) {
          if (h.line1 > lineCount) continue;
          (dim ? stale : buckets[h.level - 1]!).push(deco(h.line1, h.figure));
          drawn.push({ line1: h.line1, kind: dim ? 'stale' : String(h.level), figure: h.figure });
        }
      }
    }
    this.heatTypes.forEach((t, i) => editor.setDecorations(t, buckets[i]!));
    editor.setDecorations(this.staleType, stale);
    this.slowerTypes.forEach((t, i) => editor.setDecorations(t, slower[i]!));
    this.fasterTypes.forEach((t, i) => editor.setDecorations(t, faster[i]!));
    drawn.sort((a, b) => a.line1 - b.line1);
    this.drawn.set(doc.uri.toString(), drawn);
  }

  /** What was last drawn in the visible editor of `uri` (undefined when none is visible). */
  drawnFor(uri: vscode.Uri): DrawnLine[] | undefined {
    return this.drawn.get(uri.toString());
  }

  dispose(): void {
    clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    for (const t of [...this.heatTypes, this.staleType, ...this.slowerTypes, ...this.fasterTypes]) t.dispose();
    this.emitter.dispose();
  }
}
