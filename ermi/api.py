"""A small Python API for notebooks: load a dataset in the tidy format (ermi.tidy), fit a model, compare models.

    import ermi
    data = ermi.load("my_experiment.csv", domain="categorisation")
    fits = [ermi.fit(model, data) for model in ("ermi_categorisation_dim3", "gcm", "pm")]
    ermi.compare(fits)

``fit`` takes a meta-learner (a weight file or a shipped name) or a baseline name of the data's domain and returns
the usual fits table (one row per participant: parameters, nll, n_trials, k, bic, aic, pseudo_r2). Meta-learners
get one inverse temperature per participant on their logit (categorisation: averaged over the coding group;
decision making: over which option is A); function-learning models predict each response as a Gaussian around
their prediction, with one noise level per participant. The domain packages are imported where they are needed, so
that ``import ermi`` never pulls them in.
"""
import json
import math
import re
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ermi.comparison import compare as compare_fits, report
from ermi.episodes import scale_per_task
from ermi.fitting import cached_logits, fit_participants, information_criteria, write_fits
from ermi.model import load_model
from ermi.paths import TRAINED_MODELS, domain_dir, file_sha256, resolve_model
from ermi.tidy import Dataset, TidyError, load

__all__ = ["load", "fit", "compare"]

BASELINES = {"categorisation": ("gcm", "pm", "rulex"),
             "decisionmaking": ("guessing", "ideal_observer", "equal_weighting", "first_cue", "best_cue",
                                "strategy_selection"),
             "functionlearning": ("GP (RBF)", "GP (linear)", "GP (RBF + linear)", "Bayesian linear regression",
                                  "quadratic regression", "ALM", "EXAM")}


def _model_label(model, domain) -> str:
    """A short name for tables: the weight file's stem without the domain and the dimension
    (ermi_categorisation_dim3 -> ermi, mi_decisionmaking_ranking -> mi_ranking)."""
    return re.sub(r"_dim\d+$", "", Path(str(model)).stem.replace(f"_{domain}", ""))


def _meta_learner(model, data: Dataset, head):
    path = resolve_model(model)
    net = load_model(path)
    if net.cfg.head != head:
        raise TidyError(f"{path}: a {net.cfg.head}-head model; {data.domain} needs the {head} head")
    if net.cfg.num_dims != data.num_features:
        raise TidyError(f"{data.path}:1: the data have {data.num_features} stimulus column(s) (x1..x{data.num_features}), "
                        f"{path.name} takes {net.cfg.num_dims}")
    return net


def fit(model, data: Dataset, restarts=5, seed=0, beta_max=10.0) -> pd.DataFrame:
    """Fit one model to every participant of a tidy dataset."""
    domain = data.domain
    if domain == "categorisation":
        if model in BASELINES[domain]:
            from categorisation.baselines.base import fit_participants as fit_baseline
            from categorisation.baselines.run_baselines import make_model

            rows = fit_baseline(make_model(model, num_dims=data.num_features), data.data, restarts=restarts,
                                seed=seed, progress=False)
        else:
            net = _meta_learner(model, data, "bernoulli")
            rows = fit_participants(cached_logits(net, data.data), data.data, beta_max=beta_max)
    elif domain == "decisionmaking":
        from decisionmaking.fit_humans import baseline_logits, guessing_rows, meta_learner_logits

        if model == "guessing":
            rows = guessing_rows(data.data)
        elif model in BASELINES[domain]:
            rows = fit_participants(baseline_logits(data.data)[model], data.data, beta_max=beta_max)
        else:
            net = _meta_learner(model, data, "weights")
            rows = fit_participants(meta_learner_logits(net, data.data), data.data, beta_max=beta_max)
    else:
        rows = _fit_function_learning(model, data)
    label = model if model in BASELINES[domain] else _model_label(model, domain)
    table = pd.DataFrame(rows).drop(columns="model", errors="ignore")
    table.insert(0, "model", label)
    return table


def _fit_function_learning(model, data: Dataset):
    """Responses ~ N(prediction, sigma^2) per participant (k = 1, sigma at its maximum-likelihood value). The learner
    sees each task's inputs and targets scaled to [0, 1] (as in training); predictions are mapped back per task."""
    from functionlearning.learners import make_learner

    d = data.data
    if model not in BASELINES["functionlearning"]:
        _meta_learner(model, data, "gaussian")
    mask = d.mask
    x = scale_per_task(d.x.double(), d.lengths)[..., 0]
    valid = mask.double()
    low = torch.where(mask, d.targets.double(), torch.inf).amin(1, keepdim=True)
    high = torch.where(mask, d.targets.double(), -torch.inf).amax(1, keepdim=True)
    span = torch.where(high > low, high - low, torch.ones_like(high))
    y = torch.where(mask, (d.targets.double() - low) / span, 0.0)
    mean, _ = make_learner(model).online(x, y)
    prediction = low + mean * span
    residual = ((d.choices.double() - prediction) ** 2) * valid
    rows = []
    for pid in d.participants():
        seqs = torch.as_tensor(np.flatnonzero(d.participant == pid))
        n = int(valid[seqs].sum())
        sigma2 = max(float(residual[seqs].sum()) / n, 1e-12)
        nll = 0.5 * n * (math.log(2 * math.pi * sigma2) + 1)
        row = {"participant": pid, "sigma": math.sqrt(sigma2), "nll": nll, "n_trials": n, "k": 1}
        row.update({k: float(v) for k, v in information_criteria(nll, n, 1).items()})
        row["pseudo_r2"] = float("nan")  # relative to guessing between two options: undefined for numbers
        rows.append(row)
    return rows


def shipped_models(domain, num_features) -> list:
    """The shipped meta-learners of this domain that take this many features (read from their model cards)."""
    return sorted(str(p) for p in TRAINED_MODELS.glob(f"*_{domain}_*.pt")
                  if json.loads(p.with_suffix(".json").read_text())["config"]["num_dims"] == num_features)


def fit_file(path, domain, models=None, baselines=None, output_dir=None, restarts=5, seed=0, samples=1_000_000):
    """What ``fit_humans.py --data my.csv`` does in every domain: fit each meta-learner (default: the shipped ones
    that take the file's number of features) and baseline (default: all of the domain's), write one fits CSV per
    model with a JSON sidecar to ``output_dir`` (default ``<domain>/data/model_comparison``), named
    ``<file stem>_<model>.csv``, and the comparison table; returns the comparison summary."""
    data = load(path, domain)
    models = shipped_models(domain, data.num_features) if models is None else list(models)
    baselines = list(BASELINES[domain]) if baselines is None else list(baselines)
    unknown = [b for b in baselines if b not in BASELINES[domain]]
    if unknown:
        raise TidyError(f"unknown {domain} baseline(s) {', '.join(unknown)}; choose from {', '.join(BASELINES[domain])}")
    folder = Path(output_dir or domain_dir(domain) / "data" / "model_comparison")
    stem = Path(path).stem
    for model in [*models, *baselines]:
        started = time.time()
        table = fit(model, data, restarts=restarts, seed=seed)
        label = table.model.iloc[0]
        write_fits(table.to_dict(orient="records"), folder / f"{stem}_{label}.csv", started, data=str(path),
                   data_sha256=file_sha256(path), domain=domain, model=str(model), restarts=restarts, seed=seed)
        print(f"{label}: {len(table)} participants, mean BIC {table.bic.mean():.2f} ({time.time() - started:.1f} s)")
    return report(folder, stem, samples=samples, seed=seed, figure=folder / f"{stem}_model_comparison.png",
                  title=f"{stem}: {len(data.data.participants())} participants")


def compare(fits, samples=100_000, seed=0) -> pd.DataFrame:
    """Group comparison of several fits tables (ermi.comparison): mean BIC, wins, protected exceedance."""
    table = pd.concat(list(fits), ignore_index=True)
    _, summary, _ = compare_fits(table, samples=samples, seed=seed)
    return summary
