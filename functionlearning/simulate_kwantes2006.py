"""Kwantes & Neal (2006): people trained on part of a linear function extrapolate it over the whole range, and
systematically so (the mean human predictions are in data/human/kwantes2006extrapolation.csv). As the reference
does, each learner is trained on the DeLosh et al. (1997) linear design (f(x) = 2.2 x + 30 + offset, 20 inputs in
[30, 70]) and predicts at the human file's inputs; nothing is fitted but the learner's own prior. Reported: MSE and
correlation with the human means, and the figure.

    python functionlearning/simulate_kwantes2006.py
"""
import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from ermi.paths import FIGURES, domain_dir, ensure_parent, write_sidecar
from functionlearning.experiments import TRAINING_RANGE, Scale, delosh_training, load_kwantes2006
from functionlearning.learners import default_learners, make_learner


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--learners", nargs="+", default=None, help="weight files or baseline names")
    parser.add_argument("--offset", type=float, default=0.0, help="added to the DeLosh linear function")
    parser.add_argument("--num-runs", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=str(domain_dir("functionlearning") / "data" / "simulations" / "kwantes2006.csv"))
    parser.add_argument("--figure", default=str(FIGURES / "kwantes2006.png"))
    args = parser.parse_args(argv)
    started = time.time()
    human = load_kwantes2006()

    def f(x):
        return 2.2 * x + 30 + args.offset

    scale = Scale.for_function(f)
    x_raw, _ = delosh_training("linear", args.num_runs, seed=args.seed)
    y_raw = f(x_raw)
    queries = torch.as_tensor(scale.x(human.x.to_numpy()), dtype=torch.float64)[None].expand(args.num_runs, -1)
    rows, summary = [], []
    for name in args.learners or default_learners():
        learner = make_learner(name)
        mean, _ = learner.after_training(scale.x(x_raw), scale.y(y_raw), queries)
        prediction = scale.raw_y(mean.mean(0).numpy())
        rows += [{"learner": learner.name, "x": x, "prediction": p, "human": h}
                 for x, p, h in zip(human.x, prediction, human.y)]
        summary.append({"learner": learner.name, "mse": float(((prediction - human.y) ** 2).mean()),
                        "correlation": float(np.corrcoef(prediction, human.y)[0, 1])})
    summary = pd.DataFrame(summary)
    summary.loc[len(summary)] = {"learner": "true function", "mse": float(((f(human.x) - human.y) ** 2).mean()),
                                 "correlation": float(np.corrcoef(f(human.x), human.y)[0, 1])}
    output = ensure_parent(args.output)
    curves = pd.DataFrame(rows)
    curves.to_csv(output, index=False)
    write_sidecar(output, started, offset=args.offset, num_runs=args.num_runs, seed=args.seed,
                  summary=summary.round(4).to_dict(orient="records"))
    fig, ax = plt.subplots(figsize=(5.5, 4))
    ax.axvspan(*TRAINING_RANGE, color="0.92")
    ax.plot(human.x, human.y, "ko", ms=4, label="people (Kwantes & Neal 2006)")
    ax.plot(human.x, f(human.x), "k--", lw=1, label="trained function")
    for learner, g in curves.groupby("learner", sort=False):
        ax.plot(g.x, g.prediction, lw=1.3, label=learner)
    ax.set_xlabel("input (grey: training range)")
    ax.set_ylabel("prediction")
    ax.legend(frameon=False, fontsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(ensure_parent(args.figure), dpi=150)
    plt.close(fig)
    print(summary.sort_values("mse").to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"wrote {output}, {args.figure}")


if __name__ == "__main__":
    main()
