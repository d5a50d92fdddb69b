"""Score meta-learners and simple online learners on the same held-out LLM-generated tasks, trial by trial.

The held-out tasks are the test split recorded in ERMI's model card (tasks ERMI never trained or validated on).
Every learner predicts trial t of a task from trials < t with their true labels, in one fixed random trial order
per task (the validation order of the trainer). Learners:

- meta-learners (weight files): P(y_t = 1) from the network as trained (beta 1, the data's own coding);
- online 1-nearest-neighbour: the label of the nearest earlier stimulus (Euclidean, ties to the most recent),
  smoothed to (1 - eps) / eps with the eps that minimises its NLL on these tasks (the most favourable one);
- online logistic regression: refitted on trials < t at every trial (L2, C = 1); until both labels have been
  seen, the Laplace-smoothed rate of label 1 so far;
- online base rate: the Laplace-smoothed rate of label 1 so far, which ignores the stimulus (chance for a learner
  that can count; 0.693 nats and 0.5 is chance for one that cannot).

Writes NLL and accuracy per trial position (CSV), a summary table and a figure.

    python categorisation/evaluate_heldout.py --models ermi_categorisation_dim3 mi_categorisation_dim3 pfn_categorisation_dim3
"""
import argparse
import math
import time
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from tqdm import tqdm

from ermi.episodes import CorpusError, heldout_episode
from ermi.model import load_model
from ermi.paths import FIGURES, TRAINED_MODELS, device_or_default, domain_dir, ensure_parent, resolve_model, write_sidecar
from ermi.training import heldout_tasks

DEFAULT_MODELS = ["ermi_categorisation_dim3", "mi_categorisation_dim3", "pfn_categorisation_dim3"]


@torch.no_grad()
def meta_learner_p1(path, ep, device):
    model = load_model(path, device)
    if model.cfg.num_dims != ep.tokens.shape[-1] - 1:
        raise ValueError(f"{path}: takes {model.cfg.num_dims} features, the tasks have {ep.tokens.shape[-1] - 1}")
    return torch.sigmoid(model(ep.tokens.to(device))).cpu().double()


def nearest_neighbour_p1(ep):
    """P(y_t = 1) = 1 if the nearest earlier stimulus has label 1, else 0 (0.5 on the first trial)."""
    x, y = ep.tokens[..., :-1].double(), ep.targets.double()
    T = x.shape[1]
    distance = torch.cdist(x, x)
    earlier = torch.ones(T, T, dtype=torch.bool).tril(-1)
    # ties go to the most recent earlier trial: a tiny penalty that grows with distance in time
    recency = (torch.arange(T)[:, None] - torch.arange(T)[None, :]).double() * 1e-9
    distance = torch.where(earlier, distance + recency, torch.inf)
    nearest = distance.argmin(-1)
    p1 = y.gather(1, nearest)
    p1[:, 0] = 0.5
    return p1


def base_rate_p1(ep):
    """P(y_t = 1) = (labels 1 before t + 1) / (t + 2)."""
    y = ep.targets.double()
    ones_before = torch.cumsum(y, 1) - y
    return (ones_before + 1) / (torch.arange(y.shape[1], dtype=torch.double) + 2)


def learner_name(path):
    """ermi_categorisation_dim3 -> ERMI; ermi_categorisation_dim3_smollm2 -> ERMI (smollm2)."""
    parts = path.stem.split("_")
    suffix = "_".join(parts[3:])
    return parts[0].upper() + (f" ({suffix})" if suffix else "")


def logistic_regression_p1(ep):
    x, y = ep.tokens[..., :-1].double().numpy(), ep.targets.double().numpy()
    lengths = ep.mask.sum(1).numpy()
    p1 = base_rate_p1(ep).numpy()  # kept until both labels have been seen
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for s in tqdm(range(len(x)), desc="online logistic regression", leave=False):
            for t in range(1, int(lengths[s])):
                seen = y[s, :t]
                if 0 < seen.sum() < t:
                    clf = LogisticRegression(C=1.0).fit(x[s, :t], seen)
                    p1[s, t] = clf.predict_proba(x[s, t:t + 1])[0, 1]
    return torch.from_numpy(p1)


def smooth(p1, y, mask):
    """(1 - eps) * p1 + eps / 2 with the eps on a fine grid that minimises the summed NLL; returns (p1, eps)."""
    best = None
    for eps in np.linspace(0.001, 0.5, 500):
        q = (1 - eps) * p1 + eps / 2
        nll = float(-(torch.where(y.bool(), q, 1 - q).log() * mask).sum())
        if best is None or nll < best[0]:
            best = (nll, eps, q)
    return best[2], best[1]


def per_position(name, p1, ep):
    """Mean NLL and accuracy at every trial position over the tasks that reach it."""
    y, mask = ep.targets.double(), ep.mask.double()
    p_true = torch.where(y.bool(), p1, 1 - p1).clamp_min(1e-12)
    nll = -(p_true.log() * mask)
    correct = torch.where(p1 == 0.5, 0.5, ((p1 > 0.5).double() == y).double()) * mask  # undecided counts half
    count = mask.sum(0)
    keep = count > 0
    return pd.DataFrame({"model": name, "trial": np.arange(1, len(count) + 1)[keep.numpy()],
                         "nll": (nll.sum(0) / count)[keep].numpy(), "accuracy": (correct.sum(0) / count)[keep].numpy(),
                         "tasks": count[keep].numpy().astype(int)})


def plot(curves, figure):
    bin_size = max(1, int(curves.trial.max()) // 10)  # about ten points per curve, whatever the task length
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    for name, c in curves.groupby("model", sort=False):
        binned = c.assign(bin=(c.trial - 1) // bin_size).groupby("bin")
        centre = binned.trial.mean()
        axes[0].plot(centre, binned.nll.mean(), marker="o", ms=3, label=name)
        axes[1].plot(centre, binned.accuracy.mean(), marker="o", ms=3, label=name)
    axes[0].axhline(math.log(2), ls=":", color="0.5")
    axes[0].set_ylabel("NLL per trial (nats)")
    axes[1].set_ylabel("accuracy")
    for ax in axes:
        ax.set_xlabel(f"trial (means over bins of {bin_size})")
        ax.spines[["top", "right"]].set_visible(False)
    axes[1].legend(frameon=False, fontsize=8)
    fig.suptitle("held-out LLM-generated category-learning tasks", fontsize=10)
    fig.tight_layout()
    fig.savefig(ensure_parent(figure), dpi=150)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--card", default=str(TRAINED_MODELS / "ermi_categorisation_dim3.json"),
                        help="model card whose recorded test tasks are scored")
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, help="weight files or names")
    parser.add_argument("--seed", type=int, default=0, help="seed of the trial order (0: the trainer's validation order)")
    parser.add_argument("--output", default=str(domain_dir("categorisation") / "data" / "heldout" / "llm_test_tasks.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "heldout_llm_tasks.png"))
    parser.add_argument("--device", default=None)
    args = parser.parse_args(argv)
    started = time.time()
    try:
        tasks = heldout_tasks(args.card)
        ep = heldout_episode(tasks, args.seed)
        learners = {}
        for name in args.models:
            path = resolve_model(name)
            learners[learner_name(path)] = meta_learner_p1(path, ep, device_or_default(args.device))
    except (CorpusError, FileNotFoundError, ValueError) as err:
        parser.exit(2, f"error: {err}\n")
    y, mask = ep.targets.double(), ep.mask.double()
    learners["1-NN"], eps = smooth(nearest_neighbour_p1(ep), y, mask)
    learners["logistic regression"] = logistic_regression_p1(ep)
    learners["base rate"] = base_rate_p1(ep)
    curves = pd.concat([per_position(name, p1, ep) for name, p1 in learners.items()], ignore_index=True)
    output = ensure_parent(args.output)
    curves.to_csv(output, index=False)
    weights = curves.tasks
    summary = curves.assign(w_nll=curves.nll * weights, w_acc=curves.accuracy * weights).groupby("model", sort=False)
    table = pd.DataFrame({"nll_per_trial": summary.w_nll.sum() / summary.tasks.sum(),
                          "accuracy": summary.w_acc.sum() / summary.tasks.sum()})
    early = curves[curves.trial <= 20].groupby("model", sort=False)
    table["accuracy_trials_1_20"] = early.accuracy.mean()
    write_sidecar(output, started, card=args.card, models=[str(resolve_model(m)) for m in args.models],
                  num_tasks=len(tasks), num_trials=int(mask.sum()), seed=args.seed, nn_epsilon=eps,
                  summary=table.round(4).to_dict(orient="index"))
    plot(curves, args.figure)
    print(f"{len(tasks)} held-out tasks, {int(mask.sum())} trials (1-NN smoothed with eps = {eps:.3f})")
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {output} (+ sidecar), {args.figure}")


if __name__ == "__main__":
    main()
