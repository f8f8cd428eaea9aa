#!/usr/bin/python3
"""Fault and crash matrices: one full apply on a fake host, a profile touching
every module, broken at every file syscall it makes.

    matrix.py fault|crash|all [--budget N|all] [--seed S] [--jobs J]
                              [--only REGEX] [--errnos E,E] [--list] [--keep DIR]

fault: every read, write, open, rename, fsync, mkdir and directory read of the
  agent (hostprep's own process; the kernel model's emulation excluded) fails
  once with each of EIO EBUSY EACCES EROFS ENOSPC EINVAL ENODEV — strace
  `-e inject=SYSCALL:error=E:when=N`, counted on the call's file (-P) when it
  works on a descriptor — and every sysfs write fails through the kernel
  model (HOSTPREP_KMODEL_FAULT).  The error must not vanish: exit 1, 4 or 6
  with an error line naming the errno's text, or any exit with a warning
  naming it (warnings never change the exit code: DESIGN.md; every read of
  the host that fails is warned about with its path).  Then: no temp
  file; the records (/var/lib/hostprep) consistent with the host; the next
  apply converges, the one after exits 0 and writes nothing (no file's inode,
  size or mtime moves, no sysfs write), and the host is the one a clean apply
  makes.
crash: SIGKILL before every write, rename, unlink, mkdir and fork of the agent
  and after every sysfs write (the model kills the run), and at exit.  After
  the kill: no change without its record; then the same convergence checks.

Environment: HOSTPREP, KMODEL (and SANITIZER_PRELOAD), as for the scenario
tests; FAULT_BUDGET, CRASH_BUDGET (runs per matrix, or `all`; default 500
and all), MATRIX_SEED (another sample), MATRIX_JOBS (parallel runs, default 2).
The matrix size and the phase times are printed.  --only runs the points
whose label matches REGEX (with --budget all: every errno).  Ends with
"N passed, N failed".
"""
import argparse
import concurrent.futures
import difflib
import errno as errnomod
import fcntl
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
FAKEHOST = os.path.join(TESTS, 'fakehost')
ERRNOS = ['EIO', 'EBUSY', 'EACCES', 'EROFS', 'ENOSPC', 'EINVAL', 'ENODEV']
# A profile touching every module (test-root.sh's tripwire runs it too).
with open(os.path.join(HERE, 'everything.ini')) as _f:
    PROFILE = _f.read()
PF = '0000:03:00.0'
VFIO_DEVICES = ['0000:65:00.0', '0000:65:00.1']
TEMP = re.compile(r'\.hostprep-[A-Za-z0-9]{6}$')

# Calls of the agent a fault is injected into, by class.
FAULT_CLASSES = {
    'read': ['read', 'getdents64'],
    'write': ['write', 'pwrite64'],
    'open': ['openat', 'openat2'],
    'rename': ['renameat', 'renameat2', 'rename'],
    'fsync': ['fsync', 'fdatasync'],
    'mkdir': ['mkdirat', 'mkdir'],
}
# Calls before which the agent is killed: whatever changes the host or starts a process.
CRASH_CALLS = ['write', 'pwrite64', 'renameat', 'renameat2', 'rename', 'unlinkat', 'unlink', 'mkdirat',
               'mkdir', 'clone', 'clone3', 'fork', 'vfork']

# Defects the matrices found that are not fixed yet.  Never a silent pass: a
# run that fails this way is printed as "known" with the reason; with
# --budget all an entry no run reproduces any more is printed for removal.
# Fields: kind (fault|crash), cls (regex on the call's class), target (regex
# on its file), where (regex on hostprep's function making it, or None),
# errnos (None: any), outcome (regex), why.
#
# Empty: the fifteen entries the first full run found were one pattern, a read
# of the host that failed taken for "absent", "empty" or "0" without a word.
# Where that opened a safety rail (vfio, in-use checks) or misled a failure
# (cpu, sriov, hugepages validation) the caller now fails closed or names the
# error; everywhere else the host-root layer keeps every failed read and the
# run warns about each with its path and errno (hr_unread_next,
# engine_say_unread), as it does for a tool's output cut short and for a
# document that cannot be written to standard output.
KNOWN = []


def log(msg):
    print(msg, flush=True)


class Env:
    def __init__(self, work):
        self.work = work
        self.binary = os.environ['HOSTPREP']
        self.kmodel = os.environ['KMODEL']
        san = os.environ.get('SANITIZER_PRELOAD', '')
        self.preload = (san + ':' if san else '') + self.kmodel
        self.profile = os.path.join(work, 'p.ini')
        with open(self.profile, 'w') as f:
            f.write(PROFILE)
        os.chmod(self.profile, 0o644)

    def hostprep(self, root, args, strace=None, extra=None, timeout=120):
        """rc, stdout, stderr of one run; rc None when it hung (the run is killed)."""
        cmd = [self.binary, '-r', root, '-p', self.profile] + args
        env = dict(os.environ)
        env['HOSTPREP_KMODEL_ROOT'] = root
        # LeakSanitizer cannot run under ptrace.
        env['ASAN_OPTIONS'] = (env.get('ASAN_OPTIONS', '') + ':detect_leaks=0').lstrip(':')
        env.update(extra or {})
        if strace:
            cmd = ['strace', '-qq'] + strace + ['-E', 'LD_PRELOAD=' + self.preload] + cmd
        else:
            env['LD_PRELOAD'] = self.preload
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate()
            return None, out, err
        return p.returncode, out, err


def make_template(env):
    root = os.path.join(env.work, 'template')
    shutil.rmtree(root, ignore_errors=True)
    sh = lambda *a: subprocess.run(a, check=True, stdout=subprocess.DEVNULL)
    sh(os.path.join(FAKEHOST, 'mkhost.sh'), root)
    sh(os.path.join(FAKEHOST, 'add-pci.sh'), root)
    sh(os.path.join(FAKEHOST, 'add-boot.sh'), root, 'kernel-cmdline', '--entry')
    sh(os.path.join(FAKEHOST, 'add-vdpa.sh'), root, '--dev', 'vdpa0:vdpasim_net')
    open(os.path.join(root, 'run', 'hostprep.lock'), 'w').close()
    return root


def copy_host(env, template, name):
    root = os.path.join(env.work, name)
    shutil.rmtree(root, ignore_errors=True)
    subprocess.run(['cp', '-a', template, root], check=True)
    return root


def walk(root):
    """(relative path, full path) of every entry below the root but the model's files and the lock."""
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel == '.kmodel':
            dirs[:] = []
            continue
        for n in files + [x for x in dirs if os.path.islink(os.path.join(d, x))]:
            r = os.path.normpath(os.path.join(rel, n))
            if r != 'run/hostprep.lock':
                yield r, os.path.join(d, n)


def host_state(root):
    """The host as a comparable value: every file's contents and every link's target."""
    state = {}
    for r, p in walk(root):
        if os.path.islink(p):
            state[r] = '-> ' + os.readlink(p)
        elif os.path.isfile(p):
            with open(p, 'rb') as f:
                state[r] = f.read()
            # A record is a set of lines: their order is the history of the runs.
            if r.startswith('var/lib/hostprep/'):
                state[r] = b'\n'.join(sorted(state[r].split(b'\n')))
    return state


def stat_state(root):
    """What any write would change: inode, size and mtime of every file."""
    out = {}
    for r, p in walk(root):
        st = os.lstat(p)
        out[r] = (st.st_ino, st.st_size, st.st_mtime_ns)
    return out


def diff_states(a, b, limit=6):
    out = []
    for k in sorted(set(a) | set(b)):
        if a.get(k) != b.get(k):
            out.append('%s: %r -> %r' % (k, a[k][:60] if k in a else None, b[k][:60] if k in b else None))
    return out[:limit] + (['... %d more' % (len(out) - limit)] if len(out) > limit else [])


def temp_files(root):
    return sorted(r for r, _ in walk(root) if TEMP.search(r))


def read(root, rel, default=''):
    try:
        with open(os.path.join(root, rel)) as f:
            return f.read().strip()
    except OSError:
        return default


def driver_of(root, addr):
    p = os.path.join(root, 'sys/bus/pci/devices', addr, 'driver')
    return os.path.basename(os.readlink(p)) if os.path.islink(p) else ''


def records_consistent(root, template):
    """Every change on the host that only a record lets a later run undo has its record."""
    problems = []
    # "ADDR N", or "ADDR N was M" while a change is under way: N or M is what the PF holds.
    sriov = [l.split() for l in read(root, 'var/lib/hostprep/sriov').split('\n') if l.strip()]
    numvfs = read(root, 'sys/bus/pci/devices/%s/sriov_numvfs' % PF, '0')
    if numvfs != read(template, 'sys/bus/pci/devices/%s/sriov_numvfs' % PF, '0') and \
            not any(w[0] == PF and numvfs in (w[1:2] + w[3:4]) for w in sriov):
        problems.append('%s has %s VFs, /var/lib/hostprep/sriov does not record it' % (PF, numvfs))
    vfio = [l.split(' ')[0] for l in read(root, 'var/lib/hostprep/vfio').split('\n') if l]
    for addr in VFIO_DEVICES:
        moved = driver_of(root, addr) == 'vfio-pci' and driver_of(template, addr) != 'vfio-pci'
        override = read(root, 'sys/bus/pci/devices/%s/driver_override' % addr, '(null)')
        if (moved or override == 'vfio-pci') and addr not in vfio:
            problems.append('%s is on vfio-pci (override %s), /var/lib/hostprep/vfio does not record it'
                            % (addr, override))
    before = set(read(template, 'etc/kernel/cmdline').split())
    owned = set(read(root, 'var/lib/hostprep/kernel-args').split())
    for tok in read(root, 'etc/kernel/cmdline').split():
        if tok not in before and tok not in owned:
            problems.append('/etc/kernel/cmdline has %s, /var/lib/hostprep/kernel-args does not record it' % tok)
    return problems


def wait_unlocked(root, seconds=60):
    """A writer child of a killed run may still hold the lock: wait, bounded."""
    path = os.path.join(root, 'run', 'hostprep.lock')
    deadline = time.monotonic() + seconds
    with open(path, 'a') as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(f, fcntl.LOCK_UN)
                return True
            except BlockingIOError:
                if time.monotonic() > deadline:
                    return False
                time.sleep(0.05)


# Reference ------------------------------------------------------------------

STACK_FRAME = re.compile(r'^ > (\S+)\((\S*?)\+0x[0-9a-f]+\)')
CALL = re.compile(r'^(\w+)\((.*)\)\s+=\s+(-?\d+|\?)(?:<([^>]*)>)?(.*)$')
# Calls whose target is a descriptor: strace -P PATH counts them on that file alone.
FD_CALLS = ('read', 'getdents64', 'write', 'pwrite64', 'fsync', 'fdatasync')


def call_target(line):
    """(name, absolute target or None) of one strace -y line, or None."""
    m = CALL.match(line)
    if not m:
        return None
    name, args = m.group(1), m.group(2)
    fd = re.search(r'^-?\w*<([^>]*)>', args)
    target = fd.group(1) if fd else None
    s = re.search(r'"([^"]*)"', args)
    if name in ('openat', 'openat2', 'mkdirat', 'unlinkat') and s:
        target = s.group(1) if s.group(1).startswith('/') else os.path.join(target or '', s.group(1))
    elif name in ('renameat', 'renameat2') and s:
        # The file renamed into place, not the temp name.
        new = re.search(r',\s*-?\w*<([^>]*)>,\s*"([^"]*)"', args)
        target = os.path.join(new.group(1), new.group(2)) if new else target
    elif name in ('rename', 'mkdir', 'unlink') and s:
        target = s.group(1)
    return name, target


def relative(target, root):
    """A target as a host path under the root ("/sys/..."), temp names made alike."""
    t = target or ''
    if t.startswith(root + '/'):
        t = os.path.normpath(t[len(root):])
    elif t == root:
        t = '/'
    t = re.sub(r'^(pipe|socket|anon_inode):.*', r'\1', t)
    return TEMP.sub('.hostprep-XXXXXX', t)


def parse_reference(path, root, hostprep):
    """Calls of the main process in order: name, when (index among the calls
    of its name), desc (target), and for a call on a file descriptor of a
    plain file pwhen (index among the calls of its name on that file)."""
    calls, counts, cur = [], {}, None
    with open(path, encoding='latin-1') as f:
        for line in f:
            line = line.rstrip('\n')
            if line.startswith(' > '):
                m = STACK_FRAME.match(line)
                if cur is not None and m:
                    cur['frames'].append((os.path.basename(m.group(1)), m.group(2)))
                continue
            nt = call_target(line)
            if not nt:
                cur = None
                continue
            name, target = nt
            counts[name] = counts.get(name, 0) + 1
            cur = {'name': name, 'when': counts[name], 'desc': relative(target, root), 'frames': [],
                   'inroot': (target or '').startswith(root + '/')}
            if name in FD_CALLS and target and target.startswith('/') and not TEMP.search(target):
                key = (name, target)
                counts[key] = counts.get(key, 0) + 1
                cur['pwhen'] = counts[key]
            calls.append(cur)
    exe = os.path.basename(hostprep)
    for c in calls:
        fr = c['frames']
        libs = [lib for lib, _ in fr]
        t = c['desc']
        c['where'] = next((fn for lib, fn in fr if lib == exe and fn), '?')
        if exe not in libs:
            c['agent'] = False      # the loader, or libc before and after main
        elif not any(lib.startswith('libkmodel') for lib in libs):
            c['agent'] = True
        else:
            # Through the kernel model's interposers, the agent's own calls are
            # one libc stub under them (write, syscall(openat2)); everything
            # else under the model is the model's emulation of the kernel.
            # Sysfs writes are the model's fault points (sysfs-write).
            model = [i for i, lib in enumerate(libs) if lib.startswith('libkmodel')]
            c['agent'] = c['name'] in ('write', 'openat', 'openat2') and model == [1] and \
                fr[1][1] in ('write', 'open', 'open64', 'syscall') and not t.startswith('/.kmodel/') and \
                not (c['name'] == 'write' and t.startswith('/sys/'))
    return calls


def strace_at(p, root):
    """strace options and `when` that single out the point's call in a run on root."""
    if 'pwhen' in p:
        return ['-P', root + p['desc'] if p['inroot'] else p['desc']], p['pwhen']
    return [], p['when']


def hit(trace, root, marker):
    """The targets of a run's calls up to the one its trace shows as injected
    (or the last one, killed); that one's target last."""
    seq = []
    with open(trace, encoding='latin-1') as f:
        for line in f:
            nt = call_target(line.rstrip('\n'))
            if nt:
                seq.append(relative(nt[1], root))
                if marker is not None and marker in line:
                    break
    return seq


def realign(ref, run, when):
    """Where the reference's call #when is in a run whose calls (up to the one
    hit) were run: the offset of the matching stretch around it."""
    blocks = difflib.SequenceMatcher(None, ref, run, autojunk=False).get_matching_blocks()
    offset = 0
    for a, b, n in blocks:
        if n and a <= when - 1:
            offset = b - a
    return when + offset


def describe_target(t, profile):
    if t == profile:
        return 'the profile'
    if t in ('pipe', 'socket'):
        return 'a ' + t
    return t or '-'


# Points ---------------------------------------------------------------------

def fault_points(calls, sysfs_writes):
    points, seen = [], set()
    cls_of = {n: c for c, ns in FAULT_CLASSES.items() for n in ns}
    for c in calls:
        # The same call of the same function on the same file counts once
        # (a file read in chunks).
        key = (c['name'], c['where'], c['desc'])
        if c['agent'] and c['name'] in cls_of and key not in seen:
            seen.add(key)
            points.append(dict(c, **{'class': cls_of[c['name']]}))
    for i, path in enumerate(sysfs_writes, 1):
        points.append({'name': 'sysfs-write', 'when': i, 'desc': path, 'class': 'sysfs-write',
                       'where': 'kernel model'})
    return points


def crash_points(calls, sysfs_writes):
    points = []
    for c in calls:
        if c['agent'] and c['name'] in CRASH_CALLS:
            fork = c['name'] in ('clone', 'clone3', 'fork', 'vfork')
            points.append(dict(c, **{'class': 'fork' if fork else c['name']}))
    for i, path in enumerate(sysfs_writes, 1):
        points.append({'name': 'sysfs-write', 'when': i, 'desc': path, 'class': 'sysfs-write',
                       'where': 'kernel model'})
    # After the last change: at the exit.
    points.append({'name': 'exit_group', 'when': 1, 'desc': '', 'class': 'exit', 'where': 'exit'})
    return points


def label(kind, p, err, profile):
    target = describe_target(p['desc'], profile)
    if kind == 'fault':
        return '%s %s #%d (%s) %s -> %s' % (p['class'], p['name'], p['when'], p['where'], target, err)
    if p['name'] == 'sysfs-write':
        return 'kill after sysfs write #%d %s' % (p['when'], target)
    return 'kill before %s #%d (%s) %s' % (p['name'], p['when'], p['where'], target)


def pick(points, budget, seed, variants):
    """`budget` (point, variant) pairs, shared evenly by the classes of call,
    points evenly spaced within a class, variants (errnos) in turn."""
    pairs = [(p, v) for p in points for v in range(variants)]
    if budget is None or budget >= len(pairs):
        return pairs
    classes = {}
    for p in points:
        classes.setdefault(p['class'], []).append(p)
    order = sorted(classes, key=lambda c: len(classes[c]))
    chosen, left, turn = [], budget, seed
    for i, cls in enumerate(order):
        ps = classes[cls]
        n = min(len(ps) * variants, max(1, left // (len(order) - i)))
        seen = set()
        for j in range(n):
            k = (j * len(ps) * variants // n + seed) % (len(ps) * variants)
            pt, v = k // variants, (turn + j) % variants
            while (pt, v) in seen:
                v = (v + 1) % variants
            seen.add((pt, v))
            chosen.append((ps[pt], v))
        turn += n
        left -= n
    return chosen


def summary(points):
    counts = {}
    for p in points:
        counts[p['class']] = counts.get(p['class'], 0) + 1
    return ', '.join('%s %d' % kv for kv in sorted(counts.items()))


# Runs -----------------------------------------------------------------------

def converge(env, root, conv):
    """The next apply converges; the one after exits 0 and writes nothing; the host is the converged one."""
    if not wait_unlocked(root):
        return 'the lock stayed held for 60 s'
    rc, out, err = env.hostprep(root, ['-j', 'apply'])
    try:
        doc = json.loads(out)
    except ValueError:
        doc = {}
    if rc not in (0, 2) or doc.get('failed'):
        fails = [a.get('message', '') for a in doc.get('actions', []) if a.get('state') == 'failed']
        return 'next apply: exit %s %s' % (rc, (fails[:2] or [err.strip()[-300:]]))
    tmp = temp_files(root)
    if tmp:
        return 'temp files left after the next apply: %s' % tmp
    log_path = os.path.join(root, '.kmodel', 'log')
    if os.path.exists(log_path):
        os.unlink(log_path)
    before = stat_state(root)
    rc, out, err = env.hostprep(root, ['apply'])
    if rc != 0:
        return 'the apply after: exit %s (%s)' % (rc, err.strip()[-300:])
    if os.path.exists(log_path) and read(root, '.kmodel/log'):
        return 'the apply after wrote: %s' % read(root, '.kmodel/log').split('\n')[:3]
    after = stat_state(root)
    moved = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    if moved:
        return 'the apply after changed files: %s' % moved[:4]
    d = diff_states(conv, host_state(root))
    if d:
        return 'not the converged host: %s' % '; '.join(d)
    return None


# A point counted over every call of its name can drift when a wait polls
# once more or a tool's output comes in one read more: the run is checked to
# have hit the point and tried again, at most this many times in all.
TRIES = 5
# A point missed TRIES times (timing moved a poll's reads under load) tested
# nothing: listed as unreached, not passed; more than UNREACHED_MAX of the
# runs unreached means the matrix itself is stale, and fails.
UNREACHED = 'unreached: '
UNREACHED_MAX = 0.05


def break_once(env, template, p, slot, args, fault=None):
    """Copy the template and run args with the point broken (fault=ERRNO
    name: the call fails; None: SIGKILL).  (root, rc, stderr, hit target)."""
    trace = os.path.join(env.work, 'trace%d' % slot)
    opts, when = strace_at(p, os.path.join(env.work, 'run%d' % slot))
    for _ in range(TRIES):
        root = copy_host(env, template, 'run%d' % slot)
        if p['name'] == 'sysfs-write':
            var = ('HOSTPREP_KMODEL_FAULT', '%d %d' % (p['when'], getattr(errnomod, fault))) if fault else \
                ('HOSTPREP_KMODEL_KILL', str(p['when']))
            rc, out, se = env.hostprep(root, args, extra=dict([var]))
            written = read(root, '.kmodel/log').split('\n')
            got = written[p['when'] - 1].split(' ')[0] if len(written) >= p['when'] else None
        else:
            what = 'error=' + fault if fault else 'signal=SIGKILL'
            rc, out, se = env.hostprep(root, args, strace=opts + [
                '-y', '-o', trace, '-e', 'trace=' + p['name'],
                '-e', 'inject=%s:%s:when=%d' % (p['name'], what, when)])
            seq = hit(trace, root, '(INJECTED)' if fault else None) if p['name'] != 'exit_group' else ['']
            got = seq[-1] if seq else None
            if got != p['desc'] and not opts and seq:
                # Counted over every call of its name: find it again in this run.
                when = realign(env.sequences[p['name']], seq[:-1], p['when'])
        if got == p['desc'] or rc is None:
            break
    return root, rc, se, got


def run_fault(env, template, conv, p, err, slot):
    root, rc, se, got = break_once(env, template, p, slot, ['-j', 'apply'], fault=err)
    if rc is None:
        return 'hung (killed after 120 s)'
    if got != p['desc']:
        return UNREACHED + 'the fault hit %s, not the point, %d times' % (got, TRIES)
    text = os.strerror(getattr(errnomod, err))
    errors = [l for l in se.split('\n') if l.startswith('hostprep: error: ')]
    warned = [l for l in se.split('\n') if l.startswith('hostprep: warning: ') and text in l]
    outcome = None
    if rc in (0, 2) and not warned:
        outcome = 'exit %d, no warning names "%s": the error was absorbed' % (rc, text)
    elif rc in (1, 4, 6) and not warned and not any(text in l for l in errors):
        outcome = 'exit %d, but no error names "%s": %s' % (rc, text, (errors or [''])[-1][:200])
    elif rc not in (0, 1, 2, 4, 6):
        outcome = 'exit %d (crashed?): %s' % (rc, se.strip()[-200:])
    if outcome is None:
        tmp = temp_files(root)
        bad = records_consistent(root, template)
        if tmp:
            outcome = 'temp files left: %s' % tmp
        elif bad:
            outcome = 'records: %s' % '; '.join(bad)
    c = converge(env, root, conv)
    if c:
        outcome = (outcome + ' || ' if outcome else '') + c
    return outcome


def run_crash(env, template, conv, p, slot):
    root, rc, se, got = break_once(env, template, p, slot, ['apply'])
    if rc is None:
        return 'hung (killed after 120 s)'
    if rc not in (-9, 137):
        return 'the kill point was not reached (exit %d): the matrix is stale' % rc
    if got != p['desc']:
        return UNREACHED + 'killed at %s, not at the point, %d times' % (got, TRIES)
    bad = records_consistent(root, template)
    if bad:
        return 'record lost: %s' % '; '.join(bad)
    return converge(env, root, conv)


def known(kind, p, err, outcome):
    for i, k in enumerate(KNOWN):
        if k['kind'] == kind and re.fullmatch(k['cls'], p['class']) and re.search(k['target'], p['desc'] or '') \
                and (not k.get('where') or re.fullmatch(k['where'], p['where'])) \
                and (k['errnos'] is None or err in k['errnos']) and re.search(k['outcome'], outcome):
            return i
    return None


def run_matrix(kind, env, template, conv, points, budget, seed, jobs, only):
    variants = len(ERRNOS) if kind == 'fault' else 1
    if kind == 'fault':
        log('fault matrix: %d calls x %d errnos = %d runs (%s)' % (
            len(points), len(ERRNOS), len(points) * len(ERRNOS), summary(points)))
    else:
        log('crash matrix: %d kill points (%s)' % (len(points), summary(points)))
    if only:
        points = [p for p in points if any(re.search(only, label(kind, p, e, env.profile))
                                           for e in (ERRNOS if kind == 'fault' else [None]))]
    runs = pick(points, budget, seed, variants)
    if only and kind == 'fault':
        runs = [(p, v) for p, v in runs if re.search(only, label(kind, p, ERRNOS[v], env.profile))]
    log('running %d of them (%s%s, %d jobs)' % (
        len(runs), 'all' if budget is None else 'budget %d, seed %d' % (budget, seed),
        ', only ' + only if only else '', jobs))
    t = time.monotonic()
    slots = list(range(jobs))

    def one(run):
        p, v = run
        err = ERRNOS[v] if kind == 'fault' else None
        slot = slots.pop()
        t1 = time.monotonic()
        try:
            outcome = run_fault(env, template, conv, p, err, slot) if kind == 'fault' else \
                run_crash(env, template, conv, p, slot)
        finally:
            slots.append(slot)
        return p, err, outcome, time.monotonic() - t1

    results, hits = [], {}
    with concurrent.futures.ThreadPoolExecutor(jobs) as ex:
        for p, err, outcome, secs in ex.map(one, runs):
            what = label(kind, p, err, env.profile)
            if outcome is None:
                state, msg = 'ok', ''
            elif outcome.startswith(UNREACHED):
                state, msg = 'unreached', ': ' + outcome[len(UNREACHED):]
            else:
                k = known(kind, p, err, outcome)
                state = 'FAIL' if k is None else 'known'
                msg = ': ' + outcome + ('' if k is None else ' [K%d]' % (k + 1))
                if k is not None:
                    hits[k] = hits.get(k, 0) + 1
            results.append(state)
            log('  %-5s %s%s (%.1f s)' % (state, what, msg, secs))
    for k in sorted(hits):
        log('  known defect K%d, %d run%s: %s' % (k + 1, hits[k], '' if hits[k] == 1 else 's', KNOWN[k]['why']))
    if budget is None and not only:
        for i, k in enumerate(KNOWN):
            if k['kind'] == kind and i not in hits:
                log('  known defect K%d no run reproduces any more (remove it from KNOWN): %s' % (i + 1, k['why']))
    ok, kn, failed, unreached = (results.count(s) for s in ('ok', 'known', 'FAIL', 'unreached'))
    log('%s matrix: %d runs, %d ok, %d known defects (KNOWN in tests/fault/matrix.py), %d unreached, %d failed; '
        '%.0f s' % (kind, len(results), ok, kn, unreached, failed, time.monotonic() - t))
    if unreached > max(2, UNREACHED_MAX * len(results)):
        log('  FAIL  %d of %d points unreached: the matrix is stale (points drift from the reference run)' % (
            unreached, len(results)))
        failed += 1
    return ok + kn, failed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('kind', choices=['fault', 'crash', 'all'])
    ap.add_argument('--budget', default=None, help='runs per matrix, or all (default FAULT_BUDGET/CRASH_BUDGET)')
    ap.add_argument('--seed', type=int, default=int(os.environ.get('MATRIX_SEED') or 0))
    ap.add_argument('--jobs', type=int, default=int(os.environ.get('MATRIX_JOBS') or 2))
    ap.add_argument('--only', default=None, help='regex on the run labels')
    ap.add_argument('--errnos', default=None, help='comma-separated subset of ' + ','.join(ERRNOS))
    ap.add_argument('--list', action='store_true', help='print the points and exit')
    ap.add_argument('--keep', default=None, help='work directory to keep')
    a = ap.parse_args()
    kinds = ['fault', 'crash'] if a.kind == 'all' else [a.kind]
    if a.errnos:
        ERRNOS[:] = [e for e in a.errnos.split(',') if e]

    work = a.keep or tempfile.mkdtemp(prefix='hostprep-matrix.')
    os.makedirs(work, exist_ok=True)
    env = Env(work)
    t0 = time.monotonic()
    template = make_template(env)
    # Reference: a clean apply traced with stacks (which call is whose); then the converged host.
    ref = copy_host(env, template, 'reference')
    names = sorted({n for ns in FAULT_CLASSES.values() for n in ns} | set(CRASH_CALLS))
    rc, out, se = env.hostprep(ref, ['apply'], timeout=900, strace=[
        '-k', '-y', '-s', '256', '-e', 'trace=' + ','.join(names), '-o', os.path.join(work, 'ref.log')])
    rc2, _, se2 = env.hostprep(ref, ['apply']) if rc == 2 else (rc, '', se)
    if rc != 2 or rc2 != 0:
        log('reference: apply exits %s (expected 2), the next %s (expected 0)\n%s' % (rc, rc2, se2))
        print('0 passed, 1 failed')
        return 1
    # The second apply wrote no sysfs attribute: the log holds the first apply's writes.
    sysfs_writes = [l.split(' ')[0] for l in read(ref, '.kmodel/log').split('\n') if l]
    conv = host_state(ref)
    calls = parse_reference(os.path.join(work, 'ref.log'), ref, env.binary)
    env.sequences = {}
    for c in calls:
        env.sequences.setdefault(c['name'], []).append(c['desc'])
    log('reference apply traced and converged: %.0f s' % (time.monotonic() - t0))

    passed = failed = 0
    for kind in kinds:
        points = fault_points(calls, sysfs_writes) if kind == 'fault' else crash_points(calls, sysfs_writes)
        if a.list:
            log('%s points:' % kind)
            for p in points:
                log('  %-12s %-10s #%-4d %-30s %s' % (p['class'], p['name'], p['when'], p['where'],
                                                    describe_target(p['desc'], env.profile)))
            continue
        # By default the write side of the fault matrix nearly whole (its classes are small) and a
        # sample of the reads and opens; the whole crash matrix.
        budget = a.budget or os.environ.get('FAULT_BUDGET' if kind == 'fault' else 'CRASH_BUDGET') or \
            ('500' if kind == 'fault' else 'all')
        p, f = run_matrix(kind, env, template, conv, points, None if budget == 'all' else int(budget), a.seed,
                          max(1, a.jobs), a.only)
        passed += p
        failed += f
    log('matrix: %.0f s in all' % (time.monotonic() - t0))
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if not a.list:
        print('%d passed, %d failed' % (passed, failed))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
