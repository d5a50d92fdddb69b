import math

import numpy as np
import pandas as pd
import pytest
import torch

from categorisation.experiments import DataError, load_badham2017, shepard_tasks, write_badham_format
from ermi.fitting import ChoiceData, cached_logits, choice_nll, fit_participants, simulate_choices
from ermi.model import load_model
from ermi.paths import REPO_ROOT

BADHAM = REPO_ROOT / "tests/fixtures/badham2017_first_participants.csv"


def test_choice_nll_by_hand():
    # one sequence, two trials, logits 0 and log 3: p1 = 1/2 and 3/4; choices 1 then 0
    logits = torch.tensor([[[0.0, math.log(3.0)]]], dtype=torch.float64)
    choices = torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    mask = torch.ones(1, 2, dtype=torch.float64)
    assert float(choice_nll(logits, choices, mask, 1.0)) == pytest.approx(math.log(2) + math.log(4))
    # beta = 2: p1 = 1/2 and 9/10
    assert float(choice_nll(logits, choices, mask, 2.0)) == pytest.approx(math.log(2) + math.log(10))
    # epsilon = 0.2 mixes with chance: p1 = 0.8 * 3/4 + 0.1 = 0.7 on trial 2
    assert float(choice_nll(logits, choices, mask, 1.0, 0.2)) == pytest.approx(math.log(2) - math.log(0.3))
    # two coding variants are averaged as probabilities: (3/4 + 1/4) / 2 = 1/2
    both = torch.stack([logits[0], -logits[0]])
    assert float(choice_nll(both, choices, mask, 1.0)) == pytest.approx(2 * math.log(2))
    # a masked (padded) trial contributes nothing
    assert float(choice_nll(logits, choices, torch.tensor([[1.0, 0.0]], dtype=torch.float64), 1.0)) == pytest.approx(math.log(2))


def test_badham_loader_on_real_participants():
    data = load_badham2017(BADHAM)
    assert sorted(data.participants().tolist()) == [0, 1, 2, 3]
    assert len(data.lengths) == 16
    # blocks can be short: participants 1 and 2 did 48 trials in their first block
    lengths = {(int(p), s): int(n) for s, (p, n) in enumerate(zip(data.participant, data.lengths))}
    assert sorted(n for (p, _), n in lengths.items() if p in (1, 2)) == [48, 48] + [96] * 6
    assert int(data.lengths.sum()) == 1440
    # condition 1 is type I: the category is a function of one feature within each such block
    for s in np.flatnonzero(data.condition == 1):
        n = int(data.lengths[s])
        x, y = data.x[s, :n], data.targets[s, :n]
        assert any(bool((x[:, d] == y).all() or (x[:, d] == 1 - y).all()) for d in range(3))


@pytest.mark.parametrize("edit, problem", [
    (lambda t: t.replace("0,0,0,j,j", "0,0,0,x,j", 1), ":2: choice is 'x', expected 'j' or 'f'"),
    (lambda t: t.replace("Big Black Square,\"[1, 1, 1]\",1,1,1", "Big Black Square,\"[1, 1, 1]\",1,1,7", 1),
     ":2: feature3 is 7, expected 0 or 1"),
    (lambda t: t.replace("correct_choice,", "right_choice,", 1), ":1: missing column(s) correct_choice"),
])
def test_malformed_human_data_errors(tmp_path, edit, problem):
    path = tmp_path / "bad.csv"
    path.write_text(edit(BADHAM.read_text()))
    with pytest.raises(DataError) as err:
        load_badham2017(path)
    assert str(err.value).startswith(str(path)) and problem in str(err.value)


def _trained_model():
    """The shipped MI-3D network. A random network will not do: averaged over the 96 codings its logits cancel
    into a nearly flat P(choice), whose beta is barely identifiable; a trained one agrees with itself."""
    return load_model(REPO_ROOT / "trained_models" / "mi_categorisation_dim3.pt")


def _synthetic_participants(num_participants, seqs_each=8, T=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    xs, ys = [], []
    for t in range(num_participants * seqs_each):
        x, y = shepard_tasks(t % 6 + 1, 1, T // 16, g)
        xs.append(x[0])
        ys.append(y[0])
    x, y = torch.stack(xs), torch.stack(ys)
    S = len(x)
    return ChoiceData(x, y, torch.zeros_like(y), torch.full((S,), T), np.repeat(np.arange(num_participants), seqs_each),
                      np.tile(np.arange(1, seqs_each + 1), num_participants))


def test_fit_recovers_beta_from_model_simulated_choices():
    model = _trained_model()
    data = _synthetic_participants(6)
    logits = cached_logits(model, data)
    true_beta = np.array([0.3, 0.7, 1.0, 1.5, 2.0, 2.5])  # a trained MI is sharp: beta > 3 is barely identifiable
    data.choices = simulate_choices(logits, data, true_beta[data.participant], torch.Generator().manual_seed(1))
    rows = fit_participants(logits, data)
    fitted = np.array([r["beta"] for r in rows])
    assert np.all(np.abs(fitted - true_beta) < 0.25 * true_beta + 0.1), (fitted, true_beta)
    # the fitted beta is the optimum: nudging it either way never lowers the NLL
    for r in rows:
        seqs = torch.as_tensor(np.flatnonzero(data.participant == r["participant"]))
        nll = lambda b: float(choice_nll(logits[:, seqs], data.choices[seqs].double(), data.mask[seqs].double(), b).sum())
        assert r["nll"] == pytest.approx(nll(r["beta"]))
        assert r["nll"] <= nll(r["beta"] + 0.05) + 1e-9 and r["nll"] <= nll(max(0, r["beta"] - 0.05)) + 1e-9
        assert r["bic"] == pytest.approx(2 * r["nll"] + math.log(r["n_trials"]))
        assert r["pseudo_r2"] == pytest.approx(1 - r["nll"] / (r["n_trials"] * math.log(2)))


def test_epsilon_fit_recovers_guessing():
    model = _trained_model()
    data = _synthetic_participants(2, seqs_each=20)
    logits = cached_logits(model, data)
    data.choices = simulate_choices(logits, data, np.full(len(data.lengths), 3.0), torch.Generator().manual_seed(2),
                                    torch.tensor([[0.0]] * 20 + [[0.5]] * 20, dtype=torch.float64))
    rows = fit_participants(logits, data, epsilon=True)
    assert rows[0]["epsilon"] < 0.1 and 0.35 < rows[1]["epsilon"] < 0.65
    assert rows[0]["k"] == 2


def test_write_badham_format_roundtrip(tmp_path):
    data = load_badham2017(BADHAM)
    data.choices = 1 - data.targets
    write_badham_format(data, tmp_path / "copy.csv")
    again = load_badham2017(tmp_path / "copy.csv")
    assert torch.equal(again.x, data.x) and torch.equal(again.targets, data.targets)
    assert torch.equal(again.choices * again.mask, (1 - data.targets) * data.mask)
    assert again.condition.tolist() == data.condition.tolist()


def test_full_badham_loader_counts_participants_and_trials():
    """The full file: 95 participants, 33,440 trials; each participant's trial count as pandas counts it
    (384 for 29 participants, 336 for 32, 352 for 18, fewer for 16), every block of one condition."""
    path = REPO_ROOT / "categorisation/data/human/badham2017deficits.csv"
    data = load_badham2017(path)
    assert len(data.participants()) == 95 and int(data.mask.sum()) == 33440
    counts = pd.read_csv(path).groupby("participant").size()
    per_participant = {int(p): int(data.lengths[data.participant == p].sum()) for p in data.participants()}
    assert per_participant == counts.to_dict()
    values = pd.Series(per_participant).value_counts()
    assert (values[384], values[336], values[352]) == (29, 32, 18) and values.sum() == 95
    assert (data.lengths <= 96).all() and set(np.unique(data.condition)) == {1, 2, 3, 4}
