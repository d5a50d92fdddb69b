"""Trial-by-trial fits of a trained meta-learner to human choices.

The network runs once per participant sequence and its logits are cached; the inverse temperature beta (and
optionally a guessing rate epsilon) is then a cheap 1-2 parameter problem on those logits. The objective is
deterministic: instead of re-drawing nuisance randomisation at every evaluation (the reference's noisy
objective), the choice probability is averaged over the label coding (y -> 1 - y) and, for binary stimuli, the
feature coding (x -> 1 - x), all four variants mapped back to the original coding.
"""
import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize, minimize_scalar

from ermi.episodes import make_tokens

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


@torch.no_grad()
def cached_logits(model, data: ChoiceData, marginalise=True, device="cpu", chunk=512) -> torch.Tensor:
    """Logits of choosing label 1 under the model, [V, S, T], V coding variants in the original coding.

    The model sees the true feedback of the previous trial, as the participant did."""
    model = model.to(device).eval()
    binary = bool(((data.x == 0) | (data.x == 1)).all())
    variants = [(False, False), (True, False)]
    if marginalise and binary:
        variants += [(False, True), (True, True)]
    if not marginalise:
        variants = variants[:1]
    out = []
    for flip_label, flip_features in variants:
        x = 1.0 - data.x if flip_features else data.x
        y = 1.0 - data.targets if flip_label else data.targets
        tokens = make_tokens(x, y)
        logits = torch.cat([model(tokens[i:i + chunk].to(device)).cpu() for i in range(0, len(tokens), chunk)])
        out.append(-logits if flip_label else logits)
    return torch.stack(out).double()


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
    mask = data.mask.double()
    choices = data.choices.double()
    grid = torch.linspace(0.0, beta_max, grid_size, dtype=torch.float64)
    nll_grid = choice_nll(logits, choices, mask, grid.view(-1, 1, 1, 1))  # [G, S]
    rows = []
    for pid in data.participants():
        seqs = torch.as_tensor(np.flatnonzero(data.participant == pid))
        lg, ch, mk = logits[:, seqs], choices[seqs], mask[seqs]
        n_trials = int(mk.sum())
        best = float(grid[nll_grid[:, seqs].sum(1).argmin()])

        def objective(params):
            return float(choice_nll(lg, ch, mk, params[0], params[1] if epsilon else 0.0).sum())

        if epsilon:
            res = minimize(objective, x0=[best, 0.05], bounds=[(0.0, beta_max), (0.0, 1.0)], method="L-BFGS-B")
            params, nll = res.x, float(res.fun)
        else:
            step = beta_max / (grid_size - 1)
            res = minimize_scalar(lambda b: objective([b]), bounds=(max(0.0, best - step), min(beta_max, best + step)),
                                  method="bounded", options={"xatol": 1e-6})
            params, nll = [float(res.x)], float(res.fun)
        p1 = torch.sigmoid(params[0] * lg).mean(0)
        if epsilon:
            p1 = (1 - params[1]) * p1 + params[1] / 2
        targets = data.targets[seqs].double()
        accuracy = float((torch.where(targets.bool(), p1, 1 - p1) * mk).sum() / n_trials)
        k = 2 if epsilon else 1
        row = {"participant": pid, "beta": params[0], **({"epsilon": params[1]} if epsilon else {}), "nll": nll,
               "n_trials": n_trials, "k": k}
        row.update({key: float(v) for key, v in information_criteria(nll, n_trials, k).items()})
        row["accuracy"] = accuracy
        row["human_accuracy"] = float(((data.choices[seqs] == data.targets[seqs]).double() * mk).sum() / n_trials)
        rows.append(row)
    return rows


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
