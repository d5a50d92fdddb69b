"""Baselines: hand-computed likelihoods on a 4-trial toy, best-restart selection, RULEX/LLM closed forms, CLI;
LLM choices through the real SDK and the local Messages-API server (parsing, retries, invalid replies)."""
import math
import re

import numpy as np
import pandas as pd
import pytest
import torch

from categorisation.baselines.base import ContinuousModel, Seqs
from categorisation.baselines.gcm import GCM
from categorisation.baselines.llm import LLMBaseline, load_llm_choices
from categorisation.baselines.pm import PrototypeModel
from categorisation.baselines.rulex import Rulex
from categorisation.baselines.run_baselines import main as run_baselines
from categorisation.baselines.simulate_llm import main as simulate_main, parse_answer
from ermi.fitting import ChoiceData
from ermi.paths import REPO_ROOT

BADHAM_EXCERPT = REPO_ROOT / "tests/fixtures/badham2017_first_participants.csv"

# Toy: 4 trials of 2 binary features; categories follow feature 1.
X = [[0, 0], [1, 1], [0, 1], [1, 0]]
Y = [0, 1, 0, 1]
CHOICES = [1, 1, 0, 0]


def toy():
    x = torch.tensor([X], dtype=torch.float32)
    return ChoiceData(x, torch.tensor([Y], dtype=torch.float32), torch.tensor([CHOICES], dtype=torch.float32),
                      torch.tensor([4]), np.array([0]), np.array([1]))


def raw_weights(w):
    return list(np.log(w))  # softmax(log w) = w when w sums to 1


def test_gcm_matches_hand_computation():
    c, eps, w = 2.0, 0.1, [0.75, 0.25]
    # trial 0, 1: a category is still empty -> guess 0.5. Trial 2 (x=[0,1]) vs exemplars [0,0] (A), [1,1] (B):
    # d_A = 0.25, d_B = 0.75. Trial 3 (x=[1,0]) vs [0,0] (A), [1,1] (B), [0,1] (A): d = 0.75, 0.25, 1.0.
    s_a2, s_b2 = math.exp(-c * 0.25), math.exp(-c * 0.75)
    s_a3, s_b3 = math.exp(-c * 0.75) + math.exp(-c * 1.0), math.exp(-c * 0.25)
    p1 = np.array([0.5, 0.5, s_b2 / (s_a2 + s_b2), s_b3 / (s_a3 + s_b3)])
    p1 = (1 - eps) * p1 + eps / 2
    expected = -sum(math.log(p if ch else 1 - p) for p, ch in zip(p1, CHOICES))
    model = GCM(num_dims=2)
    seqs = Seqs.from_data(toy())
    raw = torch.tensor([c, eps, *raw_weights(w)], dtype=torch.float64)
    assert torch.allclose(model.p_one(raw, model.prepare(seqs))[0], torch.tensor(p1, dtype=torch.float64))
    assert model.nll(raw, model.prepare(seqs)) == pytest.approx(expected, abs=1e-10)
    assert model.k(1) == 3  # c, eps and one free weight on the 2-simplex


def test_prototype_model_matches_hand_computation():
    c, eps, unseen, w = 3.0, 0.2, 0.4, [0.5, 0.5]
    # running prototypes: trial 0 both unseen (0.5); trial 1 (x=[1,1]): A = [0,0] at d 1, B unseen -> unseen sim;
    # trial 2 (x=[0,1]): A = [0,0] d 0.5, B = [1,1] d 0.5 -> 0.5; trial 3 (x=[1,0]): A = mean([0,0],[0,1]) =
    # [0, .5] d = 0.5*1 + 0.5*0.5 = 0.75, B = [1,1] d 0.5.
    p1 = np.array([0.5, unseen / (math.exp(-c) + unseen), 0.5,
                   math.exp(-c * 0.5) / (math.exp(-c * 0.75) + math.exp(-c * 0.5))])
    p1 = (1 - eps) * p1 + eps / 2
    expected = -sum(math.log(p if ch else 1 - p) for p, ch in zip(p1, CHOICES))
    model = PrototypeModel(num_dims=2)
    raw = torch.tensor([c, eps, unseen, *raw_weights(w)], dtype=torch.float64)
    assert model.nll(raw, model.prepare(Seqs.from_data(toy()))) == pytest.approx(expected, abs=1e-10)
    assert model.k(1) == 4  # c, eps, unseen (separate from eps), one free weight


def test_structure_prototypes_have_no_unseen_parameter():
    model = PrototypeModel(num_dims=2, prototypes="structure")
    # prototypes over the whole problem: A = [0, .5], B = [1, .5]; equal weights -> d = 0.25 / 0.75 or reverse
    raw = torch.tensor([2.0, 0.0, 0.0, 0.0], dtype=torch.float64)
    p1 = model.p_one(raw, model.prepare(Seqs.from_data(toy())))[0]
    near, far = math.exp(-2 * 0.25), math.exp(-2 * 0.75)
    assert torch.allclose(p1, torch.tensor([far, near, far, near], dtype=torch.float64) / (near + far))
    assert model.k(1) == 3


class Bumpy(ContinuousModel):
    """One parameter, two basins: a local minimum near 0.2 and the global one at 0.8."""

    name = "bumpy"

    def bounds(self, num_seqs):
        return [(0.0, 1.0)]

    def p_one(self, raw, cache):
        a = raw[0]
        depth = 0.3 * torch.exp(-((a - 0.2) / 0.05) ** 2) + 0.45 * torch.exp(-((a - 0.8) / 0.05) ** 2)
        return (0.5 + depth).expand_as(cache["seqs"].mask)

    def natural(self, raw, num_seqs):
        return {"a": float(raw[0])}


def test_best_restart_is_kept():
    seqs = Seqs.from_data(ChoiceData(torch.zeros(1, 10, 1), torch.ones(1, 10), torch.ones(1, 10), torch.tensor([10]),
                                     np.array([0]), np.array([1])))
    params, _, nll = Bumpy().fit(seqs, restarts=20, rng=np.random.default_rng(0))
    assert params["a"] == pytest.approx(0.8, abs=1e-3)
    assert nll == pytest.approx(-10 * math.log(0.95), abs=1e-6)


def test_rulex_closed_form_and_exceptions():
    data = toy()
    data.choices[:] = torch.tensor([[0, 1, 0, 0]])  # feature-1 rule misses only trial 3
    params, raw, nll = Rulex(num_dims=2).fit(Seqs.from_data(data))
    assert params["rules"] == "f1" and params["g"] == pytest.approx(0.5)
    assert nll == pytest.approx(-3 * math.log(0.75) - math.log(0.25))
    params, _, nll = Rulex(num_dims=2, exceptions=True).fit(Seqs.from_data(data))
    assert "except" in params["rules"] and params["g"] == 0.0 and nll == pytest.approx(0.0)  # a perfect fit
    assert Rulex(num_dims=3).k(4) == 5 and Rulex(num_dims=3, exceptions=True).k(4) == 9


def test_llm_baseline_counts_invalid_answers_as_guesses():
    data = toy()
    llm = torch.tensor([[1.0, 1.0, float("nan"), 1.0]])  # agrees on trials 0, 1; invalid on 2; disagrees on 3
    params, _, nll = LLMBaseline().fit(Seqs.from_data(data, llm))
    assert params["epsilon"] == pytest.approx(2 / 3) and params["invalid"] == 1
    assert nll == pytest.approx(-2 * math.log(1 - 1 / 3) - math.log(1 / 3) + math.log(2))


def test_run_baselines_writes_fits_csv(tmp_path):
    out = tmp_path / "gcm.csv"
    run_baselines(["--model", "gcm", "--restarts", "2", "--data", str(BADHAM_EXCERPT), "--output", str(out)])
    df = pd.read_csv(out)
    assert list(df.columns[:2]) == ["model", "participant"]
    assert {"c", "epsilon", "w1", "w2", "w3", "nll", "n_trials", "k", "bic", "aic", "pseudo_r2"} <= set(df.columns)
    assert (df.k == 4).all() and (df.nll < df.n_trials * math.log(2)).all()
    assert np.allclose(df.bic, 2 * df.nll + 4 * np.log(df.n_trials))
    assert (tmp_path / "gcm.csv.json").exists()


# --- LLM choices (simulate_llm.py) ---------------------------------------------------------------------------
@pytest.fixture
def small_badham(tmp_path):
    df = pd.read_csv(BADHAM_EXCERPT)
    df = df[df.participant.isin([0, 1]) & (df.groupby(["participant", "block"]).cumcount() < 4)]
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path


def question_letters(body):
    return re.findall(r"single letter (\w) or (\w)", body["messages"][-1]["content"])[0]


@pytest.mark.parametrize("text, expected", [("A", "A"), (" b.", "B"), ("Category A", "A"), ("**B**", "B"),
                                            ("A or B", None), ("", None), ("Banana", None), ("I think A", None),
                                            ("C", None)])
def test_parse_answer(text, expected):
    assert parse_answer(text, ("A", "B")) == expected


def test_human_mode_handles_malformed_and_truncated_replies(messages_server, small_badham, tmp_path):
    def reply(body):
        prompt = body["messages"][-1]["content"]
        a, _ = question_letters(body)
        if "Small White Triangle" in prompt.splitlines()[-1]:
            return "Let me think about this very carefully first"  # never a letter: invalid after retries
        return a

    messages_server.reply = reply
    messages_server.faults.extend(["truncated", "garbage"])  # an empty reply and a non-JSON body
    out = tmp_path / "llm.csv"
    simulate_main(["--backend", "anthropic", "--mode", "human", "--data", str(small_badham), "--output", str(out),
                   "--retries", "2", "--max-attempts", "3"])
    df = pd.read_csv(out, keep_default_na=False)
    hard = df.object == "Small White Triangle"
    assert hard.any() and (df.llm_choice[hard] == "").all() and (df.llm_attempts[hard] == 3).all()
    assert (df.llm_choice[~hard] == "j").all()  # first letter = 'j'; the truncated reply was re-asked
    assert len(df) == 32  # 2 participants x 4 problems x 4 trials
    prompts = [b["messages"][-1]["content"] for b in messages_server.requests]
    assert any("you picked" in p for p in prompts)
    data, llm = load_llm_choices(out)
    assert int(llm.isnan().sum() - (~data.mask).sum()) == int(hard.sum())
    # a rerun reuses the logged replies: no new requests, same answers
    served = len(messages_server.requests)
    messages_server.reply = lambda body: "B"
    simulate_main(["--backend", "anthropic", "--mode", "human", "--data", str(small_badham), "--output", str(out),
                   "--retries", "2", "--max-attempts", "3"])
    assert len(messages_server.requests) == served
    assert pd.read_csv(out, keep_default_na=False).llm_choice.tolist() == df.llm_choice.tolist()
    fits = tmp_path / "fits.csv"
    run_baselines(["--model", "llm", "--data", str(out), "--output", str(fits)])
    fitted = pd.read_csv(fits)
    assert (fitted.k == 1).all() and (fitted.invalid == hard.groupby(df.participant).sum().to_numpy()).all()


def test_llm_mode_feeds_back_its_own_answers(messages_server, small_badham, tmp_path):
    messages_server.reply = lambda body: question_letters(body)[1]
    out = tmp_path / "llm.csv"
    simulate_main(["--backend", "anthropic", "--mode", "llm", "--data", str(small_badham), "--output", str(out)])
    df = pd.read_csv(out, keep_default_na=False)
    assert (df.llm_choice == "f").all()
    last = [b["messages"][-1]["content"] for b in messages_server.requests][-1]
    picked = re.findall(r"you picked (\w)", last)
    assert len(picked) == 3 and len(set(picked)) == 1  # three earlier trials of this problem, its own answers


# --- Smith & Minda (1998) segment fits (smith_minda.py) ------------------------------------------------------
def test_smith_minda_predictions():
    from categorisation.baselines.smith_minda import predictions
    from categorisation.experiments import smith1998_design

    x14, y14, prototypes = (torch.as_tensor(a, dtype=torch.float64) for a in smith1998_design())
    flat = torch.tensor([0.0, 0.0] + [0.0] * 6, dtype=torch.float64)
    assert torch.allclose(predictions("gcm", flat, x14, y14, prototypes), torch.full((14,), 0.5, dtype=torch.float64))
    sharp = torch.tensor([60.0, 0.2] + [0.0] * 6, dtype=torch.float64)  # neighbours: exp(-60 / 6) ~ 5e-5
    # the exemplar model with sharp similarity reproduces the training labels, exceptions included (eps-mixed);
    # the prototype model puts each exception (A: index 6, B: index 13) in the other category
    gcm = predictions("gcm", sharp, x14, y14, prototypes)
    assert torch.allclose(gcm, 0.8 * y14 + 0.1, atol=1e-3)
    pm = predictions("pm", sharp, x14, y14, prototypes)
    assert pm[6] > 0.85 and pm[13] < 0.15 and pm[0] < 0.15 and pm[7] > 0.85


def test_smith_minda_cli(tmp_path):
    from categorisation.baselines.smith_minda import main as smith_main
    from ermi.model import MetaLearner, ModelConfig, save_weights

    weights = tmp_path / "toy6_net.pt"
    save_weights(weights, MetaLearner(ModelConfig(num_dims=6, d_model=16, num_layers=1, num_head=2, num_hidden=32)))
    out, figure = tmp_path / "fits.csv", tmp_path / "fig.png"
    smith_main(["--weights", str(weights), "--baselines", "gcm", "--runs", "2", "--segments", "2", "--restarts", "1",
                "--output", str(out), "--figure", str(figure)])
    fits = pd.read_csv(out)
    assert len(fits) == 2 * 2 * 2 * 2  # learners x runs x segments x fitted models
    assert set(fits.learner) == {"gcm", "toy6"} and (fits.sse >= 0).all() and figure.exists()
    assert np.allclose(fits[[f"w{d}" for d in range(1, 7)]].sum(axis=1), 1.0)
    weights3 = tmp_path / "toy3_net.pt"
    save_weights(weights3, MetaLearner(ModelConfig(num_dims=3, d_model=16, num_layers=1, num_head=2, num_hidden=32)))
    with pytest.raises(ValueError, match="6-D"):
        smith_main(["--weights", str(weights3), "--runs", "1", "--output", str(out), "--figure", str(figure)])


def test_vectorised_models_equal_naive_trial_loops():
    """GCM and running-prototype PM on random continuous stimuli (every stimulus distinct) vs plain loops."""
    rng = np.random.default_rng(0)
    T, D = 30, 3
    x, y = rng.random((T, D)), (rng.random(T) < 0.5).astype(float)
    data = ChoiceData(torch.tensor(x[None]), torch.tensor(y[None]), torch.tensor(y[None]), torch.tensor([T]),
                      np.array([0]), np.array([1]))
    seqs = Seqs.from_data(data)
    c, eps, unseen, w = 4.0, 0.1, 0.3, np.array([0.5, 0.3, 0.2])
    gcm, pm = [], []
    for t in range(T):
        past = np.arange(t)
        s = np.exp(-c * np.abs(x[past] - x[t]) @ w)
        s1, s0 = s[y[past] == 1].sum(), s[y[past] == 0].sum()
        gcm.append(s1 / (s1 + s0) if (y[past] == 1).any() and (y[past] == 0).any() else 0.5)
        sim = [np.exp(-c * np.abs(x[past][y[past] == k].mean(0) - x[t]) @ w) if (y[past] == k).any() else unseen
               for k in (0, 1)]
        pm.append(sim[1] / (sim[0] + sim[1]))
    raw = torch.tensor([c, eps, *np.log(w)], dtype=torch.float64)
    got = GCM().probabilities(raw, seqs)[0].numpy()
    assert got == pytest.approx((1 - eps) * np.array(gcm) + eps / 2, abs=1e-12)
    raw = torch.tensor([c, eps, unseen, *np.log(w)], dtype=torch.float64)
    got = PrototypeModel().probabilities(raw, seqs)[0].numpy()
    assert got == pytest.approx((1 - eps) * np.array(pm) + eps / 2, abs=1e-12)
