/**
 * An error meant for a person: what happened, and what to do about it. Front ends (CLI,
 * extension) show `message` and `hint` as they are and never a stack trace; anything that is
 * not a UserError (or FormatError) is a bug and is reported as one.
 */
export class UserError extends Error {
  constructor(
    message: string,
    /** What the user can do next, e.g. "install it with: sudo apt-get install linux-perf". */
    readonly hint?: string,
    /** A stable machine-readable code, e.g. "perf-missing", "sudo-refused", "pid-gone". */
    readonly code = 'error',
  ) {
    super(message);
    this.name = 'UserError';
  }
}
