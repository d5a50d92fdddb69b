# Sourced by every scripts/*.sbatch. Slurm runs a copy of the batch script from its spool folder, so the repo is
# found through ERMI_ROOT or the folder sbatch was called from (SLURM_SUBMIT_DIR), never through the script's path.
ROOT=${ERMI_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
cd "$ROOT"
PY=${ERMI_PYTHON:-$ROOT/.venv/bin/python}
# One BLAS/OpenMP thread per allocated CPU, not per CPU of the node.
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
export MKL_NUM_THREADS=$OMP_NUM_THREADS
echo "ermi: job ${SLURM_JOB_ID:-none} task ${SLURM_ARRAY_TASK_ID:-none} on $(hostname) in $ROOT with $PY"

# shard_id: this array task's index (0 outside an array), shard_count: the array's size (1 outside an array).
shard_id() { echo "${SLURM_ARRAY_TASK_ID:-0}"; }
shard_count() { echo "${SLURM_ARRAY_TASK_COUNT:-1}"; }
