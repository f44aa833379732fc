/**
 * Go function names and their `func` lines. The model names functions as the Go runtime does
 * ("example.com/svc/store.(*DB).Get", "main.handler", "main.Map[...]"); editors need the
 * declaration line. We prefer the model's decl line and fall back to scanning the text.
 * Pure: no vscode import.
 */

export interface GoFuncName {
  /** Import path of the package ("main", "example.com/svc/store"). */
  pkg: string;
  /** Receiver type without '*' and type parameters, for methods. */
  receiver?: string;
  pointerReceiver?: boolean;
  /** The function or method name; closures ("handler.func1") keep their outer function here. */
  name: string;
  /** True for closures and other compiler-made functions that have no `func Name` line of their own. */
  anonymous: boolean;
}

/** Splits a runtime function name into package, receiver and name. */
export function parseGoFuncName(full: string): GoFuncName {
  // The package path ends at the first '.' after the last '/'.
  const slash = full.lastIndexOf('/');
  const dot = full.indexOf('.', slash + 1);
  if (dot < 0) return { pkg: '', name: full, anonymous: false };
  const pkg = full.slice(0, dot);
  let rest = full.slice(dot + 1).replace(/\[\.\.\.\]/g, '');
  let receiver: string | undefined;
  let pointerReceiver = false;
  const ptr = /^\(\*([^)]+)\)\.(.*)$/.exec(rest);
  if (ptr) {
    receiver = ptr[1];
    pointerReceiver = true;
    rest = ptr[2]!;
  } else {
    // Value receiver "T.Method": only when a second component follows and it is not a closure suffix.
    const parts = rest.split('.');
    if (parts.length >= 2 && !/^(func\d+|gowrap\d+|deferwrap\d+)$/.test(parts[1]!) && /^[A-Za-z_]\w*$/.test(parts[1]!)) {
      receiver = parts[0];
      rest = parts.slice(1).join('.');
    }
  }
  const segs = rest.split('.');
  const name = segs[0]!;
  const anonymous = segs.length > 1;
  const out: GoFuncName = { pkg, name, anonymous };
  if (receiver !== undefined) {
    out.receiver = receiver.replace(/\[.*\]$/, '');
    out.pointerReceiver = pointerReceiver;
  }
  return out;
}

/** The short name people read: "(*DB).Get", "handler", "handler.func1". */
export function shortFuncName(full: string): string {
  const slash = full.lastIndexOf('/');
  const dot = full.indexOf('.', slash + 1);
  return dot < 0 ? full : full.slice(dot + 1);
}

const FUNC_LINE = /^func\s*(?:\(\s*(?:\w+\s+)?(\*?)\s*(\w+)(?:\[[^\]]*\])?\s*\)\s*)?(\w+)\s*[[(]/;

export interface FuncDeclLine {
  line1: number;
  name: string;
  receiver?: string;
  pointerReceiver?: boolean;
}

/** Every top-level `func` declaration in Go source text, with its 1-based line. */
export function scanFuncDecls(text: string): FuncDeclLine[] {
  const out: FuncDeclLine[] = [];
  let line1 = 1;
  let start = 0;
  while (start <= text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    // Cheap prefix test before the regular expression: most lines do not start with "func".
    if (text.startsWith('func', start)) {
      const m = FUNC_LINE.exec(text.slice(start, Math.min(end, start + 400)));
      if (m) {
        const d: FuncDeclLine = { line1, name: m[3]! };
        if (m[2]) {
          d.receiver = m[2];
          d.pointerReceiver = m[1] === '*';
        }
        out.push(d);
      }
    }
    start = end + 1;
    line1++;
  }
  return out;
}

/** The decl line of a runtime function name among scanned declarations, or undefined. */
export function findFuncDecl(decls: readonly FuncDeclLine[], full: string): number | undefined {
  const f = parseGoFuncName(full);
  if (f.anonymous) return undefined;
  const d = decls.find((x) => x.name === f.name && (x.receiver ?? undefined) === (f.receiver ?? undefined));
  return d?.line1;
}

/** The runtime name of a declaration in package `pkgPath`: "main.handler", "example.com/x.(*T).M", "example.com/x.T.M". */
export function goFuncFullName(pkgPath: string, decl: FuncDeclLine): string {
  if (!decl.receiver) return `${pkgPath}.${decl.name}`;
  return decl.pointerReceiver ? `${pkgPath}.(*${decl.receiver}).${decl.name}` : `${pkgPath}.${decl.receiver}.${decl.name}`;
}

/** The declaration enclosing 1-based `line1`: the last top-level func at or above it. */
export function enclosingFuncDecl(decls: readonly FuncDeclLine[], line1: number): FuncDeclLine | undefined {
  let best: FuncDeclLine | undefined;
  for (const d of decls) if (d.line1 <= line1) best = d;
  return best;
}
