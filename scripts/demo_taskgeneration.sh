#!/usr/bin/env bash
# Offline demo of LLM task generation: the shipped SmolLM2-135M (local backend, no network) writes task labels,
# then a few categorisation tasks, and the parser pools them and prints its rejection report. A 135M model writes
# poor tasks; the point is that every stage runs, nothing crashes, and every rejection is counted.
# Usage: bash scripts/demo_taskgeneration.sh [python]   (outputs under runs/demo_taskgeneration/)
set -euo pipefail
PY=${1:-.venv/bin/python}
OUT=runs/demo_taskgeneration
LLM=(--backend local --batch-size 4 --seed 0)
cd "$(dirname "$0")/.."
mkdir -p "$OUT"

echo "== stage A: task labels (1 call asking for 8 experiments)"
$PY taskgeneration/generate_tasklabels.py "${LLM[@]}" --num-runs 1 --num-tasks 8 --num-dim 3 --max-length 200 \
    --raw-dir "$OUT"
$PY taskgeneration/generate_tasklabels.py "${LLM[@]}" --num-dim 3 --pool --raw-dir "$OUT" --output "$OUT/labels.csv"
LABELS=()
if [ "$(wc -l < "$OUT/labels.csv")" -gt 1 ]; then
    LABELS=(--use-generated-tasklabels --path-tasklabels "$OUT" --file-name-tasklabels labels.csv)
fi

echo "== stage B: data for 4 tasks (15 rows asked for each)"
$PY taskgeneration/generate_tasks.py "${LLM[@]}" "${LABELS[@]}" --num-tasks 4 --num-dim 3 --num-data 15 \
    --max-length 250 --min-rows 3 --raw-dir "$OUT"

echo "== stage C: parse and pool"
$PY taskgeneration/parse_generated_tasks.py --backend local --num-dim 3 --num-data 15 --min-rows 3 \
    --raw "$OUT"/local_tasks_dim3_data15_pversion5_procid0.jsonl --output "$OUT/corpus.csv"
echo "== first reply, as the model wrote it:"
$PY -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['text'][:600])" \
    "$OUT"/local_tasks_dim3_data15_pversion5_procid0.jsonl
