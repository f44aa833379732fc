/**
 * Open profile… (perf.data, pprof .pb.gz, session), Save profile…, Export pprof…, Clear
 * profile, and the baseline commands.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { gzipPprof } from '../formats/pprof';
import { toPprof } from '../ingest/toPprof';
import type { Profile } from '../model/profile';
import { makeSession, saveSessionInSlices, type SessionFile } from '../model/session';
import type { LoadedProfile, ProfileSession } from '../ui/profileSession';
import { UserError } from '../util/userError';
import { readProfileInWorker } from './ingestWorker';

export async function openProfileCommand(session: ProfileSession, asBaseline = false): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    title: asBaseline ? 'Open baseline profile' : 'Open profile',
    openLabel: asBaseline ? 'Pin as baseline' : 'Open profile',
    filters: { Profiles: ['data', 'gz', 'pb', 'pprof', 'prof', 'json'], 'All files': ['*'] },
  });
  const file = picked?.[0];
  if (!file) return;
  const loaded = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: `Reading ${path.basename(file.fsPath)}` },
    () =>
      readProfileInWorker(file.fsPath, async (recorded) => {
        const bin = await vscode.window.showOpenDialog({
          canSelectMany: false,
          title: recorded ? `perf recorded ${recorded}, which is not here: pick that Go binary` : 'Pick the Go binary that was profiled',
          openLabel: 'Use this binary',
        });
        return bin?.[0]?.fsPath;
      }),
  );
  if (asBaseline) session.setBaseline(loaded);
  else session.set(loaded);
}

function requireProfile(session: ProfileSession): LoadedProfile {
  const cur = session.current;
  if (!cur) throw new UserError('no profile is loaded', 'run "Go Perf Lens: Profile Go process" or "Open profile…" first', 'no-profile');
  return cur;
}

export async function saveProfileCommand(session: ProfileSession): Promise<void> {
  const cur = requireProfile(session);
  const target = await vscode.window.showSaveDialog({
    title: 'Save profile',
    filters: { 'Go Perf Lens session': ['json'] },
    defaultUri: defaultUri(`${slug(cur.label)}.goperflens.json`),
  });
  if (!target) return;
  // A slice at a time: the extension host's thread is every extension's (model/session).
  await saveSessionInSlices(target.fsPath, { ...makeSession(cur.profile, 'go-perf-lens extension'), label: cur.label } as SessionFile);
  void vscode.window.showInformationMessage(`Saved the profile to ${target.fsPath}`);
}

export async function exportPprofCommand(session: ProfileSession): Promise<void> {
  const cur = requireProfile(session);
  const target = await vscode.window.showSaveDialog({
    title: 'Export pprof',
    filters: { 'pprof profile': ['pb.gz'] },
    defaultUri: defaultUri(`${slug(cur.label)}.pb.gz`),
  });
  if (!target) return;
  fs.writeFileSync(target.fsPath, gzipPprof(toPprof(cur.profile)));
  void vscode.window.showInformationMessage(`Exported ${target.fsPath} — open it with: go tool pprof -http=: ${target.fsPath}`);
}

export function pinBaselineCommand(session: ProfileSession): void {
  const cur = requireProfile(session);
  // A deep copy: later latency traces add to the current profile, not to the pinned one.
  session.setBaseline({ profile: structuredClone(cur.profile) as Profile, label: cur.label }, cur.profile);
  void vscode.window.showInformationMessage(`Pinned "${cur.label}" as the baseline: the next profile shows as a difference against it.`);
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'profile';
}

function defaultUri(name: string): vscode.Uri | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  return folder ? vscode.Uri.joinPath(folder, name) : undefined;
}
