/**
 * Finds the Go toolchains on this machine and builds fixture programs with each, at test
 * time, into a cache keyed by (toolchain, flags, sources), so several test files share builds.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface GoToolchain {
  /** e.g. "1.23" */
  version: string;
  /** absolute path of the `go` command */
  goBin: string;
  goroot: string;
}

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const GO_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'go');

let cached: GoToolchain[] | undefined;

/** Every Go toolchain found under /usr/lib/go-1.* (Debian's layout), oldest first. */
export function goToolchains(): GoToolchain[] {
  if (cached) return cached;
  const found: GoToolchain[] = [];
  const roots = fs.existsSync('/usr/lib') ? fs.readdirSync('/usr/lib').filter((d) => /^go-1\.\d+$/.test(d)) : [];
  for (const d of roots) {
    const goBin = path.join('/usr/lib', d, 'bin', 'go');
    if (fs.existsSync(goBin)) found.push({ version: d.slice(3), goBin, goroot: path.join('/usr/lib', d) });
  }
  found.sort((a, b) => Number(a.version.split('.')[1]) - Number(b.version.split('.')[1]));
  cached = found;
  return found;
}

/** The newest toolchain; throws a clear error when there is none (scripts/setup.sh installs them). */
export function newestGo(): GoToolchain {
  const all = goToolchains();
  if (all.length === 0) throw new Error('no Go toolchain under /usr/lib/go-1.*: run scripts/setup.sh');
  return all[all.length - 1]!;
}

export interface BuildVariant {
  name: string;
  flags: string[];
}

/** The build variants the symbolizer tests cover. */
export const BUILD_VARIANTS: BuildVariant[] = [
  { name: 'default', flags: [] },
  { name: 'noopt', flags: ['-gcflags=all=-N -l'] },
  { name: 'trimpath', flags: ['-trimpath'] },
  { name: 'stripped', flags: ['-ldflags=-s -w'] },
];

/**
 * Hashes every file under dir (names and contents) into h; returns the newest modification time.
 * withPaths: hash full paths rather than base names.
 */
export function hashSources(dir: string, h: ReturnType<typeof createHash>, withPaths = false): number {
  let newest = 0;
  for (const f of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, f);
    const st = fs.statSync(p);
    if (st.isDirectory()) newest = Math.max(newest, hashSources(p, h, withPaths));
    else {
      h.update(withPaths ? p : f).update(fs.readFileSync(p));
      newest = Math.max(newest, st.mtimeMs);
    }
  }
  return newest;
}

/**
 * Builds with `go build FLAGS -o out PKG` in src unless out exists and is newer than every source. A
 * cached binary older than its sources (a fresh clone over a cache a previous run left in /tmp)
 * would make the editor dim its heat as stale, so it is rebuilt (Go's build cache keeps that fast).
 */
export function cachedGoBuild(tc: GoToolchain, src: string, out: string, flags: string[], pkg: string, newestSourceMs: number): string {
  try {
    if (fs.statSync(out).mtimeMs >= newestSourceMs) return out;
  } catch {
    /* not built yet */
  }
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const tmp = `${out}.tmp${process.pid}`;
  execFileSync(tc.goBin, ['build', ...flags, '-o', tmp, pkg], {
    cwd: src,
    env: goEnv(tc, FIXTURE_CACHE),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  fs.renameSync(tmp, out);
  return out;
}

export function goEnv(tc: GoToolchain, cacheRoot: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${path.dirname(tc.goBin)}:${process.env.PATH ?? ''}`,
    GOROOT: tc.goroot,
    GOTOOLCHAIN: 'local',
    GOPROXY: 'off',
    GOFLAGS: '-mod=mod',
    GOCACHE: path.join(cacheRoot, 'gocache', tc.version),
    GOPATH: path.join(cacheRoot, 'gopath'),
    CGO_ENABLED: '0',
  };
}

export const FIXTURE_CACHE = path.join(os.tmpdir(), 'go-perf-lens-fixtures');

/**
 * Builds test/fixtures/go/<name> (a directory with go.mod) with the given toolchain and flags
 * and returns the binary's path. Cached across test files and runs by content hash.
 */
export function buildGoFixture(name: string, tc: GoToolchain, variant: BuildVariant = BUILD_VARIANTS[0]!): string {
  const src = path.join(GO_FIXTURES, name);
  // The source path is part of the key: binaries record it (DWARF, pclntab), and a clone elsewhere must not reuse them.
  const h = createHash('sha256').update(tc.version).update(tc.goBin).update(JSON.stringify(variant.flags)).update(src);
  const newest = hashSources(src, h);
  const key = h.digest('hex').slice(0, 16);
  return cachedGoBuild(tc, src, path.join(FIXTURE_CACHE, `${name}-go${tc.version}-${variant.name}-${key}`), variant.flags, '.', newest);
}
