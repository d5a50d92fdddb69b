"""The study's baselines (Binz et al. 2022), as online learners that predict trial t from trials < t of a task.

Every learner except guessing is built from one piece: Bayesian probit regression, prior w ~ N(0, I), each option's
criterion with noise sigma, so P(A better | x, w) = Phi(w.x / (sqrt(2) sigma)). After every trial the Gaussian
posterior is updated by assumed-density filtering (moment matching, exact for one probit factor), and the
predictive probability is Phi(mu.x / sqrt(2 sigma^2 + x' S x)). The learners differ in the features they regress on:

- ideal observer: all cues;
- equal weighting: one feature, the sum of the cue differences (tallying);
- first cue: cue 0 alone (take-the-best when the ranking is known);
- best cue: one single-cue learner per cue; on each trial the cue whose learner has the highest log-evidence so
  far (trials < t) decides;
- strategy selection: ideal observer, equal weighting and best cue side by side; the one with the highest
  log-evidence so far decides.

All are vectorised over sequences; each returns P(choose A) per trial [S, T] (0.5 where nothing is known yet).
"""
import math

import torch

SIGMA = 0.1  # the criterion noise of the study's task generator
NAMES = ("guessing", "ideal_observer", "equal_weighting", "first_cue", "best_cue", "strategy_selection")


def _normal_cdf(z):
    return 0.5 * torch.erfc(-z / math.sqrt(2.0))


def probit_learner(features: torch.Tensor, y: torch.Tensor, sigma=SIGMA, prior_variance=1.0):
    """Sequential Bayesian probit regression. features [S, T, F], labels y [S, T] (1: A better).

    Returns (predictive P(y_t = 1 | trials < t) [S, T], log-evidence of each observed label log P(y_t) [S, T],
    final posterior mean [S, F])."""
    S, T, F = features.shape
    x = features.double()
    mu = torch.zeros(S, F, dtype=torch.float64)
    cov = prior_variance * torch.eye(F, dtype=torch.float64).expand(S, F, F).clone()
    p = torch.zeros(S, T, dtype=torch.float64)
    log_evidence = torch.zeros(S, T, dtype=torch.float64)
    for t in range(T):
        xt = x[:, t]
        cov_x = (cov @ xt[..., None])[..., 0]
        scale = (2 * sigma ** 2 + (xt * cov_x).sum(-1)).sqrt()
        mean = (mu * xt).sum(-1)
        p[:, t] = _normal_cdf(mean / scale)
        sign = 2 * y[:, t].double() - 1
        z = sign * mean / scale
        log_cdf = torch.special.log_ndtr(z)
        log_evidence[:, t] = log_cdf
        ratio = torch.exp(-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi) - log_cdf)  # phi(z) / Phi(z), stable
        mu = mu + (sign * ratio / scale)[:, None] * cov_x
        cov = cov - (ratio * (z + ratio) / scale ** 2)[:, None, None] * cov_x[:, :, None] * cov_x[:, None, :]
    return p, log_evidence, mu


def _select(predictions, evidences):
    """On each trial, the prediction of the learner with the highest log-evidence over the trials before it
    (ties: the first listed). predictions, evidences: lists of [S, T]."""
    p, evidence = torch.stack(predictions), torch.stack(evidences)  # [L, S, T]
    so_far = torch.cumsum(evidence, dim=-1) - evidence  # evidence of trials < t
    best = so_far.argmax(dim=0, keepdim=True)  # argmax returns the first maximum
    return p.gather(0, best)[0], evidence.gather(0, best)[0]


def predictions(x: torch.Tensor, y: torch.Tensor, num_cues=None, sigma=SIGMA) -> dict:
    """Every baseline's P(choose A) [S, T] on sequences x [S, T, K] with feedback y [S, T]. A cue that is 0 on
    every trial is absent (experiment 3 shows 2 of 4): it is left out, so no single-cue learner stands for it."""
    x = x[..., :num_cues or x.shape[-1]].double()
    x = x[..., x.abs().flatten(0, -2).amax(0) > 0]
    K = x.shape[-1]
    ideal, ideal_ev, _ = probit_learner(x, y, sigma)
    equal, equal_ev, _ = probit_learner(x.sum(-1, keepdim=True), y, sigma)
    singles = [probit_learner(x[..., k:k + 1], y, sigma)[:2] for k in range(K)]
    best, best_ev = _select([s[0] for s in singles], [s[1] for s in singles])
    strategy, _ = _select([ideal, equal, best], [ideal_ev, equal_ev, best_ev])
    return {"guessing": torch.full_like(ideal, 0.5), "ideal_observer": ideal, "equal_weighting": equal,
            "first_cue": singles[0][0], "best_cue": best, "strategy_selection": strategy}


def gini(weights: torch.Tensor) -> torch.Tensor:
    """Gini coefficient of |weights| over the last axis: 0 when all cues weigh the same, 1 - 1/K when one cue
    carries all the weight."""
    a = weights.abs().double()
    K = a.shape[-1]
    total = a.sum(-1)
    pairs = (a[..., :, None] - a[..., None, :]).abs().sum((-1, -2))
    return torch.where(total > 0, pairs / (2 * K * total.clamp_min(1e-300)), torch.zeros_like(total))
