"""bpf/install_helper.py (`go-perf-lens install-helper`): the ownership and mode checks it makes,
the sudoers drop-in as sudo's own tools read it, and install / reinstall / uninstall into a
private directory instead of the real one [root, visudo, cvtsudoers, groupadd]."""

import contextlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import unittest
import uuid

import install_helper
from support import TestUser, bpf_dir, needs_root, temp_dir


def root_dir(test):
    """A directory whose every parent is root-owned and not writable by others (/run)."""
    d = tempfile.mkdtemp(prefix='gpl-pytest-', dir='/run')
    test.addCleanup(shutil.rmtree, d, True)
    return d


def quiet():
    """What install() and uninstall() print is for the person running them, not for the test."""
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    stack.enter_context(contextlib.redirect_stderr(io.StringIO()))
    return stack


def sudoers_json(path):
    """The drop-in as sudo parses it (cvtsudoers' JSON export)."""
    out = subprocess.check_output(['/usr/bin/cvtsudoers', '-f', 'json', path], stderr=subprocess.PIPE)
    return json.loads(out)


class InstallHelperTest(unittest.TestCase):
    def test_root_owned_problem_walks_every_parent_and_follows_symlinks_needs_root(self):
        needs_root(self)
        self.assertIsNone(install_helper.root_owned_problem('/usr/bin/python3'))  # a symlink to python3.N
        d = root_dir(self)
        f = os.path.join(d, 'python3')
        shutil.copyfile('/bin/true', f)
        os.chmod(f, 0o755)
        self.assertIsNone(install_helper.root_owned_problem(f))
        os.chmod(f, 0o775)
        self.assertEqual(install_helper.root_owned_problem(f), '%s is writable by others than root' % f)
        os.chmod(f, 0o755)
        os.chmod(d, 0o777)
        self.assertEqual(install_helper.root_owned_problem(f), '%s is writable by others than root' % d)
        os.chmod(d, 0o755)
        alice = TestUser(self)
        os.chown(f, alice.uid, 0)
        self.assertEqual(install_helper.root_owned_problem(f), '%s is not owned by root' % f)
        os.chown(f, 0, 0)
        # A root-owned link in a good folder to a file in /tmp (writable by all).
        tmp_target = os.path.join(temp_dir(self), 'python3')
        shutil.copyfile('/bin/true', tmp_target)
        link = os.path.join(d, 'link')
        os.symlink(tmp_target, link)
        self.assertIn('is writable by others than root', install_helper.root_owned_problem(link))

    def test_the_sudoers_rule_passes_visudo_and_allows_exactly_the_helper_without_a_password_needs_visudo(self):
        d = temp_dir(self)
        p = os.path.join(d, 'drop-in')
        with open(p, 'w') as f:
            f.write(install_helper.sudoers_rule('gpl-users'))
        r = subprocess.run(['/usr/sbin/visudo', '-c', '-f', p], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.assertEqual(r.returncode, 0, r.stdout)
        specs = sudoers_json(p)['User_Specs']
        self.assertEqual(len(specs), 1)
        self.assertEqual(specs[0]['User_List'], [{'usergroup': 'gpl-users'}])
        cmnds = specs[0]['Cmnd_Specs']
        self.assertEqual(len(cmnds), 1)
        self.assertEqual(cmnds[0]['runasusers'], [{'username': 'root'}])
        self.assertIn({'authenticate': False}, cmnds[0]['Options'])
        self.assertEqual(cmnds[0]['Commands'], [{'command': '/usr/bin/python3 -I %s/helper.py serve' % install_helper.INSTALL_DIR}])

    def test_group_names_that_could_change_the_rule_are_refused(self):
        for bad in ('ALL', 'a b', 'x,ALL', 'wheel ALL=(ALL) ALL', '%admin', '-g', 'a' * 40, 'ünï'):
            self.assertIsNone(install_helper.NAME_RE.match(bad), bad)
        self.assertTrue(install_helper.NAME_RE.match('go-perf-lens'))


class InstallTest(unittest.TestCase):
    """install() and uninstall() with INSTALL_DIR and SUDOERS_FILE pointed into a private folder."""

    def setUp(self):
        needs_root(self)
        self.root = root_dir(self)
        for name, value in (('INSTALL_DIR', os.path.join(self.root, 'lib', 'helper')),
                            ('SUDOERS_FILE', os.path.join(self.root, 'sudoers.d', 'go-perf-lens'))):
            self.addCleanup(setattr, install_helper, name, getattr(install_helper, name))
            setattr(install_helper, name, value)
        os.mkdir(os.path.join(self.root, 'sudoers.d'), 0o755)
        # The source, as a user's checkout might leave it: odd modes, files that must not be copied.
        self.source = os.path.join(temp_dir(self), 'bpf')
        shutil.copytree(bpf_dir(), self.source, ignore=shutil.ignore_patterns('__pycache__'))
        for junk in ('evil.sh', 'perflens_helper/notes.txt', 'perflens_helper/x.pyc', 'setup.py'):
            with open(os.path.join(self.source, junk), 'w') as f:
                f.write('junk\n')
        os.chmod(os.path.join(self.source, 'perflens_helper', 'serve.py'), 0o666)
        os.chmod(os.path.join(self.source, 'go_func_cycles.c'), 0o600)
        self.group = 'gplpyi%s' % uuid.uuid4().hex[:10]
        self.addCleanup(subprocess.call, ['/usr/sbin/groupdel', self.group], stderr=subprocess.DEVNULL)

    def install(self, group=None, admin_group=None):
        with quiet():
            install_helper.install(self.source, group or self.group, admin_group)

    def test_install_puts_root_owned_read_only_sources_and_a_checked_drop_in_and_uninstall_removes_all_needs_root(self):
        self.install(admin_group='adm')
        top = install_helper.INSTALL_DIR
        want = {'helper.py'} | set(n for n in os.listdir(bpf_dir()) if n.endswith(('.c', '.h')))
        self.assertEqual(set(os.listdir(top)) - {'perflens_helper', 'config.json'}, want)
        pkg = set(n for n in os.listdir(os.path.join(bpf_dir(), 'perflens_helper')) if n.endswith(('.py', '.json')))
        self.assertEqual(set(os.listdir(os.path.join(top, 'perflens_helper'))), pkg)
        for d, dirs, files in os.walk(top):
            st = os.lstat(d)
            self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (0, 0, 0o755), d)
            for n in files:
                st = os.lstat(os.path.join(d, n))
                self.assertTrue(stat.S_ISREG(st.st_mode))
                self.assertEqual((st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)), (0, 0, 0o644), n)
        with open(os.path.join(self.source, 'perflens_helper', 'serve.py'), 'rb') as a, open(os.path.join(top, 'perflens_helper', 'serve.py'), 'rb') as b:
            self.assertEqual(a.read(), b.read())
        with open(os.path.join(top, 'config.json')) as f:
            self.assertEqual(json.load(f), {'group': self.group, 'adminGroup': 'adm', 'createdGroup': True})
        self.assertTrue(subprocess.call(['/usr/bin/getent', 'group', self.group], stdout=subprocess.DEVNULL) == 0)
        drop_in = install_helper.SUDOERS_FILE
        st = os.stat(drop_in)
        self.assertEqual((st.st_uid, stat.S_IMODE(st.st_mode)), (0, 0o440))
        self.assertEqual(subprocess.call(['/usr/sbin/visudo', '-c', '-f', drop_in], stdout=subprocess.DEVNULL), 0)
        self.assertEqual(sudoers_json(drop_in)['User_Specs'][0]['User_List'], [{'usergroup': self.group}])
        self.assertEqual(os.listdir(os.path.dirname(drop_in)), ['go-perf-lens'])
        # The installed helper runs, from `/`, isolated, and names itself.
        r = subprocess.run(['/usr/bin/python3', '-I', os.path.join(top, 'helper.py'), 'nope'], cwd='/',
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={}, timeout=60)
        self.assertEqual(json.loads(r.stdout.splitlines()[-1])['code'], 'unknown-subcommand', r.stderr)
        # Reinstalling replaces the copy (no file of the old one stays) and keeps the group.
        with open(os.path.join(top, 'perflens_helper', 'stale.py'), 'w') as f:
            f.write('x = 1\n')
        self.install()
        self.assertNotIn('stale.py', os.listdir(os.path.join(top, 'perflens_helper')))
        self.assertEqual(sorted(os.listdir(os.path.dirname(top))), ['helper'])  # no staging folder left
        with open(os.path.join(top, 'config.json')) as f:
            self.assertEqual(json.load(f)['createdGroup'], True)
        with quiet():
            install_helper.uninstall()
        self.assertFalse(os.path.exists(top))
        self.assertFalse(os.path.exists(drop_in))
        self.assertNotEqual(subprocess.call(['/usr/bin/getent', 'group', self.group], stdout=subprocess.DEVNULL), 0)

    def test_uninstall_keeps_a_group_it_did_not_create_needs_root(self):
        subprocess.check_call(['/usr/sbin/groupadd', self.group])
        self.install()
        with open(os.path.join(install_helper.INSTALL_DIR, 'config.json')) as f:
            self.assertEqual(json.load(f)['createdGroup'], False)
        with quiet():
            install_helper.uninstall()
        self.assertEqual(subprocess.call(['/usr/bin/getent', 'group', self.group], stdout=subprocess.DEVNULL), 0)

    def test_a_drop_in_visudo_rejects_is_never_put_in_place_needs_root(self):
        self.addCleanup(setattr, install_helper, 'sudoers_rule', install_helper.sudoers_rule)
        install_helper.sudoers_rule = lambda group: '%%%s ALL=(root) NOPASSWD /usr/bin/true\n' % group  # no colon
        with self.assertRaises(SystemExit), quiet():
            self.install()
        self.assertEqual(os.listdir(os.path.dirname(install_helper.SUDOERS_FILE)), [])

    def test_bad_group_names_and_a_source_without_the_helper_are_refused_before_anything_changes_needs_root(self):
        for group, source in (('x ALL', self.source), (self.group, temp_dir(self))):
            self.source = source
            with self.assertRaises(SystemExit), quiet():
                self.install(group=group)
        self.assertFalse(os.path.exists(os.path.dirname(install_helper.INSTALL_DIR)))
        self.assertEqual(os.listdir(os.path.dirname(install_helper.SUDOERS_FILE)), [])
        self.assertNotEqual(subprocess.call(['/usr/bin/getent', 'group', self.group], stdout=subprocess.DEVNULL), 0)

    def test_a_user_is_told_it_needs_root_needs_root(self):
        alice = TestUser(self)
        r = subprocess.run([sys.executable, '-I', os.path.join(bpf_dir(), 'install_helper.py'), 'install', '--source', '/'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd='/', user=alice.uid, group=alice.gid,
                           extra_groups=[], timeout=60)
        self.assertEqual(r.returncode, 1)
        self.assertIn(b'installing the helper needs root: run it with sudo', r.stderr)
