/**
 * Whether the loaded profile's binary matches the workspace: git HEAD against the binary's
 * vcs.revision / vcs.modified (asked once per profile, asynchronously), and each file's
 * modification time against the binary's. The decorator dims heat where this says so.
 */
import * as fs from 'node:fs';
import { execa } from 'execa';
import * as vscode from 'vscode';
import type { Profile } from '../model/profile';
import type { ProfileSession } from './profileSession';
import { binaryMismatch, fileStaleness, type WorkspaceRevision } from './staleness';

export class Freshness implements vscode.Disposable {
  private revision: WorkspaceRevision = {};
  private binaryMtimeMs: number | undefined;
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private readonly sub: vscode.Disposable;
  private generation = 0;
  private warned: string | undefined;

  constructor(private readonly session: ProfileSession) {
    this.sub = session.onDidChange(() => this.recheck());
    this.recheck();
  }

  private recheck(): void {
    const gen = ++this.generation;
    const bin = this.session.current?.profile.binary;
    const local = this.session.current?.profile.target?.host === undefined;
    this.binaryMtimeMs = undefined;
    if (bin?.path && local) {
      try {
        this.binaryMtimeMs = fs.statSync(bin.path).mtimeMs;
      } catch {
        /* binary gone or remote: no time to compare with */
      }
    }
    const folder = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
    if (!bin?.vcsRevision || !folder) return;
    void this.compareWithGit(gen, bin, folder);
  }

  /** git HEAD and whether tracked files changed, against the binary's revision; warns once when they differ. */
  private async compareWithGit(gen: number, bin: NonNullable<Profile['binary']>, folder: string): Promise<void> {
    const git = (args: string[]) => execa('git', args, { cwd: folder, timeout: 5000, reject: false, stdin: 'ignore' });
    const head = await git(['rev-parse', 'HEAD']);
    if (gen !== this.generation || head.failed) return;
    const status = await git(['status', '--porcelain', '--untracked-files=no']);
    if (gen !== this.generation) return;
    const before = binaryMismatch(bin, this.revision);
    this.revision = { head: head.stdout.trim(), dirty: !status.failed && status.stdout.trim().length > 0 };
    const now = binaryMismatch(bin, this.revision);
    if (now !== before) this.emitter.fire();
    // Say it once per profile, where the user looks; the hovers repeat it on each hot line.
    if (now && now !== this.warned) {
      this.warned = now;
      void vscode.window.showWarningMessage(`${now} Its heat is dimmed.`);
    }
  }

  /** Why the whole binary may not match the workspace, if it may not. */
  binaryProblem(): string | undefined {
    return binaryMismatch(this.session.current?.profile.binary, this.revision);
  }

  /** Why one file's heat is dimmed, if it is. */
  fileProblem(fsPath: string): string | undefined {
    // A commit mismatch concerns the workspace's own files, not GOROOT or the module cache.
    const whole = this.binaryProblem();
    if (whole && vscode.workspace.getWorkspaceFolder(vscode.Uri.file(fsPath))) return whole;
    let mtime: number | undefined;
    try {
      mtime = fs.statSync(fsPath).mtimeMs;
    } catch {
      return undefined;
    }
    return fileStaleness(fsPath, mtime, this.binaryMtimeMs, this.session.current?.profile.binary);
  }

  dispose(): void {
    this.sub.dispose();
    this.emitter.dispose();
  }
}
