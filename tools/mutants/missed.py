"""Every mutant the given cargo-mutants runs missed, by name, minus those
named in EXCLUDE (the equivalent ones), one per line.

usage: python3 missed.py EXCLUDE OUT_DIR... > names.txt
(OUT_DIR is a run's `-o` directory, holding `mutants.out/outcomes.json`.)"""
import json
import sys

exclude = {l.strip() for l in open(sys.argv[1]) if l.strip()}
names = []
for out in sys.argv[2:]:
    for x in json.load(open(out + "/mutants.out/outcomes.json"))["outcomes"]:
        sc = x["scenario"]
        if isinstance(sc, dict) and x["summary"] == "MissedMutant":
            n = sc["Mutant"]["name"]
            if n not in exclude and n not in names:
                names.append(n)
print("\n".join(names))
