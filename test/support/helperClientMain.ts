/**
 * A tiny client, bundled at test time and run AS ANOTHER USER by the security tests: runs one
 * helper subcommand through the real capture code and prints one JSON line, the result or the
 * error. Argument: JSON {target, subcommand, args}.
 */
import { runHelper } from '../../src/capture/runHelper';
import type { Target } from '../../src/capture/target';
import { UserError } from '../../src/util/userError';

async function main(): Promise<void> {
  const req = JSON.parse(process.argv[2] ?? '{}') as { target: Target; subcommand: string; args: Record<string, unknown> };
  try {
    const run = await runHelper(req.target, req.subcommand, req.args);
    process.stdout.write(`${JSON.stringify({ ok: true, hello: run.hello, result: run.result, files: run.files.map((f) => f.name) })}\n`);
  } catch (e) {
    const err = e instanceof UserError ? { code: e.code, message: e.message, hint: e.hint } : { code: 'crash', message: String(e) };
    process.stdout.write(`${JSON.stringify({ ok: false, error: err })}\n`);
  }
}

void main();
