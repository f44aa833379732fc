/** The status bar item: the loaded profile (event, samples, duration); clicking reopens the views. */
import * as vscode from 'vscode';
import type { ProfileSession } from './profileSession';
import { stacksText } from '../model/stacksText';
import { statusText } from './summaryText';

export class ProfileStatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('goPerfLens.status', vscode.StatusBarAlignment.Left, 50);
  private readonly sub: vscode.Disposable;

  constructor(private readonly session: ProfileSession) {
    this.item.name = 'Go Perf Lens';
    this.item.command = 'goPerfLens.showViews';
    this.sub = session.onDidChange(() => this.update());
    this.update();
  }

  private update(): void {
    const cur = this.session.current;
    if (!cur) {
      this.item.hide();
      return;
    }
    this.item.text = statusText(cur.profile);
    const fallback = cur.profile.event.fallbackReason ? `\n\n${cur.profile.event.fallbackReason}` : '';
    const how = stacksText(cur.profile);
    const stacks = how ? `\n\nStacks: ${how}` : '';
    const base = this.session.baseline ? `\n\nBaseline: ${this.session.baseline.label}` : '';
    // Plain text: a MarkdownString is lexed on the extension host whenever the item changes, and
    // the host's first lex (its parser warming up) held the thread ~30 ms as a profile opened.
    this.item.tooltip = `Go Perf Lens — ${cur.label}${fallback}${stacks}${base}\n\nClick to show the hot functions.`;
    this.item.show();
  }

  dispose(): void {
    this.sub.dispose();
    this.item.dispose();
  }
}
