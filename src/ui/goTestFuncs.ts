/**
 * The benchmarks and tests a _test.go file declares (`func BenchmarkX(b *testing.B)`,
 * `func TestX(t *testing.T)`), found in its text. No vscode import: unit-tested.
 */

export interface GoTestFunc {
  kind: 'bench' | 'test';
  name: string;
  /** 0-based line of the `func`. */
  line0: number;
}

const DECL = /^func\s+((Benchmark|Test)[A-Z_0-9]\w*|Benchmark|Test)\s*\(\s*\w+\s+\*testing\.(B|T)\s*\)/;

export function scanGoTestFuncs(text: string): GoTestFunc[] {
  const out: GoTestFunc[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = DECL.exec(lines[i]!);
    if (!m) continue;
    const isBench = m[1]!.startsWith('Benchmark');
    if (isBench !== (m[3] === 'B')) continue; // BenchmarkX(t *testing.T) is not run as either
    out.push({ kind: isBench ? 'bench' : 'test', name: m[1]!, line0: i });
  }
  return out;
}

/** The benchmark or test whose body holds line0 (the last declared at or above it). */
export function goTestFuncAt(funcs: readonly GoTestFunc[], line0: number): GoTestFunc | undefined {
  let hit: GoTestFunc | undefined;
  for (const f of funcs) if (f.line0 <= line0) hit = f;
  return hit;
}
