/**
 * Maps file names recorded in a binary's debug information to local files: explicit
 * mappings first (setting goPerfLens.pathMappings), then the name itself when it exists,
 * then module-relative names (-trimpath builds: "example.com/svc/main.go") through each
 * workspace folder's go.mod module path, then GOROOT files ("$GOROOT/src/...", another
 * machine's GOROOT, or -trimpath's bare "fmt/print.go") into the local GOROOT (read-only), then the longest existing suffix of
 * the name under a workspace folder (binaries built elsewhere). Pure apart from the `exists`
 * callback, so it unit-tests against a real temporary tree.
 */
import * as path from 'node:path';

export interface ModuleRoot {
  /** Absolute folder holding go.mod. */
  folder: string;
  /** The `module` line of that go.mod. */
  modulePath: string;
}

export interface PathMapperOptions {
  workspaceFolders: readonly string[];
  modules: readonly ModuleRoot[];
  /** Local GOROOT, when known. */
  goroot?: string;
  /** Prefix → replacement; "${workspaceFolder}" in a replacement expands to the first folder. */
  mappings?: Readonly<Record<string, string>>;
  exists: (absPath: string) => boolean;
}

export interface MappedPath {
  path: string;
  /** GOROOT and module-cache files: open them read-only and do not offer to edit. */
  readOnly: boolean;
  how: 'mapping' | 'absolute' | 'module' | 'goroot' | 'suffix';
}

const GOROOT_SRC = /^(?:\$GOROOT|.*\/go(?:-[\d.]+)?)\/src\/(.*)$/;

export class PathMapper {
  private readonly cache = new Map<string, MappedPath | null>();

  constructor(private readonly opts: PathMapperOptions) {}

  resolve(recorded: string): MappedPath | undefined {
    let hit = this.cache.get(recorded);
    if (hit === undefined) {
      hit = this.lookup(recorded) ?? null;
      this.cache.set(recorded, hit);
    }
    return hit ?? undefined;
  }

  private lookup(recorded: string): MappedPath | undefined {
    const { exists } = this.opts;
    const norm = recorded.replace(/\\/g, '/');
    const first = this.opts.workspaceFolders[0];
    for (const [from, toRaw] of Object.entries(this.opts.mappings ?? {})) {
      if (!norm.startsWith(from)) continue;
      const to = first !== undefined ? toRaw.replace(/\$\{workspaceFolder\}/g, first) : toRaw;
      const candidate = path.normalize(to + norm.slice(from.length));
      if (exists(candidate)) return { path: candidate, readOnly: false, how: 'mapping' };
    }
    if (path.isAbsolute(norm) && exists(norm)) {
      return { path: norm, readOnly: this.isUnderGoroot(norm) || norm.includes('/pkg/mod/'), how: 'absolute' };
    }
    // Longest module path first, so nested modules win over their parents.
    const modules = [...this.opts.modules].sort((a, b) => b.modulePath.length - a.modulePath.length);
    for (const m of modules) {
      if (norm.startsWith(m.modulePath + '/')) {
        const candidate = path.join(m.folder, norm.slice(m.modulePath.length + 1));
        if (exists(candidate)) return { path: candidate, readOnly: false, how: 'module' };
      }
    }
    if (this.opts.goroot) {
      // "$GOROOT/src/fmt/print.go" (older -trimpath), another machine's GOROOT, or, from Go
      // 1.20's -trimpath on, plain "fmt/print.go" (standard-library paths have no dot in their first element).
      const g = GOROOT_SRC.exec(norm);
      const rel = g ? g[1]! : !path.isAbsolute(norm) && !norm.split('/')[0]!.includes('.') ? norm : undefined;
      const candidate = rel !== undefined ? path.join(this.opts.goroot, 'src', rel) : undefined;
      if (candidate && exists(candidate)) return { path: candidate, readOnly: true, how: 'goroot' };
    }
    // Built elsewhere: the longest tail of the name that exists under a workspace folder.
    const parts = norm.split('/').filter((p) => p.length > 0);
    for (let i = 0; i < parts.length; i++) {
      const tail = parts.slice(i).join('/');
      for (const folder of this.opts.workspaceFolders) {
        const candidate = path.join(folder, tail);
        if (exists(candidate)) return { path: candidate, readOnly: false, how: 'suffix' };
      }
    }
    return undefined;
  }

  private isUnderGoroot(p: string): boolean {
    const g = this.opts.goroot;
    return g !== undefined && (p === g || p.startsWith(g.endsWith('/') ? g : g + '/'));
  }
}

/** The module path of a go.mod's text ("module example.com/svc"), or undefined. */
export function parseModulePath(goModText: string): string | undefined {
  const m = /^\s*module\s+("?)([^\s"]+)\1\s*$/m.exec(goModText);
  return m?.[2];
}
