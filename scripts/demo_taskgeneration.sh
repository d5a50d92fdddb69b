#!/usr/bin/env bash
# Offline demo of LLM task generation: the shipped SmolLM2-135M (local backend, no network) writes task labels,
# then 8 categorisation tasks, each under its grammar (xgrammar), and the parser pools them and prints its
# rejection report. The grammar makes every reply well formed (numbered rows of 3 numbers and one of the task's two
# category names, both used); it cannot make a 135M model's tasks realistic. `LLM_FLAGS=--free-text make
# demo-taskgeneration` shows the model without the grammar: it writes prose and the parser keeps almost nothing.
# Usage: bash scripts/demo_taskgeneration.sh [python]   (outputs under runs/demo_taskgeneration/)
set -euo pipefail
PY=${1:-.venv/bin/python}
OUT=runs/demo_taskgeneration
LLM=(--backend local --batch-size 8 --seed 0 ${LLM_FLAGS:-})
cd "$(dirname "$0")/.."
mkdir -p "$OUT"

echo "== stage A: task labels (1 call asking for 8 experiments)"
$PY taskgeneration/generate_tasklabels.py "${LLM[@]}" --num-runs 1 --num-tasks 8 --num-dim 3 --max-length 600 \
    --raw-dir "$OUT"
$PY taskgeneration/generate_tasklabels.py "${LLM[@]}" --num-dim 3 --pool --raw-dir "$OUT" --output "$OUT/labels.csv"
LABELS=()
if [ "$(wc -l < "$OUT/labels.csv")" -gt 1 ]; then
    LABELS=(--use-generated-tasklabels --path-tasklabels "$OUT" --file-name-tasklabels labels.csv)
fi

echo "== stage B: data for 8 tasks (15 rows asked for each)"
$PY taskgeneration/generate_tasks.py "${LLM[@]}" "${LABELS[@]}" --num-tasks 8 --num-dim 3 --num-data 15 \
    --max-length 600 --min-rows 3 --raw-dir "$OUT"

echo "== stage C: parse and pool"
$PY taskgeneration/parse_generated_tasks.py --backend local --num-dim 3 --num-data 15 --min-rows 3 \
    --raw "$OUT"/local_tasks_dim3_data15_pversion5_procid0.jsonl --output "$OUT/corpus.csv"
echo "== first reply, as the model wrote it:"
$PY -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['text'][:600])" \
    "$OUT"/local_tasks_dim3_data15_pversion5_procid0.jsonl
