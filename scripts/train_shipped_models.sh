#!/usr/bin/env bash
# Train the weights shipped in trained_models/ (3-D categorisation: MI, PFN, ERMI). Their checkpoints are committed
# in trained_models/checkpoints/, so rerunning with a larger num_episodes continues them bit-for-bit.
# Usage: bash scripts/train_shipped_models.sh [python] [num_episodes]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
N=${2:-4000}
COMMON="--num-dims 3 --max-steps 160 --batch_size ${BATCH:-16} --num-episodes $N --save-every 100 --print-every 50 --resume --save-dir trained_models/checkpoints"
OMP_NUM_THREADS=1 $PY categorisation/train_transformer.py --synthetic $COMMON --output trained_models/mi_categorisation_dim3.pt &
OMP_NUM_THREADS=1 $PY categorisation/train_transformer.py --synthetic --nonlinear $COMMON --output trained_models/pfn_categorisation_dim3.pt &
wait
$PY categorisation/train_transformer.py --env-name llama-3_dim3_first_tasks --shuffle --shuffle-features \
    --sample-to-match-max-steps $COMMON --output trained_models/ermi_categorisation_dim3.pt
