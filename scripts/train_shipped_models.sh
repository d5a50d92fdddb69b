#!/usr/bin/env bash
# Train the weights shipped in trained_models/: MI and PFN for 3-, 4- and 6-D categorisation, and ERMI (3-D).
# Checkpoints go to trained_models/checkpoints/ (not in git), so rerunning with a larger num_episodes continues
# them bit-for-bit on this machine. MI and PFN start with the repeated-stimuli warm-up (ermi.episodes.PriorSampler)
# on short 64-trial tasks, where in-context learning appears after about 700 steps, then continue on 160-trial tasks.
# Without the warm-up the 3-D linear prior stayed at chance for 14,000 steps.
# Usage: [PRIORS="mi pfn"] [MI_STEPS=..] [PFN_STEPS=..] bash scripts/train_shipped_models.sh [python] [num_episodes] [dims...]
# The shipped weights (README "Shipped weights"): `... .venv/bin/python 3000 3 4`, then
# `PFN_STEPS=4800 ... 3000 3`, `PFN_STEPS=14000 ... 3000 4` and `PRIORS=mi MI_STEPS=5000 ... 3000 6`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
N=${2:-3000}
DIMS=${*:3}
DIMS=${DIMS:-3 4 6}
COMMON="--batch_size ${BATCH:-16} --save-every 100 --print-every 50 --resume --save-dir trained_models/checkpoints"
SYNTHETIC="--synthetic --lr 1e-3 --repeat-stimuli 8 --repeat-until 1500 $COMMON"
for D in $DIMS; do
    for PRIOR in ${PRIORS:-mi pfn}; do
        FLAGS="$SYNTHETIC --num-dims $D"
        STEPS=${MI_STEPS:-$N}
        if [ "$PRIOR" = pfn ]; then FLAGS="$FLAGS --nonlinear"; STEPS=${PFN_STEPS:-$N}; fi
        (OMP_NUM_THREADS=1 $PY categorisation/train_transformer.py $FLAGS --max-steps 64 --num-episodes 2000 &&
         OMP_NUM_THREADS=1 $PY categorisation/train_transformer.py $FLAGS --max-steps 160 --num-episodes "$STEPS" \
             --output "trained_models/${PRIOR}_categorisation_dim$D.pt") &
    done
    wait
done
$PY categorisation/train_transformer.py --env-name llama-3_dim3_first_tasks --shuffle --shuffle-features \
    --sample-to-match-max-steps --max-steps 160 --num-episodes 1000 $COMMON --output trained_models/ermi_categorisation_dim3.pt
