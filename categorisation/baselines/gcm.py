"""Generalized Context Model (Nosofsky 1986), fitted online trial by trial.

On trial t every earlier trial is a stored exemplar with its true category. Similarity to exemplar j is
exp(-c * sum_k w_k |x_tk - x_jk|) (city block, attention weights w on the simplex); P(category 1) is the summed
similarity to category-1 exemplars over the summed similarity to all exemplars, mixed with guessing:
P = (1 - eps) * P + eps / 2. While a category has no exemplars yet the model guesses (P = 0.5).

Vectorised: memory is held as counts of each distinct stimulus per category before every trial (computed
once), so an evaluation is one exp over the U x U stimulus distances and one contraction with the counts:
exact, and O(T U) instead of O(T^2) per sequence (U = 8 distinct stimuli in the Badham design).

Parameters: c in [0, 30], eps in [0, 1], w = softmax(u) with u in [-4, 4]^D; k = 2 + (D - 1) because the simplex
has D - 1 degrees of freedom.
"""
import numpy as np
import torch

from categorisation.baselines.base import ContinuousModel, Seqs

C_MAX = 30.0
U_MAX = 4.0


def attention(u):
    return torch.softmax(torch.as_tensor(u, dtype=torch.float64), dim=-1)


class GCM(ContinuousModel):
    name = "gcm"

    def __init__(self, num_dims=3):
        self.num_dims = num_dims

    def bounds(self, num_seqs):
        return [(0.0, C_MAX), (0.0, 1.0)] + [(-U_MAX, U_MAX)] * self.num_dims

    def k(self, num_seqs):
        return 2 + self.num_dims - 1

    def prepare(self, seqs: Seqs) -> dict:
        """Memory as counts: count[s, t, u, k] = stored category-k exemplars of distinct stimulus u before t."""
        stimuli, stimulus = torch.unique(seqs.x.reshape(-1, seqs.x.shape[-1]), dim=0, return_inverse=True)
        onehot = torch.nn.functional.one_hot(stimulus.view(seqs.mask.shape), len(stimuli)).double()
        labelled = torch.stack([1.0 - seqs.targets, seqs.targets], -1) * seqs.mask[..., None]  # [S, T, 2]
        stored = onehot[..., None] * labelled[:, :, None, :]  # [S, T, U, 2]
        count = torch.cumsum(stored, 1) - stored
        both = (count.sum(2) > 0).all(-1)
        distance = (stimuli[:, None, :] - stimuli[None, :, :]).abs()  # [U, U, D]
        return {"seqs": seqs, "distance": distance, "stimulus": stimulus.view(seqs.mask.shape), "count": count,
                "both": both}

    def p_one(self, raw, cache):
        c, eps, w = raw[0], raw[1], torch.softmax(raw[2:], dim=0)
        sim = torch.exp(-c * (cache["distance"] @ w))[cache["stimulus"]]  # [S, T, U]
        summed = (sim[..., None] * cache["count"]).sum(2)  # [S, T, 2]
        s0, s1 = summed[..., 0], summed[..., 1]
        both = cache["both"]
        p = torch.where(both, s1 / torch.where(both, s1 + s0, 1.0), 0.5)
        return (1.0 - eps) * p + eps / 2.0

    def natural(self, raw, num_seqs):
        w = attention(raw[2:]).numpy()
        weights = {f"w{d + 1}": float(w[d]) for d in range(self.num_dims)}
        return {"c": float(raw[0]), "epsilon": float(raw[1]), **weights}

    def sample_raw(self, rng, num_seqs):
        """Recovery draws: moderate sensitivity, low guessing, attention anywhere on the simplex."""
        c, eps = rng.uniform(1.0, 10.0), rng.uniform(0.0, 0.3)
        return np.concatenate([[c, eps], np.clip(rng.normal(0.0, 1.5, self.num_dims), -U_MAX, U_MAX)])
