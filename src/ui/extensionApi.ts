/**
 * What activate() returns: a small API for other extensions and for the extension-host tests
 * (`testing` answers "what did the UI draw?" without scraping the DOM).
 */
import type * as vscode from 'vscode';
import type { Profile } from '../model/profile';
import type { DrawnLine } from './lineHeatDecorator';

export interface TreeRow {
  /** The function's full name ("group:std" for a folded group). */
  name: string;
  label: string;
  description: string;
  samples: number;
  /** Its tooltip's Markdown, as hovering the row makes it. */
  tooltip: string;
}

export interface FlameGraphStatus {
  open: boolean;
  ready: boolean;
  /** How many times a page that never said it was ready was opened again (FlameGraphPanel.watchStart). */
  reopened: number;
  nodesAcked: number;
  nodeCount: number;
  /** The editor column the panel is in, and how many editor groups there are. */
  viewColumn?: number;
  groups: number;
  /**
   * What the page last reported: zoomed frame's function (or '' when zoomed out), search text,
   * scroll, colouring, its status line and the zoomed frame's tooltip text ('' when zoomed out).
   */
  state?: { zoomed: string; search: string; scrollTop: number; colorBy: string; status: string; frame: string };
}

export interface GoPerfLensTesting {
  /** Redraws now (skipping the debounce) and returns what is drawn in the visible editor of `uri`; undefined when none is visible. */
  decorationsFor(uri: vscode.Uri): DrawnLine[] | undefined;
  /** The hot-functions tree's root rows, in order: label, description and the samples the row stands for. */
  hotFunctionRows(): TreeRow[];
  /** Children rows of a root function in the current mode. */
  hotFunctionChildren(name: string): TreeRow[];
  /** Children of the row reached by following function names from a root (a call path). */
  hotFunctionPath(names: string[]): TreeRow[];
  /** The tree's state in words (mode, sort, filter, search), as the view's description shows it. */
  treeState(): string;
  /** The message above the tree (the baseline: compared, pinned, or why it is not compared). */
  treeMessage(): string | undefined;
  setTreeMode(mode: 'callees' | 'callers'): void;
  setTreeSort(sort: 'cumulative' | 'self'): void;
  setTreeFilter(filter: 'all' | 'mine'): void;
  setTreeSearch(text: string): void;
  /** Where "Go to the hottest line of my code" goes. */
  hottestOwnLine(): { path: string; line1: number } | undefined;
  /** The flame graph panel: open, its script running, how many call-tree nodes it has stored of how many, its view column. */
  flameGraphStatus(): FlameGraphStatus;
  /** Writes the session store now and returns the file holding the current profile (undefined without one). */
  persistNow(): Promise<string | undefined>;
  /** Samples in the loaded profile (undefined without one). */
  loadedSamples(): number | undefined;
  /** The "what the heat shows" status-bar item: shown (the profile has several metrics), its text and command. */
  metricStatus(): { visible: boolean; text: string; command: string | undefined };
  /** The last benchmark or test profiled from its code lens: label, comparison with the previous run, time from click to heat. */
  lastGoTestRun():
    { label: string; comparison?: string; totalMs: number; timings: { buildMs: number; runMs: number; ingestMs: number } } | undefined;
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
