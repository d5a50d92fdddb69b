#!/usr/bin/env bash
# Train the decision-making weights shipped in trained_models/: MI-DM on the study's simulator for each condition
# (ranking, direction, none) and ERMI-DM on the Llama-3 corpus of ranked problems. Each run stops when the validation
# loss has not improved for 10 evaluations (2,000 steps) and ships the weights of the lowest one; checkpoints go to
# trained_models/checkpoints/ (not in git), so a rerun continues them.
# Usage: [CONDITIONS="ranking direction none"] [ERMI=1] bash scripts/train_decisionmaking_models.sh [python] [max_steps]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
N=${2:-30000}
COMMON="--num-episodes $N --batch_size 64 --lr 1e-3 --patience 10 --save-every 200 --print-every 200 --resume
        --save-dir trained_models/checkpoints"
for CONDITION in ${CONDITIONS:-ranking direction none}; do
    $PY decisionmaking/train_transformer.py --synthetic --condition "$CONDITION" $COMMON \
        --output "trained_models/mi_decisionmaking_$CONDITION.pt"
done
if [[ ${ERMI:-1} == 1 ]]; then
    $PY decisionmaking/train_transformer.py --env-name llama-3_decisionmaking_ranked_dim4 --condition ranking --shuffle \
        $COMMON --output trained_models/ermi_decisionmaking_ranking.pt
fi
