/**
 * Runs one helper subcommand on a target to its result: picks the launch (root, sudo -n, a
 * password asked once and fed to sudo -S, pkexec, ssh), sends the envelope, forwards messages,
 * collects streamed files, and turns the helper's `error` into a UserError with its code.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { UserError } from '../util/userError';
import { Envelope, HelperClient, type HelperProcess, cancelledError } from './helperClient';
import { loadHelperPayload, resolveBpfDir } from './helperFiles';
import { HelloMessage, HelperMessage, PROTOCOL_VERSION, ReceivedFileMessage } from './helperProtocol';
import { LaunchPlan, initialPlan, userPlan, withPassword } from './launchPlan';
import { mayRunAsUser } from './ownProcess';
import { CAPTURE_DIR_PREFIX, removeStaleCaptureDirs } from './staleTempDirs';
import { Target, describeTarget } from './target';

/**
 * Asks the user for their sudo password on `where` (user@host, named in the prompt); undefined =
 * they declined. `forget(where)` drops a cached one.
 */
export type PasswordPrompt = ((where: string) => Promise<string | undefined>) & { forget?: (where: string) => void };

export interface RunHelperOptions {
  signal?: AbortSignal;
  /** Every message as it arrives (progress, partial results, warnings, received files...). */
  onMessage?: (m: HelperMessage) => void;
  /** Called when sudo needs a password. Without it, a password-protected sudo is a UserError. */
  askPassword?: PasswordPrompt;
  /** A private directory for streamed files; default: a new one (returned in HelperRun.tempDir). */
  tempDir?: string;
  /** Exposes the running helper (e.g. to call stop() for a graceful early end). */
  onStart?: (client: HelperProcess) => void;
  /** Start and read the helper on another thread (RunElsewhere); no `received-chunk` then. */
  runElsewhere?: RunElsewhere;
}

/**
 * Starts the helper on another thread (the ingest worker, for a long recording): its process,
 * stdin and output belong to that thread, its streamed files are written, checked and used there
 * (into `dir`, the caller's private folder, made before the helper is asked anything), and what
 * comes back are its messages without the `received-chunk`s. So the caller's thread (the
 * extension host's) neither spawns it nor reads a byte of its output.
 */
export type RunElsewhere = (plan: LaunchPlan, envelope: Envelope, opts: { dir: string; signal?: AbortSignal }) => HelperProcess;

export interface HelperRun<R> {
  hello: HelloMessage;
  result: R;
  files: ReceivedFileMessage[];
  warnings: string[];
  /** The directory holding `files` (the caller removes it); undefined when nothing was streamed
   * (or opts.tempDir when one was given). */
  tempDir: string | undefined;
}

/** How long a remembered sudo password is kept (in memory only). */
export const PASSWORD_TTL_MS = 5 * 60 * 1000;

/**
 * Wraps a prompt so each user@host's password is asked once and kept in memory only, for
 * ttlMs: a password given for one host is never offered to another.
 */
export function rememberPassword(
  ask: (where: string) => Promise<string | undefined>,
  ttlMs = PASSWORD_TTL_MS,
  now: () => number = Date.now,
): PasswordPrompt {
  const known = new Map<string, { password: string; until: number }>();
  const f: PasswordPrompt = async (where) => {
    const k = known.get(where);
    if (k && k.until > now()) return k.password;
    known.delete(where);
    const pw = await ask(where);
    if (pw !== undefined) known.set(where, { password: pw, until: now() + ttlMs });
    return pw;
  };
  f.forget = (where) => {
    known.delete(where);
  };
  return f;
}

/** The removal of killed clients' folders, started by the first private folder this process makes. */
let staleSweep: Promise<unknown> | undefined;

/**
 * A new private folder named for this process; the first call also starts removing those of
 * clients that were killed (in the background; runHelper waits for it before it returns).
 */
export function makePrivateTempDir(prefix = `${CAPTURE_DIR_PREFIX}${process.pid}-`): string {
  staleSweep ??= removeStaleCaptureDirs();
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(d, 0o700);
  return d;
}

export async function runHelper<R = unknown>(
  target: Target,
  subcommand: string,
  args: Record<string, unknown>,
  opts: RunHelperOptions = {},
): Promise<HelperRun<R>> {
  if (opts.signal?.aborted) throw cancelledError();
  // Without privilege where it needs none (the user's own process); else the installed helper (or
  // the ephemeral one where we are root already).
  const asUser = mayRunAsUser(target, subcommand, args);
  let plan: LaunchPlan = asUser ? userPlan(asUser, path.join(resolveBpfDir(), 'helper.py')) : initialPlan(target);
  // The program travels only where it may run: a Python that is root already (or an ssh host,
  // which runs it only when the login is root: see remoteCommand).
  const payload = plan.mode === 'ephemeral' || target.kind === 'ssh' ? await loadHelperPayload() : { files: {}, modules: {}, program: '' };
  const envelope: Envelope = {
    v: PROTOCOL_VERSION,
    subcommand,
    args,
    files: payload.files,
    modules: payload.modules,
    program: payload.program,
  };
  const where = describeTarget(target);
  // Our own directory is made when the first file arrives (probe and processes never need one).
  let tempDir = opts.tempDir;
  const ownDir = tempDir === undefined;
  const dirFor = (): string => (tempDir ??= makePrivateTempDir());
  try {
    for (let attempt = 0; ; attempt++) {
      try {
        const run = await runOnce<R>(plan, envelope, dirFor, opts);
        await staleSweep;
        // A folder made up front (runElsewhere) for a run that sent no file is ours to remove.
        if (!run.files.length && ownDir && tempDir !== undefined) await fs.promises.rm(tempDir, { recursive: true, force: true });
        return { ...run, tempDir: run.files.length ? tempDir : opts.tempDir };
      } catch (e) {
        if (!(e instanceof UserError)) throw e;
        if (e.code === 'sudo-wrong-password') opts.askPassword?.forget?.(where);
        const retry = (e.code === 'sudo-password-required' || e.code === 'sudo-wrong-password') && attempt < 3;
        if (!retry) throw e;
        if (!opts.askPassword) {
          throw new UserError(
            `${e.message.replace(/ and none could be asked for$/, '')}: sudo -n refused to start the helper without one`,
            e.hint,
            'sudo-refused',
          );
        }
        const pw = await opts.askPassword(where);
        if (pw === undefined) throw new UserError('no sudo password was given', e.hint, 'sudo-refused');
        if (opts.signal?.aborted) throw cancelledError();
        plan = withPassword(plan, pw);
      }
    }
  } catch (e) {
    if (ownDir && tempDir !== undefined) await fs.promises.rm(tempDir, { recursive: true, force: true });
    throw e;
  }
}

async function runOnce<R>(
  plan: LaunchPlan,
  envelope: Envelope,
  tempDir: () => string,
  opts: RunHelperOptions,
): Promise<Omit<HelperRun<R>, 'tempDir'>> {
  const client = opts.runElsewhere
    ? opts.runElsewhere(plan, envelope, { dir: tempDir(), signal: opts.signal })
    : new HelperClient(plan, envelope, { tempDir, signal: opts.signal });
  opts.onStart?.(client);
  let hello: HelloMessage | undefined;
  const files: ReceivedFileMessage[] = [];
  const warnings: string[] = [];
  for await (const m of client.messages()) {
    opts.onMessage?.(m);
    switch (m.type) {
      case 'hello':
        hello = m;
        break;
      case 'warning':
        warnings.push(m.message);
        break;
      case 'received-file':
        files.push(m);
        break;
      case 'error':
        if (m.code === 'cancelled' && opts.signal?.aborted) throw cancelledError();
        throw new UserError(m.message, m.hint ?? undefined, m.code);
      case 'result':
        if (!hello) throw new UserError('the helper sent a result before its hello', 'this is a bug in go-perf-lens', 'helper-protocol');
        await client.exit();
        return { hello, result: m.data as R, files, warnings };
      default:
        break;
    }
  }
  // messages() throws when there is no terminal message; this is unreachable in practice.
  throw new UserError('the helper ended without a result', undefined, 'helper-crashed');
}
