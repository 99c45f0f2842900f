#!/bin/sh
# Re-measure every number of docs/REPRODUCTIONS.md with gradviz itself, one reproduction at a
# time, and time each (run it alone: the counts of sequences and the losses do not depend on the
# machine's load, the times do). Writes reproduce-NAME.json and docs-ready figures in ./repro/.
# 3 minutes alone on a 2-core machine (2026-12-07); about 45 minutes beside other work. scripts/table7_ablation.sh has the Table 7
# ablations (which factor matters).
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
mkdir -p repro
for job in "table7 3" "pascanu2013 3" "le2015 2" "bengio1994 1"; do
  set -- $job
  /usr/bin/env time -p $PY -m gradviz reproduce "$1" --seeds "$2" --out "repro/reproduce-$1.json" --force \
    --plot "repro/reproduce-$1.png"
done
