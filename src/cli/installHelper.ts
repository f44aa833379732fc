/**
 * `go-perf-lens install-helper [--group NAME] [--admin-group NAME]` and `uninstall-helper`, as
 * root: the installed helper and its sudoers drop-in (see README, "Security model").
 */
import { installHelper, uninstallHelper } from '../capture/installHelper';
import { UserError } from '../util/userError';

const USAGE = 'usage: sudo go-perf-lens install-helper [--group NAME] [--admin-group NAME] | sudo go-perf-lens uninstall-helper\n';

export async function run(argv: string[]): Promise<number> {
  const opts: { group?: string; adminGroup?: string } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') { process.stdout.write(USAGE); return 0; }
    const v = argv[i + 1];
    if ((a === '--group' || a === '--admin-group') && v !== undefined) {
      if (a === '--group') opts.group = v; else opts.adminGroup = v;
      i++;
    } else throw new UserError(`unknown option "${a}"`, USAGE.trimEnd(), 'usage');
  }
  process.stdout.write(await installHelper(opts));
  return 0;
}

export async function runUninstall(argv: string[]): Promise<number> {
  if (argv.length) {
    if (argv[0] === '--help' || argv[0] === '-h') { process.stdout.write(USAGE); return 0; }
    throw new UserError(`unknown option "${argv[0]}"`, USAGE.trimEnd(), 'usage');
  }
  process.stdout.write(await uninstallHelper());
  return 0;
}
