/**
 * A Go fixture as the end-to-end tests use it: copied into a fresh workspace and built there with
 * the newest Go (its DWARF then names the very files the editor opens), and started as a service
 * that is ready once it prints its first line. Import from tests only.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { FIXTURE_CACHE, GO_FIXTURES, goEnv, newestGo } from '../../support/goToolchains';
import { copyTree, makeWorkspace } from './runDir';

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
    timeout: 120000,
  });
  return { ws, bin };
}

/** Starts `bin` in its own process group (killProcessGroup ends it); resolves once it printed something. */
export async function startGoService(bin: string, cwd: string): Promise<ChildProcess> {
  const child = spawn(bin, [], { cwd, stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(bin)} printed nothing within 10 s`)), 10000);
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
