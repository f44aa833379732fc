"""Who may act on which process, against real processes of real unprivileged accounts created at
test time [root, useradd], and what is decided without root (the caller is then just the user)."""

import os
import subprocess
import unittest

from perflens_helper import authz
from perflens_helper.protocol import HelperError
from support import TestGroup, TestUser, needs_root, newest_gofmt, run_as_user, start_process


def refusal(pid):
    try:
        authz.check_may_act_on(pid)
    except HelperError as e:
        return e
    return None


class AuthzTest(unittest.TestCase):
    def setUp(self):
        self.addCleanup(authz._caller.__setitem__, 0, None)

    def test_a_sudo_caller_acts_on_their_own_process_only_needs_root(self):
        needs_root(self)
        alice, bob = TestUser(self), TestUser(self)
        mine = start_process(self, [newest_gofmt()], user=alice).pid
        bobs = start_process(self, [newest_gofmt()], user=bob).pid
        roots = start_process(self, [newest_gofmt()]).pid
        authz._caller[0] = authz.Caller(alice.uid, 'sudo')
        self.assertEqual(authz.caller().describe(), {'uid': alice.uid, 'user': alice.name, 'via': 'sudo', 'admin': False})
        self.assertIsNone(refusal(mine))
        self.assertTrue(authz.may_act_on(mine))
        for pid, owner in ((bobs, bob.name), (roots, 'root')):
            self.assertFalse(authz.may_act_on(pid))
            e = refusal(pid)
            self.assertEqual(e.code, 'not-permitted', pid)
            self.assertEqual(e.message, 'you (%s) may not profile PID %d: it belongs to %s' % (alice.name, pid, owner))
            self.assertEqual(e.hint, "only root may profile other users' processes")

    def test_a_process_running_with_another_users_privileges_is_not_the_callers_needs_root(self):
        needs_root(self)
        alice = TestUser(self)
        # Real uid alice, effective and saved uid root: what a setuid-root program started by
        # alice looks like. It is not hers to trace, although its real uid is.
        p = subprocess.Popen([newest_gofmt()], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             preexec_fn=lambda: os.setresuid(alice.uid, 0, 0))
        self.addCleanup(p.wait)
        self.addCleanup(p.kill)
        self.assertEqual(authz.process_uids(p.pid)[:3], [alice.uid, 0, 0])
        authz._caller[0] = authz.Caller(alice.uid, 'sudo')
        e = refusal(p.pid)
        self.assertEqual(e.code, 'not-permitted')
        self.assertIn("it runs with another user's privileges (setuid)", e.message)

    def test_members_of_the_admin_group_act_on_anyones_process_and_others_are_told_the_group_needs_root(self):
        needs_root(self)
        admin, user, bob = TestUser(self), TestUser(self), TestUser(self)
        group = TestGroup(self, members=[admin])
        bobs = start_process(self, [newest_gofmt()], user=bob).pid
        authz._caller[0] = authz.Caller(admin.uid, 'pkexec', group.name)
        self.assertTrue(authz.caller().admin)
        self.assertIsNone(refusal(bobs))
        authz._caller[0] = authz.Caller(user.uid, 'sudo', group.name)
        self.assertFalse(authz.caller().admin)
        e = refusal(bobs)
        self.assertEqual(e.code, 'not-permitted')
        self.assertEqual(e.hint, 'only members of the group "%s" may profile other users\' processes' % group.name)
        # A group named in the config that does not exist makes nobody an admin.
        self.assertFalse(authz.Caller(admin.uid, 'sudo', group.name + 'x').admin)
        # Nor does a primary group of the same name as an admin group that is not it.
        self.assertFalse(authz.Caller(bob.uid, 'sudo', admin.name).admin)

    def test_a_pid_that_is_gone_is_pid_gone_not_a_refusal_needs_root(self):
        needs_root(self)
        alice = TestUser(self)
        p = subprocess.Popen(['/bin/true'])
        p.wait()
        authz._caller[0] = authz.Caller(alice.uid, 'sudo')
        self.assertEqual(refusal(p.pid).code, 'pid-gone')
        self.assertFalse(authz.owns(p.pid))

    def test_identify_believes_only_well_formed_caller_ids_needs_root(self):
        needs_root(self)
        for env, how, uid in (({'SUDO_UID': '12345678901'}, 'root', 0), ({'SUDO_UID': '-1'}, 'root', 0),
                              ({'SUDO_UID': ''}, 'root', 0), ({'SUDO_UID': '1e3'}, 'root', 0),
                              ({'SUDO_UID': 'x', 'PKEXEC_UID': '4321'}, 'pkexec', 4321),
                              ({'SUDO_UID': '1234', 'PKEXEC_UID': '4321'}, 'sudo', 1234)):
            c = authz.identify(env, installed=True)
            self.assertEqual((c.how, c.uid), (how, uid), env)
        # An uid with no account is nobody's admin, and owns no one's process but its own.
        c = authz.identify({'SUDO_UID': '3999999'}, installed=True, admin_group='root')
        self.assertEqual((c.name, c.admin), ('3999999', False))

    def test_without_root_the_caller_is_the_user_whatever_sudo_uid_says_needs_root(self):
        needs_root(self)  # to create the account the check runs as
        alice = TestUser(self)
        roots = start_process(self, [newest_gofmt()]).pid
        mine = start_process(self, [newest_gofmt()], user=alice).pid
        out = run_as_user(self, alice, (
            'import json\n'
            'from perflens_helper import authz\n'
            'from perflens_helper.protocol import HelperError\n'
            'c = authz.identify({"SUDO_UID": "0", "PKEXEC_UID": "0"}, installed=True, admin_group="root")\n'
            'out = {"caller": c.describe(), "mine": authz.may_act_on(%d)}\n'
            'try:\n    authz.check_may_act_on(%d)\n    out["roots"] = "allowed"\n'
            'except HelperError as e:\n    out["roots"] = e.code\n'
            'print(json.dumps(out))\n') % (mine, roots))
        self.assertEqual(out['caller'], {'uid': alice.uid, 'user': alice.name, 'via': 'user', 'admin': False})
        self.assertIs(out['mine'], True)
        self.assertEqual(out['roots'], 'not-permitted')
