"""A trained meta-learner as a scikit-learn classifier.

``fit`` only stores the labelled points (the network learns in context, its weights never change);
``predict_proba`` scores every test point in one batched forward pass: each test point is a query that sees the
whole labelled context, exactly as if it were the next trial of the training sequence (``MetaLearner.forward``
with ``num_queries``). It works wherever scikit-learn estimators do (``Pipeline``, ``cross_val_score``, grid
search over ``beta`` or ``n_codings``).

    from ermi.classifier import InContextClassifier
    clf = InContextClassifier("ermi_categorisation_dim4").fit(X_train, y_train)
    clf.predict_proba(X_test)
"""
import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ermi.codings import coding_group, identity
from ermi.episodes import make_tokens, with_queries
from ermi.model import load_model
from ermi.paths import device_or_default, resolve_model


class InContextClassifier(ClassifierMixin, BaseEstimator):
    """Binary in-context classifier from ERMI / MI / PFN weights.

    model: a weight file or a name under trained_models/ (it fixes the number of features).
    beta: inverse temperature on the logit (1: the trained network).
    n_codings: average P(y) over this many codings of the data (label swap, feature flips, feature order; see
        ermi.codings): 1 uses the data as given, larger values a seeded sample of the coding group, which makes the
        prediction (nearly) independent of how the features and labels happen to be coded.
    max_queries: test points per forward pass (bounds memory only; results do not depend on it).
    Features are min-max scaled on the training points (as the network was trained) and clipped to [0, 1].
    """

    def __init__(self, model="ermi_categorisation_dim4", beta=1.0, n_codings=1, max_queries=512, device=None,
                 random_state=0):
        self.model = model
        self.beta = beta
        self.n_codings = n_codings
        self.max_queries = max_queries
        self.device = device
        self.random_state = random_state

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float32)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) != 2:
            raise ValueError(f"InContextClassifier is binary; y has {len(self.classes_)} class(es): {self.classes_}")
        self.net_ = load_model(resolve_model(self.model), device_or_default(self.device))
        if X.shape[1] != self.net_.cfg.num_dims:
            raise ValueError(f"{self.model}: the network takes {self.net_.cfg.num_dims} features, X has {X.shape[1]} "
                             "(select or add features first, e.g. SelectKBest in a Pipeline)")
        self.low_, span = X.min(0), X.max(0) - X.min(0)
        self.span_ = np.where(span > 0, span, 1.0)
        self.context_x_ = torch.from_numpy(self._scale(X))
        self.context_y_ = torch.from_numpy((y == self.classes_[1]).astype(np.float32))
        return self

    def _scale(self, X):
        return np.clip((X - self.low_) / self.span_, 0.0, 1.0).astype(np.float32)

    @torch.inference_mode()
    def predict_proba(self, X):
        check_is_fitted(self)
        X = torch.from_numpy(self._scale(validate_data(self, X, dtype=np.float32, reset=False)))
        D = X.shape[1]
        codings = identity(D) if self.n_codings <= 1 else coding_group(D, self.n_codings, seed=self.random_state)
        device = next(self.net_.parameters()).device
        C = len(self.context_y_)
        p1 = []
        for queries in X.split(self.max_queries):
            cx, cy = codings.apply(*with_queries(self.context_x_, self.context_y_, queries))
            tokens = make_tokens(cx, cy)
            logits = codings.decode(self.net_(tokens.to(device), num_queries=len(queries))[:, C:].cpu().double())
            p1.append(torch.sigmoid(self.beta * logits).mean(0))
        p1 = torch.cat(p1).numpy()
        return np.stack([1.0 - p1, p1], axis=1)

    def predict(self, X):
        return self.classes_[(self.predict_proba(X)[:, 1] > 0.5).astype(int)]
