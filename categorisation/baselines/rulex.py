"""RULEX-style rule model (Nosofsky, Palmeri & McKinley 1994) as the reference fitted it: one deterministic rule
per problem plus a guessing rate g, P(choice) = rule(choice) (1 - g) + g / 2.

Candidate rules over binary features (values > 0.5 count as 1): every single feature (x_k -> category) and every
feature pair as an exclusive-or (x_i != x_j -> category), each with both label polarities; with ``exceptions``
also every candidate with one stimulus' assignment reversed. The fit is closed-form and exact: for a shared g the
best rule of each problem is the one with the fewest mismatches (whatever g < 1), and then g = 2 M / N for M
mismatches in N trials. No restarts are needed, and the reference's keep-the-last-candidate bug cannot arise.
k = 1 (g) + 1 per problem (the discrete rule choice) + 1 per problem with exceptions (the exception choice).
"""
import itertools

import numpy as np
import torch

from categorisation.baselines.base import Seqs


def bernoulli_nll(mismatches, n, g):
    """NLL of n trials with ``mismatches`` of them against the rule, for guessing rate g (0 log 0 = 0)."""
    out = 0.0
    if n - mismatches > 0:
        out -= (n - mismatches) * np.log(1.0 - g / 2.0)
    if mismatches > 0:
        out -= mismatches * np.log(g / 2.0)
    return float(out)


class Rulex:
    name = "rulex"

    def __init__(self, num_dims=3, exceptions=False):
        self.num_dims, self.exceptions = num_dims, exceptions
        singles = [(k,) for k in range(num_dims)]
        pairs = list(itertools.combinations(range(num_dims), 2))
        self.rules = [(f, polarity) for f in singles + pairs for polarity in (0, 1)]

    def rule_name(self, index, exception=None):
        features, polarity = self.rules[index]
        body = f"f{features[0] + 1}" if len(features) == 1 else f"f{features[0] + 1}^f{features[1] + 1}"
        name = f"{'not ' if polarity else ''}{body}"
        return name if exception is None else f"{name} except {exception}"

    def predictions(self, x: torch.Tensor):
        """[S, C, T] predicted labels of every candidate, and a name per candidate per sequence."""
        bits = (x > 0.5).double()
        base = []
        for features, polarity in self.rules:
            if len(features) == 1:
                value = bits[..., features[0]]
            else:
                value = (bits[..., features[0]] != bits[..., features[1]]).double()
            base.append(value if polarity == 0 else 1.0 - value)
        base = torch.stack(base, dim=1)  # [S, R, T]
        names = [[self.rule_name(r) for r in range(len(self.rules))] for _ in range(len(x))]
        if not self.exceptions:
            return base, names
        stimuli = [torch.unique(bits[s], dim=0) for s in range(len(x))]
        most = max(len(u) for u in stimuli)
        extra = base.new_zeros(len(x), len(self.rules) * most, x.shape[1])
        for s, unique in enumerate(stimuli):
            for i, stimulus in enumerate(unique):
                hit = (bits[s] == stimulus).all(-1).double()  # [T]
                block = base[s] * (1 - hit) + (1 - base[s]) * hit
                extra[s, i * len(self.rules):(i + 1) * len(self.rules)] = block
                label = "".join(str(int(v)) for v in stimulus.tolist())
                names[s] += [self.rule_name(r, label) for r in range(len(self.rules))]
            # missing stimuli of shorter sequences repeat the plain rules (never better than them)
            extra[s, len(unique) * len(self.rules):] = base[s].repeat(most - len(unique), 1)
            names[s] += [names[s][r % len(self.rules)] for r in range((most - len(unique)) * len(self.rules))]
        return torch.cat([base, extra], dim=1), names

    def k(self, num_seqs):
        return 1 + num_seqs * (2 if self.exceptions else 1)

    def fit(self, seqs: Seqs, restarts=1, rng=None):
        preds, names = self.predictions(seqs.x)
        mismatches = ((preds != seqs.choices[:, None, :]).double() * seqs.mask[:, None, :]).sum(-1)  # [S, C]
        best = mismatches.argmin(1)
        m, n = float(mismatches.min(1).values.sum()), seqs.n_trials
        g = min(1.0, 2.0 * m / n)
        params = {"g": g, "rules": "; ".join(names[s][int(best[s])] for s in range(len(best)))}
        raw = {"g": g, "choice": best.numpy()}
        return params, raw, bernoulli_nll(m, n, g)

    def probabilities(self, raw, seqs: Seqs):
        preds, _ = self.predictions(seqs.x)
        rule = preds[torch.arange(len(preds)), torch.as_tensor(raw["choice"])]
        return rule * (1 - raw["g"]) + raw["g"] / 2

    def sample_raw(self, rng, num_seqs):
        """Recovery draws: a random single-feature or XOR rule per problem, low guessing."""
        return {"g": float(rng.uniform(0.05, 0.4)), "choice": rng.integers(0, len(self.rules), num_seqs)}
