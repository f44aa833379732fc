/**
 * Smoke test in a real VS Code: the right VS Code, our extension loaded from this repo, activated
 * by a Go workspace on its own, every contributed command registered.
 */
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'go-perf-lens.go-perf-lens';

interface ContributedCommand {
  command: string;
  title: string;
  category?: string;
}

function extension(): vscode.Extension<unknown> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is not loaded in this VS Code`);
  return ext;
}

function contributedCommands(): ContributedCommand[] {
  const pkg = extension().packageJSON as { contributes?: { commands?: ContributedCommand[] } };
  return pkg.contributes?.commands ?? [];
}

async function until(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 200));
  }
  return true;
}

describe('smoke: Go Perf Lens in a real VS Code [vscode]', () => {
  it('runs in VS Code 1.100', () => {
    assert.match(vscode.version, /^1\.100\.\d+/);
  });

  it('loads the extension from this repo (its dist/extension.js)', () => {
    const ext = extension();
    assert.equal((ext.packageJSON as { main: string }).main, './dist/extension.js');
    assert.equal(ext.extensionKind, vscode.ExtensionKind.Workspace);
  });

  it('is given a trusted Go workspace (go.mod at its root)', async () => {
    assert.equal(
      vscode.workspace.isTrusted,
      true,
      'the workspace is not trusted: the runner should have clicked "Yes, I trust the authors"',
    );
    const folders = vscode.workspace.workspaceFolders ?? [];
    assert.equal(folders.length, 1);
    const found = await vscode.workspace.findFiles('go.mod', undefined, 1);
    assert.equal(found.length, 1);
  });

  it('activates on its own in a Go workspace', async () => {
    const ext = extension();
    // No explicit activate(): the workspaceContains:**/go.mod / onLanguage:go events must do it.
    const active = await until(() => ext.isActive, 30000);
    assert.ok(active, 'the extension did not activate within 30 s of opening a Go workspace');
  });

  it('has its test hooks here, under test (ExtensionMode.Test), and the mode says so', async () => {
    const ext = extension();
    await until(() => ext.isActive, 30000);
    const api = ext.exports as { testing?: unknown } | undefined;
    assert.ok(api?.testing, 'no test hooks although VS Code runs the extension tests');
  });

  it('contributes "Go Perf Lens: Profile Go process" (goPerfLens.profileProcess)', () => {
    const profile = contributedCommands().find((c) => c.command === 'goPerfLens.profileProcess');
    assert.ok(
      profile,
      `goPerfLens.profileProcess is not in contributes.commands (${
        contributedCommands()
          .map((c) => c.command)
          .join(', ') || 'none'
      })`,
    );
    assert.equal(profile.title, 'Profile Go process');
    assert.equal(profile.category, 'Go Perf Lens');
  });

  it('registers every command it contributes, all under the goPerfLens. prefix', async () => {
    const contributed = contributedCommands().map((c) => c.command);
    assert.ok(contributed.length > 0);
    assert.deepEqual(
      contributed.filter((c) => !c.startsWith('goPerfLens.')),
      [],
    );
    await until(() => extension().isActive, 30000);
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(
      contributed.filter((c) => !registered.has(c)),
      [],
      'contributed but not registered by activate()',
    );
  });
});
