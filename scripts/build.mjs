// Bundles the extension, the CLI and the webview scripts with esbuild into dist/, and copies
// the helper (bpf/) beside them so both front ends can send it to a target host.
// Usage: node scripts/build.mjs [--production] [--watch]
import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const production = process.argv.includes('--production');
const dist = path.join(root, 'dist');
fs.mkdirSync(dist, { recursive: true });

const common = {
  bundle: true,
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  absWorkingDir: root,
};

const node = {
  ...common,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // iced-x86 loads its .wasm from its own folder at run time: ship the package beside dist.
  external: ['vscode', 'iced-x86'],
};

// The MCP SDK (with zod, most of a megabyte) is its own bundle, required by the CLI's bundle only
// when `go-perf-lens mcp` runs (src/cli/mcpSdk.ts).
const mcpSdkApart = {
  name: 'mcp-sdk-apart',
  setup(build) {
    build.onResolve({ filter: /^\.\/mcpSdk$/ }, () => ({ path: './mcpSdk.js', external: true }));
  },
};

const jobs = [
  esbuild.build({ ...node, entryPoints: ['src/extension.ts'], outfile: 'dist/extension.js' }),
  // Parse + symbolize + ingest on a worker thread (src/commands/ingestWorker.ts starts it).
  esbuild.build({ ...node, entryPoints: ['src/commands/ingestWorkerMain.ts'], outfile: 'dist/ingestWorkerMain.js' }),
  // The CLI, and the MCP SDK it loads only for `go-perf-lens mcp`.
  esbuild.build({
    ...node,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    banner: { js: '#!/usr/bin/env node' },
    plugins: [mcpSdkApart],
  }),
  esbuild.build({ ...node, entryPoints: ['src/cli/mcpSdk.ts'], outfile: 'dist/mcpSdk.js' }),
];
const webviewDir = path.join(root, 'src', 'webview');
if (fs.existsSync(webviewDir)) {
  const entries = fs
    .readdirSync(webviewDir)
    .filter((f) => /Main\.ts$/.test(f))
    .map((f) => `src/webview/${f}`);
  if (entries.length) {
    jobs.push(
      esbuild.build({ ...common, platform: 'browser', target: 'es2022', format: 'iife', entryPoints: entries, outdir: 'dist/webview' }),
    );
  }
}
// A CLI launcher of an older build (dist/cliMain.js ran through V8's code cache) is gone.
fs.rmSync(path.join(dist, 'cliMain.js'), { force: true });
fs.rmSync(path.join(dist, 'cliMain.js.map'), { force: true });
await Promise.all(jobs);
fs.chmodSync(path.join(dist, 'cli.js'), 0o755);

// The helper and its BPF programs travel as files next to the bundle.
fs.rmSync(path.join(dist, 'bpf'), { recursive: true, force: true });
fs.cpSync(path.join(root, 'bpf'), path.join(dist, 'bpf'), { recursive: true, filter: (s) => !s.includes('__pycache__') });
// iced-x86 (external above): copy the package so dist/ works without the repo's node_modules.
const iced = path.join(root, 'node_modules', 'iced-x86');
if (fs.existsSync(iced)) fs.cpSync(iced, path.join(dist, 'node_modules', 'iced-x86'), { recursive: true });
