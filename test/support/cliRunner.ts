/** Runs the bundled CLI (dist/cli.js, built by scripts/build.mjs) as a separate process. */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from './goToolchains';

export const CLI = path.join(REPO_ROOT, 'dist', 'cli.js');

/** Builds dist/ when it is missing (the test runner builds it before the suites). */
export function ensureCli(): void {
  if (!fs.existsSync(CLI)) execFileSync('node', ['scripts/build.mjs'], { cwd: REPO_ROOT, stdio: 'inherit' });
}

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], input?: string, env?: NodeJS.ProcessEnv): CliResult {
  const r = spawnSync('node', [CLI, ...args], { input: input ?? '', encoding: 'utf8', maxBuffer: 1 << 30, env: env ?? process.env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
