/**
 * The one switch for what the heat means, for profiles with several metrics: a status-bar item
 * ("$(symbol-event) allocated bytes") and the command "Go Perf Lens: Show heat for…" (a quick
 * pick of the profile's metrics, or a metric id as argument). Choosing one redraws everything
 * through ProfileSession; a baseline that lacks the metric is said (noticeUncomparedBaseline), not compared.
 */
import * as vscode from 'vscode';
import { UserError } from '../util/userError';
import { formatMetricAmount } from './metricText';
import type { ProfileSession } from './profileSession';

export const SHOW_HEAT_FOR = 'goPerfLens.showHeatFor';

export class MetricStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('goPerfLens.metric', vscode.StatusBarAlignment.Left, 49);
  private readonly sub: vscode.Disposable;

  constructor(private readonly session: ProfileSession) {
    this.item.name = 'Go Perf Lens: what the heat shows';
    this.item.command = SHOW_HEAT_FOR;
    this.sub = session.onDidChange(() => this.update());
    this.update();
  }

  private update(): void {
    const metrics = this.session.metrics;
    const shown = this.session.metric;
    const several = metrics.length > 1 && shown !== undefined;
    void vscode.commands.executeCommand('setContext', 'goPerfLens.hasSeveralMetrics', several);
    if (!several) {
      this.item.hide();
      return;
    }
    this.item.text = `$(symbol-event) ${shown.label}`;
    const why = this.session.notComparedReason;
    const lacks = why ? `\n\n$(warning) ${why}` : '';
    this.item.tooltip = new vscode.MarkdownString(
      `**Go Perf Lens** — the heat, lenses, hovers, tree and flame graph show **${shown.label}** (${metrics.length} metrics in this profile).${lacks}\n\nClick to choose another.`,
      true,
    );
    this.item.show();
  }

  /** For tests: what the item shows. */
  state(): { visible: boolean; text: string; command: string | undefined } {
    const c = this.item.command;
    return { visible: this.session.metrics.length > 1, text: this.item.text, command: typeof c === 'string' ? c : c?.command };
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}

/** "Show heat for…": `id` chooses directly (the tests, a keybinding), else a quick pick of the loaded metrics. */
export async function showHeatForCommand(session: ProfileSession, id?: string): Promise<void> {
  const cur = session.current;
  if (!cur) throw new UserError('no profile is loaded', 'open a profile or a pprof endpoint, or record one, first', 'no-profile');
  const shown = session.metric;
  if (id === undefined) {
    const items = session.metrics.map((m) => ({
      label: `${m.id === shown?.id ? '$(check) ' : ''}${m.label}`,
      description: `${formatMetricAmount(m.total, m)}${m.snapshot ? ' at one moment' : ''}`,
      id: m.id,
    }));
    if (items.length < 2) {
      void vscode.window.showInformationMessage(`Go Perf Lens: "${cur.label}" measures one thing only (${shown?.label ?? 'CPU'}).`);
      return;
    }
    const picked = await vscode.window.showQuickPick(items, {
      title: `Show heat for… (${cur.label})`,
      placeHolder: 'What the heat, lenses, hovers, tree and flame graph show',
    });
    if (!picked) return;
    id = picked.id;
  }
  session.setMetric(id);
}

/**
 * Says it, once for each profile, baseline and metric, when a pinned baseline cannot be compared
 * because it does not measure the metric shown (a new profile of another kind, another baseline,
 * another metric chosen): the heat then shows the profile alone, which must not pass for a diff.
 */
export function noticeUncomparedBaseline(session: ProfileSession): vscode.Disposable {
  let said: { profile: unknown; baseline: unknown; metric: string | undefined } | undefined;
  return session.onDidChange(() => {
    const why = session.notComparedReason;
    const now = { profile: session.loaded?.profile, baseline: session.baseline?.profile, metric: session.metric?.id };
    if (!why) said = undefined;
    else if (!said || said.profile !== now.profile || said.baseline !== now.baseline || said.metric !== now.metric) {
      said = now;
      void vscode.window.showInformationMessage(`Go Perf Lens: ${why}`);
    }
  });
}
