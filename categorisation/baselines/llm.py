"""LLM baseline: the human's choice is predicted by the LLM's own choice on the same trial, mixed with guessing,
P(human choice) = 1[LLM choice == human choice] (1 - eps) + eps / 2. Trials where the LLM gave no valid answer
count as pure guesses (P = 0.5). Closed-form fit: eps = 2 M / N for M mismatches among N valid trials; k = 1.
"""
import numpy as np
import pandas as pd
import torch

from categorisation.baselines.base import Seqs
from categorisation.baselines.rulex import bernoulli_nll
from categorisation.experiments import DataError, load_badham2017


def load_llm_choices(path):
    """Human data and the LLM's choices from a simulate_llm.py file: (ChoiceData, llm [S, T] with nan = invalid).

    Sequences are ordered as load_badham2017 orders them (participant, block, trial)."""
    data = load_badham2017(path)
    df = pd.read_csv(path)
    if "llm_choice" not in df.columns:
        raise DataError(f"{path}:1: missing column llm_choice (write it with categorisation/baselines/simulate_llm.py)")
    df = df.sort_values(["participant", "block", "trial"], kind="stable")
    llm = torch.full(data.choices.shape, float("nan"), dtype=torch.float64)
    for s, (_, g) in enumerate(df.groupby(["participant", "block"], sort=True)):
        values = g["llm_choice"].map({"j": 1.0, "f": 0.0}).to_numpy(dtype=float)
        llm[s, :len(values)] = torch.tensor(values)
    return data, llm


class LLMBaseline:
    name = "llm"

    def k(self, num_seqs):
        return 1

    def fit(self, seqs: Seqs, restarts=1, rng=None):
        if seqs.llm is None:
            raise ValueError("the LLM baseline needs the LLM's choices (load them with load_llm_choices)")
        valid = (~torch.isnan(seqs.llm)).double() * seqs.mask
        n = int(valid.sum())
        m = float(((torch.nan_to_num(seqs.llm, nan=0.0) != seqs.choices).double() * valid).sum())
        eps = min(1.0, 2.0 * m / n) if n else 1.0
        invalid = seqs.n_trials - n
        return {"epsilon": eps, "invalid": invalid}, {"epsilon": eps}, bernoulli_nll(m, n, eps) + invalid * np.log(2.0)

    def probabilities(self, raw, seqs: Seqs):
        p = seqs.llm * (1 - raw["epsilon"]) + raw["epsilon"] / 2
        return torch.nan_to_num(p, nan=0.5)
