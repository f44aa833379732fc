// The large real binary the symbolizer benchmarks share: cmd/compile built by Go 1.23, once,
// into the benchmark cache (about 27 MB; ~30 s to build offline).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const BENCH_CACHE = '/tmp/go-perf-lens-bench';
export const GO_1_23 = '/usr/lib/go-1.23/bin/go';

/** Path of the cached cmd/compile binary, building it first when it is missing. */
export function compileBinary() {
  const bin = path.join(BENCH_CACHE, 'compile');
  fs.mkdirSync(BENCH_CACHE, { recursive: true });
  if (!fs.existsSync(bin)) {
    console.log(`building cmd/compile with Go 1.23 into ${bin} (once, ~30 s)…`);
    execFileSync(GO_1_23, ['build', '-o', bin + '.tmp', 'cmd/compile'], {
      cwd: BENCH_CACHE,
      stdio: 'inherit',
      env: {
        ...process.env,
        GOTOOLCHAIN: 'local',
        GOFLAGS: '-mod=mod',
        GOPROXY: 'off',
        CGO_ENABLED: '0',
        GOCACHE: path.join(BENCH_CACHE, 'gocache'),
      },
    });
    fs.renameSync(bin + '.tmp', bin);
  }
  return bin;
}
