/**
 * Errors for people, in the editor: a UserError's message with its hint and a way forward
 * (copy the install command / the sudoers line); a FormatError as "cannot read"; anything
 * else is a bug, logged in full to the output channel and reported briefly.
 */
import * as vscode from 'vscode';
import { FormatError } from '../util/byteReader';
import { UserError } from '../util/userError';

export async function showError(err: unknown, log: vscode.OutputChannel, what: string): Promise<void> {
  if (err instanceof UserError) {
    if (err.code === 'cancelled') return;
    const actions: string[] = [];
    const command = err.hint ? extractCommand(err.hint) : undefined;
    if (command) actions.push(err.code === 'sudo-refused' ? 'Copy sudoers line' : 'Copy command');
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
  const choice = await vscode.window.showErrorMessage(`Go Perf Lens: ${what} failed with an internal error (please report it): ${e?.message ?? String(err)}`, 'Show log');
  if (choice) log.show(true);
}

/** The command inside a hint like "install it with: sudo apt-get install linux-perf" or a sudoers line. */
export function extractCommand(hint: string): string | undefined {
  // A command on its own indented line (the sudoers line) wins over "...: command" prose.
  const indented = hint.split('\n').find((l) => /^\s{2,}\S/.test(l) && !/^\s*\(/.test(l));
  if (indented) return indented.trim();
  const m = /(?:with|run)[^:\n]*:\s*([^\n]+)/i.exec(hint);
  return m?.[1]?.trim().replace(/^"|"$/g, '');
}
