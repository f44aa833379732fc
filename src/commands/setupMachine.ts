/**
 * "Set up this machine for profiling": on this machine or on a remote host (the configured
 * goPerfLens.remoteHost or one typed in). Shows the exact commands (install the helper, add the
 * user to its group) and, if the user agrees, runs them in a terminal, where sudo asks for the
 * password itself — on a remote host its prompt names that host (the extension never sees it).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { setupCommands } from '../capture/installHelper';
import { remoteCommands } from '../capture/remoteInstall';

const DESTINATION = /^([a-z_][a-z0-9_.-]{0,31}@)?[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$/;

async function pickHost(configured: string): Promise<string | undefined> {
  const here = 'This machine';
  const other = 'Another remote host…';
  const items = [here, ...(configured ? [configured] : []), other];
  const pick = await vscode.window.showQuickPick(items, { title: 'Go Perf Lens: install the profiling helper on' });
  if (pick !== other) return pick;
  const typed = await vscode.window.showInputBox({
    title: 'Remote host',
    prompt: 'An ssh destination: user@host or a Host from ~/.ssh/config (it needs Python 3 and sudo)',
    validateInput: (v) => (DESTINATION.test(v.trim()) ? undefined : 'Not a valid ssh destination'),
  });
  return typed?.trim() || undefined;
}

export async function setupMachineCommand(extensionPath: string, configuredHost = ''): Promise<void> {
  const cli = path.join(extensionPath, 'dist', 'cli.js');
  const host = await pickHost(DESTINATION.test(configuredHost) ? configuredHost : '');
  if (!host) return;
  const remote = host !== 'This machine';
  const cmds = remote ? remoteCommands(host, 'install') : setupCommands(cli, os.userInfo().username);
  const run = 'Run in a terminal';
  const pick = await vscode.window.showInformationMessage(
    `Go Perf Lens: install the profiling helper on ${remote ? host : 'this machine'} (root-owned; its sudoers rule lets the group "go-perf-lens" run only that helper, without a password)`,
    {
      modal: true,
      detail: `These commands will run in a terminal (sudo asks for your password there${remote ? `, in a prompt naming ${host}` : ''}):\n\n${cmds.join('\n')}\n\nLog in again afterwards for the group to take effect.`,
    },
    run,
  );
  if (pick !== run) return;
  const term = vscode.window.createTerminal({ name: `Go Perf Lens setup${remote ? ` (${host})` : ''}`, cwd: '/' });
  term.show();
  // Remote: the CLI runs the two ssh commands shown (confirmed here, hence --yes).
  term.sendText(remote ? [process.execPath, cli, 'install-helper', '--host', host, '--yes'].join(' ') : cmds.join(' && '));
}
