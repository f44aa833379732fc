/**
 * dist/cli.js runs the CLI bundle through V8's code cache: the first run of a subcommand writes
 * its cache, later runs use it and print exactly the same, and a damaged cache (V8 itself does
 * not check the bytes) or an unwritable place never changes what the command does.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ensureCli, runCli } from '../../support/cliRunner';

describe('CLI launcher (V8 code cache)', function () {
  this.timeout(120_000);
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-launcher-'));
  before(() => ensureCli());
  after(() => fs.rmSync(home, { recursive: true, force: true }));

  const env = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...process.env, XDG_CACHE_HOME: home, ...extra });
  const caches = (): string[] => {
    const dir = path.join(home, 'go-perf-lens');
    return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
  };
  // A subcommand that fails with a user error: it still runs through the launcher, fast.
  const args = ['report', path.join(home, 'missing.data'), '--json'];

  it('writes one cache per subcommand on first use, then gives the same output with it', () => {
    const first = runCli(args, undefined, env());
    assert.equal(first.status, 1);
    assert.match(first.stderr, /missing\.data does not exist/);
    assert.equal(caches().length, 1);
    assert.match(caches()[0]!, /^cli-v\d+\.\d+\.\d+-\w+-\d+-\d+-report\.v8cache$/);
    const size = fs.statSync(path.join(home, 'go-perf-lens', caches()[0]!)).size;
    assert.ok(size > 10_000, `a cache of ${size} bytes`);
    const again = runCli(args, undefined, env());
    assert.deepEqual(again, first);
    runCli(['--help'], undefined, env());
    assert.equal(caches().length, 2);
  });

  it('a damaged cache is not used (its checksum) and is written again; the command is unchanged', () => {
    const reference = runCli(args, undefined, env({ GO_PERF_LENS_NO_CODE_CACHE: '1' }));
    const file = path.join(
      home,
      'go-perf-lens',
      caches().find((f) => f.endsWith('-report.v8cache'))!,
    );
    const bytes = fs.readFileSync(file);
    bytes.fill(0x5a, 16, 4096);
    fs.writeFileSync(file, bytes);
    assert.deepEqual(runCli(args, undefined, env()), reference);
    assert.notDeepEqual(fs.readFileSync(file), bytes, 'the damaged cache was replaced');
    assert.deepEqual(runCli(args, undefined, env()), reference);
  });

  it('GO_PERF_LENS_NO_CODE_CACHE and a cache place it cannot write leave no cache and change nothing', () => {
    const elsewhere = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-launcher-ro-'));
    try {
      const off = runCli(args, undefined, { ...process.env, XDG_CACHE_HOME: elsewhere, GO_PERF_LENS_NO_CODE_CACHE: '1' });
      assert.deepEqual(fs.readdirSync(elsewhere), []);
      // A file where the cache directory should be: mkdir fails, the command does not.
      fs.writeFileSync(path.join(elsewhere, 'go-perf-lens'), 'not a directory');
      const blocked = runCli(args, undefined, { ...process.env, XDG_CACHE_HOME: elsewhere });
      assert.deepEqual(blocked, off);
      assert.equal(fs.readFileSync(path.join(elsewhere, 'go-perf-lens'), 'utf8'), 'not a directory');
    } finally {
      fs.rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
