/**
 * `go-perf-lens install-helper [--group NAME] [--admin-group NAME]` and `uninstall-helper`, as
 * root: the installed helper and its sudoers drop-in (see README, "Security model"). With
 * `--host user@host` (as any user) the same on a remote host over ssh: the commands are shown and
 * confirmed first, and the one sudo prompt there names the host.
 */
import * as readline from 'node:readline/promises';
import { installHelper, uninstallHelper, type InstallOptions } from '../capture/installHelper';
import { checkDestination, remoteCommands, remoteInstall } from '../capture/remoteInstall';
import { UserError } from '../util/userError';

const USAGE =
  'usage: sudo go-perf-lens install-helper [--group NAME] [--admin-group NAME] | sudo go-perf-lens uninstall-helper\n' +
  '       go-perf-lens install-helper --host USER@HOST [--yes] [--group NAME] [--admin-group NAME] | go-perf-lens uninstall-helper --host USER@HOST [--yes]\n';

interface Parsed {
  opts: InstallOptions;
  host?: string;
  yes: boolean;
  help: boolean;
}

function parse(argv: string[], withGroups: boolean): Parsed {
  const p: Parsed = { opts: {}, yes: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = argv[i + 1];
    if (a === '--help' || a === '-h') p.help = true;
    else if (a === '--yes' || a === '-y') p.yes = true;
    else if (a === '--host' && v !== undefined) {
      p.host = checkDestination(v);
      i++;
    } else if (withGroups && a === '--group' && v !== undefined) {
      p.opts.group = v;
      i++;
    } else if (withGroups && a === '--admin-group' && v !== undefined) {
      p.opts.adminGroup = v;
      i++;
    } else throw new UserError(`unknown option "${a}"`, USAGE.trimEnd(), 'usage');
  }
  if (p.yes && !p.host) throw new UserError('--yes goes with --host', USAGE.trimEnd(), 'usage');
  return p;
}

async function onRemote(host: string, action: 'install' | 'uninstall', p: Parsed): Promise<number> {
  process.stderr.write(
    `go-perf-lens: ${action === 'install' ? 'installing the helper on' : 'removing the helper from'} ${host} runs:\n  ${remoteCommands(host, action, p.opts).join('\n  ')}\n`,
  );
  if (!p.yes) {
    if (!process.stdin.isTTY)
      throw new UserError(`not confirmed: ${action}-helper --host needs a terminal to confirm, or --yes`, undefined, 'usage');
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    const answer = await rl.question(`Run these on ${host}? sudo will ask for your password there. [y/N] `);
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) {
      process.stderr.write('go-perf-lens: nothing was run\n');
      return 1;
    }
  }
  await remoteInstall(host, action, p.opts);
  process.stdout.write(`${action === 'install' ? 'installed the helper on' : 'removed the helper from'} ${host}\n`);
  return 0;
}

export async function run(argv: string[]): Promise<number> {
  const p = parse(argv, true);
  if (p.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (p.host) return onRemote(p.host, 'install', p);
  process.stdout.write(await installHelper(p.opts));
  return 0;
}

export async function runUninstall(argv: string[]): Promise<number> {
  const p = parse(argv, false);
  if (p.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (p.host) return onRemote(p.host, 'uninstall', p);
  process.stdout.write(await uninstallHelper());
  return 0;
}
