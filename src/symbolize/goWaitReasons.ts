/**
 * The runtime's waitReason values (gopark's third argument) as Go prints them in goroutine
 * dumps, per Go version: the enumeration grows between releases, so a number means different
 * reasons in different binaries. Read from runtime/runtime2.go of Go 1.19, 1.21, 1.22 and 1.23;
 * other versions show the number ("wait reason 14").
 */
import type { GoVersion } from './goTracePlan';

const BASE = [
  '',
  'GC assist marking',
  'IO wait',
  'chan receive (nil chan)',
  'chan send (nil chan)',
  'dumping heap',
  'garbage collection',
  'garbage collection scan',
  'panicwait',
  'select',
  'select (no cases)',
  'GC assist wait',
  'GC sweep wait',
  'GC scavenge wait',
  'chan receive',
  'chan send',
  'finalizer wait',
  'force gc (idle)',
  'semacquire',
  'sleep',
  'sync.Cond.Wait',
];

const GO119 = [
  ...BASE,
  'timer goroutine (idle)',
  'trace reader (blocked)',
  'wait for GC cycle',
  'GC worker (idle)',
  'preempted',
  'debug call',
];
const GO121 = [
  ...BASE,
  'sync.Mutex.Lock',
  'sync.RWMutex.RLock',
  'sync.RWMutex.Lock',
  'trace reader (blocked)',
  'wait for GC cycle',
  'GC worker (idle)',
  'GC worker (active)',
  'preempted',
  'debug call',
  'GC mark termination',
  'stopping the world',
];
const GO122 = [...GO121, 'flushing proc caches', 'trace goroutine status', 'trace proc status', 'page trace flush', 'coroutine'];
const GO123 = [...GO122, 'GC weak to strong wait'];

/** The names of the wait reasons of binaries built by this Go version; undefined when not known here. */
export function waitReasonNames(v: GoVersion): readonly string[] | undefined {
  if (v.major !== 1) return undefined;
  if (v.minor === 19) return GO119;
  if (v.minor === 21) return GO121;
  if (v.minor === 22) return GO122;
  if (v.minor === 23) return GO123;
  return undefined;
}

/** A reason's name, or "wait reason N" where this version's list is not known. */
export function waitReasonName(names: readonly string[] | undefined, n: number): string {
  const s = names?.[n];
  return s === undefined || s === '' ? `wait reason ${n}` : s;
}
