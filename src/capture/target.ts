/**
 * Where the helper runs: this machine, or a host reached with the system `ssh` (so the user's
 * ~/.ssh/config, agent and ProxyJump apply).
 */
import * as os from 'node:os';
import { UserError } from '../util/userError';

function localUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? 'you';
  }
}

export interface LocalTarget {
  kind: 'local';
  /** How to become root when we are not: 'auto' = sudo (-n, then a password), else pkexec. */
  elevation?: 'auto' | 'none' | 'sudo' | 'pkexec';
  /** Python on this machine; default /usr/bin/python3 (Debian's, which imports bcc), else python3 on PATH. */
  python?: string;
}

export interface SshTarget {
  kind: 'ssh';
  host: string;
  port?: number;
  user?: string;
  identityFile?: string;
  /** Extra ssh options, placed before ours so they win (ssh keeps the first value it sees). */
  extraArgs?: string[];
  /** Python on the host; default /usr/bin/python3 there, else python3 on its PATH. */
  python?: string;
  /** Seconds ssh waits for the connection (ConnectTimeout); default 10. */
  connectTimeoutSec?: number;
}

export type Target = LocalTarget | SshTarget;

/** For messages and password prompts: "you@thishost (this machine)" or "user@host:port". */
export function describeTarget(t: Target): string {
  if (t.kind === 'local') return `${localUser()}@${os.hostname()} (this machine)`;
  return `${t.user ? `${t.user}@` : ''}${t.host}${t.port ? `:${t.port}` : ''}`;
}

const SAFE_PATH = /^\/[A-Za-z0-9._/+-]+$/;

/** Rejects target fields that could be taken for options or shell syntax. */
export function validateTarget(t: Target): void {
  if (t.python !== undefined && !SAFE_PATH.test(t.python)) {
    throw new UserError(`the Python path "${t.python}" must be absolute and plain (letters, digits, . _ / + -)`, undefined, 'bad-target');
  }
  if (t.kind === 'ssh') {
    if (!/^[A-Za-z0-9._:%[\]-]+$/.test(t.host) || t.host.startsWith('-')) {
      throw new UserError(
        `"${t.host}" is not a valid host name`,
        'use a name from ~/.ssh/config, a DNS name or an IP address',
        'bad-target',
      );
    }
    if (t.user !== undefined && (!/^[A-Za-z0-9._-]+$/.test(t.user) || t.user.startsWith('-'))) {
      throw new UserError(`"${t.user}" is not a valid user name`, undefined, 'bad-target');
    }
    if (t.port !== undefined && (!Number.isInteger(t.port) || t.port < 1 || t.port > 65535)) {
      throw new UserError(`ssh port ${t.port} is not between 1 and 65535`, undefined, 'bad-target');
    }
  }
}
