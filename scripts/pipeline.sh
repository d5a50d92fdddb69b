#!/usr/bin/env bash
# Submit the whole categorisation pipeline to Slurm as one --dependency=afterok chain and print "stage jobid" lines:
#
# --domain categorisation (default):
#   llm:       tasklabels -> pool -> generate_tasks (array) -> parse ┐
#   synthetic: generate_synthetic (array) -> merge_shards ──────────┴> train (GPU, requeue) -> fit (array) ┐
#                                                                       baselines (array, no dependency) ──┴> compare
#                                                                       train -> simulate (Shepard 1961)
#
# --domain decisionmaking:
#   [llm: tasklabels -> pool -> generate_tasks (array) -> parse ->] train ERMI-DM ┐
#   train MI-DM ranking, direction, none (three jobs) ───────────────────────────┴> fit -> compare
#                                                                                   └─> strategies (Gini)
#   (--generator corpus, the default here, trains ERMI-DM on the shipped Llama-3 corpus of ranked problems.)
#
# --domain functionlearning:
#   [llm: tasklabels -> pool -> generate_tasks (array) -> parse ->] train ERMI-FL ┐
#   train MI-FL (function-family prior) ─────────────────────────────────────────┴> delosh, kwantes, difficulty
#   (--generator corpus, the default here, trains ERMI-FL on the shipped Claude corpus.)
#
# A failed stage leaves everything downstream of it pending with DependencyNeverSatisfied (cancel with scancel).
#
# Usage: bash scripts/pipeline.sh [--domain categorisation|decisionmaking|functionlearning] [--generator llm|synthetic|corpus]
#            [--shards N] [--num-dims D] [--out DIR]
#            [--compare-models "mi_categorisation_dim3 pfn_categorisation_dim3"]
#            [--labels-args "..."] [--gen-args "..."] [--parse-args "..."] [--train-args "..."]
#            [--fit-args "..."] [--baseline-args "..."] [--sim-args "..."]
# Each *-args string replaces that stage's defaults (below), split on spaces (tiny configs for tests, real ones for
# runs). Without --out, results go where the scripts put them by default (corpus under
# categorisation/data/generated_tasks, weights under trained_models/, fits under categorisation/data/model_comparison,
# figures under figures/); with --out, everything goes under DIR.
# Environment: ERMI_PARTITION, ERMI_ACCOUNT (every job), ERMI_GPU_PARTITION (training; default ERMI_PARTITION),
# ERMI_GRES (training; default gpu:1, "none" for a CPU-only cluster), ERMI_PYTHON (default .venv/bin/python),
# ERMI_LOGS (Slurm logs; default runs/slurm). Submit from anywhere: the jobs run in this repository.
# LLM backend flags (e.g. --backend local) go in --labels-args (used by the LLM calls and the pooling), --gen-args
# and --parse-args.
set -euo pipefail
ERMI_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export ERMI_ROOT
cd "$ERMI_ROOT"

domain=categorisation generator="" shards=10 dims="" out="" compare_models="mi_categorisation_dim3 pfn_categorisation_dim3"
labels_args="--num-runs 100 --num-tasks 250"
gen_args="--num-data 100"
parse_args="--num-data 100"
train_args="--shuffle --shuffle-features --sample-to-match-max-steps --max-steps 160"
fit_args="" baseline_args="" sim_args=""
while (( $# )); do
    case $1 in
        --domain) domain=$2 ;;
        --generator) generator=$2 ;;
        --shards) shards=$2 ;;
        --num-dims) dims=$2 ;;
        --out) out=$2 ;;
        --compare-models) compare_models=$2 ;;
        --labels-args) labels_args=$2 ;;
        --gen-args) gen_args=$2 ;;
        --parse-args) parse_args=$2 ;;
        --train-args) train_args=$2 ;;
        --fit-args) fit_args=$2 ;;
        --baseline-args) baseline_args=$2 ;;
        --sim-args) sim_args=$2 ;;
        *) echo "unknown option $1 (see the header of $0)" >&2; exit 2 ;;
    esac
    shift 2
done
case $domain in
    categorisation) generator=${generator:-llm} dims=${dims:-3}
        case $generator in llm|synthetic) ;; *) echo "--generator must be llm or synthetic" >&2; exit 2 ;; esac ;;
    decisionmaking) generator=${generator:-corpus} dims=${dims:-4}
        case $generator in llm|corpus) ;; *) echo "--generator must be llm or corpus here" >&2; exit 2 ;; esac
        labels_args="--domain decisionmaking --condition ranked $labels_args" gen_args="--domain decisionmaking $gen_args"
        parse_args="--domain decisionmaking $parse_args"
        [[ $gen_args == *--num-data* ]] || gen_args="$gen_args --num-data 20"
        [[ $train_args == *--shuffle-features* ]] && train_args="--shuffle" ;;
    functionlearning) generator=${generator:-corpus} dims=${dims:-1}
        case $generator in llm|corpus) ;; *) echo "--generator must be llm or corpus here" >&2; exit 2 ;; esac
        labels_args="--domain functionlearning $labels_args" gen_args="--domain functionlearning $gen_args"
        parse_args="--domain functionlearning $parse_args"
        [[ $gen_args == *--num-data* ]] || gen_args="$gen_args --num-data 20"
        [[ $train_args == *--shuffle-features* ]] && train_args="" ;;
    *) echo "--domain must be categorisation, decisionmaking or functionlearning" >&2; exit 2 ;;
esac

if [[ -n $out ]]; then
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    corpus=$out/corpus/ermi_generated_tasks_dim$dims.csv
    weights=$out/ermi_categorisation_dim$dims.pt
    weights_dir=$out
    export ERMI_FITS_DIR=$out/fits
    figures=$out/figures
    shepard=(--output "$out/shepard1961.csv" --figure "$figures/shepard1961.png")
    save_dir=(--save-dir "$out/checkpoints")
    # LLM replies and labels under DIR too; parse.sbatch reads the task shards of $ERMI_RAW_DIR
    export ERMI_RAW_DIR=$out/raw
    labels_io=(--raw-dir "$ERMI_RAW_DIR")
    pool_io=(--raw-dir "$ERMI_RAW_DIR" --output "$out/tasklabels/labels.csv")
    tasks_io=(--raw-dir "$ERMI_RAW_DIR" --path-tasklabels "$out/tasklabels" --file-name-tasklabels labels.csv)
else
    corpus=$domain/data/generated_tasks/ermi_generated_tasks_dim$dims.csv
    weights=trained_models/ermi_categorisation_dim$dims.pt
    weights_dir=trained_models
    export ERMI_FITS_DIR=$domain/data/model_comparison
    figures=figures
    shepard=()
    save_dir=()
    labels_io=() pool_io=() tasks_io=()
fi
logs=${ERMI_LOGS:-runs/slurm}
mkdir -p "$logs" "$ERMI_FITS_DIR" "$figures" "$(dirname "$corpus")"

common=(--parsable --output="$logs/%x-%j.out")
[[ -n ${ERMI_PARTITION:-} ]] && common+=(--partition="$ERMI_PARTITION")
[[ -n ${ERMI_ACCOUNT:-} ]] && common+=(--account="$ERMI_ACCOUNT")
gpu=(--gres="${ERMI_GRES:-gpu:1}")
[[ -n ${ERMI_GPU_PARTITION:-} ]] && gpu+=(--partition="$ERMI_GPU_PARTITION")

# submit STAGE [sbatch options] SCRIPT [script arguments]: prints "STAGE jobid" and sets $jid.
submit() {
    local stage=$1
    shift
    jid=$(sbatch "${common[@]}" --job-name="ermi-$stage" "$@")
    jid=${jid%%;*}   # --parsable prints "jobid" or "jobid;cluster"
    echo "$stage $jid"
}

last=$((shards - 1))
jid=""
if [[ $domain == decisionmaking && $generator == corpus ]]; then
    corpus=decisionmaking/data/generated_tasks/llama-3_decisionmaking_ranked_dim4.csv
elif [[ $domain == functionlearning && $generator == corpus ]]; then
    corpus=functionlearning/data/generated_tasks/claude_functionlearning_dim1_first_tasks.csv
elif [[ $generator == llm ]]; then
    submit tasklabels scripts/tasklabels.sbatch --num-dim "$dims" "${labels_io[@]}" $labels_args
    submit pool --dependency=afterok:$jid scripts/tasklabels.sbatch --num-dim "$dims" --pool "${pool_io[@]}" \
        $labels_args
    submit tasks --dependency=afterok:$jid --array=0-$last scripts/generate_tasks.sbatch --num-dim "$dims" \
        --use-generated-tasklabels "${tasks_io[@]}" $gen_args
    submit parse --dependency=afterok:$jid scripts/parse.sbatch --num-dim "$dims" --output "$corpus" $parse_args
else
    prefix=$(dirname "$corpus")/shards/synthetic_dim$dims
    submit synthetic --array=0-$last scripts/generate_synthetic.sbatch "$prefix" --num-dims "$dims" $gen_args
    submit merge --dependency=afterok:$jid scripts/merge_shards.sbatch "$prefix" "$shards" "$corpus"
fi
if [[ $domain == decisionmaking ]]; then
    dm=(--export=ALL,ERMI_DOMAIN=decisionmaking "${gpu[@]}")
    after=${jid:+--dependency=afterok:$jid}
    submit train-ermi $after "${dm[@]}" scripts/train.sbatch --env-dir "$(dirname "$corpus")" \
        --env-name "$(basename "$corpus" .csv)" --condition ranking --output "$weights_dir/ermi_decisionmaking_ranking.pt" \
        "${save_dir[@]}" $train_args
    trains=$jid
    for condition in ranking direction none; do
        submit "train-mi-$condition" "${dm[@]}" scripts/train.sbatch --synthetic --condition $condition \
            --output "$weights_dir/mi_decisionmaking_$condition.pt" "${save_dir[@]}" $train_args
        trains=$trains:$jid
    done
    submit fit --dependency=afterok:$trains scripts/decisionmaking.sbatch fit --weights-dir "$weights_dir" \
        --output-dir "$ERMI_FITS_DIR" $fit_args
    submit compare --dependency=afterok:$jid scripts/decisionmaking.sbatch compare --folder "$ERMI_FITS_DIR" \
        --figure-dir "$figures"
    submit strategies --dependency=afterok:$trains scripts/decisionmaking.sbatch strategies --weights-dir "$weights_dir" \
        --output "$ERMI_FITS_DIR/gini.csv" --figure "$figures/binz2022_gini.png"
    exit 0
fi
if [[ $domain == functionlearning ]]; then
    fl=(--export=ALL,ERMI_DOMAIN=functionlearning "${gpu[@]}")
    after=${jid:+--dependency=afterok:$jid}
    submit train-ermi $after "${fl[@]}" scripts/train.sbatch --env-dir "$(dirname "$corpus")" \
        --env-name "$(basename "$corpus" .csv)" --output "$weights_dir/ermi_functionlearning_dim1.pt" "${save_dir[@]}" \
        $train_args
    trains=$jid
    submit train-mi "${fl[@]}" scripts/train.sbatch --synthetic --output "$weights_dir/mi_functionlearning_dim1.pt" \
        "${save_dir[@]}" $train_args
    trains=$trains:$jid
    results=${out:+$out/simulations}
    results=${results:-functionlearning/data/simulations}
    learners=("$weights_dir/ermi_functionlearning_dim1.pt" "$weights_dir/mi_functionlearning_dim1.pt" \
              "GP (RBF + linear)" "Bayesian linear regression" ALM EXAM)
    for stage in delosh kwantes difficulty; do
        submit "$stage" --dependency=afterok:$trains scripts/functionlearning.sbatch $stage --learners "${learners[@]}" \
            --output "$results/$stage.csv" --figure "$figures/functionlearning_$stage.png" $sim_args
    done
    exit 0
fi
submit train --dependency=afterok:$jid "${gpu[@]}" scripts/train.sbatch --env-dir "$(dirname "$corpus")" \
    --env-name "$(basename "$corpus" .csv)" --num-dims "$dims" --output "$weights" "${save_dir[@]}" $train_args
train_job=$jid
models=("$weights" $compare_models)
submit fit --dependency=afterok:$train_job --array=0-$((${#models[@]} - 1)) scripts/fit.sbatch "${models[@]}" \
    -- $fit_args
fit_job=$jid
submit baselines --array=0-2 scripts/baselines.sbatch $baseline_args
submit compare --dependency=afterok:$fit_job:$jid scripts/compare.sbatch \
    --figure "$figures/badham2017_model_comparison.png"
submit simulate --dependency=afterok:$train_job scripts/simulate.sbatch shepard1961 \
    --model-names "${models[@]}" "${shepard[@]}" $sim_args
