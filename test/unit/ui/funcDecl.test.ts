import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openSymbolizer } from '../../../src/symbolize/openSymbolizer';
import { enclosingFuncDecl, findFuncDecl, goFuncFullName, parseGoFuncName, scanFuncDecls, shortFuncName } from '../../../src/ui/funcDecl';
import { buildGoFixture, FIXTURE_CACHE, GO_FIXTURES, goEnv, newestGo } from '../../support/goToolchains';

// The reference: go/parser's view of every top-level func declaration (line of the `func` keyword).
const REFERENCE_GO = `package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
)

func main() {
	fset := token.NewFileSet()
	for _, p := range os.Args[1:] {
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			panic(err)
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			recv, star := "", false
			if fd.Recv != nil && len(fd.Recv.List) > 0 {
				t := fd.Recv.List[0].Type
				if s, ok := t.(*ast.StarExpr); ok {
					star, t = true, s.X
				}
				switch x := t.(type) {
				case *ast.Ident:
					recv = x.Name
				case *ast.IndexExpr:
					recv = x.X.(*ast.Ident).Name
				case *ast.IndexListExpr:
					recv = x.X.(*ast.Ident).Name
				}
			}
			fmt.Printf("%s\\t%d\\t%s\\t%s\\t%v\\n", p, fset.Position(fd.Pos()).Line, fd.Name.Name, recv, star)
		}
	}
}
`;

describe('ui: finding func declarations [go toolchain]', function () {
  const tc = newestGo();
  const goFiles = [
    ...fs
      .readdirSync(GO_FIXTURES)
      .map((d) => path.join(GO_FIXTURES, d, 'main.go'))
      .filter((f) => fs.existsSync(f)),
    // Big and generic standard-library files: methods, pointer and value receivers, type parameters.
    ...['net/http/server.go', 'fmt/print.go', 'sort/sort.go', 'slices/sort.go', 'sync/map.go', 'strings/builder.go', 'runtime/proc.go'].map(
      (f) => path.join(tc.goroot, 'src', f),
    ),
  ].filter((f) => fs.existsSync(f));

  it('scanFuncDecls finds exactly what go/parser finds, on the same lines', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-funcdecl-'));
    try {
      fs.writeFileSync(path.join(dir, 'ref.go'), REFERENCE_GO);
      execFileSync(tc.goBin, ['build', '-o', path.join(dir, 'ref'), path.join(dir, 'ref.go')], {
        env: goEnv(tc, FIXTURE_CACHE),
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const out = execFileSync(path.join(dir, 'ref'), goFiles, { encoding: 'utf8', maxBuffer: 64 << 20 });
      const expected = new Map<string, string[]>();
      for (const line of out.trim().split('\n')) {
        const [file, l, name, recv, star] = line.split('\t');
        const list = expected.get(file!) ?? [];
        list.push(`${l} ${name} ${recv} ${recv ? star : 'false'}`);
        expected.set(file!, list);
      }
      let total = 0;
      for (const f of goFiles) {
        const got = scanFuncDecls(fs.readFileSync(f, 'utf8')).map(
          (d) => `${d.line1} ${d.name} ${d.receiver ?? ''} ${d.pointerReceiver === true}`,
        );
        assert.deepEqual(got, expected.get(f) ?? [], f);
        total += got.length;
      }
      assert.ok(total > 300, `only ${total} declarations compared`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runtime names from a real binary find the decl line DWARF records', () => {
    const bin = buildGoFixture('exampleservice', tc);
    const { symbolizer } = openSymbolizer(fs.readFileSync(bin), bin, 'dwarf');
    const srcDir = path.join(GO_FIXTURES, 'exampleservice');
    const mainGo = path.join(srcDir, 'main.go');
    const decls = scanFuncDecls(fs.readFileSync(mainGo, 'utf8'));
    let checked = 0;
    for (const f of symbolizer.functions()) {
      if (!f.name.startsWith('main.') || f.declFile !== mainGo || f.declLine === undefined) continue;
      if (parseGoFuncName(f.name).anonymous) {
        assert.equal(findFuncDecl(decls, f.name), undefined, `${f.name} is a closure: no func line of its own`);
        continue;
      }
      assert.equal(findFuncDecl(decls, f.name), f.declLine, f.name);
      checked++;
    }
    // Small helpers (mix, atoiDefault) are inlined away and have no function of their own.
    assert.ok(checked >= 6, `only ${checked} functions checked`);
  });

  it('splits runtime names into package, receiver and name', () => {
    assert.deepEqual(parseGoFuncName('main.handler'), { pkg: 'main', name: 'handler', anonymous: false });
    assert.deepEqual(parseGoFuncName('example.com/svc/store.(*DB).Get'), {
      pkg: 'example.com/svc/store',
      receiver: 'DB',
      pointerReceiver: true,
      name: 'Get',
      anonymous: false,
    });
    assert.deepEqual(parseGoFuncName('net/http.Header.Get'), {
      pkg: 'net/http',
      receiver: 'Header',
      pointerReceiver: false,
      name: 'Get',
      anonymous: false,
    });
    assert.deepEqual(parseGoFuncName('main.handleSort.func1'), { pkg: 'main', name: 'handleSort', anonymous: true });
    assert.deepEqual(parseGoFuncName('slices.SortFunc[...]'), { pkg: 'slices', name: 'SortFunc', anonymous: false });
    assert.deepEqual(parseGoFuncName('main.(*List[...]).Push'), {
      pkg: 'main',
      receiver: 'List',
      pointerReceiver: true,
      name: 'Push',
      anonymous: false,
    });
    assert.equal(shortFuncName('example.com/svc/store.(*DB).Get'), '(*DB).Get');
  });

  it('builds the runtime name of the func around a line', () => {
    const text =
      'package store\n\ntype DB struct{}\n\nfunc (d *DB) Get(k string) int {\n\treturn 1\n}\n\nfunc (d DB) Len() int {\n\treturn 0\n}\n';
    const decls = scanFuncDecls(text);
    assert.equal(goFuncFullName('example.com/svc/store', enclosingFuncDecl(decls, 6)!), 'example.com/svc/store.(*DB).Get');
    assert.equal(goFuncFullName('example.com/svc/store', enclosingFuncDecl(decls, 10)!), 'example.com/svc/store.DB.Len');
    assert.equal(enclosingFuncDecl(decls, 2), undefined);
  });
});
