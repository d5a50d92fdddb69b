"""Decision making (Binz et al. 2022): loader, problems from LLM options, the simulator, the weights head, the
study's baselines, fits, recovery and the Gini coefficient."""
import json
import math
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.stats import norm

from decisionmaking.baselines.strategies import gini, predictions, probit_learner
from decisionmaking.experiments import DataError, load_binz2022, load_experiment
from decisionmaking.fit_humans import meta_learner_logits
from decisionmaking.problems import paired_comparisons, problems_from_options
from decisionmaking.strategy_analysis import logistic_weights
from ermi.episodes import PairedComparisonPrior, lkj_cholesky, make_tokens
from ermi.fitting import fit_participants, simulate_choices
from ermi.model import MetaLearner, ModelConfig
from ermi.paths import REPO_ROOT

TINY = ["--num_layers", "2", "--d_model", "16", "--num_head", "2", "--num_hidden", "32"]


def run(*args, check=True):
    result = subprocess.run([sys.executable, *map(str, args)], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr[-3000:])
    return result


def test_loader_reads_every_experiment():
    sizes = {1: 28, 2: 24, 3: 27, 4: 23}
    for number, participants in sizes.items():
        data = load_experiment(number)
        assert len(data.participants()) == participants and data.x.shape == (participants * 30, 10, 4)
        assert (data.lengths == 10).all() and int(data.mask.sum()) == participants * 300
    exp3 = load_experiment(3)
    assert (exp3.x[..., 2:] == 0).all() and exp3.x[..., :2].abs().max() < 10  # its garbage columns are ignored
    # experiment 2 told people that every weight is positive: with x = cue(A) - cue(B), A = 1 wins more often as
    # any cue grows (the files' columns hold the opposite difference; the loader negates them)
    exp2 = load_experiment(2)
    assert (logistic_weights(exp2.x.reshape(-1, 4), exp2.targets.reshape(-1)) > 0.5).all()


@pytest.mark.parametrize("row, problem", [
    ("0,0,0,0.1,0.2,0.3,0.4,2,1", "choice is 2, expected 0 or 1"),
    ("0,0,0,abc,0.2,0.3,0.4,1,1", "x0 is 'abc', expected a number"),
    ("0,0,0.5,0.1,0.2,0.3,0.4,1,1", "step is 0.5, expected an integer"),
])
def test_loader_rejects_malformed_rows_with_one_line(tmp_path, row, problem):
    path = tmp_path / "bad.csv"
    path.write_text("participant,task,step,x0,x1,x2,x3,choice,target\n0,0,1,0.1,0.2,0.3,0.4,1,1\n" + row + "\n")
    with pytest.raises(DataError) as err:
        load_binz2022(path)
    assert str(err.value) == f"{path}:3: {problem}"


def test_pairs_from_a_tiny_hand_made_task():
    """4 options: z-score each cue, pair option i with i + 2, label 1 when the second criterion is higher."""
    options = np.array([[1.0, 10.0], [2.0, 10.0], [3.0, 30.0], [4.0, 30.0]])
    x, y = paired_comparisons(options, np.array([5.0, 9.0, 7.0, 1.0]))
    z0 = (options[:, 0] - 2.5) / np.sqrt(1.25)
    np.testing.assert_allclose(x[:, 0], [z0[2] - z0[0], z0[3] - z0[1]])
    np.testing.assert_allclose(x[:, 1], [2.0, 2.0])  # cue 2 is +-1 after z-scoring
    assert y.tolist() == [1.0, 0.0]


def test_the_llama_corpus_becomes_ten_trial_problems(tmp_path):
    tasks = problems_from_options(REPO_ROOT / "decisionmaking/data/generated_tasks/llama-3_decisionmaking_ranked_dim4.csv")
    assert len(tasks) == 725 and tasks.dropped == {"all comparisons with one label": 7}
    assert (tasks.lengths == 10).sum() == 724 and tasks.lengths.min() == 7 and tasks.x.shape[-1] == 4  # one has 15 rows
    # cues are listed by predictive strength: a regression over all pairs weighs the first cue most
    w = logistic_weights(tasks.x.reshape(-1, 4), tasks.y.reshape(-1))
    assert w[0] > w[1:].max() > 0


def test_lkj_marginals_and_simulator_conditions():
    g = torch.Generator().manual_seed(0)
    L = lkj_cholesky(20000, 4, 2.0, g)
    corr = L @ L.transpose(1, 2)
    torch.testing.assert_close(corr.diagonal(dim1=1, dim2=2), torch.ones(20000, 4))
    for i, j in ((0, 1), (2, 3), (0, 3)):  # every pair has the LKJ(2) marginal variance 1/7
        assert abs(float(corr[:, i, j].var()) - 1 / 7) < 0.01
    ranking = PairedComparisonPrior(4, "ranking").weights(500, g)
    assert (ranking.abs().diff(dim=1) <= 0).all()
    assert (PairedComparisonPrior(4, "direction").weights(500, g) >= 0).all()
    with pytest.raises(ValueError, match="condition must be one of"):
        PairedComparisonPrior(4, "sorted")


def test_ideal_observer_by_hand():
    """One cue, prior N(0, 1), noise sigma: the first prediction is 0.5; after y = 1 at x = 1 the posterior has
    the moments of N(w; 0, 1) Phi(w / (sqrt(2) sigma)) (checked on a grid); the second prediction is
    Phi(mu x / sqrt(2 sigma^2 + x^2 var))."""
    sigma = 0.5
    p, log_ev, mu = probit_learner(torch.tensor([[[1.0], [2.0]]]), torch.tensor([[1.0, 0.0]]), sigma)
    assert p[0, 0].item() == pytest.approx(0.5) and log_ev[0, 0].item() == pytest.approx(math.log(0.5))
    w = np.linspace(-10, 10, 200001)
    post = norm.pdf(w) * norm.cdf(w / (math.sqrt(2) * sigma))
    post /= post.sum()
    mean, var = (w * post).sum(), ((w - (w * post).sum()) ** 2 * post).sum()
    assert p[0, 1].item() == pytest.approx(norm.cdf(2 * mean / math.sqrt(2 * sigma ** 2 + 4 * var)), abs=1e-6)
    assert log_ev[0, 1].item() == pytest.approx(math.log(1 - p[0, 1].item()), abs=1e-9)  # y = 0 observed


def test_baselines_on_their_own_conditions():
    """On simulated tasks the first cue does well under ranking, equal weighting under direction, and the ideal
    observer is the best single learner overall."""
    g = torch.Generator().manual_seed(1)
    accuracy = {}
    for condition in ("ranking", "direction"):
        x, y = PairedComparisonPrior(4, condition).sample_tasks(1000, 10, g)
        accuracy[condition] = {k: float(((v[:, 1:] > 0.5).double() == y[:, 1:]).double().mean())
                               for k, v in predictions(x, y).items() if k != "guessing"}
    assert accuracy["ranking"]["first_cue"] > accuracy["ranking"]["equal_weighting"] + 0.1
    assert accuracy["direction"]["equal_weighting"] > accuracy["direction"]["first_cue"] + 0.1
    for condition in accuracy:
        assert accuracy[condition]["ideal_observer"] >= max(v for k, v in accuracy[condition].items()
                                                            if k != "strategy_selection") - 1e-9


def test_gini_on_known_weights():
    g = gini(torch.tensor([[1.0, 1.0, 1.0, 1.0], [0.0, -3.0, 0.0, 0.0], [1.0, 2.0, 3.0, 4.0]]))
    expected_last = sum(abs(a - b) for a in (1, 2, 3, 4) for b in (1, 2, 3, 4)) / (2 * 4 * 10)
    assert g.tolist() == pytest.approx([0.0, 0.75, expected_last])
    assert gini(torch.tensor([2.0, 0.0])).item() == pytest.approx(0.5)  # one of two cues: 1 - 1/2


def test_weights_head_reads_only_the_history():
    """w_t does not depend on x_t (it is a strategy fixed before the trial) but does on x_{t-1}."""
    torch.manual_seed(0)
    model = MetaLearner(ModelConfig(num_dims=4, d_model=16, num_layers=2, num_head=2, num_hidden=32, head="weights",
                                    dropout=0.0)).eval()
    x, y = torch.randn(1, 10, 4), (torch.rand(1, 10) < 0.5).float()
    changed = x.clone()
    changed[0, 5] += 1.0
    w, w_changed = model.cue_weights(make_tokens(x, y)), model.cue_weights(make_tokens(changed, y))
    torch.testing.assert_close(w[0, :6], w_changed[0, :6])
    assert (w[0, 6] - w_changed[0, 6]).abs().max() > 1e-4
    torch.testing.assert_close(model(make_tokens(x, y)), (w * x).sum(-1))


def test_beta_recovery_from_the_weights_head_model():
    """Choices simulated from a weights-head network at known betas are fitted back."""
    torch.manual_seed(0)
    model = MetaLearner(ModelConfig(num_dims=4, d_model=16, num_layers=2, num_head=2, num_hidden=32, head="weights"))
    data = load_experiment(1)
    data = data.subset(data.participant < 6)
    logits = meta_learner_logits(model, data)
    true_beta = np.array([0.3, 0.6, 1.0, 1.5, 2.0, 3.0])
    simulated = replace(data, choices=simulate_choices(logits, data, true_beta[np.searchsorted(data.participants(),
                        data.participant)], torch.Generator().manual_seed(3)))
    fitted = np.array([r["beta"] for r in fit_participants(logits, simulated)])
    assert np.all(np.abs(fitted - true_beta) < 0.25 * true_beta + 0.1), (fitted, true_beta)


def test_training_fitting_and_analysis_clis(tmp_path):
    """A tiny MI-DM through the real CLIs: trainer (model card with the ideal observer's accuracy), fits of one
    experiment with every baseline, comparison, recovery and the Gini analysis."""
    run("decisionmaking/train_transformer.py", "--synthetic", "--condition", "direction", "--num-episodes", 4,
        "--batch_size", 8, "--save-every", 2, "--num-val-tasks", 32, *TINY, "--save-dir", tmp_path,
        "--output", tmp_path / "mi_decisionmaking_direction.pt")
    card = json.loads((tmp_path / "mi_decisionmaking_direction.json").read_text())
    assert card["condition"] == "direction" and card["config"]["head"] == "weights"
    assert 0.6 < card["ideal_observer_val_acc"] < 1.0 and 0 <= card["val_acc"] <= 1
    fits = tmp_path / "fits"
    out = run("decisionmaking/fit_humans.py", "--experiments", 2, "--models", tmp_path / "mi_decisionmaking_direction.pt",
              "--output-dir", fits).stdout
    assert "experiment 2 (direction, 4 cues)" in out
    for model in ("mi", "guessing", "ideal_observer", "equal_weighting", "first_cue", "best_cue", "strategy_selection"):
        df = pd.read_csv(fits / f"binz2022_exp2_{model}.csv")
        assert len(df) == 24 and (df.n_trials == 300).all()
    guessing = pd.read_csv(fits / "binz2022_exp2_guessing.csv")
    assert np.allclose(guessing.nll, 300 * math.log(2)) and (guessing.k == 0).all()
    run("decisionmaking/model_comparison.py", "--experiments", 2, "--folder", fits, "--figure-dir", tmp_path,
        "--samples", 10000)
    summary = pd.read_csv(fits / "binz2022_exp2_comparison.csv")
    assert len(summary) == 7 and summary.wins.sum() == 24
    assert (tmp_path / "binz2022_exp2_model_comparison.png").stat().st_size > 0
