/**
 * Ctrl-C (SIGINT) and SIGTERM while the CLI records: the first one stops the recording and
 * keeps what was recorded (the helper's graceful stop), a second one aborts and keeps nothing.
 * Before the helper runs there is nothing to keep, so the first signal aborts.
 */
import type { HelperProcess } from '../capture';

export class StopOnSignal {
  private readonly abort = new AbortController();
  private client: HelperProcess | undefined;
  private signals = 0;
  /** Aborts the helper (the second signal, or a first one before it started). */
  readonly signal = this.abort.signal;
  private readonly handler = (name: NodeJS.Signals): void => this.onSignal(name);

  constructor(private readonly say: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  /** For the recorder's onStart: the helper whose stop() ends the recording early. */
  readonly onStart = (client: HelperProcess): void => {
    this.client = client;
  };

  /** True once a signal asked to stop early (and keep). */
  get stopRequested(): boolean {
    return this.signals > 0 && !this.abort.signal.aborted;
  }

  private onSignal(name: NodeJS.Signals): void {
    this.signals++;
    if (this.signals === 1 && this.client) {
      this.say(`${name}: stopping the recording and keeping what was recorded (press Ctrl-C again to discard it)…`);
      this.client.stop();
    } else {
      this.say(`${name}: discarding the recording…`);
      this.abort.abort();
    }
  }

  dispose(): void {
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
  }
}
