/**
 * The messages between the extension and the flame-graph webview, as one typed union each
 * way. The tree travels in pages of flat arrays (never one giant JSON string), so a
 * 100,000-node profile neither blocks the extension host nor hits string-length limits.
 * Every message carries the generation of the tree it concerns (a new one for each tree and each
 * clear): the page ignores pages of another generation, and the extension drops a 'more' or an
 * 'open' the page sent before a profile switch (ui/flameFeed.ts).
 * Types only: imported by src/ui (Node) and src/webview (DOM) alike.
 */
import type { MetricInfo } from '../model/profile';

/** Whose code a frame is, by index: 0 the workspace's, 1 standard library, 2 runtime, 3 other modules (ui/codeKind's order). */
export type FlameKind = 0 | 1 | 2 | 3;

export interface FlameInit {
  type: 'init';
  gen: number;
  /** Identifies the profile (and baseline): a page restored from its saved state keeps its zoom only for the same one. */
  profileKey: string;
  /** Function names, indexed by CallTree.functions values. */
  names: string[];
  /** Whose code each name is (FlameKind), indexed like `names`. */
  kinds: FlameKind[];
  nodeCount: number;
  totalSamples: number;
  /** "CPU time", "cycles": what a sample is. */
  eventLabel: string;
  /** Nanoseconds per sample when the event is time-based. */
  nanosPerSample?: number;
  /**
   * Set when the values are not CPU samples but amounts of another metric (allocated bytes,
   * blocked nanoseconds, objects, contentions): the metric, whose unit and words the page uses
   * (ui/metricText, as the lenses and hovers do).
   */
  amount?: MetricInfo;
  /** Set when the pages carry `diff`: the baseline's label. */
  baselineLabel?: string;
}

export interface FlameNodesPage {
  type: 'nodes';
  gen: number;
  /** Index of the first node in this page. */
  start: number;
  parents: number[];
  functions: number[];
  totalSamples: number[];
  selfSamples: number[];
  /**
   * Against a baseline: the change of each node's call path's share of all samples (0.03 = +3
   * points; 0 where the change is within sampling noise), pprof's -diff_base colouring.
   */
  diff?: number[];
}

/** Zoom into a node (the extension's "Show in flame graph"); applied once the whole tree is in. */
export interface FlameZoom {
  type: 'zoom';
  gen: number;
  node: number;
}

export interface FlameDone {
  type: 'done';
  gen: number;
}

export interface FlameClear {
  type: 'clear';
  gen: number;
  message: string;
}

export type ToFlameGraph = FlameInit | FlameNodesPage | FlameZoom | FlameDone | FlameClear;

/** What the page shows, reported after each change (the tests read it; the page restores it). */
export interface FlameViewState {
  /** Function of the zoomed frame, '' when zoomed out. */
  zoomed: string;
  search: string;
  scrollTop: number;
  colorBy: 'kind' | 'diff';
  /** The status line's text: the totals, the zoomed frame or the search's share. */
  status: string;
  /** What the zoomed frame's tooltip says (name, share, amount, self), '' when zoomed out. */
  frame: string;
}

export type FromFlameGraph =
  | { type: 'ready' }
  /** Ctrl/Cmd+click or double-click on a frame: open its function's source (in another editor group). */
  | { type: 'open'; gen: number; node: number }
  /** The user asked for the next page (back-pressure: one page in flight at a time). */
  | { type: 'more'; gen: number; from: number }
  | ({ type: 'state' } & FlameViewState);

export const FLAME_PAGE_SIZE = 20000;
