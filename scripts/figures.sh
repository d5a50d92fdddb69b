#!/usr/bin/env bash
# Regenerate every paper-style figure under figures/ from the result files and the shipped weights:
# Badham et al. (2017) model comparison, parameter/model recovery, Smith & Minda (1998), Shepard et al. (1961),
# ERMI and the synthetic meta-learners on held-out LLM tasks (and on SmolLM2's offline corpus), Johansen &
# Palmeri (2002) and the OpenML-CC18 benchmark (or its offline stand-in), decision making (Binz et al. 2022: model comparison per experiment, Gini
# coefficients of the cue weights, recovery) and function learning (DeLosh et al. 1997, Kwantes & Neal 2006,
# learning difficulty).
# Fits missing from categorisation/data/model_comparison/, or made with other weights than the shipped ones (the
# sidecar's model hash), are computed first; the others are reused.
# Usage: bash scripts/figures.sh [python]
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${1:-.venv/bin/python}
FITS=categorisation/data/model_comparison
step() { printf '\n== %s\n' "$*"; }

# true when the fits CSV $1 is missing or its sidecar names other weights than $2
stale() {
    [[ ! -f $1 ]] || ! $PY -c "import json, sys; from ermi.paths import file_sha256
sys.exit(json.load(open(sys.argv[1] + '.json'))['model_sha256'] != file_sha256(sys.argv[2]))" "$1" "$2"
}

models=()
for weights in trained_models/*_categorisation_dim3.pt; do
    label=$(basename "$weights" .pt)
    models+=("$label")
    if stale "$FITS/badham2017_${label%%_*}.csv" "$weights"; then
        step "fit $label to Badham et al. (2017)"
        $PY categorisation/fit_humans.py --task-name badham2017 --model-name "$label"
    fi
done
for baseline in gcm pm rulex; do
    if [[ ! -f $FITS/badham2017_$baseline.csv ]]; then
        step "fit the $baseline baseline"
        $PY categorisation/baselines/run_baselines.py --model "$baseline" --task-name badham2017
    fi
done
step "figures/badham2017_model_comparison.png"
$PY categorisation/model_comparison.py --task-name badham2017
step "figures/badham2017_recovery.png"
$PY categorisation/recovery.py --participants 10 --restarts 2 --weights trained_models/ermi_categorisation_dim3.pt
step "figures/smith1998_exemplar_vs_prototype.png"
$PY categorisation/baselines/smith_minda.py --baselines gcm pm --runs 4 --restarts 2 \
    --weights $(ls trained_models/*_categorisation_dim6.pt 2>/dev/null)
step "figures/shepard1961.png"
$PY categorisation/simulate_shepard1961.py --model-names "${models[@]}"
dim4=(trained_models/*_categorisation_dim4.pt)
if [[ -e ${dim4[0]} ]]; then
    step "figures/johanssen2002.png"
    $PY categorisation/simulate_johanssen2002.py --model-names "${dim4[@]}"
    if [[ -f categorisation/data/benchmark/eval_data_cc18.csv ]]; then
        step "figures/benchmark_cc18.png"
        $PY categorisation/benchmark/eval.py --models "${dim4[@]}"
    else
        step "figures/benchmark_offline.png (no OpenML-CC18 cache: scikit-learn's bundled datasets)"
        [[ -f categorisation/data/benchmark/eval_data_offline.csv ]] || $PY categorisation/benchmark/save_eval_data.py --offline
        $PY categorisation/benchmark/eval.py --offline --models "${dim4[@]}"
    fi
fi
if [[ -f trained_models/ermi_categorisation_dim3.json ]] && grep -q test_tasks trained_models/ermi_categorisation_dim3.json; then
    step "figures/heldout_llm_tasks.png"
    $PY categorisation/evaluate_heldout.py
fi
OFFLINE=trained_models/offline/ermi_categorisation_dim3_smollm2
if [[ -f $OFFLINE.pt ]]; then
    step "figures/heldout_smollm2_tasks.png (ERMI trained on SmolLM2's grammar-constrained corpus)"
    $PY categorisation/evaluate_heldout.py --card $OFFLINE.json --models $OFFLINE.pt ermi_categorisation_dim3 \
        mi_categorisation_dim3 --output categorisation/data/heldout/smollm2_test_tasks.csv \
        --figure figures/heldout_smollm2_tasks.png
fi
step "decision making: fits, figures/binz2022_exp*_model_comparison.png, binz2022_gini.png, binz2022_exp1_recovery.png"
$PY decisionmaking/fit_humans.py
$PY decisionmaking/model_comparison.py
$PY decisionmaking/strategy_analysis.py
$PY decisionmaking/recovery.py --experiment 1
step "function learning: figures/delosh1997_extrapolation.png, kwantes2006.png, functionlearning_difficulty.png"
$PY functionlearning/evaluate_heldout.py
$PY functionlearning/simulate_delosh1997.py
$PY functionlearning/simulate_kwantes2006.py
$PY functionlearning/simulate_difficulty.py
step "done: $(ls figures/*.png | tr '\n' ' ')"
