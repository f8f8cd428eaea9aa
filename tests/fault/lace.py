#!/usr/bin/python3
"""Lace a fake root with links out of it.

    lace.py ROOT OUTSIDE [DIR]... < PATHS

Each DIR (created empty when missing), then each path read (relative to ROOT, one a line) that is a
regular file or a leaf directory (no other path read lies below it), and not
a symlink, is copied (with its mtime) to OUTSIDE/PATH and replaced in the
root by a link to that copy: absolute and ../../.. in turn.  Paths under one
already laced are skipped.  Prints how many were laced.
"""
import os
import shutil
import sys


def main():
    root, outside = (os.path.normpath(a) for a in sys.argv[1:3])
    read = sorted({os.path.normpath(l.strip().strip('/')) for l in sys.stdin if l.strip().strip('/')})
    leaves = [r for i, r in enumerate(read) if not (i + 1 < len(read) and read[i + 1].startswith(r + '/'))]
    laced, n = [], 0
    for rel in sys.argv[3:] + leaves:
        if rel.startswith('.kmodel') or rel == '.':
            continue
        if any(rel == d or rel.startswith(d + '/') for d in laced):
            continue
        src, dst = os.path.join(root, rel), os.path.join(outside, rel)
        if rel in sys.argv[3:] and not os.path.lexists(src):
            os.makedirs(src)    # a directory hostprep would create: laced empty
        if os.path.islink(src) or not (os.path.isfile(src) or os.path.isdir(src)):
            continue
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        if os.path.isdir(src):
            shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)
            shutil.rmtree(src)
        else:
            shutil.copy2(src, dst)
            os.unlink(src)
        target = dst if n % 2 == 0 else os.path.relpath(dst, os.path.dirname(src))
        os.symlink(target, src)
        laced.append(rel)
        n += 1
    print(n)


if __name__ == '__main__':
    main()
