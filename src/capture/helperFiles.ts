/**
 * Finds bpf/ at run time (dist/bpf when bundled, the repo's bpf/ when running from out/ or
 * src/) and reads what the helper envelope carries: the loader (envelope_loader.py), the modules
 * of the perflens_helper package and the resource files (BPF C sources, error_codes.json).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UserError } from '../util/userError';

export interface HelperPayload {
  /** envelope_loader.py: imports `modules` from memory and runs the envelope. */
  program: string;
  /** The package's modules by dotted name ("perflens_helper", "perflens_helper.protocol", ...). */
  modules: Record<string, string>;
  /** Resource files by base name (the BPF C sources), sent along so nothing is installed remotely. */
  files: Record<string, string>;
}

export const HELPER_PACKAGE = 'perflens_helper';

/** The directory holding helper.py and the package. GO_PERF_LENS_BPF_DIR overrides the search. */
export function resolveBpfDir(): string {
  const candidates = [
    process.env.GO_PERF_LENS_BPF_DIR,
    path.join(__dirname, 'bpf'), // dist/cli.js, dist/extension.js → dist/bpf
    path.join(__dirname, '..', 'bpf'),
    path.join(__dirname, '..', '..', 'bpf'), // src/capture → bpf
    path.join(__dirname, '..', '..', '..', 'bpf'), // out/src/capture → bpf
  ];
  for (const c of candidates) {
    if (c && fs.existsSync(path.join(c, 'helper.py'))) return path.resolve(c);
  }
  throw new UserError(
    'the helper (bpf/helper.py) is missing from this installation',
    'reinstall go-perf-lens (or run scripts/build.mjs)',
    'install-broken',
  );
}

const RESOURCE_EXT = /\.(c|h|bt|txt|json)$/;
const MAX_RESOURCE = 1 << 20;

function readResources(dir: string, files: Record<string, string>): void {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (!RESOURCE_EXT.test(name) || !fs.statSync(p).isFile() || fs.statSync(p).size > MAX_RESOURCE) continue;
    files[name] = fs.readFileSync(p, 'utf8');
  }
}

export function loadHelperPayload(dir = resolveBpfDir()): HelperPayload {
  const program = fs.readFileSync(path.join(dir, 'envelope_loader.py'), 'utf8');
  const pkg = path.join(dir, HELPER_PACKAGE);
  const modules: Record<string, string> = {};
  for (const name of fs.readdirSync(pkg).sort()) {
    if (!name.endsWith('.py')) continue;
    const mod = name === '__init__.py' ? HELPER_PACKAGE : `${HELPER_PACKAGE}.${name.slice(0, -3)}`;
    modules[mod] = fs.readFileSync(path.join(pkg, name), 'utf8');
  }
  const files: Record<string, string> = {};
  readResources(dir, files);
  readResources(pkg, files);
  return { program, modules, files };
}
