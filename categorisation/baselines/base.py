"""Shared machinery of the cognitive-model baselines.

A model sees a participant's sequences (one per problem) as double tensors and predicts P(choice = 1) on every
trial from the trials before it with their true feedback. Continuous models are fitted with L-BFGS-B on exact
autograd gradients from several random starts, and the best start is kept (the reference kept the last one).
Per-participant fits share parameters across problems; ``per_condition`` fits every problem on its own and sums
NLL and k, which is how the reference counted.
"""
import zlib
from dataclasses import dataclass

import numpy as np
import torch
from scipy.optimize import minimize
from tqdm import tqdm

from ermi.fitting import ChoiceData, information_criteria, single_thread


@dataclass
class Seqs:
    """Sequences of one fitting unit: x [S, T, D], targets, choices, mask [S, T] (all float64)."""

    x: torch.Tensor
    targets: torch.Tensor
    choices: torch.Tensor
    mask: torch.Tensor
    llm: torch.Tensor = None  # [S, T] the LLM's own choice (1/0, nan when invalid), for the LLM baseline

    @classmethod
    def from_data(cls, data: ChoiceData, llm=None):
        mask = data.mask.double()
        return cls(data.x.double(), data.targets.double() * mask, data.choices.double() * mask, mask,
                   None if llm is None else llm.double())

    def select(self, idx):
        idx = torch.as_tensor(np.atleast_1d(idx))
        T = int(self.mask[idx].sum(-1).max())
        pick = lambda t: None if t is None else t[idx, :T]  # noqa: E731
        return Seqs(pick(self.x), pick(self.targets), pick(self.choices), pick(self.mask), pick(self.llm))

    @property
    def n_trials(self) -> int:
        return int(self.mask.sum())


def choice_nll(p1, seqs: Seqs) -> torch.Tensor:
    """Summed NLL of the observed choices given P(choice = 1) per trial."""
    p = torch.where(seqs.choices.bool(), p1, 1.0 - p1).clamp_min(1e-12)
    return -(torch.log(p) * seqs.mask).sum()


def minimise(loss, bounds, restarts, rng):
    """Minimise a torch loss of a box-bounded parameter vector: L-BFGS-B on exact autograd gradients from
    ``restarts`` uniform random starts, keeping the best (the reference kept the last). Returns (x, loss)."""
    lo, hi = np.array(bounds).T

    def objective(x):
        theta = torch.tensor(x, dtype=torch.float64, requires_grad=True)
        value = loss(theta)
        value.backward()
        return float(value.detach()), theta.grad.numpy().copy()

    best = None
    for _ in range(restarts):
        res = minimize(objective, rng.uniform(lo, hi), jac=True, method="L-BFGS-B", bounds=bounds)
        if best is None or res.fun < best.fun:
            best = res
    return best.x, float(best.fun)


class ContinuousModel:
    """A model with a box-bounded raw parameter vector; subclasses define names, bounds and ``p_one``."""

    name = "model"

    def prepare(self, seqs: Seqs) -> dict:
        return {"seqs": seqs}

    def bounds(self, num_seqs: int) -> list:
        raise NotImplementedError

    def p_one(self, raw: torch.Tensor, cache: dict) -> torch.Tensor:
        raise NotImplementedError

    def natural(self, raw: np.ndarray, num_seqs: int) -> dict:
        raise NotImplementedError

    def k(self, num_seqs: int) -> int:
        return len(self.bounds(num_seqs))

    def nll(self, raw, cache) -> float:
        return float(choice_nll(self.p_one(torch.as_tensor(raw, dtype=torch.float64), cache), cache["seqs"]))

    def fit(self, seqs: Seqs, restarts: int, rng: np.random.Generator):
        """Best of ``restarts`` L-BFGS-B runs from uniform random starts: (natural params, raw, nll)."""
        cache = self.prepare(seqs)
        raw, nll = minimise(lambda theta: choice_nll(self.p_one(theta, cache), seqs), self.bounds(len(seqs.mask)),
                            restarts, rng)
        return self.natural(raw, len(seqs.mask)), raw, nll

    def probabilities(self, raw, seqs: Seqs) -> torch.Tensor:
        """P(choice = 1) per trial [S, T] under raw parameters (for simulation and recovery)."""
        with torch.no_grad():
            return self.p_one(torch.as_tensor(raw, dtype=torch.float64), self.prepare(seqs))

    def sample_raw(self, rng: np.random.Generator, num_seqs: int) -> np.ndarray:
        """Generating parameters for recovery studies: uniform over the model's bounds."""
        lo, hi = np.array(self.bounds(num_seqs)).T
        return rng.uniform(lo, hi)


def fit_participants(model, data: ChoiceData, restarts=5, seed=0, per_condition=False, llm=None, progress=True):
    """One fits row per participant: model, participant, parameters, nll, n_trials, k, bic, aic, pseudo_r2.

    Each participant gets its own random stream (seed, participant id), so a fit does not depend on which other
    participants are in the file."""
    all_seqs = Seqs.from_data(data, llm)
    with single_thread():
        return [fit_participant(model, data, all_seqs, pid, restarts, seed, per_condition)
                for pid in tqdm(data.participants(), desc=model.name, disable=not progress, leave=False)]


def participant_seed(pid) -> int:
    """A participant's random stream: its id when it is a number, else a stable hash of the id's text."""
    try:
        return int(pid)
    except (TypeError, ValueError):
        return zlib.crc32(str(pid).encode())


def fit_participant(model, data, all_seqs, pid, restarts, seed, per_condition):
    idx = np.flatnonzero(data.participant == pid)
    rng = np.random.default_rng([seed, participant_seed(pid)])
    units = [[i] for i in idx] if per_condition else [idx]
    by_condition = len(set(data.condition[idx])) == len(idx)  # name per-problem columns by condition if unique
    row, nll, k, n_trials = {"model": model.name, "participant": pid.item() if hasattr(pid, "item") else pid}, 0.0, 0, 0
    for j, unit in enumerate(units):
        seqs = all_seqs.select(unit)
        params, _, unit_nll = model.fit(seqs, restarts, rng)
        suffix = "" if not per_condition else f"_cond{int(data.condition[unit[0]])}" if by_condition else f"_block{j}"
        row.update({f"{name}{suffix}": value for name, value in params.items()})
        nll, k, n_trials = nll + unit_nll, k + model.k(len(unit)), n_trials + seqs.n_trials
    row.update({"nll": nll, "n_trials": n_trials, "k": k})
    row.update({key: float(v) for key, v in information_criteria(nll, n_trials, k).items()})
    return row
