/**
 * Importing a real net/http/pprof CPU profile: the example service serves /debug/pprof on
 * loopback while under load; the profile it returns is imported and compared with what
 * `go tool pprof -top` says about the same file.
 */
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { decodePprof } from '../../../src/formats/pprof';
import { ingestPprof } from '../../../src/ingest/fromPprof';
import { buildGoFixture, newestGo } from '../../support/goToolchains';
import { buildGoPackage, startLoad, startService, stopAllTargets } from '../../support/profileTargets';

function fetchBytes(url: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`${url}: HTTP ${res.statusCode}`))));
    }).on('error', reject);
  });
}

describe('import a net/http/pprof CPU profile [go]', function () {
  this.timeout(300_000);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gpl-pprof-'));
  after(() => {
    stopAllTargets();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('gives the top functions and counts go tool pprof -top gives', async () => {
    const tc = newestGo();
    const svcBin = buildGoFixture('exampleservice', tc);
    const loadBin = buildGoPackage('exampleservice', './cmd/load', tc);
    const svc = await startService(svcBin, ['-pprof']);
    const load = startLoad(loadBin, svc.url, 60);
    const bytes = await fetchBytes(`${svc.url}/debug/pprof/profile?seconds=2`);
    load.proc.kill('SIGTERM');
    await load.done;
    await svc.stop();
    const file = path.join(tmp, 'cpu.pb.gz');
    fs.writeFileSync(file, bytes);

    const pp = decodePprof(bytes);
    assert.deepEqual(pp.sampleTypes.map((t) => `${t.type}/${t.unit}`), ['samples/count', 'cpu/nanoseconds']);
    const p = ingestPprof(pp);
    assert.equal(p.source, 'pprof');
    assert.equal(p.event.unit, 'nanoseconds');
    assert.ok(p.totalSamples > 20, `${p.totalSamples} samples`);

    const out = execFileSync(tc.goBin, ['tool', 'pprof', '-top', '-nodecount=20', '-sample_index=samples', file], {
      encoding: 'utf8', env: { ...process.env, GOROOT: tc.goroot, GOTOOLCHAIN: 'local' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const total = /of (\d+) total/.exec(out);
    assert.ok(total, out);
    assert.equal(p.totalSamples, Number(total[1]));
    let rows = 0;
    for (const line of out.split('\n')) {
      const m = /^\s*(\d+)\s+[\d.]+%\s+[\d.]+%\s+(\d+)\s+[\d.]+%\s+(.+?)\s*$/.exec(line);
      if (!m) continue;
      rows++;
      const name = m[3]!.replace(/ \(inline\)$/, '');
      const f = p.functions.find((x) => x.name === name);
      assert.ok(f, `go tool pprof lists ${name}; we do not`);
      assert.deepEqual({ flat: f.selfSamples, cum: f.cumSamples }, { flat: Number(m[1]), cum: Number(m[2]) }, name);
    }
    assert.ok(rows >= 5, out);
    // Go's profile carries lines: our hottest main.* function has its lines.
    const mainFn = p.functions.filter((f) => f.name.startsWith('main.')).sort((a, b) => b.cumSamples - a.cumSamples)[0];
    assert.ok(mainFn, 'some main.* function was sampled');
    assert.ok(p.lines.some((l) => l.function === mainFn.name && l.line1 > 0 && l.file.endsWith('main.go')));
  });
});
