"""A shell command for a cargo-mutants run of exactly the mutants named in
NAMES_FILE (one per line), in place in WORKTREE, results in OUT_DIR.

usage: python3 rerun.py NAMES_FILE OUT_DIR WORKTREE > rerun.sh"""
import sys, shlex
names = [l.strip() for l in open(sys.argv[1]) if l.strip()]
def esc(s):
    return ''.join('\\' + c if c in '\\.+*?()|[]{}^$#&-~' else c for c in s)
args = []
for n in names:
    args += ['-F', '^' + esc(n) + '$']
print('cd ' + shlex.quote(sys.argv[3]))
print('MINTGATE_DIFF_CASES=300 MINTGATE_WIDE_CASES=30 exec nice -n 19 cargo mutants --in-place --baseline skip --timeout 240 -o ' + shlex.quote(sys.argv[2]) + ' ' + ' '.join(shlex.quote(a) for a in args))
