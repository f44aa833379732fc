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

/** The resource files of `dir` by base name (read in parallel: no file waits for another). */
async function readResources(dir: string): Promise<[string, string][]> {
  const names = (await fs.promises.readdir(dir)).filter((n) => RESOURCE_EXT.test(n)).sort();
  const read = await Promise.all(
    names.map(async (name): Promise<[string, string] | undefined> => {
      const p = path.join(dir, name);
      const st = await fs.promises.stat(p);
      return st.isFile() && st.size <= MAX_RESOURCE ? [name, await fs.promises.readFile(p, 'utf8')] : undefined;
    }),
  );
  return read.filter((e) => e !== undefined);
}

/**
 * Reads the payload with asynchronous I/O: it is read on every root or ssh run, on the thread
 * of whoever records (the extension host's), which must not wait for some thirty files.
 */
export async function loadHelperPayload(dir = resolveBpfDir()): Promise<HelperPayload> {
  const pkg = path.join(dir, HELPER_PACKAGE);
  const moduleNames = (await fs.promises.readdir(pkg)).filter((n) => n.endsWith('.py')).sort();
  const [program, moduleTexts, dirFiles, pkgFiles] = await Promise.all([
    fs.promises.readFile(path.join(dir, 'envelope_loader.py'), 'utf8'),
    Promise.all(moduleNames.map((name) => fs.promises.readFile(path.join(pkg, name), 'utf8'))),
    readResources(dir),
    readResources(pkg),
  ]);
  const modules: Record<string, string> = {};
  moduleNames.forEach((name, i) => {
    modules[name === '__init__.py' ? HELPER_PACKAGE : `${HELPER_PACKAGE}.${name.slice(0, -3)}`] = moduleTexts[i]!;
  });
  // The package's resources win over the folder's of the same name, as before.
  return { program, modules, files: Object.fromEntries([...dirFiles, ...pkgFiles]) };
}
