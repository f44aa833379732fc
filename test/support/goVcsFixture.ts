/**
 * Builds the 'pclntab' Go fixture inside a fresh git repository (one commit), so that
 * `-buildvcs=true` stamps vcs.revision / vcs.modified into the binary's build info.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FIXTURE_CACHE, GO_FIXTURES, type GoToolchain, goEnv } from './goToolchains';

export interface VcsBuild {
  bin: string;
  repo: string;
  revision: string;
}

function git(repo: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=go-perf-lens test', '-c', 'user.email=test@example.invalid', '-c', 'commit.gpgsign=false', ...args],
    { cwd: repo, encoding: 'utf8' },
  ).trim();
}

/** A temp repo with the fixture committed; `modified` leaves an uncommitted change before building. */
export function buildInGitRepo(tc: GoToolchain, modified: boolean, flags: string[] = []): VcsBuild {
  const repo = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-vcs-'));
  for (const f of fs.readdirSync(path.join(GO_FIXTURES, 'pclntab')))
    fs.copyFileSync(path.join(GO_FIXTURES, 'pclntab', f), path.join(repo, f));
  git(repo, 'init', '-q');
  git(repo, 'add', '.');
  git(repo, 'commit', '-q', '-m', 'fixture');
  const revision = git(repo, 'rev-parse', 'HEAD');
  if (modified) fs.appendFileSync(path.join(repo, 'main.go'), '\n// an uncommitted change\n');
  const bin = path.join(repo, 'fixture.bin');
  const env = { ...goEnv(tc, FIXTURE_CACHE), GOFLAGS: '-mod=mod -buildvcs=true' };
  execFileSync(tc.goBin, ['build', ...flags, '-o', bin, '.'], { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] });
  return { bin, repo, revision };
}

/** What `go version -m BIN` says: version, path, and the build settings. */
export function goVersionM(tc: GoToolchain, bin: string): { goVersion: string; path?: string; settings: Map<string, string> } {
  const out = execFileSync(tc.goBin, ['version', '-m', bin], { encoding: 'utf8', env: goEnv(tc, FIXTURE_CACHE) });
  const lines = out.split('\n');
  const goVersion = lines[0]!.slice(lines[0]!.lastIndexOf(': ') + 2).trim();
  const settings = new Map<string, string>();
  let p: string | undefined;
  for (const l of lines.slice(1)) {
    const f = l.split('\t');
    if (f[1] === 'path') p = f[2];
    if (f[1] === 'build' && f[2]) {
      const eq = f[2].indexOf('=');
      settings.set(f[2].slice(0, eq), f[2].slice(eq + 1));
    }
  }
  return p === undefined ? { goVersion, settings } : { goVersion, path: p, settings };
}
