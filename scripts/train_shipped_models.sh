#!/usr/bin/env bash
# Train the weights shipped in trained_models/: MI, PFN and ERMI for 3-, 4- and 6-D categorisation.
# Checkpoints go to trained_models/checkpoints/ (not in git), so rerunning with a larger num_episodes continues
# them bit-for-bit on this machine. MI and PFN start with the repeated-stimuli warm-up (ermi.episodes.PriorSampler)
# on short 64-trial tasks, where in-context learning appears after about 700 steps, then continue on 160-trial tasks.
# Without the warm-up the 3-D linear prior stayed at chance for 14,000 steps.
# ERMI trains on the Llama-3 corpus of its dimension (3-D: both generation runs pooled) with the trainer's seeded
# 80/10/10 task split, until the validation loss has not improved for 12 evaluations (3,000 steps); the shipped
# weights are those of the lowest validation loss and the model card lists the held-out test tasks.
# Usage: [PRIORS="mi pfn ermi"] [MI_STEPS=..] [PFN_STEPS=..] bash scripts/train_shipped_models.sh [python] [num_episodes] [dims...]
# The shipped weights (README "Shipped weights"): `... .venv/bin/python 3000 3 4`, then
# `PFN_STEPS=4800 ... 3000 3`, `PFN_STEPS=14000 ... 3000 4`, `PRIORS=mi MI_STEPS=5000 ... 3000 6` and
# `PRIORS=ermi ... .venv/bin/python 40000 3 4 6` (early stopping ends each ERMI run well before 40,000 steps).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
N=${2:-3000}
DIMS=${*:3}
DIMS=${DIMS:-3 4 6}
COMMON="--batch_size ${BATCH:-16} --save-every 100 --print-every 50 --resume --save-dir trained_models/checkpoints"
SYNTHETIC="--synthetic --lr 1e-3 --repeat-stimuli 8 --repeat-until 1500 $COMMON"
declare -A CORPUS=([3]="llama-3_categorisation_dim3_procid0 llama-3_categorisation_dim3_procid1"
                   [4]=llama-3_categorisation_dim4_procid0 [6]=llama-3_categorisation_dim6_procid0)
PRIORS=${PRIORS:-mi pfn ermi}
for D in $DIMS; do
    for PRIOR in ${PRIORS//ermi/}; do
        FLAGS="$SYNTHETIC --num-dims $D"
        STEPS=${MI_STEPS:-$N}
        if [ "$PRIOR" = pfn ]; then FLAGS="$FLAGS --nonlinear"; STEPS=${PFN_STEPS:-$N}; fi
        (OMP_NUM_THREADS=1 $PY categorisation/train_transformer.py $FLAGS --max-steps 64 --num-episodes 2000 &&
         OMP_NUM_THREADS=1 $PY categorisation/train_transformer.py $FLAGS --max-steps 160 --num-episodes "$STEPS" \
             --output "trained_models/${PRIOR}_categorisation_dim$D.pt") &
    done
    wait
done
if [[ " $PRIORS " == *" ermi "* ]]; then
    for D in $DIMS; do
        $PY categorisation/train_transformer.py --env-name ${CORPUS[$D]} --shuffle --shuffle-features \
            --sample-to-match-max-steps --max-steps 100 --num-episodes "$N" --batch_size 32 --lr 1e-3 --patience 12 \
            --save-every 250 --print-every 250 --resume --save-dir trained_models/checkpoints \
            --output "trained_models/ermi_categorisation_dim$D.pt"
    done
fi
