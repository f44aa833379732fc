/**
 * What activate() returns: a small API for other extensions and for the extension-host tests
 * (`testing` answers "what did the UI draw?" without scraping the DOM).
 */
import type * as vscode from 'vscode';
import type { Profile } from '../model/profile';
import type { DrawnLine } from './lineHeatDecorator';

export interface GoPerfLensTesting {
  /** Redraws now (skipping the debounce) and returns what is drawn in the visible editor of `uri`; undefined when none is visible. */
  decorationsFor(uri: vscode.Uri): DrawnLine[] | undefined;
  /** The hot-functions tree's root rows, in order: label and description. */
  hotFunctionRows(): { name: string; label: string; description: string }[];
  /** Children rows of a root function in the current mode. */
  hotFunctionChildren(name: string): { name: string; label: string; description: string }[];
  setTreeMode(mode: 'callees' | 'callers'): void;
  /** The flame graph panel: open, its script running, how many call-tree nodes it has stored of how many. */
  flameGraphStatus(): { open: boolean; ready: boolean; nodesAcked: number; nodeCount: number };
  /** Writes the session store now and returns the file holding the current profile (undefined without one). */
  persistNow(): Promise<string | undefined>;
  /** Samples in the loaded profile (undefined without one). */
  loadedSamples(): number | undefined;
  /** The last benchmark or test profiled from its code lens: label, comparison with the previous run, time from click to heat. */
  lastGoTestRun(): { label: string; comparison?: string; totalMs: number; timings: { buildMs: number; runMs: number; ingestMs: number } } | undefined;
  /** The local file a recorded file name maps to. */
  resolveFile(recordedFile: string): string | undefined;
}

export interface GoPerfLensApi {
  loadProfile(profile: Profile, label?: string): void;
  loadSessionFile(fsPath: string): void;
  /** Pins a baseline (undefined clears it). */
  pinBaseline(profile: Profile | undefined, label?: string): void;
  clear(): void;
  /** Only when the extension runs under test (ExtensionMode.Test): absent in normal use. */
  readonly testing?: GoPerfLensTesting;
}
