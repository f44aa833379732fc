/**
 * The names rows show: package-qualified like pprof ("sha256.block", "runtime.main",
 * "(*Store).handleTop" becomes "main.(*Store).handleTop"), and the full import path where two
 * functions would read the same ("crypto/sha256.block" beside "example.com/x/sha256.block").
 * Pure: no vscode import.
 */

/** "crypto/sha256.block" → "sha256.block"; names without a path stay as they are. */
export function packageQualifiedName(full: string): string {
  const slash = full.lastIndexOf('/', indexOfFirstParenOrBracket(full));
  return slash < 0 ? full : full.slice(slash + 1);
}

/** The '/' of a method's receiver or a generic's type list must not count as the package's. */
function indexOfFirstParenOrBracket(s: string): number {
  const i = s.search(/[([]/);
  return i < 0 ? s.length : i;
}

export class FunctionLabels {
  private readonly labels = new Map<string, string>();

  constructor(names: Iterable<string>) {
    const byShort = new Map<string, Set<string>>();
    for (const n of names) {
      const s = packageQualifiedName(n);
      let set = byShort.get(s);
      if (!set) byShort.set(s, (set = new Set()));
      set.add(n);
    }
    for (const [s, set] of byShort) for (const n of set) this.labels.set(n, set.size > 1 ? n : s);
  }

  /** The label of a function name (its qualified short form, or the full name where that collides). */
  of(name: string): string {
    return this.labels.get(name) ?? packageQualifiedName(name);
  }
}
