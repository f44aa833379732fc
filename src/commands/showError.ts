/**
 * Errors for people, in the editor: a UserError's message with its hint and a way forward
 * (copy the install command / the sudoers line); a FormatError as "cannot read"; anything
 * else is a bug, logged in full to the output channel and reported briefly.
 */
import * as vscode from 'vscode';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';
import { extractCommand } from './extractCommand';

export async function showError(err: unknown, log: vscode.OutputChannel, what: string): Promise<void> {
  if (err instanceof UserError) {
    if (err.code === 'cancelled') return;
    const actions: string[] = [];
    const command = err.hint ? extractCommand(err.hint) : undefined;
    if (command) actions.push(err.code.startsWith('sudo-') && command.includes('NOPASSWD') ? 'Copy sudoers line' : 'Copy command');
    else if (err.hint) actions.push('Copy hint');
    log.appendLine(`[${new Date().toISOString()}] ${what}: ${err.message}${err.hint ? `\n  ${err.hint}` : ''} (${err.code})`);
    const choice = await vscode.window.showErrorMessage(`${err.message}${err.hint ? ` — ${err.hint}` : ''}`, ...actions, 'Show log');
    if (choice === 'Show log') log.show(true);
    else if (choice) await vscode.env.clipboard.writeText(command ?? err.hint ?? '');
    return;
  }
  if (err instanceof FormatError) {
    log.appendLine(`[${new Date().toISOString()}] ${what}: cannot read the input: ${err.message}`);
    void vscode.window.showErrorMessage(`Go Perf Lens cannot read the input: ${err.message}`);
    return;
  }
  if (err instanceof Error && err.name === 'SessionError') {
    log.appendLine(`[${new Date().toISOString()}] ${what}: ${err.message}`);
    void vscode.window.showErrorMessage(err.message);
    return;
  }
  const e = err as Error;
  log.appendLine(`[${new Date().toISOString()}] ${what}: internal error: ${e?.stack ?? String(err)}`);
  const choice = await vscode.window.showErrorMessage(
    `Go Perf Lens: ${what} failed with an internal error (please report it): ${e?.message ?? String(err)}`,
    'Show log',
  );
  if (choice) log.show(true);
}
