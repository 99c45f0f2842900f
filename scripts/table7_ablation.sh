#!/bin/sh
# Re-measure docs/REPRODUCTIONS.md's Table 7 numbers, one run at a time (run it alone: the
# sequence counts do not depend on load, the times do). About 30 CPU-minutes on one core.
#
# 1. gradviz itself: the hochreiter1997 preset over seeds 0-2 (every sequence exactly T long).
# 2. Which factor matters: scripts/table7_search.py (lengths drawn from [T, T + T/10] as the
#    paper's; Adam 0.01, clipping 1, seed 0 unless said), one factor changed at a time.
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
$PY -m gradviz reproduce table7 --seeds 3 --out reproduce-table7.json --force
CELL="--hidden 4 --no-forget --lr 0.01"
BIAS="--input-bias=-3,-3,-6,-6"
for args in \
    "--batch 16 $CELL --init 0.1 $BIAS" \
    "--batch 16 $CELL --init 0.1 $BIAS --seed 2" \
    "--batch 16 $CELL $BIAS" \
    "--batch 16 $CELL" \
    "--batch 64 $CELL --init 0.1 $BIAS" \
    "--batch 16 --hidden 16 --forget-bias 5 --lr 0.01"; do
  $PY scripts/table7_search.py --max 148000 $args
done
# The paper's own optimiser (one sequence per update, SGD at learning rate 0.5, no clipping):
# about 12 ms of CPU per sequence here, some 30 CPU-minutes per seed to 148,000 sequences.
# $PY scripts/table7_search.py --max 148000 --batch 1 --optimizer sgd --lr 0.5 --clip 0 $CELL --init 0.1 $BIAS
