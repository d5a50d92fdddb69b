#!/usr/bin/env bash
# A 3-D categorisation corpus made entirely offline by the shipped SmolLM2-135M under grammar-constrained decoding,
# and an ERMI trained on it. Every stage resumes where it stopped (the raw logs are append-only), so rerunning the
# same command after a crash or a cut-off session only does what is missing. Under the grammar no reply can run
# past its token budget (the longest reply the grammar admits), so every task comes back whole.
#   stage A: labels for TASKS experiments, 25 per call
#            -> categorisation/data/tasklabels/local_generated_tasklabels_dim3_pversion5.csv
#   stage B: ROWS rows for each of TASKS tasks
#            -> categorisation/data/raw/local_tasks_dim3_data${ROWS}_pversion5_procid0.jsonl
#   stage C: parse and pool
#            -> categorisation/data/generated_tasks/local_generated_tasks_dim3_data${ROWS}_pversion5.csv
#   train:   ERMI on the corpus (seeded 80/10/10 task split)
#            -> trained_models/offline/ermi_categorisation_dim3_smollm2.pt
# Usage: [TASKS=500] [ROWS=20] [STEPS=3000] bash scripts/make_offline_corpus.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
TASKS=${TASKS:-500}
ROWS=${ROWS:-20}
STEPS=${STEPS:-3000}
LLM=(--backend local --seed 0)
CORPUS=categorisation/data/generated_tasks/local_generated_tasks_dim3_data${ROWS}_pversion5.csv

echo "== stage A: labels for $TASKS experiments"
$PY taskgeneration/generate_tasklabels.py "${LLM[@]}" --num-dim 3 --num-tasks 25 --num-runs $(( (TASKS + 24) / 25 + 1 )) \
    --batch-size 11
$PY taskgeneration/generate_tasklabels.py "${LLM[@]}" --num-dim 3 --pool

echo "== stage B: $ROWS rows for each of $TASKS tasks"
$PY taskgeneration/generate_tasks.py "${LLM[@]}" --use-generated-tasklabels --num-tasks "$TASKS" --num-dim 3 \
    --num-data "$ROWS" --batch-size 32

echo "== stage C: parse and pool"
$PY taskgeneration/parse_generated_tasks.py --backend local --num-dim 3 --num-data "$ROWS" --min-rows 10

echo "== ERMI on the offline corpus"
OMP_NUM_THREADS=${OMP_NUM_THREADS:-2} $PY categorisation/train_transformer.py --env-name "$CORPUS" --num-dims 3 \
    --shuffle --shuffle-features --max-steps "$ROWS" --num-episodes "$STEPS" --batch_size 32 --lr 1e-3 --patience 12 \
    --save-every 250 --print-every 250 --resume --save-dir trained_models/checkpoints \
    --output trained_models/offline/ermi_categorisation_dim3_smollm2.pt
