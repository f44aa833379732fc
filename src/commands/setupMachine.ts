/**
 * "Set up this machine for profiling": shows the exact commands (install the helper, add the user
 * to its group) and, if the user agrees, runs them in a terminal, where sudo asks for the password
 * itself (the extension never sees it).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { setupCommands } from '../capture/installHelper';

export async function setupMachineCommand(extensionPath: string): Promise<void> {
  const user = os.userInfo().username;
  const cmds = setupCommands(path.join(extensionPath, 'dist', 'cli.js'), user);
  const run = 'Run in a terminal';
  const pick = await vscode.window.showInformationMessage(
    'Go Perf Lens: install the profiling helper on this machine (root-owned; its sudoers rule lets the group "go-perf-lens" run only that helper, without a password)',
    { modal: true, detail: `These commands will run in a terminal (sudo asks for your password there):\n\n${cmds.join('\n')}\n\nLog in again afterwards for the group to take effect.` },
    run,
  );
  if (pick !== run) return;
  const term = vscode.window.createTerminal({ name: 'Go Perf Lens setup', cwd: '/' });
  term.show();
  term.sendText(cmds.join(' && '));
}
