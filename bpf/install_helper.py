#!/usr/bin/env python3
"""Installs or removes the go-perf-lens helper (run as root by `go-perf-lens install-helper` /
`uninstall-helper`; standard library only, so a host needs Python 3, not Node).

install --source BPF_DIR [--group NAME] [--admin-group NAME]
  copies helper.py, the perflens_helper package and the BPF sources to INSTALL_DIR (root-owned,
  writable by root only), writes config.json (the groups), creates the group if missing, and puts
  the sudoers drop-in in place only after `visudo -c` accepted it. Members of the group may then run
  exactly `/usr/bin/python3 -I INSTALL_DIR/helper.py serve` as root, without a password.
uninstall
  removes the drop-in, INSTALL_DIR and the group (if install created it)."""

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

INSTALL_DIR = '/usr/local/lib/go-perf-lens/helper'
SUDOERS_FILE = '/etc/sudoers.d/go-perf-lens'
PYTHON = '/usr/bin/python3'
DEFAULT_GROUP = 'go-perf-lens'
NAME_RE = re.compile(r'^[a-z_][a-z0-9_-]{0,31}$')
SOURCES = re.compile(r'^[A-Za-z0-9_]+\.(py|c|h|json)$')


def die(msg):
    sys.stderr.write('go-perf-lens: %s\n' % msg)
    sys.exit(1)


def run(argv):
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd='/',
                       env={'PATH': '/usr/sbin:/usr/bin:/sbin:/bin', 'LANG': 'C'})
    return p.returncode, (p.stdout + p.stderr).decode('utf-8', 'replace').strip()


def root_owned_problem(path):
    p = path
    while True:
        st = os.lstat(p)
        if st.st_uid != 0:
            return '%s is not owned by root' % p
        if not stat.S_ISLNK(st.st_mode) and st.st_mode & 0o022:
            return '%s is writable by others than root' % p
        if p == '/':
            break
        p = os.path.dirname(p)
    real = os.path.realpath(path)
    return None if real == path else root_owned_problem(real)


def group_exists(name):
    import grp
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def sudoers_rule(group):
    return ('# go-perf-lens: members of %s may run the installed helper as root (fixed code, JSON requests only)\n'
            '%%%s ALL=(root) NOPASSWD: %s -I %s/helper.py serve\n') % (group, group, PYTHON, INSTALL_DIR)


def copy_tree(source, dest):
    os.makedirs(dest, 0o755)
    for sub in ('', 'perflens_helper'):
        src = os.path.join(source, sub)
        dst = os.path.join(dest, sub)
        if sub:
            os.mkdir(dst, 0o755)
        for name in sorted(os.listdir(src)):
            if not SOURCES.match(name) or name in ('install_helper.py', 'envelope_loader.py'):
                continue
            if not sub and name.endswith('.py') and name != 'helper.py':
                continue
            with open(os.path.join(src, name), 'rb') as f:
                data = f.read()
            with open(os.path.join(dst, name), 'wb') as f:
                f.write(data)
            os.chmod(os.path.join(dst, name), 0o644)


def install(source, group, admin_group):
    if not os.path.isfile(os.path.join(source, 'helper.py')) or not os.path.isdir(os.path.join(source, 'perflens_helper')):
        die('%s has no helper.py and perflens_helper/' % source)
    for g in (group, admin_group):
        if g is not None and not NAME_RE.match(g):
            die('"%s" is not a valid group name' % g)
    if not os.path.exists(PYTHON):
        die('%s is missing: install python3' % PYTHON)
    why = root_owned_problem(PYTHON)
    if why:
        die('%s cannot be trusted to run as root: %s' % (PYTHON, why))
    os.umask(0o022)
    parent = os.path.dirname(INSTALL_DIR)
    os.makedirs(parent, 0o755, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.helper-', dir=parent)
    os.chmod(tmp, 0o755)
    new = os.path.join(tmp, 'helper')
    created_group = False
    if not group_exists(group):
        rc, out = run(['/usr/sbin/groupadd', '--system', group])
        if rc != 0:
            shutil.rmtree(tmp, True)
            die('groupadd %s failed: %s' % (group, out))
        created_group = True
    elif os.path.exists(os.path.join(INSTALL_DIR, 'config.json')):
        try:
            with open(os.path.join(INSTALL_DIR, 'config.json')) as f:
                created_group = json.load(f).get('createdGroup') is True
        except (OSError, ValueError):
            pass
    copy_tree(source, new)
    with open(os.path.join(new, 'config.json'), 'w') as f:
        json.dump({'group': group, 'adminGroup': admin_group, 'createdGroup': created_group}, f)
    os.chmod(os.path.join(new, 'config.json'), 0o644)
    for d, _dirs, files in os.walk(new):
        os.chown(d, 0, 0)
        for name in files:
            os.chown(os.path.join(d, name), 0, 0)
    old = os.path.join(tmp, 'old')
    if os.path.exists(INSTALL_DIR):
        os.rename(INSTALL_DIR, old)
    os.rename(new, INSTALL_DIR)
    shutil.rmtree(tmp, True)
    # The drop-in: a name with a dot is ignored by sudo's includedir until it is renamed.
    staged = SUDOERS_FILE + '.new'
    with open(staged, 'w') as f:
        f.write(sudoers_rule(group))
    os.chmod(staged, 0o440)
    os.chown(staged, 0, 0)
    rc, out = run(['/usr/sbin/visudo', '-c', '-f', staged])
    if rc != 0:
        os.unlink(staged)
        die('visudo rejected the sudoers drop-in (nothing changed in sudoers): %s' % out)
    os.rename(staged, SUDOERS_FILE)
    print('installed the helper in %s (root-owned)' % INSTALL_DIR)
    print('%s: members of group "%s" may run "%s -I %s/helper.py serve" as root without a password' % (SUDOERS_FILE, group, PYTHON, INSTALL_DIR))
    if admin_group:
        print('members of group "%s" may profile other users\' processes' % admin_group)
    print('add a user with: sudo usermod -aG %s USER (they log in again for it to take effect)' % group)


def uninstall():
    created_group, group = False, None
    try:
        with open(os.path.join(INSTALL_DIR, 'config.json')) as f:
            cfg = json.load(f)
            created_group, group = cfg.get('createdGroup') is True, cfg.get('group')
    except (OSError, ValueError):
        pass
    for p in (SUDOERS_FILE, SUDOERS_FILE + '.new'):
        if os.path.exists(p):
            os.unlink(p)
            print('removed %s' % p)
    if os.path.exists(INSTALL_DIR):
        shutil.rmtree(INSTALL_DIR)
        print('removed %s' % INSTALL_DIR)
    if created_group and group and NAME_RE.match(group) and group_exists(group):
        rc, out = run(['/usr/sbin/groupdel', group])
        print('removed group %s' % group if rc == 0 else 'could not remove group %s: %s' % (group, out))


def main(argv):
    if os.geteuid() != 0:
        die('installing the helper needs root: run it with sudo')
    if argv[:1] == ['uninstall']:
        return uninstall()
    if argv[:1] != ['install']:
        die('usage: install_helper.py install --source DIR [--group NAME] [--admin-group NAME] | uninstall')
    opts = {'--source': None, '--group': DEFAULT_GROUP, '--admin-group': None}
    rest = argv[1:]
    while rest:
        if rest[0] not in opts or len(rest) < 2:
            die('unknown or incomplete option %s' % rest[0])
        opts[rest[0]] = rest[1]
        rest = rest[2:]
    if not opts['--source']:
        die('--source is required')
    install(os.path.realpath(opts['--source']), opts['--group'], opts['--admin-group'])


if __name__ == '__main__':
    main(sys.argv[1:])
