"""Learning difficulty (Brehmer 1974; Busemeyer et al. 1997): people learn positive linear functions fastest, then
negative linear, then non-linear ones. Each learner predicts every trial of many random tasks of each family
(from ermi.episodes.FunctionPrior: x ~ U(0, 1), inputs and targets scaled to [0, 1] per task) from the trials
before it; reported: the online MSE by trial and its mean per family.

    python functionlearning/simulate_difficulty.py
"""
import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import torch

from ermi.episodes import FunctionPrior, scale_per_task
from ermi.paths import FIGURES, domain_dir, ensure_parent, write_sidecar
from functionlearning.learners import default_learners, make_learner

FAMILIES = ("positive_linear", "negative_linear", "quadratic")


def family_tasks(family, num_tasks, num_trials, seed):
    generator = torch.Generator().manual_seed(seed)
    x, y = FunctionPrior().sample_tasks(num_tasks, num_trials, generator, family=family)
    lengths = torch.full((num_tasks,), num_trials)
    return scale_per_task(x, lengths)[..., 0].double(), scale_per_task(y[..., None], lengths)[..., 0].double()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", nargs="+", default=None, help="weight files or baseline names")
    parser.add_argument("--num-tasks", type=int, default=256, help="tasks per family")
    parser.add_argument("--num-trials", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(domain_dir("functionlearning") / "data" / "simulations" / "difficulty.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "functionlearning_difficulty.png"))
    args = parser.parse_args(argv)
    started = time.time()
    tasks = {family: family_tasks(family, args.num_tasks, args.num_trials, args.seed + k)
             for k, family in enumerate(FAMILIES)}
    rows = []
    for name in args.learners or default_learners():
        learner = make_learner(name)
        for family, (x, y) in tasks.items():
            mean, _ = learner.online(x, y)
            mse = ((mean - y) ** 2).mean(0)
            rows += [{"learner": learner.name, "family": family, "trial": t + 1, "mse": float(m)}
                     for t, m in enumerate(mse)]
    curves = pd.DataFrame(rows)
    output = ensure_parent(args.output)
    curves.to_csv(output, index=False)
    table = curves[curves.trial > 1].pivot_table(index="learner", columns="family", values="mse", sort=False)[list(FAMILIES)]
    write_sidecar(output, started, num_tasks=args.num_tasks, num_trials=args.num_trials, seed=args.seed,
                  mean_mse=table.round(5).reset_index().to_dict(orient="records"))
    learners = list(dict.fromkeys(curves.learner))
    cols = min(5, len(learners))
    rows_ = -(-len(learners) // cols)
    fig, axes = plt.subplots(rows_, cols, figsize=(2.8 * cols, 2.8 * rows_), sharey=True, squeeze=False)
    axes = axes.ravel()
    for ax in axes[len(learners):]:
        ax.axis("off")
    for ax, learner in zip(axes, learners):
        for family in FAMILIES:
            c = curves[(curves.learner == learner) & (curves.family == family)]
            ax.plot(c.trial, c.mse, label=family.replace("_", " "))
        ax.set_title(learner, fontsize=9)
        ax.set_xlabel("trial")
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[::cols]:
        ax.set_ylabel("online MSE (scaled targets)")
    axes[0].legend(frameon=False, fontsize=7)
    fig.tight_layout()
    fig.savefig(ensure_parent(args.figure), dpi=150)
    plt.close(fig)
    print("mean online MSE over trials 2-%d (lower = learned faster):" % args.num_trials)
    print(table.to_string(float_format=lambda v: f"{v:.4f}"))
    print(f"wrote {output}, {args.figure}")


if __name__ == "__main__":
    main()
