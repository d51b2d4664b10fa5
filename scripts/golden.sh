#!/bin/sh
# golden.sh BIN OUTDIR (python3 needed; for refactors: run with the binaries
# before and after, then cmp the two folders): the JSON of run, compare, schedule, collective,
# trace stats and reproduce skrull on fixed seeds, wall-clock fields removed.
B=$1; O=$2; mkdir -p $O
strip() { python3 -c '
import json,sys
def f(x):
    if isinstance(x,dict): return {k:f(v) for k,v in x.items() if k not in ("wall_s","sched_s","build_s","elapsed_s","schedule_s") and not k.startswith("wall")}
    if isinstance(x,list): return [f(v) for v in x]
    return x
print(json.dumps(f(json.load(sys.stdin)),sort_keys=True))'; }
$B run --seed 3 --steps 2 --format json | strip > $O/run.json
$B compare --seed 3 --steps 1 --format json 2>/dev/null | strip > $O/compare.json
$B schedule --policy skrull --seed 3 --steps 1 --format json | strip > $O/schedule.json
$B collective --op all_reduce --gpus 16 --sizes 1M:64M --format json | strip > $O/collective.json
$B trace stats --dataset chatqa2 --samples 20000 --seed 5 --format json | strip > $O/tracestats.json
$B reproduce skrull --steps 1 --format json 2>/dev/null | strip > $O/reproduce.json
