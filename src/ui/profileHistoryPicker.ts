/**
 * Keeps the window's ProfileHistory up to date from the ProfileSession, and the "Switch profile…"
 * quick pick that brings an earlier one back.
 */
import * as vscode from 'vscode';
import { ProfileHistory, historyDescription } from './profileHistory';
import type { LoadedProfile, ProfileSession } from './profileSession';

export class ProfileHistoryWatcher implements vscode.Disposable {
  readonly history = new ProfileHistory<LoadedProfile>();
  private readonly sub: vscode.Disposable;

  constructor(private readonly session: ProfileSession) {
    this.sub = session.onDidChange(() => this.take());
    this.take();
  }

  private take(): void {
    // A recording's profile so far is not one of the window's profiles: its whole one will be.
    if (this.session.isLive) return;
    const cur = this.session.loaded;
    if (cur && this.history.entries()[0]?.loaded.profile !== cur.profile) this.history.add(cur);
  }

  /** Loads the newest earlier profile; false when there is none. */
  back(): boolean {
    const prev = this.history.previous(this.session.loaded?.profile);
    if (prev) this.session.set(prev);
    return prev !== undefined;
  }

  /** The quick pick of this window's profiles, newest first; the current one is marked. */
  async pick(): Promise<void> {
    const cur = this.session.loaded?.profile;
    const items = this.history.entries().map((e) => ({
      label: `${e.loaded.profile === cur ? '$(check) ' : ''}${e.loaded.label}`,
      description: historyDescription(e.loaded.profile),
      detail: `loaded ${new Date(e.loadedMs).toLocaleTimeString()}`,
      entry: e,
    }));
    if (!items.length) {
      void vscode.window.showInformationMessage('Go Perf Lens: no profile has been loaded in this window yet.');
      return;
    }
    const chosen = await vscode.window.showQuickPick(items, {
      title: 'Switch to a profile loaded in this window',
      placeHolder: 'The last profiles, newest first',
    });
    if (chosen && chosen.entry.loaded.profile !== cur) this.session.set(chosen.entry.loaded);
  }

  dispose(): void {
    this.sub.dispose();
  }
}
