/**
 * The command a UserError's hint tells the user to run — "install perf: sudo apt-get install
 * linux-perf (Debian), …", or the sudoers line on its own indented line — so the error message
 * can offer a "Copy command" button. Pure: no vscode import.
 */
export function extractCommand(hint: string): string | undefined {
  // A command on its own indented line (the sudoers line) wins over prose.
  const indented = hint.split('\n').find((l) => /^\s{2,}\S/.test(l) && !/^\s*\(/.test(l));
  if (indented) return indented.trim();
  // Else the first command after a colon, up to the next comma or parenthesis.
  const m = /:\s*"?((?:sudo|apt-get|apt|dnf|yum|zypper|pacman|brew|go|pip3?|mount)\s[^,\n("]*)/.exec(hint);
  return m?.[1]?.trim();
}
