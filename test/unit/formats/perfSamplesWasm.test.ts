/**
 * The WebAssembly module the parser runs is the one its source says: perfSamplesWasm.ts (the
 * bytes) is what scripts/wasm.mjs assembles from perfSamples.wat today, with wabt.
 */
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..', '..', '..');

describe('perfSamplesWasm.ts', function () {
  it('holds the bytes of perfSamples.wat (node scripts/wasm.mjs --check)', function () {
    const r = spawnSync(process.execPath, [path.join(root, 'scripts', 'wasm.mjs'), '--check'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  });
});
