"""Group-level Bayesian model selection with random effects (Stephan et al. 2009; Rigoux et al. 2014).

Each participant's data come from one of K models, drawn with unknown frequencies r ~ Dirichlet(alpha0). From
per-participant log evidences L [N, K] (e.g. -BIC / 2) variational Bayes gives q(r) = Dirichlet(alpha) and the
per-participant posterior model probabilities g [N, K]. Reported, as in SPM's spm_BMS / VBA_groupBMC:
  expected frequencies  E[r] = alpha / sum(alpha)
  exceedance probs      xp_k = P(r_k > r_j for all j != k)  (exact for K = 2; Dirichlet sampling, fixed seed, else)
  Bayesian omnibus risk bor = P(all models equally frequent | data) = 1 / (1 + exp(F1 - F0))
  protected exceedance  pxp = (1 - bor) xp + bor / K

Prior: ``prior="spm"`` is Dirichlet(1, ..., 1) (Stephan et al. 2009, SPM's spm_BMS); ``prior="vba"`` is
Dirichlet(1/K, ..., 1/K) (VBA_groupBMC, and the PyPI port groupBMC that the reference called). Checked against
groupBMC 1.0: identical frequencies, exceedance and protected exceedance with the vba prior. groupBMC itself
cannot be used: it fails on numpy >= 1.24 (np.bool), and with any prior that does not sum to 1 its null free
energy is off by N log(sum alpha0), which corrupts the omnibus risk (ours uses the null frequencies 1/K).
"""
from dataclasses import dataclass

import numpy as np
from scipy.special import betainc, digamma, gammaln, logsumexp


@dataclass
class BMSResult:
    alpha: np.ndarray
    expected_frequency: np.ndarray
    exceedance: np.ndarray
    protected_exceedance: np.ndarray
    bor: float
    free_energy: float
    null_free_energy: float
    posterior: np.ndarray  # [N, K] per-participant model probabilities


def vb_dirichlet(log_evidence, alpha0=None, tol=1e-10, max_iter=10_000):
    """Variational Bayes for the random-effects model: (alpha, g)."""
    L = np.asarray(log_evidence, dtype=float)
    alpha0 = np.ones(L.shape[1]) if alpha0 is None else np.asarray(alpha0, dtype=float)
    alpha = alpha0.copy()
    for _ in range(max_iter):
        log_u = L + digamma(alpha) - digamma(alpha.sum())
        g = np.exp(log_u - logsumexp(log_u, axis=1, keepdims=True))
        new = alpha0 + g.sum(0)
        done = np.abs(new - alpha).max() < tol
        alpha = new
        if done:
            break
    log_u = L + digamma(alpha) - digamma(alpha.sum())
    return alpha, np.exp(log_u - logsumexp(log_u, axis=1, keepdims=True))


def free_energy(log_evidence, alpha, g, alpha0=None):
    """Variational free energy F1 of the random-effects model (lower bound on log p(data))."""
    L = np.asarray(log_evidence, dtype=float)
    alpha0 = np.ones(L.shape[1]) if alpha0 is None else np.asarray(alpha0, dtype=float)
    e_log_r = digamma(alpha) - digamma(alpha.sum())
    joint = (gammaln(alpha0.sum()) - gammaln(alpha0).sum() + ((alpha0 - 1) * e_log_r).sum()
             + (g * (L + e_log_r)).sum())
    entropy_r = gammaln(alpha).sum() - gammaln(alpha.sum()) - ((alpha - 1) * e_log_r).sum()
    entropy_m = -(g * np.log(np.where(g > 0, g, 1.0))).sum()
    return float(joint + entropy_r + entropy_m)


def null_free_energy(log_evidence):
    """log p(data) when every model is equally frequent (r = 1/K), the 'null' of the omnibus test."""
    L = np.asarray(log_evidence, dtype=float)
    return float((logsumexp(L, axis=1) - np.log(L.shape[1])).sum())


def exceedance_probabilities(alpha, samples=1_000_000, seed=0, chunk=100_000):
    """P(r_k is the largest) under Dirichlet(alpha): Beta tail for K = 2, seeded sampling otherwise."""
    alpha = np.asarray(alpha, dtype=float)
    if len(alpha) == 2:
        xp1 = betainc(alpha[1], alpha[0], 0.5)  # P(r_1 > 1/2) with r_1 ~ Beta(alpha_1, alpha_2)
        return np.array([xp1, 1.0 - xp1])
    rng = np.random.default_rng(seed)
    wins = np.zeros(len(alpha))
    for start in range(0, samples, chunk):
        r = rng.gamma(alpha, size=(min(chunk, samples - start), len(alpha)))
        wins += np.bincount(r.argmax(1), minlength=len(alpha))
    return wins / samples


PRIORS = ("spm", "vba")


def prior_counts(prior, K):
    if prior not in PRIORS:
        raise ValueError(f"prior must be one of {PRIORS}, got {prior!r}")
    return np.ones(K) if prior == "spm" else np.full(K, 1.0 / K)


def bms(log_evidence, alpha0=None, samples=1_000_000, seed=0, prior="spm") -> BMSResult:
    """Random-effects BMS on log evidences [participants, models]; ``alpha0`` overrides ``prior``."""
    L = np.asarray(log_evidence, dtype=float)
    if L.ndim != 2 or L.shape[1] < 2:
        raise ValueError(f"log evidence must be [participants, models >= 2], got shape {L.shape}")
    if not np.isfinite(L).all():
        raise ValueError("log evidence has non-finite entries")
    alpha0 = prior_counts(prior, L.shape[1]) if alpha0 is None else np.asarray(alpha0, dtype=float)
    alpha, g = vb_dirichlet(L, alpha0)
    f1, f0 = free_energy(L, alpha, g, alpha0), null_free_energy(L)
    bor = float(1.0 / (1.0 + np.exp(np.clip(f1 - f0, -700, 700))))
    xp = exceedance_probabilities(alpha, samples, seed)
    K = L.shape[1]
    return BMSResult(alpha, alpha / alpha.sum(), xp, (1 - bor) * xp + bor / K, bor, f1, f0, g)
