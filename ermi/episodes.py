"""Task corpora and synthetic priors -> padded episode tensors.

A corpus CSV (``task_id, trial_id, input, target``) is parsed and validated once into padded tensors; every
training batch is then drawn with vectorised tensor ops: per-task label coding, feature order and trial order
(the reference drew one coin flip / permutation per *batch*, which correlates the tasks of a batch).

Inputs are min-max scaled to [0, 1] per task and per feature (the reference scaled jointly over all features,
so one wide feature squashed the others). Synthetic priors (MI: linear, PFN: random MLP per task, RMC:
Anderson's rational model) go through the same scaling, so all models see inputs on the scale of human stimuli.
"""
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ermi.paths import read_table

NEUTRAL_FEEDBACK = 0.5
CORPUS_COLUMNS = ("task_id", "trial_id", "input", "target")


class CorpusError(ValueError):
    """A corpus problem, always phrased as ``file:row: problem`` (row = line number in the file)."""


@dataclass
class TaskSet:
    """Padded tasks: x [N, T, D] in [0, 1], y [N, T] (0/1 labels or real targets), lengths [N]."""

    x: torch.Tensor
    y: torch.Tensor
    lengths: torch.Tensor
    task_ids: list = field(default_factory=list)
    dropped: dict = field(default_factory=dict)
    sources: list = field(default_factory=list)  # corpus file name of each task (ids are unique within a file)

    def __len__(self):
        return len(self.lengths)

    @property
    def num_dims(self):
        return self.x.shape[-1]

    def subset(self, index) -> "TaskSet":
        index = torch.as_tensor(index, dtype=torch.long)
        T = int(self.lengths[index].max()) if len(index) else 0
        ids = [self.task_ids[i] for i in index.tolist()] if self.task_ids else []
        sources = [self.sources[i] for i in index.tolist()] if self.sources else []
        return TaskSet(self.x[index, :T], self.y[index, :T], self.lengths[index], ids, sources=sources)

    def split(self, fractions=(0.8, 0.1, 0.1), seed=0):
        """Train/val/test by task, from one seeded permutation (LLM corpora come ordered by generation run)."""
        order = torch.randperm(len(self), generator=torch.Generator().manual_seed(seed))
        n_train, n_val = int(fractions[0] * len(self)), int(fractions[1] * len(self))
        return self.subset(order[:n_train]), self.subset(order[n_train:n_train + n_val]), self.subset(order[n_train + n_val:])

    def to(self, device):
        return TaskSet(self.x.to(device), self.y.to(device), self.lengths.to(device), self.task_ids, self.dropped,
                       self.sources)

    def described(self) -> dict:
        """Task ids grouped by corpus file, e.g. for a model card's record of held-out tasks."""
        grouped = {}
        for source, task_id in zip(self.sources or [""] * len(self), self.task_ids):
            grouped.setdefault(source, []).append(int(task_id))
        return grouped

    @staticmethod
    def concat(sets) -> "TaskSet":
        """One TaskSet from several (e.g. two generation runs of the same prompt), padded to the longest task."""
        sets = list(sets)
        if len({s.num_dims for s in sets}) > 1:
            raise CorpusError(f"corpora have different numbers of features: {[s.num_dims for s in sets]}")
        T = max(s.x.shape[1] for s in sets)
        dropped = Counter()
        for s in sets:
            dropped.update(s.dropped)
        return TaskSet(torch.cat([_pad_trials(s.x, T) for s in sets]), torch.cat([_pad_trials(s.y, T) for s in sets]),
                       torch.cat([s.lengths for s in sets]), [i for s in sets for i in s.task_ids], dict(dropped),
                       [f for s in sets for f in s.sources])


def _pad_trials(t: torch.Tensor, T: int) -> torch.Tensor:
    """Zero-pad the trial axis (dim 1) of x [N, T', D] or y [N, T'] to T."""
    pad = torch.zeros(t.shape[0], T - t.shape[1], *t.shape[2:], dtype=t.dtype, device=t.device)
    return torch.cat([t, pad], dim=1)


def scale_per_task(x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Min-max scale each feature of each task over its valid trials; a constant feature becomes 0.5."""
    valid = (torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None])[..., None]
    lo = torch.where(valid, x, torch.inf).amin(dim=1, keepdim=True)
    hi = torch.where(valid, x, -torch.inf).amax(dim=1, keepdim=True)
    span = hi - lo
    scaled = torch.where(span > 0, (x - lo) / torch.where(span > 0, span, 1.0), torch.full_like(x, 0.5))
    return torch.where(valid, scaled, torch.zeros_like(x))


def _parse_inputs(values, path, first_line, num_dims):
    parsed = []
    for i, text in enumerate(values):
        try:
            row = json.loads(text)
        except (json.JSONDecodeError, TypeError):
            raise CorpusError(f"{path}:{first_line + i}: input {text!r} is not a JSON list of numbers") from None
        if not isinstance(row, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in row):
            raise CorpusError(f"{path}:{first_line + i}: input {text!r} is not a JSON list of numbers")
        if num_dims is None:
            num_dims = len(row)
        if len(row) != num_dims:
            raise CorpusError(f"{path}:{first_line + i}: input has {len(row)} values, expected {num_dims}")
        if not np.all(np.isfinite(row)):
            raise CorpusError(f"{path}:{first_line + i}: input {text!r} has a non-finite value")
        parsed.append(row)
    return np.asarray(parsed, dtype=np.float32).reshape(len(parsed), num_dims or 0)


def load_corpus(path, num_dims=None, max_steps=None, binary=True) -> TaskSet:
    """Read a task corpus once. Structural problems raise CorpusError; unusable tasks are dropped and counted.
    ``path`` may be a list of files (e.g. several generation runs): their tasks are pooled.

    binary=True: targets are label strings, coded 0/1 per task in order of first appearance; a task must have
    exactly two labels. binary=False: targets are numbers (function learning, decision criteria), scaled to [0, 1]
    per task; a task with a target that is not a finite number, or with a constant target, is dropped and counted.
    """
    if isinstance(path, (list, tuple)):
        return TaskSet.concat(load_corpus(p, num_dims, max_steps, binary) for p in path)
    df = read_table(path, CORPUS_COLUMNS, CorpusError, dtype={"input": str, "target": str}, keep_default_na=False)
    df["line"] = np.arange(len(df)) + 2
    for column in ("task_id", "trial_id"):
        numeric = pd.to_numeric(df[column], errors="coerce")
        bad = numeric.isna() | (numeric != numeric.round())
        if bad.any():
            row = df[bad].iloc[0]
            raise CorpusError(f"{path}:{row.line}: {column} {row[column]!r} is not an integer")
        df[column] = numeric.astype(np.int64)
    inputs = _parse_inputs(df["input"].tolist(), path, 2, num_dims)
    D = inputs.shape[1]
    if not binary:
        df["value"] = pd.to_numeric(df["target"], errors="coerce").astype(np.float32)

    df["row"] = np.arange(len(df))
    df = df.sort_values(["task_id", "trial_id"], kind="stable")
    dropped, kept = Counter(), []
    for task_id, task in df.groupby("task_id", sort=True):
        if max_steps is not None and len(task) > max_steps:
            dropped[f"more than max_steps={max_steps} trials"] += 1
            continue
        if binary:
            labels = pd.unique(task["target"])
            if len(labels) != 2:
                dropped[f"{len(labels)} distinct label(s) instead of 2"] += 1
                continue
            y = (task["target"].to_numpy() == labels[1]).astype(np.float32)
        else:
            y = task["value"].to_numpy().copy()
            if not np.isfinite(y).all():
                dropped["target not a number"] += 1
                continue
            if y.min() == y.max():
                dropped["constant target"] += 1
                continue
        kept.append((task_id, inputs[task["row"].to_numpy()], y))
    if not kept:
        raise CorpusError(f"{path}: no usable task ({dict(dropped)})")

    T = max(len(y) for _, _, y in kept)
    x = torch.zeros(len(kept), T, D)
    y = torch.zeros(len(kept), T)
    lengths = torch.tensor([len(t[2]) for t in kept])
    for i, (_, xi, yi) in enumerate(kept):
        x[i, : len(yi)] = torch.from_numpy(xi)
        y[i, : len(yi)] = torch.from_numpy(yi)
    x = scale_per_task(x, lengths)
    if not binary:
        y = scale_per_task(y[..., None], lengths)[..., 0]
    return TaskSet(x, y, lengths, [t[0] for t in kept], dict(dropped), [Path(path).name] * len(kept))


def make_tokens(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """[x_t, y_{t-1}] per trial; the first trial gets the neutral feedback 0.5."""
    feedback = torch.cat([torch.full_like(y[:, :1], NEUTRAL_FEEDBACK), y[:, :-1]], dim=1)
    return torch.cat([x, feedback[..., None]], dim=-1)


def with_queries(x: torch.Tensor, y: torch.Tensor, queries: torch.Tensor):
    """A labelled context (x [..., C, D], y [..., C]) followed by query inputs [..., Q, D], ready for make_tokens and
    ``MetaLearner.forward(..., num_queries=Q)``: every query's feedback channel carries the last context label, as
    the next trial's token would (a query's own label is never seen)."""
    last = y[..., -1:].expand(*y.shape[:-1], queries.shape[-2])
    return torch.cat([x, queries], dim=-2), torch.cat([y, last], dim=-1)


@dataclass
class Episode:
    tokens: torch.Tensor  # [B, T, D + 1]
    targets: torch.Tensor  # [B, T]
    mask: torch.Tensor  # [B, T] bool, True on real trials


def episode(x, y, lengths) -> Episode:
    mask = torch.arange(x.shape[1], device=x.device)[None, :] < lengths[:, None]
    return Episode(make_tokens(x, y), y, mask)


def randomise(x, y, lengths, generator, shuffle_trials=False, shuffle_features=False, flip_labels=False,
              resample_to=None):
    """Per-task nuisance randomisation, all vectorised: trial order (or resampling with replacement to a fixed
    length), feature order and label coding each drawn independently for every task of the batch."""
    B, T, D = x.shape
    device = x.device
    if resample_to is not None:
        picks = (torch.rand(B, resample_to, generator=generator, device=device) * lengths[:, None]).long()
        x, y = x.gather(1, picks[..., None].expand(-1, -1, D)), y.gather(1, picks)
        lengths = torch.full_like(lengths, resample_to)
    elif shuffle_trials:
        keys = torch.rand(B, T, generator=generator, device=device)
        keys = keys + (torch.arange(T, device=device)[None, :] >= lengths[:, None])
        order = keys.argsort(dim=1)
        x, y = x.gather(1, order[..., None].expand(-1, -1, D)), y.gather(1, order)
    if shuffle_features:
        perm = torch.rand(B, D, generator=generator, device=device).argsort(dim=1)
        x = x.gather(2, perm[:, None, :].expand(-1, x.shape[1], -1))
    if flip_labels:
        flip = torch.rand(B, 1, generator=generator, device=device) < 0.5
        valid = torch.arange(y.shape[1], device=device)[None, :] < lengths[:, None]
        y = torch.where(flip & valid, 1.0 - y, y)
    return x, y, lengths


def heldout_episode(tasks: TaskSet, seed=0) -> "Episode":
    """A fixed evaluation episode: each task's trials in one seeded random order (LLM tasks come grouped by
    category), labels in the file's coding. Validation and held-out evaluation use it, so they score the same."""
    generator = torch.Generator(device=tasks.x.device).manual_seed(seed)
    x, y, lengths = randomise(tasks.x, tasks.y, tasks.lengths, generator, shuffle_trials=True)
    return episode(x, y, lengths)


class CorpusSampler:
    """Draws training episodes from a TaskSet (distinct tasks per batch when the set is large enough)."""

    def __init__(self, tasks: TaskSet, shuffle_trials=True, shuffle_features=False, flip_labels=True,
                 resample_to=None):
        if resample_to is not None and not shuffle_trials:
            raise ValueError("sample-to-match-max-steps resamples trials and needs --shuffle")
        self.tasks = tasks
        self.options = dict(shuffle_trials=shuffle_trials, shuffle_features=shuffle_features,
                            flip_labels=flip_labels, resample_to=resample_to)

    def sample(self, batch_size, generator, step=0) -> Episode:
        """``step`` (the training step) is part of every sampler's interface; a fixed corpus ignores it."""
        n = len(self.tasks)
        device = self.tasks.x.device
        if batch_size <= n:
            index = torch.randperm(n, generator=generator, device=device)[:batch_size]
        else:
            index = torch.randint(n, (batch_size,), generator=generator, device=device)
        lengths = self.tasks.lengths[index]
        T = int(lengths.max())
        x, y, lengths = randomise(self.tasks.x[index, :T], self.tasks.y[index, :T], lengths, generator, **self.options)
        return episode(x, y, lengths)


def gaussian_inputs(batch_size, num_trials, num_dims, generator, device="cpu", num_stimuli=None):
    """x ~ N(0, I) per trial, or, with ``num_stimuli``, trials drawn with replacement from that many N(0, I)
    points per task, so that stimuli repeat within a task as in a category-learning experiment."""
    if num_stimuli is None:
        return torch.randn(batch_size, num_trials, num_dims, generator=generator, device=device)
    points = torch.randn(batch_size, num_stimuli, num_dims, generator=generator, device=device)
    which = torch.randint(num_stimuli, (batch_size, num_trials), generator=generator, device=device)
    return points.gather(1, which[..., None].expand(-1, -1, num_dims))


class LinearPrior:
    """MI: x ~ N(0, I), w ~ N(0, I) per task, y = 1[w.x > 0]; inputs then scaled to [0, 1] per task."""

    def __init__(self, num_dims):
        self.num_dims = num_dims

    def sample_tasks(self, batch_size, num_trials, generator, device="cpu", num_stimuli=None):
        x = gaussian_inputs(batch_size, num_trials, self.num_dims, generator, device, num_stimuli)
        w = torch.randn(batch_size, self.num_dims, 1, generator=generator, device=device)
        y = (x @ w)[..., 0].gt(0).float()
        return x, y


class MLPPrior:
    """PFN: one random tanh MLP (D -> hidden -> 1) drawn *per task*, weights and biases ~ N(0, init_std^2).

    The reference drew one MLP per batch with init_std 0.1, which makes the functions almost linear; the default
    here (1.0) saturates the tanh units, so the prior holds genuinely nonlinear boundaries.
    """

    def __init__(self, num_dims, num_hidden=64, init_std=1.0):
        self.num_dims, self.num_hidden, self.init_std = num_dims, num_hidden, init_std

    def sample_tasks(self, batch_size, num_trials, generator, device="cpu", num_stimuli=None):
        def draw(*shape):
            return self.init_std * torch.randn(batch_size, *shape, generator=generator, device=device)

        x = gaussian_inputs(batch_size, num_trials, self.num_dims, generator, device, num_stimuli)
        hidden = torch.tanh(x @ draw(self.num_dims, self.num_hidden) + draw(1, self.num_hidden))
        y = (hidden @ draw(self.num_hidden, 1) + draw(1, 1))[..., 0].gt(0).float()
        return x, y


class RMCPrior:
    """Anderson's rational model: a Chinese-restaurant partition with coupling c, binary features with
    Beta(s_d, s_d) probabilities per cluster and labels with a Beta(s_l, s_l) probability per cluster.
    Defaults are the reference's values (after Nosofsky et al. 1994). Vectorised over tasks."""

    def __init__(self, num_dims, coupling=0.318, feature_concentration=0.488, label_concentration=0.046):
        self.num_dims = num_dims
        self.c, self.s_d, self.s_l = coupling, feature_concentration, label_concentration

    def sample_tasks(self, batch_size, num_trials, generator, device="cpu"):
        B, T, c = batch_size, num_trials, self.c
        counts = torch.zeros(B, T, device=device)
        z = torch.zeros(B, T, dtype=torch.long, device=device)
        num_clusters = torch.zeros(B, dtype=torch.long, device=device)
        rows = torch.arange(B, device=device)
        for t in range(T):
            weights = c * counts
            weights[rows, num_clusters] = 1.0 - c
            u = torch.rand(B, 1, generator=generator, device=device) * weights.sum(1, keepdim=True)
            k = (weights.cumsum(1) < u).sum(1).clamp(max=T - 1)
            z[:, t] = k
            counts[rows, k] += 1
            num_clusters = num_clusters + (k == num_clusters).long()
        theta = _beta(self.s_d, (B, T, self.num_dims), generator, device)
        phi = _beta(self.s_l, (B, T), generator, device)
        x = torch.bernoulli(theta.gather(1, z[..., None].expand(-1, -1, self.num_dims)), generator=generator)
        y = torch.bernoulli(phi.gather(1, z), generator=generator)
        return x, y


def _beta(concentration, shape, generator, device, concentration0=None):
    """Beta(a, b) from two Gamma draws (torch's Beta sampler takes no generator); b = a unless given.
    Concentrations may be tensors that broadcast to ``shape``."""
    a = torch._standard_gamma(torch.as_tensor(concentration, dtype=torch.float32, device=device).expand(shape),
                              generator=generator)
    b = concentration if concentration0 is None else concentration0
    b = torch._standard_gamma(torch.as_tensor(b, dtype=torch.float32, device=device).expand(shape), generator=generator)
    return a / (a + b).clamp_min(1e-30)


def lkj_cholesky(batch_size, dim, eta, generator, device="cpu"):
    """Cholesky factors [B, dim, dim] of correlation matrices ~ LKJ(eta), by the C-vine method (Lewandowski,
    Kurowicka & Joe 2009): the partial correlation of column j (1-based) is 2 Beta(a, a) - 1 with
    a = eta + (dim - 1 - j) / 2, turned into a Cholesky row by stick-breaking. Every correlation then has the
    LKJ marginal (variance 1/7 for dim 4, eta 2); torch's own onion sampler takes no generator, and its
    marginals differ between pairs (checked in the tests)."""
    j = torch.arange(1, dim, dtype=torch.float32, device=device)
    a = (eta + (dim - 1 - j) / 2).expand(batch_size, dim, dim - 1)
    z = 2 * _beta(a, (batch_size, dim, dim - 1), generator, device) - 1
    L = torch.zeros(batch_size, dim, dim, device=device)
    L[:, 0, 0] = 1.0
    for i in range(1, dim):
        remaining = torch.ones(batch_size, device=device)
        for col in range(i):
            L[:, i, col] = z[:, i, col] * remaining.sqrt()
            remaining = remaining - L[:, i, col] ** 2
        L[:, i, i] = remaining.clamp_min(0).sqrt()
    return L


class PairedComparisonPrior:
    """The decision-making simulator of Binz et al. (2022): per task, weights w ~ N(0, I_K), cue correlations
    ~ LKJ(eta), each option's cues ~ N(0, Sigma); x = cues(A) - cues(B) and A is better with probability
    Phi(w.x / (sqrt(2) sigma)) (criterion noise sigma per option). Conditions change only the weights:
    ``ranking`` sorts the cues by |w| (largest first), ``direction`` makes every weight positive, ``none`` keeps
    them as drawn. Labels y = 1 when A is better."""

    CONDITIONS = ("ranking", "direction", "none")

    def __init__(self, num_dims, condition="none", sigma=0.1, eta=2.0):
        if condition not in self.CONDITIONS:
            raise ValueError(f"condition must be one of {', '.join(self.CONDITIONS)}, got {condition!r}")
        self.num_dims, self.condition, self.sigma, self.eta = num_dims, condition, sigma, eta

    def weights(self, batch_size, generator, device="cpu"):
        w = torch.randn(batch_size, self.num_dims, generator=generator, device=device)
        if self.condition == "ranking":
            w = w.gather(1, w.abs().argsort(dim=1, descending=True))
        elif self.condition == "direction":
            w = w.abs()
        return w

    def sample_tasks(self, batch_size, num_trials, generator, device="cpu"):
        w = self.weights(batch_size, generator, device)
        L = lkj_cholesky(batch_size, self.num_dims, self.eta, generator, device)
        cues = torch.randn(batch_size, 2, num_trials, self.num_dims, generator=generator, device=device) @ L.transpose(1, 2)[:, None]
        x = cues[:, 0] - cues[:, 1]
        noise = self.sigma * torch.randn(batch_size, num_trials, 2, generator=generator, device=device)
        y = ((x @ w[..., None])[..., 0] + noise[..., 0] - noise[..., 1]).gt(0).float()
        return x, y


class PriorSampler:
    """Episodes drawn fresh from a synthetic prior: every batch is new tasks, scaled like a corpus.

    ``repeat_stimuli=K, repeat_until=N``: for the first N training steps each task draws its trials from only K
    distinct stimuli. Without repeats the continuous priors leave the network on the in-context-learning plateau
    (loss ln 2 for 14,000+ steps at 3-D): nothing rewards linking a stimulus to the feedback that arrives one token
    later. With repeats, copying the label of an identical earlier stimulus pays at once, the circuit forms, and it
    carries over to continuous stimuli (the burstiness effect of Chan et al. 2022). After step N the prior is the
    plain one, so the finished model is trained on the prior it is named after.
    """

    def __init__(self, prior, num_trials, device="cpu", repeat_stimuli=None, repeat_until=0, scale=True,
                 scale_targets=False):
        if repeat_stimuli is not None and isinstance(prior, RMCPrior):
            raise ValueError("repeat_stimuli applies to the continuous priors; RMC stimuli are binary and repeat anyway")
        self.prior, self.num_trials, self.device = prior, num_trials, device
        self.repeat_stimuli, self.repeat_until = repeat_stimuli, repeat_until
        self.scale = scale  # min-max per task (categorisation); off for signed cue differences (decision making)
        self.scale_targets = scale_targets  # real-valued targets to [0, 1] per task, as a corpus (function learning)

    def _scaled(self, x, lengths):
        return scale_per_task(x, lengths) if self.scale else x

    def _targets(self, y, lengths):
        return scale_per_task(y[..., None], lengths)[..., 0] if self.scale_targets else y

    def sample(self, batch_size, generator, step=0) -> Episode:
        repeats = {"num_stimuli": self.repeat_stimuli} if self.repeat_stimuli and step < self.repeat_until else {}
        x, y = self.prior.sample_tasks(batch_size, self.num_trials, generator, self.device, **repeats)
        lengths = torch.full((batch_size,), self.num_trials, device=self.device)
        return episode(self._scaled(x, lengths), self._targets(y, lengths), lengths)

    def taskset(self, num_tasks, seed) -> TaskSet:
        """A fixed set of tasks (validation / test / export), reproducible from its seed."""
        generator = torch.Generator(device=self.device).manual_seed(seed)
        x, y = self.prior.sample_tasks(num_tasks, self.num_trials, generator, self.device)
        lengths = torch.full((num_tasks,), self.num_trials, device=self.device)
        return TaskSet(self._scaled(x, lengths), self._targets(y, lengths), lengths, list(range(num_tasks)))


def kernel_matrix(a: torch.Tensor, b: torch.Tensor, kernel="rbf", lengthscale=0.2, variance=0.1,
                  linear_variance=0.5, bias_variance=0.1) -> torch.Tensor:
    """Covariance between 1-D inputs a [B, N] and b [B, M] (inputs in [0, 1]): ``rbf``, ``linear`` (slope and
    offset: linear_variance (a - 0.5)(b - 0.5) + bias_variance) or ``rbf+linear``."""
    out = torch.zeros(a.shape[0], a.shape[1], b.shape[1], dtype=a.dtype, device=a.device)
    if "rbf" in kernel:
        out = out + variance * torch.exp(-0.5 * (a[..., :, None] - b[..., None, :]) ** 2 / lengthscale ** 2)
    if "linear" in kernel:
        out = out + linear_variance * (a[..., :, None] - 0.5) * (b[..., None, :] - 0.5) + bias_variance
    if not ({"rbf", "linear"} & set(kernel.split("+"))):
        raise ValueError(f"kernel must be rbf, linear or rbf+linear, got {kernel!r}")
    return out


class FunctionPrior:
    """MI-FL: 1-D functions from families with the reference's prior weights, positive linear 8 : negative linear 1
    : quadratic 0.1 : non-linear 0.01 (a smooth random function, an RBF Gaussian-process draw), which encodes the
    human preference for positive linear functions (Lucas et al. 2015). x ~ U(0, 1); y = f(x) + noise; a corpus
    scales both to [0, 1] per task, and so does the sampler."""

    FAMILIES = {"positive_linear": 8.0, "negative_linear": 1.0, "quadratic": 0.1, "nonlinear": 0.01}

    def __init__(self, num_dims=1, noise=0.05, families=None):
        if num_dims != 1:
            raise ValueError("the function-learning priors are 1-D")
        self.num_dims, self.noise = 1, noise
        self.families = dict(families or self.FAMILIES)

    def functions(self, family, x, generator):
        B = x.shape[0]
        if family == "positive_linear":
            return x
        if family == "negative_linear":
            return -x
        if family == "quadratic":
            centre = torch.rand(B, 1, generator=generator, device=x.device)
            sign = torch.where(torch.rand(B, 1, generator=generator, device=x.device) < 0.5, -1.0, 1.0)
            return sign * (x - centre) ** 2 / 0.25
        if family == "nonlinear":
            return gp_draw(x, "rbf", generator, lengthscale=0.1, variance=1.0)
        raise ValueError(f"unknown function family {family!r}; families: {', '.join(self.FAMILIES)}")

    def sample_tasks(self, batch_size, num_trials, generator, device="cpu", family=None):
        x = torch.rand(batch_size, num_trials, generator=generator, device=device)
        names = list(self.families) if family is None else [family]
        weights = torch.tensor([self.families[n] for n in names] if family is None else [1.0])
        which = torch.multinomial(weights, batch_size, replacement=True, generator=generator)
        y = torch.zeros_like(x)
        for k, name in enumerate(names):
            pick = which == k
            if pick.any():
                y[pick] = self.functions(name, x[pick], generator)
        y = y + self.noise * torch.randn(x.shape, generator=generator, device=device)
        return x[..., None], y


def gp_draw(x, kernel, generator, **hyper):
    """One function per row of x [B, T] from a zero-mean GP with the given kernel (jitter for stability)."""
    K = kernel_matrix(x.double(), x.double(), kernel, **hyper) + 1e-6 * torch.eye(x.shape[1], dtype=torch.float64)
    z = torch.randn(x.shape[0], x.shape[1], 1, generator=generator, device=x.device, dtype=torch.float64)
    return (torch.linalg.cholesky(K) @ z)[..., 0].to(x.dtype)


class GPPrior:
    """Functions drawn from a Gaussian process (``rbf``, ``linear`` or ``rbf+linear`` kernel) plus noise; the
    natural alternative prior to the families, and the GP baseline's own assumption."""

    def __init__(self, num_dims=1, kernel="rbf+linear", noise=0.05):
        if num_dims != 1:
            raise ValueError("the function-learning priors are 1-D")
        kernel_matrix(torch.zeros(1, 1), torch.zeros(1, 1), kernel)  # validates the kernel name
        self.num_dims, self.kernel, self.noise = 1, kernel, noise

    def sample_tasks(self, batch_size, num_trials, generator, device="cpu"):
        x = torch.rand(batch_size, num_trials, generator=generator, device=device)
        y = gp_draw(x, self.kernel, generator) + self.noise * torch.randn(x.shape, generator=generator, device=device)
        return x[..., None], y


PRIORS = {"linear": LinearPrior, "mlp": MLPPrior, "rmc": RMCPrior, "paired": PairedComparisonPrior,
          "functions": FunctionPrior, "gp": GPPrior}


def add_label_noise(ep: Episode, noise: float, generator) -> Episode:
    """Flip each label with probability ``noise``; the feedback the model sees is the noisy label too."""
    if noise <= 0:
        return ep
    flip = (torch.rand(ep.targets.shape, generator=generator, device=ep.targets.device) < noise) & ep.mask
    targets = torch.where(flip, 1.0 - ep.targets, ep.targets)
    return Episode(make_tokens(ep.tokens[..., :-1], targets), targets, ep.mask)


class NoisySampler:
    def __init__(self, sampler, noise):
        self.sampler, self.noise = sampler, noise

    def sample(self, batch_size, generator, step=0) -> Episode:
        return add_label_noise(self.sampler.sample(batch_size, generator, step), self.noise, generator)
