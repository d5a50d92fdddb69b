"""Which strategy do people and models use? The Gini coefficient of their cue weights, per experiment (the key
analysis of Binz et al. 2022): near 0 = all cues weighed equally, 1 - 1/K = one cue decides.

Weights are estimated the same way for everyone: a logistic regression without intercept of the choices (people)
or of the choice probabilities (models) on the cue differences, pooled over a participant's 300 trials. Cue signs
differ between tasks, so each task's cues are first aligned with the sign the ideal observer has learned by the end
of the task. For the meta-learners, the weights they use are also readable directly (weights head, w_t): their
Gini is reported as ``own_weights`` (mean |w_t| over a task's trials 2-10, sign-aligned, then pooled).

    python decisionmaking/strategy_analysis.py
"""
import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from decisionmaking.baselines.strategies import gini, predictions, probit_learner
from decisionmaking.experiments import EXPERIMENTS, load_experiment
from decisionmaking.fit_humans import default_models, meta_learner_logits
from ermi.episodes import make_tokens
from ermi.model import load_model
from ermi.paths import FIGURES, TRAINED_MODELS, domain_dir, ensure_parent, write_sidecar


def logistic_weights(x: torch.Tensor, target: torch.Tensor, ridge=1e-2, steps=50) -> torch.Tensor:
    """Maximum-likelihood weights of P(A) = sigmoid(w.x) for soft targets in [0, 1] (Newton's method, a small
    ridge keeps separable data finite). x [N, K], target [N] -> w [K]."""
    x, target = x.double(), target.double()
    w = torch.zeros(x.shape[1], dtype=torch.float64)
    eye = torch.eye(x.shape[1], dtype=torch.float64)
    for _ in range(steps):
        p = torch.sigmoid(x @ w)
        gradient = x.T @ (p - target) + ridge * w
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + ridge * eye
        step = torch.linalg.solve(hessian, gradient)
        w = w - step
        if step.abs().max() < 1e-10:
            break
    return w


def alignment_signs(data, num_cues) -> torch.Tensor:
    """[S, K] +-1: the sign of each cue's weight that the ideal observer ends each task with."""
    _, _, mu = probit_learner(data.x[..., :num_cues].double(), data.targets)
    return torch.where(mu >= 0, 1.0, -1.0).double()


def participant_gini(x, target, data) -> list:
    out = []
    for pid in data.participants():
        seqs = torch.as_tensor(np.flatnonzero(data.participant == pid))
        mask = data.mask[seqs]
        w = logistic_weights(x[seqs][mask], target[seqs][mask])
        out.append(float(gini(w)))
    return out


def analyse(number, models: dict) -> pd.DataFrame:
    """One row per (who, participant): who = people, each meta-learner (and its own weights), ideal observer."""
    experiment = EXPERIMENTS[number]
    data = load_experiment(number)
    K = experiment.num_cues
    signs = alignment_signs(data, K)
    x = data.x[..., :K].double() * signs[:, None, :]
    targets = {"people": data.choices.double(),
               "ideal observer": predictions(data.x, data.targets, K)["ideal_observer"]}
    own = {}
    for label, path in models.items():
        model = load_model(path)
        targets[label.upper()] = torch.sigmoid(meta_learner_logits(model, data)).mean(0)
        with torch.no_grad():
            w = model.cue_weights(make_tokens(data.x, data.targets))[..., :K].double()
        own[f"{label.upper()} (own weights)"] = (w * signs[:, None, :])[:, 1:].abs().mean(1)  # [S, K], trials 2-10
    rows = []
    for who, target in targets.items():
        rows += [{"who": who, "participant": pid, "gini": g}
                 for pid, g in zip(data.participants(), participant_gini(x, target, data))]
    for who, w in own.items():
        for pid in data.participants():
            seqs = torch.as_tensor(np.flatnonzero(data.participant == pid))
            rows.append({"who": who, "participant": pid, "gini": float(gini(w[seqs].mean(0)))})
    return pd.DataFrame(rows).assign(experiment=number, condition=experiment.condition, num_cues=K)


def plot(summary, path):
    experiments = list(dict.fromkeys(summary.experiment))
    who = list(dict.fromkeys(summary.who))
    fig, ax = plt.subplots(figsize=(1.6 + 2.2 * len(experiments), 3.8))
    width = 0.8 / len(who)
    colours = plt.cm.tab10(np.arange(len(who)))
    for i, name in enumerate(who):
        s = summary[summary.who == name].set_index("experiment").reindex(experiments)
        ax.bar(np.arange(len(experiments)) + (i - (len(who) - 1) / 2) * width, s["mean"], width, yerr=s["sem"],
               color=colours[i], label=name, capsize=2)
    for j, e in enumerate(experiments):
        K = int(summary[summary.experiment == e].num_cues.iloc[0])
        ax.hlines(1 - 1 / K, j - 0.45, j + 0.45, colors="0.4", linestyles=":")
    labels = [f"exp. {e}\n{summary[summary.experiment == e].condition.iloc[0]}, "
              f"{int(summary[summary.experiment == e].num_cues.iloc[0])} cues" for e in experiments]
    ax.set_xticks(np.arange(len(experiments)), labels)
    ax.set_ylabel("Gini of |cue weights|\n(0: equal weighting; dotted: one cue)")
    ax.set_ylim(0, 1)
    ax.legend(frameon=False, fontsize=8, ncol=2)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(ensure_parent(path), dpi=150)
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--experiments", type=int, nargs="+", default=sorted(EXPERIMENTS), choices=sorted(EXPERIMENTS))
    parser.add_argument("--output", default=str(domain_dir("decisionmaking") / "data" / "strategies" / "gini.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "binz2022_gini.png"))
    parser.add_argument("--weights-dir", default=str(TRAINED_MODELS), help="where the shipped meta-learners are")
    args = parser.parse_args(argv)
    started = time.time()
    rows = pd.concat([analyse(n, default_models(EXPERIMENTS[n].condition, args.weights_dir)) for n in args.experiments])
    output = ensure_parent(args.output)
    rows.to_csv(output, index=False)
    grouped = rows.groupby(["experiment", "condition", "num_cues", "who"], sort=False).gini
    summary = pd.DataFrame({"mean": grouped.mean(), "sem": grouped.sem()}).reset_index()
    write_sidecar(output, started, experiments=args.experiments,
                  summary=summary.round(4).to_dict(orient="records"))
    plot(summary, args.figure)
    print(summary.pivot_table(index="who", columns="experiment", values="mean", sort=False)
          .to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {output} (+ sidecar), {args.figure}")


if __name__ == "__main__":
    main()
