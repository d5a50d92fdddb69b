"""The stage scripts, run as a user runs them, on tiny configurations."""
import argparse
import json
import math
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from ermi.episodes import LinearPrior, PriorSampler, episode
from ermi.model import ModelConfig
from ermi.paths import REPO_ROOT, file_sha256
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


def write_corpus(path, num_tasks, seed):
    """A small corpus with task ids 0..num_tasks-1 (so two files share ids), 12 trials, 2 labels per task."""
    rng = np.random.default_rng(seed)
    rows = [{"task_id": t, "trial_id": i, "input": json.dumps(rng.integers(0, 50, 3).tolist()),
             "target": f"cat{t}{'ab'[i % 2]}"} for t in range(num_tasks) for i in range(12)]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_pooled_corpora_split_never_overlaps_and_is_recorded(tmp_path):
    """Two generation runs with clashing task ids are pooled; the model card records validation and test tasks
    by file; the sampler draws only training tasks; the split is disjoint and covers the corpus."""
    from categorisation.train_transformer import build_data

    a, b = write_corpus(tmp_path / "run0.csv", 20, 0), write_corpus(tmp_path / "run1.csv", 20, 1)
    args = ["--env-name", str(a), str(tmp_path / "run1"), "--shuffle", "--max-steps", 12, "--num-episodes", 4,
            "--batch_size", 4, "--save-every", 2, *TINY, "--save-dir", tmp_path, "--output", tmp_path / "ermi.pt"]
    run("categorisation/train_transformer.py", *args)
    card = json.loads((tmp_path / "ermi.json").read_text())
    assert card["num_tasks"] == 40 and card["num_train_tasks"] == 32 and card["corpus_sha256"][1] == file_sha256(b)
    held_out = {(f, i) for part in ("val_tasks", "test_tasks") for f, ids in card[part].items() for i in ids}
    assert len(held_out) == 8 and {f for f, _ in held_out} <= {"run0.csv", "run1.csv"}
    parser_args = argparse.Namespace(
        synthetic=False, rmc=False, env_name=[str(a), str(b)], env_dir=".", num_dims=3, max_steps=12,
        sample_to_match_max_steps=False, split_seed=0, shuffle=True, shuffle_features=False)
    sampler, _, _, provenance = build_data(parser_args, "cpu")
    trained_on = set(zip(sampler.tasks.sources, sampler.tasks.task_ids))
    assert len(trained_on) == 32 and not trained_on & held_out
    assert provenance["test_tasks"] == card["test_tasks"]


def test_early_stopping_keeps_the_best_weights(tmp_path):
    """With lr 0 the validation loss never improves after the first evaluation: training stops `patience`
    evaluations later, and the shipped weights are those of the best step."""
    result = run("categorisation/train_transformer.py", "--synthetic", "--max-steps", 16, "--num-episodes", 50,
                 "--batch_size", 4, "--lr", 0, "--save-every", 2, "--patience", 3, "--num-val-tasks", 8, *TINY,
                 "--save-dir", tmp_path, "--output", tmp_path / "mi.pt")
    assert "stopped at step 8: validation loss has not improved for 3 evaluations since step 2" in result.stdout
    card = json.loads((tmp_path / "mi.json").read_text())
    assert card["steps"] == 2 and card["steps_trained"] == 8 and card["weights_from"] == "lowest validation loss"
    assert torch.load(tmp_path / "mi.pt", weights_only=True)["step"] == 2


def test_weight_errors_and_weight_folder(tiny_models, tmp_path):
    """A CSV given as weights is one line, not a torch.load traceback; ERMI_WEIGHTS (or the seed's
    BERMI_WEIGHTS) is searched for weight names."""
    result = run("categorisation/fit_humans.py", "--model-name", BADHAM, "--data", BADHAM, check=False)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {BADHAM}: not an ERMI weight file")
    for variable in ("ERMI_WEIGHTS", "BERMI_WEIGHTS"):
        found = subprocess.run([sys.executable, "-c", "from ermi.paths import resolve_model; "
                                "print(resolve_model('mi_tiny_dim3'))"], cwd=REPO_ROOT, capture_output=True,
                               text=True, env={**os.environ, variable: str(tiny_models)})
        assert found.stdout.strip() == str(tiny_models / "mi_tiny_dim3.pt"), found.stderr


def test_heldout_evaluation_cli(tmp_path):
    """Train a tiny ERMI on a corpus, then score it and the online learners on its recorded test tasks."""
    corpus = write_corpus(tmp_path / "corpus.csv", 30, 2)
    run("categorisation/train_transformer.py", "--env-name", corpus, "--shuffle", "--max-steps", 12,
        "--num-episodes", 2, "--batch_size", 4, "--save-every", 2, *TINY, "--save-dir", tmp_path,
        "--output", tmp_path / "ermi_tiny_dim3.pt")
    result = run("categorisation/evaluate_heldout.py", "--card", tmp_path / "ermi_tiny_dim3.json", "--models",
                 tmp_path / "ermi_tiny_dim3.pt", "--output", tmp_path / "heldout.csv", "--figure", tmp_path / "h.png")
    assert "3 held-out tasks, 36 trials" in result.stdout
    curves = pd.read_csv(tmp_path / "heldout.csv")
    assert set(curves.model) == {"ERMI", "1-NN", "logistic regression", "base rate"}
    assert (curves.groupby("model").trial.max() == 12).all() and (curves.tasks == 3).all()
    first = curves[curves.trial == 1].set_index("model")
    assert first.loc["1-NN", "accuracy"] == 0.5 and first.loc["1-NN", "nll"] == pytest.approx(math.log(2))


def test_nearest_neighbour_by_hand():
    """Trial t takes the label of the nearest earlier stimulus; ties go to the most recent one."""
    from categorisation.evaluate_heldout import nearest_neighbour_p1
    from ermi.episodes import episode

    x = torch.tensor([[[0.0], [1.0], [0.5], [0.9], [0.05]]])
    y = torch.tensor([[1.0, 0.0, 1.0, 1.0, 0.0]])
    p1 = nearest_neighbour_p1(episode(x, y, torch.tensor([5])))
    # t=1: only 0.0 (label 1); t=2: 0.5 ties 0.0 and 1.0 -> the more recent 1.0 (label 0); t=3: 0.9 is nearest
    # 1.0 (label 0); t=4: 0.05 is nearest 0.0 (label 1)
    assert p1[0].tolist() == [0.5, 1.0, 0.0, 0.0, 1.0]
    # the online base rate counts the labels before t, Laplace-smoothed: (ones + 1) / (t + 2)
    from categorisation.evaluate_heldout import base_rate_p1

    assert base_rate_p1(episode(x, y, torch.tensor([5])))[0].tolist() == pytest.approx([1 / 2, 2 / 3, 2 / 4, 3 / 5, 4 / 6])
