"""Generalized Context Model (Nosofsky 1986), fitted online trial by trial.

On trial t every earlier trial is a stored exemplar with its true category. Similarity to exemplar j is
exp(-c * sum_k w_k |x_tk - x_jk|) (city block, attention weights w on the simplex); P(category 1) is the summed
similarity to category-1 exemplars over the summed similarity to all exemplars, mixed with guessing:
P = (1 - eps) * P + eps / 2. While a category has no exemplars yet the model guesses (P = 0.5).

Vectorised: the per-feature T x T distance tensor of each sequence is computed once; an evaluation is one
weighted sum, one exp and two masked row sums. Parameters: c in [0, 30], eps in [0, 1], w = softmax(u) with
u in [-4, 4]^D; k = 2 + (D - 1) because the simplex has D - 1 degrees of freedom.
"""
import numpy as np
import torch

from categorisation.baselines.base import ContinuousModel, Seqs, past_mask

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
        past = past_mask(seqs.mask)
        one = past * seqs.targets[:, None, :]
        zero = past * (1.0 - seqs.targets[:, None, :])
        both = (one.sum(-1) > 0) & (zero.sum(-1) > 0)
        distance = (seqs.x[:, :, None, :] - seqs.x[:, None, :, :]).abs()  # [S, T, T, D]
        return {"seqs": seqs, "distance": distance, "one": one, "zero": zero, "both": both}

    def p_one(self, raw, cache):
        c, eps, w = raw[0], raw[1], torch.softmax(raw[2:], dim=0)
        sim = torch.exp(-c * (cache["distance"] @ w))
        s1, s0 = (sim * cache["one"]).sum(-1), (sim * cache["zero"]).sum(-1)
        both = cache["both"]
        p = torch.where(both, s1 / torch.where(both, s1 + s0, 1.0), 0.5)
        return (1.0 - eps) * p + eps / 2.0

    def natural(self, raw, num_seqs):
        w = attention(raw[2:]).numpy()
        return {"c": float(raw[0]), "epsilon": float(raw[1]), **{f"w{d + 1}": float(w[d]) for d in range(self.num_dims)}}

    def sample_raw(self, rng, num_seqs):
        """Recovery draws: moderate sensitivity, low guessing, attention anywhere on the simplex."""
        return np.concatenate([[rng.uniform(1.0, 10.0), rng.uniform(0.0, 0.3)], np.clip(rng.normal(0.0, 1.5, self.num_dims), -U_MAX, U_MAX)])
