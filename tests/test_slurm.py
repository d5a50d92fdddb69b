"""The scripts/*.sbatch wrappers and scripts/pipeline.sh on a real local Slurm (the `slurm` fixture), tiny configs."""
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import torch

pytestmark = pytest.mark.slurm
REPO = Path(__file__).resolve().parents[1]
TINY_MODEL = "--num_layers 2 --d_model 16 --num_head 2 --num_hidden 32 --device cpu"


def test_generation_array_writes_one_shard_per_task(slurm, tmp_path):
    prefix = tmp_path / "shards" / "mi"
    # Submitted from the repo root without ERMI_ROOT: the jobs find the repo through SLURM_SUBMIT_DIR.
    gen = slurm.sbatch("--array=0-2", f"--output={tmp_path}/%x-%j.out", "scripts/generate_synthetic.sbatch",
                       str(prefix), "--num-tasks", "5", "--max-steps", "6", cwd=REPO,
                       env={"ERMI_PYTHON": sys.executable})
    merge = slurm.sbatch(f"--dependency=afterok:{gen}", f"--output={tmp_path}/%x-%j.out",
                         "scripts/merge_shards.sbatch", str(prefix), "3", str(tmp_path / "corpus.csv"), cwd=REPO)
    slurm.wait([gen, merge], timeout=60)
    shards = [pd.read_csv(f"{prefix}_shard{k}.csv") for k in range(3)]
    for shard in shards:
        assert shard.task_id.nunique() == 5 and len(shard) == 30
    # each array task has its own seed, so the shards differ
    assert shards[0].input.tolist() != shards[1].input.tolist()
    corpus = pd.read_csv(tmp_path / "corpus.csv")
    assert sorted(corpus.task_id.unique()) == list(range(15))
    assert corpus.input.tolist() == pd.concat(shards).input.tolist()


def test_pipeline_runs_the_dependency_chain(slurm, tmp_path):
    out = tmp_path / "run"
    env = dict(slurm.env, ERMI_GRES="none", ERMI_LOGS=str(tmp_path / "logs"), ERMI_PYTHON=sys.executable)
    submitted = subprocess.run(
        ["bash", str(REPO / "scripts" / "pipeline.sh"), "--generator", "synthetic", "--shards", "2", "--out", str(out),
         "--gen-args", "--num-tasks 6 --max-steps 8",
         "--train-args", f"--num-episodes 4 --batch_size 4 --max-steps 8 --save-every 2 {TINY_MODEL}",
         "--fit-args", "--device cpu", "--baseline-args", "--restarts 1",
         "--sim-args", "--num-tasks 2 --num-blocks 2 --betas 1.0 --device cpu"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True).stdout   # from outside the repo
    jobs = dict(line.split() for line in submitted.splitlines())
    assert list(jobs) == ["synthetic", "merge", "train", "fit", "baselines", "compare", "simulate"]
    dependency = slurm._run("scontrol", "show", "job", jobs["compare"]).stdout
    assert f"afterok:{jobs['fit']}" in dependency and f"afterok:{jobs['baselines']}" in dependency
    slurm.wait(list(jobs.values()), timeout=150)

    assert sorted(pd.read_csv(out / "corpus" / "ermi_generated_tasks_dim3.csv").task_id.unique()) == list(range(12))
    weights = torch.load(out / "ermi_categorisation_dim3.pt", weights_only=False)
    assert weights["step"] == 4 and weights["config"]["d_model"] == 16
    for model in ("ermi", "mi", "pfn", "gcm", "pm", "rulex"):
        fits = pd.read_csv(out / "fits" / f"badham2017_{model}.csv")
        assert len(fits) == 4 and fits.nll.gt(0).all() and (fits.model == model).all()
    comparison = pd.read_csv(out / "fits" / "badham2017_comparison.csv")
    assert sorted(comparison.model) == ["ermi", "gcm", "mi", "pfn", "pm", "rulex"]
    assert comparison.wins.sum() == 4
    assert (out / "figures" / "badham2017_model_comparison.png").stat().st_size > 0
    shepard = pd.read_csv(out / "shepard1961.csv")
    assert {"ermi", "mi", "pfn"} <= set(shepard.iloc[:, 0])


def test_requeued_training_resumes_from_its_checkpoint(slurm, tmp_path):
    weights, save_dir = tmp_path / "mi.pt", tmp_path / "checkpoints"
    log = tmp_path / "train.out"
    train = slurm.sbatch("--gres=none", f"--output={log}", "scripts/train.sbatch", "--synthetic", "--max-steps", "8",
                         "--num-episodes", "60", "--batch_size", "4", "--save-every", "2", "--num-val-tasks", "8",
                         "--save-dir", str(save_dir), "--output", str(weights), *TINY_MODEL.split(), cwd=REPO)
    checkpoint = save_dir / "synthetic_mi_dim3_run0.ckpt"
    deadline = time.time() + 60
    while not checkpoint.exists() and time.time() < deadline:
        time.sleep(0.2)
    assert checkpoint.exists(), log.read_text()
    slurm._run("scontrol", "requeue", train)   # what preemption does to a --requeue job
    # Slurm holds a requeued job back for a while (reason BeginTime); let it start again at once.
    while slurm.queued([train]).get(train, ("", ""))[1] != "BeginTime" and time.time() < deadline + 30:
        time.sleep(0.2)
    slurm._run("scontrol", "update", f"JobId={train}", "StartTime=now")
    slurm.wait([train], timeout=90)

    text = log.read_text()
    assert "restart count 1" in text, text
    history = torch.load(checkpoint, weights_only=False)["history"]
    assert [r["step"] for r in history] == list(range(2, 61, 2))
    # "seconds" counts from each run's start: it drops once where the requeued run picked up the checkpoint
    seconds = [r["seconds"] for r in history]
    assert sum(b < a for a, b in zip(seconds, seconds[1:])) == 1
    assert torch.load(weights, weights_only=False)["step"] == 60
