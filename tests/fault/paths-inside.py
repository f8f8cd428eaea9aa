#!/usr/bin/python3
"""Every path a traced hostprep run touched lies inside the root.

    paths-inside.py ROOT STRACE-LOG [ALLOWED-PREFIX]...

The log comes from `strace -f -y -s 4096 -e trace=%file,clone,clone3,fork,vfork`.
For each file syscall of a process that is not chrooted (a chrooted process
and its children are confined by the kernel itself), every path argument —
resolved against its directory descriptor, which -y annotates — and every
descriptor an open returns must lie under ROOT, be an ancestor of ROOT (the
agent resolves it once with realpath), or start with an ALLOWED-PREFIX (the
program's own files: shared libraries, pci.ids, the profile).  Prints each
offending line and exits 1 when there is one; prints the number of checked
calls otherwise.
"""
import os
import re
import sys

# Syscall -> positions of (dirfd, path) pairs; dirfd None means AT_FDCWD.
PATH_ARGS = {
    'open': [(None, 0)], 'creat': [(None, 0)], 'openat': [(0, 1)], 'openat2': [(0, 1)],
    'stat': [(None, 0)], 'lstat': [(None, 0)], 'newfstatat': [(0, 1)], 'statx': [(0, 1)],
    'access': [(None, 0)], 'faccessat': [(0, 1)], 'faccessat2': [(0, 1)],
    'readlink': [(None, 0)], 'readlinkat': [(0, 1)],
    'mkdir': [(None, 0)], 'mkdirat': [(0, 1)], 'rmdir': [(None, 0)],
    'unlink': [(None, 0)], 'unlinkat': [(0, 1)],
    'rename': [(None, 0), (None, 1)], 'renameat': [(0, 1), (2, 3)], 'renameat2': [(0, 1), (2, 3)],
    'link': [(None, 0), (None, 1)], 'linkat': [(0, 1), (2, 3)],
    'symlink': [(None, 1)], 'symlinkat': [(1, 2)],
    'chdir': [(None, 0)], 'chroot': [(None, 0)], 'execve': [(None, 0)], 'execveat': [(0, 1)],
    'chmod': [(None, 0)], 'fchmodat': [(0, 1)], 'chown': [(None, 0)], 'lchown': [(None, 0)],
    'fchownat': [(0, 1)], 'truncate': [(None, 0)], 'utimensat': [(0, 1)], 'utime': [(None, 0)],
    'statfs': [(None, 0)], 'mknod': [(None, 0)], 'mknodat': [(0, 1)],
    'getxattr': [(None, 0)], 'lgetxattr': [(None, 0)], 'listxattr': [(None, 0)],
    'llistxattr': [(None, 0)], 'inotify_add_watch': [(None, 1)],
}
SPAWN = {'clone', 'clone3', 'fork', 'vfork'}
LINE = re.compile(r'^(\d+)\s+(\w+)\((.*)\)\s+=\s+(.*)$')


def split_args(s):
    """Top-level comma split of strace's argument text."""
    out, depth, cur, i, quote = [], 0, [], 0, False
    while i < len(s):
        c = s[i]
        if quote:
            cur.append(c)
            if c == '\\' and i + 1 < len(s):
                cur.append(s[i + 1])
                i += 1
            elif c == '"':
                quote = False
        elif c == '"':
            quote = True
            cur.append(c)
        elif c in '([{':
            depth += 1
            cur.append(c)
        elif c in ')]}':
            depth -= 1
            cur.append(c)
        elif c == ',' and depth == 0:
            out.append(''.join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if cur:
        out.append(''.join(cur).strip())
    return out


def unquote(a):
    m = re.match(r'^"(.*)"(\.\.\.)?$', a)
    if not m:
        return None
    return bytes(m.group(1), 'latin-1').decode('unicode_escape')


def fd_path(a):
    """The path -y annotates on a descriptor: 3</x> or AT_FDCWD</cwd>."""
    m = re.search(r'<(/[^>]*)>$', a)
    return m.group(1) if m else None


def main():
    root = os.path.normpath(sys.argv[1])
    log = sys.argv[2]
    allowed = [os.path.normpath(p) for p in sys.argv[3:]]
    ancestors = set()
    p = root
    while p != '/':
        p = os.path.dirname(p)
        ancestors.add(p)

    def ok(path):
        path = os.path.normpath(path)
        if path == root or path.startswith(root + '/') or path in ancestors:
            return True
        return any(path == a or path.startswith(a.rstrip('/') + '/') for a in allowed)

    confined, pending, bad, checked = set(), {}, [], 0
    with open(log, encoding='latin-1') as f:
        for raw in f:
            raw = raw.rstrip('\n')
            m = re.match(r'^(\d+)\s+(.*)$', raw)
            if not m:
                continue
            pid, rest = m.group(1), m.group(2)
            if rest.endswith('<unfinished ...>'):
                pending[pid] = rest[:-len('<unfinished ...>')].rstrip()
                continue
            r = re.match(r'^<\.\.\. (\w+) resumed>\s*(.*)$', rest)
            if r:
                head = pending.pop(pid, r.group(1) + '(')
                rest = head + (', ' if not head.endswith('(') and not r.group(2).startswith(')') else '') + r.group(2)
            lm = LINE.match(pid + ' ' + rest)
            if not lm:
                continue
            name, args, ret = lm.group(2), split_args(lm.group(3)), lm.group(4)
            if name in SPAWN:
                child = re.match(r'^(\d+)', ret)
                if child and pid in confined:
                    confined.add(child.group(1))
                continue
            if name == 'chroot' and ret.startswith('0'):
                confined.add(pid)
                continue
            if pid in confined:
                continue
            if name not in PATH_ARGS:
                bad.append('unknown file syscall: ' + raw)
                continue
            checked += 1
            for dpos, ppos in PATH_ARGS[name]:
                if ppos >= len(args):
                    continue
                path = unquote(args[ppos])
                # "" with AT_EMPTY_PATH acts on the descriptor, opened (and checked) before or inherited.
                if not path:
                    continue
                if not path.startswith('/'):
                    base = fd_path(args[dpos]) if dpos is not None else None
                    if base is None:
                        base = os.getcwd()
                    path = os.path.join(base, path)
                if not ok(path):
                    bad.append(raw)
            got = fd_path(ret.split(' ')[0])
            if got and got.startswith('/proc/' + pid + '/'):
                got = '/proc/self/' + got[len('/proc/' + pid + '/'):]   # the process's own files
            if got and not ok(got):
                bad.append(raw)
    for b in bad:
        print('outside the root: ' + b)
    if not bad:
        print('%d file calls, all inside %s or allowed' % (checked, root))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
