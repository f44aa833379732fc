import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSymbolizer } from '../../../src/symbolize/openSymbolizer';
import { parseModulePath, PathMapper } from '../../../src/ui/pathMapper';
import { BUILD_VARIANTS, buildGoFixture, GO_FIXTURES, newestGo } from '../../support/goToolchains';

const exists = (p: string): boolean => {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
};

describe('ui: mapping recorded file names to workspace files [go toolchain]', () => {
  let ws: string;
  before(() => {
    ws = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-paths-'));
    fs.mkdirSync(path.join(ws, 'svc', 'internal', 'store'), { recursive: true });
    fs.writeFileSync(path.join(ws, 'svc', 'go.mod'), 'module example.com/svc\n\ngo 1.21\n');
    fs.writeFileSync(path.join(ws, 'svc', 'main.go'), 'package main\n');
    fs.writeFileSync(path.join(ws, 'svc', 'internal', 'store', 'db.go'), 'package store\n');
  });
  after(() => fs.rmSync(ws, { recursive: true, force: true }));

  function mapper(extra: Partial<ConstructorParameters<typeof PathMapper>[0]> = {}): PathMapper {
    return new PathMapper({
      workspaceFolders: [ws],
      modules: [{ folder: path.join(ws, 'svc'), modulePath: 'example.com/svc' }],
      goroot: newestGo().goroot,
      exists,
      ...extra,
    });
  }

  it('reads the module path of go.mod', () => {
    assert.equal(parseModulePath('// c\nmodule example.com/svc\n\ngo 1.21\n'), 'example.com/svc');
    assert.equal(parseModulePath('module "example.com/q"\n'), 'example.com/q');
    assert.equal(parseModulePath('go 1.21\n'), undefined);
  });

  it('absolute names that exist, -trimpath module names, another machine’s checkout, GOROOT, explicit mappings', () => {
    const m = mapper({ mappings: { '/build/agent/': '${workspaceFolder}/' } });
    const db = path.join(ws, 'svc', 'internal', 'store', 'db.go');
    assert.deepEqual(m.resolve(db), { path: db, readOnly: false, how: 'absolute' });
    assert.deepEqual(m.resolve('example.com/svc/internal/store/db.go'), { path: db, readOnly: false, how: 'module' });
    assert.deepEqual(m.resolve('/home/ci/src/svc/internal/store/db.go'), { path: db, readOnly: false, how: 'suffix' });
    assert.deepEqual(m.resolve('/build/agent/svc/main.go'), { path: path.join(ws, 'svc', 'main.go'), readOnly: false, how: 'mapping' });
    const goroot = newestGo().goroot;
    assert.deepEqual(m.resolve('$GOROOT/src/fmt/print.go'), {
      path: path.join(goroot, 'src', 'fmt', 'print.go'),
      readOnly: true,
      how: 'goroot',
    });
    assert.deepEqual(m.resolve('fmt/print.go'), { path: path.join(goroot, 'src', 'fmt', 'print.go'), readOnly: true, how: 'goroot' });
    assert.deepEqual(m.resolve('/usr/local/go/src/fmt/print.go'), {
      path: path.join(goroot, 'src', 'fmt', 'print.go'),
      readOnly: true,
      how: 'goroot',
    });
    assert.equal(m.resolve('example.com/other/x.go'), undefined);
    assert.equal(m.resolve('/nowhere/at/all.go'), undefined);
  });

  it('every file name in a real -trimpath binary maps back to the fixture’s sources or GOROOT', () => {
    const tc = newestGo();
    const trim = BUILD_VARIANTS.find((v) => v.name === 'trimpath')!;
    const bin = buildGoFixture('exampleservice', tc, trim);
    const { symbolizer } = openSymbolizer(fs.readFileSync(bin), bin, 'dwarf');
    const src = path.join(GO_FIXTURES, 'exampleservice');
    const m = new PathMapper({
      workspaceFolders: [src],
      modules: [{ folder: src, modulePath: 'example.com/exampleservice' }],
      goroot: tc.goroot,
      exists,
    });
    const files = new Set<string>();
    for (const f of symbolizer.functions()) if (f.declFile) files.add(f.declFile);
    let mainSeen = false;
    let gorootSeen = 0;
    for (const f of files) {
      assert.ok(!path.isAbsolute(f) || f.startsWith('$GOROOT'), `a -trimpath build recorded an absolute name: ${f}`);
      const r = m.resolve(f);
      if (f.startsWith('example.com/exampleservice/')) {
        assert.deepEqual(r, { path: path.join(src, f.slice('example.com/exampleservice/'.length)), readOnly: false, how: 'module' });
        mainSeen = true;
      } else if (!f.startsWith('<') && fs.existsSync(path.join(tc.goroot, 'src', f.replace(/^\$GOROOT\/src\//, '')))) {
        // Standard library: "$GOROOT/src/fmt/print.go" or (Go 1.20+) "fmt/print.go".
        assert.deepEqual(r, { path: path.join(tc.goroot, 'src', f.replace(/^\$GOROOT\/src\//, '')), readOnly: true, how: 'goroot' }, f);
        gorootSeen++;
      } else {
        assert.equal(r, undefined, `${f} should map nowhere`);
      }
    }
    assert.ok(mainSeen, 'no file of the fixture in the binary');
    assert.ok(gorootSeen > 50, `only ${gorootSeen} GOROOT files`);
  });
});
