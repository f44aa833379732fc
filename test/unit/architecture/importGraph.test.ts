/**
 * src/'s import graph, read by TypeScript's own pre-processor (every import and re-export,
 * type-only ones included): no circles. A circle works only while the values it shares are read
 * inside functions; the first one read at load time is `undefined`. (The layer rules, which
 * folder may import which, are ESLint's: eslint.config.mjs.)
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', '..', '..', 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? sourceFiles(p) : d.name.endsWith('.ts') && !d.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** Relative imports of `file` that are TypeScript modules (data files such as JSON import nothing). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((f) => f.fileName)
    .filter((n) => n.startsWith('.'))
    .flatMap((n) => {
      const base = path.resolve(path.dirname(file), n);
      if (/\.json$/.test(n) && fs.existsSync(base)) return [];
      const hit = [`${base}.ts`, path.join(base, 'index.ts')].find((c) => fs.existsSync(c));
      assert.ok(hit, `${path.relative(SRC, file)} imports ${n}, which is not a TypeScript file`);
      return [hit];
    });
}

/** Every circle as a list of files (Tarjan's strongly connected components of size > 1, or a self-import). */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || (graph.get(v) ?? []).includes(v)) found.push(scc);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('architecture: src/ imports', () => {
  const files = sourceFiles(SRC);
  const graph = new Map(files.map((f) => [f, importsOf(f)]));

  it('reads the whole tree (the check below has something to check)', () => {
    assert.ok(files.length > 100, `only ${files.length} files under ${SRC}`);
    assert.ok([...graph.values()].reduce((n, e) => n + e.length, 0) > 200);
  });

  it('the check finds a circle when there is one', () => {
    assert.deepEqual(
      circles(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ).map((c) => c.sort()),
      [['a', 'b', 'c']],
    );
  });

  it('has no import circles', () => {
    const found = circles(graph).map((c) =>
      c
        .map((f) => path.relative(SRC, f))
        .sort()
        .join(' ↔ '),
    );
    assert.deepEqual(found, []);
  });
});
