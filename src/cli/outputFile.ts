/**
 * Where the CLI writes its results (-o): checked before any work starts, and written so that a
 * bad path never costs the user their data — a result that cannot go where they asked is saved
 * beside (the current folder, else the temporary folder) and the message says where.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../util/userError';

/**
 * Throws a UserError when `out` cannot take a file: it is a directory, its folder does not exist
 * (or is not a folder), or that folder or the file is not writable. Creates nothing.
 */
export function checkOutputPath(out: string, example: string): void {
  const abs = path.resolve(out);
  const st = statOrUndefined(abs);
  if (st?.isDirectory() || /[/\\]$/.test(out)) {
    throw new UserError(`-o ${out} is a directory, not a file name`, `give a file name, e.g. -o ${path.join(out, example)}`, 'bad-output');
  }
  const dir = path.dirname(abs);
  const dst = statOrUndefined(dir);
  if (!dst)
    throw new UserError(
      `-o ${out}: the folder ${dir} does not exist`,
      `create it first (mkdir -p ${dir}) or choose another -o`,
      'bad-output',
    );
  if (!dst.isDirectory()) throw new UserError(`-o ${out}: ${dir} is not a folder`, 'choose another -o', 'bad-output');
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    if (st) fs.accessSync(abs, fs.constants.W_OK);
  } catch (e) {
    throw new UserError(
      `-o ${out} is not writable (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      'choose a file in a folder you may write to',
      'bad-output',
    );
  }
}

/**
 * Writes `data` to `out` atomically (a temporary file beside it, then a rename). When that
 * fails, the data goes to a rescue file instead and a UserError says what failed and where the
 * data is; no temporary file is left behind either way.
 */
export function writeOutputFile(
  out: string,
  data: string | Uint8Array,
  rescueDirs: readonly string[] = [process.cwd(), os.tmpdir()],
): void {
  let first: Error;
  try {
    writeAtomically(out, data);
    return;
  } catch (e) {
    first = e as Error;
  }
  const name = `${path.basename(out).replace(/[^A-Za-z0-9._-]/g, '_') || 'output'}`;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  for (const dir of rescueDirs) {
    const rescue = path.join(dir, `go-perf-lens-rescued-${stamp}-${name}`);
    try {
      writeAtomically(rescue, data);
    } catch {
      continue;
    }
    throw new UserError(
      `cannot write ${out} (${reason(first)}): the data was saved to ${rescue} instead`,
      `move it where you want it: mv ${rescue} DEST`,
      'output-rescued',
    );
  }
  throw new UserError(
    `cannot write ${out} (${reason(first)}), nor a copy in ${rescueDirs.join(' or ')}`,
    'check the disk space and the permissions of those folders',
    'output-failed',
  );
}

function writeAtomically(file: string, data: string | Uint8Array): void {
  const tmp = `${file}.tmp${process.pid}`;
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      /* not ours to remove (a folder of that name) */
    }
    throw e;
  }
}

function reason(e: Error): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return 'it is a directory';
  if (code === 'ENOENT') return 'its folder does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ENOSPC') return 'no space left on the device';
  return code ?? e.message;
}

function statOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.statSync(p);
  } catch {
    return undefined;
  }
}
