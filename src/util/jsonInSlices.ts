import * as fs from 'node:fs';

/**
 * JSON.stringify's exact text, written a slice at a time: between slices the event loop runs, so
 * serializing a large value (the session of a long recording) never holds the thread it runs on
 * — the extension host's, shared by every extension of the window — for much longer than
 * `sliceMs`. JSON.stringify itself is one uninterruptible call however large the value.
 *
 * Same rules as JSON.stringify without a replacer: toJSON, undefined/functions/symbols left out of
 * objects and written as null in arrays, non-finite numbers as null, a circular structure or a
 * BigInt is a TypeError.
 */

/** Arrays of plain numbers (the call tree's columns, stack counts) are written this many at a time. */
const NUMBERS_PER_PIECE = 8192;
/** A value with fewer entries than this, all levels counted, is written by one JSON.stringify. */
const SMALL_ENTRIES = 512;
/** Text is written to the file this many characters at a time (or more: one piece is never split). */
const WRITE_CHARS = 1 << 18;
/** How many pieces are made between looks at the clock. */
const PIECES_PER_CHECK = 16;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Writes JSON.stringify(value)'s text to `file` (created or truncated) in pieces of about
 * WRITE_CHARS characters, with the event loop running between slices of the work and during every write.
 * `value` must not be left out by JSON (undefined, a function): a file holds some JSON text.
 */
export async function writeJsonInSlices(file: string, value: unknown, sliceMs = 8): Promise<void> {
  const root = prepared(value, '');
  if (omitted(root)) throw new TypeError('writeJsonInSlices: the value has no JSON text');
  const fh = await fs.promises.open(file, 'w');
  try {
    let batch: string[] = [];
    let batchChars = 0;
    let sliceStart = performance.now();
    let pieces = 0;
    for (const piece of textOf(root, new Set())) {
      batch.push(piece);
      batchChars += piece.length;
      if (batchChars >= WRITE_CHARS) {
        await fh.write(batch.join(''));
        batch = [];
        batchChars = 0;
        sliceStart = performance.now();
      } else if (++pieces % PIECES_PER_CHECK === 0 && performance.now() - sliceStart >= sliceMs) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
    if (batch.length) await fh.write(batch.join(''));
  } finally {
    await fh.close();
  }
}

/** JSON.stringify's handling of a value before it is written: its toJSON, if it has one. */
function prepared(v: unknown, key: string): unknown {
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function')
    return (v as { toJSON: (k: string) => unknown }).toJSON(key);
  return v;
}

/** Left out of objects (null in arrays). */
const omitted = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol';

/**
 * The text of a prepared, not omitted value, in pieces. Objects and arrays are walked; a run of
 * numbers is written by JSON.stringify a few thousand at a time.
 */
function* textOf(v: unknown, open: Set<object>): Generator<string> {
  if (v === null || typeof v !== 'object' || v instanceof Number || v instanceof String || v instanceof Boolean) {
    yield JSON.stringify(v);
    return;
  }
  if (open.has(v)) throw new TypeError('Converting circular structure to JSON');
  if (isSmall(v)) {
    // Its own toJSON ran already (prepared); JSON.stringify runs those below it.
    yield JSON.stringify(v);
    return;
  }
  open.add(v);
  if (Array.isArray(v)) {
    yield '[';
    for (let i = 0; i < v.length;) {
      if (i > 0) yield ',';
      const end = numbersFrom(v, i);
      if (end > i) {
        yield JSON.stringify(v.slice(i, end)).slice(1, -1);
        i = end;
        continue;
      }
      const item = prepared(v[i], String(i));
      if (omitted(item)) yield 'null';
      else yield* textOf(item, open);
      i++;
    }
    yield ']';
  } else {
    yield '{';
    let first = true;
    for (const k of Object.keys(v)) {
      const item = prepared((v as Record<string, unknown>)[k], k);
      if (omitted(item)) continue;
      yield `${first ? '' : ','}${JSON.stringify(k)}:`;
      first = false;
      yield* textOf(item, open);
    }
    yield '}';
  }
  open.delete(v);
}

/** True when `v` has fewer than SMALL_ENTRIES array elements and object keys, all levels counted. */
function isSmall(v: object): boolean {
  let entries = 0;
  const todo: unknown[] = [v];
  while (todo.length) {
    const x = todo.pop();
    if (x === null || typeof x !== 'object') continue;
    const values = Array.isArray(x) ? x : Object.values(x);
    entries += values.length;
    if (entries >= SMALL_ENTRIES) return false;
    for (const y of values) if (y !== null && typeof y === 'object') todo.push(y);
  }
  return true;
}

/** The end of the run of numbers that starts at `i` (at most NUMBERS_PER_PIECE long). */
function numbersFrom(a: readonly unknown[], i: number): number {
  const limit = Math.min(a.length, i + NUMBERS_PER_PIECE);
  let j = i;
  while (j < limit && typeof a[j] === 'number') j++;
  return j;
}
