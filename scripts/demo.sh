#!/usr/bin/env bash
# The main job on the shipped weights: Badham et al. (2017) fits of ERMI, MI and PFN and the cognitive baselines,
# group model comparison, and the Shepard (1961) simulation. Writes figures/ and a results table.
# Usage: bash scripts/demo.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
MODELS="ermi mi pfn"
step() { printf '\n== %s\n' "$*"; }

for m in $MODELS; do
    step "fit ${m}_categorisation_dim3 to Badham et al. (2017)"
    $PY categorisation/fit_humans.py --task-name badham2017 --model-name ${m}_categorisation_dim3
done
for b in gcm pm rulex; do
    step "fit the $b baseline"
    $PY categorisation/baselines/run_baselines.py --model $b --task-name badham2017
done
step "group model comparison"
$PY categorisation/model_comparison.py --task-name badham2017 --models ermi mi pfn gcm pm rulex
step "parameter and model recovery on the Badham design"
$PY categorisation/recovery.py --participants 10 --restarts 2 --weights trained_models/ermi_categorisation_dim3.pt
step "Smith & Minda (1998): exemplar vs prototype fits by segment"
$PY categorisation/baselines/smith_minda.py --baselines gcm pm --runs 4 --restarts 2 \
    --weights $(ls trained_models/*_categorisation_dim6.pt 2>/dev/null)
step "Shepard, Hovland & Jenkins (1961) types I-VI"
$PY categorisation/simulate_shepard1961.py --model-names $(for m in $MODELS; do printf '%s_categorisation_dim3 ' $m; done)
step "done: figures/ holds badham2017_model_comparison.png, badham2017_recovery.png, smith1998_exemplar_vs_prototype.png and shepard1961.png"
