#!/usr/bin/env bash
# Train the function-learning weights shipped in trained_models/ (Gaussian head): ERMI-FL on the Claude corpus
# (seeded 80/10/10 task split, recorded in the model card) and MI-FL on the function-family prior. Each run stops when
# the validation loss has not improved for 10 evaluations (2,000 steps) and ships the weights of the lowest one;
# checkpoints go to trained_models/checkpoints/ (not in git), so a rerun continues them.
# Usage: bash scripts/train_functionlearning_models.sh [python] [max_steps]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
N=${2:-30000}
COMMON="--num-episodes $N --batch_size 64 --lr 1e-3 --patience 10 --save-every 200 --print-every 200 --resume
        --save-dir trained_models/checkpoints"
$PY functionlearning/train_transformer.py $COMMON --output trained_models/ermi_functionlearning_dim1.pt
$PY functionlearning/train_transformer.py --synthetic $COMMON --output trained_models/mi_functionlearning_dim1.pt
