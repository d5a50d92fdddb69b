"""Trial-by-trial fits of a trained meta-learner to human choices.

The network runs once per participant sequence and its logits are cached; the inverse temperature beta (and
optionally a guessing rate epsilon) is then a cheap 1-2 parameter problem on those logits. The objective is
deterministic: instead of re-drawing nuisance randomisation at every evaluation (the reference's noisy
objective), the choice probability is averaged over the coding group of the data (label swap x feature flips x
feature permutations, ermi.codings), so a participant's fit is the same however the experimenter coded the data.
"""
import math
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize, minimize_scalar
from threadpoolctl import threadpool_limits

from ermi.codings import Codings, coded_logits, coding_group

LOG2 = math.log(2.0)


@dataclass
class ChoiceData:
    """Padded trial sequences of an experiment: one row per (participant, problem) sequence."""

    x: torch.Tensor  # [S, T, D] stimuli in [0, 1]
    targets: torch.Tensor  # [S, T] correct label (0/1)
    choices: torch.Tensor  # [S, T] participant's choice (0/1)
    lengths: torch.Tensor  # [S]
    participant: np.ndarray  # [S] participant id of each sequence
    condition: np.ndarray  # [S] condition (problem type) of each sequence

    @property
    def mask(self) -> torch.Tensor:
        return torch.arange(self.x.shape[1])[None, :] < self.lengths[:, None]

    def participants(self) -> np.ndarray:
        return np.unique(self.participant)

    def subset(self, keep: np.ndarray) -> "ChoiceData":
        idx = torch.as_tensor(np.flatnonzero(keep))
        T = int(self.lengths[idx].max())
        return ChoiceData(self.x[idx, :T], self.targets[idx, :T], self.choices[idx, :T], self.lengths[idx],
                          self.participant[keep], self.condition[keep])


@contextmanager
def single_thread():
    """For work on small tensors (fits on cached logits, baselines): torch's OpenMP threads and scipy's BLAS
    threads otherwise spin against each other, 10-25x slower (measured on 2 cores). threadpoolctl comes with
    scikit-learn."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(before)


def cached_logits(model, data: ChoiceData, codings: Codings = None, device="cpu", progress=False) -> torch.Tensor:
    """Logits of choosing label 1 under every coding of the data [V, S, T], mapped back to the original coding.

    ``codings`` defaults to the coding group of the data's features (see ermi.codings), so that the averaged
    choice probability, and every fit built on it, does not depend on how the data happen to be coded."""
    codings = coding_group(data.x.shape[-1]) if codings is None else codings
    return coded_logits(model, data.x, data.targets, codings, device, lengths=data.lengths, progress=progress)


def choice_nll(logits, choices, mask, beta, epsilon=0.0) -> torch.Tensor:
    """NLL per sequence of the observed choices, p = mean_v sigmoid(beta * logit_v), eps-mixed with chance.

    beta may be a tensor of shape [G, 1, 1, 1] to evaluate a grid at once; the result is then [G, S]."""
    p1 = torch.sigmoid(beta * logits).mean(dim=-3)
    p1 = (1.0 - epsilon) * p1 + epsilon / 2.0
    p_choice = torch.where(choices.bool(), p1, 1.0 - p1).clamp_min(1e-12)
    return -(torch.log(p_choice) * mask).sum(-1)


def information_criteria(nll, n_trials, k):
    nll, n_trials = np.asarray(nll, float), np.asarray(n_trials, float)
    return {"bic": 2 * nll + k * np.log(n_trials), "aic": 2 * nll + 2 * k, "pseudo_r2": 1.0 - nll / (n_trials * LOG2)}


def fit_participants(logits, data: ChoiceData, epsilon=False, beta_max=10.0, grid_size=101):
    """Fit beta (and epsilon) per participant by a vectorised grid search refined with a bounded optimiser.

    Returns one dict per participant with beta, [epsilon,] nll, n_trials, k, bic, aic, pseudo_r2, accuracy."""
    grid = torch.linspace(0.0, beta_max, grid_size, dtype=torch.float64)
    with single_thread():
        return [fit_participant(logits, data, pid, grid, epsilon) for pid in data.participants()]


def fit_participant(logits, data: ChoiceData, pid, grid, epsilon=False) -> dict:
    """One participant's fits row; ``grid`` holds the beta values searched before the bounded refinement."""
    seqs = torch.as_tensor(np.flatnonzero(data.participant == pid))
    lg, ch, mk = logits[:, seqs], data.choices[seqs].double(), data.mask[seqs].double()
    n_trials = int(mk.sum())
    # the grid only brackets the optimum for the refinement below, so float32 (3x faster) is enough there
    coarse = choice_nll(lg.float(), ch.float(), mk.float(), grid.float().view(-1, 1, 1, 1)).sum(1)
    best = float(grid[coarse.argmin()])
    beta_max = float(grid[-1])

    def objective(params):
        return float(choice_nll(lg, ch, mk, params[0], params[1] if epsilon else 0.0).sum())

    if epsilon:
        res = minimize(objective, x0=[best, 0.05], bounds=[(0.0, beta_max), (0.0, 1.0)], method="L-BFGS-B")
        params, nll = res.x, float(res.fun)
    else:
        step = float(grid[1] - grid[0])
        res = minimize_scalar(lambda b: objective([b]), bounds=(max(0.0, best - step), min(beta_max, best + step)),
                              method="bounded", options={"xatol": 1e-6})
        params, nll = [float(res.x)], float(res.fun)
    p1 = torch.sigmoid(params[0] * lg).mean(0)
    if epsilon:
        p1 = (1 - params[1]) * p1 + params[1] / 2
    targets = data.targets[seqs].double()
    k = 2 if epsilon else 1
    row = {"participant": pid, "beta": params[0], **({"epsilon": params[1]} if epsilon else {}), "nll": nll,
           "n_trials": n_trials, "k": k}
    row.update({key: float(v) for key, v in information_criteria(nll, n_trials, k).items()})
    row["accuracy"] = float((torch.where(targets.bool(), p1, 1 - p1) * mk).sum() / n_trials)
    row["human_accuracy"] = float(((data.choices[seqs] == data.targets[seqs]).double() * mk).sum() / n_trials)
    return row


def simulate_choices(logits, data: ChoiceData, beta, generator, epsilon=0.0) -> torch.Tensor:
    """Choices sampled from the model on each sequence (teacher-forced with the true feedback), [S, T]."""
    beta = torch.tensor(np.asarray(beta, dtype=np.float64)).view(1, -1, 1)
    p1 = torch.sigmoid(beta * logits).mean(0)
    p1 = (1 - epsilon) * p1 + epsilon / 2
    return (torch.rand(p1.shape, generator=generator, dtype=torch.float64) < p1).float() * data.mask


FIT_COLUMNS = ("model", "participant", "nll", "n_trials", "k", "bic", "aic", "pseudo_r2")
DESCRIPTIVES = ("accuracy", "human_accuracy")


def write_fits(rows, output, started, **provenance):
    """Fits CSV (one row per model x participant; parameters between the ids and the scores) + JSON sidecar."""
    import pandas as pd

    from ermi.paths import ensure_parent, write_sidecar

    df = pd.DataFrame(rows)
    missing = [c for c in FIT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"fit rows lack column(s) {', '.join(missing)}")
    params = [c for c in df.columns if c not in FIT_COLUMNS and c not in DESCRIPTIVES]
    descriptives = [c for c in DESCRIPTIVES if c in df.columns]
    df = df[["model", "participant", *params, *FIT_COLUMNS[2:], *descriptives]]
    df.to_csv(ensure_parent(output), index=False)
    write_sidecar(output, started, **provenance)
    return df
