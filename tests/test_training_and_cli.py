"""The stage scripts, run as a user runs them, on tiny configurations."""
import json
import subprocess
import sys

import pandas as pd
import pytest
import torch

from ermi.episodes import LinearPrior, PriorSampler, episode
from ermi.model import ModelConfig
from ermi.paths import REPO_ROOT
from ermi.training import TrainConfig, train

TINY = ["--num_layers", "2", "--d_model", "16", "--num_head", "2", "--num_hidden", "32"]
FIXTURES = REPO_ROOT / "tests" / "fixtures"
BADHAM = FIXTURES / "badham2017_first_participants.csv"  # participants 0-3 of the real file


def run(*args, check=True):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr[-3000:])
    return result


def test_resume_equals_uninterrupted_training(tmp_path):
    cfg = ModelConfig(num_dims=2, d_model=16, num_layers=2, num_head=2, num_hidden=32, dropout=0.1)
    sampler = PriorSampler(LinearPrior(2), num_trials=12)
    val = sampler.taskset(16, seed=99)
    val_ep = episode(val.x, val.y, val.lengths)

    def settings(n):
        return TrainConfig(num_episodes=n, batch_size=8, save_every=3, print_every=1, seed=5)

    straight = train(cfg, settings(6), sampler, val_ep, tmp_path / "a.ckpt", progress=False)
    train(cfg, settings(3), sampler, val_ep, tmp_path / "b.ckpt", progress=False)
    resumed = train(cfg, settings(6), sampler, val_ep, tmp_path / "b.ckpt", resume=True, progress=False)
    assert resumed["step"] == straight["step"] == 6
    for name, value in straight["state_dict"].items():
        assert torch.equal(value, resumed["state_dict"][name]), name
    assert [h["loss"] for h in straight["history"]] == [h["loss"] for h in resumed["history"]]
    changed = TrainConfig(num_episodes=9, batch_size=8, lr=1e-3, save_every=3, seed=5)
    with pytest.raises(ValueError, match="cannot resume bit-for-bit with changed settings lr 0.0003 -> 0.001"):
        train(cfg, changed, sampler, val_ep, tmp_path / "b.ckpt", resume=True, progress=False)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """A 3-D and a 4-D model trained for a few steps through the real training CLI."""
    folder = tmp_path_factory.mktemp("models")
    for dims in (3, 4):
        run("categorisation/train_transformer.py", "--synthetic", "--num-dims", dims, "--max-steps", 32,
            "--num-episodes", 4, "--batch_size", 8, "--save-every", 2, "--num-val-tasks", 16, *TINY,
            "--save-dir", folder, "--output", folder / f"mi_tiny_dim{dims}.pt")
    return folder


def test_resume_refuses_a_changed_warmup(tmp_path):
    common = ["categorisation/train_transformer.py", "--synthetic", "--max-steps", 16, "--batch_size", 4, "--save-every",
              2, "--num-val-tasks", 4, *TINY, "--save-dir", tmp_path, "--repeat-stimuli", 4]
    run(*common, "--num-episodes", 2, "--repeat-until", 3)
    result = run(*common, "--num-episodes", 4, "--repeat-until", 5, "--resume", check=False)
    assert result.returncode == 2
    assert "cannot resume with changed --repeat-until (3 -> 5)" in result.stderr.strip().splitlines()[-1]


def test_training_cli_writes_weights_and_model_card(tiny_models):
    card = json.loads((tiny_models / "mi_tiny_dim3.json").read_text())
    assert card["steps"] == 4 and card["prior"] == "mi" and card["config"]["num_dims"] == 3
    assert 0 <= card["val_acc"] <= 1 and card["final_loss"] > 0
    assert [row[0] for row in card["learning_curve"]["rows"]] == [2, 4]
    assert card["learning_curve"]["rows"][-1][3] == round(card["val_acc"], 4)
    blob = torch.load(tiny_models / "mi_tiny_dim3.pt", weights_only=True)
    assert set(blob) == {"config", "state_dict", "step"}  # shipped weights carry no optimizer state


def test_training_cli_on_the_real_corpus(tmp_path):
    result = run("categorisation/train_transformer.py", "--env-name", FIXTURES / "llama-3_dim3_first_tasks.csv", "--shuffle",
                 "--shuffle-features", "--sample-to-match-max-steps", "--max-steps", 40, "--num-episodes", 2,
                 "--batch_size", 4, "--save-every", 2, *TINY, "--save-dir", tmp_path)
    assert "2 tasks" in result.stdout and "step 2" in result.stdout


def test_fit_humans_cli_is_deterministic(tiny_models, tmp_path):
    for name in ("a", "b"):
        run("categorisation/fit_humans.py", "--model-name", tiny_models / "mi_tiny_dim3.pt", "--data", BADHAM,
            "--output", tmp_path / f"{name}.csv")
    a, b = pd.read_csv(tmp_path / "a.csv"), pd.read_csv(tmp_path / "b.csv")
    assert a.participant.tolist() == [0, 1, 2, 3]
    assert a.nll.tolist() == b.nll.tolist() and a.beta.tolist() == b.beta.tolist()
    assert a.n_trials.tolist() == [384, 336, 336, 384]  # each participant's own trial count enters the BIC
    sidecar = json.loads((tmp_path / "a.csv.json").read_text())
    assert sidecar["method"] == "soft_sigmoid" and len(sidecar["model_sha256"]) == 64


def test_cli_errors_are_one_line(tiny_models, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("participant,task,trial,choice,correct_choice,block,condition,feature1,feature2,feature3\n"
                   "0,0,0,j,q,0,1,1,0,1\n")
    result = run("categorisation/fit_humans.py", "--model-name", tiny_models / "mi_tiny_dim3.pt", "--data", bad, check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {bad}:2: correct_choice is 'q', expected 'j' or 'f'"
    result = run("categorisation/fit_humans.py", "--model-name", "no_such_model", check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "no_such_model" in result.stderr
    corpus = tmp_path / "corpus.csv"
    corpus.write_text("task_id,trial_id,input,target\n0,0,\"[1, 2, 3]\",a\n0,1,\"[1, 2]\",b\n")
    result = run("categorisation/train_transformer.py", "--env-dir", tmp_path, "--env-name", "corpus", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == f"error: {corpus}:3: input has 2 values, expected 3"


def test_demo_stages_end_to_end(tiny_models, tmp_path):
    """The demo's chain on a tiny model: fit, simulate with the fitted betas, refit, and Shepard + Johansen."""
    model = tiny_models / "mi_tiny_dim3.pt"
    run("categorisation/fit_humans.py", "--model-name", model, "--data", BADHAM, "--output", tmp_path / "fits.csv")
    run("categorisation/fitted_simulations.py", "--model-name", model, "--fits", tmp_path / "fits.csv",
        "--data", BADHAM, "--output", tmp_path / "simulated.csv")
    run("categorisation/fit_humans.py", "--model-name", model, "--data", tmp_path / "simulated.csv",
        "--output", tmp_path / "refit.csv")
    assert len(pd.read_csv(tmp_path / "refit.csv")) == 4
    out = run("categorisation/simulate_shepard1961.py", "--model-names", model, "--num-tasks", 4, "--num-blocks", 3,
              "--output", tmp_path / "shepard.csv", "--figure", tmp_path / "shepard.png")
    shepard = pd.read_csv(tmp_path / "shepard.csv")
    assert len(shepard) == 13 * 6 * 3 and shepard.error.between(0, 1).all() and (tmp_path / "shepard.png").stat().st_size > 0
    assert "typeVI" in out.stdout
    run("categorisation/simulate_johanssen2002.py", "--model-names", tiny_models / "mi_tiny_dim4.pt", "--num-runs", 4,
        "--num-blocks", 2, "--output", tmp_path / "jp.csv", "--figure", tmp_path / "jp.png")
    jp = pd.read_csv(tmp_path / "jp.csv")
    assert len(jp) == 7 * 16 and jp.p_a.between(0, 1).all()
