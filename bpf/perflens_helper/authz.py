"""Who the caller is, and whether they may act on a process.

The installed helper runs as root for whoever sudo (SUDO_UID) or pkexec (PKEXEC_UID) says called
it. That user may profile, trace, list and read the executables of their own processes (every uid
of the process -- real, effective, saved, filesystem -- is theirs); other users' processes only
if they are root or a member of the admin group chosen at install time. Run without privilege,
the caller is simply the current user (and the kernel enforces the rest)."""

import grp
import os
import pwd

from .protocol import fail


class Caller(object):
    def __init__(self, uid, how, admin_group=None):
        self.uid = uid
        self.how = how  # 'root', 'sudo', 'pkexec' or 'user' (no privilege)
        self.admin_group = admin_group
        try:
            pw = pwd.getpwuid(uid)
            self.name, self.gid = pw.pw_name, pw.pw_gid
        except KeyError:
            self.name, self.gid = str(uid), None
        self.admin = uid == 0 or self._in_group(admin_group)

    def _in_group(self, name):
        if not name or self.gid is None:
            return False
        try:
            gid = grp.getgrnam(name).gr_gid
        except KeyError:
            return False
        return gid in os.getgrouplist(self.name, self.gid)

    def describe(self):
        return {'uid': self.uid, 'user': self.name, 'via': self.how, 'admin': self.admin}


_caller = [None]


def _uid_from(value):
    if value is None or not value.isdigit() or len(value) > 10:
        return None
    return int(value)


def identify(environ, installed, admin_group=None):
    """Sets the caller from the environment the helper was started with (read before it is
    cleared). Only the installed helper believes SUDO_UID / PKEXEC_UID: in the ephemeral mode the
    caller is root already."""
    if os.geteuid() != 0:
        c = Caller(os.getuid(), 'user')
    elif installed and _uid_from(environ.get('SUDO_UID')) is not None:
        c = Caller(_uid_from(environ.get('SUDO_UID')), 'sudo', admin_group)
    elif installed and _uid_from(environ.get('PKEXEC_UID')) is not None:
        c = Caller(_uid_from(environ.get('PKEXEC_UID')), 'pkexec', admin_group)
    else:
        c = Caller(os.getuid(), 'root', admin_group)
    _caller[0] = c
    return c


def caller():
    """The caller; root when identify() was not called (the helper run by hand as root)."""
    if _caller[0] is None:
        identify({}, False)
    return _caller[0]


def process_uids(pid):
    """The real, effective, saved and filesystem uids of a process, or None if it is gone."""
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('Uid:'):
                    return [int(x) for x in line.split()[1:5]]
    except (OSError, ValueError):
        pass
    return None


def owns(pid, c=None):
    c = c or caller()
    uids = process_uids(pid)
    return uids is not None and all(u == c.uid for u in uids)


def may_act_on(pid):
    c = caller()
    return c.admin or owns(pid, c)


def check_may_act_on(pid):
    """Fails with not-permitted unless the caller may act on PID."""
    c = caller()
    if c.admin or owns(pid, c):
        return
    uids = process_uids(pid)
    if uids is None:
        fail('pid-gone', 'no process with PID %d' % pid, 'check the PID (it may have exited)')
    try:
        owner = pwd.getpwuid(uids[0]).pw_name
    except KeyError:
        owner = 'uid %d' % uids[0]
    why = 'it belongs to %s' % owner if uids[0] != c.uid else 'it runs with another user\'s privileges (setuid)'
    hint = ('only members of the group "%s" may profile other users\' processes' % c.admin_group) if c.admin_group \
        else 'only root may profile other users\' processes'
    fail('not-permitted', 'you (%s) may not profile PID %d: %s' % (c.name, pid, why), hint)
