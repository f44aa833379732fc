/**
 * Whose code a function is: the workspace's own modules, the standard library, the runtime, or
 * another module. The tree's "My code" filter and the flame graph's colours ask this. Decided
 * from the function's import path (the part of the name before the first '.' after the last
 * '/'), as `go list std` would: standard-library paths have no dot in their first element.
 * Pure: no vscode import.
 */
import { parseGoFuncName } from './funcDecl';

export type CodeKind = 'mine' | 'std' | 'runtime' | 'other';

export const CODE_KINDS: readonly CodeKind[] = ['mine', 'std', 'runtime', 'other'];

/** What the UI calls each kind. */
export const CODE_KIND_LABEL: Readonly<Record<CodeKind, string>> = {
  mine: 'My code',
  std: 'Standard library',
  runtime: 'Go runtime',
  other: 'Other modules',
};

/** Packages that are the runtime in all but name (scheduler, GC, maps, atomics, syscalls glue). */
const RUNTIME_PKG =
  /^(runtime|internal\/runtime|internal\/abi|internal\/cpu|internal\/bytealg|internal\/godebug|internal\/race|internal\/goarch|internal\/goos|internal\/chacha8rand|sync\/atomic|go\.shape|type:|gcWriteBarrier)(\/|\.|$)/;

export class CodeKinds {
  private readonly modules: string[];
  private readonly cache = new Map<string, CodeKind>();

  /** `modulePaths`: the `module` lines of the workspace's go.mod files. */
  constructor(modulePaths: readonly string[]) {
    this.modules = [...new Set(modulePaths)].sort((a, b) => b.length - a.length);
  }

  kindOf(functionName: string): CodeKind {
    let k = this.cache.get(functionName);
    if (k === undefined) {
      k = this.classify(functionName);
      this.cache.set(functionName, k);
    }
    return k;
  }

  private classify(name: string): CodeKind {
    const pkg = parseGoFuncName(name).pkg;
    // Frames outside Go code ("[unknown]", kernel symbols) and compiler-made helpers: the runtime's business.
    if (!pkg || RUNTIME_PKG.test(pkg) || RUNTIME_PKG.test(name)) return 'runtime';
    if (pkg === 'main' || this.modules.some((m) => pkg === m || pkg.startsWith(m + '/'))) return 'mine';
    const first = pkg.split('/')[0]!;
    // vendor'd copies of the standard library's own dependencies ("vendor/golang.org/x/net/...") ship with Go.
    if (!first.includes('.') || first === 'vendor') return 'std';
    return 'other';
  }
}
