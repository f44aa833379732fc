/**
 * The messages between the extension and the flame-graph webview, as one typed union each
 * way. The tree travels in pages of flat arrays (never one giant JSON string), so a
 * 100,000-node profile neither blocks the extension host nor hits string-length limits.
 * Types only: imported by src/ui (Node) and src/webview (DOM) alike.
 */

export interface FlameInit {
  type: 'init';
  /** Function names, indexed by CallTree.functions values. */
  names: string[];
  nodeCount: number;
  totalSamples: number;
  /** "CPU time", "cycles": what a sample is. */
  eventLabel: string;
  /** Nanoseconds per sample when the event is time-based. */
  nanosPerSample?: number;
}

export interface FlameNodesPage {
  type: 'nodes';
  /** Index of the first node in this page. */
  start: number;
  parents: number[];
  functions: number[];
  totalSamples: number[];
  selfSamples: number[];
}

export interface FlameDone {
  type: 'done';
}

export interface FlameClear {
  type: 'clear';
  message: string;
}

export type ToFlameGraph = FlameInit | FlameNodesPage | FlameDone | FlameClear;

export type FromFlameGraph =
  | { type: 'ready' }
  /** The user clicked a frame: open its function's source. */
  | { type: 'open'; node: number }
  /** The user asked for the next page (back-pressure: one page in flight at a time). */
  | { type: 'more'; from: number };

export const FLAME_PAGE_SIZE = 20000;
