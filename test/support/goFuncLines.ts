/**
 * The `func` line of every function declared in some Go source files, found independently of
 * our decoders: a tiny Go program built at test time walks each file with go/parser and go/ast.
 * Keys are declKey() of the names Go's tables use: "main.mix", "main.(*ledger).add",
 * "slices.Sort"; a `//go:linkname local remote` function is listed under its remote name too.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURE_CACHE, goEnv, type GoToolchain } from './goToolchains';

const PROGRAM = `package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
)

func recv(t ast.Expr) string {
	switch x := t.(type) {
	case *ast.StarExpr:
		return "(*" + recv(x.X) + ")"
	case *ast.IndexExpr:
		return recv(x.X)
	case *ast.IndexListExpr:
		return recv(x.X)
	case *ast.Ident:
		return x.Name
	}
	return "?"
}

func main() {
	fset := token.NewFileSet()
	for _, file := range os.Args[1:] {
		f, err := parser.ParseFile(fset, file, nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			continue
		}
		// //go:linkname local remote: the function is known by its remote name too.
		remote := map[string]string{}
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if fs := strings.Fields(c.Text); len(fs) == 3 && fs[0] == "//go:linkname" {
					remote[fs[1]] = fs[2]
				}
			}
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			name := fd.Name.Name
			line := fset.Position(fd.Pos()).Line
			if fd.Recv != nil && len(fd.Recv.List) == 1 {
				name = recv(fd.Recv.List[0].Type) + "." + name
			} else if r, ok := remote[name]; ok {
				fmt.Printf("%s\\t%s\\t%d\\n", file, r, line)
			}
			fmt.Printf("%s\\t%s.%s\\t%d\\n", file, f.Name.Name, name, line)
		}
	}
}
`;

/** file → (name without package → `func` line). Unreadable files are left out. */
export function goFuncLines(tc: GoToolchain, files: string[]): Map<string, Map<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-funclines-'));
  try {
    const src = path.join(dir, 'funclines.go');
    fs.writeFileSync(src, PROGRAM);
    const bin = path.join(dir, 'funclines');
    execFileSync(tc.goBin, ['build', '-o', bin, src], {
      cwd: dir,
      env: { ...goEnv(tc, FIXTURE_CACHE), GO111MODULE: 'off', GOFLAGS: '' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    const out = execFileSync(
      bin,
      files.filter((f) => fs.existsSync(f)),
      { encoding: 'utf8', maxBuffer: 1 << 26 },
    );
    const byFile = new Map<string, Map<string, number>>();
    for (const line of out.split('\n')) {
      const [file, name, n] = line.split('\t');
      if (!file || !name || !n) continue;
      let m = byFile.get(file);
      if (!m) byFile.set(file, (m = new Map()));
      const key = declKey(name);
      if (key !== undefined && !m.has(key)) m.set(key, Number(n));
    }
    return byFile;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The key goFuncLines uses for a function name from Go's tables: the last element of the
 * package path with the rest ("cmd/compile/internal/ssa.(*T).m" → "ssa.(*T).m", type
 * parameters dropped); undefined for closures and other compiler-made names, which no `func`
 * declaration names.
 */
export function declKey(qualified: string): string | undefined {
  const key = qualified.slice(qualified.lastIndexOf('/') + 1).replace(/\[\.\.\.\]/g, '');
  if (!key.includes('.') || /\.func\d|\.gowrap\d|-fm$|\.glob\.|\.\d+$/.test(key)) return undefined;
  return key;
}
