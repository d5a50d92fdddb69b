"""Every function learner behind one interface, on inputs and targets in [0, 1]:

- ``online(x, y)``: the prediction of trial t from trials < t (with their feedback), mean and variance [S, T];
- ``after_training(x_train, y_train, queries)``: answers to query inputs [S, Q] after the training trials, without
  feedback on the queries (transfer / extrapolation tests).

Learners are Gaussian-head meta-learners (weight files; the queries go through one pass, ermi.model's queries), the
regression baselines (GPs, Bayesian polynomial regression) and the process models (ALM, EXAM).
"""
import torch

from ermi.episodes import make_tokens, with_queries
from ermi.model import load_model
from ermi.paths import TRAINED_MODELS, resolve_model
from functionlearning.baselines import process
from functionlearning.baselines.regression import BASELINES

PROCESS_MODELS = ("ALM", "EXAM")


class MetaLearner:
    def __init__(self, weights, device="cpu"):
        self.path = resolve_model(weights)
        self.net = load_model(self.path, device)
        if self.net.cfg.head != "gaussian" or self.net.cfg.num_dims != 1:
            raise ValueError(f"{self.path}: not a 1-D function-learning model (head {self.net.cfg.head})")
        self.name = self.path.stem.split("_")[0].upper()
        self.device = device

    @torch.no_grad()
    def _gaussian(self, tokens, num_queries=0):
        out = self.net(tokens.float().to(self.device), num_queries=num_queries).cpu().double()
        return out[..., 0], out[..., 1].exp()

    def online(self, x, y):
        return self._gaussian(make_tokens(x[..., None], y))

    def after_training(self, x_train, y_train, queries):
        Q = queries.shape[1]
        x, y = with_queries(x_train[..., None], y_train, queries[..., None])
        mean, var = self._gaussian(make_tokens(x, y), num_queries=Q)
        return mean[:, -Q:], var[:, -Q:]


class Regression:
    def __init__(self, name):
        self.name, self.predict = name, BASELINES[name]

    def online(self, x, y):
        return self.predict(x, y)

    def after_training(self, x_train, y_train, queries):
        S, Q = queries.shape
        x = torch.cat([x_train.repeat_interleave(Q, 0), queries.reshape(-1, 1)], dim=1)
        y = torch.cat([y_train.repeat_interleave(Q, 0), torch.zeros(S * Q, 1, dtype=y_train.dtype)], dim=1)
        mean, var = self.predict(x, y)  # the last trial of each row is predicted from the training trials
        return mean[:, -1].view(S, Q), var[:, -1].view(S, Q)


class Process:
    """ALM or EXAM. Before a transfer test they train for ``epochs`` passes over the training trials (people in
    DeLosh et al. 1997 trained for many blocks; one pass with a stable learning rate leaves ALM far from the
    targets), where the meta-learners see the training trials once, the length of their own training tasks."""

    def __init__(self, name, epochs=10):
        self.name, self.model, self.epochs = name, name.lower(), epochs

    def online(self, x, y):
        return process.online_predictions(x, y, self.model)

    def after_training(self, x_train, y_train, queries):
        return process.trained_responses(x_train, y_train, queries, self.model, self.epochs)


def make_learner(name, device="cpu"):
    """A baseline by name (see BASELINES and PROCESS_MODELS) or a meta-learner by weight file / shipped name."""
    if name in BASELINES:
        return Regression(name)
    if name in PROCESS_MODELS:
        return Process(name)
    return MetaLearner(name, device)


def default_learners() -> list:
    """Shipped function-learning meta-learners, then every baseline."""
    shipped = sorted(str(p) for p in TRAINED_MODELS.glob("*_functionlearning_dim1.pt"))
    return [*shipped, *BASELINES, *PROCESS_MODELS]
