/**
 * The recording under way in this window, and how it ends early: "Stop" keeps what was recorded
 * (the helper's graceful stop; also the progress notification's Cancel), "Discard" throws it
 * away. A status bar item offers Stop while it records; the context key goPerfLens.recording
 * shows both commands in the palette.
 */
import * as vscode from 'vscode';
import type { HelperProcess } from '../capture';

/** One recording: the abort signal for the recorder, and its helpers once started (several when modes record together). */
export class RecordingHandle {
  private readonly abort = new AbortController();
  private readonly clients: HelperProcess[] = [];
  private how: 'stop' | 'discard' | undefined;
  readonly signal = this.abort.signal;

  constructor(readonly pid: number) {}

  /** For the recorder's onStart. */
  readonly onStart = (client: HelperProcess): void => {
    this.clients.push(client);
    if (this.how === 'stop') client.stop();
  };

  /** What the user asked for, if anything. */
  get endedBy(): 'stop' | 'discard' | undefined {
    return this.how;
  }

  /** Ends the recording and keeps it (before the helper runs there is nothing to keep: it aborts). */
  stop(): void {
    if (this.how) return;
    this.how = 'stop';
    if (this.clients.length) for (const c of this.clients) c.stop();
    else this.abort.abort();
  }

  discard(): void {
    this.how = 'discard';
    this.abort.abort();
  }
}

export class RecordingControl implements vscode.Disposable {
  private active: RecordingHandle | undefined;
  private readonly item = vscode.window.createStatusBarItem('goPerfLens.recording', vscode.StatusBarAlignment.Left, 51);

  constructor() {
    this.item.name = 'Go Perf Lens recording';
    this.item.command = 'goPerfLens.stopRecording';
  }

  /** Starts tracking a recording of `pid`; `done()` when it has ended. One at a time. */
  begin(pid: number): { handle: RecordingHandle; done: () => void } {
    const handle = new RecordingHandle(pid);
    this.active = handle;
    this.item.text = `$(debug-stop) Stop recording PID ${pid}`;
    this.item.tooltip = 'Stop now and keep what was recorded ("Go Perf Lens: Discard recording" throws it away)';
    this.item.show();
    void vscode.commands.executeCommand('setContext', 'goPerfLens.recording', true);
    const done = (): void => {
      if (this.active !== handle) return;
      this.active = undefined;
      this.item.hide();
      void vscode.commands.executeCommand('setContext', 'goPerfLens.recording', false);
    };
    return { handle, done };
  }

  get current(): RecordingHandle | undefined {
    return this.active;
  }

  stop(): void {
    this.active?.stop();
  }

  discard(): void {
    this.active?.discard();
  }

  dispose(): void {
    this.active?.discard();
    this.item.dispose();
  }
}
