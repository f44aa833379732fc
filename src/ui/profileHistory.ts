/**
 * The last few profiles loaded in this window, newest first, so that one replaced by mistake (a
 * partial recording, another file) is a pick away. Plain data, no vscode: ProfileHistoryWatcher
 * (profileHistoryWatcher.ts) feeds it from the ProfileSession.
 */
import type { Profile } from '../model/profile';
import { formatDuration } from './format';

export interface HistoryEntry<T extends { profile: Profile; label: string }> {
  loaded: T;
  /** When it was loaded (ms since epoch). */
  loadedMs: number;
}

export const HISTORY_SIZE = 5;

export class ProfileHistory<T extends { profile: Profile; label: string }> {
  private list: HistoryEntry<T>[] = [];

  constructor(private readonly size = HISTORY_SIZE) {}

  /** Puts `loaded` first (moving it there when it is already in the list); the oldest beyond `size` drop out. */
  add(loaded: T, nowMs = Date.now()): void {
    this.list = [{ loaded, loadedMs: nowMs }, ...this.list.filter((e) => e.loaded.profile !== loaded.profile)].slice(0, this.size);
  }

  /** Newest first. */
  entries(): readonly HistoryEntry<T>[] {
    return this.list;
  }

  /** The newest entry other than `current` (what "back" means). */
  previous(current: Profile | undefined): T | undefined {
    return this.list.find((e) => e.loaded.profile !== current)?.loaded;
  }
}

/** One line about a profile for a picker: samples, time covered, and how its recording ended. */
export function historyDescription(p: Profile): string {
  const parts = [`${p.totalSamples} samples`, formatDuration(p.durationNanos)];
  if (p.target?.pid !== undefined) parts.push(`PID ${p.target.pid}`);
  if (p.ended?.by === 'target-exited') parts.push('partial: the process exited');
  else if (p.ended?.by === 'stop') parts.push('stopped early');
  return parts.join(' · ');
}
