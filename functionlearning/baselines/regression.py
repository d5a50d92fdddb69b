"""Statistical baselines for function learning, each predicting trial t from the trials before it in the same task
(inputs and targets scaled to [0, 1] per task, as the meta-learners see them), as a Gaussian: mean and variance.

- Gaussian-process regression with an RBF, linear or RBF + linear kernel (ermi.episodes.kernel_matrix) around the
  constant mean 0.5, fixed hyper-parameters (the GP prior's own);
- Bayesian linear and quadratic regression (polynomial features, weights with prior N(0, I), known noise).

Vectorised over tasks: x [S, T], y [S, T], lengths [S] -> (mean [S, T], variance [S, T]).
"""
import math

import torch

from ermi.episodes import kernel_matrix

NOISE = 0.05 ** 2  # the priors' noise variance
PRIOR_MEAN = 0.5


def gp_predictions(x, y, kernel="rbf+linear", noise=NOISE, **hyper):
    """Online GP predictive for every trial (trial 0: the prior)."""
    x, y = x.double(), y.double() - PRIOR_MEAN
    S, T = x.shape
    mean = torch.zeros(S, T, dtype=torch.float64)
    var = torch.zeros(S, T, dtype=torch.float64)
    prior_var = kernel_matrix(x[:, :1], x[:, :1], kernel, **hyper)[:, 0, 0]
    mean[:, 0], var[:, 0] = 0.0, prior_var + noise
    for t in range(1, T):
        K = kernel_matrix(x[:, :t], x[:, :t], kernel, **hyper) + noise * torch.eye(t, dtype=torch.float64)
        k_star = kernel_matrix(x[:, :t], x[:, t:t + 1], kernel, **hyper)[..., 0]  # [S, t]
        L = torch.linalg.cholesky(K)
        alpha = torch.cholesky_solve(y[:, :t, None], L)[..., 0]
        v = torch.linalg.solve_triangular(L, k_star[..., None], upper=False)[..., 0]
        mean[:, t] = (k_star * alpha).sum(-1)
        var[:, t] = kernel_matrix(x[:, t:t + 1], x[:, t:t + 1], kernel, **hyper)[:, 0, 0] - (v ** 2).sum(-1) + noise
    return mean + PRIOR_MEAN, var.clamp_min(1e-9)


def polynomial_predictions(x, y, degree=1, noise=NOISE):
    """Bayesian polynomial regression around the mean 0.5: features (x - 0.5)^d for d = 0..degree, weights with
    prior N(0, I), known noise variance; the exact Gaussian predictive for every trial (trial 0: the prior)."""
    x, y = x.double(), y.double() - PRIOR_MEAN
    S, T = x.shape
    features = torch.stack([(x - 0.5) ** d for d in range(degree + 1)], dim=-1)  # [S, T, F]
    eye = torch.eye(degree + 1, dtype=torch.float64)
    mean = torch.zeros(S, T, dtype=torch.float64)
    var = torch.zeros(S, T, dtype=torch.float64)
    for t in range(T):
        X, Y, phi = features[:, :t], y[:, :t], features[:, t]
        cov = torch.linalg.inv(eye + X.transpose(1, 2) @ X / noise)
        w = (cov @ (X.transpose(1, 2) @ Y[..., None]))[..., 0] / noise
        mean[:, t] = (phi * w).sum(-1)
        var[:, t] = (phi[:, None, :] @ cov @ phi[..., None])[:, 0, 0] + noise
    return mean + PRIOR_MEAN, var


def gaussian_nll(mean, var, y):
    """-log N(y; mean, var) per trial."""
    return 0.5 * (torch.log(2 * math.pi * var) + (y - mean) ** 2 / var)


BASELINES = {
    "GP (RBF)": lambda x, y: gp_predictions(x, y, "rbf"),
    "GP (linear)": lambda x, y: gp_predictions(x, y, "linear"),
    "GP (RBF + linear)": lambda x, y: gp_predictions(x, y, "rbf+linear"),
    "Bayesian linear regression": lambda x, y: polynomial_predictions(x, y, 1),
    "quadratic regression": lambda x, y: polynomial_predictions(x, y, 2),
}
