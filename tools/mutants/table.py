"""Per-file table over all recorded runs: each mutant's latest outcome.
usage: python3 table.py EQUIV_FILE RERUN_DIRS(comma-separated or -) RUNDIR... (runs oldest first)
Mutants are named as at the final commit (the names of every run exist
there unchanged). The reruns turn missed into killed-since; names in
EQUIV_FILE are equivalent. Files outside the decision core are left out."""
import json, sys, collections
equiv = set(l.strip() for l in open(sys.argv[1]) if l.strip())
reruns = [] if sys.argv[2] == '-' else sys.argv[2].split(',')
runs = sys.argv[3:]
def outcomes(d):
    for x in json.load(open(d + '/mutants.out/outcomes.json'))['outcomes']:
        if isinstance(x['scenario'], dict):
            yield x['scenario']['Mutant']['name'], x['summary']
latest = {}
for d in runs:
    for n, s in outcomes(d):
        latest[n] = s
rerun = {}
for d in reruns:
    for n, s in outcomes(d):
        rerun[n] = s
rows = collections.defaultdict(collections.Counter)
still = []
for n, s in latest.items():
    r = rows[n.split(':')[0]]
    r['mutants'] += 1
    r[{'CaughtMutant': 'caught', 'MissedMutant': 'missed', 'Unviable': 'unviable', 'Timeout': 'timeouts'}[s]] += 1
    if s == 'MissedMutant':
        if rerun.get(n) in ('CaughtMutant', 'Timeout'): r['killed'] += 1
        elif n in equiv: r['equivalent'] += 1
        else: r['open'] += 1; still.append((n, rerun.get(n)))
core = ('src/condition/', 'src/evaluate/', 'src/scopes.rs', 'src/pattern/', 'src/index/', 'src/policy.rs', 'src/policy/', 'src/grant/', 'src/duration.rs', 'src/value.rs', 'src/path.rs')
def pct(a, b): return f"{100*a/b:.1f} %" if b else "—"
def line(f, r):
    viable = r['caught'] + r['missed'] + r['timeouts']
    run = r['caught'] + r['timeouts']
    now = run + r['killed']
    return f"| {f} | {r['mutants']} | {r['caught']} | {r['missed']} | {r['unviable']} | {r['timeouts']} | {pct(run, viable)} | {r['killed']} | {r['equivalent']} | {r['open']} | {pct(now, viable)} |"
print("| file | mutants | caught | missed | unviable | timeouts | detected at its run | missed, killed since (rerun) | missed, equivalent | missed, open | detected now |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
tot = collections.Counter()
for f in sorted(rows):
    if f.startswith(core):
        print(line(f"`{f}`", rows[f])); tot.update(rows[f])
print(line("**decision core**", tot))
for n, s in still: print('OPEN', n, s, file=sys.stderr)
