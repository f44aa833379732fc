/** Builds the C fixtures under test/fixtures/c/<name> with gcc at test time, cached by content and flags. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURE_CACHE, REPO_ROOT } from './goToolchains';

export const C_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'c');

/** Compiles every .c file of the fixture with `gcc FLAGS` and returns the binary's path. */
export function buildCFixture(name: string, flags: string[]): string {
  const src = path.join(C_FIXTURES, name);
  const files = fs.readdirSync(src).sort();
  // gcc records the compile directory: a clone elsewhere must not reuse these binaries.
  const h = createHash('sha256').update(JSON.stringify(flags)).update(src);
  for (const f of files) h.update(f).update(fs.readFileSync(path.join(src, f)));
  const out = path.join(FIXTURE_CACHE, `c-${name}-${h.digest('hex').slice(0, 16)}`);
  if (fs.existsSync(out)) return out;
  fs.mkdirSync(FIXTURE_CACHE, { recursive: true });
  const tmp = `${out}.tmp${process.pid}`;
  execFileSync('gcc', [...flags, '-o', tmp, ...files.filter((f) => f.endsWith('.c'))], { cwd: src, stdio: ['ignore', 'ignore', 'pipe'] });
  fs.renameSync(tmp, out);
  return out;
}
