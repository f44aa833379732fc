/**
 * A Go fixture as the end-to-end tests use it: copied into a fresh workspace and built there with
 * the newest Go (its DWARF then names the very files the editor opens), and started as a service
 * that is ready once it prints its first line. Import from tests only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURE_CACHE, GO_FIXTURES, goEnv, newestGo } from '../../support/goToolchains';
import { copyTree, makeWorkspace } from './runDir';

/** Deadlines: `go build` of a fixture, and a started fixture's first line (both slow on a loaded machine). */
export const GO_BUILD_MS = 120000;
export const SERVICE_READY_MS = 60000;

/** A fresh workspace holding test/fixtures/go/FIXTURE and its binary (named FIXTURE). */
export function workspaceWithFixture(prefix: string, fixture: string, settings: Record<string, unknown>): { ws: string; bin: string } {
  const ws = makeWorkspace(prefix, {}, settings);
  copyTree(path.join(GO_FIXTURES, fixture), ws);
  const tc = newestGo();
  const bin = path.join(ws, fixture);
  execFileSync(tc.goBin, ['build', '-o', bin, '.'], {
    cwd: ws,
    env: goEnv(tc, FIXTURE_CACHE),
    stdio: ['ignore', 'ignore', 'pipe'],
    timeout: GO_BUILD_MS,
  });
  return { ws, bin };
}

/** Starts `bin` in its own process group (killProcessGroup ends it); resolves once it printed something. */
export async function startGoService(bin: string, cwd: string): Promise<ChildProcess> {
  const child = spawn(bin, [], { cwd, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL'); // the caller never gets it to stop
      reject(new Error(`${path.basename(bin)} printed nothing within ${SERVICE_READY_MS / 1000} s`));
    }, SERVICE_READY_MS);
    child.stdout!.once('data', () => {
      clearTimeout(timer);
      resolve();
    });
    child.once('exit', (c) => {
      clearTimeout(timer);
      reject(new Error(`${path.basename(bin)} exited with ${c}`));
    });
  });
  return child;
}
