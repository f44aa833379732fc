/**
 * A stand-in helper for HelperClient's tests: a real Python process started like the real
 * ephemeral helper (python3 -I -c BOOTSTRAP), running the test's `body` as its program.
 */
import * as fs from 'node:fs';
import { type Envelope, HelperClient } from '../../src/capture/helperClient';
import { HELPER_VERSION, type HelperMessage } from '../../src/capture/helperProtocol';
import { BOOTSTRAP, type LaunchPlan } from '../../src/capture/launchPlan';
import type { RunElsewhere } from '../../src/capture/runHelper';
import { UserError } from '../../src/util/userError';

const PY = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** What a body starts with: W(**message) writes one line, its hello is sent, C(bytes) sends a chunk of s.bin. */
export const PRELUDE =
  'import sys,json,base64,hashlib\nW=lambda **m: (sys.stdout.write(json.dumps(m)+chr(10)), sys.stdout.flush())\n' +
  `W(type='hello',protocol=1,helper='${HELPER_VERSION}',subcommand='fake',capabilities=[],pid=1,root=True,python='',pythonVersion='',tempDir='/x')\n` +
  "C=lambda d: W(type='chunk',name='s.bin',data=base64.b64encode(d).decode())\n";

/** How the stand-in is started: as the real ephemeral helper is. */
export const FAKE_PLAN: LaunchPlan = {
  target: { kind: 'local' },
  file: PY,
  args: ['-I', '-c', BOOTSTRAP],
  via: 'direct',
  mode: 'ephemeral',
  python: PY,
};

/** The envelope that makes the stand-in run `body`. */
export const fakeEnvelope = (body: string): Envelope => ({ v: 1, subcommand: 'fake', args: {}, files: {}, modules: {}, program: body });

/** Runs `body` to its end: the messages, and the UserError it ended with; started and read here or elsewhere. */
export async function runFake(
  body: string,
  dir: string,
  runElsewhere?: RunElsewhere,
): Promise<{ messages: HelperMessage[]; error?: UserError }> {
  const client = runElsewhere
    ? runElsewhere(FAKE_PLAN, fakeEnvelope(body), { dir })
    : new HelperClient(FAKE_PLAN, fakeEnvelope(body), { tempDir: dir });
  const messages: HelperMessage[] = [];
  try {
    for await (const m of client.messages()) messages.push(m);
    return { messages };
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    return { messages, error: e };
  }
}

/** Waits (up to 20 s) until `pid` no longer exists. */
export async function eventuallyGone(pid: number): Promise<void> {
  const end = Date.now() + 20000;
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    if (Date.now() > end) throw new Error(`the fake helper (PID ${pid}) is still running`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
