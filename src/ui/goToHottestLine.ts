/**
 * "Go to the hottest line of my code": after a recording the user is offered the line of the
 * workspace's own code that led to the most samples (hottestOwnLine), and the command goes there.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { UserError } from '../util/userError';
import { formatPercent } from './format';
import { hottestOwnLine } from './hottestLine';
import type { ProfileSession } from './profileSession';

export interface HotLineTarget {
  path: string;
  line1: number;
  /** "main.go:42 in (*Store).handleTop — 39.5% of the samples, callees included" */
  text: string;
}

export function findHottestOwnLine(session: ProfileSession): HotLineTarget | undefined {
  const view = session.view();
  if (!view) return undefined;
  const hot = hottestOwnLine(view.profile, view.kinds);
  const local = hot && view.resolve(hot.file);
  if (!hot || !local || local.readOnly) return undefined;
  const share = formatPercent(hot.samples / Math.max(view.profile.totalSamples, 1));
  const what = hot.basis === 'first-own-frame' ? 'of the samples, with the library and runtime code it calls' : 'of the samples';
  return {
    path: local.path,
    line1: hot.line1,
    text: `${path.basename(local.path)}:${hot.line1} in ${view.labels.of(hot.function)} — ${share} ${what}`,
  };
}

export async function revealLine(target: HotLineTarget): Promise<void> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(target.path));
  const pos = new vscode.Position(Math.max(0, target.line1 - 1), 0);
  const editor = await vscode.window.showTextDocument(doc, { selection: new vscode.Range(pos, pos), preview: false });
  editor.revealRange(new vscode.Range(pos, pos), vscode.TextEditorRevealType.InCenter);
}

/** `offer`: ask first (after a recording) and stay quiet when there is no such line. */
export async function goToHottestLine(session: ProfileSession, offer: boolean): Promise<void> {
  const target = findHottestOwnLine(session);
  if (!target) {
    if (offer) return;
    if (!session.current) throw new UserError('no profile is loaded', 'run "Go Perf Lens: Profile Go process" first', 'no-profile');
    throw new UserError(
      'no line of this workspace’s code has samples in the profile',
      'open the folder holding the go.mod of the profiled program, or add "goPerfLens.pathMappings"',
      'source-not-found',
    );
  }
  if (offer) {
    const go = 'Go to it';
    const choice = await vscode.window.showInformationMessage(`Hottest line of your code: ${target.text}.`, go);
    if (choice !== go) return;
  }
  await revealLine(target);
}
