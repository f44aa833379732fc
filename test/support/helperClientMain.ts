/**
 * A tiny client that runs one helper subcommand through the real capture code in a process of its
 * own and prints one JSON line, the result or the error. The security tests bundle it and run it
 * AS ANOTHER USER; the local capture tests run it (compiled) inside a private mount namespace.
 * Argument: JSON {target, subcommand, args, tempDir?, stopOnInput?}. An error's reply also
 * carries the helper's hello when it came (its PID and private folder: what a test checks is gone). tempDir receives the files
 * (the caller's folder, so that no other client's sweep of stale capture folders can take them);
 * with stopOnInput, a line on stdin makes the client ask the helper to stop (HelperProcess.stop()).
 */
import type { HelperProcess } from '../../src/capture/helperClient';
import type { HelloMessage } from '../../src/capture/helperProtocol';
import { runHelper } from '../../src/capture/runHelper';
import type { Target } from '../../src/capture/target';
import { UserError } from '../../src/util/userError';

interface Request {
  target: Target;
  subcommand: string;
  args: Record<string, unknown>;
  tempDir?: string;
  stopOnInput?: boolean;
}

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as Request;
  let client: HelperProcess | undefined;
  let hello: HelloMessage | undefined;
  const progress: string[] = [];
  if (req.stopOnInput) process.stdin.on('data', () => client?.stop());
  try {
    const run = await runHelper(req.target, req.subcommand, req.args, {
      ...(req.tempDir === undefined ? {} : { tempDir: req.tempDir }),
      onStart: (c) => {
        client = c;
      },
      onMessage: (m) => {
        if (m.type === 'hello') hello = m;
        if (m.type === 'progress') progress.push(m.message);
      },
    });
    const files = run.files.map((f) => f.name);
    const filePaths = Object.fromEntries(run.files.map((f) => [f.name, f.path]));
    process.stdout.write(`${JSON.stringify({ ok: true, hello: run.hello, result: run.result, files, filePaths, progress })}\n`);
  } catch (e) {
    const err = e instanceof UserError ? { code: e.code, message: e.message, hint: e.hint } : { code: 'crash', message: String(e) };
    process.stdout.write(`${JSON.stringify({ ok: false, error: err, progress, ...(hello ? { hello } : {}) })}\n`);
  } finally {
    if (req.stopOnInput) process.stdin.destroy();
  }
}

void main();
