/**
 * The `go-perf-lens` executable (dist/cli.js): runs the CLI bundle (dist/cliMain.js) through
 * V8's code cache, so a command does not compile the half-megabyte bundle again each time
 * (about 40 ms of every run here). Node 22 does this itself (module.enableCompileCache); Node
 * 20 does not. The caches live in $XDG_CACHE_HOME/go-perf-lens (else ~/.cache/go-perf-lens), one
 * per subcommand, named after node's version and the bundle's size and mtime, and are written at
 * the end of a run (so they hold what it compiled). They are only an optimization: when anything
 * about them fails, the bundle runs as it is (GO_PERF_LENS_NO_CODE_CACHE=1: never use them).
 */
import * as fs from 'node:fs';
import Module from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vm from 'node:vm';
import * as zlib from 'node:zlib';

const MAIN = path.join(__dirname, 'cliMain.js');

/** This bundle's caches start with this; one per subcommand (each compiles its own functions). */
function cachePrefix(st: fs.Stats): string {
  return `cli-${process.version}-${process.arch}-${st.size}-${Math.floor(st.mtimeMs)}-`;
}

function cacheDir(): string | undefined {
  // (zlib.crc32 came with Node 20.15; without it, no cache.)
  if (process.env.GO_PERF_LENS_NO_CODE_CACHE || typeof zlib.crc32 !== 'function') return undefined;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  try {
    // Not in someone else's home (sudo keeping the user's HOME): root's files would be left there.
    const owner = fs.statSync(fs.existsSync(base) ? base : path.dirname(base)).uid;
    if (typeof process.getuid === 'function' && owner !== process.getuid()) return undefined;
  } catch {
    return undefined;
  }
  return path.join(base, 'go-perf-lens');
}

/**
 * A cache file is a checksum of V8's data (its CRC-32 and length), then the data: V8 checks that
 * the data is for this source, V8 and flags, but not that its bytes are intact (release builds
 * skip its checksum). The checksum guards against damage, not against an attacker (the
 * directory is ours, mode 0700). zlib's CRC-32 is native and node:zlib is loaded by the CLI
 * anyway; a hash loop in JavaScript took ~5 ms of every command here (it runs interpreted),
 * and loading node:crypto for sha256 ~8 ms.
 */
const SUM_BYTES = 8;

function checksum(data: Uint8Array): Buffer {
  const out = Buffer.alloc(SUM_BYTES);
  out.writeUInt32LE(zlib.crc32(data) >>> 0, 0);
  out.writeUInt32LE(data.length >>> 0, 4);
  return out;
}

function readCache(file: string): Buffer | undefined {
  let b: Buffer;
  try {
    b = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const data = b.subarray(SUM_BYTES);
  return b.length > SUM_BYTES && checksum(data).equals(b.subarray(0, SUM_BYTES)) ? data : undefined;
}

function writeCache(dir: string, prefix: string, file: string, data: Buffer): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, Buffer.concat([checksum(data), data]), { mode: 0o600 });
  fs.renameSync(tmp, file);
  // Caches of other bundles (an older build) are of no more use.
  for (const f of fs.readdirSync(dir)) if (f.startsWith('cli-') && !f.startsWith(prefix)) fs.rmSync(path.join(dir, f), { force: true });
}

function runCached(): boolean {
  let source: string, prefix: string;
  try {
    source = fs.readFileSync(MAIN, 'utf8');
    prefix = cachePrefix(fs.statSync(MAIN));
  } catch {
    return false;
  }
  const dir = cacheDir();
  const sub = /^[a-z][a-z0-9-]{0,30}$/.test(process.argv[2] ?? '') ? process.argv[2]! : 'other';
  const file = dir && path.join(dir, `${prefix}${sub}.v8cache`);
  const cached = file ? readCache(file) : undefined;
  let script: vm.Script;
  try {
    script = new vm.Script(Module.wrap(source), { filename: MAIN, ...(cached ? { cachedData: cached } : {}) });
  } catch {
    return false;
  }
  if (file && (!cached || script.cachedDataRejected)) {
    // After the run, so the cache holds the functions this command compiled too.
    process.once('exit', () => {
      try {
        writeCache(dir!, prefix, file, script.createCachedData());
      } catch {
        /* a read-only home: run without a cache */
      }
    });
  }
  const m = new Module(MAIN, module);
  m.filename = MAIN;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
  const wrapper = script.runInThisContext() as (
    exports: unknown,
    require: NodeJS.Require,
    module: Module,
    filename: string,
    dirname: string,
  ) => void;
  wrapper.call(m.exports, m.exports, Module.createRequire(MAIN), m, MAIN, __dirname);
  return true;
}

if (!runCached()) Module.createRequire(__filename)(MAIN);
