"""Function learning: the corpus reader, priors, the Gaussian head's loss, the GP / polynomial baselines, ALM and
EXAM, the experiment scale and the scripts."""
import json
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from ermi.episodes import Episode, FunctionPrior, GPPrior, PriorSampler, load_corpus
from ermi.paths import REPO_ROOT
from ermi.training import episode_loss
from functionlearning.baselines.process import ALM, extrapolate, trained_responses
from functionlearning.baselines.regression import gaussian_nll, gp_predictions, polynomial_predictions
from functionlearning.experiments import DELOSH_FUNCTIONS, Scale, load_kwantes2006

TINY = ["--num_layers", "2", "--d_model", "16", "--num_head", "2", "--num_hidden", "32"]


def run(*args):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_corpus_reader_drops_and_counts_tasks_by_reason(tmp_path):
    rows = [(0, i, f"[{i}]", str(2 * i)) for i in range(5)]          # fine
    rows += [(1, i, f"[{i}]", "seven" if i == 2 else "1") for i in range(5)]  # a word for a number
    rows += [(2, i, f"[{i}]", "3") for i in range(5)]                # constant target
    path = tmp_path / "fl.csv"
    pd.DataFrame(rows, columns=["task_id", "trial_id", "input", "target"]).to_csv(path, index=False)
    tasks = load_corpus(path, binary=False)
    assert tasks.task_ids == [0] and tasks.dropped == {"target not a number": 1, "constant target": 1}
    assert tasks.y[0].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])  # scaled to [0, 1] per task
    claude = load_corpus(REPO_ROOT / "functionlearning/data/generated_tasks/claude_functionlearning_dim1_first_tasks.csv",
                         binary=False)
    assert len(claude) + sum(claude.dropped.values()) == 1281 and claude.dropped == {"constant target": 8}


def test_priors_give_scaled_tasks_and_favour_positive_linear():
    g = torch.Generator().manual_seed(0)
    ep = PriorSampler(FunctionPrior(), 20, scale_targets=True).sample(2000, g)
    assert ep.targets.min() == 0 and ep.targets.max() == 1 and ep.tokens.shape == (2000, 20, 2)
    x, y = ep.tokens[..., 0], ep.targets
    slope = ((x - x.mean(1, keepdim=True)) * (y - y.mean(1, keepdim=True))).sum(1)
    assert 0.84 < float((slope > 0).float().mean()) < 0.94  # 8 : 1 : 0.1 : 0.01 -> about 88 % rising
    gp = PriorSampler(GPPrior(kernel="rbf"), 20, scale_targets=True).sample(8, g)
    assert gp.targets.shape == (8, 20)
    with pytest.raises(ValueError, match="kernel must be"):
        GPPrior(kernel="matern")


def test_gaussian_nll_by_hand():
    mean, var, y = torch.tensor([0.2]), torch.tensor([0.04]), torch.tensor([0.5])
    assert gaussian_nll(mean, var, y).item() == pytest.approx(0.5 * math.log(2 * math.pi * 0.04) + 0.5 * 0.09 / 0.04)

    class Fixed(torch.nn.Module):  # a Gaussian head that always says mean 0.2, log-variance log 0.04
        def forward(self, tokens):
            return torch.stack([torch.full(tokens.shape[:2], 0.2), torch.full(tokens.shape[:2], math.log(0.04))], -1)

    ep = Episode(torch.zeros(1, 2, 2), torch.tensor([[0.5, 0.2]]), torch.tensor([[True, True]]))
    by_hand = 0.5 * math.log(2 * math.pi * 0.04) + 0.5 * (0.09 / 0.04 + 0.0) / 2
    assert episode_loss(Fixed(), ep).item() == pytest.approx(by_hand)


def test_gp_posterior_mean_on_three_points_in_closed_form():
    x = torch.tensor([[0.1, 0.4, 0.8, 0.6]], dtype=torch.float64)
    y = torch.tensor([[0.2, 0.5, 0.9, 0.0]], dtype=torch.float64)
    mean, var = gp_predictions(x, y, "rbf", noise=0.01, lengthscale=0.3, variance=0.2)
    k = lambda a, b: 0.2 * np.exp(-0.5 * (a - b) ** 2 / 0.09)  # noqa: E731
    X, Y = np.array([0.1, 0.4, 0.8]), np.array([0.2, 0.5, 0.9]) - 0.5
    K = k(X[:, None], X[None]) + 0.01 * np.eye(3)
    ks = k(X, 0.6)
    assert mean[0, 3].item() == pytest.approx(0.5 + ks @ np.linalg.solve(K, Y))
    assert var[0, 3].item() == pytest.approx(0.2 - ks @ np.linalg.solve(K, ks) + 0.01)
    # Bayesian linear regression recovers a line from noise-free points
    xl = torch.linspace(0, 1, 12, dtype=torch.float64)[None]
    m, _ = polynomial_predictions(xl, 0.2 + 0.6 * xl, 1, noise=1e-6)
    assert m[0, -1].item() == pytest.approx(0.8, abs=1e-3)


def test_exam_extrapolates_a_linear_function_exactly():
    trained_x = torch.tensor([[0.3, 0.5, 0.4, 0.7, 0.6]], dtype=torch.float64)
    line = lambda x: 0.1 + 0.5 * x  # noqa: E731
    for x in (0.0, 0.2, 0.45, 0.9, 1.0):
        assert extrapolate(torch.tensor([x]), trained_x, line(trained_x)).item() == pytest.approx(line(x))
    # and end to end, EXAM's extrapolation follows the line where ALM stays inside the trained outputs
    x = torch.linspace(0.3, 0.7, 20, dtype=torch.float64)[None]
    queries = torch.tensor([[0.0, 1.0]], dtype=torch.float64)
    exam, _ = trained_responses(x, line(x), queries, "exam", epochs=50)
    alm, _ = trained_responses(x, line(x), queries, "alm", epochs=50)
    assert abs(exam[0, 1] - line(1.0)) < 0.03 and abs(exam[0, 0] - line(0.0)) < 0.04
    assert alm[0, 1] < line(0.7) + 0.05 and alm[0, 0] > line(0.3) - 0.05


def test_alm_interpolates_a_trained_point():
    alm = ALM(1)
    x, y = torch.tensor([0.4]), torch.tensor([0.7])
    before, _ = alm.respond(x)
    for _ in range(100):
        alm.learn(x, y)
    after, _ = alm.respond(x)
    assert before.item() == pytest.approx(0.5) and after.item() == pytest.approx(0.7, abs=0.01)


def test_scale_maps_predictions_back_to_the_raw_scale_exactly():
    scale = Scale.for_function(DELOSH_FUNCTIONS["quadratic"])
    assert (scale.y_low, scale.y_high) == pytest.approx((210 - 2500 / 12, 210.0))
    raw = np.array([12.5, 101.0, 207.25])
    np.testing.assert_allclose(scale.raw_y(scale.y(raw)), raw, rtol=0, atol=1e-12)
    assert scale.x(30.0) == 0.3 and scale.raw_sd(0.1) == pytest.approx(0.1 * (2500 / 12))
    human = load_kwantes2006()
    assert len(human) == 45 and human.x.between(0, 100).all()


def test_training_and_simulation_clis(tmp_path):
    """A tiny ERMI-FL through the trainer (model card beside a GP), then every simulation with it and a baseline."""
    run("functionlearning/train_transformer.py", "--num-episodes", 4, "--batch_size", 8, "--save-every", 2, *TINY,
        "--save-dir", tmp_path, "--output", tmp_path / "ermi_functionlearning_dim1.pt")
    card = json.loads((tmp_path / "ermi_functionlearning_dim1.json").read_text())
    assert card["config"]["head"] == "gaussian" and card["num_tasks"] == 1273 and "val_mse" in card
    assert card["gp_val_mse"] < 0.05 and card["gp_kernel"] == "rbf+linear" and card["test_tasks"]
    model = tmp_path / "ermi_functionlearning_dim1.pt"
    out = run("functionlearning/evaluate_heldout.py", "--card", tmp_path / "ermi_functionlearning_dim1.json",
              "--learners", model, "GP (RBF + linear)", "ALM", "--output", tmp_path / "heldout.csv")
    assert f"{len(sum(card['test_tasks'].values(), []))} held-out functions" in out
    assert set(pd.read_csv(tmp_path / "heldout.csv").learner) == {"ERMI", "GP (RBF + linear)", "ALM"}
    out = run("functionlearning/simulate_delosh1997.py", "--learners", model, "EXAM", "--num-runs", 2,
              "--output", tmp_path / "d.csv", "--figure", tmp_path / "d.png")
    assert "below  inside  above" in out
    curves = pd.read_csv(tmp_path / "d.csv")
    assert set(curves.learner) == {"ERMI", "EXAM"} and len(curves) == 2 * 3 * 51
    run("functionlearning/simulate_kwantes2006.py", "--learners", model, "GP (RBF + linear)", "--num-runs", 2,
        "--output", tmp_path / "k.csv", "--figure", tmp_path / "k.png")
    assert len(pd.read_csv(tmp_path / "k.csv")) == 2 * 45
    run("functionlearning/simulate_difficulty.py", "--learners", model, "ALM", "--num-tasks", 8,
        "--output", tmp_path / "df.csv", "--figure", tmp_path / "df.png")
    difficulty = pd.read_csv(tmp_path / "df.csv")
    assert len(difficulty) == 2 * 3 * 20 and (difficulty.mse >= 0).all()
    for figure in ("d.png", "k.png", "df.png"):
        assert (tmp_path / figure).stat().st_size > 0
