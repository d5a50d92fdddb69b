"""The coding group of a category-learning experiment, and model predictions averaged over it.

Which category an experimenter calls 1, which end of each feature is 1 and the order of the feature columns are
arbitrary. A fit must not depend on them, so a meta-learner's choice probability is averaged over the whole group
of recodings: label swap x per-feature flips (x -> 1 - x, on features scaled to [0, 1]) x feature permutations,
2 * 2^D * D! codings (96 for three features). Recoding the data then only reorders the group, and the average,
hence the likelihood, is unchanged. Where the group is large (768 codings at 4-D, 92,160 at 6-D) a fixed seeded
sample stands in for it, with the identity always first.
"""
import itertools
import math
from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from ermi.episodes import make_tokens

MAX_CODINGS = 96  # the whole group up to three features; a seeded sample of this many beyond


@dataclass(frozen=True)
class Codings:
    """V codings of D features: label swap [V] (bool), feature flips [V, D] (bool), feature order [V, D].

    Coding v shows feature ``perm[v, j]`` (flipped when ``flip[v, perm[v, j]]``) in column j."""

    swap: torch.Tensor
    flip: torch.Tensor
    perm: torch.Tensor

    def __len__(self):
        return len(self.swap)

    @property
    def exact(self) -> bool:
        """True when these are the whole group (so the average is exactly invariant)."""
        D = self.flip.shape[1]
        return len(self) == group_size(D)

    def apply(self, x: torch.Tensor, y: torch.Tensor):
        """x [..., T, D] and labels y [..., T] in every coding: [V, ..., T, D] and [V, ..., T]."""
        V, D = self.flip.shape
        shape = (V,) + (1,) * (x.dim() - 1) + (D,)
        flipped = torch.where(self.flip.view(shape), 1.0 - x[None], x[None])
        coded_x = flipped.gather(-1, self.perm.view(shape).expand(V, *x.shape))
        coded_y = torch.where(self.swap.view((V,) + (1,) * y.dim()), 1.0 - y[None], y[None])
        return coded_x, coded_y

    def decode(self, logits: torch.Tensor) -> torch.Tensor:
        """Logits of label 1 in each coding [V, ...] -> logits of the original label 1 (negated where swapped)."""
        sign = 1.0 - 2.0 * self.swap.to(logits.dtype)
        return logits * sign.view((-1,) + (1,) * (logits.dim() - 1))


def group_size(num_dims: int) -> int:
    return 2 * 2 ** num_dims * math.factorial(num_dims)


def identity(num_dims: int) -> Codings:
    return Codings(torch.zeros(1, dtype=torch.bool), torch.zeros(1, num_dims, dtype=torch.bool),
                   torch.arange(num_dims)[None])


def coding_group(num_dims: int, max_codings: int = MAX_CODINGS, seed: int = 0) -> Codings:
    """The whole coding group when it has at most ``max_codings`` elements, else a seeded sample of that many
    (identity first, the rest drawn uniformly and independently)."""
    if max_codings < 1:
        raise ValueError(f"max_codings must be >= 1, got {max_codings}")
    if group_size(num_dims) <= max_codings:
        elements = [(s, f, p) for s in (0, 1) for f in itertools.product((0, 1), repeat=num_dims)
                    for p in itertools.permutations(range(num_dims))]
        swap, flip, perm = zip(*elements)
    else:
        rng = np.random.default_rng(seed)
        swap = [0, *rng.integers(0, 2, max_codings - 1)]
        flip = [(0,) * num_dims, *rng.integers(0, 2, (max_codings - 1, num_dims))]
        perm = [tuple(range(num_dims)), *(rng.permutation(num_dims) for _ in range(max_codings - 1))]
    return Codings(torch.tensor(np.asarray(swap), dtype=torch.bool), torch.tensor(np.asarray(flip), dtype=torch.bool),
                   torch.tensor(np.asarray(perm), dtype=torch.long))


@torch.inference_mode()
def coded_logits(model, x: torch.Tensor, y: torch.Tensor, codings: Codings, device="cpu", lengths=None,
                 max_tokens=1 << 14, progress=False) -> torch.Tensor:
    """Logits of the original label 1 for sequences x [S, T, D], y [S, T] under every coding: [V, S, T] (float64).

    Teacher-forced: trial t sees the true feedback of trials < t. All codings of a few sequences go through the
    network together, in batches of about ``max_tokens`` tokens (small enough to stay in the CPU caches: about
    30 % faster on 2 cores than 64k-token batches; see benchmarks/bench_fitting.py). With ``lengths`` [S],
    sequences of similar length are batched together and cut to their longest, so padding costs no compute;
    padded positions get logit 0."""
    model = model.to(device).eval()
    S, T, _ = x.shape
    order = torch.argsort(torch.as_tensor(lengths), stable=True) if lengths is not None else torch.arange(S)
    per_batch = max(1, max_tokens // (len(codings) * max(T, 1)))
    out = torch.zeros(len(codings), S, T, dtype=torch.float64)
    for start in tqdm(range(0, S, per_batch), desc=f"network x {len(codings)} codings", unit="batch",
                      disable=not progress, leave=False):
        index = order[start:start + per_batch]
        length = int(torch.as_tensor(lengths)[index].max()) if lengths is not None else T
        cx, cy = codings.apply(x[index, :length], y[index, :length])
        tokens = make_tokens(cx.flatten(0, 1), cy.flatten(0, 1)).to(device)
        logits = model(tokens).cpu().double().view(len(codings), len(index), length)
        out[:, index, :length] = codings.decode(logits)
    return out
