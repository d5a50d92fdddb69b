"""Prototype model (Reed 1972; Smith & Minda 1998), fitted online trial by trial.

Similarity to the prototype of category k is exp(-c * sum_d w_d |x_td - p_kd|) (city block, attention w on the
simplex); P(category 1) = s_1 / (s_0 + s_1), mixed with guessing eps. Prototypes come from one of:
  running   - the mean of the exemplars of each category seen before trial t (learned from feedback). A category
              with no exemplars yet has similarity ``unseen`` (its own parameter, separate from eps; the
              reference used one parameter for both).
  structure - the mean of each category's stimuli over the whole problem (the category structure, known up front).
  learned   - free coordinates in [0, 1]^D per category and problem (2 D extra parameters per problem).
Parameters: c in [0, 30], eps in [0, 1], [unseen in [0, 1]], w = softmax(u), u in [-4, 4]^D, [prototypes];
k counts D - 1 for the weights.
"""
import numpy as np
import torch

from categorisation.baselines.base import ContinuousModel, Seqs
from categorisation.baselines.gcm import C_MAX, U_MAX, attention

PROTOTYPES = ("running", "structure", "learned")


def exclusive_cumsum(v, dim=1):
    return torch.cumsum(v, dim) - v


class PrototypeModel(ContinuousModel):
    name = "pm"

    def __init__(self, num_dims=3, prototypes="running"):
        if prototypes not in PROTOTYPES:
            raise ValueError(f"prototypes must be one of {PROTOTYPES}, got {prototypes!r}")
        self.num_dims, self.prototypes = num_dims, prototypes
        self.num_shared = 3 + num_dims if prototypes == "running" else 2 + num_dims

    def bounds(self, num_seqs):
        shared = [(0.0, C_MAX), (0.0, 1.0)] + ([(0.0, 1.0)] if self.prototypes == "running" else [])
        learned = [(0.0, 1.0)] * (2 * self.num_dims * num_seqs) if self.prototypes == "learned" else []
        return shared + [(-U_MAX, U_MAX)] * self.num_dims + learned

    def k(self, num_seqs):
        return len(self.bounds(num_seqs)) - 1

    def prepare(self, seqs: Seqs) -> dict:
        x, y, mask = seqs.x, seqs.targets, seqs.mask
        cache = {"seqs": seqs}
        members = torch.stack([(1.0 - y) * mask, y * mask], dim=-1)  # [S, T, 2]
        if self.prototypes == "running":
            count = exclusive_cumsum(members)  # [S, T, 2]
            total = exclusive_cumsum(members[..., None] * x[:, :, None, :])  # [S, T, 2, D]
            cache["seen"] = count > 0
            cache["proto"] = total / count.clamp_min(1.0)[..., None]
        elif self.prototypes == "structure":
            proto = (members[..., None] * x[:, :, None, :]).sum(1) / members.sum(1).clamp_min(1.0)[..., None]
            cache["proto"] = proto[:, None].expand(-1, x.shape[1], -1, -1)  # [S, T, 2, D]
        return cache

    def p_one(self, raw, cache):
        seqs = cache["seqs"]
        c, eps = raw[0], raw[1]
        w = torch.softmax(raw[self.num_shared - self.num_dims:self.num_shared], dim=0)
        if self.prototypes == "learned":
            proto = raw[self.num_shared:].view(-1, 1, 2, self.num_dims)
        else:
            proto = cache["proto"]
        distance = (seqs.x[:, :, None, :] - proto).abs() @ w  # [S, T, 2]
        sim = torch.exp(-c * distance)
        if self.prototypes == "running":
            sim = torch.where(cache["seen"], sim, raw[2])
        total = sim.sum(-1)
        p = torch.where(total > 0, sim[..., 1] / torch.where(total > 0, total, 1.0), 0.5)
        return (1.0 - eps) * p + eps / 2.0

    def natural(self, raw, num_seqs):
        w = attention(raw[self.num_shared - self.num_dims:self.num_shared]).numpy()
        out = {"c": float(raw[0]), "epsilon": float(raw[1])}
        if self.prototypes == "running":
            out["unseen"] = float(raw[2])
        out.update({f"w{d + 1}": float(w[d]) for d in range(self.num_dims)})
        if self.prototypes == "learned":
            proto = np.asarray(raw[self.num_shared:]).reshape(num_seqs, 2, self.num_dims)
            out.update({f"proto{s + 1}": str(np.round(proto[s], 3).tolist()) for s in range(num_seqs)})
        return out

    def sample_raw(self, rng, num_seqs):
        shared = [rng.uniform(1.0, 10.0), rng.uniform(0.0, 0.3)]
        if self.prototypes == "running":
            shared.append(rng.uniform(0.0, 1.0))
        learned = rng.uniform(0.0, 1.0, 2 * self.num_dims * num_seqs) if self.prototypes == "learned" else []
        return np.concatenate([shared, np.clip(rng.normal(0.0, 1.5, self.num_dims), -U_MAX, U_MAX), learned])
