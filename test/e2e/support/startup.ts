/**
 * The start-up every end-to-end file shares: a VS Code server, Chromium on the workbench with the
 * workspace's main.go open, the workspace trusted. Each step waits for its own condition with its
 * own deadline; a before-all hook that runs them gets their sum (STARTUP_TIMEOUT_MS), so on a
 * loaded machine a slow step fails with its own message, never cut short by a guessed hook limit.
 * Import from tests only.
 */
import * as path from 'node:path';
import { GO_BUILD_MS, SERVICE_READY_MS } from './goService';
import { closeWorkbench } from './orderedSteps';
import { freshDir, REPO_ROOT } from './runDir';
import { startServer, type VsCodeServer } from './vscodeServer';
import { Workbench, WORKBENCH_OPEN_MS } from './workbench';

/** Deadlines of the steps below. */
const SERVER_START_MS = 60000;
const TRUST_MS = 120000;
/** waitForEditor's: the tab, then the text. */
const EDITOR_MS = 2 * 30000;

/** What opening a workbench may take at most: its steps' deadlines added up. */
export const OPEN_TIMEOUT_MS = SERVER_START_MS + WORKBENCH_OPEN_MS + TRUST_MS + EDITOR_MS;

/** A before-all's limit for building the fixture, starting it and opening the workbench. */
export const STARTUP_TIMEOUT_MS = GO_BUILD_MS + SERVICE_READY_MS + OPEN_TIMEOUT_MS;

export interface OpenedWorkbench {
  server: VsCodeServer;
  wb: Workbench;
}

export interface OpenOptions {
  /** Environment for the server and its extension hosts. */
  serverEnv?: Record<string, string>;
  /** The server's data folder (default: a fresh `${name}-server`). */
  dataDir?: string;
  /** Load the extensions installed there instead of this repository's (the .vsix test). */
  extensionsDir?: string;
}

/**
 * Starts a VS Code server and opens `ws` in Chromium with main.go in an editor and the workspace
 * trusted; `name` names its fresh folders. What it started is stopped again when a step fails.
 */
export async function openWorkbench(name: string, ws: string, o: OpenOptions = {}): Promise<OpenedWorkbench> {
  const server = await startServer({
    dataDir: o.dataDir ?? freshDir(`${name}-server`),
    extensionsDir: o.extensionsDir,
    env: o.serverEnv,
    startTimeoutMs: SERVER_START_MS,
  });
  let wb: Workbench | undefined;
  try {
    wb = await Workbench.open({
      server,
      folder: ws,
      file: path.join(ws, 'main.go'),
      // Without it, what runs is the extension installed in extensionsDir.
      extensionDevelopmentPath: o.extensionsDir ? undefined : REPO_ROOT,
      userDataDir: freshDir(`${name}-chromium`),
    });
    // Trust first: the trust dialog can come late on a loaded machine, and would hide a picker.
    await wb.grantTrust('dialog', TRUST_MS);
    await wb.waitForEditor('main.go');
    return { server, wb };
  } catch (e) {
    await closeWorkbench(wb, server);
    throw e;
  }
}
