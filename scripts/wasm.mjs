// Assembles the WebAssembly text modules of src/ (src/**/NAME.wat) into NAME+Wasm.ts beside them:
// the module's bytes as base64, so that tsc's out/ and esbuild's bundles carry them without a
// loader. Usage: node scripts/wasm.mjs [--check]  (--check: fail if a generated file is stale).
// A unit test (test/unit/formats/perfSamplesFast.test.ts) runs the check too.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import wabtInit from 'wabt';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The generated TypeScript for one .wat file (its text and its bytes). */
export async function generatedFor(watFile) {
  const wabt = await wabtInit();
  const text = fs.readFileSync(watFile, 'utf8');
  const mod = wabt.parseWat(path.basename(watFile), text);
  try {
    mod.validate();
    const { buffer } = mod.toBinary({});
    const name = path.basename(watFile, '.wat');
    const b64 = Buffer.from(buffer).toString('base64');
    const lines = b64.match(/.{1,100}/g) ?? [];
    return (
      `// Generated from ${name}.wat by scripts/wasm.mjs: do not edit.\n` +
      `/** The WebAssembly module of ${name}.wat (${buffer.length} bytes), base64. */\n` +
      `export const ${name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}_WASM =\n${lines.map((l) => `  '${l}'`).join(' +\n')};\n`
    );
  } finally {
    mod.destroy();
  }
}

export function watFiles() {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.wat')) out.push(p);
    }
  };
  walk(path.join(root, 'src'));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const check = process.argv.includes('--check');
  let stale = 0;
  for (const wat of watFiles()) {
    const target = wat.replace(/\.wat$/, 'Wasm.ts');
    const want = await generatedFor(wat);
    const have = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : '';
    if (have === want) continue;
    if (check) {
      console.error(`${path.relative(root, target)} is stale: run node scripts/wasm.mjs`);
      stale++;
    } else {
      fs.writeFileSync(target, want);
      console.log(`wrote ${path.relative(root, target)}`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
